//! TLS as libpq does it, through the real binary, against a real PostgreSQL
//! server whose certificate was made the PostgreSQL manual's way (an X.509 v1
//! server certificate signed by a local root CA). Every case is checked
//! against psql first, so the expectation is what psql does, not a guess.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use support::cli::{only_target, sqlready};
use support::pglab::{LAB_PASSWORD, PgServer, psql_url, start_manual_tls};

/// The name in the server certificate: not the 127.0.0.1 the tests connect to.
const SERVER_CN: &str = "db.sqlready.test";

fn server() -> &'static PgServer {
    static SERVER: OnceLock<PgServer> = OnceLock::new();
    SERVER.get_or_init(|| start_manual_tls("tls_v1", SERVER_CN, false))
}

fn root_crt() -> PathBuf {
    server().datadir.join("root.crt")
}

/// A root CA that did not sign the server's certificate.
fn other_root_crt() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        support::lab::manual_ca_signed_certs(&|| Command::new("openssl"), dir.path(), "other");
        dir
    });
    dir.path().join("root.crt")
}

fn url(params: &str) -> String {
    server().url_with("auditor", "app", params)
}

/// The target's error from a JSON audit (None when it was audited).
fn audit_error(params: &str) -> Option<String> {
    let run = sqlready(&["audit", &url(params), "--format", "json"]);
    assert!(!run.stdout.contains(LAB_PASSWORD) && !run.stderr.contains(LAB_PASSWORD));
    let report = run.json();
    let target = only_target(&report);
    target["error"].as_str().map(str::to_string)
}

fn assert_version_1(cert: &Path) {
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Version: 1 (0x0)"), "{text}");
}

#[test]
fn the_manual_recipe_makes_a_v1_certificate_that_psql_accepts_under_require() {
    assert_version_1(&server().datadir.join("server.crt"));
    psql_url(&url("sslmode=require"), "SELECT 1").expect("psql connects with sslmode=require");
}

#[test]
fn require_connects_to_a_v1_certificate() {
    assert_eq!(audit_error("sslmode=require"), None);
}

#[test]
fn prefer_connects_to_a_v1_certificate_over_tls() {
    assert_eq!(audit_error("sslmode=prefer"), None);
}

#[test]
fn verify_ca_with_the_root_that_signed_it_connects() {
    let params = format!("sslmode=verify-ca&sslrootcert={}", root_crt().display());
    psql_url(&url(&params), "SELECT 1").expect("psql connects with verify-ca");
    assert_eq!(audit_error(&params), None);
}

#[test]
fn verify_full_refuses_a_certificate_for_another_host_name() {
    let params = format!("sslmode=verify-full&sslrootcert={}", root_crt().display());
    assert!(
        psql_url(&url(&params), "SELECT 1").is_err(),
        "psql refuses too"
    );
    let error = audit_error(&params).expect("refused");
    assert!(error.contains("TLS"), "{error}");
    assert!(error.contains("not issued for the host name"), "{error}");
    assert!(error.contains("sslmode=verify-ca"), "{error}");
    assert!(!error.contains("did not answer like"), "{error}");
}

#[test]
fn require_with_a_root_file_verifies_as_libpq_does() {
    let params = format!("sslmode=require&sslrootcert={}", other_root_crt().display());
    assert!(
        psql_url(&url(&params), "SELECT 1").is_err(),
        "libpq: require with a root CA file behaves as verify-ca"
    );
    let error = audit_error(&params).expect("refused like psql");
    assert!(error.contains("not signed by a CA"), "{error}");
    assert!(error.contains("sslrootcert=PATH"), "{error}");
}

#[test]
fn verify_ca_with_another_root_names_the_cause_and_the_parameter() {
    let params = format!(
        "sslmode=verify-ca&sslrootcert={}",
        other_root_crt().display()
    );
    assert!(
        psql_url(&url(&params), "SELECT 1").is_err(),
        "psql refuses too"
    );
    let error = audit_error(&params).expect("refused");
    assert!(error.contains("certificate was refused"), "{error}");
    assert!(error.contains("sslrootcert"), "{error}");
}

#[test]
fn allow_retries_with_tls_when_the_server_requires_it() {
    psql_url(&url("sslmode=allow"), "SELECT 1").expect("psql connects with allow");
    assert_eq!(audit_error("sslmode=allow"), None);
}

#[test]
fn disable_against_a_tls_only_server_names_sslmode() {
    assert!(psql_url(&url("sslmode=disable"), "SELECT 1").is_err());
    let error = audit_error("sslmode=disable").expect("refused");
    assert!(error.contains("remove sslmode=disable"), "{error}");
}

