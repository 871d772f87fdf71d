//! Merging what two sources said about one target: a cloud provider's API
//! (`cloudsql://`, `rds://`) paired with a connection to the same database
//! (`postgres://`, `mysql://`) in `sqlready.toml`.
//!
//! The merge is explicit and deterministic:
//!
//! * every fact keeps the source that reported it (`Fact::source`, `origin`);
//! * a fact only one source reported is taken as is; a known fact beats an
//!   unknown one, whichever source it came from;
//! * when both sources know a fact and disagree, the *authority* wins: the
//!   cloud API for hosting facts ([`HOSTING`]: HA, backups, PITR, storage,
//!   public IP, deletion protection, encryption, monitoring, cost), the
//!   database for everything read from inside it (settings, slots, replicas,
//!   TLS enforcement, …). The other source's reading is kept on the fact as a
//!   [`Reading`] in `disagreements`, and the report shows it in the finding;
//! * some facts *correspond* without being the same path ([`CORRESPONDENCES`]):
//!   Cloud SQL's `pitr.enabled` implies WAL archiving inside PostgreSQL. When
//!   the API says one thing and the database the other, both facts stay as
//!   each source reported them and each carries the other's reading.
//!
//! A source that failed is recorded in [`TargetFacts::sources`]; the facts of
//! the other still make a target. Only when both fail is the target a failure.

use super::snapshot::{Collected, TargetFacts, TargetFailure};
use super::{Fact, Facts};
use crate::target::Kind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// Another source's reading of a fact, kept when it disagreed with the one used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// The source that said it (`cloudsql`, `postgres`, …).
    pub source: String,
    /// The path it reported: the same fact, or a corresponding one.
    pub path: String,
    pub value: Value,
    /// The raw field, setting or query it came from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub origin: String,
    /// What disagrees and which reading the checks use, in words.
    pub note: String,
}

/// What one source of a merged target did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRun {
    pub kind: Kind,
    /// The source's own target id (`cloudsql://p/i`, `postgres://host:5432/db`).
    pub id: String,
    /// Who the source ran as, when it could tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Why the source could not be read; its facts are missing from the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `--connect` only: why the in-database session discovery asked for
    /// could not be opened (a private address, a firewall, IAM auth off). Not
    /// an `error`: the target keeps its API verdicts, its in-database items
    /// are `unknown` with this reason, and the run does not exit 3 for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreached: Option<String>,
}

/// One source's outcome, to be merged.
#[derive(Debug, Clone)]
pub struct Part {
    pub kind: Kind,
    pub id: String,
    pub outcome: Collected,
}

/// Fact paths (exact, or a prefix ending in '.') that describe the hosting:
/// the cloud API is their authority.
pub const HOSTING: &[&str] = &[
    "ha.enabled",
    "backups.",
    "pitr.enabled",
    "disk.",
    "network.public_ip",
    "monitoring.",
    "cost.",
    "deletion_protection.",
    "encryption.",
];

/// Two different fact paths that must agree on a given hosting.
#[derive(Debug, Clone, Copy)]
pub struct Correspondence {
    /// The cloud API's fact (a bool).
    pub api: &'static str,
    /// The database's fact (a bool) that follows from it.
    pub database: &'static str,
    /// The cloud kinds where the implication holds.
    pub clouds: &'static [Kind],
    /// The engines where it holds (`mysql` covers `mariadb`).
    pub engine: &'static str,
    /// Why the two must agree.
    pub why: &'static str,
}

/// Facts that must agree across the API and the database when the API's is true.
pub const CORRESPONDENCES: &[Correspondence] = &[
    Correspondence {
        api: "pitr.enabled",
        database: "pitr.wal_archiving",
        clouds: &[Kind::Cloudsql],
        engine: "postgres",
        why: "Cloud SQL for PostgreSQL restores to a point in time from archived WAL, so with point-in-time recovery on, WAL archiving is on inside the database",
    },
    Correspondence {
        api: "pitr.enabled",
        database: "binlog.enabled",
        clouds: &[Kind::Cloudsql, Kind::Rds],
        engine: "mysql",
        why: "point-in-time recovery of MySQL replays the binary log, so with point-in-time recovery on, log_bin is on inside the database",
    },
];

/// Which source decides a fact both know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    Api,
    Database,
}

/// The authority for a fact path.
pub fn authority(path: &str) -> Authority {
    let hosting = HOSTING.iter().any(|entry| match entry.strip_suffix('.') {
        Some(prefix) => path == prefix || path.starts_with(entry),
        None => path == *entry,
    });
    if hosting {
        Authority::Api
    } else {
        Authority::Database
    }
}

/// Whether a kind is a cloud provider's API.
pub fn is_cloud(kind: Kind) -> bool {
    matches!(kind, Kind::Cloudsql | Kind::Rds)
}

