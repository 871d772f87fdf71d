//! The `staging` item judged across the fleet one run sees (src/fleet),
//! through the real binary: RDS instances tagged by environment in moto
//! (tests/fixtures/rds/seed_environments.py) and Cloud SQL instances with
//! userLabels on the local Admin API server, audited together in one run.
#![cfg(all(feature = "rds", feature = "cloudsql"))]

#[path = "support/aws_backup_server.rs"]
mod aws_backup_server;
#[path = "support/cloudsql_server.rs"]
mod cloudsql_server;
#[path = "support/moto.rs"]
mod moto;
mod support;

use cloudsql_server::{Reply, Routes, Server, TOKEN, fixture, fixture_json, list_page};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use support::cli::{Run, finding, item, sqlready_with_env, status};

const RDS: &str = "rds://us-east-1/db/";
const CLOUDSQL: &str = "cloudsql://acme-fleet/";

/// moto seeded with the tagged fleet, behind the endpoint for what moto lacks.
fn aws() -> &'static (moto::Moto, aws_backup_server::Server) {
    static AWS: OnceLock<(moto::Moto, aws_backup_server::Server)> = OnceLock::new();
    AWS.get_or_init(|| {
        let moto = moto::start();
        let status = Command::new(moto::python())
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/rds/seed_environments.py"
            ))
            .arg(&moto.endpoint)
            .status()
            .expect("run seed_environments.py");
        assert!(status.success(), "seed_environments.py failed");
        let front = aws_backup_server::start(aws_backup_server::Mode::Serve, &moto.endpoint);
        (moto, front)
    })
}

/// A Cloud SQL instance of project acme-fleet, from the pg-good fixture.
fn cloudsql_instance(name: &str, version: &str, labels: Value) -> Value {
    let mut instance = fixture_json("instances/pg-good.json");
    instance["name"] = json!(name);
    instance["project"] = json!("acme-fleet");
    instance["databaseVersion"] = json!(version);
    instance["replicaNames"] = json!([]);
    instance["settings"]["userLabels"] = labels;
    instance
}

/// crm (env=prod) and crm-staging (env=staging), both PostgreSQL 16; and
/// ledger-eu, the staging (app=ledger) of the RDS instance ledger-primary.
fn google() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let mut routes = Routes::default();
        let base = "/v1/projects/acme-fleet/instances";
        let instances = vec![
            cloudsql_instance("crm", "POSTGRES_16", json!({"env": "prod"})),
            cloudsql_instance("crm-staging", "POSTGRES_16", json!({"env": "staging"})),
            cloudsql_instance(
                "ledger-eu",
                "POSTGRES_16",
                json!({"env": "staging", "app": "ledger"}),
            ),
        ];
        for instance in &instances {
            let name = instance["name"].as_str().unwrap();
            routes.add(format!("{base}/{name}"), vec![Reply::json(instance)]);
            routes.add(
                format!("{base}/{name}/backupRuns"),
                vec![Reply::json(&fixture_json("backup-runs/pg-good.json"))],
            );
            routes.add(
                format!("{base}/{name}/getLatestRecoveryTime"),
                vec![Reply {
                    status: 200,
                    body: fixture("recovery/pg-good.json"),
                    headers: Vec::new(),
                }],
            );
        }
        routes.add(base, vec![Reply::json(&list_page(instances, None, None))]);
        Server::start(routes, Duration::ZERO)
    })
}

