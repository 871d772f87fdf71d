//! Joining what one run sees: a MySQL/MariaDB source cannot see its replicas'
//! delay, but a replica audited in the same run names its source
//! (`Source_Host`:`Source_Port` in `upstream.channels`). When that address is
//! one another target of the run was reached at (a `mysql://` target, or a
//! `--connect` session), the source's `replicas.connected` and
//! `replicas.max_replay_lag_seconds` are completed from its replicas' own
//! readings, and the fact's origin names the replica target that supplied them.
//! The same for a PostgreSQL primary whose role lacks `pg_read_all_stats`
//! (pg_stat_replication hides every standby's state and lag from it) and its
//! standbys, which name it in `upstream.source` ([`standbys`]).
//! Pure: runs over the collected targets after every source is done.

use crate::facts::Fact;
use crate::facts::snapshot::{Collected, TargetFacts};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// The `host:port` addresses a target was reached at, lower-cased.
fn addresses(target: &TargetFacts) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |text: &str| {
        let text = text.trim_end_matches('/').to_ascii_lowercase();
        if !text.is_empty() && !out.contains(&text) {
            out.push(text);
        }
    };
    let host_port = |id: &str| {
        ["mysql://", "postgres://"]
            .iter()
            .find_map(|scheme| id.strip_prefix(scheme))
            .map(|rest| rest.split('/').next().unwrap_or_default().to_string())
    };
    if let Some(address) = host_port(&target.id) {
        push(&address);
    }
    for source in &target.sources {
        if let Some(address) = host_port(&source.id) {
            push(&address);
        }
    }
    for evidence in target.evidence.iter().filter(|e| e.name == "connect") {
        if let Some(to) = evidence.response["connected_to"].as_str() {
            push(to);
        }
    }
    out
}

fn is_mysql(target: &TargetFacts) -> bool {
    matches!(target.engine.as_str(), "mysql" | "mariadb")
}

/// Completes sources' replica facts from the replicas of the same run:
/// MySQL/MariaDB here, PostgreSQL in [`standbys`].
pub fn replicas(collected: &mut [Collected]) {
    mysql_replicas(collected);
    standbys(collected);
}

fn mysql_replicas(collected: &mut [Collected]) {
    let mut by_address: BTreeMap<String, usize> = BTreeMap::new();
    for (index, outcome) in collected.iter().enumerate() {
        if let Ok(target) = outcome
            && is_mysql(target)
        {
            for address in addresses(target) {
                by_address.entry(address).or_insert(index);
            }
        }
    }
    // primary index → (replica id, channel row)
    let mut joined: BTreeMap<usize, Vec<(String, Json)>> = BTreeMap::new();
    for (index, outcome) in collected.iter().enumerate() {
        let Ok(replica) = outcome else { continue };
        if !is_mysql(replica) {
            continue;
        }
        let Some(Json::Array(channels)) =
            replica.facts.get("upstream.channels").and_then(Fact::value)
        else {
            continue;
        };
        for channel in channels {
            let source = channel["source"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_lowercase();
            match by_address.get(&source) {
                Some(&primary) if primary != index => joined
                    .entry(primary)
                    .or_default()
                    .push((replica.id.clone(), channel.clone())),
                _ => {}
            }
        }
    }
    for (primary, rows) in joined {
        let Some(Ok(target)) = collected.get_mut(primary) else {
            continue;
        };
        complete(target, &rows);
    }
}

/// Sets the primary's replica facts that are unknown from the joined channels.
fn complete(target: &mut TargetFacts, rows: &[(String, Json)]) {
    let unknown = |path: &str| {
        target
            .facts
            .get(path)
            .is_none_or(|fact| fact.value().is_none())
    };
    let (connected_unknown, lag_unknown) = (
        unknown("replicas.connected"),
        unknown("replicas.max_replay_lag_seconds"),
    );
    if !connected_unknown && !lag_unknown {
        return;
    }
    let source = if target.engine == "mariadb" {
        "mysql"
    } else {
        target.engine.as_str()
    }
    .to_string();
    let names: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    let origin = format!(
        "upstream.channels of {} (audited in the same run; Seconds_Behind_Master / Seconds_Behind_Source)",
        names.join(", ")
    );
    let connected: Vec<Json> = rows
        .iter()
        .map(|(id, channel)| {
            let running = channel["io_running"].as_str() == Some("Yes")
                && channel["sql_running"].as_str() == Some("Yes");
            json!({
                "name": id,
                "client_addr": Json::Null,
                "state": if running { "streaming" } else { "stopped" },
                "sync_state": "async",
                "replay_lag_bytes": Json::Null,
                "replay_lag_seconds": channel["seconds_behind"].clone(),
            })
        })
        .collect();
    let max_lag = rows
        .iter()
        .filter_map(|(_, channel)| channel["seconds_behind"].as_f64())
        .fold(None, |max: Option<f64>, lag| {
            Some(max.map_or(lag, |m| m.max(lag)))
        });
    if connected_unknown {
        target.facts.insert(
            "replicas.connected".into(),
            Fact::known(&source, origin.clone(), connected),
        );
    }
    if lag_unknown {
        target.facts.insert(
            "replicas.max_replay_lag_seconds".into(),
            Fact::known(&source, origin, max_lag.map_or(Json::Null, Json::from)),
        );
    }
}

fn is_postgres(target: &TargetFacts) -> bool {
    target.engine == "postgres"
}

/// A fact's value when known.
fn value<'a>(target: &'a TargetFacts, path: &str) -> Option<&'a Json> {
    target.facts.get(path).and_then(Fact::value)
}

