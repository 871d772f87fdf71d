//! Evaluating a check over one target's facts.
//!
//! Unknown facts are left out of the CEL context. If the expression still
//! evaluates (`a || b` with `a` true), its result stands; if it trips over a
//! missing fact, the verdict is `unknown` and names the fact, why it is
//! unknown, and what would resolve it. A check can therefore never `pass` or
//! `fail` on a fact nobody could read.

use super::cel::{to_cel, to_json, walk};
use super::model::{Check, Status};
use crate::facts::schema;
use crate::facts::snapshot::TargetFacts;
use crate::facts::{Fact, FactState};
use crate::target::Kind;
use cel::{Context, Program, Value as CelValue};
use serde_json::{Map as JsonMap, Value as Json};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::thresholds::Thresholds;

/// A check ready to run: its expressions compiled once.
#[derive(Debug)]
pub struct CompiledCheck {
    pub check: Arc<Check>,
    applies: Option<Program>,
    subjects: Option<Program>,
    condition: Program,
    detail: Option<Program>,
    /// The field paths the condition reads, found once at compile time.
    condition_paths: Vec<String>,
    /// The field paths `subjects` reads: evidence too (how many slots were judged).
    subject_paths: Vec<String>,
}

impl CompiledCheck {
    /// Compiles a check's expressions; the error names the expression and the CEL message.
    pub fn compile(check: Check) -> Result<Self, String> {
        let compile = |name: &str, source: &str| {
            Program::compile(source).map_err(|err| format!("{name}: {err}"))
        };
        let condition = compile("condition", &check.condition)?;
        let mut condition_paths: Vec<String> = walk(condition.expression())
            .0
            .into_iter()
            .map(|reference| reference.path)
            .filter(|path| !path.starts_with("target."))
            .collect();
        condition_paths.dedup();
        let subjects = check
            .subjects
            .as_deref()
            .map(|s| compile("subjects", s))
            .transpose()?;
        let subject_paths = subjects.as_ref().map_or_else(Vec::new, |program| {
            let mut paths: Vec<String> = walk(program.expression())
                .0
                .into_iter()
                .map(|reference| reference.path)
                .filter(|path| !path.starts_with("target.") && !condition_paths.contains(path))
                .collect();
            paths.dedup();
            paths
        });
        Ok(CompiledCheck {
            condition_paths,
            subject_paths,
            applies: check
                .applies
                .as_deref()
                .map(|s| compile("applies", s))
                .transpose()?,
            subjects,
            condition,
            detail: check
                .detail
                .as_deref()
                .map(|s| compile("detail", s))
                .transpose()?,
            check: Arc::new(check),
        })
    }
}

/// A check's verdict on one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub status: Status,
    /// Which fact decided it, in words.
    pub detail: String,
    /// The facts (and violations) that decided it.
    pub evidence: JsonMap<String, Json>,
    /// For `unknown` and `error`: what access or source would resolve it.
    pub resolve: Vec<String>,
}

/// One target prepared for evaluation: its known facts as CEL values.
pub struct Subject<'a> {
    facts: &'a TargetFacts,
    /// `thresholds.*`: always known.
    thresholds: Arc<ThresholdFacts>,
    /// `target.*`: always known.
    target: BTreeMap<String, Json>,
    /// Every known fact bound once; each check evaluates in a child scope of it
    /// (binding a value converts it deeply, so per-check binding dominated).
    base: Context<'static, 'static>,
}

impl<'a> Subject<'a> {
    pub fn new(facts: &'a TargetFacts, thresholds: &Thresholds) -> Self {
        let thresholds = ThresholdFacts::of(thresholds);
        let target: BTreeMap<String, Json> = target_facts(facts).into_iter().collect();
        let mut tree = JsonMap::new();
        for (path, fact) in &facts.facts {
            if let Some(value) = fact.value() {
                insert_path(&mut tree, path, value.clone());
            }
        }
        // No source names a fact `thresholds.*`; if one did, the thresholds
        // are merged into its tree (and win), as every `target.*` is.
        let bound_apart = !tree.contains_key(THRESHOLDS);
        let merged = thresholds.facts.iter().filter(|_| !bound_apart);
        for (path, value) in merged.chain(&target) {
            insert_path(&mut tree, path, value.clone());
        }
        let mut base = Context::with_env(standard_env());
        for (root, value) in &tree {
            base.add_variable_from_value(root.clone(), to_cel(value));
        }
        if bound_apart && let Some(bound) = &thresholds.bound {
            base.add_variable_as_val(THRESHOLDS, bound.clone());
        }
        Subject {
            facts,
            thresholds,
            target,
            base,
        }
    }

