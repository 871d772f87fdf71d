//! Every bypass of issue 17 and the ones found while building the guard,
//! each refused with its reason; the legitimate reads accepted.

use super::{Allowed, validate};

/// (engine, query, a word the refusal must contain)
const REFUSED: &[(&str, &str, &str)] = &[
    // MySQL: backslash escapes the old lexer did not know
    (
        "mysql",
        r#"SELECT "\"" AS a; COMMIT; SET SESSION TRANSACTION READ WRITE; INSERT INTO t VALUES (1); SELECT "\"" AS b"#,
        "backslash",
    ),
    (
        "mysql",
        r#"SELECT "\"" AS a, 1 AS b INTO OUTFILE '/tmp/x' -- ""#,
        "backslash",
    ),
    (
        "mysql",
        "SELECT 1 AS a INTO OUTFILE '/tmp/x'",
        "cannot be parsed",
    ),
    (
        "mysql",
        "SELECT 1 INTO DUMPFILE '/tmp/x'",
        "cannot be parsed",
    ),
    ("mysql", "SELECT 1 INTO @v", "INTO"),
    ("mysql", "SELECT * FROM t INTO @v", "cannot be parsed"),
    // executable comments and hints
    ("mysql", "SELECT 1 /*! , sleep(5) */", "executable comment"),
    (
        "mysql",
        "SELECT 1 /*!50000 , (SELECT GET_LOCK('x', 1)) */",
        "executable comment",
    ),
    (
        "mysql",
        "SELECT 1 /* a /*! nested */ , sleep(1) */",
        "executable comment",
    ),
    ("mysql", "SELECT 1 /*M! , sleep(5) */", "executable comment"),
    ("mysql", "SELECT /*+ MAX_EXECUTION_TIME(0) */ 1", "hint"),
    // several statements, client commands
    ("mysql", "SELECT 1; SELECT 2", "single statement"),
    ("mysql", "SELECT 1; DELETE FROM t", "single statement"),
    ("mysql", "SELECT 1\\G", "client command"),
    ("mysql", "DELIMITER //\nSELECT 1 //", "DELIMITER"),
    // writes and locks
    ("mysql", "DELETE FROM t", "must be SELECT"),
    (
        "mysql",
        "SET SESSION TRANSACTION READ WRITE",
        "must be SELECT",
    ),
    ("mysql", "SELECT * FROM t FOR UPDATE", "row locks"),
    ("mysql", "SELECT * FROM t LOCK IN SHARE MODE", ""),
    ("mysql", "SELECT * FROM t FOR SHARE", "row locks"),
    ("mysql", "SELECT @a := 1", "assign"),
    // functions with side effects, however spelled
    ("mysql", "SELECT SLEEP(10)", "'sleep'"),
    ("mysql", "SELECT sLeEp(10)", "'sleep'"),
    ("mysql", "SELECT `sleep`(10)", "'sleep'"),
    (
        "mysql",
        "SELECT BENCHMARK(1000000, MD5('x'))",
        "'benchmark'",
    ),
    ("mysql", "SELECT GET_LOCK('a', 1)", "'get_lock'"),
    ("mysql", "SELECT LOAD_FILE('/etc/passwd')", "'load_file'"),
    (
        "mysql",
        "SELECT app.write_audit_row()",
        "'app.write_audit_row'",
    ),
    (
        "mysql",
        "SELECT * FROM (SELECT release_all_locks()) x",
        "'release_all_locks'",
    ),
    (
        "mysql",
        "SELECT 1 FROM t WHERE x = (SELECT sys_exec('id'))",
        "'sys_exec'",
    ),
    ("mysql", "SELECT 1 --1\n, sleep(1)", "'sleep'"),
    ("mysql", "SELECT 'oops", "cannot be parsed"),
    ("mysql", "SELECT SLE/**/EP(1)", "cannot be parsed"),
    ("mysql", "SELECT `mysql`.`sleep`(1)", "'mysql.sleep'"),
    ("mysql", "SELECT 1 UNION SELECT SLEEP(1)", "'sleep'"),
    (
        "mysql",
        "SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (a INT PATH '$')) t WHERE SLEEP(1)",
        "'sleep'",
    ),
    // PostgreSQL: the grammar the old lexer did not know
    (
        "postgres",
        "SELECT 1 # 2 AS a, pg_reload_conf() AS b",
        "'pg_reload_conf'",
    ),
    (
        "postgres",
        "SELECT 1 AS a$b$, pg_terminate_backend(1) AS c$b$",
        "'pg_terminate_backend'",
    ),
    (
        "postgres",
        r"SELECT '\' AS a, pg_reload_conf() AS b -- '",
        "'pg_reload_conf'",
    ),
    (
        "postgres",
        "SELECT 1 /* a /* nested */ */, pg_reload_conf()",
        "'pg_reload_conf'",
    ),
    (
        "postgres",
        r#"SELECT pg_catalog."pg_terminate_backend"(pid) FROM pg_stat_activity"#,
        "'pg_catalog.pg_terminate_backend'",
    ),
    (
        "postgres",
        r#"SELECT U&"pg_termin\0061te_backend"(pid) FROM pg_stat_activity"#,
        "'pg_terminate_backend'",
    ),
    (
        "postgres",
        r#"SELECT U&"pg_termin!0061te_backend" UESCAPE '!' (pid) FROM pg_stat_activity"#,
        "'pg_terminate_backend'",
    ),
    (
        "postgres",
        "SELECT PG_READ_FILE('postgresql.conf')",
        "'pg_read_file'",
    ),
    (
        "postgres",
        "SELECT pg_read_file(E'postgresql.conf\\'')",
        "'pg_read_file'",
    ),
    (
        "postgres",
        "SELECT E'\\'', pg_reload_conf()",
        "'pg_reload_conf'",
    ),
    (
        "postgres",
        "SELECT U&'\\0041' UESCAPE '!', pg_reload_conf()",
        "",
    ),
    (
        "postgres",
        "SELECT * FROM pg_create_physical_replication_slot('s')",
        "'pg_create_physical_replication_slot'",
    ),
    (
        "postgres",
        "SELECT pg_create_logical_replication_slot('s', 'pgoutput')",
        "'pg_create_logical_replication_slot'",
    ),
    ("postgres", "SELECT pg_stat_reset()", "'pg_stat_reset'"),
    (
        "postgres",
        "SELECT pg_stat_reset_shared('bgwriter')",
        "'pg_stat_reset_shared'",
    ),
    (
        "postgres",
        "SELECT pg_stat_statements_reset()",
        "'pg_stat_statements_reset'",
    ),
    (
        "postgres",
        "SELECT dblink_connect_u('c', 'dbname=postgres')",
        "'dblink_connect_u'",
    ),
    (
        "postgres",
        "SELECT dblink_send_query('c', 'DELETE FROM t')",
        "'dblink_send_query'",
    ),
    (
        "postgres",
        "SELECT * FROM dblink('dbname=x', 'DELETE FROM t RETURNING 1') AS t(a int)",
        "'dblink'",
    ),
    (
        "postgres",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "'set_config'",
    ),
    ("postgres", "SELECT nextval('s')", "'nextval'"),
    ("postgres", "SELECT pg_sleep(100)", "'pg_sleep'"),
    ("postgres", "SELECT lo_import('/etc/passwd')", "'lo_import'"),
    ("postgres", "SELECT public.count(1)", "'public.count'"),
    (
        "postgres",
        "SELECT \"PG_RELOAD_CONF\"()",
        "'PG_RELOAD_CONF'",
    ),
    ("postgres", "SELECT pg_/**/reload_conf()", "cannot parse"),
    ("postgres", "SELECT 1; SELECT 2", "single statement"),
    (
        "postgres",
        "SELECT 1; COMMIT; SET default_transaction_read_only = off",
        "single statement",
    ),
    ("postgres", "COMMIT", "must be SELECT"),
    (
        "postgres",
        "EXPLAIN ANALYZE DELETE FROM t",
        "must be SELECT",
    ),
    ("postgres", "COPY t TO '/tmp/x'", "must be SELECT"),
    ("postgres", "DO $$BEGIN PERFORM 1; END$$", "must be SELECT"),
    (
        "postgres",
        "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "DELETE",
    ),
    (
        "postgres",
        "WITH d AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM d",
        "INSERT",
    ),
    ("postgres", "SELECT * INTO copy FROM t", "INTO"),
    ("postgres", "SELECT * FROM t FOR UPDATE", "row locks"),
    ("postgres", "SELECT * FROM t FOR KEY SHARE", "row locks"),
    (
        "postgres",
        "SELECT * FROM (SELECT * FROM t FOR NO KEY UPDATE) x",
        "row locks",
    ),
    ("postgres", "SELECT 'oops", "cannot parse"),
    ("postgres", "", "empty"),
    ("postgres", "SELECT 1\0, pg_reload_conf()", "NUL"),
    ("mysql", "SELECT 1\0, sleep(1)", "NUL"),
    ("postgres", " ; ", "empty"),
];

