//! RDS parameters: which ones the checks read, the engine defaults that apply
//! when a parameter group does not override them, and the resolution of one
//! parameter over a target's groups. Pure; no I/O.
//!
//! The defaults are embedded (dated in [`DEFAULTS_DATE`]) because the API that
//! serves them (`DescribeEngineDefaultParameters`) costs one call per family and
//! is missing from emulators. Where the default is not known for an engine
//! version, the parameter stays unknown and the finding says to set it
//! explicitly.

use std::collections::BTreeMap;

/// When the table of engine defaults below was last checked against the RDS
/// default parameter groups.
pub const DEFAULTS_DATE: &str = "2026-11-01";

/// Parameters the RDS checks read, per engine family.
pub const POSTGRES_PARAMS: &[&str] = &[
    "rds.logical_replication",
    "rds.force_ssl",
    "log_min_duration_statement",
    "shared_preload_libraries",
    "pgaudit.log",
];
pub const MYSQL_PARAMS: &[&str] = &[
    "binlog_format",
    "require_secure_transport",
    "slow_query_log",
    "long_query_time",
    "log_output",
    "server_audit_logging",
    "server_audit_events",
];

/// The fact a parameter is recorded as (`rds.parameters.NAME`, dots in the
/// parameter's own name turned into underscores: `pgaudit.log` → `pgaudit_log`).
pub fn fact_path(name: &str) -> String {
    match name {
        "rds.logical_replication" => "rds.parameters.logical_replication".into(),
        "rds.force_ssl" => "rds.parameters.force_ssl".into(),
        other => format!("rds.parameters.{}", other.replace('.', "_")),
    }
}

/// The audit parameters' values as their facts type them: the preload list
/// as lower-case names, `pgaudit.log` in lower case, `server_audit_events`
/// in upper case (as Aurora writes them), `server_audit_logging` a boolean.
pub fn audit_value(name: &str, value: &str) -> Option<serde_json::Value> {
    let value = value.trim();
    match name {
        "shared_preload_libraries" => Some(serde_json::Value::from(
            value
                .split(',')
                .map(|lib| lib.trim().trim_matches('"').to_ascii_lowercase())
                .filter(|lib| !lib.is_empty())
                .collect::<Vec<_>>(),
        )),
        "pgaudit.log" => Some(value.to_ascii_lowercase().into()),
        "server_audit_events" => Some(value.to_ascii_uppercase().replace(' ', "").into()),
        "server_audit_logging" => as_bool(value).map(Into::into),
        _ => None,
    }
}

/// One parameter as a group returned it (`DescribeDBParameters`, `Source=user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamRow {
    pub value: Option<String>,
    /// `static` (needs a reboot) or `dynamic`; absent from some responses.
    pub apply_type: Option<String>,
    pub source: Option<String>,
}

/// What was read of one parameter group.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupParams {
    /// A `default.*` group: it cannot be modified, so every value is the engine default.
    Default,
    /// The user-set parameters of a custom group, by name.
    Custom(BTreeMap<String, ParamRow>),
    /// The group could not be read, and why.
    Unreadable(String),
}

/// A parameter group that applies to a target, in precedence order.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupReading {
    pub name: String,
    /// `instance` (DB parameter group) or `cluster` (DB cluster parameter group).
    pub level: &'static str,
    /// `in-sync`, `pending-reboot`, `applying`: from the instance or cluster member.
    pub apply_status: Option<String>,
    pub params: GroupParams,
}

/// A parameter's value for one target, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub name: &'static str,
    /// The configured value, or why it is unknown.
    pub value: Result<String, String>,
    pub origin: String,
    /// Configured in a group whose changes wait for a reboot, and the
    /// parameter is static: the running engine does not use it yet.
    pub pending_reboot: bool,
}

/// The engine family a parameter default depends on.
fn family(engine: &str) -> &str {
    match engine {
        "aurora" => "aurora-mysql",
        other => other,
    }
}

