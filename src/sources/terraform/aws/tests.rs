use super::super::{PLAN_FIX, load};
use super::*;
use crate::facts::{FactState, Facts};
use crate::target::Role;
use serde_json::json;
use std::collections::BTreeMap;

fn now() -> DateTime<Utc> {
    "2026-12-01T00:00:00Z".parse().unwrap()
}

/// Every target of the configuration, by address (members skipped).
fn judge(config: &Configuration) -> BTreeMap<String, Collected> {
    let spec = TerraformSpec::new("main.tf");
    config
        .resources
        .iter()
        .filter(|r| [INSTANCE, CLUSTER, CLUSTER_INSTANCE].contains(&r.kind.as_str()))
        .filter_map(|r| Some((r.address.clone(), target(&spec, config, r, now())?)))
        .collect()
}

fn hcl(text: &str) -> BTreeMap<String, Collected> {
    judge(&load::from_hcl(&[("main.tf".into(), text.into())], &[]).unwrap())
}

fn facts<'a>(targets: &'a BTreeMap<String, Collected>, address: &str) -> &'a Facts {
    match &targets[address] {
        Ok(target) => &target.facts,
        Err(failure) => panic!("{address} failed: {}", failure.error),
    }
}

fn value<'a>(facts: &'a Facts, path: &str) -> &'a Json {
    facts
        .get(path)
        .and_then(|f| f.value())
        .unwrap_or_else(|| panic!("{path} is not known: {:?}", facts.get(path)))
}

/// The reason and resolution of an unknown fact.
fn unknown<'a>(facts: &'a Facts, path: &str) -> (&'a str, Option<&'a str>) {
    match facts.get(path).map(|f| &f.state) {
        Some(FactState::Unknown { unknown, resolve }) => (unknown, resolve.as_deref()),
        other => panic!("{path} is not unknown: {other:?}"),
    }
}

#[test]
fn a_good_aurora_postgres_cluster_with_two_instances_and_a_custom_group() {
    let targets = hcl(r#"
resource "aws_rds_cluster_parameter_group" "apg" {
  name   = "apg15-prod"
  family = "aurora-postgresql15"
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name         = "rds.logical_replication"
    value        = 1
    apply_method = "pending-reboot"
  }
}
resource "aws_rds_cluster" "orders" {
  cluster_identifier              = "orders"
  engine                          = "aurora-postgresql"
  engine_version                  = "15.4"
  availability_zones              = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  backup_retention_period         = 14
  storage_encrypted               = true
  kms_key_id                      = aws_kms_key.db.arn
  deletion_protection             = true
  enabled_cloudwatch_logs_exports = ["postgresql"]
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.apg.name
  master_password                 = "hunter2"
}
resource "aws_rds_cluster_instance" "orders" {
  count                        = 2
  identifier                   = "orders-${count.index}"
  cluster_identifier           = aws_rds_cluster.orders.id
  engine                       = aws_rds_cluster.orders.engine
  instance_class               = "db.r6g.large"
  monitoring_interval          = 30
  performance_insights_enabled = true
}
resource "aws_budgets_budget" "db" {
  budget_type = "COST"
  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 80
    threshold_type             = "PERCENTAGE"
    notification_type          = "FORECASTED"
    subscriber_email_addresses = ["dba@example.com"]
  }
}
"#);
    assert_eq!(
        targets.len(),
        1,
        "members are not targets: {:?}",
        targets.keys()
    );
    let target = targets["aws_rds_cluster.orders"].as_ref().unwrap();
    assert_eq!(target.role, Role::Cluster);
    assert_eq!(
        (target.engine.as_str(), target.version.as_str()),
        ("postgres", "15.4")
    );
    assert_eq!(target.id, "terraform://main.tf#aws_rds_cluster.orders");
    let f = &target.facts;
    assert_eq!(value(f, "terraform.platform"), "rds");
    assert_eq!(value(f, "rds.engine"), "aurora-postgresql");
    assert_eq!(value(f, "rds.deployment"), "aurora");
    assert_eq!(value(f, "replicas.count"), 1);
    assert_eq!(value(f, "rds.cluster.members").as_array().unwrap().len(), 2);
    assert_eq!(value(f, "ha.enabled"), true);
    assert!(
        f["ha.enabled"].origin.contains("availability_zones"),
        "{}",
        f["ha.enabled"].origin
    );
    assert_eq!(value(f, "backups.enabled"), true);
    assert_eq!(value(f, "backups.retention_days"), 14);
    assert_eq!(value(f, "pitr.enabled"), true);
    assert_eq!(value(f, "disk.autogrow"), true);
    assert_eq!(value(f, "network.public_ip"), false);
    assert_eq!(value(f, "encryption.at_rest"), true);
    assert!(
        unknown(f, "rds.kms_key_id")
            .0
            .contains("aws_kms_key.db.arn")
    );
    assert_eq!(value(f, "deletion_protection.enabled"), true);
    assert_eq!(value(f, "rds.parameters.force_ssl"), true);
    assert_eq!(value(f, "network.tls_required"), true);
    assert!(
        f["network.tls_required"]
            .origin
            .contains("cluster parameter group apg15-prod")
    );
    assert_eq!(value(f, "rds.parameters.logical_replication"), true);
    assert_eq!(value(f, "rds.parameters.log_min_duration_statement"), -1);
    assert_eq!(value(f, "rds.parameters.pending_reboot"), &json!([]));
    assert_eq!(value(f, "rds.logs.exports"), &json!(["postgresql"]));
    assert_eq!(value(f, "rds.monitoring.enhanced_interval_seconds"), 30);
    assert_eq!(value(f, "rds.monitoring.performance_insights"), true);
    assert_eq!(value(f, "cost.budget"), true);
    assert_eq!(value(f, "version.major"), "15");
    assert!(f.get("binlog.enabled").is_none(), "binlog is MySQL's");
    let evidence = serde_json::to_string(&target.evidence).unwrap();
    assert!(
        evidence.contains("apg15-prod") && evidence.contains("aws_rds_cluster_instance.orders")
    );
    assert!(!evidence.contains("hunter2"), "{evidence}");
}

