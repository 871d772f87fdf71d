//! The vocabulary of checks and verdicts: checklist items, severities,
//! statuses, and a check file's metadata.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Checklist items, in checklist order (the order of the enum is the order of the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Item {
    Replicas,
    MultiZone,
    Backups,
    Pitr,
    Cdc,
    DiskAutogrow,
    Migrations,
    NetworkSecurity,
    DevData,
    Staging,
    Monitoring,
    Cost,
    SlowQueries,
    ConnectionPooling,
    DeletionProtection,
    Encryption,
    AuditLogging,
    Durability,
    VersionSupport,
    RestoreTested,
    AccessControl,
}

impl Item {
    pub const ALL: [Item; 21] = [
        Item::Replicas,
        Item::MultiZone,
        Item::Backups,
        Item::Pitr,
        Item::Cdc,
        Item::DiskAutogrow,
        Item::Migrations,
        Item::NetworkSecurity,
        Item::DevData,
        Item::Staging,
        Item::Monitoring,
        Item::Cost,
        Item::SlowQueries,
        Item::ConnectionPooling,
        Item::DeletionProtection,
        Item::Encryption,
        Item::AuditLogging,
        Item::Durability,
        Item::VersionSupport,
        Item::RestoreTested,
        Item::AccessControl,
    ];

    /// The canonical key, as in the JSON report.
    pub fn key(self) -> &'static str {
        match self {
            Item::Replicas => "replicas",
            Item::MultiZone => "multi_zone",
            Item::Backups => "backups",
            Item::Pitr => "pitr",
            Item::Cdc => "cdc",
            Item::DiskAutogrow => "disk_autogrow",
            Item::Migrations => "migrations",
            Item::NetworkSecurity => "network_security",
            Item::DevData => "dev_data",
            Item::Staging => "staging",
            Item::Monitoring => "monitoring",
            Item::Cost => "cost",
            Item::SlowQueries => "slow_queries",
            Item::ConnectionPooling => "connection_pooling",
            Item::DeletionProtection => "deletion_protection",
            Item::Encryption => "encryption",
            Item::AuditLogging => "audit_logging",
            Item::Durability => "durability",
            Item::VersionSupport => "version_support",
            Item::RestoreTested => "restore_tested",
            Item::AccessControl => "access_control",
        }
    }

    /// The checklist line the item stands for.
    pub fn title(self) -> &'static str {
        match self {
            Item::Replicas => "read-only replicas exist and are healthy",
            Item::MultiZone => "multi-zone / high-availability hosting",
            Item::Backups => "automated daily backups, retention, off-site",
            Item::Pitr => "point-in-time restore is possible",
            Item::Cdc => "change data capture / log replication ready",
            Item::DiskAutogrow => "storage grows automatically",
            Item::Migrations => "schema migrations managed by a tool",
            Item::NetworkSecurity => "private network, TLS required",
            Item::DevData => "sanitized prod-like data for development",
            Item::Staging => "staging / recent-prod replica environment",
            Item::Monitoring => "CPU, memory, connections, storage monitored",
            Item::Cost => "cost / budget monitoring",
            Item::SlowQueries => "slow-query logging and statistics",
            Item::ConnectionPooling => "connection headroom and pooling",
            Item::DeletionProtection => "protected against accidental deletion",
            Item::Encryption => "encrypted at rest",
            Item::AuditLogging => "who-did-what audit logging",
            Item::Durability => "durable commits, no wraparound risk",
            Item::VersionSupport => "engine version supported",
            Item::RestoreTested => "backup restores tested regularly",
            Item::AccessControl => "who can log in, with what rights",
        }
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// How much a failing check matters; `--fail-on` compares against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The weight of a check in the score.
    pub fn weight(self) -> u32 {
        match self {
            Severity::Low => 1,
            Severity::Medium => 3,
            Severity::High => 5,
            Severity::Critical => 10,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    #[serde(rename = "pass")]
    Pass,
    #[serde(rename = "warn")]
    Warn,
    #[serde(rename = "fail")]
    Fail,
    #[serde(rename = "unknown")]
    Unknown,
    #[serde(rename = "n/a")]
    NotApplicable,
    #[serde(rename = "error")]
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::NotApplicable => "n/a",
            Status::Error => "error",
        }
    }

    /// Rank for "the worst of its checks": fail > error > warn > unknown > pass > n/a.
    ///
    /// `error` ranks above `warn`: a critical check that could not run must not
    /// hide behind a piece of advice on the same item (issue 18).
    pub fn badness(self) -> u8 {
        match self {
            Status::NotApplicable => 0,
            Status::Pass => 1,
            Status::Unknown => 2,
            Status::Warn => 3,
            Status::Error => 4,
            Status::Fail => 5,
        }
    }

    /// Whether the status is a judgement (`pass`, `warn`, `fail`): something
    /// was looked at and found right or wrong. Coverage counts these.
    pub fn is_judged(self) -> bool {
        matches!(self, Status::Pass | Status::Warn | Status::Fail)
    }

    /// The worst of several statuses; `n/a` only when every one is `n/a`, `unknown` when empty.
    pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
        statuses
            .into_iter()
            .max_by_key(|status| status.badness())
            .unwrap_or(Status::Unknown)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status a check's violation yields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Violation {
    #[default]
    Fail,
    Warn,
}

impl Violation {
    pub fn status(self) -> Status {
        match self {
            Violation::Fail => Status::Fail,
            Violation::Warn => Status::Warn,
        }
    }
}

