//! A `pass` means the state is in effect (issue 20): role and database
//! overrides, a pg_hba.conf written but not loaded, a setting waiting for a
//! restart, an archive library without its settings — each on a real
//! PostgreSQL server of its own (support/pglab.rs `scratch`), audited through
//! the real binary.

mod support;

use std::time::Duration;
use support::cli::{finding, only_target, sqlready, status};
use support::pglab::{LAB_PASSWORD, PgServer, scratch};

fn audit(server: &PgServer, user: &str) -> serde_json::Value {
    let run = sqlready(&["audit", &server.url(user, "app"), "--format", "json"]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}\n{}",
        run.code,
        run.stderr,
        run.stdout
    );
    assert!(!run.stdout.contains(LAB_PASSWORD) && !run.stderr.contains(LAB_PASSWORD));
    run.json()
}

fn detail(target: &serde_json::Value, check: &str) -> String {
    finding(target, check)["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn role_and_database_overrides_are_judged_with_the_role_and_database_named() {
    let server = scratch(
        "overrides",
        &[
            ("log_min_duration_statement", "500"),
            ("log_connections", "on"),
        ],
    );
    // Server-wide everything is right: the audit session sees on / 500 ms.
    let report = audit(&server, "postgres");
    let target = only_target(&report);
    assert_eq!(status(target, "durability.synchronous_commit"), "pass");
    assert_eq!(status(target, "slow_queries.logged"), "pass");
    assert_eq!(status(target, "audit.connections_logged"), "pass");
    assert_eq!(status(target, "network.password_encryption"), "pass");

    server.psql(
        "postgres",
        "CREATE ROLE app LOGIN;
         CREATE ROLE reporting NOLOGIN;
         CREATE DATABASE shop;
         ALTER ROLE app SET synchronous_commit = off;
         ALTER ROLE reporting SET synchronous_commit = off;
         ALTER DATABASE shop SET log_min_duration_statement = -1;
         ALTER ROLE app IN DATABASE shop SET password_encryption = md5;
         CREATE DATABASE reports;
         ALTER DATABASE reports SET log_min_duration_statement = '5s';
         ALTER DATABASE postgres SET \"app.jwt_secret\" = 'not-for-the-report';",
    );
    let report = audit(&server, "postgres");
    let target = only_target(&report);
    assert_eq!(status(target, "durability.synchronous_commit"), "fail");
    let sync = detail(target, "durability.synchronous_commit");
    assert!(sync.contains("role app (every database)"), "{sync}");
    // A role that cannot log in never gets its settings applied.
    assert!(!sync.contains("reporting"), "{sync}");
    assert_eq!(status(target, "slow_queries.logged"), "fail");
    let logged = detail(target, "slow_queries.logged");
    assert!(logged.contains("every role in database shop"), "{logged}");
    // A longer threshold still logs slow statements: not a finding.
    assert!(!logged.contains("reports"), "{logged}");
    // Values are typed in the setting's unit: '5s' for a setting in ms is 5000.
    let overrides =
        &finding(target, "slow_queries.logged")["evidence"]["postgres.setting_overrides"];
    let reports = overrides
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["database"] == "reports")
        .unwrap_or_else(|| panic!("{overrides:#}"));
    assert_eq!(reports["value"], 5000, "{reports:#}");
    assert_eq!(status(target, "network.password_encryption"), "warn");
    let password = detail(target, "network.password_encryption");
    assert!(password.contains("role app in database shop"), "{password}");
    // PostgreSQL refuses ALTER ROLE … SET log_connections: nothing to override.
    assert_eq!(status(target, "audit.connections_logged"), "pass");
    // Only the settings checks judge are read from pg_db_role_setting.
    let text = report.to_string();
    assert!(
        !text.contains("not-for-the-report"),
        "a custom setting leaked"
    );
    assert!(!text.contains("jwt_secret"), "a custom setting leaked");
}

