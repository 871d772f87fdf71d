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

/// Checks whose `pass` over an empty list is a real judgement: the list holds
/// the *violations* found among subjects the source did read (every account,
/// every schema, every authorized network), so empty means "looked, none bad".
const EMPTY_MEANS_JUDGED: &[(&str, &str)] = &[
    (
        "durability.synchronous_commit",
        "the server value is judged; the overrides are every pg_db_role_setting entry, and none weakens it",
    ),
    (
        "slow_queries.logged",
        "the server value is judged; the overrides are every pg_db_role_setting entry, and none weakens it",
    ),
    (
        "access_control.pg_hba_trust",
        "every pg_hba.conf line was read; no TCP line trusts without a password",
    ),
    (
        "access_control.pg_hba_trust_local",
        "every pg_hba.conf line was read; no local line trusts without a credential",
    ),
    (
        "access_control.pg_hba_md5",
        "every pg_hba.conf line was read; none asks for md5",
    ),
    (
        "access_control.pg_hba_weak_methods",
        "every pg_hba.conf line was read; none sends a clear-text password unencrypted or uses ident over TCP",
    ),
    (
        "network.mysql_anonymous_accounts",
        "every account was read; none is anonymous",
    ),
    (
        "network.mysql_empty_passwords",
        "every account was read; none has an empty password",
    ),
    (
        "network.mysql_test_database",
        "every schema was read; none is a test schema",
    ),
    (
        "network.mysql_tls_required",
        "every remote account was read; none may skip TLS",
    ),
    (
        "network.cloudsql_open_authorized_networks",
        "the authorized networks were read; none is open to the world",
    ),
    (
        "pitr.archive_backlog",
        "a backlog of 0 WAL files is a measurement, not an empty set",
    ),
    (
        "pitr.archiver_healthy",
        "judged on archiver.failing; a failure count of 0 is a measurement",
    ),
    (
        "cdc.slot_headroom",
        "free slots are judged against max_replication_slots, also with none in use",
    ),
    (
        "audit.mysql_plugin",
        "server_audit_logging alone decides it; the plugin list is an alternative",
    ),
    (
        "network.tls_required",
        "every pg_hba.conf line was read; none is insecure",
    ),
    (
        "cdc.cloudsql_mysql_binlog",
        "a list of settings found wrong, not of subjects",
    ),
    (
        "slow_queries.cloudsql_mysql_slow_log",
        "a list of settings found wrong, not of subjects",
    ),
    (
        "disk_autogrow.cloudsql_headroom",
        "a list of storage problems, not of subjects",
    ),
    (
        "slow_queries.statistics",
        "the extension list is read to find one; empty means missing",
    ),
    (
        "migrations.tool_detected",
        "the schema was read; an empty list fails",
    ),
    (
        "network.rds_open_security_groups",
        "a list of open ingress rules among the rules read, not of subjects",
    ),
    (
        "network.rds_private_open_security_groups",
        "a list of open ingress rules among the rules read, not of subjects",
    ),
    (
        "replicas.healthy",
        "a list of broken replicas among those read, not of subjects",
    ),
];