/// `sqlready audit ARGS… --format json` against both clouds.
fn audit(args: &[&str]) -> Run {
    let (moto, front) = aws();
    let home = tempfile::tempdir().expect("temp home");
    let mut env: Vec<(&str, String)> = moto.env();
    env.push(("AWS_ENDPOINT_URL_RDS", front.endpoint.clone()));
    env.push(("AWS_ENDPOINT_URL_BACKUP", front.endpoint.clone()));
    env.push(("SQLREADY_CLOUDSQL_ENDPOINT", google().url.clone()));
    env.push(("SQLREADY_GOOGLE_OAUTH_ENDPOINT", google().url.clone()));
    env.push(("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN.to_string()));
    env.push(("GCE_METADATA_HOST", "127.0.0.1:9".to_string()));
    env.push(("HOME", home.path().display().to_string()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json", "--fail-on", "never"]);
    sqlready_with_env(&all, &pairs)
}

fn targets(run: &Run) -> BTreeMap<String, Value> {
    assert_eq!(run.code, 0, "exit {}: {}", run.code, run.stderr);
    run.json()["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| (t["id"].as_str().unwrap().to_string(), t.clone()))
        .collect()
}

fn detail(target: &Value, check: &str) -> String {
    finding(target, check)["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_mixed_fleet_is_judged_across_its_environments() {
    let dir = tempfile::tempdir().unwrap();
    let facts_file = dir.path().join("facts.json");
    let save = facts_file.display().to_string();
    let run = audit(&[
        "--no-config",
        "rds://us-east-1",
        "cloudsql://acme-fleet",
        "--save-facts",
        &save,
    ]);
    let targets = targets(&run);
    let rds = |id: &str| &targets[&format!("{RDS}{id}")];
    let gcp = |id: &str| &targets[&format!("{CLOUDSQL}{id}")];
    assert_eq!(targets.len(), 10, "{:?}", targets.keys());

    // Production with a staging of the same engine and major version: pass, named.
    let orders = rds("orders-prod");
    assert_eq!(status(orders, "staging.environment"), "pass");
    assert_eq!(status(orders, "staging.same_version"), "pass");
    assert_eq!(item(orders, "staging"), "pass");
    let text = detail(orders, "staging.environment");
    assert!(
        text.contains(&format!("{RDS}orders-staging (staging, postgres 16)")),
        "{text}"
    );
    assert!(text.contains("seen in this run (10 targets)"), "{text}");

    // A staging on another major: it exists, but the upgrade is not rehearsed.
    let billing = rds("billing-prod");
    assert_eq!(status(billing, "staging.environment"), "pass");
    assert_eq!(status(billing, "staging.same_version"), "warn");
    assert_eq!(item(billing, "staging"), "warn");
    let text = detail(billing, "staging.same_version");
    assert!(
        text.contains("billing-stg (staging, postgres 14)"),
        "{text}"
    );

    // Production alone, in a run that saw other staging targets: fail.
    let search = rds("search-prod");
    assert_eq!(status(search, "staging.environment"), "fail");
    assert_eq!(item(search, "staging"), "fail");
    let text = detail(search, "staging.environment");
    assert!(
        text.contains(
            "no non-production target of application search among the 10 targets of this run"
        ),
        "{text}"
    );
    assert_eq!(status(search, "staging.same_version"), "n/a");

    // Untagged: unknown, naming the tag to add.
    let misc = finding(rds("misc"), "staging.environment");
    assert_eq!(misc["status"], "unknown", "{misc:#}");
    let text = misc.to_string();
    assert!(text.contains("no tag env, environment, stage"), "{text}");
    assert!(text.contains("Key=env,Value=prod"), "{text}");

    // A staging target is not production: n/a, saying so.
    for staging in [
        rds("orders-staging"),
        rds("billing-stg"),
        gcp("crm-staging"),
    ] {
        assert_eq!(item(staging, "staging"), "n/a", "{staging:#}");
        let text = detail(staging, "staging.environment");
        assert!(text.contains("not a production database"), "{text}");
    }

    // Cloud SQL labels classify too; ledger's staging is on the other cloud (app label and tag).
    assert_eq!(status(gcp("crm"), "staging.environment"), "pass");
    assert_eq!(item(gcp("crm"), "staging"), "pass");
    let ledger = rds("ledger-primary");
    assert_eq!(item(ledger, "staging"), "pass");
    assert!(
        detail(ledger, "staging.environment")
            .contains(&format!("{CLOUDSQL}ledger-eu (staging, postgres 16)"))
    );

    // Provenance: the saved facts say which targets were seen and what matched.
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&facts_file).unwrap()).unwrap();
    let orders = saved["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == format!("{RDS}orders-prod"))
        .expect("orders-prod in the facts file");
    let fact = |path: &str| &orders["facts"][path];
    assert_eq!(fact("environment.name")["origin"], "tag env=prod");
    assert_eq!(fact("environment.name")["source"], "fleet");
    assert_eq!(
        fact("staging.fleet_targets")["origin"],
        "the 10 live targets of this run (5 production, 4 staging, 0 development, 1 not classified)"
    );
    let matched = fact("staging.counterparts")["origin"].as_str().unwrap();
    assert!(matched.starts_with("the non-production targets of application 'orders' (the name 'orders-prod' without its environment words)"), "{matched}");

    // Re-judged from the facts file with this run's [environments]: the
    // pass runs again, so the team's word recorded now decides for search.
    let config = dir.path().join("sqlready.toml");
    std::fs::write(
        &config,
        "[environments.counterparts]\n\"*/search-prod\" = \"search-staging in account 222233334444\"\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let rejudged = support::cli::sqlready(&[
        "audit",
        "--facts",
        &save,
        "--config",
        &config,
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let rejudged = self::targets(&rejudged);
    assert_eq!(rejudged.len(), 10);
    let search = &rejudged[&format!("{RDS}search-prod")];
    assert_eq!(status(search, "staging.environment"), "pass");
    assert!(detail(search, "staging.environment").contains("account 222233334444"));
    assert_eq!(
        status(
            &rejudged[&format!("{RDS}orders-prod")],
            "staging.same_version"
        ),
        "pass"
    );
}

#[test]
fn a_run_that_sees_only_production_cannot_tell() {
    let targets = targets(&audit(&["--no-config", "rds://us-east-1/db/search-prod"]));
    let search = &targets[&format!("{RDS}search-prod")];
    let found = finding(search, "staging.environment");
    assert_eq!(found["status"], "unknown", "{found:#}");
    assert!(
        found
            .to_string()
            .contains("none of the 1 live targets of this run (1 production, 0 staging, 0 development) is classified non-production"),
        "{found:#}"
    );
}

#[test]
fn the_teams_word_and_name_patterns_come_from_sqlready_toml() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sqlready.toml");
    std::fs::write(
        &config,
        r#"
[environments]
staging_names = ['/misc$']

[environments.counterparts]
"rds://us-east-1/db/search-prod" = "search-staging in account 222233334444, refreshed nightly"
"#,
    )
    .unwrap();
    let config = config.display().to_string();
    let targets = targets(&audit(&["--config", &config, "rds://us-east-1"]));
    let search = &targets[&format!("{RDS}search-prod")];
    assert_eq!(status(search, "staging.environment"), "pass");
    let text = detail(search, "staging.environment");
    assert!(text.contains("the team's word"), "{text}");
    assert!(
        text.ends_with("[environments.counterparts] \"rds://us-east-1/db/search-prod\": search-staging in account 222233334444, refreshed nightly"),
        "{text}"
    );
    // The name pattern makes misc a staging database.
    assert_eq!(item(&targets[&format!("{RDS}misc")], "staging"), "n/a");
}

#[test]
fn a_bad_pattern_is_a_configuration_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sqlready.toml");
    std::fs::write(
        &config,
        "[environments]\nproduction_names = ['-prod$', '(prod']\n",
    )
    .unwrap();
    let run = support::cli::sqlready(&[
        "audit",
        "--config",
        &config.display().to_string(),
        "rds://us-east-1",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("sqlready.toml:2:")
            && run.stderr.contains(
                "environments.production_names[1] '(prod' is not a valid regular expression"
            ),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

/// A shard sees only its slice: a counterpart it sees counts, a missing one
/// may be in another shard, so nothing fails for want of it; `merge` keeps
/// each shard's verdicts (docs/fleet.md, "Sharded runs").
#[test]
fn a_shard_never_fails_production_for_a_counterpart_it_cannot_see() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut shard_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut reports = Vec::new();
    for index in 0..2 {
        let shard = format!("{index}/2");
        let run = audit(&["--no-config", "rds://us-east-1", "--shard", &shard]);
        let file = dir.path().join(format!("shard-{index}.json"));
        std::fs::write(&file, &run.stdout).unwrap();
        files.push(file.display().to_string());
        let targets = targets(&run);
        for id in targets.keys() {
            shard_of.insert(id.clone(), index);
        }
        reports.push(targets);
    }
    assert_eq!(shard_of.len(), 7, "{shard_of:?}");
    let same_shard =
        |a: &str, b: &str| shard_of[&format!("{RDS}{a}")] == shard_of[&format!("{RDS}{b}")];
    let judged = |id: &str| reports[shard_of[&format!("{RDS}{id}")]][&format!("{RDS}{id}")].clone();

    // search has no staging anywhere: unsharded it fails; a shard cannot know.
    let search = judged("search-prod");
    let found = finding(&search, "staging.environment");
    assert_eq!(found["status"], "unknown", "{found:#}");
    let text = found.to_string();
    assert!(
        text.contains(&format!(
            "this run is shard {}/2",
            shard_of[&format!("{RDS}search-prod")]
        )),
        "{text}"
    );
    assert!(text.contains("sqlready merge"), "{text}");

    // The bucket rule is fixed (sha256-be64-mod-v1): orders-prod,
    // orders-staging, billing-prod and billing-stg all land in shard 0/2.
    assert!(
        same_shard("orders-prod", "orders-staging") && same_shard("billing-prod", "billing-stg")
    );
    // A counterpart the shard sees counts as in an unsharded run.
    let orders = judged("orders-prod");
    assert_eq!(item(&orders, "staging"), "pass", "{orders:#}");
    // billing's staging is on another major: one on the same major could be
    // in another shard, so no definite warn from the shard.
    let billing = judged("billing-prod");
    assert_eq!(status(&billing, "staging.environment"), "pass");
    let version = finding(&billing, "staging.same_version");
    assert_eq!(version["status"], "unknown", "{version:#}");
    assert!(
        version.to_string().contains("may be in another shard"),
        "{version:#}"
    );
    for report in &reports {
        for (id, target) in report {
            assert_ne!(
                item(target, "staging"),
                "fail",
                "{id} failed in a shard: {target:#}"
            );
        }
    }

    // merge judges across every shard: the verdicts of one unsharded run.
    let mut command = vec![
        "merge",
        "--no-config",
        "--format",
        "json",
        "--fail-on",
        "never",
    ];
    command.extend(files.iter().map(String::as_str));
    let merged = targets(&support::cli::sqlready(&command));
    let whole = targets(&audit(&["--no-config", "rds://us-east-1"]));
    assert_eq!(merged.len(), 7);
    let search = &merged[&format!("{RDS}search-prod")];
    assert_eq!(status(search, "staging.environment"), "fail", "{search:#}");
    assert_eq!(
        status(
            &merged[&format!("{RDS}billing-prod")],
            "staging.same_version"
        ),
        "warn"
    );
    for (id, target) in &whole {
        let verdicts = |t: &Value| {
            let findings: Vec<(Value, Value, Value)> = t["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["item"] == "staging")
                .map(|f| (f["check"].clone(), f["status"].clone(), f["detail"].clone()))
                .collect();
            (t["items"]["staging"].clone(), t["score"].clone(), findings)
        };
        assert_eq!(verdicts(&merged[id]), verdicts(target), "{id}");
    }

    // merge reads [environments] of its own sqlready.toml (here: the team's word for search).
    let config = dir.path().join("sqlready.toml");
    std::fs::write(
        &config,
        "[environments.counterparts]\n\"*/search-prod\" = \"search-staging in account 222233334444\"\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let mut command = vec![
        "merge",
        "--config",
        &config,
        "--format",
        "json",
        "--fail-on",
        "never",
    ];
    command.extend(files.iter().map(String::as_str));
    let merged = targets(&support::cli::sqlready(&command));
    assert_eq!(
        status(&merged[&format!("{RDS}search-prod")], "staging.environment"),
        "pass"
    );
}

/// One shard of one is the whole fleet: judged in full.
#[test]
fn a_single_shard_is_the_whole_fleet() {
    let targets = targets(&audit(&[
        "--no-config",
        "rds://us-east-1",
        "--shard",
        "0/1",
    ]));
    assert_eq!(
        status(
            &targets[&format!("{RDS}search-prod")],
            "staging.environment"
        ),
        "fail"
    );
    assert_eq!(
        status(
            &targets[&format!("{RDS}billing-prod")],
            "staging.same_version"
        ),
        "warn"
    );
}

/// Terraform targets are classified by the tags and labels their configuration
/// writes (AWS `tags`, Cloud SQL `settings.user_labels`), as the live sources are.
#[test]
fn terraform_targets_are_classified_by_their_tags_and_labels() {
    let work = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        work.path().join("main.tf"),
        r#"
resource "aws_db_instance" "orders_prod" {
  identifier     = "orders-prod"
  engine         = "postgres"
  engine_version = "16.4"
  instance_class = "db.t4g.micro"
  tags = { env = "production", app = "orders" }
}

resource "aws_db_instance" "orders_stg" {
  identifier     = "orders-stg"
  engine         = "postgres"
  engine_version = "15.8"
  instance_class = "db.t4g.micro"
  tags = { Environment = "staging", app = "orders" }
}

resource "google_sql_database_instance" "billing" {
  name             = "billing"
  database_version = "POSTGRES_16"
  region           = "europe-west1"
  settings {
    tier        = "db-custom-1-3840"
    user_labels = { env = "prod", app = "billing" }
  }
}
"#,
    )
    .expect("write main.tf");
    let dir = work.path().display().to_string();
    let run = sqlready_with_env(&["audit", &dir, "--no-config", "--format", "json"], &[]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = run.json();
    let target = |address: &str| {
        report["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .find(|t| t["id"].as_str().is_some_and(|id| id.ends_with(address)))
            .unwrap_or_else(|| panic!("{address} in {report:#}"))
            .clone()
    };
    let prod = target("aws_db_instance.orders_prod");
    assert_eq!(prod["tags"]["env"], "production", "{:#}", prod["tags"]);
    // Its staging counterpart is found by the `app` tag, on another major: skew.
    assert_eq!(item(&prod, "staging"), "warn", "{:#}", prod["findings"]);
    assert_eq!(
        status(&target("aws_db_instance.orders_stg"), "staging.environment"),
        "n/a"
    );
    // A production Cloud SQL instance labelled prod with no counterpart in the run.
    let billing = target("google_sql_database_instance.billing");
    assert_eq!(billing["tags"]["app"], "billing");
    assert_eq!(status(&billing, "staging.environment"), "fail");
}
