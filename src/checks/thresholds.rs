//! The limits checks compare against (`thresholds.*` in CEL): one set for the
//! run, and per-target overrides from `sqlready.toml` (`[[targets]]` entries
//! with their own `thresholds`), resolved by target id.

use serde::{Deserialize, Serialize};
use serde_json::{Map as JsonMap, Value as Json};

/// Configurable limits, visible to checks as `thresholds.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    pub min_backup_retention_days: i64,
    pub max_replica_lag_seconds: i64,
    pub max_slot_retained_bytes: i64,
    pub max_connection_usage: f64,
    pub min_eol_days: i64,
    /// Minor releases a server may lag (one quarter's rollout by default).
    pub max_minor_releases_behind: i64,
    pub min_binlog_retention_seconds: i64,
    pub max_long_query_time_seconds: f64,
    /// Days before a server CA expires from which it warns (a rotation takes planning).
    pub min_ca_days: i64,
    /// Days a Cloud SQL deny maintenance period may block updates.
    pub max_maintenance_deny_days: i64,
    /// Days within which a restore must have been tested (`restore_tested`).
    pub restore_drill_days: i64,
    /// AWS accounts manual RDS snapshots may be shared with (a sanitizing or
    /// backup account of the organization); any other is a finding.
    pub trusted_aws_accounts: Vec<String>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_backup_retention_days: 7,
            max_replica_lag_seconds: 300,
            max_slot_retained_bytes: 1 << 30,
            max_connection_usage: 0.8,
            min_eol_days: 180,
            max_minor_releases_behind: 1,
            min_binlog_retention_seconds: 86400,
            max_long_query_time_seconds: 2.0,
            min_ca_days: 90,
            max_maintenance_deny_days: 60,
            restore_drill_days: 90,
            trusted_aws_accounts: Vec::new(),
        }
    }
}

/// The thresholds of a run: the run's own, and overrides for some targets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThresholdSet {
    pub run: Thresholds,
    scoped: Vec<Scoped>,
}

/// Overrides for the targets of one `[[targets]]` entry.
#[derive(Debug, Clone, PartialEq)]
struct Scoped {
    /// The entry's target id: the target itself, or a discovery URI
    /// (`rds://REGION`, `cloudsql://PROJECT`) whose targets all get them.
    target: String,
    /// Only the keys the entry sets.
    overrides: JsonMap<String, Json>,
    /// The run's thresholds with the overrides applied.
    effective: Thresholds,
}

impl ThresholdSet {
    /// The run's thresholds for every target.
    pub fn uniform(run: Thresholds) -> Self {
        ThresholdSet {
            run,
            scoped: Vec::new(),
        }
    }

    /// Adds overrides (validated key → number) for the targets of `target`.
    /// Keys that are not thresholds are an error naming them.
    pub fn scope(&mut self, target: &str, overrides: JsonMap<String, Json>) -> Result<(), String> {
        let mut merged = match serde_json::to_value(&self.run) {
            Ok(Json::Object(fields)) => fields,
            _ => JsonMap::new(),
        };
        merged.extend(overrides.clone());
        let effective = serde_json::from_value(Json::Object(merged))
            .map_err(|err| format!("thresholds for {target}: {err}"))?;
        self.scoped.push(Scoped {
            target: target.to_string(),
            overrides,
            effective,
        });
        Ok(())
    }

    /// The thresholds a target is judged by: its own entry's, else those of
    /// the discovery entry that found it (the most specific), else the run's.
    pub fn for_target(&self, id: &str) -> &Thresholds {
        self.scoped
            .iter()
            .filter(|scoped| covers(&scoped.target, id))
            .max_by_key(|scoped| scoped.target.len())
            .map_or(&self.run, |scoped| &scoped.effective)
    }

    /// Target id → the overrides it was given, for the evidence run record.
    pub fn overrides(&self) -> JsonMap<String, Json> {
        self.scoped
            .iter()
            .map(|scoped| {
                (
                    scoped.target.clone(),
                    Json::Object(scoped.overrides.clone()),
                )
            })
            .collect()
    }
}

