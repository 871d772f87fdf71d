//! Turning what the Cloud SQL Admin API answered into facts: pure functions,
//! unit-tested on typed fixtures (`DatabaseInstance` values built in code).
//!
//! Each item is judged the way the API reference defines it. Where the API
//! leaves a field or a database flag out, the documented default applies, and
//! the fact's origin says so ("absent: default …"):
//!
//! | field or flag | default used |
//! | --- | --- |
//! | `settings.availabilityType` | `ZONAL` |
//! | `settings.edition` | `ENTERPRISE` |
//! | `settings.backupConfiguration.enabled`, `pointInTimeRecoveryEnabled`, `binaryLogEnabled` | off |
//! | `backupRetentionSettings.retainedBackups` | 7 (one automated backup a day, so 7 days) |
//! | `backupConfiguration.transactionLogRetentionDays` | 7 (Enterprise), 14 (Enterprise Plus) |
//! | `backupConfiguration.location` | empty: the multi-region nearest the instance |
//! | `settings.storageAutoResize` | on ("The default value is true") |
//! | `settings.storageAutoResizeLimit` | 0 = no limit |
//! | `settings.deletionProtectionEnabled` | off |
//! | `settings.connectorEnforcement` | `NOT_REQUIRED` |
//! | `ipConfiguration.sslMode` | from the legacy `requireSsl` (true: client certificates required; else unencrypted allowed) |
//! | `ipConfiguration.ipv4Enabled` | whether a `PRIMARY` (public) address is assigned |
//! | `settings.databaseReplicationEnabled` (replicas) | on |
//! | PostgreSQL `cloudsql.logical_decoding`, `cloudsql.enable_pgaudit` | off |
//! | PostgreSQL `log_min_duration_statement` | -1 (off) |
//! | MySQL `slow_query_log` | off; `long_query_time` 10 s; `log_output` FILE |
//! | MySQL `binlog_format` | ROW; `binlog_row_image` FULL |
//! | MySQL `cloudsql_mysql_audit` | OFF (ON, FORCE, FORCE_PLUS_PERMANENT load the plugin) |
//! | PostgreSQL `pgaudit.log` | none; unknown when not a flag (it may be set per database or role) |

use super::versions;
use crate::eol;
use crate::facts::snapshot::TargetFacts;
use crate::facts::{FactSink, Facts, RawEvidence};
use crate::target::{Kind, Role};
use chrono::{DateTime, Utc};
use google_cloud_sql_v1::model::{
    BackupRun, DatabaseInstance, SqlBackupRunStatus, SqlBackupRunType, SqlInstanceType,
    SqlInstancesGetLatestRecoveryTimeResponse, SqlIpAddressType, ip_configuration::SslMode,
    settings::Edition,
};
use serde_json::{Value as Json, json};

pub const SOURCE: &str = "cloudsql";

/// What the role would resolve when an extra read was denied.
const VIEWER: &str = "grant roles/cloudsql.viewer (cloudsql.backupRuns.list, cloudsql.instances.get) to the account sqlready runs as";

/// A per-instance read beyond the instance itself.
#[derive(Debug, Clone)]
pub enum Extra<T> {
    Read(T),
    /// Not asked, and why (a replica has no backups of its own; backups are off).
    Skipped(String),
    Failed {
        reason: String,
        resolve: Option<String>,
    },
}

/// Backup runs asked for per `backupRuns.list` page.
pub const BACKUP_RUNS_PAGE: i32 = 20;
/// Pages of backup runs read at most while no successful automated run is among them.
pub const BACKUP_RUNS_MAX_PAGES: usize = 5;

/// Everything read about one instance.
#[derive(Debug, Clone)]
pub struct Readings {
    /// The project the target was named under (the instance's own `project` may carry a domain prefix).
    pub project: String,
    pub instance: DatabaseInstance,
    /// `backupRuns.list`, newest first: pages are read until a successful
    /// automated run is among them, the list ends, or [`BACKUP_RUNS_MAX_PAGES`].
    pub backup_runs: Extra<Vec<BackupRun>>,
    /// Older backup runs exist beyond those read (the last page read had a `nextPageToken`).
    pub backup_runs_truncated: bool,
    /// `getLatestRecoveryTime`.
    pub recovery: Extra<SqlInstancesGetLatestRecoveryTimeResponse>,
    /// Each of `replicaNames`, as read (`instances.get`, or the same listing), or why not.
    pub replicas: Vec<(String, Result<DatabaseInstance, String>)>,
}

/// Why a read replica is not a working one, or `None` when it is: it must be `RUNNABLE`,
/// not stopped by its owner (`activationPolicy: NEVER`; RUNNABLE also covers "stopped by
/// owner", per the Admin API), and replicating (`databaseReplicationEnabled` not false).
pub fn replica_problem(replica: &DatabaseInstance) -> Option<String> {
    use google_cloud_sql_v1::model::database_instance::SqlInstanceState;
    use google_cloud_sql_v1::model::settings::SqlActivationPolicy;
    if replica.state != SqlInstanceState::Runnable {
        return Some(format!(
            "state is {}",
            enum_name(replica.state.name(), replica.state.value())
        ));
    }
    let settings = replica.settings.as_ref()?;
    if settings.activation_policy == SqlActivationPolicy::Never {
        return Some("stopped (activationPolicy NEVER)".into());
    }
    if settings.database_replication_enabled == Some(false) {
        return Some("replication is stopped (databaseReplicationEnabled: false)".into());
    }
    None
}

