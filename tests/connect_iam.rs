//! RDS IAM database authentication against a real PostgreSQL server that
//! accepts the token: moto's RDS API discovers an instance with IAM
//! authentication on, `--resolve` sends its endpoint to a throwaway
//! PostgreSQL (TLS, verify-full against the test's CA) whose pg_hba.conf
//! hands the IAM user's cleartext password to an LDAP server of the test
//! (tests/support/ldap_server.rs), which plays AWS's verifier: it binds the
//! user only if the password is a SigV4-presigned `connect` token for that
//! user at the instance's endpoint, signed with the account's secret key
//! (tests/support/rds_iam_token.rs). The real binary does the rest.
#![cfg(feature = "rds")]

#[path = "support/ldap_server.rs"]
mod ldap_server;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/rds_iam_token.rs"]
mod rds_iam_token;
mod support;

use chrono::{TimeZone, Utc};
use ldap_server::{Decision, LdapServer};
use rds_iam_token::{Expected, sdk_token, token_shape, verify};
use serde_json::Value;
use support::cli::{Kept, audit_keeping_everything, item};
use support::pglab;

/// The database user the IAM token logs in as.
const IAM_USER: &str = "iam_auditor";
/// moto's test credentials (tests/support/moto.rs), the key the verifier knows.
const ACCESS_KEY_ID: &str = "testing";
const SECRET_ACCESS_KEY: &str = "testing";
const REGION: &str = "us-west-2";
const TARGET: &str = "rds://us-west-2/db/pg-iam";

/// Seeds moto with one Multi-AZ PostgreSQL instance with IAM database
/// authentication; prints its endpoint `[host, port]`.
const SEED: &str = r#"
import sys, json, boto3
c = boto3.client("rds", region_name="us-west-2", endpoint_url=sys.argv[1],
                 aws_access_key_id="testing", aws_secret_access_key="testing")
c.create_db_instance(DBInstanceIdentifier="pg-iam", DBInstanceClass="db.m6g.large", AllocatedStorage=100,
                     Engine="postgres", EngineVersion="16.4", MasterUsername="dbadmin",
                     MasterUserPassword="not-a-secret-1", BackupRetentionPeriod=7, MultiAZ=True,
                     EnableIAMDatabaseAuthentication=True)
db = c.describe_db_instances(DBInstanceIdentifier="pg-iam")["DBInstances"][0]
print(json.dumps([db["Endpoint"]["Address"], db["Endpoint"]["Port"]]))
"#;

