//! Results in object storage, end to end through the real binary: `-o` and
//! `--evidence` at `s3://` (moto's S3, in server mode, through the AWS SDK's
//! credential chain) and `gs://` (a local Cloud Storage XML API server,
//! support/gcs_server.rs, with an OAuth token); `merge` reading shard reports
//! from a prefix and bundles with `--evidence-in`; `evidence verify` on a
//! bundle in a bucket; refusals (a prefix already holding a bundle, a bare
//! bucket as a file, an unknown scheme, a refused token) are clear and leave
//! nothing behind.

#[path = "support/cli.rs"]
mod cli;
#[cfg(feature = "cloudsql")]
#[path = "support/gcs_server.rs"]
mod gcs_server;
#[cfg(feature = "rds")]
#[path = "support/moto.rs"]
mod moto;

use cli::{Run, sqlready_with_env, verdicts};
use serde_json::Value;
use std::path::Path;

/// A fleet that needs no server: Terraform fixtures with several databases.
fn fleet() -> Vec<String> {
    ["aws", "orders", "kutt"]
        .iter()
        .map(|name| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/terraform")
                .join(name)
                .display()
                .to_string()
        })
        .collect()
}

fn audit(extra: &[&str], env: &[(&str, &str)]) -> Run {
    let fleet = fleet();
    let mut args: Vec<&str> = vec!["audit"];
    args.extend(fleet.iter().map(String::as_str));
    args.extend(["--format", "json"]);
    args.extend(extra);
    sqlready_with_env(&args, env)
}

fn assert_ran(run: &Run, what: &str) {
    assert!(
        run.code == 0 || run.code == 1,
        "{what}: exit {}\n{}",
        run.code,
        run.stderr
    );
}

#[cfg(feature = "rds")]
mod s3 {
    use super::*;
    use std::process::Command;