/// An enum's name, or `UNKNOWN(n)` for a value newer than this client.
fn enum_name(name: Option<&str>, value: Option<i32>) -> String {
    match (name, value) {
        (Some(name), _) => name.to_string(),
        (None, Some(value)) => format!("UNKNOWN({value})"),
        (None, None) => "UNKNOWN".to_string(),
    }
}

/// The engine as reports name it: `postgres`, `mysql`, `sqlserver`, `unknown`.
pub fn engine(instance: &DatabaseInstance) -> &'static str {
    let name = enum_name(
        instance.database_version.name(),
        instance.database_version.value(),
    );
    versions::parse(&name).engine
}

/// A read replica (or read pool) replicates from a primary: `masterInstanceName`
/// is set, or `instanceType` says so.
pub fn role(instance: &DatabaseInstance) -> Role {
    let replica_type = matches!(
        instance.instance_type,
        SqlInstanceType::ReadReplicaInstance | SqlInstanceType::ReadPoolInstance
    );
    if replica_type || !instance.master_instance_name.is_empty() {
        Role::Replica
    } else {
        Role::Primary
    }
}

/// Why an instance is not audited as a Cloud SQL database, if it is not one:
/// `instanceType: ON_PREMISES_INSTANCE` is the source representation of a
/// server outside Cloud SQL (for external replication or migration). Cloud SQL
/// neither backs it up nor hosts it, so its settings say nothing about that server.
pub fn not_audited(instance: &DatabaseInstance) -> Option<String> {
    (instance.instance_type == SqlInstanceType::OnPremisesInstance).then(|| {
        format!(
            "{} is the source representation of a server outside Cloud SQL (instanceType ON_PREMISES_INSTANCE): Cloud SQL does not host or back it up; audit that server itself (postgres:// or mysql://)",
            instance.name
        )
    })
}

/// The version as precisely as the API tells: installed (`15.7`), else the major.
pub fn version(instance: &DatabaseInstance) -> String {
    versions::installed(&instance.database_installed_version).unwrap_or_else(|| {
        let name = enum_name(
            instance.database_version.name(),
            instance.database_version.value(),
        );
        versions::parse(&name).display
    })
}

/// The report id: `cloudsql://PROJECT/INSTANCE`.
pub fn target_id(project: &str, instance: &str) -> String {
    format!("cloudsql://{project}/{instance}")
}

/// The resource name: `//sqladmin.googleapis.com/projects/P/instances/I`.
pub fn resource(project: &str, instance: &str) -> String {
    format!("//sqladmin.googleapis.com/projects/{project}/instances/{instance}")
}

/// Whether the instance's own PITR switch is on: PostgreSQL (and SQL Server)
/// `pointInTimeRecoveryEnabled`; MySQL `binaryLogEnabled`.
pub fn pitr_configured(instance: &DatabaseInstance) -> bool {
    let backup = instance
        .settings
        .as_ref()
        .and_then(|s| s.backup_configuration.as_ref());
    match (engine(instance), backup) {
        ("mysql", Some(b)) => b.binary_log_enabled.unwrap_or(false),
        (_, Some(b)) => b.point_in_time_recovery_enabled.unwrap_or(false),
        (_, None) => false,
    }
}

/// Whether automated backups are on.
pub fn backups_enabled(instance: &DatabaseInstance) -> bool {
    instance
        .settings
        .as_ref()
        .and_then(|s| s.backup_configuration.as_ref())
        .and_then(|b| b.enabled)
        .unwrap_or(false)
}

/// One target, ready for evaluation.
pub fn target_facts(readings: &Readings, now: DateTime<Utc>) -> TargetFacts {
    let instance = &readings.instance;
    TargetFacts {
        id: target_id(&readings.project, &instance.name),
        resource: Some(resource(&readings.project, &instance.name)),
        kind: Kind::Cloudsql,
        role: role(instance),
        engine: engine(instance).to_string(),
        version: version(instance),
        collected_at: now,
        facts: facts(readings, now),
        evidence: evidence(readings),
        principal: None,
        sources: Vec::new(),
        location: None,
        warnings: Vec::new(),
        tags: instance
            .settings
            .as_ref()
            .map(|s| s.user_labels.clone().into_iter().collect())
            .unwrap_or_default(),
    }
}

/// All facts from the readings; `now` dates ages and the support calendars.
pub fn facts(readings: &Readings, now: DateTime<Utc>) -> Facts {
    let instance = &readings.instance;
    let mut sink = FactSink::new(SOURCE);
    identity_facts(&mut sink, instance);
    version_facts(&mut sink, instance, now);
    replica_facts(&mut sink, instance, &readings.replicas);
    backup_facts(&mut sink, instance);
    backup_run_facts(
        &mut sink,
        &readings.backup_runs,
        readings.backup_runs_truncated,
        now,
    );
    pitr_facts(&mut sink, instance, &readings.recovery, now);
    flag_facts(&mut sink, instance);
    network_facts(&mut sink, instance);
    storage_facts(&mut sink, instance);
    protection_facts(&mut sink, instance);
    super::patching::facts(&mut sink, instance, now);
    sink.finish()
}

fn edition(instance: &DatabaseInstance) -> String {
    match instance.settings.as_ref().map(|s| &s.edition) {
        None | Some(Edition::Unspecified) => "ENTERPRISE".to_string(),
        Some(edition) => enum_name(edition.name(), edition.value()),
    }
}

