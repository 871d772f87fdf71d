//! `--connect` on Aurora clusters: the cluster is one target reached at its
//! writer endpoint, and each reader is also reached at its own instance
//! endpoint. moto serves two aurora-postgresql clusters (a writer and two
//! readers; a writer and one reader); `--resolve` sends each writer endpoint
//! to a real PostgreSQL primary, the reachable readers to its real streaming
//! standby, and one reader to a closed port. Every output is grepped for the
//! password.
#![cfg(feature = "rds")]

#[path = "support/moto.rs"]
mod moto;
mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use support::cli::{Kept, audit_keeping_everything, item};
use support::pglab;
use support::wire::{capture_password, closed_port};

/// Seeds moto with two aurora-postgresql clusters in us-east-1: `ledger`
/// (writer ledger-1, readers ledger-2 and ledger-3) and `books` (writer
/// books-1, reader books-2); and in us-west-2 `vault` (writer vault-1, reader
/// vault-2) with IAM database authentication. Prints each cluster's writer
/// endpoint and each instance's endpoint as JSON.
const SEED: &str = r#"
import sys, json, boto3
c = boto3.client("rds", region_name="us-east-1", endpoint_url=sys.argv[1],
                 aws_access_key_id="testing", aws_secret_access_key="testing")
for cluster, members in (("ledger", ["ledger-1", "ledger-2", "ledger-3"]), ("books", ["books-1", "books-2"])):
    c.create_db_cluster(DBClusterIdentifier=cluster, Engine="aurora-postgresql", EngineVersion="16.4",
                        MasterUsername="dbadmin", MasterUserPassword="not-a-secret-1",
                        BackupRetentionPeriod=7)
    for i, name in enumerate(members):
        c.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.r6g.large",
                             Engine="aurora-postgresql", DBClusterIdentifier=cluster,
                             AvailabilityZone=["us-east-1a", "us-east-1b", "us-east-1c"][i])
west = boto3.client("rds", region_name="us-west-2", endpoint_url=sys.argv[1],
                    aws_access_key_id="testing", aws_secret_access_key="testing")
west.create_db_cluster(DBClusterIdentifier="vault", Engine="aurora-postgresql", EngineVersion="16.4",
                       MasterUsername="dbadmin", MasterUserPassword="not-a-secret-1",
                       EnableIAMDatabaseAuthentication=True)
for name in ("vault-1", "vault-2"):
    west.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.r6g.large",
                            Engine="aurora-postgresql", DBClusterIdentifier="vault")
out = {}
for cl in c.describe_db_clusters()["DBClusters"] + west.describe_db_clusters()["DBClusters"]:
    out[cl["DBClusterIdentifier"]] = [cl["Endpoint"], cl["Port"]]
    writers = [m["DBInstanceIdentifier"] for m in cl["DBClusterMembers"] if m["IsClusterWriter"]]
    out[cl["DBClusterIdentifier"] + ":writer"] = [writers[0], 0]
for db in c.describe_db_instances()["DBInstances"] + west.describe_db_instances()["DBInstances"]:
    out[db["DBInstanceIdentifier"]] = [db["Endpoint"]["Address"], db["Endpoint"]["Port"]]
print(json.dumps(out))
"#;

struct Run {
    report: Value,
    facts: Value,
    stdout: String,
    stderr: String,
    code: i32,
    /// Every file the run wrote (facts, evidence bundle), concatenated.
    written: String,
    /// ledger-3's API host name (its reader endpoint points at a closed port).
    unreachable_host: String,
    /// The passwords vault's endpoints received, and their API host names
    /// (the writer endpoint, the reader's instance endpoint).
    iam_passwords: Vec<String>,
    iam_hosts: (String, String),
}

fn run_clusters() -> Run {
    let moto = moto::start();
    let endpoints: BTreeMap<String, (String, u16)> = moto.seed(SEED);
    // moto makes the first instance of a cluster its writer.
    assert_eq!(endpoints["ledger:writer"].0, "ledger-1");
    assert_eq!(endpoints["books:writer"].0, "books-1");
    let primary = pglab::scratch("readers_writer", &[]);
    let standby = pglab::start_tcp_standby("readers_standby", &primary);
    let closed = closed_port();
    let (capture, iam_passwords) = capture_password();
    let to = |name: &str, port: u16| {
        let (host, api_port) = &endpoints[name];
        format!("\"{host}:{api_port}:127.0.0.1:{port}\"")
    };
    let resolve = [
        to("ledger", primary.port),
        to("ledger-2", standby.port),
        to("ledger-3", closed),
        to("books", primary.port),
        to("books-2", standby.port),
        to("vault", capture),
        to("vault-2", capture),
    ];
    let config = format!(
        r#"[audit]
resolve = [{}]

[[targets]]
cloud = "rds://us-east-1"
connect = true
connect_user = "auditor"
connect_password_env = "READERS_DB_PASSWORD"
# The lab's scratch servers offer no TLS.
connect_sslmode = "prefer"

# No password named: IAM tokens, signed for each endpoint's own host name.
[[targets]]
cloud = "rds://us-west-2"
connect = true
connect_user = "auditor"
connect_sslmode = "prefer"
"#,
        resolve.join(", ")
    );
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("sqlready.toml"), config).expect("write config");
    let mut env: Vec<(&str, String)> = moto.env();
    env.extend([
        ("READERS_DB_PASSWORD", pglab::LAB_PASSWORD.to_string()),
        (
            "SQLREADY_RDS_TRUSTSTORE_URL",
            format!("http://127.0.0.1:{closed}"),
        ),
    ]);
    let Kept {
        run,
        written,
        facts,
    } = audit_keeping_everything(dir.path(), &["--connect-timeout", "5"], &env, |_| true);
    let report = run.json();
    Run {
        report,
        facts,
        stdout: run.stdout,
        stderr: run.stderr,
        code: run.code,
        written,
        unreachable_host: endpoints["ledger-3"].0.clone(),
        iam_passwords: iam_passwords.lock().map(|p| p.clone()).unwrap_or_default(),
        iam_hosts: (endpoints["vault"].0.clone(), endpoints["vault-2"].0.clone()),
    }
}