/// The first number of a version (`15.7` → 15, `8.0.mysql_aurora.3.05.2` → 8).
fn major_number(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

/// `(major, minor)` of a version (`10.11.6` → (10, 11)).
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The engine default of a parameter, when the table knows it: the value and
/// whether the parameter is static (changes need a reboot). `Ok(None)` means
/// the parameter does not exist for that engine version.
pub fn engine_default(
    engine: &str,
    version: &str,
    name: &str,
) -> Result<Option<(&'static str, bool)>, String> {
    let unknown = || {
        Err(format!(
            "the engine default of {name} for {engine} {version} is not in sqlready's table of RDS defaults (dated {DEFAULTS_DATE})"
        ))
    };
    let major = major_number(version);
    let value = match (family(engine), name) {
        ("postgres" | "aurora-postgresql", "rds.logical_replication") => ("0", true),
        ("postgres" | "aurora-postgresql", "log_min_duration_statement") => ("-1", false),
        // RDS for PostgreSQL turned TLS enforcement on by default from version 15.
        ("postgres", "rds.force_ssl") => match major {
            Some(m) if m >= 15 => ("1", false),
            Some(_) => ("0", false),
            None => return unknown(),
        },
        ("aurora-postgresql", "rds.force_ssl") => match major {
            Some(m) if m <= 16 => ("0", false),
            _ => return unknown(),
        },
        // RDS for MySQL: MIXED up to 8.0; 8.4 and later are not in the table.
        ("mysql", "binlog_format") => match major_minor(version) {
            Some((5, _)) | Some((8, 0)) => ("MIXED", false),
            _ => return unknown(),
        },
        ("mariadb", "binlog_format") => ("MIXED", false),
        // Aurora MySQL: the binary log is off unless binlog_format is set (a reboot applies it).
        ("aurora-mysql", "binlog_format") => ("OFF", true),
        ("mysql" | "aurora-mysql", "require_secure_transport") => match major {
            Some(m) if m <= 8 => ("0", false),
            _ => return unknown(),
        },
        // MariaDB has require_secure_transport from 10.5; RDS turns it on by
        // default from 11.8 (OFF up to 11.4; no RDS versions in between).
        ("mariadb", "require_secure_transport") => match major_minor(version) {
            Some((major, minor)) if major < 10 || (major == 10 && minor < 5) => return Ok(None),
            Some((10, _)) | Some((11, 0..=4)) => ("0", false),
            Some((major, minor)) if major > 11 || (major == 11 && minor >= 8) => ("1", false),
            _ => return unknown(),
        },
        // RDS for PostgreSQL preloads pg_stat_statements from version 11 (and
        // Aurora PostgreSQL); no default group preloads pgaudit.
        ("postgres", "shared_preload_libraries") => match major {
            Some(m) if m >= 11 => ("pg_stat_statements", true),
            Some(_) => ("", true),
            None => return unknown(),
        },
        ("aurora-postgresql", "shared_preload_libraries") => ("pg_stat_statements", true),
        // Not set in a group, pgaudit.log may still be set per database or role
        // (the way the RDS documentation sets it up), which only the database shows.
        ("postgres" | "aurora-postgresql", "pgaudit.log") => {
            return Err(
                "no parameter group sets pgaudit.log: it may be set per database or role (ALTER DATABASE / ALTER ROLE … SET pgaudit.log), which only the database shows"
                    .to_string(),
            );
        }
        // Aurora MySQL Advanced Auditing: off, and no events, by default. On RDS
        // for MySQL and MariaDB the audit plugin is an option-group option instead.
        ("aurora-mysql", "server_audit_logging") => ("0", false),
        ("aurora-mysql", "server_audit_events") => ("", false),
        ("mysql" | "mariadb", "server_audit_logging" | "server_audit_events") => return Ok(None),
        ("mysql" | "mariadb" | "aurora-mysql", "slow_query_log") => ("0", false),
        ("mysql" | "mariadb" | "aurora-mysql", "long_query_time") => ("10", false),
        // RDS for MySQL and MariaDB write the slow and general logs to tables
        // (mysql.slow_log) unless log_output is FILE; only FILE logs reach
        // CloudWatch Logs. Aurora MySQL's default is not in the table.
        ("mysql" | "mariadb", "log_output") => ("TABLE", false),
        _ => return unknown(),
    };
    Ok(Some(value))
}

/// Resolves one parameter over a target's groups (highest precedence first):
/// the first group that sets it wins; otherwise the engine default applies.
pub fn resolve(
    engine: &str,
    version: &str,
    name: &'static str,
    groups: &[GroupReading],
) -> Resolved {
    let default = engine_default(engine, version, name);
    let default_static = matches!(default, Ok(Some((_, true))));
    for group in groups {
        match &group.params {
            GroupParams::Default => continue,
            GroupParams::Unreadable(reason) => {
                return Resolved {
                    name,
                    value: Err(format!(
                        "{} parameter group {} could not be read: {reason}",
                        group.level, group.name
                    )),
                    origin: String::new(),
                    pending_reboot: false,
                };
            }
            GroupParams::Custom(rows) => {
                let Some(row) = rows.get(name) else { continue };
                let Some(value) = row.value.clone() else {
                    continue;
                };
                let is_static = row
                    .apply_type
                    .as_deref()
                    .map_or(default_static, |apply| apply.eq_ignore_ascii_case("static"));
                let pending = is_static && group.apply_status.as_deref() == Some("pending-reboot");
                return Resolved {
                    name,
                    value: Ok(value),
                    origin: format!("{name} in {} parameter group {}", group.level, group.name),
                    pending_reboot: pending,
                };
            }
        }
    }
    let groups_named: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    let origin = |value: &str| {
        let by = if groups_named.is_empty() {
            "no parameter group reported".to_string()
        } else {
            format!("not overridden in {}", groups_named.join(", "))
        };
        format!(
            "{name} = {value}: engine default for {engine} {version} ({by}; sqlready's table of RDS defaults, {DEFAULTS_DATE})"
        )
    };
    match default {
        Ok(Some((value, _))) => Resolved {
            name,
            value: Ok(value.to_string()),
            origin: origin(value),
            pending_reboot: false,
        },
        Ok(None) => Resolved {
            name,
            value: Err(format!("{name} does not exist in {engine} {version}")),
            origin: String::new(),
            pending_reboot: false,
        },
        Err(reason) => Resolved {
            name,
            value: Err(reason),
            origin: String::new(),
            pending_reboot: false,
        },
    }
}

/// A parameter value as a boolean (`1`, `ON`, `true`), if it is one.
pub fn as_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "on" | "true" | "yes" => Some(true),
        "0" | "off" | "false" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(
        name: &str,
        level: &'static str,
        status: &str,
        rows: &[(&str, &str, Option<&str>)],
    ) -> GroupReading {
        GroupReading {
            name: name.into(),
            level,
            apply_status: Some(status.into()),
            params: GroupParams::Custom(
                rows.iter()
                    .map(|(n, v, apply)| {
                        (
                            n.to_string(),
                            ParamRow {
                                value: Some(v.to_string()),
                                apply_type: apply.map(str::to_string),
                                source: Some("user".into()),
                            },
                        )
                    })
                    .collect(),
            ),
        }
    }

    fn default_group(name: &str) -> GroupReading {
        GroupReading {
            name: name.into(),
            level: "instance",
            apply_status: Some("in-sync".into()),
            params: GroupParams::Default,
        }
    }

    #[test]
    fn force_ssl_defaults_to_on_from_postgres_15() {
        let groups = [default_group("default.postgres15")];
        let on = resolve("postgres", "15.7", "rds.force_ssl", &groups);
        assert_eq!(on.value.as_deref(), Ok("1"));
        assert!(on.origin.contains("engine default"), "{}", on.origin);
        let off = resolve(
            "postgres",
            "14.12",
            "rds.force_ssl",
            &[default_group("default.postgres14")],
        );
        assert_eq!(off.value.as_deref(), Ok("0"));
    }

    #[test]
    fn a_custom_group_overrides_the_default() {
        let groups = [custom(
            "pg15-prod",
            "instance",
            "in-sync",
            &[("rds.force_ssl", "0", Some("dynamic"))],
        )];
        let resolved = resolve("postgres", "15.7", "rds.force_ssl", &groups);
        assert_eq!(resolved.value.as_deref(), Ok("0"));
        assert_eq!(
            resolved.origin,
            "rds.force_ssl in instance parameter group pg15-prod"
        );
        assert!(!resolved.pending_reboot);
    }

    #[test]
    fn pending_reboot_marks_only_static_parameters() {
        let groups = [custom(
            "pg15-cdc",
            "instance",
            "pending-reboot",
            &[
                ("rds.logical_replication", "1", None),
                ("log_min_duration_statement", "500", Some("dynamic")),
            ],
        )];
        assert!(resolve("postgres", "15.7", "rds.logical_replication", &groups).pending_reboot);
        assert!(!resolve("postgres", "15.7", "log_min_duration_statement", &groups).pending_reboot);
        let in_sync = [custom(
            "pg15-cdc",
            "instance",
            "in-sync",
            &[("rds.logical_replication", "1", Some("static"))],
        )];
        assert!(!resolve("postgres", "15.7", "rds.logical_replication", &in_sync).pending_reboot);
    }

    #[test]
    fn instance_group_wins_over_cluster_group() {
        let groups = [
            custom(
                "apg-instance",
                "instance",
                "in-sync",
                &[("log_min_duration_statement", "250", None)],
            ),
            custom(
                "apg-cluster",
                "cluster",
                "in-sync",
                &[
                    ("log_min_duration_statement", "1000", None),
                    ("rds.logical_replication", "1", None),
                ],
            ),
        ];
        assert_eq!(
            resolve(
                "aurora-postgresql",
                "15.4",
                "log_min_duration_statement",
                &groups
            )
            .value
            .as_deref(),
            Ok("250")
        );
        let cdc = resolve(
            "aurora-postgresql",
            "15.4",
            "rds.logical_replication",
            &groups,
        );
        assert_eq!(cdc.value.as_deref(), Ok("1"));
        assert!(cdc.origin.contains("cluster parameter group apg-cluster"));
    }

    #[test]
    fn an_unreadable_group_makes_the_parameter_unknown() {
        let groups = [GroupReading {
            name: "pg15-prod".into(),
            level: "instance",
            apply_status: None,
            params: GroupParams::Unreadable("AccessDenied".into()),
        }];
        let resolved = resolve("postgres", "15.7", "rds.force_ssl", &groups);
        assert!(resolved.value.unwrap_err().contains("could not be read"));
    }

    #[test]
    fn unknown_defaults_stay_unknown() {
        assert!(engine_default("mysql", "8.4.3", "binlog_format").is_err());
        assert!(engine_default("aurora-postgresql", "17.1", "rds.force_ssl").is_err());
        assert_eq!(
            engine_default("mariadb", "10.4.34", "require_secure_transport"),
            Ok(None)
        );
        assert_eq!(
            engine_default("aurora-mysql", "8.0.mysql_aurora.3.05.2", "binlog_format"),
            Ok(Some(("OFF", true)))
        );
        assert_eq!(
            engine_default("aurora", "5.6.10a", "binlog_format"),
            Ok(Some(("OFF", true)))
        );
    }

    #[test]
    fn mariadb_requires_tls_by_default_from_11_8() {
        // RDS: OFF for 11.4 and earlier, ON from 11.8; absent before 10.5.
        for (version, expected) in [
            ("10.6.18", Ok(Some(("0", false)))),
            ("11.4.5", Ok(Some(("0", false)))),
            ("11.8.3", Ok(Some(("1", false)))),
            ("10.4.34", Ok(None)),
        ] {
            assert_eq!(
                engine_default("mariadb", version, "require_secure_transport"),
                expected,
                "{version}"
            );
        }
        assert!(engine_default("mariadb", "11.6.1", "require_secure_transport").is_err());
        let resolved = resolve(
            "mariadb",
            "11.8.3",
            "require_secure_transport",
            &[default_group("default.mariadb11.8")],
        );
        assert_eq!(resolved.value.as_deref(), Ok("1"));
    }

    #[test]
    fn log_output_defaults_to_table_on_rds_mysql_and_mariadb() {
        assert_eq!(
            engine_default("mysql", "8.0.36", "log_output"),
            Ok(Some(("TABLE", false)))
        );
        assert_eq!(
            engine_default("mariadb", "10.11.6", "log_output"),
            Ok(Some(("TABLE", false)))
        );
        assert!(engine_default("aurora-mysql", "8.0.mysql_aurora.3.05.2", "log_output").is_err());
    }

    #[test]
    fn booleans_read_like_mysql_and_postgres_write_them() {
        assert_eq!(as_bool("ON"), Some(true));
        assert_eq!(as_bool("0"), Some(false));
        assert_eq!(as_bool("MIXED"), None);
    }
}