fn identity_facts(sink: &mut FactSink<'_>, instance: &DatabaseInstance) {
    let settings = instance.settings.as_ref();
    sink.known(
        "cloudsql.instance_type",
        "instanceType",
        enum_name(
            instance.instance_type.name(),
            instance.instance_type.value(),
        ),
    );
    sink.known(
        "cloudsql.state",
        "state",
        enum_name(instance.state.name(), instance.state.value()),
    );
    sink.known("cloudsql.region", "region", instance.region.clone());
    let edition_origin = match settings.map(|s| &s.edition) {
        None | Some(Edition::Unspecified) => "settings.edition (absent: default ENTERPRISE)",
        Some(_) => "settings.edition",
    };
    sink.known("cloudsql.edition", edition_origin, edition(instance));
    let availability = settings
        .map(|s| enum_name(s.availability_type.name(), s.availability_type.value()))
        .filter(|name| name != "SQL_AVAILABILITY_TYPE_UNSPECIFIED");
    let (availability, origin) = match availability {
        Some(name) => (name, "settings.availabilityType"),
        None => (
            "ZONAL".to_string(),
            "settings.availabilityType (absent: default ZONAL)",
        ),
    };
    sink.known("ha.enabled", origin, availability == "REGIONAL");
    sink.known("cloudsql.availability_type", origin, availability);
}

/// Cloud SQL keeps a major version patched past its community end of life, in paid
/// extended support, until its deprecation date: the end of security fixes is that date,
/// not the community's. Recorded over the upstream facts while the calendar is fresh.
fn extended_support_facts(
    sink: &mut FactSink<'_>,
    parsed: &versions::DatabaseVersion,
    end: chrono::NaiveDate,
    deprecated: chrono::NaiveDate,
    today: chrono::NaiveDate,
) {
    let calendar = eol::extended::Calendar {
        standard_end: end,
        year3_start: None,
        extended_end: deprecated,
    };
    if let Some(reason) = eol::extended::stale(&calendar, versions::CALENDAR_DATE, today) {
        tracing::debug!("{} {}: {reason}", parsed.engine, parsed.major);
        return;
    }
    let origin = format!(
        "{} (reviewed {}): regular support until {end}, then paid extended support ({}) until {deprecated}",
        versions::CALENDAR_SOURCE,
        versions::CALENDAR_DATE,
        versions::CHARGE
    );
    sink.known("version.eol_date", origin.clone(), deprecated.to_string());
    sink.known(
        "version.days_until_eol",
        origin.clone(),
        (deprecated - today).num_days(),
    );
    sink.known("version.paid_extended_support", origin, end < today);
}

fn version_facts(sink: &mut FactSink<'_>, instance: &DatabaseInstance, now: DateTime<Utc>) {
    let today = now.date_naive();
    let name = enum_name(
        instance.database_version.name(),
        instance.database_version.value(),
    );
    sink.known("cloudsql.database_version", "databaseVersion", name.clone());
    let parsed = versions::parse(&name);
    if parsed.major.is_empty() {
        let reason = format!("databaseVersion {name} is not a version sqlready can read");
        for path in [
            "version.major",
            "version.eol_date",
            "version.days_until_eol",
        ] {
            sink.unknown(path, reason.clone(), Some("upgrade sqlready"));
        }
        return;
    }
    eol::record_support(
        sink,
        parsed.engine,
        parsed.engine,
        &parsed.major,
        "databaseVersion",
        today,
    );
    match versions::calendar(parsed.engine, &parsed.major) {
        Some((end, deprecated)) => {
            extended_support_facts(sink, &parsed, end, deprecated, today);
            sink.known(
                "cloudsql.version.regular_support_end",
                versions::CALENDAR_SOURCE,
                end.to_string(),
            );
            sink.known(
                "cloudsql.version.deprecation_date",
                versions::CALENDAR_SOURCE,
                deprecated.to_string(),
            );
            sink.known(
                "cloudsql.version.days_until_regular_support_end",
                versions::CALENDAR_SOURCE,
                (end - today).num_days(),
            );
        }
        None => {
            if eol::end_of_life(parsed.engine, &parsed.major).is_some_and(|end| end >= today) {
                // A version Cloud SQL has not dated yet is within the community's support.
                sink.known(
                    "version.paid_extended_support",
                    "embedded end-of-life table: within the community's support",
                    false,
                );
            }
            let reason = format!(
                "Cloud SQL had announced no end of regular support for {} {} when this sqlready was built",
                parsed.engine, parsed.major
            );
            let resolve = Some("see cloud.google.com/sql/docs/db-versions, or upgrade sqlready");
            for path in [
                "cloudsql.version.regular_support_end",
                "cloudsql.version.deprecation_date",
                "cloudsql.version.days_until_regular_support_end",
            ] {
                sink.unknown(path, reason.clone(), resolve);
            }
        }
    }
    let settings = instance.settings.as_ref();
    let window = settings.and_then(|s| s.maintenance_window.as_ref());
    let day = window.and_then(|w| w.day).unwrap_or(0);
    let day_origin = if window.and_then(|w| w.day).is_some() {
        "settings.maintenanceWindow.day (1 = Monday … 7 = Sunday, UTC)"
    } else {
        "settings.maintenanceWindow.day (absent: no preference, Cloud SQL picks any time)"
    };
    sink.known("cloudsql.maintenance.day", day_origin, day);
    sink.known(
        "cloudsql.maintenance.hour",
        "settings.maintenanceWindow.hour (UTC)",
        window.and_then(|w| w.hour).unwrap_or(0),
    );
    let track = window
        .map(|w| enum_name(w.update_track.name(), w.update_track.value()))
        .filter(|t| t != "SQL_UPDATE_TRACK_UNSPECIFIED")
        .unwrap_or_default();
    sink.known(
        "cloudsql.maintenance.update_track",
        "settings.maintenanceWindow.updateTrack",
        track,
    );
}