fn clusters() -> &'static Run {
    static RUN: std::sync::OnceLock<Run> = std::sync::OnceLock::new();
    RUN.get_or_init(run_clusters)
}

fn target<'a>(run: &'a Run, id: &str) -> &'a Value {
    run.report["targets"]
        .as_array()
        .and_then(|targets| targets.iter().find(|t| t["id"] == id))
        .unwrap_or_else(|| panic!("no target {id} in {:#}", run.report["targets"]))
}

fn facts_of<'a>(run: &'a Run, id: &str) -> &'a Value {
    run.facts["targets"]
        .as_array()
        .and_then(|targets| targets.iter().find(|t| t["id"] == id))
        .map(|t| &t["facts"])
        .unwrap_or_else(|| panic!("no {id} in the facts: {:#}", run.facts))
}

fn evidence_of<'a>(run: &'a Run, id: &str, name: &str) -> &'a Value {
    run.facts["targets"]
        .as_array()
        .and_then(|targets| targets.iter().find(|t| t["id"] == id))
        .and_then(|t| t["evidence"].as_array())
        .and_then(|e| e.iter().find(|e| e["name"] == name))
        .map(|e| &e["response"])
        .unwrap_or_else(|| panic!("no {name} evidence on {id}"))
}

fn finding<'a>(target: &'a Value, check: &str) -> &'a Value {
    target["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["check"] == check))
        .unwrap_or_else(|| panic!("no {check} finding: {target:#}"))
}

#[test]
fn a_cluster_is_one_target_reached_at_its_writer() {
    let run = clusters();
    assert!(
        run.code == 0 || run.code == 1,
        "an unreached reader is not a failed target (exit {}):\n{}",
        run.code,
        run.stderr
    );
    let ids: Vec<&str> = run.report["targets"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        ids.iter().filter(|id| id.contains("/db/")).count(),
        0,
        "members are audited as their cluster: {ids:?}"
    );
    for id in [
        "rds://us-east-1/cluster/ledger",
        "rds://us-east-1/cluster/books",
    ] {
        assert_eq!(ids.iter().filter(|t| **t == id).count(), 1, "{ids:?}");
        let t = target(run, id);
        assert_eq!(t["role"], "cluster", "{t:#}");
        assert_eq!(t["sources"].as_array().map(Vec::len), Some(2), "{t:#}");
        assert!(
            t["sources"][1].get("unreached").is_none(),
            "the writer is reached: {:#}",
            t["sources"]
        );
        assert!(t["error"].is_null(), "{t:#}");
    }
    assert!(
        run.stderr.contains(
            "connect: 2 of 3 instances reached from inside; cluster readers: 2 of 4 reached"
        ),
        "{}",
        run.stderr
    );
}

