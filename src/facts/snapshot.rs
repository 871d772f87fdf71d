//! What a source collected for one target, and the facts file that saves it
//! (`--save-facts`) so checks can be re-run offline (`--facts`).

use super::{Facts, RawEvidence};
use crate::target::{Kind, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Everything known about one target, ready for evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetFacts {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub kind: Kind,
    pub role: Role,
    pub engine: String,
    #[serde(default)]
    pub version: String,
    pub collected_at: DateTime<Utc>,
    pub facts: Facts,
    #[serde(default)]
    pub evidence: Vec<RawEvidence>,
    /// Who the audit ran as, as the source saw it (the database user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// For a target fed by several sources (a cloud API paired with a database
    /// connection, see [`super::merge`]): what each source did. Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<super::merge::SourceRun>,
    /// Where the target is declared in a file (a Terraform resource), for
    /// SARIF physical locations; none for a live target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// What the run should tell the operator about how it was audited, in
    /// words (the audit's own account could write or is a superuser); also
    /// said on stderr. Empty when there is nothing to say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The provider's labels or tags on the resource (`team`, `env`), for
    /// finding a team's databases in a report; empty when none were read.
    /// Attacker-influenced text: every renderer escapes it.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tags: std::collections::BTreeMap<String, String>,
}

impl TargetFacts {
    /// A target with no facts, evidence or tags yet, collected at the epoch:
    /// the start of a target rebuilt from a report, or of a test's.
    pub fn bare(id: &str, kind: Kind, role: Role, engine: &str, version: &str) -> TargetFacts {
        TargetFacts {
            id: id.to_string(),
            resource: None,
            kind,
            role,
            engine: engine.to_string(),
            version: version.to_string(),
            collected_at: DateTime::UNIX_EPOCH,
            facts: Facts::default(),
            evidence: Vec::new(),
            principal: None,
            sources: Vec::new(),
            location: None,
            warnings: Vec::new(),
            tags: std::collections::BTreeMap::new(),
        }
    }
}

/// A place in a file: the path as given (relative to where sqlready ran, or
/// absolute) and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

/// A target that could not be audited at all, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetFailure {
    pub id: String,
    pub kind: Kind,
    pub error: String,
}

/// The outcome of collecting one target.
pub type Collected = Result<TargetFacts, TargetFailure>;

/// The facts file: the collected facts of every target in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub schema_version: u32,
    pub tool_version: String,
    pub targets: Vec<TargetFacts>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<TargetFailure>,
}

pub const SNAPSHOT_SCHEMA_VERSION: u32 = 1;

/// The engines a target may have (`target.engine`).
pub const ENGINES: &[&str] = &["postgres", "mysql", "mariadb"];

/// A JSON value as a problem message shows it: its type and a short rendering.
fn describe(value: &serde_json::Value) -> String {
    use serde_json::Value as V;
    let kind = match value {
        V::Null => "null",
        V::Bool(_) => "a bool",
        V::Number(n) if n.is_f64() => "a fractional number",
        V::Number(_) => "a number",
        V::String(_) => "a string",
        V::Array(_) => "a list",
        V::Object(_) => "an object",
    };
    let mut shown = value.to_string();
    if shown.len() > 40 {
        shown = format!("{}…", shown.chars().take(40).collect::<String>());
    }
    format!("{kind} ({shown})")
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read facts file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "facts file {path} is not a sqlready facts snapshot (line {line}, column {column}): {message}; write one with `sqlready audit TARGET --save-facts FILE`"
    )]
    Malformed {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "facts file {path} has schema_version {found}; this sqlready reads version {SNAPSHOT_SCHEMA_VERSION}: re-collect it with this version"
    )]
    Version { path: String, found: u32 },
    #[error(
        "facts file {path} does not hold what sqlready collects ({} problem(s)); fix the file or re-collect it with `sqlready audit TARGET --save-facts FILE`:\n  {}",
        problems.len(),
        problems.join("\n  ")
    )]
    Invalid { path: String, problems: Vec<String> },
    #[error(
        "facts file {path} is a sqlready report, not a facts snapshot: --facts re-judges facts saved with `sqlready audit TARGET --save-facts FILE`; a report is compared with --baseline {path}"
    )]
    Report { path: String },
}