#[test]
fn a_mysql_instance_left_to_the_defaults_has_no_backups_no_ha_and_no_encryption() {
    let targets = hcl(r#"
resource "aws_db_instance" "shop" {
  identifier        = "shop"
  engine            = "mysql"
  engine_version    = "8.0.35"
  instance_class    = "db.t3.micro"
  allocated_storage = 20
  username          = "admin"
  password          = "hunter2"
}
"#);
    let target = targets["aws_db_instance.shop"].as_ref().unwrap();
    assert_eq!(
        (target.role, target.engine.as_str()),
        (Role::Primary, "mysql")
    );
    let f = &target.facts;
    assert_eq!(value(f, "rds.deployment"), "instance");
    // The provider sends 0 when backup_retention_period is not written.
    assert_eq!(value(f, "backups.retention_days"), 0);
    assert!(
        f["backups.retention_days"]
            .origin
            .contains("backup_retention_period not set")
    );
    assert_eq!(value(f, "backups.enabled"), false);
    assert_eq!(value(f, "pitr.enabled"), false);
    assert_eq!(value(f, "binlog.enabled"), false);
    assert_eq!(value(f, "ha.enabled"), false);
    assert_eq!(value(f, "network.public_ip"), false);
    assert_eq!(value(f, "encryption.at_rest"), false);
    assert!(unknown(f, "rds.kms_key_id").0.contains("not encrypted"));
    assert_eq!(value(f, "deletion_protection.enabled"), false);
    assert_eq!(value(f, "disk.autogrow"), false);
    assert_eq!(value(f, "replicas.count"), 0);
    assert_eq!(value(f, "rds.monitoring.enhanced_interval_seconds"), 0);
    assert_eq!(value(f, "rds.monitoring.performance_insights"), false);
    assert_eq!(value(f, "rds.logs.exports"), &json!([]));
    // Engine defaults, as the RDS source's table has them.
    assert_eq!(value(f, "network.tls_required"), false);
    assert_eq!(value(f, "rds.parameters.require_secure_transport"), false);
    assert_eq!(value(f, "rds.parameters.binlog_format"), "MIXED");
    assert_eq!(value(f, "rds.parameters.log_output"), "TABLE");
    assert_eq!(value(f, "rds.parameters.slow_query_log"), false);
    assert_eq!(value(f, "rds.parameters.long_query_time"), 10.0);
    assert!(
        f["rds.parameters.binlog_format"]
            .origin
            .contains("engine default")
    );
    assert_eq!(value(f, "version.major"), "8.0");
    // MySQL 8.0 passed its upstream end of life (2026-04-30) and RDS's end of
    // standard support (2026-07-31), but RDS enrols the instance in paid
    // Extended Support by default: patched until 2029-07-31, not a false fail.
    assert_eq!(value(f, "version.eol_date"), "2029-07-31");
    assert_eq!(value(f, "version.days_until_eol"), &json!(973));
    assert_eq!(value(f, "version.paid_extended_support"), &json!(true));
    assert_eq!(value(f, "rds.version.standard_support_end"), "2026-07-31");
    assert!(
        f["version.eol_date"]
            .origin
            .contains("RDS calendar shipped with sqlready"),
        "{}",
        f["version.eol_date"].origin
    );
    assert!(unknown(f, "cost.budget").0.contains("aws_budgets_budget"));
    assert!(unknown(f, "rds.status").0.contains("planned resource"));
}

#[test]
fn opting_out_of_extended_support_judges_by_the_upstream_date() {
    let targets = hcl(r#"
resource "aws_db_instance" "old" {
  engine                   = "mysql"
  engine_version           = "8.0.35"
  engine_lifecycle_support = "open-source-rds-extended-support-disabled"
}
resource "aws_db_instance" "new" {
  engine         = "mysql"
  engine_version = "8.4.3"
}
"#);
    let old = facts(&targets, "aws_db_instance.old");
    assert!(value(old, "version.days_until_eol").as_i64().unwrap() < 0);
    // A version still in upstream support keeps its known date.
    let new = facts(&targets, "aws_db_instance.new");
    assert!(value(new, "version.days_until_eol").as_i64().unwrap() > 0);
}

#[test]
fn replicas_by_reference_and_by_identifier_count_and_inherit_from_their_source() {
    let targets = hcl(r#"
resource "aws_db_instance" "main" {
  identifier              = "orders"
  engine                  = "postgres"
  engine_version          = "16.3"
  allocated_storage       = 100
  backup_retention_period = 7
  storage_encrypted       = true
  parameter_group_name    = "default.postgres16"
}
resource "aws_db_instance" "replica" {
  identifier          = "orders-replica"
  replicate_source_db = aws_db_instance.main.identifier
  instance_class      = "db.r6g.large"
}
resource "aws_db_instance" "reporting" {
  count               = 2
  identifier          = "orders-reporting-${count.index}"
  replicate_source_db = "orders"
  instance_class      = "db.r6g.large"
}
"#);
    let main = facts(&targets, "aws_db_instance.main");
    assert_eq!(value(main, "replicas.count"), 3);
    assert!(
        main["replicas.count"]
            .origin
            .contains("aws_db_instance.replica")
    );
    assert_eq!(
        value(main, "rds.parameters.force_ssl"),
        true,
        "default on from PostgreSQL 15"
    );

    let replica = targets["aws_db_instance.replica"].as_ref().unwrap();
    assert_eq!(replica.role, Role::Replica);
    assert_eq!(
        (replica.engine.as_str(), replica.version.as_str()),
        ("postgres", "16.3")
    );
    let f = &replica.facts;
    assert_eq!(value(f, "rds.replica.source"), "orders");
    assert_eq!(value(f, "encryption.at_rest"), true);
    assert!(
        f["encryption.at_rest"]
            .origin
            .contains("aws_db_instance.main")
    );
    assert_eq!(value(f, "network.tls_required"), true, "the source's group");
    assert_eq!(value(f, "backups.enabled"), false);
    assert!(
        unknown(f, "rds.replica.replication_status")
            .0
            .contains("planned")
    );

    // `count = 2`: one target per instance, at Terraform's addresses.
    assert!(!targets.contains_key("aws_db_instance.reporting"));
    let reporting = targets["aws_db_instance.reporting[1]"].as_ref().unwrap();
    assert_eq!(reporting.role, Role::Replica);
    assert_eq!(value(&reporting.facts, "rds.engine"), "postgres");
}

#[test]
fn an_attribute_set_by_a_variable_without_a_value_is_unknown_and_says_which() {
    let targets = hcl(r#"
variable "ha" {}
resource "aws_db_instance" "db" {
  engine         = "postgres"
  engine_version = "15.7"
  multi_az       = var.ha
}
"#);
    let f = facts(&targets, "aws_db_instance.db");
    let (reason, resolve) = unknown(f, "ha.enabled");
    assert!(
        reason.contains("var.ha") && reason.contains("aws_db_instance.db"),
        "{reason}"
    );
    assert_eq!(resolve, Some(PLAN_FIX));
    assert_eq!(
        value(f, "network.public_ip"),
        false,
        "the rest is still judged"
    );
}

#[test]
fn oracle_an_unresolved_engine_and_a_member_without_its_cluster_are_listed() {
    let targets = hcl(r#"
variable "engine" {}
resource "aws_db_instance" "erp" {
  engine         = "oracle-ee"
  engine_version = "19.0.0.0.ru-2024-01.rur-2024-01.r1"
}
resource "aws_db_instance" "any" {
  engine = var.engine
}
resource "aws_db_instance" "member" {
  engine             = "aurora-mysql"
  cluster_identifier = "orders"
}
"#);
    // Listed as not audited (not an error), with why.
    let oracle = targets["aws_db_instance.erp"].as_ref().unwrap();
    assert_eq!(oracle.id, "terraform://main.tf#aws_db_instance.erp");
    assert_eq!(oracle.engine, "oracle-ee");
    let why = value(&oracle.facts, "terraform.not_audited")
        .as_str()
        .unwrap();
    assert!(
        why.contains("oracle-ee") && why.contains("not judged"),
        "{why}"
    );
    // An engine only a plan knows: audited, what needs the engine unknown.
    let any = facts(&targets, "aws_db_instance.any");
    match &any.get("target.engine").unwrap().state {
        FactState::Unknown { unknown, resolve } => {
            assert!(unknown.contains("var.engine"), "{unknown}");
            assert_eq!(resolve.as_deref(), Some(PLAN_FIX));
        }
        other => panic!("{other:?}"),
    }
    // Its cluster is not in this configuration: audited for what it decides itself.
    let member = facts(&targets, "aws_db_instance.member");
    assert_eq!(value(member, "network.public_ip"), &json!(false));
    assert_eq!(value(member, "rds.engine"), &json!("aurora-mysql"));
    match &member.get("backups.enabled").unwrap().state {
        FactState::Unknown { unknown, .. } => {
            assert!(unknown.contains("DB cluster orders"), "{unknown}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_plan_reads_planned_values_and_leaves_what_apply_decides_unknown() {
    let plan = json!({
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [{
            "address": "aws_db_instance.main", "mode": "managed",
            "type": "aws_db_instance", "name": "main",
            "values": {
                "engine": "postgres", "engine_version": "16.3", "multi_az": true,
                "storage_encrypted": true, "publicly_accessible": false,
                "deletion_protection": true, "allocated_storage": 50,
                "max_allocated_storage": 200, "monitoring_interval": 60,
                "performance_insights_enabled": true,
                "enabled_cloudwatch_logs_exports": ["postgresql", "upgrade"],
                "replicate_source_db": null, "parameter_group_name": "default.postgres16",
                "password": "hunter2"
            },
            "sensitive_values": {"password": true}
        }]}},
        "resource_changes": [{
            "address": "aws_db_instance.main",
            "change": {"after_unknown": {"backup_retention_period": true, "kms_key_id": true}}
        }]
    });
    let config = load::from_json("plan.json", &plan.to_string()).unwrap();
    let targets = judge(&config);
    let f = facts(&targets, "aws_db_instance.main");
    assert_eq!(value(f, "ha.enabled"), true);
    assert_eq!(value(f, "disk.autogrow"), true);
    assert_eq!(value(f, "encryption.at_rest"), true);
    assert_eq!(value(f, "deletion_protection.enabled"), true);
    assert_eq!(value(f, "network.tls_required"), true);
    assert_eq!(
        value(f, "rds.logs.exports"),
        &json!(["postgresql", "upgrade"])
    );
    for fact in ["backups.retention_days", "backups.enabled", "pitr.enabled"] {
        let (reason, resolve) = unknown(f, fact);
        assert!(
            reason.contains("backup_retention_period is known only after apply"),
            "{reason}"
        );
        assert_eq!(
            resolve,
            Some("set backup_retention_period explicitly in the configuration")
        );
    }
    assert!(unknown(f, "rds.kms_key_id").0.contains("after apply"));
}

#[test]
fn what_the_configuration_cannot_tell_stays_unknown() {
    let targets = hcl(r#"
resource "aws_rds_cluster" "shop" {
  cluster_identifier              = "shop"
  engine                          = "aurora-mysql"
  engine_version                  = "8.0.mysql_aurora.3.05.2"
  db_cluster_parameter_group_name = "shared-aurora-mysql8"
}
resource "aws_rds_cluster_instance" "a" {
  cluster_identifier = "shop"
  engine             = "aurora-mysql"
  instance_class     = "db.r6g.large"
}
resource "aws_rds_cluster_instance" "b" {
  cluster_identifier  = aws_rds_cluster.shop.id
  engine              = "aurora-mysql"
  instance_class      = "db.r6g.large"
  publicly_accessible = true
}
"#);
    let f = facts(&targets, "aws_rds_cluster.shop");
    assert_eq!(value(f, "replicas.count"), 1);
    assert!(unknown(f, "ha.enabled").0.contains("availability_zones"));
    assert_eq!(value(f, "network.public_ip"), true);
    assert!(
        f["network.public_ip"]
            .origin
            .contains("aws_rds_cluster_instance.b")
    );
    assert_eq!(
        value(f, "backups.retention_days"),
        1,
        "CreateDBCluster's default"
    );
    assert_eq!(value(f, "encryption.at_rest"), false);
    let (reason, resolve) = unknown(f, "network.tls_required");
    assert!(
        reason.contains("no aws_rds_cluster_parameter_group named shared-aurora-mysql8"),
        "{reason}"
    );
    assert!(resolve.unwrap().contains("shared-aurora-mysql8"));
    assert!(
        unknown(f, "binlog.enabled")
            .0
            .contains("shared-aurora-mysql8")
    );
}

#[test]
fn a_fact_from_a_variable_default_says_so() {
    let targets = hcl(r#"
variable "public" { default = false }
resource "aws_db_instance" "main" {
  engine              = "postgres"
  engine_version      = "16.3"
  publicly_accessible = var.public
  deletion_protection = true
}
"#);
    let f = facts(&targets, "aws_db_instance.main");
    let public = f
        .iter()
        .find(|(_, fact)| fact.origin.contains("publicly_accessible = false"))
        .map(|(_, fact)| fact.origin.clone())
        .expect("a fact read from publicly_accessible");
    assert!(
        public.contains("from the default of var.public (default in main.tf)"),
        "{public}"
    );
    let protected = f
        .iter()
        .find(|(_, fact)| fact.origin.contains("deletion_protection = true"))
        .map(|(_, fact)| fact.origin.clone())
        .unwrap();
    assert!(!protected.contains("default of"), "a literal: {protected}");
}

#[test]
fn a_member_whose_cluster_is_elsewhere_is_audited_for_its_own_attributes() {
    let targets = hcl(r#"
resource "aws_rds_cluster_instance" "reader" {
  cluster_identifier  = "ledger"
  engine              = "aurora-postgresql"
  engine_version      = "16.4"
  instance_class      = "db.r6g.large"
  publicly_accessible = true
}
"#);
    let reader = facts(&targets, "aws_rds_cluster_instance.reader");
    // What the member decides is judged, publicly_accessible above all.
    assert_eq!(value(reader, "network.public_ip"), &json!(true));
    assert_eq!(value(reader, "version.major"), &json!("16"));
    assert_eq!(
        value(reader, "rds.monitoring.enhanced_interval_seconds"),
        &json!(0)
    );
    // What its cluster decides is unknown, naming the cluster and the fix.
    for fact in [
        "backups.enabled",
        "encryption.at_rest",
        "network.tls_required",
    ] {
        match &reader.get(fact).unwrap().state {
            FactState::Unknown { unknown, resolve } => {
                assert!(unknown.contains("DB cluster ledger"), "{unknown}");
                assert!(
                    resolve
                        .as_deref()
                        .unwrap()
                        .contains("rds://REGION/cluster/ID"),
                    "{resolve:?}"
                );
            }
            other => panic!("{fact}: {other:?}"),
        }
    }
}

#[test]
fn aurora_versions_follow_auroras_calendar_not_the_communitys() {
    let targets = hcl(r#"
resource "aws_rds_cluster" "v3" {
  engine         = "aurora-mysql"
  engine_version = "8.0.mysql_aurora.3.08.0"
}
resource "aws_rds_cluster" "v2" {
  engine                   = "aurora-mysql"
  engine_version           = "5.7.mysql_aurora.2.12.3"
  engine_lifecycle_support = "open-source-rds-extended-support-disabled"
}
resource "aws_db_instance" "community" {
  engine         = "mysql"
  engine_version = "8.0.39"
  engine_lifecycle_support = "open-source-rds-extended-support-disabled"
}
"#);
    // Aurora MySQL 3 is judged by Aurora's calendar (RDS's), not MySQL 8.0's
    // community end of life: enrolled in Extended Support by default.
    let v3 = facts(&targets, "aws_rds_cluster.v3");
    assert_eq!(value(v3, "version.major"), &json!("8.0"));
    assert_eq!(
        value(v3, "rds.version.standard_support_end"),
        &json!("2028-04-30")
    );
    assert_eq!(value(v3, "version.eol_date"), &json!("2031-04-30"));
    assert_eq!(value(v3, "version.paid_extended_support"), &json!(false));
    let origin = &v3.get("version.eol_date").unwrap().origin;
    assert!(
        origin.contains("RDS calendar shipped with sqlready"),
        "{origin}"
    );
    // Aurora MySQL 2 opted out of Extended Support: Aurora's end of standard support.
    let v2 = facts(&targets, "aws_rds_cluster.v2");
    assert_eq!(value(v2, "version.eol_date"), &json!("2024-10-31"));
    // RDS for MySQL opted out: RDS's end of standard support, not the community's.
    let community = facts(&targets, "aws_db_instance.community");
    assert_eq!(value(community, "version.eol_date"), &json!("2026-07-31"));
    // A major older than every Aurora major the calendar dates ended, with no
    // Extended Support, by the oldest one's end of standard support at the
    // latest — never the community's date; a newer major it does not date yet
    // follows Aurora's calendar all the same: unknown.
    let other = hcl(r#"
resource "aws_rds_cluster" "v10" {
  engine         = "aurora-postgresql"
  engine_version = "10.21"
}
resource "aws_rds_cluster" "v1" {
  engine         = "aurora-mysql"
  engine_version = "5.6.mysql_aurora.1.23.4"
}
resource "aws_rds_cluster" "next" {
  engine         = "aurora-postgresql"
  engine_version = "99.1"
}
"#);
    let v10 = facts(&other, "aws_rds_cluster.v10");
    assert_eq!(value(v10, "version.eol_date"), "2024-02-29");
    assert_eq!(value(v10, "version.eol_upper_bound"), &json!(true));
    assert!(value(v10, "version.days_until_eol").as_i64().unwrap() < 0);
    assert!(
        v10["version.eol_date"]
            .origin
            .contains("older than every Aurora major it dates"),
        "{}",
        v10["version.eol_date"].origin
    );
    let v1 = facts(&other, "aws_rds_cluster.v1");
    assert_eq!(value(v1, "version.eol_date"), "2024-10-31");
    let next = facts(&other, "aws_rds_cluster.next");
    let (reason, resolve) = unknown(next, "version.eol_date");
    assert!(reason.contains("Aurora's own release calendar"), "{reason}");
    assert!(resolve.unwrap().contains("rds://REGION/cluster/ID"));
}
