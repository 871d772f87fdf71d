//! The first hour of a new user (issue 18, points 4 and 5), through the real
//! binary: usage errors exit 2 with the whole message, servers that accept
//! TCP but do not speak the protocol are named as such, the wrong file kind
//! is refused, and evidence keys and run records work outside a laptop.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use support::cli::{sqlready, sqlready_in};

const BAD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/postgres-bad.json");

// ---------------------------------------------------------------------------
// Connection parameters
// ---------------------------------------------------------------------------

#[test]
fn a_misspelt_sslmode_value_is_a_usage_error_naming_parameter_value_and_choices() {
    let run = sqlready(&[
        "audit",
        "postgres://app:s3cret@127.0.0.1:1/app?sslmode=requir",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for part in [
        "'sslmode'",
        "'requir'",
        "disable, allow, prefer, require, verify-ca, verify-full",
    ] {
        assert!(run.stderr.contains(part), "{part}: {}", run.stderr);
    }
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
}

#[test]
fn an_unknown_parameter_is_refused_rather_than_ignored() {
    let run = sqlready(&["audit", "mysql://app@127.0.0.1:1/app?sslmod=REQUIRED"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown connection parameter 'sslmod'")
            && run.stderr.contains("ssl-mode"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------
// Ports that accept TCP but do not speak the protocol
// ---------------------------------------------------------------------------

/// A listener on 127.0.0.1 that accepts every connection and, for each,
/// writes `banner` (maybe nothing) and then holds it open, reading and
/// discarding whatever comes. Runs until the test process ends.
fn impostor(banner: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.write_all(banner);
                let mut buf = [0u8; 512];
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    port
}

fn target_error(uri: &str) -> String {
    let run = sqlready(&["audit", uri, "--format", "json", "--connect-timeout", "2"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    run.json()["targets"][0]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {}", run.stdout))
        .to_string()
}

#[test]
fn a_silent_listener_is_named_not_blamed_on_a_firewall() {
    let port = impostor(b"");
    for uri in [
        format!("postgres://app:pw@127.0.0.1:{port}/app"),
        format!("mysql://app:pw@127.0.0.1:{port}/app"),
    ] {
        let error = target_error(&uri);
        assert!(
            error.contains("accepted the TCP connection"),
            "{uri}: {error}"
        );
        assert!(!error.contains("firewall"), "{uri}: {error}");
    }
}

#[test]
fn a_redis_like_banner_is_not_taken_for_postgres() {
    let port = impostor(b"-ERR unknown command\r\n");
    let error = target_error(&format!("postgres://app:pw@127.0.0.1:{port}/app"));
    assert!(
        error.contains("did not answer like a PostgreSQL server"),
        "{error}"
    );
    assert!(!error.contains("firewall"), "{error}");
}

// ---------------------------------------------------------------------------
// Evidence: keys OpenSSL 3.0 reads, the run record in a container
// ---------------------------------------------------------------------------

fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl binary")
}

#[test]
fn keygen_writes_keys_openssl_reads_and_signs_with() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let keys = sqlready_in(
        dir,
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
    let read = openssl(dir, &["pkey", "-in", "private.pem", "-noout"]);
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    // OpenSSL derives the same public key that sqlready wrote.
    let derived = openssl(dir, &["pkey", "-in", "private.pem", "-pubout"]);
    assert!(derived.status.success());
    assert_eq!(
        String::from_utf8_lossy(&derived.stdout),
        std::fs::read_to_string(dir.join("public.pem")).unwrap()
    );
    // A signature made by OpenSSL with the private key verifies with the
    // public key, and a tampered message does not.
    std::fs::write(dir.join("msg"), b"MANIFEST").unwrap();
    let sign = openssl(
        dir,
        &[
            "pkeyutl",
            "-sign",
            "-rawin",
            "-inkey",
            "private.pem",
            "-in",
            "msg",
            "-out",
            "sig",
        ],
    );
    assert!(
        sign.status.success(),
        "{}",
        String::from_utf8_lossy(&sign.stderr)
    );
    let verify = |file: &str| {
        openssl(
            dir,
            &[
                "pkeyutl",
                "-verify",
                "-rawin",
                "-pubin",
                "-inkey",
                "public.pem",
                "-in",
                file,
                "-sigfile",
                "sig",
            ],
        )
        .status
        .success()
    };
    assert!(verify("msg"));
    std::fs::write(dir.join("other"), b"MANIFESt").unwrap();
    assert!(!verify("other"));
}

#[test]
fn os_user_falls_back_to_the_uid_name_without_user_or_logname() {
    let work = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sqlready"))
        .args([
            "audit",
            "--no-config",
            "--facts",
            BAD,
            "--evidence",
            "bundle",
            "-o",
            "report.json",
        ])
        .current_dir(work.path())
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .output()
        .unwrap();
    assert!(
        output.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.path().join("bundle/run.json")).unwrap())
            .unwrap();
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let expected = std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields[2] == uid.to_string()).then(|| fields[0].to_string())
        })
        .unwrap_or_else(|| format!("uid {uid}"));
    assert_eq!(run["os_user"], expected, "{run:#}");
}

// ---------------------------------------------------------------------------
// Terraform fix texts and version support (issue 18 point 6)
// ---------------------------------------------------------------------------

fn finding<'a>(target: &'a serde_json::Value, check: &str) -> &'a serde_json::Value {
    target["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} in {target:#}"))
}

