//! `google_sql_database_instance` → the facts the Cloud SQL source reports for
//! a running instance, read from the configuration with the Google provider's
//! defaults (registry.terraform.io/providers/hashicorp/google, resource
//! `sql_database_instance`): `availability_type` ZONAL, backups and PITR off,
//! `ipv4_enabled` true (a public IP), `disk_autoresize` true, API-level
//! `deletion_protection_enabled` false, no flags (engine defaults).

use super::model::{Attr, Configuration, Resource};
use super::{Writer, alerting_fact, budget_fact, platform_fact, shell};
use crate::eol;
use crate::facts::snapshot::{Collected, TargetFailure};
use crate::sources::cloudsql_versions as versions;
use crate::target::{Kind, Role, TerraformSpec};
use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};

pub const INSTANCE: &str = "google_sql_database_instance";

/// One instance as a target, or why it cannot be one.
pub fn target(
    spec: &TerraformSpec,
    config: &Configuration,
    resource: &Resource,
    now: DateTime<Utc>,
) -> Collected {
    let fail = |error: String| TargetFailure {
        id: super::target_id(spec, resource),
        kind: Kind::Terraform,
        error,
    };
    let version_name = match resource.attr("database_version") {
        Attr::Set(Json::String(name)) => Ok((name.clone(), "database_version".to_string())),
        Attr::Unresolved(expression) => match primary_version(config, resource) {
            Some(inherited) => Ok(inherited),
            None => Err(format!(
                "database_version is set by `{expression}`, known only when Terraform plans"
            )),
        },
        Attr::Set(other) => {
            return Err(fail(format!(
                "database_version is {other}, not a version name such as \"POSTGRES_16\" or \"MYSQL_8_0\""
            )));
        }
        Attr::Unset => match primary_version(config, resource) {
            Some(inherited) => Ok(inherited),
            None => {
                return Err(fail(
                    "database_version is not set (the provider requires it)".into(),
                ));
            }
        },
    };
    let role = role(resource);
    let mut w = Writer::new(resource);
    platform_fact(&mut w, "cloudsql");
    let engine = match &version_name {
        Ok((name, origin)) => {
            let version = versions::parse(name);
            if !matches!(version.engine, "postgres" | "mysql") {
                let why = super::unaudited::engine_reason(INSTANCE, name);
                return Ok(super::unaudited::target(
                    spec,
                    resource,
                    version.engine,
                    &version.display,
                    why,
                    now,
                ));
            }
            w.known("cloudsql.database_version", origin.clone(), name.clone());
            record_version(&mut w, &version, now);
            Ok(version)
        }
        // The engine only a plan knows: what depends on it is unknown, the rest is judged.
        Err(reason) => {
            let reason = format!("{}: {reason}", resource.address);
            for fact in [
                "target.engine",
                "cloudsql.database_version",
                "version.major",
                "version.eol_date",
                "version.days_until_eol",
                "cloudsql.version.days_until_regular_support_end",
            ] {
                w.sink.unknown(fact, reason.clone(), Some(super::PLAN_FIX));
            }
            Err(reason)
        }
    };
    let (engine_name, display) = match &engine {
        Ok(version) => (version.engine, version.display.clone()),
        Err(_) => ("", String::new()),
    };
    let mut target = shell(spec, resource, role, engine_name, &display, now);
    topology(&mut w, config, resource, role);
    backups(&mut w, engine.as_ref().map(|v| v.engine));
    storage(&mut w);
    network(&mut w);
    flags(&mut w, engine.as_ref().map(|v| v.engine));
    settings(&mut w, config, role);
    budget_fact(&mut w, config, "google_billing_budget");
    alerting_fact(&mut w, config, "cloudsql");
    w.not_yet("cloudsql.backups.last_success_age_hours", "backup runs");
    target.facts = w.sink.finish();
    Ok(target)
}

/// A replica runs its primary's version: `database_version` (and its
/// origin) of the primary that `master_instance_name` names in this configuration.
fn primary_version(config: &Configuration, replica: &Resource) -> Option<(String, String)> {
    let primary = primary_of(config, replica)?;
    let name = primary.string("database_version")?;
    Some((
        name.to_string(),
        format!(
            "database_version of the primary {} (a replica runs its primary's version)",
            primary.address
        ),
    ))
}