    /// What is known about a referenced path.
    fn lookup(&self, path: &str, check: &Check) -> Lookup {
        if let Some(value) = self.always_known(path) {
            return Lookup::Known(value);
        }
        let stored = query_fact_path(path, check);
        let key = stored.as_deref().unwrap_or(path);
        // Query rows may also be stored under the plain `query.rows` (as `context` reads them).
        let stored_fact = self
            .facts
            .facts
            .get(key)
            .or_else(|| self.facts.facts.get(path));
        if let Some(fact) = stored_fact {
            return Lookup::of(fact, path);
        }
        if let Some((_, fact)) = self.facts.facts.iter().find(|(fact_path, _)| {
            key.starts_with(fact_path.as_str())
                && key.as_bytes().get(fact_path.len()) == Some(&b'.')
        }) {
            return Lookup::of(fact, path);
        }
        let prefix = format!("{key}.");
        if self.facts.facts.keys().any(|p| p.starts_with(&prefix)) {
            return Lookup::Namespace;
        }
        let spec = schema::spec(path).or_else(|| schema::fact_prefix_of(path));
        let hint = spec.map(|spec| spec.hint).filter(|hint| !hint.is_empty());
        if stored.is_none()
            && let Some(spec) = spec
            && let Some(unknown) = api_unknown(&sources_of(self.facts), spec)
        {
            return unknown;
        }
        let reason = match (stored, hint) {
            (Some(_), _) => "the check's query did not run for this target".to_string(),
            (None, Some(hint)) => hint.to_string(),
            (None, None) => "no source reported it".to_string(),
        };
        Lookup::Unknown {
            reason,
            resolve: hint.map(str::to_string),
        }
    }

    fn always_known(&self, path: &str) -> Option<Json> {
        self.thresholds
            .facts
            .get(path)
            .or_else(|| self.target.get(path))
            .cloned()
    }

    fn context(&self, check: &Check) -> Context<'_, 'static> {
        let mut context = self.base.new_inner_scope();
        if !check.query.is_empty() {
            let rows = self
                .facts
                .facts
                .get(&format!("query.{}.rows", check.id))
                .or_else(|| self.facts.facts.get("query.rows"))
                .and_then(Fact::value);
            if let Some(rows) = rows {
                let mut query = JsonMap::new();
                query.insert("rows".to_string(), rows.clone());
                context.add_variable_from_value("query", to_cel(&Json::Object(query)));
            }
        }
        context
    }
}

/// The CEL standard environment, built once: building it registers every
/// standard overload and dominated evaluation time when done per check.
fn standard_env() -> Arc<cel::Env> {
    static ENV: std::sync::OnceLock<Arc<cel::Env>> = std::sync::OnceLock::new();
    ENV.get_or_init(|| Arc::new(cel::Env::stdlib())).clone()
}

/// Why a fact is missing from a target that only API sources fed (see
/// [`crate::sources::reads`]): its source reports it but its answer lacked it,
/// or its source does not read it, and which source would. `None` for a target
/// that an in-database or Terraform source fed too: their facts' schema hints
/// already say which source tells.
fn api_unknown(sources: &[String], spec: &schema::FactSpec) -> Option<Lookup> {
    use crate::sources::reads;
    if sources.is_empty() || !sources.iter().all(|s| reads::is_listed(s)) {
        return None;
    }
    let path = spec.path;
    if let Some(source) = sources.iter().find(|s| reads::reads(s, path)) {
        return Some(Lookup::Unknown {
            reason: format!("the {source} answer lacked {path}"),
            resolve: Some(spec.hint.to_string()).filter(|h| !h.is_empty()),
        });
    }
    let fed: Vec<&str> = sources.iter().map(String::as_str).collect();
    let others = reads::who_reads(path, &fed);
    let generic = [schema::CLOUD, schema::BACKUPS, ""].contains(&spec.hint);
    let (alternative, resolve) = if !others.is_empty() {
        let how = others.join(" or ");
        (
            format!("{how} tells"),
            Some(format!("audit it through {how}")),
        )
    } else if generic {
        (
            "no other source sqlready reads tells it for this target".to_string(),
            None,
        )
    } else {
        (spec.hint.to_string(), Some(spec.hint.to_string()))
    };
    Some(Lookup::Unknown {
        reason: format!(
            "the {} source does not read {path}; {alternative}",
            fed.join(" and ")
        ),
        resolve,
    })
}

/// Where a check's own query rows are stored in the facts.
fn query_fact_path(path: &str, check: &Check) -> Option<String> {
    (path == "query.rows" || path.starts_with("query.rows."))
        .then(|| path.replacen("query.", &format!("query.{}.", check.id), 1))
}

