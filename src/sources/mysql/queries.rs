//! The statements the MySQL / MariaDB source runs. Which statement, which
//! session variable and which privilege name apply is chosen from the flavour
//! and version the server reports ([`plan`], a pure function), never from the
//! text of an error.

use crate::sources::migrations;
use std::time::Duration;

/// MySQL (Oracle, Percona, the cloud variants) or MariaDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Mysql,
    Mariadb,
}

impl Flavour {
    /// The engine name in reports and in the end-of-life table.
    pub fn engine(self) -> &'static str {
        match self {
            Flavour::Mysql => "mysql",
            Flavour::Mariadb => "mariadb",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Flavour::Mysql => "MySQL",
            Flavour::Mariadb => "MariaDB",
        }
    }
}

/// What `SELECT VERSION(), @@version_comment` says the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    pub flavour: Flavour,
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl ServerVersion {
    /// Parses `VERSION()`: MariaDB has "MariaDB" in it (`10.11.19-MariaDB-0+deb12u1-log`,
    /// or `5.5.5-10.4.8-MariaDB` from old replication-compatible builds); anything else
    /// is MySQL (`8.0.36`, `8.4.3-log`, `5.7.44-google`). The comment is a second
    /// witness for forks that keep the name there only.
    pub fn parse(version: &str, comment: &str) -> Option<ServerVersion> {
        let mariadb = version.contains("MariaDB") || comment.contains("MariaDB");
        let text = if mariadb {
            version.strip_prefix("5.5.5-").unwrap_or(version)
        } else {
            version
        };
        let numeric: String = text
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = numeric.split('.').map(|p| p.parse::<u32>().ok());
        let major = parts.next()??;
        let minor = parts.next()??;
        let patch = parts.next().flatten().unwrap_or(0);
        Some(ServerVersion {
            flavour: if mariadb {
                Flavour::Mariadb
            } else {
                Flavour::Mysql
            },
            major,
            minor,
            patch,
        })
    }

    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    /// `10.11.19`, as the target's version.
    pub fn number(&self) -> String {
        format!("{}.{}.{}", self.major, self.minor, self.patch)
    }

    pub fn describe(&self) -> String {
        format!("{} {}", self.flavour.name(), self.number())
    }
}

/// The statements and privilege names for one server version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Run right after connecting: read-only transactions and a statement timeout.
    pub session: Vec<String>,
    /// The replica-side status of every replication channel.
    pub replica_status: &'static str,
    /// Accounts: user, host, locked, is_role, plugin, empty_authentication, alternatives,
    /// empty_alternative, ssl_type.
    pub accounts: &'static str,
    /// Current client connections and how many use TLS (needs performance_schema).
    pub tls_threads: Option<&'static str>,
    /// The privilege that lets an account run `replica_status`.
    pub replica_status_privilege: &'static str,
    /// The privilege that lets an account run `SHOW BINARY LOGS`.
    pub binary_logs_privilege: &'static str,
    /// The grant that lets an account read `accounts`.
    pub accounts_grant: &'static str,
}