/// `replicas.count` (working replicas only) and `replicas.unhealthy`: each of
/// `replicaNames` is judged on its own description. With none working and some not
/// read, the count is unknown.
fn replica_health(
    sink: &mut FactSink<'_>,
    instance: &DatabaseInstance,
    replicas: &[(String, Result<DatabaseInstance, String>)],
) {
    let origin = "replicaNames, each read (state, settings.activationPolicy, settings.databaseReplicationEnabled)";
    let (mut healthy, mut unhealthy, mut unread) = (0, Vec::new(), Vec::new());
    for name in &instance.replica_names {
        match replicas.iter().find(|(n, _)| n == name).map(|(_, r)| r) {
            Some(Ok(replica)) => match replica_problem(replica) {
                None => healthy += 1,
                Some(why) => unhealthy.push(format!("{name}: {why}")),
            },
            Some(Err(why)) => unread.push(format!("{name}: {why}")),
            None => unread.push(format!("{name}: not read in this audit")),
        }
    }
    sink.known("replicas.unhealthy", origin, unhealthy.clone());
    if healthy == 0 && !unread.is_empty() {
        sink.unknown(
            "replicas.count",
            format!(
                "no replica was seen working, and {} could not be read",
                unread.join("; ")
            ),
            Some(VIEWER),
        );
        return;
    }
    let mut origin = origin.to_string();
    if !unhealthy.is_empty() {
        origin.push_str(&format!("; not counted: {}", unhealthy.join("; ")));
    }
    if !unread.is_empty() {
        origin.push_str(&format!("; not read: {}", unread.join("; ")));
    }
    sink.known("replicas.count", origin, healthy as i64);
}

fn replica_facts(
    sink: &mut FactSink<'_>,
    instance: &DatabaseInstance,
    replicas: &[(String, Result<DatabaseInstance, String>)],
) {
    sink.known(
        "cloudsql.master_instance",
        "masterInstanceName",
        instance.master_instance_name.clone(),
    );
    sink.known(
        "cloudsql.replica_names",
        "replicaNames",
        instance.replica_names.clone(),
    );
    replica_health(sink, instance, replicas);
    if role(instance) == Role::Replica {
        let enabled = instance
            .settings
            .as_ref()
            .and_then(|s| s.database_replication_enabled);
        let origin = match enabled {
            Some(_) => "settings.databaseReplicationEnabled",
            None => "settings.databaseReplicationEnabled (absent: replication runs unless stopped)",
        };
        sink.known(
            "cloudsql.replication_enabled",
            origin,
            enabled.unwrap_or(true),
        );
    }
}

fn backup_facts(sink: &mut FactSink<'_>, instance: &DatabaseInstance) {
    let backup = instance
        .settings
        .as_ref()
        .and_then(|s| s.backup_configuration.as_ref());
    let enabled = backup.and_then(|b| b.enabled);
    sink.known(
        "backups.enabled",
        match enabled {
            Some(_) => "settings.backupConfiguration.enabled",
            None => "settings.backupConfiguration.enabled (absent: off)",
        },
        enabled.unwrap_or(false),
    );
    let retained = backup
        .and_then(|b| b.backup_retention_settings.as_ref())
        .and_then(|r| r.retained_backups);
    let origin = match retained {
        Some(_) => {
            "settings.backupConfiguration.backupRetentionSettings.retainedBackups (one automated backup a day)"
        }
        None => {
            "settings.backupConfiguration.backupRetentionSettings.retainedBackups (absent: default 7; one automated backup a day)"
        }
    };
    let retained = i64::from(retained.unwrap_or(7));
    sink.known("cloudsql.backups.retained_count", origin, retained);
    sink.known("backups.retention_days", origin, retained);
    let location = backup.map(|b| b.location.clone()).unwrap_or_default();
    sink.known(
        "cloudsql.backups.location",
        if location.is_empty() {
            "settings.backupConfiguration.location (absent: the multi-region nearest the instance)"
        } else {
            "settings.backupConfiguration.location"
        },
        location.clone(),
    );
    // Off-site: the default multi-region spans several regions; a custom
    // location other than the instance's own region is another region.
    let off_site = location.is_empty() || !location.eq_ignore_ascii_case(&instance.region);
    sink.known(
        "cloudsql.backups.off_site",
        "settings.backupConfiguration.location compared with region",
        off_site,
    );
}

