//! Semantics on typed fixtures built with the SDK's own builders: what AWS
//! documents, including what emulators get wrong (a restorable time with
//! retention 0, replicas that copy their source's settings, absent fields).

use super::*;
use crate::sources::rds::params::ParamRow;
use aws_sdk_rds::types::{
    DbClusterMember, DbInstanceAutomatedBackupsReplication, DbInstanceStatusInfo,
    DbParameterGroupStatus,
};
use serde_json::json;
use std::collections::BTreeMap;

const NOW: i64 = 1_795_000_000; // 2026-11-18

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(NOW, 0).unwrap()
}

fn api_lifecycle(end: &str) -> Lifecycle {
    Lifecycle::Api {
        standard_end: NaiveDate::parse_from_str(end, "%Y-%m-%d").ok(),
        extended_end: None,
    }
}

fn ctx<'a>(groups: &'a [GroupReading], lifecycle: &'a Lifecycle) -> Context<'a> {
    Context {
        region: "us-east-1",
        now: now(),
        groups,
        lifecycle,
        replicas: &NO_REPLICAS,
    }
}

static NO_REPLICAS: std::sync::LazyLock<
    std::collections::HashMap<String, Result<DbInstance, String>>,
> = std::sync::LazyLock::new(Default::default);

fn group(name: &str, level: &'static str, status: &str, rows: &[(&str, &str)]) -> GroupReading {
    GroupReading {
        name: name.into(),
        level,
        apply_status: Some(status.into()),
        params: if name.starts_with("default.") {
            GroupParams::Default
        } else {
            GroupParams::Custom(
                rows.iter()
                    .map(|(n, v)| {
                        (
                            n.to_string(),
                            ParamRow {
                                value: Some(v.to_string()),
                                apply_type: None,
                                source: Some("user".into()),
                            },
                        )
                    })
                    .collect::<BTreeMap<_, _>>(),
            )
        },
    }
}

fn value(target: &TargetFacts, path: &str) -> Json {
    match target.facts.get(path) {
        Some(fact) => fact
            .value()
            .cloned()
            .unwrap_or_else(|| json!({"unknown": fact_reason(target, path)})),
        None => panic!(
            "no fact {path} in {:#?}",
            target.facts.keys().collect::<Vec<_>>()
        ),
    }
}

fn fact_reason(target: &TargetFacts, path: &str) -> String {
    match &target.facts[path].state {
        crate::facts::FactState::Unknown { unknown, .. } => unknown.clone(),
        crate::facts::FactState::Known { .. } => String::new(),
    }
}

fn is_unknown(target: &TargetFacts, path: &str) -> bool {
    target.facts.get(path).is_some_and(|f| f.value().is_none())
}

fn good_postgres() -> DbInstance {
    DbInstance::builder()
        .db_instance_identifier("orders-db")
        .db_instance_arn("arn:aws:rds:us-east-1:123456789012:db:orders-db")
        .db_instance_status("available")
        .engine("postgres")
        .engine_version("15.7")
        .multi_az(true)
        .availability_zone("us-east-1a")
        .backup_retention_period(14)
        .latest_restorable_time(AwsDateTime::from_secs(NOW - 120))
        .db_instance_automated_backups_replications(
            DbInstanceAutomatedBackupsReplication::builder()
                .db_instance_automated_backups_arn(
                    "arn:aws:rds:us-west-2:123456789012:auto-backup:ab-1",
                )
                .build(),
        )
        .allocated_storage(100)
        .max_allocated_storage(500)
        .publicly_accessible(false)
        .storage_encrypted(true)
        .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/1111")
        .deletion_protection(true)
        .monitoring_interval(60)
        .performance_insights_enabled(true)
        .enabled_cloudwatch_logs_exports("postgresql")
        .read_replica_db_instance_identifiers("orders-db-replica-1")
        .db_parameter_groups(
            DbParameterGroupStatus::builder()
                .db_parameter_group_name("pg15-prod")
                .parameter_apply_status("in-sync")
                .build(),
        )
        .build()
}

