//! `aws_db_instance` and `aws_rds_cluster` → the facts the RDS source reports
//! for a running instance or cluster (`sources/rds/facts.rs`), read from the
//! configuration with the AWS provider's defaults
//! (registry.terraform.io/providers/hashicorp/aws) and, where the provider
//! sends nothing, the RDS API's own:
//!
//! - `aws_db_instance`: `backup_retention_period` not set → **0**, automated
//!   backups off: the provider sends `d.Get("backup_retention_period")`, so 0,
//!   to CreateDBInstance (the resource documents "Default is 0"; the API's own
//!   default of 1 day never applies). `multi_az`, `publicly_accessible`,
//!   `storage_encrypted`, `deletion_protection`, `performance_insights_enabled`
//!   false, `monitoring_interval` 0, no `max_allocated_storage` (no storage
//!   autoscaling), no log exports.
//! - `aws_rds_cluster`: `backup_retention_period` not set → not sent, so
//!   CreateDBCluster's default of 1 day; `storage_encrypted` false, true for
//!   `engine_mode = "serverless"` (Aurora Serverless v1 is always encrypted);
//!   `deletion_protection` false. Aurora members are the
//!   `aws_rds_cluster_instance` resources that join the cluster
//!   (`publicly_accessible` false, `monitoring_interval` 0 by default).
//! - A read replica inherits its source's engine, version, encryption and
//!   (in the same region) parameter group; a restored instance or cluster
//!   (`snapshot_identifier`, `restore_to_point_in_time`) its snapshot's
//!   retention and encryption, so those stay unknown unless written.
//!
//! Parameters (TLS, CDC, slow-query logging) come from the
//! `aws_db_parameter_group` / `aws_rds_cluster_parameter_group` of this
//! configuration, resolved with the RDS source's own table of engine defaults.
//! What only a running instance has (status, restorable time, replication
//! state, RDS's support calendar) stays unknown.

use super::Writer;
use super::model::{Attr, Configuration, Resource};
use crate::eol;
use crate::eol::extended::EXTENDED_SUPPORT_DISABLED;
use crate::facts::snapshot::Collected;
use crate::target::TerraformSpec;
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

mod audit;
mod cluster;
mod groups;
mod ingress;
mod instance;
mod keys;
mod member;
mod read;
#[cfg(test)]
mod tests;

use cluster::cluster;
use instance::instance;
use read::{Read, as_text, attr, unresolved_reason};

/// The RDS source's table of engine defaults and its resolution of a
/// parameter over a target's groups (`sources/rds/params.rs`, pure). With the
/// `rds` feature it is that module; without it (no AWS SDK, no `sources::rds`)
/// the very same file is compiled here, so the two can never disagree. (The
/// RDS source reads every field of these types; this mapping does not.)
#[cfg(not(feature = "rds"))]
#[allow(dead_code)]
#[path = "../../rds/params.rs"]
mod params;
#[cfg(feature = "rds")]
use crate::sources::rds::params;

pub const INSTANCE: &str = "aws_db_instance";
pub const CLUSTER: &str = "aws_rds_cluster";
pub const CLUSTER_INSTANCE: &str = "aws_rds_cluster_instance";
const PARAMETER_GROUP: &str = "aws_db_parameter_group";
const CLUSTER_PARAMETER_GROUP: &str = "aws_rds_cluster_parameter_group";
const BACKUP_REPLICATION: &str = "aws_db_instance_automated_backups_replication";

/// The expression `terraform show -json` records for a value only apply knows.
const AFTER_APPLY: &str = "known after apply";

/// One resource as a target, why it cannot be one, or `None` for a member
/// of a cluster of this configuration (the cluster is the target).
pub fn target(
    spec: &TerraformSpec,
    config: &Configuration,
    resource: &Resource,
    now: DateTime<Utc>,
) -> Option<Collected> {
    if resource.kind == CLUSTER {
        return Some(cluster(spec, config, resource, now));
    }
    if resource.kind == CLUSTER_INSTANCE
        || !matches!(attr(resource, "cluster_identifier"), Attr::Unset)
    {
        return orphan_member(spec, config, resource, now);
    }
    Some(instance(spec, config, resource, now))
}

