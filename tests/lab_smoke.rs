//! Smoke tests of the PostgreSQL test lab itself: each scenario property the other
//! integration tests rely on is checked here directly with psql, so a failing audit
//! test can be told apart from a broken lab.

mod support;

use support::pglab::{LAB_PASSWORD, PgServer, lab, psql_url};

/// Reads one setting over the superuser socket connection.
fn setting(server: &PgServer, name: &str) -> String {
    server.psql("postgres", &format!("SELECT current_setting('{name}')"))
}

#[test]
fn lab_starts_within_a_minute() {
    let lab = lab();
    eprintln!("lab started in {:?}", lab.started_in);
    assert!(
        lab.started_in.as_secs() < 60,
        "lab took {:?}",
        lab.started_in
    );
    let ports = [
        lab.bad.port,
        lab.good.port,
        lab.standby.port,
        lab.slot.port,
        lab.archive_fail.port,
    ];
    assert!(
        !ports.contains(&5432),
        "a lab server took the system port: {ports:?}"
    );
}

#[test]
fn bad_is_left_at_defaults() {
    let bad = &lab().bad;
    assert_eq!(setting(bad, "data_checksums"), "off");
    assert_eq!(setting(bad, "ssl"), "off");
    assert_eq!(setting(bad, "archive_mode"), "off");
    assert_eq!(setting(bad, "wal_level"), "replica");
    assert_eq!(setting(bad, "log_min_duration_statement"), "-1");
    assert_eq!(setting(bad, "shared_preload_libraries"), "");
    let orders_pk = bad.psql(
        "app",
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.orders'::regclass AND contype = 'p'",
    );
    assert_eq!(orders_pk, "0", "orders must have no primary key");
    assert_eq!(
        bad.psql(
            "app",
            "SELECT to_regclass('public._sqlx_migrations') IS NULL"
        ),
        "t"
    );
}

#[test]
fn good_is_hardened_and_archives() {
    let good = &lab().good;
    assert_eq!(setting(good, "data_checksums"), "on");
    assert_eq!(setting(good, "ssl"), "on");
    assert_eq!(setting(good, "wal_level"), "logical");
    assert_eq!(setting(good, "archive_mode"), "on");
    assert_eq!(setting(good, "log_min_duration_statement"), "500ms");
    assert_eq!(
        setting(good, "shared_preload_libraries"),
        "pg_stat_statements,pgaudit"
    );
    assert_eq!(setting(good, "pgaudit.log"), "ddl,role");
    assert_eq!(setting(good, "max_slot_wal_keep_size"), "1GB");
    assert_eq!(
        good.psql(
            "postgres",
            "SELECT archived_count > 0 AND failed_count = 0 FROM pg_stat_archiver"
        ),
        "t"
    );
    assert_eq!(
        good.psql(
            "app",
            "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension"
        ),
        "pg_stat_statements,pgaudit,plpgsql"
    );
    assert_eq!(
        good.psql("app", "SELECT count(*) FROM public._sqlx_migrations"),
        "1"
    );
    assert_eq!(
        good.psql("billing", "SELECT count(*) FROM ops.flyway_schema_history"),
        "1"
    );
}

#[test]
fn standby_streams_from_good() {
    let lab = lab();
    assert_eq!(
        lab.standby.psql("postgres", "SELECT pg_is_in_recovery()"),
        "t"
    );
    assert_eq!(setting(&lab.standby, "ssl"), "on");
    assert_eq!(
        lab.good.psql(
            "postgres",
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
        ),
        "1"
    );
    assert_eq!(
        lab.good.psql(
            "postgres",
            "SELECT slot_type || ',' || active FROM pg_replication_slots WHERE slot_name = 'standby1'"
        ),
        "physical,true"
    );
}

#[test]
fn stale_slot_retains_more_than_16_mb() {
    let slot = &lab().slot;
    assert_eq!(setting(slot, "max_slot_wal_keep_size"), "-1");
    let row = slot.psql(
        "postgres",
        "SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) > 16 * 1024 * 1024
           FROM pg_replication_slots WHERE slot_name = 'stale_slot'",
    );
    assert_eq!(
        row, "f|t",
        "stale_slot must be inactive and retain > 16 MB of WAL"
    );
}

#[test]
fn archive_fail_reports_failures() {
    let server = &lab().archive_fail;
    assert_eq!(setting(server, "archive_command"), "/bin/false");
    assert_eq!(
        server.psql("postgres", "SELECT failed_count > 0 FROM pg_stat_archiver"),
        "t"
    );
}

#[test]
fn password_login_over_tcp() {
    let lab = lab();
    for server in [&lab.bad, &lab.slot, &lab.archive_fail] {
        let who = psql_url(
            &server.url("auditor", "app"),
            "SELECT current_user || ' ' || pg_has_role('pg_monitor', 'member')",
        );
        assert_eq!(who.as_deref(), Ok("auditor true"), "{}", server.name);
        let plain = psql_url(
            &server.url_with("plain", "app", "sslmode=disable"),
            "SELECT 1",
        );
        assert_eq!(plain.as_deref(), Ok("1"), "{}", server.name);
    }
    let over_tls = psql_url(
        &lab.good.url_with("auditor", "app", "sslmode=require"),
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    );
    assert_eq!(over_tls.as_deref(), Ok("t"));
    let standby = psql_url(
        &lab.standby.url_with("auditor", "app", "sslmode=require"),
        "SELECT 1",
    );
    assert_eq!(standby.as_deref(), Ok("1"));
}

#[test]
fn good_rejects_plaintext_and_bad_passwords() {
    let lab = lab();
    let plaintext = psql_url(
        &lab.good.url_with("auditor", "app", "sslmode=disable"),
        "SELECT 1",
    );
    let err = plaintext.expect_err("good must reject non-TLS connections");
    assert!(
        err.contains("no encryption") || err.contains("rejects"),
        "unexpected error: {err}"
    );

    let wrong = lab
        .bad
        .url("auditor", "app")
        .replace(LAB_PASSWORD, "wrong-password");
    let err = psql_url(&wrong, "SELECT 1").expect_err("a wrong password must be refused");
    assert!(
        err.contains("password authentication failed"),
        "unexpected error: {err}"
    );
}
