//! Audit logging decided outside the parameter groups: the MariaDB audit
//! plugin in an `aws_db_option_group` (RDS for MySQL and MariaDB), and an
//! Aurora Database Activity Stream (`aws_rds_cluster_activity_stream`).
//! pgaudit and Aurora MySQL's Advanced Auditing are parameters, read with
//! the others (`groups.rs`).

use super::super::model::{Attr, Configuration, Resource};
use super::super::{PLAN_FIX, Writer};
use super::read::{Read, as_text, attr, put, refers_to, unresolved_reason};
use serde_json::Value as Json;

const OPTION_GROUP: &str = "aws_db_option_group";
const ACTIVITY_STREAM: &str = "aws_rds_cluster_activity_stream";
/// The option that loads server_audit on RDS for MySQL and MariaDB.
const AUDIT_PLUGIN: &str = "MARIADB_AUDIT_PLUGIN";
/// SERVER_AUDIT_EVENTS when the option does not set it (RDS documentation).
const DEFAULT_EVENTS: &str = "CONNECT,QUERY";

/// `rds.audit.option_group_plugin` and `rds.audit.plugin_events` of an instance.
/// A read replica that names no option group gets its source's (in the same region).
pub(super) fn option_group_facts(
    w: &mut Writer<'_>,
    config: &Configuration,
    resource: &Resource,
    source: Option<&Resource>,
) {
    let (plugin, events) = match source {
        Some(source) if matches!(attr(resource, "option_group_name"), Attr::Unset) => {
            let note = format!(
                " (the option group of the source {}: a read replica uses it)",
                source.address
            );
            let (plugin, events) = plugin(config, source);
            (
                plugin.derive(|on| *on, &note),
                events.derive(String::clone, &note),
            )
        }
        _ => plugin(config, resource),
    };
    put(w, "rds.audit.option_group_plugin", &plugin);
    put(w, "rds.audit.plugin_events", &events);
}

fn plugin(config: &Configuration, resource: &Resource) -> (Read<bool>, Read<String>) {
    let path = "option_group_name";
    let unknown = |reason: String, fix: String| {
        (
            Read::Unknown(reason.clone(), Some(fix.clone())),
            Read::Unknown(reason, Some(fix)),
        )
    };
    let group = match attr(resource, path) {
        Attr::Unset => {
            let origin = format!(
                "{path} not set: the engine's default option group, which has no {AUDIT_PLUGIN}"
            );
            return (
                Read::Known(false, origin.clone()),
                Read::Known(String::new(), origin),
            );
        }
        Attr::Set(value) => {
            let name = as_text(value).unwrap_or_else(|| value.to_string());
            if name.starts_with("default:") || name.starts_with("default.") {
                let origin = format!("{path} = {value}: a default option group has no options");
                return (
                    Read::Known(false, origin.clone()),
                    Read::Known(String::new(), origin),
                );
            }
            match config
                .of_kind(OPTION_GROUP)
                .find(|g| g.string("name") == Some(name.as_str()))
            {
                Some(group) => group,
                None => {
                    return unknown(
                        format!(
                            "no {OPTION_GROUP} named {name} in this configuration, so its options cannot be read"
                        ),
                        format!(
                            "audit the configuration that defines {name} together with this one"
                        ),
                    );
                }
            }
        }
        Attr::Unresolved(expression) => {
            match config
                .referenced(expression)
                .filter(|g| g.kind == OPTION_GROUP)
            {
                Some(group) => group,
                None => {
                    let (reason, fix) = unresolved_reason(path, expression);
                    return unknown(reason, fix);
                }
            }
        }
    };
    options_of(group)
}