fn backup_run_facts(
    sink: &mut FactSink<'_>,
    runs: &Extra<Vec<BackupRun>>,
    truncated: bool,
    now: DateTime<Utc>,
) {
    const AGE: &str = "cloudsql.backups.last_success_age_hours";
    const STATUS: &str = "cloudsql.backups.last_automated_status";
    const READ: &str = "cloudsql.backups.runs_read";
    const GOOD: &str = "cloudsql.backups.successful_runs";
    let runs = match runs {
        Extra::Read(runs) => runs,
        Extra::Skipped(why) => {
            for path in [AGE, STATUS, READ, GOOD] {
                sink.unknown(path, why.clone(), None);
            }
            return;
        }
        Extra::Failed { reason, resolve } => {
            let resolve = resolve.as_deref().or(Some(VIEWER));
            for path in [AGE, STATUS, READ, GOOD] {
                sink.unknown(path, format!("backupRuns.list failed: {reason}"), resolve);
            }
            return;
        }
    };
    let automated: Vec<&BackupRun> = runs
        .iter()
        .filter(|run| run.r#type == SqlBackupRunType::Automated)
        .collect();
    let origin = format!("backupRuns.list ({} run(s), newest first)", runs.len());
    sink.known(READ, origin.clone(), runs.len() as i64);
    let newest = automated.iter().max_by_key(|run| {
        run.enqueued_time
            .as_ref()
            .or(run.start_time.as_ref())
            .map(|t| (t.seconds(), t.nanos()))
    });
    sink.known(
        STATUS,
        origin.clone(),
        newest
            .map(|run| enum_name(run.status.name(), run.status.value()))
            .unwrap_or_default(),
    );
    let successful: Vec<DateTime<Utc>> = automated
        .iter()
        .filter(|run| run.status == SqlBackupRunStatus::Successful)
        .filter_map(|run| run.end_time.as_ref().and_then(timestamp))
        .collect();
    if successful.is_empty() && truncated {
        // On-demand runs (or failures) filled every page read, and older runs
        // exist: the last successful automated backup may be among them.
        let reason = format!(
            "none of the newest {} backup run(s) read is a successful automated backup, and older runs were not read",
            runs.len()
        );
        let resolve = Some("gcloud sql backups list --instance INSTANCE --filter=type=AUTOMATED");
        sink.unknown(GOOD, reason.clone(), resolve);
        sink.unknown(AGE, reason, resolve);
        return;
    }
    sink.known(GOOD, origin.clone(), successful.len() as i64);
    let last_success = successful.into_iter().max();
    match last_success {
        Some(end) => sink.known(AGE, origin, hours(now - end)),
        None => sink.known(
            AGE,
            format!("{origin}: no successful automated backup among them"),
            Json::Null,
        ),
    }
}

fn pitr_facts(
    sink: &mut FactSink<'_>,
    instance: &DatabaseInstance,
    recovery: &Extra<SqlInstancesGetLatestRecoveryTimeResponse>,
    now: DateTime<Utc>,
) {
    let backup = instance
        .settings
        .as_ref()
        .and_then(|s| s.backup_configuration.as_ref());
    let mysql = engine(instance) == "mysql";
    let switch = if mysql {
        "settings.backupConfiguration.binaryLogEnabled"
    } else {
        "settings.backupConfiguration.pointInTimeRecoveryEnabled"
    };
    let configured = pitr_configured(instance);
    let set = backup
        .and_then(|b| {
            if mysql {
                b.binary_log_enabled
            } else {
                b.point_in_time_recovery_enabled
            }
        })
        .is_some();
    sink.known(
        "cloudsql.pitr.configured",
        if set {
            switch.to_string()
        } else {
            format!("{switch} (absent: off)")
        },
        configured,
    );
    if mysql {
        sink.known(
            "binlog.enabled",
            if set {
                switch.to_string()
            } else {
                format!("{switch} (absent: off)")
            },
            configured,
        );
    }
    // Point-in-time recovery replays logs on top of an automated backup: without backups it cannot work.
    let backups = backups_enabled(instance);
    let origin = if configured && !backups {
        format!(
            "{switch} is on but settings.backupConfiguration.enabled is off: there is no backup to replay the logs on"
        )
    } else {
        format!("{switch} and settings.backupConfiguration.enabled")
    };
    sink.known("pitr.enabled", origin, configured && backups);
    let retention = backup.and_then(|b| b.transaction_log_retention_days);
    let plus = edition(instance) == "ENTERPRISE_PLUS";
    let origin = match (retention, plus) {
        (Some(_), _) => "settings.backupConfiguration.transactionLogRetentionDays",
        (None, true) => {
            "settings.backupConfiguration.transactionLogRetentionDays (absent: default 14 on Enterprise Plus)"
        }
        (None, false) => {
            "settings.backupConfiguration.transactionLogRetentionDays (absent: default 7)"
        }
    };
    let retention = retention.unwrap_or(if plus { 14 } else { 7 });
    sink.known(
        "cloudsql.pitr.log_retention_days",
        origin,
        i64::from(retention),
    );

    const AGE: &str = "cloudsql.pitr.latest_recovery_age_minutes";
    const WINDOW: &str = "cloudsql.pitr.window_hours";
    match recovery {
        Extra::Read(response) => {
            let latest = response.latest_recovery_time.as_ref().and_then(timestamp);
            let earliest = response.earliest_recovery_time.as_ref().and_then(timestamp);
            match latest {
                Some(latest) => sink.known(
                    AGE,
                    "getLatestRecoveryTime.latestRecoveryTime",
                    round1((now - latest).num_milliseconds() as f64 / 60_000.0),
                ),
                None => sink.unknown(
                    AGE,
                    "getLatestRecoveryTime returned no latestRecoveryTime",
                    None,
                ),
            }
            match (latest, earliest) {
                (Some(latest), Some(earliest)) => sink.known(
                    WINDOW,
                    "getLatestRecoveryTime: latestRecoveryTime - earliestRecoveryTime",
                    hours(latest - earliest),
                ),
                _ => sink.known(
                    WINDOW,
                    "getLatestRecoveryTime: no earliestRecoveryTime returned",
                    Json::Null,
                ),
            }
        }
        Extra::Skipped(why) => {
            sink.unknown(AGE, why.clone(), None);
            sink.unknown(WINDOW, why.clone(), None);
        }
        Extra::Failed { reason, resolve } => {
            let resolve = resolve.as_deref().or(Some(VIEWER));
            let reason = format!("getLatestRecoveryTime failed: {reason}");
            sink.unknown(AGE, reason.clone(), resolve);
            sink.unknown(WINDOW, reason, resolve);
        }
    }
}

/// A flag's value, or the engine default when it is not set.
fn flag<'a>(instance: &'a DatabaseInstance, name: &str) -> Option<&'a str> {
    instance
        .settings
        .as_ref()?
        .database_flags
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .map(|f| f.value.as_str())
}