    /// boto3 against moto, for what the test itself puts or reads.
    fn boto(moto: &moto::Moto, script: &str, args: &[&str]) -> String {
        let prelude = "import boto3, sys\ns3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n";
        let output = Command::new(moto::python())
            .arg("-c")
            .arg(format!("{prelude}{script}"))
            .arg(&moto.endpoint)
            .args(args)
            .output()
            .expect("run boto3");
        assert!(
            output.status.success(),
            "boto3: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    }

    fn keys(moto: &moto::Moto) -> Vec<String> {
        boto(
            moto,
            "p = s3.get_paginator('list_objects_v2')\nfor page in p.paginate(Bucket='acme-audit'):\n    [print(o['Key']) for o in page.get('Contents', [])]",
            &[],
        )
        .lines()
        .map(str::to_string)
        .collect()
    }

    fn object(moto: &moto::Moto, key: &str) -> String {
        boto(
            moto,
            "sys.stdout.write(s3.get_object(Bucket='acme-audit', Key=sys.argv[2])['Body'].read().decode())",
            &[key],
        )
    }

    #[test]
    fn reports_bundles_and_shards_go_to_s3_and_come_back_whole() {
        let moto = moto::start();
        boto(&moto, "s3.create_bucket(Bucket='acme-audit')", &[]);
        let owned: Vec<(&str, String)> = moto
            .env()
            .into_iter()
            .chain([("AWS_REGION", "us-east-1".to_string())])
            .collect();
        let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();

        let local = audit(&[], &env);
        assert_ran(&local, "local run");
        let expected = verdicts(&local.json());
        assert!(expected.len() >= 3, "{expected:?}");

        // -o and --evidence to the bucket: nothing on stdout, the same report in S3.
        let run = audit(
            &[
                "-o",
                "s3://acme-audit/runs/fleet.json",
                "--evidence",
                "s3://acme-audit/evidence/run-1",
            ],
            &env,
        );
        assert_eq!(run.code, local.code, "{}", run.stderr);
        assert_eq!(run.stdout, "", "the report went to S3, not stdout");
        assert!(
            run.stderr
                .contains("evidence bundle: s3://acme-audit/evidence/run-1 ("),
            "{}",
            run.stderr
        );
        let written: Value =
            serde_json::from_str(&object(&moto, "runs/fleet.json")).expect("report JSON");
        assert_eq!(verdicts(&written), expected);
        let keys = keys(&moto);
        for key in [
            "evidence/run-1/MANIFEST.json",
            "evidence/run-1/report.json",
            "evidence/run-1/report.html",
        ] {
            assert!(keys.contains(&key.to_string()), "{key} in {keys:?}");
        }
        assert!(
            !keys.iter().any(|k| k.contains(".sqlready-")),
            "no temporary object: {keys:?}"
        );

        // The bundle verifies where it lies; a changed object is named.
        let verify = sqlready_with_env(
            &["evidence", "verify", "s3://acme-audit/evidence/run-1"],
            &env,
        );
        assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);

        // An existing bundle is never overwritten, and the audit does not start.
        let again = audit(
            &[
                "-o",
                "s3://acme-audit/runs/second.json",
                "--evidence",
                "s3://acme-audit/evidence/run-1",
            ],
            &env,
        );
        assert_eq!(again.code, 2, "{}", again.stderr);
        assert!(
            again.stderr.contains("already holds objects"),
            "{}",
            again.stderr
        );
        assert!(!self::keys(&moto).contains(&"runs/second.json".to_string()));

        // Shards to a prefix, merged from it: the unsharded verdicts.
        for shard in ["0/2", "1/2"] {
            let name = format!("s3://acme-audit/shards/{}.json", &shard[..1]);
            let bundle = format!("s3://acme-audit/bundles/{}", &shard[..1]);
            let run = audit(
                &["--shard", shard, "-o", &name, "--evidence", &bundle],
                &env,
            );
            assert_ran(&run, shard);
        }
        let merged = sqlready_with_env(
            &["merge", "s3://acme-audit/shards", "--format", "json"],
            &env,
        );
        assert_ran(&merged, "merge");
        assert_eq!(verdicts(&merged.json()), expected, "{}", merged.stderr);
        // The shards' bundles, read from the bucket, make one fleet bundle there.
        let fleet_bundle = sqlready_with_env(
            &[
                "merge",
                "--evidence-in",
                "s3://acme-audit/bundles/0",
                "--evidence-in",
                "s3://acme-audit/bundles/1",
                "--evidence",
                "s3://acme-audit/fleet-bundle",
                "--format",
                "json",
            ],
            &env,
        );
        assert_ran(&fleet_bundle, "merge of bundles");
        assert_eq!(verdicts(&fleet_bundle.json()), expected);
        let verify = sqlready_with_env(
            &["evidence", "verify", "s3://acme-audit/fleet-bundle"],
            &env,
        );
        assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
        assert!(
            self::keys(&moto).contains(&"fleet-bundle/shards/01/MANIFEST.json".to_string()),
            "{:?}",
            self::keys(&moto)
        );

        boto(
            &moto,
            "s3.put_object(Bucket='acme-audit', Key='evidence/run-1/report.json', Body=b'{}')",
            &[],
        );
        let tampered = sqlready_with_env(
            &["evidence", "verify", "s3://acme-audit/evidence/run-1"],
            &env,
        );
        assert_eq!(tampered.code, 1, "{}", tampered.stdout);
        assert!(
            tampered.stdout.contains("changed: report.json"),
            "{}",
            tampered.stdout
        );
    }

    #[test]
    fn a_missing_bucket_is_an_error_naming_it_and_nothing_is_written() {
        let moto = moto::start();
        let owned: Vec<(&str, String)> = moto
            .env()
            .into_iter()
            .chain([("AWS_REGION", "us-east-1".to_string())])
            .collect();
        let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = audit(&["--evidence", "s3://no-such-bucket/ev"], &env);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("s3://no-such-bucket/ev"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("testing"), "no credential in errors");
    }
}

#[cfg(feature = "cloudsql")]
#[test]
fn gs_takes_reports_and_bundles_with_the_google_token() {
    let server = gcs_server::GcsServer::start(&["acme-audit"]);
    let env = [
        ("GOOGLE_OAUTH_ACCESS_TOKEN", gcs_server::TOKEN),
        ("SQLREADY_GCS_ENDPOINT", server.url.as_str()),
    ];
    let local = audit(&[], &env);
    assert_ran(&local, "local run");
    let expected = verdicts(&local.json());

    // One shard of one: the whole fleet, in a report `merge` accepts.
    let run = audit(
        &[
            "--shard",
            "0/1",
            "-o",
            "gs://acme-audit/runs/fleet.json",
            "--evidence",
            "gs://acme-audit/evidence/{time}",
        ],
        &env,
    );
    assert_eq!(run.code, local.code, "{}", run.stderr);
    let written: Value = serde_json::from_slice(
        &server
            .object("acme-audit", "runs/fleet.json")
            .expect("report object"),
    )
    .expect("report JSON");
    assert_eq!(verdicts(&written), expected);
    let names = server.names("acme-audit");
    let manifest = names
        .iter()
        .find(|n| n.starts_with("evidence/") && n.ends_with("/MANIFEST.json"))
        .unwrap_or_else(|| panic!("a manifest in {names:?}"));
    let prefix = manifest.trim_end_matches("/MANIFEST.json");
    // The manifest is the bundle's last object: visible means whole.
    let puts: Vec<String> = server
        .log()
        .into_iter()
        .filter(|l| l.starts_with("PUT ") && l.contains("evidence"))
        .collect();
    assert!(
        puts.last().is_some_and(|l| l.contains("MANIFEST%2Ejson")),
        "{puts:?}"
    );
    let verify = sqlready_with_env(
        &["evidence", "verify", &format!("gs://acme-audit/{prefix}")],
        &env,
    );
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);

