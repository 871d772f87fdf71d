//! `aws-org://` and `rds://*` (issue 13): a whole AWS Organization audited
//! from one sqlready.toml, through the real binary and the real AWS SDK
//! clients (Organizations, STS, EC2, RDS) against moto in server mode with
//! IAM enforcement on. tests/fixtures/rds/seed_organization.py builds the
//! Organization: the management account and 5 members, instances in 3
//! regions of each, the last member without the SqlreadyAudit role.
#![cfg(feature = "rds")]

#[path = "support/moto.rs"]
mod moto;
mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use support::cli::{Run, sqlready_in};

const REGIONS: [&str; 3] = ["ap-southeast-2", "eu-west-1", "us-east-1"];
/// Instances per region in every account, but the management account's us-east-1.
const PER_REGION: usize = 2;
/// The management account's us-east-1: two pages of 20.
const BIG: usize = 25;

struct Org {
    moto: moto::Moto,
    key: String,
    secret: String,
    management: String,
    members: Vec<String>,
    without_role: String,
    /// The regions moto reports enabled (DescribeRegions, opt-in not required).
    enabled: Vec<String>,
}

fn org() -> &'static Org {
    static ORG: OnceLock<Org> = OnceLock::new();
    ORG.get_or_init(|| {
        let moto = moto::start();
        let output = Command::new(moto::python())
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/rds/seed_organization.py"
            ))
            .arg(&moto.endpoint)
            .arg("5")
            .arg(PER_REGION.to_string())
            .arg(BIG.to_string())
            .stderr(Stdio::inherit())
            .output()
            .expect("run seed_organization.py");
        assert!(output.status.success(), "seed_organization.py failed");
        let seeded: Value = serde_json::from_slice(&output.stdout).expect("seed output as JSON");
        let strings = |key: &str| -> Vec<String> {
            seeded[key]
                .as_array()
                .unwrap_or_else(|| panic!("{key} in {seeded}"))
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        Org {
            key: seeded["AccessKeyId"].as_str().unwrap().to_string(),
            secret: seeded["SecretAccessKey"].as_str().unwrap().to_string(),
            management: seeded["management"].as_str().unwrap().to_string(),
            members: strings("members"),
            without_role: seeded["without_role"].as_str().unwrap().to_string(),
            enabled: strings("regions"),
            moto,
        }
    })
}

