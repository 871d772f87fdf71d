//! `sqlready audit postgres://…` against real PostgreSQL servers configured
//! per scenario (see support/pglab.rs), through the real binary.

mod support;

use support::cli::{Run, assert_items, finding, item, only_target, sqlready, status};
use support::pglab::{LAB_PASSWORD, PgServer, lab};

fn audit(server: &PgServer, user: &str, db: &str) -> Run {
    let url = server.url(user, db);
    sqlready(&["audit", &url, "--format", "json"])
}

fn audit_json(server: &PgServer, user: &str, db: &str) -> serde_json::Value {
    let run = audit(server, user, db);
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

#[test]
fn bad_server_fails_what_defaults_leave_undone() {
    let report = audit_json(&lab().bad, "auditor", "app");
    let target = only_target(&report);
    assert_eq!(target["role"], "primary");
    assert_eq!(target["engine"], "postgres");
    assert!(
        target["id"]
            .as_str()
            .unwrap()
            .starts_with("postgres://127.0.0.1:")
    );
    assert_eq!(item(target, "replicas"), "fail");
    assert_eq!(item(target, "pitr"), "fail");
    assert_eq!(status(target, "pitr.wal_archiving"), "fail");
    assert_eq!(status(target, "pitr.archiver_healthy"), "n/a");
    assert_eq!(item(target, "cdc"), "fail");
    assert_eq!(status(target, "cdc.wal_level_logical"), "fail");
    assert_eq!(item(target, "slow_queries"), "fail");
    assert_eq!(status(target, "slow_queries.logged"), "fail");
    assert_eq!(status(target, "network.tls_enabled"), "fail");
    // PostgreSQL 15 stores SCRAM verifiers by default.
    assert_eq!(status(target, "network.password_encryption"), "pass");
    assert_eq!(item(target, "network_security"), "fail");
    assert_eq!(item(target, "migrations"), "fail");
    assert_eq!(item(target, "audit_logging"), "fail");
    assert_eq!(status(target, "durability.data_checksums"), "warn");
    assert_eq!(status(target, "durability.fsync"), "pass");
    assert_eq!(item(target, "version_support"), "pass");
    assert_eq!(item(target, "connection_pooling"), "pass");
    // What SQL cannot see is unknown, and says which source would tell.
    assert_eq!(item(target, "multi_zone"), "unknown");
    assert_eq!(item(target, "backups"), "unknown");
    let backups = finding(target, "backups.enabled");
    assert!(
        backups["detail"]
            .as_str()
            .unwrap()
            .contains("invisible from SQL"),
        "{backups:#}"
    );
    assert_eq!(item(target, "disk_autogrow"), "unknown");
    // The auditor has pg_monitor but no hba grant: TLS enforcement is unknown with the grant.
    let required = finding(target, "network.tls_required");
    assert_eq!(required["status"], "unknown");
    assert!(
        required["resolve"][0]
            .as_str()
            .unwrap()
            .contains("pg_hba_file_rules"),
        "{required:#}"
    );
    // Every checklist item is present.
    assert_eq!(target["items"].as_object().unwrap().len(), 21);
    // Who can log in, with what rights (the lab grants what pre-15 clusters carry).
    assert_eq!(item(target, "access_control"), "fail");
    let public = finding(target, "access_control.pg_public_create");
    assert_eq!(public["status"], "fail", "{public:#}");
    assert_eq!(
        public["detail"], "schema public: every role may CREATE in it",
        "{public:#}"
    );
    let supers = finding(target, "access_control.pg_superuser_logins");
    assert_eq!(supers["status"], "warn", "{supers:#}");
    assert_eq!(
        supers["evidence"]["access.superusers"],
        serde_json::json!(["app_admin"]),
        "the bootstrap superuser is not counted: {supers:#}"
    );
    assert_eq!(
        status(target, "access_control.auditor_not_superuser"),
        "pass"
    );
    // Nothing logs statements, so no prefix is relied on.
    assert_eq!(status(target, "audit.log_line_prefix"), "n/a");
    // The lab's 15.20 is the newest 15.x the embedded table records (2026-11-12):
    // pass while that row is within PostgreSQL's quarterly cadence, unknown (never
    // pass on the table's word) once it is older.
    let minor = finding(target, "access_control.minor_release");
    assert_eq!(minor["evidence"]["version.minor_behind"], 0, "{minor:#}");
    assert!(
        minor["detail"].as_str().unwrap().contains("15.20"),
        "{minor:#}"
    );
    let fresh =
        chrono::Utc::now().date_naive() <= chrono::NaiveDate::from_ymd_opt(2027, 2, 20).unwrap();
    if fresh {
        assert_eq!(minor["status"], "pass", "{minor:#}");
    } else {
        assert_eq!(minor["status"], "unknown", "{minor:#}");
    }
    // pg_authid is for superusers only: unknown, never a pass.
    let passwordless = finding(target, "access_control.passwordless_logins");
    assert_eq!(passwordless["status"], "unknown", "{passwordless:#}");
    assert!(
        passwordless["resolve"][0]
            .as_str()
            .unwrap()
            .contains("pg_authid"),
        "{passwordless:#}"
    );
}

#[test]
fn auditing_as_a_superuser_is_itself_a_finding() {
    let report = audit_json(&lab().bad, "postgres", "app");
    let target = only_target(&report);
    let auditor = finding(target, "access_control.auditor_not_superuser");
    assert_eq!(auditor["status"], "fail", "{auditor:#}");
    assert!(
        auditor["detail"]
            .as_str()
            .unwrap()
            .starts_with("postgres is a superuser"),
        "{auditor:#}"
    );
    // As a superuser pg_authid is readable: every lab login role has a password.
    let passwordless = finding(target, "access_control.passwordless_logins");
    assert_eq!(passwordless["status"], "pass", "{passwordless:#}");
    assert_eq!(item(target, "access_control"), "fail");
}

#[test]
fn a_role_without_a_password_is_found_by_a_superuser() {
    let server = &lab().slot;
    server.psql(
        "postgres",
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nopw') THEN
             CREATE ROLE nopw LOGIN;
           END IF;
         END $$;",
    );
    let report = audit_json(server, "postgres", "postgres");
    let target = only_target(&report);
    let passwordless = finding(target, "access_control.passwordless_logins");
    assert_eq!(passwordless["status"], "fail", "{passwordless:#}");
    assert_eq!(
        passwordless["detail"], "nopw: may log in and has no password",
        "{passwordless:#}"
    );
}

#[test]
fn good_server_passes_and_says_why() {
    let report = audit_json(&lab().good, "postgres", "app");
    let target = only_target(&report);
    assert_eq!(target["role"], "primary");
    assert_items(
        target,
        &[
            "replicas",
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
    let replicas = finding(target, "replicas.present");
    assert_eq!(replicas["evidence"]["replicas.count"], 1);
    let migrations = finding(target, "migrations.tool_detected");
    let tables = migrations["evidence"]["migrations.tables"].to_string();
    assert!(
        tables.contains("sqlx") && tables.contains("Flyway"),
        "{migrations:#}"
    );
    assert!(
        tables.contains("billing"),
        "found in the other database: {migrations:#}"
    );
    for check in ["network.tls_enabled", "network.tls_required"] {
        assert_eq!(status(target, check), "pass", "{check}");
    }
    // No client but the audit itself is connected: nothing to judge, never a pass.
    let in_use = finding(target, "network.tls_in_use");
    assert_eq!(in_use["status"], "n/a", "{in_use:#}");
    assert!(
        in_use["detail"]
            .as_str()
            .unwrap()
            .starts_with("no client connection"),
        "{in_use:#}"
    );
    // The lab listens on loopback only (listen_addresses = '127.0.0.1,::1'): the
    // server itself knows it is not reachable from the network.
    assert_eq!(status(target, "network.no_public_ip"), "pass");
    // Items SQL cannot judge stay unknown even on a good server.
    assert_eq!(item(target, "multi_zone"), "unknown");
    assert_eq!(item(target, "backups"), "unknown");
    // pgaudit's lines carry user, database and client through the prefix.
    assert_eq!(status(target, "audit.log_line_prefix"), "pass");
    // The lab's own set-up line (trust over the unix socket) is a real finding,
    // a warning: no TCP line trusts.
    assert_eq!(status(target, "access_control.pg_hba_trust"), "pass");
    let trust = finding(target, "access_control.pg_hba_trust_local");
    assert_eq!(trust["status"], "warn", "{trust:#}");
    assert!(
        trust["detail"]
            .as_str()
            .unwrap()
            .starts_with("line 2: local trust"),
        "{trust:#}"
    );
    // This audit connects as postgres: a superuser auditor is a finding even here.
    assert_eq!(
        status(target, "access_control.auditor_not_superuser"),
        "fail"
    );
}

#[test]
fn good_server_audited_by_a_pg_monitor_role_grants_nothing_too_wide() {
    let report = audit_json(&lab().good, "auditor", "app");
    let target = only_target(&report);
    for check in [
        "access_control.auditor_not_superuser",
        "access_control.pg_superuser_logins",
        "access_control.pg_public_create",
    ] {
        assert_eq!(
            status(target, check),
            "pass",
            "{check}: {:#}",
            finding(target, check)
        );
    }
    assert_eq!(
        finding(target, "access_control.auditor_not_superuser")["detail"],
        "auditor is not a superuser"
    );
    // Passwords are readable only by a superuser, which the auditor rightly is not:
    // the item stays unknown rather than pass.
    assert_eq!(
        status(target, "access_control.passwordless_logins"),
        "unknown"
    );
    assert_eq!(item(target, "access_control"), "unknown");
}

#[test]
fn standby_knows_it_is_a_replica() {
    let report = audit_json(&lab().standby, "auditor", "app");
    let target = only_target(&report);
    assert_eq!(target["role"], "replica");
    assert_eq!(status(target, "replicas.replica_streaming"), "pass");
    assert_eq!(status(target, "replicas.present"), "n/a");
    assert_eq!(item(target, "backups"), "n/a");
    assert_eq!(item(target, "pitr"), "n/a");
}

#[test]
fn inactive_slot_retaining_wal_is_flagged() {
    let report = audit_json(&lab().slot, "auditor", "postgres");
    let target = only_target(&report);
    let inactive = finding(target, "cdc.inactive_slots");
    assert_eq!(inactive["status"], "warn", "{inactive:#}");
    assert!(
        inactive["detail"].as_str().unwrap().contains("stale_slot"),
        "{inactive:#}"
    );
    assert_eq!(status(target, "cdc.slot_wal_limit"), "warn");
    assert_eq!(status(target, "cdc.slots_healthy"), "pass");
    assert_eq!(item(target, "cdc"), "fail");
}

#[test]
fn failing_archive_command_is_a_failure() {
    let report = audit_json(&lab().archive_fail, "auditor", "postgres");
    let target = only_target(&report);
    assert_eq!(status(target, "pitr.wal_archiving"), "pass");
    let healthy = finding(target, "pitr.archiver_healthy");
    assert_eq!(healthy["status"], "fail", "{healthy:#}");
    assert_eq!(item(target, "pitr"), "fail");
}

#[test]
fn plain_role_gets_unknowns_with_the_grant_that_fixes_them() {
    let report = audit_json(&lab().good, "plain", "app");
    let target = only_target(&report);
    let stats = finding(target, "slow_queries.statistics");
    assert_eq!(stats["status"], "unknown", "{stats:#}");
    assert!(
        stats["resolve"]
            .to_string()
            .contains("pg_read_all_settings"),
        "{stats:#}"
    );
    let replicas = finding(target, "replicas.present");
    assert_eq!(replicas["status"], "unknown", "{replicas:#}");
    assert!(
        replicas["resolve"]
            .to_string()
            .contains("pg_read_all_stats"),
        "{replicas:#}"
    );
    // Never a confident verdict from what the role cannot see.
    assert_ne!(item(target, "audit_logging"), "pass");
    // Other roles' sessions show no backend type, client address or TLS
    // state to this role: counting only its own would pass falsely.
    for check in ["connections.headroom", "network.tls_in_use"] {
        let verdict = finding(target, check);
        assert_eq!(verdict["status"], "unknown", "{verdict:#}");
        assert!(
            verdict["resolve"].to_string().contains("pg_read_all_stats"),
            "{verdict:#}"
        );
    }
}

#[test]
fn standby_hides_its_receiver_status_from_a_plain_role_which_is_unknown_not_a_failure() {
    let report = audit_json(&lab().standby, "plain", "app");
    let target = only_target(&report);
    assert_eq!(target["role"], "replica");
    let streaming = finding(target, "replicas.replica_streaming");
    assert_eq!(streaming["status"], "unknown", "{streaming:#}");
    assert!(
        streaming["resolve"]
            .to_string()
            .contains("pg_read_all_stats"),
        "{streaming:#}"
    );
}

#[test]
fn custom_check_query_runs_read_only_and_becomes_facts() {
    let checks = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/checks");
    let bad = sqlready(&[
        "audit",
        &lab().bad.url("auditor", "app"),
        "--format",
        "json",
        "--checks-dir",
        checks,
    ]);
    let target = only_target(&bad.json()).clone();
    let custom = finding(&target, "acme.tables_have_primary_keys");
    assert_eq!(custom["status"], "fail", "{custom:#}");
    assert!(
        custom["detail"].as_str().unwrap().contains("public.orders"),
        "{custom:#}"
    );
    let good = sqlready(&[
        "audit",
        &lab().good.url("postgres", "app"),
        "--format",
        "json",
        "--checks-dir",
        checks,
    ]);
    let target = only_target(&good.json()).clone();
    assert_eq!(status(&target, "acme.tables_have_primary_keys"), "pass");
}

#[test]
fn slow_custom_query_hits_the_statement_timeout_and_only_that_check_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("slow.toml"),
        r#"
id = "custom.slow"
item = "durability"
severity = "low"
title = "A slow query"
why = "exercises the statement timeout"
condition = "size(query.rows) == 1"
fix = { postgres = "none" }
controls = ["SOC2 CC7.2"]
[query]
postgres = "SELECT count(*) AS n FROM generate_series(1, 300000000)"
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
"#,
    )
    .unwrap();
    let run = sqlready(&[
        "audit",
        &lab().bad.url("auditor", "app"),
        "--format",
        "json",
        "--statement-timeout",
        "1",
        "--checks-dir",
        dir.path().to_str().unwrap(),
    ]);
    let target = only_target(&run.json()).clone();
    let slow = finding(&target, "custom.slow");
    assert_eq!(slow["status"], "unknown", "{slow:#}");
    assert!(
        slow["detail"]
            .as_str()
            .unwrap()
            .contains("statement timeout"),
        "{slow:#}"
    );
    assert_eq!(status(&target, "durability.fsync"), "pass");
}

#[test]
fn session_is_read_only() {
    // A write smuggled past validation would still be refused by the session.
    let url = lab().bad.url("postgres", "app");
    let run = sqlready(&["audit", &url, "--format", "json", "-vv"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let count = lab().bad.psql(
        "app",
        // Only this test's role: the other tests of this binary audit `bad` as
        // auditor at the same time.
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sqlready' AND usename = 'postgres'",
    );
    assert_eq!(count, "0", "the audit session is closed afterwards");
}

#[test]
fn wrong_password_is_one_clear_error_without_the_password() {
    let url = lab()
        .good
        .url("auditor", "app")
        .replace(LAB_PASSWORD, "not-the-password-123");
    let run = sqlready(&["audit", &url, "--format", "json", "-vv"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let target = only_target(&run.json()).clone();
    let error = target["error"].as_str().unwrap();
    assert!(error.contains("authentication failed"), "{error}");
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

#[test]
fn unreachable_and_non_postgres_targets_do_not_stop_the_others() {
    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("postgres://auditor:{LAB_PASSWORD}@127.0.0.1:{free_port}/app");
    let not_postgres = format!("postgres://auditor:{LAB_PASSWORD}@127.0.0.1:3306/app");
    let good = lab().good.url("auditor", "app");
    let run = sqlready(&[
        "audit",
        &unreachable,
        &not_postgres,
        &good,
        "--format",
        "json",
        "--connect-timeout",
        "5",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 3);
    assert!(
        targets[0]["error"]
            .as_str()
            .unwrap()
            .contains("cannot reach"),
        "{:#}",
        targets[0]
    );
    assert!(
        targets[1]["error"].as_str().unwrap().contains("PostgreSQL"),
        "{:#}",
        targets[1]
    );
    assert!(targets[2]["error"].is_null(), "{:#}", targets[2]);
    assert_eq!(targets[2]["items"]["cdc"], "pass");
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(LAB_PASSWORD));
    }
}

#[test]
fn tls_refused_by_the_client_but_required_by_the_server() {
    let url = lab().good.url_with("auditor", "app", "sslmode=disable");
    let run = sqlready(&["audit", &url]);
    assert_eq!(run.code, 3);
    assert!(
        run.stdout.contains("requires TLS") || run.stdout.contains("no encryption"),
        "{}",
        run.stdout
    );
}

#[test]
fn tls_required_by_the_client_but_not_offered_by_the_server() {
    let url = lab().bad.url_with("auditor", "app", "sslmode=require");
    let run = sqlready(&["audit", &url, "--format", "json"]);
    assert_eq!(run.code, 3);
    let target = only_target(&run.json()).clone();
    assert!(
        target["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("tls"),
        "{target:#}"
    );
}

#[test]
fn facts_saved_from_a_real_server_re_evaluate_offline_identically() {
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let url = lab().good.url("postgres", "app");
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

#[test]
fn archive_commands_that_only_return_success_are_told_apart_from_real_ones() {
    // The classification the catalog query applies to archive_command, run
    // by PostgreSQL itself over sample commands (the text is never recorded).
    let kind = sqlready::sources::postgres::queries::ARCHIVE_COMMAND_KIND;
    let samples = [
        ("", ""),
        ("(disabled)", ""),
        ("/bin/true", "noop"),
        ("true", "noop"),
        ("/usr/bin/true %p", "noop"),
        (":", "noop"),
        ("exit 0", "noop"),
        ("REM", "noop"),
        ("test ! -f /a/%f && cp %p /a/%f", "set"),
        ("true && cp %p /a/%f", "set"),
        ("pgbackrest --stanza=main archive-push %p", "set"),
        ("/usr/local/bin/true-archive %p", "set"),
        ("wal-g wal-push %p", "set"),
    ];
    let values = samples
        .iter()
        .map(|(command, _)| format!("({})", sql_literal(command)))
        .collect::<Vec<_>>()
        .join(", ");
    let answer = lab().bad.psql(
        "postgres",
        &format!("SELECT string_agg({kind}, '|' ORDER BY n) FROM (SELECT setting, row_number() OVER () AS n FROM (VALUES {values}) AS v(setting)) AS pg_settings"),
    );
    let expected = samples
        .iter()
        .map(|(_, kind)| *kind)
        .collect::<Vec<_>>()
        .join("|");
    assert_eq!(answer, expected);
}

fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// An application connected as a superuser (issue 18: "applications … connecting
/// as a superuser") is named with its client address and program; the audit's own
/// session is not counted, and a server where only the audit is connected passes.
#[test]
fn an_application_connected_as_a_superuser_is_named() {
    let server = &lab().bad;
    let app_url = server.url_with(
        "app_admin",
        "app",
        "sslmode=disable&application_name=orders-api",
    );
    let held =
        std::thread::spawn(move || support::pglab::psql_url(&app_url, "SELECT pg_sleep(60)"));
    // Wait until the application's session is visible.
    let mut seen = false;
    for _ in 0..100 {
        let count = server.psql(
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'orders-api' AND state = 'active'",
        );
        if count == "1" {
            seen = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(seen, "the application's session never appeared");
    let report = audit_json(server, "auditor", "app");
    server.psql(
        "postgres",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'orders-api'",
    );
    let _ = held.join();
    let target = only_target(&report);
    let sessions = finding(target, "access_control.superuser_sessions");
    assert_eq!(sessions["status"], "warn", "{sessions:#}");
    let detail = sessions["detail"].as_str().unwrap();
    assert!(
        detail.contains("app_admin from 127.0.0.1 (orders-api): connected as a superuser"),
        "{sessions:#}"
    );
    assert!(
        !detail.contains("sqlready"),
        "the audit counted itself: {sessions:#}"
    );

    // A server where only the audit (as pg_monitor) is connected. (Not the good
    // server: another test counts its client connections at the same time.)
    let report = audit_json(&lab().archive_fail, "auditor", "postgres");
    let sessions = finding(only_target(&report), "access_control.superuser_sessions");
    assert_eq!(sessions["status"], "pass", "{sessions:#}");
}

/// PUBLIC's CREATE on a database is found from its ACL; PUBLIC's TEMPORARY, which
/// every database grants by default (acldefault), is deliberately not judged.
#[test]
fn public_create_on_a_database_is_found_and_default_temp_is_not() {
    let server = &lab().slot;
    server.psql("postgres", "GRANT CREATE ON DATABASE app TO PUBLIC");
    let granted = server.psql(
        "postgres",
        "SELECT has_database_privilege('plain', 'postgres', 'TEMP')",
    );
    assert_eq!(granted, "t", "the default TEMP grant to PUBLIC is in place");
    let report = audit_json(server, "auditor", "postgres");
    let public = finding(only_target(&report), "access_control.pg_public_create");
    assert_eq!(public["status"], "fail", "{public:#}");
    assert_eq!(
        public["detail"], "database app: every role may CREATE schemas in it",
        "{public:#}"
    );
}
