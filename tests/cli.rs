//! The command line as a user meets it: help texts, catalog commands, bad
//! input, and offline audits of the shipped example snapshots.

mod support;

use support::cli::{only_target, sqlready, sqlready_with_env};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");

fn example(name: &str) -> String {
    format!("{EXAMPLES}/{name}")
}

#[test]
fn every_help_text_is_stable() {
    for args in [
        vec!["--help"],
        vec!["audit", "--help"],
        vec!["checks", "--help"],
        vec!["checks", "list", "--help"],
        vec!["checks", "show", "--help"],
        vec!["checks", "lint", "--help"],
        vec!["checks", "docs", "--help"],
        vec!["checks", "facts", "--help"],
    ] {
        let run = sqlready(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        let name = format!("help_{}", args.join("_").replace("--", ""));
        insta::assert_snapshot!(name, run.stdout);
    }
}

#[test]
fn offline_audit_of_the_bad_example_renders_the_checklist() {
    let run = sqlready(&["audit", "--facts", &example("postgres-bad.json")]);
    assert_eq!(run.code, 1, "failing findings exit 1: {}", run.stderr);
    assert!(
        !run.stdout.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );
    insta::assert_snapshot!("table_postgres_bad", run.stdout);
}

#[test]
fn offline_audit_json_follows_the_contract() {
    let run = sqlready(&[
        "audit",
        "--facts",
        &example("postgres-good.json"),
        "--format",
        "json",
    ]);
    let report = run.json();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["tool"]["name"], "sqlready");
    let target = only_target(&report);
    for field in [
        "id", "kind", "role", "engine", "version", "score", "items", "findings",
    ] {
        assert!(target.get(field).is_some(), "missing {field}");
    }
    let keys: Vec<&String> = target["items"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "replicas",
            "multi_zone",
            "backups",
            "pitr",
            "cdc",
            "disk_autogrow",
            "migrations",
            "network_security",
            "dev_data",
            "staging",
            "monitoring",
            "cost",
            "slow_queries",
            "connection_pooling",
            "deletion_protection",
            "encryption",
            "audit_logging",
            "durability",
            "version_support",
            "restore_tested",
            "access_control"
        ],
        "every checklist key, in checklist order"
    );
    insta::assert_json_snapshot!("json_postgres_good", report, {
        ".started_at" => "[time]",
        ".finished_at" => "[time]",
        ".tool.version" => "[version]",
    });
}

#[test]
fn fail_on_sets_the_threshold_for_exit_1() {
    let facts = example("postgres-bad.json");
    assert_eq!(
        sqlready(&["audit", "--facts", &facts, "--fail-on", "low"]).code,
        1
    );
    assert_eq!(
        sqlready(&["audit", "--facts", &facts, "--fail-on", "never"]).code,
        0
    );
    let good = example("postgres-good.json");
    let run = sqlready(&[
        "audit",
        "--facts",
        &good,
        "--fail-on",
        "high",
        "--format",
        "json",
    ]);
    let report = run.json();
    let high_failures = report["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["status"] == "fail" && (f["severity"] == "high" || f["severity"] == "critical")
        })
        .count();
    assert_eq!(run.code, if high_failures > 0 { 1 } else { 0 });
}

/// Items whose status is a judgement, and items that apply (all but `n/a`),
/// counted from the report's own `items`: the definition of coverage.
fn coverage_of(target: &serde_json::Value) -> (usize, usize) {
    let items = target["items"].as_object().unwrap();
    let judged = items
        .values()
        .filter(|s| ["pass", "warn", "fail"].contains(&s.as_str().unwrap()))
        .count();
    let applicable = items.values().filter(|s| *s != "n/a").count();
    (judged, applicable)
}

#[test]
fn an_empty_set_is_not_applicable_with_its_reason_never_a_pass() {
    let run = sqlready(&[
        "audit",
        "--facts",
        &example("postgres-bad.json"),
        "--format",
        "json",
    ]);
    let report = run.json();
    let target = only_target(&report);
    let findings = target["findings"].as_array().unwrap();
    for (check, reason) in [
        ("replicas.lag", "no replica connected"),
        ("cdc.inactive_slots", "no replication slots"),
        ("cdc.slot_retention", "no replication slots"),
        ("cdc.slot_wal_limit", "no replication slots"),
        ("cdc.slots_healthy", "no replication slots"),
        ("network.tls_in_use", "no client connection"),
    ] {
        let finding = findings
            .iter()
            .find(|f| f["check"] == check)
            .unwrap_or_else(|| panic!("{check} missing"));
        assert_eq!(finding["status"], "n/a", "{check}: {finding}");
        let detail = finding["detail"].as_str().unwrap();
        assert!(detail.starts_with(reason), "{check}: {detail}");
    }
}

