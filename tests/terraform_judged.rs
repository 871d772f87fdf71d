//! Issue 15, through the real binary: what a Terraform configuration decides
//! is judged the same in `.tf` form, in its plan (`plan.json` beside the
//! files, in the `terraform show -json` shape) and, for the same facts, as a
//! running database would be — audit logging of RDS and Aurora, the Cloud SQL
//! facts that were left unused, one encryption policy for both clouds,
//! advice that does not lower an item, and SARIF locations for plans.

mod support;

use serde_json::Value;
use support::cli::{Run, finding, item, sqlready, status};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/terraform");

fn audit(target: &str, format: &str) -> Run {
    sqlready(&["audit", target, "--format", format, "--fail-on", "never"])
}

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

fn target<'a>(report: &'a Value, address: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["resource"] == address)
        .unwrap_or_else(|| panic!("no target {address} in {:#}", report["targets"]))
}

/// The `.tf` directory and its plan, both audited.
fn both(dir: &str) -> [(String, Value); 2] {
    let tf = fixture(dir);
    let plan = fixture(&format!("{dir}/plan.json"));
    [tf, plan].map(|path| {
        let run = audit(&path, "json");
        assert_eq!(run.code, 0, "{path}: {}", run.stderr);
        (path, run.json())
    })
}

#[test]
fn rds_and_aurora_audit_logging_is_judged_from_the_configuration_and_its_plan() {
    for (path, report) in both("audit_logging") {
        // pgaudit preloaded with pgaudit.log in the instance's parameter group, postgresql log exported.
        let orders = target(&report, "aws_db_instance.orders");
        assert_eq!(
            status(orders, "audit.rds_database_audit"),
            "pass",
            "{path}: {:#}",
            finding(orders, "audit.rds_database_audit")
        );
        assert!(
            finding(orders, "audit.rds_database_audit")["detail"]
                .as_str()
                .unwrap()
                .contains("ddl,role")
        );
        assert_eq!(
            status(orders, "audit.rds_audit_log_export"),
            "pass",
            "{path}"
        );
        assert_eq!(item(orders, "audit_logging"), "pass", "{path}");

        // MariaDB: MARIADB_AUDIT_PLUGIN in the aws_db_option_group it names, audit log exported.
        let billing = target(&report, "aws_db_instance.billing");
        let plugin = finding(billing, "audit.rds_database_audit");
        assert_eq!(plugin["status"], "pass", "{path}: {plugin:#}");
        assert!(
            plugin["detail"]
                .as_str()
                .unwrap()
                .contains("CONNECT,QUERY_DDL,QUERY_DCL"),
            "{plugin:#}"
        );
        assert_eq!(item(billing, "audit_logging"), "pass", "{path}");

        // MySQL with the default option group: no audit trail — fail, not n/a.
        let legacy = target(&report, "aws_db_instance.legacy");
        assert_eq!(status(legacy, "audit.rds_database_audit"), "fail", "{path}");
        assert_eq!(
            status(legacy, "audit.rds_audit_log_export"),
            "n/a",
            "{path}"
        );
        assert_eq!(item(legacy, "audit_logging"), "fail", "{path}");

        // Aurora MySQL: Advanced Auditing in the cluster parameter group, audit log not exported.
        let ledger = target(&report, "aws_rds_cluster.ledger");
        let advanced = finding(ledger, "audit.rds_database_audit");
        assert_eq!(advanced["status"], "pass", "{path}: {advanced:#}");
        assert!(
            advanced["detail"]
                .as_str()
                .unwrap()
                .contains("CONNECT,QUERY_DDL")
        );
        assert_eq!(
            status(ledger, "audit.rds_audit_log_export"),
            "warn",
            "{path}"
        );
        assert_eq!(item(ledger, "audit_logging"), "warn", "{path}");

        // Aurora PostgreSQL: the aws_rds_cluster_activity_stream linked to the cluster's ARN.
        let payments = target(&report, "aws_rds_cluster.payments");
        let stream = finding(payments, "audit.rds_database_audit");
        assert_eq!(stream["status"], "pass", "{path}: {stream:#}");
        assert!(
            stream["detail"]
                .as_str()
                .unwrap()
                .contains("Activity Stream (async)"),
            "{stream:#}"
        );
        assert_eq!(
            status(payments, "audit.rds_audit_log_export"),
            "n/a",
            "{path}"
        );
    }
}

