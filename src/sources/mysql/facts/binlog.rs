//! Binary log retention and the binary log file facts (RDS / Aurora included).

use super::*;

/// Binary log retention in seconds (0 = never purged automatically), and where it
/// came from: `binlog_expire_logs_seconds` when set (MySQL 8.0+, MariaDB 10.6.1+),
/// else `expire_logs_days` (removed in MySQL 8.4; fractional on MariaDB). MySQL
/// 8.0.29+ purges by neither when `binlog_expire_logs_auto_purge` is OFF.
pub fn binlog_retention(vars: &BTreeMap<String, String>) -> Option<(i64, &'static str)> {
    if vars
        .get("binlog_expire_logs_auto_purge")
        .and_then(|v| flag(v))
        == Some(false)
    {
        return Some((
            0,
            "binlog_expire_logs_auto_purge = OFF (never purged automatically)",
        ));
    }
    let seconds = vars
        .get("binlog_expire_logs_seconds")
        .and_then(|v| v.trim().parse::<i64>().ok());
    let days = vars
        .get("expire_logs_days")
        .and_then(|v| v.trim().parse::<f64>().ok());
    match (seconds, days) {
        (Some(s), _) if s > 0 => Some((s, "binlog_expire_logs_seconds")),
        (_, Some(d)) if d > 0.0 => Some(((d * 86400.0).round() as i64, "expire_logs_days × 86400")),
        (Some(_), _) | (_, Some(_)) => Some((
            0,
            "binlog_expire_logs_seconds / expire_logs_days = 0 (never purged)",
        )),
        (None, None) => None,
    }
}

/// Whether the server is RDS or Aurora (`basedir` under `/rdsdbbin/`).
pub fn on_rds(vars: &BTreeMap<String, String>) -> bool {
    vars.get("basedir")
        .is_some_and(|dir| dir.starts_with("/rdsdbbin/"))
}

/// RDS purges binary logs by `binlog retention hours`; NULL (the default)
/// keeps them only until RDS has copied them for its own backups: minutes.
pub(super) const RDS_UNRETAINED_SECONDS: i64 = 300;

/// Binary log retention on RDS / Aurora, from `mysql.rds_configuration`.
pub(super) fn rds_binlog_retention(
    answer: Option<&Answer>,
) -> Result<(i64, String), (String, &'static str)> {
    const FIX: &str = "CALL mysql.rds_show_configuration; (or GRANT SELECT ON mysql.rds_configuration to the audit account)";
    let rows = match answer {
        Some(Answer::Rows(rows)) => rows,
        Some(Answer::Failed { error, .. }) => {
            return Err((
                format!(
                    "on RDS binary log retention is mysql.rds_configuration 'binlog retention hours', which could not be read ({error})"
                ),
                FIX,
            ));
        }
        None => return Err(("mysql.rds_configuration was not read".into(), FIX)),
    };
    let value = rows.first().and_then(|row| row.get("value"));
    match value.and_then(|v| match v {
        Json::String(text) => text.trim().parse::<f64>().ok(),
        Json::Number(n) => n.as_f64(),
        _ => None,
    }) {
        Some(hours) => Ok((
            (hours * 3600.0).round() as i64,
            format!("mysql.rds_configuration 'binlog retention hours' = {hours} (RDS purges by it, not by binlog_expire_logs_seconds)"),
        )),
        None => Ok((
            RDS_UNRETAINED_SECONDS,
            "mysql.rds_configuration 'binlog retention hours' is NULL (the default): RDS purges binary logs as soon as its own backups have them, within minutes".into(),
        )),
    }
}

pub(super) fn binlog_facts(
    sink: &mut FactSink<'_>,
    identity: &Identity,
    plan: &Plan,
    vars: Option<&BTreeMap<String, String>>,
    vars_error: &str,
    binary_logs: Option<&Answer>,
    rds_retention: Option<&Answer>,
) {
    let Some(vars) = vars else {
        for path in [
            "binlog.enabled",
            "binlog.retention_seconds",
            "mysql.gtid_enabled",
            "mysql.binlog.file_count",
            "mysql.binlog.total_bytes",
        ] {
            sink.unknown(path, vars_error, None);
        }
        return;
    };
    let log_bin = vars.get("log_bin").and_then(|v| flag(v));
    sink.maybe(
        "binlog.enabled",
        "SHOW GLOBAL VARIABLES: log_bin",
        log_bin,
        "log_bin was not reported",
        None,
    );
    let rds = on_rds(vars).then(|| rds_binlog_retention(rds_retention));
    match (rds, binlog_retention(vars)) {
        (Some(Ok((seconds, origin))), _) => sink.known("binlog.retention_seconds", origin, seconds),
        (Some(Err((reason, fix))), _) => {
            sink.unknown("binlog.retention_seconds", reason, Some(fix))
        }
        (None, Some((seconds, origin))) => sink.known("binlog.retention_seconds", origin, seconds),
        (None, None) => sink.unknown(
            "binlog.retention_seconds",
            "neither binlog_expire_logs_seconds nor expire_logs_days was reported",
            None,
        ),
    }
    match identity.version.flavour {
        Flavour::Mariadb => sink.known(
            "mysql.gtid_enabled",
            "MariaDB gives every binlogged transaction a GTID",
            log_bin.unwrap_or(false),
        ),
        Flavour::Mysql => sink.known(
            "mysql.gtid_enabled",
            "SHOW GLOBAL VARIABLES: gtid_mode",
            vars.get("gtid_mode")
                .is_some_and(|m| m.eq_ignore_ascii_case("ON")),
        ),
    }
    match (log_bin, binary_logs) {
        (Some(false), _) => {
            sink.known("mysql.binlog.file_count", "log_bin is OFF", 0);
            sink.known("mysql.binlog.total_bytes", "log_bin is OFF", 0);
        }
        (_, Some(Answer::Rows(rows))) => {
            let total: i64 = rows
                .iter()
                .filter_map(|r| text(r, "File_size").and_then(|s| s.parse::<i64>().ok()))
                .sum();
            sink.known(
                "mysql.binlog.file_count",
                "SHOW BINARY LOGS",
                rows.len() as i64,
            );
            sink.known(
                "mysql.binlog.total_bytes",
                "SHOW BINARY LOGS: sum of File_size",
                total,
            );
        }
        (_, Some(Answer::Failed { error, denied })) => {
            let fix = denied.then(|| identity.grant(plan.binary_logs_privilege));
            for path in ["mysql.binlog.file_count", "mysql.binlog.total_bytes"] {
                sink.unknown(
                    path,
                    format!("SHOW BINARY LOGS failed: {error}"),
                    fix.as_deref(),
                );
            }
        }
        _ => {
            for path in ["mysql.binlog.file_count", "mysql.binlog.total_bytes"] {
                sink.unknown(path, "SHOW BINARY LOGS was not run", None);
            }
        }
    }
}