#[test]
fn every_score_carries_its_coverage() {
    for (name, code) in [("postgres-bad.json", 1), ("postgres-good.json", 0)] {
        let facts = example(name);
        let json = sqlready(&["audit", "--facts", &facts, "--format", "json"]);
        assert_eq!(json.code, code, "{name}: {}", json.stderr);
        let report = json.json();
        let target = only_target(&report);
        let (judged, applicable) = coverage_of(target);
        assert!(
            judged < applicable,
            "{name}: the examples leave items unknown"
        );
        assert_eq!(target["coverage"]["judged"], judged, "{name}");
        assert_eq!(target["coverage"]["applicable"], applicable, "{name}");
        assert_eq!(report["summary"]["coverage"], target["coverage"], "{name}");
        let line = format!(
            "score {}/100 · {judged} of {applicable} items judged",
            target["score"]
        );
        let table = sqlready(&["audit", "--facts", &facts]);
        let heading = table.stdout.lines().next().unwrap();
        assert!(heading.ends_with(&line), "{name}: {heading} (want {line})");
        let summary = table.stdout.lines().last().unwrap();
        assert!(
            summary.starts_with(&format!("1 target(s), {line}:")),
            "{summary}"
        );
    }
}

#[test]
fn an_unknown_never_lifts_the_score() {
    // good.json passes every check it could judge, and leaves items unknown:
    // 100 stands only beside the coverage that says how little it covers.
    let run = sqlready(&[
        "audit",
        "--facts",
        &example("postgres-good.json"),
        "--format",
        "json",
    ]);
    let report = run.json();
    let target = only_target(&report);
    let findings = target["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["status"] == "unknown"));
    let judged_all_pass = findings
        .iter()
        .filter(|f| ["pass", "warn", "fail"].contains(&f["status"].as_str().unwrap()))
        .all(|f| f["status"] == "pass");
    assert!(judged_all_pass);
    assert_eq!(target["score"], 100);
    let (judged, applicable) = coverage_of(target);
    assert!(judged < applicable);
}

#[test]
fn fail_on_unknown_exits_1_until_every_item_is_judged_or_waived() {
    let good = example("postgres-good.json");
    let base = [
        "audit",
        "--facts",
        good.as_str(),
        "--fail-on",
        "never",
        "--no-config",
    ];
    assert_eq!(
        sqlready(&base).code,
        0,
        "unknown items alone do not fail a run"
    );
    let strict: Vec<&str> = base.iter().copied().chain(["--fail-on-unknown"]).collect();
    let run = sqlready(&strict);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Waive every finding that left an item unknown: nothing is left to object to.
    let report = sqlready(&[&base[..], &["--format", "json"]].concat()).json();
    let target = only_target(&report);
    let mut config = String::new();
    for finding in target["findings"].as_array().unwrap() {
        let item = finding["item"].as_str().unwrap();
        if target["items"][item] == "unknown" && finding["status"] == "unknown" {
            config.push_str(&format!(
                "[[waivers]]\ncheck = \"{}\"\ntarget = \"{}\"\nreason = \"judged by hand\"\nowner = \"dba@example.com\"\nexpires = 2099-12-31\n\n",
                finding["check"].as_str().unwrap(),
                target["id"].as_str().unwrap()
            ));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sqlready.toml");
    std::fs::write(&path, config).unwrap();
    let path = path.to_str().unwrap();
    let waived: Vec<&str> = ["audit", "--facts", good.as_str(), "--fail-on", "never"]
        .into_iter()
        .chain(["--config", path, "--fail-on-unknown"])
        .collect();
    let run = sqlready(&waived);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn output_file_is_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let run = sqlready(&[
        "audit",
        "--facts",
        &example("postgres-good.json"),
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(run.stdout.is_empty(), "the report goes to the file only");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "no temporary file left behind");
}

#[test]
fn output_into_a_missing_directory_is_a_clear_error() {
    let run = sqlready(&[
        "audit",
        "--facts",
        &example("postgres-good.json"),
        "--output",
        "/nonexistent/dir/report.txt",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("cannot write /nonexistent/dir/report.txt"),
        "{}",
        run.stderr
    );
}

#[test]
fn malformed_and_unknown_targets_are_usage_errors_without_secrets() {
    let run = sqlready(&["audit", "oracle://scott:tiger-pw@db/orcl"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown target scheme 'oracle://'"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("tiger-pw"));
    let run = sqlready(&["audit", "db.internal:5432"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("is not a target") && run.stderr.contains("Terraform path"),
        "{}",
        run.stderr
    );
    let run = sqlready(&["audit", "postgres://u:sekrit-pw@[::1/app"]);
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains("sekrit-pw"), "{}", run.stderr);
    let run = sqlready(&["audit"]);
    assert_eq!(run.code, 2, "a target or --facts is required");
}

#[test]
fn malformed_facts_file_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("facts.json");
    std::fs::write(&path, "{\"schema_version\": 1,\n \"targets\": [oops]}").unwrap();
    let run = sqlready(&["audit", "--facts", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
    assert!(
        run.stderr.contains("--save-facts"),
        "says how to make one: {}",
        run.stderr
    );
    let run = sqlready(&["audit", "--facts", "/nonexistent/facts.json"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read facts file"),
        "{}",
        run.stderr
    );
}

#[test]
fn malformed_check_file_is_located_by_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.toml"),
        "id = \"custom.broken\"\nitem = \"cdc\"\nseverity = \"low\"\ntitle = \"t\"\nwhy = \"w\"\ncondition = \"replicas.count >\"\n",
    )
    .unwrap();
    let run = sqlready(&[
        "audit",
        "--facts",
        &example("postgres-good.json"),
        "--checks-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("broken.toml:6:"), "{}", run.stderr);
    assert!(run.stderr.contains("CEL syntax error"), "{}", run.stderr);
    let run = sqlready(&["checks", "lint", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("broken.toml:6:"), "{}", run.stderr);
}

#[test]
fn lint_names_unknown_fact_paths_and_functions() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    std::fs::write(
        &file,
        "id = \"custom.typo\"\nitem = \"cdc\"\nseverity = \"low\"\ntitle = \"t\"\nwhy = \"w\"\ncondition = \"replicas.cuont > 0 && frobnicate(1)\"\n",
    )
    .unwrap();
    let run = sqlready(&["checks", "lint", file.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("typo.toml:6:14: condition: unknown fact path 'replicas.cuont'"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("unknown function 'frobnicate'"),
        "{}",
        run.stderr
    );
}

#[test]
fn lint_knows_subjects_and_wants_the_empty_case_shown() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slots.toml");
    let head =
        "id = \"custom.slots\"\nitem = \"cdc\"\nseverity = \"low\"\ntitle = \"t\"\nwhy = \"w\"\n";
    let body = "subjects = \"replication.slots\"\nno_subjects = \"no replication slots\"\ncondition = \"replication.slots.filter(s, !s.active).map(s, s.name)\"\n";
    let pass = "\n[[example]]\nname = \"active\"\nexpect = \"pass\"\nfacts = { \"replication.slots\" = [{ name = \"a\", active = true }] }\n";
    std::fs::write(&file, format!("{head}{body}{pass}")).unwrap();
    let run = sqlready(&["checks", "lint", file.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("slots.toml:6:13: subjects: no example shows the empty case"),
        "{}",
        run.stderr
    );
    let empty = "\n[[example]]\nname = \"none\"\nexpect = \"n/a\"\nfacts = { \"replication.slots\" = [] }\n";
    std::fs::write(&file, format!("{head}{body}{pass}{empty}")).unwrap();
    let run = sqlready(&["checks", "lint", file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The field is checked like the condition: paths against the facts schema.
    let typo = body.replace(
        "subjects = \"replication.slots\"",
        "subjects = \"replication.slost\"",
    );
    std::fs::write(&file, format!("{head}{typo}{pass}{empty}")).unwrap();
    let run = sqlready(&["checks", "lint", file.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("slots.toml:6:13: subjects: unknown fact path 'replication.slost'"),
        "{}",
        run.stderr
    );
    let show = sqlready(&["checks", "show", "cdc.slots_healthy"]);
    assert!(
        show.stdout.contains(
            "Judges: `replication.slots` — `n/a` when there are none (no replication slots)"
        ),
        "{}",
        show.stdout
    );
}

#[test]
fn builtin_catalog_lints_clean_and_shows_documentation() {
    let run = sqlready(&[
        "checks",
        "lint",
        concat!(env!("CARGO_MANIFEST_DIR"), "/checks"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list = sqlready(&["checks", "list", "--json"]);
    let checks: Vec<serde_json::Value> = serde_json::from_str(&list.stdout).unwrap();
    assert!(checks.len() > 20);
    let show = sqlready(&["checks", "show", "cdc.wal_level_logical"]);
    assert_eq!(show.code, 0);
    assert!(show.stdout.contains("### Why it matters") && show.stdout.contains("### How to fix"));
    let missing = sqlready(&["checks", "show", "no.such.check"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("sqlready checks list"),
        "{}",
        missing.stderr
    );
}

#[test]
fn no_color_and_pipes_get_plain_text() {
    let run = sqlready_with_env(
        &["audit", "--facts", &example("postgres-bad.json")],
        &[("NO_COLOR", "1")],
    );
    assert!(!run.stdout.contains('\u{1b}'));
}
