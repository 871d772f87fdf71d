//! The report: one value that every renderer reads.

pub mod drift;
pub mod evidence;
pub mod fixmerge;
pub mod merge;
pub mod render;
pub mod score;
pub mod soc2;
pub mod waivers;

use crate::checks::Catalog;
use crate::checks::eval::{CompiledCheck, Subject, evaluate};
use crate::checks::model::{Item, Severity, Status};
use crate::checks::thresholds::{ThresholdSet, Thresholds};
use crate::facts::merge::{Reading, SourceRun};
use crate::facts::snapshot::{Collected, TargetFacts, TargetFailure};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map as JsonMap, Value as Json};
use std::collections::BTreeMap;

pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Findings per target a report read back (`sqlready merge`) makes room for
/// at once: one per check of the catalog (132 today), with room for custom
/// checks. Grown one finding at a time, each target's list was copied about
/// eight times — a tenth of a large merge.
const FINDINGS_ROOM: usize = 192;

fn findings_with_room<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Finding>, D::Error> {
    struct Room;
    impl<'de> serde::de::Visitor<'de> for Room {
        type Value = Vec<Finding>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of findings")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut findings = Vec::with_capacity(seq.size_hint().unwrap_or(FINDINGS_ROOM));
            while let Some(finding) = seq.next_element()? {
                findings.push(finding);
            }
            Ok(findings)
        }
    }
    deserializer.deserialize_seq(Room)
}

/// Serialized as the JSON report; read back (`sqlready merge`) from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    #[serde(serialize_with = "rfc3339")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    pub finished_at: DateTime<Utc>,
    pub summary: Summary,
    pub targets: Vec<TargetReport>,
    /// Every configured waiver and what became of it (active, expired, stale).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<waivers::WaiverState>,
    /// What changed since the baseline report (`--baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<drift::DriftSummary>,
    /// `--shard I/N`: the slice of the fleet this report covers (an added
    /// field, absent from an unsharded or merged report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::ShardInfo>,
    /// `sqlready merge`: the shard reports this one joins (an added field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<merge::Merged>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub targets: usize,
    /// Mean of the target scores; null when no target could be scored.
    pub score: Option<u32>,
    /// How much of the checklist the score stands on, over every target.
    pub coverage: Coverage,
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub unknown: usize,
    pub error: usize,
    /// Findings covered by an active waiver (present when waivers are configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetReport {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub kind: String,
    /// `primary`, `replica` or `cluster`; null when the target could not be reached.
    pub role: Option<String>,
    pub engine: Option<String>,
    pub version: Option<String>,
    pub score: Option<u32>,
    /// How many items were judged, of those that apply (see [`Coverage`]).
    pub coverage: Coverage,
    /// Every checklist item, in checklist order.
    pub items: Items,
    #[serde(deserialize_with = "findings_with_room")]
    pub findings: Vec<Finding>,
    /// Why the target could not be audited, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why sqlready does not audit this database, when it does not (another
    /// cloud's service, an engine it does not judge): listed so a mixed
    /// configuration shows it, every item `n/a`, no score, and not an error
    /// (no exit code 3). An added field (DESIGN.md allows additions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_audited: Option<String>,
    /// Who the audit ran as (the database user), when the source could tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// For a target fed by several sources: what each did (a failed source's
    /// facts are missing, and the run exits 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceRun>,
    /// Where the target is declared (a Terraform resource's file and line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<crate::facts::snapshot::Location>,
    /// Warnings about how the target was audited (the audit's own account
    /// could write, or is a superuser: docs/security.md). An added field
    /// (DESIGN.md allows additions), absent when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The provider's labels or tags on the resource (an added field, absent
    /// when empty): what the HTML report filters a fleet by.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// How much of the checklist a score stands on: `judged` items (status
