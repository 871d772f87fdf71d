//! What sessions actually get, not what the server-wide configuration says.
//!
//! `pg_settings` shows the audit session's own values: the server default
//! plus whatever `ALTER ROLE … SET` / `ALTER DATABASE … SET` give the
//! auditor. An application role can still run with `synchronous_commit =
//! off` or `log_statement = none` through its own override, so this module
//! reads `pg_db_role_setting` (per role, per database, per role in a
//! database; readable by every role) for the settings checks judge, and
//! turns each override that reaches a login role into a row of
//! `postgres.setting_overrides`. It also reads the sibling settings that
//! nullify a configured one (a log level that discards the lines, pgaudit
//! writing at a pgaudit.log_level below log_min_messages, a statistics
//! extension told to track nothing, an archive library without its
//! directory), and whether pg_hba.conf changed after the server last loaded
//! it (`pg_hba_file_rules` shows the file, not what is enforced).
//!
//! Only the settings named in [`OVERRIDABLE`] are read from the catalog:
//! other overrides can hold secrets (`ALTER DATABASE … SET app.jwt_secret`).

use super::facts::{PrivilegedDoc, SettingRow, setting_value};
use crate::facts::FactSink;
use serde::Deserialize;
use serde_json::{Value as Json, json};

/// Settings a check judges that a role or database can override (user or
/// superuser context in PostgreSQL), lower case as PostgreSQL stores them.
pub const OVERRIDABLE: &[&str] = &[
    "synchronous_commit",
    "log_min_duration_statement",
    "log_min_messages",
    "log_connections",
    "log_disconnections",
    "pgaudit.log",
    "pgaudit.log_level",
    "log_statement",
    "password_encryption",
    "pg_stat_statements.track",
    "compute_query_id",
];

/// Server-wide values of the settings that nullify others, by name.
pub const NULLIFIERS: &[&str] = &[
    "log_min_messages",
    "logging_collector",
    "log_destination",
    "pg_stat_statements.track",
    "pgaudit.log_level",
];

/// Overrides and nullifying settings: every part readable by PUBLIC. `$1`
/// is [`OVERRIDABLE`], `$2` is [`NULLIFIERS`]. An override counts when it
/// reaches a login role (`setrole = 0` is every role) in a database that
/// accepts connections (`setdatabase = 0` is every database): a role's
/// settings apply only when it logs in, never through membership or
/// `SET ROLE`. Settings of extensions that are not loaded in this backend
/// are read with `current_setting(name, true)` (NULL when unset anywhere).
pub const QUERY: &str = r#"
SELECT json_build_object(
  'overrides', (SELECT coalesce(json_agg(json_build_object(
        'role', r.rolname, 'database', d.datname,
        'name', lower(split_part(c.item, '=', 1)),
        'value', substr(c.item, strpos(c.item, '=') + 1),
        'vartype', p.vartype, 'unit', p.unit)
        ORDER BY d.datname NULLS FIRST, r.rolname NULLS FIRST, c.item), '[]'::json)
      FROM pg_catalog.pg_db_role_setting s
      LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
      LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
      CROSS JOIN LATERAL unnest(s.setconfig) AS c(item)
      LEFT JOIN pg_catalog.pg_settings p ON p.name = lower(split_part(c.item, '=', 1))
      WHERE (s.setrole = 0 OR r.rolcanlogin)
        AND (s.setdatabase = 0 OR d.datallowconn)
        AND lower(split_part(c.item, '=', 1)) = ANY($1)),
  'settings', (SELECT json_object_agg(n, current_setting(n, true)) FROM unnest($2::text[]) AS n),
  'session_overridden', (SELECT coalesce(json_agg(json_build_object('name', name, 'source', source)), '[]'::json)
      FROM pg_catalog.pg_settings
      WHERE name = ANY($1) AND source IN ('database', 'user', 'database user')),
  'limits', (SELECT coalesce(json_agg(l ORDER BY l.kind DESC, l.name), '[]'::json) FROM (
      SELECT 'role' AS kind, r.rolname AS name, r.rolconnlimit AS "limit",
             (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.usename = r.rolname) AS used
        FROM pg_catalog.pg_roles r WHERE r.rolcanlogin AND r.rolconnlimit >= 0
      UNION ALL
      SELECT 'database', d.datname, d.datconnlimit,
             (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.datname = d.datname)
        FROM pg_catalog.pg_database d WHERE d.datallowconn AND d.datconnlimit >= 0) l),
  'basic_archive_directory', current_setting('basic_archive.archive_directory', true),
  'hba_stat_allowed', (pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')
        OR coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), false))
      AND has_function_privilege('pg_catalog.pg_stat_file(text)', 'EXECUTE')
)::text
"#;

