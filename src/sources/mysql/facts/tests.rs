//! Facts from recorded result sets, per flavour and version.

use super::*;
use crate::facts::{Fact, FactState};

/// MariaDB 10.11.19, fresh `mariadb-install-db` (lossy flush), as the auditor account.
const MARIADB_DEFAULTS: &str =
    include_str!("../../../../tests/fixtures/mysql/mariadb-10.11-defaults-auditor.json");
/// MariaDB 10.11.19, production-like, as a USAGE-only account.
const MARIADB_GOOD_BARE: &str =
    include_str!("../../../../tests/fixtures/mysql/mariadb-10.11-good-bare.json");
/// MariaDB 10.11.19, a GTID replica, as the auditor account.
const MARIADB_REPLICA: &str =
    include_str!("../../../../tests/fixtures/mysql/mariadb-10.11-replica-auditor.json");
/// MySQL 8.0.36 replica: SHOW REPLICA STATUS columns per the 8.0 manual.
const MYSQL_80_REPLICA: &str =
    include_str!("../../../../tests/fixtures/mysql/mysql-8.0.36-replica.json");
/// MySQL 8.4.3 source: no expire_logs_days, mysql.user with account_locked.
const MYSQL_84_SOURCE: &str =
    include_str!("../../../../tests/fixtures/mysql/mysql-8.4.3-source.json");
/// MySQL 5.7.44 replica: SHOW SLAVE STATUS columns, expire_logs_days.
const MYSQL_57_REPLICA: &str =
    include_str!("../../../../tests/fixtures/mysql/mysql-5.7.44-replica.json");

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
    let schemata = |names: &[&str]| rows(names.iter().map(|n| json!({"SCHEMA_NAME": n})).collect());
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