/// A check: metadata, the CEL expressions, and its own examples.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub id: String,
    pub item: Item,
    pub severity: Severity,
    pub title: String,
    pub violation: Violation,
    /// Advice, not a defect: a violation is `warn`, and its `warn` (or
    /// `unknown`) does not lower the item's status when another check of the
    /// item judged it (see docs/scoring.md).
    pub advisory: bool,
    /// CEL; when false the check is `n/a` for the target.
    pub applies: Option<String>,
    /// CEL naming what the check judges (slots, replicas, connections): a list
    /// or a count. When it is empty (or 0) the check is `n/a` with
    /// `no_subjects` as the reason, so an empty set can never pass.
    pub subjects: Option<String>,
    /// Why the check is `n/a` when its subjects are empty ("no replication slots").
    pub no_subjects: Option<String>,
    /// CEL: a bool (true passes) or a list of violations (empty passes).
    pub condition: String,
    /// CEL producing the `detail` string; facts-derived when absent.
    pub detail: Option<String>,
    pub why: String,
    /// How to fix, per provider or engine: postgres, mysql, cloudsql, rds, terraform.
    pub fix: BTreeMap<String, String>,
    pub controls: Vec<String>,
    pub references: Vec<String>,
    /// What else is read to know the judged state is in effect and working:
    /// the overrides, sibling settings and load state that would nullify it
    /// (per the engine's documentation), one sentence each.
    pub in_effect: Vec<String>,
    /// A read-only query per engine whose rows become `query.rows`.
    pub query: BTreeMap<String, String>,
    pub examples: Vec<Example>,
    /// Where the check was loaded from (`builtin:checks/…` or a path).
    pub origin: String,
}

impl Check {
    /// The fix for a target of this kind and engine: a MariaDB server reached as
    /// `mysql://` gets the `mariadb` fix where a check has one (its syntax differs:
    /// no SET PERSIST, CHANGE MASTER TO); otherwise the kind's own (a cloud
    /// platform's command), else the engine's, and MariaDB falls back to MySQL's.
    pub fn fix_for(&self, kind: &str, engine: &str) -> Option<&str> {
        let mariadb_inside = (kind == "mysql" && engine == "mariadb")
            .then(|| self.fix.get("mariadb"))
            .flatten();
        mariadb_inside
            .or_else(|| self.fix.get(kind))
            .or_else(|| self.fix.get(engine))
            .or_else(|| match engine {
                "mariadb" => self.fix.get("mysql"),
                _ => None,
            })
            .map(String::as_str)
    }

    /// [`Check::fix_for`], with the RDS deployment (`rds.deployment`: instance,
    /// aurora, multi-az-cluster) choosing `rds_multi_az_cluster` or
    /// `rds_cluster` over `rds` where the check has them: a cluster is changed
    /// with modify-db-cluster, and a Multi-AZ DB cluster has no storage autoscaling.
    pub fn fix_for_target(
        &self,
        kind: &str,
        engine: &str,
        deployment: Option<&str>,
    ) -> Option<&str> {
        let specific = match (kind, deployment) {
            ("rds", Some("multi-az-cluster")) => self
                .fix
                .get("rds_multi_az_cluster")
                .or_else(|| self.fix.get("rds_cluster")),
            ("rds", Some("aurora")) => self.fix.get("rds_cluster"),
            _ => None,
        };
        specific
            .map(String::as_str)
            .or_else(|| self.fix_for(kind, engine))
    }
}

/// A small fixture the check must judge as `expect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub name: String,
    pub expect: Status,
    #[serde(default)]
    pub target: ExampleTarget,
    /// Known facts by path.
    #[serde(default)]
    pub facts: BTreeMap<String, serde_json::Value>,
    /// Facts the source explicitly could not read.
    #[serde(default)]
    pub unknown: Vec<String>,
    /// Facts known to be null (TOML has no null literal), e.g. a delay
    /// that is null before the first transaction is replayed.
    #[serde(default)]
    pub null: Vec<String>,
}

/// The target an example pretends to be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleTarget {
    #[serde(default = "default_kind")]
    pub kind: crate::target::Kind,
    #[serde(default = "default_engine")]
    pub engine: String,
    #[serde(default = "default_role")]
    pub role: crate::target::Role,
    #[serde(default)]
    pub version: String,
}

fn default_kind() -> crate::target::Kind {
    crate::target::Kind::Postgres
}
fn default_engine() -> String {
    "postgres".to_string()
}
fn default_role() -> crate::target::Role {
    crate::target::Role::Primary
}

impl Default for ExampleTarget {
    fn default() -> Self {
        ExampleTarget {
            kind: default_kind(),
            engine: default_engine(),
            role: default_role(),
            version: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Status::{self, *};

    /// Renderers index per-item tables by `item as usize`.
    #[test]
    fn every_item_is_at_its_own_index_in_all() {
        for (index, item) in super::Item::ALL.iter().enumerate() {
            assert_eq!(*item as usize, index, "{item:?}");
        }
    }

    #[test]
    fn roll_up_ranks_fail_error_warn_unknown_pass() {
        assert_eq!(Status::worst([Pass, Warn, Error]), Error);
        assert_eq!(Status::worst([Warn, Error, Fail]), Fail);
        assert_eq!(Status::worst([Pass, Unknown, Warn]), Warn);
        assert_eq!(Status::worst([Pass, Unknown]), Unknown);
        assert_eq!(Status::worst([NotApplicable, Pass]), Pass);
        assert_eq!(Status::worst([NotApplicable, NotApplicable]), NotApplicable);
        assert_eq!(Status::worst([]), Unknown);
    }

    #[test]
    fn only_pass_warn_and_fail_are_judged() {
        let judged: Vec<Status> = [Pass, Warn, Fail, Unknown, NotApplicable, Error]
            .into_iter()
            .filter(|s| s.is_judged())
            .collect();
        assert_eq!(judged, vec![Pass, Warn, Fail]);
    }
}
