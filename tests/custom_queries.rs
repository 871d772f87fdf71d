//! Issue 17: read-only means read-only, on the suite's real servers.
//!
//! The old-form hostile check files (the bypasses of the hand-written lexer)
//! are refused by `checks lint` and by `audit --checks-dir`, and the servers
//! are unchanged afterwards; on the session itself, a second statement is
//! refused by the protocol even when the guard is bypassed.

mod support;

use support::cli::sqlready;
use support::mylab::lab as mylab;
use support::pglab::{LAB_PASSWORD, lab as pglab};

/// A check file around one query for `engine`.
fn check_file(id: &str, engine: &str, sql: &str) -> String {
    format!(
        r#"id = "{id}"
item = "durability"
severity = "low"
title = "A hostile query"
why = "tries to write"
condition = "size(query.rows) >= 0"
fix = {{ {engine} = "none" }}
[query]
{engine} = '''
{sql}'''
[[example]]
name = "rows"
expect = "pass"
facts = {{ "query.rows" = [] }}
"#
    )
}

const PG_HOSTILE: &[&str] = &[
    "SELECT 1 # 2 AS a, pg_reload_conf() AS b",
    "SELECT 1 AS a$b$, pg_catalog.pg_stat_reset() AS c$b$",
    r"SELECT '\' AS a, pg_create_physical_replication_slot('guard_slot') AS b -- '",
    r#"SELECT pg_catalog."pg_terminate_backend"(pid) FROM pg_stat_activity WHERE application_name = 'guard-victim'"#,
    r#"SELECT U&"pg_re!0061d_file" UESCAPE '!' ('postgresql.conf')"#,
    "WITH w AS (INSERT INTO guard_probe VALUES (1) RETURNING *) SELECT * FROM w",
    "SELECT 1; INSERT INTO guard_probe VALUES (2)",
];

const MY_HOSTILE: &[&str] = &[
    r#"SELECT "\"" AS a; COMMIT; SET SESSION TRANSACTION READ WRITE; INSERT INTO guardtest.probe VALUES (1); SELECT "\"" AS b"#,
    r#"SELECT "\"" AS a, 1 AS b INTO OUTFILE '/tmp/sqlready-guard-outfile' -- ""#,
    "SELECT 1 /*!, (SELECT GET_LOCK('guard', 1)) */",
    "SELECT 1 AS a INTO OUTFILE '/tmp/sqlready-guard-outfile'",
    "SELECT SLEEP(0)",
];

fn write_dir(engine: &str, queries: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (i, sql) in queries.iter().enumerate() {
        std::fs::write(
            dir.path().join(format!("hostile_{i}.toml")),
            check_file(&format!("hostile.q{i}"), engine, sql),
        )
        .unwrap();
    }
    dir
}

/// What a hostile query could have changed on the PostgreSQL server.
fn pg_state() -> String {
    pglab().bad.psql(
        "app",
        "SELECT (SELECT count(*) FROM guard_probe) || ' ' || (SELECT count(*) FROM pg_replication_slots) || ' ' || pg_conf_load_time() || ' ' || coalesce((SELECT stats_reset::text FROM pg_stat_database WHERE datname = 'app'), '-')",
    )
}