/// `sqlready audit -v --format json ARGS…` with `config` as ./sqlready.toml, as the auditor user.
fn audit(config: &str, args: &[&str]) -> Run {
    let org = org();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sqlready.toml"), config).unwrap();
    let mut env: Vec<(&str, String)> = org
        .moto
        .env()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("AWS_ACCESS_KEY_ID") && !k.starts_with("AWS_SECRET"))
        .collect();
    env.push(("AWS_ACCESS_KEY_ID", org.key.clone()));
    env.push(("AWS_SECRET_ACCESS_KEY", org.secret.clone()));
    env.push(("AWS_REGION", "us-east-1".into()));
    env.push(("SQLREADY_RDS_PAGE_SIZE", "20".into()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut all = vec!["audit", "-v", "--format", "json"];
    all.extend_from_slice(args);
    sqlready_in(dir.path(), &all, &pairs)
}

fn by_id(run: &Run) -> BTreeMap<String, Value> {
    run.json()["targets"]
        .as_array()
        .unwrap_or_else(|| panic!("no targets: {}\n{}", run.stdout, run.stderr))
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
    line.split("rds API calls so far:")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect()
}

/// The instance ids the seed created in `account` and `region`.
fn seeded(org: &Org, account: &str, region: &str) -> Vec<String> {
    let (prefix, count) = if account == org.management {
        (
            "mgmt".to_string(),
            if region == "us-east-1" {
                BIG
            } else {
                PER_REGION
            },
        )
    } else {
        (format!("m{}", &account[account.len() - 4..]), PER_REGION)
    };
    (0..count)
        .map(|n| format!("{prefix}-{region}-{n}"))
        .collect()
}

const ORG_CONFIG: &str = "[[targets]]\ncloud = \"aws-org://\"\nrole_name = \"SqlreadyAudit\"\n";

#[test]
fn every_account_and_enabled_region_is_audited_and_the_account_without_the_role_is_reported() {
    let org = org();
    let run = audit(ORG_CONFIG, &[]);
    // One account could not be audited: exit 3, whatever the verdicts.
    assert_eq!(run.code, 3, "{}\n{}", run.stderr, run.stdout);
    let targets = by_id(&run);

    let audited: Vec<&String> = std::iter::once(&org.management)
        .chain(org.members.iter().filter(|m| **m != org.without_role))
        .collect();
    assert_eq!(audited.len(), 5);
    let mut expected = BTreeSet::new();
    for account in &audited {
        for region in REGIONS {
            for id in seeded(org, account, region) {
                expected.insert(format!("rds://{account}@{region}/db/{id}"));
            }
        }
    }
    let found: BTreeSet<String> = targets
        .iter()
        .filter(|(_, t)| t["error"].is_null())
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(
        found, expected,
        "every instance, under its account-qualified id"
    );

    // The account without the role: one not-audited entry naming the refusal and the fix.
    let missing = format!("rds://{}@*", org.without_role);
    let entry = targets
        .get(&missing)
        .unwrap_or_else(|| panic!("no entry {missing}: {:?}", targets.keys()));
    let error = entry["error"].as_str().expect("error set");
    assert!(error.contains("sts:AssumeRole"), "{error}");
    // moto's STS error body is not one the SDK parses into a code: the status says it.
    assert!(
        error.contains("AccessDenied") || error.contains("HTTP 403"),
        "{error}"
    );
    assert!(
        error.contains(&format!(
            "arn:aws:iam::{}:role/SqlreadyAudit",
            org.without_role
        )),
        "{error}"
    );
    let failed: Vec<&String> = targets
        .iter()
        .filter(|(_, t)| !t["error"].is_null())
        .map(|(id, _)| id)
        .collect();
    assert_eq!(failed, vec![&missing], "only the role-less account failed");
    let warnings = run
        .stderr
        .lines()
        .filter(|l| l.contains("WARN") && l.contains(&org.without_role))
        .count();
    assert_eq!(warnings, 1, "one warning for the account:\n{}", run.stderr);

    // Who read each account: the assumed role in members, the run's user at home.
    for (id, target) in targets.iter().filter(|(_, t)| t["error"].is_null()) {
        let account = &id["rds://".len()..id.find('@').unwrap()];
        let principal = target["principal"].as_str().unwrap_or_default();
        if account == org.management {
            assert_eq!(principal, "arn:aws:iam::123456789012:user/auditor", "{id}");
        } else {
            assert_eq!(
                principal,
                format!("arn:aws:sts::{account}:assumed-role/SqlreadyAudit/sqlready"),
                "{id}"
            );
        }
        assert!(
            target["resource"]
                .as_str()
                .unwrap_or_default()
                .contains(&format!(":{account}:db:")),
            "{id}: {}",
            target["resource"]
        );
    }

    // Calls: accounts × regions × pages, never per instance.
    let calls = api_calls(&run.stderr);
    let regions = org.enabled.len() as u64;
    assert_eq!(calls["ListAccounts"], 1, "{calls:?}");
    assert_eq!(calls["AssumeRole"], 5, "every member, once: {calls:?}");
    assert_eq!(
        calls["DescribeRegions"], 5,
        "every audited account: {calls:?}"
    );
    assert_eq!(calls["DescribeDBClusters"], 5 * regions, "{calls:?}");
    // One page per (account, region), and a second for the 25 of the management account's us-east-1.
    assert_eq!(calls["DescribeDBInstances"], 5 * regions + 1, "{calls:?}");
    // The run's caller, then each audited account's own.
    assert_eq!(calls["GetCallerIdentity"], 1 + 5, "{calls:?}");
}

#[test]
fn configured_regions_limit_the_discovery_and_skip_describe_regions() {
    let config =
        format!("{ORG_CONFIG}regions = [\"eu-west-1\"]\nexternal_id = \"sqlready-test\"\n");
    let run = audit(&config, &[]);
    assert_eq!(run.code, 3, "{}\n{}", run.stderr, run.stdout);
    let targets = by_id(&run);
    let audited = targets.keys().filter(|id| !id.ends_with("@*")).count();
    assert_eq!(audited, 5 * PER_REGION, "{:?}", targets.keys());
    assert!(
        targets
            .keys()
            .filter(|id| !id.ends_with("@*"))
            .all(|id| id.contains("@eu-west-1/db/")),
        "{:?}",
        targets.keys()
    );
    let calls = api_calls(&run.stderr);
    assert!(!calls.contains_key("DescribeRegions"), "{calls:?}");
    assert_eq!(calls["DescribeDBInstances"], 5, "{calls:?}");
}

#[test]
fn the_callers_own_account_goes_through_the_role_when_configured() {
    let org = org();
    let config =
        format!("{ORG_CONFIG}regions = [\"us-east-1\"]\nassume_role_in_caller_account = true\n");
    let run = audit(&config, &[]);
    assert_eq!(run.code, 3, "{}\n{}", run.stderr, run.stdout);
    let targets = by_id(&run);
    // The management account has no SqlreadyAudit role (and the auditor may not assume one there).
    let own = format!("rds://{}@*", org.management);
    let error = targets
        .get(&own)
        .and_then(|t| t["error"].as_str())
        .unwrap_or_else(|| panic!("no failure {own}: {:?}", targets.keys()));
    assert!(
        error.contains(&format!(
            "arn:aws:iam::{}:role/SqlreadyAudit",
            org.management
        )),
        "{error}"
    );
    assert!(
        !targets
            .keys()
            .any(|id| id.starts_with(&format!("rds://{}@us-east-1", org.management))),
        "{:?}",
        targets.keys()
    );
    let calls = api_calls(&run.stderr);
    assert_eq!(
        calls["AssumeRole"], 6,
        "every account, its own too: {calls:?}"
    );
    let audited = targets.keys().filter(|id| !id.ends_with("@*")).count();
    assert_eq!(audited, 4 * PER_REGION, "{:?}", targets.keys());
}

#[test]
fn rds_star_audits_every_enabled_region_of_the_account_under_todays_ids() {
    let org = org();
    let run = audit("", &["rds://*"]);
    assert!(
        run.code == 0 || run.code == 1,
        "{}\n{}",
        run.stderr,
        run.stdout
    );
    let targets = by_id(&run);
    let mut expected = BTreeSet::new();
    for region in REGIONS {
        for id in seeded(org, &org.management, region) {
            expected.insert(format!("rds://{region}/db/{id}"));
        }
    }
    let found: BTreeSet<String> = targets.keys().cloned().collect();
    assert_eq!(found, expected);
    let calls = api_calls(&run.stderr);
    assert_eq!(calls["DescribeRegions"], 1, "{calls:?}");
    assert_eq!(
        calls["DescribeDBClusters"],
        org.enabled.len() as u64,
        "{calls:?}"
    );
    assert!(!calls.contains_key("AssumeRole"), "{calls:?}");
}

#[test]
fn an_account_qualified_id_is_accepted_as_input_in_its_own_account_only() {
    let org = org();
    let id = format!("rds://{}@eu-west-1/db/mgmt-eu-west-1-0", org.management);
    let run = audit("", &[&id]);
    assert!(
        run.code == 0 || run.code == 1,
        "{}\n{}",
        run.stderr,
        run.stdout
    );
    let targets = by_id(&run);
    assert_eq!(targets.keys().collect::<Vec<_>>(), vec![&id]);
    assert!(targets[&id]["error"].is_null(), "{:#}", targets[&id]);

    let elsewhere = format!("rds://{}@eu-west-1/db/x", org.members[0]);
    let run = audit("", &[&elsewhere]);
    assert_eq!(run.code, 3, "{}\n{}", run.stderr, run.stdout);
    let targets = by_id(&run);
    let error = targets[&elsewhere]["error"].as_str().expect("error");
    assert!(
        error.contains(&org.members[0])
            && error.contains(&org.management)
            && error.contains("aws-org://"),
        "{error}"
    );
}

#[test]
fn shards_of_an_organization_are_disjoint_and_cover_it() {
    let whole = by_id(&audit(ORG_CONFIG, &[]));
    let mut union = BTreeSet::new();
    for shard in ["0/3", "1/3", "2/3"] {
        let part = by_id(&audit(ORG_CONFIG, &["--shard", shard]));
        for id in part.keys() {
            assert!(union.insert(id.clone()), "{id} in two shards");
        }
    }
    let all: BTreeSet<String> = whole.keys().cloned().collect();
    assert_eq!(union, all);
}

#[test]
fn a_bad_organization_entry_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    for (config, wanted) in [
        ("[[targets]]\ncloud = \"aws-org://\"\n", "needs role_name"),
        (
            "[[targets]]\ncloud = \"aws-org://\"\nrole_name = \"arn:aws:iam::1:role/x\"\n",
            "not an IAM role name",
        ),
        (
            "[[targets]]\ncloud = \"aws-org://\"\nrole_name = \"R\"\nregions = [\"mars\"]\n",
            "'mars' is not an AWS region",
        ),
        (
            "[[targets]]\ncloud = \"rds://eu-west-1\"\nrole_name = \"R\"\n",
            "`role_name` applies to a `cloud = \"aws-org://\"` entry",
        ),
    ] {
        std::fs::write(dir.path().join("sqlready.toml"), config).unwrap();
        let run = sqlready_in(dir.path(), &["audit"], &[]);
        assert_eq!(run.code, 2, "{config}: {}", run.stderr);
        assert!(run.stderr.contains(wanted), "{config}: {}", run.stderr);
        assert!(run.stderr.contains("sqlready.toml:"), "{}", run.stderr);
    }
}
