//! `aws_db_instance`.

use super::super::model::{Attr, Configuration, Resource};
use super::super::{PLAN_FIX, Writer, alerting_fact, budget_fact, platform_fact, shell};
use super::groups::{instance_groups, parameter_facts};
use super::read::{
    Read, as_bool, as_int, as_strings, as_text, attr, multiplicity, names_instance, put, read,
    refers_to, restored_from,
};
use super::{BACKUP_REPLICATION, CLUSTER, INSTANCE, engine_or_outcome, version, version_facts};
use crate::facts::snapshot::Collected;
use crate::target::{Role, TerraformSpec};
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

pub(super) fn instance(
    spec: &TerraformSpec,
    config: &Configuration,
    resource: &Resource,
    now: DateTime<Utc>,
) -> Collected {
    let role = match attr(resource, "replicate_source_db") {
        Attr::Unset => Role::Primary,
        _ => Role::Replica,
    };
    let source = match role {
        Role::Replica => source_instance(config, resource),
        _ => None,
    };
    let engine = match engine_or_outcome(spec, resource, source, now) {
        Ok(engine) => engine,
        Err(outcome) => return *outcome,
    };
    let version = version(resource, source);
    let shown = version.value().cloned().unwrap_or_default();
    let mut target = shell(spec, resource, role, engine.family, &shown, now);
    let mut w = Writer::new(resource);
    platform_fact(&mut w, "rds");
    engine.record(&mut w);
    w.known(
        "rds.deployment",
        "aws_db_instance without cluster_identifier: a standalone DB instance",
        "instance",
    );
    w.not_yet("rds.status", "instance status");
    version_facts(&mut w, &engine, &version, now);

    // Replicas, or the source of this one.
    put(
        &mut w,
        "replicas.count",
        &instance_replicas(config, resource),
    );
    if role == Role::Replica {
        put(
            &mut w,
            "rds.replica.source",
            &replica_source(config, resource),
        );
        w.not_yet("rds.replica.replication_status", "replication state");
    }

    put(
        &mut w,
        "ha.enabled",
        &read(
            resource,
            "multi_az",
            Some((false, "provider default false: a Single-AZ instance")),
            as_bool,
        ),
    );

    // Backups and point-in-time recovery.
    let days = instance_retention(resource, role);
    backup_facts(&mut w, &days);
    if let Some((reason, fix)) = &engine.unknown {
        w.sink.unknown(
            "binlog.enabled",
            format!(
                "{}: RDS MySQL/MariaDB keep a binary log with automated backups, PostgreSQL has none, and the engine is unknown: {reason}",
                resource.address
            ),
            fix.as_deref(),
        );
    } else if matches!(engine.family, "mysql" | "mariadb") {
        put(
            &mut w,
            "binlog.enabled",
            &days.derive(
                |d| *d > 0,
                " (RDS MySQL/MariaDB keep a binary log only with automated backups)",
            ),
        );
    }
    if days.value().is_some_and(|d| *d > 0) {
        w.not_yet(
            "rds.backups.latest_restorable_age_seconds",
            "restorable time",
        );
    }
    cross_region(&mut w, config, resource);

    // Storage, network, encryption, protection.
    put(
        &mut w,
        "disk.autogrow",
        &instance_autogrow(resource, source),
    );
    put(
        &mut w,
        "network.public_ip",
        &read(
            resource,
            "publicly_accessible",
            Some((false, "provider default false")),
            as_bool,
        ),
    );
    super::ingress::facts(&mut w, config, resource);
    let encrypted = instance_encryption(resource, role, source);
    protection_facts(&mut w, resource, &encrypted);
    put(
        &mut w,
        "encryption.customer_managed_key",
        &super::keys::customer_managed(config, resource, source, &encrypted),
    );

    // Monitoring and logs.
    put(
        &mut w,
        "rds.monitoring.enhanced_interval_seconds",
        &read(
            resource,
            "monitoring_interval",
            Some((0, "provider default 0: Enhanced Monitoring off")),
            as_int,
        ),
    );
    put(
        &mut w,
        "rds.monitoring.performance_insights",
        &insights(resource, "provider default false"),
    );
    put(
        &mut w,
        "rds.logs.exports",
        &read(
            resource,
            "enabled_cloudwatch_logs_exports",
            Some((Vec::new(), "no log exported")),
            as_strings,
        ),
    );

    let groups = instance_groups(config, resource, role, source);
    parameter_facts(&mut w, &engine, &version, &groups);
    super::audit::option_group_facts(&mut w, config, resource, source);
    super::audit::no_activity_stream(&mut w);
    budget_fact(&mut w, config, "aws_budgets_budget");
    alerting_fact(&mut w, config, "rds");
    target.facts = w.sink.finish();
    target.evidence.extend(groups.evidence);
    Ok(target)
}

