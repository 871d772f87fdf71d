//! The compliance job, through the real binary on the shipped facts
//! snapshots: sqlready.toml (init, errors with line and column, thresholds,
//! selection), waivers, drift, the SARIF / JUnit / Markdown formats, the
//! evidence bundle and its verification, and the scheduled-job packaging.

mod support;

use serde_json::{Value, json};
use sqlready::report::evidence;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::cli::{Run, sqlready_in as run_in};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BAD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/postgres-bad.json");
const GOOD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/postgres-good.json");
const BAD_ID: &str = "postgres://orders-db.internal:5432/app";

fn run(args: &[&str]) -> Run {
    run_in(Path::new(ROOT), args, &[])
}

/// A config for the bad example: one target, a few checks (so that new checks in
/// the catalog leave the snapshots alone), and one active, one expired and one
/// stale waiver.
const SCENARIO: &str = r#"[audit]
fail_on = "high"

[[targets]]
database = "postgres://auditor@orders-db.internal:5432/app"
password_env = "ORDERS_DB_PASSWORD"

[thresholds]
min_backup_retention_days = 14

[checks]
include = [
  "replicas.present", "multi_zone.ha_enabled", "backups.enabled", "pitr.wal_archiving",
  "cdc.wal_level_logical", "network.tls_enabled", "slow_queries.logged",
  "durability.fsync", "durability.data_checksums", "audit.connections_logged",
]
exclude = ["cost"]

[[waivers]]
check = "replicas.present"
target = "postgres://orders-db.internal:5432/*"
reason = "single primary until the Q3 migration"
owner = "dba@acme.example"
expires = 2999-12-31
ticket = "SEC-101"

[[waivers]]
check = "cdc.wal_level_logical"
target = "*"
reason = "no CDC consumer yet"
owner = "data@acme.example"
expires = 2000-01-01

[[waivers]]
check = "durability.fsync"
target = "*"
reason = "benchmark box"
owner = "perf@acme.example"
expires = 2999-12-31
"#;

/// A directory holding the scenario config and a baseline derived from the bad example.
fn scenario() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sqlready.toml"), SCENARIO).unwrap();
    let report = run_in(
        dir.path(),
        &["audit", "--facts", BAD, "--format", "json"],
        &[],
    )
    .json();
    let mut baseline = report.clone();
    baseline["started_at"] = json!("2026-11-01T03:17:00Z");
    baseline["summary"]["score"] = json!(80);
    let findings = baseline["targets"][0]["findings"].as_array_mut().unwrap();
    for finding in findings.iter_mut() {
        match finding["check"].as_str().unwrap() {
            // Passed last time, fails now: a regression.
            "network.tls_enabled" => finding["status"] = json!("pass"),
            // Failed last time, warns now: an improvement.
            "durability.data_checksums" => finding["status"] = json!("fail"),
            _ => {}
        }
    }
    // Not there last time: new. There last time, gone now: removed.
    findings.retain(|f| f["check"] != "slow_queries.logged");
    findings.push(json!({"check": "retired.check", "status": "fail"}));
    std::fs::write(
        dir.path().join("baseline.json"),
        serde_json::to_string_pretty(&baseline).unwrap(),
    )
    .unwrap();
    dir
}

fn scenario_run(dir: &Path, format: &str) -> Run {
    run_in(
        dir,
        &[
            "audit",
            "--config",
            "sqlready.toml",
            "--facts",
            BAD,
            "--baseline",
            "baseline.json",
            "--format",
            format,
        ],
        &[],
    )
}

/// Volatile parts of a rendering: times and the tool version.
fn stable(text: &str) -> String {
    let time = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    let seconds = regex::Regex::new(r#"time="[0-9.]+" timestamp"#).unwrap();
    let text = time.replace_all(text, "[time]");
    let text = seconds.replace_all(&text, "time=\"[s]\" timestamp");
    text.replace(
        &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        "\"[version]\"",
    )
}

fn finding<'a>(report: &'a Value, check: &str) -> &'a Value {
    report["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no finding {check}"))
}

// ---------------------------------------------------------------------------
// sqlready.toml
// ---------------------------------------------------------------------------

#[test]
fn init_writes_a_template_that_audits_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let init = run_in(dir.path(), &["init"], &[]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let template = std::fs::read_to_string(dir.path().join("sqlready.toml")).unwrap();
    assert!(template.contains("[[waivers]]") && template.contains("password_env"));
    let again = run_in(dir.path(), &["init"], &[]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("never overwrites"),
        "{}",
        again.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sqlready.toml")).unwrap(),
        template
    );
    // ./sqlready.toml is found without --config; it has no targets yet.
    let audit = run_in(dir.path(), &["audit"], &[]);
    assert_eq!(audit.code, 2);
    assert!(
        audit.stderr.contains("no targets") && audit.stderr.contains("[[targets]]"),
        "{}",
        audit.stderr
    );
    let offline = run_in(
        dir.path(),
        &["audit", "--facts", GOOD, "--format", "json"],
        &[],
    );
    assert!(offline.code == 0 || offline.code == 1, "{}", offline.stderr);
    let plain = run_in(
        dir.path(),
        &["audit", "--facts", GOOD, "--format", "json", "--no-config"],
        &[],
    );
    assert_eq!(
        offline.json()["summary"],
        plain.json()["summary"],
        "the template holds the defaults"
    );
}