/// Merges a cloud API's outcome and a database's outcome into one target
/// named `id` (the cloud target's id).
pub fn merge(id: &str, cloud: Part, database: Part) -> Collected {
    let run = |part: &Part| SourceRun {
        kind: part.kind,
        id: part.id.clone(),
        principal: part.outcome.as_ref().ok().and_then(|t| t.principal.clone()),
        error: part.outcome.as_ref().err().map(|f| f.error.clone()),
        unreached: None,
    };
    let sources = vec![run(&cloud), run(&database)];
    let merged = match (cloud.outcome, database.outcome) {
        (Err(api_failure), Err(db_failure)) => {
            return Err(TargetFailure {
                id: id.to_string(),
                kind: cloud.kind,
                error: format!(
                    "no source could be read: {}: {}; {}: {}",
                    cloud.id, api_failure.error, database.id, db_failure.error
                ),
            });
        }
        (Ok(api), Err(_)) => TargetFacts {
            id: id.to_string(),
            ..api
        },
        (Err(_), Ok(db)) => TargetFacts {
            id: id.to_string(),
            ..db
        },
        (Ok(api), Ok(db)) => {
            let facts = merge_facts(&api.facts, cloud.kind, &db.facts, &db.engine);
            let mut evidence = api.evidence;
            evidence.extend(db.evidence);
            TargetFacts {
                id: id.to_string(),
                resource: api.resource.or(db.resource),
                kind: api.kind,
                // The API knows clusters and replicas of the service; the
                // database knows its engine flavour and exact version.
                role: api.role,
                engine: if db.engine.is_empty() {
                    api.engine
                } else {
                    db.engine
                },
                version: if db.version.is_empty() {
                    api.version
                } else {
                    db.version
                },
                collected_at: api.collected_at.max(db.collected_at),
                facts,
                evidence,
                principal: db.principal.or(api.principal),
                sources: Vec::new(),
                location: None,
                warnings: api.warnings.into_iter().chain(db.warnings).collect(),
                tags: api.tags,
            }
        }
    };
    Ok(TargetFacts { sources, ..merged })
}

/// Merges two fact sets by the rules of the module documentation.
pub fn merge_facts(api: &Facts, cloud: Kind, database: &Facts, engine: &str) -> Facts {
    let paths: BTreeSet<&String> = api.keys().chain(database.keys()).collect();
    let mut merged = Facts::new();
    for path in paths {
        let fact = match (api.get(path), database.get(path)) {
            (Some(a), Some(d)) => pick(path, a, d),
            (Some(only), None) | (None, Some(only)) => only.clone(),
            (None, None) => continue,
        };
        merged.insert(path.clone(), fact);
    }
    let engine = if engine == "mariadb" { "mysql" } else { engine };
    for rule in CORRESPONDENCES {
        if rule.engine != engine || !rule.clouds.contains(&cloud) {
            continue;
        }
        let (Some(api_fact), Some(db_fact)) = (api.get(rule.api), database.get(rule.database))
        else {
            continue;
        };
        let (Some(Value::Bool(true)), Some(Value::Bool(false))) =
            (api_fact.value(), db_fact.value())
        else {
            continue;
        };
        let note = format!(
            "{} says {} = true but {} says {} = false: {}; each fact is kept as its source reported it",
            api_fact.source, rule.api, db_fact.source, rule.database, rule.why
        );
        if let Some(fact) = merged.get_mut(rule.api) {
            fact.disagreements
                .push(reading(rule.database, db_fact, &note));
        }
        if let Some(fact) = merged.get_mut(rule.database) {
            fact.disagreements.push(reading(rule.api, api_fact, &note));
        }
    }
    merged
}

/// One fact both sources reported: the authority's, or the known one.
fn pick(path: &str, api: &Fact, database: &Fact) -> Fact {
    let (preferred, other, why) = match authority(path) {
        Authority::Api => (api, database, "a hosting fact, so the cloud API decides"),
        Authority::Database => (
            database,
            api,
            "read from inside the database, so the database decides",
        ),
    };
    match (preferred.value(), other.value()) {
        (Some(used), Some(overruled)) if !same(used, overruled) => {
            let note = format!(
                "{} says {path} = {used}, {} says {overruled}: {path} is {why}",
                preferred.source, other.source
            );
            let mut fact = preferred.clone();
            fact.disagreements.push(reading(path, other, &note));
            fact
        }
        (Some(_), _) | (None, None) => preferred.clone(),
        (None, Some(_)) => other.clone(),
    }
}

fn reading(path: &str, fact: &Fact, note: &str) -> Reading {
    Reading {
        source: fact.source.clone(),
        path: path.to_string(),
        value: fact.value().cloned().unwrap_or(Value::Null),
        origin: fact.origin.clone(),
        note: note.to_string(),
    }
}

