//! `sqlready audit cloudsql://…` end to end: the real binary and the real
//! Cloud SQL client against a local Admin API server (support/cloudsql_server.rs)
//! reached through SQLREADY_CLOUDSQL_ENDPOINT, with GOOGLE_OAUTH_ACCESS_TOKEN
//! as the bearer token the server accepts (or the credentials of a test), and
//! the same server as Google's token info (SQLREADY_GOOGLE_OAUTH_ENDPOINT), so
//! no run ever reaches Google.
#![cfg(feature = "cloudsql")]

#[path = "support/cli.rs"]
mod cli;
#[path = "support/cloudsql_server.rs"]
mod cloudsql_server;

use cli::{Run, assert_items, finding, item, sqlready_with_env, status};
use cloudsql_server::{
    KEY_EMAIL, Reply, Routes, SA_EMAIL, Server, TOKEN, USER_EMAIL, USER_TOKEN, VM_EMAIL,
    bench_routes, fixture, fixture_json, list_page, project_routes, scenario_routes,
};
use serde_json::Value;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start(scenario_routes(), Duration::ZERO))
}

/// The variables that could point the client elsewhere, neutralised: no ADC
/// file, no metadata server but a closed loopback port.
fn isolated_env(home: &str) -> Vec<(&'static str, String)> {
    vec![
        ("HOME", home.to_string()),
        ("GCE_METADATA_HOST", "127.0.0.1:9".to_string()),
        ("GOOGLE_APPLICATION_CREDENTIALS", String::new()),
        ("NO_PROXY", "*".to_string()),
        ("HTTPS_PROXY", String::new()),
        ("HTTP_PROXY", String::new()),
    ]
}

fn audit_with(targets: &[&str], extra: &[(&str, &str)]) -> Run {
    audit_at(&server().url, targets, extra)
}

fn audit_at(url: &str, targets: &[&str], extra: &[(&str, &str)]) -> Run {
    audit_args(url, targets, &[], extra)
}