#[test]
fn a_good_standalone_postgres_instance() {
    let db = good_postgres();
    assert_eq!(instance_groups(&db)[0].name, "pg15-prod");
    let groups = [group(
        "pg15-prod",
        "instance",
        "in-sync",
        &[
            ("rds.logical_replication", "1"),
            ("log_min_duration_statement", "500"),
        ],
    )];
    let lifecycle = api_lifecycle("2027-11-30");
    let replicas = std::collections::HashMap::from([(
        "orders-db-replica-1".to_string(),
        Ok(DbInstance::builder()
            .db_instance_identifier("orders-db-replica-1")
            .db_instance_status("available")
            .build()),
    )]);
    let target = instance_target(
        &db,
        &Context {
            replicas: &replicas,
            ..ctx(&groups, &lifecycle)
        },
    );
    assert_eq!(target.id, "rds://us-east-1/db/orders-db");
    assert_eq!(target.role, Role::Primary);
    assert_eq!(target.engine, "postgres");
    assert_eq!(
        target.resource.as_deref(),
        Some("arn:aws:rds:us-east-1:123456789012:db:orders-db")
    );
    for (path, expected) in [
        ("ha.enabled", json!(true)),
        ("backups.enabled", json!(true)),
        ("backups.retention_days", json!(14)),
        ("pitr.enabled", json!(true)),
        ("rds.backups.latest_restorable_age_seconds", json!(120.0)),
        ("rds.backups.cross_region_replication", json!(true)),
        ("disk.autogrow", json!(true)),
        ("network.public_ip", json!(false)),
        ("encryption.at_rest", json!(true)),
        ("deletion_protection.enabled", json!(true)),
        ("replicas.count", json!(1)),
        ("rds.monitoring.enhanced_interval_seconds", json!(60)),
        ("rds.monitoring.performance_insights", json!(true)),
        ("rds.logs.exports", json!(["postgresql"])),
        ("rds.parameters.logical_replication", json!(true)),
        ("rds.parameters.log_min_duration_statement", json!(500)),
        ("rds.parameters.pending_reboot", json!([])),
        // Not overridden: the PostgreSQL 15 default turns TLS enforcement on.
        ("rds.parameters.force_ssl", json!(true)),
        ("network.tls_required", json!(true)),
        ("version.major", json!("15")),
        ("version.eol_date", json!("2027-11-30")),
        (
            "rds.version.lifecycle_source",
            json!("DescribeDBMajorEngineVersions"),
        ),
    ] {
        assert_eq!(value(&target, path), expected, "{path}");
    }
    assert!(
        target.facts["network.tls_required"]
            .origin
            .contains("engine default")
    );
    assert!(target.facts["disk.autogrow"].origin.contains("500 GiB"));
    // Alarms are outside the RDS API: unknown, with the way to find out.
    assert!(is_unknown(&target, "monitoring.alerting"));
    assert_eq!(target.evidence[0].name, "DescribeDBInstances");
    assert_eq!(target.evidence[0].response["BackupRetentionPeriod"], 14);
    assert!(
        target
            .evidence
            .iter()
            .any(|e| e.name == "DescribeDBParameters")
    );
}

