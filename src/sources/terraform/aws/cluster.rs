//! `aws_rds_cluster`.

use super::super::model::{Attr, Configuration, Resource};
use super::super::{PLAN_FIX, Writer, alerting_fact, budget_fact, platform_fact, shell};
use super::groups::{cluster_groups, parameter_facts};
use super::instance::{backup_facts, insights, protection_facts};
use super::read::{
    Read, as_bool, as_int, as_strings, as_text, attr, multiplicity, put, read, refers_to,
    restored_from, unresolved_reason,
};
use super::{AFTER_APPLY, CLUSTER_INSTANCE, engine_or_outcome, params, version, version_facts};
use crate::facts::snapshot::Collected;
use crate::target::{Role, TerraformSpec};
use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};
use std::collections::BTreeSet;

/// The `aws_rds_cluster_instance` resources that join a cluster.
struct Members<'c> {
    resources: Vec<&'c Resource>,
    /// How many instances they plan, or why that is unknown.
    count: Read<i64>,
}

fn cluster_members<'c>(config: &'c Configuration, cluster: &Resource) -> Members<'c> {
    let mut resources = Vec::new();
    let mut shown = Vec::new();
    let mut undecided = Vec::new();
    let mut total = 0;
    for member in config.of_kind(CLUSTER_INSTANCE) {
        let path = "cluster_identifier";
        match refers_to(config, attr(member, path), cluster, path, |a, b| a == b) {
            Some(true) => {}
            Some(false) => continue,
            None => {
                undecided.push(format!(
                    "{} ({path} = {})",
                    member.address,
                    member.unresolved.get(path).map_or("?", String::as_str)
                ));
                continue;
            }
        }
        resources.push(member);
        match multiplicity(member) {
            Ok(1) => {
                total += 1;
                shown.push(member.address.clone());
            }
            Ok(n) => {
                total += n;
                shown.push(format!("{} ×{n}", member.address));
            }
            Err(why) => undecided.push(format!("{} ({why})", member.address)),
        }
    }
    let count = if undecided.is_empty() {
        let origin = if shown.is_empty() {
            format!("no {CLUSTER_INSTANCE} of this configuration joins it")
        } else {
            format!("instances joining it: {}", shown.join(", "))
        };
        Read::Known(total, origin)
    } else {
        let fix = if undecided.iter().any(|u| !u.contains(AFTER_APPLY)) {
            PLAN_FIX.to_string()
        } else {
            format!("set cluster_identifier on the cluster and on its {CLUSTER_INSTANCE} resources")
        };
        Read::Unknown(
            format!(
                "cannot tell how many instances join it: {}",
                undecided.join(", ")
            ),
            Some(fix),
        )
    };
    Members { resources, count }
}

