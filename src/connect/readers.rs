//! A DB cluster's readers, audited one by one: `--connect` reaches an Aurora
//! or Multi-AZ DB cluster at its writer endpoint (the cluster is one target),
//! and also opens a read-only session at each reader's own instance endpoint
//! ([`super::endpoint::cluster_readers`]). What the readers report completes
//! the cluster's view of its replicas where the writer cannot see them:
//!
//! * An Aurora writer's `pg_stat_replication` never lists its readers (they
//!   replicate through the shared cluster volume, not from the writer's WAL
//!   senders); a MySQL/MariaDB writer cannot see any replica's delay; a role
//!   without `pg_read_all_stats` sees rows without state or lag. Then
//!   `replicas.connected` and `replicas.max_replay_lag_seconds` come from each
//!   reader's own reading (PostgreSQL: `pg_stat_wal_receiver` status and the
//!   replay delay; MySQL/MariaDB: the replication channels), and the origin
//!   names the readers. The writer's own reading, when it had one, is kept on
//!   the fact as a disagreement.
//! * A reader that could not be reached or read leaves
//!   `replicas.max_replay_lag_seconds` unknown, naming it and why, so the lag
//!   verdict is `unknown`, never a pass that did not look at it.
//! * Nothing else changes: the writer's settings, slots, durability, access
//!   control and connection headroom stay the writer's, because the cluster
//!   takes its writes there; a reader's own differences (`read_only`, its
//!   instance parameter group, its connections) are the reader's.
//! * An Aurora cluster's `replicas.count` is the API's (serving readers of
//!   `DBClusterMembers`), whatever the writer's WAL senders count.
//!
//! Only what vanilla engines show is read: an Aurora reader's own lag is in
//! `aurora_replica_status()` (PostgreSQL) or
//! `information_schema.replica_host_status` (MySQL), which sqlready does not
//! read, so such a reader without a WAL receiver or a replication channel is
//! "not read", not "not replicating". Pure: the sessions run in [`super`].

use crate::facts::merge::Reading;
use crate::facts::snapshot::TargetFacts;
use crate::facts::{Fact, RawEvidence};
use crate::target::Role;
use serde_json::{Value as Json, json};

/// One reader's session: its ids, and its facts or why there are none.
#[derive(Debug, Clone)]
pub struct Read {
    /// `rds://[ACCOUNT@]REGION/db/ID`.
    pub id: String,
    /// `DBInstanceIdentifier`.
    pub instance: String,
    /// The reader's in-database facts, or why it could not be reached.
    pub outcome: Result<TargetFacts, String>,
    /// How the session was opened (address, user, TLS), when it was tried.
    pub record: Json,
}

/// What one reader tells about its replication: its `replicas.connected` row,
/// or why it tells nothing.
fn row(read: &Read, aurora: bool) -> Result<Json, String> {
    let facts = read.outcome.as_ref().map_err(Clone::clone)?;
    let known = |path: &str| -> Result<Option<&Json>, String> {
        match facts.facts.get(path) {
            Some(fact) => match fact.value() {
                Some(value) => Ok(Some(value)),
                None => Err(format!("{path} unknown: {}", reason(fact))),
            },
            None => Ok(None),
        }
    };
    let volume = |engine_view: &str| {
        format!(
            "reached, but it shows no {engine_view}: an Aurora reader replicates through the cluster volume, and its lag (aurora_replica_status() / information_schema.replica_host_status) is not read by sqlready"
        )
    };
    let (state, lag) = if matches!(facts.engine.as_str(), "mysql" | "mariadb") {
        let channels = known("upstream.channels")?
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        if channels.is_empty() {
            if aurora {
                return Err(volume("replication channel (SHOW REPLICA STATUS)"));
            }
            ("stopped".to_string(), Json::Null)
        } else {
            let running = channels.iter().all(|c| {
                c["io_running"].as_str() == Some("Yes") && c["sql_running"].as_str() == Some("Yes")
            });
            let lag = channels
                .iter()
                .filter_map(|c| c["seconds_behind"].as_f64())
                .fold(None, |max: Option<f64>, l| {
                    Some(max.map_or(l, |m| m.max(l)))
                });
            (
                if running { "streaming" } else { "stopped" }.to_string(),
                lag.map_or(Json::Null, Json::from),
            )
        }
    } else {
        if facts.role != Role::Replica {
            return Err(
                "reached, but it is not in recovery (pg_is_in_recovery() is false): it is not a standby of the writer; check where its address leads (--resolve)"
                    .into(),
            );
        }
        let status = known("upstream.receiver_status")?
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        if status.is_empty() && aurora {
            return Err(volume("WAL receiver (pg_stat_wal_receiver)"));
        }
        let delay = known("upstream.replay_delay_seconds")?
            .cloned()
            .unwrap_or(Json::Null);
        (
            if status.is_empty() {
                "stopped".to_string()
            } else {
                status
            },
            delay,
        )
    };
    Ok(json!({
        "name": read.id,
        "client_addr": Json::Null,
        "state": state,
        "sync_state": Json::Null,
        "replay_lag_bytes": Json::Null,
        "replay_lag_seconds": lag,
    }))
}

