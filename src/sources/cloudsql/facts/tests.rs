//! The pure conversion on typed fixtures: `DatabaseInstance` values built
//! with the client's own model, as the API would describe each instance.

use super::*;
use crate::facts::{Fact, FactState};
use chrono::TimeZone;
use google_cloud_sql_v1::model::{
    AclEntry, BackupConfiguration, BackupRetentionSettings, DatabaseFlags,
    DiskEncryptionConfiguration, InsightsConfig, IpConfiguration, IpMapping, MaintenanceWindow,
    Settings, SqlAvailabilityType, SqlDatabaseVersion, SqlUpdateTrack,
    database_instance::SqlInstanceState,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
}

fn ts(text: &str) -> google_cloud_wkt::Timestamp {
    let time = DateTime::parse_from_rfc3339(text).unwrap();
    google_cloud_wkt::Timestamp::clamp(time.timestamp(), time.timestamp_subsec_nanos() as i32)
}

fn flag(name: &str, value: &str) -> DatabaseFlags {
    DatabaseFlags::new().set_name(name).set_value(value)
}

/// A PostgreSQL primary configured the way Google recommends for production.
#[allow(deprecated)] // currentDiskSize
fn good_postgres() -> DatabaseInstance {
    DatabaseInstance::new()
        .set_name("orders")
        .set_project("acme-prod")
        .set_region("us-central1")
        .set_database_version(SqlDatabaseVersion::Postgres16)
        .set_database_installed_version("POSTGRES_16_4")
        .set_instance_type(SqlInstanceType::CloudSqlInstance)
        .set_replica_names(["orders-replica-1"])
        .set_current_disk_size(50i64 * (1 << 30))
        .set_settings(
            Settings::new()
                .set_availability_type(SqlAvailabilityType::Regional)
                .set_edition(Edition::EnterprisePlus)
                .set_backup_configuration(
                    BackupConfiguration::new()
                        .set_enabled(true)
                        .set_point_in_time_recovery_enabled(true)
                        .set_transaction_log_retention_days(7)
                        .set_backup_retention_settings(
                            BackupRetentionSettings::new().set_retained_backups(14),
                        ),
                )
                .set_database_flags([
                    flag("cloudsql.logical_decoding", "on"),
                    flag("log_min_duration_statement", "500"),
                    flag("cloudsql.enable_pgaudit", "on"),
                ])
                .set_ip_configuration(
                    IpConfiguration::new()
                        .set_ipv4_enabled(false)
                        .set_private_network("projects/acme-prod/global/networks/prod")
                        .set_ssl_mode(SslMode::EncryptedOnly)
                        .set_require_ssl(false),
                )
                .set_storage_auto_resize(true)
                .set_storage_auto_resize_limit(500)
                .set_data_disk_size_gb(100)
                .set_deletion_protection_enabled(true)
                .set_insights_config(InsightsConfig::new().set_query_insights_enabled(true))
                .set_maintenance_window(
                    MaintenanceWindow::new()
                        .set_day(7)
                        .set_hour(3)
                        .set_update_track(SqlUpdateTrack::Stable),
                ),
        )
        .set_disk_encryption_configuration(DiskEncryptionConfiguration::new().set_kms_key_name(
            "projects/acme-prod/locations/us-central1/keyRings/sql/cryptoKeys/orders",
        ))
}

/// A MySQL primary left at its most permissive: backups off, open to the world.
fn bad_mysql() -> DatabaseInstance {
    DatabaseInstance::new()
        .set_name("legacy")
        .set_project("acme-prod")
        .set_region("europe-west1")
        .set_database_version(SqlDatabaseVersion::Mysql57)
        .set_instance_type(SqlInstanceType::CloudSqlInstance)
        .set_ip_addresses([IpMapping::new()
            .set_type(SqlIpAddressType::Primary)
            .set_ip_address("203.0.113.7")])
        .set_settings(
            Settings::new()
                .set_availability_type(SqlAvailabilityType::Zonal)
                .set_backup_configuration(
                    BackupConfiguration::new()
                        .set_enabled(false)
                        .set_binary_log_enabled(false),
                )
                .set_ip_configuration(IpConfiguration::new().set_authorized_networks([
                    AclEntry::new().set_value("0.0.0.0/0").set_name("anywhere"),
                ]))
                .set_storage_auto_resize(false)
                .set_data_disk_size_gb(10),
        )
}