enum Lookup {
    Known(Json),
    Namespace,
    Unknown {
        reason: String,
        resolve: Option<String>,
    },
}

impl Lookup {
    fn of(fact: &Fact, _path: &str) -> Lookup {
        match &fact.state {
            FactState::Known { value } => Lookup::Known(value.clone()),
            FactState::Unknown { unknown, resolve } => Lookup::Unknown {
                reason: unknown.clone(),
                resolve: resolve.clone(),
            },
        }
    }
}

/// Judges one check against one target.
pub fn evaluate(compiled: &CompiledCheck, subject: &Subject<'_>) -> Verdict {
    let check = &compiled.check;
    let context = subject.context(check);
    if let Some(applies) = &compiled.applies {
        match applies.execute(&context) {
            Ok(CelValue::Bool(true)) => {}
            Ok(CelValue::Bool(false)) => {
                return Verdict {
                    status: Status::NotApplicable,
                    detail: format!(
                        "does not apply to this {} {}",
                        subject.facts.engine,
                        subject.facts.role.as_str()
                    ),
                    evidence: JsonMap::new(),
                    resolve: Vec::new(),
                };
            }
            Ok(other) => {
                return misbehaved(
                    check,
                    "applies",
                    &format!("returned {other:?}, expected a bool"),
                );
            }
            Err(err) => {
                return unknown_or_error(applies, subject, check, "applies", &err.to_string());
            }
        }
    }
    if let Some(subjects) = &compiled.subjects
        && let Some(verdict) = nothing_to_judge(subjects, &context, subject, check)
    {
        return verdict;
    }
    let outcome = match compiled.condition.execute(&context) {
        Ok(value) => value,
        Err(err) => {
            return unknown_or_error(
                &compiled.condition,
                subject,
                check,
                "condition",
                &err.to_string(),
            );
        }
    };
    let mut evidence = known_evidence(&compiled.condition_paths, subject, check);
    evidence.extend(known_evidence(&compiled.subject_paths, subject, check));
    let (status, violations) = match outcome {
        CelValue::Bool(true) => (Status::Pass, None),
        CelValue::Bool(false) => (check.violation.status(), None),
        CelValue::List(items) if items.is_empty() => (Status::Pass, None),
        CelValue::List(items) => (
            check.violation.status(),
            Some(items.iter().map(to_json).collect::<Vec<_>>()),
        ),
        other => {
            return misbehaved(
                check,
                "condition",
                &format!("returned {other:?}, expected a bool or a list of violations"),
            );
        }
    };
    let custom_detail =
        compiled
            .detail
            .as_ref()
            .and_then(|program| match program.execute(&context) {
                Ok(CelValue::String(text)) => Some(text.to_string()),
                _ => None,
            });
    let detail = custom_detail.unwrap_or_else(|| match &violations {
        Some(items) => describe_violations(items),
        None => describe_evidence(&evidence),
    });
    if let Some(items) = violations {
        evidence.insert("violations".to_string(), Json::Array(items));
    }
    Verdict {
        status,
        detail,
        evidence,
        resolve: Vec::new(),
    }
}

/// The `n/a` verdict of a check whose subjects are empty (an empty list or a
/// count of 0), with its `no_subjects` reason and the facts that showed it;
/// `unknown` when the subjects cannot be read; `None` when there is something
/// to judge. This runs before the condition, so a filter over an empty list
/// can never come out as `pass`.
fn nothing_to_judge(
    program: &Program,
    context: &Context<'_, 'static>,
    subject: &Subject<'_>,
    check: &Check,
) -> Option<Verdict> {
    let empty = match program.execute(context) {
        Ok(CelValue::List(items)) => items.is_empty(),
        Ok(CelValue::Int(count)) => count == 0,
        Ok(CelValue::UInt(count)) => count == 0,
        Ok(other) => {
            return Some(misbehaved(
                check,
                "subjects",
                &format!("returned {other:?}, expected a list or a count"),
            ));
        }
        Err(err) => {
            return Some(unknown_or_error(
                program,
                subject,
                check,
                "subjects",
                &err.to_string(),
            ));
        }
    };
    if !empty {
        return None;
    }
    let paths: Vec<String> = walk(program.expression())
        .0
        .into_iter()
        .map(|reference| reference.path)
        .filter(|path| !path.starts_with("target."))
        .collect();
    let evidence = known_evidence(&paths, subject, check);
    let reason = check
        .no_subjects
        .clone()
        .unwrap_or_else(|| "nothing to judge".to_string());
    let facts = describe_evidence(&evidence);
    Some(Verdict {
        status: Status::NotApplicable,
        detail: if facts.is_empty() {
            reason
        } else {
            format!("{reason} ({facts})")
        },
        evidence,
        resolve: Vec::new(),
    })
}