/// An unknown fact's reason, in words.
fn reason(fact: &Fact) -> String {
    match &fact.state {
        crate::facts::FactState::Unknown { unknown, .. } => unknown.clone(),
        crate::facts::FactState::Known { .. } => String::new(),
    }
}

/// Whether the cluster is Aurora (its `DescribeDBClusters` Engine).
fn is_aurora(target: &TargetFacts) -> bool {
    target
        .evidence
        .iter()
        .find(|e| e.name == "DescribeDBClusters")
        .and_then(|e| e.response["Engine"].as_str())
        .is_some_and(|engine| engine.starts_with("aurora"))
}

/// Completes a cluster target from its readers' sessions (see the module
/// documentation), records each reader in the `connect.readers` evidence,
/// and for Aurora keeps the API's `replicas.count` (`api_count`).
pub fn complete(target: &mut TargetFacts, api_count: Option<&Fact>, reads: &[Read]) {
    if reads.is_empty() {
        return;
    }
    let aurora = is_aurora(target);
    let rows: Vec<(&Read, Result<Json, String>)> =
        reads.iter().map(|read| (read, row(read, aurora))).collect();
    target.evidence.push(RawEvidence {
        source: "connect".into(),
        name: "connect.readers".into(),
        request: format!(
            "--connect {}: each reader at its instance endpoint",
            target.id
        ),
        response: Json::Array(
            rows.iter()
                .map(|(read, row)| {
                    let mut entry = json!({
                        "reader": read.id,
                        "reached": read.outcome.is_ok(),
                        "session": read.record,
                    });
                    match row {
                        Ok(row) => entry["reading"] = row.clone(),
                        Err(why) => entry["not_read"] = Json::from(why.clone()),
                    }
                    entry
                })
                .collect(),
        ),
    });
    if aurora {
        keep_api_count(target, api_count);
    }
    let writer = target
        .facts
        .get("replicas.connected")
        .and_then(Fact::value)
        .and_then(Json::as_array)
        .cloned();
    // The writer's own view stands when it lists a standby per reader (a
    // Multi-AZ DB cluster's writer with pg_read_all_stats).
    if writer.as_ref().is_some_and(|w| w.len() >= reads.len()) && !aurora {
        return;
    }
    let source = if matches!(target.engine.as_str(), "mysql" | "mariadb") {
        "mysql"
    } else {
        "postgres"
    };
    let read: Vec<(&Read, &Json)> = rows
        .iter()
        .filter_map(|(read, row)| row.as_ref().ok().map(|row| (*read, row)))
        .collect();
    let missed: Vec<String> = rows
        .iter()
        .filter_map(|(read, row)| {
            row.as_ref()
                .err()
                .map(|why| format!("reader {} ({}): {why}", read.instance, read.id))
        })
        .collect();
    let names: Vec<&str> = read.iter().map(|(r, _)| r.id.as_str()).collect();
    let origin = format!(
        "the readers' own readings, each at its instance endpoint ({}; pg_stat_wal_receiver and the replay delay, or SHOW REPLICA STATUS){}",
        names.join(", "),
        if missed.is_empty() {
            String::new()
        } else {
            format!("; not read: {}", missed.join("; "))
        }
    );
    let resolve = Some(super::unreached::RESOLVE.to_string());
    let writer_note = |path: &str, fact: &Fact| -> Option<Reading> {
        fact.value().map(|value| Reading {
            source: fact.source.clone(),
            path: path.to_string(),
            value: value.clone(),
            origin: fact.origin.clone(),
            note: if aurora {
                format!(
                    "an Aurora writer's {path} does not describe its readers (they replicate through the cluster volume, not from the writer's WAL senders): each reader's own reading is used"
                )
            } else {
                format!(
                    "the writer's {path} lists fewer standbys than the cluster's {} reader(s): each reader's own reading is used",
                    reads.len()
                )
            },
        })
    };
    let previous = target.facts.get("replicas.connected").cloned();
    let mut connected = if read.is_empty() {
        Fact::unknown(
            source,
            format!(
                "no reader of the cluster could be read, and the writer does not see them all: {}",
                missed.join("; ")
            ),
            resolve.clone(),
        )
    } else {
        Fact::known(
            source,
            origin.clone(),
            Json::Array(read.iter().map(|(_, row)| (*row).clone()).collect()),
        )
    };
    if let Some(note) = previous
        .as_ref()
        .and_then(|f| writer_note("replicas.connected", f))
    {
        connected.disagreements.push(note);
    }
    target.facts.insert("replicas.connected".into(), connected);

    let previous = target.facts.get("replicas.max_replay_lag_seconds").cloned();
    let mut lag = if missed.is_empty() {
        let max = read
            .iter()
            .filter_map(|(_, row)| row["replay_lag_seconds"].as_f64())
            .fold(None, |max: Option<f64>, l| {
                Some(max.map_or(l, |m| m.max(l)))
            });
        Fact::known(source, origin, max.map_or(Json::Null, Json::from))
    } else {
        Fact::unknown(
            source,
            format!(
                "not every reader of the cluster could be read: {}",
                missed.join("; ")
            ),
            resolve,
        )
    };
    if let Some(note) = previous
        .as_ref()
        .and_then(|f| writer_note("replicas.max_replay_lag_seconds", f))
    {
        lag.disagreements.push(note);
    }
    target
        .facts
        .insert("replicas.max_replay_lag_seconds".into(), lag);
}