#[test]
fn hostile_postgres_check_files_are_refused_and_the_server_is_unchanged() {
    let server = &pglab().bad;
    server.psql("app", "CREATE TABLE IF NOT EXISTS guard_probe (n int)");
    let before = pg_state();
    let dir = write_dir("postgres", PG_HOSTILE);
    let lint = sqlready(&["checks", "lint", dir.path().to_str().unwrap()]);
    assert_eq!(lint.code, 2, "{}\n{}", lint.stdout, lint.stderr);
    let said = format!("{}{}", lint.stdout, lint.stderr);
    for (i, reason) in [
        "'pg_reload_conf'",
        "'pg_catalog.pg_stat_reset'",
        "'pg_create_physical_replication_slot'",
        "'pg_catalog.pg_terminate_backend'",
        "'pg_read_file'",
        "INSERT",
        "single statement",
    ]
    .iter()
    .enumerate()
    {
        let line = said
            .lines()
            .find(|l| l.contains(&format!("hostile_{i}.toml:")))
            .unwrap_or_else(|| panic!("no diagnostic for hostile_{i}.toml:\n{said}"));
        assert!(line.contains(reason), "{line}");
        assert!(line.contains(":10:"), "located on the query's line: {line}");
    }
    let run = sqlready(&[
        "audit",
        &server.url("postgres", "app"),
        "--format",
        "json",
        "--checks-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!run.stderr.contains(LAB_PASSWORD));
    assert_eq!(pg_state(), before, "the server changed");
}

#[test]
fn postgres_refuses_a_second_statement_on_the_session_itself() {
    let server = &pglab().bad;
    server.psql("app", "CREATE TABLE IF NOT EXISTS guard_probe2 (n int)");
    let url = server.url("postgres", "app");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let outcome = runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        let bypass = sqlready::sources::postgres::run_one(
            &mut conn,
            "SELECT 1; INSERT INTO guard_probe2 VALUES (1)",
        )
        .await;
        let plain = sqlready::sources::postgres::run_one(
            &mut conn,
            "SELECT 5 # 3 AS x, 'a'::text AS t, 2.50::numeric AS d, now() AS at, NULL::int AS n;",
        )
        .await;
        (bypass, plain)
    });
    let err = outcome.0.expect_err("a second statement must be refused");
    assert!(
        err.contains("multiple commands") || err.contains("prepared statement"),
        "{err}"
    );
    assert_eq!(server.psql("app", "SELECT count(*) FROM guard_probe2"), "0");
    let rows = outcome.1.expect("a plain read runs");
    assert_eq!(rows[0]["x"], 6);
    assert_eq!(rows[0]["t"], "a");
    assert_eq!(rows[0]["d"], 2.5);
    assert!(rows[0]["at"].is_string());
    assert!(rows[0]["n"].is_null());
}

#[test]
fn hostile_mysql_check_files_are_refused_and_the_server_is_unchanged() {
    let server = &mylab().good;
    server.sql("CREATE DATABASE IF NOT EXISTS guardtest; CREATE TABLE IF NOT EXISTS guardtest.probe (n int)");
    let dir = write_dir("mysql", MY_HOSTILE);
    let lint = sqlready(&["checks", "lint", dir.path().to_str().unwrap()]);
    assert_eq!(lint.code, 2, "{}\n{}", lint.stdout, lint.stderr);
    let said = format!("{}{}", lint.stdout, lint.stderr);
    for (i, reason) in [
        "backslash",
        "backslash",
        "executable comment",
        "cannot be parsed",
        "'sleep'",
    ]
    .iter()
    .enumerate()
    {
        let line = said
            .lines()
            .find(|l| l.contains(&format!("hostile_{i}.toml:")))
            .unwrap_or_else(|| panic!("no diagnostic for hostile_{i}.toml:\n{said}"));
        assert!(line.contains(reason), "{line}");
    }
    let run = sqlready(&[
        "audit",
        &server.url("auditor"),
        "--format",
        "json",
        "--checks-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(server.sql("SELECT count(*) FROM guardtest.probe"), "0");
    assert!(!std::path::Path::new("/tmp/sqlready-guard-outfile").exists());
}

#[test]
fn mysql_refuses_a_second_statement_on_the_session_itself() {
    let server = &mylab().good;
    server.sql(&format!(
        "CREATE DATABASE IF NOT EXISTS guardtest2; CREATE TABLE IF NOT EXISTS guardtest2.probe (n int); \
         CREATE USER IF NOT EXISTS 'guardwriter'@'%' IDENTIFIED BY '{}'; \
         GRANT ALL ON guardtest2.* TO 'guardwriter'@'%'",
        support::mylab::LAB_PASSWORD
    ));
    let url = server.url("guardwriter");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (bypass, plain) = runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
        let bypass = sqlready::sources::mysql::run_one(
            &mut conn,
            "SELECT 1; INSERT INTO guardtest2.probe VALUES (1)",
        )
        .await;
        let plain = sqlready::sources::mysql::run_one(
            &mut conn,
            "SELECT \"a\" AS t, 7 AS n, 2.5 AS d, COUNT(*) AS c, NULL AS z FROM guardtest2.probe;",
        )
        .await;
        (bypass, plain)
    });
    assert!(
        bypass.is_err(),
        "a second statement must be refused: {bypass:?}"
    );
    assert_eq!(server.sql("SELECT count(*) FROM guardtest2.probe"), "0");
    let rows = plain.expect("a plain read runs");
    assert_eq!(rows[0]["t"], "a");
    assert_eq!(rows[0]["n"], 7);
    assert_eq!(rows[0]["d"], 2.5);
    assert_eq!(rows[0]["c"], 0);
    assert!(rows[0]["z"].is_null());
}