/// `sqlready audit TARGETS… --format json ARGS…` against the server at `url`.
fn audit_args(url: &str, targets: &[&str], args: &[&str], extra: &[(&str, &str)]) -> Run {
    let home = tempfile::tempdir().expect("temp home");
    let home_path = home.path().display().to_string();
    let mut env: Vec<(&str, String)> = isolated_env(&home_path);
    env.push(("SQLREADY_CLOUDSQL_ENDPOINT", url.to_string()));
    env.push(("SQLREADY_GOOGLE_OAUTH_ENDPOINT", url.to_string()));
    env.push(("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN.to_string()));
    for (key, value) in extra {
        env.retain(|(k, _)| k != key);
        env.push((key, value.to_string()));
    }
    // An empty GOOGLE_APPLICATION_CREDENTIALS would name a file: leave it out instead.
    let env: Vec<(&str, &str)> = env
        .iter()
        .filter(|(k, v)| !(v.is_empty() && *k == "GOOGLE_APPLICATION_CREDENTIALS"))
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let mut command = vec!["audit"];
    command.extend_from_slice(targets);
    command.extend(["--format", "json"]);
    command.extend_from_slice(args);
    let run = sqlready_with_env_removing(&command, &env);
    for token in [TOKEN, USER_TOKEN] {
        assert!(
            !run.stdout.contains(token) && !run.stderr.contains(token),
            "the token leaked:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    run
}

/// The binary with the Google variables of the calling environment removed, then `env` set.
fn sqlready_with_env_removing(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sqlready"));
    command.args(args);
    for var in [
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_OAUTH_ACCESS_TOKEN",
        "SQLREADY_CLOUDSQL_ENDPOINT",
        "SQLREADY_GOOGLE_OAUTH_ENDPOINT",
        "GCE_METADATA_HOST",
        "RUST_LOG",
        "NO_COLOR",
        "CLOUDSDK_CONFIG",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("run the sqlready binary");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn audit(targets: &[&str]) -> Run {
    audit_with(targets, &[])
}

fn targets(report: &Value) -> &Vec<Value> {
    report["targets"].as_array().expect("targets array")
}

fn target<'a>(report: &'a Value, id: &str) -> &'a Value {
    targets(report)
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no target {id} in {:#}", report["targets"]))
}

fn detail<'a>(target: &'a Value, check: &str) -> &'a str {
    finding(target, check)["detail"]
        .as_str()
        .unwrap_or_default()
}

#[test]
fn discovery_reads_every_page_and_judges_each_instance() {
    // A server of its own: its request log is this test's alone.
    let own = Server::start(scenario_routes(), Duration::ZERO);
    let run = audit_at(&own.url, &["cloudsql://acme-prod"], &[]);
    assert_eq!(
        run.code, 1,
        "findings fail the run: {}\n{}",
        run.stderr, run.stdout
    );
    let report = run.json();
    let ids: Vec<&str> = targets(&report)
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "cloudsql://acme-prod/pg-good",
            "cloudsql://acme-prod/pg-bad",
            "cloudsql://acme-prod/pg-replica",
            "cloudsql://acme-prod/mysql-good",
            "cloudsql://acme-prod/mysql-bad",
            "cloudsql://acme-prod/mysql-replica",
        ]
    );
    for t in targets(&report) {
        assert_eq!(t["kind"], "cloudsql");
        let name = t["id"].as_str().unwrap().rsplit('/').next().unwrap();
        assert_eq!(
            t["resource"],
            format!("//sqladmin.googleapis.com/projects/acme-prod/instances/{name}")
        );
        assert_eq!(
            t["items"].as_object().unwrap().len(),
            21,
            "every checklist item is present"
        );
        assert!(t["error"].is_null());
    }
    // Discovery reads list pages only: no instances.get per instance.
    let log = own.log();
    let gets: Vec<&String> = log
        .iter()
        .filter(|l| {
            l.contains("/projects/acme-prod/instances/")
                && !l.contains("/backupRuns")
                && !l.contains("getLatestRecoveryTime")
        })
        .collect();
    assert!(gets.is_empty(), "{gets:?}");
    let pages = own.requests_to("/v1/projects/acme-prod/instances?");
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(
        pages[1].contains("pageToken=page"),
        "the second page was requested: {pages:?}"
    );
    assert!(
        pages.iter().all(|l| l.contains("maxResults=500")),
        "{pages:?}"
    );
    // Extras only where they mean something: backup runs for primaries with backups on,
    // the recovery window where PITR is on; never for replicas.
    let mut extras: Vec<String> = log
        .iter()
        .filter(|l| l.contains("/backupRuns") || l.contains("getLatestRecoveryTime"))
        .map(|l| {
            l.split('?')
                .next()
                .unwrap()
                .trim_start_matches("GET /v1/projects/acme-prod/instances/")
                .to_string()
        })
        .collect();
    extras.sort();
    assert_eq!(
        extras,
        [
            "mysql-bad/backupRuns",
            "mysql-good/backupRuns",
            "mysql-good/getLatestRecoveryTime",
            "pg-good/backupRuns",
            "pg-good/getLatestRecoveryTime",
        ]
    );
    // Seven Admin API calls, operations.list once for the project (restore drills,
    // clones), and token info once for who ran the audit.
    assert_eq!(own.requests_to("POST /tokeninfo").len(), 1, "{log:?}");
    assert_eq!(own.requests_to("/operations?").len(), 1, "{log:?}");
    assert_eq!(own.request_count(), 9);
}

#[test]
fn good_postgres_primary_passes_what_google_recommends() {
    let report = audit(&["cloudsql://acme-prod/pg-good"]).json();
    let t = target(&report, "cloudsql://acme-prod/pg-good");
    assert_eq!(
        (
            t["role"].as_str(),
            t["engine"].as_str(),
            t["version"].as_str()
        ),
        (Some("primary"), Some("postgres"), Some("16.4"))
    );
    assert_items(
        t,
        &[
            "multi_zone",
            "backups",
            "pitr",
            "cdc",
            "disk_autogrow",
            "network_security",
            "slow_queries",
            "deletion_protection",
            "encryption",
            "audit_logging",
            "version_support",
        ],
        "pass",
    );
    // A replica exists; its lag is judged from inside the database (replicas.lag), not here.
    assert_eq!(item(t, "replicas"), "pass");
    assert_eq!(status(t, "replicas.present"), "pass");
    // pg-replica, read with instances.get: RUNNABLE, activation ALWAYS, replicating.
    assert_eq!(status(t, "replicas.healthy"), "pass");
    assert_eq!(status(t, "replicas.lag"), "n/a");
    assert!(
        detail(t, "backups.cloudsql_last_success").contains("ended 7 hour(s) ago"),
        "{}",
        detail(t, "backups.cloudsql_last_success")
    );
    assert!(
        detail(t, "pitr.cloudsql_recovery_window").contains("window reaches back 168"),
        "{}",
        detail(t, "pitr.cloudsql_recovery_window")
    );
    assert!(detail(t, "network.cloudsql_tls_required").contains("ENCRYPTED_ONLY"));
    // Outside the Admin API: unknown, with the reason.
    assert_eq!(item(t, "migrations"), "n/a");
    assert_eq!(item(t, "monitoring"), "unknown");
    assert_eq!(status(t, "cdc.cloudsql_mysql_binlog"), "n/a");
}

#[test]
fn bad_postgres_primary_fails_where_google_says_so() {
    let report = audit(&["cloudsql://acme-prod/pg-bad"]).json();
    let t = target(&report, "cloudsql://acme-prod/pg-bad");
    assert_eq!(t["version"], "13.16");
    for check in [
        "multi_zone.ha_enabled",
        "backups.enabled",
        "pitr.enabled",
        "cdc.cloudsql_logical_decoding",
        "disk_autogrow.enabled",
        "disk_autogrow.cloudsql_headroom",
        "network.no_public_ip",
        "network.cloudsql_open_authorized_networks",
        "network.cloudsql_tls_required",
        "slow_queries.cloudsql_postgres_logged",
        "deletion_protection.enabled",
        "replicas.present",
    ] {
        assert_eq!(status(t, check), "fail", "{check}: {:#}", finding(t, check));
    }
    // PostgreSQL 13 ended upstream, but Cloud SQL still ships its security fixes in paid
    // extended support (issue 20): not a "no more fixes" fail; the charge warns below.
    assert_eq!(status(t, "version.supported"), "pass");
    assert!(
        detail(t, "version.supported").contains("paid extended support until 2029-02-01"),
        "{}",
        detail(t, "version.supported")
    );
    assert_eq!(status(t, "version.cloudsql_regular_support"), "warn");
    assert!(
        detail(t, "version.cloudsql_regular_support").contains("extended support since 2026-02-01")
    );
    assert_eq!(status(t, "slow_queries.cloudsql_query_insights"), "warn");
    assert_eq!(status(t, "version.cloudsql_maintenance_window"), "warn");
    assert_eq!(status(t, "encryption.customer_managed_key"), "warn");
    assert_eq!(status(t, "encryption.at_rest"), "pass");
    // Backups are off: their history and PITR window do not apply.
    assert_eq!(status(t, "backups.cloudsql_last_success"), "n/a");
    assert_eq!(status(t, "pitr.cloudsql_recovery_window"), "n/a");
    let open = finding(t, "network.cloudsql_open_authorized_networks");
    assert_eq!(open["severity"], "critical");
    assert!(
        open["detail"].as_str().unwrap().contains("0.0.0.0/0"),
        "{open:#}"
    );
    let headroom = detail(t, "disk_autogrow.cloudsql_headroom");
    assert!(headroom.contains("SOFT_SHUTDOWN"), "{headroom}");
    // A failing finding carries the gcloud fix.
    assert!(
        finding(t, "multi_zone.ha_enabled")["remediation"]
            .as_str()
            .unwrap()
            .contains("gcloud sql instances patch")
    );
}

#[test]
fn replicas_of_both_engines_are_replicas() {
    let report = audit(&[
        "cloudsql://acme-prod/pg-replica",
        "cloudsql://acme-prod/mysql-replica",
    ])
    .json();
    let pg = target(&report, "cloudsql://acme-prod/pg-replica");
    let mysql = target(&report, "cloudsql://acme-prod/mysql-replica");
    for t in [pg, mysql] {
        assert_eq!(t["role"], "replica");
        for check in [
            "replicas.present",
            "backups.enabled",
            "backups.retention",
            "backups.cloudsql_last_success",
            "pitr.enabled",
            "deletion_protection.enabled",
            "cdc.cloudsql_logical_decoding",
            "cdc.cloudsql_mysql_binlog",
        ] {
            assert_eq!(status(t, check), "n/a", "{check} on {}", t["id"]);
        }
        assert_eq!(item(t, "backups"), "n/a");
        assert_eq!(item(t, "pitr"), "n/a");
    }
    assert_eq!(status(pg, "replicas.cloudsql_replicating"), "pass");
    assert!(detail(pg, "replicas.cloudsql_replicating").contains("acme-prod:pg-good"));
    assert_eq!(status(mysql, "replicas.cloudsql_replicating"), "fail");
    assert!(detail(mysql, "replicas.cloudsql_replicating").contains("replication is stopped"));
    assert_eq!(mysql["engine"], "mysql");
}

#[test]
fn good_mysql_primary() {
    let report = audit(&["cloudsql://acme-prod/mysql-good"]).json();
    let t = target(&report, "cloudsql://acme-prod/mysql-good");
    assert_eq!(
        (t["engine"].as_str(), t["version"].as_str()),
        (Some("mysql"), Some("8.4.3"))
    );
    // Its only replica (mysql-replica, read with instances.get) has
    // databaseReplicationEnabled: false: listed, but no failover target.
    assert_eq!(status(t, "replicas.present"), "fail");
    assert_eq!(status(t, "replicas.healthy"), "fail");
    let unhealthy = detail(t, "replicas.healthy");
    assert!(
        unhealthy.contains("mysql-replica") && unhealthy.contains("replication is stopped"),
        "{unhealthy}"
    );
    assert_items(
        t,
        &[
            "multi_zone",
            "backups",
            "pitr",
            "cdc",
            "disk_autogrow",
            "network_security",
            "slow_queries",
            "deletion_protection",
            "audit_logging",
        ],
        "pass",
    );
    // MySQL PITR is the binary log; its recovery window was read.
    assert_eq!(status(t, "pitr.enabled"), "pass");
    assert_eq!(status(t, "pitr.cloudsql_recovery_window"), "pass");
    // Private Service Connect and connectors: no public IP, TLS through the connectors.
    assert_eq!(status(t, "network.no_public_ip"), "pass");
    assert_eq!(status(t, "network.cloudsql_tls_required"), "pass");
    // binlog_format and binlog_row_image absent: the documented defaults ROW and FULL.
    assert!(detail(t, "cdc.cloudsql_mysql_binlog").contains("binlog_format ROW"));
    // Cloud SQL has not dated MySQL 8.4's regular support: unknown, not guessed.
    let support = finding(t, "version.cloudsql_regular_support");
    assert_eq!(support["status"], "unknown");
    assert!(
        support["detail"]
            .as_str()
            .unwrap()
            .contains("no end of regular support"),
        "{support:#}"
    );
    assert_eq!(status(t, "encryption.customer_managed_key"), "warn");
}

#[test]
fn bad_mysql_primary() {
    let report = audit(&["cloudsql://acme-prod/mysql-bad"]).json();
    let t = target(&report, "cloudsql://acme-prod/mysql-bad");
    for check in [
        "backups.retention",
        "backups.cloudsql_last_success",
        "pitr.enabled",
        "cdc.cloudsql_mysql_binlog",
        "disk_autogrow.cloudsql_headroom",
        "network.cloudsql_open_authorized_networks",
        "network.cloudsql_tls_required",
        "slow_queries.cloudsql_mysql_slow_log",
        "audit.cloudsql_database_audit",
    ] {
        assert_eq!(status(t, check), "fail", "{check}: {:#}", finding(t, check));
    }
    // MySQL 5.7: past its community end of life, in Cloud SQL's paid extended support.
    assert_eq!(status(t, "version.supported"), "pass");
    assert_eq!(status(t, "version.cloudsql_regular_support"), "warn");
    assert_eq!(status(t, "backups.enabled"), "pass");
    assert_eq!(status(t, "backups.cloudsql_off_site"), "warn");
    let last = detail(t, "backups.cloudsql_last_success");
    assert!(last.contains("74") && last.contains("FAILED"), "{last}");
    assert!(
        detail(t, "backups.retention").contains("3 day(s)"),
        "{}",
        detail(t, "backups.retention")
    );
    let slow = detail(t, "slow_queries.cloudsql_mysql_slow_log");
    assert!(
        slow.contains("TABLE") && slow.contains("long_query_time is 10"),
        "{slow}"
    );
    assert!(detail(t, "disk_autogrow.cloudsql_headroom").contains("within 10%"));
    // requireSsl=false and no sslMode: unencrypted connections allowed.
    assert!(detail(t, "network.cloudsql_tls_required").contains("ALLOW_UNENCRYPTED_AND_ENCRYPTED"));
    // --database-flags replaces every flag: the printed fix keeps the instance's own
    // (binlog_format=MIXED) and sets what the check wants, so applying it loses nothing.
    let fix = finding(t, "slow_queries.cloudsql_mysql_slow_log")["remediation"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let command = fix
        .lines()
        .find(|l| l.starts_with("gcloud sql instances patch"))
        .unwrap_or_else(|| panic!("{fix}"));
    assert_eq!(
        command,
        "gcloud sql instances patch INSTANCE --database-flags=binlog_format=MIXED,slow_query_log=on,log_output=FILE,long_query_time=1",
        "{fix}"
    );
    assert!(fix.lines().next().unwrap().contains("replaces"), "{fix}");
    assert!(fix.contains("merged"), "{fix}");
    // No /0 in the list: 0.0.0.0/1 and 128.0.0.0/1 are judged by what they cover together.
    let open = detail(t, "network.cloudsql_open_authorized_networks");
    assert!(
        open.contains("0.0.0.0/1") && open.contains("every public IPv4 address"),
        "{open}"
    );
    // --authorized-networks replaces the list: the printed fix keeps the office network
    // and drops the two halves that open it (issue 20).
    let fix = finding(t, "network.cloudsql_open_authorized_networks")["remediation"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        fix.lines()
            .any(|l| l
                == "gcloud sql instances patch INSTANCE --authorized-networks=198.51.100.0/24"),
        "{fix}"
    );
    assert!(
        fix.contains("dropped because they open it to the internet: 0.0.0.0/1, 128.0.0.0/1"),
        "{fix}"
    );
}

#[test]
fn one_missing_instance_does_not_stop_the_others() {
    let run = audit(&[
        "cloudsql://acme-prod/missing",
        "cloudsql://acme-prod/pg-good",
    ]);
    assert_eq!(
        run.code, 3,
        "a target that could not be audited exits 3: {}",
        run.stderr
    );
    let report = run.json();
    let missing = target(&report, "cloudsql://acme-prod/missing");
    let error = missing["error"].as_str().unwrap();
    assert!(
        error.contains("not found") && error.contains("missing"),
        "{error}"
    );
    assert!(target(&report, "cloudsql://acme-prod/pg-good")["error"].is_null());
}

#[test]
fn permission_denied_names_the_role() {
    let run = audit(&["cloudsql://acme-denied", "cloudsql://acme-prod/pg-good"]);
    assert_eq!(run.code, 3);
    let report = run.json();
    let error = target(&report, "cloudsql://acme-denied")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("roles/cloudsql.viewer") && error.contains("acme-denied"),
        "{error}"
    );
    assert!(error.contains("403"), "{error}");
    assert_eq!(
        item(target(&report, "cloudsql://acme-prod/pg-good"), "backups"),
        "pass"
    );
}

#[test]
fn rate_limited_then_served_is_retried() {
    let before = server()
        .requests_to("/v1/projects/acme-busy/instances?")
        .len();
    let run = audit(&["cloudsql://acme-busy"]);
    let report = run.json();
    let t = target(&report, "cloudsql://acme-busy/pg-good");
    assert!(t["error"].is_null(), "{t:#}");
    assert_eq!(item(t, "backups"), "pass");
    let after = server()
        .requests_to("/v1/projects/acme-busy/instances?")
        .len();
    assert!(
        after - before >= 2,
        "the 429 was retried ({} list requests)",
        after - before
    );
}

#[test]
fn a_malformed_answer_is_a_clear_error() {
    let run = audit(&["cloudsql://acme-broken", "cloudsql://acme-prod/pg-good"]);
    assert_eq!(run.code, 3);
    let report = run.json();
    let error = target(&report, "cloudsql://acme-broken")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("not a Cloud SQL Admin API response"),
        "{error}"
    );
    assert!(target(&report, "cloudsql://acme-prod/pg-good")["error"].is_null());
}