/// An Aurora cluster's readers are the API's `DBClusterMembers`: the writer's
/// WAL senders (`pg_stat_replication`) never count them, so the API's
/// `replicas.count` stands, with the writer's reading kept as a disagreement.
fn keep_api_count(target: &mut TargetFacts, api_count: Option<&Fact>) {
    let Some(api) = api_count.filter(|f| f.value().is_some()) else {
        return;
    };
    let Some(current) = target.facts.get("replicas.count") else {
        return;
    };
    if current.source == api.source {
        return;
    }
    let mut fact = api.clone();
    if let Some(value) = current.value().filter(|v| Some(*v) != api.value()) {
        fact.disagreements.push(Reading {
            source: current.source.clone(),
            path: "replicas.count".into(),
            value: value.clone(),
            origin: current.origin.clone(),
            note: format!(
                "{} counts {value} standby(s) streaming from the writer, the API lists {} serving reader(s): Aurora readers replicate through the cluster volume, so the API's count is used",
                current.source,
                api.value().cloned().unwrap_or(Json::Null)
            ),
        });
    }
    target.facts.insert("replicas.count".into(), fact);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{FactSink, Facts};
    use crate::target::Kind;

    fn target(id: &str, engine: &str, role: Role, facts: Facts) -> TargetFacts {
        TargetFacts {
            facts,
            ..TargetFacts::bare(id, Kind::Rds, role, engine, "")
        }
    }

    /// A cluster merged with its writer's session: the API counted 2
    /// readers, the writer's pg_stat_replication lists one standby.
    fn cluster(engine: &str) -> (TargetFacts, Fact) {
        let mut sink = FactSink::new("postgres");
        sink.known("replicas.count", "pg_stat_replication", 1);
        sink.known(
            "replicas.connected",
            "pg_stat_replication",
            json!([{"name": "walreceiver", "state": "streaming", "replay_lag_seconds": null}]),
        );
        sink.known(
            "replicas.max_replay_lag_seconds",
            "pg_stat_replication",
            Json::Null,
        );
        let mut t = target(
            "rds://us-east-1/cluster/ledger",
            "postgres",
            Role::Cluster,
            sink.finish(),
        );
        t.evidence.push(RawEvidence {
            source: "rds".into(),
            name: "DescribeDBClusters".into(),
            request: String::new(),
            response: json!({"Engine": engine}),
        });
        let api_count = Fact::known("rds", "DBClusterMembers", 2);
        (t, api_count)
    }

    fn standby(delay: f64) -> TargetFacts {
        let mut sink = FactSink::new("postgres");
        sink.known(
            "upstream.receiver_status",
            "pg_stat_wal_receiver.status",
            "streaming",
        );
        sink.known("upstream.replay_delay_seconds", "now() - …", delay);
        target(
            "postgres://ledger-2.x:5432/postgres",
            "postgres",
            Role::Replica,
            sink.finish(),
        )
    }

    fn read(instance: &str, outcome: Result<TargetFacts, String>) -> Read {
        Read {
            id: format!("rds://us-east-1/db/{instance}"),
            instance: instance.into(),
            outcome,
            record: Json::Null,
        }
    }

    #[test]
    fn a_reached_reader_completes_the_cluster_and_an_unreached_one_leaves_the_lag_unknown() {
        let (mut t, api_count) = cluster("aurora-postgresql");
        let reads = [
            read("ledger-2", Ok(standby(0.5))),
            read("ledger-3", Err("connection refused".into())),
        ];
        complete(&mut t, Some(&api_count), &reads);
        let connected = &t.facts["replicas.connected"];
        let rows = connected.value().unwrap().as_array().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["name"], "rds://us-east-1/db/ledger-2");
        assert_eq!(rows[0]["state"], "streaming");
        assert_eq!(rows[0]["replay_lag_seconds"], json!(0.5));
        assert!(
            connected.origin.contains("rds://us-east-1/db/ledger-2"),
            "{}",
            connected.origin
        );
        assert!(
            connected.origin.contains("connection refused"),
            "{}",
            connected.origin
        );
        // The writer's own view is kept as a disagreement.
        assert_eq!(connected.disagreements[0].value[0]["name"], "walreceiver");
        let lag = &t.facts["replicas.max_replay_lag_seconds"];
        assert!(lag.value().is_none());
        assert!(
            reason(lag).contains("reader ledger-3") && reason(lag).contains("connection refused"),
            "{lag:?}"
        );
        // Aurora: the API's count of readers, not the writer's WAL senders.
        let count = &t.facts["replicas.count"];
        assert_eq!(
            (count.source.as_str(), count.value()),
            ("rds", Some(&json!(2)))
        );
        assert_eq!(count.disagreements[0].value, json!(1));
        // Every reader is in the evidence, reached or not.
        let record = t
            .evidence
            .iter()
            .find(|e| e.name == "connect.readers")
            .unwrap();
        assert_eq!(record.response[0]["reached"], true);
        assert_eq!(record.response[1]["not_read"], "connection refused");
    }

    #[test]
    fn every_reader_read_gives_the_largest_lag() {
        let (mut t, api_count) = cluster("aurora-postgresql");
        let reads = [
            read("ledger-2", Ok(standby(0.5))),
            read("ledger-3", Ok(standby(7.0))),
        ];
        complete(&mut t, Some(&api_count), &reads);
        assert_eq!(
            t.facts["replicas.max_replay_lag_seconds"].value(),
            Some(&json!(7.0))
        );
        assert_eq!(
            t.facts["replicas.connected"]
                .value()
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn a_multi_az_writer_that_sees_every_reader_keeps_its_own_view() {
        let (mut t, api_count) = cluster("postgres");
        let before = t.facts.clone();
        complete(
            &mut t,
            Some(&api_count),
            &[read("ledger-2", Ok(standby(0.5)))],
        );
        assert_eq!(t.facts, before);
        assert!(t.evidence.iter().any(|e| e.name == "connect.readers"));
    }

    #[test]
    fn an_aurora_reader_without_a_channel_or_receiver_is_not_read_not_broken() {
        let (mut t, api_count) = cluster("aurora-mysql");
        t.engine = "mysql".into();
        let mut sink = FactSink::new("mysql");
        sink.known("upstream.channels", "SHOW REPLICA STATUS", json!([]));
        let aurora_reader = target(
            "mysql://ledger-2.x:3306/",
            "mysql",
            Role::Primary,
            sink.finish(),
        );
        complete(
            &mut t,
            Some(&api_count),
            &[read("ledger-2", Ok(aurora_reader))],
        );
        let connected = &t.facts["replicas.connected"];
        assert!(connected.value().is_none());
        assert!(
            reason(connected).contains("replica_host_status"),
            "{connected:?}"
        );
        assert!(t.facts["replicas.max_replay_lag_seconds"].value().is_none());
        // A PostgreSQL reader not in recovery is not taken for a standby.
        let (mut t, api_count) = cluster("postgres");
        t.facts.remove("replicas.connected");
        let primary = target(
            "postgres://x:5432/postgres",
            "postgres",
            Role::Primary,
            Facts::new(),
        );
        complete(&mut t, Some(&api_count), &[read("ledger-2", Ok(primary))]);
        assert!(reason(&t.facts["replicas.connected"]).contains("not in recovery"));
        // Not Aurora: the writer's count stands.
        assert_eq!(t.facts["replicas.count"].source, "postgres");
    }
}
