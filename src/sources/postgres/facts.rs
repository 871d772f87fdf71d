//! Turning what PostgreSQL answered into facts: pure functions, unit-tested
//! on recorded documents.

use super::effective::LibraryState;
use crate::eol;
use crate::facts::{FactSink, Facts};
use crate::sources::migrations;
use crate::target::Role;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::net::IpAddr;

pub const SOURCE: &str = "postgres";

/// The main document (queries::MAIN).
#[derive(Debug, Clone, Deserialize)]
pub struct MainDoc {
    pub version: String,
    pub version_num: i64,
    pub in_recovery: bool,
    /// Aurora PostgreSQL (it has `aurora_version()`): the cluster volume keeps
    /// the log, so WAL archiving is not how it recovers to a point in time.
    #[serde(default)]
    pub aurora: bool,
    pub user: String,
    pub database: String,
    pub superuser: bool,
    pub read_all_settings: bool,
    pub read_all_stats: bool,
    pub monitor: bool,
    pub hba_readable: bool,
    pub settings: Vec<SettingRow>,
    pub replication: Vec<ReplicationRow>,
    /// A WAL receiver process runs (its row, with the pid, is visible to every role).
    #[serde(default)]
    pub receiver_running: bool,
    /// Its status: NULL without pg_read_all_stats even when it runs.
    pub receiver_status: Option<String>,
    /// `HOST:PORT` the WAL receiver streams from (sender_host/sender_port):
    /// NULL without pg_read_all_stats, or when none runs.
    #[serde(default)]
    pub receiver_sender: Option<String>,
    pub replay_delay_seconds: Option<f64>,
    pub slots: Vec<SlotRow>,
    pub archiver: ArchiverRow,
    pub clients: ClientsRow,
    pub extensions: Vec<String>,
    pub wraparound: WraparoundRow,
    pub databases: Vec<DatabaseRow>,
    pub migrations: Vec<MigrationRow>,
    /// Who may log in and create (absent from documents recorded before it existed).
    #[serde(default)]
    pub access: Option<AccessRow>,
}