/// `pass`, `warn` or `fail`) of `applicable` items (every checklist item but
/// those that are `n/a`). `unknown` and `error` items apply but were not
/// judged, so they lower coverage and never lift the score. A report's
/// coverage sums its targets'. Printed as `N of M items judged`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub judged: usize,
    pub applicable: usize,
}

impl Coverage {
    /// The coverage of one target's item statuses.
    pub fn of(items: &Items) -> Coverage {
        let statuses = items.0.iter().map(|(_, status)| *status);
        Coverage {
            judged: statuses.clone().filter(|s| s.is_judged()).count(),
            applicable: statuses.filter(|s| *s != Status::NotApplicable).count(),
        }
    }

    /// `N of M items judged`, as every format words it.
    pub fn phrase(self) -> String {
        format!("{} of {} items judged", self.judged, self.applicable)
    }

    /// `score S/100 · N of M items judged` (`score –` when nothing could be scored).
    pub fn beside(self, score: Option<u32>) -> String {
        let score = score.map_or_else(|| "–".to_string(), |s| format!("{s}/100"));
        format!("score {score} · {}", self.phrase())
    }
}

impl std::ops::Add for Coverage {
    type Output = Coverage;
    fn add(self, other: Coverage) -> Coverage {
        Coverage {
            judged: self.judged + other.judged,
            applicable: self.applicable + other.applicable,
        }
    }
}

/// Item statuses that serialize in checklist order.
#[derive(Debug, Clone)]
pub struct Items(pub Vec<(Item, Status)>);

impl Items {
    pub fn get(&self, item: Item) -> Status {
        self.0
            .iter()
            .find(|(i, _)| *i == item)
            .map_or(Status::Unknown, |(_, s)| *s)
    }
}