/// (engine, query)
const ACCEPTED: &[(&str, &str)] = &[
    ("postgres", "SELECT 5 # 3"),
    ("postgres", "SELECT $$a;b$$ AS x"),
    ("postgres", "SELECT $t$ pg_reload_conf(); $t$ AS x"),
    ("postgres", "SELECT 'it''s' AS x"),
    ("postgres", "SELECT E'it\\'s' AS x"),
    (
        "postgres",
        "SELECT 1 /* outer /* inner */ still comment; pg_reload_conf() */ AS x",
    ),
    // nested comments: all of it is a comment, nothing is called
    (
        "postgres",
        "SELECT 1 /* a /* nested */ , pg_reload_conf() /* b */ */",
    ),
    ("postgres", "SELECT 1 AS a$b"),
    (
        "postgres",
        "SELECT relname FROM pg_class WHERE relkind = 'r';",
    ),
    ("postgres", "with t as (select 1) select * from t"),
    (
        "postgres",
        "WITH s AS (SELECT datname, xact_commit FROM pg_stat_database) SELECT count(*) AS n, max(xact_commit) FROM s",
    ),
    (
        "postgres",
        "SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) AS lag FROM pg_replication_slots",
    ),
    (
        "postgres",
        "SELECT pg_catalog.count(*) FROM pg_stat_activity",
    ),
    (
        "postgres",
        "SELECT extract(epoch FROM now() - backend_start) FROM pg_stat_activity",
    ),
    (
        "postgres",
        "SELECT substring(query FROM 1 FOR 10), trim(both ' ' FROM state) FROM pg_stat_activity",
    ),
    ("postgres", "VALUES (1, 'a'), (2, 'b')"),
    ("postgres", "TABLE pg_stat_database"),
    ("postgres", "SHOW wal_level"),
    (
        "postgres",
        "SELECT current_setting('max_connections')::int AS n, current_user",
    ),
    ("postgres", "SELECT 1 UNION ALL SELECT 2"),
    (
        "postgres",
        "-- a comment\nSELECT 1 -- with pg_reload_conf() in it\n",
    ),
    ("mysql", "SELECT \"a\" AS x"),
    ("mysql", "SELECT 'it''s' AS x"),
    (
        "mysql",
        "SELECT 1 # pg_sleep(1) and sleep(1) in a comment\n",
    ),
    ("mysql", "SELECT 1 -- sleep(1)\n"),
    (
        "mysql",
        "SELECT @@session.tx_read_only AS read_only, @@session.max_statement_time AS timeout",
    ),
    (
        "mysql",
        "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' ORDER BY TABLE_NAME",
    ),
    (
        "mysql",
        "SELECT COUNT(*) AS n FROM information_schema.COLUMNS a, information_schema.COLUMNS b",
    ),
    ("mysql", "SHOW GLOBAL VARIABLES LIKE 'log_bin'"),
    ("mysql", "SHOW GLOBAL STATUS"),
    ("mysql", "WITH t AS (SELECT 1 AS a) SELECT a FROM t"),
    (
        "mysql",
        "SELECT IFNULL(NULL, 1), DATE_FORMAT(NOW(), '%Y'), LOWER(USER())",
    ),
    (
        "mysql",
        "SELECT user, host FROM mysql.user WHERE authentication_string = ''",
    ),
    (
        "mysql",
        "SELECT * FROM performance_schema.replication_applier_status",
    ),
];