#[test]
fn pg_hba_rewritten_without_a_reload_is_not_a_pass() {
    let server = scratch("hba_reload", &[("ssl", "on")]);
    let path = server.datadir.join("pg_hba.conf");
    let written = std::fs::read_to_string(&path).unwrap();
    let remote = "host    all          all  10.0.0.0/8      scram-sha-256\n";
    std::fs::write(&path, format!("{written}{remote}")).unwrap();
    // The file time has whole seconds: a reload a second later orders them.
    let reload = || {
        std::thread::sleep(Duration::from_millis(1100));
        server.psql("postgres", "SELECT pg_reload_conf();");
        std::thread::sleep(Duration::from_millis(300));
    };
    reload();
    let report = audit(&server, "postgres");
    let target = only_target(&report);
    assert_eq!(
        status(target, "network.hba_loaded"),
        "pass",
        "{:#}",
        finding(target, "network.hba_loaded")
    );
    // A remote `host` line: TLS is not required.
    assert_eq!(status(target, "network.tls_required"), "fail");
    assert!(detail(target, "network.tls_required").contains("10.0.0.0/8"));

    // Rewritten to hostssl (a second after the load), and not reloaded.
    std::thread::sleep(Duration::from_millis(1100));
    let hostssl = remote.replacen("host   ", "hostssl", 1);
    std::fs::write(&path, format!("{written}{hostssl}")).unwrap();
    let report = audit(&server, "postgres");
    let target = only_target(&report);
    // The file alone would pass; the server still enforces the old rules.
    assert_eq!(
        finding(target, "network.tls_required")["evidence"]["network.hba_insecure_rules"],
        serde_json::json!([])
    );
    assert_eq!(status(target, "network.hba_loaded"), "fail");
    let hba_detail = detail(target, "network.hba_loaded");
    assert!(hba_detail.contains("not the ones enforced"), "{hba_detail}");
    assert_eq!(status(target, "network.tls_required"), "fail");
    let tls = detail(target, "network.tls_required");
    assert!(tls.contains("not the ones enforced"), "{tls}");

    // Reloaded: in effect, and judged as written.
    reload();
    let report = audit(&server, "postgres");
    let target = only_target(&report);
    assert_eq!(status(target, "network.hba_loaded"), "pass");
    assert_eq!(status(target, "network.tls_required"), "pass");

    // A role that may not run pg_stat_file gets unknown with the grant, never pass.
    let report = audit(&server, "auditor");
    let target = only_target(&report);
    let loaded = finding(target, "network.hba_loaded");
    assert_eq!(loaded["status"], "unknown", "{loaded:#}");
    assert!(
        loaded["resolve"][0]
            .as_str()
            .unwrap()
            .contains("pg_stat_file")
    );
}

#[test]
fn a_setting_waiting_for_a_restart_is_a_finding() {
    let server = scratch("pending", &[]);
    let report = audit(&server, "auditor");
    assert_eq!(
        status(only_target(&report), "config.pending_restart"),
        "pass"
    );
    server.psql(
        "postgres",
        "ALTER SYSTEM SET max_connections = 150;
         SELECT pg_reload_conf();",
    );
    std::thread::sleep(Duration::from_millis(500));
    let report = audit(&server, "auditor");
    let target = only_target(&report);
    assert_eq!(status(target, "config.pending_restart"), "warn");
    let text = detail(target, "config.pending_restart");
    assert!(text.contains("max_connections"), "{text}");
}