/// The verifier itself: the SDK's generator's published test vector and a
/// fresh token verify; any single changed byte, another user, another
/// instance, another region, another key and an expired token are refused.
#[test]
fn the_verifier_accepts_the_sdks_tokens_and_refuses_any_other() {
    // aws-sdk-rds's own test (src/auth_token.rs, `signing_works`): akid/secret,
    // 2024-08-26T22:00:00Z.
    let published = "prod-instance.us-east-1.rds.amazonaws.com:3306/?Action=connect&DBUser=peccy&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=akid%2F20240826%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=20240826T220000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=dd0cba843009474347af724090233265628ace491ea17ce3eb3da098b983ad89";
    let vector = Expected {
        authority: "prod-instance.us-east-1.rds.amazonaws.com:3306".into(),
        region: "us-east-1".into(),
        access_key_id: "akid".into(),
        secret_access_key: "secret".into(),
    };
    let then = Utc.with_ymd_and_hms(2024, 8, 26, 22, 1, 0).unwrap();
    assert_eq!(verify(published, "peccy", &vector, then), Ok(()));
    let wrong_secret = Expected {
        secret_access_key: "secreT".into(),
        ..vector.clone()
    };
    assert_eq!(
        verify(published, "peccy", &wrong_secret, then),
        Err("the signature does not match".into())
    );

    let expected = Expected {
        authority: "orders.c1.us-west-2.rds.amazonaws.com:5432".into(),
        region: REGION.into(),
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
    };
    let token = sdk_token(
        &expected.access_key_id,
        &expected.secret_access_key,
        "orders.c1.us-west-2.rds.amazonaws.com",
        5432,
        IAM_USER,
        REGION,
    );
    let now = Utc::now();
    assert_eq!(verify(&token, IAM_USER, &expected, now), Ok(()));
    // Longer than RADIUS's 128-octet User-Password (why the test uses LDAP).
    assert!(token.len() > 128, "{}", token.len());
    for (i, byte) in token.bytes().enumerate() {
        let mut changed = token.clone().into_bytes();
        changed[i] = if byte == b'a' { b'b' } else { b'a' };
        let changed = String::from_utf8(changed).expect("ASCII");
        assert!(
            verify(&changed, IAM_USER, &expected, now).is_err(),
            "byte {i} changed and still accepted: {changed}"
        );
    }
    let refused = |token: &str, user: &str, expected: &Expected, at| {
        verify(token, user, expected, at).expect_err("refused")
    };
    assert!(refused(&token, "someone_else", &expected, now).contains("DBUser"));
    let other_host = Expected {
        authority: "billing.c1.us-west-2.rds.amazonaws.com:5432".into(),
        ..expected.clone()
    };
    assert!(refused(&token, IAM_USER, &other_host, now).contains("signed for"));
    let other_port = Expected {
        authority: "orders.c1.us-west-2.rds.amazonaws.com:5433".into(),
        ..expected.clone()
    };
    assert!(refused(&token, IAM_USER, &other_port, now).contains("signed for"));
    let other_region = Expected {
        region: "eu-west-1".into(),
        ..expected.clone()
    };
    assert!(refused(&token, IAM_USER, &other_region, now).contains("credential scope"));
    let other_key = Expected {
        secret_access_key: "another-secret".into(),
        ..expected.clone()
    };
    assert!(refused(&token, IAM_USER, &other_key, now).contains("signature"));
    let later = now + chrono::Duration::seconds(rds_iam_token::MAX_EXPIRES_SECONDS + 61);
    assert!(refused(&token, IAM_USER, &expected, later).contains("expired"));
    let earlier = now - chrono::Duration::minutes(10);
    assert!(refused(&token, IAM_USER, &expected, earlier).contains("future"));
}

/// One `sqlready audit` of the fleet and what it left behind.
struct Audit {
    code: i32,
    stdout: String,
    stderr: String,
    report: Value,
    facts: Value,
    /// Every file the run wrote (facts, evidence bundle), concatenated.
    written: String,
    /// The binds the verifier answered during this run.
    binds: Vec<Decision>,
}

struct Fleet {
    /// pg-iam's API endpoint host name.
    host: String,
    /// Signed with moto's key: AWS (the verifier) accepts the token.
    accepted: Audit,
    /// Signed with another secret key: the verifier refuses the token.
    refused: Audit,
}

fn fleet() -> &'static Fleet {
    static FLEET: std::sync::OnceLock<Fleet> = std::sync::OnceLock::new();
    FLEET.get_or_init(run_fleet)
}