/// The primary that a replica's `master_instance_name` names in this
/// configuration, by reference or by name.
fn primary_of<'c>(config: &'c Configuration, replica: &Resource) -> Option<&'c Resource> {
    match replica.attr("master_instance_name") {
        Attr::Unresolved(expression) => config
            .referenced(expression)
            .filter(|r| r.kind == INSTANCE && r.address != replica.address),
        Attr::Set(Json::String(name)) => config
            .of_kind(INSTANCE)
            .find(|r| r.address != replica.address && r.string("name") == Some(name.as_str())),
        _ => None,
    }
}

/// A replica names its primary (`master_instance_name`), or says so by type.
fn role(resource: &Resource) -> Role {
    let replica_type = resource.string("instance_type") == Some("READ_REPLICA_INSTANCE");
    match resource.attr("master_instance_name") {
        Attr::Set(Json::String(name)) if !name.is_empty() => Role::Replica,
        Attr::Unresolved(_) => Role::Replica,
        _ if replica_type => Role::Replica,
        _ => Role::Primary,
    }
}

fn record_version(w: &mut Writer<'_>, version: &versions::DatabaseVersion, now: DateTime<Utc>) {
    let today = now.date_naive();
    let origin = format!("{}: database_version", w.resource.address);
    eol::record_support(
        &mut w.sink,
        version.engine,
        version.engine,
        &version.major,
        &origin,
        today,
    );
    if let Some((end, deprecated)) = versions::calendar(version.engine, &version.major) {
        w.sink.known(
            "cloudsql.version.regular_support_end",
            versions::CALENDAR_SOURCE,
            end.to_string(),
        );
        w.sink.known(
            "cloudsql.version.deprecation_date",
            versions::CALENDAR_SOURCE,
            deprecated.to_string(),
        );
        w.sink.known(
            "cloudsql.version.days_until_regular_support_end",
            versions::CALENDAR_SOURCE,
            (end - today).num_days(),
        );
    }
}

/// Replicas are the other instances of this configuration whose
/// `master_instance_name` names this one (by reference or by name).
fn topology(w: &mut Writer<'_>, config: &Configuration, resource: &Resource, role: Role) {
    w.attr(
        "ha.enabled",
        "settings.availability_type",
        Some(json!("ZONAL")),
        |v| json!(v.as_str() == Some("REGIONAL")),
    );
    w.attr(
        "cloudsql.availability_type",
        "settings.availability_type",
        Some(json!("ZONAL")),
        Json::clone,
    );
    if role == Role::Replica {
        match resource.attr("master_instance_name") {
            Attr::Set(name) => w.known(
                "cloudsql.master_instance",
                "master_instance_name",
                name.clone(),
            ),
            Attr::Unresolved(expression) => {
                let primary = config
                    .referenced(expression)
                    .map_or(expression.to_string(), |p| p.address.clone());
                w.known(
                    "cloudsql.master_instance",
                    format!("master_instance_name = {expression}"),
                    primary,
                );
            }
            Attr::Unset => {}
        }
        return;
    }
    let name = resource.string("name");
    let mut replicas = Vec::new();
    let mut undecided = Vec::new();
    for other in config
        .of_kind(INSTANCE)
        .filter(|o| o.address != resource.address)
    {
        match other.attr("master_instance_name") {
            Attr::Set(Json::String(primary)) if Some(primary.as_str()) == name => {
                replicas.push(other.address.clone())
            }
            Attr::Unresolved(expression) => match config.referenced(expression) {
                Some(primary) if primary.address == resource.address => {
                    replicas.push(other.address.clone())
                }
                Some(_) => {}
                None => undecided.push(format!(
                    "{} (master_instance_name = {expression})",
                    other.address
                )),
            },
            _ => {}
        }
    }
    if undecided.is_empty() {
        w.known(
            "replicas.count",
            "instances of this configuration whose master_instance_name names it",
            replicas.len() as i64,
        );
        w.known(
            "cloudsql.replica_names",
            "master_instance_name of the other instances",
            replicas,
        );
    } else {
        w.sink.unknown(
            "replicas.count",
            format!(
                "cannot tell which primary these replicas follow: {}",
                undecided.join(", ")
            ),
            Some(super::PLAN_FIX),
        );
    }
}