#[test]
fn terraform_mysql_8_0_on_rds_is_not_failed_and_cloudsql_audit_has_a_terraform_fix() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("main.tf"),
        r#"
resource "aws_db_instance" "shop" {
  identifier     = "shop"
  engine         = "mysql"
  engine_version = "8.0.35"
}
resource "google_sql_database_instance" "pg" {
  name             = "pg"
  database_version = "POSTGRES_16"
  settings { tier = "db-custom-1-3840" }
}
"#,
    )
    .unwrap();
    let run = sqlready_in(
        work.path(),
        &["audit", "main.tf", "--no-config", "--format", "json"],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let targets = report["targets"].as_array().unwrap();
    let rds = targets
        .iter()
        .find(|t| t["id"].as_str().unwrap().ends_with("aws_db_instance.shop"))
        .unwrap();
    // RDS enrols MySQL 8.0 in Extended Support by default: still patched, on
    // RDS's own calendar (standard support ended 2026-07-31), the charge said apart.
    let supported = finding(rds, "version.supported");
    assert_eq!(supported["status"], "pass", "{supported:#}");
    assert!(
        supported["detail"]
            .as_str()
            .unwrap()
            .contains("paid extended support until 2029-07-31"),
        "{supported:#}"
    );
    let cloudsql = targets
        .iter()
        .find(|t| {
            t["id"]
                .as_str()
                .unwrap()
                .ends_with("google_sql_database_instance.pg")
        })
        .unwrap();
    let audit = finding(cloudsql, "audit.cloudsql_database_audit");
    assert_eq!(audit["status"], "fail", "{audit:#}");
    let fix = audit["remediation"].as_str().unwrap_or_default();
    assert!(
        fix.contains("cloudsql.enable_pgaudit") && fix.contains("database_flags"),
        "{audit:#}"
    );
}

// ---------------------------------------------------------------------------
// The wrong file kind
// ---------------------------------------------------------------------------

