//! Terraform: the databases a configuration plans, audited before they exist.
//!
//! A target is a `.tf` file, a directory of them, or `terraform show -json`
//! output ([`load`]). Every `google_sql_database_instance` ([`google`]),
//! `aws_db_instance` and `aws_rds_cluster` ([`aws`]) becomes a target
//! `terraform://PATH#ADDRESS`, judged by the same checks as the live
//! instance would be: each fact comes from the attribute that sets it, or
//! from the provider's documented default when it is not written, and is
//! `unknown` when an expression sets it that only a plan resolves. What only
//! a running instance has (backup runs, replication state) stays unknown.

pub mod aws;
pub mod coverage;
pub mod fix;
mod functions;
pub mod google;
pub mod load;
pub mod model;
pub mod modules;
mod plan_config;
mod plan_locations;
pub mod unaudited;

use crate::facts::snapshot::{Collected, Location, TargetFacts, TargetFailure};
use crate::facts::{FactSink, RawEvidence};
use crate::target::{Kind, TerraformSpec};
use chrono::{DateTime, Utc};
use model::{Attr, Configuration, Resource};
use serde_json::{Value as Json, json};

pub const SOURCE: &str = "terraform";

/// How to resolve a value only a plan knows.
pub const PLAN_FIX: &str = "audit the plan instead: terraform plan -out=plan.tfplan && terraform show -json plan.tfplan > plan.json && sqlready audit plan.json";

/// Reads the target and judges every database resource in it.
pub fn collect(spec: &TerraformSpec, now: DateTime<Utc>) -> Vec<Collected> {
    let config = match load::load(&spec.path) {
        Ok(config) => config,
        Err(err) => return vec![Err(failure(spec, err.to_string()))],
    };
    let mut targets = Vec::new();
    for resource in &config.resources {
        let judged = match resource.kind.as_str() {
            google::INSTANCE => google::target(spec, &config, resource, now),
            aws::INSTANCE | aws::CLUSTER | aws::CLUSTER_INSTANCE => {
                match aws::target(spec, &config, resource, now) {
                    Some(judged) => judged,
                    None => continue,
                }
            }
            kind => match unaudited::service(kind) {
                Some((engine, why)) => Ok(unaudited::target(spec, resource, engine, "", why, now)),
                None => continue,
            },
        };
        targets.push(judged.map(|mut facts| {
            // A plan's resource: where it is declared (SARIF, the JSON report).
            if facts.location.is_none() {
                facts.location = config.locations.get(&resource.address).cloned();
            }
            with_defaults(with_existence(facts, resource), resource)
        }));
    }
    // A module that was not read may hold databases: each is listed, not an error of the others.
    for skipped in &config.skipped {
        targets.push(Err(TargetFailure {
            id: format!("{}#{}", spec.id(), skipped.address),
            kind: Kind::Terraform,
            error: format!("{}: not read: {}", skipped.address, skipped.reason),
        }));
    }
    if targets.is_empty() {
        return vec![Err(failure(
            spec,
            format!(
                "no database resource in {} (read: {}): sqlready audits {}, {} and {}",
                spec.shown,
                config.read.join(", "),
                google::INSTANCE,
                aws::INSTANCE,
                aws::CLUSTER
            ),
        ))];
    }
    targets
}

/// A resource whose `count` / `for_each` (or its module's) only a plan
/// resolves may not exist at all: it is audited as written, and says so.
fn with_existence(mut facts: TargetFacts, resource: &Resource) -> TargetFacts {
    for meta in ["count", "for_each"] {
        if let Some(expression) = resource.unresolved.get(meta) {
            tracing::warn!(resource = %resource.address, "existence unknown: {meta} = {expression}");
            facts.evidence.push(RawEvidence {
                source: SOURCE.into(),
                name: format!("{} (existence unknown)", resource.address),
                request: resource.file.clone(),
                response: json!({
                    "existence": "unknown",
                    "why": format!("{meta} is set by `{expression}`, known only when Terraform plans: this resource may plan zero instances or several"),
                    "fix": PLAN_FIX,
                }),
            });
        }
    }
    facts
}

