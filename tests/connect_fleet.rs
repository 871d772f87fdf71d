//! `--connect` end to end: a fleet discovered through moto's RDS API and the
//! local Cloud SQL Admin API server, each instance's published address
//! redirected with `--resolve` (config `resolve`) to a real throwaway
//! PostgreSQL or MariaDB server of the labs (or a closed port), audited by the
//! real binary. Every output is grepped for the password and the tokens.
#![cfg(all(feature = "rds", feature = "cloudsql"))]

#[path = "support/cloudsql_server.rs"]
mod cloudsql_server;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/rds_iam_token.rs"]
mod rds_iam_token;
mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use support::cli::{Kept, audit_keeping_everything, files_under, item, sqlready_in};
use support::wire::{capture_password, closed_port};
use support::{mylab, pglab};

/// Seeds moto: in us-east-1 a Multi-AZ PostgreSQL primary and a PostgreSQL
/// instance nothing listens for; in us-east-2 a MariaDB primary and its read
/// replica; in us-west-2 one PostgreSQL instance with IAM database
/// authentication and one without. Prints each instance's endpoint as JSON.
const SEED: &str = r#"
import sys, json, boto3
def client(region):
    return boto3.client("rds", region_name=region, endpoint_url=sys.argv[1],
                        aws_access_key_id="testing", aws_secret_access_key="testing")
def make(c, name, engine, version, **kw):
    c.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.m6g.large", AllocatedStorage=100,
                         Engine=engine, EngineVersion=version, MasterUsername="dbadmin",
                         MasterUserPassword="not-a-secret-1", BackupRetentionPeriod=7, **kw)
east, east2, west = client("us-east-1"), client("us-east-2"), client("us-west-2")
make(east, "pg-main", "postgres", "16.4", MultiAZ=True)
make(east2, "my-main", "mariadb", "10.11.8")
east2.create_db_instance_read_replica(DBInstanceIdentifier="my-replica", SourceDBInstanceIdentifier="my-main")
make(east, "pg-down", "postgres", "16.4", MultiAZ=True)
make(west, "pg-iam", "postgres", "16.4", EnableIAMDatabaseAuthentication=True)
make(west, "pg-noiam", "postgres", "16.4")
out = {}
for c in (east, east2, west):
    for db in c.describe_db_instances()["DBInstances"]:
        out[db["DBInstanceIdentifier"]] = [db["Endpoint"]["Address"], db["Endpoint"]["Port"]]
print(json.dumps(out))
"#;

struct Fleet {
    report: Value,
    stdout: String,
    stderr: String,
    code: i32,
    /// Every file the run wrote (facts, evidence bundle), concatenated.
    written: String,
    /// The saved facts snapshot.
    facts: Value,
    /// The passwords the IAM instance's endpoint received.
    iam_passwords: Vec<String>,
    /// pg-iam's API host name.
    iam_host: String,
}

