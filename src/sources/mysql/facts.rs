//! Turning what MySQL / MariaDB answered into facts: pure functions, unit-tested
//! on recorded result sets (MariaDB 10.11 recorded live; MySQL 5.7 / 8.0 / 8.4
//! shaped column for column after the MySQL reference manual).

use super::queries::{self, Flavour, Plan, ServerVersion};
use crate::eol;
use crate::facts::{FactSink, Facts};
use crate::sources::migrations;
use crate::target::Role;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::time::Duration;

pub const SOURCE: &str = "mysql";

/// One result row, column name → value as the text protocol sent it (string or null).
pub type Row = serde_json::Map<String, Json>;

/// What one statement answered: its rows, or why it could not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Rows(Vec<Row>),
    Failed {
        error: String,
        /// The server refused for lack of a privilege (errors 1227, 1142, 1143, 1044, 1370).
        #[serde(default)]
        denied: bool,
    },
}

impl Answer {
    pub fn rows(&self) -> Option<&[Row]> {
        match self {
            Answer::Rows(rows) => Some(rows),
            Answer::Failed { .. } => None,
        }
    }
}

/// Everything read from one server. Field names are also the evidence names, so a
/// `--save-facts` file converts back into a recording.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Readings {
    /// The one row of `queries::IDENTITY`.
    pub identity: Row,
    pub variables: Option<Answer>,
    pub status: Option<Answer>,
    pub replica_status: Option<Answer>,
    /// Not run without PROCESS (the processlist would silently show only our session).
    #[serde(default)]
    pub binlog_dumps: Option<Answer>,
    pub audit_plugins: Option<Answer>,
    pub accounts: Option<Answer>,
    pub schemata: Option<Answer>,
    /// `queries::TEST_GRANTS` (absent from recordings made before it existed).
    #[serde(default)]
    pub test_grants: Option<Answer>,
    pub migrations: Option<Answer>,
    /// Not run when log_bin is off (the statement then fails).
    #[serde(default)]
    pub binary_logs: Option<Answer>,
    /// Not run when performance_schema is off or the version has no CONNECTION_TYPE.
    #[serde(default)]
    pub tls_threads: Option<Answer>,
    /// RDS and Aurora only: `mysql.rds_configuration` 'binlog retention hours'.
    #[serde(default)]
    pub rds_binlog_retention: Option<Answer>,
    /// Custom check queries: rows, or the error.
    #[serde(skip)]
    pub custom: Vec<(String, Result<Json, String>)>,
}

/// Who answered and with which rights, from the identity row.
#[derive(Debug, Clone)]
pub struct Identity {
    pub version: ServerVersion,
    /// `VERSION()` as reported.
    pub version_text: String,
    /// `CURRENT_USER()`, as `'user'@'host'`.
    pub account: String,
    /// Global privileges of the account (`SELECT`, `PROCESS`, …).
    pub privileges: Vec<String>,
    /// The server's own host name (`@@hostname`): accounts for it are as local as localhost.
    pub hostname: Option<String>,
}

impl Identity {
    pub fn from_row(row: &Row) -> Option<Identity> {
        let version_text = text(row, "version")?.to_string();
        let comment = text(row, "version_comment").unwrap_or_default();
        let version = ServerVersion::parse(&version_text, comment)?;
        let current = text(row, "account").unwrap_or_default();
        let account = match current.rsplit_once('@') {
            Some((user, host)) => format!("'{user}'@'{host}'"),
            None => format!("'{current}'"),
        };
        let privileges = text(row, "privileges")
            .unwrap_or_default()
            .split(',')
            .map(|p| p.trim().to_ascii_uppercase())
            .filter(|p| !p.is_empty())
            .collect();
        Some(Identity {
            version,
            version_text,
            account,
            privileges,
            hostname: text(row, "hostname").map(str::to_ascii_lowercase),
        })
    }

    pub fn has(&self, privilege: &str) -> bool {
        self.privileges.iter().any(|p| p == privilege)
    }

    /// The account sees every schema in SCHEMATA.
    pub fn sees_all_schemas(&self) -> bool {
        ["SELECT", "SHOW DATABASES", "SHOW VIEW"]
            .iter()
            .any(|p| self.has(p))
    }

    /// The account sees every table in information_schema.TABLES: SELECT on *.*; on
    /// MariaDB SHOW VIEW on *.* does too (verified on 10.11), without reading any data.
    pub fn sees_all_tables(&self) -> bool {
        self.has("SELECT") || (self.version.flavour == Flavour::Mariadb && self.has("SHOW VIEW"))
    }

    fn grant(&self, privilege: &str) -> String {
        format!("GRANT {privilege} ON *.* TO {};", self.account)
    }
}

/// A row's column as text (`None` for SQL NULL or a missing column).
pub fn text<'a>(row: &'a Row, column: &str) -> Option<&'a str> {
    row.get(column).and_then(Json::as_str)
}

/// The first of several column names a row has (MySQL 8.0.22 renamed Slave → Replica,
/// Master → Source; MariaDB kept the old names).
fn first_text<'a>(row: &'a Row, columns: &[&str]) -> Option<&'a str> {
    columns.iter().find_map(|c| text(row, c))
}

/// A MySQL boolean as SHOW VARIABLES prints it.
pub fn flag(value: &str) -> Option<bool> {
    match value.trim().to_ascii_uppercase().as_str() {
        "ON" | "YES" | "1" | "TRUE" => Some(true),
        "OFF" | "NO" | "0" | "FALSE" | "DISABLED" => Some(false),
        _ => None,
    }
}

/// `Variable_name` → `Value` of a SHOW VARIABLES / SHOW STATUS answer.
pub fn name_values(answer: Option<&Answer>) -> Option<BTreeMap<String, String>> {
    let rows = answer?.rows()?;
    Some(
        rows.iter()
            .filter_map(|row| {
                let name = first_text(row, &["Variable_name", "VARIABLE_NAME"])?;
                let value = first_text(row, &["Value", "VARIABLE_VALUE"]).unwrap_or_default();
                Some((name.to_ascii_lowercase(), value.to_string()))
            })
            .collect(),
    )
}

/// MySQL Group Replication's own channels (`group_replication_applier`,
/// `group_replication_recovery`) appear in `SHOW REPLICA STATUS` on every group
/// member, the primary included, with no receiver thread of their own
/// (`Replica_IO_Running: No`): they are not asynchronous replication from a source.
pub fn is_group_replication_channel(row: &Row) -> bool {
    first_text(row, &["Channel_Name", "Channel_name"])
        .is_some_and(|name| name.starts_with("group_replication_"))
}

/// The asynchronous replication channels of a replica status answer.
fn async_channels(rows: &[Row]) -> Vec<&Row> {
    rows.iter()
        .filter(|row| !is_group_replication_channel(row))
        .collect()
}

/// The role a server plays: a replica when any asynchronous replication channel is
/// configured (Group Replication's own channels do not count). Without the privilege
/// to see them, MariaDB's privilege-free `Slaves_running` counter still tells a
/// running replica; otherwise it is taken for a primary.
pub fn role(readings: &Readings) -> Role {
    match readings.replica_status.as_ref().and_then(Answer::rows) {
        Some(rows) if !async_channels(rows).is_empty() => Role::Replica,
        Some(_) => Role::Primary,
        None => {
            let running = name_values(readings.status.as_ref())
                .and_then(|s| s.get("slaves_running").and_then(|v| v.parse::<i64>().ok()))
                .unwrap_or(0);
            if running > 0 {
                Role::Replica
            } else {
                Role::Primary
            }
        }
    }
}

/// How a variable's value becomes a fact.
#[derive(Clone, Copy)]
enum VarType {
    Bool,
    Int,
    Number,
    /// Upper-cased text (enumerations such as ROW, FULL, DETECT_ONLY).
    Upper,
    Text,
}