fn replica_of(primary: &str) -> DatabaseInstance {
    DatabaseInstance::new()
        .set_name(format!("{primary}-replica-1"))
        .set_project("acme-prod")
        .set_region("us-central1")
        .set_database_version(SqlDatabaseVersion::Postgres16)
        .set_instance_type(SqlInstanceType::ReadReplicaInstance)
        .set_master_instance_name(format!("acme-prod:{primary}"))
        .set_settings(Settings::new().set_availability_type(SqlAvailabilityType::Zonal))
}

fn readings(instance: DatabaseInstance) -> Readings {
    Readings {
        project: "acme-prod".into(),
        instance,
        backup_runs: Extra::Skipped("not read in this test".into()),
        backup_runs_truncated: false,
        recovery: Extra::Skipped("not read in this test".into()),
        replicas: Vec::new(),
    }
}

fn value<'a>(facts: &'a Facts, path: &str) -> &'a Json {
    match facts.get(path) {
        Some(Fact {
            state: FactState::Known { value },
            ..
        }) => value,
        other => panic!("{path} is not known: {other:?}"),
    }
}

fn origin<'a>(facts: &'a Facts, path: &str) -> &'a str {
    &facts
        .get(path)
        .unwrap_or_else(|| panic!("no fact {path}"))
        .origin
}

#[test]
fn good_postgres_primary() {
    let mut r = readings(good_postgres());
    let mut replica = replica_of("orders").set_state(SqlInstanceState::Runnable);
    replica.name = "orders-replica-1".into();
    r.replicas = vec![("orders-replica-1".into(), Ok(replica))];
    let target = target_facts(&r, now());
    assert_eq!(target.id, "cloudsql://acme-prod/orders");
    assert_eq!(
        target.resource.as_deref(),
        Some("//sqladmin.googleapis.com/projects/acme-prod/instances/orders")
    );
    assert_eq!((target.kind, target.role), (Kind::Cloudsql, Role::Primary));
    assert_eq!(
        (target.engine.as_str(), target.version.as_str()),
        ("postgres", "16.4")
    );
    let f = &target.facts;
    assert_eq!(value(f, "ha.enabled"), &json!(true));
    assert_eq!(value(f, "replicas.count"), &json!(1));
    assert_eq!(value(f, "backups.enabled"), &json!(true));
    assert_eq!(value(f, "backups.retention_days"), &json!(14));
    assert_eq!(value(f, "pitr.enabled"), &json!(true));
    assert_eq!(value(f, "cloudsql.pitr.log_retention_days"), &json!(7));
    assert_eq!(value(f, "cloudsql.backups.off_site"), &json!(true));
    assert_eq!(value(f, "cloudsql.postgres.logical_decoding"), &json!(true));
    assert_eq!(
        value(f, "cloudsql.postgres.log_min_duration_statement"),
        &json!(500)
    );
    assert_eq!(value(f, "cloudsql.postgres.pgaudit"), &json!(true));
    assert_eq!(value(f, "cloudsql.insights.enabled"), &json!(true));
    assert_eq!(value(f, "network.public_ip"), &json!(false));
    assert_eq!(value(f, "network.tls_required"), &json!(true));
    assert_eq!(
        value(f, "cloudsql.network.ssl_mode"),
        &json!("ENCRYPTED_ONLY")
    );
    assert_eq!(value(f, "cloudsql.network.world_open_networks"), &json!([]));
    assert_eq!(value(f, "disk.autogrow"), &json!(true));
    assert_eq!(
        value(f, "cloudsql.storage.auto_resize_limit_gb"),
        &json!(500)
    );
    assert_eq!(value(f, "cloudsql.storage.used_ratio"), &json!(0.5));
    assert_eq!(value(f, "deletion_protection.enabled"), &json!(true));
    assert_eq!(value(f, "encryption.at_rest"), &json!(true));
    assert!(
        value(f, "cloudsql.cmek_key")
            .as_str()
            .unwrap()
            .contains("cryptoKeys/orders")
    );
    assert_eq!(value(f, "cloudsql.maintenance.day"), &json!(7));
    assert_eq!(
        value(f, "cloudsql.maintenance.update_track"),
        &json!("stable")
    );
    assert_eq!(value(f, "cloudsql.edition"), &json!("ENTERPRISE_PLUS"));
    assert_eq!(value(f, "version.major"), &json!("16"));
    // In regular support: no extended support is paid, and the end of fixes is Cloud SQL's.
    assert_eq!(value(f, "version.paid_extended_support"), &json!(false));
    assert_eq!(value(f, "version.eol_date"), &json!("2032-02-01"));
    assert_eq!(
        value(f, "cloudsql.version.regular_support_end"),
        &json!("2029-02-01")
    );
    assert_eq!(
        value(f, "cloudsql.version.days_until_regular_support_end"),
        &json!(798)
    );
    // MySQL-only facts are not invented for PostgreSQL.
    assert!(!f.contains_key("binlog.enabled"));
    assert!(!f.contains_key("cloudsql.mysql.slow_query_log"));
    // Every fact a Cloud SQL source reports is in the schema, with its type.
    for (path, fact) in f {
        let spec = crate::facts::schema::spec(path)
            .unwrap_or_else(|| panic!("{path} is not in the facts schema"));
        if let Some(value) = fact.value() {
            assert!(
                spec.ty.admits(value),
                "{path} = {value} is not a {}",
                spec.ty.name()
            );
        }
    }
}