fn backups(w: &mut Writer<'_>, engine: Result<&'static str, &String>) {
    let enabled = w.attr(
        "backups.enabled",
        "settings.backup_configuration.enabled",
        Some(json!(false)),
        Json::clone,
    );
    for fact in ["backups.retention_days", "cloudsql.backups.retained_count"] {
        w.attr(
            fact,
            "settings.backup_configuration.backup_retention_settings.retained_backups",
            Some(json!(7)),
            Json::clone,
        );
    }
    let location = w.attr(
        "cloudsql.backups.location",
        "settings.backup_configuration.location",
        Some(json!("")),
        Json::clone,
    );
    match (location, w.resource.attr("region")) {
        (Some(Json::String(location)), _) if location.is_empty() => w.known(
            "cloudsql.backups.off_site",
            "settings.backup_configuration.location not set: the multi-region nearest the instance",
            true,
        ),
        (Some(Json::String(location)), Attr::Set(Json::String(region))) => w.known(
            "cloudsql.backups.off_site",
            "settings.backup_configuration.location compared with region",
            !location.eq_ignore_ascii_case(region),
        ),
        (Some(_), Attr::Unresolved(expression)) => {
            w.unresolved("cloudsql.backups.off_site", "region", expression)
        }
        _ => {}
    }
    let plus = w.resource.string("settings.edition") == Some("ENTERPRISE_PLUS");
    w.attr(
        "cloudsql.pitr.log_retention_days",
        "settings.backup_configuration.transaction_log_retention_days",
        Some(json!(if plus { 14 } else { 7 })),
        Json::clone,
    );
    // PITR: PostgreSQL's switch, MySQL's binary log; both need backups on.
    let engine = match engine {
        Ok(engine) => engine,
        Err(reason) => {
            for fact in ["cloudsql.pitr.configured", "pitr.enabled"] {
                w.sink.unknown(
                    fact,
                    format!("PostgreSQL and MySQL switch point-in-time recovery differently, and the engine is unknown: {reason}"),
                    Some(super::PLAN_FIX),
                );
            }
            return;
        }
    };
    let switch = if engine == "mysql" {
        "settings.backup_configuration.binary_log_enabled"
    } else {
        "settings.backup_configuration.point_in_time_recovery_enabled"
    };
    let configured = w.attr(
        "cloudsql.pitr.configured",
        switch,
        Some(json!(false)),
        Json::clone,
    );
    if engine == "mysql" {
        binary_log(w, enabled.as_ref(), configured.as_ref());
    }
    match (enabled, configured) {
        (Some(backups), Some(configured)) => w.known(
            "pitr.enabled",
            format!("settings.backup_configuration.enabled and {switch}"),
            backups == json!(true) && configured == json!(true),
        ),
        _ => {
            let reason = format!(
                "{switch} or settings.backup_configuration.enabled is known only when Terraform plans"
            );
            w.sink.unknown(
                "pitr.enabled",
                format!("{}: {reason}", w.resource.address),
                Some(super::PLAN_FIX),
            );
        }
    }
}

/// `binlog.enabled` of a MySQL instance (CDC reads the binary log): Cloud SQL
/// writes one only with `binary_log_enabled`, which on a primary needs
/// automated backups (with backups off there is none). A read replica has no
/// backups of its own and writes one when its own switch is on.
fn binary_log(w: &mut Writer<'_>, backups: Option<&Json>, configured: Option<&Json>) {
    let switch = "settings.backup_configuration.binary_log_enabled";
    let on = |v: Option<&Json>| v.map(|v| v == &json!(true));
    let replica = role(w.resource) == Role::Replica;
    match (on(configured), on(backups)) {
        (Some(false), _) => w.known("binlog.enabled", format!("{switch} is off (or not set: provider default false)"), false),
        (Some(true), _) if replica => w.known(
            "binlog.enabled",
            format!("{switch} = true on a read replica"),
            true,
        ),
        (Some(true), Some(backups)) => w.known(
            "binlog.enabled",
            if backups {
                format!("{switch} = true, with settings.backup_configuration.enabled")
            } else {
                format!("{switch} = true, but settings.backup_configuration.enabled is off: Cloud SQL writes no binary log without automated backups")
            },
            backups,
        ),
        _ => {
            let reason = format!(
                "{}: {switch} or settings.backup_configuration.enabled is known only when Terraform plans",
                w.resource.address
            );
            w.sink.unknown("binlog.enabled", reason, Some(super::PLAN_FIX));
        }
    }
}

