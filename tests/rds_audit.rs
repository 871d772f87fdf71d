//! `sqlready audit rds://…` against a moto server seeded with a fleet (see
//! tests/fixtures/rds/seed.py), through the real binary and the real
//! aws-sdk-rds client, reached via AWS_ENDPOINT_URL. moto is not AWS (it
//! reports a restorable time with retention 0, has no lifecycle API, omits
//! Performance Insights): the semantics are also unit-tested on typed
//! fixtures in src/sources/rds/facts/tests.rs.
#![cfg(feature = "rds")]

#[path = "support/aws_backup_server.rs"]
mod aws_backup_server;
#[path = "support/moto.rs"]
mod moto;
mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use support::cli::{
    Run, assert_items, files_under, finding, item, only_target, sqlready_with_env, status,
};

/// What moto's STS says the static test credentials are.
const MOTO_CALLER: &str = "arn:aws:sts::123456789012:user/moto";

/// The endpoint for what moto lacks (the CA list, engine versions, AWS Backup), in front of moto.
fn gaps(mode: aws_backup_server::Mode) -> &'static str {
    static SERVE: std::sync::OnceLock<aws_backup_server::Server> = std::sync::OnceLock::new();
    static DENY: std::sync::OnceLock<aws_backup_server::Server> = std::sync::OnceLock::new();
    static DENY_RESTORES: std::sync::OnceLock<aws_backup_server::Server> =
        std::sync::OnceLock::new();
    static PAGED_BUDGETS: std::sync::OnceLock<aws_backup_server::Server> =
        std::sync::OnceLock::new();
    let cell = match mode {
        aws_backup_server::Mode::Serve => &SERVE,
        aws_backup_server::Mode::Deny => &DENY,
        aws_backup_server::Mode::DenyRestores => &DENY_RESTORES,
        aws_backup_server::Mode::PagedBudgets => &PAGED_BUDGETS,
    };
    &cell
        .get_or_init(|| aws_backup_server::start(mode, &moto::moto().endpoint))
        .endpoint
}

fn audit(args: &[&str], extra_env: &[(&str, &str)]) -> Run {
    let mut env = moto::moto().env();
    let front = gaps(aws_backup_server::Mode::Serve).to_string();
    env.push(("AWS_ENDPOINT_URL_RDS", front.clone()));
    env.push(("AWS_ENDPOINT_URL_BACKUP", front));
    let mut pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    pairs.extend_from_slice(extra_env);
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    sqlready_with_env(&all, &pairs)
}

fn audit_json(args: &[&str]) -> Value {
    let run = audit(args, &[]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}\n{}",
        run.code,
        run.stderr,
        run.stdout
    );
    run.json()
}

fn targets_by_id(report: &Value) -> BTreeMap<String, Value> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| (t["id"].as_str().unwrap().to_string(), t.clone()))
        .collect()
}

/// `total=12 DescribeDBInstances=10 …` from the -v log line, as a map.
fn api_calls(stderr: &str) -> BTreeMap<String, u64> {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.contains("rds API calls so far:"))
        .unwrap_or_else(|| panic!("no API call summary in stderr:\n{stderr}"));
    let summary = line.split("rds API calls so far:").nth(1).unwrap();
    summary
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect()
}

#[test]
fn a_good_postgres_instance_passes_what_the_api_can_tell() {
    let report = audit_json(&["rds://us-east-1/db/pg-good"]);
    let target = only_target(&report);
    assert_eq!(target["id"], "rds://us-east-1/db/pg-good");
    assert_eq!(target["kind"], "rds");
    assert_eq!(target["role"], "primary");
    assert_eq!(target["engine"], "postgres");
    assert_eq!(
        target["resource"],
        "arn:aws:rds:us-east-1:123456789012:db:pg-good"
    );
    assert_items(
        target,
        &[
            "multi_zone",
            "pitr",
            "cdc",
            "disk_autogrow",
            "network_security",
            "deletion_protection",
            "encryption",
            "version_support",
        ],
        "pass",
    );
    assert_eq!(status(target, "replicas.present"), "pass");
    // Its replica was described on its own (an instance target) and is available.
    assert_eq!(status(target, "replicas.healthy"), "pass");
    assert_eq!(status(target, "backups.retention"), "pass");
    assert_eq!(status(target, "backups.rds_cross_region"), "warn");
    assert_eq!(status(target, "slow_queries.rds_log_min_duration"), "pass");
    assert_eq!(status(target, "slow_queries.rds_log_export"), "pass");
    assert_eq!(status(target, "monitoring.rds_enhanced_monitoring"), "pass");
    // rds.force_ssl is not in the custom group: the PostgreSQL 15 default (on) applies, and says so.
    let tls = finding(target, "network.rds_tls_required");
    assert_eq!(tls["status"], "pass", "{tls:#}");
    // Seeded with EnablePerformanceInsights; the pinned moto (tests/requirements.txt) echoes it.
    let insights = finding(target, "slow_queries.rds_performance_insights");
    assert_eq!(insights["status"], "pass", "{insights:#}");
    // Alarms are read from CloudWatch (issue 12): none watches it, so the RDS check
    // fails naming the metrics; the generic Terraform/Cloud SQL check steps aside.
    assert_eq!(status(target, "monitoring.alerting"), "n/a");
    let alarms = finding(target, "monitoring.rds_cloudwatch_alarms");
    assert_eq!(alarms["status"], "fail", "{alarms:#}");
    assert!(
        alarms
            .to_string()
            .contains("no CloudWatch alarm with an action watches FreeStorageSpace"),
        "{alarms:#}"
    );
    // Audit logging is judged from the parameter groups, as in Terraform (issue 15):
    // the group does not preload pgaudit (PostgreSQL's default: pg_stat_statements only).
    let audit = finding(target, "audit.rds_database_audit");
    assert_eq!(audit["status"], "fail", "{audit:#}");
    assert!(
        audit["detail"]
            .as_str()
            .unwrap()
            .contains("shared_preload_libraries"),
        "{audit:#}"
    );
    // Whose KMS key: only KMS DescribeKey tells; advice left unknown does not lower the item.
    let key = finding(target, "encryption.customer_managed_key");
    assert_eq!(key["status"], "unknown", "{key:#}");
    assert_eq!(key["advisory"], true, "{key:#}");
    // In-database checks do not apply to an API-only target.
    assert_eq!(item(target, "durability"), "n/a");
    assert_eq!(target["items"].as_object().unwrap().len(), 21);
}

