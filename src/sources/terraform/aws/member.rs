//! A cluster member (`aws_rds_cluster_instance`, or `aws_db_instance` with
//! `cluster_identifier`) whose cluster is not in this configuration: it is
//! audited for what it decides itself (engine and version, public access,
//! Enhanced Monitoring, Performance Insights), and what its cluster decides
//! (backups, encryption, deletion protection, replicas, parameters) is
//! `unknown`, naming the cluster — never dropped from the report.

use super::super::model::{Attr, Resource};
use super::super::{Writer, platform_fact, shell};
use super::instance::insights;
use super::read::{Read, as_bool, as_int, as_text, attr, put, read};
use super::{engine_or_outcome, version, version_facts};
use crate::facts::snapshot::Collected;
use crate::target::{Role, TerraformSpec};
use chrono::{DateTime, Utc};

/// What the cluster decides for its members.
const CLUSTER_FACTS: [&str; 13] = [
    "backups.enabled",
    "backups.retention_days",
    "pitr.enabled",
    "encryption.at_rest",
    "encryption.customer_managed_key",
    "deletion_protection.enabled",
    "replicas.count",
    "ha.enabled",
    "disk.autogrow",
    "network.tls_required",
    "rds.logs.exports",
    "binlog.enabled",
    "rds.parameters.pending_reboot",
];

pub(super) fn lone_member(
    spec: &TerraformSpec,
    member: &Resource,
    now: DateTime<Utc>,
) -> Collected {
    let engine = match engine_or_outcome(spec, member, None, now) {
        Ok(engine) => engine,
        Err(outcome) => return *outcome,
    };
    let version = version(member, None);
    let shown = version.value().cloned().unwrap_or_default();
    let mut target = shell(spec, member, Role::Cluster, engine.family, &shown, now);
    let mut w = Writer::new(member);
    platform_fact(&mut w, "rds");
    engine.record(&mut w);
    let cluster = match attr(member, "cluster_identifier") {
        Attr::Set(value) => as_text(value).unwrap_or_else(|| value.to_string()),
        Attr::Unresolved(expression) => format!("`{expression}`"),
        Attr::Unset => "?".into(),
    };
    w.known(
        "rds.deployment",
        format!("cluster_identifier = {cluster}: a member of a DB cluster"),
        "aurora",
    );
    w.not_yet("rds.status", "instance status");
    version_facts(&mut w, &engine, &version, now);
    let reason = format!(
        "{}: its DB cluster {cluster} decides this, and the cluster is not in this configuration",
        member.address
    );
    let fix = "audit the configuration that declares the cluster together with this one, or the running cluster (rds://REGION/cluster/ID)";
    for fact in CLUSTER_FACTS {
        w.sink.unknown(fact, reason.clone(), Some(fix));
    }
    put(
        &mut w,
        "network.public_ip",
        &read(
            member,
            "publicly_accessible",
            Some((false, "provider default false")),
            as_bool,
        ),
    );
    put(
        &mut w,
        "rds.monitoring.enhanced_interval_seconds",
        &read(
            member,
            "monitoring_interval",
            Some((0, "provider default 0: Enhanced Monitoring off")),
            as_int,
        ),
    );
    let insights: Read<bool> = insights(member, "not sent by the provider: off");
    put(&mut w, "rds.monitoring.performance_insights", &insights);
    target.facts = w.sink.finish();
    Ok(target)
}
