//! Replicas are servers that registered with this source, not every client
//! that streams its binary log.
//!
//! A replica's I/O thread opens a `Binlog Dump` thread on the source, and so
//! does any binary-log client: Debezium, AWS DMS, Maxwell, `mysqlbinlog
//! --read-from-remote-server`. Counting dump threads counts those CDC clients
//! as replicas. A replica also registers itself (`COM_REGISTER_SLAVE`), which
//! `SHOW REPLICAS` (MySQL 8.0.22+), `SHOW REPLICA HOSTS` (MariaDB 10.5.1+) or
//! `SHOW SLAVE HOSTS` list; a streaming replica is both, so `replicas.count`
//! is the smaller of the two numbers. A CDC client that registers as well
//! still counts (the protocol cannot tell it from a server); one that does not
//! is left out. MariaDB before 10.5.1 lists only replicas started with
//! `report_host` (the count is then low: a `fail`, never a false `pass`).

use super::facts::{Answer, Identity, Readings, text};
use super::queries::{Flavour, ServerVersion};
use crate::facts::FactSink;
use serde_json::{Value as Json, json};

/// The statement listing registered replicas on this version.
pub fn statement(version: &ServerVersion) -> &'static str {
    match version.flavour {
        Flavour::Mariadb if version.at_least(10, 5, 1) => "SHOW REPLICA HOSTS",
        Flavour::Mysql if version.at_least(8, 0, 22) => "SHOW REPLICAS",
        _ => "SHOW SLAVE HOSTS",
    }
}

/// The privilege the statement needs.
fn privilege(version: &ServerVersion) -> &'static str {
    match version.flavour {
        Flavour::Mariadb if version.at_least(10, 5, 2) => "REPLICATION MASTER ADMIN",
        _ => "REPLICATION SLAVE",
    }
}

/// Replaces `replicas.count` (recorded from the dump threads) by the number of
/// dump threads that are registered replicas, when there are dump threads.
pub fn facts(sink: &mut FactSink<'_>, identity: &Identity, readings: &Readings) {
    let Some(Answer::Rows(dumps)) = &readings.binlog_dumps else {
        return;
    };
    if dumps.is_empty() {
        return; // no client streams the binary log: 0 either way
    }
    let statement = statement(&identity.version);
    match &readings.replica_hosts {
        Some(Answer::Rows(hosts)) => {
            let rows: Vec<Json> = hosts
                .iter()
                .map(|row| {
                    json!({
                        "server_id": text(row, "Server_id"),
                        "host": text(row, "Host"),
                        "port": text(row, "Port"),
                    })
                })
                .collect();
            let count = dumps.len().min(hosts.len()) as i64;
            sink.known(
                "replicas.count",
                format!(
                    "the smaller of {} Binlog Dump thread(s) (information_schema.PROCESSLIST) and {} registered replica(s) ({statement}): other binary-log clients (Debezium, DMS) are not replicas",
                    dumps.len(),
                    hosts.len()
                ),
                count,
            );
            sink.known("mysql.registered_replicas", statement, rows);
        }
        other => {
            let (reason, fix) = match other {
                Some(Answer::Failed { error, denied }) => (
                    format!(
                        "{statement} failed ({error}): {} client(s) stream the binary log, and replicas cannot be told from CDC clients (Debezium, DMS) without the list of registered replicas",
                        dumps.len()
                    ),
                    denied.then(|| identity_grant(identity)),
                ),
                _ => (
                    format!("{statement} was not read: replicas cannot be told from CDC clients"),
                    None,
                ),
            };
            sink.unknown("replicas.count", reason.clone(), fix.as_deref());
            sink.unknown("mysql.registered_replicas", reason, fix.as_deref());
        }
    }
}

fn identity_grant(identity: &Identity) -> String {
    format!(
        "GRANT {} ON *.* TO {};",
        privilege(&identity.version),
        identity.account
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FactState;

    fn row(pairs: &[(&str, &str)]) -> super::super::facts::Row {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Json::String(v.to_string())))
            .collect()
    }

    fn identity() -> Identity {
        Identity::from_row(&row(&[
            ("version", "10.11.6-MariaDB"),
            ("version_comment", "MariaDB Server"),
            ("account", "auditor@%"),
            ("privileges", "PROCESS"),
        ]))
        .expect("identity")
    }

    fn count(readings: &Readings) -> FactState {
        let mut sink = FactSink::new("mysql");
        sink.known("replicas.count", "dump threads", 2);
        facts(&mut sink, &identity(), readings);
        sink.finish()["replicas.count"].state.clone()
    }

    #[test]
    fn a_cdc_client_streaming_the_binlog_is_not_a_replica() {
        let dump = row(&[("USER", "repl"), ("COMMAND", "Binlog Dump")]);
        let readings = Readings {
            binlog_dumps: Some(Answer::Rows(vec![dump.clone(), dump])),
            replica_hosts: Some(Answer::Rows(vec![row(&[
                ("Server_id", "2"),
                ("Host", "10.0.0.2"),
                ("Port", "3306"),
            ])])),
            ..Readings::default()
        };
        assert!(matches!(count(&readings), FactState::Known { value } if value == json!(1)));
        // Registration unreadable: unknown with the grant, never the dump count.
        let denied = Readings {
            replica_hosts: Some(Answer::Failed {
                error: "denied".into(),
                denied: true,
            }),
            ..readings
        };
        match count(&denied) {
            FactState::Unknown { resolve, .. } => {
                assert!(resolve.unwrap().contains("REPLICATION MASTER ADMIN"))
            }
            other => panic!("{other:?}"),
        }
    }
}