fn flag_origin(instance: &DatabaseInstance, name: &str, default: &str) -> String {
    match flag(instance, name) {
        Some(_) => format!("settings.databaseFlags {name}"),
        None => format!("settings.databaseFlags {name} (absent: default {default})"),
    }
}

fn on(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "on" | "true" | "1" | "yes"
    )
}

fn flag_facts(sink: &mut FactSink<'_>, instance: &DatabaseInstance) {
    let rows: Vec<Json> = instance
        .settings
        .as_ref()
        .map(|s| {
            s.database_flags
                .iter()
                .map(|f| json!({"name": f.name, "value": f.value}))
                .collect()
        })
        .unwrap_or_default();
    sink.known("cloudsql.database_flags", "settings.databaseFlags", rows);
    let insights = instance
        .settings
        .as_ref()
        .and_then(|s| s.insights_config.as_ref())
        .is_some_and(|i| i.query_insights_enabled);
    sink.known(
        "cloudsql.insights.enabled",
        "settings.insightsConfig.queryInsightsEnabled (absent: off)",
        insights,
    );
    match engine(instance) {
        "postgres" => {
            let logical = flag(instance, "cloudsql.logical_decoding").is_some_and(on);
            sink.known(
                "cloudsql.postgres.logical_decoding",
                flag_origin(instance, "cloudsql.logical_decoding", "off"),
                logical,
            );
            let duration = flag(instance, "log_min_duration_statement")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(-1);
            sink.known(
                "cloudsql.postgres.log_min_duration_statement",
                flag_origin(instance, "log_min_duration_statement", "-1"),
                duration,
            );
            let pgaudit = flag(instance, "cloudsql.enable_pgaudit").is_some_and(on);
            sink.known(
                "cloudsql.postgres.pgaudit",
                flag_origin(instance, "cloudsql.enable_pgaudit", "off"),
                pgaudit,
            );
            // pgaudit.log (default none) says what is logged; without it the
            // extension logs nothing. Set as a database flag it is visible here;
            // ALTER DATABASE/ROLE … SET pgaudit.log is visible only from inside.
            match flag(instance, "pgaudit.log") {
                Some(value) => sink.known(
                    "cloudsql.postgres.pgaudit_log",
                    "settings.databaseFlags pgaudit.log",
                    value.trim().to_ascii_lowercase(),
                ),
                None => sink.unknown(
                    "cloudsql.postgres.pgaudit_log",
                    "the pgaudit.log database flag is not set (PostgreSQL default none: nothing is logged); it may still be set per database or role (ALTER DATABASE … SET pgaudit.log), which the Admin API does not show",
                    Some(
                        "set the pgaudit.log database flag, or pair the instance with a postgres:// connection in sqlready.toml so audit.pgaudit reads pgaudit.log",
                    ),
                ),
            }
        }
        "mysql" => {
            sink.known(
                "cloudsql.mysql.slow_query_log",
                flag_origin(instance, "slow_query_log", "off"),
                flag(instance, "slow_query_log").is_some_and(on),
            );
            let long_query_time = flag(instance, "long_query_time")
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(10.0);
            sink.known(
                "cloudsql.mysql.long_query_time",
                flag_origin(instance, "long_query_time", "10"),
                long_query_time,
            );
            let upper = |name: &str, default: &str| {
                flag(instance, name)
                    .map(|v| v.trim().to_ascii_uppercase())
                    .unwrap_or_else(|| default.to_string())
            };
            sink.known(
                "cloudsql.mysql.log_output",
                flag_origin(instance, "log_output", "FILE"),
                upper("log_output", "FILE"),
            );
            sink.known(
                "cloudsql.mysql.binlog_format",
                flag_origin(instance, "binlog_format", "ROW"),
                upper("binlog_format", "ROW"),
            );
            sink.known(
                "cloudsql.mysql.binlog_row_image",
                flag_origin(instance, "binlog_row_image", "FULL"),
                upper("binlog_row_image", "FULL"),
            );
            sink.known(
                "cloudsql.mysql.audit_log",
                flag_origin(instance, "cloudsql_mysql_audit", "OFF"),
                // ON, FORCE and FORCE_PLUS_PERMANENT all load the plugin (FORCE: the server
                // refuses to start without it).
                flag(instance, "cloudsql_mysql_audit").is_some_and(|v| {
                    on(v)
                        || v.trim().eq_ignore_ascii_case("FORCE")
                        || v.trim().eq_ignore_ascii_case("FORCE_PLUS_PERMANENT")
                }),
            );
        }
        _ => {}
    }
}