#[test]
fn retention_zero_means_no_backups_and_no_pitr_whatever_the_restorable_time() {
    // moto reports a LatestRestorableTime even with retention 0: AWS keeps no logs then.
    let db = DbInstance::builder()
        .db_instance_identifier("legacy-mysql")
        .engine("mysql")
        .engine_version("8.0.36")
        .multi_az(false)
        .backup_retention_period(0)
        .latest_restorable_time(AwsDateTime::from_secs(NOW - 86_400))
        .allocated_storage(20)
        .publicly_accessible(true)
        .storage_encrypted(false)
        .deletion_protection(false)
        .monitoring_interval(0)
        .performance_insights_enabled(false)
        .db_parameter_groups(
            DbParameterGroupStatus::builder()
                .db_parameter_group_name("default.mysql8.0")
                .parameter_apply_status("in-sync")
                .build(),
        )
        .build();
    let groups = [group("default.mysql8.0", "instance", "in-sync", &[])];
    let lifecycle =
        Lifecycle::Unavailable("DescribeDBMajorEngineVersions failed (HTTP 500)".into());
    let target = instance_target(&db, &ctx(&groups, &lifecycle));
    assert_eq!(target.engine, "mysql");
    for (path, expected) in [
        ("backups.enabled", json!(false)),
        ("pitr.enabled", json!(false)),
        ("binlog.enabled", json!(false)),
        ("disk.autogrow", json!(false)),
        ("network.public_ip", json!(true)),
        ("encryption.at_rest", json!(false)),
        ("ha.enabled", json!(false)),
        ("rds.backups.cross_region_replication", json!(false)),
        ("rds.parameters.binlog_format", json!("MIXED")),
        ("rds.parameters.slow_query_log", json!(false)),
        ("rds.parameters.long_query_time", json!(10.0)),
        ("rds.parameters.require_secure_transport", json!(false)),
        ("network.tls_required", json!(false)),
        ("version.major", json!("8.0")),
        ("version.table_date", json!(eol::extended::RDS_TABLE_DATE)),
    ] {
        assert_eq!(value(&target, path), expected, "{path}");
    }
    // MySQL 8.0 passed its upstream end of life (2026-04-30) and RDS standard support
    // (2026-07-31); without EngineLifecycleSupport RDS enrols it in paid Extended Support,
    // which RDS's published calendar (shipped with sqlready) ends on 2029-07-31: security
    // fixes until then, billed — never a false "no more fixes".
    assert_eq!(value(&target, "version.eol_date"), json!("2029-07-31"));
    assert_eq!(value(&target, "version.paid_extended_support"), json!(true));
    assert_eq!(
        value(&target, "rds.version.standard_support_end"),
        json!("2026-07-31")
    );
    assert!(
        target.facts["version.eol_date"]
            .origin
            .contains("vCPU-hour"),
        "{}",
        target.facts["version.eol_date"].origin
    );
    // Opted out: RDS upgrades it when standard support ends; that date counts.
    let opted_out = DbInstance::builder()
        .db_instance_identifier("legacy-mysql")
        .engine("mysql")
        .engine_version("8.0.36")
        .engine_lifecycle_support("open-source-rds-extended-support-disabled")
        .build();
    let opted = instance_target(&opted_out, &ctx(&groups, &lifecycle));
    assert_eq!(value(&opted, "version.eol_date"), json!("2026-07-31"));
    assert_eq!(value(&opted, "version.paid_extended_support"), json!(false));
    assert!(is_unknown(
        &target,
        "rds.backups.latest_restorable_age_seconds"
    ));
    assert!(
        fact_reason(&target, "rds.backups.latest_restorable_age_seconds")
            .contains("automated backups are off")
    );
    assert!(
        value(&target, "rds.version.lifecycle_source")
            .as_str()
            .unwrap()
            .contains("HTTP 500")
    );
    assert!(
        target.facts["binlog.enabled"]
            .origin
            .contains("BackupRetentionPeriod = 0")
    );
}

#[test]
fn a_read_replica_says_where_it_replicates_from() {
    let db = DbInstance::builder()
        .db_instance_identifier("orders-db-replica-1")
        .engine("postgres")
        .engine_version("15.7")
        .read_replica_source_db_instance_identifier("orders-db")
        .backup_retention_period(0)
        .status_infos(
            DbInstanceStatusInfo::builder()
                .status_type("read replication")
                .status("error")
                .normal(false)
                .message("replication slot lost")
                .build(),
        )
        .build();
    let lifecycle = api_lifecycle("2027-11-30");
    let target = instance_target(&db, &ctx(&[], &lifecycle));
    assert_eq!(target.role, Role::Replica);
    assert_eq!(value(&target, "rds.replica.source"), json!("orders-db"));
    assert_eq!(
        value(&target, "rds.replica.replication_status"),
        json!("error: replication slot lost")
    );
    assert_eq!(value(&target, "replicas.count"), json!(0));
    // Fields AWS sends but this response lacks stay unknown, never false.
    assert!(is_unknown(&target, "ha.enabled"));
    assert!(is_unknown(&target, "encryption.at_rest"));
    assert!(is_unknown(&target, "disk.autogrow"));
    assert!(is_unknown(&target, "rds.monitoring.performance_insights"));
}

#[test]
fn a_replica_without_status_infos_is_unknown() {
    let db = DbInstance::builder()
        .db_instance_identifier("r")
        .engine("mysql")
        .engine_version("8.0.36")
        .read_replica_source_db_instance_identifier("arn:aws:rds:eu-west-1:123456789012:db:src")
        .build();
    let lifecycle = api_lifecycle("2026-07-31");
    let target = instance_target(&db, &ctx(&[], &lifecycle));
    assert!(is_unknown(&target, "rds.replica.replication_status"));
}