/// The instance a replica's `replicate_source_db` names, when it is in this configuration.
fn source_instance<'c>(config: &'c Configuration, replica: &Resource) -> Option<&'c Resource> {
    match attr(replica, "replicate_source_db") {
        Attr::Unresolved(expression) => config
            .referenced(expression)
            .filter(|found| found.kind == INSTANCE && found.address != replica.address),
        Attr::Set(Json::String(id)) => config.of_kind(INSTANCE).find(|found| {
            found.address != replica.address
                && found
                    .string("identifier")
                    .is_some_and(|identifier| names_instance(id, identifier))
        }),
        _ => None,
    }
}

fn replica_source(config: &Configuration, replica: &Resource) -> Read<String> {
    match attr(replica, "replicate_source_db") {
        Attr::Set(value) => Read::Known(
            as_text(value).unwrap_or_else(|| value.to_string()),
            format!("replicate_source_db = {value}"),
        ),
        Attr::Unresolved(expression) => match config.referenced(expression) {
            Some(found) => Read::Known(
                found
                    .string("identifier")
                    .filter(|id| !id.is_empty())
                    .unwrap_or(&found.address)
                    .to_string(),
                format!("replicate_source_db = {expression}"),
            ),
            None => Read::unresolved("replicate_source_db", expression),
        },
        Attr::Unset => Read::Unknown("replicate_source_db is not set".into(), None),
    }
}

/// Read replicas of this instance in the configuration: instances whose
/// `replicate_source_db` and Aurora clusters whose `replication_source_identifier` name it.
fn instance_replicas(config: &Configuration, resource: &Resource) -> Read<i64> {
    let mut total = 0;
    let mut found = Vec::new();
    let mut undecided = Vec::new();
    let followers = config
        .of_kind(INSTANCE)
        .map(|r| (r, "replicate_source_db"))
        .chain(
            config
                .of_kind(CLUSTER)
                .map(|r| (r, "replication_source_identifier")),
        )
        .filter(|(r, _)| r.address != resource.address);
    for (other, path) in followers {
        match refers_to(
            config,
            attr(other, path),
            resource,
            "identifier",
            names_instance,
        ) {
            Some(true) => match multiplicity(other) {
                Ok(n) => {
                    total += n;
                    found.push(other.address.clone());
                }
                Err(why) => undecided.push(format!("{} ({why})", other.address)),
            },
            Some(false) => {}
            None => undecided.push(format!(
                "{} ({path} = {})",
                other.address,
                other.unresolved.get(path).map_or("?", String::as_str)
            )),
        }
    }
    if !undecided.is_empty() {
        return Read::Unknown(
            format!(
                "cannot tell which instance these replicas follow: {}",
                undecided.join(", ")
            ),
            Some(PLAN_FIX.into()),
        );
    }
    let origin = if found.is_empty() {
        "no aws_db_instance or aws_rds_cluster of this configuration replicates it".to_string()
    } else {
        format!("replicated by {}", found.join(", "))
    };
    Read::Known(total, origin)
}

/// `backup_retention_period`: 0 when not written (the provider sends 0), or
/// the snapshot's for a restored instance.
fn instance_retention(resource: &Resource, role: Role) -> Read<i64> {
    if let (Attr::Unset, Some(from)) = (
        attr(resource, "backup_retention_period"),
        restored_from(resource),
    ) {
        return Read::Unknown(
            format!(
                "backup_retention_period is not set and the instance is restored ({from}): it keeps the retention of its snapshot or source"
            ),
            Some("set backup_retention_period".into()),
        );
    }
    let why = if role == Role::Replica {
        "a read replica has no automated backups unless backup_retention_period is set"
    } else {
        "the provider sends 0 to CreateDBInstance: automated backups off"
    };
    read(resource, "backup_retention_period", Some((0, why)), as_int)
}

pub(super) fn backup_facts(w: &mut Writer<'_>, days: &Read<i64>) {
    put(w, "backups.retention_days", days);
    put(w, "backups.enabled", &days.derive(|d| *d > 0, ""));
    put(
        w,
        "pitr.enabled",
        &days.derive(
            |d| *d > 0,
            " (point-in-time restore comes with automated backups)",
        ),
    );
}

/// Backups replicated to another region by an
/// `aws_db_instance_automated_backups_replication` of this configuration.
fn cross_region(w: &mut Writer<'_>, config: &Configuration, resource: &Resource) {
    let replication = config.of_kind(BACKUP_REPLICATION).find(|r| {
        refers_to(
            config,
            attr(r, "source_db_instance_arn"),
            resource,
            "identifier",
            names_instance,
        ) == Some(true)
    });
    match replication {
        Some(r) => w.known(
            "rds.backups.cross_region_replication",
            format!("{} replicates its automated backups", r.address),
            true,
        ),
        None => w.sink.unknown(
            "rds.backups.cross_region_replication",
            format!(
                "{}: no {BACKUP_REPLICATION} of this configuration replicates its backups; one declared with the destination region's provider in another configuration is not seen",
                resource.address
            ),
            Some(&format!(
                "declare the {BACKUP_REPLICATION} here, or audit the running instance (rds://REGION/db/ID)"
            )),
        ),
    }
}