/// When pg_hba.conf last changed and when the server last loaded its
/// configuration, in seconds since the epoch (superuser, or pg_read_all_settings
/// plus EXECUTE on pg_stat_file). The file time has whole seconds.
pub const HBA_LOAD: &str = r#"
SELECT json_build_object(
  'file_changed', extract(epoch FROM (pg_catalog.pg_stat_file(current_setting('hba_file'))).modification),
  'loaded', extract(epoch FROM pg_catalog.pg_conf_load_time()))::text
"#;

/// What [`QUERY`] (and [`HBA_LOAD`] when permitted) answered.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EffectiveDoc {
    #[serde(default)]
    pub overrides: Vec<OverrideRow>,
    /// Server-wide values of [`NULLIFIERS`]; NULL where a setting does not exist.
    #[serde(default)]
    pub settings: std::collections::BTreeMap<String, Option<String>>,
    /// Settings whose value in the audit session comes from an override of
    /// the audit's own role or database (pg_settings.source), hiding the
    /// server-wide value.
    #[serde(default)]
    pub session_overridden: Vec<SessionOverride>,
    /// Login roles and databases with a CONNECTION LIMIT, and their sessions now.
    #[serde(default)]
    pub limits: Vec<LimitRow>,
    /// NULL when basic_archive.archive_directory is set nowhere.
    #[serde(default)]
    pub basic_archive_directory: Option<String>,
    #[serde(default)]
    pub hba_stat_allowed: bool,
    /// Filled from [`HBA_LOAD`]; None when it was not permitted or failed.
    #[serde(default)]
    pub hba_load: Option<HbaLoad>,
}

