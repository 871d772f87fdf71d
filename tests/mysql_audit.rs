//! `sqlready audit mysql://…` against real MariaDB servers configured per scenario
//! (see support/mylab.rs), through the real binary. MySQL 5.7 / 8.0 / 8.4 cannot
//! be installed here: their statement and column differences are covered by the
//! unit tests in src/sources/mysql/{queries,facts}.rs on recorded result sets.

mod support;

use serde_json::Value;
use std::io::Write;
use std::net::TcpListener;
use support::cli::{
    Run, assert_items, finding, item, only_target, sqlready, sqlready_with_env, status,
};
use support::mylab::{LAB_PASSWORD, MyServer, lab};

fn audit(server: &MyServer, user: &str) -> Run {
    sqlready(&["audit", &server.url(user), "--format", "json"])
}

fn assert_no_secret(run: &Run) {
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(LAB_PASSWORD), "the password leaked:\n{text}");
    }
}

/// The one target of a successful audit (exit 0 or 1, never a leaked password).
fn audit_target(server: &MyServer, user: &str) -> Value {
    let run = audit(server, user);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}\n{}",
        run.code,
        run.stderr,
        run.stdout
    );
    assert_no_secret(&run);
    let report = run.json();
    let target = only_target(&report).clone();
    assert!(target["error"].is_null(), "{target:#}");
    target
}

fn resolve(target: &Value, check: &str) -> String {
    finding(target, check)["resolve"].to_string()
}