/// The variables recorded as `mysql.variables.<name>` facts.
const VARIABLE_FACTS: &[(&str, VarType)] = &[
    ("log_bin", VarType::Bool),
    ("binlog_format", VarType::Upper),
    ("binlog_row_image", VarType::Upper),
    ("sync_binlog", VarType::Int),
    ("binlog_expire_logs_seconds", VarType::Int),
    ("expire_logs_days", VarType::Number),
    ("server_id", VarType::Int),
    ("gtid_mode", VarType::Upper),
    ("gtid_strict_mode", VarType::Bool),
    ("read_only", VarType::Bool),
    ("super_read_only", VarType::Bool),
    ("innodb_flush_log_at_trx_commit", VarType::Int),
    ("innodb_doublewrite", VarType::Upper),
    ("slow_query_log", VarType::Bool),
    ("long_query_time", VarType::Number),
    ("log_output", VarType::Upper),
    ("log_queries_not_using_indexes", VarType::Bool),
    ("performance_schema", VarType::Bool),
    ("require_secure_transport", VarType::Bool),
    ("have_ssl", VarType::Upper),
    ("tls_version", VarType::Text),
    ("max_connections", VarType::Int),
    ("server_audit_logging", VarType::Bool),
    ("server_audit_events", VarType::Upper),
    ("audit_log_policy", VarType::Upper),
];

fn typed(value: &str, ty: VarType) -> Option<Json> {
    Some(match ty {
        VarType::Bool => Json::Bool(flag(value)?),
        VarType::Int => Json::from(value.trim().parse::<i64>().ok()?),
        VarType::Number => Json::from(value.trim().parse::<f64>().ok()?),
        VarType::Upper => Json::from(value.trim().to_ascii_uppercase()),
        VarType::Text => Json::from(value.trim()),
    })
}

/// What an absent variable means on this server.
enum Absent {
    /// The value that applies, and why.
    Known(Json, String),
    Unknown(String),
}

fn absent(name: &str, version: &ServerVersion) -> Absent {
    let mariadb = version.flavour == Flavour::Mariadb;
    let on = version.describe();
    match name {
        "server_audit_logging" => Absent::Known(
            json!(false),
            "the server_audit plugin is not loaded, so server_audit_logging does not exist".into(),
        ),
        "server_audit_events" => Absent::Known(json!(""), "the server_audit plugin is not loaded".into()),
        "require_secure_transport" => Absent::Known(
            json!(false),
            format!("require_secure_transport does not exist on {on} (MySQL 5.7.8+, MariaDB 10.5.2+): TLS cannot be required server-wide"),
        ),
        "super_read_only" if mariadb => Absent::Unknown(
            "MariaDB has no super_read_only (read_only there spares only accounts with READ_ONLY ADMIN)".into(),
        ),
        "gtid_mode" if mariadb => {
            Absent::Unknown("MariaDB has no gtid_mode: every binlogged transaction has a GTID".into())
        }
        "gtid_strict_mode" if !mariadb => Absent::Unknown("gtid_strict_mode is MariaDB-only".into()),
        "expire_logs_days" if !mariadb && version.at_least(8, 4, 0) => {
            Absent::Unknown("expire_logs_days was removed in MySQL 8.4; binlog_expire_logs_seconds applies".into())
        }
        "binlog_expire_logs_seconds" => Absent::Unknown(format!(
            "binlog_expire_logs_seconds does not exist on {on} (MySQL 8.0+, MariaDB 10.6.1+); expire_logs_days applies"
        )),
        "have_ssl" if !mariadb && version.at_least(8, 4, 0) => Absent::Unknown(
            "have_ssl was removed in MySQL 8.4; whether TLS is enabled is in performance_schema.tls_channel_status, which sqlready does not read yet".into(),
        ),
        "audit_log_policy" => Absent::Unknown("the audit_log plugin (MySQL Enterprise / Percona) is not loaded".into()),
        "performance_schema" => Absent::Known(json!(false), format!("{on} was built without performance_schema")),
        _ => Absent::Unknown(format!("{name} does not exist on {on}")),
    }
}

/// All facts from the readings. `today` dates the end-of-life comparison.
pub fn facts(readings: &Readings, today: NaiveDate) -> Facts {
    let mut sink = FactSink::new(SOURCE);
    let Some(identity) = Identity::from_row(&readings.identity) else {
        sink.unknown(
            "version.major",
            "the server did not report a MySQL or MariaDB version",
            None,
        );
        return sink.finish();
    };
    let plan = queries::plan(&identity.version, Duration::from_secs(10));
    let vars = name_values(readings.variables.as_ref());
    let status = name_values(readings.status.as_ref());
    let vars_error = failure(readings.variables.as_ref(), "SHOW GLOBAL VARIABLES");
    let status_error = failure(readings.status.as_ref(), "SHOW GLOBAL STATUS");
    version_facts(&mut sink, &identity, today);
    variable_facts(&mut sink, &identity, vars.as_ref(), &vars_error);
    binlog_facts(
        &mut sink,
        &identity,
        &plan,
        vars.as_ref(),
        &vars_error,
        readings.binary_logs.as_ref(),
        readings.rds_binlog_retention.as_ref(),
    );
    let role = role(readings);
    replica_facts(&mut sink, &identity, &plan, readings, role, status.as_ref());
    connection_facts(
        &mut sink,
        vars.as_ref(),
        status.as_ref(),
        &vars_error,
        &status_error,
    );
    tls_facts(
        &mut sink,
        &identity,
        vars.as_ref(),
        status.as_ref(),
        readings.tls_threads.as_ref(),
    );
    account_facts(&mut sink, &identity, &plan, readings.accounts.as_ref());
    let test_databases = schema_facts(
        &mut sink,
        &identity,
        readings.schemata.as_ref(),
        readings.migrations.as_ref(),
    );
    test_grant_facts(
        &mut sink,
        &identity,
        test_databases.as_deref(),
        readings.test_grants.as_ref(),
    );
    audit_facts(&mut sink, readings.audit_plugins.as_ref());
    for (check_id, outcome) in &readings.custom {
        let path = format!("query.{check_id}.rows");
        match outcome {
            Ok(rows) => sink.known(&path, "custom check query", rows.clone()),
            Err(reason) => sink.unknown(&path, format!("the check's query failed: {reason}"), None),
        }
    }
    sink.finish()
}

/// Why a whole answer is missing, in words (for facts that depend on it).
fn failure(answer: Option<&Answer>, what: &str) -> String {
    match answer {
        Some(Answer::Failed { error, .. }) => format!("{what} failed: {error}"),
        Some(Answer::Rows(_)) => String::new(),
        None => format!("{what} was not run"),
    }
}

fn version_facts(sink: &mut FactSink<'_>, identity: &Identity, today: NaiveDate) {
    let engine = identity.version.flavour.engine();
    let Some(major) = eol::major_of(engine, &identity.version.number()) else {
        sink.unknown(
            "version.major",
            format!(
                "cannot read a version number from '{}'",
                identity.version_text
            ),
            None,
        );
        return;
    };
    eol::record_support(
        sink,
        engine,
        identity.version.flavour.name(),
        &major,
        "VERSION()",
        today,
    );
}