#[test]
fn bad_mysql_primary_and_engine_defaults() {
    let f = facts(&readings(bad_mysql()), now());
    assert_eq!(value(&f, "ha.enabled"), &json!(false));
    assert_eq!(value(&f, "replicas.count"), &json!(0));
    assert_eq!(value(&f, "backups.enabled"), &json!(false));
    // retainedBackups absent: the documented default of 7.
    assert_eq!(value(&f, "backups.retention_days"), &json!(7));
    assert!(origin(&f, "backups.retention_days").contains("default 7"));
    assert_eq!(value(&f, "pitr.enabled"), &json!(false));
    assert_eq!(value(&f, "binlog.enabled"), &json!(false));
    // ipv4Enabled absent: the PRIMARY address decides.
    assert_eq!(value(&f, "network.public_ip"), &json!(true));
    assert_eq!(
        value(&f, "cloudsql.network.world_open_networks"),
        &json!(["0.0.0.0/0"])
    );
    // Neither sslMode nor requireSsl: unencrypted connections are allowed.
    assert_eq!(value(&f, "network.tls_required"), &json!(false));
    assert_eq!(
        value(&f, "cloudsql.network.connector_enforcement"),
        &json!("NOT_REQUIRED")
    );
    assert_eq!(value(&f, "disk.autogrow"), &json!(false));
    // currentDiskSize not returned: how full the disk is was not read.
    assert!(matches!(
        f["cloudsql.storage.used_ratio"].state,
        FactState::Unknown { .. }
    ));
    assert_eq!(value(&f, "deletion_protection.enabled"), &json!(false));
    assert_eq!(value(&f, "cloudsql.cmek_key"), &json!(""));
    assert_eq!(value(&f, "encryption.at_rest"), &json!(true));
    assert_eq!(value(&f, "cloudsql.maintenance.day"), &json!(0));
    // Flags absent: the engine defaults, named in the origin.
    assert_eq!(value(&f, "cloudsql.mysql.slow_query_log"), &json!(false));
    assert_eq!(value(&f, "cloudsql.mysql.long_query_time"), &json!(10.0));
    assert_eq!(value(&f, "cloudsql.mysql.log_output"), &json!("FILE"));
    assert_eq!(value(&f, "cloudsql.mysql.binlog_format"), &json!("ROW"));
    assert!(origin(&f, "cloudsql.mysql.binlog_format").contains("absent: default ROW"));
    assert_eq!(value(&f, "cloudsql.mysql.binlog_row_image"), &json!("FULL"));
    assert_eq!(value(&f, "version.major"), &json!("5.7"));
    assert_eq!(
        value(&f, "cloudsql.version.deprecation_date"),
        &json!("2028-02-01")
    );
    assert!(
        value(&f, "cloudsql.version.days_until_regular_support_end")
            .as_i64()
            .unwrap()
            < 0
    );
    // MySQL 5.7 ended upstream in 2023, but Cloud SQL keeps patching it in paid extended
    // support until its deprecation: that is the end of security fixes here.
    assert_eq!(value(&f, "version.eol_date"), &json!("2028-02-01"));
    assert_eq!(value(&f, "version.paid_extended_support"), &json!(true));
    assert!(origin(&f, "version.eol_date").contains("paid extended support"));
    assert_eq!(value(&f, "cloudsql.edition"), &json!("ENTERPRISE"));
}