#[test]
fn basic_archive_without_its_directory_archives_nothing_and_is_not_a_pass() {
    let server = scratch(
        "basic_archive",
        &[("archive_mode", "on"), ("archive_library", "basic_archive")],
    );
    server.psql(
        "postgres",
        "CREATE TABLE w AS SELECT g FROM generate_series(1, 1000) g; SELECT pg_switch_wal();",
    );
    std::thread::sleep(Duration::from_millis(500));
    // The archiver counts no failure: pg_stat_archiver alone would look healthy.
    assert_eq!(
        server.psql(
            "postgres",
            "SELECT archived_count || '/' || failed_count FROM pg_stat_archiver"
        ),
        "0/0"
    );
    let report = audit(&server, "auditor");
    let target = only_target(&report);
    assert_eq!(status(target, "pitr.wal_archiving"), "fail");
    let text = detail(target, "pitr.wal_archiving");
    assert!(text.contains("basic_archive.archive_directory"), "{text}");
    assert_ne!(status(target, "pitr.archiver_healthy"), "pass");

    // Given its directory (a reload is enough), it archives and passes.
    let dir = server.owned_subdir("archive");
    // ALTER SYSTEM refuses a setting of a library this backend has not loaded.
    server.configure(&[("basic_archive.archive_directory", dir.display().to_string())]);
    server.psql("postgres", "SELECT pg_reload_conf();");
    std::thread::sleep(Duration::from_millis(500));
    server.psql("postgres", "SELECT pg_switch_wal();");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.psql(
        "postgres",
        "SELECT archived_count > 0 FROM pg_stat_archiver",
    ) != "t"
    {
        assert!(
            std::time::Instant::now() < deadline,
            "never archived\n{}",
            server.log_tail()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let report = audit(&server, "auditor");
    let target = only_target(&report);
    assert_eq!(status(target, "pitr.wal_archiving"), "pass");
    assert_eq!(status(target, "pitr.archiver_healthy"), "pass");
}

/// A binary-log client that is not a replica (what Debezium or DMS look like
/// to the source: a `Binlog Dump` thread) does not count as one.
#[test]
fn a_binlog_client_that_is_not_a_replica_is_not_counted() {
    use support::mylab;
    let good = &mylab::lab().good;
    let first_log = good.sql("SHOW BINARY LOGS");
    let first_log = first_log.split_whitespace().next().expect("a binary log");
    /// Ends the client even when an assertion fails first.
    struct Client(std::process::Child);
    impl Drop for Client {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let client = std::process::Command::new("mariadb-binlog")
        .args([
            "--read-from-remote-server",
            "--stop-never",
            "--protocol=tcp",
        ])
        .args([
            "-h",
            "127.0.0.1",
            "-P",
            &good.port.to_string(),
            "-u",
            "repl",
        ])
        .arg(first_log)
        .env("MYSQL_PWD", mylab::LAB_PASSWORD)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(Client)
        .expect("mariadb-binlog runs");
    let dumps =
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'";
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while good.sql(dumps) != "2" {
        assert!(
            std::time::Instant::now() < deadline,
            "the binlog client never streamed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let run = sqlready(&["audit", &good.url("auditor"), "--format", "json"]);
    drop(client);
    let report = run.json();
    let target = only_target(&report);
    let present = finding(target, "replicas.present");
    // Two clients stream the binary log; one is a registered replica.
    assert_eq!(present["evidence"]["replicas.count"], 1, "{present:#}");
    assert_eq!(present["status"], "pass");
}

/// A role at its own CONNECTION LIMIT is refused its next connection, however
/// much room the server has.
#[test]
fn a_role_at_its_connection_limit_is_a_finding_while_the_server_has_room() {
    let server = scratch("role_limit", &[]);
    server.psql(
        "postgres",
        &format!("CREATE ROLE app LOGIN PASSWORD '{LAB_PASSWORD}' CONNECTION LIMIT 1;"),
    );
    let report = audit(&server, "auditor");
    let target = only_target(&report);
    assert_eq!(status(target, "connections.role_limits"), "pass");
    let url = server.url("app", "app");
    let holder = std::thread::spawn(move || support::pglab::psql_url(&url, "SELECT pg_sleep(6)"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.psql(
        "postgres",
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'",
    ) != "1"
    {
        assert!(std::time::Instant::now() < deadline, "app never connected");
        std::thread::sleep(Duration::from_millis(50));
    }
    let report = audit(&server, "auditor");
    let target = only_target(&report);
    assert_eq!(status(target, "connections.headroom"), "pass");
    assert_eq!(status(target, "connections.role_limits"), "warn");
    let text = detail(target, "connections.role_limits");
    assert!(
        text.contains("role app: 1 session(s) of its CONNECTION LIMIT 1"),
        "{text}"
    );
    let _ = holder.join();
}

/// pg_settings shows the audit session's own value: when the auditor's role
/// overrides a setting, the server-wide value everyone else gets is hidden,
/// and the check must not pass on the auditor's value.
#[test]
fn the_auditors_own_override_hides_the_server_value_and_is_never_a_pass() {
    let server = scratch("auditor_override", &[("synchronous_commit", "off")]);
    server.psql(
        "postgres",
        "ALTER ROLE auditor SET synchronous_commit = on;",
    );
    let report = audit(&server, "auditor");
    let target = only_target(&report);
    let sync = finding(target, "durability.synchronous_commit");
    assert_eq!(sync["status"], "unknown", "{sync:#}");
    assert!(
        sync["detail"]
            .as_str()
            .unwrap()
            .contains("pg_settings.source = user"),
        "{sync:#}"
    );
    // Another role without the override sees the server's value.
    let report = audit(&server, "postgres");
    assert_eq!(
        status(only_target(&report), "durability.synchronous_commit"),
        "fail"
    );
}

/// MySQL/MariaDB refuse an account's next connection at its own
/// MAX_USER_CONNECTIONS however much room max_connections leaves: judged like
/// a PostgreSQL role's CONNECTION LIMIT, with the account named.
#[test]
fn an_account_at_its_max_user_connections_is_a_finding_while_the_server_has_room() {
    use support::mylab;
    let good = &mylab::lab().good;
    good.sql(&format!(
        "CREATE USER 'limited'@'%' IDENTIFIED BY '{}' WITH MAX_USER_CONNECTIONS 1 MAX_CONNECTIONS_PER_HOUR 500",
        mylab::LAB_PASSWORD
    ));
    /// Drops the account and ends its session even when an assertion fails first.
    struct Account<'a>(&'a mylab::MyServer, Option<std::process::Child>);
    impl Drop for Account<'_> {
        fn drop(&mut self) {
            if let Some(child) = &mut self.1 {
                let _ = child.kill();
                let _ = child.wait();
            }
            let _ = self.0.try_sql("DROP USER IF EXISTS 'limited'@'%'");
        }
    }
    let mut account = Account(good, None);
    let run = sqlready(&["audit", &good.url("auditor"), "--format", "json"]);
    let report = run.json();
    let target = only_target(&report);
    let limits = finding(target, "connections.role_limits");
    assert_eq!(limits["status"], "pass", "{limits:#}");
    let rows = limits["evidence"]["connections.limits"].to_string();
    assert!(rows.contains("'limited'@'%'"), "{rows}");
    account.1 = Some(
        std::process::Command::new("mariadb")
            .args(["--protocol=tcp", "-h", "127.0.0.1", "-P"])
            .arg(good.port.to_string())
            .args(["-u", "limited", "-e", "SELECT SLEEP(20)"])
            .env("MYSQL_PWD", mylab::LAB_PASSWORD)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("mariadb runs"),
    );
    good.wait_for(
        "the limited account's session",
        "SELECT COUNT(*) = 1 FROM information_schema.PROCESSLIST WHERE USER = 'limited'",
    );
    let run = sqlready(&["audit", &good.url("auditor"), "--format", "json"]);
    let report = run.json();
    let target = only_target(&report);
    assert_eq!(status(target, "connections.headroom"), "pass");
    assert_eq!(status(target, "connections.role_limits"), "warn");
    let text = detail(target, "connections.role_limits");
    assert!(
        text.contains("account 'limited'@'%': 1 session(s) of its MAX_USER_CONNECTIONS 1"),
        "{text}"
    );
    // The hourly allowance has room: not named.
    assert!(!text.contains("MAX_CONNECTIONS_PER_HOUR"), "{text}");
}

/// Slots, roles, settings overrides, transaction-ID age and pg_stat_statements' statistics are cluster-wide:
/// the audit connected to `app` sees what was created from `postgres` (issue
/// 20 point 5: cluster-wide facts read from any database).
#[test]
fn cluster_wide_facts_are_the_same_from_any_database() {
    let server = scratch(
        "cluster_wide",
        &[
            ("wal_level", "logical"),
            ("shared_preload_libraries", "pg_stat_statements"),
        ],
    );
    server.psql(
        "postgres",
        "CREATE EXTENSION pg_stat_statements;
         SELECT pg_create_logical_replication_slot('cdc_from_postgres', 'test_decoding');
         SELECT pg_create_physical_replication_slot('standby_slot');
         CREATE ROLE batch LOGIN SUPERUSER;
         ALTER DATABASE postgres SET synchronous_commit = off;",
    );
    // audit() connects to the database `app`.
    let report = audit(&server, "postgres");
    let target = only_target(&report);
    let slots = finding(target, "cdc.slots_healthy");
    let names = slots["evidence"]["replication.slots"].to_string();
    assert!(names.contains("cdc_from_postgres"), "{slots:#}");
    assert!(names.contains("standby_slot"), "{slots:#}");
    let headroom = detail(target, "cdc.slot_headroom");
    assert!(headroom.starts_with("2 of "), "{headroom}");
    // A superuser login created from another database is a login of the cluster.
    let supers = detail(target, "access_control.pg_superuser_logins");
    assert!(supers.contains("batch"), "{supers}");
    // An override of another database reaches every role that logs in there.
    assert_eq!(status(target, "durability.synchronous_commit"), "fail");
    let sync = detail(target, "durability.synchronous_commit");
    assert!(sync.contains("every role in database postgres"), "{sync}");
    // pg_stat_statements collects for the cluster; created in postgres, it is
    // readable there, though not in app.
    let statistics = finding(target, "slow_queries.statistics");
    assert_eq!(statistics["status"], "pass", "{statistics:#}");
    // The oldest database is named whichever database the audit uses.
    let xid = finding(target, "durability.xid_wraparound");
    assert_eq!(xid["status"], "pass", "{xid:#}");
    // pg_database covers every database: the oldest is not the one connected to
    // (app was created last, from template1).
    let oldest = xid["detail"].as_str().unwrap_or_default();
    assert!(oldest.starts_with("oldest database "), "{xid:#}");
    assert!(!oldest.starts_with("oldest database app "), "{xid:#}");
}

/// pgaudit writes at pgaudit.log_level: a level below log_min_messages is
/// discarded server-wide or for the role that sets it, and a role that logs
/// statements makes the log line prefix matter even when the server logs none.
#[test]
fn pgaudit_lines_below_log_min_messages_are_not_an_audit_trail() {
    let server = scratch(
        "pgaudit_level",
        &[
            ("shared_preload_libraries", "pgaudit"),
            ("pgaudit.log", "ddl,role"),
        ],
    );
    let report = audit(&server, "postgres");
    let target = only_target(&report);
    assert_eq!(
        status(target, "audit.pgaudit"),
        "pass",
        "{}",
        detail(target, "audit.pgaudit")
    );

    server.psql(
        "postgres",
        "ALTER SYSTEM SET pgaudit.log_level = 'notice'; SELECT pg_reload_conf();",
    );
    let report = audit(&server, "postgres");
    let target = only_target(&report);
    assert_eq!(status(target, "audit.pgaudit"), "fail");
    let text = detail(target, "audit.pgaudit");
    assert!(
        text.contains("pgaudit.log_level = notice") && text.contains("log_min_messages = warning"),
        "{text}"
    );

    server.psql(
        "postgres",
        "ALTER SYSTEM RESET pgaudit.log_level; SELECT pg_reload_conf();
         CREATE ROLE appuser LOGIN;
         ALTER ROLE appuser SET pgaudit.log_level = 'debug1';",
    );
    let report = audit(&server, "postgres");
    let target = only_target(&report);
    assert_eq!(status(target, "audit.pgaudit"), "fail");
    let text = detail(target, "audit.pgaudit");
    assert!(
        text.contains("role appuser (every database) (pgaudit.log_level = debug1)"),
        "{text}"
    );
}

/// log_statement set for one role writes statement lines: their prefix must
/// say who ran them although the server-wide log_statement is none.
#[test]
fn a_role_that_logs_statements_makes_the_log_line_prefix_apply() {
    let server = scratch("log_statement_role", &[("log_line_prefix", "%m [%p] ")]);
    let report = audit(&server, "postgres");
    let target = only_target(&report);
    assert_eq!(status(target, "audit.log_line_prefix"), "n/a");
    server.psql(
        "postgres",
        "CREATE ROLE admin LOGIN; ALTER ROLE admin SET log_statement = 'ddl';",
    );
    let report = audit(&server, "postgres");
    let target = only_target(&report);
    assert_eq!(status(target, "audit.log_line_prefix"), "fail");
}

/// Settings that leave statements out of the MariaDB slow log and the audit
/// log are read: min_examined_row_limit and log_slow_rate_limit make the slow
/// log a `warn`, server_audit_excl_users is named in the audit detail.
#[test]
fn mariadb_slow_log_and_audit_narrowing_is_read() {
    use support::mylab;
    let good = &mylab::lab().good;
    /// Puts the globals back even when an assertion fails first.
    struct Restore<'a>(&'a mylab::MyServer);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = self.0.try_sql(
                "SET GLOBAL min_examined_row_limit = 0; SET GLOBAL log_slow_rate_limit = 1; \
                 SET GLOBAL server_audit_excl_users = ''",
            );
        }
    }
    let _restore = Restore(good);
    let audit = || {
        let run = sqlready(&["audit", &good.url("auditor"), "--format", "json"]);
        run.json()
    };
    let report = audit();
    let target = only_target(&report);
    assert_eq!(status(target, "slow_queries.mysql_long_query_time"), "pass");
    good.sql(
        "SET GLOBAL min_examined_row_limit = 1000; SET GLOBAL log_slow_rate_limit = 10; \
         SET GLOBAL server_audit_excl_users = 'app'",
    );
    let report = audit();
    let target = only_target(&report);
    assert_eq!(status(target, "slow_queries.mysql_long_query_time"), "warn");
    let text = detail(target, "slow_queries.mysql_long_query_time");
    assert!(
        text.contains("min_examined_row_limit = 1000") && text.contains("log_slow_rate_limit = 10"),
        "{text}"
    );
    let audit_detail = detail(target, "audit.mysql_plugin");
    assert!(
        audit_detail.contains("users app are never audited"),
        "{audit_detail}"
    );
}