fn run_fleet() -> Fleet {
    let moto = moto::start();
    let endpoints: BTreeMap<String, (String, u16)> = moto.seed(SEED);
    let pg = &pglab::lab().good;
    let my = mylab::lab();
    let closed = closed_port();
    let (capture, iam_passwords) = capture_password();
    let to = |name: &str, port: u16| {
        let (host, api_port) = &endpoints[name];
        format!("\"{host}:{api_port}:127.0.0.1:{port}\"")
    };
    let resolve = [
        to("pg-main", pg.port),
        to("my-main", my.good.port),
        to("my-replica", my.replica.port),
        to("pg-down", closed),
        to("pg-iam", capture),
        to("pg-noiam", pg.port),
        // Cloud SQL pg-good's private IP (tests/fixtures/cloudsql/instances/pg-good.json).
        format!("\"10.20.0.5:5432:127.0.0.1:{}\"", pg.port),
    ];
    let config = format!(
        r#"[audit]
resolve = [{}]

[[targets]]
cloud = "rds://us-east-1"
connect = true
connect_user = "auditor"
connect_password_env = "FLEET_DB_PASSWORD"

[[targets]]
cloud = "rds://us-east-2"
connect = true
connect_user = "auditor"
connect_password_file = "mariadb-password"
# The lab's replica offers no TLS.
connect_sslmode = "prefer"

[[targets]]
cloud = "rds://us-west-2"
connect = true
connect_user = "auditor"
# The capturing endpoint speaks no TLS (RDS requires it for IAM users).
connect_sslmode = "prefer"

[[targets]]
cloud = "cloudsql://acme-prod/pg-good"
connect = true
connect_user = "auditor"
connect_password_env = "FLEET_DB_PASSWORD"
"#,
        resolve.join(", ")
    );
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("sqlready.toml"), config).expect("write config");
    // As a mounted secret holds it: with a trailing newline.
    std::fs::write(
        dir.path().join("mariadb-password"),
        format!("{}\n", mylab::LAB_PASSWORD),
    )
    .expect("write the password file");
    let api = cloudsql_server::Server::start(cloudsql_server::scenario_routes(), Duration::ZERO);
    let mut env: Vec<(&str, String)> = moto.env();
    env.extend([
        ("FLEET_DB_PASSWORD", pglab::LAB_PASSWORD.to_string()),
        ("SQLREADY_CLOUDSQL_ENDPOINT", api.url.clone()),
        ("SQLREADY_GOOGLE_OAUTH_ENDPOINT", api.url.clone()),
        (
            "GOOGLE_OAUTH_ACCESS_TOKEN",
            cloudsql_server::TOKEN.to_string(),
        ),
        ("GCE_METADATA_HOST", "127.0.0.1:9".to_string()),
        // No RDS CA bundle to be had: us-east-1's sessions are encrypted, not verified.
        (
            "SQLREADY_RDS_TRUSTSTORE_URL",
            format!("http://127.0.0.1:{closed}"),
        ),
    ]);
    // The password file the config names is the test's own, not the run's output.
    let Kept {
        run,
        written,
        facts,
    } = audit_keeping_everything(dir.path(), &["--connect-timeout", "5"], &env, |file| {
        !file.ends_with("mariadb-password")
    });
    let report = run.json();
    Fleet {
        report,
        stdout: run.stdout,
        stderr: run.stderr,
        code: run.code,
        written,
        facts,
        iam_passwords: iam_passwords.lock().map(|p| p.clone()).unwrap_or_default(),
        iam_host: endpoints["pg-iam"].0.clone(),
    }
}

fn fleet() -> &'static Fleet {
    static FLEET: std::sync::OnceLock<Fleet> = std::sync::OnceLock::new();
    FLEET.get_or_init(run_fleet)
}

fn target<'a>(fleet: &'a Fleet, id: &str) -> &'a Value {
    fleet.report["targets"]
        .as_array()
        .and_then(|targets| targets.iter().find(|t| t["id"] == id))
        .unwrap_or_else(|| panic!("no target {id} in {:#}", fleet.report["targets"]))
}

/// The in-database session's record in a target's `sources`.
fn session(target: &Value) -> &Value {
    &target["sources"][1]
}

#[test]
fn reachable_instances_are_one_target_fed_by_the_api_and_the_database() {
    let fleet = fleet();
    assert!(
        fleet.code == 0 || fleet.code == 1,
        "an unreached --connect session is not a failed target (exit {}):\n{}",
        fleet.code,
        fleet.stderr
    );
    for id in [
        "rds://us-east-1/db/pg-main",
        "rds://us-east-2/db/my-main",
        "rds://us-east-2/db/my-replica",
        "cloudsql://acme-prod/pg-good",
    ] {
        let t = target(fleet, id);
        assert_eq!(t["sources"].as_array().map(Vec::len), Some(2), "{t:#}");
        assert!(
            session(t).get("unreached").is_none() && session(t).get("error").is_none(),
            "{id}: {:#}",
            t["sources"]
        );
        assert_eq!(t["principal"], "auditor", "{id}");
    }
    // One row, both halves: multi_zone from the API (MultiAZ), cdc from inside
    // (wal_level, slots) — neither source alone judges both.
    let main = target(fleet, "rds://us-east-1/db/pg-main");
    assert_eq!(item(main, "multi_zone"), "pass", "{main:#}");
    assert_ne!(item(main, "cdc"), "unknown", "{main:#}");
    assert_ne!(item(main, "durability"), "unknown", "{main:#}");
    // MariaDB: the engine came from the API and the session spoke MySQL.
    let my = target(fleet, "rds://us-east-2/db/my-main");
    assert_eq!(my["engine"], "mariadb", "{my:#}");
    assert_ne!(item(my, "slow_queries"), "unknown", "{my:#}");
    let replica = target(fleet, "rds://us-east-2/db/my-replica");
    assert_eq!(replica["role"], "replica", "{replica:#}");
    assert!(
        fleet
            .stderr
            .contains("connect: 4 of 7 instances reached from inside"),
        "{}",
        fleet.stderr
    );
}

