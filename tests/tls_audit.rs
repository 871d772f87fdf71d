//! TLS as libpq does it, through the real binary, against a real PostgreSQL
//! server whose certificate was made the PostgreSQL manual's way (an X.509 v1
//! server certificate signed by a local root CA). Every case is checked
//! against psql first, so the expectation is what psql does, not a guess.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use support::cli::{only_target, sqlready};
use support::pglab::{LAB_PASSWORD, PgServer, psql_url, psql_url_env, start_manual_tls};

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
        SERVER.get_or_init(|| start_manual_tls("tls_v1_maria", SERVER_CN, false))
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

    mod expired {
        //! A certificate whose validity ended: REQUIRED encrypts without
        //! looking at it, VERIFY_CA refuses it, as the mysql client does.

        use super::*;

        fn server() -> &'static MyServer {
            static SERVER: OnceLock<MyServer> = OnceLock::new();
            SERVER.get_or_init(|| start_manual_tls("tls_expired_maria", SERVER_CN, true))
        }

        fn error(params: &str) -> Option<String> {
            let run = sqlready(&[
                "audit",
                &server().url_with("auditor", params),
                "--format",
                "json",
            ]);
            only_target(&run.json())["error"]
                .as_str()
                .map(str::to_string)
        }

        #[test]
        fn required_connects_and_verify_ca_says_it_expired() {
            assert_eq!(error("ssl-mode=REQUIRED"), None);
            let ca = server().root.join("root.crt");
            let error =
                error(&format!("ssl-mode=VERIFY_CA&ssl-ca={}", ca.display())).expect("refused");
            assert!(error.contains("outside its validity dates"), "{error}");
            assert!(error.contains("ssl-mode=REQUIRED"), "{error}");
        }
    }

    /// The mysql client: `--ssl-ca` without `--ssl-mode` implies VERIFY_CA.
    #[test]
    fn ssl_ca_without_ssl_mode_verifies_the_chain() {
        let ca = server().root.join("root.crt");
        assert_eq!(audit_error(&format!("ssl-ca={}", ca.display())), None);
        let error = audit_error(&format!("ssl-ca={}", other_root_crt().display()))
            .expect("verified, so refused");
        assert!(error.contains("not signed by a CA"), "{error}");
    }

    mod client_certificates {
        //! An account made `REQUIRE X509`: it logs in only with a client
        //! certificate signed by the server's CA (`ssl_ca`).

        use super::*;
        use support::mylab::CERT_USER;

        fn certs() -> &'static Path {
            static MADE: OnceLock<()> = OnceLock::new();
            let dir = server().root.as_path();
            MADE.get_or_init(|| {
                support::lab::client_cert(&|| Command::new("openssl"), dir, CERT_USER, "client");
            });
            dir
        }

        fn error(params: &str) -> Option<String> {
            let run = sqlready(&[
                "audit",
                &server().url_with(CERT_USER, params),
                "--format",
                "json",
            ]);
            only_target(&run.json())["error"]
                .as_str()
                .map(str::to_string)
        }

        #[test]
        fn the_client_certificate_is_sent_and_accepted() {
            for key in ["client.key", "client.pkcs1.key"] {
                let params = format!(
                    "ssl-mode=REQUIRED&ssl-cert={}&ssl-key={}",
                    certs().join("client.crt").display(),
                    certs().join(key).display()
                );
                assert_eq!(error(&params), None, "{key}");
            }
        }

        #[test]
        fn without_it_the_error_names_ssl_cert_and_ssl_key() {
            let error = error("ssl-mode=REQUIRED").expect("refused");
            assert!(error.contains("client certificate"), "{error}");
            assert!(error.contains("ssl-cert=PATH and ssl-key=PATH"), "{error}");
        }
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

/// The target's error from a JSON audit run with `env` set.
fn audit_error_env(url: &str, env: &[(&str, &str)]) -> Option<String> {
    let run = support::cli::sqlready_with_env(&["audit", url, "--format", "json"], env);
    assert!(!run.stdout.contains(LAB_PASSWORD) && !run.stderr.contains(LAB_PASSWORD));
    only_target(&run.json())["error"]
        .as_str()
        .map(str::to_string)
}

mod root_certificates {
    //! Where the root CA comes from, as libpq decides it: `sslrootcert`, else
    //! `~/.postgresql/root.crt`; `sslrootcert=system`; CA bundles.

    use super::*;

