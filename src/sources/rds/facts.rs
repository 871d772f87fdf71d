//! Turning what the RDS API answered into facts: pure functions over the
//! SDK's own types, unit-tested on fixtures built with the SDK's builders.
//!
//! Each item is judged the way AWS defines it: an Aurora or Multi-AZ DB
//! cluster is one target whose availability, backups, encryption, deletion
//! protection and storage live on the cluster (its readers are its replicas);
//! a standalone instance is judged on its own fields; a read replica has no
//! backups or replicas of its own to judge.

use super::params::{self, GroupParams, GroupReading, Resolved};
use super::replicas;
use crate::eol;
use crate::eol::extended::{SupportDates, enrolment, rds_calendar_facts, support_facts};
use crate::facts::snapshot::TargetFacts;
use crate::facts::{FactSink, RawEvidence};
use crate::target::{Kind, Role};
use aws_sdk_rds::primitives::DateTime as AwsDateTime;
use aws_sdk_rds::types::{DbCluster, DbInstance};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;

pub const SOURCE: &str = "rds";

/// What would let the audit read a field or call it could not.
pub const IAM_HINT: &str =
    "allow rds:Describe* and rds:ListTagsForResource (AWS managed policy AmazonRDSReadOnlyAccess)";

/// An engine's lifecycle for the target's major version, from
/// `DescribeDBMajorEngineVersions`, or why it is not available.
#[derive(Debug, Clone, PartialEq)]
pub enum Lifecycle {
    Api {
        standard_end: Option<NaiveDate>,
        extended_end: Option<NaiveDate>,
    },
    Unavailable(String),
}

/// What a target's facts depend on besides its own description.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub region: &'a str,
    pub now: DateTime<Utc>,
    /// The parameter groups that apply, highest precedence first.
    pub groups: &'a [GroupReading],
    pub lifecycle: &'a Lifecycle,
    /// The read replicas this target lists, as described (by the identifier it lists them
    /// under), or why one could not be.
    pub replicas: &'a HashMap<String, Result<DbInstance, String>>,
}

/// A parameter group a target uses: what to read before judging it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupRef {
    pub name: String,
    /// `instance` or `cluster`.
    pub level: &'static str,
    pub apply_status: Option<String>,
}

impl GroupRef {
    /// `default.*` groups cannot be modified: every value is the engine default.
    pub fn is_default(&self) -> bool {
        self.name.starts_with("default.") || self.name.starts_with("default:")
    }
}

/// The engine family sqlready judges (`postgres`, `mysql`, `mariadb`), or
/// `None` for engines it does not audit (Oracle, SQL Server, Db2, Neptune, DocumentDB).
pub fn engine_family(engine: &str) -> Option<&'static str> {
    match engine {
        "postgres" | "aurora-postgresql" => Some("postgres"),
        "mysql" | "aurora-mysql" | "aurora" => Some("mysql"),
        "mariadb" => Some("mariadb"),
        _ => None,
    }
}

/// The major version as RDS names it for an engine (`15`, `8.0`, `10.11`).
pub fn major_version(engine: &str, version: &str) -> Option<String> {
    eol::major_of(engine_family(engine)?, version)
}

/// A DB instance's role: a read replica of an instance or of a cluster, or a primary.
pub fn instance_role(db: &DbInstance) -> Role {
    if db.read_replica_source_db_instance_identifier().is_some()
        || db.read_replica_source_db_cluster_identifier().is_some()
    {
        Role::Replica
    } else {
        Role::Primary
    }
}

/// The parameter groups of a standalone instance.
pub fn instance_groups(db: &DbInstance) -> Vec<GroupRef> {
    db.db_parameter_groups()
        .iter()
        .filter_map(|group| {
            Some(GroupRef {
                name: group.db_parameter_group_name()?.to_string(),
                level: "instance",
                apply_status: group.parameter_apply_status().map(str::to_string),
            })
        })
        .collect()
}

/// The parameter groups of a cluster: the writer's DB parameter group (it
/// overrides cluster-level values for instance-level parameters), then the
/// cluster parameter group.
pub fn cluster_groups(cluster: &DbCluster, members: &[DbInstance]) -> Vec<GroupRef> {
    let writer_id = cluster
        .db_cluster_members()
        .iter()
        .find(|m| m.is_cluster_writer() == Some(true))
        .and_then(|m| m.db_instance_identifier());
    let mut groups = Vec::new();
    if let Some(writer) = members
        .iter()
        .find(|m| m.db_instance_identifier().is_some() && m.db_instance_identifier() == writer_id)
    {
        groups.extend(instance_groups(writer));
    }
    if let Some(name) = cluster.db_cluster_parameter_group() {
        let status = cluster
            .db_cluster_members()
            .iter()
            .find(|m| m.is_cluster_writer() == Some(true))
            .and_then(|m| m.db_cluster_parameter_group_status());
        groups.push(GroupRef {
            name: name.to_string(),
            level: "cluster",
            apply_status: status.map(str::to_string),
        });
    }
    groups
}

/// `replicas.count` (working replicas only) and `replicas.unhealthy`. With none working
/// and some not described, the count is unknown: neither a pass nor a false fail.
fn replica_facts(sink: &mut FactSink<'_>, health: &replicas::Health, origin: &str) {
    sink.known("replicas.unhealthy", origin, health.unhealthy.clone());
    if health.healthy.is_empty() && !health.unverified.is_empty() {
        sink.unknown(
            "replicas.count",
            format!(
                "no replica was seen working, and the state of {} could not be read",
                health.unverified.join("; ")
            ),
            Some("audit the replica itself (rds://REGION/db/ID), or allow rds:DescribeDBInstances in its region"),
        );
    } else {
        let mut origin = origin.to_string();
        if !health.unhealthy.is_empty() {
            origin.push_str(&format!("; not counted: {}", health.unhealthy.join("; ")));
        }
        if !health.unverified.is_empty() {
            origin.push_str(&format!("; not read: {}", health.unverified.join("; ")));
        }
        sink.known("replicas.count", origin, health.healthy.len() as i64);
    }
}