#[test]
fn an_unreachable_instance_keeps_its_api_verdicts_and_says_why_the_rest_is_unknown() {
    let fleet = fleet();
    let down = target(fleet, "rds://us-east-1/db/pg-down");
    assert!(down["error"].is_null(), "{down:#}");
    assert_eq!(item(down, "multi_zone"), "pass", "{down:#}");
    // The API's own backup verdicts stand (the item itself may stay unknown: AWS Backup is not
    // served in this fleet).
    let retention = down["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["check"] == "backups.retention"))
        .map(|f| f["status"].clone());
    assert_eq!(retention, Some(serde_json::json!("pass")), "{down:#}");
    assert_eq!(item(down, "connection_pooling"), "unknown", "{down:#}");
    let unreached = session(down)["unreached"].as_str().unwrap_or_default();
    assert!(
        unreached.contains("Endpoint.Address") && unreached.contains("127.0.0.1"),
        "{unreached}"
    );
    let text = down.to_string();
    assert!(
        text.contains("the --connect session failed"),
        "the unknown items say why: {down:#}"
    );
    assert!(
        fleet.stderr.contains("rds://us-east-1/db/pg-down: "),
        "{}",
        fleet.stderr
    );
}

#[test]
fn iam_authentication_is_tried_where_enabled_and_said_where_not() {
    let fleet = fleet();
    // The token was generated and sent as auditor's password.
    let iam = target(fleet, "rds://us-west-2/db/pg-iam");
    let reason = session(iam)["unreached"].as_str().unwrap_or_default();
    assert!(
        reason.contains("RDS IAM database authentication token")
            && reason.contains("token captured by the test"),
        "{reason}"
    );
    assert_eq!(fleet.iam_passwords.len(), 1, "{:?}", fleet.iam_passwords);
    let sent = &fleet.iam_passwords[0];
    // The SDK's own generator, same credentials, host, port and user: the
    // tokens differ only in X-Amz-Date and X-Amz-Signature.
    let expected = rds_iam_token::sdk_token(
        "testing",
        "testing",
        &fleet.iam_host,
        5432,
        "auditor",
        "us-west-2",
    );
    // Byte for byte as the SDK makes it (a `%2F` stays `%2F` on the wire).
    assert_eq!(
        rds_iam_token::token_shape(sent),
        rds_iam_token::token_shape(&expected),
        "sent {sent}\nSDK  {expected}"
    );
    assert!(
        sent.starts_with(&format!(
            "{}:5432/?Action=connect&DBUser=auditor&",
            fleet.iam_host
        )),
        "{sent}"
    );
    let off = target(fleet, "rds://us-west-2/db/pg-noiam");
    let reason = session(off)["unreached"].as_str().unwrap_or_default();
    assert!(
        reason.contains("IAMDatabaseAuthenticationEnabled = false"),
        "{reason}"
    );
    assert_eq!(item(off, "multi_zone"), "fail", "{off:#}");
}

#[test]
fn no_password_or_token_appears_in_any_output() {
    let fleet = fleet();
    for (what, text) in [
        ("stdout", &fleet.stdout),
        ("stderr", &fleet.stderr),
        ("written files", &fleet.written),
    ] {
        assert!(!text.is_empty() || what == "stderr", "{what} is empty");
        for secret in [
            pglab::LAB_PASSWORD,
            mylab::LAB_PASSWORD,
            cloudsql_server::TOKEN,
            "X-Amz-Signature",
            "Action=connect",
            "X-Amz-Credential",
        ] {
            assert!(!text.contains(secret), "{what} contains {secret}");
        }
    }
    assert!(
        fleet.written.contains("\"connected_to\""),
        "the evidence records each session"
    );
}

/// The MariaDB source cannot see its replica's delay; the replica audited in
/// the same run names it (Source_Host:Source_Port = the address the source was
/// reached at), so the source's replicas.connected comes from the replica.
#[test]
fn a_mariadb_replica_of_the_run_completes_its_sources_replicas_item() {
    let fleet = fleet();
    let facts = fleet.facts["targets"]
        .as_array()
        .and_then(|targets| {
            targets
                .iter()
                .find(|t| t["id"] == "rds://us-east-2/db/my-main")
        })
        .unwrap_or_else(|| panic!("no my-main in the facts: {:#}", fleet.facts));
    let connected = &facts["facts"]["replicas.connected"];
    assert!(
        connected["origin"]
            .as_str()
            .is_some_and(|o| o.contains("rds://us-east-2/db/my-replica")),
        "{connected:#}"
    );
    assert_eq!(
        connected["value"][0]["name"],
        "rds://us-east-2/db/my-replica"
    );
    let main = target(fleet, "rds://us-east-2/db/my-main");
    let lag = main["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["check"] == "replicas.lag"))
        .expect("replicas.lag finding");
    assert_eq!(lag["status"], "pass", "{lag:#}");
}

/// Usage errors, before any connection: --connect without a cloud target, a
/// malformed --resolve, a connect flag without --connect.
#[test]
fn connect_usage_errors_exit_2_and_say_what_to_write() {
    for (args, expected) in [
        (
            vec!["audit", "postgres://a@127.0.0.1:9/x", "--connect"],
            "--connect applies to cloud targets",
        ),
        (
            vec![
                "audit",
                "rds://us-east-1",
                "--connect",
                "--resolve",
                "db:5432",
            ],
            "HOST:PORT:ADDR",
        ),
        (
            vec!["audit", "rds://us-east-1", "--connect-user", "u"],
            "--connect",
        ),
    ] {
        let run = support::cli::sqlready(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
    }
}

/// A local stand-in for `truststore.pki.rds.amazonaws.com`: `PATH` → the PEM
/// it serves (404 for any other path); keeps every path asked for.
fn bundle_server(
    bundles: Vec<(String, String)>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // The headers, up to the empty line.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            keep.lock().expect("lock").push(path.clone());
            let answer = match bundles.iter().find(|(p, _)| *p == path) {
                Some((_, pem)) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{pem}",
                    pem.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string(),
            };
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (url, asked)
}

/// Seeds moto with PostgreSQL instances in three regions; prints their endpoints.
const SEED_CA: &str = r#"
import sys, json, boto3
out = {}
for region, names in (("us-east-1", ["pg-ca", "pg-ca-2"]), ("eu-west-1", ["pg-other-ca"]),
                      ("us-west-2", ["pg-no-bundle", "pg-no-bundle-2"])):
    c = boto3.client("rds", region_name=region, endpoint_url=sys.argv[1],
                     aws_access_key_id="testing", aws_secret_access_key="testing")
    for name in names:
        c.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.m6g.large", AllocatedStorage=20,
                             Engine="postgres", EngineVersion="16.4", MasterUsername="dbadmin",
                             MasterUserPassword="not-a-secret-1")
    for db in c.describe_db_instances()["DBInstances"]:
        out[db["DBInstanceIdentifier"]] = [db["Endpoint"]["Address"], db["Endpoint"]["Port"]]
print(json.dumps(out))
"#;

/// RDS publishes its CA bundle per region, not through the API: `--connect`
/// downloads it once per region (here from a local stand-in) and verifies the
/// server's certificate and host name (verify-full) through `--resolve`. A
/// bundle without the signing CA refuses the server and says which bundle; a
/// region whose bundle cannot be had is encrypted, not verified, said once;
/// `--connect-ca-file` wins over the download.
#[test]
fn the_rds_ca_bundle_is_downloaded_once_per_region_and_verifies_the_server() {
    let moto = moto::start();
    let endpoints: BTreeMap<String, (String, u16)> = moto.seed(SEED_CA);
    let host = |name: &str| endpoints[name].0.clone();
    // A real PostgreSQL server whose certificate names pg-ca's API host name,
    // signed by a CA of the test's own.
    let server = pglab::start_manual_tls("connect_rds_ca", &host("pg-ca"), false);
    let ca = std::fs::read_to_string(server.datadir.join("root.crt")).expect("root.crt");
    let other_dir = tempfile::tempdir().expect("temp dir");
    support::lab::manual_ca_signed_certs(
        &|| std::process::Command::new("openssl"),
        other_dir.path(),
        "another-ca",
    );
    let other_path = other_dir.path().join("root.crt");
    let other = std::fs::read_to_string(&other_path).expect("other root.crt");
    let (truststore, asked) = bundle_server(vec![
        (
            "/us-east-1/us-east-1-bundle.pem".into(),
            format!("{other}{ca}"),
        ),
        ("/eu-west-1/eu-west-1-bundle.pem".into(), other.clone()),
    ]);
    let closed = closed_port();
    let resolve = |name: &str, port: u16| format!("{}:5432:127.0.0.1:{port}", host(name));
    let rules = [
        resolve("pg-ca", server.port),
        resolve("pg-ca-2", closed),
        resolve("pg-other-ca", server.port),
        resolve("pg-no-bundle", server.port),
        resolve("pg-no-bundle-2", server.port),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let mut env: Vec<(&str, String)> = moto.env();
    env.extend([
        ("CA_TEST_PASSWORD", pglab::LAB_PASSWORD.to_string()),
        ("SQLREADY_RDS_TRUSTSTORE_URL", truststore.clone()),
        ("HOME", dir.path().display().to_string()),
        ("NO_PROXY", "*".to_string()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let audit = |targets: &[&str], extra: &[&str]| {
        let mut args: Vec<&str> = vec!["audit"];
        args.extend(targets);
        args.extend([
            "--connect",
            "--connect-user",
            "auditor",
            "--connect-password-env",
            "CA_TEST_PASSWORD",
            "--connect-timeout",
            "5",
            "--format",
            "json",
            "--save-facts",
            "facts.json",
        ]);
        for rule in &rules {
            args.extend(["--resolve", rule.as_str()]);
        }
        args.extend(extra);
        let run = sqlready_in(dir.path(), &args, &env);
        let facts: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("facts.json")).unwrap_or_default(),
        )
        .unwrap_or(Value::Null);
        (run, facts)
    };
    let connect_record = |facts: &Value, id: &str| -> Value {
        facts["targets"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["id"] == id))
            .and_then(|t| t["evidence"].as_array())
            .and_then(|e| e.iter().find(|e| e["name"] == "connect"))
            .map(|e| e["response"].clone())
            .unwrap_or(Value::Null)
    };

    let (run, facts) = audit(
        &["rds://us-east-1", "rds://eu-west-1", "rds://us-west-2"],
        &[],
    );
    let report = run.json();
    let find = |id: &str| -> Value {
        report["targets"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("no {id}: {}", run.stdout))
    };
    // Verified: the bundle holds the CA, the certificate names the API's host.
    let reached = find("rds://us-east-1/db/pg-ca");
    assert!(
        session(&reached).get("unreached").is_none(),
        "{:#}\n{}",
        reached["sources"],
        run.stderr
    );
    let record = connect_record(&facts, "rds://us-east-1/db/pg-ca");
    assert_eq!(record["tls"], "VerifyFull", "{record:#}");
    assert!(
        record["server_ca"]
            .as_str()
            .is_some_and(|s| s.contains("/us-east-1/us-east-1-bundle.pem")),
        "{record:#}"
    );
    // Refused: the region's bundle lacks the CA that signed the certificate.
    let refused = find("rds://eu-west-1/db/pg-other-ca");
    let reason = session(&refused)["unreached"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        reason.contains("certificate") && reason.contains("eu-west-1-bundle.pem"),
        "{reason}"
    );
    // No bundle to be had: encrypted, not verified, said once for the region.
    for id in [
        "rds://us-west-2/db/pg-no-bundle",
        "rds://us-west-2/db/pg-no-bundle-2",
    ] {
        let t = find(id);
        assert!(
            session(&t).get("unreached").is_none(),
            "{id}: {:#}",
            t["sources"]
        );
        let record = connect_record(&facts, id);
        assert_eq!(record["tls"], "Require", "{record:#}");
        assert!(
            record["server_ca"]
                .as_str()
                .is_some_and(|s| s.contains("not verified") && s.contains("HTTP 404")),
            "{record:#}"
        );
    }
    assert_eq!(
        run.stderr
            .matches("the RDS CA bundle of us-west-2 could not be had")
            .count(),
        1,
        "{}",
        run.stderr
    );
    // Once per region, though us-east-1 and us-west-2 have two instances each.
    let mut paths = asked.lock().expect("lock").clone();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/eu-west-1/eu-west-1-bundle.pem",
            "/us-east-1/us-east-1-bundle.pem",
            "/us-west-2/us-west-2-bundle.pem"
        ],
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains(pglab::LAB_PASSWORD) && !run.stderr.contains(pglab::LAB_PASSWORD));

    // An explicit CA file wins: no download, and the other CA refuses the server.
    let other_arg = other_path.display().to_string();
    let (run, _) = audit(
        &["rds://us-east-1"],
        &["--connect-ca-file", other_arg.as_str()],
    );
    let report = run.json();
    let t = report["targets"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["id"] == "rds://us-east-1/db/pg-ca"))
        .cloned()
        .expect("pg-ca");
    let reason = session(&t)["unreached"].as_str().unwrap_or_default();
    assert!(
        reason.contains("certificate") && reason.contains(&other_arg),
        "{reason}"
    );
    assert_eq!(asked.lock().expect("lock").len(), 3, "no new download");

    // A password file that cannot be read is read once and said once, for
    // both instances of the region.
    let missing = dir.path().join("no-such-password").display().to_string();
    let mut args = vec![
        "audit",
        "rds://us-west-2",
        "--connect",
        "--connect-password-file",
        missing.as_str(),
        "--format",
        "json",
    ];
    for rule in &rules {
        args.extend(["--resolve", rule.as_str()]);
    }
    let run = sqlready_in(dir.path(), &args, &env);
    assert_eq!(
        run.stderr.matches("cannot read password file").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("rds://us-west-2/db/pg-no-bundle, rds://us-west-2/db/pg-no-bundle-2: "),
        "{}",
        run.stderr
    );
}