/// Roles and PUBLIC grants, all from catalogs every role can read.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessRow {
    /// The bootstrap superuser (oid 10), which owns the cluster and cannot be dropped.
    pub bootstrap: Option<String>,
    /// Other login roles with SUPERUSER (neither the bootstrap one nor the session's).
    pub superusers: Vec<String>,
    /// Schemas of the audited database where PUBLIC has CREATE.
    pub public_create_schemas: Vec<String>,
    /// Databases where PUBLIC has CREATE (create schemas in them).
    pub public_create_databases: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SettingRow {
    pub name: String,
    pub setting: Option<String>,
    pub vartype: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub pending_restart: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReplicationRow {
    pub name: Option<String>,
    pub client_addr: Option<String>,
    pub state: Option<String>,
    pub sync_state: Option<String>,
    pub logical: bool,
    pub replay_lag_bytes: Option<f64>,
    pub replay_lag_seconds: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SlotRow {
    pub name: String,
    #[serde(rename = "type")]
    pub slot_type: String,
    pub active: bool,
    pub wal_status: Option<String>,
    pub safe_wal_size: Option<i64>,
    pub retained_bytes: Option<f64>,
    pub xmin_age: Option<i64>,
    pub catalog_xmin_age: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ArchiverRow {
    pub archived_count: i64,
    pub failed_count: i64,
    pub last_archived_age_seconds: Option<f64>,
    pub failing: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClientsRow {
    /// Every client backend, the audit's own included.
    pub total: i64,
    /// Other sessions over TCP (Unix-socket sessions never leave the host).
    #[serde(default)]
    pub tcp: i64,
    pub tls: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WraparoundRow {
    pub max_xid_age: Option<i64>,
    pub max_mxid_age: Option<i64>,
    pub oldest_database: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseRow {
    pub name: String,
    pub connect: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MigrationRow {
    pub schema: String,
    pub table: String,
}

/// What another database of the cluster holds (queries::MIGRATIONS).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OtherDatabase {
    #[serde(default)]
    pub tables: Vec<MigrationRow>,
    /// pg_extension of that database.
    #[serde(default)]
    pub extensions: Vec<String>,
}

/// The privileged document (queries::privileged).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PrivilegedDoc {
    pub hba: Option<Vec<HbaRow>>,
    pub ready_count: Option<i64>,
    /// Login roles without a password (pg_authid; read only as superuser).
    #[serde(default)]
    pub passwordless: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HbaRow {
    pub line: i64,
    #[serde(rename = "type")]
    pub conn_type: String,
    pub database: Option<Vec<String>>,
    pub user_name: Option<Vec<String>>,
    pub address: Option<String>,
    /// The mask of an IP address rule (`/8` reads `255.0.0.0`); absent for
    /// `all`, host names and `samehost`/`samenet`.
    #[serde(default)]
    pub netmask: Option<String>,
    pub auth_method: Option<String>,
    pub error: Option<String>,
    /// The rule's place in matching order (PostgreSQL 16+, NULL for invalid lines).
    #[serde(default)]
    pub rule_number: Option<i64>,
    /// The file the rule is in (PostgreSQL 16+, where pg_hba.conf may `include` others).
    #[serde(default)]
    pub file_name: Option<String>,
}

/// Everything read from one server.
#[derive(Debug, Clone)]
pub struct Readings {
    pub main: MainDoc,
    pub privileged: PrivilegedDoc,
    /// Role/database overrides and nullifying settings (None: unreadable).
    pub effective: Option<super::effective::EffectiveDoc>,
    /// Migration tables found in other databases, or why a database could not be read.
    pub other_databases: Vec<(String, Result<OtherDatabase, String>)>,
    /// Custom check queries: rows, or the error.
    pub custom: Vec<(String, Result<Json, String>)>,
}

/// The role a server plays.
pub fn role(main: &MainDoc) -> Role {
    if main.in_recovery {
        Role::Replica
    } else {
        Role::Primary
    }
}

/// The grants that would let `user` read what it cannot.
fn grant(user: &str, role: &str) -> String {
    format!("GRANT {role} TO {user};  (or GRANT pg_monitor, which includes it)")
}

/// All facts from the readings. `today` dates the end-of-life comparison.
pub fn facts(readings: &Readings, today: NaiveDate) -> Facts {
    let main = &readings.main;
    let mut sink = FactSink::new(SOURCE);
    version_facts(&mut sink, main, today);
    let settings = typed_settings(main);
    settings_facts(&mut sink, main, &settings);
    replica_facts(&mut sink, main);
    archive_facts(&mut sink, readings, &settings);
    slot_facts(&mut sink, main);
    network_facts(&mut sink, main, &settings, &readings.privileged);
    super::listening::listening_facts(&mut sink, &settings);
    connection_facts(&mut sink, main, &settings);
    wraparound_facts(&mut sink, main);
    migration_facts(&mut sink, main, &readings.other_databases);
    extension_databases(&mut sink, main, &readings.other_databases);
    access_facts(&mut sink, main, &readings.privileged);
    super::effective::facts(
        &mut sink,
        readings.effective.as_ref(),
        &readings.privileged,
        &main.user,
    );
    for (check_id, outcome) in &readings.custom {
        let path = format!("query.{check_id}.rows");
        match outcome {
            Ok(rows) => sink.known(&path, "custom check query", rows.clone()),
            Err(reason) => sink.unknown(&path, format!("the check's query failed: {reason}"), None),
        }
    }
    sink.finish()
}

fn version_facts(sink: &mut FactSink<'_>, main: &MainDoc, today: NaiveDate) {
    let origin = "server_version";
    let Some(major) = eol::major_of("postgres", &main.version) else {
        sink.unknown(
            "version.major",
            format!("cannot read a version number from '{}'", main.version),
            None,
        );
        return;
    };
    eol::record_support(sink, "postgres", "PostgreSQL", &major, origin, today);
    // Aurora PostgreSQL releases follow Aurora's own lineage, not the community's.
    let version = if main.aurora {
        format!("{} (Aurora PostgreSQL)", main.version)
    } else {
        main.version.clone()
    };
    eol::record_minor(sink, "postgres", &version, today);
}

/// Setting name → typed value, for the settings the role can see.
fn typed_settings(main: &MainDoc) -> BTreeMap<String, Json> {
    main.settings
        .iter()
        .filter_map(|row| Some((row.name.clone(), setting_value(row)?)))
        .collect()
}

/// A pg_settings value in its type: bools from on/off, integers in the
/// setting's own unit, lists for comma-separated library lists.
pub fn setting_value(row: &SettingRow) -> Option<Json> {
    let raw = row.setting.as_deref()?;
    Some(match row.vartype.as_str() {
        "bool" => Json::Bool(matches!(raw, "on" | "true" | "yes" | "1")),
        _ if row.name == "log_connections" => Json::Bool(logs_authorized_connections(raw)),
        _ if row.name == "pgaudit.log" => Json::from(pgaudit_classes(raw)),
        "integer" => Json::from(raw.parse::<i64>().ok()?),
        "real" => Json::from(raw.parse::<f64>().ok()?),
        _ if row.name == "shared_preload_libraries" => Json::from(
            raw.split(',')
                .map(|lib| lib.trim().trim_matches('"').to_string())
                .filter(|lib| !lib.is_empty())
                .collect::<Vec<_>>(),
        ),
        _ => Json::from(raw),
    })
}

/// PostgreSQL 18 made log_connections a list of aspects (`receipt`,
/// `authentication`, `authorization`, `setup_durations`, `all`; `''` is off)
/// and kept the boolean spellings. A successful login is logged with its
/// user by `authentication` and `authorization`; `receipt` alone only logs
/// that a connection arrived.
fn logs_authorized_connections(raw: &str) -> bool {
    raw.split(',')
        .map(|aspect| aspect.trim().to_ascii_lowercase())
        .any(|aspect| {
            matches!(
                aspect.as_str(),
                "on" | "true" | "yes" | "1" | "all" | "authentication" | "authorization"
            )
        })
}

/// pgaudit.log in lower case (pgaudit compares class names case-insensitively),
/// or `none` when the list logs nothing: only `none` and subtracted classes
/// (`-ddl`), which pgaudit applies to an empty set.
fn pgaudit_classes(raw: &str) -> String {
    let normalized = raw
        .split(',')
        .map(|class| class.trim().to_ascii_lowercase())
        .filter(|class| !class.is_empty())
        .collect::<Vec<_>>();
    if normalized.is_empty() {
        return String::new();
    }
    if normalized
        .iter()
        .all(|class| class == "none" || class.starts_with('-'))
    {
        return "none".to_string();
    }
    normalized.join(",")
}

/// Settings that are absent for a reason other than privilege, with the value that applies.
fn absent_default(name: &str, version_num: i64) -> Option<(Json, &'static str)> {
    match name {
        "reserved_connections" if version_num < 160000 => {
            Some((json!(0), "not in PostgreSQL before 16; treated as 0"))
        }
        "archive_library" if version_num < 150000 => {
            Some((json!(""), "not in PostgreSQL before 15"))
        }
        "max_slot_wal_keep_size" if version_num < 130000 => Some((
            json!(-1),
            "not in PostgreSQL before 13, where a slot retains WAL without limit; treated as -1",
        )),
        "compute_query_id" if version_num < 140000 => Some((
            json!("auto"),
            "not in PostgreSQL before 14, where pg_stat_statements computes its own query ids; treated as auto",
        )),
        "pgaudit.log" => Some((
            json!(""),
            "pgaudit is not loaded, so pgaudit.log does not exist",
        )),
        _ => None,
    }
}

fn settings_facts(sink: &mut FactSink<'_>, main: &MainDoc, settings: &BTreeMap<String, Json>) {
    for name in super::queries::SETTINGS {
        if *name == "archive_command" {
            continue; // recorded as postgres.archive_command_set, never as text
        }
        let path = format!("postgres.settings.{}", name.replace('.', "_"));
        if crate::facts::schema::spec(&path).is_none() {
            continue;
        }
        match settings.get(*name) {
            Some(value) => sink.known(&path, format!("pg_settings.{name}"), value.clone()),
            None => match absent_default(name, main.version_num) {
                Some((value, why)) => sink.known(&path, format!("pg_settings.{name}: {why}"), value),
                None if !main.read_all_settings => sink.unknown(
                    &path,
                    format!("{name} is hidden from role {} (PostgreSQL shows it only to pg_read_all_settings)", main.user),
                    Some(&grant(&main.user, "pg_read_all_settings")),
                ),
                None => sink.unknown(&path, format!("{name} does not exist on PostgreSQL {}", main.version), None),
            },
        }
    }
    let pending: Vec<String> = main
        .settings
        .iter()
        .filter(|row| row.pending_restart)
        .map(|row| row.name.clone())
        .collect();
    sink.known(
        "postgres.pending_restart",
        "pg_settings.pending_restart",
        pending,
    );
    sink.known(
        "postgres.extensions",
        "pg_extension (audited database)",
        main.extensions.clone(),
    );
}

fn replica_facts(sink: &mut FactSink<'_>, main: &MainDoc) {
    let physical: Vec<&ReplicationRow> = main.replication.iter().filter(|r| !r.logical).collect();
    let origin = "pg_stat_replication";
    if !main.read_all_stats && physical.iter().any(|r| r.state.is_none()) {
        let reason = format!(
            "pg_stat_replication hides replica state and lag from role {}",
            main.user
        );
        let fix = grant(&main.user, "pg_read_all_stats");
        sink.unknown("replicas.count", reason.clone(), Some(&fix));
        sink.unknown("replicas.connected", reason.clone(), Some(&fix));
        sink.unknown("replicas.max_replay_lag_seconds", reason, Some(&fix));
    } else {
        let streaming: Vec<&&ReplicationRow> = physical
            .iter()
            .filter(|r| r.state.as_deref() == Some("streaming"))
            .collect();
        sink.known("replicas.count", origin, streaming.len() as i64);
        let rows: Vec<Json> = physical
            .iter()
            .map(|r| {
                json!({
                    "name": r.name, "client_addr": r.client_addr, "state": r.state,
                    "sync_state": r.sync_state,
                    "replay_lag_bytes": r.replay_lag_bytes.map(|b| b as i64),
                    "replay_lag_seconds": r.replay_lag_seconds,
                })
            })
            .collect();
        sink.known("replicas.connected", origin, rows);
        let max_lag = physical
            .iter()
            .filter_map(|r| r.replay_lag_seconds)
            .fold(None, |acc: Option<f64>, lag| {
                Some(acc.map_or(lag, |a| a.max(lag)))
            });
        sink.known(
            "replicas.max_replay_lag_seconds",
            "pg_stat_replication.replay_lag",
            max_lag,
        );
        let synchronous = physical
            .iter()
            .filter(|r| matches!(r.sync_state.as_deref(), Some("sync" | "quorum")))
            .count();
        sink.known(
            "ha.synchronous_standbys",
            "pg_stat_replication.sync_state",
            synchronous as i64,
        );
    }
    if main.in_recovery {
        match (&main.receiver_status, main.receiver_running) {
            (Some(status), _) => sink.known(
                "upstream.receiver_status",
                "pg_stat_wal_receiver.status",
                status.clone(),
            ),
            (None, false) => sink.known(
                "upstream.receiver_status",
                "pg_stat_wal_receiver: no WAL receiver running",
                "",
            ),
            (None, true) => sink.unknown(
                "upstream.receiver_status",
                format!(
                    "a WAL receiver runs, but pg_stat_wal_receiver hides its status from role {}",
                    main.user
                ),
                Some(&grant(&main.user, "pg_read_all_stats")),
            ),
        }
        sink.known(
            "upstream.replay_delay_seconds",
            "now() - pg_last_xact_replay_timestamp() (0 when replay has caught up with receipt)",
            main.replay_delay_seconds,
        );
        match (&main.receiver_sender, main.receiver_running) {
            (Some(sender), _) => sink.known(
                "upstream.source",
                "pg_stat_wal_receiver sender_host:sender_port",
                sender.clone(),
            ),
            (None, false) => sink.known(
                "upstream.source",
                "pg_stat_wal_receiver: no WAL receiver running",
                "",
            ),
            (None, true) => sink.unknown(
                "upstream.source",
                format!(
                    "a WAL receiver runs, but pg_stat_wal_receiver hides its sender from role {}",
                    main.user
                ),
                Some(&grant(&main.user, "pg_read_all_stats")),
            ),
        }
    }
}

fn archive_facts(sink: &mut FactSink<'_>, readings: &Readings, settings: &BTreeMap<String, Json>) {
    let (main, privileged) = (&readings.main, &readings.privileged);
    let library_state = super::effective::archive_library_state(
        settings.get("archive_library").and_then(Json::as_str),
        readings.effective.as_ref(),
    );
    let mode = settings.get("archive_mode").and_then(Json::as_str);
    // queries::archive_command_kind!: '', 'noop' or 'set', never the text.
    let command_kind = settings.get("archive_command").and_then(Json::as_str);
    let command_set = command_kind.map(|kind| !kind.is_empty());
    let command_noop = command_kind.map(|kind| kind == "noop");
    let library_set = settings
        .get("archive_library")
        .and_then(Json::as_str)
        .map(|s| !s.is_empty())
        .or((main.version_num < 150000).then_some(false));
    match command_set {
        Some(set) => sink.known(
            "postgres.archive_command_set",
            "pg_settings.archive_command (text not recorded)",
            set,
        ),
        None => sink.unknown(
            "postgres.archive_command_set",
            format!("archive_command is hidden from role {}", main.user),
            Some(&grant(&main.user, "pg_read_all_settings")),
        ),
    }
    match command_noop {
        Some(noop) => sink.known(
            "postgres.archive_command_noop",
            "pg_settings.archive_command (text not recorded)",
            noop,
        ),
        None => sink.unknown(
            "postgres.archive_command_noop",
            format!("archive_command is hidden from role {}", main.user),
            Some(&grant(&main.user, "pg_read_all_settings")),
        ),
    }
    match (mode, command_set, library_set) {
        _ if main.aurora => sink.unknown(
            "pitr.wal_archiving",
            "Aurora PostgreSQL keeps its log in the cluster volume and does not archive WAL; point-in-time recovery is the cluster's backup setting",
            Some("audit the cluster through the RDS API: rds://REGION/cluster/ID (pair it with this connection in sqlready.toml)"),
        ),
        (Some("off"), _, _) => sink.known(
            "pitr.wal_archiving",
            "pg_settings.archive_mode = off",
            false,
        ),
        // 15 lets archive_library win; from 16 the archiver raises an error
        // instead of archiving, and pg_stat_archiver counts no failure.
        (Some(mode), Some(true), Some(true)) if main.version_num >= 160000 => sink.known(
            "pitr.wal_archiving",
            format!(
                "pg_settings.archive_mode = {mode}, and both archive_command and archive_library are set: PostgreSQL 16+ refuses to archive"
            ),
            false,
        ),
        // "Setting archive_command to a command that does nothing but return
        // true, e.g. /bin/true, effectively disables archiving" (unless a
        // library archives instead).
        (Some(mode), Some(true), Some(false)) if command_noop == Some(true) => sink.known(
            "pitr.wal_archiving",
            format!(
                "pg_settings.archive_mode = {mode}, and archive_command only returns success: it archives nothing"
            ),
            false,
        ),
        // The library (which wins over archive_command on 15) archives
        // nothing without its own settings.
        (Some(mode), Some(_), Some(true)) if matches!(library_state, LibraryState::Halted(_)) => sink.known(
            "pitr.wal_archiving",
            format!("pg_settings.archive_mode = {mode}; {}", library_state.reason()),
            false,
        ),
        (Some(_), Some(_), Some(true)) if matches!(library_state, LibraryState::Unknown(_)) => {
            sink.unknown("pitr.wal_archiving", library_state.reason(), None)
        }
        (Some(mode), Some(command), Some(library)) => sink.known(
            "pitr.wal_archiving",
            format!("pg_settings.archive_mode = {mode}, archive_command/archive_library"),
            command || library,
        ),
        _ => sink.unknown(
            "pitr.wal_archiving",
            format!("archive settings are hidden from role {}", main.user),
            Some(&grant(&main.user, "pg_read_all_settings")),
        ),
    }
    let a = &main.archiver;
    sink.known(
        "archiver.archived_count",
        "pg_stat_archiver.archived_count",
        a.archived_count,
    );
    sink.known(
        "archiver.failed_count",
        "pg_stat_archiver.failed_count",
        a.failed_count,
    );
    sink.known(
        "archiver.last_archived_age_seconds",
        "now() - pg_stat_archiver.last_archived_time",
        a.last_archived_age_seconds,
    );
    sink.known(
        "archiver.failing",
        "pg_stat_archiver: last_failed_time after last_archived_time",
        a.failing,
    );
    match privileged.ready_count {
        Some(count) => sink.known(
            "archiver.ready_count",
            "pg_ls_archive_statusdir() *.ready",
            count,
        ),
        None if main.in_recovery => sink.unknown(
            "archiver.ready_count",
            "a standby does not archive with archive_mode=on",
            None,
        ),
        None => sink.unknown(
            "archiver.ready_count",
            format!(
                "pg_ls_archive_statusdir() needs pg_monitor; role {} lacks it",
                main.user
            ),
            Some(&format!("GRANT pg_monitor TO {};", main.user)),
        ),
    }
}

fn slot_facts(sink: &mut FactSink<'_>, main: &MainDoc) {
    let rows: Vec<Json> = main
        .slots
        .iter()
        .map(|s| {
            json!({
                "name": s.name, "type": s.slot_type, "active": s.active,
                "wal_status": s.wal_status.clone().unwrap_or_default(),
                "retained_bytes": s.retained_bytes.map(|b| b as i64),
                "safe_wal_size": s.safe_wal_size,
                "xmin_age": s.xmin_age, "catalog_xmin_age": s.catalog_xmin_age,
            })
        })
        .collect();
    sink.known(
        "replication.slot_count",
        "pg_replication_slots",
        rows.len() as i64,
    );
    sink.known("replication.slots", "pg_replication_slots", rows);
}

/// The address families a pg_hba rule can match.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Family {
    V4,
    V6,
    /// `all`, a host name, `samehost`, `samenet`: either family.
    Both,
}

fn family(rule: &HbaRow) -> Family {
    match rule.address.as_deref().map(str::parse::<IpAddr>) {
        Some(Ok(IpAddr::V4(_))) => Family::V4,
        Some(Ok(IpAddr::V6(_))) => Family::V6,
        _ => Family::Both,
    }
}

/// The prefix length of a rule's netmask, when it has one.
fn prefix_len(rule: &HbaRow) -> Option<u32> {
    match rule.netmask.as_deref()?.parse::<IpAddr>().ok()? {
        IpAddr::V4(mask) => Some(u32::from(mask).leading_ones()),
        IpAddr::V6(mask) => Some(u128::from(mask).leading_ones()),
    }
}

/// Whether a rule only admits the loopback interface (TCP that never leaves
/// the host): an address in 127.0.0.0/8 with at least an /8 mask, or ::1/128.
fn is_loopback(rule: &HbaRow) -> bool {
    let Some(address) = rule.address.as_deref() else {
        return false;
    };
    let prefix = prefix_len(rule);
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback() && prefix.is_none_or(|p| p >= 8),
        Ok(IpAddr::V6(ip)) => ip.is_loopback() && prefix.is_none_or(|p| p == 128),
        Err(_) => address == "localhost",
    }
}

/// The kinds of connection a rule's database field can match. The keyword
/// `all` does not match physical replication connections: only
/// `replication` does (and `replication` matches nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Targets {
    databases: bool,
    replication: bool,
}

fn targets(rule: &HbaRow) -> Targets {
    let names = rule.database.as_deref().unwrap_or_default();
    Targets {
        databases: names.is_empty() || names.iter().any(|name| name != "replication"),
        replication: names.is_empty() || names.iter().any(|name| name == "replication"),
    }
}

/// The kinds of connection a rule matches for every user and every database
/// of that kind: `all` (ordinary databases), `replication` (physical replication).
fn for_everyone(rule: &HbaRow) -> Targets {
    let everyone = rule.user_name.as_deref() == Some(&["all".to_string()][..]);
    let names = rule.database.as_deref().unwrap_or_default();
    Targets {
        databases: everyone && names.iter().any(|name| name == "all"),
        replication: everyone && names.iter().any(|name| name == "replication"),
    }
}

/// The families a `reject` rule closes to connections without TLS, and for
/// which kinds of connection: a `host`/`hostnossl` rule for everyone from
/// every address of a family (`0.0.0.0/0`, `::/0`, `all`). pg_hba is read
/// top down, so no later rule of that family and kind can admit a
/// connection without TLS.
fn closes_plaintext(rule: &HbaRow) -> Option<(Family, Targets)> {
    let rejects = rule.auth_method.as_deref() == Some("reject");
    let plaintext = matches!(rule.conn_type.as_str(), "host" | "hostnossl");
    let kinds = for_everyone(rule);
    if !(rejects && plaintext && (kinds.databases || kinds.replication)) {
        return None;
    }
    match (rule.address.as_deref(), family(rule), prefix_len(rule)) {
        (Some("all"), _, _) => Some((Family::Both, kinds)),
        (_, Family::V4 | Family::V6, Some(0)) => Some((family(rule), kinds)),
        _ => None,
    }
}

/// Where a rule is: its line, and its file when that is not pg_hba.conf itself.
fn location(rule: &HbaRow) -> String {
    match rule.file_name.as_deref() {
        Some(file) if !file.ends_with("/pg_hba.conf") && file != "pg_hba.conf" => {
            format!("line {} of {file}", rule.line)
        }
        _ => format!("line {}", rule.line),
    }
}

/// pg_hba lines that let a client in over TCP without TLS from another host.
/// A line below a catch-all `hostnossl … reject` of its family is not
/// counted: a connection without TLS never reaches it.
pub fn insecure_hba_rules(rules: &[HbaRow]) -> Vec<String> {
    // Matching order: rule_number where the server reports it (with
    // `include`, line numbers restart in every file), else the given order.
    let mut ordered: Vec<&HbaRow> = rules.iter().collect();
    ordered.sort_by_key(|rule| rule.rule_number.unwrap_or(i64::MAX));
    // Closed families, for ordinary databases and for physical replication.
    let (mut closed_v4, mut closed_v6) = (Targets::default(), Targets::default());
    let mut insecure = Vec::new();
    for rule in ordered {
        if let Some(error) = &rule.error {
            insecure.push(format!("{}: invalid rule ({error})", location(rule)));
            continue;
        }
        let reaches = targets(rule);
        let closed = |closed: Targets| {
            (!reaches.databases || closed.databases) && (!reaches.replication || closed.replication)
        };
        let shadowed = match family(rule) {
            Family::V4 => closed(closed_v4),
            Family::V6 => closed(closed_v6),
            Family::Both => closed(closed_v4) && closed(closed_v6),
        };
        if let Some((family, kinds)) = closes_plaintext(rule) {
            let close = |closed: &mut Targets| {
                closed.databases |= kinds.databases;
                closed.replication |= kinds.replication;
            };
            match family {
                Family::V4 => close(&mut closed_v4),
                Family::V6 => close(&mut closed_v6),
                Family::Both => {
                    close(&mut closed_v4);
                    close(&mut closed_v6);
                }
            }
        }
        let plaintext = matches!(
            rule.conn_type.as_str(),
            "host" | "hostnossl" | "hostnogssenc"
        );
        let rejects = rule.auth_method.as_deref() == Some("reject");
        if plaintext && !rejects && !shadowed && !is_loopback(rule) {
            let address = match (rule.address.as_deref(), prefix_len(rule)) {
                (Some(address), Some(prefix)) => format!("{address}/{prefix}"),
                (Some(address), None) => address.to_string(),
                (None, _) => "all".to_string(),
            };
            insecure.push(format!(
                "{}: {} {} {} {} {}",
                location(rule),
                rule.conn_type,
                rule.database.as_deref().unwrap_or_default().join(","),
                rule.user_name.as_deref().unwrap_or_default().join(","),
                address,
                rule.auth_method.as_deref().unwrap_or("?")
            ));
        }
    }
    insecure
}

fn network_facts(
    sink: &mut FactSink<'_>,
    main: &MainDoc,
    settings: &BTreeMap<String, Json>,
    privileged: &PrivilegedDoc,
) {
    match &privileged.hba {
        Some(rules) => {
            let rows: Vec<Json> = rules
                .iter()
                .map(|r| {
                    json!({
                        "line": r.line, "type": r.conn_type, "database": r.database,
                        "user_name": r.user_name, "address": r.address, "netmask": r.netmask,
                        "auth_method": r.auth_method,
                    })
                })
                .collect();
            let insecure = insecure_hba_rules(rules);
            let ssl = settings.get("ssl").and_then(Json::as_bool);
            sink.known("network.hba_rules", "pg_hba_file_rules", rows);
            if let Some(ssl) = ssl {
                sink.known(
                    "network.tls_required",
                    "pg_settings.ssl and pg_hba_file_rules",
                    ssl && insecure.is_empty(),
                );
            }
            sink.known("network.hba_insecure_rules", "pg_hba_file_rules", insecure);
        }
        None => {
            let reason = format!(
                "pg_hba_file_rules is readable only by superusers; role {} lacks the grant",
                main.user
            );
            let fix = format!(
                "in the audited database: GRANT SELECT ON pg_catalog.pg_hba_file_rules TO {0}; GRANT EXECUTE ON FUNCTION pg_catalog.pg_hba_file_rules() TO {0};",
                main.user
            );
            for path in [
                "network.hba_rules",
                "network.hba_insecure_rules",
                "network.tls_required",
            ] {
                sink.unknown(path, reason.clone(), Some(&fix));
            }
        }
    }
    if main.read_all_stats {
        sink.known(
            "network.client_connections",
            "pg_stat_activity: other client backends over TCP",
            main.clients.tcp,
        );
        sink.known(
            "network.tls_connections",
            "pg_stat_ssl.ssl",
            main.clients.tls,
        );
    } else {
        // client_addr and pg_stat_ssl are NULL in other roles' rows.
        let fix = grant(&main.user, "pg_read_all_stats");
        sink.unknown(
            "network.client_connections",
            format!(
                "pg_stat_activity hides the client address of other roles' sessions from role {}",
                main.user
            ),
            Some(&fix),
        );
        sink.unknown(
            "network.tls_connections",
            format!("pg_stat_ssl hides other sessions from role {}", main.user),
            Some(&fix),
        );
    }
}

/// Who can log in and with what rights (item access_control).
fn access_facts(sink: &mut FactSink<'_>, main: &MainDoc, privileged: &PrivilegedDoc) {
    sink.known("access.session_user", "current_user", main.user.clone());
    sink.known(
        "access.session_superuser",
        "pg_roles.rolsuper of current_user",
        main.superuser,
    );
    match &main.access {
        Some(access) => {
            let origin = match &access.bootstrap {
                Some(name) => format!(
                    "pg_roles: rolsuper and rolcanlogin, except the bootstrap superuser {name} and the session's role"
                ),
                None => "pg_roles: rolsuper and rolcanlogin, except the session's role".to_string(),
            };
            sink.known("access.superusers", origin, access.superusers.clone());
            sink.known(
                "access.public_create_schemas",
                format!(
                    "pg_namespace.nspacl of database {}: PUBLIC (grantee 0) holds CREATE",
                    main.database
                ),
                access.public_create_schemas.clone(),
            );
            sink.known(
                "access.public_create_databases",
                "pg_database.datacl: PUBLIC (grantee 0) holds CREATE",
                access.public_create_databases.clone(),
            );
        }
        None => {
            for path in [
                "access.superusers",
                "access.public_create_schemas",
                "access.public_create_databases",
            ] {
                sink.unknown(path, "the catalog document has no role section", None);
            }
        }
    }
    match &privileged.passwordless {
        Some(roles) => sink.known(
            "access.passwordless_logins",
            "pg_authid: rolcanlogin, rolpassword IS NULL, not expired",
            roles.clone(),
        ),
        None => sink.unknown(
            "access.passwordless_logins",
            format!(
                "only a superuser can read pg_authid (pg_roles shows every password as ********), and role {} is not one; \
                 an auditor should not be one either",
                main.user
            ),
            Some(
                "run once as a superuser: SELECT rolname FROM pg_authid WHERE rolcanlogin AND rolpassword IS NULL; \
                 or waive the check and make sure pg_hba.conf has no trust lines",
            ),
        ),
    }
}

fn connection_facts(sink: &mut FactSink<'_>, main: &MainDoc, settings: &BTreeMap<String, Json>) {
    let int = |name: &str| settings.get(name).and_then(Json::as_i64);
    // Without pg_read_all_stats, backend_type is NULL in other roles' rows:
    // only the audit's own sessions would be counted.
    let hidden = (!main.read_all_stats).then(|| {
        (
            format!(
                "pg_stat_activity hides the backend type of other roles' sessions from role {}",
                main.user
            ),
            grant(&main.user, "pg_read_all_stats"),
        )
    });
    match &hidden {
        None => sink.known(
            "connections.client_backends",
            "pg_stat_activity.backend_type = 'client backend'",
            main.clients.total,
        ),
        Some((reason, fix)) => {
            sink.unknown("connections.client_backends", reason.clone(), Some(fix))
        }
    }
    let (Some(max), Some(superuser_reserved)) = (
        int("max_connections"),
        int("superuser_reserved_connections"),
    ) else {
        return;
    };
    let reserved = superuser_reserved + int("reserved_connections").unwrap_or(0);
    let usable = (max - reserved).max(1);
    sink.known(
        "connections.max_connections",
        "pg_settings.max_connections",
        max,
    );
    sink.known(
        "connections.reserved",
        "superuser_reserved_connections + reserved_connections",
        reserved,
    );
    match &hidden {
        None => sink.known(
            "connections.usage_ratio",
            "client backends / (max_connections - reserved)",
            main.clients.total as f64 / usable as f64,
        ),
        Some((reason, fix)) => sink.unknown("connections.usage_ratio", reason.clone(), Some(fix)),
    }
}

fn wraparound_facts(sink: &mut FactSink<'_>, main: &MainDoc) {
    let w = &main.wraparound;
    sink.maybe(
        "wraparound.max_xid_age",
        "max(age(pg_database.datfrozenxid))",
        w.max_xid_age,
        "no database rows visible",
        None,
    );
    sink.maybe(
        "wraparound.max_mxid_age",
        "max(mxid_age(pg_database.datminmxid))",
        w.max_mxid_age,
        "no database rows visible",
        None,
    );
    sink.maybe(
        "wraparound.max_xid_age_database",
        "pg_database",
        w.oldest_database.clone(),
        "no database rows visible",
        None,
    );
}

/// `postgres.pg_stat_statements_databases`: the databases where
/// `CREATE EXTENSION pg_stat_statements` ran. Once preloaded it collects for
/// the whole cluster, and its view can be read wherever the extension exists,
/// so one database is enough, whichever the audit connects to.
fn extension_databases(
    sink: &mut FactSink<'_>,
    main: &MainDoc,
    others: &[(String, Result<OtherDatabase, String>)],
) {
    let path = "postgres.pg_stat_statements_databases";
    let has = |extensions: &[String]| extensions.iter().any(|e| e == "pg_stat_statements");
    let mut found = Vec::new();
    if has(&main.extensions) {
        found.push(main.database.clone());
    }
    let mut unreadable = Vec::new();
    for (database, outcome) in others {
        match outcome {
            Ok(other) if has(&other.extensions) => found.push(database.clone()),
            Ok(_) => {}
            Err(reason) => unreadable.push(format!("{database} ({reason})")),
        }
    }
    for db in main.databases.iter().filter(|db| !db.connect) {
        unreadable.push(format!("{} (no CONNECT privilege)", db.name));
    }
    if found.is_empty() && !unreadable.is_empty() {
        sink.unknown(
            path,
            format!(
                "pg_stat_statements is not created in the audited database, and {} database(s) could not be searched: {}",
                unreadable.len(),
                unreadable.join(", ")
            ),
            Some(&format!("GRANT CONNECT ON DATABASE … TO {};", main.user)),
        );
    } else {
        sink.known(path, "pg_extension in every connectable database", found);
    }
}

fn migration_facts(
    sink: &mut FactSink<'_>,
    main: &MainDoc,
    others: &[(String, Result<OtherDatabase, String>)],
) {
    let mut tables = Vec::new();
    let mut unreadable = Vec::new();
    let mut add = |database: &str, rows: &[MigrationRow]| {
        for row in rows {
            if let Some(tool) = migrations::tool_for(&row.table) {
                tables.push(json!({"database": database, "schema": row.schema, "table": row.table, "tool": tool}));
            }
        }
    };
    add(&main.database, &main.migrations);
    for (database, outcome) in others {
        match outcome {
            Ok(other) => add(database, &other.tables),
            Err(reason) => unreadable.push(format!("{database} ({reason})")),
        }
    }
    for db in main.databases.iter().filter(|db| !db.connect) {
        unreadable.push(format!("{} (no CONNECT privilege)", db.name));
    }
    if tables.is_empty() && !unreadable.is_empty() {
        sink.unknown(
            "migrations.tables",
            format!(
                "no migration table found, and {} database(s) could not be searched: {}",
                unreadable.len(),
                unreadable.join(", ")
            ),
            Some(&format!("GRANT CONNECT ON DATABASE … TO {};", main.user)),
        );
    } else {
        sink.known(
            "migrations.tables",
            "pg_class in every connectable database",
            tables,
        );
    }
    sink.known(
        "migrations.unreadable_databases",
        "pg_database / connection attempts",
        unreadable,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Fact, FactState};

    /// A catalog document recorded from PostgreSQL 15 (superuser, defaults).
    const RECORDED: &str =
        include_str!("../../../tests/fixtures/postgres/catalog-15-superuser.json");

    fn recorded() -> MainDoc {
        serde_json::from_str(RECORDED).expect("recorded document parses")
    }

    fn readings(main: MainDoc) -> Readings {
        Readings {
            main,
            privileged: PrivilegedDoc::default(),
            // basic_archive, where a test uses it, has its directory.
            effective: Some(super::super::effective::EffectiveDoc {
                basic_archive_directory: Some("/archive".into()),
                ..Default::default()
            }),
            other_databases: Vec::new(),
            custom: Vec::new(),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn value<'a>(facts: &'a Facts, path: &str) -> &'a Json {
        facts
            .get(path)
            .and_then(Fact::value)
            .unwrap_or_else(|| panic!("{path} is not known: {:?}", facts.get(path)))
    }

    fn unknown(facts: &Facts, path: &str) -> (String, Option<String>) {
        match &facts
            .get(path)
            .unwrap_or_else(|| panic!("no fact {path}"))
            .state
        {
            FactState::Unknown { unknown, resolve } => (unknown.clone(), resolve.clone()),
            FactState::Known { value } => panic!("{path} is known: {value}"),
        }
    }

    fn set(main: &mut MainDoc, name: &str, setting: &str) {
        let row = main
            .settings
            .iter_mut()
            .find(|r| r.name == name)
            .expect("setting present");
        row.setting = Some(setting.to_string());
    }

    #[test]
    fn settings_are_typed() {
        let facts = facts(&readings(recorded()), today());
        assert_eq!(value(&facts, "postgres.settings.fsync"), &json!(true));
        assert_eq!(
            value(&facts, "postgres.settings.max_connections"),
            &json!(100)
        );
        assert_eq!(
            value(&facts, "postgres.settings.wal_level"),
            &json!("replica")
        );
        assert_eq!(
            value(&facts, "postgres.settings.shared_preload_libraries"),
            &json!([])
        );
    }

    #[test]
    fn hidden_settings_are_unknown_with_the_grant() {
        let mut main = recorded();
        main.read_all_settings = false;
        main.user = "plain".into();
        main.settings
            .retain(|r| r.name != "shared_preload_libraries");
        let facts = facts(&readings(main), today());
        let (reason, resolve) = unknown(&facts, "postgres.settings.shared_preload_libraries");
        assert!(reason.contains("hidden from role plain"), "{reason}");
        assert!(
            resolve
                .unwrap()
                .contains("GRANT pg_read_all_settings TO plain")
        );
    }

    #[test]
    fn settings_missing_before_their_version_get_their_effective_value() {
        let facts = facts(&readings(recorded()), today());
        // reserved_connections arrived in 16: on 15 only superuser_reserved_connections counts.
        assert_eq!(value(&facts, "connections.reserved"), &json!(3));
        assert_eq!(value(&facts, "postgres.settings.pgaudit_log"), &json!(""));
    }

    #[test]
    fn archiving_needs_mode_and_a_command_or_library() {
        let mut main = recorded();
        assert_eq!(
            value(
                &facts(&readings(main.clone()), today()),
                "pitr.wal_archiving"
            ),
            &json!(false)
        );
        set(&mut main, "archive_mode", "on");
        assert_eq!(
            value(
                &facts(&readings(main.clone()), today()),
                "pitr.wal_archiving"
            ),
            &json!(false)
        );
        set(&mut main, "archive_command", "set");
        assert_eq!(
            value(&facts(&readings(main), today()), "pitr.wal_archiving"),
            &json!(true)
        );
    }

    #[test]
    fn aurora_does_not_archive_wal_and_is_not_failed_for_it() {
        let mut main = recorded();
        main.aurora = true;
        let facts = facts(&readings(main), today());
        let (reason, resolve) = unknown(&facts, "pitr.wal_archiving");
        assert!(reason.contains("Aurora"), "{reason}");
        assert!(resolve.unwrap().contains("rds://REGION/cluster/ID"));
    }

    #[test]
    fn logical_walsenders_are_not_replicas_and_hidden_state_is_unknown() {
        let mut main = recorded();
        let row = |logical: bool, state: Option<&str>| ReplicationRow {
            name: Some("r".into()),
            client_addr: Some("10.0.0.2".into()),
            state: state.map(str::to_string),
            sync_state: Some("async".into()),
            logical,
            replay_lag_bytes: Some(0.0),
            replay_lag_seconds: Some(1.5),
        };
        main.replication = vec![row(false, Some("streaming")), row(true, Some("streaming"))];
        let known = facts(&readings(main.clone()), today());
        assert_eq!(value(&known, "replicas.count"), &json!(1));
        assert_eq!(
            value(&known, "replicas.max_replay_lag_seconds"),
            &json!(1.5)
        );
        main.read_all_stats = false;
        main.replication = vec![row(false, None)];
        let hidden = facts(&readings(main), today());
        let (_, resolve) = unknown(&hidden, "replicas.count");
        assert!(resolve.unwrap().contains("pg_read_all_stats"));
    }

    #[test]
    fn hba_rules_without_tls_from_other_hosts_are_insecure() {
        let rule = |line: i64, conn_type: &str, address: Option<&str>, method: &str| HbaRow {
            line,
            conn_type: conn_type.into(),
            database: Some(vec!["all".into()]),
            user_name: Some(vec!["all".into()]),
            address: address.map(str::to_string),
            netmask: None,
            auth_method: Some(method.into()),
            error: None,
            rule_number: None,
            file_name: None,
        };
        let mut broken = rule(9, "host", None, "md5");
        broken.error = Some("invalid IP mask".into());
        let rules = vec![
            rule(1, "local", None, "peer"),
            rule(2, "host", Some("127.0.0.1"), "scram-sha-256"),
            rule(3, "hostssl", Some("0.0.0.0"), "scram-sha-256"),
            rule(4, "hostnossl", Some("0.0.0.0"), "reject"),
            rule(5, "host", Some("10.0.0.0"), "scram-sha-256"),
            rule(6, "hostnossl", Some("::"), "md5"),
            broken,
        ];
        let insecure = insecure_hba_rules(&rules);
        assert_eq!(insecure.len(), 3, "{insecure:?}");
        assert!(insecure[0].starts_with("line 5: host"));
        assert!(insecure[1].starts_with("line 6: hostnossl"));
        assert!(insecure[2].contains("invalid rule"));
    }

    fn hba(line: i64, conn_type: &str, cidr: &str, method: &str) -> HbaRow {
        let (address, netmask) = match cidr.split_once('/') {
            Some((address, bits)) => {
                let bits: u32 = bits.parse().unwrap();
                let mask = if address.contains(':') {
                    std::net::Ipv6Addr::from(u128::MAX.checked_shl(128 - bits).unwrap_or(0))
                        .to_string()
                } else {
                    std::net::Ipv4Addr::from(u32::MAX.checked_shl(32 - bits).unwrap_or(0))
                        .to_string()
                };
                (Some(address.to_string()), Some(mask))
            }
            None => (Some(cidr.to_string()), None),
        };
        HbaRow {
            line,
            conn_type: conn_type.into(),
            database: Some(vec!["all".into()]),
            user_name: Some(vec!["all".into()]),
            address,
            netmask,
            auth_method: Some(method.into()),
            error: None,
            rule_number: None,
            file_name: None,
        }
    }

    #[test]
    fn a_catch_all_hostnossl_reject_protects_the_rules_below_it() {
        // The usual way to require TLS: reject every connection without it first.
        let rules = vec![
            hba(1, "hostnossl", "0.0.0.0/0", "reject"),
            hba(2, "hostnossl", "::/0", "reject"),
            hba(3, "host", "10.0.0.0/8", "scram-sha-256"),
            hba(4, "host", "fd00::/8", "scram-sha-256"),
            hba(5, "host", "all", "scram-sha-256"),
        ];
        assert_eq!(insecure_hba_rules(&rules), Vec::<String>::new());
        // Only IPv4 closed: IPv6 and any-address rules still admit plaintext.
        let rules = vec![
            hba(1, "hostnossl", "0.0.0.0/0", "reject"),
            hba(3, "host", "10.0.0.0/8", "scram-sha-256"),
            hba(4, "host", "fd00::/8", "scram-sha-256"),
            hba(5, "host", "all", "scram-sha-256"),
        ];
        let insecure = insecure_hba_rules(&rules);
        assert_eq!(insecure.len(), 2, "{insecure:?}");
        assert!(
            insecure[0].starts_with("line 4: host all all fd00::/8"),
            "{insecure:?}"
        );
        assert!(
            insecure[1].starts_with("line 5: host all all all"),
            "{insecure:?}"
        );
        // A reject below the rule, or one for some users only, protects nothing.
        let mut partial = hba(1, "hostnossl", "0.0.0.0/0", "reject");
        partial.user_name = Some(vec!["app".into()]);
        let rules = vec![
            partial,
            hba(2, "host", "10.0.0.0/8", "md5"),
            hba(3, "hostnossl", "0.0.0.0/0", "reject"),
        ];
        let insecure = insecure_hba_rules(&rules);
        assert_eq!(insecure, vec!["line 2: host all all 10.0.0.0/8 md5"]);
    }

    #[test]
    fn loopback_means_the_loopback_network_not_its_address() {
        let rules = vec![
            hba(1, "host", "127.0.0.1/32", "md5"),
            hba(2, "host", "::1/128", "md5"),
            hba(3, "host", "127.0.0.1/0", "md5"),
            hba(4, "host", "::1/0", "md5"),
            hba(5, "host", "samehost", "md5"),
        ];
        let insecure = insecure_hba_rules(&rules);
        assert_eq!(insecure.len(), 3, "{insecure:?}");
        assert!(insecure[0].starts_with("line 3: host all all 127.0.0.1/0"));
        assert!(insecure[1].starts_with("line 4: host all all ::1/0"));
        assert!(insecure[2].starts_with("line 5: host all all samehost"));
    }

    #[test]
    fn all_does_not_cover_replication_so_its_reject_does_not_protect_replication_rules() {
        // `all` never matches a physical replication connection: a catch-all
        // `hostnossl all … reject` leaves `host replication` rules open.
        let rules = vec![
            hba(1, "hostnossl", "0.0.0.0/0", "reject"),
            hba(2, "hostnossl", "::/0", "reject"),
            hba(3, "host", "10.0.0.0/8", "scram-sha-256"),
            {
                let mut r = hba(4, "host", "10.0.0.0/8", "scram-sha-256");
                r.database = Some(vec!["replication".into()]);
                r
            },
        ];
        assert_eq!(
            insecure_hba_rules(&rules),
            vec!["line 4: host replication all 10.0.0.0/8 scram-sha-256"]
        );
        // A reject naming replication too closes both.
        let mut both = hba(1, "hostnossl", "0.0.0.0/0", "reject");
        both.database = Some(vec!["all".into(), "replication".into()]);
        let mut replication = hba(3, "host", "10.0.0.0/8", "scram-sha-256");
        replication.database = Some(vec!["replication".into()]);
        let rules = vec![both, hba(2, "host", "10.0.0.0/8", "md5"), replication];
        assert_eq!(insecure_hba_rules(&rules), Vec::<String>::new());
    }

    #[test]
    fn hba_rules_are_judged_in_rule_number_order_across_included_files() {
        // PostgreSQL 16+: pg_hba.conf line 5 admits plaintext before the
        // `include` on line 10 pulls in a catch-all reject (line 1 of its file).
        let mut reject = hba(1, "hostnossl", "0.0.0.0/0", "reject");
        reject.rule_number = Some(2);
        reject.file_name = Some("/etc/postgresql/conf.d/tls.conf".into());
        let mut open = hba(5, "host", "10.0.0.0/8", "scram-sha-256");
        open.rule_number = Some(1);
        open.file_name = Some("/etc/postgresql/pg_hba.conf".into());
        let mut later = hba(2, "host", "10.1.0.0/16", "scram-sha-256");
        later.rule_number = Some(3);
        later.file_name = Some("/etc/postgresql/conf.d/tls.conf".into());
        let insecure = insecure_hba_rules(&[reject, open, later]);
        assert_eq!(
            insecure,
            vec!["line 5: host all all 10.0.0.0/8 scram-sha-256"],
            "the rule above the include is reachable; the one below the reject is not"
        );
        let mut elsewhere = hba(7, "host", "10.0.0.0/8", "md5");
        elsewhere.file_name = Some("/etc/postgresql/conf.d/apps.conf".into());
        assert_eq!(
            insecure_hba_rules(&[elsewhere]),
            vec!["line 7 of /etc/postgresql/conf.d/apps.conf: host all all 10.0.0.0/8 md5"]
        );
    }

    #[test]
    fn without_pg_read_all_stats_connection_counts_are_unknown_not_low() {
        // Other roles' rows show NULL backend_type and client_addr: the counts
        // would be the audit's own sessions only (measured on 15: 1 of 4).
        let mut main = recorded();
        main.read_all_stats = false;
        main.user = "plain".into();
        main.clients = ClientsRow {
            total: 1,
            tcp: 0,
            tls: 0,
        };
        let facts = facts(&readings(main), today());
        for path in [
            "connections.client_backends",
            "connections.usage_ratio",
            "network.client_connections",
            "network.tls_connections",
        ] {
            let (_, resolve) = unknown(&facts, path);
            assert!(
                resolve
                    .unwrap()
                    .contains("GRANT pg_read_all_stats TO plain"),
                "{path}"
            );
        }
        assert_eq!(value(&facts, "connections.max_connections"), &json!(100));
    }

    #[test]
    fn a_hidden_wal_receiver_status_is_unknown_not_stopped() {
        let mut main = recorded();
        main.in_recovery = true;
        main.read_all_stats = false;
        main.user = "plain".into();
        main.receiver_running = true;
        main.receiver_status = None;
        let (reason, resolve) = unknown(
            &facts(&readings(main.clone()), today()),
            "upstream.receiver_status",
        );
        assert!(reason.contains("hides its status"), "{reason}");
        assert!(resolve.unwrap().contains("pg_read_all_stats"));
        main.receiver_running = false;
        assert_eq!(
            value(
                &facts(&readings(main.clone()), today()),
                "upstream.receiver_status"
            ),
            &json!("")
        );
        main.receiver_running = true;
        main.receiver_status = Some("streaming".into());
        assert_eq!(
            value(&facts(&readings(main), today()), "upstream.receiver_status"),
            &json!("streaming")
        );
    }

    #[test]
    fn archive_command_and_library_together_archive_nothing_from_16() {
        let mut main = recorded();
        set(&mut main, "archive_mode", "on");
        set(&mut main, "archive_command", "set");
        set(&mut main, "archive_library", "basic_archive");
        // 15: archive_library takes precedence.
        assert_eq!(
            value(
                &facts(&readings(main.clone()), today()),
                "pitr.wal_archiving"
            ),
            &json!(true)
        );
        // basic_archive without its directory archives nothing (effective.rs).
        let mut halted = readings(main.clone());
        if let Some(doc) = halted.effective.as_mut() {
            doc.basic_archive_directory = Some(String::new());
        }
        assert_eq!(
            value(&facts(&halted, today()), "pitr.wal_archiving"),
            &json!(false)
        );
        // 16+: "both archive_command and archive_library set" is an error.
        main.version = "16.4".into();
        main.version_num = 160004;
        let facts = facts(&readings(main), today());
        assert_eq!(value(&facts, "pitr.wal_archiving"), &json!(false));
    }

    #[test]
    fn an_archive_command_that_only_returns_true_archives_nothing() {
        let mut main = recorded();
        set(&mut main, "archive_mode", "on");
        set(&mut main, "archive_command", "noop");
        let facts = facts(&readings(main.clone()), today());
        assert_eq!(value(&facts, "pitr.wal_archiving"), &json!(false));
        assert_eq!(value(&facts, "postgres.archive_command_noop"), &json!(true));
        assert_eq!(value(&facts, "postgres.archive_command_set"), &json!(true));
        // On 15 a library archives instead of the command.
        set(&mut main, "archive_library", "basic_archive");
        let facts = super::facts(&readings(main), today());
        assert_eq!(value(&facts, "pitr.wal_archiving"), &json!(true));
    }

    #[test]
    fn settings_older_versions_lack_get_the_behaviour_of_those_versions() {
        let mut main = recorded();
        main.version = "12.22".into();
        main.version_num = 120022;
        main.settings.retain(|r| {
            !matches!(
                r.name.as_str(),
                "max_slot_wal_keep_size" | "compute_query_id" | "archive_library"
            )
        });
        let facts = facts(&readings(main), today());
        assert_eq!(
            value(&facts, "postgres.settings.max_slot_wal_keep_size"),
            &json!(-1)
        );
        assert_eq!(
            value(&facts, "postgres.settings.compute_query_id"),
            &json!("auto")
        );
    }

    #[test]
    fn the_catalog_query_reads_columns_newer_than_12_only_through_to_jsonb() {
        // PostgreSQL 12 has no wal_status/safe_wal_size (13) and no
        // rule_number/file_name (16): naming them as columns fails the query.
        let queries = [super::super::queries::MAIN, super::super::queries::HBA];
        for column in ["wal_status", "safe_wal_size", "rule_number", "file_name"] {
            for sql in queries {
                let direct = sql
                    .replace(&format!("'{column}', "), "") // the JSON key
                    .replace(&format!("->>'{column}'"), ""); // to_jsonb(row)->>'column'
                assert!(!direct.contains(column), "{column} is read as a column");
            }
        }
    }

    #[test]
    fn log_connections_as_a_list_from_postgresql_18() {
        let row = |setting: &str, vartype: &str| SettingRow {
            name: "log_connections".into(),
            setting: Some(setting.into()),
            vartype: vartype.into(),
            unit: None,
            pending_restart: false,
        };
        assert_eq!(setting_value(&row("on", "bool")), Some(json!(true)));
        assert_eq!(setting_value(&row("off", "bool")), Some(json!(false)));
        for (setting, logged) in [
            ("", false),
            ("receipt", false),
            ("on", true),
            ("off", false),
            ("all", true),
            ("receipt,authorization", true),
            ("Authentication", true),
            ("setup_durations", false),
        ] {
            assert_eq!(
                setting_value(&row(setting, "string")),
                Some(json!(logged)),
                "log_connections = '{setting}'"
            );
        }
    }

    #[test]
    fn pgaudit_log_is_normalized_so_none_in_any_spelling_logs_nothing() {
        let row = |setting: &str| SettingRow {
            name: "pgaudit.log".into(),
            setting: Some(setting.into()),
            vartype: "string".into(),
            unit: None,
            pending_restart: false,
        };
        for (setting, normalized) in [
            ("NONE", "none"),
            ("none", "none"),
            ("-ddl", "none"),
            ("none, -all", "none"),
            ("DDL, Role", "ddl,role"),
            ("all, -misc", "all,-misc"),
            ("", ""),
        ] {
            assert_eq!(
                setting_value(&row(setting)),
                Some(json!(normalized)),
                "pgaudit.log = '{setting}'"
            );
        }
    }

    #[test]
    fn unsearchable_databases_make_absent_migrations_unknown() {
        let mut main = recorded();
        main.migrations.clear();
        main.databases = vec![DatabaseRow {
            name: "app".into(),
            connect: false,
        }];
        let facts = facts(&readings(main), today());
        let (reason, _) = unknown(&facts, "migrations.tables");
        assert!(reason.contains("app (no CONNECT privilege)"), "{reason}");
    }

    #[test]
    fn end_of_life_is_dated() {
        let facts = facts(&readings(recorded()), today());
        assert_eq!(value(&facts, "version.major"), &json!("15"));
        assert_eq!(value(&facts, "version.eol_date"), &json!("2027-11-11"));
        assert_eq!(value(&facts, "version.days_until_eol"), &json!(350));
        let mut main = recorded();
        main.version = "19.1".into();
        let future = super::facts(&readings(main), today());
        let (reason, _) = unknown(&future, "version.days_until_eol");
        assert!(reason.contains("not in the end-of-life table"), "{reason}");
    }

    #[test]
    fn custom_query_failures_are_unknown_for_that_check_only() {
        let mut r = readings(recorded());
        r.custom = vec![
            ("a".into(), Ok(json!([{"x": 1}]))),
            ("b".into(), Err("permission denied (SQLSTATE 42501)".into())),
        ];
        let facts = facts(&r, today());
        assert_eq!(value(&facts, "query.a.rows"), &json!([{"x": 1}]));
        let (reason, _) = unknown(&facts, "query.b.rows");
        assert!(reason.contains("permission denied"));
    }
}