#[test]
fn a_bad_mysql_instance_fails_and_retention_zero_means_no_pitr() {
    let report = audit_json(&["rds://us-east-1/db/mysql-bad"]);
    let target = only_target(&report);
    assert_eq!(target["engine"], "mysql");
    assert_items(
        target,
        &[
            "multi_zone",
            "backups",
            "pitr",
            "cdc",
            "disk_autogrow",
            "network_security",
            "deletion_protection",
            "encryption",
            "slow_queries",
        ],
        "fail",
    );
    // MySQL 8.0 passed its upstream end of life, but RDS enrols it in paid Extended Support
    // by default (moto echoes no EngineLifecycleSupport). moto has no lifecycle API, so
    // RDS's published calendar (shipped with sqlready) dates it: security fixes continue
    // until 2029-07-31 — never a false "no more security fixes" — and the charge warns.
    let supported = finding(target, "version.supported");
    assert_eq!(supported["status"], "pass", "{supported:#}");
    assert!(
        supported["detail"]
            .as_str()
            .unwrap()
            .contains("paid extended support until 2029-07-31"),
        "{supported:#}"
    );
    let standard = finding(target, "version.rds_standard_support");
    assert_eq!(standard["status"], "warn", "{standard:#}");
    assert!(
        standard["detail"].as_str().unwrap().contains("vCPU-hour"),
        "{standard:#}"
    );
    // Created without Performance Insights: moto echoes it off, so the check warns rather than stays unknown.
    assert_eq!(
        status(target, "slow_queries.rds_performance_insights"),
        "warn"
    );
    // moto reports a LatestRestorableTime even with retention 0: it is not judged.
    assert_eq!(status(target, "pitr.rds_restorable_recent"), "n/a");
    let cdc = finding(target, "cdc.rds_binlog_row");
    assert!(
        cdc["detail"]
            .as_str()
            .unwrap()
            .contains("automated backups"),
        "{cdc:#}"
    );
    assert_eq!(status(target, "network.no_public_ip"), "fail");
    assert_eq!(status(target, "network.rds_tls_required"), "fail");
}

#[test]
fn a_good_mysql_instance_reads_its_custom_parameter_group() {
    let report = audit_json(&["rds://us-east-1/db/mysql-good"]);
    let target = only_target(&report);
    assert_eq!(status(target, "cdc.rds_binlog_row"), "pass");
    assert_eq!(status(target, "network.rds_tls_required"), "pass");
    assert_eq!(status(target, "slow_queries.rds_slow_query_log"), "pass");
    assert_eq!(status(target, "slow_queries.rds_log_export"), "pass");
}

#[test]
fn a_read_replica_has_no_backups_or_replicas_to_judge() {
    let report = audit_json(&["rds://us-east-1/db/pg-good-replica"]);
    let target = only_target(&report);
    assert_eq!(target["role"], "replica");
    assert_eq!(item(target, "backups"), "n/a");
    assert_eq!(item(target, "pitr"), "n/a");
    assert_eq!(status(target, "replicas.present"), "n/a");
    assert_eq!(status(target, "deletion_protection.enabled"), "n/a");
    // moto sends no StatusInfos: replication state is unknown, never assumed.
    assert_eq!(
        status(target, "replicas.rds_replication_running"),
        "unknown"
    );
}