#[test]
fn config_errors_are_located_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[audit]\nfail_on = \"high\"\n\n[[targets]]\ndatabase = \"postgres://auditor:Sup3r-s3cret@db.internal/app\"\n\n[thresholds]\nmax_connection_usage = 2\nmin_backup_retention = 7\n",
    )
    .unwrap();
    let run = run_in(dir.path(), &["audit", "--config", "bad.toml"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid configuration (3 problems)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("bad.toml:5:32: a password is written in the database URI"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("bad.toml:8:24: threshold max_connection_usage is 2"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("bad.toml:9:1: unknown threshold 'min_backup_retention'"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("Sup3r-s3cret"),
        "the password is never echoed: {}",
        run.stderr
    );
    std::fs::write(
        &file,
        "[[targets]]\ndatabase = \"postgres://a@h/app\"\ncolour = \"blue\"\n",
    )
    .unwrap();
    let run = run_in(dir.path(), &["audit", "--config", "bad.toml"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("bad.toml:3:1: unknown field `colour`"),
        "{}",
        run.stderr
    );
    std::fs::write(&file, "[severity]\n\"durability.fsycn\" = \"low\"\n").unwrap();
    let run = run_in(
        dir.path(),
        &["audit", "--config", "bad.toml", "--facts", GOOD],
        &[],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("bad.toml:2:1: 'durability.fsycn' matches no check id"),
        "{}",
        run.stderr
    );
    let run = run_in(
        dir.path(),
        &["audit", "--config", "missing.toml", "--facts", GOOD],
        &[],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read the config file"),
        "{}",
        run.stderr
    );
}

/// The JSON report on the bad example's facts, with the sqlready.toml of `dir`.
fn judged_bad_example(dir: &Path) -> Value {
    let run = run_in(
        dir,
        &[
            "audit",
            "--facts",
            BAD,
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()
}

#[test]
fn thresholds_selection_and_severity_change_the_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sqlready.toml"),
        "[checks]\ninclude = [\"durability\", \"connection_pooling\"]\n\n[severity]\n\"durability.data_checksums\" = \"critical\"\n\n[thresholds]\nmax_connection_usage = 0.001\n",
    )
    .unwrap();
    let report = judged_bad_example(dir.path());
    let findings = report["targets"][0]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .all(|f| f["item"] == "durability" || f["item"] == "connection_pooling")
    );
    assert_eq!(
        finding(&report, "durability.data_checksums")["severity"],
        "critical"
    );
    assert_eq!(
        finding(&report, "connections.headroom")["status"],
        "warn",
        "a threshold of 0.1% flags the 1% in use"
    );
    assert_eq!(
        report["targets"][0]["items"]["replicas"], "unknown",
        "not judged when no selected check covers it"
    );
    // The --fail-on flag overrides [audit] fail_on; the config's fail_on applies otherwise.
    std::fs::write(
        dir.path().join("sqlready.toml"),
        "[audit]\nfail_on = \"never\"\n",
    )
    .unwrap();
    assert_eq!(run_in(dir.path(), &["audit", "--facts", BAD], &[]).code, 0);
    assert_eq!(
        run_in(
            dir.path(),
            &["audit", "--facts", BAD, "--fail-on", "high"],
            &[]
        )
        .code,
        1
    );
    assert_eq!(
        run_in(dir.path(), &["audit", "--facts", BAD, "--no-config"], &[]).code,
        1
    );
}

#[test]
fn a_target_entry_has_its_own_thresholds() {
    // The bad example uses about 1% of its connections. The run allows 80%;
    // its own entry allows 0.1% and a longer backup retention; another
    // entry's overrides do not reach it.
    let dir = tempfile::tempdir().unwrap();
    let config = |database: &str| {
        format!(
            "[checks]\ninclude = [\"connections.headroom\"]\n\n[[targets]]\ndatabase = \"{database}\"\nthresholds = {{ max_connection_usage = 0.001 }}\n\n[[targets]]\ncloud = \"rds://eu-west-1\"\n[targets.thresholds]\nmax_connection_usage = 0.5\n"
        )
    };
    let verdict = |toml: String| {
        std::fs::write(dir.path().join("sqlready.toml"), toml).unwrap();
        finding(&judged_bad_example(dir.path()), "connections.headroom")["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        verdict(config("postgres://auditor@orders-db.internal:5432/app")),
        "warn"
    );
    assert_eq!(
        verdict(config("postgres://auditor@billing-db.internal:5432/app")),
        "pass"
    );

    // The evidence records the overrides and, per target, what applied.
    std::fs::write(
        dir.path().join("sqlready.toml"),
        config("postgres://auditor@orders-db.internal:5432/app"),
    )
    .unwrap();
    let bundle = dir.path().join("bundle");
    let run = run_in(
        dir.path(),
        &[
            "audit",
            "--facts",
            BAD,
            "--fail-on",
            "never",
            "--evidence",
            bundle.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run_record: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_record["thresholds"]["max_connection_usage"], 0.8);
    assert_eq!(
        run_record["target_thresholds"][BAD_ID]["max_connection_usage"],
        0.001
    );
    assert_eq!(
        run_record["target_thresholds"]["rds://eu-west-1"]["max_connection_usage"],
        0.5
    );
    let facts: Value = serde_json::from_str(
        &std::fs::read_to_string(
            bundle.join("targets/01-postgres-orders-db.internal-5432-app/facts.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(facts["thresholds"]["max_connection_usage"], 0.001);
    assert_eq!(facts["thresholds"]["min_eol_days"], 180);
}

#[test]
fn a_bad_target_threshold_is_an_error_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sqlready.toml"),
        "[[targets]]\ndatabase = \"postgres://auditor@db/app\"\nthresholds = { max_connection_usage = 2, min_eol_dayz = 3 }\n",
    )
    .unwrap();
    let run = run_in(dir.path(), &["audit", "--facts", BAD], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("sqlready.toml:3:39: threshold max_connection_usage is 2"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("sqlready.toml:3:42: unknown threshold 'min_eol_dayz'"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_terraform_entry_audits_what_the_files_plan() {
    let dir = tempfile::tempdir().unwrap();
    let infra = dir.path().join("infra");
    std::fs::create_dir(&infra).unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/terraform/kutt/main.tf"
        ),
        infra.join("main.tf"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("sqlready.toml"),
        "[[targets]]\nterraform = \"infra\"\nthresholds = { min_backup_retention_days = 45 }\n",
    )
    .unwrap();
    let run = run_in(
        dir.path(),
        &["audit", "--format", "json", "--fail-on", "never"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    let target = &report["targets"][0];
    assert_eq!(
        target["id"],
        "terraform://infra#google_sql_database_instance.linkshortenerdb"
    );
    // 30 retained backups, and this entry wants 45.
    let retention = target["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "backups.retention")
        .unwrap();
    assert_eq!(retention["status"], "fail", "{retention:#}");

    std::fs::write(
        dir.path().join("sqlready.toml"),
        "[[targets]]\nterraform = \"infra\"\ndatabase = \"postgres://auditor@db/app\"\n",
    )
    .unwrap();
    let run = run_in(dir.path(), &["audit"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("sqlready.toml:2:13: a `terraform` entry stands alone"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_new_commands_help_texts_are_stable() {
    for args in [
        vec!["init", "--help"],
        vec!["evidence", "--help"],
        vec!["evidence", "verify", "--help"],
        vec!["evidence", "keygen", "--help"],
    ] {
        let run = run(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        insta::assert_snapshot!(
            format!("help_{}", args.join("_").replace("--", "")),
            run.stdout
        );
    }
}

// ---------------------------------------------------------------------------
// Waivers and drift
// ---------------------------------------------------------------------------

#[test]
fn waivers_are_shown_expire_into_findings_and_go_stale() {
    let dir = scenario();
    let run = scenario_run(dir.path(), "json");
    let report = run.json();
    let replicas = finding(&report, "replicas.present");
    assert_eq!(
        replicas["status"], "fail",
        "a waived finding keeps its status"
    );
    assert_eq!(replicas["waiver"]["owner"], "dba@acme.example");
    assert_eq!(replicas["waiver"]["expires"], "2999-12-31");
    let expired = finding(&report, "waiver.expired");
    assert_eq!(expired["status"], "fail");
    assert_eq!(expired["evidence"]["waived_check"], "cdc.wal_level_logical");
    assert!(
        finding(&report, "cdc.wal_level_logical")
            .get("waiver")
            .is_none()
    );
    let states: Vec<&str> = report["waivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["active", "expired", "stale"]);
    assert_eq!(report["summary"]["waived"], 1);
    assert!(
        run.stderr
            .contains("warning: waiver for durability.fsync on * (sqlready.toml:34) is stale"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("(sqlready.toml:27) is expired"),
        "{}",
        run.stderr
    );
    // fail_on = "high": replicas.present (high) is waived; the expired waiver (medium) and
    // the other high failures decide.
    assert_eq!(run.code, 1);
}

#[test]
fn a_waiver_on_every_failure_lifts_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sqlready.toml"),
        "[[waivers]]\ncheck = \"*\"\ntarget = \"postgres://orders-db.internal:*\"\nreason = \"accepted for the launch\"\nowner = \"cto@acme.example\"\nexpires = 2999-01-01\n",
    )
    .unwrap();
    let run = run_in(dir.path(), &["audit", "--facts", BAD], &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("fail (waived)"), "{}", run.stdout);
    assert!(run.stdout.contains("waived:\n  fail [high] replicas.present: accepted for the launch (by cto@acme.example until 2999-01-01)"), "{}", run.stdout);
    assert!(!run.stdout.contains("to fix:"), "{}", run.stdout);
}

#[test]
fn drift_marks_regressions_and_fail_on_regression_exits_1() {
    let dir = scenario();
    let report = scenario_run(dir.path(), "json").json();
    assert_eq!(
        finding(&report, "network.tls_enabled")["drift"],
        json!({"change": "regressed", "was": "pass"})
    );
    assert_eq!(
        finding(&report, "durability.data_checksums")["drift"],
        json!({"change": "improved", "was": "fail"})
    );
    assert_eq!(
        finding(&report, "slow_queries.logged")["drift"],
        json!({"change": "new"})
    );
    assert_eq!(
        finding(&report, "backups.enabled")["drift"]["change"],
        "unchanged"
    );
    let drift = &report["drift"];
    assert_eq!(drift["regressed"], 1);
    assert_eq!(drift["improved"], 1);
    assert_eq!(
        drift["removed"],
        json!([{"target": BAD_ID, "check": "retired.check", "status": "fail"}])
    );
    assert_eq!(drift["score_before"], 80);
    let args = |extra: &[&'static str]| {
        let mut args = vec![
            "audit",
            "--no-config",
            "--facts",
            BAD,
            "--baseline",
            "baseline.json",
            "--fail-on",
            "never",
        ];
        args.extend_from_slice(extra);
        args
    };
    assert_eq!(run_in(dir.path(), &args(&[]), &[]).code, 0);
    assert_eq!(
        run_in(dir.path(), &args(&["--fail-on-regression"]), &[]).code,
        1
    );
    // Against itself nothing regressed.
    let same = run_in(
        dir.path(),
        &[
            "audit",
            "--no-config",
            "--facts",
            BAD,
            "--format",
            "json",
            "-o",
            "same.json",
        ],
        &[],
    );
    assert_eq!(same.code, 1);
    let run = run_in(
        dir.path(),
        &[
            "audit",
            "--no-config",
            "--facts",
            BAD,
            "--baseline",
            "same.json",
            "--fail-on",
            "never",
            "--fail-on-regression",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A first run has no baseline yet: a warning, not an error.
    let first = run_in(
        dir.path(),
        &[
            "audit",
            "--no-config",
            "--facts",
            BAD,
            "--baseline",
            "none-yet.json",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--fail-on-regression",
        ],
        &[],
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains("does not exist: a first run"),
        "{}",
        first.stderr
    );
    assert_eq!(first.json()["drift"]["missing"], true);
    // A baseline that is not a report is a usage error, located.
    std::fs::write(
        dir.path().join("junk.json"),
        "{\"schema_version\": 1,\n\"targets\": {}}",
    )
    .unwrap();
    let junk = run_in(
        dir.path(),
        &[
            "audit",
            "--no-config",
            "--facts",
            BAD,
            "--baseline",
            "junk.json",
        ],
        &[],
    );
    assert_eq!(junk.code, 2);
    assert!(junk.stderr.contains("line 2"), "{}", junk.stderr);
}

// ---------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------

#[test]
fn every_format_is_stable() {
    let dir = scenario();
    for format in ["sarif", "junit", "markdown", "table"] {
        let run = scenario_run(dir.path(), format);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        insta::assert_snapshot!(format!("format_{format}"), stable(&run.stdout));
    }
}

/// The same two numbers beside the score in every format, for both examples:
/// `judged` (items pass/warn/fail) of `applicable` (items not n/a), counted
/// here from the JSON report's own `items`.
#[test]
fn every_format_carries_the_same_score_and_coverage() {
    for facts in [BAD, GOOD] {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path();
        let base = [
            "audit",
            "--no-config",
            "--facts",
            facts,
            "--fail-on",
            "never",
        ];
        let output = |format: &str| {
            let run = run_in(dir, &[&base[..], &["--format", format]].concat(), &[]);
            assert_eq!(run.code, 0, "{format}: {}", run.stderr);
            run.stdout
        };
        let report: Value = serde_json::from_str(&output("json")).unwrap();
        let target = &report["targets"][0];
        let items = target["items"].as_object().unwrap();
        let judged = items
            .values()
            .filter(|s| ["pass", "warn", "fail"].contains(&s.as_str().unwrap()))
            .count();
        let applicable = items.values().filter(|s| *s != "n/a").count();
        assert!(
            applicable > judged && judged > 0,
            "{facts}: {judged} of {applicable}"
        );
        let coverage = json!({"judged": judged, "applicable": applicable});
        assert_eq!(target["coverage"], coverage, "{facts}");
        assert_eq!(report["summary"]["coverage"], coverage, "{facts}");
        let line = format!(
            "score {}/100 · {judged} of {applicable} items judged",
            report["summary"]["score"]
        );
        let table = output("table");
        assert!(table.lines().next().unwrap().ends_with(&line), "{table}");
        assert!(table.contains(&format!("1 target(s), {line}:")), "{table}");
        let markdown = output("markdown");
        assert!(
            markdown.starts_with(&format!("## sqlready: 1 target(s), {line}\n")),
            "{markdown}"
        );
        assert!(markdown.contains(&format!(" — {line}\n")), "{markdown}");
        let junit = output("junit");
        for property in [
            format!("<property name=\"items_judged\" value=\"{judged}\"/>"),
            format!("<property name=\"items_applicable\" value=\"{applicable}\"/>"),
            format!("<property name=\"coverage\" value=\"{line}\"/>"),
        ] {
            assert!(junit.contains(&property), "{property} not in {junit}");
        }
        let sarif: Value = serde_json::from_str(&output("sarif")).unwrap();
        let properties = &sarif["runs"][0]["properties"];
        assert_eq!(properties["summary"]["coverage"], coverage, "{facts}");
        assert_eq!(properties["coverage"], line.as_str(), "{facts}");
        let run = run_in(dir, &[&base[..], &["--evidence", "bundle"]].concat(), &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let bundled: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("bundle/report.json")).unwrap())
                .unwrap();
        assert_eq!(bundled["summary"]["coverage"], coverage, "{facts}");
        let record: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("bundle/run.json")).unwrap())
                .unwrap();
        assert_eq!(record["score"], line.as_str(), "{facts}");
    }
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    // tests/fixtures/sarif-2.1.0.json is the SARIF 2.1.0 schema as Microsoft
    // publishes it (sarif-2.1.0-rtm.5.json, shipped in the npm package
    // @microsoft/jest-sarif 1.0.0-beta.0, MIT), unmodified. Its two `language`
    // patterns (run, toolComponent) have a stray ']' that is not a valid
    // ECMA-262 regex, so the validator refuses the schema: the test swaps in a
    // language-tag pattern ("en", "en-US"). sqlready writes neither property,
    // so the swap cannot hide a problem in its logs.
    const BROKEN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    let text = std::fs::read_to_string(format!("{ROOT}/tests/fixtures/sarif-2.1.0.json")).unwrap();
    assert_eq!(
        text.matches(BROKEN).count(),
        2,
        "the known defect of the published schema"
    );
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    for owner in ["run", "toolComponent"] {
        let language = &mut schema["definitions"][owner]["properties"]["language"]["pattern"];
        assert_eq!(language, BROKEN);
        *language = json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
    }
    assert_eq!(schema["properties"]["version"]["enum"], json!(["2.1.0"]));
    let validator = jsonschema::draft4::new(&schema).expect("the schema compiles");
    let dir = scenario();
    let mut logs = vec![scenario_run(dir.path(), "sarif").stdout];
    for facts in [GOOD, BAD] {
        logs.push(
            run(&[
                "audit",
                "--no-config",
                "--facts",
                facts,
                "--format",
                "sarif",
            ])
            .stdout,
        );
    }
    for text in logs {
        let log: Value = serde_json::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "SARIF does not validate:\n{}",
            errors.join("\n")
        );
        assert_eq!(log["version"], "2.1.0");
    }
    // A schema violation is caught (the validator is not vacuous).
    let broken = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": 1}}}]});
    assert!(!validator.is_valid(&broken));
}

#[test]
fn sarif_results_carry_rules_locations_suppressions_and_drift() {
    let dir = scenario();
    let log: Value = serde_json::from_str(&scenario_run(dir.path(), "sarif").stdout).unwrap();
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let report = scenario_run(dir.path(), "json").json();
    let failing = report["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail" || f["status"] == "warn")
        .count();
    assert_eq!(
        results.len(),
        failing,
        "one result per failing or warning check per target"
    );
    for result in results {
        let rule = &rules[result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], result["ruleId"]);
        let location = &result["locations"][0];
        assert_eq!(
            location["logicalLocations"][0]["fullyQualifiedName"],
            BAD_ID
        );
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"],
            "sqlready.toml"
        );
        assert_eq!(
            location["physicalLocation"]["region"]["startLine"], 4,
            "the [[targets]] line"
        );
    }
    let wal = rules
        .iter()
        .find(|r| r["id"] == "cdc.wal_level_logical")
        .unwrap();
    assert_eq!(
        wal["shortDescription"]["text"],
        "WAL level allows logical decoding"
    );
    assert!(!wal["fullDescription"]["text"].as_str().unwrap().is_empty());
    assert!(wal["help"]["text"].as_str().unwrap().contains("wal_level"));
    assert_eq!(wal["properties"]["item"], "cdc");
    assert!(
        wal["properties"]["controls"]
            .as_array()
            .unwrap()
            .contains(&json!("SOC2 CC7.2"))
    );
    let replicas = results
        .iter()
        .find(|r| r["ruleId"] == "replicas.present")
        .unwrap();
    assert_eq!(replicas["level"], "error");
    assert_eq!(replicas["suppressions"][0]["status"], "accepted");
    assert!(
        replicas["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("single primary")
    );
    let tls = results
        .iter()
        .find(|r| r["ruleId"] == "network.tls_enabled")
        .unwrap();
    assert_eq!(tls["baselineState"], "updated");
    assert!(results.iter().any(|r| r["ruleId"] == "waiver.expired"));
    let notes = run["invocations"][0]["toolConfigurationNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 2, "the expired and the stale waiver");
}

/// One parsed `<testcase>`.
#[derive(Debug, Default)]
struct Case {
    suite: String,
    name: String,
    outcome: Option<String>,
    message: String,
}

/// Reads JUnit XML back: the root's counts and every testcase.
fn parse_junit(xml: &str) -> (std::collections::BTreeMap<String, usize>, Vec<Case>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut totals = std::collections::BTreeMap::new();
    let mut cases = Vec::new();
    let mut suite = String::new();
    let attrs =
        |e: &quick_xml::events::BytesStart<'_>| -> std::collections::BTreeMap<String, String> {
            e.attributes()
                .map(|a| {
                    let a = a.expect("well-formed attribute");
                    (
                        a.key.as_ref().to_string(),
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .expect("escaped value")
                            .into_owned(),
                    )
                })
                .collect()
        };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let a = attrs(&e);
                match e.name().as_ref() {
                    "testsuites" => {
                        for key in ["tests", "failures", "errors", "skipped"] {
                            totals.insert(key.to_string(), a[key].parse().unwrap());
                        }
                    }
                    "testsuite" => suite = a["name"].clone(),
                    "testcase" => cases.push(Case {
                        suite: suite.clone(),
                        name: a["name"].clone(),
                        ..Case::default()
                    }),
                    kind @ ("failure" | "error" | "skipped") => {
                        let case = cases.last_mut().expect("inside a testcase");
                        assert!(case.outcome.is_none(), "one outcome per testcase: {case:?}");
                        case.outcome = Some(kind.to_string());
                        case.message = a.get("message").cloned().unwrap_or_default();
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (totals, cases)
}

#[test]
fn junit_parses_back_with_one_testcase_per_check_per_target() {
    let dir = scenario();
    let xml = scenario_run(dir.path(), "junit").stdout;
    let (totals, cases) = parse_junit(&xml);
    let report = scenario_run(dir.path(), "json").json();
    let findings = report["targets"][0]["findings"].as_array().unwrap();
    assert_eq!(cases.len(), findings.len());
    assert_eq!(totals["tests"], cases.len());
    let count = |kind: &str| {
        cases
            .iter()
            .filter(|c| c.outcome.as_deref() == Some(kind))
            .count()
    };
    assert_eq!(totals["failures"], count("failure"));
    assert_eq!(totals["errors"], count("error"));
    assert_eq!(totals["skipped"], count("skipped"));
    for finding in findings {
        let case = cases.iter().find(|c| c.name == finding["check"]).unwrap();
        assert_eq!(case.suite, BAD_ID);
        let expected = match (
            finding["status"].as_str().unwrap(),
            finding.get("waiver").is_some(),
        ) {
            (_, true) => Some("skipped"),
            ("fail" | "warn", false) => Some("failure"),
            ("error", false) => Some("error"),
            ("unknown" | "n/a", false) => Some("skipped"),
            _ => None,
        };
        assert_eq!(case.outcome.as_deref(), expected, "{}", finding["check"]);
    }
    let waived = cases.iter().find(|c| c.name == "replicas.present").unwrap();
    assert!(
        waived
            .message
            .starts_with("waived (dba@acme.example until 2999-12-31): single primary"),
        "{waived:?}"
    );
    // A target that could not be audited is an error testcase.
    let facts: Value = serde_json::from_str(&std::fs::read_to_string(GOOD).unwrap()).unwrap();
    let mut with_failure = facts.clone();
    with_failure["failures"] = json!([{"id": "postgres://down.internal:5432/app", "kind": "postgres", "error": "connection refused <&>"}]);
    std::fs::write(dir.path().join("failing.json"), with_failure.to_string()).unwrap();
    let run = run_in(
        dir.path(),
        &[
            "audit",
            "--no-config",
            "--facts",
            "failing.json",
            "--format",
            "junit",
        ],
        &[],
    );
    assert_eq!(run.code, 3);
    let (totals, cases) = parse_junit(&run.stdout);
    let down = cases
        .iter()
        .find(|c| c.suite == "postgres://down.internal:5432/app")
        .unwrap();
    assert_eq!(
        (down.name.as_str(), down.outcome.as_deref()),
        ("audit", Some("error"))
    );
    assert_eq!(down.message, "connection refused <&>");
    assert!(totals["errors"] >= 1);
}

// ---------------------------------------------------------------------------
// Evidence bundle
// ---------------------------------------------------------------------------

/// Every file of a bundle, relative.
fn bundle_files(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &relative, out);
            } else {
                out.push(relative);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for file in bundle_files(from) {
        let target = to.join(&file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&file), target).unwrap();
    }
}

/// A signed bundle of the scenario, with its public key.
fn signed_bundle(work: &Path) -> (PathBuf, PathBuf) {
    let keys = run_in(
        work,
        &[
            "evidence",
            "keygen",
            "--private-key",
            "private.pem",
            "--public-key",
            "public.pem",
        ],
        &[],
    );
    assert_eq!(keys.code, 0, "{}", keys.stderr);
    let run = run_in(
        work,
        &[
            "audit",
            "--config",
            "sqlready.toml",
            "--facts",
            BAD,
            "--baseline",
            "baseline.json",
            "--evidence",
            "bundle",
            "--sign-key",
            "private.pem",
            "--format",
            "json",
            "-o",
            "report.json",
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    (work.join("bundle"), work.join("public.pem"))
}

#[test]
fn a_fresh_bundle_holds_everything_and_verifies() {
    let work = scenario();
    let (bundle, public) = signed_bundle(work.path());
    let files = bundle_files(&bundle);
    for expected in [
        "MANIFEST.json",
        "MANIFEST.json.sig",
        "config/sqlready.toml",
        "controls.json",
        "report.json",
        "run.json",
        "targets/01-postgres-orders-db.internal-5432-app/facts.json",
        "targets/01-postgres-orders-db.internal-5432-app/raw/01-postgres-catalog.json",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "missing {expected} in {files:?}"
        );
    }
    // report.json is the JSON report, byte for byte.
    assert_eq!(
        std::fs::read_to_string(bundle.join("report.json")).unwrap(),
        std::fs::read_to_string(work.path().join("report.json")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(bundle.join("config/sqlready.toml")).unwrap(),
        SCENARIO
    );
    let run_record: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("run.json")).unwrap()).unwrap();
    for field in [
        "started_at",
        "finished_at",
        "host",
        "tool",
        "invocation",
        "thresholds",
        "principals",
    ] {
        assert!(run_record.get(field).is_some(), "run.json lacks {field}");
    }
    assert_eq!(run_record["thresholds"]["min_backup_retention_days"], 14);
    assert_eq!(run_record["invocation"]["signed"], true);
    let facts: Value = serde_json::from_str(
        &std::fs::read_to_string(
            bundle.join("targets/01-postgres-orders-db.internal-5432-app/facts.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        facts["facts"]["postgres.settings.wal_level"]["source"],
        "postgres"
    );
    assert_eq!(
        facts["facts"]["postgres.settings.wal_level"]["origin"],
        "pg_settings.wal_level"
    );
    // Every check of the run is mapped, and every control it names is explained.
    let controls: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("controls.json")).unwrap())
            .unwrap();
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("report.json")).unwrap())
            .unwrap();
    let mapped: Vec<&str> = controls["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for finding in report["targets"][0]["findings"].as_array().unwrap() {
        let check = finding["check"].as_str().unwrap();
        assert!(
            check == "waiver.expired" || mapped.contains(&check),
            "{check} is not in controls.json"
        );
    }
    for control in controls["controls"].as_array().unwrap() {
        assert!(
            control["criterion"].is_string() && control["evidences"].is_string(),
            "{control}"
        );
    }
    let verify = run(&[
        "evidence",
        "verify",
        bundle.to_str().unwrap(),
        "--public-key",
        public.to_str().unwrap(),
    ]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
    assert!(
        verify.stdout.contains("signature: valid"),
        "{}",
        verify.stdout
    );
    assert!(
        verify
            .stdout
            .contains(&format!("OK: {} file(s) match", files.len() - 2)),
        "{}",
        verify.stdout
    );
    let unsigned_check = run(&["evidence", "verify", bundle.to_str().unwrap()]);
    assert_eq!(unsigned_check.code, 0);
    assert!(
        unsigned_check.stdout.contains("present, not checked"),
        "{}",
        unsigned_check.stdout
    );
}

#[test]
fn changing_any_byte_adding_or_removing_any_file_fails_verification() {
    let work = scenario();
    let (bundle, public) = signed_bundle(work.path());
    let key = evidence::read_verifying_key(&public).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let files = bundle_files(&bundle);
    let mut copies = 0;
    let fresh = |name: &str| {
        let copy = scratch.path().join(name);
        copy_dir(&bundle, &copy);
        copy
    };
    for file in &files {
        let len = std::fs::metadata(bundle.join(file)).unwrap().len() as usize;
        // First, last and evenly spaced bytes of every file, manifest and signature included.
        let mut positions: Vec<usize> = (0..16).map(|i| i * len / 16).collect();
        positions.push(len - 1);
        positions.dedup();
        for position in positions {
            copies += 1;
            let copy = fresh(&format!("flip-{copies}"));
            let path = copy.join(file);
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[position] ^= 0x01;
            std::fs::write(&path, bytes).unwrap();
            let result = evidence::verify(&copy, Some(&key)).unwrap();
            assert!(
                !result.ok(),
                "flipping byte {position} of {file} went unnoticed"
            );
            if file != "MANIFEST.json" && file != "MANIFEST.json.sig" {
                assert_eq!(
                    result.changed,
                    std::slice::from_ref(file),
                    "byte {position} of {file}"
                );
            }
        }
        // Removing it.
        copies += 1;
        let copy = fresh(&format!("remove-{copies}"));
        std::fs::remove_file(copy.join(file)).unwrap();
        match evidence::verify(&copy, Some(&key)) {
            Ok(result) => {
                assert!(!result.ok(), "removing {file} went unnoticed");
                if file != "MANIFEST.json.sig" {
                    assert_eq!(result.removed, std::slice::from_ref(file));
                }
            }
            Err(err) => assert_eq!(file, "MANIFEST.json", "{err}"),
        }
    }
    // Adding a file, at the top or deep inside; a symlink too.
    for added in [
        "notes.txt",
        "targets/01-postgres-orders-db.internal-5432-app/raw/99-extra.json",
        "config/extra/x",
    ] {
        copies += 1;
        let copy = fresh(&format!("add-{copies}"));
        std::fs::create_dir_all(copy.join(added).parent().unwrap()).unwrap();
        std::fs::write(copy.join(added), "{}").unwrap();
        let result = evidence::verify(&copy, Some(&key)).unwrap();
        assert_eq!(result.added, [added.to_string()]);
    }
    let copy = fresh("symlink");
    std::os::unix::fs::symlink("/etc/hostname", copy.join("link")).unwrap();
    assert_eq!(
        evidence::verify(&copy, None).unwrap().added,
        ["link".to_string()]
    );
    // Through the binary: exit 1 and the file named.
    let copy = fresh("cli");
    std::fs::write(copy.join("report.json"), "{}\n").unwrap();
    std::fs::remove_file(copy.join("run.json")).unwrap();
    std::fs::write(copy.join("extra.json"), "{}").unwrap();
    let verify = run(&["evidence", "verify", copy.to_str().unwrap()]);
    assert_eq!(verify.code, 1);
    for line in [
        "changed: report.json",
        "removed: run.json",
        "added: extra.json",
        "FAILED",
    ] {
        assert!(verify.stdout.contains(line), "{line}: {}", verify.stdout);
    }
    // A rewritten manifest passes the hashes but not the signature.
    let copy = fresh("forged");
    std::fs::write(copy.join("report.json"), "{}\n").unwrap();
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(copy.join("MANIFEST.json")).unwrap())
            .unwrap();
    for entry in manifest["files"].as_array_mut().unwrap() {
        if entry["path"] == "report.json" {
            entry["sha256"] =
                json!("ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356");
            entry["bytes"] = json!(3);
        }
    }
    std::fs::write(
        copy.join("MANIFEST.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    assert!(
        evidence::verify(&copy, None).unwrap().ok(),
        "without a key a forger who rewrites the manifest passes"
    );
    let verify = run(&[
        "evidence",
        "verify",
        copy.to_str().unwrap(),
        "--public-key",
        public.to_str().unwrap(),
    ]);
    assert_eq!(verify.code, 1, "{}", verify.stdout);
    assert!(
        verify.stdout.contains("signature: INVALID"),
        "{}",
        verify.stdout
    );
    // Another key does not verify the genuine bundle.
    let other = tempfile::tempdir().unwrap();
    assert_eq!(
        run_in(
            other.path(),
            &[
                "evidence",
                "keygen",
                "--private-key",
                "k",
                "--public-key",
                "p"
            ],
            &[]
        )
        .code,
        0
    );
    let verify = run(&[
        "evidence",
        "verify",
        bundle.to_str().unwrap(),
        "--public-key",
        other.path().join("p").to_str().unwrap(),
    ]);
    assert_eq!(verify.code, 1);
    // Not a bundle at all: exit 2.
    assert_eq!(
        run(&["evidence", "verify", scratch.path().to_str().unwrap()]).code,
        2
    );
}

#[test]
fn signatures_interoperate_with_openssl() {
    let work = scenario();
    let (bundle, public) = signed_bundle(work.path());
    let status = Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(&public)
        .args(["-rawin", "-in"])
        .arg(bundle.join("MANIFEST.json"))
        .arg("-sigfile")
        .arg(bundle.join("MANIFEST.json.sig"))
        .output()
        .expect("openssl is installed by scripts/test.sh");
    assert!(
        status.status.success(),
        "openssl rejects the signature: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    // A key made by openssl signs bundles sqlready verifies.
    let dir = work.path();
    let made = Command::new("openssl")
        .current_dir(dir)
        .args(["genpkey", "-algorithm", "ed25519", "-out", "ossl.pem"])
        .status()
        .unwrap();
    assert!(made.success());
    let public = Command::new("openssl")
        .current_dir(dir)
        .args(["pkey", "-in", "ossl.pem", "-pubout", "-out", "ossl.pub"])
        .status()
        .unwrap();
    assert!(public.success());
    let audit = run_in(
        dir,
        &[
            "audit",
            "--no-config",
            "--facts",
            GOOD,
            "--evidence",
            "ossl-bundle",
            "--sign-key",
            "ossl.pem",
            "--fail-on",
            "never",
        ],
        &[],
    );
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    let verify = run_in(
        dir,
        &[
            "evidence",
            "verify",
            "ossl-bundle",
            "--public-key",
            "ossl.pub",
        ],
        &[],
    );
    assert_eq!(verify.code, 0, "{}", verify.stdout);
}

#[test]
fn bundles_are_written_whole_and_never_overwrite() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::create_dir(dir.join("taken")).unwrap();
    std::fs::write(dir.join("taken/keep.txt"), "mine").unwrap();
    let run = run_in(
        dir,
        &[
            "audit",
            "--no-config",
            "--facts",
            GOOD,
            "--evidence",
            "taken",
        ],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("never overwritten"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "refused before auditing");
    assert_eq!(
        std::fs::read_to_string(dir.join("taken/keep.txt")).unwrap(),
        "mine"
    );
    // An empty directory is fine, as is one that does not exist yet (parents included);
    // '{time}' gives each scheduled run its own directory.
    std::fs::create_dir(dir.join("empty")).unwrap();
    assert!(
        run_in(
            dir,
            &[
                "audit",
                "--no-config",
                "--facts",
                GOOD,
                "--evidence",
                "empty",
                "--fail-on",
                "never"
            ],
            &[]
        )
        .code
            == 0
    );
    let run = run_in(
        dir,
        &[
            "audit",
            "--no-config",
            "--facts",
            GOOD,
            "--evidence",
            "runs/nightly-{time}",
            "--fail-on",
            "never",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let made: Vec<String> = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    assert!(
        regex::Regex::new(r"^nightly-\d{8}T\d{6}Z$")
            .unwrap()
            .is_match(&made[0]),
        "{made:?}"
    );
    // No temporary directory is left beside the bundles.
    let leftovers: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".sqlready-evidence-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Keys are never overwritten either.
    assert_eq!(
        run_in(
            dir,
            &[
                "evidence",
                "keygen",
                "--private-key",
                "k.pem",
                "--public-key",
                "p.pem"
            ],
            &[]
        )
        .code,
        0
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(dir.join("k.pem"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let again = run_in(
        dir,
        &[
            "evidence",
            "keygen",
            "--private-key",
            "k.pem",
            "--public-key",
            "p2.pem",
        ],
        &[],
    );
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("never overwritten"),
        "{}",
        again.stderr
    );
}

// ---------------------------------------------------------------------------
// Scheduled-job packaging
// ---------------------------------------------------------------------------

fn yaml_documents(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            let value: serde_yaml_ng::Value =
                serde::Deserialize::deserialize(doc).unwrap_or_else(|err| panic!("{path}: {err}"));
            serde_json::to_value(value).unwrap()
        })
        .collect()
}

/// Runs the binary with a job's arguments, its paths mapped into `dir`, on a facts file.
fn run_job(dir: &Path, args: &[String], paths: &[(&str, &Path)]) -> Run {
    let mapped: Vec<String> = args
        .iter()
        .map(|arg| {
            let mut arg = arg.clone();
            for (from, to) in paths {
                arg = arg.replace(from, &to.display().to_string());
            }
            arg
        })
        .collect();
    let mut all: Vec<&str> = mapped.iter().map(String::as_str).collect();
    all.extend(["--facts", GOOD]);
    run_in(dir, &all, &[])
}

#[test]
fn the_kubernetes_cronjob_parses_and_its_flags_run() {
    let docs = yaml_documents("deploy/kubernetes/cronjob.yaml");
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d["kind"] == k)
            .unwrap_or_else(|| panic!("no {k}"))
    };
    let account = kind("ServiceAccount");
    assert_eq!(account["automountServiceAccountToken"], false);
    assert!(
        docs.iter().all(|d| d["kind"] != "Role"
            && d["kind"] != "ClusterRole"
            && d["kind"] != "RoleBinding")
    );
    let job = kind("CronJob");
    let pod = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "sqlready");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let container = &pod["containers"][0];
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    assert_eq!(
        container["securityContext"]["capabilities"]["drop"],
        json!(["ALL"])
    );
    for env in container["env"].as_array().unwrap() {
        assert!(
            env.get("value").is_none() || env["name"] == "NO_COLOR",
            "secrets come from secretKeyRef: {env}"
        );
    }
    let args: Vec<String> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    // The ConfigMap's sqlready.toml is a valid config, and the job's flags run with it.
    let work = tempfile::tempdir().unwrap();
    let etc = work.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("sqlready.toml"),
        kind("ConfigMap")["data"]["sqlready.toml"].as_str().unwrap(),
    )
    .unwrap();
    let signing = work.path().join("signing");
    std::fs::create_dir_all(&signing).unwrap();
    let keys = run_in(
        &signing,
        &[
            "evidence",
            "keygen",
            "--private-key",
            "private.pem",
            "--public-key",
            "public.pem",
        ],
        &[],
    );
    assert_eq!(keys.code, 0);
    let evidence_dir = work.path().join("evidence");
    std::fs::create_dir_all(&evidence_dir).unwrap();
    let paths = [
        ("/etc/sqlready-signing", signing.as_path()),
        ("/etc/sqlready", etc.as_path()),
        ("/evidence", evidence_dir.as_path()),
    ];
    let first = run_job(work.path(), &args, &paths);
    assert!(
        first.code == 0 || first.code == 1,
        "exit {}: {}",
        first.code,
        first.stderr
    );
    assert!(first.stderr.contains("a first run"), "{}", first.stderr);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = run_job(work.path(), &args, &paths);
    assert!(
        second.code == 0 || second.code == 1,
        "exit {}: {}",
        second.code,
        second.stderr
    );
    let latest: Value =
        serde_json::from_str(&std::fs::read_to_string(evidence_dir.join("latest.json")).unwrap())
            .unwrap();
    assert_eq!(
        latest["drift"]["regressed"], 0,
        "the second run compares with the first"
    );
    let runs: Vec<PathBuf> = std::fs::read_dir(evidence_dir.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 2, "one bundle per run");
    for bundle in runs {
        let verify = run(&[
            "evidence",
            "verify",
            bundle.to_str().unwrap(),
            "--public-key",
            signing.join("public.pem").to_str().unwrap(),
        ]);
        assert_eq!(verify.code, 0, "{}", verify.stdout);
    }
    // The NetworkPolicy denies ingress and limits egress.
    let policy = kind("NetworkPolicy");
    assert_eq!(policy["spec"]["ingress"], json!([]));
}

#[test]
fn the_github_actions_example_parses_and_its_flags_run() {
    let docs = yaml_documents("examples/github-actions/sqlready.yml");
    assert_eq!(docs.len(), 1);
    let workflow = &docs[0];
    let job = &workflow["jobs"]["audit"];
    assert_eq!(job["permissions"]["security-events"], "write");
    let steps = job["steps"].as_array().unwrap();
    let audit = steps.iter().find(|s| s["name"] == "Audit").unwrap();
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif"))
        })
        .unwrap();
    let command: Vec<String> = audit["run"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(&command[..2], ["sqlready", "audit"]);
    let sarif = command
        .iter()
        .position(|a| a == "--output")
        .map(|i| command[i + 1].clone())
        .unwrap();
    assert_eq!(upload["with"]["sarif_file"], sarif.as_str());
    for env in audit["env"].as_object().unwrap().values() {
        let env = env.as_str().unwrap();
        assert!(
            env.starts_with("${{ secrets.") || env == "1",
            "secrets only by reference: {env}"
        );
    }
    let work = tempfile::tempdir().unwrap();
    let config = yaml_documents("deploy/kubernetes/cronjob.yaml")
        .into_iter()
        .find(|d| d["kind"] == "ConfigMap")
        .unwrap();
    std::fs::write(
        work.path().join("sqlready.toml"),
        config["data"]["sqlready.toml"].as_str().unwrap(),
    )
    .unwrap();
    let run = run_job(work.path(), &command[1..], &[]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    let log: Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join(&sarif)).unwrap()).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let bundles: Vec<_> = std::fs::read_dir(work.path().join("evidence"))
        .unwrap()
        .collect();
    assert_eq!(bundles.len(), 1);
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_unprivileged() {
    let text = std::fs::read_to_string(format!("{ROOT}/Dockerfile")).unwrap();
    let instructions: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let froms: Vec<&&str> = instructions
        .iter()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    assert!(froms[0].contains(" AS build"), "{froms:?}");
    let last_stage = instructions
        .iter()
        .rposition(|l| l.starts_with("FROM "))
        .unwrap();
    let runtime = &instructions[last_stage..];
    let user = runtime
        .iter()
        .find(|l| l.starts_with("USER "))
        .expect("the runtime stage sets USER");
    let uid = user.trim_start_matches("USER ").split(':').next().unwrap();
    assert!(uid != "0" && uid != "root", "{user}");
    assert!(
        runtime
            .iter()
            .any(|l| l.starts_with("ENTRYPOINT") && l.contains("sqlready"))
    );
    assert!(runtime.iter().any(|l| l.starts_with("COPY --from=build")));
    // Everything the build needs is copied into the builder (build.rs, the embedded checks, …).
    let build_stage = &instructions[..last_stage].join("\n");
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "src",
        "checks",
        "benches",
    ] {
        assert!(
            build_stage.contains(&format!(" {needed}")),
            "the builder does not COPY {needed}"
        );
        assert!(
            Path::new(ROOT).join(needed).exists(),
            "{needed} is gone: update the Dockerfile"
        );
    }
    let cmd = runtime.iter().find(|l| l.starts_with("CMD ")).unwrap();
    let cmd: Vec<String> = serde_json::from_str(cmd.trim_start_matches("CMD ")).unwrap();
    let work = tempfile::tempdir().unwrap();
    let run = run_job(
        work.path(),
        &cmd,
        &[("/etc/sqlready/sqlready.toml", Path::new("/dev/null"))],
    );
    assert!(
        run.code == 0 || run.code == 1,
        "the image's default command runs: {}",
        run.stderr
    );
}