fn aurora_member(id: &str, zone: &str, pi: bool, interval: i32) -> DbInstance {
    DbInstance::builder()
        .db_instance_identifier(id)
        .db_cluster_identifier("orders-aurora")
        .engine("aurora-postgresql")
        .engine_version("15.4")
        .availability_zone(zone)
        .db_instance_status("available")
        .db_instance_class("db.r6g.large")
        .publicly_accessible(false)
        .performance_insights_enabled(pi)
        .monitoring_interval(interval)
        .multi_az(false)
        .storage_encrypted(false)
        .db_parameter_groups(
            DbParameterGroupStatus::builder()
                .db_parameter_group_name("default.aurora-postgresql15")
                .parameter_apply_status("in-sync")
                .build(),
        )
        .build()
}

fn aurora(members: &[(&str, bool)], status: &str) -> DbCluster {
    let mut builder = DbCluster::builder()
        .db_cluster_identifier("orders-aurora")
        .db_cluster_arn("arn:aws:rds:us-east-1:123456789012:cluster:orders-aurora")
        .engine("aurora-postgresql")
        .engine_version("15.4")
        .status("available")
        .multi_az(false)
        .backup_retention_period(7)
        .latest_restorable_time(AwsDateTime::from_secs(NOW - 60))
        .storage_encrypted(true)
        .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/2222")
        .deletion_protection(true)
        .db_cluster_parameter_group("apg15-cdc")
        .enabled_cloudwatch_logs_exports("postgresql");
    for (id, writer) in members {
        builder = builder.db_cluster_members(
            DbClusterMember::builder()
                .db_instance_identifier(*id)
                .is_cluster_writer(*writer)
                .db_cluster_parameter_group_status(status)
                .build(),
        );
    }
    builder.build()
}

#[test]
fn an_aurora_cluster_is_judged_on_the_cluster_and_its_readers_are_its_replicas() {
    let cluster = aurora(
        &[("orders-aurora-1", true), ("orders-aurora-2", false)],
        "pending-reboot",
    );
    // Members are not encrypted or Multi-AZ on their own: that is judged on the cluster.
    let members = [
        aurora_member("orders-aurora-1", "us-east-1a", true, 60),
        aurora_member("orders-aurora-2", "us-east-1b", true, 30),
    ];
    let refs = cluster_groups(&cluster, &members);
    assert_eq!(
        refs.iter()
            .map(|g| (g.name.as_str(), g.level))
            .collect::<Vec<_>>(),
        [
            ("default.aurora-postgresql15", "instance"),
            ("apg15-cdc", "cluster")
        ]
    );
    assert_eq!(refs[1].apply_status.as_deref(), Some("pending-reboot"));
    let groups = [
        group("default.aurora-postgresql15", "instance", "in-sync", &[]),
        group(
            "apg15-cdc",
            "cluster",
            "pending-reboot",
            &[("rds.logical_replication", "1")],
        ),
    ];
    let lifecycle = api_lifecycle("2028-02-29");
    let target = cluster_target(&cluster, &members, &ctx(&groups, &lifecycle));
    assert_eq!(target.id, "rds://us-east-1/cluster/orders-aurora");
    assert_eq!(target.role, Role::Cluster);
    assert_eq!(target.engine, "postgres");
    for (path, expected) in [
        ("rds.deployment", json!("aurora")),
        ("ha.enabled", json!(true)),
        ("replicas.count", json!(1)),
        ("backups.retention_days", json!(7)),
        ("pitr.enabled", json!(true)),
        ("rds.backups.latest_restorable_age_seconds", json!(60.0)),
        ("disk.autogrow", json!(true)),
        ("encryption.at_rest", json!(true)),
        ("deletion_protection.enabled", json!(true)),
        ("network.public_ip", json!(false)),
        ("rds.monitoring.performance_insights", json!(true)),
        ("rds.monitoring.enhanced_interval_seconds", json!(60)),
        ("rds.parameters.logical_replication", json!(true)),
        (
            "rds.parameters.pending_reboot",
            json!(["rds.logical_replication"]),
        ),
        ("network.tls_required", json!(false)),
    ] {
        assert_eq!(value(&target, path), expected, "{path}");
    }
    assert!(target.facts["ha.enabled"].origin.contains("us-east-1b"));
    let members = value(&target, "rds.cluster.members");
    assert_eq!(members[1]["availability_zone"], "us-east-1b");
    assert_eq!(members[0]["writer"], true);
    assert!(
        target
            .evidence
            .iter()
            .filter(|e| e.name == "DescribeDBInstances")
            .count()
            == 2
    );
}