/// Chooses the statements for a server version.
///
/// * replica status: `SHOW REPLICA STATUS` on MySQL ≥ 8.0.22 (8.4 removed `SHOW SLAVE
///   STATUS`), `SHOW SLAVE STATUS` before; on MariaDB the `ALL` form, which lists every
///   multi-source connection: `SHOW ALL REPLICAS STATUS` from 10.5.1, `SHOW ALL SLAVES
///   STATUS` before.
/// * its privilege: MariaDB ≥ 10.5.9 SLAVE MONITOR, 10.5.2–10.5.8 REPLICATION SLAVE
///   ADMIN, before that and on MySQL REPLICATION CLIENT.
/// * binary logs: MariaDB ≥ 10.5.2 BINLOG MONITOR, else REPLICATION CLIENT.
/// * accounts: MariaDB ≥ 10.4 keeps them as JSON in `mysql.global_priv` (`mysql.user` is a
///   view without `account_locked`); MySQL and older MariaDB use `mysql.user`.
/// * statement timeout: `max_statement_time` (seconds) on MariaDB ≥ 10.1,
///   `max_execution_time` (milliseconds, SELECT only) on MySQL ≥ 5.7.8.
pub fn plan(version: &ServerVersion, statement_timeout: Duration) -> Plan {
    let mariadb = version.flavour == Flavour::Mariadb;
    let seconds = statement_timeout.as_secs_f64().max(0.001);
    let mut session = vec!["SET SESSION TRANSACTION READ ONLY".to_string()];
    let lock_wait = statement_timeout.as_secs().max(1);
    if mariadb && version.at_least(10, 1, 1) {
        session.push(format!(
            "SET SESSION max_statement_time = {seconds:.3}, SESSION lock_wait_timeout = {lock_wait}"
        ));
    } else if !mariadb && version.at_least(5, 7, 8) {
        let millis = statement_timeout.as_millis().max(1);
        session.push(format!(
            "SET SESSION max_execution_time = {millis}, SESSION lock_wait_timeout = {lock_wait}"
        ));
    } else {
        session.push(format!("SET SESSION lock_wait_timeout = {lock_wait}"));
    }
    let replica_status = match version.flavour {
        Flavour::Mysql if version.at_least(8, 0, 22) => "SHOW REPLICA STATUS",
        Flavour::Mysql => "SHOW SLAVE STATUS",
        Flavour::Mariadb if version.at_least(10, 5, 1) => "SHOW ALL REPLICAS STATUS",
        Flavour::Mariadb => "SHOW ALL SLAVES STATUS",
    };
    let replica_status_privilege = match version.flavour {
        Flavour::Mariadb if version.at_least(10, 5, 9) => "SLAVE MONITOR",
        Flavour::Mariadb if version.at_least(10, 5, 2) => "REPLICATION SLAVE ADMIN",
        _ => "REPLICATION CLIENT",
    };
    let binary_logs_privilege = if mariadb && version.at_least(10, 5, 2) {
        "BINLOG MONITOR"
    } else {
        "REPLICATION CLIENT"
    };
    let (accounts, accounts_grant) = match version.flavour {
        Flavour::Mariadb if version.at_least(10, 4, 0) => {
            (ACCOUNTS_GLOBAL_PRIV, "GRANT SELECT ON mysql.global_priv")
        }
        Flavour::Mariadb => (ACCOUNTS_MARIADB_USER, "GRANT SELECT ON mysql.user"),
        Flavour::Mysql => (ACCOUNTS_MYSQL_USER, "GRANT SELECT ON mysql.user"),
    };
    // performance_schema.threads.CONNECTION_TYPE: MySQL 5.7+, MariaDB 10.5.2+ (its
    // performance_schema caught up with MySQL 5.7 there).
    let tls_threads = match version.flavour {
        Flavour::Mysql if version.at_least(5, 7, 0) => Some(TLS_THREADS),
        Flavour::Mariadb if version.at_least(10, 5, 2) => Some(TLS_THREADS),
        _ => None,
    };
    Plan {
        session,
        replica_status,
        accounts,
        tls_threads,
        replica_status_privilege,
        binary_logs_privilege,
        accounts_grant,
    }
}