#[test]
fn a_session_that_can_do_more_than_read_is_said_once_on_stderr() {
    let run = sqlready(&[
        "audit",
        &pglab().bad.url("postgres", "app"),
        "--format",
        "json",
    ]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("is a superuser").count(),
        1,
        "{}",
        run.stderr
    );
    let run = sqlready(&[
        "audit",
        &pglab().good.url("auditor", "app"),
        "--format",
        "json",
    ]);
    assert!(
        !run.stderr.contains("superuser:") && !run.stderr.contains("may write"),
        "{}",
        run.stderr
    );

    let run = sqlready(&["audit", &mylab().good.url("root"), "--format", "json"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let said: Vec<&str> = run.stderr.lines().filter(|l| l.contains("holds")).collect();
    assert_eq!(said.len(), 1, "{}", run.stderr);
    assert!(
        said[0].contains("SUPER") && said[0].contains("INSERT"),
        "{}",
        said[0]
    );
    let run = sqlready(&["audit", &mylab().good.url("auditor"), "--format", "json"]);
    assert!(!run.stderr.contains("holds"), "{}", run.stderr);
}

#[test]
fn only_the_operators_config_can_allow_another_function() {
    let dir = tempfile::tempdir().unwrap();
    let checks = dir.path().join("checks");
    std::fs::create_dir(&checks).unwrap();
    std::fs::write(
        checks.join("int2.toml"),
        check_file("custom.int2", "postgres", "SELECT int2(7) AS n"),
    )
    .unwrap();
    let url = pglab().bad.url("auditor", "app");
    let checks = checks.to_str().unwrap();
    let refused = sqlready(&["audit", &url, "--format", "json", "--checks-dir", checks]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("function 'int2' is not on the read-only allowlist"),
        "{}",
        refused.stderr
    );

    let config = dir.path().join("sqlready.toml");
    std::fs::write(&config, "[checks.allow_functions]\npostgres = [\"INT2\"]\n").unwrap();
    let config = config.to_str().unwrap();
    let run = sqlready(&[
        "audit",
        &url,
        "--format",
        "json",
        "--checks-dir",
        checks,
        "--config",
        config,
    ]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let target = support::cli::only_target(&run.json()).clone();
    assert_eq!(
        support::cli::status(&target, "custom.int2"),
        "pass",
        "{target:#}"
    );

    std::fs::write(
        dir.path().join("sqlready.toml"),
        "[checks.allow_functions]\noracle = [\"x\"]\n",
    )
    .unwrap();
    let bad = sqlready(&["audit", &url, "--checks-dir", checks, "--config", config]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("oracle"), "{}", bad.stderr);
}

/// `checks lint` reads the operator's `[checks.allow_functions]` as `audit`
/// does: from `--config`, else ./sqlready.toml, never with `--no-config`.
#[test]
fn checks_lint_honours_the_configs_allow_functions() {
    let dir = tempfile::tempdir().unwrap();
    let checks = dir.path().join("checks");
    std::fs::create_dir(&checks).unwrap();
    std::fs::write(
        checks.join("int2.toml"),
        check_file("custom.int2", "postgres", "SELECT int2(7) AS n"),
    )
    .unwrap();
    let checks = checks.to_str().unwrap();
    let refused_int2 = |run: &support::cli::Run| {
        run.code == 2
            && run
                .stderr
                .contains("function 'int2' is not on the read-only allowlist")
    };

    // No config anywhere: the built-in list only.
    let plain = support::cli::sqlready_in(dir.path(), &["checks", "lint", checks], &[]);
    assert!(refused_int2(&plain), "{}\n{}", plain.code, plain.stderr);

    let config = dir.path().join("operator.toml");
    std::fs::write(&config, "[checks.allow_functions]\npostgres = [\"INT2\"]\n").unwrap();
    let config = config.to_str().unwrap();
    let with_config = sqlready(&["checks", "lint", checks, "--config", config]);
    assert_eq!(with_config.code, 0, "{}", with_config.stderr);
    assert!(with_config.stdout.contains("1 check file(s) OK"));
    let from_env = support::cli::sqlready_with_env(
        &["checks", "lint", checks],
        &[("SQLREADY_CONFIG", config)],
    );
    assert_eq!(from_env.code, 0, "{}", from_env.stderr);

    // ./sqlready.toml is read when present, and ignored with --no-config.
    std::fs::copy(config, dir.path().join("sqlready.toml")).unwrap();
    let implicit = support::cli::sqlready_in(dir.path(), &["checks", "lint", checks], &[]);
    assert_eq!(implicit.code, 0, "{}", implicit.stderr);
    let ignored =
        support::cli::sqlready_in(dir.path(), &["checks", "lint", checks, "--no-config"], &[]);
    assert!(
        refused_int2(&ignored),
        "{}\n{}",
        ignored.code,
        ignored.stderr
    );

    // An entry for another engine widens nothing; a broken config is an error of its own.
    std::fs::write(
        dir.path().join("sqlready.toml"),
        "[checks.allow_functions]\nmysql = [\"int2\"]\n",
    )
    .unwrap();
    let other_engine = support::cli::sqlready_in(dir.path(), &["checks", "lint", checks], &[]);
    assert!(refused_int2(&other_engine), "{}", other_engine.stderr);
    std::fs::write(
        dir.path().join("sqlready.toml"),
        "[checks.allow_functions]\noracle = [\"x\"]\n",
    )
    .unwrap();
    let bad = support::cli::sqlready_in(dir.path(), &["checks", "lint", checks], &[]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("oracle") && bad.stderr.contains("sqlready.toml"),
        "{}",
        bad.stderr
    );
}

/// `audit --format json --evidence DIR` of `url`: the report's one target and
/// run.json, with stderr.
fn audit_with_evidence(url: &str) -> (serde_json::Value, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    let run = sqlready(&[
        "audit",
        url,
        "--no-config",
        "--format",
        "json",
        "--evidence",
        bundle.to_str().unwrap(),
    ]);
    assert!(
        run.code == 0 || run.code == 1,
        "{url}: exit {}: {}\n{}",
        run.code,
        run.stderr,
        run.stdout
    );
    let target = support::cli::only_target(&run.json()).clone();
    let run_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("run.json")).unwrap()).unwrap();
    (target, run_json, run.stderr)
}

/// The warnings of the report's target and of run.json, which must agree.
fn recorded_warnings(target: &serde_json::Value, run_json: &serde_json::Value) -> Vec<String> {
    let in_report: Vec<String> = target["warnings"]
        .as_array()
        .map(|a| a.iter().map(|w| w.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    let in_run: Vec<String> = run_json["warnings"]
        .as_array()
        .expect("run.json has warnings")
        .iter()
        .map(|w| {
            assert_eq!(w["target"], target["id"]);
            w["warning"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(in_report, in_run);
    in_report
}

#[test]
fn a_session_that_can_do_more_than_read_is_in_the_run_record() {
    // PostgreSQL: a superuser, a role with a write grant on one table, the auditor.
    let bad = &pglab().bad;
    bad.psql(
        "app",
        &format!(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'guard_writer') THEN
                 CREATE ROLE guard_writer LOGIN PASSWORD '{LAB_PASSWORD}' IN ROLE pg_monitor;
               END IF;
             END $$;
             GRANT INSERT ON orders TO guard_writer;"
        ),
    );
    let (target, run_json, stderr) = audit_with_evidence(&bad.url("postgres", "app"));
    let warnings = recorded_warnings(&target, &run_json);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("role postgres is a superuser"),
        "{warnings:?}"
    );
    assert_eq!(stderr.matches("is a superuser").count(), 1, "{stderr}");
    let (target, run_json, _) = audit_with_evidence(&bad.url("guard_writer", "app"));
    let warnings = recorded_warnings(&target, &run_json);
    assert!(
        warnings.len() == 1 && warnings[0].contains("role guard_writer may write to tables"),
        "{warnings:?}"
    );
    let (target, run_json, _) = audit_with_evidence(&pglab().good.url("auditor", "app"));
    assert!(target.get("warnings").is_none(), "{target:#}");
    assert!(recorded_warnings(&target, &run_json).is_empty());

    // MariaDB: write grants per schema and per table are seen, not only global ones.
    let server = &mylab().good;
    let my_password = support::mylab::LAB_PASSWORD;
    server.sql(&format!(
        "CREATE DATABASE IF NOT EXISTS guardtest2; CREATE TABLE IF NOT EXISTS guardtest2.probe (n int); \
         CREATE USER IF NOT EXISTS 'guardwriter'@'%' IDENTIFIED BY '{my_password}'; \
         GRANT ALL ON guardtest2.* TO 'guardwriter'@'%'; \
         CREATE USER IF NOT EXISTS 'guardtable'@'%' IDENTIFIED BY '{my_password}'; \
         GRANT PROCESS, SELECT ON *.* TO 'guardtable'@'%'; \
         GRANT UPDATE (n) ON guardtest2.probe TO 'guardtable'@'%'; \
         GRANT DELETE ON guardtest2.probe TO 'guardtable'@'%'"
    ));
    let (target, run_json, stderr) = audit_with_evidence(&server.url("guardwriter"));
    let warnings = recorded_warnings(&target, &run_json);
    assert!(
        warnings.len() == 1
            && warnings[0]
                .contains("account 'guardwriter'@'%' holds ALL PRIVILEGES ON `guardtest2`.*"),
        "{warnings:?}"
    );
    assert_eq!(
        stderr.matches("holds ALL PRIVILEGES").count(),
        1,
        "{stderr}"
    );
    assert!(!warnings[0].contains("PASSWORD"), "{warnings:?}");
    let (target, run_json, _) = audit_with_evidence(&server.url("guardtable"));
    let warnings = recorded_warnings(&target, &run_json);
    assert!(
        warnings.len() == 1
            && warnings[0].contains("ON `guardtest2`.`probe`")
            && warnings[0].contains("UPDATE")
            && warnings[0].contains("DELETE")
            && !warnings[0].contains("PROCESS"),
        "{warnings:?}"
    );
    let (target, run_json, _) = audit_with_evidence(&server.url("auditor"));
    assert!(target.get("warnings").is_none(), "{target:#}");
    assert!(recorded_warnings(&target, &run_json).is_empty());
}