    // merge reads a single object as well as a prefix.
    let merged = sqlready_with_env(
        &[
            "merge",
            "gs://acme-audit/runs/fleet.json",
            "--format",
            "json",
        ],
        &env,
    );
    assert_ran(&merged, "merge");
    assert_eq!(verdicts(&merged.json()), expected, "{}", merged.stderr);

    // A refused token: the store's answer, the location, never the token.
    let refused = audit(
        &["-o", "gs://acme-audit/runs/refused.json"],
        &[
            ("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.wrong-token"),
            ("SQLREADY_GCS_ENDPOINT", server.url.as_str()),
        ],
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("gs://acme-audit/runs/refused.json"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("wrong-token"),
        "{}",
        refused.stderr
    );
    assert!(server.object("acme-audit", "runs/refused.json").is_none());
}

#[test]
fn unusable_locations_are_refused_before_the_audit_with_the_fix() {
    let scheme = audit(&["-o", "az://container/report.json"], &[]);
    assert_eq!(scheme.code, 2, "{}", scheme.stderr);
    assert!(
        scheme.stderr.contains("s3://BUCKET/KEY or gs://BUCKET/KEY"),
        "{}",
        scheme.stderr
    );
    let bucket = audit(&["--evidence", "s3://Bad_Bucket/ev"], &[]);
    assert_eq!(bucket.code, 2, "{}", bucket.stderr);
    assert!(
        bucket.stderr.contains("is not a bucket name"),
        "{}",
        bucket.stderr
    );
}

/// An upload refused after the early check passed (listing allowed, writing not):
/// exit 2, and the bundle built locally is kept whole and named, so the run's
/// evidence is not lost; it verifies where it was kept.
#[cfg(feature = "cloudsql")]
#[test]
fn a_refused_upload_keeps_the_bundle_and_says_where() {
    let server = gcs_server::GcsServer::start(&["acme-audit"]);
    let env = [
        ("GOOGLE_OAUTH_ACCESS_TOKEN", gcs_server::TOKEN),
        ("SQLREADY_GCS_ENDPOINT", server.url.as_str()),
    ];
    let run = audit(&["--evidence", "gs://acme-audit/read-only/ev"], &env);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let kept = run
        .stderr
        .split("it is kept whole in ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("no kept folder named: {}", run.stderr));
    assert!(
        run.stderr.contains("gs://acme-audit/read-only/ev"),
        "{}",
        run.stderr
    );
    let verify = sqlready_with_env(&["evidence", "verify", kept], &[]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert!(server.names("acme-audit").is_empty());

    // The same for a report: kept in a local file, named.
    let report = audit(&["-o", "gs://acme-audit/read-only/fleet.json"], &env);
    assert_eq!(report.code, 2, "{}", report.stderr);
    let file = report
        .stderr
        .split("it is kept in ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("no kept file named: {}", report.stderr));
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("the kept report"))
            .expect("the kept report is the JSON report");
    assert!(!verdicts(&saved).is_empty());
    std::fs::remove_file(file).expect("remove the kept report");
    std::fs::remove_dir_all(Path::new(kept).parent().expect("the staging folder"))
        .expect("remove the kept bundle");
}