pub(super) fn cluster(
    spec: &TerraformSpec,
    config: &Configuration,
    resource: &Resource,
    now: DateTime<Utc>,
) -> Collected {
    let engine = match engine_or_outcome(spec, resource, None, now) {
        Ok(engine) => engine,
        Err(outcome) => return *outcome,
    };
    let aurora = engine.raw.starts_with("aurora");
    // What kind of cluster it is (Aurora, Aurora Serverless v1, Multi-AZ DB
    // cluster) decides its topology, storage and monitoring; when only apply
    // knows, those facts are unknown and the rest is still judged.
    let mut shape_unknown = engine.unknown.clone();
    let mode = match attr(resource, "engine_mode") {
        Attr::Set(value) => as_text(value).unwrap_or_default(),
        Attr::Unset => "provisioned".to_string(),
        Attr::Unresolved(expression) => {
            let (reason, fix) = unresolved_reason("engine_mode", expression);
            if aurora && shape_unknown.is_none() {
                shape_unknown = Some((reason, Some(fix)));
            }
            String::new()
        }
    };
    let serverless_v1 = aurora && mode == "serverless";
    let version = version(resource, None);
    let shown = version.value().cloned().unwrap_or_default();
    let mut target = shell(spec, resource, Role::Cluster, engine.family, &shown, now);
    let mut w = Writer::new(resource);
    platform_fact(&mut w, "rds");
    engine.record(&mut w);
    if let Some((reason, fix)) = &shape_unknown {
        let reason = format!(
            "{}: whether it is an Aurora or a Multi-AZ DB cluster decides this: {reason}",
            resource.address
        );
        for fact in [
            "rds.deployment",
            "ha.enabled",
            "replicas.count",
            "rds.cluster.members",
            "disk.autogrow",
            "network.public_ip",
            "rds.monitoring.enhanced_interval_seconds",
            "rds.monitoring.performance_insights",
        ] {
            w.sink.unknown(fact, reason.clone(), fix.as_deref());
        }
    } else if aurora {
        w.known(
            "rds.deployment",
            format!(
                "engine = {}, engine_mode = {mode}: an Aurora cluster",
                engine.raw
            ),
            "aurora",
        );
    } else {
        w.known(
            "rds.deployment",
            format!(
                "engine = {} on aws_rds_cluster: a Multi-AZ DB cluster",
                engine.raw
            ),
            "multi-az-cluster",
        );
    }
    w.not_yet("rds.status", "cluster status");
    version_facts(&mut w, &engine, &version, now);

    let members = if aurora && !serverless_v1 {
        cluster_members(config, resource)
    } else {
        Members {
            resources: Vec::new(),
            count: Read::Known(0, String::new()),
        }
    };
    target
        .evidence
        .extend(members.resources.iter().map(|m| super::super::evidence(m)));
    if shape_unknown.is_none() {
        topology(&mut w, resource, &members, aurora, serverless_v1);
    }

    // Backups and point-in-time recovery: on the cluster.
    let days = match (
        attr(resource, "backup_retention_period"),
        restored_from(resource),
    ) {
        (Attr::Unset, Some(from)) => Read::Unknown(
            format!(
                "backup_retention_period is not set and the cluster is restored ({from}): it keeps the retention of its snapshot or source"
            ),
            Some("set backup_retention_period".into()),
        ),
        _ => read(
            resource,
            "backup_retention_period",
            Some((
                1,
                "not sent by the provider: CreateDBCluster's default, 1 day",
            )),
            as_int,
        ),
    };
    backup_facts(&mut w, &days);
    if days.value().is_some_and(|d| *d > 0) {
        w.not_yet(
            "rds.backups.latest_restorable_age_seconds",
            "restorable time",
        );
    }

    if shape_unknown.is_some() {
        // Recorded unknown above.
    } else if aurora {
        w.known(
            "disk.autogrow",
            format!(
                "engine = {}: Aurora cluster storage grows automatically",
                engine.raw
            ),
            true,
        );
    } else {
        w.known(
            "disk.autogrow",
            format!(
                "engine = {}: a Multi-AZ DB cluster does not support storage autoscaling",
                engine.raw
            ),
            false,
        );
    }

    if shape_unknown.is_none() {
        put(
            &mut w,
            "network.public_ip",
            &cluster_public(resource, &members, aurora, serverless_v1),
        );
    }
    super::ingress::facts(&mut w, config, resource);
    let encrypted = if !matches!(attr(resource, "storage_encrypted"), Attr::Unset) {
        read(resource, "storage_encrypted", None, as_bool)
    } else if let Some(from) = restored_from(resource) {
        Read::Unknown(
            format!(
                "storage_encrypted is not set and the cluster is restored ({from}): it is encrypted like its snapshot"
            ),
            Some("set storage_encrypted".into()),
        )
    } else if mode.is_empty() {
        Read::Unknown(
            "storage_encrypted is not set and engine_mode is known only when Terraform plans: Aurora Serverless v1 is always encrypted, a provisioned cluster by default not".into(),
            Some(super::super::PLAN_FIX.into()),
        )
    } else if serverless_v1 {
        Read::Known(
            true,
            "storage_encrypted not set (engine_mode = serverless: Aurora Serverless v1 is always encrypted)".into(),
        )
    } else {
        read(
            resource,
            "storage_encrypted",
            Some((
                false,
                "provider default false for engine_mode provisioned: unencrypted",
            )),
            as_bool,
        )
    };
    protection_facts(&mut w, resource, &encrypted);
    put(
        &mut w,
        "encryption.customer_managed_key",
        &super::keys::customer_managed(config, resource, None, &encrypted),
    );

    if shape_unknown.is_none() {
        cluster_monitoring(&mut w, resource, &members, aurora && !serverless_v1);
    }
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

    let groups = cluster_groups(config, resource, &members.resources);
    parameter_facts(&mut w, &engine, &version, &groups);
    super::audit::no_option_group_plugin(&mut w);
    super::audit::activity_stream_fact(&mut w, config, resource);
    if let Some((reason, fix)) = &engine.unknown {
        w.sink.unknown(
            "binlog.enabled",
            format!(
                "{}: the binary log depends on the engine: {reason}",
                resource.address
            ),
            fix.as_deref(),
        );
    } else if engine.family == "mysql" {
        let binlog = if aurora {
            let resolved = params::resolve(
                &engine.raw,
                version.value().map_or("", String::as_str),
                "binlog_format",
                &groups.readings,
            );
            match resolved.value {
                Ok(format) => Read::Known(
                    !format.eq_ignore_ascii_case("OFF"),
                    format!(
                        "{} (Aurora MySQL writes a binary log unless binlog_format is OFF)",
                        resolved.origin
                    ),
                ),
                Err(reason) => Read::Unknown(reason, groups.fix.clone()),
            }
        } else {
            days.derive(
                |d| *d > 0,
                " (the binary log is kept only with automated backups)",
            )
        };
        put(&mut w, "binlog.enabled", &binlog);
    }
    budget_fact(&mut w, config, "aws_budgets_budget");
    alerting_fact(&mut w, config, "rds");
    target.facts = w.sink.finish();
    target.evidence.extend(groups.evidence);
    Ok(target)
}

