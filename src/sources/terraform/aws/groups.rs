//! Parameter groups.

use super::super::model::{Attr, Configuration, Resource};
use super::super::{PLAN_FIX, Writer};
use super::params::{self, GroupParams, GroupReading, ParamRow};
use super::read::{Read, as_text, attr, unresolved_reason};
use super::{CLUSTER_INSTANCE, CLUSTER_PARAMETER_GROUP, Engine, PARAMETER_GROUP};
use crate::facts::RawEvidence;
use crate::target::Role;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// The parameter groups a target uses, highest precedence first.
#[derive(Default)]
pub(super) struct Groups {
    pub(super) readings: Vec<GroupReading>,
    /// What would let sqlready read a group it could not.
    pub(super) fix: Option<String>,
    pub(super) evidence: Vec<RawEvidence>,
}

impl Groups {
    fn unreadable(&mut self, name: String, level: &'static str, reason: String, fix: String) {
        self.fix.get_or_insert(fix);
        self.readings.push(GroupReading {
            name,
            level,
            apply_status: None,
            params: GroupParams::Unreadable(reason),
        });
    }
}

/// The group `owner.path` names: a `default.*` group (engine defaults), a
/// group of this configuration (its `parameter` blocks), or one sqlready cannot read.
fn add_group(
    groups: &mut Groups,
    config: &Configuration,
    owner: &Resource,
    path: &str,
    kind: &str,
    level: &'static str,
) {
    let defined = match attr(owner, path) {
        Attr::Unset => {
            groups.readings.push(GroupReading {
                name: format!(
                    "the engine's default {level} parameter group ({} sets no {path})",
                    owner.address
                ),
                level,
                apply_status: None,
                params: GroupParams::Default,
            });
            return;
        }
        Attr::Set(value) => {
            let name = as_text(value).unwrap_or_else(|| value.to_string());
            if name.starts_with("default.") || name.starts_with("default:") {
                groups.readings.push(GroupReading {
                    name,
                    level,
                    apply_status: None,
                    params: GroupParams::Default,
                });
                return;
            }
            match config
                .of_kind(kind)
                .find(|g| g.string("name") == Some(name.as_str()))
            {
                Some(group) => group,
                None => {
                    let reason = format!(
                        "no {kind} named {name} in this configuration, so its parameters cannot be read"
                    );
                    let fix = format!(
                        "audit the configuration that defines {name} together with this one, or the running database (rds://REGION/...)"
                    );
                    groups.unreadable(name, level, reason, fix);
                    return;
                }
            }
        }
        Attr::Unresolved(expression) => {
            match config.referenced(expression).filter(|g| g.kind == kind) {
                Some(group) => group,
                None => {
                    let (reason, fix) = unresolved_reason(path, expression);
                    groups.unreadable(expression.to_string(), level, reason, fix);
                    return;
                }
            }
        }
    };
    groups.evidence.push(super::super::evidence(defined));
    let name = defined
        .string("name")
        .filter(|n| !n.is_empty())
        .unwrap_or(&defined.address)
        .to_string();
    let params = rows(defined);
    if let GroupParams::Unreadable(_) = params {
        groups.fix.get_or_insert(PLAN_FIX.to_string());
    }
    groups.readings.push(GroupReading {
        name,
        level,
        apply_status: None,
        params,
    });
}

/// The `parameter` blocks of a group; unreadable when any is set by an expression.
fn rows(group: &Resource) -> GroupParams {
    if let Some((path, expression)) = group
        .unresolved
        .iter()
        .find(|(path, _)| *path == "parameter" || path.starts_with("parameter."))
    {
        let (reason, _) = unresolved_reason(path, expression);
        return GroupParams::Unreadable(format!("{}: {reason}", group.address));
    }
    let mut rows = BTreeMap::new();
    if let Attr::Set(Json::Array(items)) = group.attr("parameter") {
        for item in items {
            let (Some(name), Some(value)) = (item["name"].as_str(), as_text(&item["value"])) else {
                return GroupParams::Unreadable(format!(
                    "{}: a parameter block without a readable name and value ({item})",
                    group.address
                ));
            };
            rows.insert(
                name.to_ascii_lowercase(),
                ParamRow {
                    value: Some(value),
                    apply_type: None,
                    source: Some("user".into()),
                },
            );
        }
    }
    GroupParams::Custom(rows)
}

/// An instance's DB parameter group; a replica without one uses its source's
/// (CreateDBInstanceReadReplica, same region).
pub(super) fn instance_groups(
    config: &Configuration,
    resource: &Resource,
    role: Role,
    source: Option<&Resource>,
) -> Groups {
    let mut groups = Groups::default();
    let path = "parameter_group_name";
    match (role, attr(resource, path), source) {
        (Role::Replica, Attr::Unset, Some(source)) => {
            add_group(&mut groups, config, source, path, PARAMETER_GROUP, "instance")
        }
        (Role::Replica, Attr::Unset, None) => groups.unreadable(
            "the source's parameter group".into(),
            "instance",
            "parameter_group_name is not set: a read replica in its source's region uses the source's parameter group, and the source is not in this configuration".into(),
            "set parameter_group_name on the replica".into(),
        ),
        _ => add_group(&mut groups, config, resource, path, PARAMETER_GROUP, "instance"),
    }
    groups
}