/// An expression failed: `unknown` if it read an unknown fact, else the check is broken.
fn unknown_or_error(
    program: &Program,
    subject: &Subject<'_>,
    check: &Check,
    which: &str,
    error: &str,
) -> Verdict {
    let mut reasons = Vec::new();
    let mut resolve = Vec::new();
    let mut evidence = JsonMap::new();
    let (references, _) = walk(program.expression());
    for reference in references {
        if let Lookup::Unknown {
            reason,
            resolve: fix,
        } = subject.lookup(&reference.path, check)
        {
            let line = format!("{} unknown: {reason}", reference.path);
            if !reasons.contains(&line) {
                reasons.push(line);
                evidence.insert(reference.path.clone(), Json::Null);
            }
            if let Some(fix) = fix
                && !resolve.contains(&fix)
            {
                resolve.push(fix);
            }
        }
    }
    if reasons.is_empty() {
        return misbehaved(check, which, error);
    }
    Verdict {
        status: Status::Unknown,
        detail: reasons.join("; "),
        evidence,
        resolve,
    }
}

fn misbehaved(check: &Check, which: &str, error: &str) -> Verdict {
    Verdict {
        status: Status::Error,
        detail: format!(
            "check {} could not be evaluated ({which}: {error})",
            check.id
        ),
        evidence: JsonMap::new(),
        resolve: vec![format!("fix the {which} expression of check {}", check.id)],
    }
}

/// The known facts among the paths an expression reads (target identity left out).
fn known_evidence(paths: &[String], subject: &Subject<'_>, check: &Check) -> JsonMap<String, Json> {
    let mut evidence = JsonMap::new();
    for path in paths {
        if let Lookup::Known(value) = subject.lookup(path, check) {
            evidence.insert(path.clone(), value);
        }
    }
    evidence
}