/// The resource's tags (`TagList`), for finding a team's databases in a report.
fn tags(list: &[aws_sdk_rds::types::Tag]) -> std::collections::BTreeMap<String, String> {
    list.iter()
        .filter_map(|tag| {
            Some((
                tag.key()?.to_string(),
                tag.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// The facts of a standalone DB instance (a primary or a read replica).
pub fn instance_target(db: &DbInstance, ctx: &Context<'_>) -> TargetFacts {
    let raw_engine = db.engine().unwrap_or_default();
    let engine = engine_family(raw_engine).unwrap_or(raw_engine);
    let version = db.engine_version().unwrap_or_default();
    let id = db.db_instance_identifier().unwrap_or_default();
    let role = instance_role(db);
    let mut sink = FactSink::new(SOURCE);
    let field = |name: &str| format!("DescribeDBInstances {name}");

    sink.known("rds.engine", field("Engine"), raw_engine);
    sink.known(
        "rds.deployment",
        field("DBClusterIdentifier (absent)"),
        "instance",
    );
    sink.maybe(
        "rds.status",
        &field("DBInstanceStatus"),
        db.db_instance_status(),
        "DBInstanceStatus is absent",
        None,
    );

    // Replicas: this instance's own read replicas (each described: only working ones
    // count), or its source when it is one.
    let listed: Vec<String> = db
        .read_replica_db_instance_identifiers()
        .iter()
        .chain(db.read_replica_db_cluster_identifiers())
        .cloned()
        .collect();
    let health = replicas::judge(&listed, ctx.replicas);
    replica_facts(
        &mut sink,
        &health,
        "ReadReplicaDBInstanceIdentifiers + ReadReplicaDBClusterIdentifiers, each described (DBInstanceStatus, StatusInfos)",
    );
    if role == Role::Replica {
        let source = db
            .read_replica_source_db_instance_identifier()
            .or(db.read_replica_source_db_cluster_identifier())
            .unwrap_or_default();
        sink.known(
            "rds.replica.source",
            field("ReadReplicaSourceDBInstanceIdentifier"),
            source,
        );
        match db
            .status_infos()
            .iter()
            .find(|info| info.status_type() == Some("read replication"))
        {
            Some(info) => {
                let mut status = info.status().unwrap_or_default().to_string();
                if let Some(message) = info.message().filter(|m| !m.is_empty()) {
                    status = format!("{status}: {message}");
                }
                sink.known("rds.replica.replication_status", field("StatusInfos[read replication].Status"), status);
            }
            None => sink.unknown(
                "rds.replica.replication_status",
                "the response has no StatusInfos entry of type 'read replication' for this replica",
                Some("check the replica in the RDS console; the API reports replication status in StatusInfos"),
            ),
        }
    }

    // High availability.
    sink.maybe(
        "ha.enabled",
        &field("MultiAZ"),
        db.multi_az(),
        "MultiAZ is absent from the response",
        Some(IAM_HINT),
    );

    // Backups and point-in-time recovery.
    backup_facts(
        &mut sink,
        &field("BackupRetentionPeriod"),
        db.backup_retention_period(),
        db.latest_restorable_time(),
        &field("LatestRestorableTime"),
        ctx.now,
    );
    sink.known(
        "rds.backups.cross_region_replication",
        field("DBInstanceAutomatedBackupsReplications"),
        !db.db_instance_automated_backups_replications().is_empty(),
    );

    // Storage.
    match (db.allocated_storage(), db.max_allocated_storage()) {
        (Some(allocated), Some(max)) => sink.known(
            "disk.autogrow",
            format!("DescribeDBInstances MaxAllocatedStorage ({max} GiB) > AllocatedStorage ({allocated} GiB)"),
            max > allocated,
        ),
        (Some(allocated), None) => sink.known(
            "disk.autogrow",
            format!("DescribeDBInstances MaxAllocatedStorage absent (storage autoscaling off; AllocatedStorage {allocated} GiB)"),
            false,
        ),
        (None, _) => sink.unknown("disk.autogrow", "AllocatedStorage is absent from the response", Some(IAM_HINT)),
    }

    // Network, encryption, protection.
    sink.maybe(
        "network.public_ip",
        &field("PubliclyAccessible"),
        db.publicly_accessible(),
        "PubliclyAccessible is absent from the response",
        Some(IAM_HINT),
    );
    encryption_facts(
        &mut sink,
        &field("StorageEncrypted"),
        db.storage_encrypted(),
        db.kms_key_id(),
    );
    sink.maybe(
        "deletion_protection.enabled",
        &field("DeletionProtection"),
        db.deletion_protection(),
        "DeletionProtection is absent from the response",
        Some(IAM_HINT),
    );

    // Monitoring and logs.
    sink.maybe(
        "rds.monitoring.enhanced_interval_seconds",
        &field("MonitoringInterval"),
        db.monitoring_interval().map(i64::from),
        "MonitoringInterval is absent from the response",
        None,
    );
    performance_insights(
        &mut sink,
        db.performance_insights_enabled(),
        db.database_insights_mode().map(|m| m.as_str().to_string()),
        "DescribeDBInstances",
    );
    sink.known(
        "rds.logs.exports",
        field("EnabledCloudwatchLogsExports"),
        db.enabled_cloudwatch_logs_exports().to_vec(),
    );
    instance_audit_facts(&mut sink, db);
    alerting_unknown(&mut sink);

    // Parameters: CDC, TLS, slow queries; the binary log follows backups on RDS MySQL/MariaDB.
    parameter_facts(&mut sink, raw_engine, version, ctx.groups);
    if matches!(engine, "mysql" | "mariadb") {
        match db.backup_retention_period() {
            Some(days) => sink.known(
                "binlog.enabled",
                format!("DescribeDBInstances BackupRetentionPeriod = {days} (RDS MySQL/MariaDB keep a binary log only with automated backups)"),
                days > 0,
            ),
            None => sink.unknown("binlog.enabled", "BackupRetentionPeriod is absent from the response", None),
        }
    }

    version_facts(
        &mut sink,
        raw_engine,
        version,
        db.engine_lifecycle_support(),
        ctx,
    );

    let mut evidence = vec![RawEvidence {
        source: SOURCE.into(),
        name: "DescribeDBInstances".into(),
        request: format!(
            "DescribeDBInstances region={} DBInstanceIdentifier={id}",
            ctx.region
        ),
        response: instance_evidence(db),
    }];
    evidence.extend(parameter_evidence(ctx.groups, engine));
    TargetFacts {
        id: format!("rds://{}/db/{id}", ctx.region),
        resource: db.db_instance_arn().map(str::to_string),
        kind: Kind::Rds,
        role,
        engine: engine.to_string(),
        version: version.to_string(),
        collected_at: ctx.now,
        facts: sink.finish(),
        evidence,
        principal: None,
        sources: Vec::new(),
        location: None,
        warnings: Vec::new(),
        tags: tags(db.tag_list()),
    }
}

/// The facts of a DB cluster (Aurora, Multi-AZ DB cluster), judged on the
/// cluster; `members` are the member instances the audit could describe.
pub fn cluster_target(
    cluster: &DbCluster,
    members: &[DbInstance],
    ctx: &Context<'_>,
) -> TargetFacts {
    let raw_engine = cluster.engine().unwrap_or_default();
    let engine = engine_family(raw_engine).unwrap_or(raw_engine);
    let version = cluster.engine_version().unwrap_or_default();
    let id = cluster.db_cluster_identifier().unwrap_or_default();
    let aurora = raw_engine.starts_with("aurora");
    let mut sink = FactSink::new(SOURCE);
    let field = |name: &str| format!("DescribeDBClusters {name}");

    sink.known("rds.engine", field("Engine"), raw_engine);
    sink.known(
        "rds.deployment",
        field("Engine"),
        if aurora { "aurora" } else { "multi-az-cluster" },
    );
    sink.maybe(
        "rds.status",
        &field("Status"),
        cluster.status(),
        "Status is absent",
        None,
    );

    // Members: the writer and its readers, with the zones they run in.
    let rows: Vec<Json> = cluster
        .db_cluster_members()
        .iter()
        .map(|member| {
            let member_id = member.db_instance_identifier().unwrap_or_default();
            let described = members
                .iter()
                .find(|db| db.db_instance_identifier() == Some(member_id));
            json!({
                "id": member_id,
                "writer": member.is_cluster_writer().unwrap_or(false),
                "availability_zone": described.and_then(|db| db.availability_zone()),
                "status": described.and_then(|db| db.db_instance_status()),
                "class": described.and_then(|db| db.db_instance_class()),
            })
        })
        .collect();
    sink.known(
        "rds.cluster.members",
        field("DBClusterMembers + DescribeDBInstances"),
        rows.clone(),
    );
    // Readers count when they serve; cross-region replica clusters are not described here.
    let mut health = replicas::Health::default();
    for row in rows.iter().filter(|row| row["writer"] == false) {
        let id = row["id"].as_str().unwrap_or_default().to_string();
        match row["status"].as_str() {
            Some(status) if replicas::SERVING.contains(&status) => health.healthy.push(id),
            Some(status) => health
                .unhealthy
                .push(format!("{id}: DBInstanceStatus is {status}")),
            None => health
                .unverified
                .push(format!("{id}: not in the DescribeDBInstances answer")),
        }
    }
    for arn in cluster.read_replica_identifiers() {
        health.unverified.push(format!(
            "{arn}: a replica cluster, its state is not read in this audit"
        ));
    }
    replica_facts(
        &mut sink,
        &health,
        &field(
            "DBClusterMembers (readers, DescribeDBInstances DBInstanceStatus) + ReadReplicaIdentifiers",
        ),
    );

    // High availability: a Multi-AZ DB cluster always has standbys in two other
    // zones; an Aurora cluster fails over to a reader, so it needs one in another zone.
    ha_of_cluster(&mut sink, cluster, &rows, aurora);

    backup_facts(
        &mut sink,
        &field("BackupRetentionPeriod"),
        cluster.backup_retention_period(),
        cluster.latest_restorable_time(),
        &field("LatestRestorableTime"),
        ctx.now,
    );

    if aurora {
        sink.known(
            "disk.autogrow",
            "Aurora cluster storage grows automatically (DescribeDBClusters Engine)",
            true,
        );
    } else {
        // AWS: Multi-AZ DB clusters don't support storage autoscaling (there is
        // no MaxAllocatedStorage on a DB cluster); storage is scaled by hand.
        sink.known(
            "disk.autogrow",
            format!(
                "DescribeDBClusters Engine {raw_engine}: a Multi-AZ DB cluster does not support storage autoscaling{}",
                cluster
                    .allocated_storage()
                    .map(|gib| format!(" (AllocatedStorage {gib} GiB, fixed)"))
                    .unwrap_or_default()
            ),
            false,
        );
    }

    public_of_cluster(&mut sink, cluster, members, aurora);
    encryption_facts(
        &mut sink,
        &field("StorageEncrypted"),
        cluster.storage_encrypted(),
        cluster.kms_key_id(),
    );
    sink.maybe(
        "deletion_protection.enabled",
        &field("DeletionProtection"),
        cluster.deletion_protection(),
        "DeletionProtection is absent from the response",
        Some(IAM_HINT),
    );

    // Monitoring: on the cluster for Multi-AZ DB clusters, per member for Aurora.
    let member_instances: Vec<&DbInstance> = cluster
        .db_cluster_members()
        .iter()
        .filter_map(|member| {
            members
                .iter()
                .find(|db| db.db_instance_identifier() == member.db_instance_identifier())
        })
        .collect();
    let every_member = member_instances.len() == cluster.db_cluster_members().len()
        && !member_instances.is_empty();
    match cluster.monitoring_interval() {
        Some(interval) => sink.known(
            "rds.monitoring.enhanced_interval_seconds",
            field("MonitoringInterval"),
            i64::from(interval),
        ),
        None => {
            let intervals: Option<Vec<i32>> = member_instances
                .iter()
                .map(|db| db.monitoring_interval())
                .collect();
            match intervals {
                Some(intervals) if every_member => sink.known(
                    "rds.monitoring.enhanced_interval_seconds",
                    "DescribeDBInstances MonitoringInterval, the smallest over the cluster members (0 when any member has it off)",
                    i64::from(if intervals.contains(&0) { 0 } else { intervals.iter().copied().max().unwrap_or(0) }),
                ),
                _ => sink.unknown(
                    "rds.monitoring.enhanced_interval_seconds",
                    "MonitoringInterval is absent from the cluster and from at least one member",
                    None,
                ),
            }
        }
    }
    match cluster.performance_insights_enabled() {
        Some(_) => performance_insights(
            &mut sink,
            cluster.performance_insights_enabled(),
            cluster
                .database_insights_mode()
                .map(|m| m.as_str().to_string()),
            "DescribeDBClusters",
        ),
        None => {
            let flags: Option<Vec<bool>> = member_instances
                .iter()
                .map(|db| db.performance_insights_enabled())
                .collect();
            match flags {
                Some(flags) if every_member => sink.known(
                    "rds.monitoring.performance_insights",
                    "DescribeDBInstances PerformanceInsightsEnabled of every cluster member",
                    flags.iter().all(|on| *on),
                ),
                _ => sink.unknown(
                    "rds.monitoring.performance_insights",
                    "PerformanceInsightsEnabled is absent from the cluster and from at least one member",
                    None,
                ),
            }
        }
    }
    sink.known(
        "rds.logs.exports",
        field("EnabledCloudwatchLogsExports"),
        cluster.enabled_cloudwatch_logs_exports().to_vec(),
    );
    cluster_audit_facts(&mut sink, cluster);
    alerting_unknown(&mut sink);

    parameter_facts(&mut sink, raw_engine, version, ctx.groups);
    if matches!(engine, "mysql" | "mariadb") {
        binlog_of_cluster(&mut sink, raw_engine, version, cluster, ctx.groups);
    }
    version_facts(
        &mut sink,
        raw_engine,
        version,
        cluster.engine_lifecycle_support(),
        ctx,
    );

    let mut evidence = vec![RawEvidence {
        source: SOURCE.into(),
        name: "DescribeDBClusters".into(),
        request: format!(
            "DescribeDBClusters region={} DBClusterIdentifier={id}",
            ctx.region
        ),
        response: cluster_evidence(cluster),
    }];
    for member in &member_instances {
        evidence.push(RawEvidence {
            source: SOURCE.into(),
            name: "DescribeDBInstances".into(),
            request: format!(
                "DescribeDBInstances region={} DBInstanceIdentifier={}",
                ctx.region,
                member.db_instance_identifier().unwrap_or_default()
            ),
            response: instance_evidence(member),
        });
    }
    evidence.extend(parameter_evidence(ctx.groups, engine));
    TargetFacts {
        id: format!("rds://{}/cluster/{id}", ctx.region),
        resource: cluster.db_cluster_arn().map(str::to_string),
        kind: Kind::Rds,
        role: Role::Cluster,
        engine: engine.to_string(),
        version: version.to_string(),
        collected_at: ctx.now,
        facts: sink.finish(),
        evidence,
        principal: None,
        sources: Vec::new(),
        location: None,
        warnings: Vec::new(),
        tags: tags(cluster.tag_list()),
    }
}

/// Public exposure of a cluster. Aurora: DBCluster.PubliclyAccessible is only
/// for Multi-AZ DB clusters, so an Aurora cluster is as exposed as its most
/// exposed member instance. Multi-AZ DB cluster: the cluster's flag, unless a
/// member says it is public.
fn public_of_cluster(
    sink: &mut FactSink<'_>,
    cluster: &DbCluster,
    members: &[DbInstance],
    aurora: bool,
) {
    let flags: Vec<(String, Option<bool>)> = cluster
        .db_cluster_members()
        .iter()
        .map(|member| {
            let id = member.db_instance_identifier().unwrap_or_default();
            let flag = members
                .iter()
                .find(|db| db.db_instance_identifier() == Some(id))
                .and_then(DbInstance::publicly_accessible);
            (id.to_string(), flag)
        })
        .collect();
    if let Some((id, _)) = flags.iter().find(|(_, flag)| *flag == Some(true)) {
        sink.known(
            "network.public_ip",
            format!("DescribeDBInstances PubliclyAccessible of cluster member {id}"),
            true,
        );
        return;
    }
    if !aurora && let Some(public) = cluster.publicly_accessible() {
        sink.known(
            "network.public_ip",
            "DescribeDBClusters PubliclyAccessible",
            public,
        );
        return;
    }
    if !flags.is_empty() && flags.iter().all(|(_, flag)| *flag == Some(false)) {
        sink.known(
            "network.public_ip",
            "DescribeDBInstances PubliclyAccessible of every cluster member",
            false,
        );
    } else {
        sink.unknown(
            "network.public_ip",
            if aurora {
                "PubliclyAccessible is set per instance in an Aurora cluster, and at least one member's is unknown"
            } else {
                "PubliclyAccessible is absent from the cluster and from at least one member instance"
            },
            Some(IAM_HINT),
        );
    }
}

fn ha_of_cluster(sink: &mut FactSink<'_>, cluster: &DbCluster, rows: &[Json], aurora: bool) {
    if !aurora {
        sink.known(
            "ha.enabled",
            "DescribeDBClusters: a Multi-AZ DB cluster keeps two readable standbys in other Availability Zones",
            cluster.multi_az().unwrap_or(true),
        );
        return;
    }
    let zone = |row: &Json| row["availability_zone"].as_str().map(str::to_string);
    let writer_zone = rows.iter().find(|row| row["writer"] == true).map(zone);
    let reader_zones: Vec<Option<String>> = rows
        .iter()
        .filter(|row| row["writer"] == false)
        .map(zone)
        .collect();
    match writer_zone {
        Some(Some(writer_zone)) if reader_zones.iter().all(Option::is_some) => {
            let other = reader_zones.iter().flatten().find(|z| **z != writer_zone);
            let origin = match other {
                Some(zone) => format!(
                    "DescribeDBInstances AvailabilityZone: writer in {writer_zone}, a reader in {zone}"
                ),
                None if reader_zones.is_empty() => {
                    format!(
                        "DescribeDBClusters DBClusterMembers: the writer in {writer_zone} has no reader to fail over to"
                    )
                }
                None => format!(
                    "DescribeDBInstances AvailabilityZone: the writer and every reader are in {writer_zone}"
                ),
            };
            sink.known("ha.enabled", origin, other.is_some());
        }
        _ => sink.maybe(
            "ha.enabled",
            "DescribeDBClusters MultiAZ (member zones unknown)",
            cluster.multi_az(),
            "the Availability Zones of the cluster members are unknown and MultiAZ is absent",
            Some(IAM_HINT),
        ),
    }
}

fn backup_facts(
    sink: &mut FactSink<'_>,
    origin: &str,
    retention: Option<i32>,
    latest_restorable: Option<&AwsDateTime>,
    restorable_origin: &str,
    now: DateTime<Utc>,
) {
    let Some(days) = retention else {
        for path in ["backups.enabled", "backups.retention_days", "pitr.enabled"] {
            sink.unknown(
                path,
                "BackupRetentionPeriod is absent from the response",
                Some(IAM_HINT),
            );
        }
        sink.unknown(
            "rds.backups.latest_restorable_age_seconds",
            "BackupRetentionPeriod is absent from the response",
            None,
        );
        return;
    };
    let with_value = format!("{origin} = {days}");
    sink.known("backups.enabled", with_value.clone(), days > 0);
    sink.known(
        "backups.retention_days",
        with_value.clone(),
        i64::from(days),
    );
    sink.known(
        "pitr.enabled",
        format!("{with_value} (point-in-time restore comes with automated backups)"),
        days > 0,
    );
    if days == 0 {
        // AWS keeps no transaction logs without automated backups; a
        // LatestRestorableTime in the response (emulators send one) means nothing.
        sink.unknown(
            "rds.backups.latest_restorable_age_seconds",
            "automated backups are off (BackupRetentionPeriod 0): there is no restorable time to judge",
            None,
        );
        return;
    }
    match latest_restorable.and_then(to_chrono) {
        Some(at) => {
            let age = (now - at).num_milliseconds() as f64 / 1000.0;
            sink.known(
                "rds.backups.latest_restorable_age_seconds",
                format!("{restorable_origin} = {}", at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                age.max(0.0),
            );
        }
        None => sink.unknown(
            "rds.backups.latest_restorable_age_seconds",
            "LatestRestorableTime is absent although automated backups are on (a new instance before its first backup, or a restore in progress)",
            None,
        ),
    }
}

fn encryption_facts(
    sink: &mut FactSink<'_>,
    origin: &str,
    encrypted: Option<bool>,
    kms_key: Option<&str>,
) {
    sink.maybe(
        "encryption.at_rest",
        origin,
        encrypted,
        "StorageEncrypted is absent from the response",
        Some(IAM_HINT),
    );
    // KmsKeyId is a key ARN for the AWS managed key aws/rds as for a
    // customer managed one; only kms:DescribeKey (KeyManager) tells them apart.
    match (encrypted, kms_key) {
        (Some(false), _) => sink.known(
            "encryption.customer_managed_key",
            "StorageEncrypted = false: no key at all",
            false,
        ),
        (Some(true), Some(key)) => sink.unknown(
            "encryption.customer_managed_key",
            format!("KmsKeyId {key} may be the AWS managed key aws/rds or a customer managed key: only KMS DescribeKey (KeyManager) tells, and sqlready does not read KMS yet"),
            Some("compare the key with `aws kms describe-key --key-id KEY --query KeyMetadata.KeyManager` (CUSTOMER or AWS), or audit the Terraform that declares the database"),
        ),
        _ => sink.unknown(
            "encryption.customer_managed_key",
            "StorageEncrypted or KmsKeyId is absent from the response",
            Some(IAM_HINT),
        ),
    }
    match kms_key {
        Some(key) => sink.known("rds.kms_key_id", "KmsKeyId", key),
        None => sink.unknown(
            "rds.kms_key_id",
            "no KmsKeyId in the response (storage not encrypted)",
            None,
        ),
    }
}

/// The audit trail an instance keeps outside its parameters: the audit
/// plugin of its option group (a `default:` group has no options; a custom
/// one is not read yet) — activity streams are for Aurora (and Oracle / SQL
/// Server, which sqlready does not audit).
fn instance_audit_facts(sink: &mut FactSink<'_>, db: &DbInstance) {
    sink.known(
        "rds.audit.activity_stream",
        "Database Activity Streams exist for Aurora clusters (and RDS for Oracle and SQL Server), not for this instance",
        "",
    );
    let groups: Vec<&str> = db
        .option_group_memberships()
        .iter()
        .filter_map(|m| m.option_group_name())
        .collect();
    if groups.iter().all(|name| name.starts_with("default:")) {
        let origin = format!(
            "OptionGroupMemberships: {}: a default option group has no MARIADB_AUDIT_PLUGIN",
            if groups.is_empty() {
                "none".to_string()
            } else {
                groups.join(", ")
            }
        );
        sink.known("rds.audit.option_group_plugin", origin.clone(), false);
        sink.known("rds.audit.plugin_events", origin, "");
    } else {
        let reason = format!(
            "the option group {} may hold the MARIADB_AUDIT_PLUGIN option, and sqlready does not read option groups yet",
            groups.join(", ")
        );
        let fix = "check with `aws rds describe-option-groups --option-group-name GROUP`, or audit the Terraform that declares the aws_db_option_group";
        sink.unknown("rds.audit.option_group_plugin", reason.clone(), Some(fix));
        sink.unknown("rds.audit.plugin_events", reason, Some(fix));
    }
}

/// An Aurora cluster's Database Activity Stream (ActivityStreamStatus, ActivityStreamMode).
fn cluster_audit_facts(sink: &mut FactSink<'_>, cluster: &DbCluster) {
    let status = cluster
        .activity_stream_status()
        .map(|s| s.as_str().to_string());
    let mode = cluster
        .activity_stream_mode()
        .map(|m| m.as_str().to_ascii_lowercase())
        .unwrap_or_else(|| "started".to_string());
    match status.as_deref() {
        Some("started") => sink.known(
            "rds.audit.activity_stream",
            "DescribeDBClusters ActivityStreamStatus = started, ActivityStreamMode",
            mode,
        ),
        Some(other) => sink.known(
            "rds.audit.activity_stream",
            format!("DescribeDBClusters ActivityStreamStatus = {other}: no stream running"),
            "",
        ),
        None => sink.known(
            "rds.audit.activity_stream",
            "DescribeDBClusters: no ActivityStreamStatus (no activity stream)",
            "",
        ),
    }
    let origin = "an Aurora or Multi-AZ DB cluster audits through its parameters or an activity stream, not an option group";
    sink.known("rds.audit.option_group_plugin", origin, false);
    sink.known("rds.audit.plugin_events", origin, "");
}

fn performance_insights(
    sink: &mut FactSink<'_>,
    enabled: Option<bool>,
    mode: Option<String>,
    call: &str,
) {
    let advanced = mode.as_deref() == Some("advanced");
    match enabled {
        Some(on) => sink.known(
            "rds.monitoring.performance_insights",
            format!(
                "{call} PerformanceInsightsEnabled = {on}{}",
                mode.map(|m| format!(", DatabaseInsightsMode = {m}"))
                    .unwrap_or_default()
            ),
            on || advanced,
        ),
        None if advanced => sink.known(
            "rds.monitoring.performance_insights",
            format!("{call} DatabaseInsightsMode = advanced"),
            true,
        ),
        None => sink.unknown(
            "rds.monitoring.performance_insights",
            "PerformanceInsightsEnabled is absent from the response",
            None,
        ),
    }
}

fn alerting_unknown(sink: &mut FactSink<'_>) {
    sink.unknown(
        "monitoring.alerting",
        "CloudWatch alarms are not part of the RDS API",
        Some("audit the Terraform that defines aws_cloudwatch_metric_alarm resources for CPUUtilization, FreeableMemory, DatabaseConnections and FreeStorageSpace"),
    );
}

/// The parameters the checks read, resolved over the target's groups.
fn parameter_facts(sink: &mut FactSink<'_>, engine: &str, version: &str, groups: &[GroupReading]) {
    let mut pending = Vec::new();
    let names: &[&'static str] = match engine_family(engine) {
        Some("postgres") => params::POSTGRES_PARAMS,
        Some(_) => params::MYSQL_PARAMS,
        None => return,
    };
    for name in names {
        let resolved = params::resolve(engine, version, name, groups);
        if resolved.pending_reboot {
            pending.push(name.to_string());
        }
        record_parameter(sink, &resolved);
    }
    let origin = if groups.is_empty() {
        "no parameter group reported".to_string()
    } else {
        groups
            .iter()
            .map(|g| {
                format!(
                    "{} parameter group {}: {}",
                    g.level,
                    g.name,
                    g.apply_status.as_deref().unwrap_or("status unknown")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    sink.known("rds.parameters.pending_reboot", origin, pending);
}

fn record_parameter(sink: &mut FactSink<'_>, resolved: &Resolved) {
    let path = match resolved.name {
        "rds.logical_replication" => "rds.parameters.logical_replication",
        "rds.force_ssl" => "rds.parameters.force_ssl",
        other => {
            // log_min_duration_statement, binlog_format, … keep their own names.
            return record_plain(sink, other, resolved);
        }
    };
    match &resolved.value {
        Ok(value) => match params::as_bool(value) {
            Some(on) => {
                sink.known(path, resolved.origin.clone(), on);
                if resolved.name == "rds.force_ssl" {
                    sink.known("network.tls_required", resolved.origin.clone(), on);
                }
            }
            None => sink.unknown(
                path,
                format!("{} = '{value}' is not a boolean", resolved.name),
                None,
            ),
        },
        Err(reason) => {
            sink.unknown(path, reason.clone(), Some(&set_explicitly(resolved.name)));
            if resolved.name == "rds.force_ssl" {
                sink.unknown(
                    "network.tls_required",
                    reason.clone(),
                    Some(&set_explicitly(resolved.name)),
                );
            }
        }
    }
}

fn record_plain(sink: &mut FactSink<'_>, name: &str, resolved: &Resolved) {
    let path = params::fact_path(name);
    let value = match &resolved.value {
        Ok(value) => value,
        Err(reason) => {
            if name == "require_secure_transport" && reason.contains("does not exist") {
                let origin = format!("{reason}: TLS cannot be required server-wide");
                sink.known(&path, origin.clone(), false);
                sink.known("network.tls_required", origin, false);
                return;
            }
            sink.unknown(&path, reason.clone(), Some(&set_explicitly(name)));
            if name == "require_secure_transport" {
                sink.unknown(
                    "network.tls_required",
                    reason.clone(),
                    Some(&set_explicitly(name)),
                );
            }
            return;
        }
    };
    let origin = resolved.origin.clone();
    match name {
        "log_min_duration_statement" => match value.trim().parse::<i64>() {
            Ok(ms) => sink.known(&path, origin, ms),
            Err(_) => sink.unknown(
                &path,
                format!("{name} = '{value}' is not a number of milliseconds"),
                None,
            ),
        },
        "long_query_time" => match value.trim().parse::<f64>() {
            Ok(seconds) => sink.known(&path, origin, seconds),
            Err(_) => sink.unknown(
                &path,
                format!("{name} = '{value}' is not a number of seconds"),
                None,
            ),
        },
        "binlog_format" => sink.known(&path, origin, value.trim().to_ascii_uppercase()),
        // `FILE`, `TABLE`, `NONE` or a list (`FILE,TABLE`), as MySQL reads it.
        "log_output" => sink.known(&path, origin, value.trim().to_ascii_uppercase()),
        "shared_preload_libraries"
        | "pgaudit.log"
        | "server_audit_logging"
        | "server_audit_events" => match params::audit_value(name, value) {
            Some(typed) => sink.known(&path, origin, typed),
            None => sink.unknown(&path, format!("{name} = '{value}' is not a boolean"), None),
        },
        "slow_query_log" | "require_secure_transport" => match params::as_bool(value) {
            Some(on) => {
                if name == "require_secure_transport" {
                    sink.known("network.tls_required", origin.clone(), on);
                }
                sink.known(&path, origin, on);
            }
            None => sink.unknown(&path, format!("{name} = '{value}' is not a boolean"), None),
        },
        _ => {}
    }
}

fn set_explicitly(name: &str) -> String {
    format!(
        "set {name} explicitly in a custom parameter group, or allow rds:DescribeDBParameters / rds:DescribeDBClusterParameters"
    )
}

/// Aurora MySQL writes a binary log only when the cluster's binlog_format is not
/// OFF; a Multi-AZ DB cluster of MySQL, like an instance, when backups are on.
fn binlog_of_cluster(
    sink: &mut FactSink<'_>,
    engine: &str,
    version: &str,
    cluster: &DbCluster,
    groups: &[GroupReading],
) {
    if engine.starts_with("aurora") {
        let resolved = params::resolve(engine, version, "binlog_format", groups);
        match resolved.value {
            Ok(format) => sink.known(
                "binlog.enabled",
                format!(
                    "{} (Aurora MySQL writes a binary log unless binlog_format is OFF)",
                    resolved.origin
                ),
                !format.eq_ignore_ascii_case("OFF"),
            ),
            Err(reason) => sink.unknown(
                "binlog.enabled",
                reason,
                Some(&set_explicitly("binlog_format")),
            ),
        }
    } else {
        match cluster.backup_retention_period() {
            Some(days) => sink.known(
                "binlog.enabled",
                format!("DescribeDBClusters BackupRetentionPeriod = {days} (the binary log is kept only with automated backups)"),
                days > 0,
            ),
            None => sink.unknown("binlog.enabled", "BackupRetentionPeriod is absent from the response", None),
        }
    }
}

/// The value of `EngineLifecycleSupport` that opts out of RDS Extended Support:
/// the major version is then upgraded automatically when standard support ends.
const EXTENDED_SUPPORT_DISABLED: &str = "open-source-rds-extended-support-disabled";

/// Version support: RDS's own calendar from DescribeDBMajorEngineVersions
/// when it answered, else the embedded upstream table. RDS keeps patching a
/// version past its standard support while the database is enrolled in
/// (paid) Extended Support — the default when `EngineLifecycleSupport` is
/// absent — so security support then ends with Extended Support, and
/// `rds.version.*standard_support_end` says since when it costs extra.
fn version_facts(
    sink: &mut FactSink<'_>,
    engine: &str,
    version: &str,
    lifecycle_support: Option<&str>,
    ctx: &Context<'_>,
) {
    let Some(family) = engine_family(engine) else {
        return;
    };
    let Some(major) = eol::major_of(family, version) else {
        sink.unknown(
            "version.major",
            format!("cannot read a version number from '{version}'"),
            None,
        );
        return;
    };
    sink.known("version.major", "DescribeDB* EngineVersion", major.clone());
    let today = ctx.now.date_naive();
    let fallback_reason = match ctx.lifecycle {
        Lifecycle::Api {
            standard_end: Some(end),
            extended_end,
        } => {
            let enrolled = lifecycle_support != Some(EXTENDED_SUPPORT_DISABLED);
            let support_end = match extended_end {
                Some(extended) if enrolled => *extended,
                _ => *end,
            };
            let origin = format!(
                "DescribeDBMajorEngineVersions {engine} {major}: RDS standard support ends {end}{}; {}",
                extended_end
                    .map(|e| format!(", Extended Support (paid) until {e}"))
                    .unwrap_or_default(),
                enrolment(enrolled)
            );
            support_facts(
                sink,
                SupportDates {
                    origin,
                    standard_end: *end,
                    support_end,
                    paid_extended_support: enrolled && extended_end.is_some() && *end < today,
                    table_date: (
                        "DescribeDBMajorEngineVersions, read at audit time".into(),
                        today.to_string(),
                    ),
                    lifecycle_source: "DescribeDBMajorEngineVersions".into(),
                },
                today,
            );
            return;
        }
        Lifecycle::Api {
            standard_end: None, ..
        } => {
            format!(
                "DescribeDBMajorEngineVersions has no standard-support dates for {engine} {major}"
            )
        }
        Lifecycle::Unavailable(reason) => reason.clone(),
    };
    if rds_calendar_facts(
        sink,
        engine,
        &major,
        lifecycle_support,
        &fallback_reason,
        today,
    ) {
        return;
    }
    let table = format!(
        "embedded end-of-life table ({}): {fallback_reason}",
        eol::TABLE_DATE
    );
    sink.known(
        "rds.version.lifecycle_source",
        fallback_reason.clone(),
        table.clone(),
    );
    sink.known("version.table_date", table.clone(), eol::TABLE_DATE);
    // A major older than the table ended by its oldest date at the latest.
    match eol::end_of_life(family, &major).or_else(|| eol::ended_by(family, &major)) {
        // Past the upstream date but enrolled in Extended Support (the default): RDS keeps
        // patching it until a date only its calendar gives. Failing it as "no more security
        // fixes" would be false; without the calendar the end is unknown.
        Some(date) if date < today && lifecycle_support != Some(EXTENDED_SUPPORT_DISABLED) => {
            let reason = format!(
                "{family} {major} passed its upstream end of life on {date}, but EngineLifecycleSupport is {}: RDS keeps patching it in paid Extended Support until a date only RDS's calendar gives ({fallback_reason})",
                lifecycle_support.unwrap_or("absent (enrolled by default)")
            );
            let fix = Some(
                "grant rds:DescribeDBMajorEngineVersions so sqlready reads RDS's Extended Support end date",
            );
            sink.unknown("version.eol_date", reason.clone(), fix);
            sink.unknown("version.days_until_eol", reason, fix);
        }
        Some(date) => {
            if eol::end_of_life(family, &major).is_none() {
                sink.known("version.eol_upper_bound", table.clone(), true);
            }
            if date >= today {
                // Within the community's support: nothing is paid for yet.
                sink.known("version.paid_extended_support", table.clone(), false);
            }
            sink.known("version.eol_date", table.clone(), date.to_string());
            sink.known("version.days_until_eol", table, (date - today).num_days());
        }
        None => {
            let reason = format!(
                "{family} {major} is neither in RDS's lifecycle answer nor in the end-of-life table dated {}",
                eol::TABLE_DATE
            );
            sink.unknown(
                "version.eol_date",
                reason.clone(),
                Some("upgrade sqlready for a newer end-of-life table"),
            );
            sink.unknown(
                "version.days_until_eol",
                reason,
                Some("upgrade sqlready for a newer end-of-life table"),
            );
        }
    }
}

/// An SDK timestamp as chrono's.
pub fn to_chrono(at: &AwsDateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(at.secs(), at.subsec_nanos())
}

fn time_json(at: Option<&AwsDateTime>) -> Json {
    at.and_then(to_chrono)
        .map(|t| Json::from(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .unwrap_or(Json::Null)
}

/// The fields of a DBInstance the audit read, under their API names.
pub fn instance_evidence(db: &DbInstance) -> Json {
    let mut m = Map::new();
    let mut put = |k: &str, v: Json| {
        if !v.is_null() {
            m.insert(k.to_string(), v);
        }
    };
    put("DBInstanceIdentifier", json!(db.db_instance_identifier()));
    put("DBInstanceArn", json!(db.db_instance_arn()));
    put("DBInstanceClass", json!(db.db_instance_class()));
    put("DBInstanceStatus", json!(db.db_instance_status()));
    put("Engine", json!(db.engine()));
    put("EngineVersion", json!(db.engine_version()));
    put(
        "EngineLifecycleSupport",
        json!(db.engine_lifecycle_support()),
    );
    put("DBClusterIdentifier", json!(db.db_cluster_identifier()));
    put("AvailabilityZone", json!(db.availability_zone()));
    put(
        "SecondaryAvailabilityZone",
        json!(db.secondary_availability_zone()),
    );
    put("MultiAZ", json!(db.multi_az()));
    put("BackupRetentionPeriod", json!(db.backup_retention_period()));
    put("PreferredBackupWindow", json!(db.preferred_backup_window()));
    put(
        "LatestRestorableTime",
        time_json(db.latest_restorable_time()),
    );
    put(
        "DBInstanceAutomatedBackupsReplications",
        json!(
            db.db_instance_automated_backups_replications()
                .iter()
                .map(|r| r.db_instance_automated_backups_arn())
                .collect::<Vec<_>>()
        ),
    );
    put("AllocatedStorage", json!(db.allocated_storage()));
    put("MaxAllocatedStorage", json!(db.max_allocated_storage()));
    put("StorageType", json!(db.storage_type()));
    put("PubliclyAccessible", json!(db.publicly_accessible()));
    put("StorageEncrypted", json!(db.storage_encrypted()));
    put("KmsKeyId", json!(db.kms_key_id()));
    put("DeletionProtection", json!(db.deletion_protection()));
    put("MonitoringInterval", json!(db.monitoring_interval()));
    put(
        "PerformanceInsightsEnabled",
        json!(db.performance_insights_enabled()),
    );
    put(
        "DatabaseInsightsMode",
        json!(db.database_insights_mode().map(|m| m.as_str())),
    );
    put(
        "EnabledCloudwatchLogsExports",
        json!(db.enabled_cloudwatch_logs_exports()),
    );
    put(
        "CACertificateIdentifier",
        json!(db.ca_certificate_identifier()),
    );
    put(
        "IAMDatabaseAuthenticationEnabled",
        json!(db.iam_database_authentication_enabled()),
    );
    // Where `--connect` opens the in-database session (src/connect).
    put(
        "Endpoint",
        json!(
            db.endpoint()
                .map(|e| json!({"Address": e.address(), "Port": e.port()}))
        ),
    );
    put(
        "ReadReplicaSourceDBInstanceIdentifier",
        json!(db.read_replica_source_db_instance_identifier()),
    );
    put(
        "ReadReplicaSourceDBClusterIdentifier",
        json!(db.read_replica_source_db_cluster_identifier()),
    );
    put(
        "ReadReplicaDBInstanceIdentifiers",
        json!(db.read_replica_db_instance_identifiers()),
    );
    put(
        "ReadReplicaDBClusterIdentifiers",
        json!(db.read_replica_db_cluster_identifiers()),
    );
    put(
        "StatusInfos",
        json!(db
            .status_infos()
            .iter()
            .map(|s| json!({"StatusType": s.status_type(), "Status": s.status(), "Normal": s.normal(), "Message": s.message()}))
            .collect::<Vec<_>>()),
    );
    put(
        "DBParameterGroups",
        json!(db
            .db_parameter_groups()
            .iter()
            .map(|g| json!({"DBParameterGroupName": g.db_parameter_group_name(), "ParameterApplyStatus": g.parameter_apply_status()}))
            .collect::<Vec<_>>()),
    );
    Json::Object(m)
}

/// The fields of a DBCluster the audit read, under their API names.
pub fn cluster_evidence(cluster: &DbCluster) -> Json {
    let mut m = Map::new();
    let mut put = |k: &str, v: Json| {
        if !v.is_null() {
            m.insert(k.to_string(), v);
        }
    };
    put(
        "DBClusterIdentifier",
        json!(cluster.db_cluster_identifier()),
    );
    put("DBClusterArn", json!(cluster.db_cluster_arn()));
    put("Status", json!(cluster.status()));
    // Where `--connect` opens the in-database session (src/connect).
    put("Endpoint", json!(cluster.endpoint()));
    put("ReaderEndpoint", json!(cluster.reader_endpoint()));
    put("Port", json!(cluster.port()));
    put(
        "IAMDatabaseAuthenticationEnabled",
        json!(cluster.iam_database_authentication_enabled()),
    );
    put("Engine", json!(cluster.engine()));
    put("EngineVersion", json!(cluster.engine_version()));
    put("EngineMode", json!(cluster.engine_mode()));
    put(
        "EngineLifecycleSupport",
        json!(cluster.engine_lifecycle_support()),
    );
    put(
        "DBClusterInstanceClass",
        json!(cluster.db_cluster_instance_class()),
    );
    put("MultiAZ", json!(cluster.multi_az()));
    put("AvailabilityZones", json!(cluster.availability_zones()));
    put(
        "DBClusterMembers",
        json!(
            cluster
                .db_cluster_members()
                .iter()
                .map(|m| json!({
                    "DBInstanceIdentifier": m.db_instance_identifier(),
                    "IsClusterWriter": m.is_cluster_writer(),
                    "DBClusterParameterGroupStatus": m.db_cluster_parameter_group_status(),
                }))
                .collect::<Vec<_>>()
        ),
    );
    put(
        "ReadReplicaIdentifiers",
        json!(cluster.read_replica_identifiers()),
    );
    put(
        "ReplicationSourceIdentifier",
        json!(cluster.replication_source_identifier()),
    );
    put(
        "GlobalClusterIdentifier",
        json!(cluster.global_cluster_identifier()),
    );
    put(
        "BackupRetentionPeriod",
        json!(cluster.backup_retention_period()),
    );
    put(
        "PreferredBackupWindow",
        json!(cluster.preferred_backup_window()),
    );
    put(
        "LatestRestorableTime",
        time_json(cluster.latest_restorable_time()),
    );
    put(
        "EarliestRestorableTime",
        time_json(cluster.earliest_restorable_time()),
    );
    put("StorageEncrypted", json!(cluster.storage_encrypted()));
    put("KmsKeyId", json!(cluster.kms_key_id()));
    put("DeletionProtection", json!(cluster.deletion_protection()));
    put("PubliclyAccessible", json!(cluster.publicly_accessible()));
    put("MonitoringInterval", json!(cluster.monitoring_interval()));
    put(
        "PerformanceInsightsEnabled",
        json!(cluster.performance_insights_enabled()),
    );
    put(
        "EnabledCloudwatchLogsExports",
        json!(cluster.enabled_cloudwatch_logs_exports()),
    );
    put(
        "DBClusterParameterGroup",
        json!(cluster.db_cluster_parameter_group()),
    );
    Json::Object(m)
}

/// The relevant rows of each custom parameter group, as evidence.
fn parameter_evidence(groups: &[GroupReading], family: &str) -> Vec<RawEvidence> {
    let names: &[&str] = if family == "postgres" {
        params::POSTGRES_PARAMS
    } else {
        params::MYSQL_PARAMS
    };
    groups
        .iter()
        .filter_map(|group| {
            let (call, arg) = match group.level {
                "cluster" => ("DescribeDBClusterParameters", "DBClusterParameterGroupName"),
                _ => ("DescribeDBParameters", "DBParameterGroupName"),
            };
            let response = match &group.params {
                GroupParams::Default => return None,
                GroupParams::Unreadable(reason) => json!({"error": reason}),
                GroupParams::Custom(rows) => Json::Array(
                    rows.iter()
                        .filter(|(name, _)| names.contains(&name.as_str()))
                        .map(|(name, row)| {
                            json!({"ParameterName": name, "ParameterValue": row.value, "ApplyType": row.apply_type, "Source": row.source})
                        })
                        .collect(),
                ),
            };
            Some(RawEvidence {
                source: SOURCE.into(),
                name: call.into(),
                request: format!("{call} {arg}={} Source=user", group.name),
                response,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