#[test]
fn a_partial_listing_is_reported_not_dropped() {
    let run = audit(&["cloudsql://acme-partial"]);
    assert_eq!(
        run.code, 3,
        "a partial listing leaves instances unaudited: {}",
        run.stderr
    );
    let report = run.json();
    assert!(target(&report, "cloudsql://acme-partial/mysql-bad")["error"].is_null());
    let partial = target(&report, "cloudsql://acme-partial");
    let error = partial["error"].as_str().unwrap();
    assert!(
        error.contains("REGION_UNREACHABLE in asia-south2") && error.contains("partial"),
        "{error}"
    );
}

#[test]
fn unknown_fields_and_enum_values_are_tolerated() {
    let run = audit(&["cloudsql://acme-prod/pg-future"]);
    let report = run.json();
    let t = target(&report, "cloudsql://acme-prod/pg-future");
    assert!(t["error"].is_null(), "{t:#}");
    assert_eq!(item(t, "multi_zone"), "pass");
    assert_eq!(status(t, "network.cloudsql_tls_required"), "pass");
}

#[test]
fn failing_extras_make_their_facts_unknown_not_the_target() {
    let report = audit(&["cloudsql://acme-odd/pg-good"]).json();
    let t = target(&report, "cloudsql://acme-odd/pg-good");
    assert!(t["error"].is_null());
    let last = finding(t, "backups.cloudsql_last_success");
    assert_eq!(last["status"], "unknown", "{last:#}");
    assert!(last["detail"].as_str().unwrap().contains("403"), "{last:#}");
    assert!(
        last["resolve"][0]
            .as_str()
            .unwrap()
            .contains("roles/cloudsql.viewer"),
        "{last:#}"
    );
    let window = finding(t, "pitr.cloudsql_recovery_window");
    assert_eq!(window["status"], "unknown", "{window:#}");
    assert!(
        window["detail"]
            .as_str()
            .unwrap()
            .contains("not a Cloud SQL Admin API response"),
        "{window:#}"
    );
    // The configuration itself was judged.
    assert_eq!(status(t, "pitr.enabled"), "pass");
    assert_eq!(status(t, "backups.enabled"), "pass");
}