fn detail(target: &Value, check: &str) -> String {
    finding(target, check)["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn lab_starts_quickly_and_never_on_the_system_port() {
    let lab = lab();
    eprintln!("MariaDB lab started in {:?}", lab.started_in);
    assert!(
        lab.started_in.as_secs() < 30,
        "lab took {:?}",
        lab.started_in
    );
    for port in [lab.defaults.port, lab.good.port, lab.replica.port] {
        assert_ne!(port, 3306);
    }
}

#[test]
fn defaults_fail_what_a_fresh_install_leaves_undone() {
    let target = audit_target(&lab().defaults, "auditor");
    assert_eq!(target["kind"], "mysql");
    assert_eq!(target["engine"], "mariadb");
    assert_eq!(target["role"], "primary");
    assert!(
        target["version"].as_str().unwrap().starts_with("10."),
        "{}",
        target["version"]
    );
    assert_eq!(
        target["id"],
        format!("mysql://127.0.0.1:{}/", lab().defaults.port)
    );
    assert_eq!(target["items"].as_object().unwrap().len(), 21);

    assert_eq!(item(&target, "replicas"), "fail");
    assert_eq!(status(&target, "replicas.present"), "fail");
    assert_eq!(item(&target, "pitr"), "fail");
    assert_eq!(status(&target, "pitr.binlog_enabled"), "fail");
    assert_eq!(status(&target, "pitr.mysql_binlog_retention"), "n/a");
    assert_eq!(item(&target, "cdc"), "fail");
    assert!(detail(&target, "cdc.mysql_binlog_format_row").contains("log_bin is off"));
    assert_eq!(item(&target, "slow_queries"), "fail");
    assert_eq!(status(&target, "slow_queries.mysql_slow_log"), "fail");
    assert_eq!(
        status(&target, "slow_queries.mysql_performance_schema"),
        "warn"
    );
    assert_eq!(item(&target, "audit_logging"), "fail");
    assert_eq!(
        detail(&target, "audit.mysql_plugin"),
        "no audit plugin is loaded"
    );
    assert_eq!(item(&target, "durability"), "fail");
    assert_eq!(
        status(&target, "durability.mysql_flush_log_at_trx_commit"),
        "fail"
    );
    assert_eq!(
        status(&target, "durability.mysql_sync_binlog"),
        "n/a",
        "no binary log to sync"
    );
    assert_eq!(status(&target, "durability.mysql_doublewrite"), "pass");
    assert_eq!(item(&target, "migrations"), "fail");
    assert_eq!(item(&target, "connection_pooling"), "pass");
    assert_eq!(item(&target, "version_support"), "pass");

    // Security basics of a fresh install.
    assert_eq!(item(&target, "network_security"), "fail");
    assert_eq!(item(&target, "access_control"), "fail");
    let empty = detail(&target, "access_control.passwordless_logins");
    assert!(
        empty.contains("'root'@'localhost'") && empty.contains("'root'@'127.0.0.1'"),
        "{empty}"
    );
    assert_eq!(
        status(&target, "access_control.mysql_anonymous_accounts"),
        "fail"
    );
    assert!(detail(&target, "access_control.mysql_anonymous_accounts").contains("''@'localhost'"));
    // The test schema fails for the grant that opens it to everyone, not for existing.
    let test_db = finding(&target, "access_control.mysql_test_database");
    assert_eq!(test_db["status"], "fail", "{test_db:#}");
    assert!(
        test_db["detail"]
            .as_str()
            .unwrap()
            .contains(" on test (grant on `test`)"),
        "{test_db:#}"
    );
    // The auditor holds no SUPER; the install's roots are local only.
    assert_eq!(
        status(&target, "access_control.auditor_not_superuser"),
        "pass"
    );
    assert_eq!(
        status(&target, "access_control.mysql_remote_superusers"),
        "pass"
    );
    assert_eq!(status(&target, "network.mysql_tls_available"), "fail");
    let tls = detail(&target, "network.mysql_tls_required");
    assert!(
        tls.contains("'auditor'@'%'") && tls.contains("'bare'@'%'"),
        "{tls}"
    );
    // performance_schema is OFF by default on MariaDB: per-session TLS is unknowable.
    assert_eq!(status(&target, "network.tls_in_use"), "unknown");
    assert!(resolve(&target, "network.tls_in_use").contains("performance_schema = ON"));

    // What SQL cannot see stays unknown.
    assert_eq!(item(&target, "multi_zone"), "unknown");
    assert_eq!(item(&target, "backups"), "unknown");
}

#[test]
fn narrow_account_judges_access_control_like_the_auditor() {
    let auditor = audit_target(&lab().defaults, "auditor");
    let narrow = audit_target(&lab().defaults, "narrow");
    for check in [
        "access_control.passwordless_logins",
        "access_control.mysql_anonymous_accounts",
        "access_control.mysql_test_database",
        "access_control.mysql_remote_superusers",
    ] {
        assert_eq!(
            finding(&narrow, check)["detail"],
            finding(&auditor, check)["detail"],
            "{check}"
        );
    }
    assert_eq!(
        status(&narrow, "access_control.auditor_not_superuser"),
        "pass"
    );
    assert_eq!(item(&narrow, "access_control"), "fail");
}

#[test]
fn good_server_passes_and_says_why() {
    let target = audit_target(&lab().good, "auditor");
    assert_eq!(target["role"], "primary");
    assert_items(
        &target,
        &[
            "pitr",
            "cdc",
            "migrations",
            "slow_queries",
            "audit_logging",
            "durability",
            "version_support",
            "connection_pooling",
        ],
        "pass",
    );
    // Every network check SQL can judge passes; whether the server has a public IP
    // only the cloud API can tell, so the item stays unknown.
    for check in [
        "network.mysql_tls_available",
        "network.mysql_tls_required",
        "network.tls_in_use",
    ] {
        assert_eq!(
            status(&target, check),
            "pass",
            "{check}: {:#}",
            finding(&target, check)
        );
    }
    // The lab listens on loopback only (bind_address = 127.0.0.1,::1): the server
    // itself knows it is not reachable from the network.
    assert_eq!(status(&target, "network.no_public_ip"), "pass");
    // Who can log in, with what rights: judged and right. The minor release is
    // the newest the table knows (10.11.19), but that row is older than MariaDB's
    // quarterly cadence: "not behind" cannot be claimed today, so the item is
    // unknown, never pass on the table's word.
    let minor = finding(&target, "access_control.minor_release");
    assert_eq!(minor["status"], "unknown", "{minor:#}");
    assert!(
        minor["detail"]
            .as_str()
            .unwrap()
            .contains("10.11.19 is the newest the table knows, but newer releases may exist"),
        "{minor:#}"
    );
    assert_eq!(item(&target, "access_control"), "unknown");
    for check in [
        "access_control.superuser_sessions",
        "access_control.mysql_anonymous_accounts",
        "access_control.mysql_remote_superusers",
    ] {
        assert_eq!(
            status(&target, check),
            "pass",
            "{:#}",
            finding(&target, check)
        );
    }
    assert_eq!(
        detail(&target, "access_control.auditor_not_superuser"),
        "'auditor'@'%' is not a superuser"
    );
    // One replica is one (MySQLTuner counted four on MariaDB ≥ 10.5).
    let present = finding(&target, "replicas.present");
    assert_eq!(present["status"], "pass", "{present:#}");
    assert_eq!(present["evidence"]["replicas.count"], 1);
    // A source cannot see its replicas' lag: unknown, resolved by auditing the replica.
    assert_eq!(status(&target, "replicas.lag"), "unknown");
    assert!(resolve(&target, "replicas.lag").contains("audit each replica"));
    assert_eq!(item(&target, "replicas"), "unknown");

    let migrations =
        finding(&target, "migrations.tool_detected")["evidence"]["migrations.tables"].to_string();
    assert!(
        migrations.contains("Flyway") && migrations.contains("schema_migrations"),
        "{migrations}"
    );
    assert_eq!(
        detail(&target, "audit.mysql_plugin"),
        "server_audit is active and server_audit_logging is ON (all events)"
    );
    assert!(detail(&target, "pitr.mysql_binlog_retention").contains("168 h"));
    assert_eq!(item(&target, "multi_zone"), "unknown");
    assert_eq!(item(&target, "backups"), "unknown");
}

#[test]
fn replica_knows_it_is_a_replica() {
    let target = audit_target(&lab().replica, "auditor");
    assert_eq!(target["role"], "replica");
    assert_eq!(status(&target, "replicas.mysql_threads_running"), "pass");
    assert_eq!(status(&target, "replicas.replica_streaming"), "pass");
    assert_eq!(status(&target, "replicas.replica_delay"), "pass");
    assert_eq!(status(&target, "replicas.mysql_read_only"), "pass");
    assert_eq!(status(&target, "replicas.present"), "n/a");
    assert_eq!(item(&target, "replicas"), "pass");
    assert_eq!(item(&target, "backups"), "n/a");
    assert_eq!(status(&target, "pitr.binlog_enabled"), "n/a");
    // Accounts and tables arrived through replication.
    assert_eq!(item(&target, "migrations"), "pass");
}

#[test]
fn narrow_account_without_data_access_sees_what_the_auditor_sees() {
    let auditor = audit_target(&lab().good, "auditor");
    let narrow = audit_target(&lab().good, "narrow");
    assert_eq!(auditor["items"], narrow["items"]);
    let auditor = audit_target(&lab().replica, "auditor");
    let narrow = audit_target(&lab().replica, "narrow");
    assert_eq!(auditor["items"], narrow["items"]);
}

#[test]
fn bare_account_gets_unknowns_with_the_grant_that_fixes_them() {
    let target = audit_target(&lab().good, "bare");
    // Variables, status and plugins need no privilege.
    assert_eq!(item(&target, "cdc"), "pass");
    assert_eq!(item(&target, "durability"), "pass");
    assert_eq!(item(&target, "audit_logging"), "pass");
    // MariaDB's privilege-free Slaves_connected still counts the replica.
    assert_eq!(status(&target, "replicas.present"), "pass");
    // The account list needs SELECT on mysql.global_priv.
    assert_eq!(
        status(&target, "access_control.passwordless_logins"),
        "unknown"
    );
    assert!(
        resolve(&target, "access_control.passwordless_logins")
            .contains("GRANT SELECT ON mysql.global_priv TO 'bare'@'%'")
    );
    assert_eq!(
        status(&target, "access_control.mysql_test_database"),
        "unknown"
    );
    assert!(
        resolve(&target, "access_control.mysql_test_database")
            .contains("GRANT SELECT ON mysql.db TO 'bare'@'%'")
    );
    assert_eq!(item(&target, "access_control"), "unknown");
    // information_schema.TABLES is silently empty: unknown, never "no migrations".
    assert_eq!(item(&target, "migrations"), "unknown");
    assert!(resolve(&target, "migrations.tool_detected").contains("SHOW VIEW"));
    assert_eq!(status(&target, "network.tls_in_use"), "unknown");
    assert!(resolve(&target, "network.tls_in_use").contains("performance_schema.threads"));
    assert_ne!(item(&target, "network_security"), "pass");

    // On the replica: replica status needs SLAVE MONITOR; the role still shows.
    let target = audit_target(&lab().replica, "bare");
    assert_eq!(target["role"], "replica");
    assert_eq!(status(&target, "replicas.mysql_threads_running"), "unknown");
    assert!(
        resolve(&target, "replicas.mysql_threads_running")
            .contains("GRANT SLAVE MONITOR ON *.* TO 'bare'@'%'")
    );
    assert_eq!(item(&target, "replicas"), "unknown");
}

#[test]
fn mariadb_scheme_and_mysql_pwd_are_honoured() {
    let server = &lab().good;
    let url = format!("mariadb://auditor@127.0.0.1:{}/app", server.port);
    let run = sqlready_with_env(
        &["audit", &url, "--format", "json"],
        &[("MYSQL_PWD", LAB_PASSWORD)],
    );
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}\n{}",
        run.code,
        run.stderr,
        run.stdout
    );
    assert_no_secret(&run);
    let report = run.json();
    let target = only_target(&report);
    assert_eq!(
        target["id"],
        format!("mysql://127.0.0.1:{}/app", server.port)
    );
    assert_eq!(item(target, "cdc"), "pass");
}