/// A cluster member is judged as its cluster. One whose cluster is not in
/// this configuration is audited for what it decides itself ([`member`]).
fn orphan_member(
    spec: &TerraformSpec,
    config: &Configuration,
    member: &Resource,
    now: DateTime<Utc>,
) -> Option<Collected> {
    let path = "cluster_identifier";
    let mut undecided = false;
    for cluster in config.of_kind(CLUSTER) {
        match read::refers_to(config, attr(member, path), cluster, path, |a, b| a == b) {
            Some(true) => return None,
            Some(false) => {}
            // The cluster reports its member count unknown, naming this one.
            None => undecided = true,
        }
    }
    if undecided {
        return None;
    }
    Some(member::lone_member(spec, member, now))
}

/// The engine family sqlready judges. Must agree with
/// `sources::rds::facts::engine_family` (behind the `rds` feature).
fn engine_family(engine: &str) -> Option<&'static str> {
    match engine {
        "postgres" | "aurora-postgresql" => Some("postgres"),
        "mysql" | "aurora-mysql" | "aurora" => Some("mysql"),
        "mariadb" => Some("mariadb"),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Engine and version.

struct Engine {
    /// As RDS names it: `postgres`, `aurora-mysql`, …; empty when unknown.
    raw: String,
    /// As sqlready judges it: `postgres`, `mysql`, `mariadb`; empty when unknown.
    family: &'static str,
    origin: String,
    /// Why the engine is unknown (and what resolves it): the target is still
    /// audited, and only the checks that need the engine stay `unknown`.
    unknown: Option<(String, Option<String>)>,
}

impl Engine {
    fn unknown(reason: String, fix: Option<String>) -> Engine {
        Engine {
            raw: String::new(),
            family: "",
            origin: String::new(),
            unknown: Some((reason, fix)),
        }
    }

    /// `rds.engine`, and `target.engine` when unknown (the checks that need
    /// an engine are then `unknown` with this reason, the others judge).
    fn record(&self, w: &mut Writer<'_>) {
        match &self.unknown {
            None => w.known("rds.engine", self.origin.clone(), self.raw.clone()),
            Some((reason, fix)) => {
                let reason = format!("{}: {reason}", w.resource.address);
                for fact in ["rds.engine", "target.engine"] {
                    w.sink.unknown(fact, reason.clone(), fix.as_deref());
                }
            }
        }
    }
}

/// Why a resource has no engine sqlready judges.
enum NoEngine {
    /// None at all where the provider requires one: the target is an error.
    Missing(String),
    /// An engine sqlready does not judge (Oracle, SQL Server, Db2): listed, not audited.
    NotAudited { raw: String, why: String },
}

/// The engine of `resource`, or the outcome for a resource without one sqlready judges
/// (boxed: a target is large).
fn engine_or_outcome(
    spec: &TerraformSpec,
    resource: &Resource,
    source: Option<&Resource>,
    now: DateTime<Utc>,
) -> Result<Engine, Box<Collected>> {
    engine(resource, source).map_err(|no| {
        Box::new(match no {
            NoEngine::Missing(error) => Err(crate::facts::snapshot::TargetFailure {
                id: super::target_id(spec, resource),
                kind: crate::target::Kind::Terraform,
                error,
            }),
            NoEngine::NotAudited { raw, why } => {
                let version = version(resource, source)
                    .value()
                    .cloned()
                    .unwrap_or_default();
                Ok(super::unaudited::target(
                    spec, resource, &raw, &version, why, now,
                ))
            }
        })
    })
}

/// The engine, from the resource or (a read replica) from its source. An
/// engine only apply knows is an unknown engine, not an error: the facts
/// that do not depend on it are still judged. `Err` only for an engine
/// sqlready does not audit, or none at all where the provider requires one.
fn engine(resource: &Resource, source: Option<&Resource>) -> Result<Engine, NoEngine> {
    let inherited = source.and_then(|s| Some((s, s.string("engine")?)));
    let (raw, origin) = match (attr(resource, "engine"), inherited) {
        (Attr::Set(Json::String(raw)), _) => (raw.to_ascii_lowercase(), format!("engine = {raw}")),
        (_, Some((source, raw))) => (
            raw.to_ascii_lowercase(),
            format!(
                "engine of the source {} (a read replica runs its source's engine)",
                source.address
            ),
        ),
        (Attr::Unresolved(expression), _) => {
            let (reason, fix) = unresolved_reason("engine", expression);
            return Ok(Engine::unknown(reason, Some(fix)));
        }
        _ if !matches!(attr(resource, "replicate_source_db"), Attr::Unset) => {
            return Ok(Engine::unknown(
                "engine is not set and the source of this read replica is not in this configuration: a replica runs its source's engine, which sqlready cannot tell from here".into(),
                Some("audit the running replica (rds://REGION/db/ID), or the configuration that declares its source together with this one".into()),
            ));
        }
        _ => {
            return Err(NoEngine::Missing(
                "engine is not set (the provider requires it)".into(),
            ));
        }
    };
    match engine_family(&raw) {
        Some(family) => Ok(Engine {
            raw,
            family,
            origin,
            unknown: None,
        }),
        None => Err(NoEngine::NotAudited {
            why: super::unaudited::engine_reason(&resource.kind, &raw),
            raw,
        }),
    }
}

/// `engine_version`, or (a read replica) its source's.
fn version(resource: &Resource, source: Option<&Resource>) -> Read<String> {
    let own = attr(resource, "engine_version");
    if let Attr::Set(value) = own {
        return match as_text(value) {
            Some(version) => Read::Known(version, format!("engine_version = {value}")),
            None => Read::Unknown(format!("engine_version = {value} is not a version"), None),
        };
    }
    if let Some(source) = source
        && let Some(version) = source.string("engine_version").filter(|v| !v.is_empty())
    {
        return Read::Known(
            version.to_string(),
            format!(
                "engine_version of the source {} (a read replica runs its source's version)",
                source.address
            ),
        );
    }
    match own {
        Attr::Unresolved(expression) => Read::unresolved("engine_version", expression),
        _ => Read::Unknown(
            "engine_version is not set: RDS creates the engine's default version of the day".into(),
            Some("set engine_version".into()),
        ),
    }
}

/// `version.eol_date` / `version.days_until_eol` of an Aurora major that the RDS
/// calendar shipped with sqlready does not date (or no longer trusts): never the
/// community's date (Aurora MySQL 3 is not MySQL 8.0). A major older than every
/// one the calendar dates (Aurora PostgreSQL 10, Aurora MySQL 1) ended by the
/// oldest one's end of standard support at the latest, with no Extended
/// Support; any other is unknown.
fn aurora_support(w: &mut Writer<'_>, engine: &Engine, major: &str, today: chrono::NaiveDate) {
    let address = w.resource.address.clone();
    let raw = if engine.raw == "aurora" {
        "aurora-mysql"
    } else {
        engine.raw.as_str()
    };
    if let Some(ended) = eol::extended::rds_ended_by(raw, major) {
        let table = eol::extended::RDS_TABLE_DATE;
        let origin = format!(
            "{address}: RDS calendar shipped with sqlready (checked {table}): {raw} {major} is older than every Aurora major it dates, the oldest of which left standard support on {ended}; RDS Extended Support does not cover {major}"
        );
        w.sink.known("version.eol_date", &origin, ended.to_string());
        w.sink.known(
            "version.days_until_eol",
            &origin,
            (ended - today).num_days(),
        );
        w.sink.known("version.eol_upper_bound", &origin, true);
        w.sink.known("version.table_date", &origin, table);
        return;
    }
    let reason = format!(
        "{address}: {raw} {major} follows Aurora's own release calendar, not the community's end of life, and the RDS calendar shipped with sqlready (checked {}) has no current date for it",
        eol::extended::RDS_TABLE_DATE
    );
    let fix = Some(
        "audit the running cluster (rds://REGION/cluster/ID): RDS tells Aurora's dates (DescribeDBMajorEngineVersions)",
    );
    w.sink.unknown("version.eol_date", reason.clone(), fix);
    w.sink.unknown("version.days_until_eol", reason, fix);
}

/// RDS enrols a database in (paid) Extended Support by default, so a major
/// version past its upstream end of life keeps getting security fixes until
/// a date only RDS's calendar gives (read for a running instance). Judging a
/// planned MySQL 8.0 by the upstream date would be a false `fail`: the
/// support end is then unknown, unless the resource opts out.
fn extended_support(
    w: &mut Writer<'_>,
    engine: &Engine,
    major: &str,
    standard_end: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
) {
    let Some(upstream_end) = standard_end else {
        return;
    };
    // Past its upstream date with no row in RDS's calendar (PostgreSQL 10,
    // MariaDB): RDS offers no Extended Support for it, the upstream date stands.
    if upstream_end >= today || eol::extended::rds(&engine.raw, major).is_none() {
        return;
    }
    let address = w.resource.address.clone();
    let lifecycle = match attr(w.resource, "engine_lifecycle_support") {
        Attr::Set(Json::String(value)) if value == EXTENDED_SUPPORT_DISABLED => return,
        Attr::Set(Json::String(value)) => format!("engine_lifecycle_support = \"{value}\""),
        Attr::Unresolved(expression) => format!(
            "engine_lifecycle_support is set by `{expression}`, known only when Terraform plans"
        ),
        _ => "engine_lifecycle_support is not set, so RDS enrols it in Extended Support".into(),
    };
    let reason = format!(
        "{address}: {} {major} passed its end of standard support on {upstream_end}, but {lifecycle}: RDS keeps patching it until the end of Extended Support, a date only RDS's calendar gives",
        engine.family
    );
    let fix = Some(
        "audit the running instance (rds://REGION/db/ID) for RDS's dates, or set engine_lifecycle_support = \"open-source-rds-extended-support-disabled\" to judge by the upstream date",
    );
    w.sink.unknown("version.eol_date", reason.clone(), fix);
    w.sink.unknown("version.days_until_eol", reason, fix);
}

/// `version.*` from the embedded end-of-life table (RDS's own calendar,
/// DescribeDBMajorEngineVersions, is read only for a running instance).
fn version_facts(w: &mut Writer<'_>, engine: &Engine, version: &Read<String>, now: DateTime<Utc>) {
    let today = now.date_naive();
    let address = w.resource.address.clone();
    let version = match &engine.unknown {
        Some((reason, fix)) => &Read::Unknown(
            format!("its major version and support dates depend on the engine: {reason}"),
            fix.clone(),
        ),
        None => version,
    };
    let mut from_calendar = false;
    match version {
        Read::Known(text, origin) => {
            match eol::major_of(engine.family, text) {
                Some(major)
                    if rds_calendar(w, engine, &major, &format!("{address}: {origin}"), today) =>
                {
                    from_calendar = true;
                }
                Some(major) => {
                    eol::record_support(
                        &mut w.sink,
                        engine.family,
                        engine.family,
                        &major,
                        &format!("{address}: {origin}"),
                        today,
                    );
                    if engine.raw.starts_with("aurora") {
                        aurora_support(w, engine, &major, today);
                    } else {
                        let standard_end = eol::end_of_life(engine.family, &major)
                            .or_else(|| eol::ended_by(engine.family, &major));
                        extended_support(w, engine, &major, standard_end, today);
                    }
                }
                None => {
                    for fact in [
                        "version.major",
                        "version.eol_date",
                        "version.days_until_eol",
                    ] {
                        w.sink.unknown(
                        fact,
                        format!("{address}: cannot read a major version from engine_version '{text}'"),
                        Some("set engine_version to a full version (15.7, 8.0.39)"),
                    );
                    }
                }
            }
        }
        Read::Unknown(reason, fix) => {
            for fact in [
                "version.major",
                "version.eol_date",
                "version.days_until_eol",
            ] {
                w.sink
                    .unknown(fact, format!("{address}: {reason}"), fix.as_deref());
            }
        }
    }
    if !from_calendar {
        w.known(
            "rds.version.lifecycle_source",
            "a planned resource: RDS's calendar (DescribeDBMajorEngineVersions) is read only for a running one",
            format!(
                "embedded end-of-life table ({}): a planned resource is not looked up in RDS",
                eol::TABLE_DATE
            ),
        );
    }
}

/// Why a planned resource's support dates come from the RDS calendar shipped with sqlready.
const PLANNED: &str = "a planned resource: RDS's lifecycle API (DescribeDBMajorEngineVersions) is read only for a running one";

/// Version support from the RDS calendar shipped with sqlready, as for a running
/// instance whose lifecycle API gives no dates ([`eol::extended::rds_calendar_facts`]):
/// Aurora by Aurora's own dates, RDS for PostgreSQL and MySQL with Extended
/// Support as `engine_lifecycle_support` decides. `false` when the calendar has no
/// (fresh) row, or the enrolment only apply knows.
fn rds_calendar(
    w: &mut Writer<'_>,
    engine: &Engine,
    major: &str,
    origin: &str,
    today: chrono::NaiveDate,
) -> bool {
    let lifecycle = match attr(w.resource, "engine_lifecycle_support") {
        Attr::Set(value) => as_text(value),
        Attr::Unset => None,
        Attr::Unresolved(_) => return false,
    };
    if !eol::extended::rds_calendar_facts(
        &mut w.sink,
        &engine.raw,
        major,
        lifecycle.as_deref(),
        PLANNED,
        today,
    ) {
        return false;
    }
    w.sink.known("version.major", origin, major);
    true
}
