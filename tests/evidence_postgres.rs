//! The compliance job against real PostgreSQL servers (support/pglab.rs):
//! a known password never reaches any output or any file of an evidence
//! bundle, `password_env` supplies it from the environment, the bundle
//! records who ran the audit, and a cloud target paired with a database
//! connection still yields the database's facts when the cloud half fails.

mod support;

use serde_json::Value;
use std::path::Path;
use support::cli::sqlready_in as run_in;
use support::pglab::{LAB_PASSWORD, lab};

/// Every file under `dir`, with its bytes.
fn all_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

fn assert_no_secret(dir: &Path, what: &str) {
    let needle = LAB_PASSWORD.as_bytes();
    let files = all_files(dir);
    assert!(!files.is_empty(), "{what}: nothing written");
    for (path, bytes) in files {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{what}: the password is in {path}"
        );
    }
}

#[test]
fn no_file_of_any_output_holds_the_password() {
    let server = &lab().good;
    let url = server.url("auditor", "app");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    for format in ["json", "table", "sarif", "junit", "markdown"] {
        let out = format!("report.{format}");
        let mut args = vec![
            "audit",
            url.as_str(),
            "--no-config",
            "--format",
            format,
            "--output",
            out.as_str(),
        ];
        if format == "json" {
            args.extend(["--evidence", "bundle-cli", "--save-facts", "facts.json"]);
        }
        let run = run_in(dir, &args, &[]);
        assert!(
            run.code == 0 || run.code == 1,
            "{format}: exit {}: {}",
            run.code,
            run.stderr
        );
        assert!(!run.stdout.contains(LAB_PASSWORD) && !run.stderr.contains(LAB_PASSWORD));
    }
    // The same through sqlready.toml: the password only by reference.
    let config = format!(
        "[[targets]]\ndatabase = \"postgres://auditor@127.0.0.1:{}/app?sslmode=prefer\"\npassword_env = \"LAB_DB_PASSWORD\"\n",
        server.port
    );
    std::fs::write(dir.join("sqlready.toml"), &config).unwrap();
    let run = run_in(
        dir,
        &[
            "audit",
            "--evidence",
            "bundle-config",
            "--format",
            "json",
            "-o",
            "config-report.json",
        ],
        &[("LAB_DB_PASSWORD", LAB_PASSWORD), ("USER", "ci-runner")],
    );
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config-report.json")).unwrap())
            .unwrap();
    let target = &report["targets"][0];
    assert!(
        target.get("error").is_none(),
        "password_env supplied the password: {target:#}"
    );
    assert_eq!(target["principal"], "auditor");
    assert_no_secret(dir, "outputs, facts and evidence bundles");
    // The bundle says who ran the audit, from where, and verifies.
    let run_record: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("bundle-config/run.json")).unwrap())
            .unwrap();
    assert_eq!(run_record["principals"][0]["principal"], "auditor");
    assert!(!run_record["host"].as_str().unwrap().is_empty());
    assert_eq!(
        run_record["os_user"], "ci-runner",
        "the account on that host"
    );
    let raw = std::fs::read_dir(dir.join("bundle-config/targets"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("raw");
    assert!(
        std::fs::read_dir(raw).unwrap().count() >= 1,
        "the query results are kept"
    );
    let verify = run_in(dir, &["evidence", "verify", "bundle-config"], &[]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
    // Without the variable the target fails with the reason, and the run exits 3.
    let missing = run_in(dir, &["audit", "--format", "json"], &[]);
    assert_eq!(missing.code, 3, "{}", missing.stderr);
    let report: Value = serde_json::from_str(&missing.stdout).unwrap();
    assert!(
        report["targets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("LAB_DB_PASSWORD (password_env) is not set")
    );
}

#[test]
fn a_paired_cloud_target_keeps_the_database_facts_when_the_cloud_half_fails() {
    let server = &lab().good;
    let work = tempfile::tempdir().unwrap();
    let config = format!(
        "[[targets]]\ncloud = \"cloudsql://acme-prod/orders\"\ndatabase = \"postgres://auditor@127.0.0.1:{}/app?sslmode=prefer\"\npassword_env = \"LAB_DB_PASSWORD\"\n",
        server.port
    );
    std::fs::write(work.path().join("sqlready.toml"), config).unwrap();
    let run = run_in(
        work.path(),
        &["audit", "--format", "json", "--evidence", "bundle"],
        &[
            ("LAB_DB_PASSWORD", LAB_PASSWORD),
            // Nothing listens there: the Cloud SQL half fails at once, in any build.
            ("SQLREADY_CLOUDSQL_ENDPOINT", "http://127.0.0.1:9"),
            ("SQLREADY_GOOGLE_OAUTH_ENDPOINT", "http://127.0.0.1:9"),
            ("GOOGLE_OAUTH_ACCESS_TOKEN", "test-token"),
        ],
    );
    assert_eq!(
        run.code, 3,
        "a failed source is a target not fully audited: {}",
        run.stderr
    );
    assert!(!run.stdout.contains(LAB_PASSWORD) && !run.stderr.contains(LAB_PASSWORD));
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let target = &report["targets"][0];
    assert_eq!(target["id"], "cloudsql://acme-prod/orders");
    assert!(target.get("error").is_none(), "{target:#}");
    let sources = target["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[0]["kind"], "cloudsql");
    assert!(sources[0]["error"].is_string(), "{sources:#?}");
    assert_eq!(sources[1]["kind"], "postgres");
    assert_eq!(sources[1]["principal"], "auditor");
    assert!(sources[1].get("error").is_none());
    // The database half judged what it can see.
    let wal = target["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "cdc.wal_level_logical")
        .unwrap();
    assert_eq!(wal["status"], "pass", "{wal:#}");
    assert_no_secret(work.path(), "paired target bundle");
}