#[test]
fn a_facts_snapshot_given_as_baseline_is_refused() {
    let run = sqlready(&["audit", "--no-config", "--facts", BAD, "--baseline", BAD]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is a facts snapshot") && run.stderr.contains("--format json"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn a_report_given_as_facts_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let report = sqlready_in(
        work.path(),
        &[
            "audit",
            "--no-config",
            "--facts",
            BAD,
            "--format",
            "json",
            "-o",
            "report.json",
        ],
        &[],
    );
    assert_eq!(report.code, 1, "{}", report.stderr);
    let run = sqlready_in(
        work.path(),
        &["audit", "--no-config", "--facts", "report.json"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is a sqlready report, not a facts snapshot")
            && run.stderr.contains("--baseline"),
        "{}",
        run.stderr
    );
    // And the report is a good baseline.
    let baseline = sqlready_in(
        work.path(),
        &[
            "audit",
            "--no-config",
            "--facts",
            BAD,
            "--baseline",
            "report.json",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(baseline.code, 1, "{}", baseline.stderr);
}

// ---------------------------------------------------------------------------
// Evidence provenance: a bundle judged from a facts file says so
// ---------------------------------------------------------------------------

#[test]
fn a_bundle_from_a_facts_file_records_and_prints_the_file_and_its_sha256() {
    use sha2::{Digest, Sha256};
    let work = tempfile::tempdir().unwrap();
    let run = sqlready_in(
        work.path(),
        &[
            "audit",
            "--no-config",
            "--facts",
            BAD,
            "--evidence",
            "bundle",
            "-o",
            "report.txt",
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let sha256: String = Sha256::digest(std::fs::read(BAD).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.path().join("bundle/run.json")).unwrap())
            .unwrap();
    let provenance = &record["provenance"];
    assert_eq!(provenance["obtained"], "facts_file", "{record:#}");
    assert_eq!(provenance["facts_file"]["sha256"], sha256.as_str());
    assert_eq!(provenance["facts_file"]["path"], BAD);
    let verify = sqlready_in(work.path(), &["evidence", "verify", "bundle"], &[]);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(
        verify.stdout.contains("not observed live") && verify.stdout.contains(&sha256),
        "{}",
        verify.stdout
    );
}

// ---------------------------------------------------------------------------
// --facts validated against the fact types
// ---------------------------------------------------------------------------

#[test]
fn a_facts_file_with_wrong_types_or_an_unknown_engine_is_refused_with_every_problem_located() {
    let mut snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(BAD).unwrap()).unwrap();
    let first = snapshot["targets"][0].clone();
    let mut second = first.clone();
    second["id"] = "oracle://erp:1521/ERP".into();
    second["engine"] = "oracle".into();
    let facts = snapshot["targets"][0]["facts"].as_object_mut().unwrap();
    facts["replicas.count"]["value"] = "3".into();
    facts["pitr.wal_archiving"]["value"] = "on".into();
    snapshot["targets"].as_array_mut().unwrap().push(second);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("facts.json"), snapshot.to_string()).unwrap();
    let run = sqlready_in(
        work.path(),
        &[
            "audit",
            "--no-config",
            "--facts",
            "facts.json",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    for part in [
        "3 problem(s)",
        "targets[0] (postgres://orders-db.internal:5432/app): fact 'replicas.count' is a string (\"3\"), expected int",
        "fact 'pitr.wal_archiving' is a string (\"on\"), expected bool",
        "targets[1] (oracle://erp:1521/ERP): engine 'oracle' is not one sqlready judges; accepted: postgres, mysql, mariadb",
    ] {
        assert!(run.stderr.contains(part), "{part}\n{}", run.stderr);
    }
}

// ---------------------------------------------------------------------------
// Bad flag values and bad config: exit 2, everything at once
// ---------------------------------------------------------------------------

#[test]
fn a_bad_flag_value_names_the_flag_the_value_and_the_choices() {
    let run = sqlready(&["audit", "--facts", BAD, "--fail-on", "bogus"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for part in ["'bogus'", "--fail-on", "low, medium, high, critical, never"] {
        assert!(run.stderr.contains(part), "{part}: {}", run.stderr);
    }
}

#[test]
fn every_config_problem_is_reported_at_once_with_file_line_and_column() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("sqlready.toml"),
        "[audit]\nconcurrency = \"eight\"\n\n[[targets]]\ndatabase = \"postgres://a@db/app?sslmode=requir\"\nhost = \"x\"\n\n[checks]\ninclude = [\"no_such_item\"]\n",
    )
    .unwrap();
    let run = sqlready_in(work.path(), &["audit", "--facts", BAD], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for part in [
        "4 problems",
        "sqlready.toml:2:15: invalid type",
        "sqlready.toml:9:12: 'no_such_item' matches no check",
        "sqlready.toml:6:1: unknown field `host`",
        "sqlready.toml:5:12:",
        "'sslmode' has the value 'requir'",
    ] {
        assert!(run.stderr.contains(part), "{part}\n{}", run.stderr);
    }
}