/// What one option group's `option` blocks say about the audit plugin.
fn options_of(group: &Resource) -> (Read<bool>, Read<String>) {
    if let Some((path, expression)) = group
        .unresolved
        .iter()
        .find(|(path, _)| *path == "option" || path.starts_with("option."))
    {
        let (reason, _) = unresolved_reason(path, expression);
        let reason = format!("{}: {reason}", group.address);
        return (
            Read::Unknown(reason.clone(), Some(PLAN_FIX.into())),
            Read::Unknown(reason, Some(PLAN_FIX.into())),
        );
    }
    let options = match group.attr("option") {
        Attr::Set(Json::Array(options)) => options.as_slice(),
        _ => &[],
    };
    let Some(option) = options.iter().find(|o| {
        o["option_name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(AUDIT_PLUGIN))
    }) else {
        let origin = format!("{}: no {AUDIT_PLUGIN} option", group.address);
        return (
            Read::Known(false, origin.clone()),
            Read::Known(String::new(), origin),
        );
    };
    let setting = |name: &str| {
        option["option_settings"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| {
                s["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .and_then(|s| as_text(&s["value"]))
    };
    let logging = setting("SERVER_AUDIT_LOGGING");
    let on = logging
        .as_deref()
        .is_none_or(|v| v.trim().eq_ignore_ascii_case("on"));
    let plugin = Read::Known(
        on,
        match &logging {
            Some(v) => format!(
                "{}: {AUDIT_PLUGIN} with SERVER_AUDIT_LOGGING = {v}",
                group.address
            ),
            None => format!(
                "{}: {AUDIT_PLUGIN} (SERVER_AUDIT_LOGGING defaults to ON)",
                group.address
            ),
        },
    );
    let events = match setting("SERVER_AUDIT_EVENTS") {
        Some(events) => Read::Known(
            events.to_ascii_uppercase().replace(' ', ""),
            format!(
                "{}: {AUDIT_PLUGIN} SERVER_AUDIT_EVENTS = {events}",
                group.address
            ),
        ),
        None => Read::Known(
            DEFAULT_EVENTS.to_string(),
            format!(
                "{}: {AUDIT_PLUGIN} without SERVER_AUDIT_EVENTS (default {DEFAULT_EVENTS})",
                group.address
            ),
        ),
    };
    (plugin, events)
}

/// `rds.audit.activity_stream` of an Aurora cluster: the mode of the
/// `aws_rds_cluster_activity_stream` whose `resource_arn` is this cluster.
pub(super) fn activity_stream_fact(w: &mut Writer<'_>, config: &Configuration, cluster: &Resource) {
    let mut undecided = None;
    for stream in config.of_kind(ACTIVITY_STREAM) {
        match refers_to(
            config,
            attr(stream, "resource_arn"),
            cluster,
            "arn",
            |a, b| a == b,
        ) {
            Some(true) => {
                let read = match attr(stream, "mode") {
                    Attr::Set(value) => match as_text(value) {
                        Some(mode) => Read::Known(
                            mode.to_ascii_lowercase(),
                            format!(
                                "{} (mode = {value}) streams this cluster's activity",
                                stream.address
                            ),
                        ),
                        None => Read::Unknown(
                            format!("{}: mode = {value} is not a mode", stream.address),
                            None,
                        ),
                    },
                    // The provider requires `mode`; unresolved, the stream still exists.
                    _ => Read::Known(
                        "started".to_string(),
                        format!("{} streams this cluster's activity", stream.address),
                    ),
                };
                put(w, "rds.audit.activity_stream", &read);
                return;
            }
            Some(false) => {}
            None => undecided = Some(stream),
        }
    }
    match undecided {
        Some(stream) => {
            let address = w.resource.address.clone();
            w.sink.unknown(
                "rds.audit.activity_stream",
                format!(
                    "{address}: {} names a cluster by an expression this configuration does not resolve",
                    stream.address
                ),
                Some(PLAN_FIX),
            );
        }
        None => w.known(
            "rds.audit.activity_stream",
            format!("no {ACTIVITY_STREAM} of this configuration streams this cluster"),
            "",
        ),
    }
}

/// An instance (RDS for PostgreSQL, MySQL, MariaDB) has no activity stream.
pub(super) fn no_activity_stream(w: &mut Writer<'_>) {
    w.known(
        "rds.audit.activity_stream",
        "Database Activity Streams exist for Aurora clusters (and RDS for Oracle and SQL Server), not for this instance",
        "",
    );
}

/// An Aurora cluster has no option groups with an audit plugin.
pub(super) fn no_option_group_plugin(w: &mut Writer<'_>) {
    let origin = "an Aurora cluster audits through its parameters (Advanced Auditing) or an activity stream, not an option group";
    w.known("rds.audit.option_group_plugin", origin, false);
    w.known("rds.audit.plugin_events", origin, "");
}