fn run_fleet() -> Fleet {
    let moto = moto::start();
    let (host, api_port): (String, u16) = moto.seed(SEED);
    let expected = Expected {
        authority: format!("{host}:{api_port}"),
        region: REGION.into(),
        access_key_id: ACCESS_KEY_ID.into(),
        secret_access_key: SECRET_ACCESS_KEY.into(),
    };
    let ldap = LdapServer::start(
        "cn=",
        ",ou=rds-iam",
        Box::new(move |user, password| verify(password, user, &expected, Utc::now())),
    );
    // The server's certificate names the API's host name (verify-full through
    // --resolve); the IAM user has no password of its own, as on RDS.
    let pg =
        pglab::start_manual_tls_with_hba("connect_iam", &host, false, &ldap.hba_line(IAM_USER));
    pg.psql(
        "postgres",
        &format!("CREATE ROLE {IAM_USER} LOGIN IN ROLE pg_monitor;"),
    );
    let ca = pg.datadir.join("root.crt");
    let rule = format!("{host}:{api_port}:127.0.0.1:{}", pg.port);
    let audit = |secret: &str| -> Audit {
        let dir = tempfile::tempdir().expect("temp dir");
        let before = ldap.decisions().len();
        let mut env: Vec<(&str, String)> = moto.env();
        env.extend([
            ("AWS_SECRET_ACCESS_KEY", secret.to_string()),
            // Every crate's debug log: it is grepped for the token too.
            ("RUST_LOG", "debug".to_string()),
        ]);
        let ca = ca.display().to_string();
        let Kept {
            run,
            written,
            facts,
        } = audit_keeping_everything(
            dir.path(),
            &[
                "rds://us-west-2",
                "--connect",
                "--connect-user",
                IAM_USER,
                "--connect-ca-file",
                ca.as_str(),
                "--resolve",
                rule.as_str(),
                "--connect-timeout",
                "10",
            ],
            &env,
            |_| true,
        );
        Audit {
            report: run.json(),
            facts,
            written,
            binds: ldap.decisions()[before..].to_vec(),
            code: run.code,
            stdout: run.stdout,
            stderr: run.stderr,
        }
    };
    Fleet {
        accepted: audit(SECRET_ACCESS_KEY),
        refused: audit("not-the-accounts-secret-key"),
        host,
    }
}

fn target(audit: &Audit) -> &Value {
    audit.report["targets"]
        .as_array()
        .and_then(|targets| targets.iter().find(|t| t["id"] == TARGET))
        .unwrap_or_else(|| panic!("no {TARGET} in {:#}", audit.report))
}

/// The in-database session's record in the target's `sources`.
fn session(target: &Value) -> &Value {
    &target["sources"][1]
}

/// The `connect` evidence record of the target in the saved facts.
fn connect_record(audit: &Audit) -> Value {
    audit.facts["targets"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["id"] == TARGET))
        .and_then(|t| t["evidence"].as_array())
        .and_then(|e| e.iter().find(|e| e["name"] == "connect"))
        .map(|e| e["response"].clone())
        .unwrap_or(Value::Null)
}

/// In-database items a session judges on this server and the API cannot.
const IN_DATABASE: &[&str] = &["durability", "connection_pooling"];