/// Completes a PostgreSQL primary's `replicas.*` when pg_stat_replication hid
/// them (its role lacks pg_read_all_stats) from the standbys of the same run
/// that name it in `upstream.source`: each standby's own WAL receiver status
/// and replay delay. Only when every standby the primary counts (one
/// pg_stat_replication row each, visible to any role) is one of them: a
/// standby the run did not audit would otherwise go unseen.
pub fn standbys(collected: &mut [Collected]) {
    let mut by_address: BTreeMap<String, usize> = BTreeMap::new();
    for (index, outcome) in collected.iter().enumerate() {
        if let Ok(target) = outcome
            && is_postgres(target)
        {
            for address in addresses(target) {
                by_address.entry(address).or_insert(index);
            }
        }
    }
    let mut joined: BTreeMap<usize, Vec<(String, Json, Json)>> = BTreeMap::new();
    for (index, outcome) in collected.iter().enumerate() {
        let Ok(standby) = outcome else { continue };
        if !is_postgres(standby) {
            continue;
        }
        let Some(source) = value(standby, "upstream.source").and_then(Json::as_str) else {
            continue;
        };
        match by_address.get(&source.to_ascii_lowercase()) {
            Some(&primary) if primary != index => joined.entry(primary).or_default().push((
                standby.id.clone(),
                value(standby, "upstream.receiver_status")
                    .cloned()
                    .unwrap_or(Json::Null),
                value(standby, "upstream.replay_delay_seconds")
                    .cloned()
                    .unwrap_or(Json::Null),
            )),
            _ => {}
        }
    }
    for (primary, rows) in joined {
        let Some(Ok(target)) = collected.get_mut(primary) else {
            continue;
        };
        complete_postgres(target, &rows);
    }
}

/// How many physical standbys the primary's pg_stat_replication counts, from
/// its raw evidence (rows are visible to every role, their columns are not).
fn counted_standbys(target: &TargetFacts) -> Option<usize> {
    target
        .evidence
        .iter()
        .filter(|e| e.source == "postgres" && e.name == "catalog")
        .find_map(|e| e.response.get("replication").and_then(Json::as_array))
        .map(|rows| {
            rows.iter()
                .filter(|r| !r["logical"].as_bool().unwrap_or(false))
                .count()
        })
}