/// A cluster's groups: the writer's DB parameter group (it overrides the
/// cluster's for instance-level parameters), then the cluster parameter group.
pub(super) fn cluster_groups(
    config: &Configuration,
    cluster: &Resource,
    members: &[&Resource],
) -> Groups {
    let mut groups = Groups::default();
    let path = "db_parameter_group_name";
    let named: BTreeSet<String> = members
        .iter()
        .map(|m| match attr(m, path) {
            Attr::Set(value) => as_text(value).unwrap_or_else(|| value.to_string()),
            Attr::Unresolved(expression) => expression.to_string(),
            Attr::Unset => "(default)".to_string(),
        })
        .collect();
    match members.first() {
        Some(first) if named.len() == 1 => {
            add_group(&mut groups, config, first, path, PARAMETER_GROUP, "instance")
        }
        Some(_) => groups.unreadable(
            "the writer's DB parameter group".into(),
            "instance",
            format!(
                "the cluster's instances use different DB parameter groups ({}), and the writer's applies: RDS picks the writer when it creates the cluster",
                named.into_iter().collect::<Vec<_>>().join(", ")
            ),
            format!("give every {CLUSTER_INSTANCE} the same {path}"),
        ),
        None => {}
    }
    add_group(
        &mut groups,
        config,
        cluster,
        "db_cluster_parameter_group_name",
        CLUSTER_PARAMETER_GROUP,
        "cluster",
    );
    groups
}

/// The parameters the checks read, as the RDS source records them.
pub(super) fn parameter_facts(
    w: &mut Writer<'_>,
    engine: &Engine,
    version: &Read<String>,
    groups: &Groups,
) {
    if let Some((reason, fix)) = &engine.unknown {
        let reason = format!("the parameters RDS applies depend on the engine: {reason}");
        for name in params::POSTGRES_PARAMS.iter().chain(params::MYSQL_PARAMS) {
            record_parameter(w, name, "", Err((reason.clone(), fix.clone())));
        }
        let address = w.resource.address.clone();
        w.sink.unknown(
            "rds.parameters.pending_reboot",
            format!("{address}: {reason}"),
            fix.as_deref(),
        );
        return;
    }
    let names: &[&'static str] = if engine.family == "postgres" {
        params::POSTGRES_PARAMS
    } else {
        params::MYSQL_PARAMS
    };
    let mut pending = Vec::new();
    for name in names {
        let resolved = params::resolve(
            &engine.raw,
            version.value().map_or("", String::as_str),
            name,
            &groups.readings,
        );
        if resolved.pending_reboot {
            pending.push(name.to_string());
        }
        let value = match resolved.value {
            Ok(value) => Ok(value),
            Err(reason) if reason.contains("could not be read") => {
                Err((reason, groups.fix.clone()))
            }
            Err(reason) if reason.contains("does not exist") => Err((reason, None)),
            Err(reason) => match version {
                Read::Unknown(why, _) => Err((
                    format!(
                        "no parameter group sets {name}, and its engine default depends on the engine version: {why}"
                    ),
                    Some(format!(
                        "set {name} in a custom parameter group, or set engine_version"
                    )),
                )),
                Read::Known(..) => Err((
                    reason,
                    Some(format!("set {name} explicitly in a custom parameter group")),
                )),
            },
        };
        record_parameter(w, name, &resolved.origin, value);
    }
    let used: Vec<String> = groups
        .readings
        .iter()
        .map(|g| format!("{} parameter group {}", g.level, g.name))
        .collect();
    w.known(
        "rds.parameters.pending_reboot",
        format!(
            "{}: judged as planned (a new database starts with its groups applied; a static parameter changed on a running one waits for its reboot)",
            used.join("; ")
        ),
        pending,
    );
}

type ParamValue = Result<String, (String, Option<String>)>;

/// One parameter as a fact (and `network.tls_required` for the TLS switches),
/// typed as `sources::rds::facts::record_parameter` types it.
fn record_parameter(w: &mut Writer<'_>, name: &str, origin: &str, value: ParamValue) {
    let address = w.resource.address.clone();
    let path = params::fact_path(name);
    let tls = matches!(name, "rds.force_ssl" | "require_secure_transport");
    let mut facts = vec![path.as_str()];
    if tls {
        facts.push("network.tls_required");
    }
    let value = match value {
        Ok(value) => value,
        Err((reason, _)) if tls && reason.contains("does not exist") => {
            let origin = format!("{reason}: TLS cannot be required server-wide");
            for fact in facts {
                w.known(fact, origin.clone(), false);
            }
            return;
        }
        Err((reason, fix)) => {
            for fact in facts {
                w.sink
                    .unknown(fact, format!("{address}: {reason}"), fix.as_deref());
            }
            return;
        }
    };
    let typed = match name {
        "log_min_duration_statement" => value.trim().parse::<i64>().ok().map(Json::from),
        "long_query_time" => value.trim().parse::<f64>().ok().map(Json::from),
        "binlog_format" | "log_output" => Some(Json::from(value.trim().to_ascii_uppercase())),
        "shared_preload_libraries"
        | "pgaudit.log"
        | "server_audit_logging"
        | "server_audit_events" => params::audit_value(name, &value),
        _ => params::as_bool(&value).map(Json::from),
    };
    match typed {
        Some(typed) => {
            for fact in facts {
                w.known(fact, origin.to_string(), typed.clone());
            }
        }
        None => {
            for fact in facts {
                w.sink.unknown(
                    fact,
                    format!("{address}: {name} = '{value}' is not a value of its type"),
                    None,
                );
            }
        }
    }
}
