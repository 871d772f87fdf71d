//! Replication channels, as replicas and sources report them.

use super::*;

/// One replication channel as a replica reports it, whatever the column names.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub name: String,
    pub source: String,
    pub io_running: String,
    pub sql_running: String,
    pub seconds_behind: Option<f64>,
    pub last_io_error: String,
    pub last_sql_error: String,
    pub gtid: bool,
    pub ssl: bool,
}

/// Reads a replica status row: MySQL ≥ 8.0.22 `Replica_IO_Running`, `Source_Host`,
/// `Seconds_Behind_Source`, `Auto_Position`, `Channel_Name`; MySQL before and MariaDB
/// `Slave_IO_Running`, `Master_Host`, `Seconds_Behind_Master`; MariaDB `Using_Gtid`,
/// `Connection_name`.
pub fn channel(row: &Row) -> Channel {
    let host = first_text(row, &["Source_Host", "Master_Host"]).unwrap_or_default();
    let port = first_text(row, &["Source_Port", "Master_Port"]).unwrap_or_default();
    let gtid = match (text(row, "Auto_Position"), text(row, "Using_Gtid")) {
        (Some(auto), _) => auto == "1",
        (_, Some(using)) => !using.eq_ignore_ascii_case("No") && !using.is_empty(),
        _ => false,
    };
    Channel {
        name: first_text(row, &["Channel_Name", "Connection_name"])
            .unwrap_or_default()
            .to_string(),
        source: if port.is_empty() {
            host.to_string()
        } else {
            format!("{host}:{port}")
        },
        io_running: first_text(row, &["Replica_IO_Running", "Slave_IO_Running"])
            .unwrap_or_default()
            .to_string(),
        sql_running: first_text(row, &["Replica_SQL_Running", "Slave_SQL_Running"])
            .unwrap_or_default()
            .to_string(),
        seconds_behind: first_text(row, &["Seconds_Behind_Source", "Seconds_Behind_Master"])
            .and_then(|s| s.parse::<f64>().ok()),
        last_io_error: text(row, "Last_IO_Error").unwrap_or_default().to_string(),
        last_sql_error: text(row, "Last_SQL_Error").unwrap_or_default().to_string(),
        gtid,
        ssl: first_text(row, &["Source_SSL_Allowed", "Master_SSL_Allowed"])
            .is_some_and(|s| s.eq_ignore_ascii_case("Yes")),
    }
}

pub(super) const LAG_ON_SOURCE: &str = "a MySQL/MariaDB source does not know its replicas' lag; each replica reports its own (Seconds_Behind_Master / Seconds_Behind_Source)";
pub(super) const AUDIT_REPLICAS: &str = "audit each replica too (mysql://REPLICA:3306/): its replicas.replica_delay check judges the lag there";