fn complete_postgres(target: &mut TargetFacts, rows: &[(String, Json, Json)]) {
    let hidden = |target: &TargetFacts, path: &str| {
        target
            .facts
            .get(path)
            .is_some_and(|fact| fact.value().is_none())
    };
    if !hidden(target, "replicas.connected") || counted_standbys(target) != Some(rows.len()) {
        return;
    }
    let names: Vec<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
    let origin = format!(
        "upstream.source, upstream.receiver_status and upstream.replay_delay_seconds of {} (audited in the same run; pg_stat_replication hides them from this role)",
        names.join(", ")
    );
    let connected: Vec<Json> = rows
        .iter()
        .map(|(id, status, delay)| {
            json!({
                "name": id,
                "client_addr": Json::Null,
                "state": status,
                "sync_state": Json::Null,
                "replay_lag_bytes": Json::Null,
                "replay_lag_seconds": delay,
            })
        })
        .collect();
    let streaming = rows
        .iter()
        .filter(|(_, status, _)| status.as_str() == Some("streaming"))
        .count();
    let max_lag = rows
        .iter()
        .filter_map(|(_, _, delay)| delay.as_f64())
        .fold(None, |max: Option<f64>, lag| {
            Some(max.map_or(lag, |m| m.max(lag)))
        });
    let source = "postgres".to_string();
    target.facts.insert(
        "replicas.connected".into(),
        Fact::known(&source, origin.clone(), connected),
    );
    if hidden(target, "replicas.count") {
        target.facts.insert(
            "replicas.count".into(),
            Fact::known(&source, origin.clone(), streaming as i64),
        );
    }
    if hidden(target, "replicas.max_replay_lag_seconds") {
        target.facts.insert(
            "replicas.max_replay_lag_seconds".into(),
            Fact::known(&source, origin, max_lag.map_or(Json::Null, Json::from)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FactSink;
    use crate::target::{Kind, Role};

    fn target(id: &str, facts: crate::facts::Facts) -> TargetFacts {
        TargetFacts {
            facts,
            ..TargetFacts::bare(id, Kind::Mysql, Role::Primary, "mariadb", "")
        }
    }

    #[test]
    fn a_replica_of_the_run_completes_its_sources_lag() {
        let mut primary = FactSink::new("mysql");
        primary.unknown("replicas.connected", "a source does not know", None);
        let mut replica = FactSink::new("mysql");
        replica.known(
            "upstream.channels",
            "SHOW REPLICA STATUS",
            json!([{"name": "", "source": "10.0.0.5:3306", "io_running": "Yes", "sql_running": "Yes", "seconds_behind": 4.0}]),
        );
        let mut collected = vec![
            Ok(target("mysql://10.0.0.5:3306/", primary.finish())),
            Ok(target("mysql://10.0.0.6:3306/", replica.finish())),
        ];
        replicas(&mut collected);
        let primary = collected[0].as_ref().unwrap();
        let connected = &primary.facts["replicas.connected"];
        assert_eq!(
            connected.value().unwrap()[0]["replay_lag_seconds"],
            json!(4.0)
        );
        assert!(
            connected.origin.contains("mysql://10.0.0.6:3306/"),
            "{}",
            connected.origin
        );
        assert_eq!(
            primary.facts["replicas.max_replay_lag_seconds"].value(),
            Some(&json!(4.0))
        );
        // The replica itself is untouched.
        assert!(
            !collected[1]
                .as_ref()
                .unwrap()
                .facts
                .contains_key("replicas.connected")
        );
    }

    #[test]
    fn a_standby_of_the_run_completes_its_primarys_hidden_replicas_only_when_all_are_seen() {
        let hidden = |standbys: usize| {
            let mut sink = FactSink::new("postgres");
            sink.unknown("replicas.connected", "hidden", None);
            sink.unknown("replicas.count", "hidden", None);
            let mut t = target("postgres://10.0.0.5:5432/postgres", sink.finish());
            t.engine = "postgres".into();
            t.evidence.push(crate::facts::RawEvidence {
                source: "postgres".into(),
                name: "catalog".into(),
                request: String::new(),
                response: json!({"replication": vec![json!({"logical": false}); standbys]}),
            });
            t
        };
        let standby = {
            let mut sink = FactSink::new("postgres");
            sink.known("upstream.source", "w", "10.0.0.5:5432");
            sink.known("upstream.receiver_status", "w", "streaming");
            sink.known("upstream.replay_delay_seconds", "w", 0.5);
            let mut t = target("postgres://10.0.0.6:5432/postgres", sink.finish());
            t.engine = "postgres".into();
            t
        };
        let mut collected = vec![Ok(hidden(1)), Ok(standby.clone())];
        replicas(&mut collected);
        let primary = collected[0].as_ref().unwrap();
        assert_eq!(primary.facts["replicas.count"].value(), Some(&json!(1)));
        let rows = primary.facts["replicas.connected"].value().unwrap();
        assert_eq!(rows[0]["name"], "postgres://10.0.0.6:5432/postgres");
        assert_eq!(rows[0]["replay_lag_seconds"], json!(0.5));
        // Two standbys counted, one seen: the other could be lagging; no guess.
        let mut collected = vec![Ok(hidden(2)), Ok(standby)];
        replicas(&mut collected);
        let primary = collected[0].as_ref().unwrap();
        assert!(primary.facts["replicas.connected"].value().is_none());
    }
}