#[test]
fn an_aurora_writer_alone_or_with_readers_in_its_zone_has_no_failover() {
    let alone = aurora(&[("w", true)], "in-sync");
    let lifecycle = api_lifecycle("2028-02-29");
    let target = cluster_target(
        &alone,
        &[aurora_member("w", "us-east-1a", true, 0)],
        &ctx(&[], &lifecycle),
    );
    assert_eq!(value(&target, "ha.enabled"), json!(false));
    assert_eq!(value(&target, "replicas.count"), json!(0));
    assert_eq!(
        value(&target, "rds.monitoring.enhanced_interval_seconds"),
        json!(0)
    );

    let same_zone = aurora(&[("w", true), ("r", false)], "in-sync");
    let members = [
        aurora_member("w", "us-east-1a", true, 60),
        aurora_member("r", "us-east-1a", false, 60),
    ];
    let target = cluster_target(&same_zone, &members, &ctx(&[], &lifecycle));
    assert_eq!(value(&target, "ha.enabled"), json!(false));
    assert_eq!(value(&target, "replicas.count"), json!(1));
    // Performance Insights must be on every member that may become the writer.
    assert_eq!(
        value(&target, "rds.monitoring.performance_insights"),
        json!(false)
    );
}

#[test]
fn aurora_member_zones_unknown_falls_back_to_multi_az_and_a_public_member_is_exposure() {
    let cluster = aurora(&[("w", true), ("r", false)], "in-sync");
    let lifecycle = api_lifecycle("2028-02-29");
    let target = cluster_target(&cluster, &[], &ctx(&[], &lifecycle));
    assert_eq!(value(&target, "ha.enabled"), json!(false));
    assert!(target.facts["ha.enabled"].origin.contains("MultiAZ"));
    assert!(is_unknown(&target, "network.public_ip"));
    assert!(is_unknown(&target, "rds.monitoring.performance_insights"));

    let public = DbInstance::builder()
        .db_instance_identifier("r")
        .availability_zone("us-east-1c")
        .publicly_accessible(true)
        .build();
    let target = cluster_target(
        &cluster,
        &[aurora_member("w", "us-east-1a", true, 60), public],
        &ctx(&[], &lifecycle),
    );
    assert_eq!(value(&target, "network.public_ip"), json!(true));
}

#[test]
fn a_multi_az_db_cluster_has_standbys_by_definition() {
    let cluster = DbCluster::builder()
        .db_cluster_identifier("orders-maz")
        .engine("postgres")
        .engine_version("16.3")
        .db_cluster_instance_class("db.m6gd.large")
        .multi_az(true)
        .backup_retention_period(7)
        .publicly_accessible(false)
        .storage_encrypted(true)
        .deletion_protection(false)
        .monitoring_interval(0)
        .performance_insights_enabled(false)
        .db_cluster_parameter_group("default.postgres16")
        .build();
    let lifecycle = api_lifecycle("2029-02-28");
    let groups = [group("default.postgres16", "cluster", "in-sync", &[])];
    let target = cluster_target(&cluster, &[], &ctx(&groups, &lifecycle));
    assert_eq!(value(&target, "rds.deployment"), json!("multi-az-cluster"));
    assert_eq!(value(&target, "ha.enabled"), json!(true));
    assert_eq!(value(&target, "network.public_ip"), json!(false));
    assert_eq!(value(&target, "deletion_protection.enabled"), json!(false));
    assert_eq!(value(&target, "network.tls_required"), json!(true));
    // AWS: Multi-AZ DB clusters don't support storage autoscaling.
    assert_eq!(value(&target, "disk.autogrow"), json!(false));
    assert!(
        target.facts["disk.autogrow"]
            .origin
            .contains("does not support storage autoscaling")
    );
}

#[test]
fn a_public_member_of_a_multi_az_db_cluster_is_exposure_whatever_the_cluster_flag() {
    let cluster = DbCluster::builder()
        .db_cluster_identifier("orders-maz")
        .engine("mysql")
        .engine_version("8.0.39")
        .multi_az(true)
        .publicly_accessible(false)
        .db_cluster_members(
            DbClusterMember::builder()
                .db_instance_identifier("orders-maz-1")
                .is_cluster_writer(true)
                .build(),
        )
        .build();
    let public = DbInstance::builder()
        .db_instance_identifier("orders-maz-1")
        .db_cluster_identifier("orders-maz")
        .publicly_accessible(true)
        .build();
    let lifecycle = api_lifecycle("2026-07-31");
    let target = cluster_target(&cluster, &[public], &ctx(&[], &lifecycle));
    assert_eq!(value(&target, "network.public_ip"), json!(true));
    // Without the member's answer, the cluster's own flag decides.
    let target = cluster_target(&cluster, &[], &ctx(&[], &lifecycle));
    assert_eq!(value(&target, "network.public_ip"), json!(false));
}