/// A `CONNECTION LIMIT` of a login role (`rolconnlimit`) or a database
/// (`datconnlimit`): reached, it refuses that role's or database's next
/// connection however much room the server has.
#[derive(Debug, Clone, Deserialize)]
pub struct LimitRow {
    /// `role` or `database`.
    pub kind: String,
    pub name: String,
    pub limit: i64,
    /// Sessions of that role / in that database now (pg_stat_activity).
    pub used: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionOverride {
    pub name: String,
    /// `database`, `user` or `database user`.
    pub source: String,
}

/// One `name=value` entry of pg_db_role_setting.
#[derive(Debug, Clone, Deserialize)]
pub struct OverrideRow {
    /// NULL: every role (`ALTER DATABASE … SET`, `ALTER ROLE ALL …`).
    pub role: Option<String>,
    /// NULL: every database.
    pub database: Option<String>,
    pub name: String,
    pub value: String,
    /// From pg_settings; NULL for a setting this session cannot see.
    pub vartype: Option<String>,
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HbaLoad {
    pub file_changed: f64,
    pub loaded: f64,
}

/// Who an override reaches, in words: "role app in database shop".
pub fn scope(row: &OverrideRow) -> String {
    match (&row.role, &row.database) {
        (Some(role), Some(db)) => format!("role {role} in database {db}"),
        (Some(role), None) => format!("role {role} (every database)"),
        (None, Some(db)) => format!("every role in database {db}"),
        (None, None) => "every role (ALTER ROLE ALL)".to_string(),
    }
}

/// An override's value typed like the server's: integers in the setting's
/// own unit (`'5s'` for a setting in ms is 5000), booleans from any of
/// PostgreSQL's spellings, enums in lower case.
pub fn typed_value(row: &OverrideRow) -> Json {
    let raw = row.value.trim();
    let vartype = row.vartype.as_deref().unwrap_or("string");
    let normalized = match vartype {
        "bool" => match parse_bool(raw) {
            Some(true) => "on".to_string(),
            Some(false) => "off".to_string(),
            None => raw.to_string(),
        },
        "integer" => match to_unit(raw, row.unit.as_deref()) {
            Some(n) => n.round().to_string(),
            None => raw.to_string(),
        },
        "enum" => raw.to_ascii_lowercase(),
        _ => raw.to_string(),
    };
    let as_row = SettingRow {
        name: row.name.clone(),
        setting: Some(normalized.clone()),
        vartype: vartype.to_string(),
        unit: row.unit.clone(),
        pending_restart: false,
    };
    setting_value(&as_row).unwrap_or(Json::String(normalized))
}

/// PostgreSQL's `parse_bool`: on/off, true/false, yes/no, 1/0 and unique prefixes.
fn parse_bool(raw: &str) -> Option<bool> {
    let value = raw.to_ascii_lowercase();
    let prefix_of = |word: &str| !value.is_empty() && word.starts_with(value.as_str());
    if value == "1" || prefix_of("true") || prefix_of("yes") || value == "on" {
        return Some(true);
    }
    if value == "0" || prefix_of("false") || prefix_of("no") || value == "of" || value == "off" {
        return Some(false);
    }
    None
}

/// A number with an optional unit converted to `unit` (the setting's own).
fn to_unit(raw: &str, unit: Option<&str>) -> Option<f64> {
    let split = raw
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+')))
        .unwrap_or(raw.len());
    let (number, given) = raw.split_at(split);
    let number: f64 = number.trim().parse().ok()?;
    let given = given.trim();
    if given.is_empty() {
        return Some(number);
    }
    let factor = |u: &str| -> Option<(f64, bool)> {
        // (size in a common base, is time): time in microseconds, memory in bytes.
        Some(match u {
            "us" => (1.0, true),
            "ms" => (1e3, true),
            "s" => (1e6, true),
            "min" => (60e6, true),
            "h" => (3600e6, true),
            "d" => (86400e6, true),
            "B" => (1.0, false),
            "kB" => (1024.0, false),
            "8kB" => (8192.0, false),
            "MB" => (1024.0 * 1024.0, false),
            "GB" => (1024.0 * 1024.0 * 1024.0, false),
            "TB" => (1024.0 * 1024.0 * 1024.0 * 1024.0, false),
            _ => return None,
        })
    };
    let (from, from_time) = factor(given)?;
    let (to, to_time) = factor(unit?)?;
    (from_time == to_time).then(|| number * from / to)
}

/// Facts about what is in effect. `hba_errors` says whether pg_hba.conf has
/// lines the server would refuse (a reload then keeps the old rules).
pub fn facts(
    sink: &mut FactSink<'_>,
    doc: Option<&EffectiveDoc>,
    privileged: &PrivilegedDoc,
    user: &str,
) {
    let Some(doc) = doc else {
        let reason = "role and database overrides could not be read (pg_db_role_setting)";
        sink.unknown("postgres.setting_overrides", reason, None);
        sink.unknown("network.hba_loaded", reason, None);
        sink.unknown("connections.limits", reason, None);
        for name in NULLIFIERS {
            sink.unknown(&nullifier_path(name), reason, None);
        }
        return;
    };
    let rows: Vec<Json> = doc
        .overrides
        .iter()
        .map(|row| {
            json!({
                "role": row.role.clone().unwrap_or_default(),
                "database": row.database.clone().unwrap_or_default(),
                "name": row.name,
                "value": typed_value(row),
                "scope": scope(row),
            })
        })
        .collect();
    sink.known(
        "postgres.setting_overrides",
        "pg_db_role_setting: overrides that reach a login role (ALTER ROLE / ALTER DATABASE … SET)",
        rows,
    );
    for name in NULLIFIERS {
        let path = nullifier_path(name);
        let origin = format!("current_setting('{name}')");
        let value = doc.settings.get(*name).cloned().flatten();
        let typed = match (*name, value) {
            ("logging_collector", Some(v)) => Json::Bool(parse_bool(&v).unwrap_or(false)),
            // An extension that is not loaded has no setting: '' stands for it.
            (_, None) => Json::String(String::new()),
            (_, Some(v)) => Json::String(v.to_ascii_lowercase()),
        };
        sink.known(&path, origin, typed);
    }
    let limits: Vec<Json> = doc
        .limits
        .iter()
        .map(|l| json!({"kind": l.kind, "name": l.name, "limit": l.limit, "used": l.used}))
        .collect();
    sink.known(
        "connections.limits",
        "pg_roles.rolconnlimit (login roles) and pg_database.datconnlimit, with their sessions in pg_stat_activity",
        limits,
    );
    session_overridden(sink, doc, user);
    hba_loaded(sink, doc, privileged, user);
}

/// pg_settings shows the audit session's value: when the audit's own role or
/// database overrides a setting, the server-wide value that every other role
/// gets is not visible, so the setting's fact becomes unknown (its override
/// rows still name what the audit role gets).
fn session_overridden(sink: &mut FactSink<'_>, doc: &EffectiveDoc, user: &str) {
    for row in &doc.session_overridden {
        let path = nullifier_path(&row.name);
        if crate::facts::schema::spec(&path).is_none() {
            continue;
        }
        let by = match row.source.as_str() {
            "database" => "ALTER DATABASE … SET for the audited database",
            "user" => "ALTER ROLE … SET for the audit's role",
            _ => "ALTER ROLE … IN DATABASE … SET for the audit's role in this database",
        };
        sink.unknown(
            &path,
            format!(
                "role {user}'s session gets {} from {by} (pg_settings.source = {}): the server-wide value other roles get is hidden",
                row.name, row.source
            ),
            Some(&format!(
                "audit with a role and database that do not override {}, or remove the override (ALTER ROLE {user} RESET {}; ALTER DATABASE … RESET {})",
                row.name, row.name, row.name
            )),
        );
    }
}

/// The fact path of a nullifying setting (`pg_stat_statements.track` →
/// `postgres.settings.pg_stat_statements_track`).
fn nullifier_path(name: &str) -> String {
    format!("postgres.settings.{}", name.replace('.', "_"))
}

/// Whether what pg_hba_file_rules shows is what the server enforces.
fn hba_loaded(sink: &mut FactSink<'_>, doc: &EffectiveDoc, privileged: &PrivilegedDoc, user: &str) {
    let path = "network.hba_loaded";
    let invalid: Vec<i64> = privileged
        .hba
        .iter()
        .flatten()
        .filter(|rule| rule.error.is_some())
        .map(|rule| rule.line)
        .collect();
    if !invalid.is_empty() {
        sink.known(
            path,
            format!(
                "pg_hba_file_rules.error on line(s) {invalid:?}: a reload refuses a file with invalid lines and keeps the rules loaded before"
            ),
            false,
        );
        return;
    }
    let Some(load) = &doc.hba_load else {
        let fix = format!(
            "GRANT pg_read_all_settings TO {user}; GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text) TO {user};"
        );
        sink.unknown(
            path,
            format!(
                "when pg_hba.conf last changed is read with pg_stat_file(current_setting('hba_file')), which role {user} may not run"
            ),
            Some(&fix),
        );
        return;
    };
    // The file time has whole seconds: a change in the same second as the
    // load cannot be ordered.
    if load.file_changed > load.loaded {
        sink.known(
            path,
            "pg_stat_file(hba_file).modification is after pg_conf_load_time(): pg_hba.conf changed and was not reloaded",
            false,
        );
    } else if load.file_changed + 1.0 <= load.loaded {
        sink.known(
            path,
            "pg_stat_file(hba_file).modification is before pg_conf_load_time(): the rules on disk are the loaded ones",
            true,
        );
    } else {
        sink.unknown(
            path,
            "pg_hba.conf changed within the second of the last configuration load, and the file time has whole seconds: which came first cannot be told",
            Some("SELECT pg_reload_conf(); then audit again"),
        );
    }
}

/// Whether WAL archiving through `archive_library` can work.
#[derive(Debug, Clone, PartialEq)]
pub enum LibraryState {
    /// Not a library whose settings sqlready knows, or configured.
    Configured,
    /// It archives nothing, and why.
    Halted(String),
    /// Its settings could not be read.
    Unknown(String),
}

impl LibraryState {
    /// Why it is halted or unknown; empty when configured.
    pub fn reason(&self) -> &str {
        match self {
            LibraryState::Configured => "",
            LibraryState::Halted(why) | LibraryState::Unknown(why) => why,
        }
    }
}

/// basic_archive with no `basic_archive.archive_directory` archives nothing
/// ("an empty string … effectively halts WAL archiving"; the archiver only
/// warns and counts no failure).
pub fn archive_library_state(library: Option<&str>, doc: Option<&EffectiveDoc>) -> LibraryState {
    if library != Some("basic_archive") {
        return LibraryState::Configured;
    }
    let Some(doc) = doc else {
        return LibraryState::Unknown(
            "archive_library = basic_archive, and whether basic_archive.archive_directory is set could not be read".into(),
        );
    };
    match doc.basic_archive_directory.as_deref().map(str::trim) {
        None | Some("") => LibraryState::Halted(
            "archive_library = basic_archive, and basic_archive.archive_directory is empty: the archiver archives nothing and counts no failure".into(),
        ),
        Some(_) => LibraryState::Configured,
    }
}

/// Reads [`QUERY`], then [`HBA_LOAD`] when the role may; None (with a
/// warning) when the overrides could not be read.
pub async fn read(
    conn: &mut sqlx::postgres::PgConnection,
    options: &super::CollectOptions,
    evidence: &mut Vec<crate::facts::RawEvidence>,
) -> Option<EffectiveDoc> {
    let overridable: Vec<String> = OVERRIDABLE.iter().map(|s| s.to_string()).collect();
    let nullifiers: Vec<String> = NULLIFIERS.iter().map(|s| s.to_string()).collect();
    let text = super::client_bound(
        options,
        sqlx::query_scalar::<_, String>(QUERY)
            .bind(&overridable)
            .bind(&nullifiers)
            .fetch_one(&mut *conn),
    )
    .await;
    let text = match text {
        Ok(Ok(text)) => text,
        Ok(Err(err)) => {
            tracing::warn!(error = %super::errors::describe_database_error(&err), "role and database overrides unavailable");
            return None;
        }
        Err(late) => {
            tracing::warn!("reading role and database overrides: {late}");
            return None;
        }
    };
    let response: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
    evidence.push(crate::facts::RawEvidence {
        source: super::facts::SOURCE.into(),
        name: "effective settings".into(),
        request: QUERY.trim().into(),
        response: response.clone(),
    });
    let mut doc: EffectiveDoc = serde_json::from_value(response).ok()?;
    if doc.hba_stat_allowed {
        let load = super::client_bound(
            options,
            sqlx::query_scalar::<_, String>(HBA_LOAD).fetch_one(&mut *conn),
        )
        .await;
        if let Ok(Ok(text)) = load {
            let response: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
            evidence.push(crate::facts::RawEvidence {
                source: super::facts::SOURCE.into(),
                name: "pg_hba.conf load time".into(),
                request: HBA_LOAD.trim().into(),
                response: response.clone(),
            });
            doc.hba_load = serde_json::from_value(response).ok();
        }
    }
    Some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, value: &str, vartype: &str, unit: Option<&str>) -> OverrideRow {
        OverrideRow {
            role: Some("app".into()),
            database: None,
            name: name.into(),
            value: value.into(),
            vartype: Some(vartype.into()),
            unit: unit.map(str::to_string),
        }
    }