/// Storage autoscaling: `max_allocated_storage` above `allocated_storage`.
fn instance_autogrow(resource: &Resource, source: Option<&Resource>) -> Read<bool> {
    let max = read(
        resource,
        "max_allocated_storage",
        Some((0, "storage autoscaling off")),
        as_int,
    );
    let max_gib = match max {
        Read::Known(0, origin) => {
            return Read::Known(false, format!("{origin}: storage autoscaling off"));
        }
        Read::Known(gib, _) => gib,
        Read::Unknown(reason, fix) => return Read::Unknown(reason, fix),
    };
    let allocated = match (attr(resource, "allocated_storage"), source) {
        (Attr::Unset, Some(source)) => read(source, "allocated_storage", None, as_int)
            .derive(|gib| *gib, &format!(" (of the source {})", source.address)),
        _ => read(resource, "allocated_storage", None, as_int),
    };
    match allocated {
        Read::Known(gib, _) => Read::Known(
            max_gib > gib,
            format!("max_allocated_storage ({max_gib} GiB) > allocated_storage ({gib} GiB)"),
        ),
        Read::Unknown(reason, fix) => Read::Unknown(
            format!("max_allocated_storage is {max_gib} GiB but {reason}"),
            fix,
        ),
    }
}

/// `storage_encrypted`, or what a replica or a restored instance inherits.
fn instance_encryption(resource: &Resource, role: Role, source: Option<&Resource>) -> Read<bool> {
    if !matches!(attr(resource, "storage_encrypted"), Attr::Unset) {
        return read(resource, "storage_encrypted", None, as_bool);
    }
    if role == Role::Replica {
        return match source {
            Some(source) => read(
                source,
                "storage_encrypted",
                Some((false, "provider default false")),
                as_bool,
            )
            .derive(
                |on| *on,
                &format!(" on the source {}: a read replica is encrypted like its source", source.address),
            ),
            None => Read::Unknown(
                "storage_encrypted is not set: a read replica is encrypted like its source, which is not in this configuration".into(),
                None,
            ),
        };
    }
    if let Some(from) = restored_from(resource) {
        return Read::Unknown(
            format!(
                "storage_encrypted is not set and the instance is restored ({from}): it is encrypted like its snapshot"
            ),
            Some("set storage_encrypted".into()),
        );
    }
    read(
        resource,
        "storage_encrypted",
        Some((false, "provider default false: unencrypted")),
        as_bool,
    )
}

/// Encryption, its key and deletion protection: the same attributes on an
/// instance and a cluster (how `encrypted` is decided differs).
pub(super) fn protection_facts(w: &mut Writer<'_>, resource: &Resource, encrypted: &Read<bool>) {
    put(w, "encryption.at_rest", encrypted);
    put(w, "rds.kms_key_id", &kms_key(resource, encrypted));
    put(
        w,
        "deletion_protection.enabled",
        &read(
            resource,
            "deletion_protection",
            Some((false, "provider default false")),
            as_bool,
        ),
    );
}

/// `kms_key_id`; when not written, RDS picks the AWS managed key at creation.
pub(super) fn kms_key(resource: &Resource, encrypted: &Read<bool>) -> Read<String> {
    match attr(resource, "kms_key_id") {
        Attr::Set(value) => Read::Known(
            as_text(value).unwrap_or_else(|| value.to_string()),
            format!("kms_key_id = {value}"),
        ),
        Attr::Unresolved(expression) => Read::unresolved("kms_key_id", expression),
        Attr::Unset => match encrypted {
            Read::Known(true, _) => Read::Unknown(
                "kms_key_id is not set: RDS encrypts with the AWS managed key aws/rds, whose ARN exists only once the database does".into(),
                None,
            ),
            Read::Known(false, _) => Read::Unknown("storage not encrypted: no KMS key".into(), None),
            Read::Unknown(reason, fix) => Read::Unknown(reason.clone(), fix.clone()),
        },
    }
}

/// Performance Insights, or Database Insights in advanced mode (which includes it).
pub(super) fn insights(resource: &Resource, why_default: &str) -> Read<bool> {
    let enabled = read(
        resource,
        "performance_insights_enabled",
        Some((false, why_default)),
        as_bool,
    );
    let advanced = matches!(
        attr(resource, "database_insights_mode"),
        Attr::Set(Json::String(mode)) if mode == "advanced"
    );
    match enabled {
        Read::Known(false, origin) if advanced => {
            Read::Known(true, format!("{origin}, database_insights_mode = advanced"))
        }
        Read::Unknown(..) if advanced => {
            Read::Known(true, "database_insights_mode = advanced".to_string())
        }
        other => other,
    }
}