impl Tool {
    /// This sqlready.
    pub fn this() -> Tool {
        Tool {
            name: "sqlready".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Items;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of checklist item to status")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Items, A::Error> {
                let mut items = Vec::with_capacity(Item::ALL.len());
                while let Some(entry) = map.next_entry::<Item, Status>()? {
                    items.push(entry);
                }
                Ok(Items(items))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl Serialize for Items {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (item, status) in &self.0 {
            map.serialize_entry(item.key(), status)?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub check: String,
    pub item: Item,
    pub status: Status,
    pub severity: Severity,
    /// Advice, not a defect (the check is `advisory`): its `warn` or
    /// `unknown` does not lower the item when another check judged the item.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub advisory: bool,
    pub title: String,
    pub detail: String,
    pub evidence: JsonMap<String, Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    pub controls: Vec<String>,
    /// For unknown and error: the access or source that would resolve it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolve: Vec<String>,
    /// Facts this verdict read on which the target's sources disagreed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disagreements: Vec<Disagreement>,
    /// The waiver that covers this finding (boxed: most findings have none,
    /// and a fleet has millions): it keeps its status, but does not
    /// count for `--fail-on`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<Box<waivers::WaiverRef>>,
    /// How the finding changed since the baseline report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<drift::FindingDrift>,
}

/// A fact a verdict read, and what the other source said about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disagreement {
    /// The fact the check used.
    pub fact: String,
    /// The source whose value the check used, and that value.
    pub source: String,
    pub value: Json,
    /// The other source's readings (the same fact, or a corresponding one).
    pub others: Vec<Reading>,
}

fn rfc3339<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Judges every target with every check and assembles the report.
pub fn build(
    catalog: &Catalog,
    collected: &[Collected],
    thresholds: &ThresholdSet,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
) -> Report {
    let targets: Vec<TargetReport> = collected
        .iter()
        .map(|outcome| match outcome {
            Ok(facts) => judge(catalog, facts, thresholds.for_target(&facts.id)),
            Err(failure) => failed(catalog, failure),
        })
        .collect();
    let mut report = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: Tool::this(),
        started_at,
        finished_at,
        summary: Summary::default(),
        targets,
        waivers: Vec::new(),
        drift: None,
        shard: None,
        merged: None,
    };
    report.summary.score = score::overall(&report.targets);
    report.recount();
    report
}

/// One reachable target, judged by every check.
pub fn judge(catalog: &Catalog, facts: &TargetFacts, thresholds: &Thresholds) -> TargetReport {
    if let Some(why) = not_audited_reason(facts) {
        return not_audited(facts, why);
    }
    let subject = Subject::new(facts, thresholds);
    let findings: Vec<Finding> = catalog
        .checks
        .iter()
        .map(|compiled| finding(compiled, &subject, facts))
        .collect();
    let items = item_statuses(&findings);
    let score = score::target(&findings);
    TargetReport {
        id: facts.id.clone(),
        resource: facts.resource.clone(),
        kind: facts.kind.as_str().to_string(),
        role: Some(facts.role.as_str().to_string()),
        engine: Some(facts.engine.clone()),
        version: Some(facts.version.clone()).filter(|v| !v.is_empty()),
        score,
        coverage: Coverage::of(&items),
        items,
        findings,
        error: None,
        not_audited: None,
        principal: facts.principal.clone(),
        sources: facts.sources.clone(),
        location: facts.location.clone(),
        warnings: facts.warnings.clone(),
        tags: facts.tags.clone(),
    }
}

/// The findings of one item's checks only, as [`judge`] gives them
/// (`sqlready merge` judges `staging` again over the whole fleet).
pub fn judge_item(
    catalog: &Catalog,
    facts: &TargetFacts,
    thresholds: &Thresholds,
    item: Item,
) -> Vec<Finding> {
    if not_audited_reason(facts).is_some() {
        return Vec::new();
    }
    let subject = Subject::new(facts, thresholds);
    catalog
        .checks
        .iter()
        .filter(|compiled| compiled.check.item == item)
        .map(|compiled| finding(compiled, &subject, facts))
        .collect()
}

/// One check's finding for a target.
fn finding(compiled: &CompiledCheck, subject: &Subject<'_>, facts: &TargetFacts) -> Finding {
    let verdict = evaluate(compiled, subject);
    let check = &compiled.check;
    let remediation = matches!(verdict.status, Status::Fail | Status::Warn)
        .then(|| {
            let deployment = facts
                .facts
                .get("rds.deployment")
                .and_then(|f| f.value())
                .and_then(|v| v.as_str());
            check.fix_for_target(facts.kind.as_str(), &facts.engine, deployment)
        })
        .flatten()
        .map(|fix| match (&facts.kind, &facts.resource) {
            // Only the snippets for this resource's provider.
            (crate::target::Kind::Terraform, Some(address)) => {
                let fix = crate::sources::terraform::fix::for_resource(fix, address);
                // In a module: the inputs that set these attributes.
                crate::sources::terraform::fix::with_module_inputs(&fix, facts)
            }
            _ => fix.to_string(),
        })
        // A command that replaces a whole list keeps the target's current one.
        .map(|fix| fixmerge::for_target(&fix, facts));
    let disagreements = disagreements(facts, &verdict.evidence);
    let mut detail = verdict.detail;
    for disagreement in &disagreements {
        for other in &disagreement.others {
            if !detail.is_empty() {
                detail.push_str("; ");
            }
            detail.push_str("sources disagree: ");
            detail.push_str(&other.note);
        }
    }
    Finding {
        check: check.id.clone(),
        item: check.item,
        status: verdict.status,
        severity: check.severity,
        advisory: check.advisory,
        title: check.title.clone(),
        detail,
        evidence: verdict.evidence,
        remediation,
        controls: check.controls.clone(),
        resolve: verdict.resolve,
        disagreements,
        waiver: None,
        drift: None,
    }
}

/// The disagreements recorded on the facts a verdict read.
fn disagreements(facts: &TargetFacts, evidence: &JsonMap<String, Json>) -> Vec<Disagreement> {
    evidence
        .keys()
        .filter_map(|path| {
            let fact = facts.facts.get(path)?;
            (!fact.disagreements.is_empty()).then(|| Disagreement {
                fact: path.clone(),
                source: fact.source.clone(),
                value: fact.value().cloned().unwrap_or(Json::Null),
                others: fact.disagreements.clone(),
            })
        })
        .collect()
}

/// Why a source lists this database without auditing it (`terraform.not_audited`).
fn not_audited_reason(facts: &TargetFacts) -> Option<String> {
    let why = facts.facts.get(NOT_AUDITED)?.value()?.as_str()?;
    Some(why.to_string())
}

/// The fact a source sets on a database it lists but does not audit.
pub const NOT_AUDITED: &str = "terraform.not_audited";

/// A database listed but not audited: every item `n/a` (sqlready's checks do
/// not judge it), no findings, no score, no error.
fn not_audited(facts: &TargetFacts, why: String) -> TargetReport {
    let items = Items(
        Item::ALL
            .iter()
            .map(|i| (*i, Status::NotApplicable))
            .collect(),
    );
    TargetReport {
        id: facts.id.clone(),
        resource: facts.resource.clone(),
        kind: facts.kind.as_str().to_string(),
        role: Some(facts.role.as_str().to_string()),
        engine: Some(facts.engine.clone()),
        version: Some(facts.version.clone()).filter(|v| !v.is_empty()),
        score: None,
        coverage: Coverage::of(&items),
        items,
        findings: Vec::new(),
        error: None,
        not_audited: Some(why),
        principal: facts.principal.clone(),
        sources: facts.sources.clone(),
        location: facts.location.clone(),
        warnings: facts.warnings.clone(),
        tags: facts.tags.clone(),
    }
}

/// A target that could not be reached: every item is `error`, with the reason.
fn failed(_catalog: &Catalog, failure: &TargetFailure) -> TargetReport {
    TargetReport {
        id: failure.id.clone(),
        resource: None,
        kind: failure.kind.as_str().to_string(),
        role: None,
        engine: None,
        version: None,
        score: None,
        coverage: Coverage {
            judged: 0,
            applicable: Item::ALL.len(),
        },
        items: Items(Item::ALL.iter().map(|i| (*i, Status::Error)).collect()),
        findings: Vec::new(),
        error: Some(failure.error.clone()),
        not_audited: None,
        principal: None,
        sources: Vec::new(),
        location: None,
        warnings: Vec::new(),
        tags: BTreeMap::new(),
    }
}

/// Each item's status: the worst of its checks; `unknown` when no check judged it.
/// An advisory finding (advice, see docs/scoring.md) counts only when no
/// other check of the item applies: a correctly configured item stays `pass`
/// with advice beside it, and the advice shows in the findings.
pub(crate) fn item_statuses(findings: &[Finding]) -> Items {
    let mut by_item: BTreeMap<Item, (Vec<Status>, Vec<Status>)> = BTreeMap::new();
    for finding in findings {
        let (deciding, advice) = by_item.entry(finding.item).or_default();
        if finding.advisory {
            advice.push(finding.status);
        } else {
            deciding.push(finding.status);
        }
    }
    Items(
        Item::ALL
            .iter()
            .map(|item| {
                let status = by_item
                    .get(item)
                    .map_or(Status::Unknown, |(deciding, advice)| {
                        if deciding.iter().any(|s| *s != Status::NotApplicable) || advice.is_empty()
                        {
                            Status::worst(deciding.iter().copied())
                        } else {
                            // Nothing but advice applies to the item.
                            Status::worst(advice.iter().copied())
                        }
                    });
                (*item, status)
            })
            .collect(),
    )
}

/// Whether a passing item has advice a reader should see beside its
/// status: an advisory `warn` that did not decide the item.
pub fn has_advice(findings: &[Finding], item: Item, status: Status) -> bool {
    status == Status::Pass
        && findings
            .iter()
            .any(|f| f.item == item && f.advisory && f.status == Status::Warn && f.waiver.is_none())
}

impl Report {
    /// Whether any target, or any source of a merged target, could not be
    /// audited (exit code 3).
    pub fn has_errors(&self) -> bool {
        self.targets
            .iter()
            .any(|t| t.error.is_some() || t.sources.iter().any(|s| s.error.is_some()))
    }

    /// Whether a failing finding that no waiver covers reaches `threshold` (exit code 1).
    pub fn fails_at(&self, threshold: Severity) -> bool {
        self.targets
            .iter()
            .flat_map(|t| &t.findings)
            .any(|f| f.status == Status::Fail && f.waiver.is_none() && f.severity >= threshold)
    }

    /// Whether some item of some target was not judged (`unknown` or
    /// `error`) for a reason no waiver covers (`--fail-on-unknown`, exit 1).
    /// An item with no check at all counts: nothing judged it.
    pub fn has_unjudged(&self) -> bool {
        self.unjudged().next().is_some()
    }

    /// (target id, item) of every item `--fail-on-unknown` objects to.
    pub fn unjudged(&self) -> impl Iterator<Item = (&str, Item)> {
        self.targets.iter().flat_map(|target| {
            target
                .items
                .0
                .iter()
                .filter(|(_, status)| matches!(status, Status::Unknown | Status::Error))
                .filter(|(item, status)| {
                    let mut deciding = target
                        .findings
                        .iter()
                        .filter(|f| f.item == *item && f.status == *status)
                        .peekable();
                    deciding.peek().is_none() || deciding.any(|f| f.waiver.is_none())
                })
                .map(|(item, _)| (target.id.as_str(), *item))
        })
    }

    /// Recomputes the per-status counts of the summary from the findings.
    pub(crate) fn recount(&mut self) {
        for target in &mut self.targets {
            target.coverage = Coverage::of(&target.items);
        }
        self.summary.coverage = self
            .targets
            .iter()
            .map(|t| t.coverage)
            .fold(Coverage::default(), |sum, c| sum + c);
        let summary = &mut self.summary;
        summary.targets = self.targets.len();
        // A fleet's findings are millions: counted on every core.
        use rayon::prelude::*;
        let counts = self
            .targets
            .par_iter()
            .map(|target| StatusCounts::of(&target.findings))
            .reduce(StatusCounts::default, StatusCounts::add);
        summary.pass = counts.pass;
        summary.warn = counts.warn;
        summary.fail = counts.fail;
        summary.unknown = counts.unknown;
        summary.error = counts.error;
        let waived = counts.waived;
        // A target that could not be audited has no findings; it counts as one error.
        summary.error += self.targets.iter().filter(|t| t.error.is_some()).count();
        if !self.waivers.is_empty() {
            summary.waived = Some(waived);
        }
    }
}

/// How many findings have each status, and how many are waived.
#[derive(Debug, Clone, Copy, Default)]
struct StatusCounts {
    pass: usize,
    warn: usize,
    fail: usize,
    unknown: usize,
    error: usize,
    waived: usize,
}

impl StatusCounts {
    fn of(findings: &[Finding]) -> StatusCounts {
        let mut counts = StatusCounts::default();
        for finding in findings {
            match finding.status {
                Status::Pass => counts.pass += 1,
                Status::Warn => counts.warn += 1,
                Status::Fail => counts.fail += 1,
                Status::Unknown => counts.unknown += 1,
                Status::Error => counts.error += 1,
                Status::NotApplicable => {}
            }
            counts.waived += usize::from(finding.waiver.is_some());
        }
        counts
    }

    fn add(self, other: StatusCounts) -> StatusCounts {
        StatusCounts {
            pass: self.pass + other.pass,
            warn: self.warn + other.warn,
            fail: self.fail + other.fail,
            unknown: self.unknown + other.unknown,
            error: self.error + other.error,
            waived: self.waived + other.waived,
        }
    }
}