#[test]
fn an_aurora_cluster_is_one_target_judged_on_the_cluster() {
    let report = audit_json(&["rds://us-east-1/cluster/orders-aurora"]);
    let target = only_target(&report);
    assert_eq!(target["id"], "rds://us-east-1/cluster/orders-aurora");
    assert_eq!(target["role"], "cluster");
    assert_eq!(target["engine"], "postgres");
    // Members in us-east-1a and us-east-1b: a reader to fail over to, in another zone.
    assert_eq!(item(target, "multi_zone"), "pass");
    let replicas = finding(target, "replicas.present");
    assert_eq!(replicas["status"], "pass");
    assert_eq!(replicas["evidence"]["replicas.count"], 1);
    assert_items(
        target,
        &[
            "backups",
            "pitr",
            "disk_autogrow",
            "deletion_protection",
            "encryption",
        ],
        "pass",
    );
    // rds.logical_replication from the cluster parameter group.
    assert_eq!(status(target, "cdc.rds_logical_replication"), "pass");
    // Aurora PostgreSQL 15 does not force TLS by default.
    assert_eq!(status(target, "network.rds_tls_required"), "fail");
}

#[test]
fn a_cluster_member_asked_by_id_is_audited_as_its_cluster() {
    let run = audit(&["rds://us-east-1/db/orders-aurora-2"], &[]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        only_target(&report)["id"],
        "rds://us-east-1/cluster/orders-aurora"
    );
    assert!(
        run.stderr.contains("member of DB cluster orders-aurora"),
        "{}",
        run.stderr
    );
}

#[test]
fn discovery_lists_instances_and_clusters_once_and_reads_each_group_once() {
    let run = audit(&["-v", "rds://us-east-1"], &[]);
    assert_eq!(run.code, 1, "findings fail: {}", run.stderr);
    let report = run.json();
    let targets = targets_by_id(&report);
    let ids: Vec<&str> = targets.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        [
            "rds://us-east-1/cluster/orders-aurora",
            "rds://us-east-1/db/mysql-bad",
            "rds://us-east-1/db/mysql-good",
            "rds://us-east-1/db/pg-good",
            "rds://us-east-1/db/pg-good-replica",
            "rds://us-east-1/db/pg-reports",
        ],
        "cluster members are not targets of their own"
    );
    assert!(
        report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("error").is_none())
    );
    let calls = api_calls(&run.stderr);
    assert_eq!(calls["DescribeDBInstances"], 1, "{calls:?}");
    assert_eq!(calls["DescribeDBClusters"], 1, "{calls:?}");
    // Who ran it: asked once per run, stamped on every target.
    assert_eq!(calls["GetCallerIdentity"], 1, "{calls:?}");
    for (id, target) in &targets {
        assert_eq!(target["principal"], MOTO_CALLER, "{id}");
    }
    // pg15-good (shared by two instances and the replica) and mysql80-good; default groups need no call.
    assert_eq!(calls["DescribeDBParameters"], 2, "{calls:?}");
    assert_eq!(calls["DescribeDBClusterParameters"], 1, "{calls:?}");
    // moto has no lifecycle API: asked once, then the embedded table, and the log says so.
    assert!(calls["DescribeDBMajorEngineVersions"] <= 2, "{calls:?}");
    assert!(
        run.stderr.contains("embedded end-of-life table"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_page_is_read_and_several_regions_make_one_run() {
    let run = audit(
        &["-v", "rds://eu-west-1", "rds://us-east-1/db/pg-good"],
        &[("SQLREADY_RDS_PAGE_SIZE", "20")],
    );
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = run.json();
    let targets = targets_by_id(&report);
    let fleet = targets
        .keys()
        .filter(|id| id.starts_with("rds://eu-west-1/db/fleet-"))
        .count();
    assert_eq!(fleet, 45, "{:?}", targets.keys());
    assert!(targets.contains_key("rds://us-east-1/db/pg-good"));
    let calls = api_calls(&run.stderr);
    // 45 instances in pages of 20 (3 calls) + one describe for pg-good + one for its read
    // replica (listed replicas are described: only working ones count).
    assert_eq!(calls["DescribeDBInstances"], 5, "{calls:?}");
    // Two regions, one caller.
    assert_eq!(calls["GetCallerIdentity"], 1, "{calls:?}");
}

#[test]
fn an_unknown_instance_is_an_error_for_that_target_only() {
    let run = audit(
        &[
            "rds://us-east-1/db/does-not-exist",
            "rds://us-east-1/db/pg-good",
        ],
        &[],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let targets = targets_by_id(&report);
    let missing = &targets["rds://us-east-1/db/does-not-exist"];
    assert!(
        missing["error"].as_str().unwrap().contains("not found"),
        "{missing:#}"
    );
    assert_eq!(targets["rds://us-east-1/db/pg-good"]["role"], "primary");
}

#[test]
fn facts_and_evidence_are_saved_with_their_origin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("facts.json");
    let run = audit(
        &[
            "rds://us-east-1/db/pg-good",
            "--save-facts",
            path.to_str().unwrap(),
        ],
        &[],
    );
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let snapshot: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let target = &snapshot["targets"][0];
    let facts = &target["facts"];
    assert_eq!(facts["backups.retention_days"]["value"], 14);
    assert_eq!(facts["backups.retention_days"]["source"], "rds");
    assert!(
        facts["rds.parameters.logical_replication"]["origin"]
            .as_str()
            .unwrap()
            .contains("pg15-good")
    );
    assert!(
        facts["rds.version.lifecycle_source"]["value"]
            .as_str()
            .unwrap()
            .contains("embedded")
    );
    let evidence = target["evidence"].as_array().unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e["name"] == "DescribeDBInstances" && e["response"]["MultiAZ"] == true)
    );
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("not-a-secret")
    );
}