/// The whole catalogue, swept: every passing example is re-run with its lists
/// emptied (and its counts set to 0). A check that still passes judged
/// nothing, so it must declare `subjects` (and becomes `n/a`) unless its list
/// is of violations among subjects it did read (listed above, with why).
#[test]
fn no_check_passes_over_an_empty_set() {
    use sqlready::checks::lint::run_example;
    use sqlready::facts::schema::{self, FactType};
    let catalog = catalog();
    let mut problems = Vec::new();
    for compiled in &catalog.checks {
        let check = &compiled.check;
        if check.subjects.is_some() || EMPTY_MEANS_JUDGED.iter().any(|(id, _)| *id == check.id) {
            continue;
        }
        for example in check.examples.iter().filter(|e| e.expect == Status::Pass) {
            let mut emptied = example.clone();
            let mut changed = false;
            for (path, value) in emptied.facts.iter_mut() {
                let ty = schema::spec(path).map(|spec| spec.ty);
                let empty = match ty {
                    Some(FactType::Rows | FactType::StringList) => serde_json::json!([]),
                    Some(FactType::Int)
                        if path.ends_with("count") || path.ends_with("_connections") =>
                    {
                        serde_json::json!(0)
                    }
                    _ => continue,
                };
                if *value != empty {
                    *value = empty;
                    changed = true;
                }
            }
            if changed && run_example(compiled, &emptied).status == Status::Pass {
                problems.push(format!(
                    "{}: example '{}' still passes with nothing to judge; declare `subjects` and `no_subjects`",
                    check.id, example.name
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_issue_18_checks_are_not_applicable_on_an_empty_set() {
    let catalog = catalog();
    for (id, reason) in [
        ("replicas.lag", "no replica connected"),
        ("cdc.inactive_slots", "no replication slots"),
        ("cdc.slot_retention", "no replication slots"),
        ("cdc.slot_wal_limit", "no replication slots"),
        ("cdc.slots_healthy", "no replication slots"),
        (
            "network.tls_in_use",
            "no client connection besides the audit itself",
        ),
    ] {
        let check = &catalog
            .checks
            .iter()
            .find(|c| c.check.id == id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .check;
        assert_eq!(check.no_subjects.as_deref(), Some(reason), "{id}");
        assert!(
            check
                .examples
                .iter()
                .any(|e| e.expect == Status::NotApplicable && !e.facts.is_empty()),
            "{id} has no example of the empty case"
        );
    }
}

/// Every built-in check says what it reads to know the judged state is in
/// effect (issue 20), and lives in a namespace `checks lint` holds to that,
/// so a new check without `in_effect` is refused by lint too.
#[test]
fn every_check_says_what_it_reads_to_know_the_state_is_in_effect() {
    use sqlready::checks::lint::BUILTIN_NAMESPACES;
    let mut problems = Vec::new();
    for compiled in &catalog().checks {
        let check = &compiled.check;
        if check.in_effect.iter().all(|line| line.trim().is_empty()) {
            problems.push(format!("{}: no in_effect", check.id));
        }
        let namespace = check.id.split('.').next().unwrap_or_default();
        if !BUILTIN_NAMESPACES.contains(&namespace) {
            problems.push(format!(
                "{}: namespace '{namespace}' is not in lint::BUILTIN_NAMESPACES",
                check.id
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `checks lint` refuses a check in a built-in namespace without `in_effect`,
/// and leaves a team's own namespace alone.
#[test]
fn lint_requires_in_effect_in_the_builtin_namespaces() {
    let body = |id: &str| {
        format!(
            "id = \"{id}\"\nitem = \"cdc\"\nseverity = \"low\"\ntitle = \"t\"\nwhy = \"w\"\ncondition = \"replication.slot_count < 5\"\n\n[[example]]\nname = \"few\"\nexpect = \"pass\"\nfacts = {{ \"replication.slot_count\" = 1 }}\n"
        )
    };
    let builtin = Catalog::from_files(&[("cdc_new.toml".into(), body("cdc.new_check"))]);
    let message = builtin
        .expect_err("a built-in namespace needs in_effect")
        .to_string();
    assert!(message.contains("in_effect"), "{message}");
    let team = Catalog::from_files(&[("acme.toml".into(), body("acme.slot_count"))]);
    assert!(team.is_ok(), "{:?}", team.err());
    let with = body("cdc.new_check").replace(
        "condition =",
        "in_effect = [\"pg_replication_slots, cluster-wide\"]\ncondition =",
    );
    let builtin = Catalog::from_files(&[("cdc_new.toml".into(), with)]);
    assert!(builtin.is_ok(), "{:?}", builtin.err());
}

/// Issue 21 point 3: on a target only an API source fed, a missing fact's
/// unknown says whether that source reads it ("its answer lacked it") or not,
/// and which source would tell — never "the cloud provider's API tells" on a
/// target that came from that API. Other targets keep the schema's hint.
#[test]
fn an_api_targets_unknowns_say_what_its_source_reads() {
    use sqlready::checks::lint::run_example;
    let detail = |condition: &str, kind: &str| {
        let body = format!(
            "id = \"acme.c\"\nitem = \"encryption\"\nseverity = \"low\"\ntitle = \"t\"\nwhy = \"w\"\ncondition = \"{condition}\"\n\n[[example]]\nname = \"e\"\nexpect = \"unknown\"\ntarget = {{ kind = \"{kind}\" }}\n"
        );
        let catalog = Catalog::from_files(&[("acme.toml".into(), body)]).expect("the check loads");
        let compiled = &catalog.checks[0];
        let verdict = run_example(compiled, &compiled.check.examples[0]);
        assert_eq!(verdict.status, Status::Unknown, "{verdict:?}");
        assert!(
            !verdict.detail.contains("the cloud provider's API"),
            "{verdict:?}"
        );
        verdict.detail
    };
    let on_rds = detail("cloudsql.cmek_key == ''", "rds");
    assert!(
        on_rds.contains("the rds source does not read cloudsql.cmek_key; the Cloud SQL Admin API (cloudsql://PROJECT/INSTANCE) tells"),
        "{on_rds}"
    );
    let on_cloudsql = detail("rds.kms_key_id == ''", "cloudsql");
    assert!(
        on_cloudsql.contains("the cloudsql source does not read rds.kms_key_id; the RDS API (rds://REGION/db/ID) tells"),
        "{on_cloudsql}"
    );
    let inside = detail("version.latest_minor == ''", "cloudsql");
    assert!(
        inside.contains(
            "the cloudsql source does not read version.latest_minor; connect to the database"
        ),
        "{inside}"
    );
    let lacked = detail("ha.enabled", "rds");
    assert!(
        lacked.contains("the rds answer lacked ha.enabled"),
        "{lacked}"
    );
    // From inside, the hosting fact's hint still names the cloud APIs.
    let postgres = {
        let body = "id = \"acme.c\"\nitem = \"encryption\"\nseverity = \"low\"\ntitle = \"t\"\nwhy = \"w\"\ncondition = \"ha.enabled\"\n\n[[example]]\nname = \"e\"\nexpect = \"unknown\"\ntarget = { kind = \"postgres\" }\n";
        let catalog = Catalog::from_files(&[("acme.toml".into(), body.to_string())]).unwrap();
        run_example(&catalog.checks[0], &catalog.checks[0].check.examples[0]).detail
    };
    assert!(postgres.contains("the cloud provider's API"), "{postgres}");
}