#[test]
fn read_replica_is_a_replica() {
    let replica = replica_of("orders");
    assert_eq!(role(&replica), Role::Replica);
    let f = facts(&readings(replica), now());
    assert_eq!(
        value(&f, "cloudsql.master_instance"),
        &json!("acme-prod:orders")
    );
    assert_eq!(value(&f, "cloudsql.replication_enabled"), &json!(true));
    assert_eq!(
        value(&f, "cloudsql.instance_type"),
        &json!("READ_REPLICA_INSTANCE")
    );
    // masterInstanceName alone makes a replica too.
    let by_master = DatabaseInstance::new().set_master_instance_name("acme-prod:orders");
    assert_eq!(role(&by_master), Role::Replica);
    assert_eq!(role(&DatabaseInstance::new()), Role::Primary);
}

#[test]
fn ssl_mode_takes_precedence_over_require_ssl() {
    let with = |ip: IpConfiguration| {
        let instance = DatabaseInstance::new()
            .set_database_version(SqlDatabaseVersion::Postgres15)
            .set_settings(Settings::new().set_ip_configuration(ip));
        let f = facts(&readings(instance), now());
        (
            value(&f, "network.tls_required").clone(),
            value(&f, "cloudsql.network.ssl_mode").clone(),
        )
    };
    // ENCRYPTED_ONLY with the legacy requireSsl=false: only TLS is accepted.
    assert_eq!(
        with(
            IpConfiguration::new()
                .set_ssl_mode(SslMode::EncryptedOnly)
                .set_require_ssl(false)
        ),
        (json!(true), json!("ENCRYPTED_ONLY"))
    );
    assert_eq!(
        with(
            IpConfiguration::new()
                .set_ssl_mode(SslMode::AllowUnencryptedAndEncrypted)
                .set_require_ssl(true)
        ),
        (json!(false), json!("ALLOW_UNENCRYPTED_AND_ENCRYPTED"))
    );
    // sslMode absent: the legacy flag decides.
    assert_eq!(
        with(IpConfiguration::new().set_require_ssl(true)),
        (json!(true), json!("TRUSTED_CLIENT_CERTIFICATE_REQUIRED"))
    );
}