/// A certificate file that is not there is named with its parameter, not
/// reported as an unreachable host; the other target of the run is audited.
#[test]
fn a_missing_root_certificate_file_is_named_and_the_other_target_audited() {
    let missing = url("sslmode=verify-ca&sslrootcert=/nonexistent/root.crt");
    let good = url(&format!(
        "sslmode=verify-ca&sslrootcert={}",
        root_crt().display()
    ));
    let run = sqlready(&["audit", &missing, &good, "--format", "json"]);
    let report = run.json();
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2, "{report:#}");
    let errors: Vec<&str> = targets.iter().filter_map(|t| t["error"].as_str()).collect();
    assert_eq!(
        errors.len(),
        1,
        "only the missing file's target fails: {report:#}"
    );
    assert!(
        errors[0].contains("sslrootcert=/nonexistent/root.crt cannot be read")
            && errors[0].contains("readable PEM file"),
        "{}",
        errors[0]
    );
}

mod expired {
    //! A certificate whose validity ended: libpq encrypts without looking at
    //! it under require, and refuses it under verify-ca.

    use super::*;

    fn server() -> &'static PgServer {
        static SERVER: OnceLock<PgServer> = OnceLock::new();
        SERVER.get_or_init(|| start_manual_tls("tls_expired", SERVER_CN, true))
    }

    fn audit_error(params: &str) -> Option<String> {
        let run = sqlready(&[
            "audit",
            &server().url_with("auditor", "app", params),
            "--format",
            "json",
        ]);
        only_target(&run.json())["error"]
            .as_str()
            .map(str::to_string)
    }

    #[test]
    fn require_connects_as_psql_does() {
        let url = server().url_with("auditor", "app", "sslmode=require");
        psql_url(&url, "SELECT 1").expect("psql connects with require");
        assert_eq!(audit_error("sslmode=require"), None);
    }

    #[test]
    fn verify_ca_refuses_it_and_says_it_expired() {
        let root = server().datadir.join("root.crt");
        let params = format!("sslmode=verify-ca&sslrootcert={}", root.display());
        let url = server().url_with("auditor", "app", &params);
        assert!(psql_url(&url, "SELECT 1").is_err(), "psql refuses too");
        let error = audit_error(&params).expect("refused");
        assert!(error.contains("outside its validity dates"), "{error}");
        assert!(error.contains("sslmode=require"), "{error}");
    }
}

mod mariadb {
    //! The same certificates on MariaDB, with ssl-mode as the mysql client reads it.

    use super::*;
    use support::mylab::{LAB_PASSWORD, MyServer, start_manual_tls};

    fn server() -> &'static MyServer {
        static SERVER: OnceLock<MyServer> = OnceLock::new();
        SERVER.get_or_init(|| start_manual_tls("tls_v1_maria", SERVER_CN))
    }

    fn audit_error(params: &str) -> Option<String> {
        let run = sqlready(&[
            "audit",
            &server().url_with("auditor", params),
            "--format",
            "json",
        ]);
        assert!(!run.stdout.contains(LAB_PASSWORD) && !run.stderr.contains(LAB_PASSWORD));
        let report = run.json();
        only_target(&report)["error"].as_str().map(str::to_string)
    }

    #[test]
    fn required_connects_to_a_v1_certificate() {
        assert_version_1(&server().root.join("server.crt"));
        assert_eq!(audit_error("ssl-mode=REQUIRED"), None);
    }

    #[test]
    fn verify_ca_with_the_root_that_signed_it_connects() {
        let ca = server().root.join("root.crt");
        assert_eq!(
            audit_error(&format!("ssl-mode=VERIFY_CA&ssl-ca={}", ca.display())),
            None
        );
    }

    #[test]
    fn verify_identity_refuses_a_certificate_for_another_host_name() {
        let ca = server().root.join("root.crt");
        let error = audit_error(&format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={}", ca.display()))
            .expect("refused");
        assert!(error.contains("not issued for the host name"), "{error}");
        assert!(error.contains("ssl-mode=VERIFY_CA"), "{error}");
    }

    #[test]
    fn verify_ca_with_another_root_names_ssl_ca() {
        let params = format!("ssl-mode=VERIFY_CA&ssl-ca={}", other_root_crt().display());
        let error = audit_error(&params).expect("refused");
        assert!(error.contains("not signed by a CA"), "{error}");
        assert!(error.contains("ssl-ca=PATH"), "{error}");
        assert!(!error.contains("did not answer like"), "{error}");
    }
}