#[test]
fn several_projects_in_one_run() {
    let report = audit(&[
        "cloudsql://acme-prod",
        "cloudsql://acme-busy",
        "cloudsql://acme-prod/pg-future",
    ])
    .json();
    assert_eq!(targets(&report).len(), 8);
    assert_eq!(report["summary"]["targets"], 8);
    target(&report, "cloudsql://acme-busy/pg-good");
    target(&report, "cloudsql://acme-prod/pg-future");
}

#[test]
fn a_refused_token_says_how_to_log_in() {
    let run = audit_with(
        &["cloudsql://acme-prod/pg-good"],
        &[("GOOGLE_OAUTH_ACCESS_TOKEN", "expired-token")],
    );
    assert_eq!(run.code, 3);
    let report = run.json();
    let error = target(&report, "cloudsql://acme-prod/pg-good")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("401") && error.contains("gcloud auth application-default login"),
        "{error}"
    );
    assert!(!error.contains("expired-token"), "{error}");
}

/// pg-good audited with ADC from the credentials file `path` (written from `json`), no token.
fn audit_with_credentials_file(path: &std::path::Path, json: &Value) -> Run {
    std::fs::write(path, json.to_string()).unwrap();
    let path = path.display().to_string();
    audit_with(
        &["cloudsql://acme-prod/pg-good"],
        &[
            ("GOOGLE_OAUTH_ACCESS_TOKEN", ""),
            ("GOOGLE_APPLICATION_CREDENTIALS", &path),
        ],
    )
}

#[test]
fn application_default_credentials_are_used_without_a_token() {
    // An authorized_user ADC file whose token_uri is the local server: the real ADC code path.
    let dir = tempfile::tempdir().unwrap();
    let adc = dir.path().join("adc.json");
    let adc_json = serde_json::json!({
        "type": "authorized_user",
        "client_id": "sqlready-test.apps.googleusercontent.com",
        "client_secret": "not-a-secret",
        "refresh_token": "refresh-me",
        "token_uri": format!("{}/token", server().url),
    });
    let run = audit_with_credentials_file(&adc, &adc_json);
    let report = run.json();
    let t = target(&report, "cloudsql://acme-prod/pg-good");
    assert!(t["error"].is_null(), "{t:#}\n{}", run.stderr);
    assert!(!server().requests_to("POST /token").is_empty());
    // gcloud's user login: token info on the token the refresh grant gave.
    assert_eq!(
        t["principal"],
        format!("user:{USER_EMAIL}"),
        "{}",
        run.stderr
    );
    assert!(!server().requests_to("POST /tokeninfo").is_empty());
    assert!(!run.stderr.contains("refresh-me"), "{}", run.stderr);
}

/// The `caller identity` evidence entry of every target of a facts file.
fn caller_identity(facts: &Value) -> Vec<&Value> {
    facts["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            let found: Vec<&Value> = t["evidence"]
                .as_array()
                .expect("evidence")
                .iter()
                .filter(|e| e["name"] == "caller identity")
                .collect();
            assert_eq!(found.len(), 1, "one caller identity per target: {t:#}");
            found[0]
        })
        .collect()
}