#[test]
fn pitr_without_backups_cannot_work() {
    let instance = DatabaseInstance::new()
        .set_database_version(SqlDatabaseVersion::Postgres15)
        .set_settings(
            Settings::new().set_backup_configuration(
                BackupConfiguration::new()
                    .set_enabled(false)
                    .set_point_in_time_recovery_enabled(true),
            ),
        );
    let f = facts(&readings(instance), now());
    assert_eq!(value(&f, "cloudsql.pitr.configured"), &json!(true));
    assert_eq!(value(&f, "pitr.enabled"), &json!(false));
    assert!(
        origin(&f, "pitr.enabled").contains("no backup to replay"),
        "{}",
        origin(&f, "pitr.enabled")
    );
    // MySQL's switch is the binary log, not pointInTimeRecoveryEnabled.
    let mysql = DatabaseInstance::new()
        .set_database_version(SqlDatabaseVersion::Mysql80)
        .set_settings(
            Settings::new().set_backup_configuration(
                BackupConfiguration::new()
                    .set_enabled(true)
                    .set_point_in_time_recovery_enabled(true),
            ),
        );
    let f = facts(&readings(mysql), now());
    assert_eq!(value(&f, "pitr.enabled"), &json!(false));
    assert!(origin(&f, "cloudsql.pitr.configured").contains("binaryLogEnabled"));
}

#[test]
fn storage_defaults_when_absent() {
    let instance = DatabaseInstance::new()
        .set_database_version(SqlDatabaseVersion::Postgres15)
        .set_settings(Settings::new());
    let f = facts(&readings(instance), now());
    assert_eq!(value(&f, "disk.autogrow"), &json!(true));
    assert!(origin(&f, "disk.autogrow").contains("default true"));
    assert_eq!(
        value(&f, "cloudsql.storage.auto_resize_limit_gb"),
        &json!(0)
    );
    assert!(matches!(
        f["cloudsql.storage.disk_size_gb"].state,
        FactState::Unknown { .. }
    ));
    assert_eq!(value(&f, "ha.enabled"), &json!(false));
    assert!(origin(&f, "ha.enabled").contains("default ZONAL"));
}

