//! Which Cloud Monitoring alert policies would wake someone before a Cloud SQL
//! instance fails: pure functions over the project's `alertPolicies.list`
//! (read once per project, [`super::project`]).
//!
//! A policy counts for an instance when it is `enabled`, names at least one
//! notification channel, and one of its conditions watches a
//! `cloudsql.googleapis.com/database/...` metric of the instance: its filter
//! names no instance (every instance of the project) or names this one by
//! `resource.label.database_id = "PROJECT:INSTANCE"` (also `one_of(…)`,
//! `starts_with(…)`). A condition whose meaning this reader cannot settle
//! (MQL, PromQL, `OR`, `NOT`, other resource or metadata labels) makes the
//! signals it might cover unknown, never covered.

use crate::facts::FactSink;
use serde::{Deserialize, Serialize};

/// `GET https://monitoring.googleapis.com/v3/{name=projects/*}/alertPolicies`
/// (Cloud Monitoring API v3 `ListAlertPoliciesResponse`); unknown fields are ignored.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListAlertPoliciesResponse {
    pub alert_policies: Vec<AlertPolicy>,
    pub next_page_token: String,
    pub total_size: i64,
}

/// The fields of an `AlertPolicy` read here (REST reference `projects.alertPolicies`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct AlertPolicy {
    /// `projects/{project}/alertPolicies/{id}`.
    pub name: String,
    pub display_name: String,
    pub conditions: Vec<Condition>,
    /// Always present on list answers; unset is not assumed enabled.
    pub enabled: Option<bool>,
    /// `projects/{project}/notificationChannels/{id}`.
    pub notification_channels: Vec<String>,
    pub combiner: String,
}

/// One condition: exactly one of the `condition*` members is set.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    pub name: String,
    pub display_name: String,
    pub condition_threshold: Option<FilterCondition>,
    pub condition_absent: Option<FilterCondition>,
    pub condition_monitoring_query_language: Option<QueryCondition>,
    pub condition_prometheus_query_language: Option<QueryCondition>,
}

/// `MetricThreshold` / `MetricAbsence`: the Monitoring filter selecting time series.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct FilterCondition {
    pub filter: String,
}

/// `MonitoringQueryLanguageCondition` / `PrometheusQueryLanguageCondition`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct QueryCondition {
    pub query: String,
}

/// The signals wanted, and the metric types (after `cloudsql.googleapis.com/database/`) that watch each.
pub const SIGNALS: [(&str, &[&str]); 4] = [
    (
        "disk",
        &["disk/utilization", "disk/bytes_used", "disk/quota"],
    ),
    (
        "cpu",
        &["cpu/utilization", "cpu/usage_time", "cpu/reserved_cores"],
    ),
    (
        "memory",
        &[
            "memory/utilization",
            "memory/components",
            "memory/usage",
            "memory/total_usage",
            "memory/quota",
        ],
    ),
    (
        "replica_lag",
        &[
            "replication/replica_lag",
            "replication/network_lag",
            "postgresql/replication/replica_byte_lag",
            "mysql/replication/seconds_behind_master",
        ],
    ),
];

const METRIC_PREFIX: &str = "cloudsql.googleapis.com/database/";

/// What one condition says about one instance.
#[derive(Debug, Clone, PartialEq)]
pub enum Watch {
    /// It watches these signals of the instance.
    Signals(Vec<&'static str>),
    /// It may watch these signals of the instance; why it cannot be told.
    CannotTell(Vec<&'static str>, String),
    /// Not this instance, or no Cloud SQL metric.
    Nothing,
}

/// The signals whose metric types a text names.
fn signals_named(text: &str) -> Vec<&'static str> {
    // PromQL spells metric names with `_` and `:` (cloudsql_googleapis_com:database_cpu_utilization).
    let promql = text.replace("cloudsql_googleapis_com:database_", METRIC_PREFIX);
    SIGNALS
        .iter()
        .filter(|(_, metrics)| {
            metrics.iter().any(|m| {
                promql.contains(&format!("{METRIC_PREFIX}{m}"))
                    || promql.contains(&format!("{METRIC_PREFIX}{}", m.replace('/', "_")))
            })
        })
        .map(|(signal, _)| *signal)
        .collect()
}

/// The quoted strings of a text (`"a"` or `'a'`).
fn quoted(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '"' || c == '\'' {
            let value: String = chars.by_ref().take_while(|&d| d != c).collect();
            out.push(value);
        }
    }
    out
}

