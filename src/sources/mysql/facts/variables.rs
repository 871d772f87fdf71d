//! The server version and the `mysql.variables.*` facts: how each variable is
//! typed, and what its absence means on this flavour and version.

use super::*;

/// How a variable's value becomes a fact.
#[derive(Clone, Copy)]
pub(super) enum VarType {
    Bool,
    Int,
    Number,
    /// Upper-cased text (enumerations such as ROW, FULL, DETECT_ONLY).
    Upper,
    Text,
}

/// The variables recorded as `mysql.variables.<name>` facts.
pub(super) const VARIABLE_FACTS: &[(&str, VarType)] = &[
    ("log_bin", VarType::Bool),
    ("binlog_format", VarType::Upper),
    ("binlog_row_image", VarType::Upper),
    ("sync_binlog", VarType::Int),
    ("binlog_expire_logs_seconds", VarType::Int),
    ("expire_logs_days", VarType::Number),
    ("server_id", VarType::Int),
    ("gtid_mode", VarType::Upper),
    ("gtid_strict_mode", VarType::Bool),
    ("read_only", VarType::Bool),
    ("super_read_only", VarType::Bool),
    ("innodb_flush_log_at_trx_commit", VarType::Int),
    ("innodb_doublewrite", VarType::Upper),
    ("slow_query_log", VarType::Bool),
    ("long_query_time", VarType::Number),
    ("log_output", VarType::Upper),
    ("log_queries_not_using_indexes", VarType::Bool),
    ("performance_schema", VarType::Bool),
    ("require_secure_transport", VarType::Bool),
    ("have_ssl", VarType::Upper),
    ("tls_version", VarType::Text),
    ("max_connections", VarType::Int),
    ("server_audit_logging", VarType::Bool),
    ("server_audit_events", VarType::Upper),
    ("audit_log_policy", VarType::Upper),
    ("server_audit_incl_users", VarType::Text),
    ("server_audit_excl_users", VarType::Text),
    ("min_examined_row_limit", VarType::Int),
    ("log_slow_rate_limit", VarType::Int),
    ("innodb_flush_method", VarType::Upper),
];

pub(super) fn typed(value: &str, ty: VarType) -> Option<Json> {
    Some(match ty {
        VarType::Bool => Json::Bool(flag(value)?),
        VarType::Int => Json::from(value.trim().parse::<i64>().ok()?),
        VarType::Number => Json::from(value.trim().parse::<f64>().ok()?),
        VarType::Upper => Json::from(value.trim().to_ascii_uppercase()),
        VarType::Text => Json::from(value.trim()),
    })
}

/// What an absent variable means on this server.
pub(super) enum Absent {
    /// The value that applies, and why.
    Known(Json, String),
    Unknown(String),
}

pub(super) fn absent(name: &str, version: &ServerVersion) -> Absent {
    let mariadb = version.flavour == Flavour::Mariadb;
    let on = version.describe();
    match name {
        "server_audit_logging" => Absent::Known(
            json!(false),
            "the server_audit plugin is not loaded, so server_audit_logging does not exist".into(),
        ),
        "server_audit_events" => Absent::Known(json!(""), "the server_audit plugin is not loaded".into()),
        "server_audit_incl_users" | "server_audit_excl_users" => {
            Absent::Known(json!(""), "the server_audit plugin is not loaded".into())
        }
        "innodb_flush_method" => Absent::Known(
            json!(""),
            format!("innodb_flush_method does not exist on {on}: InnoDB chooses how it syncs"),
        ),
        "log_slow_rate_limit" if !mariadb => Absent::Known(
            json!(1),
            format!("{on} has no log_slow_rate_limit: every slow statement is written"),
        ),
        "require_secure_transport" => Absent::Known(
            json!(false),
            format!("require_secure_transport does not exist on {on} (MySQL 5.7.8+, MariaDB 10.5.2+): TLS cannot be required server-wide"),
        ),
        "super_read_only" if mariadb => Absent::Unknown(
            "MariaDB has no super_read_only (read_only there spares only accounts with READ_ONLY ADMIN)".into(),
        ),
        "gtid_mode" if mariadb => {
            Absent::Unknown("MariaDB has no gtid_mode: every binlogged transaction has a GTID".into())
        }
        "gtid_strict_mode" if !mariadb => Absent::Unknown("gtid_strict_mode is MariaDB-only".into()),
        "expire_logs_days" if !mariadb && version.at_least(8, 4, 0) => {
            Absent::Unknown("expire_logs_days was removed in MySQL 8.4; binlog_expire_logs_seconds applies".into())
        }
        "binlog_expire_logs_seconds" => Absent::Unknown(format!(
            "binlog_expire_logs_seconds does not exist on {on} (MySQL 8.0+, MariaDB 10.6.1+); expire_logs_days applies"
        )),
        "have_ssl" if !mariadb && version.at_least(8, 4, 0) => Absent::Unknown(
            "have_ssl was removed in MySQL 8.4; whether TLS is enabled is in performance_schema.tls_channel_status, which sqlready does not read yet".into(),
        ),
        "audit_log_policy" => Absent::Unknown("the audit_log plugin (MySQL Enterprise / Percona) is not loaded".into()),
        "performance_schema" => Absent::Known(json!(false), format!("{on} was built without performance_schema")),
        _ => Absent::Unknown(format!("{name} does not exist on {on}")),
    }
}

pub(super) fn version_facts(sink: &mut FactSink<'_>, identity: &Identity, today: NaiveDate) {
    let engine = identity.version.flavour.engine();
    let Some(major) = eol::major_of(engine, &identity.version.number()) else {
        sink.unknown(
            "version.major",
            format!(
                "cannot read a version number from '{}'",
                identity.version_text
            ),
            None,
        );
        return;
    };
    eol::record_support(
        sink,
        engine,
        identity.version.flavour.name(),
        &major,
        "VERSION()",
        today,
    );
}

pub(super) fn variable_facts(
    sink: &mut FactSink<'_>,
    identity: &Identity,
    vars: Option<&BTreeMap<String, String>>,
    vars_error: &str,
) {
    for (name, ty) in VARIABLE_FACTS {
        let path = format!("mysql.variables.{name}");
        let Some(vars) = vars else {
            sink.unknown(&path, vars_error, None);
            continue;
        };
        match vars.get(*name) {
            Some(raw) => match typed(raw, *ty) {
                Some(value) => sink.known(&path, format!("SHOW GLOBAL VARIABLES: {name}"), value),
                None => sink.unknown(
                    &path,
                    format!("{name} = '{raw}' is not a value sqlready understands"),
                    None,
                ),
            },
            None => match absent(name, &identity.version) {
                Absent::Known(value, why) => {
                    sink.known(&path, format!("SHOW GLOBAL VARIABLES: {why}"), value)
                }
                Absent::Unknown(why) => sink.unknown(&path, why, None),
            },
        }
    }
}