#[test]
fn an_access_token_is_identified_by_token_info() {
    let own = Server::start(scenario_routes(), Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let facts_path = facts.display().to_string();
    let run = audit_args(
        &own.url,
        &["cloudsql://acme-prod"],
        &["--save-facts", &facts_path],
        &[],
    );
    let report = run.json();
    assert_eq!(targets(&report).len(), 6, "{}", run.stderr);
    for t in targets(&report) {
        assert_eq!(
            t["principal"],
            format!("serviceAccount:{SA_EMAIL}"),
            "{t:#}"
        );
    }
    // Once per process, whatever the number of instances.
    assert_eq!(
        own.requests_to("POST /tokeninfo").len(),
        1,
        "{:?}",
        own.log()
    );
    let facts: Value = serde_json::from_str(&std::fs::read_to_string(&facts).unwrap()).unwrap();
    for evidence in caller_identity(&facts) {
        assert_eq!(evidence["source"], "cloudsql");
        assert_eq!(evidence["request"], format!("POST {}/tokeninfo", own.url));
        assert_eq!(evidence["response"]["email"], SA_EMAIL);
        assert_eq!(evidence["response"]["email_verified"], "true");
    }
    let text = std::fs::read_to_string(&facts_path).unwrap();
    assert!(!text.contains(TOKEN), "the facts file carries no token");
    assert!(
        !run.stderr.contains("principal is unknown"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_service_account_key_is_its_client_email() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("key.pem");
    let generated = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&pem)
        .output()
        .expect("run openssl");
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let private_key = std::fs::read_to_string(&pem).unwrap();
    assert!(
        private_key.starts_with("-----BEGIN PRIVATE KEY-----"),
        "PKCS#8"
    );
    let adc = dir.path().join("sa.json");
    let key = serde_json::json!({
        "type": "service_account",
        "project_id": "acme-prod",
        "private_key_id": "0123456789abcdef",
        "private_key": private_key,
        "client_email": KEY_EMAIL,
        "client_id": "104857600000000000003",
        "token_uri": format!("{}/token", server().url),
    });
    let run = audit_with_credentials_file(&adc, &key);
    let report = run.json();
    let t = target(&report, "cloudsql://acme-prod/pg-good");
    // The Admin API accepted the key's self-signed JWT.
    assert!(t["error"].is_null(), "{t:#}\n{}", run.stderr);
    assert_eq!(t["principal"], format!("serviceAccount:{KEY_EMAIL}"));
    for line in private_key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(
            !run.stdout.contains(line) && !run.stderr.contains(line),
            "the private key leaked"
        );
    }
}

#[test]
fn the_metadata_server_names_the_default_service_account() {
    let own = Server::start(scenario_routes(), Duration::ZERO);
    let host = own.url.trim_start_matches("http://").to_string();
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let facts_path = facts.display().to_string();
    let run = audit_args(
        &own.url,
        &["cloudsql://acme-prod/pg-good"],
        &["--save-facts", &facts_path],
        &[
            ("GOOGLE_OAUTH_ACCESS_TOKEN", ""),
            ("GCE_METADATA_HOST", &host),
        ],
    );
    let report = run.json();
    let t = target(&report, "cloudsql://acme-prod/pg-good");
    assert!(t["error"].is_null(), "{t:#}\n{}", run.stderr);
    assert_eq!(t["principal"], format!("serviceAccount:{VM_EMAIL}"));
    // The client's token and the identity both came from the metadata server;
    // token info was not asked.
    assert!(
        !own.requests_to("GET /computeMetadata/v1/instance/service-accounts/default/token")
            .is_empty(),
        "{:?}",
        own.log()
    );
    assert_eq!(
        own.requests_to("GET /computeMetadata/v1/instance/service-accounts/default/email")
            .len(),
        1
    );
    assert!(own.requests_to("/tokeninfo").is_empty(), "{:?}", own.log());
    let facts: Value = serde_json::from_str(&std::fs::read_to_string(&facts).unwrap()).unwrap();
    let evidence = caller_identity(&facts)[0];
    assert_eq!(
        evidence["request"],
        format!("GET http://{host}/computeMetadata/v1/instance/service-accounts/default/email")
    );
    assert_eq!(
        evidence["response"]["principal"],
        format!("serviceAccount:{VM_EMAIL}")
    );
}

#[test]
fn the_metadata_server_wants_its_header() {
    use std::io::{Read, Write};
    let get = |header: &str| {
        let address = server().url.trim_start_matches("http://").to_string();
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET /computeMetadata/v1/instance/service-accounts/default/email HTTP/1.1\r\nHost: {address}\r\n{header}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    assert!(get("").starts_with("HTTP/1.1 403"), "{}", get(""));
    let flavored = get("Metadata-Flavor: Google\r\n");
    assert!(flavored.starts_with("HTTP/1.1 200"), "{flavored}");
    assert!(flavored.ends_with(VM_EMAIL), "{flavored}");
}

#[test]
fn a_failing_token_info_leaves_the_principal_unknown_not_the_audit() {
    for (prefix, why) in [
        ("unavailable", "HTTP 503"),
        ("no-email", "104857600000000000001"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let facts = dir.path().join("facts.json");
        let facts_path = facts.display().to_string();
        let endpoint = format!("{}/{prefix}", server().url);
        let run = audit_args(
            &server().url,
            &["cloudsql://acme-prod/pg-good"],
            &["--save-facts", &facts_path],
            &[("SQLREADY_GOOGLE_OAUTH_ENDPOINT", &endpoint)],
        );
        let report = run.json();
        let t = target(&report, "cloudsql://acme-prod/pg-good");
        assert!(t["error"].is_null(), "{prefix}: {t:#}");
        assert!(t.get("principal").is_none(), "{prefix}: {t:#}");
        assert_eq!(item(t, "backups"), "pass", "{prefix}: the audit went on");
        let warnings: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.contains("principal is unknown"))
            .collect();
        assert_eq!(warnings.len(), 1, "{prefix}: one warning: {}", run.stderr);
        assert!(warnings[0].contains(why), "{prefix}: {}", warnings[0]);
        assert!(warnings[0].contains("WARN"), "{prefix}: {}", warnings[0]);
        let facts: Value = serde_json::from_str(&std::fs::read_to_string(&facts).unwrap()).unwrap();
        let evidence = caller_identity(&facts)[0];
        assert_eq!(evidence["request"], format!("POST {endpoint}/tokeninfo"));
        assert!(
            evidence["response"]["error"]
                .as_str()
                .is_some_and(|e| e.contains(why)),
            "{prefix}: {evidence:#}"
        );
    }
}

#[test]
fn a_redirected_api_keeps_the_token_away_from_google() {
    // SQLREADY_CLOUDSQL_ENDPOINT points elsewhere and no token info endpoint is
    // named: the token is not sent to oauth2.googleapis.com, and that is no warning.
    let own = Server::start(scenario_routes(), Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let facts_path = facts.display().to_string();
    let run = audit_args(
        &own.url,
        &["cloudsql://acme-prod/pg-good"],
        &["--save-facts", &facts_path],
        &[("SQLREADY_GOOGLE_OAUTH_ENDPOINT", "")],
    );
    let report = run.json();
    let t = target(&report, "cloudsql://acme-prod/pg-good");
    assert!(t["error"].is_null(), "{t:#}");
    assert!(t.get("principal").is_none(), "{t:#}");
    assert!(own.requests_to("/tokeninfo").is_empty(), "{:?}", own.log());
    assert!(!run.stderr.contains("WARN"), "{}", run.stderr);
    let facts: Value = serde_json::from_str(&std::fs::read_to_string(&facts).unwrap()).unwrap();
    let evidence = caller_identity(&facts)[0];
    assert!(
        evidence["response"]["error"].as_str().is_some_and(
            |e| e.contains("not asked") && e.contains("SQLREADY_GOOGLE_OAUTH_ENDPOINT")
        ),
        "{evidence:#}"
    );
}

#[test]
fn no_credentials_fail_in_seconds_with_the_fix() {
    let started = Instant::now();
    let run = audit_with(
        &["cloudsql://acme-prod", "cloudsql://acme-busy"],
        &[("GOOGLE_OAUTH_ACCESS_TOKEN", "")],
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    for id in ["cloudsql://acme-prod", "cloudsql://acme-busy"] {
        let error = target(&report, id)["error"].as_str().unwrap().to_string();
        assert!(
            error.contains("gcloud auth application-default login"),
            "{error}"
        );
        assert!(error.contains("roles/cloudsql.viewer"), "{error}");
    }
}

#[test]
fn table_output_names_each_instance() {
    let home = tempfile::tempdir().unwrap();
    let run = sqlready_with_env(
        &["audit", "cloudsql://acme-prod/pg-bad", "--fail-on", "never"],
        &[
            ("SQLREADY_CLOUDSQL_ENDPOINT", server().url.as_str()),
            ("SQLREADY_GOOGLE_OAUTH_ENDPOINT", server().url.as_str()),
            ("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN),
            ("HOME", &home.path().display().to_string()),
            ("GCE_METADATA_HOST", "127.0.0.1:9"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("cloudsql://acme-prod/pg-bad"),
        "{}",
        run.stdout
    );
}

#[test]
fn source_representations_are_skipped_and_backup_runs_are_read_past_on_demand_ones() {
    // A project with a Cloud SQL primary and the source representation of an
    // external MySQL server (instanceType ON_PREMISES_INSTANCE), which Cloud SQL
    // neither hosts nor backs up: judging its "backups" would be a false finding.
    let base = "/v1/projects/acme-mixed/instances";
    let external = serde_json::json!({
        "kind": "sql#instance",
        "name": "onprem-source",
        "project": "acme-mixed",
        "instanceType": "ON_PREMISES_INSTANCE",
        "databaseVersion": "MYSQL_8_0",
        "region": "us-central1",
        "state": "RUNNABLE",
        "onPremisesConfiguration": {"kind": "sql#onPremisesConfiguration", "hostPort": "203.0.113.9:3306"}
    });
    let mut routes = Routes::default();
    routes.add(
        base,
        vec![Reply::json(&list_page(
            vec![fixture_json("instances/pg-good.json"), external.clone()],
            None,
            None,
        ))],
    );
    routes.add(
        format!("{base}/onprem-source"),
        vec![Reply::json(&external)],
    );
    // Hourly on-demand backups fill the first page of backup runs; the automated one is on the second.
    let on_demand: Vec<Value> = (0..20)
        .map(|i| {
            serde_json::json!({
                "kind": "sql#backupRun", "status": "SUCCESSFUL", "type": "ON_DEMAND",
                "id": format!("{}", 1_732_600_000_000u64 + i),
                "enqueuedTime": "${now-1h}", "startTime": "${now-1h}", "endTime": "${now-1h}",
                "instance": "pg-good", "location": "us"
            })
        })
        .collect();
    routes.add(
        format!("{base}/pg-good/backupRuns"),
        vec![Reply::json(&serde_json::json!({
            "kind": "sql#backupRunsList", "items": on_demand, "nextPageToken": "runs-2"
        }))],
    );
    routes.add(
        format!("{base}/pg-good/backupRuns?pageToken=runs-2"),
        vec![Reply {
            status: 200,
            body: fixture("backup-runs/pg-good.json"),
            headers: Vec::new(),
        }],
    );
    routes.add(
        format!("{base}/pg-good/getLatestRecoveryTime"),
        vec![Reply {
            status: 200,
            body: fixture("recovery/pg-good.json"),
            headers: Vec::new(),
        }],
    );
    let own = Server::start(routes, Duration::ZERO);

    let report = audit_at(&own.url, &["cloudsql://acme-mixed"], &[]).json();
    let ids: Vec<&str> = targets(&report)
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["cloudsql://acme-mixed/pg-good"], "{report:#}");
    let t = target(&report, "cloudsql://acme-mixed/pg-good");
    assert_eq!(status(t, "backups.cloudsql_last_success"), "pass");
    assert!(
        detail(t, "backups.cloudsql_last_success").contains("ended 7 hour(s) ago"),
        "{}",
        detail(t, "backups.cloudsql_last_success")
    );
    assert_eq!(own.requests_to("/pg-good/backupRuns").len(), 2);

    // Named explicitly, it is a failure that says why, not a set of findings.
    let run = audit_at(&own.url, &["cloudsql://acme-mixed/onprem-source"], &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let t = target(&report, "cloudsql://acme-mixed/onprem-source");
    assert!(
        t["error"]
            .as_str()
            .unwrap()
            .contains("ON_PREMISES_INSTANCE"),
        "{t:#}"
    );
}

/// Issue 21 on Cloud SQL, through the binary: a server CA expiring in 40 days,
/// log_connections off, a 90-day deny maintenance period and a maintenance
/// version waiting; each finding right and named.
#[test]
fn prowler_parity_ca_flags_and_deny_periods() {
    let report = audit(&["cloudsql://acme-prod/pg-ca-expiring"]).json();
    let t = target(&report, "cloudsql://acme-prod/pg-ca-expiring");
    let ca = finding(t, "network.server_ca_expiring");
    assert_eq!(ca["status"], "warn", "{ca:#}");
    let text = ca["detail"].as_str().unwrap();
    assert!(
        text.contains("Google Cloud SQL Server CA")
            && (text.contains("39 day(s)") || text.contains("40 day(s)")),
        "{text}"
    );
    assert_eq!(status(t, "network.server_ca_valid"), "pass");
    let logging = finding(t, "audit.cloudsql_connection_logging");
    assert_eq!(logging["status"], "warn", "{logging:#}");
    let text = logging["detail"].as_str().unwrap();
    assert!(
        text.contains("log_connections is off") && !text.contains("log_disconnections is off"),
        "{text}"
    );
    assert_eq!(status(t, "audit.cloudsql_log_statement"), "pass");
    let denied = finding(t, "version.cloudsql_maintenance_denied");
    assert_eq!(denied["status"], "warn", "{denied:#}");
    let text = denied["detail"].as_str().unwrap();
    assert!(
        text.contains("90 days") && text.contains("POSTGRES_16_8.R20250302.00_04"),
        "{text}"
    );
    // The reason names what could tell, not the API the target came from.
    let alerting = finding(t, "monitoring.alerting");
    assert_eq!(alerting["status"], "unknown");
    assert!(
        !alerting.to_string().contains("the cloud provider's API"),
        "{alerting:#}"
    );
    // pg-good: a CA valid for years and both connection flags on.
    let report = audit(&["cloudsql://acme-prod/pg-good"]).json();
    let good = target(&report, "cloudsql://acme-prod/pg-good");
    assert_eq!(status(good, "network.server_ca_expiring"), "pass");
    assert_eq!(status(good, "audit.cloudsql_connection_logging"), "pass");
    assert_eq!(status(good, "version.cloudsql_maintenance_denied"), "pass");
}

/// A fresh server with the project-level routes (issue 12), and an audit of
/// `targets` with the other Google APIs pointed at it.
fn audit_projects(targets: &[&str]) -> (Server, Run) {
    let server = Server::start(project_routes(), Duration::ZERO);
    let url = server.url.clone();
    let run = audit_at(&url, targets, &[("SQLREADY_GOOGLE_APIS_ENDPOINT", &url)]);
    (server, run)
}

#[test]
fn project_reads_judge_monitoring_cost_copies_and_restore_drills() {
    let (_server, run) = audit_projects(&["cloudsql://acme-fleet"]);
    let report = run.json();
    assert!(
        !run.stderr.contains("WARN"),
        "no API was refused, so nothing to warn about:\n{}",
        run.stderr
    );
    let good = target(&report, "cloudsql://acme-fleet/pg-good");
    // Disk from the project-wide policy, CPU and memory from the one naming pg-good;
    // the disabled policy on page 2 does not count, but page 2 was read.
    assert_eq!(status(good, "monitoring.cloudsql_alert_policies"), "pass");
    assert!(
        detail(good, "monitoring.cloudsql_alert_policies").contains("Cloud SQL disk"),
        "{}",
        detail(good, "monitoring.cloudsql_alert_policies")
    );
    assert_eq!(item(good, "monitoring"), "pass");
    // The orders budget: project number, Cloud SQL, label team=orders, a threshold.
    assert_eq!(status(good, "cost.gcp_budget"), "pass");
    assert!(detail(good, "cost.gcp_budget").contains("orders database"));
    assert_eq!(item(good, "cost"), "pass");
    // Cloned 3 days ago into pg-good-dev (env=dev), which is still there.
    let copy = finding(good, "dev_data.cloudsql_prod_clone");
    assert_eq!(copy["status"], "fail", "{copy:#}");
    assert!(copy.to_string().contains("pg-good-dev"), "{copy:#}");
    assert!(copy.to_string().contains("labelled dev"), "{copy:#}");
    // ... which is also a restore drill of pg-good.
    assert_eq!(status(good, "restore_tested.cloudsql_drill"), "pass");
    assert!(
        detail(good, "restore_tested.cloudsql_drill")
            .contains("CLONE c10e0000-0002-4000-8000-000000000002"),
        "{}",
        detail(good, "restore_tested.cloudsql_drill")
    );
    assert_eq!(item(good, "restore_tested"), "pass");

    let bad = target(&report, "cloudsql://acme-fleet/pg-bad");
    let alerts = finding(bad, "monitoring.cloudsql_alert_policies");
    assert_eq!(alerts["status"], "fail", "{alerts:#}");
    let text = alerts["detail"].as_str().unwrap_or_default();
    assert!(
        text.contains("CPU utilization")
            && text.contains("memory utilization")
            && !text.contains("disk"),
        "{alerts:#}"
    );
    let cost = finding(bad, "cost.gcp_budget");
    assert_eq!(cost["status"], "fail", "{cost:#}");
    assert!(cost.to_string().contains("no threshold rule"), "{cost:#}");
    // Its only clone failed: no drill.
    let drill = finding(bad, "restore_tested.cloudsql_drill");
    assert_eq!(drill["status"], "warn", "{drill:#}");
    assert!(drill.to_string().contains("never tested"), "{drill:#}");
    assert!(
        drill.to_string().contains("gcloud sql instances clone"),
        "{drill:#}"
    );
    assert_eq!(status(bad, "dev_data.cloudsql_prod_clone"), "pass");

    let mysql = target(&report, "cloudsql://acme-fleet/mysql-good");
    let drill = finding(mysql, "restore_tested.cloudsql_drill");
    assert_eq!(drill["status"], "warn", "{drill:#}");
    assert!(drill.to_string().contains("200 days old"), "{drill:#}");

    // A clone labelled dev: its own copies are not production data.
    let dev = target(&report, "cloudsql://acme-fleet/pg-good-dev");
    assert_eq!(status(dev, "dev_data.cloudsql_prod_clone"), "pass");

    let replica = target(&report, "cloudsql://acme-fleet/pg-replica");
    assert_eq!(status(replica, "restore_tested.cloudsql_drill"), "n/a");
    assert_eq!(status(replica, "dev_data.cloudsql_prod_clone"), "n/a");
    let alerts = finding(replica, "monitoring.cloudsql_alert_policies");
    assert!(alerts.to_string().contains("replica lag"), "{alerts:#}");
}

#[test]
fn refused_project_reads_are_unknown_with_the_permission_and_said_once() {
    let (_server, run) = audit_projects(&["cloudsql://acme-closed"]);
    let report = run.json();
    for name in ["pg-good", "pg-bad"] {
        let t = target(&report, &format!("cloudsql://acme-closed/{name}"));
        assert!(t["error"].is_null(), "{t:#}");
        for (check, permission) in [
            (
                "monitoring.cloudsql_alert_policies",
                "monitoring.alertPolicies.list",
            ),
            ("cost.gcp_budget", "roles/billing.viewer"),
            ("restore_tested.cloudsql_drill", "roles/cloudsql.viewer"),
            ("dev_data.cloudsql_prod_clone", "roles/cloudsql.viewer"),
        ] {
            let f = finding(t, check);
            assert_eq!(f["status"], "unknown", "{check}: {f:#}");
            assert!(f.to_string().contains(permission), "{check}: {f:#}");
            assert!(f.to_string().contains("403"), "{check}: {f:#}");
        }
        let cost = finding(t, "cost.gcp_budget");
        assert!(
            cost.to_string().contains("billing.budgets.list"),
            "{cost:#}"
        );
        // The billing account was read; only its budgets were refused.
        assert!(
            !cost
                .to_string()
                .contains("cloudsql.billing.account unknown"),
            "{cost:#}"
        );
    }
    // One warning per refused API and run, not one per instance.
    for api in ["alert policies", "budgets of", "operations of"] {
        let lines = run
            .stderr
            .lines()
            .filter(|line| line.contains("WARN") && line.contains(api))
            .count();
        assert_eq!(lines, 1, "{api}:\n{}", run.stderr);
    }
}

#[test]
fn project_reads_are_made_once_per_project_and_run() {
    let (server, run) = audit_projects(&["cloudsql://acme-fleet", "cloudsql://acme-fleet/pg-good"]);
    let report = run.json();
    assert_eq!(targets(&report).len(), 6, "{:#}", report["targets"]);
    let count = |needle: &str| server.requests_to(needle).len();
    assert_eq!(
        count("/v1/projects/acme-fleet/operations"),
        2,
        "two pages: {:#?}",
        server.log()
    );
    assert_eq!(
        count("/v3/projects/acme-fleet/alertPolicies"),
        2,
        "two pages: {:#?}",
        server.log()
    );
    assert_eq!(count("/v1/projects/acme-fleet/billingInfo"), 1);
    assert_eq!(count("GET /v3/projects/acme-fleet?"), 1);
    assert_eq!(count("/budgets"), 2, "two pages: {:#?}", server.log());
    // Nothing else was asked of the APIs read once per project.
    let project_level = server
        .log()
        .into_iter()
        .filter(|l| {
            l.contains("/operations")
                || l.contains("/alertPolicies")
                || l.contains("/billingInfo")
                || l.contains("/budgets")
                || l.starts_with("GET /v3/projects/")
        })
        .count();
    assert_eq!(project_level, 2 + 2 + 1 + 1 + 2, "{:#?}", server.log());
    // The single-instance target got the same readings.
    let one = targets(&report)
        .iter()
        .filter(|t| t["id"] == "cloudsql://acme-fleet/pg-good")
        .count();
    assert_eq!(one, 2);
    for t in targets(&report) {
        assert!(t["error"].is_null(), "{t:#}");
        assert_ne!(status(t, "cost.gcp_budget"), "unknown", "{t:#}");
    }
    // The single-instance target cannot pair clones with the instances they made.
    let single = targets(&report)
        .iter()
        .filter(|t| t["id"] == "cloudsql://acme-fleet/pg-good")
        .find(|t| status(t, "dev_data.cloudsql_prod_clone") == "unknown");
    assert!(single.is_some(), "{:#}", report["targets"]);
}

#[test]
fn a_redirected_admin_api_sends_the_token_to_no_other_google_api() {
    // SQLREADY_CLOUDSQL_ENDPOINT set, SQLREADY_GOOGLE_APIS_ENDPOINT not: Monitoring and
    // Billing are not asked (their facts unknown saying why); operations.list is the Admin API's.
    let server = Server::start(project_routes(), Duration::ZERO);
    let run = audit_at(&server.url, &["cloudsql://acme-fleet"], &[]);
    let report = run.json();
    let good = target(&report, "cloudsql://acme-fleet/pg-good");
    for check in ["monitoring.cloudsql_alert_policies", "cost.gcp_budget"] {
        let f = finding(good, check);
        assert_eq!(f["status"], "unknown", "{check}: {f:#}");
        assert!(
            f.to_string().contains("SQLREADY_GOOGLE_APIS_ENDPOINT"),
            "{check}: {f:#}"
        );
    }
    assert_eq!(status(good, "restore_tested.cloudsql_drill"), "pass");
    let asked: Vec<String> = server
        .log()
        .into_iter()
        .filter(|l| l.contains("/v3/") || l.contains("/billingInfo") || l.contains("/budgets"))
        .collect();
    assert!(asked.is_empty(), "{asked:#?}");
    assert!(!run.stderr.contains("WARN"), "{}", run.stderr);
}

#[test]
fn a_large_project_adds_one_page_set_per_project_api() {
    // 240 instances on three list pages: the project-level APIs are asked once
    // (one page each), not once per instance.
    let project = "acme-big";
    let mut routes = bench_routes(project, 240, 100);
    let conditions: Vec<Value> = ["disk/utilization", "cpu/utilization", "memory/utilization"]
        .iter()
        .map(|m| {
            serde_json::json!({
                "name": format!("projects/{project}/alertPolicies/1/conditions/{m}"), "displayName": m,
                "conditionThreshold": {"filter": format!("resource.type = \"cloudsql_database\" AND metric.type = \"cloudsql.googleapis.com/database/{m}\""),
                    "comparison": "COMPARISON_GT", "thresholdValue": 0.9, "duration": "300s"}})
        })
        .collect();
    routes.add(
        format!("/v3/projects/{project}/alertPolicies"),
        vec![Reply::json(&serde_json::json!({"alertPolicies": [{
            "name": format!("projects/{project}/alertPolicies/1"), "displayName": "Cloud SQL basics",
            "combiner": "OR", "enabled": true,
            "notificationChannels": [format!("projects/{project}/notificationChannels/1")],
            "conditions": conditions
        }]}))],
    );
    routes.add(
        format!("/v1/projects/{project}/billingInfo"),
        vec![Reply::json(&serde_json::json!({"name": format!("projects/{project}/billingInfo"),
            "projectId": project, "billingAccountName": "billingAccounts/0B0B0B-0B0B0B-0B0B0B", "billingEnabled": true}))],
    );
    routes.add(
        format!("/v3/projects/{project}"),
        vec![Reply::json(
            &serde_json::json!({"name": "projects/333333333333", "projectId": project}),
        )],
    );
    routes.add(
        "/v1/billingAccounts/0B0B0B-0B0B0B-0B0B0B/budgets",
        vec![Reply::json(&serde_json::json!({"budgets": [{
            "name": "billingAccounts/0B0B0B-0B0B0B-0B0B0B/budgets/all", "displayName": "everything",
            "budgetFilter": {"calendarPeriod": "MONTH"},
            "amount": {"specifiedAmount": {"currencyCode": "USD", "units": "1000"}},
            "thresholdRules": [{"thresholdPercent": 0.9}]}]}))],
    );
    let server = Server::start(routes, Duration::ZERO);
    let url = server.url.clone();
    let run = audit_at(
        &url,
        &[&format!("cloudsql://{project}")],
        &[("SQLREADY_GOOGLE_APIS_ENDPOINT", &url)],
    );
    let report = run.json();
    assert_eq!(targets(&report).len(), 240);
    for t in targets(&report) {
        assert_eq!(
            status(t, "monitoring.cloudsql_alert_policies"),
            "pass",
            "{t:#}"
        );
        assert_eq!(status(t, "cost.gcp_budget"), "pass", "{t:#}");
    }
    let count = |needle: &str| server.requests_to(needle).len();
    assert_eq!(count(&format!("/v1/projects/{project}/operations?")), 1);
    assert_eq!(count("/alertPolicies?"), 1);
    assert_eq!(count("/billingInfo?"), 1);
    assert_eq!(count(&format!("GET /v3/projects/{project}?")), 1);
    assert_eq!(count("/budgets?"), 1);
}

#[test]
fn a_drill_recorded_in_sqlready_toml_counts_where_the_operations_show_none() {
    let server = Server::start(project_routes(), Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let day = (chrono::Utc::now() - chrono::Duration::days(30)).date_naive();
    let config = dir.path().join("sqlready.toml");
    std::fs::write(
        &config,
        format!("[[targets]]\ncloud = \"cloudsql://acme-fleet/pg-bad\"\nrestore_tested = {day}\n"),
    )
    .unwrap();
    let url = server.url.clone();
    let run = audit_args(
        &url,
        &[],
        &["--config", config.to_str().unwrap()],
        &[("SQLREADY_GOOGLE_APIS_ENDPOINT", &url)],
    );
    let report = run.json();
    let bad = target(&report, "cloudsql://acme-fleet/pg-bad");
    // Its only clone failed, so operations.list shows no drill: the team's record decides.
    let drill = finding(bad, "restore_tested.cloudsql_drill");
    assert_eq!(drill["status"], "pass", "{drill:#}");
    assert!(
        drill["detail"].as_str().unwrap().contains(&format!(
            "a restore drill on {day} is recorded in sqlready.toml"
        )),
        "{drill:#}"
    );
}