#[test]
fn the_evidence_names_the_aws_caller() {
    const SECRET: &str = "sqlready-test-secret-7d41c9";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("facts.json");
    let bundle = dir.path().join("bundle");
    let run = audit(
        &[
            "rds://us-east-1/db/pg-good",
            "--save-facts",
            path.to_str().unwrap(),
            "--evidence",
            bundle.to_str().unwrap(),
        ],
        &[("AWS_SECRET_ACCESS_KEY", SECRET)],
    );
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert_eq!(only_target(&run.json())["principal"], MOTO_CALLER);
    let snapshot: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let target = &snapshot["targets"][0];
    assert_eq!(target["principal"], MOTO_CALLER);
    let lookup = target["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "GetCallerIdentity")
        .unwrap_or_else(|| panic!("{:#}", target["evidence"]));
    assert_eq!(lookup["response"]["Arn"], MOTO_CALLER);
    assert_eq!(lookup["response"]["Account"], "123456789012");
    // The bundle's run record says who ran it, and keeps the raw answer.
    let run_record: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        run_record["principals"],
        serde_json::json!([{"target": "rds://us-east-1/db/pg-good", "source": "rds", "principal": MOTO_CALLER}])
    );
    let raw = std::fs::read_dir(bundle.join("targets/01-rds-us-east-1-db-pg-good/raw"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    assert!(
        raw.iter()
            .any(|name| name.ends_with("rds-GetCallerIdentity.json")),
        "{raw:?}"
    );
    // The secret key is nowhere in the bundle, the facts or the output.
    let mut files = files_under(&bundle);
    files.push(path.clone());
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "{}",
            file.display()
        );
    }
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET));
}

#[test]
fn an_unreachable_sts_leaves_the_caller_unnamed_but_audits() {
    // STS alone points at a closed port: RDS answers, the caller cannot be asked.
    let run = audit(
        &["rds://us-east-1/db/pg-good"],
        &[
            ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9"),
            ("AWS_MAX_ATTEMPTS", "1"),
        ],
    );
    assert!(
        matches!(run.code, 0 | 1),
        "the findings decide the exit, not STS: {}",
        run.stderr
    );
    let report = run.json();
    let target = only_target(&report);
    assert!(target.get("error").is_none(), "{target:#}");
    assert!(target.get("principal").is_none(), "{target:#}");
    assert_eq!(item(target, "multi_zone"), "pass");
    assert!(
        run.stderr.contains("will not name the AWS caller")
            && run.stderr.contains("sts:GetCallerIdentity failed")
            && run.stderr.contains("Connection refused"),
        "{}",
        run.stderr
    );
}