#[test]
fn backup_runs_give_the_last_success_age() {
    use google_cloud_sql_v1::model::BackupRun;
    let run = |status: SqlBackupRunStatus, kind: SqlBackupRunType, enqueued: &str, end: &str| {
        BackupRun::new()
            .set_status(status)
            .set_type(kind)
            .set_enqueued_time(ts(enqueued))
            .set_end_time(ts(end))
    };
    let runs = vec![
        run(
            SqlBackupRunStatus::Failed,
            SqlBackupRunType::Automated,
            "2026-11-26T02:00:00Z",
            "2026-11-26T02:10:00Z",
        ),
        run(
            SqlBackupRunStatus::Successful,
            SqlBackupRunType::OnDemand,
            "2026-11-25T20:00:00Z",
            "2026-11-25T20:05:00Z",
        ),
        run(
            SqlBackupRunStatus::Successful,
            SqlBackupRunType::Automated,
            "2026-11-25T02:00:00Z",
            "2026-11-25T04:00:00Z",
        ),
    ];
    let mut r = readings(good_postgres());
    r.backup_runs = Extra::Read(runs);
    let f = facts(&r, now());
    // The on-demand backup does not count: the automated one ended 30 hours ago.
    assert_eq!(
        value(&f, "cloudsql.backups.last_success_age_hours"),
        &json!(30.0)
    );
    assert_eq!(
        value(&f, "cloudsql.backups.last_automated_status"),
        &json!("FAILED")
    );
    assert_eq!(value(&f, "cloudsql.backups.runs_read"), &json!(3));
    assert_eq!(value(&f, "cloudsql.backups.successful_runs"), &json!(1));
    r.backup_runs = Extra::Read(Vec::new());
    let f = facts(&r, now());
    assert_eq!(
        value(&f, "cloudsql.backups.last_success_age_hours"),
        &Json::Null
    );
    r.backup_runs = Extra::Failed {
        reason: "HTTP 403".into(),
        resolve: None,
    };
    let f = facts(&r, now());
    match &f["cloudsql.backups.last_success_age_hours"].state {
        FactState::Unknown { unknown, resolve } => {
            assert!(unknown.contains("403"));
            assert!(
                resolve
                    .as_deref()
                    .unwrap()
                    .contains("roles/cloudsql.viewer")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn recovery_time_gives_the_real_window() {
    let mut r = readings(good_postgres());
    r.recovery = Extra::Read(
        SqlInstancesGetLatestRecoveryTimeResponse::new()
            .set_latest_recovery_time(ts("2026-11-26T09:55:00Z"))
            .set_earliest_recovery_time(ts("2026-11-19T09:55:00Z")),
    );
    let f = facts(&r, now());
    assert_eq!(
        value(&f, "cloudsql.pitr.latest_recovery_age_minutes"),
        &json!(5.0)
    );
    assert_eq!(value(&f, "cloudsql.pitr.window_hours"), &json!(168.0));
}

#[test]
fn unknown_enum_values_are_tolerated() {
    // A newer API may send enum values this client does not know.
    let instance: DatabaseInstance = serde_json::from_value(json!({
        "name": "future",
        "databaseVersion": "POSTGRES_42",
        "state": "HIBERNATING",
        "settings": {"availabilityType": "MULTI_REGIONAL", "edition": 7, "someNewSetting": {"x": 1}}
    }))
    .unwrap();
    let f = facts(&readings(instance), now());
    assert_eq!(value(&f, "cloudsql.state"), &json!("HIBERNATING"));
    assert_eq!(value(&f, "ha.enabled"), &json!(false));
    assert_eq!(
        value(&f, "cloudsql.availability_type"),
        &json!("MULTI_REGIONAL")
    );
    assert_eq!(value(&f, "cloudsql.edition"), &json!("UNKNOWN(7)"));
    assert_eq!(value(&f, "version.major"), &json!("42"));
    assert!(matches!(
        f["version.eol_date"].state,
        FactState::Unknown { .. }
    ));
}

#[test]
fn int64_fields_arrive_as_strings() {
    let instance: DatabaseInstance = serde_json::from_value(json!({
        "name": "strings",
        "databaseVersion": "MYSQL_8_0_31",
        "currentDiskSize": "5368709120",
        "settings": {"dataDiskSizeGb": "10", "storageAutoResizeLimit": "0", "settingsVersion": "42"}
    }))
    .unwrap();
    let f = facts(&readings(instance), now());
    assert_eq!(value(&f, "cloudsql.storage.disk_size_gb"), &json!(10));
    assert_eq!(value(&f, "cloudsql.storage.used_ratio"), &json!(0.5));
}

#[test]
fn evidence_never_carries_input_only_secrets() {
    use google_cloud_sql_v1::model::{MySqlReplicaConfiguration, ReplicaConfiguration};
    let instance = bad_mysql()
        .set_root_password("hunter2")
        .set_replica_configuration(
            ReplicaConfiguration::new().set_mysql_replica_configuration(
                MySqlReplicaConfiguration::new()
                    .set_password("s3cret")
                    .set_client_key("PRIVATE KEY"),
            ),
        );
    let text = serde_json::to_string(&evidence(&readings(instance))).unwrap();
    for secret in ["hunter2", "s3cret", "PRIVATE KEY"] {
        assert!(!text.contains(secret), "{secret} leaked into evidence");
    }
}

#[test]
fn pgaudit_needs_pgaudit_log_to_log_anything() {
    // cloudsql.enable_pgaudit alone loads pgAudit; pgaudit.log (default none) says what it logs.
    let f = facts(&readings(good_postgres()), now());
    assert_eq!(value(&f, "cloudsql.postgres.pgaudit"), &json!(true));
    match &f["cloudsql.postgres.pgaudit_log"].state {
        FactState::Unknown { unknown, resolve } => {
            assert!(unknown.contains("default none"), "{unknown}");
            assert!(resolve.as_deref().unwrap().contains("postgres://"));
        }
        other => panic!("{other:?}"),
    }
    let mut instance = good_postgres();
    instance
        .settings
        .as_mut()
        .unwrap()
        .database_flags
        .push(flag("pgaudit.log", "DDL,Role"));
    let f = facts(&readings(instance), now());
    assert_eq!(
        value(&f, "cloudsql.postgres.pgaudit_log"),
        &json!("ddl,role")
    );
}

#[test]
fn mysql_audit_plugin_force_values_load_it() {
    let with = |value: &str| {
        let instance = DatabaseInstance::new()
            .set_database_version(SqlDatabaseVersion::Mysql80)
            .set_settings(
                Settings::new().set_database_flags([flag("cloudsql_mysql_audit", value)]),
            );
        value_of(
            &facts(&readings(instance), now()),
            "cloudsql.mysql.audit_log",
        )
    };
    assert_eq!(with("ON"), json!(true));
    assert_eq!(with("FORCE"), json!(true));
    assert_eq!(with("force_plus_permanent"), json!(true));
    assert_eq!(with("OFF"), json!(false));
}

fn value_of(facts: &Facts, path: &str) -> Json {
    value(facts, path).clone()
}

#[test]
fn sql_server_require_ssl_means_encrypted_only() {
    let instance = DatabaseInstance::new()
        .set_database_version(SqlDatabaseVersion::Sqlserver2019Standard)
        .set_settings(
            Settings::new().set_ip_configuration(IpConfiguration::new().set_require_ssl(true)),
        );
    let f = facts(&readings(instance), now());
    assert_eq!(value(&f, "network.tls_required"), &json!(true));
    assert_eq!(
        value(&f, "cloudsql.network.ssl_mode"),
        &json!("ENCRYPTED_ONLY")
    );
}

#[test]
fn backup_runs_crowded_out_by_on_demand_ones_are_unknown() {
    use google_cloud_sql_v1::model::BackupRun;
    // Hourly on-demand backups fill every page read; the daily automated one is older.
    let runs: Vec<BackupRun> = (0..20)
        .map(|hour| {
            BackupRun::new()
                .set_status(SqlBackupRunStatus::Successful)
                .set_type(SqlBackupRunType::OnDemand)
                .set_enqueued_time(ts(&format!("2026-11-26T{:02}:00:00Z", 9 - hour.min(9))))
                .set_end_time(ts("2026-11-26T09:30:00Z"))
        })
        .collect();
    let mut r = readings(good_postgres());
    r.backup_runs = Extra::Read(runs.clone());
    r.backup_runs_truncated = true;
    let f = facts(&r, now());
    for path in [
        "cloudsql.backups.successful_runs",
        "cloudsql.backups.last_success_age_hours",
    ] {
        match &f[path].state {
            FactState::Unknown { unknown, .. } => {
                assert!(unknown.contains("older runs were not read"), "{unknown}")
            }
            other => panic!("{path}: {other:?}"),
        }
    }
    assert_eq!(value(&f, "cloudsql.backups.runs_read"), &json!(20));
    // The whole history read, and none automated: that is a finding, not a gap.
    r.backup_runs_truncated = false;
    let f = facts(&r, now());
    assert_eq!(value(&f, "cloudsql.backups.successful_runs"), &json!(0));
}

#[test]
fn source_representations_are_not_audited_as_cloud_sql() {
    let external = DatabaseInstance::new()
        .set_name("onprem-source")
        .set_database_version(SqlDatabaseVersion::Mysql80)
        .set_instance_type(SqlInstanceType::OnPremisesInstance);
    let why = not_audited(&external).expect("not audited");
    assert!(why.contains("ON_PREMISES_INSTANCE"), "{why}");
    assert_eq!(not_audited(&good_postgres()), None);
    assert_eq!(not_audited(&replica_of("orders")), None);
}

#[test]
fn authorized_networks_are_judged_by_what_they_cover_together() {
    let with = |cidrs: &[&str]| {
        let ip = IpConfiguration::new()
            .set_ipv4_enabled(true)
            .set_authorized_networks(cidrs.iter().map(|c| AclEntry::new().set_value(*c)));
        let instance = DatabaseInstance::new()
            .set_database_version(SqlDatabaseVersion::Postgres15)
            .set_settings(Settings::new().set_ip_configuration(ip));
        let f = facts(&readings(instance), now());
        (
            value(&f, "cloudsql.network.world_open_networks").clone(),
            value(&f, "cloudsql.network.open_coverage").clone(),
        )
    };
    // Two halves: no /0 anywhere, yet every address. The office /24 is public and named
    // last (widest first).
    assert_eq!(
        with(&["81.2.69.0/24", "0.0.0.0/1", "128.0.0.0/1"]),
        (
            json!(["0.0.0.0/1", "128.0.0.0/1", "81.2.69.0/24"]),
            json!("every public IPv4 address")
        )
    );
    assert_eq!(
        with(&["::/1", "8000::/1"]).1,
        json!("every public IPv6 address")
    );
    // Private ranges and one office: not open.
    assert_eq!(
        with(&["10.0.0.0/8", "192.168.0.0/16", "198.51.100.0/24"]),
        (json!([]), json!(""))
    );
}

#[test]
fn listed_replicas_count_only_when_they_work() {
    use google_cloud_sql_v1::model::settings::SqlActivationPolicy;
    let running = || replica_of("orders").set_state(SqlInstanceState::Runnable);
    let judge = |replicas: Vec<(String, Result<DatabaseInstance, String>)>| {
        let mut r = readings(good_postgres().set_replica_names(["a", "b"]));
        r.replicas = replicas;
        facts(&r, now())
    };
    // Replication stopped on one, the other suspended: none counts, both are named.
    let stopped = running().set_settings(Settings::new().set_database_replication_enabled(false));
    let suspended = replica_of("orders").set_state(SqlInstanceState::Suspended);
    let f = judge(vec![("a".into(), Ok(stopped)), ("b".into(), Ok(suspended))]);
    assert_eq!(value(&f, "replicas.count"), &json!(0));
    assert_eq!(
        value(&f, "replicas.unhealthy"),
        &json!([
            "a: replication is stopped (databaseReplicationEnabled: false)",
            "b: state is SUSPENDED"
        ])
    );
    // Stopped by its owner: RUNNABLE with activationPolicy NEVER.
    let off =
        running().set_settings(Settings::new().set_activation_policy(SqlActivationPolicy::Never));
    let f = judge(vec![("a".into(), Ok(off)), ("b".into(), Ok(running()))]);
    assert_eq!(value(&f, "replicas.count"), &json!(1));
    assert_eq!(
        value(&f, "replicas.unhealthy"),
        &json!(["a: stopped (activationPolicy NEVER)"])
    );
    // Not readable and none seen working: unknown, never a pass.
    let f = judge(vec![("a".into(), Err("PERMISSION_DENIED".into()))]);
    assert!(matches!(
        f.get("replicas.count").map(|x| &x.state),
        Some(FactState::Unknown { .. })
    ));
}

/// Every fact a primary, a MySQL instance and a replica report is in the
/// source's list (crate::sources::reads), so an unknown can say whether Cloud
/// SQL reads a fact.
#[test]
fn every_fact_reported_is_listed_as_read_by_cloudsql() {
    for instance in [good_postgres(), bad_mysql(), replica_of("orders")] {
        let target = target_facts(&readings(instance), now());
        for path in target.facts.keys() {
            assert!(
                crate::sources::reads::reads("cloudsql", path),
                "{path} is reported by the cloudsql source but not listed in src/sources/reads.rs"
            );
        }
    }
}