#[test]
fn an_aurora_cluster_flag_does_not_hide_a_public_member() {
    // DBCluster.PubliclyAccessible is only for Multi-AZ DB clusters: on Aurora,
    // exposure is per instance.
    let mut cluster = aurora(&[("w", true), ("r", false)], "in-sync");
    cluster.publicly_accessible = Some(false);
    let lifecycle = api_lifecycle("2028-02-29");
    let public_reader = DbInstance::builder()
        .db_instance_identifier("r")
        .availability_zone("us-east-1b")
        .publicly_accessible(true)
        .build();
    let target = cluster_target(
        &cluster,
        &[aurora_member("w", "us-east-1a", true, 60), public_reader],
        &ctx(&[], &lifecycle),
    );
    assert_eq!(value(&target, "network.public_ip"), json!(true));
    assert!(
        target.facts["network.public_ip"]
            .origin
            .contains("member r")
    );
    // A member whose flag is unknown leaves the cluster unknown, not private.
    let target = cluster_target(
        &cluster,
        &[aurora_member("w", "us-east-1a", true, 60)],
        &ctx(&[], &lifecycle),
    );
    assert!(is_unknown(&target, "network.public_ip"));
}

#[test]
fn aurora_mysql_binlog_follows_the_cluster_parameter() {
    let cluster = DbCluster::builder()
        .db_cluster_identifier("shop")
        .engine("aurora-mysql")
        .engine_version("8.0.mysql_aurora.3.05.2")
        .backup_retention_period(1)
        .db_cluster_parameter_group("default.aurora-mysql8.0")
        .build();
    let lifecycle = api_lifecycle("2028-04-30");
    let defaults = [group("default.aurora-mysql8.0", "cluster", "in-sync", &[])];
    let target = cluster_target(&cluster, &[], &ctx(&defaults, &lifecycle));
    assert_eq!(target.engine, "mysql");
    assert_eq!(value(&target, "version.major"), json!("8.0"));
    assert_eq!(value(&target, "binlog.enabled"), json!(false));
    assert_eq!(value(&target, "rds.parameters.binlog_format"), json!("OFF"));
    let row = [group(
        "shop-cdc",
        "cluster",
        "in-sync",
        &[("binlog_format", "row")],
    )];
    let target = cluster_target(&cluster, &[], &ctx(&row, &lifecycle));
    assert_eq!(value(&target, "binlog.enabled"), json!(true));
    assert_eq!(value(&target, "rds.parameters.binlog_format"), json!("ROW"));
}

#[test]
fn an_unreadable_parameter_group_leaves_parameters_unknown_not_default() {
    let db = good_postgres();
    let groups = [GroupReading {
        name: "pg15-prod".into(),
        level: "instance",
        apply_status: Some("in-sync".into()),
        params: GroupParams::Unreadable("DescribeDBParameters in us-east-1 was denied".into()),
    }];
    let lifecycle = api_lifecycle("2027-11-30");
    let target = instance_target(&db, &ctx(&groups, &lifecycle));
    for path in [
        "rds.parameters.logical_replication",
        "rds.parameters.force_ssl",
        "network.tls_required",
    ] {
        assert!(is_unknown(&target, path), "{path}");
        assert!(fact_reason(&target, path).contains("denied"), "{path}");
    }
}

#[test]
fn versions_missing_from_both_calendars_are_unknown() {
    let db = DbInstance::builder()
        .db_instance_identifier("future")
        .engine("postgres")
        .engine_version("19.1")
        .build();
    let lifecycle = Lifecycle::Api {
        standard_end: None,
        extended_end: None,
    };
    let target = instance_target(&db, &ctx(&[], &lifecycle));
    assert_eq!(value(&target, "version.major"), json!("19"));
    assert!(is_unknown(&target, "version.days_until_eol"));
    assert!(
        value(&target, "rds.version.lifecycle_source")
            .as_str()
            .unwrap()
            .contains("no standard-support dates")
    );
}

