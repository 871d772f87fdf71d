//! Drift: what changed since a previous JSON report (`--baseline FILE`).
//!
//! Findings are matched by (target id, check id). Statuses are ranked as
//! an item's roll-up ranks them (`Status::badness`), except that `pass` and
//! `n/a` share the lowest rank: `pass` = `n/a` < `unknown` < `warn` < `error`
//! < `fail`. A finding whose rank rose *regressed* (including `pass` →
//! `unknown`: the evidence was lost; and `warn` → `error`: a check that could
//! not run hides more than advice does), one whose rank fell *improved*, one
//! whose status changed within a rank (`pass` ↔ `n/a`: a set that emptied or
//! filled, e.g. the last replication slot dropped) *changed*, and one the
//! baseline did not have is *new*. Baseline findings with no counterpart are listed as
//! removed; targets that could not be audited this time are not compared.
//! `--fail-on-regression` exits 1 when a finding no waiver covers regressed.

use super::{REPORT_SCHEMA_VERSION, Report};
use crate::checks::model::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// How one finding changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    New,
    Unchanged,
    Improved,
    Regressed,
    Changed,
}

/// A finding's drift, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingDrift {
    pub change: Change,
    /// The status in the baseline, when it had the finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was: Option<Status>,
}

/// The report-level drift summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DriftSummary {
    /// The baseline file as given.
    pub baseline: String,
    /// When the baseline run started; absent when the file did not exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_started_at: Option<String>,
    /// The baseline file did not exist (a first run): nothing was compared.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
    pub regressed: usize,
    pub improved: usize,
    pub changed: usize,
    pub new: usize,
    pub unchanged: usize,
    /// Baseline findings with no counterpart in this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<Removed>,
    /// Targets that could not be audited this time, so were not compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_compared: Vec<String>,
    /// The overall score then and now.
    pub score_before: Option<u32>,
    pub score_after: Option<u32>,
}

/// A baseline finding that is gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Removed {
    pub target: String,
    pub check: String,
    pub status: Status,
}

/// A previous JSON report, read leniently: only what drift needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Baseline {
    pub schema_version: u32,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub summary: BaselineSummary,
    pub targets: Vec<BaselineTarget>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BaselineSummary {
    #[serde(default)]
    pub score: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BaselineTarget {
    pub id: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub findings: Vec<BaselineFinding>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BaselineFinding {
    pub check: String,
    pub status: Status,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "baseline {path} is not a sqlready JSON report (line {line}, column {column}): {message}; write one with `sqlready audit … --format json --output FILE`"
    )]
    Malformed {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "baseline {path} has schema_version {found}; this sqlready compares against version {REPORT_SCHEMA_VERSION}"
    )]
    Version { path: String, found: u32 },
    #[error(
        "baseline {path} is a facts snapshot (--save-facts output), not a report: --baseline compares with a previous report; write one with `sqlready audit … --format json --output FILE`, or re-judge the snapshot with --facts {path}"
    )]
    FactsSnapshot { path: String },
}

impl Baseline {
    /// Reads a baseline; `Ok(None)` when the file does not exist (a first run).
    pub fn load(path: &Path) -> Result<Option<Baseline>, BaselineError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(BaselineError::Read {
                    path: shown,
                    source,
                });
            }
        };
        Baseline::parse(&text, &shown).map(Some)
    }

    pub fn parse(text: &str, path: &str) -> Result<Baseline, BaselineError> {
        // A facts snapshot also has schema_version and targets, and every
        // other field of a baseline is optional: refuse it by its own marks.
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text)
            && crate::facts::snapshot::is_snapshot(&value)
        {
            return Err(BaselineError::FactsSnapshot {
                path: path.to_string(),
            });
        }
        let baseline: Baseline =
            serde_json::from_str(text).map_err(|err| BaselineError::Malformed {
                path: path.to_string(),
                line: err.line(),
                column: err.column(),
                message: err.to_string(),
            })?;
        if baseline.schema_version != REPORT_SCHEMA_VERSION {
            return Err(BaselineError::Version {
                path: path.to_string(),
                found: baseline.schema_version,
            });
        }
        Ok(baseline)
    }
}

/// The roll-up rank, with `n/a` level with `pass`: neither is a problem.
fn rank(status: Status) -> u8 {
    match status {
        Status::NotApplicable => Status::Pass.badness(),
        other => other.badness(),
    }
}