#[test]
fn wrong_password_is_one_clear_error_without_the_password() {
    let url = lab()
        .good
        .url("auditor")
        .replace(LAB_PASSWORD, "not-the-password-123");
    let run = sqlready(&["audit", &url, "--format", "json", "-vv"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let target = only_target(&report);
    let error = target["error"].as_str().unwrap();
    assert!(
        error.contains("authentication failed for user 'auditor'"),
        "{error}"
    );
    assert!(error.contains("MYSQL_PWD"), "{error}");
    assert!(
        !error.contains("ssl-mode"),
        "no TLS hint when TLS was not disabled: {error}"
    );
    assert!(
        !run.stdout.contains("not-the-password-123")
            && !run.stderr.contains("not-the-password-123")
    );
    assert!(
        target["items"]
            .as_object()
            .unwrap()
            .values()
            .all(|s| s == "error")
    );
}

/// A port that accepts TCP and never says anything: what a PostgreSQL server looks
/// like to a MySQL client (it waits for the client to speak first).
fn silent_port() -> u16 {
    if std::net::TcpStream::connect("127.0.0.1:5432").is_ok() {
        return 5432; // the system PostgreSQL
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// A port that answers with something that is not a MySQL handshake.
fn chatty_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
        }
    });
    port
}

#[test]
fn unreachable_and_non_mysql_targets_do_not_stop_the_others() {
    let free_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("mysql://auditor:{LAB_PASSWORD}@127.0.0.1:{free_port}/");
    let postgres = format!(
        "mysql://auditor:{LAB_PASSWORD}@127.0.0.1:{}/",
        silent_port()
    );
    let ssh = format!(
        "mysql://auditor:{LAB_PASSWORD}@127.0.0.1:{}/",
        chatty_port()
    );
    let good = lab().good.url("auditor");
    let run = sqlready(&[
        "audit",
        &unreachable,
        &postgres,
        &ssh,
        &good,
        "--format",
        "json",
        "--connect-timeout",
        "3",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_no_secret(&run);
    let report = run.json();
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 4);
    assert!(
        targets[0]["error"]
            .as_str()
            .unwrap()
            .contains("cannot reach"),
        "{:#}",
        targets[0]
    );
    let silent = targets[1]["error"].as_str().unwrap();
    assert!(
        silent.contains("did not answer like a MySQL or MariaDB server")
            && silent.contains("no MySQL handshake"),
        "{silent}"
    );
    let chatty = targets[2]["error"].as_str().unwrap();
    assert!(
        chatty.contains("did not answer like a MySQL or MariaDB server"),
        "{chatty}"
    );
    assert!(targets[3]["error"].is_null(), "{:#}", targets[3]);
    assert_eq!(targets[3]["items"]["cdc"], "pass");
}

#[test]
fn tls_refused_by_the_client_but_required_by_the_server() {
    let url = lab().good.url_with("auditor", "ssl-mode=DISABLED");
    let run = sqlready(&["audit", &url, "--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_no_secret(&run);
    let report = run.json();
    let error = only_target(&report)["error"].as_str().unwrap().to_string();
    // MariaDB answers "Access denied" here, exactly as for a wrong password; the
    // message says which of the two it may be.
    assert!(
        error.contains("require_secure_transport") && error.contains("ssl-mode=DISABLED"),
        "{error}"
    );
}

#[test]
fn tls_required_by_the_client_but_not_offered_by_the_server() {
    let url = lab().defaults.url_with("auditor", "ssl-mode=REQUIRED");
    let run = sqlready(&["audit", &url, "--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let error = only_target(&report)["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("TLS") && error.contains("offers none"),
        "{error}"
    );
}

const SESSION_CHECK: &str = r#"
id = "custom.mysql_session"
item = "durability"
severity = "low"
title = "The audit session is read-only with a statement timeout"
why = "proves the session settings sqlready promises"
condition = "query.rows[0].read_only == 1 && query.rows[0].timeout > 0.0"
controls = ["SOC2 CC7.2"]
[query]
mysql = "SELECT @@session.tx_read_only AS read_only, @@session.max_statement_time AS timeout, @@session.lock_wait_timeout AS lock_wait"
[[example]]
name = "read-only"
expect = "pass"
facts = { "query.rows" = [{ read_only = 1, timeout = 10.0, lock_wait = 10 }] }
[[example]]
name = "writable"
expect = "fail"
facts = { "query.rows" = [{ read_only = 0, timeout = 10.0, lock_wait = 10 }] }
[[example]]
name = "not run"
expect = "unknown"
"#;

const TABLES_CHECK: &str = r#"
id = "custom.mysql_app_tables"
item = "migrations"
severity = "low"
title = "The app schema has its flyway history"
why = "exercises typed rows from a custom query"
condition = "query.rows.exists(r, r.TABLE_NAME == 'flyway_schema_history' && r.TABLE_ROWS >= 0)"
controls = ["SOC2 CC8.1"]
[query]
mysql = "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' ORDER BY TABLE_NAME"
[[example]]
name = "found"
expect = "pass"
facts = { "query.rows" = [{ TABLE_NAME = "flyway_schema_history", TABLE_ROWS = 1 }] }
[[example]]
name = "missing"
expect = "fail"
facts = { "query.rows" = [] }
[[example]]
name = "not run"
expect = "unknown"
"#;

const SLOW_CHECK: &str = r#"
id = "custom.mysql_slow"
item = "durability"
severity = "low"
title = "A slow query"
why = "exercises the statement timeout"
condition = "size(query.rows) == 1"
controls = ["SOC2 CC7.2"]
[query]
mysql = "SELECT COUNT(*) AS n FROM information_schema.COLUMNS a, information_schema.COLUMNS b, information_schema.COLUMNS c"
[[example]]
name = "one row"
expect = "pass"
facts = { "query.rows" = [{ n = 1 }] }
[[example]]
name = "no rows"
expect = "fail"
facts = { "query.rows" = [] }
[[example]]
name = "not run"
expect = "unknown"
"#;

#[test]
fn custom_check_queries_run_read_only_and_a_slow_one_times_out_alone() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("session.toml", SESSION_CHECK),
        ("tables.toml", TABLES_CHECK),
        ("slow.toml", SLOW_CHECK),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let run = sqlready(&[
        "audit",
        &lab().good.url("auditor"),
        "--format",
        "json",
        "--statement-timeout",
        "1",
        "--checks-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}\n{}",
        run.code,
        run.stderr,
        run.stdout
    );
    let report = run.json();
    let target = only_target(&report);
    let session = finding(target, "custom.mysql_session");
    assert_eq!(session["status"], "pass", "{session:#}");
    assert_eq!(
        session["evidence"]["query.rows"][0]["timeout"], 1.0,
        "{session:#}"
    );
    assert_eq!(status(target, "custom.mysql_app_tables"), "pass");
    let slow = finding(target, "custom.mysql_slow");
    assert_eq!(slow["status"], "unknown", "{slow:#}");
    assert!(
        slow["detail"]
            .as_str()
            .unwrap()
            .contains("statement timeout"),
        "{slow:#}"
    );
    assert_eq!(
        item(target, "cdc"),
        "pass",
        "the other checks are unaffected"
    );
}

#[test]
fn facts_saved_from_a_real_server_re_evaluate_offline_identically() {
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let url = lab().good.url("auditor");
    let live = sqlready(&[
        "audit",
        &url,
        "--format",
        "json",
        "--save-facts",
        facts.to_str().unwrap(),
    ]);
    let saved = std::fs::read_to_string(&facts).unwrap();
    assert!(!saved.contains(LAB_PASSWORD), "no secret in the facts file");
    assert!(
        !saved.contains("authentication_string\":\"*"),
        "no password hash in the evidence"
    );
    let offline = sqlready(&[
        "audit",
        "--facts",
        facts.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(live.code, offline.code);
    let (live, offline) = (live.json(), offline.json());
    assert_eq!(live["targets"][0]["items"], offline["targets"][0]["items"]);
    assert_eq!(
        live["targets"][0]["findings"],
        offline["targets"][0]["findings"]
    );
}

/// A client connected with SUPER (root over the socket, as an application might)
/// is named with its host; the audit's own session is not counted, and a server
/// where only the audit and its replica's binlog dump are connected passes.
#[test]
fn a_client_connected_with_super_is_named() {
    let lab = lab();
    let server = &lab.defaults;
    let held = std::thread::scope(|scope| {
        let holder = scope.spawn(|| server.try_sql("SELECT SLEEP(61)"));
        let mut seen = false;
        for _ in 0..100 {
            let count = server.sql(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(61)'",
            );
            if count.trim() == "1" {
                seen = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(seen, "the root session never appeared");
        let target = audit_target(server, "auditor");
        server.sql(
            "SELECT CONCAT('KILL ', ID) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(61)' INTO @kill; \
             PREPARE k FROM @kill; EXECUTE k;",
        );
        let _ = holder.join();
        target
    });
    let sessions = finding(&held, "access_control.superuser_sessions");
    assert_eq!(sessions["status"], "warn", "{sessions:#}");
    let text = sessions["detail"].as_str().unwrap();
    assert!(
        text.contains("root from localhost: connected as a superuser"),
        "{sessions:#}"
    );
    assert!(
        !text.contains("auditor"),
        "the audit counted itself: {sessions:#}"
    );

    let good = audit_target(&lab.good, "auditor");
    assert_eq!(
        status(&good, "access_control.superuser_sessions"),
        "pass",
        "{:#}",
        finding(&good, "access_control.superuser_sessions")
    );
}