fn storage(w: &mut Writer<'_>) {
    w.attr(
        "disk.autogrow",
        "settings.disk_autoresize",
        Some(json!(true)),
        Json::clone,
    );
    w.attr(
        "cloudsql.storage.auto_resize_limit_gb",
        "settings.disk_autoresize_limit",
        Some(json!(0)),
        Json::clone,
    );
    w.attr(
        "cloudsql.storage.disk_size_gb",
        "settings.disk_size",
        None,
        Json::clone,
    );
    w.known(
        "encryption.at_rest",
        "Cloud SQL encrypts all data at rest (Google-managed key unless encryption_key_name names one)",
        true,
    );
    w.attr(
        "cloudsql.cmek_key",
        "encryption_key_name",
        Some(json!("")),
        Json::clone,
    );
    // Any key name is a Cloud KMS key (CMEK): Google's own key has no name to
    // write, so an `encryption_key_name` only a plan resolves still decides it.
    let resource = w.resource;
    match resource.attr("encryption_key_name") {
        Attr::Set(Json::String(key)) if !key.is_empty() => w.known(
            "encryption.customer_managed_key",
            format!("encryption_key_name = \"{key}\" (CMEK)"),
            true,
        ),
        Attr::Unresolved(expression) => w.known(
            "encryption.customer_managed_key",
            format!(
                "encryption_key_name = {expression}: a Cloud KMS key (CMEK), whichever it names"
            ),
            true,
        ),
        _ => w.known(
            "encryption.customer_managed_key",
            "encryption_key_name not set: Cloud SQL encrypts with a Google-managed key",
            false,
        ),
    }
    // Cloud SQL's own deletion protection; Terraform's `deletion_protection`
    // only stops `terraform destroy`, not a deletion from the console or API.
    w.attr(
        "deletion_protection.enabled",
        "settings.deletion_protection_enabled",
        Some(json!(false)),
        Json::clone,
    );
}

fn network(w: &mut Writer<'_>) {
    for fact in ["network.public_ip", "cloudsql.network.ipv4_enabled"] {
        w.attr(
            fact,
            "settings.ip_configuration.ipv4_enabled",
            Some(json!(true)),
            Json::clone,
        );
    }
    w.attr(
        "cloudsql.network.private_network",
        "settings.ip_configuration.private_network",
        Some(json!("")),
        Json::clone,
    );
    w.attr(
        "cloudsql.network.psc_enabled",
        "settings.ip_configuration.psc_config.psc_enabled",
        Some(json!(false)),
        Json::clone,
    );
    w.attr(
        "cloudsql.network.connector_enforcement",
        "settings.connector_enforcement",
        Some(json!("NOT_REQUIRED")),
        Json::clone,
    );
    match w
        .resource
        .attr("settings.ip_configuration.authorized_networks")
    {
        Attr::Unresolved(expression) => {
            for fact in [
                "cloudsql.network.authorized_networks",
                "cloudsql.network.world_open_networks",
                "cloudsql.network.open_coverage",
            ] {
                w.unresolved(
                    fact,
                    "settings.ip_configuration.authorized_networks",
                    expression,
                );
            }
        }
        attr => {
            let values: Vec<Json> = match attr {
                Attr::Set(Json::Array(items)) => items.iter().map(|n| n["value"].clone()).collect(),
                _ => Vec::new(),
            };
            if values.iter().any(|v| !v.is_string()) {
                for fact in [
                    "cloudsql.network.world_open_networks",
                    "cloudsql.network.open_coverage",
                ] {
                    w.sink.unknown(
                        fact,
                        format!(
                            "{}: an authorized network's value is known only when Terraform plans",
                            w.resource.address
                        ),
                        Some(super::PLAN_FIX),
                    );
                }
            } else {
                let cidrs: Vec<&str> = values.iter().filter_map(Json::as_str).collect();
                // Judged by the addresses they cover together, not by their spelling.
                let exposure = crate::sources::netrange::exposure(&cidrs);
                let origin = "settings.ip_configuration.authorized_networks, judged by the public addresses they admit together (more than a /8 of IPv4 or a /12 of IPv6)";
                w.known(
                    "cloudsql.network.authorized_networks",
                    "settings.ip_configuration.authorized_networks",
                    cidrs.clone(),
                );
                w.known(
                    "cloudsql.network.world_open_networks",
                    origin,
                    exposure
                        .as_ref()
                        .map(|e| e.entries.clone())
                        .unwrap_or_default(),
                );
                w.known(
                    "cloudsql.network.open_coverage",
                    origin,
                    exposure.map(|e| e.covers).unwrap_or_default(),
                );
            }
        }
    }
    // ssl_mode has priority over the legacy require_ssl, as in the API.
    let mode = match (
        w.resource.attr("settings.ip_configuration.ssl_mode"),
        w.resource.attr("settings.ip_configuration.require_ssl"),
    ) {
        (Attr::Unresolved(expression), _) => Err(("settings.ip_configuration.ssl_mode", expression.to_string())),
        (Attr::Set(Json::String(mode)), _) => Ok((mode.clone(), "settings.ip_configuration.ssl_mode".to_string())),
        (_, Attr::Unresolved(expression)) => Err(("settings.ip_configuration.require_ssl", expression.to_string())),
        (_, Attr::Set(Json::Bool(true))) => Ok((
            "TRUSTED_CLIENT_CERTIFICATE_REQUIRED".to_string(),
            "settings.ip_configuration.require_ssl = true (ssl_mode not set)".to_string(),
        )),
        _ => Ok((
            "ALLOW_UNENCRYPTED_AND_ENCRYPTED".to_string(),
            "settings.ip_configuration.ssl_mode and require_ssl not set: unencrypted connections allowed".to_string(),
        )),
    };
    match mode {
        Ok((mode, origin)) => {
            let required = matches!(
                mode.as_str(),
                "ENCRYPTED_ONLY" | "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
            );
            w.known("network.tls_required", origin.clone(), required);
            w.known("cloudsql.network.ssl_mode", origin, mode);
        }
        Err((path, expression)) => {
            w.unresolved("network.tls_required", path, &expression);
            w.unresolved("cloudsql.network.ssl_mode", path, &expression);
        }
    }
}