#[test]
fn engines_sqlready_does_not_audit_are_recognised() {
    assert_eq!(engine_family("aurora-postgresql"), Some("postgres"));
    assert_eq!(engine_family("aurora"), Some("mysql"));
    assert_eq!(engine_family("mariadb"), Some("mariadb"));
    assert_eq!(engine_family("oracle-ee"), None);
    assert_eq!(engine_family("docdb"), None);
    assert_eq!(
        major_version("mariadb", "10.11.6").as_deref(),
        Some("10.11")
    );
}

#[test]
fn rds_mariadb_11_8_requires_tls_by_default() {
    let db = DbInstance::builder()
        .db_instance_identifier("shop")
        .engine("mariadb")
        .engine_version("11.8.3")
        .backup_retention_period(7)
        .db_parameter_groups(
            DbParameterGroupStatus::builder()
                .db_parameter_group_name("default.mariadb11.8")
                .parameter_apply_status("in-sync")
                .build(),
        )
        .build();
    let groups = [group("default.mariadb11.8", "instance", "in-sync", &[])];
    let lifecycle = api_lifecycle("2030-06-30");
    let target = instance_target(&db, &ctx(&groups, &lifecycle));
    assert_eq!(value(&target, "network.tls_required"), json!(true));
    assert_eq!(
        value(&target, "rds.parameters.require_secure_transport"),
        json!(true)
    );
}

#[test]
fn rds_mysql_logs_to_a_table_unless_log_output_is_file() {
    let db = DbInstance::builder()
        .db_instance_identifier("shop")
        .engine("mysql")
        .engine_version("8.0.39")
        .backup_retention_period(7)
        .enabled_cloudwatch_logs_exports("slowquery")
        .db_parameter_groups(
            DbParameterGroupStatus::builder()
                .db_parameter_group_name("mysql80-prod")
                .parameter_apply_status("in-sync")
                .build(),
        )
        .build();
    let lifecycle = api_lifecycle("2026-07-31");
    let only_slow_log = [group(
        "mysql80-prod",
        "instance",
        "in-sync",
        &[("slow_query_log", "1")],
    )];
    let target = instance_target(&db, &ctx(&only_slow_log, &lifecycle));
    assert_eq!(value(&target, "rds.parameters.log_output"), json!("TABLE"));
    assert!(
        target.facts["rds.parameters.log_output"]
            .origin
            .contains("engine default")
    );
    let to_file = [group(
        "mysql80-prod",
        "instance",
        "in-sync",
        &[("slow_query_log", "1"), ("log_output", "file")],
    )];
    let target = instance_target(&db, &ctx(&to_file, &lifecycle));
    assert_eq!(value(&target, "rds.parameters.log_output"), json!("FILE"));
}

#[test]
fn extended_support_keeps_a_version_patched_until_it_ends() {
    // PostgreSQL 12 on RDS: standard support ended 2025-02-28, Extended
    // Support (paid) runs to 2027-02-28. The audit is on 2026-11-26.
    let lifecycle = Lifecycle::Api {
        standard_end: NaiveDate::from_ymd_opt(2025, 2, 28),
        extended_end: NaiveDate::from_ymd_opt(2027, 2, 28),
    };
    let enrolled = DbInstance::builder()
        .db_instance_identifier("old")
        .engine("postgres")
        .engine_version("12.22")
        .build();
    let target = instance_target(&enrolled, &ctx(&[], &lifecycle));
    assert_eq!(value(&target, "version.eol_date"), json!("2027-02-28"));
    let days = value(&target, "version.days_until_eol").as_i64().unwrap();
    assert!(days > 0 && days < 200, "{days}");
    assert_eq!(
        value(&target, "rds.version.standard_support_end"),
        json!("2025-02-28")
    );
    assert!(
        value(&target, "rds.version.days_until_standard_support_end")
            .as_i64()
            .unwrap()
            < 0
    );
    // Opted out: RDS upgrades the version at the end of standard support.
    let opted_out = DbInstance::builder()
        .db_instance_identifier("old")
        .engine("postgres")
        .engine_version("12.22")
        .engine_lifecycle_support("open-source-rds-extended-support-disabled")
        .build();
    let target = instance_target(&opted_out, &ctx(&[], &lifecycle));
    assert_eq!(value(&target, "version.eol_date"), json!("2025-02-28"));
}