/// ledger: the writer's pg_stat_replication lists one standby for two
/// readers (and Aurora readers never appear there), so the readers' own
/// readings decide: ledger-2 (a real standby) completes replicas.connected;
/// ledger-3 (a closed port) is named with its error and leaves the lag
/// unknown — no pass that did not look at it.
#[test]
fn a_reached_reader_completes_the_replicas_item_and_an_unreached_one_is_named() {
    let run = clusters();
    let id = "rds://us-east-1/cluster/ledger";
    let facts = facts_of(run, id);
    let connected = &facts["replicas.connected"];
    let rows = connected["value"].as_array().expect("known rows");
    assert_eq!(rows.len(), 1, "{connected:#}");
    assert_eq!(
        rows[0]["name"], "rds://us-east-1/db/ledger-2",
        "{connected:#}"
    );
    assert_eq!(rows[0]["state"], "streaming", "{connected:#}");
    assert!(rows[0]["replay_lag_seconds"].is_number(), "{connected:#}");
    let origin = connected["origin"].as_str().unwrap_or_default();
    assert!(
        origin.contains("rds://us-east-1/db/ledger-2") && origin.contains("reader ledger-3"),
        "{origin}"
    );
    // The writer's own reading (its one WAL sender) is kept beside it.
    assert_eq!(
        connected["disagreements"][0]["source"], "postgres",
        "{connected:#}"
    );
    let lag = &facts["replicas.max_replay_lag_seconds"];
    assert!(lag["value"].is_null(), "{lag:#}");
    let why = lag["unknown"].as_str().unwrap_or_default();
    assert!(
        why.contains("reader ledger-3")
            && why.contains(&run.unreachable_host)
            && why.contains("127.0.0.1"),
        "{lag:#}"
    );
    let t = target(run, id);
    let lag = finding(t, "replicas.lag");
    assert_eq!(lag["status"], "unknown", "{lag:#}");
    assert!(
        lag["detail"]
            .as_str()
            .is_some_and(|d| d.contains("ledger-3")),
        "{lag:#}"
    );
    // The API's readers count (Aurora readers replicate through the volume).
    assert_eq!(facts["replicas.count"]["source"], "rds", "{facts:#}");
    assert_eq!(facts["replicas.count"]["value"], 2, "{facts:#}");
    assert_eq!(item(t, "multi_zone"), "pass", "{t:#}");
    // Each reader in the evidence: the one reached with how, the other with why not.
    let readers = evidence_of(run, id, "connect.readers");
    assert_eq!(readers[0]["reader"], "rds://us-east-1/db/ledger-2");
    assert_eq!(readers[0]["reached"], true);
    assert_eq!(readers[0]["session"]["user"], "auditor");
    assert_eq!(readers[1]["reader"], "rds://us-east-1/db/ledger-3");
    assert_eq!(readers[1]["reached"], false);
    assert!(
        readers[1]["not_read"]
            .as_str()
            .is_some_and(|w| w.contains("reader ledger-3")),
        "{readers:#}"
    );
    assert!(
        run.stderr
            .contains(&format!("rds://us-east-1/db/ledger-3 (reader of {id}): ")),
        "{}",
        run.stderr
    );
}

/// books: its one reader is read, so the largest lag is known and judged.
#[test]
fn a_cluster_whose_every_reader_is_read_is_judged_on_their_lag() {
    let run = clusters();
    let id = "rds://us-east-1/cluster/books";
    let facts = facts_of(run, id);
    assert!(
        facts["replicas.max_replay_lag_seconds"]["value"].is_number(),
        "{:#}",
        facts["replicas.max_replay_lag_seconds"]
    );
    assert_eq!(
        facts["replicas.connected"]["value"][0]["name"],
        "rds://us-east-1/db/books-2"
    );
    let t = target(run, id);
    assert_eq!(finding(t, "replicas.lag")["status"], "pass", "{t:#}");
    // The writer's settings stay the writer's: the primary is not in recovery.
    assert_ne!(item(t, "durability"), "unknown", "{t:#}");
}

#[test]
fn no_password_appears_in_any_output() {
    let run = clusters();
    for (what, text) in [
        ("stdout", &run.stdout),
        ("stderr", &run.stderr),
        ("written files", &run.written),
    ] {
        assert!(!text.is_empty(), "{what} is empty");
        for secret in [
            pglab::LAB_PASSWORD,
            "X-Amz-Signature",
            "Action=connect",
            "X-Amz-Credential",
        ] {
            assert!(!text.contains(secret), "{what} contains {secret}");
        }
    }
    assert!(
        run.written.contains("\"connect.readers\""),
        "the evidence bundle records the readers"
    );
}

/// Without a named password, each session signs its own IAM token: the
/// writer's for the cluster endpoint, the reader's for its own instance
/// endpoint (the host name RDS checks the signature against).
#[test]
fn each_reader_gets_an_iam_token_for_its_own_host() {
    let run = clusters();
    let (writer, reader) = &run.iam_hosts;
    let mut sent: Vec<&str> = run
        .iam_passwords
        .iter()
        .map(|token| token.split("/?").next().unwrap_or_default())
        .collect();
    sent.sort();
    let mut expected = vec![format!("{writer}:5432"), format!("{reader}:5432")];
    expected.sort();
    assert_eq!(sent, expected, "{:?}", run.iam_passwords);
    for token in &run.iam_passwords {
        assert!(
            token.contains("/?Action=connect&DBUser=auditor&")
                && token.contains("X-Amz-Signature="),
            "{token}"
        );
    }
    // Both refused: the cluster keeps its API verdicts and names the reader.
    let id = "rds://us-west-2/cluster/vault";
    let t = target(run, id);
    assert!(t["error"].is_null(), "{t:#}");
    let readers = evidence_of(run, id, "connect.readers");
    let why = readers[0]["not_read"].as_str().unwrap_or_default();
    assert!(
        why.contains("RDS IAM database authentication token")
            && why.contains("token captured by the test"),
        "{readers:#}"
    );
    assert_eq!(finding(t, "replicas.lag")["status"], "unknown", "{t:#}");
}