/// Whether an entry's id names the target: the same id, or a discovery URI
/// the target's id continues (`rds://eu-west-1` covers `rds://eu-west-1/db/x`).
pub(crate) fn covers(entry: &str, id: &str) -> bool {
    let rest = id.strip_prefix(entry.trim_end_matches('/'));
    entry == id
        || (is_discovery(entry) && rest.is_some_and(|rest| rest.starts_with('/')))
        // terraform://PATH covers every resource it plans, terraform://PATH#ADDRESS.
        || (entry.starts_with("terraform://")
            && id.strip_prefix(entry).is_some_and(|rest| rest.starts_with('#')))
}

/// `rds://REGION` or `cloudsql://PROJECT`: a target id that finds many.
fn is_discovery(id: &str) -> bool {
    matches!(id.split_once("://"), Some(("rds" | "cloudsql", rest)) if !rest.trim_end_matches('/').contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn overrides(value: Json) -> JsonMap<String, Json> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn a_target_entry_overrides_only_the_keys_it_sets() {
        let mut set = ThresholdSet::uniform(Thresholds {
            min_backup_retention_days: 14,
            ..Thresholds::default()
        });
        set.scope(
            "cloudsql://acme-prod/reports",
            overrides(json!({"min_backup_retention_days": 3})),
        )
        .unwrap();
        let reports = set.for_target("cloudsql://acme-prod/reports");
        assert_eq!(reports.min_backup_retention_days, 3);
        assert_eq!(reports.min_eol_days, Thresholds::default().min_eol_days);
        assert_eq!(
            set.for_target("cloudsql://acme-prod/orders")
                .min_backup_retention_days,
            14
        );
        // A longer id that merely starts the same is another instance.
        assert_eq!(
            set.for_target("cloudsql://acme-prod/reports-2")
                .min_backup_retention_days,
            14
        );
    }

    #[test]
    fn a_discovery_entry_covers_what_it_found_and_the_most_specific_wins() {
        let mut set = ThresholdSet::default();
        set.scope("rds://eu-west-1", overrides(json!({"min_eol_days": 30})))
            .unwrap();
        set.scope(
            "rds://eu-west-1/db/legacy",
            overrides(json!({"min_eol_days": 0})),
        )
        .unwrap();
        assert_eq!(set.for_target("rds://eu-west-1/db/orders").min_eol_days, 30);
        assert_eq!(
            set.for_target("rds://eu-west-1/cluster/aurora")
                .min_eol_days,
            30
        );
        assert_eq!(set.for_target("rds://eu-west-1/db/legacy").min_eol_days, 0);
        assert_eq!(
            set.for_target("rds://us-east-1/db/orders").min_eol_days,
            180
        );
        set.scope("terraform://infra", overrides(json!({"min_eol_days": 7})))
            .unwrap();
        assert_eq!(
            set.for_target("terraform://infra#aws_db_instance.main")
                .min_eol_days,
            7
        );
        assert_eq!(
            set.for_target("terraform://infra2#aws_db_instance.main")
                .min_eol_days,
            180
        );
    }

    #[test]
    fn a_database_entry_covers_only_itself() {
        let mut set = ThresholdSet::default();
        set.scope(
            "postgres://db:5432/app",
            overrides(json!({"max_connection_usage": 0.5})),
        )
        .unwrap();
        assert_eq!(
            set.for_target("postgres://db:5432/app")
                .max_connection_usage,
            0.5
        );
        assert_eq!(
            set.for_target("postgres://db:5432/app/other")
                .max_connection_usage,
            0.8
        );
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let mut set = ThresholdSet::default();
        let err = set
            .scope("rds://eu-west-1", overrides(json!({"min_eol_dayz": 3})))
            .unwrap_err();
        assert!(err.contains("min_eol_dayz"), "{err}");
    }
}