    /// A HOME with `.postgresql/root.crt` (the server's root) when `with_root`.
    fn home(with_root: bool) -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        if with_root {
            std::fs::create_dir(home.path().join(".postgresql")).unwrap();
            std::fs::copy(root_crt(), home.path().join(".postgresql/root.crt")).unwrap();
        }
        home
    }

    #[test]
    fn verify_ca_without_sslrootcert_and_without_the_default_file_says_where_libpq_looked() {
        let home = home(false);
        let home_str = home.path().to_str().unwrap();
        let url = url("sslmode=verify-ca");
        let psql = psql_url_env(&url, "SELECT 1", &[("HOME", home_str)]).unwrap_err();
        assert!(psql.contains("root.crt"), "psql: {psql}");
        let error = audit_error_env(&url, &[("HOME", home_str)]).expect("refused");
        assert!(
            error.contains(&format!("{home_str}/.postgresql/root.crt does not exist")),
            "{error}"
        );
        assert!(
            error.contains("sslrootcert=PATH") && error.contains("sslmode=require"),
            "{error}"
        );
    }

    #[test]
    fn verify_ca_without_sslrootcert_uses_the_default_file_as_libpq_does() {
        let home = home(true);
        let env = [("HOME", home.path().to_str().unwrap())];
        let url = url("sslmode=verify-ca");
        psql_url_env(&url, "SELECT 1", &env).expect("psql connects");
        assert_eq!(audit_error_env(&url, &env), None);
    }

    #[test]
    fn require_with_the_default_root_file_verifies_it_as_libpq_does() {
        // The default file holds a root that did not sign the server's certificate.
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".postgresql")).unwrap();
        std::fs::copy(other_root_crt(), home.path().join(".postgresql/root.crt")).unwrap();
        let env = [("HOME", home.path().to_str().unwrap())];
        let url = url("sslmode=require");
        assert!(
            psql_url_env(&url, "SELECT 1", &env).is_err(),
            "psql refuses"
        );
        let error = audit_error_env(&url, &env).expect("refused like psql");
        assert!(error.contains("not signed by a CA"), "{error}");
    }

    #[test]
    fn require_ignores_a_named_root_file_that_does_not_exist_as_libpq_does() {
        let params = "sslmode=require&sslrootcert=/nonexistent/root.crt";
        psql_url(&url(params), "SELECT 1").expect("psql connects");
        assert_eq!(audit_error(params), None);
    }

    #[test]
    fn a_bundle_is_read_whole() {
        // The root that signed the server's certificate is the second of the file.
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("bundle.crt");
        let mut pem = std::fs::read(other_root_crt()).unwrap();
        pem.extend(std::fs::read(root_crt()).unwrap());
        std::fs::write(&bundle, pem).unwrap();
        let params = format!("sslmode=verify-ca&sslrootcert={}", bundle.display());
        psql_url(&url(&params), "SELECT 1").expect("psql reads the bundle");
        assert_eq!(audit_error(&params), None);
    }

    #[test]
    fn only_the_named_root_is_trusted_not_the_system_store_as_well() {
        // OpenSSL's default store (SSL_CERT_FILE) holds the signer; sslrootcert does not.
        let system = root_crt();
        let env = [("SSL_CERT_FILE", system.to_str().unwrap())];
        let params = format!(
            "sslmode=verify-ca&sslrootcert={}",
            other_root_crt().display()
        );
        assert!(psql_url_env(&url(&params), "SELECT 1", &env).is_err());
        let error = audit_error_env(&url(&params), &env).expect("refused like psql");
        assert!(error.contains("not signed by a CA"), "{error}");
    }

    /// libpq 16+ (the lab's psql is older, so the libpq manual is the reference):
    /// `sslrootcert=system` loads the system's CAs (OpenSSL's default store,
    /// moved with SSL_CERT_FILE) and forces verify-full.
    #[test]
    fn system_trusts_the_system_store_and_implies_verify_full() {
        let error = audit_error_env(
            &url("sslrootcert=system"),
            &[("SSL_CERT_FILE", "/nonexistent")],
        )
        .expect("refused: no system CA signed it");
        assert!(error.contains("not signed by a CA"), "{error}");
        let system = root_crt();
        let env = [("SSL_CERT_FILE", system.to_str().unwrap())];
        // The chain is now trusted; the host name (127.0.0.1, not the certificate's) is checked.
        let error = audit_error_env(&url("sslrootcert=system"), &env).expect("refused");
        assert!(error.contains("not issued for the host name"), "{error}");
    }

    #[test]
    fn system_with_a_weaker_sslmode_is_refused_as_libpq_16_does() {
        let error = audit_error("sslrootcert=system&sslmode=require").expect("refused");
        assert!(
            error.contains("sslrootcert=system") && error.contains("sslmode=verify-full"),
            "{error}"
        );
    }
}

mod client_certificates {
    //! A role that logs in only with a client certificate (pg_hba `hostssl …
    //! cert`), made the manual's way and signed by the server's root.

    use super::*;
    use support::pglab::CERT_USER;

