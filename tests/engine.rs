//! The check engine's semantics, through its public API: three-valued
//! evaluation over facts, violation lists, applicability, broken checks.

use serde_json::{Value, json};
use sqlready::checks::eval::{CompiledCheck, Verdict};
use sqlready::checks::lint::run_example;
use sqlready::checks::load;
use sqlready::checks::model::{Example, ExampleTarget, Status};
use std::collections::BTreeMap;

fn check(condition: &str, extra: &str) -> CompiledCheck {
    let text = format!(
        "id = \"t.check\"\nitem = \"cdc\"\nseverity = \"high\"\ntitle = \"t\"\nwhy = \"w\"\ncondition = '''{condition}'''\n{extra}\n"
    );
    let source = load::parse("t.toml", &text).unwrap_or_else(|d| panic!("{d:?}"));
    CompiledCheck::compile(source.check).expect("compiles")
}

fn judge(check: &CompiledCheck, facts: Value, unknown: &[&str]) -> Verdict {
    let facts: BTreeMap<String, Value> = serde_json::from_value(facts).unwrap();
    let example = Example {
        name: "case".into(),
        expect: Status::Pass,
        target: ExampleTarget::default(),
        facts,
        unknown: unknown.iter().map(|s| s.to_string()).collect(),
        null: Vec::new(),
    };
    run_example(check, &example)
}

#[test]
fn a_known_fact_decides_and_is_the_evidence() {
    let c = check("postgres.settings.wal_level == 'logical'", "");
    let pass = judge(&c, json!({"postgres.settings.wal_level": "logical"}), &[]);
    assert_eq!(pass.status, Status::Pass);
    assert_eq!(pass.evidence["postgres.settings.wal_level"], "logical");
    assert_eq!(pass.detail, "postgres.settings.wal_level = \"logical\"");
    let fail = judge(&c, json!({"postgres.settings.wal_level": "replica"}), &[]);
    assert_eq!(fail.status, Status::Fail);
}

#[test]
fn an_unknown_fact_is_never_pass_or_fail() {
    let c = check("postgres.settings.wal_level == 'logical'", "");
    let verdict = judge(&c, json!({}), &["postgres.settings.wal_level"]);
    assert_eq!(verdict.status, Status::Unknown);
    assert!(
        verdict
            .detail
            .contains("postgres.settings.wal_level unknown"),
        "{}",
        verdict.detail
    );
}

#[test]
fn a_fact_no_source_reported_is_unknown_with_the_schema_hint() {
    let c = check("ha.enabled", "");
    let verdict = judge(&c, json!({}), &[]);
    assert_eq!(verdict.status, Status::Unknown);
    assert!(
        verdict.detail.contains("cloud provider's API"),
        "{}",
        verdict.detail
    );
    assert!(!verdict.resolve.is_empty());
}

#[test]
fn three_valued_logic_short_circuits_on_known_facts() {
    let or = check("replicas.count > 0 || ha.enabled", "");
    assert_eq!(
        judge(&or, json!({"replicas.count": 2}), &["ha.enabled"]).status,
        Status::Pass
    );
    assert_eq!(
        judge(&or, json!({"replicas.count": 0}), &["ha.enabled"]).status,
        Status::Unknown
    );
    let and = check("replicas.count > 0 && ha.enabled", "");
    assert_eq!(
        judge(&and, json!({"replicas.count": 0}), &["ha.enabled"]).status,
        Status::Fail
    );
    assert_eq!(
        judge(&and, json!({"replicas.count": 1}), &["ha.enabled"]).status,
        Status::Unknown
    );
}

#[test]
fn a_list_condition_reports_each_violation() {
    let c = check(
        "replication.slots.filter(s, !s.active).map(s, s.name + ' is inactive')",
        "violation = \"warn\"",
    );
    let slots = json!({"replication.slots": [
        {"name": "a", "active": true}, {"name": "b", "active": false}, {"name": "c", "active": false}
    ]});
    let verdict = judge(&c, slots, &[]);
    assert_eq!(verdict.status, Status::Warn);
    assert_eq!(verdict.detail, "b is inactive; c is inactive");
    assert_eq!(
        verdict.evidence["violations"],
        json!(["b is inactive", "c is inactive"])
    );
    let none = judge(&c, json!({"replication.slots": []}), &[]);
    assert_eq!(none.status, Status::Pass);
}

#[test]
fn applies_false_is_not_applicable() {
    let c = check(
        "replicas.count > 0",
        "applies = \"target.role != 'primary'\"",
    );
    let verdict = judge(&c, json!({"replicas.count": 0}), &[]);
    assert_eq!(verdict.status, Status::NotApplicable);
}