/// Whether a Monitoring filter (`conditionThreshold.filter`, `conditionAbsent.filter`)
/// watches `database_id` (`PROJECT:INSTANCE`) in `region`.
pub fn filter_watch(filter: &str, database_id: &str, region: &str) -> Watch {
    let signals = signals_named(filter);
    if signals.is_empty() {
        return Watch::Nothing;
    }
    let project = database_id.split(':').next().unwrap_or_default();
    let upper = filter.to_uppercase();
    if upper.contains(" OR ")
        || upper.contains("NOT ")
        || filter.contains("!=")
        || filter.contains(" -")
    {
        return Watch::CannotTell(signals, "the filter uses OR or a negation".into());
    }
    for clause in split_and(filter) {
        let clause = clause.trim().trim_matches(['(', ')']).trim();
        let (subject, rest) = match clause.split_once(['=', ':']) {
            Some((subject, rest)) => (subject.trim(), rest),
            None => {
                return Watch::CannotTell(
                    signals,
                    format!("the filter clause `{clause}` is not read"),
                );
            }
        };
        let label = subject
            .strip_prefix("resource.label.")
            .or_else(|| subject.strip_prefix("resource.labels."))
            .map(|l| l.trim_matches('"'));
        let values = quoted(rest);
        let call = rest.trim_start();
        let matches = |wanted: &str| {
            if call.starts_with("starts_with") {
                values.iter().any(|v| wanted.starts_with(v.as_str()))
            } else if call.starts_with("one_of") || call.starts_with('"') || call.starts_with('\'')
            {
                values.iter().any(|v| v == wanted)
            } else {
                false
            }
        };
        let readable = call.starts_with("starts_with")
            || call.starts_with("one_of")
            || call.starts_with('"')
            || call.starts_with('\'');
        match label {
            _ if subject == "resource.type"
                || subject == "metric.type"
                || subject.starts_with("metric.label") => {}
            Some("database_id" | "project_id" | "region") if !readable => {
                return Watch::CannotTell(
                    signals,
                    format!("the filter clause `{clause}` is not read"),
                );
            }
            Some("database_id") if !matches(database_id) => return Watch::Nothing,
            Some("project_id") if !matches(project) => return Watch::Nothing,
            Some("region") if !matches(region) => return Watch::Nothing,
            Some("database_id" | "project_id" | "region") => {}
            _ => {
                return Watch::CannotTell(
                    signals,
                    format!(
                        "the filter clause `{clause}` selects by something else than the instance"
                    ),
                );
            }
        }
    }
    Watch::Signals(signals)
}