/// Whether a JSON document is a facts snapshot: `tool_version` and targets
/// that carry `facts` (a report has `tool`, `summary` and judged `items`).
pub fn is_snapshot(value: &serde_json::Value) -> bool {
    value.get("tool_version").is_some()
        && value.get("summary").is_none()
        && value["targets"]
            .as_array()
            .is_some_and(|targets| targets.iter().all(|t| t.get("facts").is_some()))
}

/// Whether a JSON document is a sqlready report (`--format json`).
pub fn is_report(value: &serde_json::Value) -> bool {
    value.get("summary").is_some()
        && value.get("tool").is_some()
        && value.get("tool_version").is_none()
}

impl Snapshot {
    pub fn new(collected: Vec<Collected>) -> Self {
        let mut snapshot = Snapshot {
            schema_version: SNAPSHOT_SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            targets: Vec::new(),
            failures: Vec::new(),
        };
        for outcome in collected {
            match outcome {
                Ok(target) => snapshot.targets.push(target),
                Err(failure) => snapshot.failures.push(failure),
            }
        }
        snapshot
    }

    /// The snapshot's targets and failures, in the order a run reports them.
    pub fn into_collected(self) -> Vec<Collected> {
        let failures = self.failures.into_iter().map(Err);
        self.targets.into_iter().map(Ok).chain(failures).collect()
    }

    /// Everything in the snapshot that no source of sqlready would write: an
    /// engine it does not judge, or a fact of the schema whose value has the
    /// wrong type (a hand-edited `"replicas.count": "3"` would otherwise be
    /// judged as if a source had said it). Each problem names the target and
    /// the fact. Paths outside the schema (custom check queries) pass.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (index, target) in self.targets.iter().enumerate() {
            // Ids and values come from the file: shown with control characters escaped.
            let at = format!(
                "targets[{index}] ({})",
                crate::report::render::escape::visible(&target.id)
            );
            if !ENGINES.contains(&target.engine.as_str()) {
                problems.push(format!(
                    "{at}: engine '{}' is not one sqlready judges; accepted: {}",
                    crate::report::render::escape::visible(&target.engine),
                    ENGINES.join(", ")
                ));
            }
            for (path, fact) in &target.facts {
                let (Some(spec), Some(value)) = (super::schema::spec(path), fact.value()) else {
                    continue;
                };
                if !spec.ty.admits(value) {
                    problems.push(format!(
                        "{at}: fact '{path}' is {}, expected {} ({})",
                        describe(value),
                        spec.ty.name(),
                        spec.doc
                    ));
                }
            }
        }
        problems
    }

    pub fn parse(text: &str, path: &str) -> Result<Self, SnapshotError> {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text)
            && is_report(&value)
        {
            return Err(SnapshotError::Report {
                path: path.to_string(),
            });
        }
        let snapshot: Snapshot =
            serde_json::from_str(text).map_err(|err| SnapshotError::Malformed {
                path: path.to_string(),
                line: err.line(),
                column: err.column(),
                message: err.to_string(),
            })?;
        if snapshot.schema_version != SNAPSHOT_SCHEMA_VERSION {
            return Err(SnapshotError::Version {
                path: path.to_string(),
                found: snapshot.schema_version,
            });
        }
        let problems = snapshot.problems();
        if !problems.is_empty() {
            return Err(SnapshotError::Invalid {
                path: path.to_string(),
                problems,
            });
        }
        Ok(snapshot)
    }

    /// Loads a facts file and returns the SHA-256 (hex) of the exact bytes
    /// parsed, which the evidence bundle records as the facts' provenance.
    pub fn load_hashed(path: &Path) -> Result<(Self, String), SnapshotError> {
        use sha2::{Digest, Sha256};
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| SnapshotError::Read {
            path: shown.clone(),
            source,
        })?;
        let sha256 = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let text = String::from_utf8(bytes).map_err(|err| SnapshotError::Malformed {
            path: shown.clone(),
            line: 1,
            column: 1,
            message: format!("not UTF-8 text: {err}"),
        })?;
        Ok((Snapshot::parse(&text, &shown)?, sha256))
    }

    pub fn load(path: &Path) -> Result<Self, SnapshotError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Read {
            path: shown.clone(),
            source,
        })?;
        Snapshot::parse(&text, &shown)
    }
}