/// A resource judged on the defaults of the configuration's own variables
/// (a module folder audited alone, or a root module without its tfvars) says
/// so once: tfvars, `-var` or a calling module may set them otherwise.
fn with_defaults(mut facts: TargetFacts, resource: &Resource) -> TargetFacts {
    if resource.defaults.is_empty() {
        return facts;
    }
    let mut by_variable: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (path, variable) in &resource.defaults {
        by_variable.entry(variable).or_default().push(path);
    }
    let judged_on: Vec<String> = by_variable
        .iter()
        .map(|(variable, paths)| format!("{} from {variable}", paths.join(", ")))
        .collect();
    facts.warnings.push(format!(
        "{}: judged on variable defaults ({}): tfvars, -var or a module calling this one may set them otherwise; audit the configuration that calls it, or its plan",
        resource.address,
        judged_on.join(", ")
    ));
    facts
}

fn failure(spec: &TerraformSpec, error: String) -> TargetFailure {
    TargetFailure {
        id: spec.id().to_string(),
        kind: Kind::Terraform,
        error,
    }
}

/// `terraform://PATH#ADDRESS`.
pub fn target_id(spec: &TerraformSpec, resource: &Resource) -> String {
    format!("{}#{}", spec.id(), resource.address)
}

/// What every Terraform target carries besides its facts.
pub fn shell(
    spec: &TerraformSpec,
    resource: &Resource,
    role: crate::target::Role,
    engine: &str,
    version: &str,
    now: DateTime<Utc>,
) -> TargetFacts {
    TargetFacts {
        id: target_id(spec, resource),
        resource: Some(resource.address.clone()),
        kind: Kind::Terraform,
        role,
        engine: engine.to_string(),
        version: version.to_string(),
        collected_at: now,
        facts: Default::default(),
        evidence: vec![evidence(resource)],
        principal: None,
        sources: Vec::new(),
        location: resource.line.map(|line| Location {
            file: resource.file.clone(),
            line,
        }),
        warnings: Vec::new(),
        tags: resource_tags(resource),
    }
}

/// The labels a team classifies the database by (environment, owner), as
/// the live sources read them: AWS `tags` (with a plan's `tags_all`, which
/// adds the provider's `default_tags`), Cloud SQL `settings.user_labels`.
/// Only values the configuration decides; one still unknown is left out.
fn resource_tags(resource: &Resource) -> std::collections::BTreeMap<String, String> {
    let mut tags = std::collections::BTreeMap::new();
    for path in ["tags_all", "tags", "settings.user_labels"] {
        if let Attr::Set(Json::Object(map)) = resource.attr(path) {
            for (key, value) in map {
                if let Some(text) = value.as_str() {
                    tags.insert(key.clone(), text.to_string());
                }
            }
        }
    }
    tags
}

/// The resource as read (secrets were dropped when reading), with what a plan would resolve.
pub fn evidence(resource: &Resource) -> RawEvidence {
    let mut values = resource.values.clone();
    redact(&mut values);
    RawEvidence {
        source: SOURCE.into(),
        name: resource.address.clone(),
        request: resource.file.clone(),
        response: if resource.inputs.is_empty() {
            json!({"values": values, "unresolved": resource.unresolved})
        } else {
            json!({"values": values, "unresolved": resource.unresolved, "inputs": resource.inputs})
        },
    }
}

/// Attribute names that hold secrets, whatever the provider.
fn secret_name(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "private_key", "token", "credentials"]
        .iter()
        .any(|s| key.contains(s))
}