    #[test]
    fn values_are_typed_in_the_settings_own_unit() {
        let ms = |v| typed_value(&row("log_min_duration_statement", v, "integer", Some("ms")));
        assert_eq!(ms("5s"), json!(5000));
        assert_eq!(ms("250"), json!(250));
        assert_eq!(ms("-1"), json!(-1));
        assert_eq!(ms("1min"), json!(60000));
        assert_eq!(ms("1.5s"), json!(1500));
        let enumerated = typed_value(&row("synchronous_commit", "OFF", "enum", None));
        assert_eq!(enumerated, json!("off"));
        let boolean = |v| typed_value(&row("log_connections", v, "bool", None));
        assert_eq!(boolean("t"), json!(true));
        assert_eq!(boolean("of"), json!(false));
        assert_eq!(boolean("0"), json!(false));
        let audit = typed_value(&row("pgaudit.log", "NONE", "string", None));
        assert_eq!(audit, json!("none"));
    }

    #[test]
    fn scopes_name_role_and_database() {
        let mut r = row("synchronous_commit", "off", "enum", None);
        assert_eq!(scope(&r), "role app (every database)");
        r.database = Some("shop".into());
        assert_eq!(scope(&r), "role app in database shop");
        r.role = None;
        assert_eq!(scope(&r), "every role in database shop");
    }