fn variable_facts(
    sink: &mut FactSink<'_>,
    identity: &Identity,
    vars: Option<&BTreeMap<String, String>>,
    vars_error: &str,
) {
    for (name, ty) in VARIABLE_FACTS {
        let path = format!("mysql.variables.{name}");
        let Some(vars) = vars else {
            sink.unknown(&path, vars_error, None);
            continue;
        };
        match vars.get(*name) {
            Some(raw) => match typed(raw, *ty) {
                Some(value) => sink.known(&path, format!("SHOW GLOBAL VARIABLES: {name}"), value),
                None => sink.unknown(
                    &path,
                    format!("{name} = '{raw}' is not a value sqlready understands"),
                    None,
                ),
            },
            None => match absent(name, &identity.version) {
                Absent::Known(value, why) => {
                    sink.known(&path, format!("SHOW GLOBAL VARIABLES: {why}"), value)
                }
                Absent::Unknown(why) => sink.unknown(&path, why, None),
            },
        }
    }
}

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
const RDS_UNRETAINED_SECONDS: i64 = 300;

/// Binary log retention on RDS / Aurora, from `mysql.rds_configuration`.
fn rds_binlog_retention(answer: Option<&Answer>) -> Result<(i64, String), (String, &'static str)> {
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

fn binlog_facts(
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

const LAG_ON_SOURCE: &str = "a MySQL/MariaDB source does not know its replicas' lag; each replica reports its own (Seconds_Behind_Master / Seconds_Behind_Source)";
const AUDIT_REPLICAS: &str = "audit each replica too (mysql://REPLICA:3306/): its replicas.replica_delay check judges the lag there";

fn replica_facts(
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

fn connection_facts(
    sink: &mut FactSink<'_>,
    vars: Option<&BTreeMap<String, String>>,
    status: Option<&BTreeMap<String, String>>,
    vars_error: &str,
    status_error: &str,
) {
    let int = |map: Option<&BTreeMap<String, String>>, name: &str| {
        map.and_then(|m| m.get(name))
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    let connected = int(status, "threads_connected");
    let max_used = int(status, "max_used_connections");
    let max = int(vars, "max_connections");
    sink.maybe(
        "connections.client_backends",
        "SHOW GLOBAL STATUS: Threads_connected",
        connected,
        status_error,
        None,
    );
    sink.maybe(
        "connections.max_connections",
        "SHOW GLOBAL VARIABLES: max_connections",
        max,
        vars_error,
        None,
    );
    sink.known(
        "connections.reserved",
        "MySQL/MariaDB keep their admin connection(s) on top of max_connections",
        0,
    );
    let why = if max.is_none() {
        vars_error
    } else {
        status_error
    };
    match (connected, max) {
        (Some(c), Some(m)) => sink.known(
            "connections.usage_ratio",
            "Threads_connected / max_connections",
            c as f64 / m.max(1) as f64,
        ),
        _ => sink.unknown("connections.usage_ratio", why, None),
    }
    match (max_used, max) {
        (Some(u), Some(m)) => sink.known(
            "connections.max_used_ratio",
            "Max_used_connections / max_connections (high-water mark since start)",
            u as f64 / m.max(1) as f64,
        ),
        _ => sink.unknown("connections.max_used_ratio", why, None),
    }
}

fn tls_facts(
    sink: &mut FactSink<'_>,
    identity: &Identity,
    vars: Option<&BTreeMap<String, String>>,
    status: Option<&BTreeMap<String, String>>,
    threads: Option<&Answer>,
) {
    match vars
        .and_then(|v| v.get("require_secure_transport"))
        .map(|v| flag(v))
    {
        Some(Some(required)) => sink.known(
            "network.tls_required",
            "SHOW GLOBAL VARIABLES: require_secure_transport",
            required,
        ),
        Some(None) => sink.unknown(
            "network.tls_required",
            "require_secure_transport has an unexpected value",
            None,
        ),
        None if vars.is_some() => sink.known(
            "network.tls_required",
            format!(
                "require_secure_transport does not exist on {}",
                identity.version.describe()
            ),
            false,
        ),
        None => sink.unknown("network.tls_required", "SHOW GLOBAL VARIABLES failed", None),
    }
    let threads_connected = status
        .and_then(|s| s.get("threads_connected"))
        .and_then(|v| v.parse::<i64>().ok());
    let count = |row: &Row, column: &str| {
        text(row, column)
            .and_then(|v| v.parse::<f64>().ok())
            .map(|v| v as i64)
    };
    // Without PROCESS, the threads of other accounts may be hidden: the count would
    // be the audit's own session, or nothing, and could never show clear text.
    let hidden = matches!(threads, Some(Answer::Rows(_))) && !identity.has("PROCESS");
    match threads {
        Some(Answer::Rows(_)) if hidden => {
            sink.maybe(
                "network.client_connections",
                "SHOW GLOBAL STATUS: Threads_connected",
                threads_connected,
                "SHOW GLOBAL STATUS failed",
                None,
            );
            sink.unknown(
                "network.tls_connections",
                format!(
                    "account {} lacks PROCESS, so performance_schema.threads may list only its own sessions",
                    identity.account
                ),
                Some(&identity.grant("PROCESS")),
            );
        }
        Some(Answer::Rows(rows)) if rows.first().is_some_and(|r| r.contains_key("total")) => {
            // Recorded before the per-transport form: {total, tls}.
            let origin = "performance_schema.threads (foreground, CONNECTION_TYPE)";
            sink.maybe(
                "network.client_connections",
                origin,
                count(&rows[0], "total"),
                "no count",
                None,
            );
            sink.maybe(
                "network.tls_connections",
                origin,
                count(&rows[0], "tls"),
                "no count",
                None,
            );
        }
        Some(Answer::Rows(rows)) => {
            // Sessions over the network only: local transports need no TLS.
            let origin = "performance_schema.threads: other sessions over TCP/IP or SSL/TLS";
            let sessions = |kind: &str| -> i64 {
                rows.iter()
                    .filter(|r| text(r, "CONNECTION_TYPE") == Some(kind))
                    .filter_map(|r| count(r, "sessions"))
                    .sum()
            };
            let tls = sessions("SSL/TLS");
            sink.known(
                "network.client_connections",
                origin,
                sessions("TCP/IP") + tls,
            );
            sink.known("network.tls_connections", origin, tls);
        }
        other => {
            sink.maybe(
                "network.client_connections",
                "SHOW GLOBAL STATUS: Threads_connected",
                threads_connected,
                "SHOW GLOBAL STATUS failed",
                None,
            );
            let performance_schema = vars
                .and_then(|v| v.get("performance_schema"))
                .and_then(|v| flag(v));
            let (reason, fix) = match other {
                Some(Answer::Failed {
                    error,
                    denied: true,
                }) => (
                    format!("performance_schema.threads was denied: {error}"),
                    Some(format!(
                        "GRANT SELECT ON performance_schema.threads TO {};",
                        identity.account
                    )),
                ),
                Some(Answer::Failed { error, .. }) => {
                    (format!("performance_schema.threads failed: {error}"), None)
                }
                _ if performance_schema == Some(false) => (
                    "performance_schema is OFF, so which sessions use TLS cannot be read"
                        .to_string(),
                    Some(
                        "set performance_schema = ON in the server configuration (restart)"
                            .to_string(),
                    ),
                ),
                _ => (
                    format!(
                        "{} cannot tell which sessions use TLS",
                        identity.version.describe()
                    ),
                    None,
                ),
            };
            sink.unknown("network.tls_connections", reason, fix.as_deref());
        }
    }
}

/// One account as the accounts query returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub user: String,
    pub host: String,
    pub locked: bool,
    pub is_role: bool,
    pub plugin: String,
    pub empty_authentication: bool,
    pub alternatives: bool,
    /// MariaDB `IDENTIFIED VIA … OR …`: another method is a password plugin with an
    /// empty password.
    pub empty_alternative: bool,
    /// TLS required: MariaDB global_priv ssl_type 1..3, mysql.user ssl_type ANY/X509/SPECIFIED.
    pub requires_tls: bool,
    /// Global SUPER (MariaDB: bit 15 of global_priv `access`, which ALL PRIVILEGES sets).
    pub superuser: bool,
}

impl Account {
    pub fn from_row(row: &Row) -> Account {
        let truthy = |column: &str| {
            text(row, column).is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
        };
        let ssl_type = text(row, "ssl_type")
            .unwrap_or_default()
            .trim()
            .to_ascii_uppercase();
        Account {
            user: text(row, "user").unwrap_or_default().to_string(),
            host: text(row, "host").unwrap_or_default().to_string(),
            locked: truthy("locked"),
            is_role: truthy("is_role"),
            plugin: text(row, "plugin")
                .unwrap_or("mysql_native_password")
                .to_string(),
            empty_authentication: truthy("empty_authentication"),
            alternatives: truthy("alternatives"),
            empty_alternative: truthy("empty_alternative"),
            requires_tls: !matches!(ssl_type.as_str(), "" | "0" | "NONE"),
            superuser: truthy("super"),
        }
    }

    pub fn name(&self) -> String {
        format!("'{}'@'{}'", self.user, self.host)
    }

    /// Can be used to log in at all (locked accounts and roles cannot).
    fn active(&self) -> bool {
        !self.locked && !self.is_role
    }

    /// A named account that logs in with an empty password by one of its methods.
    /// Plugins that do not take a password (unix_socket, auth_socket, ed25519 keys,
    /// PAM, GSSAPI) are exempt. A MariaDB account with several methods (`IDENTIFIED VIA
    /// unix_socket OR mysql_native_password …`) is passwordless when any password
    /// method is: the top-level one is always one of its methods.
    pub fn empty_password(&self) -> bool {
        const PASSWORD_PLUGINS: &[&str] = &[
            "mysql_native_password",
            "mysql_old_password",
            "caching_sha2_password",
            "sha256_password",
        ];
        self.active()
            && !self.user.is_empty()
            && ((PASSWORD_PLUGINS.contains(&self.plugin.as_str()) && self.empty_authentication)
                || self.empty_alternative)
    }

    pub fn anonymous(&self) -> bool {
        self.active() && self.user.is_empty()
    }

    fn loopback(&self) -> bool {
        self.host == "localhost" || self.host == "::1" || self.host.starts_with("127.")
    }

    /// May log in over TCP from another host without TLS.
    pub fn remote_without_tls(&self) -> bool {
        self.active() && !self.loopback() && !self.requires_tls
    }

    /// A superuser (or root) that may log in from another host: an attacker who
    /// guesses or steals its password owns the server from anywhere the host pattern
    /// admits. `hostname` is the server's own name (root@HOSTNAME from the installer).
    pub fn remote_superuser(&self, hostname: Option<&str>) -> bool {
        let own_name = hostname.is_some_and(|h| self.host.eq_ignore_ascii_case(h));
        self.active() && !self.loopback() && !own_name && (self.superuser || self.user == "root")
    }
}

fn account_facts(
    sink: &mut FactSink<'_>,
    identity: &Identity,
    plan: &Plan,
    answer: Option<&Answer>,
) {
    sink.known(
        "access.session_user",
        "CURRENT_USER()",
        identity.account.clone(),
    );
    sink.known(
        "access.session_superuser",
        "information_schema.USER_PRIVILEGES of CURRENT_USER(): SUPER (ALL PRIVILEGES includes it)",
        identity.has("SUPER"),
    );
    let paths = [
        "network.accounts_without_tls",
        "mysql.accounts.empty_password",
        "mysql.accounts.anonymous",
        "access.passwordless_logins",
        "access.remote_superusers",
    ];
    let rows = match answer {
        Some(Answer::Rows(rows)) => rows,
        Some(Answer::Failed { error, denied }) => {
            let fix = denied.then(|| format!("{} TO {};", plan.accounts_grant, identity.account));
            for path in paths {
                sink.unknown(
                    path,
                    format!("the account list could not be read: {error}"),
                    fix.as_deref(),
                );
            }
            return;
        }
        None => {
            for path in paths {
                sink.unknown(path, "the account list was not read", None);
            }
            return;
        }
    };
    let accounts: Vec<Account> = rows.iter().map(Account::from_row).collect();
    let table = match identity.version.flavour {
        Flavour::Mariadb if identity.version.at_least(10, 4, 0) => "mysql.global_priv",
        _ => "mysql.user",
    };
    let names = |keep: fn(&Account) -> bool| -> Vec<String> {
        accounts
            .iter()
            .filter(|a| keep(a))
            .map(Account::name)
            .collect()
    };
    sink.known(
        "network.accounts_without_tls",
        format!("{table}: non-loopback hosts without REQUIRE SSL/X509"),
        names(Account::remote_without_tls),
    );
    sink.known(
        "mysql.accounts.empty_password",
        format!("{table}: a password method with an empty authentication string"),
        names(Account::empty_password),
    );
    sink.known(
        "mysql.accounts.anonymous",
        format!("{table}: User = ''"),
        names(Account::anonymous),
    );
    sink.known(
        "access.passwordless_logins",
        format!("{table}: a password method with an empty authentication string"),
        names(Account::empty_password),
    );
    sink.known(
        "access.remote_superusers",
        format!(
            "{table}: SUPER or root, host neither loopback nor the server's own name, not locked"
        ),
        accounts
            .iter()
            .filter(|a| a.remote_superuser(identity.hostname.as_deref()))
            .map(Account::name)
            .collect::<Vec<_>>(),
    );
}

/// Whether a `mysql.db` pattern (LIKE syntax: `%`, `_`, `\` escapes) matches a name.
fn like(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('%', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('_', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some(('\\', rest)) if !rest.is_empty() => {
                n.first() == Some(&rest[0]) && go(&rest[1..], &n[1..])
            }
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// Grants that open an existing test schema to every account.
fn test_grant_facts(
    sink: &mut FactSink<'_>,
    identity: &Identity,
    test_databases: Option<&[String]>,
    grants: Option<&Answer>,
) {
    let path = "access.test_database_grants";
    if test_databases.is_some_and(|schemas| schemas.is_empty()) {
        sink.known(
            path,
            "information_schema.SCHEMATA: no test schema exists, so no grant opens one",
            Vec::<String>::new(),
        );
        return;
    }
    let rows = match grants {
        Some(Answer::Rows(rows)) => rows,
        Some(Answer::Failed { error, denied }) => {
            let fix = denied.then(|| format!("GRANT SELECT ON mysql.db TO {};", identity.account));
            sink.unknown(
                path,
                format!("mysql.db could not be read: {error}"),
                fix.as_deref(),
            );
            return;
        }
        None => {
            sink.unknown(path, "mysql.db was not read", None);
            return;
        }
    };
    let Some(schemas) = test_databases else {
        sink.unknown(
            path,
            "which test schemas exist is unknown (see mysql.test_databases)",
            None,
        );
        return;
    };
    let mut found = Vec::new();
    for row in rows {
        let db = text(row, "Db").unwrap_or_default();
        let user = text(row, "User").unwrap_or_default();
        let host = text(row, "Host").unwrap_or_default();
        for schema in schemas.iter().filter(|s| like(db, s)) {
            let who = if user == "PUBLIC" {
                "PUBLIC".to_string()
            } else {
                format!("'{user}'@'{host}'")
            };
            found.push(format!("{who} on {schema} (grant on `{db}`)"));
        }
    }
    sink.known(
        path,
        "mysql.db: grants to the anonymous user or PUBLIC on test schemas that exist",
        found,
    );
}

fn schema_facts(
    sink: &mut FactSink<'_>,
    identity: &Identity,
    schemata: Option<&Answer>,
    tables: Option<&Answer>,
) -> Option<Vec<String>> {
    let mut known_test = None;
    match schemata {
        Some(Answer::Rows(rows)) => {
            let test: Vec<String> = rows
                .iter()
                .filter_map(|r| text(r, "SCHEMA_NAME"))
                .filter(|name| *name == "test" || name.starts_with("test_"))
                .map(str::to_string)
                .collect();
            if identity.sees_all_schemas() || !test.is_empty() {
                known_test = Some(test.clone());
                sink.known("mysql.test_databases", "information_schema.SCHEMATA", test);
            } else {
                sink.unknown(
                    "mysql.test_databases",
                    format!(
                        "account {} sees only the schemas it has privileges on",
                        identity.account
                    ),
                    Some(&identity.grant("SHOW DATABASES")),
                );
            }
        }
        other => sink.unknown(
            "mysql.test_databases",
            failure(other, "information_schema.SCHEMATA"),
            None,
        ),
    }
    let fix = match identity.version.flavour {
        Flavour::Mariadb => format!(
            "GRANT SHOW VIEW ON *.* TO {0};  (shows every table's name without its data; or GRANT SELECT ON *.* TO {0};)",
            identity.account
        ),
        Flavour::Mysql => identity.grant("SELECT"),
    };
    match tables {
        Some(Answer::Rows(rows)) => {
            let found: Vec<Json> = rows
                .iter()
                .filter_map(|r| {
                    let schema = text(r, "TABLE_SCHEMA")?;
                    let table = text(r, "TABLE_NAME")?;
                    let tool = migrations::tool_for(table)?;
                    Some(
                        json!({"database": schema, "schema": schema, "table": table, "tool": tool}),
                    )
                })
                .collect();
            let origin = "information_schema.TABLES in every visible schema";
            if identity.sees_all_tables() {
                sink.known("migrations.tables", origin, found);
                sink.known(
                    "migrations.unreadable_databases",
                    "global SELECT: every schema is visible",
                    Vec::<String>::new(),
                );
            } else {
                let reason = format!(
                    "information_schema.TABLES silently lists only the tables account {} has privileges on",
                    identity.account
                );
                if found.is_empty() {
                    sink.unknown(
                        "migrations.tables",
                        format!("no migration table found, but {reason}"),
                        Some(&fix),
                    );
                } else {
                    sink.known("migrations.tables", origin, found);
                }
                sink.unknown("migrations.unreadable_databases", reason, Some(&fix));
            }
        }
        other => {
            let reason = failure(other, "information_schema.TABLES");
            sink.unknown("migrations.tables", reason.clone(), None);
            sink.unknown("migrations.unreadable_databases", reason, None);
        }
    }
    known_test
}

fn audit_facts(sink: &mut FactSink<'_>, answer: Option<&Answer>) {
    match answer {
        Some(Answer::Rows(rows)) => {
            let plugins: Vec<Json> = rows
                .iter()
                .map(
                    |r| json!({"name": text(r, "PLUGIN_NAME"), "status": text(r, "PLUGIN_STATUS")}),
                )
                .collect();
            sink.known(
                "mysql.audit_plugins",
                "information_schema.PLUGINS WHERE PLUGIN_TYPE = 'AUDIT'",
                plugins,
            );
        }
        other => sink.unknown(
            "mysql.audit_plugins",
            failure(other, "information_schema.PLUGINS"),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Fact, FactState};

    /// MariaDB 10.11.19, fresh `mariadb-install-db` (lossy flush), as the auditor account.
    const MARIADB_DEFAULTS: &str =
        include_str!("../../../tests/fixtures/mysql/mariadb-10.11-defaults-auditor.json");
    /// MariaDB 10.11.19, production-like, as a USAGE-only account.
    const MARIADB_GOOD_BARE: &str =
        include_str!("../../../tests/fixtures/mysql/mariadb-10.11-good-bare.json");
    /// MariaDB 10.11.19, a GTID replica, as the auditor account.
    const MARIADB_REPLICA: &str =
        include_str!("../../../tests/fixtures/mysql/mariadb-10.11-replica-auditor.json");
    /// MySQL 8.0.36 replica: SHOW REPLICA STATUS columns per the 8.0 manual.
    const MYSQL_80_REPLICA: &str =
        include_str!("../../../tests/fixtures/mysql/mysql-8.0.36-replica.json");
    /// MySQL 8.4.3 source: no expire_logs_days, mysql.user with account_locked.
    const MYSQL_84_SOURCE: &str =
        include_str!("../../../tests/fixtures/mysql/mysql-8.4.3-source.json");
    /// MySQL 5.7.44 replica: SHOW SLAVE STATUS columns, expire_logs_days.
    const MYSQL_57_REPLICA: &str =
        include_str!("../../../tests/fixtures/mysql/mysql-5.7.44-replica.json");

    fn recorded(text: &str) -> Readings {
        serde_json::from_str(text).expect("recorded readings parse")
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn value<'a>(facts: &'a Facts, path: &str) -> &'a Json {
        facts
            .get(path)
            .and_then(Fact::value)
            .unwrap_or_else(|| panic!("{path} is not known: {:?}", facts.get(path)))
    }

    fn origin<'a>(facts: &'a Facts, path: &str) -> &'a str {
        facts.get(path).map_or("", |f| f.origin.as_str())
    }

    fn unknown<'a>(facts: &'a Facts, path: &str) -> (&'a str, Option<&'a str>) {
        match facts.get(path).map(|f| &f.state) {
            Some(FactState::Unknown { unknown, resolve }) => (unknown.as_str(), resolve.as_deref()),
            other => panic!("{path} should be unknown: {other:?}"),
        }
    }

    #[test]
    fn every_fact_produced_is_in_the_schema() {
        for text in [
            MARIADB_DEFAULTS,
            MARIADB_GOOD_BARE,
            MARIADB_REPLICA,
            MYSQL_80_REPLICA,
            MYSQL_84_SOURCE,
            MYSQL_57_REPLICA,
        ] {
            let facts = facts(&recorded(text), today());
            for (path, fact) in &facts {
                let spec = crate::facts::schema::spec(path)
                    .unwrap_or_else(|| panic!("{path} is not in the schema"));
                if let Some(value) = fact.value() {
                    assert!(
                        spec.ty.admits(value),
                        "{path}: {value} is not a {}",
                        spec.ty.name()
                    );
                }
            }
        }
    }

    #[test]
    fn mariadb_defaults_are_lossy_and_open() {
        let readings = recorded(MARIADB_DEFAULTS);
        assert_eq!(role(&readings), Role::Primary);
        let facts = facts(&readings, today());
        assert_eq!(value(&facts, "version.major"), "10.11");
        assert_eq!(value(&facts, "version.eol_date"), "2028-02-16");
        assert_eq!(value(&facts, "binlog.enabled"), false);
        assert_eq!(value(&facts, "mysql.binlog.file_count"), 0);
        assert_eq!(
            value(&facts, "mysql.variables.innodb_flush_log_at_trx_commit"),
            2
        );
        assert_eq!(value(&facts, "mysql.variables.sync_binlog"), 0);
        assert_eq!(value(&facts, "mysql.variables.performance_schema"), false);
        assert_eq!(value(&facts, "mysql.variables.have_ssl"), "DISABLED");
        assert_eq!(value(&facts, "network.tls_required"), false);
        assert_eq!(value(&facts, "mysql.variables.server_audit_logging"), false);
        assert_eq!(value(&facts, "replicas.count"), 0);
        let empty = value(&facts, "mysql.accounts.empty_password").to_string();
        assert!(
            empty.contains("'root'@'localhost'") && empty.contains("'root'@'127.0.0.1'"),
            "{empty}"
        );
        assert!(
            !empty.contains("mariadb.sys") && !empty.contains("PUBLIC"),
            "locked accounts and roles are exempt: {empty}"
        );
        assert_eq!(
            value(&facts, "mysql.accounts.anonymous")
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(value(&facts, "mysql.test_databases"), &json!(["test"]));
        let remote = value(&facts, "network.accounts_without_tls").to_string();
        assert!(
            remote.contains("'auditor'@'%'") && remote.contains("'bare'@'%'"),
            "{remote}"
        );
        assert!(!remote.contains("localhost"), "{remote}");
        assert_eq!(value(&facts, "migrations.tables"), &json!([]));
        // performance_schema is OFF by default on MariaDB: TLS use per session is unknowable.
        let (reason, fix) = unknown(&facts, "network.tls_connections");
        assert!(reason.contains("performance_schema is OFF"), "{reason}");
        assert!(fix.unwrap().contains("performance_schema = ON"));
        assert!(value(&facts, "connections.usage_ratio").as_f64().unwrap() > 0.0);
        // The source cannot see its replicas' lag.
        assert!(
            unknown(&facts, "replicas.connected")
                .1
                .unwrap()
                .contains("audit each replica")
        );
        assert!(
            !facts.contains_key("upstream.receiver_status"),
            "not a replica"
        );
    }

    #[test]
    fn bare_account_gets_unknowns_with_the_mariadb_grants() {
        let facts = facts(&recorded(MARIADB_GOOD_BARE), today());
        // Variables and status need no privilege.
        assert_eq!(value(&facts, "binlog.enabled"), true);
        assert_eq!(value(&facts, "binlog.retention_seconds"), 604800);
        assert_eq!(
            value(&facts, "mysql.variables.require_secure_transport"),
            true
        );
        // MariaDB's privilege-free counter still counts the replica.
        assert_eq!(value(&facts, "replicas.count"), 1);
        let (_, fix) = unknown(&facts, "mysql.replica_connections");
        assert_eq!(fix, Some("GRANT PROCESS ON *.* TO 'bare'@'%';"));
        let (_, fix) = unknown(&facts, "upstream.io_running");
        assert_eq!(fix, Some("GRANT SLAVE MONITOR ON *.* TO 'bare'@'%';"));
        let (_, fix) = unknown(&facts, "mysql.binlog.file_count");
        assert_eq!(fix, Some("GRANT BINLOG MONITOR ON *.* TO 'bare'@'%';"));
        let (reason, fix) = unknown(&facts, "mysql.accounts.empty_password");
        assert!(reason.contains("global_priv"), "{reason}");
        assert_eq!(
            fix,
            Some("GRANT SELECT ON mysql.global_priv TO 'bare'@'%';")
        );
        let (reason, fix) = unknown(&facts, "migrations.tables");
        assert!(reason.contains("silently"), "{reason}");
        assert!(fix.unwrap().contains("SHOW VIEW"));
        let (_, fix) = unknown(&facts, "network.tls_connections");
        assert!(fix.unwrap().contains("performance_schema.threads"));
    }

    #[test]
    fn mariadb_replica_reports_its_threads() {
        let readings = recorded(MARIADB_REPLICA);
        assert_eq!(role(&readings), Role::Replica);
        let facts = facts(&readings, today());
        assert_eq!(value(&facts, "upstream.receiver_status"), "streaming");
        assert_eq!(value(&facts, "upstream.io_running"), true);
        assert_eq!(value(&facts, "upstream.sql_running"), true);
        assert_eq!(value(&facts, "upstream.replay_delay_seconds"), 0.0);
        let channel = &value(&facts, "upstream.channels")[0];
        assert_eq!(channel["gtid"], true);
        assert_eq!(channel["ssl"], true);
        assert_eq!(value(&facts, "mysql.variables.read_only"), true);
        assert!(
            unknown(&facts, "mysql.variables.super_read_only")
                .0
                .contains("MariaDB has no super_read_only")
        );
    }

    #[test]
    fn mysql_8_0_replica_status_uses_the_source_replica_columns() {
        let readings = recorded(MYSQL_80_REPLICA);
        assert_eq!(role(&readings), Role::Replica);
        let facts = facts(&readings, today());
        assert_eq!(value(&facts, "version.major"), "8.0");
        assert_eq!(value(&facts, "version.eol_date"), "2026-04-30");
        assert!(value(&facts, "version.days_until_eol").as_i64().unwrap() < 0);
        assert_eq!(value(&facts, "upstream.io_running"), true);
        assert_eq!(value(&facts, "upstream.sql_running"), false);
        // Seconds_Behind_Source is NULL because the SQL thread stopped: not measurable,
        // never the "nothing replayed yet" that passes replicas.replica_delay.
        let (reason, fix) = unknown(&facts, "upstream.replay_delay_seconds");
        assert!(reason.contains("SQL thread No"), "{reason}");
        assert!(fix.unwrap().contains("START REPLICA"));
        let channel = &value(&facts, "upstream.channels")[0];
        assert_eq!(channel["source"], "10.0.0.5:3306");
        assert_eq!(channel["gtid"], true);
        assert!(channel["last_sql_error"].as_str().unwrap().contains("1062"));
        assert_eq!(value(&facts, "mysql.variables.super_read_only"), true);
        assert_eq!(value(&facts, "mysql.gtid_enabled"), true);
        // MySQL has no privilege-free replica counter: without PROCESS it is unknown.
        let (_, fix) = unknown(&facts, "replicas.count");
        assert_eq!(fix, Some("GRANT PROCESS ON *.* TO 'auditor'@'%';"));
    }

    #[test]
    fn mysql_8_4_source_without_expire_logs_days() {
        let readings = recorded(MYSQL_84_SOURCE);
        assert_eq!(role(&readings), Role::Primary);
        let facts = facts(&readings, today());
        assert_eq!(value(&facts, "version.major"), "8.4");
        assert_eq!(value(&facts, "binlog.retention_seconds"), 2592000);
        assert!(
            unknown(&facts, "mysql.variables.have_ssl")
                .0
                .contains("removed in MySQL 8.4")
        );
        assert!(
            unknown(&facts, "mysql.variables.expire_logs_days")
                .0
                .contains("removed in MySQL 8.4")
        );
        assert_eq!(
            value(&facts, "replicas.count"),
            2,
            "two Binlog Dump GTID threads are two replicas"
        );
        assert_eq!(value(&facts, "mysql.binlog.file_count"), 3);
        assert_eq!(
            value(&facts, "mysql.binlog.total_bytes"),
            1073742000 + 524288000 + 157
        );
        assert_eq!(
            value(&facts, "mysql.variables.innodb_doublewrite"),
            "DETECT_ONLY"
        );
        // Roles are locked rows in mysql.user; auth_socket takes no password.
        assert_eq!(
            value(&facts, "mysql.accounts.empty_password"),
            &json!(["'reporting'@'%'"])
        );
        assert_eq!(value(&facts, "mysql.accounts.anonymous"), &json!([]));
        assert_eq!(
            value(&facts, "network.accounts_without_tls"),
            &json!(["'app'@'10.0.%'", "'reporting'@'%'"])
        );
        assert_eq!(value(&facts, "network.tls_connections"), 40);
        assert_eq!(value(&facts, "network.client_connections"), 42);
        assert_eq!(
            value(&facts, "mysql.audit_plugins"),
            &json!([{"name": "audit_log", "status": "ACTIVE"}])
        );
        assert_eq!(value(&facts, "mysql.variables.audit_log_policy"), "ALL");
        assert_eq!(value(&facts, "mysql.variables.server_audit_logging"), false);
        let tables = value(&facts, "migrations.tables").to_string();
        assert!(
            tables.contains("Liquibase") && tables.contains("DATABASECHANGELOG"),
            "{tables}"
        );
        assert_eq!(value(&facts, "connections.max_used_ratio"), 0.75);
    }

    #[test]
    fn mysql_5_7_replica_status_uses_slave_columns_and_expire_logs_days() {
        let readings = recorded(MYSQL_57_REPLICA);
        assert_eq!(role(&readings), Role::Replica);
        let facts = facts(&readings, today());
        assert_eq!(value(&facts, "upstream.receiver_status"), "connecting");
        assert_eq!(value(&facts, "upstream.io_running"), false);
        assert_eq!(value(&facts, "binlog.retention_seconds"), 7 * 86400);
        assert!(
            unknown(&facts, "mysql.variables.binlog_expire_logs_seconds")
                .0
                .contains("expire_logs_days applies")
        );
        assert!(value(&facts, "version.days_until_eol").as_i64().unwrap() < 0);
        assert_eq!(value(&facts, "mysql.gtid_enabled"), false);
    }

    #[test]
    fn on_rds_binlog_retention_is_rds_own_setting() {
        let on_rds = |retention: Option<Answer>| {
            let mut readings = recorded(MYSQL_84_SOURCE);
            if let Some(Answer::Rows(rows)) = readings.variables.as_mut() {
                let mut row = Row::new();
                row.insert("Variable_name".into(), json!("basedir"));
                row.insert("Value".into(), json!("/rdsdbbin/mysql-8.4.3.R1/"));
                rows.push(row);
            }
            readings.rds_binlog_retention = retention;
            facts(&readings, today())
        };
        let hours = |value: Json| {
            let mut row = Row::new();
            row.insert("name".into(), json!("binlog retention hours"));
            row.insert("value".into(), value);
            Some(Answer::Rows(vec![row]))
        };
        // binlog_expire_logs_seconds (30 days in the recording) does not decide on RDS.
        assert_eq!(
            value(&on_rds(hours(json!("24"))), "binlog.retention_seconds"),
            86400
        );
        let default = on_rds(hours(Json::Null));
        assert_eq!(value(&default, "binlog.retention_seconds"), 300);
        assert!(
            origin(&default, "binlog.retention_seconds").contains("NULL"),
            "{}",
            origin(&default, "binlog.retention_seconds")
        );
        let denied = on_rds(Some(Answer::Failed {
            error: "SELECT command denied (1142)".into(),
            denied: true,
        }));
        let (reason, fix) = unknown(&denied, "binlog.retention_seconds");
        assert!(reason.contains("rds_configuration"), "{reason}");
        assert!(fix.unwrap().contains("rds_show_configuration"));
        // Not RDS: the server's own variables decide.
        let own = facts(&recorded(MYSQL_84_SOURCE), today());
        assert!(value(&own, "binlog.retention_seconds") != 300);
    }

    #[test]
    fn binlog_retention_prefers_seconds_then_days() {
        let vars = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            binlog_retention(&vars(&[
                ("binlog_expire_logs_seconds", "604800"),
                ("expire_logs_days", "7.000000")
            ]))
            .unwrap()
            .0,
            604800
        );
        assert_eq!(
            binlog_retention(&vars(&[
                ("binlog_expire_logs_seconds", "0"),
                ("expire_logs_days", "2")
            ]))
            .unwrap()
            .0,
            172800
        );
        assert_eq!(
            binlog_retention(&vars(&[
                ("binlog_expire_logs_seconds", "0"),
                ("expire_logs_days", "0.000000")
            ]))
            .unwrap()
            .0,
            0
        );
        assert_eq!(
            binlog_retention(&vars(&[("expire_logs_days", "0.5")]))
                .unwrap()
                .0,
            43200
        );
        assert!(binlog_retention(&vars(&[])).is_none());
        // MySQL 8.0.29+: with automatic purging off, nothing expires whatever the period.
        assert_eq!(
            binlog_retention(&vars(&[
                ("binlog_expire_logs_seconds", "86400"),
                ("binlog_expire_logs_auto_purge", "OFF")
            ])),
            Some((
                0,
                "binlog_expire_logs_auto_purge = OFF (never purged automatically)"
            ))
        );
        assert_eq!(
            binlog_retention(&vars(&[
                ("binlog_expire_logs_seconds", "86400"),
                ("binlog_expire_logs_auto_purge", "ON")
            ]))
            .unwrap()
            .0,
            86400
        );
    }

    /// Rows of `queries::ACCOUNTS_GLOBAL_PRIV` recorded on MariaDB 10.11.19 for accounts
    /// created with `IDENTIFIED VIA … OR …`.
    #[test]
    fn mariadb_alternatives_with_an_empty_password_are_passwordless() {
        let row = |user: &str, plugin: &str, empty: &str, alternatives: &str, empty_alt: &str| {
            json!({"user": user, "host": "localhost", "locked": "0", "is_role": "0",
                "plugin": plugin, "empty_authentication": empty, "alternatives": alternatives,
                "empty_alternative": empty_alt, "ssl_type": "0"})
            .as_object()
            .unwrap()
            .clone()
        };
        let rows = vec![
            // unix_socket OR mysql_native_password USING PASSWORD('')
            row("a", "mysql_native_password", "1", "1", "0"),
            // unix_socket OR mysql_native_password USING PASSWORD('x')
            row("b", "mysql_native_password", "0", "1", "0"),
            // mysql_native_password USING PASSWORD('') OR unix_socket
            row("c", "mysql_native_password", "1", "1", "0"),
            // unix_socket OR mysql_native_password (no password at all)
            row("e", "mysql_native_password", "1", "1", "0"),
            // mysql_native_password USING PASSWORD('q') OR mysql_native_password
            row("f", "mysql_native_password", "0", "1", "1"),
            // unix_socket only
            row("g", "unix_socket", "1", "0", "0"),
            // the packaged root: mysql_native_password USING 'invalid' OR unix_socket
            row("h", "mysql_native_password", "0", "1", "0"),
        ];
        let mut readings = recorded(MARIADB_DEFAULTS);
        readings.accounts = Some(Answer::Rows(rows));
        let facts = super::facts(&readings, today());
        assert_eq!(
            value(&facts, "mysql.accounts.empty_password"),
            &json!([
                "'a'@'localhost'",
                "'c'@'localhost'",
                "'e'@'localhost'",
                "'f'@'localhost'"
            ])
        );
    }

    fn replica_row(channel: &str, io: &str, sql: &str, behind: Option<&str>) -> Row {
        json!({"Channel_Name": channel, "Source_Host": "10.0.0.5", "Source_Port": "3306",
            "Replica_IO_Running": io, "Replica_SQL_Running": sql,
            "Seconds_Behind_Source": behind, "Last_IO_Error": "", "Last_SQL_Error": "",
            "Auto_Position": "1", "Source_SSL_Allowed": "Yes"})
        .as_object()
        .unwrap()
        .clone()
    }

    /// MySQL Group Replication members list `group_replication_applier` (no receiver
    /// thread: `Replica_IO_Running: No`) and `group_replication_recovery` in SHOW
    /// REPLICA STATUS; they are not asynchronous replication from a source.
    #[test]
    fn group_replication_channels_are_not_async_replication() {
        let mut readings = recorded(MYSQL_84_SOURCE);
        readings.replica_status = Some(Answer::Rows(vec![
            replica_row("group_replication_applier", "No", "Yes", Some("0")),
            replica_row("group_replication_recovery", "No", "No", None),
        ]));
        readings.binlog_dumps = Some(Answer::Rows(vec![]));
        assert_eq!(role(&readings), Role::Primary);
        let facts = super::facts(&readings, today());
        assert!(
            !facts.contains_key("upstream.io_running"),
            "no async channel"
        );
        let (reason, fix) = unknown(&facts, "replicas.count");
        assert!(reason.contains("Group Replication"), "{reason}");
        assert!(fix.unwrap().contains("replication_group_members"));
        // An async channel next to them is judged on its own.
        readings.replica_status = Some(Answer::Rows(vec![
            replica_row("", "Yes", "Yes", Some("4")),
            replica_row("group_replication_applier", "No", "Yes", Some("0")),
        ]));
        assert_eq!(role(&readings), Role::Replica);
        let facts = super::facts(&readings, today());
        assert_eq!(value(&facts, "upstream.io_running"), true);
        assert_eq!(value(&facts, "upstream.receiver_status"), "streaming");
        assert_eq!(value(&facts, "upstream.replay_delay_seconds"), 4.0);
        assert_eq!(
            value(&facts, "upstream.channels").as_array().unwrap().len(),
            1
        );
    }

    #[test]
    fn replica_delay_is_the_largest_channel_delay_or_unknown_when_one_is_null() {
        let mut readings = recorded(MYSQL_80_REPLICA);
        readings.replica_status = Some(Answer::Rows(vec![
            replica_row("a", "Yes", "Yes", Some("2")),
            replica_row("b", "Yes", "Yes", Some("30")),
        ]));
        let facts = super::facts(&readings, today());
        assert_eq!(value(&facts, "upstream.replay_delay_seconds"), 30.0);
        readings.replica_status = Some(Answer::Rows(vec![
            replica_row("a", "Yes", "Yes", Some("2")),
            replica_row("b", "No", "Yes", None),
        ]));
        let facts = super::facts(&readings, today());
        let (reason, _) = unknown(&facts, "upstream.replay_delay_seconds");
        assert!(reason.contains("channel b (IO thread No"), "{reason}");
    }

    /// Unix-socket (and named pipe, shared memory) sessions never cross the network:
    /// they are not clear-text sessions, and the audit's own session is left out.
    #[test]
    fn only_network_sessions_count_for_tls_in_use() {
        let mut readings = recorded(MYSQL_84_SOURCE);
        let rows = |pairs: &[(&str, &str)]| {
            Answer::Rows(
                pairs
                    .iter()
                    .map(|(kind, n)| {
                        json!({"CONNECTION_TYPE": kind, "sessions": n})
                            .as_object()
                            .unwrap()
                            .clone()
                    })
                    .collect(),
            )
        };
        readings.tls_threads = Some(rows(&[("SSL/TLS", "12"), ("Socket", "3")]));
        let facts = super::facts(&readings, today());
        assert_eq!(value(&facts, "network.client_connections"), 12);
        assert_eq!(value(&facts, "network.tls_connections"), 12);
        readings.tls_threads = Some(rows(&[("SSL/TLS", "9"), ("Socket", "3"), ("TCP/IP", "2")]));
        let facts = super::facts(&readings, today());
        assert_eq!(value(&facts, "network.client_connections"), 11);
        assert_eq!(value(&facts, "network.tls_connections"), 9);
        readings.tls_threads = Some(rows(&[]));
        let facts = super::facts(&readings, today());
        assert_eq!(value(&facts, "network.client_connections"), 0);
        // Without PROCESS the table may hide other accounts' sessions.
        readings
            .identity
            .insert("privileges".into(), json!("REPLICATION CLIENT,SELECT"));
        readings.tls_threads = Some(rows(&[("SSL/TLS", "1")]));
        let facts = super::facts(&readings, today());
        let (_, fix) = unknown(&facts, "network.tls_connections");
        assert_eq!(fix, Some("GRANT PROCESS ON *.* TO 'auditor'@'%';"));
    }

    #[test]
    fn accounts_follow_the_notes_rules() {
        let row = |v: Json| v.as_object().unwrap().clone();
        // mariadb-install-db's passwordless root: {"access":…} only.
        let root = Account::from_row(&row(
            json!({"user": "root", "host": "localhost", "locked": "0", "is_role": "0",
            "plugin": "mysql_native_password", "empty_authentication": "1", "alternatives": "0", "ssl_type": "0"}),
        ));
        assert!(root.empty_password() && !root.remote_without_tls());
        // unix_socket OR password: exempt.
        let socket_or = Account::from_row(&row(
            json!({"user": "root", "host": "localhost", "locked": "0", "is_role": "0",
            "plugin": "mysql_native_password", "empty_authentication": "0", "alternatives": "1", "empty_alternative": "0", "ssl_type": "0"}),
        ));
        assert!(!socket_or.empty_password());
        let socket = Account::from_row(&row(
            json!({"user": "ops", "host": "localhost", "locked": "0", "is_role": "0",
            "plugin": "auth_socket", "empty_authentication": "1", "alternatives": "0", "ssl_type": ""}),
        ));
        assert!(!socket.empty_password());
        let remote_ssl = Account::from_row(&row(
            json!({"user": "app", "host": "%", "locked": "0", "is_role": "0",
            "plugin": "caching_sha2_password", "empty_authentication": "0", "alternatives": "0", "ssl_type": "ANY"}),
        ));
        assert!(!remote_ssl.remote_without_tls());
        let locked = Account::from_row(&row(
            json!({"user": "", "host": "%", "locked": "1", "is_role": "0",
            "plugin": "mysql_native_password", "empty_authentication": "1", "alternatives": "0", "ssl_type": ""}),
        ));
        assert!(!locked.anonymous() && !locked.remote_without_tls());
    }

    #[test]
    fn superusers_count_only_from_other_hosts_and_root_always_does() {
        let row = |v: Json| v.as_object().unwrap().clone();
        let account = |user: &str, host: &str, sup: &str, locked: &str| {
            Account::from_row(&row(json!({"user": user, "host": host, "locked": locked,
                "is_role": "0", "plugin": "mysql_native_password", "empty_authentication": "0",
                "alternatives": "0", "ssl_type": "0", "super": sup})))
        };
        assert!(account("root", "%", "1", "0").remote_superuser(None));
        assert!(
            account("root", "10.%", "0", "0").remote_superuser(None),
            "root without SUPER"
        );
        assert!(account("app", "%", "1", "0").remote_superuser(None));
        assert!(!account("app", "%", "0", "0").remote_superuser(None));
        assert!(!account("root", "localhost", "1", "0").remote_superuser(None));
        assert!(!account("root", "127.0.0.1", "1", "0").remote_superuser(None));
        assert!(
            !account("root", "db1", "1", "0").remote_superuser(Some("db1")),
            "the server's own name"
        );
        assert!(
            !account("root", "%", "1", "1").remote_superuser(None),
            "locked"
        );
    }

    #[test]
    fn test_schema_grants_are_matched_as_like_patterns() {
        assert!(like("test", "test"));
        assert!(like("test\\_%", "test_orders"));
        assert!(
            !like("test\\_%", "testing"),
            "an escaped _ is a literal underscore"
        );
        assert!(like("test_%", "testing"), "an unescaped _ is any character");
        assert!(!like("test", "test2"));
        let rows = |values: Vec<Json>| {
            Answer::Rows(
                values
                    .into_iter()
                    .map(|v| v.as_object().unwrap().clone())
                    .collect(),
            )
        };
        let schemata =
            |names: &[&str]| rows(names.iter().map(|n| json!({"SCHEMA_NAME": n})).collect());
        let mut readings = recorded(MARIADB_DEFAULTS);
        readings.test_grants = Some(rows(vec![
            json!({"Db": "test", "User": "", "Host": "%"}),
            json!({"Db": "test\\_%", "User": "PUBLIC", "Host": ""}),
        ]));
        readings.schemata = Some(schemata(&["app", "test", "test_x"]));
        let facts = super::facts(&readings, today());
        assert_eq!(
            value(&facts, "access.test_database_grants"),
            &json!([
                "''@'%' on test (grant on `test`)",
                "PUBLIC on test_x (grant on `test\\_%`)"
            ])
        );
        // No test schema: nothing is open, whatever mysql.db says.
        readings.schemata = Some(schemata(&["app"]));
        readings.test_grants = None;
        let facts = super::facts(&readings, today());
        assert_eq!(value(&facts, "access.test_database_grants"), &json!([]));
    }
}