/// An Aurora reader that is not serving (stopped here, the state moto can set) is listed by
/// the cluster but does not count: with no other reader, replicas.present fails and
/// replicas.healthy names it. Its own moto server: the shared fleet stays untouched.
#[test]
fn a_stopped_aurora_reader_is_not_a_replica() {
    let own = moto::start();
    let script = r#"
import sys, boto3
c = boto3.client("rds", region_name="us-east-1", endpoint_url=sys.argv[1],
                 aws_access_key_id="testing", aws_secret_access_key="testing")
c.create_db_cluster(DBClusterIdentifier="ledger", Engine="aurora-postgresql", EngineVersion="15.4",
                    MasterUsername="dbadmin", MasterUserPassword="not-a-secret-1")
for name in ["ledger-1", "ledger-2"]:
    c.create_db_instance(DBInstanceIdentifier=name, DBClusterIdentifier="ledger",
                         Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")
reader = [m for m in c.describe_db_clusters(DBClusterIdentifier="ledger")["DBClusters"][0]["DBClusterMembers"]
          if not m["IsClusterWriter"]][0]["DBInstanceIdentifier"]
c.stop_db_instance(DBInstanceIdentifier=reader)
print(reader)
"#;
    let output = std::process::Command::new(moto::python())
        .args(["-c", script, &own.endpoint])
        .output()
        .expect("seed the cluster");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reader = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let env = own.env();
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = sqlready_with_env(
        &[
            "audit",
            "rds://us-east-1/cluster/ledger",
            "--format",
            "json",
        ],
        &pairs,
    );
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = run.json();
    let target = only_target(&report);
    assert_eq!(status(target, "replicas.present"), "fail", "{target:#}");
    let healthy = finding(target, "replicas.healthy");
    assert_eq!(healthy["status"], "fail", "{healthy:#}");
    let detail = healthy["detail"].as_str().unwrap();
    assert!(
        detail.contains(&reader) && detail.contains("DBInstanceStatus is stopped"),
        "{detail}"
    );
}

/// Issue 21's fleet, through the binary: each Prowler-parity finding right and named.
#[test]
fn prowler_parity_findings_are_right_and_named() {
    let report = audit_json(&["rds://ap-southeast-2"]);
    let targets = targets_by_id(&report);
    let get = |id: &str| {
        targets
            .get(&format!("rds://ap-southeast-2/db/{id}"))
            .unwrap_or_else(|| panic!("{id} not audited: {:?}", targets.keys()))
    };

    // A CA that expires in 40 days: warn, named, with the date; not a failure yet.
    let expiring = get("pg-ca-expiring");
    let warn = finding(expiring, "network.server_ca_expiring");
    assert_eq!(warn["status"], "warn", "{warn:#}");
    let detail = warn["detail"].as_str().unwrap();
    assert!(
        detail.contains(aws_backup_server::EXPIRING_CA) && detail.contains("day(s) from now"),
        "{detail}"
    );
    assert_eq!(status(expiring, "network.server_ca_valid"), "pass");
    // Its event subscription sends every category.
    assert_eq!(
        status(expiring, "monitoring.rds_event_subscriptions"),
        "pass"
    );

    // rds-ca-2019: retired, a failure.
    let retired = finding(get("pg-ca-2019"), "network.server_ca_valid");
    assert_eq!(retired["status"], "fail", "{retired:#}");
    assert!(
        retired["detail"].as_str().unwrap().contains("rds-ca-2019"),
        "{retired:#}"
    );

    // AutoMinorVersionUpgrade off on 15.2, which the engine-version list no longer offers.
    let old = get("pg-old-minor");
    let auto = finding(old, "version.rds_auto_minor_upgrade");
    assert_eq!(auto["status"], "warn", "{auto:#}");
    assert!(
        auto["detail"].as_str().unwrap().contains("15.12"),
        "{auto:#}"
    );
    let minor = finding(old, "version.rds_minor_offered");
    assert_eq!(minor["status"], "warn", "{minor:#}");
    assert!(
        minor["detail"]
            .as_str()
            .unwrap()
            .contains("no longer offered"),
        "{minor:#}"
    );
    let events = finding(old, "monitoring.rds_event_subscriptions");
    assert_eq!(events["status"], "warn", "{events:#}");
    assert!(
        events["detail"].as_str().unwrap().contains("low storage"),
        "{events:#}"
    );
    assert_eq!(
        status(get("pg-ca-expiring"), "version.rds_minor_offered"),
        "pass"
    );

    // Automated backups off, but an AWS Backup plan selects it: backups pass, and say why.
    let covered = get("pg-aws-backup");
    let enabled = finding(covered, "backups.enabled");
    assert_eq!(enabled["status"], "pass", "{enabled:#}");
    assert_eq!(status(covered, "backups.retention"), "pass");
    let plan = finding(covered, "backups.rds_aws_backup");
    assert_eq!(plan["status"], "pass", "{plan:#}");
    assert!(
        plan["detail"]
            .as_str()
            .unwrap()
            .contains("daily-rds/rds-by-arn"),
        "{plan:#}"
    );
    assert_eq!(item(covered, "backups"), "pass");
    // The others are not in the plan: judged by their automated backups alone.
    assert_eq!(status(old, "backups.rds_aws_backup"), "n/a");
}

/// The new reads are region-wide: once per region per run, never per instance.
#[test]
fn region_wide_reads_are_made_once_per_region() {
    let run = audit(&["rds://ap-southeast-2", "-v"], &[]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let calls = api_calls(&run.stderr);
    assert_eq!(calls["DescribeCertificates"], 1, "{calls:?}");
    assert_eq!(calls["DescribeEventSubscriptions"], 1, "{calls:?}");
    // One engine (postgres), one page.
    assert_eq!(calls["DescribeDBEngineVersions"], 1, "{calls:?}");
    assert_eq!(calls["backup:ListBackupPlans"], 1, "{calls:?}");
    // One plan with three selections (by ARN, by ListOfTags, by Conditions).
    assert_eq!(calls["backup:GetBackupSelection"], 3, "{calls:?}");
    // Two pages of protected resources, two of restore jobs.
    assert_eq!(calls["backup:ListProtectedResources"], 2, "{calls:?}");
    assert_eq!(calls["backup:ListRestoreJobs"], 2, "{calls:?}");
    // The region's restore events (instance and snapshot events), and its
    // snapshots once (an event names a manual snapshot).
    assert_eq!(calls["DescribeEvents"], 2, "{calls:?}");
    assert_eq!(calls["DescribeDBSnapshots"], 1, "{calls:?}");
}

/// AWS Backup refusing: the instance that only AWS Backup could vouch for is unknown,
/// naming the permission; one warning for the run; the other findings are unchanged.
#[test]
fn aws_backup_denied_makes_backups_unknown_with_the_permission() {
    let deny = gaps(aws_backup_server::Mode::Deny).to_string();
    let run = audit(
        &["rds://ap-southeast-2"],
        &[("AWS_ENDPOINT_URL_BACKUP", deny.as_str())],
    );
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = run.json();
    let targets = targets_by_id(&report);
    let covered = &targets["rds://ap-southeast-2/db/pg-aws-backup"];
    let enabled = finding(covered, "backups.enabled");
    assert_eq!(enabled["status"], "unknown", "{enabled:#}");
    assert!(
        enabled.to_string().contains("backup:ListBackupPlans"),
        "{enabled:#}"
    );
    // Automated backups on: still judged by them, unchanged.
    let expiring = &targets["rds://ap-southeast-2/db/pg-ca-expiring"];
    assert_eq!(status(expiring, "backups.enabled"), "pass");
    assert_eq!(status(expiring, "network.server_ca_expiring"), "warn");
    assert_eq!(
        run.stderr.matches("AWS Backup could not be read").count(),
        1,
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------
// Security groups, live: the groups each database lists, read with one
// ec2:DescribeSecurityGroups per region (moto serves EC2), judged on the database's port
// (tests/fixtures/rds/seed_security_groups.py seeds the scenarios).

fn audit_on(moto: &moto::Moto, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
    let env = moto.env();
    let mut pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    pairs.extend_from_slice(extra_env);
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    sqlready_with_env(&all, &pairs)
}

#[test]
fn security_groups_are_read_once_per_region_and_judged_on_the_port() {
    let run = audit_on(moto::security_groups(), &["-v", "rds://us-east-1"], &[]);
    assert_eq!(run.code, 1, "open groups fail: {}", run.stderr);
    let report = run.json();
    let targets = targets_by_id(&report);
    let target = |id: &str| {
        targets
            .get(&format!("rds://us-east-1/{id}"))
            .unwrap_or_else(|| panic!("no {id} in {:?}", targets.keys()))
    };
    const PUBLIC: &str = "network.rds_open_security_groups";
    const PRIVATE: &str = "network.rds_private_open_security_groups";

    // Public, 0.0.0.0/0 on 5432 (the rule that references the app group admits no one else).
    let open = finding(target("db/pg-open-public"), PUBLIC);
    assert_eq!(open["status"], "fail", "{open:#}");
    let text = open.to_string();
    assert!(text.contains("(db-open): 0.0.0.0/0"), "{open:#}");
    assert!(text.contains("every public IPv4 address"), "{open:#}");
    assert_eq!(status(target("db/pg-open-public"), PRIVATE), "pass");
    assert_eq!(
        item(target("db/pg-open-public"), "network_security"),
        "fail"
    );

    // Two halves in two groups are the whole internet together.
    let halves = finding(target("db/pg-halves-public"), PUBLIC);
    assert_eq!(halves["status"], "fail", "{halves:#}");
    let text = halves.to_string();
    assert!(
        text.contains("0.0.0.0/1") && text.contains("128.0.0.0/1"),
        "{halves:#}"
    );

    // Not publicly accessible: ::/0 on every protocol is a warning, not the critical fail.
    let private = target("db/mysql-open-private");
    assert_eq!(status(private, PUBLIC), "pass");
    let warned = finding(private, PRIVATE);
    assert_eq!(warned["status"], "warn", "{warned:#}");
    assert!(
        warned.to_string().contains("every public IPv6 address"),
        "{warned:#}"
    );

    // 0.0.0.0/0 on port 22 only; the database port admits 10.0.0.0/8.
    let other = target("db/pg-other-port");
    assert_eq!(status(other, PUBLIC), "pass");
    assert_eq!(status(other, PRIVATE), "pass");

    // A managed prefix list on the port: its entries are not read, so unknown, and why.
    let listed = finding(target("db/pg-prefix-list"), PUBLIC);
    assert_eq!(listed["status"], "unknown", "{listed:#}");
    assert!(
        listed.to_string().contains("pl-0123456789abcdef0"),
        "{listed:#}"
    );

    // An Aurora cluster's groups are the cluster's; a public member makes it public.
    let aurora = finding(target("cluster/aurora-open"), PUBLIC);
    assert_eq!(aurora["status"], "fail", "{aurora:#}");

    // One call for the union of the region's groups, never one per database.
    let calls = api_calls(&run.stderr);
    assert_eq!(calls["DescribeSecurityGroups"], 1, "{calls:?}");
}

#[test]
fn the_fleet_reads_its_security_groups_in_one_call() {
    let run = audit(&["-v", "rds://us-east-1"], &[]);
    let calls = api_calls(&run.stderr);
    assert_eq!(calls["DescribeSecurityGroups"], 1, "{calls:?}");
    let report = run.json();
    let targets = targets_by_id(&report);
    // pg-good lists a group that admits only the VPC.
    let good = &targets["rds://us-east-1/db/pg-good"];
    assert_eq!(status(good, "network.rds_open_security_groups"), "pass");
    // mysql-bad (public) names no group: AWS (and moto) give it the VPC's default group,
    // which admits only its own members: read, judged on its rules, and not open.
    let bad = &targets["rds://us-east-1/db/mysql-bad"];
    let finding_bad = finding(bad, "network.rds_open_security_groups");
    assert_eq!(finding_bad["status"], "pass", "{finding_bad:#}");
    assert_eq!(
        finding_bad["evidence"]["network.public_ip"], true,
        "the public database is the one this check guards: {finding_bad:#}"
    );
}

#[test]
fn a_refused_describe_security_groups_is_unknown_naming_the_permission_once() {
    let (server, key_id, secret) = moto::ec2_denied();
    let run = audit_on(
        server,
        &["-v", "rds://us-east-1", "rds://us-east-1/db/pg-open-public"],
        &[
            ("AWS_ACCESS_KEY_ID", key_id.as_str()),
            ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
        ],
    );
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = run.json();
    let targets = targets_by_id(&report);
    assert!(targets.len() >= 6, "{:?}", targets.keys());
    for (id, target) in &targets {
        assert!(target.get("error").is_none(), "{id}: {target:#}");
        // The check that judges this database: the critical one when it is public.
        let check = if status(target, "network.no_public_ip") == "fail" {
            "network.rds_open_security_groups"
        } else {
            "network.rds_private_open_security_groups"
        };
        let sg = finding(target, check);
        assert_eq!(sg["status"], "unknown", "{id}: {sg:#}");
        assert!(
            sg.to_string().contains("ec2:DescribeSecurityGroups"),
            "{id}: {sg:#}"
        );
        // The rest of the audit goes on: the public endpoint is still judged.
        assert_ne!(status(target, "network.no_public_ip"), "unknown", "{id}");
    }
    // One warning for the run, not one per target or per target argument.
    let warnings = run
        .stderr
        .lines()
        .filter(|l| l.contains("ec2:DescribeSecurityGroups was refused"))
        .count();
    assert_eq!(warnings, 1, "{}", run.stderr);
    let calls = api_calls(&run.stderr);
    assert_eq!(calls["DescribeSecurityGroups"], 1, "{calls:?}");
}

// ---------------------------------------------------------------------------------------
// Restore drills (restore_tested) and AWS Backup selections by tag, through the binary:
// moto holds the instances, their tags and a manual snapshot; the local endpoint answers
// ListRestoreJobs, the restore events and the tag selections in the published shapes.

fn ap(targets: &BTreeMap<String, Value>, id: &str) -> Value {
    targets
        .get(&format!("rds://ap-southeast-2/db/{id}"))
        .unwrap_or_else(|| panic!("{id} not audited: {:?}", targets.keys()))
        .clone()
}

#[test]
fn restore_drills_seen_by_aws_backup_or_rds_events_pass_and_the_rest_were_never_tested() {
    let report = audit_json(&["rds://ap-southeast-2"]);
    let targets = targets_by_id(&report);
    let detail = |id: &str, status: &str| {
        let target = ap(&targets, id);
        let found = finding(&target, "restore_tested.rds_drill");
        assert_eq!(found["status"], status, "{id}: {found:#}");
        found["detail"].as_str().unwrap().to_string()
    };
    let pitr = detail(aws_backup_server::DRILLED_PITR, "pass");
    assert!(
        pitr.contains("point-in-time restore to pg-drill-pitr-copy")
            && pitr.contains("3 day(s) ago"),
        "{pitr}"
    );
    let snapshot = detail(aws_backup_server::DRILLED_SNAPSHOT, "pass");
    assert!(
        snapshot.contains(aws_backup_server::DRILL_SNAPSHOT),
        "{snapshot}"
    );
    let testing = detail("pg-aws-backup", "pass");
    assert!(
        testing.contains("restore testing plan monthly-rds-21")
            && testing.contains("validation SUCCESSFUL"),
        "{testing}"
    );
    assert_eq!(
        item(&ap(&targets, "pg-aws-backup"), "restore_tested"),
        "pass"
    );
    // Its restore 20 days ago is older than the events RDS keeps: never seen, and said so.
    let never = detail("pg-ca-expiring", "warn");
    assert!(
        never.contains("never tested") && never.contains("last 14 days"),
        "{never}"
    );
    let expiring = ap(&targets, "pg-ca-expiring");
    let fix = finding(&expiring, "restore_tested.rds_drill");
    assert!(
        fix.to_string()
            .contains("restore-db-instance-to-point-in-time"),
        "{fix:#}"
    );
    // The generic team's-word check does not apply to an API target.
    assert_eq!(
        status(&ap(&targets, "pg-ca-expiring"), "restore_tested.recorded"),
        "n/a"
    );
}

#[test]
fn a_drill_recorded_in_sqlready_toml_counts_where_the_api_shows_none() {
    let dir = tempfile::tempdir().unwrap();
    let day = (chrono::Utc::now() - chrono::Duration::days(30)).date_naive();
    let config = dir.path().join("sqlready.toml");
    std::fs::write(
        &config,
        format!(
            "[[targets]]\ncloud = \"rds://ap-southeast-2/db/pg-ca-expiring\"\nrestore_tested = {day}\n"
        ),
    )
    .unwrap();
    let run = audit(&["--config", config.to_str().unwrap()], &[]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = run.json();
    let target = only_target(&report);
    let drill = finding(target, "restore_tested.rds_drill");
    assert_eq!(drill["status"], "pass", "{drill:#}");
    assert!(
        drill["detail"].as_str().unwrap().contains(&format!(
            "a restore drill on {day} is recorded in sqlready.toml"
        )),
        "{drill:#}"
    );
    // A database re-judged from its facts file: the team's word is the only source.
    let facts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/postgres-bad.json");
    let old = (chrono::Utc::now() - chrono::Duration::days(200)).date_naive();
    std::fs::write(
        &config,
        format!(
            "[[targets]]\ndatabase = \"postgres://auditor@orders-db.internal:5432/app\"\nrestore_tested = {old}\n"
        ),
    )
    .unwrap();
    let run = sqlready_with_env(
        &[
            "audit",
            "--facts",
            facts.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    let report = run.json();
    let recorded = finding(only_target(&report), "restore_tested.recorded");
    assert_eq!(recorded["status"], "warn", "{recorded:#}");
    assert!(
        recorded["detail"]
            .as_str()
            .unwrap()
            .contains("200 days ago"),
        "{recorded:#}"
    );
    // Without a record: unknown, saying where to record it.
    let run = sqlready_with_env(
        &[
            "audit",
            "--facts",
            facts.to_str().unwrap(),
            "--no-config",
            "--format",
            "json",
        ],
        &[],
    );
    let report = run.json();
    let unknown = finding(only_target(&report), "restore_tested.recorded");
    assert_eq!(unknown["status"], "unknown", "{unknown:#}");
    assert!(
        unknown.to_string().contains("restore_tested = YYYY-MM-DD"),
        "{unknown:#}"
    );
}

#[test]
fn refused_restore_reads_are_unknown_naming_the_permissions_once() {
    let deny = gaps(aws_backup_server::Mode::DenyRestores).to_string();
    let run = audit(
        &["rds://ap-southeast-2"],
        &[
            ("AWS_ENDPOINT_URL_BACKUP", deny.as_str()),
            ("AWS_ENDPOINT_URL_RDS", deny.as_str()),
        ],
    );
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = run.json();
    let targets = targets_by_id(&report);
    for id in [
        "pg-aws-backup",
        aws_backup_server::DRILLED_PITR,
        "pg-ca-expiring",
    ] {
        let target = ap(&targets, id);
        let drill = finding(&target, "restore_tested.rds_drill");
        assert_eq!(drill["status"], "unknown", "{id}: {drill:#}");
        let text = drill.to_string();
        assert!(
            text.contains("backup:ListRestoreJobs") && text.contains("rds:DescribeEvents"),
            "{id}: {drill:#}"
        );
    }
    // The rest of AWS Backup still read: the plan still vouches for its backups.
    assert_eq!(
        status(&ap(&targets, "pg-aws-backup"), "backups.enabled"),
        "pass"
    );
    // One warning per refused permission for the run, not one per instance.
    for permission in ["backup:ListRestoreJobs", "rds:DescribeEvents"] {
        assert_eq!(
            run.stderr
                .lines()
                .filter(|l| l.contains("restores could not be read") && l.contains(permission))
                .count(),
            1,
            "{permission}: {}",
            run.stderr
        );
    }
}

#[test]
fn aws_backup_selections_by_tag_and_condition_match_the_instances_tags() {
    let report = audit_json(&["rds://ap-southeast-2"]);
    let targets = targets_by_id(&report);
    // ListOfTags backup=daily (one of two tags, OR'ed): selected, so its backups are AWS Backup's.
    let tagged = ap(&targets, "pg-tagged");
    assert_eq!(status(&tagged, "backups.enabled"), "pass");
    let plan = finding(&tagged, "backups.rds_aws_backup");
    assert!(
        plan.to_string().contains("daily-rds/rds-by-tag"),
        "{plan:#}"
    );
    // Conditions tier=gold AND env != sandbox AND a DB instance ARN.
    let gold = ap(&targets, "pg-gold");
    assert_eq!(status(&gold, "backups.enabled"), "pass");
    assert!(
        finding(&gold, "backups.rds_aws_backup")
            .to_string()
            .contains("daily-rds/rds-by-condition"),
        "{:#}",
        finding(&gold, "backups.rds_aws_backup")
    );
    // env=sandbox fails StringNotEquals: not selected, and automated backups are off.
    let sandbox = ap(&targets, "pg-gold-sandbox");
    assert_eq!(status(&sandbox, "backups.rds_aws_backup"), "n/a");
    assert_eq!(status(&sandbox, "backups.enabled"), "fail");
}