/// How a status moved.
pub fn classify(was: Status, now: Status) -> Change {
    match rank(now).cmp(&rank(was)) {
        std::cmp::Ordering::Greater => Change::Regressed,
        std::cmp::Ordering::Less => Change::Improved,
        std::cmp::Ordering::Equal if was == now => Change::Unchanged,
        std::cmp::Ordering::Equal => Change::Changed,
    }
}

/// Records that no baseline existed (first run): nothing to compare.
pub fn missing(report: &mut Report, path: &str) {
    report.drift = Some(DriftSummary {
        baseline: path.to_string(),
        missing: true,
        score_after: report.summary.score,
        ..DriftSummary::default()
    });
}

/// Marks every finding with its drift against `baseline` and fills the summary.
pub fn apply(report: &mut Report, baseline: &Baseline, path: &str) {
    // (target, check) → statuses in order (a check can repeat: waiver.expired).
    let mut previous: BTreeMap<(&str, &str), Vec<Status>> = BTreeMap::new();
    for target in &baseline.targets {
        for finding in &target.findings {
            previous
                .entry((target.id.as_str(), finding.check.as_str()))
                .or_default()
                .push(finding.status);
        }
    }
    let mut summary = DriftSummary {
        baseline: path.to_string(),
        baseline_started_at: baseline.started_at.clone(),
        score_before: baseline.summary.score,
        score_after: report.summary.score,
        ..DriftSummary::default()
    };
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for target in &mut report.targets {
        if target.error.is_some() {
            summary.not_compared.push(target.id.clone());
            continue;
        }
        for finding in &mut target.findings {
            let key = (target.id.clone(), finding.check.clone());
            let index = seen.entry(key).or_default();
            let was = previous
                .get(&(target.id.as_str(), finding.check.as_str()))
                .and_then(|statuses| statuses.get(*index))
                .copied();
            *index += 1;
            let change = match was {
                Some(was) => classify(was, finding.status),
                None => Change::New,
            };
            match change {
                Change::New => summary.new += 1,
                Change::Unchanged => summary.unchanged += 1,
                Change::Improved => summary.improved += 1,
                Change::Regressed => summary.regressed += 1,
                Change::Changed => summary.changed += 1,
            }
            finding.drift = Some(FindingDrift { change, was });
        }
    }
    for ((target, check), statuses) in &previous {
        if summary.not_compared.iter().any(|t| t == target) {
            continue;
        }
        let now = seen
            .get(&(target.to_string(), check.to_string()))
            .copied()
            .unwrap_or(0);
        for status in statuses.iter().skip(now) {
            summary.removed.push(Removed {
                target: target.to_string(),
                check: check.to_string(),
                status: *status,
            });
        }
    }
    report.drift = Some(summary);
}

impl Report {
    /// Whether a finding no waiver covers regressed since the baseline.
    pub fn has_regressions(&self) -> bool {
        self.targets.iter().flat_map(|t| &t.findings).any(|f| {
            f.waiver.is_none()
                && f.drift
                    .as_ref()
                    .is_some_and(|d| d.change == Change::Regressed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_move_by_rank() {
        assert_eq!(classify(Status::Pass, Status::Fail), Change::Regressed);
        assert_eq!(classify(Status::Pass, Status::Unknown), Change::Regressed);
        assert_eq!(classify(Status::Warn, Status::Fail), Change::Regressed);
        assert_eq!(classify(Status::Fail, Status::Warn), Change::Improved);
        assert_eq!(classify(Status::Unknown, Status::Pass), Change::Improved);
        assert_eq!(
            classify(Status::Pass, Status::NotApplicable),
            Change::Changed
        );
        assert_eq!(classify(Status::Unknown, Status::Error), Change::Regressed);
        assert_eq!(classify(Status::Warn, Status::Error), Change::Regressed);
        assert_eq!(classify(Status::Error, Status::Warn), Change::Improved);
        assert_eq!(
            classify(Status::NotApplicable, Status::Pass),
            Change::Changed
        );
        assert_eq!(classify(Status::Fail, Status::Fail), Change::Unchanged);
    }

    #[test]
    fn a_baseline_that_is_not_a_report_is_located() {
        let err =
            Baseline::parse("{\"schema_version\": 1,\n \"targets\": 3}", "old.json").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("line 2"), "{message}");
        assert!(message.contains("--format json"), "{message}");
        let err =
            Baseline::parse("{\"schema_version\": 2, \"targets\": []}", "old.json").unwrap_err();
        assert!(err.to_string().contains("schema_version 2"));
        assert!(
            Baseline::load(Path::new("/nonexistent/baseline.json"))
                .unwrap()
                .is_none()
        );
    }
}