pub(super) fn replica_facts(
    sink: &mut FactSink<'_>,
    identity: &Identity,
    plan: &Plan,
    readings: &Readings,
    role: Role,
    status: Option<&BTreeMap<String, String>>,
) {
    let group_member = readings
        .replica_status
        .as_ref()
        .and_then(Answer::rows)
        .is_some_and(|rows| rows.iter().any(is_group_replication_channel));
    // This server as a source: one Binlog Dump thread per connected replica.
    match &readings.binlog_dumps {
        Some(Answer::Rows(rows)) => {
            if group_member && rows.is_empty() {
                sink.unknown(
                    "replicas.count",
                    "this server is a Group Replication member (group_replication_* channels): its group peers do not stream through Binlog Dump threads, so the processlist cannot count them",
                    Some("SELECT MEMBER_HOST, MEMBER_STATE, MEMBER_ROLE FROM performance_schema.replication_group_members;"),
                );
            } else {
                sink.known(
                    "replicas.count",
                    "information_schema.PROCESSLIST: COMMAND LIKE 'Binlog Dump%'",
                    rows.len() as i64,
                );
            }
            let connections: Vec<Json> = rows
                .iter()
                .map(|r| {
                    json!({
                        "user": text(r, "USER"), "host": text(r, "HOST"),
                        "seconds": text(r, "TIME").and_then(|t| t.parse::<i64>().ok()),
                        "state": text(r, "STATE"),
                    })
                })
                .collect();
            sink.known(
                "mysql.replica_connections",
                "information_schema.PROCESSLIST (Binlog Dump threads)",
                connections,
            );
        }
        other => {
            let slaves_connected = status
                .and_then(|s| s.get("slaves_connected"))
                .and_then(|v| v.parse::<i64>().ok());
            let (reason, fix) = match other {
                Some(Answer::Failed { error, .. }) => {
                    (format!("the processlist could not be read: {error}"), None)
                }
                _ => (
                    format!(
                        "account {} lacks PROCESS, so the processlist shows only its own session",
                        identity.account
                    ),
                    Some(identity.grant("PROCESS")),
                ),
            };
            match (identity.version.flavour, slaves_connected) {
                (Flavour::Mariadb, Some(count)) => sink.known(
                    "replicas.count",
                    "SHOW GLOBAL STATUS: Slaves_connected (the processlist needs PROCESS)",
                    count,
                ),
                _ => sink.unknown("replicas.count", reason.clone(), fix.as_deref()),
            }
            sink.unknown("mysql.replica_connections", reason, fix.as_deref());
        }
    }
    sink.unknown("replicas.connected", LAG_ON_SOURCE, Some(AUDIT_REPLICAS));
    sink.unknown(
        "replicas.max_replay_lag_seconds",
        LAG_ON_SOURCE,
        Some(AUDIT_REPLICAS),
    );

    // This server as a replica.
    let replica_rows = match &readings.replica_status {
        Some(Answer::Rows(rows)) => Some(Answer::Rows(
            async_channels(rows).into_iter().cloned().collect(),
        )),
        other => other.clone(),
    };
    match &replica_rows {
        Some(Answer::Rows(rows)) if !rows.is_empty() => {
            let channels: Vec<Channel> = rows.iter().map(channel).collect();
            let origin = plan.replica_status;
            let all = |f: &dyn Fn(&Channel) -> bool| channels.iter().all(f);
            let io = all(&|c| c.io_running.eq_ignore_ascii_case("Yes"));
            let sql = all(&|c| c.sql_running.eq_ignore_ascii_case("Yes"));
            let receiver = if io {
                "streaming".to_string()
            } else {
                channels
                    .iter()
                    .map(|c| c.io_running.to_ascii_lowercase())
                    .find(|s| s != "yes")
                    .map(|s| if s == "no" { String::new() } else { s })
                    .unwrap_or_default()
            };
            sink.known(
                "upstream.receiver_status",
                format!("{origin}: IO thread running"),
                receiver,
            );
            sink.known(
                "upstream.io_running",
                format!("{origin}: Slave_IO_Running / Replica_IO_Running"),
                io,
            );
            sink.known(
                "upstream.sql_running",
                format!("{origin}: Slave_SQL_Running / Replica_SQL_Running"),
                sql,
            );
            // Seconds_Behind_* is NULL when the SQL thread is not running, or the IO
            // thread is not running and the relay log is used up: the delay is then
            // not measurable (it is not PostgreSQL's "nothing replayed yet").
            let stopped: Vec<String> = channels
                .iter()
                .filter(|c| c.seconds_behind.is_none())
                .map(|c| {
                    format!(
                        "channel {} (IO thread {}, SQL thread {})",
                        if c.name.is_empty() {
                            "(default)"
                        } else {
                            c.name.as_str()
                        },
                        c.io_running,
                        c.sql_running
                    )
                })
                .collect();
            if stopped.is_empty() {
                let delay = channels
                    .iter()
                    .filter_map(|c| c.seconds_behind)
                    .fold(0.0_f64, f64::max);
                sink.known(
                    "upstream.replay_delay_seconds",
                    format!("{origin}: largest Seconds_Behind_Master / Seconds_Behind_Source"),
                    delay,
                );
            } else {
                sink.unknown(
                    "upstream.replay_delay_seconds",
                    format!(
                        "{origin}: Seconds_Behind is NULL on {}: a replication thread is stopped, so the delay cannot be measured",
                        stopped.join(", ")
                    ),
                    Some("START REPLICA;  (MariaDB and MySQL before 8.0.22: START SLAVE;) after fixing Last_IO_Error / Last_SQL_Error"),
                );
            }
            let rows: Vec<Json> = channels
                .iter()
                .map(|c| {
                    json!({
                        "name": c.name, "source": c.source, "io_running": c.io_running,
                        "sql_running": c.sql_running, "seconds_behind": c.seconds_behind,
                        "last_io_error": c.last_io_error, "last_sql_error": c.last_sql_error,
                        "gtid": c.gtid, "ssl": c.ssl,
                    })
                })
                .collect();
            sink.known("upstream.channels", origin, rows);
        }
        Some(Answer::Rows(_)) => {}
        other => {
            let (reason, fix) = match other {
                Some(Answer::Failed {
                    error,
                    denied: true,
                }) => (
                    format!("{} was denied: {error}", plan.replica_status),
                    Some(identity.grant(plan.replica_status_privilege)),
                ),
                Some(Answer::Failed { error, .. }) => {
                    (format!("{} failed: {error}", plan.replica_status), None)
                }
                _ => (format!("{} was not run", plan.replica_status), None),
            };
            let role_note = if role == Role::Replica {
                ""
            } else {
                " (so whether this server is a replica is not known either)"
            };
            for path in [
                "upstream.receiver_status",
                "upstream.io_running",
                "upstream.sql_running",
                "upstream.replay_delay_seconds",
                "upstream.channels",
            ] {
                sink.unknown(path, format!("{reason}{role_note}"), fix.as_deref());
            }
        }
    }
}