#[test]
fn encryption_means_encrypted_at_rest_and_a_customer_key_is_advice_in_both_clouds() {
    let [(_, aws_tf), (_, aws_plan)] = both("audit_logging");
    let [(_, gcp_tf), (_, gcp_plan)] = both("cloudsql_facts");
    for report in [&aws_tf, &aws_plan] {
        // A key of this configuration (aws_kms_key): customer managed.
        for address in ["aws_db_instance.orders", "aws_rds_cluster.payments"] {
            let t = target(report, address);
            assert_eq!(
                status(t, "encryption.customer_managed_key"),
                "pass",
                "{address}"
            );
            assert_eq!(item(t, "encryption"), "pass", "{address}");
        }
        // Encrypted with the AWS managed key: encrypted (pass), the customer key is advice.
        let billing = target(report, "aws_db_instance.billing");
        let cmk = finding(billing, "encryption.customer_managed_key");
        assert_eq!(cmk["status"], "warn", "{cmk:#}");
        assert_eq!(cmk["advisory"], true, "{cmk:#}");
        assert_eq!(status(billing, "encryption.at_rest"), "pass");
        assert_eq!(
            item(billing, "encryption"),
            "pass",
            "advice does not lower the item"
        );
        // Unencrypted: the item fails on encryption.at_rest.
        let legacy = target(report, "aws_db_instance.legacy");
        assert_eq!(status(legacy, "encryption.at_rest"), "fail");
        assert_eq!(item(legacy, "encryption"), "fail");
    }
    for report in [&gcp_tf, &gcp_plan] {
        // encryption_key_name = var.kms_key: CMEK whatever the key (in .tf mode the variable has no value).
        let shop = target(report, "google_sql_database_instance.shop");
        assert_eq!(
            status(shop, "encryption.customer_managed_key"),
            "pass",
            "{:#}",
            finding(shop, "encryption.customer_managed_key")
        );
        // The Google-managed key: the same advice as AWS's managed key, the item passes.
        let catalog = target(report, "google_sql_database_instance.catalog");
        assert_eq!(status(catalog, "encryption.customer_managed_key"), "warn");
        assert_eq!(status(catalog, "encryption.at_rest"), "pass");
        assert_eq!(item(catalog, "encryption"), "pass");
    }
}

#[test]
fn cloud_sql_binary_log_cmek_variable_and_replica_maintenance_are_used() {
    for (path, report) in both("cloudsql_facts") {
        // binary_log_enabled with backups off: Cloud SQL writes no binary log, so no CDC.
        let shop = target(&report, "google_sql_database_instance.shop");
        let binlog = finding(shop, "cdc.cloudsql_mysql_binlog");
        assert_eq!(binlog["status"], "fail", "{path}: {binlog:#}");
        assert_eq!(
            binlog["evidence"]["binlog.enabled"], false,
            "{path}: {binlog:#}"
        );
        // Backups and the binary log on: the log CDC reads is there.
        let catalog = target(&report, "google_sql_database_instance.catalog");
        assert_eq!(
            status(catalog, "cdc.cloudsql_mysql_binlog"),
            "pass",
            "{path}: {:#}",
            finding(catalog, "cdc.cloudsql_mysql_binlog")
        );
        // The replica sets no window: it is maintained in its primary's (Sunday 03:00).
        let replica = target(&report, "google_sql_database_instance.shop_replica");
        let window = finding(replica, "version.cloudsql_maintenance_window");
        assert_eq!(window["status"], "pass", "{path}: {window:#}");
        assert!(
            window["detail"].as_str().unwrap().contains("day 7"),
            "{window:#}"
        );
        // The primary without CMEK-less advice: encryption passes.
        assert_eq!(item(shop, "encryption"), "pass", "{path}");
    }
}

#[test]
fn advice_is_shown_apart_in_the_table_and_does_not_lower_the_item() {
    let run = audit(&fixture("audit_logging"), "table");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let billing = run
        .stdout
        .split("aws_db_instance.billing")
        .nth(2)
        .unwrap_or_else(|| panic!("no billing section in\n{}", run.stdout));
    let billing = billing.split("terraform://").next().unwrap();
    assert!(billing.contains("advice:"), "{billing}");
    let advice = billing.split("advice:").nth(1).unwrap();
    assert!(
        advice.contains("encryption.customer_managed_key"),
        "{billing}"
    );
    let to_fix = billing.split("advice:").next().unwrap();
    assert!(
        !to_fix.contains("encryption.customer_managed_key"),
        "{billing}"
    );
    assert!(
        billing.contains("encryption (+ advice)") || billing.contains("pass + advice"),
        "{billing}"
    );
}