#[test]
fn a_broken_check_is_an_error_not_a_verdict() {
    // Comparing a string with an int is a type error: the check is broken, not the target.
    let c = check("postgres.settings.wal_level > 3", "");
    let verdict = judge(&c, json!({"postgres.settings.wal_level": "logical"}), &[]);
    assert_eq!(verdict.status, Status::Error, "{}", verdict.detail);
    assert!(verdict.detail.contains("t.check"));
    let not_bool = check("replicas.count", "");
    assert_eq!(
        judge(&not_bool, json!({"replicas.count": 1}), &[]).status,
        Status::Error
    );
}

#[test]
fn a_detail_expression_words_the_verdict() {
    let c = check(
        "replicas.count > 0",
        "detail = \"string(replicas.count) + ' replica(s) streaming'\"",
    );
    assert_eq!(
        judge(&c, json!({"replicas.count": 2}), &[]).detail,
        "2 replica(s) streaming"
    );
}

#[test]
fn thresholds_are_always_known() {
    let c = check(
        "backups.retention_days >= thresholds.min_backup_retention_days",
        "",
    );
    let verdict = judge(&c, json!({"backups.retention_days": 3}), &[]);
    assert_eq!(verdict.status, Status::Fail);
    assert_eq!(verdict.evidence["thresholds.min_backup_retention_days"], 7);
}

#[test]
fn integers_from_json_do_arithmetic() {
    let c = check(
        "postgres.settings.max_replication_slots - replication.slot_count >= 1",
        "",
    );
    let verdict = judge(
        &c,
        json!({"postgres.settings.max_replication_slots": 10, "replication.slot_count": 3}),
        &[],
    );
    assert_eq!(verdict.status, Status::Pass);
}

const SLOTS: &str = "subjects = 'replication.slots'\nno_subjects = 'no replication slots'";
const HEALTHY: &str = "replication.slots.filter(s, s.wal_status == 'lost').map(s, s.name)";

#[test]
fn an_empty_subject_list_is_not_applicable_with_its_reason() {
    let c = check(HEALTHY, SLOTS);
    let verdict = judge(&c, json!({"replication.slots": []}), &[]);
    assert_eq!(verdict.status, Status::NotApplicable);
    assert_eq!(
        verdict.detail,
        "no replication slots (replication.slots = [])"
    );
    assert_eq!(verdict.evidence["replication.slots"], json!([]));
    // Without `subjects` the same filter passes vacuously: that is what the field prevents.
    let vacuous = check(HEALTHY, "");
    assert_eq!(
        judge(&vacuous, json!({"replication.slots": []}), &[]).status,
        Status::Pass
    );
}

#[test]
fn subjects_present_go_on_to_the_condition() {
    let c = check(HEALTHY, SLOTS);
    let slot = |status: &str| json!({"replication.slots": [{"name": "cdc", "wal_status": status}]});
    assert_eq!(judge(&c, slot("reserved"), &[]).status, Status::Pass);
    let lost = judge(&c, slot("lost"), &[]);
    assert_eq!(lost.status, Status::Fail);
    assert_eq!(lost.detail, "cdc");
}

#[test]
fn unknown_subjects_stay_unknown() {
    let c = check(HEALTHY, SLOTS);
    let verdict = judge(&c, json!({}), &["replication.slots"]);
    assert_eq!(verdict.status, Status::Unknown);
    assert!(
        verdict.detail.contains("replication.slots unknown"),
        "{}",
        verdict.detail
    );
}

#[test]
fn a_count_of_zero_subjects_is_not_applicable() {
    let c = check(
        "network.tls_connections == network.client_connections",
        "subjects = 'network.client_connections'\nno_subjects = 'no client connection'",
    );
    let none = judge(
        &c,
        json!({"network.client_connections": 0}),
        &["network.tls_connections"],
    );
    assert_eq!(none.status, Status::NotApplicable);
    assert!(
        none.detail.starts_with("no client connection"),
        "{}",
        none.detail
    );
    let some = judge(
        &c,
        json!({"network.client_connections": 3, "network.tls_connections": 2}),
        &[],
    );
    assert_eq!(some.status, Status::Fail);
}

#[test]
fn subjects_that_are_neither_list_nor_count_are_an_error() {
    let c = check(
        "true",
        "subjects = 'postgres.settings.wal_level'\nno_subjects = 'nothing'",
    );
    let verdict = judge(&c, json!({"postgres.settings.wal_level": "logical"}), &[]);
    assert_eq!(verdict.status, Status::Error);
    assert!(verdict.detail.contains("subjects"), "{}", verdict.detail);
}

#[test]
fn subjects_without_a_reason_are_refused_with_the_location() {
    let text = "id = \"t.check\"\nitem = \"cdc\"\nseverity = \"high\"\ntitle = \"t\"\nwhy = \"w\"\nsubjects = 'replication.slots'\ncondition = 'true'\n";
    let problems = load::parse("t.toml", text).expect_err("refused");
    assert_eq!(problems[0].line, 6, "{problems:?}");
    assert!(problems[0].message.contains("no_subjects"), "{problems:?}");
}