/// The flags the checks read, with the engine defaults when absent.
fn flags(w: &mut Writer<'_>, engine: Result<&'static str, &String>) {
    let flags = match w.resource.attr("settings.database_flags") {
        Attr::Unresolved(expression) => Err(expression.to_string()),
        // `database_flags` blocks repeat: the attribute is the list of them.
        Attr::Set(Json::Array(items)) => Ok(items.clone()),
        _ => Ok(Vec::new()),
    };
    let flags = match flags {
        Ok(flags) => flags,
        Err(expression) => {
            for fact in FLAG_FACTS.iter().map(|(fact, ..)| *fact) {
                w.unresolved(fact, "settings.database_flags", &expression);
            }
            return;
        }
    };
    let rows: Vec<Json> = flags
        .iter()
        .map(|f| json!({"name": f["name"], "value": f["value"]}))
        .collect();
    w.known("cloudsql.database_flags", "settings.database_flags", rows);
    let engine = match engine {
        Ok(engine) => engine,
        Err(reason) => {
            for (fact, flag, ..) in FLAG_FACTS {
                w.sink.unknown(
                    fact,
                    format!("the default of flag {flag} depends on the engine, which is unknown: {reason}"),
                    Some(super::PLAN_FIX),
                );
            }
            return;
        }
    };
    for (fact, flag, flag_engine, default, kind) in FLAG_FACTS {
        if *flag_engine != engine {
            continue;
        }
        let set = flags.iter().find(|f| f["name"].as_str() == Some(flag));
        let (raw, origin) = match set.map(|f| &f["value"]) {
            Some(Json::String(value)) => (
                value.clone(),
                format!("settings.database_flags {flag} = {value}"),
            ),
            Some(_) => {
                w.sink.unknown(
                    fact,
                    format!(
                        "{}: flag {flag} is set by an expression known only when Terraform plans",
                        w.resource.address
                    ),
                    Some(super::PLAN_FIX),
                );
                continue;
            }
            None => match default {
                Some(default) => (
                    default.to_string(),
                    format!("settings.database_flags: {flag} not set (engine default {default})"),
                ),
                None => {
                    w.sink.unknown(
                        fact,
                        format!(
                            "{}: flag {flag} is not set here; it may be set per database or role, which only the running server shows",
                            w.resource.address
                        ),
                        None,
                    );
                    continue;
                }
            },
        };
        let value = match kind {
            FlagKind::OnOff => json!(matches!(
                raw.to_ascii_lowercase().as_str(),
                "on" | "true" | "1" | "force" | "force_plus_permanent"
            )),
            FlagKind::Int => match raw.trim().parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => continue,
            },
            FlagKind::Number => match raw.trim().parse::<f64>() {
                Ok(n) => json!(n),
                Err(_) => continue,
            },
            FlagKind::Upper => json!(raw.to_ascii_uppercase()),
            FlagKind::Lower => json!(raw.to_ascii_lowercase()),
        };
        w.known(fact, origin, value);
    }
}