#[test]
fn a_real_postgres_server_accepts_the_iam_token_and_one_row_joins_both_sources() {
    let fleet = fleet();
    let run = &fleet.accepted;
    // The verifier bound the user with the token sqlready sent, for every
    // connection of the session (one per database it reads).
    assert!(!run.binds.is_empty(), "{}", run.stderr);
    for bind in &run.binds {
        assert_eq!(bind.user, IAM_USER);
        assert_eq!(bind.refused, None, "{}", run.stderr);
    }
    let bind = &run.binds[0];
    let sdk = sdk_token(
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        &fleet.host,
        5432,
        IAM_USER,
        REGION,
    );
    assert_eq!(
        token_shape(&bind.password),
        token_shape(&sdk),
        "sent {}\nSDK  {sdk}",
        bind.password
    );

    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    let t = target(run);
    assert_eq!(t["sources"].as_array().map(Vec::len), Some(2), "{t:#}");
    assert!(
        session(t).get("unreached").is_none() && session(t).get("error").is_none(),
        "{:#}\n{}",
        t["sources"],
        run.stderr
    );
    assert_eq!(t["principal"], IAM_USER, "{t:#}");
    // One row: multi_zone from the API (MultiAZ), the rest from inside.
    assert_eq!(item(t, "multi_zone"), "pass", "{t:#}");
    for key in IN_DATABASE {
        assert_ne!(item(t, key), "unknown", "{key}: {t:#}");
    }
    let record = connect_record(run);
    assert_eq!(
        record["authentication"], "RDS IAM database authentication token",
        "{record:#}"
    );
    assert_eq!(record["user"], IAM_USER, "{record:#}");
    assert_eq!(record["tls"], "VerifyFull", "{record:#}");
    assert_eq!(record["resolved"], true, "{record:#}");
    assert!(
        run.stderr
            .contains("connect: 1 of 1 instances reached from inside"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_token_aws_would_refuse_leaves_the_database_items_unknown_with_the_login_error() {
    let fleet = fleet();
    let run = &fleet.refused;
    assert!(!run.binds.is_empty(), "{}", run.stderr);
    for bind in &run.binds {
        assert_eq!(bind.user, IAM_USER);
        assert_eq!(
            bind.refused.as_deref(),
            Some("the signature does not match"),
            "{bind:?}"
        );
    }
    assert!(
        run.code == 0 || run.code == 1,
        "not a failed target: exit {}: {}",
        run.code,
        run.stderr
    );
    let t = target(run);
    assert!(t["error"].is_null(), "{t:#}");
    // The API's verdicts stand.
    assert_eq!(item(t, "multi_zone"), "pass", "{t:#}");
    assert_eq!(
        item(t, "multi_zone"),
        item(target(&fleet.accepted), "multi_zone")
    );
    let reason = session(t)["unreached"].as_str().unwrap_or_default();
    assert!(
        reason.contains("RDS IAM database authentication token")
            && reason.contains(&format!(
                "LDAP authentication failed for user \"{IAM_USER}\""
            )),
        "{reason}"
    );
    // What the accepted run judged from inside is unknown here, and says why.
    for key in IN_DATABASE {
        assert_eq!(item(t, key), "unknown", "{key}: {t:#}");
    }
    let pooling = t["findings"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["item"] == "connection_pooling" && f["status"] == "unknown")
        })
        .unwrap_or_else(|| panic!("no unknown connection_pooling finding: {t:#}"));
    let said = pooling.to_string();
    assert!(
        said.contains("the --connect session failed")
            && said.contains("LDAP authentication failed"),
        "{pooling:#}"
    );
    assert!(
        run.stderr
            .contains("connect: 0 of 1 instances reached from inside")
            && run.stderr.contains(&format!("{TARGET}: ")),
        "{}",
        run.stderr
    );
}

#[test]
fn no_iam_token_appears_in_any_output_log_report_or_bundle() {
    let fleet = fleet();
    for (name, run) in [("accepted", &fleet.accepted), ("refused", &fleet.refused)] {
        assert!(!run.binds.is_empty(), "{name}: no token reached the server");
        // What was grepped holds the session: its evidence, or why it failed.
        let recorded = if name == "accepted" {
            "\"connected_to\""
        } else {
            "LDAP authentication failed"
        };
        assert!(
            run.written.contains(recorded),
            "{name}: no {recorded} in the files"
        );
        assert!(
            run.stderr.contains("DEBUG"),
            "{name}: the log is at debug level: {}",
            run.stderr
        );
        for (what, text) in [
            ("stdout", &run.stdout),
            ("stderr (debug log)", &run.stderr),
            ("written files", &run.written),
        ] {
            assert!(!text.is_empty(), "{name}: {what} is empty");
            for bind in &run.binds {
                assert!(
                    !text.contains(&bind.password),
                    "{name}: {what} holds the token"
                );
                let signature = bind
                    .password
                    .split("X-Amz-Signature=")
                    .nth(1)
                    .expect("a signature");
                assert!(
                    !text.contains(signature),
                    "{name}: {what} holds the signature"
                );
            }
            for part in ["X-Amz-Signature", "Action=connect", "X-Amz-Credential"] {
                assert!(!text.contains(part), "{name}: {what} contains {part}");
            }
        }
    }
}