/// The clauses of a filter joined by `AND` (any case).
fn split_and(filter: &str) -> Vec<String> {
    let mut clauses = Vec::new();
    let mut current = String::new();
    let words: Vec<&str> = filter.split_whitespace().collect();
    for word in words {
        if word.eq_ignore_ascii_case("AND") {
            clauses.push(std::mem::take(&mut current));
        } else {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
    }
    if !current.is_empty() {
        clauses.push(current);
    }
    clauses
}

/// What one policy's conditions say about the instance.
fn policy_watch(policy: &AlertPolicy, database_id: &str, region: &str) -> Vec<Watch> {
    policy
        .conditions
        .iter()
        .map(|c| {
            if let Some(c) = c
                .condition_threshold
                .as_ref()
                .or(c.condition_absent.as_ref())
            {
                filter_watch(&c.filter, database_id, region)
            } else if let Some(c) = &c.condition_monitoring_query_language {
                query_watch(&c.query, "an MQL query")
            } else if let Some(c) = &c.condition_prometheus_query_language {
                query_watch(&c.query, "a PromQL query")
            } else {
                Watch::Nothing
            }
        })
        .collect()
}

fn query_watch(query: &str, what: &str) -> Watch {
    match signals_named(query) {
        signals if signals.is_empty() => Watch::Nothing,
        signals => Watch::CannotTell(signals, format!("{what} is not read")),
    }
}

fn policy_name(policy: &AlertPolicy) -> String {
    if policy.display_name.is_empty() {
        policy.name.clone()
    } else {
        format!("{} ({})", policy.display_name, policy.name)
    }
}

/// Records the monitoring facts of one instance from the project's alert policies.
/// `replica`: replica lag is wanted too.
pub fn facts(
    sink: &mut FactSink<'_>,
    policies: &[AlertPolicy],
    project: &str,
    instance: &str,
    region: &str,
    replica: bool,
) {
    let database_id = format!("{project}:{instance}");
    let wanted: Vec<&str> = SIGNALS
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| replica || *s != "replica_lag")
        .collect();
    let mut counted = Vec::new();
    let mut covered: Vec<&str> = Vec::new();
    let mut unsure: Vec<(&str, String)> = Vec::new();
    let mut ignored = Vec::new();
    for policy in policies {
        let watches = policy_watch(policy, &database_id, region);
        if watches.iter().all(|w| *w == Watch::Nothing) {
            continue;
        }
        if policy.enabled != Some(true) {
            ignored.push(format!("{}: disabled", policy_name(policy)));
            continue;
        }
        if policy.notification_channels.is_empty() {
            ignored.push(format!("{}: no notification channel", policy_name(policy)));
            continue;
        }
        let mut counts = false;
        for watch in watches {
            match watch {
                Watch::Signals(signals) => {
                    counts = true;
                    covered.extend(signals);
                }
                Watch::CannotTell(signals, why) => {
                    for signal in signals {
                        unsure.push((signal, format!("{}: {why}", policy_name(policy))));
                    }
                }
                Watch::Nothing => {}
            }
        }
        if counts {
            counted.push(policy_name(policy));
        }
    }
    let origin = |what: &str| {
        let mut origin = format!(
            "alertPolicies.list of project {project}: enabled policies with a notification channel whose conditions filter on {METRIC_PREFIX}... metrics of {database_id} or of every instance ({what})"
        );
        if !ignored.is_empty() {
            origin.push_str(&format!("; not counted: {}", ignored.join("; ")));
        }
        origin
    };
    covered.retain(|s| wanted.contains(s));
    covered.sort_unstable();
    covered.dedup();
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|s| !covered.contains(s))
        .collect();
    sink.known(
        "cloudsql.monitoring.alert_policies",
        origin(&format!("{} policies read", policies.len())),
        counted.clone(),
    );
    sink.known(
        "cloudsql.monitoring.covered_signals",
        origin("disk, cpu, memory, replica_lag"),
        covered.clone(),
    );
    let unsure: Vec<String> = unsure
        .into_iter()
        .filter(|(s, _)| missing.contains(s))
        .map(|(s, why)| format!("{s} ({why})"))
        .collect();
    if unsure.is_empty() {
        sink.known(
            "cloudsql.monitoring.missing_signals",
            origin("signals wanted and not covered"),
            missing.clone(),
        );
        sink.known(
            "monitoring.alerting",
            origin("every wanted signal covered"),
            missing.is_empty(),
        );
    } else {
        let reason = format!(
            "a condition that may alert on {} could not be read: {}",
            missing.join(", "),
            unsure.join("; ")
        );
        let resolve = Some(
            "check those policies by hand, or express their conditions as Monitoring filters naming the metric and resource.label.database_id",
        );
        sink.unknown(
            "cloudsql.monitoring.missing_signals",
            reason.clone(),
            resolve,
        );
        sink.unknown("monitoring.alerting", reason, resolve);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB: &str = "acme-prod:orders";

    #[test]
    fn a_filter_without_instance_covers_every_instance() {
        let f = r#"resource.type = "cloudsql_database" AND metric.type = "cloudsql.googleapis.com/database/disk/utilization""#;
        assert_eq!(
            filter_watch(f, DB, "us-central1"),
            Watch::Signals(vec!["disk"])
        );
    }

    #[test]
    fn a_filter_naming_another_instance_does_not() {
        let f = r#"metric.type = "cloudsql.googleapis.com/database/cpu/utilization" AND resource.label.database_id = "acme-prod:other""#;
        assert_eq!(filter_watch(f, DB, "us-central1"), Watch::Nothing);
        let f = r#"metric.type="cloudsql.googleapis.com/database/cpu/utilization" AND resource.labels.database_id=one_of("acme-prod:a", "acme-prod:orders")"#;
        assert_eq!(
            filter_watch(f, DB, "us-central1"),
            Watch::Signals(vec!["cpu"])
        );
        let f = r#"metric.type="cloudsql.googleapis.com/database/memory/utilization" AND resource.label.database_id=starts_with("acme-prod:")"#;
        assert_eq!(
            filter_watch(f, DB, "us-central1"),
            Watch::Signals(vec!["memory"])
        );
        let f = r#"metric.type="cloudsql.googleapis.com/database/memory/utilization" AND resource.label.project_id="acme-dev""#;
        assert_eq!(filter_watch(f, DB, "us-central1"), Watch::Nothing);
    }

    #[test]
    fn negations_and_other_labels_cannot_be_told() {
        let f = r#"metric.type="cloudsql.googleapis.com/database/cpu/utilization" AND resource.label.database_id != "acme-prod:x""#;
        assert!(matches!(filter_watch(f, DB, "r"), Watch::CannotTell(..)));
        let f = r#"metric.type="cloudsql.googleapis.com/database/cpu/utilization" AND metadata.user_labels.env="prod""#;
        assert!(matches!(filter_watch(f, DB, "r"), Watch::CannotTell(..)));
        assert_eq!(
            filter_watch(
                r#"metric.type="compute.googleapis.com/instance/cpu/utilization""#,
                DB,
                "r"
            ),
            Watch::Nothing
        );
        assert!(matches!(
            query_watch(
                "cloudsql_googleapis_com:database_cpu_utilization{database_id=\"acme-prod:orders\"} > 0.9",
                "PromQL"
            ),
            Watch::CannotTell(..)
        ));
    }
}