fn describe_evidence(evidence: &JsonMap<String, Json>) -> String {
    if evidence.is_empty() {
        return String::new();
    }
    evidence
        .iter()
        .filter(|(path, _)| !path.starts_with("thresholds."))
        .chain(
            evidence
                .iter()
                .filter(|(path, _)| path.starts_with("thresholds.")),
        )
        .map(|(path, value)| format!("{path} = {}", short(value)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_violations(items: &[Json]) -> String {
    let shown: Vec<String> = items.iter().take(5).map(short_item).collect();
    let more = items.len().saturating_sub(shown.len());
    let mut text = shown.join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    text
}

fn short_item(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => short(other),
    }
}

/// A value in a sentence: rows are counted, long text cut.
fn short(value: &Json) -> String {
    match value {
        Json::Array(items) if items.iter().any(Json::is_object) => {
            format!("{} row(s)", items.len())
        }
        other => {
            let text = other.to_string();
            if text.chars().count() > 120 {
                format!("{}…", text.chars().take(117).collect::<String>())
            } else {
                text
            }
        }
    }
}

fn insert_path(tree: &mut JsonMap<String, Json>, path: &str, value: Json) {
    let mut node = tree;
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        if segments.peek().is_none() {
            node.insert(segment.to_string(), value);
            return;
        }
        let entry = node
            .entry(segment.to_string())
            .or_insert_with(|| Json::Object(JsonMap::new()));
        if !entry.is_object() {
            *entry = Json::Object(JsonMap::new());
        }
        let Json::Object(next) = entry else { return };
        node = next;
    }
}

fn target_facts(facts: &TargetFacts) -> Vec<(String, Json)> {
    let mut always = vec![
        ("target.kind".into(), Json::from(facts.kind.as_str())),
        ("target.engine".into(), Json::from(facts.engine.clone())),
        ("target.role".into(), Json::from(facts.role.as_str())),
        ("target.version".into(), Json::from(facts.version.clone())),
        ("target.sources".into(), Json::from(sources_of(facts))),
        ("target.platform".into(), Json::from(platform_of(facts))),
    ];
    // A planned database whose engine only apply knows (a Terraform replica
    // with `engine = null`) has no engine: the checks that need one are
    // `unknown` with the source's reason (its `target.engine` fact), the others judge.
    if facts.engine.is_empty() && facts.facts.contains_key("target.engine") {
        always.retain(|(path, _)| path != "target.engine");
    }
    always
}

/// `cloudsql` or `rds` for a cloud target or a Terraform resource planning
/// one; empty for a database audited from inside (it cannot tell its host).
fn platform_of(facts: &TargetFacts) -> String {
    match facts.kind {
        Kind::Cloudsql => "cloudsql".into(),
        Kind::Rds => "rds".into(),
        Kind::Terraform => facts
            .facts
            .get("terraform.platform")
            .and_then(Fact::value)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        Kind::Postgres | Kind::Mysql => String::new(),
    }
}

/// The target's own kind and every source that reported a fact for it, so a
/// cloud target paired with a database connection runs the in-database checks too.
fn sources_of(facts: &TargetFacts) -> Vec<String> {
    let mut sources = std::collections::BTreeSet::from([facts.kind.as_str().to_string()]);
    sources.extend(
        facts
            .facts
            .values()
            .map(|fact| fact.source.clone())
            .filter(|source| source != "example" && source != crate::facts::recorded::SOURCE),
    );
    sources.into_iter().collect()
}

/// The CEL variable and fact prefix of the thresholds.
const THRESHOLDS: &str = "thresholds";

/// `thresholds.*` as facts and as the bound CEL variable `thresholds`. Every
/// target of a run but a few has the same thresholds: made once per thread
/// and reused while they stay the same (a fleet's merge judges thousands of
/// targets, and making them was a third of each target's preparation).
struct ThresholdFacts {
    thresholds: Thresholds,
    facts: BTreeMap<String, Json>,
    /// `None` when there is no threshold at all.
    bound: Option<Box<dyn cel::common::value::Val>>,
}

impl ThresholdFacts {
    fn of(thresholds: &Thresholds) -> Arc<ThresholdFacts> {
        thread_local! {
            static LAST: std::cell::RefCell<Option<Arc<ThresholdFacts>>> =
                const { std::cell::RefCell::new(None) };
        }
        LAST.with_borrow_mut(|last| {
            if let Some(same) = last.as_ref().filter(|l| l.thresholds == *thresholds) {
                return same.clone();
            }
            let facts = threshold_facts(thresholds);
            let mut tree = JsonMap::new();
            for (path, value) in &facts {
                insert_path(&mut tree, path, value.clone());
            }
            let made = Arc::new(ThresholdFacts {
                thresholds: thresholds.clone(),
                bound: tree
                    .get(THRESHOLDS)
                    .and_then(|value| to_cel(value).try_into().ok()),
                facts,
            });
            *last = Some(made.clone());
            made
        })
    }
}

fn threshold_facts(thresholds: &Thresholds) -> BTreeMap<String, Json> {
    let Json::Object(fields) = serde_json::to_value(thresholds).unwrap_or_default() else {
        return BTreeMap::new();
    };
    fields
        .into_iter()
        .map(|(k, v)| (format!("thresholds.{k}"), v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Catalog;
    use crate::checks::model::Item;
    use crate::facts::Facts;
    use crate::target::Role;

    /// A primary whose one replica replays 100 s behind.
    fn lagging_primary() -> TargetFacts {
        let mut facts = Facts::default();
        let fact = |value: Json| Fact::known("postgres", "pg_stat_replication", value);
        facts.insert(
            "replicas.max_replay_lag_seconds".into(),
            fact(Json::from(100)),
        );
        facts.insert(
            "replicas.connected".into(),
            fact(serde_json::json!([{"name": "standby", "replay_lag_seconds": 100}])),
        );
        TargetFacts {
            facts,
            ..TargetFacts::bare(
                "postgres://db:5432/app",
                Kind::Postgres,
                Role::Primary,
                "postgres",
                "16.4",
            )
        }
    }

    /// The thresholds' CEL variable is made once per thread and reused: a
    /// target judged with other thresholds in between still gets its own.
    #[test]
    fn each_target_is_judged_on_its_own_thresholds_when_they_alternate() {
        let catalog = Catalog::load(None).unwrap();
        let target = lagging_primary();
        let lag = |max: i64| {
            let thresholds = Thresholds {
                max_replica_lag_seconds: max,
                ..Thresholds::default()
            };
            let findings =
                crate::report::judge_item(&catalog, &target, &thresholds, Item::Replicas);
            let finding = findings
                .into_iter()
                .find(|f| f.check == "replicas.lag")
                .expect("replicas.lag is judged");
            (
                finding.status,
                finding.evidence["thresholds.max_replica_lag_seconds"].clone(),
            )
        };
        assert_eq!(lag(300), (Status::Pass, Json::from(300)));
        assert_eq!(lag(60), (Status::Warn, Json::from(60)));
        assert_eq!(lag(300), (Status::Pass, Json::from(300)));
    }
}