    /// `client.crt`/`client.key` (+ `client.pkcs1.key`) for CERT_USER, and
    /// `stranger.*` for `auditor`, in the server's directory.
    fn certs() -> &'static Path {
        static MADE: OnceLock<()> = OnceLock::new();
        let dir = server().datadir.as_path();
        MADE.get_or_init(|| {
            let openssl = || Command::new("openssl");
            support::lab::client_cert(&openssl, dir, CERT_USER, "client");
            support::lab::client_cert(&openssl, dir, "auditor", "stranger");
        });
        dir
    }

    fn cert_url(params: &str) -> String {
        server().url_with(CERT_USER, "app", params)
    }

    fn error(params: &str) -> Option<String> {
        audit_error_env(&cert_url(params), &[])
    }

    fn with_cert(name: &str, key: &str) -> String {
        let dir = certs();
        format!(
            "sslmode=require&sslcert={}&sslkey={}",
            dir.join(format!("{name}.crt")).display(),
            dir.join(key).display()
        )
    }

    #[test]
    fn the_client_certificate_is_sent_and_accepted() {
        let params = with_cert("client", "client.key");
        psql_url(&cert_url(&params), "SELECT 1").expect("psql connects with it");
        assert_eq!(error(&params), None);
    }

    #[test]
    fn a_key_in_the_older_rsa_form_is_read_as_libpq_reads_it() {
        let params = with_cert("client", "client.pkcs1.key");
        let key = std::fs::read_to_string(certs().join("client.pkcs1.key")).unwrap();
        assert!(key.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        psql_url(&cert_url(&params), "SELECT 1").expect("psql connects with it");
        assert_eq!(error(&params), None);
    }

    /// libpq sends ~/.postgresql/postgresql.crt (with postgresql.key) when no
    /// sslcert is given.
    #[test]
    fn the_default_client_certificate_in_home_is_sent_as_libpq_sends_it() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".postgresql");
        std::fs::create_dir(&dir).unwrap();
        std::fs::copy(certs().join("client.crt"), dir.join("postgresql.crt")).unwrap();
        std::fs::copy(certs().join("client.pkcs1.key"), dir.join("postgresql.key")).unwrap();
        let env = [("HOME", home.path().to_str().unwrap())];
        let url = cert_url("sslmode=require");
        psql_url_env(&url, "SELECT 1", &env).expect("psql sends it");
        assert_eq!(audit_error_env(&url, &env), None);
    }

    #[test]
    fn without_a_client_certificate_the_error_names_sslcert_and_sslkey() {
        assert!(psql_url(&cert_url("sslmode=require"), "SELECT 1").is_err());
        let error = error("sslmode=require").expect("refused");
        assert!(error.contains("client certificate"), "{error}");
        assert!(error.contains("sslcert=PATH and sslkey=PATH"), "{error}");
    }

    #[test]
    fn a_certificate_for_another_user_is_named() {
        let params = with_cert("stranger", "stranger.key");
        assert!(psql_url(&cert_url(&params), "SELECT 1").is_err());
        let error = error(&params).expect("refused");
        assert!(
            error.contains("certificate authentication failed"),
            "{error}"
        );
        assert!(error.contains("common name"), "{error}");
    }

    #[test]
    fn an_unreadable_key_file_is_named_with_its_parameter() {
        let params = format!(
            "sslmode=require&sslcert={}&sslkey=/nonexistent/client.key",
            certs().join("client.crt").display()
        );
        let error = error(&params).expect("refused");
        assert!(
            error.contains("sslkey=/nonexistent/client.key cannot be read"),
            "{error}"
        );
    }
}

mod server_without_tls {
    //! A server with ssl = off: prefer and allow connect in plain text, as
    //! psql does; require and stronger refuse, naming sslmode.

    use super::*;

    fn server() -> &'static PgServer {
        static SERVER: OnceLock<PgServer> = OnceLock::new();
        SERVER.get_or_init(|| support::pglab::start_without_tls("tls_none"))
    }

    fn error(params: &str) -> Option<String> {
        audit_error_env(&server().url_with("auditor", "app", params), &[])
    }

    #[test]
    fn prefer_and_allow_fall_back_to_plaintext() {
        for mode in ["sslmode=prefer", "sslmode=allow"] {
            let url = server().url_with("auditor", "app", mode);
            psql_url(&url, "SELECT 1").expect("psql connects");
            assert_eq!(error(mode), None, "{mode}");
        }
    }

    #[test]
    fn require_says_the_server_offers_no_tls() {
        let url = server().url_with("auditor", "app", "sslmode=require");
        assert!(psql_url(&url, "SELECT 1").is_err());
        let error = error("sslmode=require").expect("refused");
        assert!(error.contains("offers no TLS"), "{error}");
        assert!(error.contains("sslmode=prefer"), "{error}");
    }
}
