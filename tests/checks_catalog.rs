//! The built-in check catalog: it loads, its examples hold, it covers every
//! checklist item, every check is documented, and docs/checks.md is current.

use sqlready::checks::Catalog;
use sqlready::checks::docs::catalog_page;
use sqlready::checks::lint::examples_hold;
use sqlready::checks::model::{Item, Status};
use std::path::{Path, PathBuf};

fn catalog() -> Catalog {
    Catalog::load(None).unwrap_or_else(|err| panic!("the built-in catalog does not load: {err}"))
}

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn builtin_catalog_loads_and_every_example_holds() {
    let catalog = catalog();
    assert!(
        !catalog.checks.is_empty(),
        "no built-in check found under checks/"
    );
    let failures: Vec<String> = catalog.checks.iter().flat_map(examples_hold).collect();
    assert!(
        failures.is_empty(),
        "examples that do not hold:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_check_has_pass_violation_and_unknown_examples() {
    let mut problems = Vec::new();
    for compiled in &catalog().checks {
        let check = &compiled.check;
        let expects = |wanted: &[Status]| check.examples.iter().any(|e| wanted.contains(&e.expect));
        if !expects(&[Status::Pass]) {
            problems.push(format!("{}: no example expecting pass", check.id));
        }
        if !expects(&[Status::Fail, Status::Warn]) {
            problems.push(format!("{}: no example expecting fail or warn", check.id));
        }
        if !expects(&[Status::Unknown]) {
            problems.push(format!("{}: no example expecting unknown", check.id));
        }
        let violation = check.violation.status();
        if let Some(example) = check
            .examples
            .iter()
            .find(|e| matches!(e.expect, Status::Fail | Status::Warn) && e.expect != violation)
        {
            problems.push(format!(
                "{}: example '{}' expects {} but a violation of this check is {violation}",
                check.id, example.name, example.expect
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_checklist_item_has_a_check() {
    let catalog = catalog();
    let missing: Vec<&str> = Item::ALL
        .iter()
        .filter(|item| !catalog.checks.iter().any(|c| c.check.item == **item))
        .map(|item| item.key())
        .collect();
    assert!(
        missing.is_empty(),
        "checklist items without any check: {}",
        missing.join(", ")
    );
}

#[test]
fn every_check_is_documented() {
    let mut problems = Vec::new();
    for compiled in &catalog().checks {
        let check = &compiled.check;
        let id = &check.id;
        if check.why.trim().is_empty() {
            problems.push(format!("{id}: empty 'why'"));
        }
        if check.fix.values().all(|fix| fix.trim().is_empty()) {
            problems.push(format!("{id}: no [fix] for any provider"));
        }
        if check.controls.is_empty() {
            problems.push(format!("{id}: no control"));
        }
        if let Some(control) = check.controls.iter().find(|c| !c.starts_with("SOC2 ")) {
            problems.push(format!(
                "{id}: control '{control}' is not written as 'SOC2 <criterion>'"
            ));
        }
        if check.references.is_empty() {
            problems.push(format!("{id}: no reference"));
        }
        if let Some(reference) = check.references.iter().find(|r| !r.starts_with("https://")) {
            problems.push(format!("{id}: reference '{reference}' is not an https URL"));
        }
        if check.title.trim().is_empty() || check.title.contains('\n') {
            problems.push(format!("{id}: the title must be one non-empty line"));
        }
        let folder = format!("checks/{}/", check.item.key());
        if !check.origin.starts_with(&folder) {
            problems.push(format!(
                "{id}: scores item '{}' but lives in {}",
                check.item, check.origin
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn docs_checks_md_is_current() {
    let expected = catalog_page(&catalog());
    let path = repo_path("docs/checks.md");
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is stale or missing: run `cargo run -- checks docs > docs/checks.md`",
        path.display()
    );
}

#[test]
fn example_custom_check_loads() {
    let dir = repo_path("examples/checks");
    let catalog = Catalog::load(Some(&dir))
        .unwrap_or_else(|err| panic!("{} does not load: {err}", dir.display()));
    let compiled = catalog
        .get("acme.tables_have_primary_keys")
        .expect("the example custom check is in the catalog");
    let check = &compiled.check;
    assert_eq!(check.item, Item::Cdc);
    assert!(check.query.contains_key("postgres") && check.query.contains_key("mysql"));
    assert!(!check.origin.starts_with("builtin:") && !check.origin.starts_with("checks/"));
    assert!(examples_hold(compiled).is_empty());
    assert_eq!(catalog.checks.len(), self::catalog().checks.len() + 1);
}