/// Where the open-network facts come from and how they are judged.
const OPEN_ORIGIN: &str = "settings.ipConfiguration.authorizedNetworks[].value, judged by the public addresses they admit together (more than a /8 of IPv4 or a /12 of IPv6)";

fn network_facts(sink: &mut FactSink<'_>, instance: &DatabaseInstance) {
    let ip = instance
        .settings
        .as_ref()
        .and_then(|s| s.ip_configuration.as_ref());
    let has_public_address = instance
        .ip_addresses
        .iter()
        .any(|a| a.r#type == SqlIpAddressType::Primary);
    let (ipv4, origin) = match ip.and_then(|c| c.ipv4_enabled) {
        Some(enabled) => (enabled, "settings.ipConfiguration.ipv4Enabled"),
        None => (
            has_public_address,
            "ipAddresses (settings.ipConfiguration.ipv4Enabled absent: a PRIMARY address means public)",
        ),
    };
    sink.known("cloudsql.network.ipv4_enabled", origin, ipv4);
    sink.known("network.public_ip", origin, ipv4);
    sink.known(
        "cloudsql.network.private_network",
        "settings.ipConfiguration.privateNetwork",
        ip.map(|c| c.private_network.clone()).unwrap_or_default(),
    );
    let psc = ip
        .and_then(|c| c.psc_config.as_ref())
        .and_then(|p| p.psc_enabled)
        .unwrap_or(false);
    sink.known(
        "cloudsql.network.psc_enabled",
        "settings.ipConfiguration.pscConfig.pscEnabled",
        psc,
    );
    let networks: Vec<String> = ip
        .map(|c| {
            c.authorized_networks
                .iter()
                .map(|n| n.value.clone())
                .collect()
        })
        .unwrap_or_default();
    // Judged by the addresses they cover together (0.0.0.0/1 + 128.0.0.0/1 is the internet).
    let cidrs: Vec<&str> = networks.iter().map(String::as_str).collect();
    let exposure = crate::sources::netrange::exposure(&cidrs);
    sink.known(
        "cloudsql.network.world_open_networks",
        OPEN_ORIGIN,
        exposure
            .as_ref()
            .map(|e| e.entries.clone())
            .unwrap_or_default(),
    );
    sink.known(
        "cloudsql.network.open_coverage",
        OPEN_ORIGIN,
        exposure.map(|e| e.covers).unwrap_or_default(),
    );
    sink.known(
        "cloudsql.network.authorized_networks",
        "settings.ipConfiguration.authorizedNetworks[].value",
        networks,
    );
    // sslMode has priority over the legacy requireSsl (see IpConfiguration.sslMode).
    let ssl_mode = ip.map(|c| &c.ssl_mode);
    let require_ssl = ip.and_then(|c| c.require_ssl);
    let (mode, origin) = match ssl_mode {
        Some(mode) if *mode != SslMode::Unspecified => (
            enum_name(mode.name(), mode.value()),
            "settings.ipConfiguration.sslMode".to_string(),
        ),
        // requireSsl=true pairs with TRUSTED_CLIENT_CERTIFICATE_REQUIRED on PostgreSQL
        // and MySQL, with ENCRYPTED_ONLY on SQL Server (which has no client certificates).
        _ => match require_ssl {
            Some(true) if engine(instance) == "sqlserver" => (
                "ENCRYPTED_ONLY".to_string(),
                "settings.ipConfiguration.requireSsl = true (sslMode absent; SQL Server)".to_string(),
            ),
            Some(true) => (
                "TRUSTED_CLIENT_CERTIFICATE_REQUIRED".to_string(),
                "settings.ipConfiguration.requireSsl = true (sslMode absent)".to_string(),
            ),
            Some(false) => (
                "ALLOW_UNENCRYPTED_AND_ENCRYPTED".to_string(),
                "settings.ipConfiguration.requireSsl = false (sslMode absent)".to_string(),
            ),
            None => (
                "ALLOW_UNENCRYPTED_AND_ENCRYPTED".to_string(),
                "settings.ipConfiguration.sslMode and requireSsl absent: unencrypted connections allowed".to_string(),
            ),
        },
    };
    let required = matches!(
        mode.as_str(),
        "ENCRYPTED_ONLY" | "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    );
    sink.known("network.tls_required", origin.clone(), required);
    sink.known("cloudsql.network.ssl_mode", origin, mode);
    let enforcement = instance
        .settings
        .as_ref()
        .map(|s| {
            enum_name(
                s.connector_enforcement.name(),
                s.connector_enforcement.value(),
            )
        })
        .filter(|e| e != "CONNECTOR_ENFORCEMENT_UNSPECIFIED");
    let (enforcement, origin) = match enforcement {
        Some(e) => (e, "settings.connectorEnforcement"),
        None => (
            "NOT_REQUIRED".to_string(),
            "settings.connectorEnforcement (absent: default NOT_REQUIRED)",
        ),
    };
    sink.known(
        "cloudsql.network.connector_enforcement",
        origin,
        enforcement,
    );
}

fn storage_facts(sink: &mut FactSink<'_>, instance: &DatabaseInstance) {
    let settings = instance.settings.as_ref();
    let auto = settings.and_then(|s| s.storage_auto_resize);
    sink.known(
        "disk.autogrow",
        match auto {
            Some(_) => "settings.storageAutoResize",
            None => "settings.storageAutoResize (absent: default true)",
        },
        auto.unwrap_or(true),
    );
    let limit = settings.and_then(|s| s.storage_auto_resize_limit);
    sink.known(
        "cloudsql.storage.auto_resize_limit_gb",
        match limit {
            Some(_) => "settings.storageAutoResizeLimit (0 = no limit)",
            None => "settings.storageAutoResizeLimit (absent: default 0 = no limit)",
        },
        limit.unwrap_or(0),
    );
    let size = settings.and_then(|s| s.data_disk_size_gb);
    sink.maybe(
        "cloudsql.storage.disk_size_gb",
        "settings.dataDiskSizeGb",
        size,
        "the API returned no settings.dataDiskSizeGb",
        None,
    );
    // currentDiskSize is deprecated (bytes); Cloud Monitoring's disk/bytes_used replaces it,
    // but the API still returns it for many instances: use it while it is there.
    #[allow(deprecated)]
    let used = instance.current_disk_size;
    // Unknown, not null, when it cannot be computed: how full the disk is was not read.
    match (used, size) {
        (Some(used), Some(size)) if size > 0 => sink.known(
            "cloudsql.storage.used_ratio",
            "currentDiskSize / settings.dataDiskSizeGb",
            round3(used as f64 / (size as f64 * (1u64 << 30) as f64)),
        ),
        (None, _) => sink.unknown(
            "cloudsql.storage.used_ratio",
            "the API returned no currentDiskSize (a deprecated field): how full the disk is was not read",
            Some("see Cloud Monitoring cloudsql.googleapis.com/database/disk/bytes_used, or turn on automatic storage increase"),
        ),
        (Some(_), _) => sink.unknown(
            "cloudsql.storage.used_ratio",
            "the API returned no settings.dataDiskSizeGb to compare currentDiskSize with",
            None,
        ),
    }
    let state = instance
        .out_of_disk_report
        .as_ref()
        .and_then(|r| r.sql_out_of_disk_state.as_ref())
        .map(|s| enum_name(s.name(), s.value()))
        .filter(|s| s != "SQL_OUT_OF_DISK_STATE_UNSPECIFIED")
        .unwrap_or_default();
    sink.known(
        "cloudsql.storage.out_of_disk_state",
        "outOfDiskReport.sqlOutOfDiskState",
        state,
    );
}

fn protection_facts(sink: &mut FactSink<'_>, instance: &DatabaseInstance) {
    let protection = instance
        .settings
        .as_ref()
        .and_then(|s| s.deletion_protection_enabled);
    sink.known(
        "deletion_protection.enabled",
        match protection {
            Some(_) => "settings.deletionProtectionEnabled",
            None => "settings.deletionProtectionEnabled (absent: off)",
        },
        protection.unwrap_or(false),
    );
    let key = instance
        .disk_encryption_configuration
        .as_ref()
        .map(|c| c.kms_key_name.clone())
        .unwrap_or_default();
    sink.known(
        "encryption.at_rest",
        if key.is_empty() {
            "Cloud SQL encrypts all data at rest (Google-managed key: diskEncryptionConfiguration.kmsKeyName absent)"
        } else {
            "Cloud SQL encrypts all data at rest (customer-managed key: diskEncryptionConfiguration.kmsKeyName)"
        },
        true,
    );
    sink.known(
        "encryption.customer_managed_key",
        if key.is_empty() {
            "diskEncryptionConfiguration.kmsKeyName absent: a Google-managed key"
        } else {
            "diskEncryptionConfiguration.kmsKeyName: a customer-managed key (CMEK)"
        },
        !key.is_empty(),
    );
    sink.known(
        "cloudsql.cmek_key",
        "diskEncryptionConfiguration.kmsKeyName",
        key,
    );
}

fn timestamp(t: &google_cloud_wkt::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.seconds(), u32::try_from(t.nanos()).unwrap_or(0))
}

fn hours(duration: chrono::TimeDelta) -> f64 {
    round1(duration.num_seconds() as f64 / 3600.0)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The raw responses, as evidence, with anything secret removed.
pub fn evidence(readings: &Readings) -> Vec<RawEvidence> {
    let project = &readings.project;
    let name = &readings.instance.name;
    let mut instance = readings.instance.clone();
    // Input-only secrets; the API never returns them, but never echo them either.
    instance.root_password.clear();
    if let Some(config) = instance.replica_configuration.as_mut()
        && let Some(mysql) = config.mysql_replica_configuration.as_mut()
    {
        mysql.password.clear();
        mysql.client_key.clear();
    }
    let mut evidence = vec![RawEvidence {
        source: SOURCE.into(),
        name: "instances.get".into(),
        request: format!("GET /v1/projects/{project}/instances/{name}"),
        response: serde_json::to_value(&instance).unwrap_or(Json::Null),
    }];
    if let Extra::Read(runs) = &readings.backup_runs {
        evidence.push(RawEvidence {
            source: SOURCE.into(),
            name: "backupRuns.list".into(),
            request: format!("GET /v1/projects/{project}/instances/{name}/backupRuns"),
            response: serde_json::to_value(runs).unwrap_or(Json::Null),
        });
    }
    if let Extra::Read(recovery) = &readings.recovery {
        evidence.push(RawEvidence {
            source: SOURCE.into(),
            name: "getLatestRecoveryTime".into(),
            request: format!("GET /v1/projects/{project}/instances/{name}/getLatestRecoveryTime"),
            response: serde_json::to_value(recovery).unwrap_or(Json::Null),
        });
    }
    evidence
}

#[cfg(test)]
mod tests;