#[test]
fn listed_replicas_count_only_when_they_work() {
    use aws_sdk_rds::types::DbInstanceStatusInfo;
    let primary = DbInstance::builder()
        .db_instance_identifier("orders")
        .engine("postgres")
        .engine_version("16.4")
        .read_replica_db_instance_identifiers("orders-r1")
        .read_replica_db_instance_identifiers("orders-r2")
        .build();
    let broken = DbInstance::builder()
        .db_instance_identifier("orders-r1")
        .db_instance_status("available")
        .status_infos(
            DbInstanceStatusInfo::builder()
                .status_type("read replication")
                .status("error")
                .normal(false)
                .message("Replication has stopped.")
                .build(),
        )
        .build();
    let stopped = DbInstance::builder()
        .db_instance_identifier("orders-r2")
        .db_instance_status("stopped")
        .build();
    let lifecycle = Lifecycle::Unavailable("not asked".into());
    let replicas = std::collections::HashMap::from([
        ("orders-r1".to_string(), Ok(broken)),
        ("orders-r2".to_string(), Ok(stopped)),
    ]);
    let target = instance_target(
        &primary,
        &Context {
            replicas: &replicas,
            ..ctx(&[], &lifecycle)
        },
    );
    assert_eq!(value(&target, "replicas.count"), json!(0));
    let unhealthy = value(&target, "replicas.unhealthy");
    assert_eq!(
        unhealthy,
        json!([
            "orders-r1: read replication is error (Replication has stopped.)",
            "orders-r2: DBInstanceStatus is stopped"
        ])
    );
    // One that could not be described: not counted, not held against the primary either.
    let replicas = std::collections::HashMap::from([(
        "orders-r1".to_string(),
        Err("AccessDenied".to_string()),
    )]);
    let target = instance_target(
        &primary,
        &Context {
            replicas: &replicas,
            ..ctx(&[], &lifecycle)
        },
    );
    assert!(is_unknown(&target, "replicas.count"));
    assert!(fact_reason(&target, "replicas.count").contains("orders-r1: AccessDenied"));
}

#[test]
fn the_rds_calendar_answers_when_the_api_does_not_and_only_while_fresh() {
    let db = DbInstance::builder()
        .db_instance_identifier("orders")
        .engine("aurora-postgresql")
        .engine_version("13.20")
        .build();
    let lifecycle = Lifecycle::Unavailable("moto has no lifecycle API".into());
    // 2026-11-18: past the community end of life of 13 (2025-11-13) and RDS standard
    // support (2026-02-28), within paid Extended Support (until 2029-02-28).
    let target = instance_target(&db, &ctx(&[], &lifecycle));
    assert_eq!(value(&target, "version.eol_date"), json!("2029-02-28"));
    assert_eq!(value(&target, "version.paid_extended_support"), json!(true));
    assert!(
        value(&target, "rds.version.lifecycle_source")
            .as_str()
            .unwrap()
            .starts_with("embedded RDS calendar")
    );
    // Two and a half years later the calendar's promises are too old to rely on: the
    // upstream table applies, and a version past it while enrolled is unknown.
    let later = DateTime::from_timestamp(NOW + 900 * 86_400, 0).unwrap();
    let stale = instance_target(
        &db,
        &Context {
            now: later,
            ..ctx(&[], &lifecycle)
        },
    );
    assert!(is_unknown(&stale, "version.eol_date"));
    assert!(
        value(&stale, "rds.version.lifecycle_source")
            .as_str()
            .unwrap()
            .starts_with("embedded end-of-life table")
    );
}

/// Every fact an instance and a cluster report is in the source's list
/// (crate::sources::reads), so an unknown can say whether RDS reads a fact.
#[test]
fn every_fact_reported_is_listed_as_read_by_rds() {
    let lifecycle = api_lifecycle("2027-11-30");
    let instance = instance_target(&good_postgres(), &ctx(&[], &lifecycle));
    let members = [aurora_member("orders-aurora-1", "us-east-1a", true, 60)];
    let cluster = cluster_target(
        &aurora(&[("orders-aurora-1", true)], "in-sync"),
        &members,
        &ctx(&[], &lifecycle),
    );
    for target in [instance, cluster] {
        for path in target.facts.keys() {
            assert!(
                crate::sources::reads::reads("rds", path),
                "{path} is reported by the rds source but not listed in src/sources/reads.rs"
            );
        }
    }
}