/// A Cloud SQL instance answer for `--connect`: `base` (a fixture) renamed,
/// at a private IP, with IAM database authentication on and the server's CA
/// as `serverCaCert`.
fn iam_instance(base: &str, name: &str, ip: &str, flag: &str, ca_pem: &str) -> Value {
    let mut answer = cloudsql_server::fixture_json(&format!("instances/{base}.json"));
    answer["name"] = Value::from(name);
    answer["connectionName"] = Value::from(format!("acme-prod:us-central1:{name}"));
    answer["selfLink"] = Value::from(format!(
        "https://sqladmin.googleapis.com/v1/projects/acme-prod/instances/{name}"
    ));
    answer["replicaNames"] = serde_json::json!([]);
    answer["ipAddresses"] = serde_json::json!([{"type": "PRIVATE", "ipAddress": ip}]);
    let flags = answer["settings"]["databaseFlags"]
        .as_array_mut()
        .expect("databaseFlags");
    flags.push(serde_json::json!({"name": flag, "value": "on"}));
    answer["serverCaCert"]["cert"] = Value::from(ca_pem);
    answer
}

/// Cloud SQL IAM database authentication end to end: real servers whose users
/// are named as Cloud SQL names IAM principals (PostgreSQL: a service account's
/// email without `.gserviceaccount.com`, a user account's whole email; MySQL:
/// the part before `@`), each with the run's OAuth access token as password.
/// No user is named: sqlready derives it from the run's principal (token info)
/// and logs in with the token over TLS verified against the API's serverCaCert.
#[test]
fn cloud_sql_iam_users_log_in_with_the_runs_access_token() {
    let pg = pglab::start_manual_tls("connect_cloudsql_iam", "acme-prod:pg-iam", false);
    pg.psql(
        "postgres",
        &format!(
            r#"CREATE ROLE "auditor@acme-prod.iam" LOGIN PASSWORD '{}' IN ROLE pg_monitor;
               CREATE ROLE "dana@acme.example" LOGIN PASSWORD '{}' IN ROLE pg_monitor;"#,
            cloudsql_server::TOKEN,
            cloudsql_server::USER_TOKEN
        ),
    );
    let my = mylab::start_manual_tls("connect_cloudsql_iam_my", "acme-prod:my-iam", false);
    my.sql(&format!(
        "CREATE USER 'dana'@'%' IDENTIFIED BY '{}';
         GRANT PROCESS, REPLICATION CLIENT, SELECT ON *.* TO 'dana'@'%';",
        cloudsql_server::USER_TOKEN
    ));
    let pem = |path: std::path::PathBuf| std::fs::read_to_string(path).expect("root.crt");
    let mut routes = cloudsql_server::scenario_routes();
    let base = "/v1/projects/acme-prod/instances";
    routes.add(
        format!("{base}/pg-iam"),
        vec![cloudsql_server::Reply::json(&iam_instance(
            "pg-good",
            "pg-iam",
            "10.20.0.9",
            "cloudsql.iam_authentication",
            &pem(pg.datadir.join("root.crt")),
        ))],
    );
    routes.add(
        format!("{base}/my-iam"),
        vec![cloudsql_server::Reply::json(&iam_instance(
            "mysql-good",
            "my-iam",
            "10.20.0.10",
            "cloudsql_iam_authentication",
            &pem(my.root.join("root.crt")),
        ))],
    );
    let api = cloudsql_server::Server::start(routes, Duration::ZERO);
    let dir = tempfile::tempdir().expect("temp dir");
    let pg_rule = format!("10.20.0.9:5432:127.0.0.1:{}", pg.port);
    let my_rule = format!("10.20.0.10:3306:127.0.0.1:{}", my.port);
    let audit = |token: &str, targets: &[&str], bundle: &str| {
        let env = [
            ("SQLREADY_CLOUDSQL_ENDPOINT", api.url.as_str()),
            ("SQLREADY_GOOGLE_OAUTH_ENDPOINT", api.url.as_str()),
            ("GOOGLE_OAUTH_ACCESS_TOKEN", token),
            ("GCE_METADATA_HOST", "127.0.0.1:9"),
            ("HOME", &dir.path().display().to_string()),
            ("NO_PROXY", "*"),
        ];
        let mut args = vec!["audit"];
        args.extend(targets);
        args.extend([
            "--connect",
            "--resolve",
            pg_rule.as_str(),
            "--resolve",
            my_rule.as_str(),
            "--connect-timeout",
            "5",
            "--format",
            "json",
            "--evidence",
            bundle,
        ]);
        let run = sqlready_in(dir.path(), &args, &env);
        for secret in [cloudsql_server::TOKEN, cloudsql_server::USER_TOKEN] {
            assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
            for file in files_under(dir.path()) {
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                assert!(!text.contains(secret), "{} holds a token", file.display());
            }
        }
        run
    };
    let reached_as = |run: &support::cli::Run, id: &str| -> String {
        let report = run.json();
        let t = report["targets"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("no {id}: {}", run.stdout));
        assert!(
            session(&t).get("unreached").is_none() && session(&t).get("error").is_none(),
            "{id}: {:#}\n{}",
            t["sources"],
            run.stderr
        );
        t["principal"].as_str().unwrap_or_default().to_string()
    };
    // A service account (token info names auditor@acme-prod.iam.gserviceaccount.com).
    let run = audit(
        cloudsql_server::TOKEN,
        &["cloudsql://acme-prod/pg-iam"],
        "bundle-service-account",
    );
    assert_eq!(
        reached_as(&run, "cloudsql://acme-prod/pg-iam"),
        "auditor@acme-prod.iam"
    );
    // A user account (dana@acme.example): the whole email on PostgreSQL, the
    // part before @ on MySQL.
    let run = audit(
        cloudsql_server::USER_TOKEN,
        &["cloudsql://acme-prod/pg-iam", "cloudsql://acme-prod/my-iam"],
        "bundle-user",
    );
    assert_eq!(
        reached_as(&run, "cloudsql://acme-prod/pg-iam"),
        "dana@acme.example"
    );
    assert_eq!(reached_as(&run, "cloudsql://acme-prod/my-iam"), "dana");
}

