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

mod accounts;
mod audit;
mod binlog;
mod connections;
mod listening;
mod replication;
mod schemas;
#[cfg(test)]
mod tests;
mod tls;
mod variables;

pub use accounts::*;
use audit::*;
pub use binlog::*;
use connections::*;
use listening::listening_facts;
pub use listening::unreachable_from_network;
pub use replication::*;
use schemas::*;
use tls::*;
use variables::*;

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
    /// MySQL 8.0+: persisted variables that differ from the running ones (`persisted::QUERY`).
    #[serde(default)]
    pub persisted: Option<Answer>,
    /// Registered replicas (`registered::statement`), read when dump threads are.
    #[serde(default)]
    pub replica_hosts: Option<Answer>,
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
    super::registered::facts(&mut sink, &identity, readings);
    super::persisted::facts(&mut sink, &identity, readings);
    super::binlog_size::facts(&mut sink, readings);
    connection_facts(
        &mut sink,
        vars.as_ref(),
        status.as_ref(),
        &vars_error,
        &status_error,
    );
    listening_facts(&mut sink, vars.as_ref());
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