#[test]
fn hostile_queries_are_refused_with_their_reason() {
    let mut wrong = Vec::new();
    for (engine, sql, reason) in REFUSED {
        match validate(engine, sql, &Allowed::default()) {
            Ok(()) => wrong.push(format!("{engine}: accepted {sql:?}")),
            Err(refusal) if !refusal.message.contains(reason) => wrong.push(format!(
                "{engine}: {sql:?} refused for '{}', expected '{reason}'",
                refusal.message
            )),
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn legitimate_reads_are_accepted() {
    let mut wrong = Vec::new();
    for (engine, sql) in ACCEPTED {
        if let Err(refusal) = validate(engine, sql, &Allowed::default()) {
            wrong.push(format!("{engine}: refused {sql:?}: {}", refusal.message));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_catalogue_queries_are_accepted() {
    let catalog = crate::checks::Catalog::load(None).expect("the built-in catalogue loads");
    for compiled in &catalog.checks {
        let check = &compiled.check;
        for (engine, sql) in &check.query {
            assert_eq!(
                validate(engine, sql, &Allowed::default()),
                Ok(()),
                "{}",
                check.id
            );
        }
    }
    let example = include_str!("../../../examples/checks/tables_have_primary_keys.toml");
    let parsed = crate::checks::load::parse("example", example).expect("the example loads");
    assert_eq!(parsed.check.query.len(), 2);
}

#[test]
fn refusals_point_at_the_construct() {
    let sql = "SELECT 1,\n  pg_reload_conf()";
    let refusal = validate("postgres", sql, &Allowed::default()).unwrap_err();
    assert_eq!(super::line_column(sql, refusal.offset), (2, 3));
    let sql = "SELECT 1,\n  SLEEP(1)";
    let refusal = validate("mysql", sql, &Allowed::default()).unwrap_err();
    assert_eq!(super::line_column(sql, refusal.offset), (2, 3));
}

#[test]
fn an_operator_can_allow_a_function_deliberately() {
    let allowed = Allowed {
        postgres: vec!["myschema.lag_seconds".into(), "int2".into()],
        mysql: vec!["sys.format_time".into()],
    };
    assert_eq!(
        validate(
            "postgres",
            "SELECT myschema.lag_seconds(), int2(1)",
            &allowed
        ),
        Ok(())
    );
    assert!(validate("postgres", "SELECT other.lag_seconds()", &allowed).is_err());
    assert_eq!(
        validate("mysql", "SELECT SYS.FORMAT_TIME(1)", &allowed),
        Ok(())
    );
}

#[test]
fn huge_and_deep_inputs_are_refused_before_parsing() {
    let deep = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
    for engine in ["postgres", "mysql"] {
        let refusal = validate(engine, &deep, &Allowed::default()).unwrap_err();
        assert!(refusal.message.contains("deeper"), "{}", refusal.message);
        let long = format!("SELECT 1 {}", " ".repeat(super::MAX_QUERY_BYTES));
        let refusal = validate(engine, &long, &Allowed::default()).unwrap_err();
        assert!(refusal.message.contains("longer"), "{}", refusal.message);
    }
}

#[test]
fn the_documented_allowlists_are_the_code() {
    let page = include_str!("../../../docs/security.md");
    for (engine, code) in [
        ("postgres", super::POSTGRES_FUNCTIONS),
        ("mysql", super::MYSQL_FUNCTIONS),
    ] {
        let start = format!("<!-- allowlist:{engine} -->");
        let end = format!("<!-- /allowlist:{engine} -->");
        let from = page.find(&start).expect("start marker") + start.len();
        let to = page.find(&end).expect("end marker");
        let documented: std::collections::BTreeSet<&str> = page[from..to]
            .split(',')
            .map(|name| name.trim().trim_matches('`'))
            .filter(|name| !name.is_empty())
            .collect();
        let listed: std::collections::BTreeSet<&str> = code.iter().copied().collect();
        assert_eq!(listed.len(), code.len(), "{engine}: duplicate entries");
        assert_eq!(
            documented, listed,
            "docs/security.md's {engine} list differs from allow.rs"
        );
    }
}