enum FlagKind {
    OnOff,
    Int,
    Number,
    Upper,
    Lower,
}

/// (fact, flag, engine, default when absent — none: unknown, how to read
/// it) — as the Cloud SQL source reads them.
const FLAG_FACTS: &[(&str, &str, &str, Option<&str>, FlagKind)] = &[
    (
        "cloudsql.postgres.logical_decoding",
        "cloudsql.logical_decoding",
        "postgres",
        Some("off"),
        FlagKind::OnOff,
    ),
    (
        "cloudsql.postgres.log_min_duration_statement",
        "log_min_duration_statement",
        "postgres",
        Some("-1"),
        FlagKind::Int,
    ),
    (
        "cloudsql.postgres.pgaudit",
        "cloudsql.enable_pgaudit",
        "postgres",
        Some("off"),
        FlagKind::OnOff,
    ),
    // Absent, pgaudit.log may still be set per database or role: unknown.
    (
        "cloudsql.postgres.pgaudit_log",
        "pgaudit.log",
        "postgres",
        None,
        FlagKind::Lower,
    ),
    (
        "cloudsql.mysql.slow_query_log",
        "slow_query_log",
        "mysql",
        Some("off"),
        FlagKind::OnOff,
    ),
    (
        "cloudsql.mysql.long_query_time",
        "long_query_time",
        "mysql",
        Some("10"),
        FlagKind::Number,
    ),
    (
        "cloudsql.mysql.log_output",
        "log_output",
        "mysql",
        Some("FILE"),
        FlagKind::Upper,
    ),
    (
        "cloudsql.mysql.binlog_format",
        "binlog_format",
        "mysql",
        Some("ROW"),
        FlagKind::Upper,
    ),
    (
        "cloudsql.mysql.binlog_row_image",
        "binlog_row_image",
        "mysql",
        Some("FULL"),
        FlagKind::Upper,
    ),
    (
        "cloudsql.mysql.audit_log",
        "cloudsql_mysql_audit",
        "mysql",
        Some("OFF"),
        FlagKind::OnOff,
    ),
];

fn settings(w: &mut Writer<'_>, config: &Configuration, role: Role) {
    w.attr(
        "cloudsql.insights.enabled",
        "settings.insights_config.query_insights_enabled",
        Some(json!(false)),
        Json::clone,
    );
    maintenance(w, config, role);
    w.attr("cloudsql.edition", "settings.edition", None, Json::clone);
    w.attr("cloudsql.region", "region", None, Json::clone);
}

/// The maintenance window. A read replica is maintained with its primary
/// (Cloud SQL applies the primary's window to its replicas), so a replica
/// whose primary is in this configuration takes the primary's window.
fn maintenance(w: &mut Writer<'_>, config: &Configuration, role: Role) {
    let primary = match role {
        Role::Replica if w.resource.blocks("settings.maintenance_window") == 0 => {
            primary_of(config, w.resource)
        }
        _ => None,
    };
    let fields: [(&str, &str, Json); 3] = [
        (
            "cloudsql.maintenance.day",
            "settings.maintenance_window.day",
            json!(0),
        ),
        (
            "cloudsql.maintenance.hour",
            "settings.maintenance_window.hour",
            json!(0),
        ),
        (
            "cloudsql.maintenance.update_track",
            "settings.maintenance_window.update_track",
            json!(""),
        ),
    ];
    let Some(primary) = primary else {
        for (fact, path, default) in fields {
            w.attr(fact, path, Some(default), Json::clone);
        }
        return;
    };
    let note = format!(
        "of the primary {} (a read replica is maintained with its primary)",
        primary.address
    );
    for (fact, path, default) in fields {
        match primary.attr(path) {
            Attr::Set(value) => w.known(
                fact,
                format!("{path} = {value} {note}"),
                super::coerce(fact, value),
            ),
            Attr::Unset => w.known(
                fact,
                format!("{path} not set {note} (provider default {default})"),
                default,
            ),
            Attr::Unresolved(expression) => w.unresolved(fact, path, expression),
        }
    }
}