/// Readers and availability across zones, judged as the RDS source does: a
/// Multi-AZ DB cluster always has two readable standbys in other zones; an
/// Aurora cluster fails over to a reader, so it needs one in another zone.
fn topology(
    w: &mut Writer<'_>,
    cluster: &Resource,
    members: &Members<'_>,
    aurora: bool,
    serverless_v1: bool,
) {
    if !aurora {
        let origin = "a Multi-AZ DB cluster: a writer and two readable standbys, each in another Availability Zone";
        w.known("replicas.count", origin, 2);
        w.known("ha.enabled", origin, true);
        w.not_yet("rds.cluster.members", "cluster members (RDS creates them)");
        return;
    }
    if serverless_v1 {
        w.known(
            "replicas.count",
            "engine_mode = serverless: Aurora Serverless v1 has no reader",
            0,
        );
        w.known(
            "ha.enabled",
            "engine_mode = serverless: Aurora Serverless v1 runs in one Availability Zone with no standby (RDS recreates it elsewhere after a failure)",
            false,
        );
        w.known(
            "rds.cluster.members",
            "engine_mode = serverless: no instances",
            Vec::<Json>::new(),
        );
        return;
    }
    put(
        w,
        "replicas.count",
        &members
            .count
            .derive(|n| (n - 1).max(0), " (one writer, the others readers)"),
    );
    let mut rows = Vec::new();
    let mut pinned = Vec::new();
    let mut unpinned = false;
    for member in &members.resources {
        let n = multiplicity(member).unwrap_or(1);
        let zone = match attr(member, "availability_zone") {
            Attr::Set(Json::String(zone)) => Some(zone.clone()),
            _ => None,
        };
        for i in 0..n {
            let id = if n == 1 && !matches!(member.attr("count"), Attr::Set(_)) {
                member.address.clone()
            } else {
                format!("{}[{i}]", member.address)
            };
            rows.push(json!({
                "id": id,
                "writer": null,
                "availability_zone": zone,
                "status": null,
                "class": member.string("instance_class"),
            }));
            match &zone {
                Some(zone) => pinned.push(zone.clone()),
                None => unpinned = true,
            }
        }
    }
    match &members.count {
        Read::Known(..) => w.known(
            "rds.cluster.members",
            format!("{CLUSTER_INSTANCE} resources joining it (the writer is chosen by RDS)"),
            rows,
        ),
        Read::Unknown(reason, fix) => w.sink.unknown(
            "rds.cluster.members",
            format!("{}: {reason}", cluster.address),
            fix.as_deref(),
        ),
    }
    let ha = match &members.count {
        Read::Unknown(reason, fix) => Read::Unknown(reason.clone(), fix.clone()),
        Read::Known(n, origin) if *n < 2 => Read::Known(
            false,
            format!("{origin}: {n} instance(s), no reader to fail over to"),
        ),
        Read::Known(n, origin) => {
            let distinct: BTreeSet<&String> = pinned.iter().collect();
            let zones = match attr(cluster, "availability_zones") {
                Attr::Set(value) => as_strings(value),
                _ => None,
            };
            if distinct.len() > 1 {
                Read::Known(
                    true,
                    format!(
                        "{origin}: availability_zone of the instances puts them in {}",
                        distinct.into_iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                )
            } else if !unpinned {
                Read::Known(
                    false,
                    format!(
                        "{origin}: availability_zone puts every instance in {}",
                        pinned.first().map_or("one zone", String::as_str)
                    ),
                )
            } else if pinned.is_empty()
                && let Some(zones) = zones.filter(|z| z.len() > 1)
            {
                Read::Known(
                    true,
                    format!(
                        "{origin}; availability_zones = [{}]: RDS puts each of the cluster's first three instances in a different one of these zones (CreateDBCluster AvailabilityZones), so a reader runs outside the writer's zone",
                        zones.join(", ")
                    ),
                )
            } else {
                Read::Unknown(
                    format!(
                        "{n} instances join it, but neither availability_zones on the cluster nor availability_zone on every instance says which zones RDS puts them in"
                    ),
                    Some(
                        "set availability_zones (two or three zones) on the aws_rds_cluster, or audit the running cluster (rds://REGION/cluster/ID)"
                            .into(),
                    ),
                )
            }
        }
    };
    put(w, "ha.enabled", &ha);
}

/// Public exposure: an Aurora cluster is as exposed as its most exposed
/// instance; a Multi-AZ DB cluster has its own flag.
fn cluster_public(
    cluster: &Resource,
    members: &Members<'_>,
    aurora: bool,
    serverless_v1: bool,
) -> Read<bool> {
    if serverless_v1 {
        return Read::Known(
            false,
            "engine_mode = serverless: Aurora Serverless v1 cannot have a public IP address".into(),
        );
    }
    if !aurora {
        return match attr(cluster, "publicly_accessible") {
            Attr::Unset => Read::Unknown(
                "publicly_accessible is not set: CreateDBCluster then decides from the VPC and the DB subnet group (public in a default VPC)".into(),
                Some("set publicly_accessible = false".into()),
            ),
            _ => read(cluster, "publicly_accessible", None, as_bool),
        };
    }
    if let Read::Unknown(reason, fix) = &members.count {
        return Read::Unknown(reason.clone(), fix.clone());
    }
    if members.resources.is_empty() {
        return Read::Unknown(
            format!("no {CLUSTER_INSTANCE} of this configuration joins it: an Aurora cluster is as exposed as its instances"),
            Some("declare its instances in this configuration, or audit the running cluster (rds://REGION/cluster/ID)".into()),
        );
    }
    let flags: Vec<(&str, Read<bool>)> = members
        .resources
        .iter()
        .map(|m| {
            (
                m.address.as_str(),
                read(
                    m,
                    "publicly_accessible",
                    Some((false, "provider default false")),
                    as_bool,
                ),
            )
        })
        .collect();
    if let Some((address, _)) = flags.iter().find(|(_, f)| f.value() == Some(&true)) {
        return Read::Known(true, format!("{address}: publicly_accessible = true"));
    }
    if let Some((address, Read::Unknown(reason, fix))) =
        flags.iter().find(|(_, f)| f.value().is_none())
    {
        return Read::Unknown(format!("{address}: {reason}"), fix.clone());
    }
    Read::Known(
        false,
        format!(
            "publicly_accessible of every instance ({}) is false",
            flags.iter().map(|(a, _)| *a).collect::<Vec<_>>().join(", ")
        ),
    )
}

/// Enhanced Monitoring and Performance Insights: on the cluster for a
/// Multi-AZ DB cluster (and when the cluster sets them), else per instance.
fn cluster_monitoring(
    w: &mut Writer<'_>,
    cluster: &Resource,
    members: &Members<'_>,
    per_instance: bool,
) {
    let on_cluster_interval =
        !per_instance || !matches!(attr(cluster, "monitoring_interval"), Attr::Unset);
    let on_cluster_insights = !per_instance
        || !matches!(attr(cluster, "performance_insights_enabled"), Attr::Unset)
        || !matches!(attr(cluster, "database_insights_mode"), Attr::Unset);
    let no_members = || -> Option<Read<i64>> {
        match &members.count {
            Read::Unknown(reason, fix) => Some(Read::Unknown(reason.clone(), fix.clone())),
            Read::Known(..) if members.resources.is_empty() => Some(Read::Unknown(
                format!(
                    "no {CLUSTER_INSTANCE} of this configuration joins it: Aurora sets this per instance"
                ),
                None,
            )),
            Read::Known(..) => None,
        }
    };
    let interval = if on_cluster_interval {
        read(
            cluster,
            "monitoring_interval",
            Some((0, "not set: Enhanced Monitoring off")),
            as_int,
        )
    } else if let Some(unknown) = no_members() {
        unknown
    } else {
        let reads: Vec<(&str, Read<i64>)> = members
            .resources
            .iter()
            .map(|m| {
                (
                    m.address.as_str(),
                    read(
                        m,
                        "monitoring_interval",
                        Some((0, "provider default 0: off")),
                        as_int,
                    ),
                )
            })
            .collect();
        match reads.iter().find(|(_, r)| r.value().is_none()) {
            Some((address, Read::Unknown(reason, fix))) => {
                Read::Unknown(format!("{address}: {reason}"), fix.clone())
            }
            _ => {
                let values: Vec<i64> = reads
                    .iter()
                    .filter_map(|(_, r)| r.value().copied())
                    .collect();
                Read::Known(
                    if values.contains(&0) {
                        0
                    } else {
                        values.iter().copied().max().unwrap_or(0)
                    },
                    "monitoring_interval of every instance (0 when any has it off)".into(),
                )
            }
        }
    };
    put(w, "rds.monitoring.enhanced_interval_seconds", &interval);
    let insights_read = if on_cluster_insights {
        insights(cluster, "not set: off")
    } else if let Some(unknown) = no_members() {
        unknown.derive(|_| false, "")
    } else {
        let reads: Vec<(&str, Read<bool>)> = members
            .resources
            .iter()
            .map(|m| {
                (
                    m.address.as_str(),
                    insights(m, "not sent by the provider: off"),
                )
            })
            .collect();
        match reads.iter().find(|(_, r)| r.value().is_none()) {
            Some((address, Read::Unknown(reason, fix))) => {
                Read::Unknown(format!("{address}: {reason}"), fix.clone())
            }
            _ => Read::Known(
                reads.iter().all(|(_, r)| r.value() == Some(&true)),
                "performance_insights_enabled of every instance".into(),
            ),
        }
    };
    put(w, "rds.monitoring.performance_insights", &insights_read);
}