/// A PostgreSQL primary audited with a role without pg_read_all_stats sees
/// its standby's pg_stat_replication row but not its state or lag; the
/// standby audited in the same run names the primary (pg_stat_wal_receiver
/// sender_host:sender_port) and completes the primary's replicas facts. Real
/// primary and standby, streaming over TCP.
#[test]
fn a_postgres_standby_of_the_run_completes_its_primarys_hidden_replicas() {
    let primary = pglab::scratch("join_primary", &[]);
    let standby = pglab::start_tcp_standby("join_standby", &primary);
    let dir = tempfile::tempdir().expect("temp dir");
    let primary_url = primary.url("plain", "postgres");
    let standby_url = standby.url("auditor", "postgres");
    let audit = |targets: &[&str]| -> Value {
        let mut args = vec!["audit"];
        args.extend(targets);
        args.extend(["--format", "json", "--save-facts", "facts.json"]);
        let run = sqlready_in(dir.path(), &args, &[]);
        assert!(
            run.code == 0 || run.code == 1,
            "exit {}: {}",
            run.code,
            run.stderr
        );
        serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("facts.json")).expect("facts"),
        )
        .expect("facts JSON")
    };
    let primary_id = format!("postgres://127.0.0.1:{}/postgres", primary.port);
    let standby_id = format!("postgres://127.0.0.1:{}/postgres", standby.port);
    let facts_of = |facts: &Value, id: &str| -> Value {
        facts["targets"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["id"] == id))
            .map(|t| t["facts"].clone())
            .unwrap_or_else(|| panic!("no {id} in {facts:#}"))
    };
    // Alone, the primary cannot tell.
    let alone = audit(&[&primary_url]);
    let connected = &facts_of(&alone, &primary_id)["replicas.connected"];
    assert!(connected["value"].is_null(), "{connected:#}");
    // With its standby in the run, it can.
    let both = audit(&[&primary_url, &standby_url]);
    let standby_facts = facts_of(&both, &standby_id);
    assert_eq!(
        standby_facts["upstream.source"]["value"],
        format!("127.0.0.1:{}", primary.port),
        "{standby_facts:#}"
    );
    let primary_facts = facts_of(&both, &primary_id);
    let connected = &primary_facts["replicas.connected"];
    assert_eq!(
        connected["value"][0]["name"],
        standby_id.as_str(),
        "{connected:#}"
    );
    assert_eq!(connected["value"][0]["state"], "streaming", "{connected:#}");
    assert!(
        connected["origin"]
            .as_str()
            .is_some_and(|o| o.contains(&standby_id)),
        "{connected:#}"
    );
    assert_eq!(
        primary_facts["replicas.count"]["value"], 1,
        "{primary_facts:#}"
    );
}