/// Who we are and what we may do. The privileges are this account's global ones
/// (`USER_PRIVILEGES` rows whose grantee is `CURRENT_USER()`), which decide whether
/// queries that silently return less (PROCESSLIST, TABLES, SCHEMATA) can be trusted.
pub const IDENTITY: &str = r#"SELECT VERSION() AS version, @@version_comment AS version_comment,
  CURRENT_USER() AS account, @@hostname AS hostname,
  (SELECT GROUP_CONCAT(PRIVILEGE_TYPE ORDER BY PRIVILEGE_TYPE SEPARATOR ',')
     FROM information_schema.USER_PRIVILEGES
    WHERE GRANTEE = CONCAT('''',
            LEFT(CURRENT_USER(), CHAR_LENGTH(CURRENT_USER()) - CHAR_LENGTH(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)) - 1),
            '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')) AS privileges"#;

/// Server variables read (absent ones simply do not come back).
pub const VARIABLES: &[&str] = &[
    // `/rdsdbbin/…` on RDS and Aurora, whose binlog retention is their own setting.
    "basedir",
    "log_bin",
    "binlog_format",
    "binlog_row_image",
    "binlog_row_metadata",
    "binlog_checksum",
    "sync_binlog",
    "binlog_expire_logs_seconds",
    "binlog_expire_logs_auto_purge",
    "expire_logs_days",
    // MariaDB 11.4+: binary logs purged by size too (binlog_size.rs).
    "max_binlog_total_size",
    "binlog_space_limit",
    "server_id",
    "gtid_mode",
    "enforce_gtid_consistency",
    "gtid_strict_mode",
    "log_slave_updates",
    "log_replica_updates",
    "read_only",
    "super_read_only",
    "innodb_flush_log_at_trx_commit",
    "innodb_doublewrite",
    "innodb_flush_method",
    "slow_query_log",
    "long_query_time",
    "log_output",
    "log_queries_not_using_indexes",
    "performance_schema",
    "require_secure_transport",
    "have_ssl",
    "tls_version",
    "max_connections",
    "extra_max_connections",
    "server_audit_logging",
    "server_audit_events",
    "audit_log_policy",
    "rpl_semi_sync_master_enabled",
    "rpl_semi_sync_source_enabled",
    "lower_case_table_names",
    // Aurora MySQL only: its own release lineage (the minor-release table does not apply).
    "aurora_version",
    // Where it listens (facts/listening.rs): the classic protocol, the admin
    // interface (MySQL 8.0.14+) and X Protocol (MySQL 8).
    "bind_address",
    "skip_networking",
    "admin_address",
    "mysqlx_bind_address",
    // The global per-account connection limit (limits.rs).
    "max_user_connections",
    // What narrows the slow log and the MariaDB audit log (facts/nullifiers.rs).
    "min_examined_row_limit",
    "log_slow_rate_limit",
    "log_slow_filter",
    "log_slow_disabled_statements",
    "server_audit_incl_users",
    "server_audit_excl_users",
];

/// Status counters read.
pub const STATUS: &[&str] = &[
    "Threads_connected",
    "Max_used_connections",
    "Max_used_connections_time",
    "Connection_errors_max_connections",
    "Uptime",
    "Slow_queries",
    "Slaves_connected",
    "Slaves_running",
    "Innodb_history_list_length",
];

/// `SHOW GLOBAL … WHERE Variable_name IN (…)` for a list of constant names.
fn show_where(what: &str, names: &[&str]) -> String {
    let list: Vec<String> = names.iter().map(|n| quote(n)).collect();
    format!(
        "SHOW GLOBAL {what} WHERE Variable_name IN ({})",
        list.join(", ")
    )
}

pub fn variables() -> String {
    show_where("VARIABLES", VARIABLES)
}

pub fn status() -> String {
    show_where("STATUS", STATUS)
}

/// A string literal (the names are constants; quoting is for correctness, not trust).
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// Replicas streaming from this server: one `Binlog Dump` (or `Binlog Dump GTID`)
/// thread each. Needs PROCESS, or the list silently shows only our own session.
pub const BINLOG_DUMPS: &str = "SELECT ID, USER, HOST, TIME, STATE FROM information_schema.PROCESSLIST \
WHERE COMMAND LIKE 'Binlog Dump%' ORDER BY ID";

/// Audit plugins and their state (no privilege needed).
pub const AUDIT_PLUGINS: &str = "SELECT PLUGIN_NAME, PLUGIN_STATUS FROM information_schema.PLUGINS \
WHERE PLUGIN_TYPE = 'AUDIT' ORDER BY PLUGIN_NAME";

/// MariaDB ≥ 10.4: accounts from the JSON in `mysql.global_priv`. Booleans come from
/// `JSON_EXTRACT` (`JSON_VALUE` turns `true` into `1`); a missing `plugin` means
/// mysql_native_password and a missing `authentication_string` an empty password —
/// exactly the shape of the passwordless roots `mariadb-install-db` creates
/// (`{"access":…}` and nothing else). `IDENTIFIED VIA a OR b` keeps the first method
/// at the top level (its place in `auth_or` is `{}`) and the others in `auth_or`:
/// `empty_alternative` says whether one of those is a password plugin with an empty
/// password (`unix_socket OR mysql_native_password` without `USING PASSWORD(…)`,
/// seen on 10.11; the first eight methods are inspected). The authentication string
/// itself is never read.
pub const ACCOUNTS_GLOBAL_PRIV: &str = r#"SELECT User AS user, Host AS host,
  COALESCE(JSON_EXTRACT(Priv, '$.account_locked'), 'false') = 'true' AS locked,
  COALESCE(JSON_EXTRACT(Priv, '$.is_role'), 'false') = 'true' AS is_role,
  COALESCE(JSON_VALUE(Priv, '$.plugin'), 'mysql_native_password') AS plugin,
  COALESCE(JSON_VALUE(Priv, '$.authentication_string'), '') = '' AS empty_authentication,
  JSON_EXTRACT(Priv, '$.auth_or') IS NOT NULL AS alternatives,
  (COALESCE(JSON_VALUE(Priv, '$.auth_or[0].plugin'), '') IN ('mysql_native_password', 'mysql_old_password') AND COALESCE(JSON_VALUE(Priv, '$.auth_or[0].authentication_string'), '') = '')
    OR (COALESCE(JSON_VALUE(Priv, '$.auth_or[1].plugin'), '') IN ('mysql_native_password', 'mysql_old_password') AND COALESCE(JSON_VALUE(Priv, '$.auth_or[1].authentication_string'), '') = '')
    OR (COALESCE(JSON_VALUE(Priv, '$.auth_or[2].plugin'), '') IN ('mysql_native_password', 'mysql_old_password') AND COALESCE(JSON_VALUE(Priv, '$.auth_or[2].authentication_string'), '') = '')
    OR (COALESCE(JSON_VALUE(Priv, '$.auth_or[3].plugin'), '') IN ('mysql_native_password', 'mysql_old_password') AND COALESCE(JSON_VALUE(Priv, '$.auth_or[3].authentication_string'), '') = '')
    OR (COALESCE(JSON_VALUE(Priv, '$.auth_or[4].plugin'), '') IN ('mysql_native_password', 'mysql_old_password') AND COALESCE(JSON_VALUE(Priv, '$.auth_or[4].authentication_string'), '') = '')
    OR (COALESCE(JSON_VALUE(Priv, '$.auth_or[5].plugin'), '') IN ('mysql_native_password', 'mysql_old_password') AND COALESCE(JSON_VALUE(Priv, '$.auth_or[5].authentication_string'), '') = '')
    OR (COALESCE(JSON_VALUE(Priv, '$.auth_or[6].plugin'), '') IN ('mysql_native_password', 'mysql_old_password') AND COALESCE(JSON_VALUE(Priv, '$.auth_or[6].authentication_string'), '') = '')
    OR (COALESCE(JSON_VALUE(Priv, '$.auth_or[7].plugin'), '') IN ('mysql_native_password', 'mysql_old_password') AND COALESCE(JSON_VALUE(Priv, '$.auth_or[7].authentication_string'), '') = '')
    AS empty_alternative,
  COALESCE(JSON_VALUE(Priv, '$.ssl_type'), '0') AS ssl_type,
  (CAST(COALESCE(JSON_VALUE(Priv, '$.access'), '0') AS UNSIGNED) & 32768) <> 0 AS super
FROM mysql.global_priv ORDER BY User, Host"#;

/// MariaDB before 10.4: the `mysql.user` table (no account locking yet).
pub const ACCOUNTS_MARIADB_USER: &str = r#"SELECT User AS user, Host AS host, 0 AS locked,
  is_role = 'Y' AS is_role,
  CASE WHEN plugin = '' THEN 'mysql_native_password' ELSE plugin END AS plugin,
  (Password = '' AND authentication_string = '') AS empty_authentication,
  0 AS alternatives, 0 AS empty_alternative, ssl_type, Super_priv = 'Y' AS super
FROM mysql.user ORDER BY User, Host"#;

/// MySQL 5.7.6+ / 8.x / 9.x: `mysql.user` with `account_locked` (roles are locked rows).
pub const ACCOUNTS_MYSQL_USER: &str = r#"SELECT User AS user, Host AS host,
  account_locked = 'Y' AS locked, 0 AS is_role, plugin,
  authentication_string = '' AS empty_authentication, 0 AS alternatives,
  0 AS empty_alternative, ssl_type, Super_priv = 'Y' AS super
FROM mysql.user ORDER BY User, Host"#;

/// Database-level grants that open test schemas to every account: the anonymous
/// user (MySQL, MariaDB before 10.11) or the PUBLIC role (MariaDB 10.11+). `Db` is a
/// LIKE pattern (`test\_%`); which existing schemas it covers is decided in Rust.
pub const TEST_GRANTS: &str = "SELECT Db, User, Host FROM mysql.db \
WHERE (User = '' OR User = 'PUBLIC') AND Db LIKE 'test%' ORDER BY Db, User, Host";

/// Schemas the account can see (all of them with SELECT, SHOW DATABASES or SHOW VIEW on *.*).
pub const SCHEMATA: &str =
    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME";

/// Migration tool tables in every schema the account can see.
pub fn migrations() -> String {
    let names: Vec<String> = migrations::table_names().iter().map(|n| quote(n)).collect();
    format!(
        "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES \
WHERE TABLE_NAME IN ({}) \
AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') \
ORDER BY TABLE_SCHEMA, TABLE_NAME",
        names.join(", ")
    )
}

/// Binary log files and sizes (only run when log_bin is ON: otherwise the server
/// answers "You are not using binary logging").
pub const BINARY_LOGS: &str = "SHOW BINARY LOGS";

/// Current client sessions (other than the audit's own) per transport. Only TCP/IP and
/// SSL/TLS cross the network; Socket, Named Pipe and Shared Memory are local, and
/// `require_secure_transport` itself accepts them as secure.
pub const TLS_THREADS: &str = "SELECT CONNECTION_TYPE, COUNT(*) AS sessions FROM performance_schema.threads \
WHERE TYPE = 'FOREGROUND' AND PROCESSLIST_ID IS NOT NULL AND CONNECTION_TYPE IS NOT NULL \
AND PROCESSLIST_ID <> CONNECTION_ID() GROUP BY CONNECTION_TYPE ORDER BY CONNECTION_TYPE";

/// Custom check queries run inside this (the session is read-only as well).
pub const BEGIN_READ_ONLY: &str = "START TRANSACTION READ ONLY";

/// RDS and Aurora MySQL keep binary logs by their own setting, not by
/// `binlog_expire_logs_seconds` (read only where `basedir` is `/rdsdbbin/…`).
pub const RDS_BINLOG_RETENTION: &str =
    "SELECT name, value FROM mysql.rds_configuration WHERE name = 'binlog retention hours'";

#[cfg(test)]
mod tests {
    use super::*;

    fn version(text: &str) -> ServerVersion {
        ServerVersion::parse(text, "").unwrap_or_else(|| panic!("parse {text}"))
    }

    fn plan_for(text: &str) -> Plan {
        plan(&version(text), Duration::from_secs(10))
    }

    #[test]
    fn versions_and_flavours_parse() {
        let maria = version("10.11.19-MariaDB-0+deb12u1-log");
        assert_eq!(maria.flavour, Flavour::Mariadb);
        assert_eq!(maria.number(), "10.11.19");
        let old = version("5.5.5-10.4.8-MariaDB");
        assert_eq!(
            (old.flavour, old.major, old.minor),
            (Flavour::Mariadb, 10, 4)
        );
        let mysql = version("8.0.36-google");
        assert_eq!(mysql.flavour, Flavour::Mysql);
        assert_eq!(mysql.number(), "8.0.36");
        assert_eq!(version("8.4").number(), "8.4.0");
        let percona =
            ServerVersion::parse("8.0.35-27", "Percona Server (GPL), Release 27").unwrap();
        assert_eq!(percona.flavour, Flavour::Mysql);
        assert!(ServerVersion::parse("PostgreSQL 15", "").is_none());
    }

    /// The statement each version gets, per the MySQL and MariaDB reference manuals.
    #[test]
    fn replica_status_statement_follows_the_version() {
        let cases = [
            ("5.7.44", "SHOW SLAVE STATUS", "REPLICATION CLIENT"),
            ("8.0.21", "SHOW SLAVE STATUS", "REPLICATION CLIENT"),
            ("8.0.22", "SHOW REPLICA STATUS", "REPLICATION CLIENT"),
            ("8.4.3", "SHOW REPLICA STATUS", "REPLICATION CLIENT"),
            ("9.1.0", "SHOW REPLICA STATUS", "REPLICATION CLIENT"),
            (
                "10.4.34-MariaDB",
                "SHOW ALL SLAVES STATUS",
                "REPLICATION CLIENT",
            ),
            (
                "10.5.0-MariaDB",
                "SHOW ALL SLAVES STATUS",
                "REPLICATION CLIENT",
            ),
            (
                "10.5.2-MariaDB",
                "SHOW ALL REPLICAS STATUS",
                "REPLICATION SLAVE ADMIN",
            ),
            (
                "10.11.19-MariaDB-0+deb12u1",
                "SHOW ALL REPLICAS STATUS",
                "SLAVE MONITOR",
            ),
            (
                "11.4.4-MariaDB",
                "SHOW ALL REPLICAS STATUS",
                "SLAVE MONITOR",
            ),
        ];
        for (text, statement, privilege) in cases {
            let plan = plan_for(text);
            assert_eq!(plan.replica_status, statement, "{text}");
            assert_eq!(plan.replica_status_privilege, privilege, "{text}");
        }
        // 10.5.1 is where the REPLICA keyword arrived.
        assert_eq!(
            plan_for("10.5.1-MariaDB").replica_status,
            "SHOW ALL REPLICAS STATUS"
        );
    }

    #[test]
    fn no_removed_statement_is_ever_planned_for_mysql_8_4_and_later() {
        for text in ["8.4.0", "8.4.3", "9.1.0"] {
            let plan = plan_for(text);
            let all = format!("{plan:?} {}", variables());
            for removed in ["SHOW SLAVE", "SHOW MASTER", "SHOW SLAVE HOSTS"] {
                assert!(!all.contains(removed), "{text}: {removed}");
            }
        }
    }

    #[test]
    fn accounts_come_from_the_table_each_flavour_uses() {
        assert_eq!(plan_for("10.4.34-MariaDB").accounts, ACCOUNTS_GLOBAL_PRIV);
        assert_eq!(plan_for("10.11.19-MariaDB").accounts, ACCOUNTS_GLOBAL_PRIV);
        assert_eq!(plan_for("10.3.39-MariaDB").accounts, ACCOUNTS_MARIADB_USER);
        for text in ["5.7.44", "8.0.36", "8.4.3", "9.1.0"] {
            let plan = plan_for(text);
            assert_eq!(plan.accounts, ACCOUNTS_MYSQL_USER, "{text}");
            assert!(plan.accounts.contains("account_locked"), "{text}");
        }
        assert!(
            !ACCOUNTS_GLOBAL_PRIV.contains("account_locked ="),
            "no such column on MariaDB ≥ 10.4"
        );
        for sql in [
            ACCOUNTS_GLOBAL_PRIV,
            ACCOUNTS_MARIADB_USER,
            ACCOUNTS_MYSQL_USER,
        ] {
            assert!(
                !sql.contains("authentication_string AS"),
                "never read the hash"
            );
        }
    }

    #[test]
    fn statement_timeout_uses_each_flavours_variable_and_unit() {
        let maria = plan(&version("10.11.19-MariaDB"), Duration::from_millis(2500));
        assert_eq!(maria.session[0], "SET SESSION TRANSACTION READ ONLY");
        assert!(
            maria.session[1].contains("max_statement_time = 2.500"),
            "{:?}",
            maria.session
        );
        let mysql = plan(&version("8.0.36"), Duration::from_millis(2500));
        assert!(
            mysql.session[1].contains("max_execution_time = 2500"),
            "{:?}",
            mysql.session
        );
        let old = plan(&version("5.7.7"), Duration::from_secs(3));
        assert!(
            !old.session[1].contains("max_execution_time"),
            "{:?}",
            old.session
        );
    }

    #[test]
    fn binary_log_privilege_and_tls_threads_follow_the_version() {
        assert_eq!(
            plan_for("10.11.19-MariaDB").binary_logs_privilege,
            "BINLOG MONITOR"
        );
        assert_eq!(
            plan_for("10.5.0-MariaDB").binary_logs_privilege,
            "REPLICATION CLIENT"
        );
        assert_eq!(
            plan_for("8.4.3").binary_logs_privilege,
            "REPLICATION CLIENT"
        );
        assert!(plan_for("10.4.34-MariaDB").tls_threads.is_none());
        assert!(plan_for("10.11.19-MariaDB").tls_threads.is_some());
        assert!(plan_for("8.0.36").tls_threads.is_some());
    }

    #[test]
    fn show_statements_list_the_names() {
        let sql = variables();
        assert!(
            sql.starts_with("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('basedir', 'log_bin', ")
        );
        assert!(status().contains("'Max_used_connections'"));
        assert!(migrations().contains("'DATABASECHANGELOG'"));
    }
}