fn redact(value: &mut Json) {
    match value {
        Json::Object(fields) => {
            for (key, inner) in fields.iter_mut() {
                if secret_name(key) && !inner.is_null() && !inner.is_boolean() {
                    *inner = Json::String("(redacted)".into());
                } else {
                    redact(inner);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Writes a resource's facts: each from an attribute, a default, or unknown.
pub struct Writer<'a> {
    pub sink: FactSink<'static>,
    pub resource: &'a Resource,
}

impl<'a> Writer<'a> {
    pub fn new(resource: &'a Resource) -> Self {
        Writer {
            sink: FactSink::new(SOURCE),
            resource,
        }
    }

    /// `fact` from the attribute at `path`, through `map`; when the attribute
    /// is not written, from `default` (the provider's documented default,
    /// named in the origin). An unresolved attribute makes the fact unknown.
    pub fn attr(
        &mut self,
        fact: &str,
        path: &str,
        default: Option<Json>,
        map: impl Fn(&Json) -> Json,
    ) -> Option<Json> {
        let address = &self.resource.address;
        match (self.resource.attr(path), default) {
            (Attr::Set(value), _) => {
                let judged = map(&coerce(fact, value));
                let from = self.resource.default_note(path);
                self.sink.known(
                    fact,
                    format!("{address}: {path} = {value}{from}"),
                    judged.clone(),
                );
                Some(judged)
            }
            (Attr::Unset, Some(default)) => {
                let judged = map(&default);
                self.sink.known(
                    fact,
                    format!("{address}: {path} not set (provider default {default})"),
                    judged.clone(),
                );
                Some(judged)
            }
            (Attr::Unset, None) => {
                self.sink.unknown(
                    fact,
                    format!("{address} does not set {path}, and the provider has no fixed default"),
                    None,
                );
                None
            }
            (Attr::Unresolved(expression), _) => {
                self.unresolved(fact, path, expression);
                None
            }
        }
    }

    /// `fact` is unknown because `path` is set by `expression`.
    pub fn unresolved(&mut self, fact: &str, path: &str, expression: &str) {
        self.sink.unknown(
            fact,
            format!(
                "{}: {path} is set by `{expression}`, known only when Terraform plans",
                self.resource.address
            ),
            Some(PLAN_FIX),
        );
    }

    /// A fact computed from several attributes (the origin names them).
    pub fn known(&mut self, fact: &str, origin: impl Into<String>, value: impl Into<Json>) {
        self.sink.known(
            fact,
            format!("{}: {}", self.resource.address, origin.into()),
            value.into(),
        );
    }

    /// A fact only a running instance has.
    pub fn not_yet(&mut self, fact: &str, what: &str) {
        self.sink.unknown(
            fact,
            format!("{what}: a planned resource has none yet; audit the running instance"),
            None,
        );
    }
}

/// A value as Terraform converts it for the attribute's type: `"true"` for a
/// bool, `"7"` for a number (HCL allows both); the fact's schema type decides.
fn coerce(fact: &str, value: &Json) -> Json {
    use crate::facts::schema::{FactType, spec};
    let Json::String(text) = value else {
        return value.clone();
    };
    let text = text.trim();
    match spec(fact).map(|s| s.ty) {
        Some(FactType::Bool) => match text {
            "true" => Json::Bool(true),
            "false" => Json::Bool(false),
            _ => value.clone(),
        },
        Some(FactType::Int) => text.parse::<i64>().map_or(value.clone(), Json::from),
        Some(FactType::Number) => text.parse::<f64>().map_or(value.clone(), Json::from),
        _ => value.clone(),
    }
}

/// Budgets in the configuration (`google_billing_budget`, `aws_budgets_budget`):
/// one that alerts and covers this database's spend covers the cost item; none, it
/// stays unknown (budgets often live in another configuration, with the billing
/// account), with the budgets that did not count named.
pub fn budget_fact(w: &mut Writer<'_>, config: &Configuration, kind: &str) {
    let subject = coverage::Subject::of(config, w.resource);
    let verdicts: Vec<coverage::Verdict> = config
        .of_kind(kind)
        .map(|budget| match kind {
            "google_billing_budget" => coverage::google_budget(budget, &subject),
            _ => coverage::aws_budget(budget, &subject),
        })
        .collect();
    counted_fact(
        w,
        "cost.budget",
        &verdicts,
        &format!(
            "no {kind} that alerts on this database's spend in this configuration; a budget may be defined with the billing account elsewhere"
        ),
        &format!(
            "define a {kind} with alert rules covering this database and audit that Terraform too"
        ),
    );
}

/// Alerting in the configuration: an enabled `google_monitoring_alert_policy` on Cloud
/// SQL metrics, or an `aws_cloudwatch_metric_alarm` with actions in the `AWS/RDS`
/// namespace, covering this database. None found, it stays unknown: alerts often
/// live elsewhere.
pub fn alerting_fact(w: &mut Writer<'_>, config: &Configuration, platform: &str) {
    let (kind, marker, what) = match platform {
        "cloudsql" => (
            "google_monitoring_alert_policy",
            "cloudsql.googleapis.com/",
            "Cloud SQL metrics (cloudsql.googleapis.com/…)",
        ),
        _ => (
            "aws_cloudwatch_metric_alarm",
            "AWS/RDS",
            "the AWS/RDS namespace",
        ),
    };
    let on_metrics = |r: &&Resource| {
        r.values.to_string().contains(marker) || r.unresolved.values().any(|e| e.contains(marker))
    };
    let subject = coverage::Subject::of(config, w.resource);
    let verdicts: Vec<coverage::Verdict> = config
        .of_kind(kind)
        .filter(on_metrics)
        .map(|r| match platform {
            "cloudsql" => coverage::alert_policy(r, &subject),
            _ => coverage::alarm(r, &subject),
        })
        .collect();
    counted_fact(
        w,
        "monitoring.alerting",
        &verdicts,
        &format!(
            "no enabled {kind} on {what} covering this database in this configuration; alerts may be defined elsewhere"
        ),
        &format!("define a {kind} on {what} for this database and audit that Terraform too"),
    );
}

/// `true` when one verdict counts; otherwise unknown, naming what did not count and why.
fn counted_fact(
    w: &mut Writer<'_>,
    fact: &str,
    verdicts: &[coverage::Verdict],
    none: &str,
    hint: &str,
) {
    use coverage::Verdict;
    let covers: Vec<&str> = verdicts
        .iter()
        .filter_map(|v| match v {
            Verdict::Covers(why) => Some(why.as_str()),
            _ => None,
        })
        .collect();
    if !covers.is_empty() {
        w.sink.known(fact, covers.join(", "), true);
        return;
    }
    let mut reason = none.to_string();
    let others: Vec<&str> = verdicts
        .iter()
        .filter_map(|v| match v {
            Verdict::Ignored(why) | Verdict::Unresolved(why) => Some(why.as_str()),
            Verdict::Covers(_) => None,
        })
        .collect();
    if !others.is_empty() {
        reason.push_str(&format!(" (not counted: {})", others.join("; ")));
    }
    let unresolved = verdicts.iter().any(|v| matches!(v, Verdict::Unresolved(_)));
    let hint = if unresolved { PLAN_FIX } else { hint };
    w.sink.unknown(fact, reason, Some(hint));
}

/// `terraform.platform`: which provider's checks apply (`cloudsql`, `rds`).
pub fn platform_fact(w: &mut Writer<'_>, platform: &str) {
    let kind = w.resource.kind.clone();
    w.known(
        "terraform.platform",
        format!("resource type {kind}"),
        platform,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_converted_as_terraform_converts_them() {
        assert_eq!(coerce("backups.enabled", &json!("true")), json!(true));
        assert_eq!(coerce("backups.retention_days", &json!("14")), json!(14));
        assert_eq!(
            coerce("backups.retention_days", &json!("many")),
            json!("many")
        );
        assert_eq!(
            coerce("cloudsql.availability_type", &json!("REGIONAL")),
            json!("REGIONAL")
        );
        assert_eq!(coerce("backups.enabled", &json!(false)), json!(false));
    }

    #[test]
    fn secrets_are_redacted_from_the_evidence_whatever_their_depth() {
        let resource = Resource {
            address: "aws_db_instance.main".into(),
            kind: "aws_db_instance".into(),
            file: "main.tf".into(),
            line: None,
            values: json!({"password": "hunter2", "engine": "postgres",
                           "nested": [{"master_password": "x", "manage_master_user_password": true}]}),
            unresolved: Default::default(),
            defaults: Default::default(),
            inputs: Default::default(),
        };
        let text = evidence(&resource).response.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("\"x\""),
            "{text}"
        );
        assert!(
            text.contains("manage_master_user_password\":true"),
            "{text}"
        );
        assert!(text.contains("postgres"));
    }
}