/// Equal values; numbers compare by value (`1` and `1.0` agree).
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FactSink;
    use crate::facts::schema;
    use crate::target::Role;
    use serde_json::json;

    fn target(id: &str, kind: Kind, facts: Facts) -> TargetFacts {
        TargetFacts {
            id: id.to_string(),
            resource: (kind == Kind::Cloudsql)
                .then(|| "//sqladmin.googleapis.com/projects/p/instances/i".to_string()),
            kind,
            role: Role::Primary,
            engine: "postgres".to_string(),
            version: if kind == Kind::Cloudsql {
                String::new()
            } else {
                "15.4".to_string()
            },
            collected_at: chrono::DateTime::UNIX_EPOCH,
            facts,
            evidence: Vec::new(),
            principal: (kind == Kind::Postgres).then(|| "auditor".to_string()),
            sources: Vec::new(),
            location: None,
            warnings: Vec::new(),
            tags: Default::default(),
        }
    }

    fn api_facts() -> Facts {
        let mut sink = FactSink::new("cloudsql");
        sink.known(
            "pitr.enabled",
            "settings.backupConfiguration.pointInTimeRecoveryEnabled",
            true,
        );
        sink.known(
            "backups.enabled",
            "settings.backupConfiguration.enabled",
            true,
        );
        sink.known(
            "network.tls_required",
            "settings.ipConfiguration.sslMode",
            true,
        );
        sink.known("replicas.count", "replicaNames", 2);
        sink.unknown(
            "connections.max_connections",
            "not in the API response",
            None,
        );
        sink.finish()
    }

    fn db_facts() -> Facts {
        let mut sink = FactSink::new("postgres");
        sink.known("pitr.wal_archiving", "archive_mode", false);
        sink.known("backups.enabled", "made-up in-database reading", false);
        sink.known("network.tls_required", "pg_hba_file_rules", false);
        sink.known("replicas.count", "pg_stat_replication", 2.0);
        sink.known("connections.max_connections", "max_connections", 100);
        sink.unknown("disk.autogrow", "invisible from SQL", None);
        sink.finish()
    }

    #[test]
    fn each_fact_keeps_its_source_and_the_authority_wins_disagreements() {
        let merged = merge_facts(&api_facts(), Kind::Cloudsql, &db_facts(), "postgres");
        // Hosting fact: the API's value, with the database's reading kept.
        let backups = &merged["backups.enabled"];
        assert_eq!(
            (backups.source.as_str(), backups.value()),
            ("cloudsql", Some(&json!(true)))
        );
        assert_eq!(backups.disagreements.len(), 1);
        assert_eq!(backups.disagreements[0].source, "postgres");
        assert_eq!(backups.disagreements[0].value, json!(false));
        assert!(
            backups.disagreements[0].note.contains("cloud API decides"),
            "{:?}",
            backups.disagreements
        );
        // In-database fact: the database's value, with the API's reading kept.
        let tls = &merged["network.tls_required"];
        assert_eq!(
            (tls.source.as_str(), tls.value()),
            ("postgres", Some(&json!(false)))
        );
        assert_eq!(tls.disagreements[0].source, "cloudsql");
        assert_eq!(
            tls.disagreements[0].origin,
            "settings.ipConfiguration.sslMode"
        );
        // Equal values (2 and 2.0) are no disagreement.
        assert!(merged["replicas.count"].disagreements.is_empty());
        assert_eq!(merged["replicas.count"].source, "postgres");
        // Known beats unknown, whichever the authority.
        assert_eq!(merged["connections.max_connections"].source, "postgres");
        assert_eq!(
            merged["connections.max_connections"].value(),
            Some(&json!(100))
        );
        // Facts only one source reported are kept as they are.
        assert_eq!(merged["disk.autogrow"].source, "postgres");
        assert!(merged["disk.autogrow"].value().is_none());
        assert_eq!(merged["pitr.enabled"].source, "cloudsql");
    }

    #[test]
    fn corresponding_facts_that_disagree_carry_each_others_reading() {
        let merged = merge_facts(&api_facts(), Kind::Cloudsql, &db_facts(), "postgres");
        let pitr = &merged["pitr.enabled"];
        assert_eq!(
            pitr.value(),
            Some(&json!(true)),
            "both facts stay as reported"
        );
        assert_eq!(pitr.disagreements.len(), 1);
        assert_eq!(pitr.disagreements[0].path, "pitr.wal_archiving");
        assert!(pitr.disagreements[0].note.contains(
            "cloudsql says pitr.enabled = true but postgres says pitr.wal_archiving = false"
        ));
        let archiving = &merged["pitr.wal_archiving"];
        assert_eq!(archiving.value(), Some(&json!(false)));
        assert_eq!(archiving.disagreements[0].path, "pitr.enabled");
        // The rule is Cloud SQL's: Aurora keeps PITR without archive_mode, so RDS is not flagged.
        let rds = merge_facts(&api_facts(), Kind::Rds, &db_facts(), "postgres");
        assert!(rds["pitr.enabled"].disagreements.is_empty());
    }

    #[test]
    fn merging_is_deterministic_whatever_the_order_of_the_maps() {
        let a = merge_facts(&api_facts(), Kind::Cloudsql, &db_facts(), "postgres");
        let b = merge_facts(&api_facts(), Kind::Cloudsql, &db_facts(), "postgres");
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
    }

    #[test]
    fn a_failed_cloud_half_leaves_the_database_facts_and_says_why() {
        let cloud = Part {
            kind: Kind::Cloudsql,
            id: "cloudsql://p/i".into(),
            outcome: Err(TargetFailure {
                id: "cloudsql://p/i".into(),
                kind: Kind::Cloudsql,
                error: "cloudsql targets are not available in this build".into(),
            }),
        };
        let database = Part {
            kind: Kind::Postgres,
            id: "postgres://10.0.0.3:5432/app".into(),
            outcome: Ok(target(
                "postgres://10.0.0.3:5432/app",
                Kind::Postgres,
                db_facts(),
            )),
        };
        let merged = merge("cloudsql://p/i", cloud, database).unwrap();
        assert_eq!(merged.id, "cloudsql://p/i");
        assert_eq!(
            merged.kind,
            Kind::Postgres,
            "the facts came from the database only"
        );
        assert_eq!(merged.facts, db_facts());
        assert_eq!(merged.principal.as_deref(), Some("auditor"));
        assert_eq!(merged.sources.len(), 2);
        assert_eq!(merged.sources[0].kind, Kind::Cloudsql);
        assert!(
            merged.sources[0]
                .error
                .as_deref()
                .unwrap()
                .contains("not available in this build")
        );
        assert_eq!(merged.sources[1].error, None);
        assert_eq!(merged.sources[1].principal.as_deref(), Some("auditor"));
    }

    #[test]
    fn two_sources_make_one_target_with_the_apis_identity() {
        let cloud = Part {
            kind: Kind::Cloudsql,
            id: "cloudsql://p/i".into(),
            outcome: Ok(target("cloudsql://p/i", Kind::Cloudsql, api_facts())),
        };
        let database = Part {
            kind: Kind::Postgres,
            id: "postgres://10.0.0.3:5432/app".into(),
            outcome: Ok(target(
                "postgres://10.0.0.3:5432/app",
                Kind::Postgres,
                db_facts(),
            )),
        };
        let merged = merge("cloudsql://p/i", cloud, database).unwrap();
        assert_eq!(merged.kind, Kind::Cloudsql);
        assert!(
            merged
                .resource
                .as_deref()
                .unwrap()
                .starts_with("//sqladmin")
        );
        assert_eq!(
            merged.version, "15.4",
            "the database knows the exact version"
        );
        assert_eq!(merged.principal.as_deref(), Some("auditor"));
        assert_eq!(merged.facts["backups.enabled"].source, "cloudsql");
        assert_eq!(merged.facts["network.tls_required"].source, "postgres");
    }

    #[test]
    fn both_halves_failing_is_a_target_failure_naming_both() {
        let failure = |id: &str, kind| Part {
            kind,
            id: id.into(),
            outcome: Err(TargetFailure {
                id: id.into(),
                kind,
                error: format!("{id} is down"),
            }),
        };
        let err = merge(
            "cloudsql://p/i",
            failure("cloudsql://p/i", Kind::Cloudsql),
            failure("postgres://h:5432/app", Kind::Postgres),
        )
        .unwrap_err();
        assert_eq!(err.id, "cloudsql://p/i");
        assert!(
            err.error.contains("cloudsql://p/i is down")
                && err.error.contains("postgres://h:5432/app is down"),
            "{}",
            err.error
        );
    }

    #[test]
    fn every_hosting_path_and_correspondence_names_schema_facts() {
        for entry in HOSTING {
            let path = entry.trim_end_matches('.');
            assert!(
                schema::is_fact_or_namespace(path),
                "{entry} is not in the facts schema"
            );
        }
        for rule in CORRESPONDENCES {
            assert!(schema::spec(rule.api).is_some(), "{}", rule.api);
            assert!(schema::spec(rule.database).is_some(), "{}", rule.database);
            assert_eq!(authority(rule.api), Authority::Api);
            assert_eq!(authority(rule.database), Authority::Database);
        }
        assert_eq!(authority("backups.retention_days"), Authority::Api);
        assert_eq!(authority("pitr.wal_archiving"), Authority::Database);
        assert_eq!(
            authority("postgres.settings.wal_level"),
            Authority::Database
        );
    }
}