    #[test]
    fn basic_archive_without_a_directory_halts_archiving() {
        let doc = EffectiveDoc::default();
        let state = |lib, doc| archive_library_state(Some(lib), doc);
        assert!(matches!(
            state("basic_archive", Some(&doc)),
            LibraryState::Halted(_)
        ));
        let set = EffectiveDoc {
            basic_archive_directory: Some("/archive".into()),
            ..EffectiveDoc::default()
        };
        assert_eq!(state("basic_archive", Some(&set)), LibraryState::Configured);
        assert_eq!(state("other_lib", Some(&doc)), LibraryState::Configured);
        assert!(matches!(
            state("basic_archive", None),
            LibraryState::Unknown(_)
        ));
    }

    fn loaded(file_changed: f64, loaded: f64) -> Option<Json> {
        let doc = EffectiveDoc {
            hba_load: Some(HbaLoad {
                file_changed,
                loaded,
            }),
            ..EffectiveDoc::default()
        };
        let mut sink = FactSink::new("postgres");
        hba_loaded(&mut sink, &doc, &PrivilegedDoc::default(), "auditor");
        sink.finish()["network.hba_loaded"].value().cloned()
    }

    #[test]
    fn a_setting_the_audit_session_gets_from_an_override_is_unknown() {
        let doc = EffectiveDoc {
            session_overridden: vec![SessionOverride {
                name: "synchronous_commit".into(),
                source: "user".into(),
            }],
            ..EffectiveDoc::default()
        };
        let mut sink = FactSink::new("postgres");
        sink.known("postgres.settings.synchronous_commit", "pg_settings", "on");
        session_overridden(&mut sink, &doc, "auditor");
        let facts = sink.finish();
        let fact = &facts["postgres.settings.synchronous_commit"];
        assert!(fact.value().is_none(), "{fact:?}");
    }

    #[test]
    fn hba_changed_after_the_load_is_not_loaded() {
        assert_eq!(loaded(1000.0, 999.5), Some(json!(false)));
        assert_eq!(loaded(1000.0, 1001.2), Some(json!(true)));
        // Same second: cannot be ordered.
        assert_eq!(loaded(1000.0, 1000.4), None);
    }
}