#[test]
fn sarif_points_plan_results_at_the_tf_block_beside_the_plan() {
    let plan = fixture("audit_logging/plan.json");
    let run = audit(&plan, "sarif");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let main_tf = std::fs::read_to_string(fixture("audit_logging/main.tf")).unwrap();
    let line_of = |block: &str| main_tf.lines().position(|l| l.starts_with(block)).unwrap() + 1;
    for (address, block) in [
        (
            "aws_db_instance.legacy",
            "resource \"aws_db_instance\" \"legacy\"",
        ),
        (
            "aws_rds_cluster.ledger",
            "resource \"aws_rds_cluster\" \"ledger\"",
        ),
    ] {
        let result = results
            .iter()
            .find(|r| {
                r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                    .as_str()
                    .is_some_and(|n| n.ends_with(&format!("#{address}")))
            })
            .unwrap_or_else(|| panic!("no result for {address}"));
        let physical = &result["locations"][0]["physicalLocation"];
        assert!(
            physical["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("audit_logging/main.tf"),
            "{physical:#}"
        );
        assert_eq!(
            physical["region"]["startLine"],
            line_of(block),
            "{address}: {physical:#}"
        );
    }

    // A plan with no .tf beside it: the plan file, at the line naming the address.
    let dir = tempfile::tempdir().unwrap();
    let lone = dir.path().join("plan.json");
    std::fs::copy(&plan, &lone).unwrap();
    let run = audit(lone.to_str().unwrap(), "sarif");
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    let text = std::fs::read_to_string(&lone).unwrap();
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                .as_str()
                .is_some_and(|n| n.ends_with("#aws_db_instance.legacy"))
        })
        .unwrap();
    let physical = &result["locations"][0]["physicalLocation"];
    assert!(
        physical["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("plan.json"),
        "{physical:#}"
    );
    let line = physical["region"]["startLine"].as_u64().unwrap() as usize;
    let named = text.lines().nth(line - 1).unwrap();
    assert!(
        named.contains("\"address\": \"aws_db_instance.legacy\""),
        "line {line}: {named}"
    );
}

/// Issue 15: Markdown, HTML and JUnit show advice apart, as the table and
/// JSON do: an advisory `warn` beside a passing item is never listed among
/// what to fix, never a JUnit `<failure>`.
#[test]
fn advice_is_shown_apart_in_markdown_html_and_junit() {
    const ADVICE: &str = "encryption.customer_managed_key";
    let path = fixture("audit_logging");
    // The JSON says what the other formats must show: billing's key is advice.
    let report = audit(&path, "json").json();
    let billing = target(&report, "aws_db_instance.billing");
    assert_eq!(item(billing, "encryption"), "pass");
    assert_eq!(status(billing, ADVICE), "warn");
    assert_eq!(finding(billing, ADVICE)["advisory"], true);

    let run = audit(&path, "markdown");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let section = run
        .stdout
        .split("\n### ")
        .find(|s| s.contains("aws_db_instance.billing") && s.contains("| encryption |"))
        .unwrap_or_else(|| panic!("no billing section in\n{}", run.stdout));
    let encryption = section
        .lines()
        .find(|l| l.starts_with("| encryption |"))
        .unwrap();
    assert!(encryption.contains("pass + advice"), "{encryption}");
    let (to_fix, advice) = section
        .split_once("<summary>Advice (")
        .unwrap_or_else(|| panic!("no advice in\n{section}"));
    assert!(advice.contains(ADVICE), "{section}");
    assert!(!to_fix.contains(&format!("`{ADVICE}`")), "{section}");

    let run = audit(&path, "html");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let section = run
        .stdout
        .split("<section class=\"target\"")
        .find(|s| s.contains("aws_db_instance.billing</h3>"))
        .unwrap_or_else(|| panic!("no billing section"));
    let section = section.split("</section>").next().unwrap();
    let (open, rest) = section
        .split_once("<h4>advice — does not lower its item</h4>")
        .unwrap_or_else(|| panic!("no advice in {section}"));
    let advice = rest.split("</table>").next().unwrap();
    assert!(
        advice.contains(ADVICE) && advice.contains("advice"),
        "{advice}"
    );
    assert!(!open.contains(ADVICE), "{open}");
    assert!(
        run.stdout.contains("pass + advice"),
        "the fleet matrix marks the item"
    );

    let run = audit(&path, "junit");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let suite = run
        .stdout
        .split("<testsuite ")
        .find(|s| s.contains("aws_db_instance.billing"))
        .unwrap();
    let testcase = suite
        .split("<testcase ")
        .find(|t| t.starts_with(&format!("name=\"{ADVICE}\"")))
        .unwrap_or_else(|| panic!("no {ADVICE} testcase in {suite}"));
    assert!(!testcase.contains("<failure"), "{testcase}");
    assert!(testcase.contains("<system-out>advice"), "{testcase}");
    assert!(suite.contains("<property name=\"advice\""), "{suite}");
    // A real warn of the same suite stays a failure.
    let warns = billing["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "warn" && f["advisory"] != true)
        .count();
    let failures = suite.matches("<failure type=\"warn\"").count();
    assert_eq!(failures, warns, "{suite}");
}
