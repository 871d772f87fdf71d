//! Configuration written but not running: MySQL 8.0+ keeps `SET PERSIST` and
//! `SET PERSIST_ONLY` values in `mysqld-auto.cnf`, listed by
//! `performance_schema.persisted_variables`. A persisted value that differs
//! from the running global one (a `PERSIST_ONLY` of a read-only variable, or
//! a later `SET GLOBAL`) takes over at the next restart. The checks judge the
//! running values; this says which ones a restart would change.
//!
//! MariaDB has no `SET PERSIST` and no such table: its configuration is only
//! in option files, which SQL cannot read (docs/mysql.md).

use super::facts::{Answer, Identity, Readings, text};
use super::queries::Flavour;
use crate::facts::FactSink;

/// Persisted variables whose running global value differs (names only:
/// values of some variables are sensitive). Read on MySQL 8.0+ only.
pub const QUERY: &str = "SELECT p.VARIABLE_NAME AS name \
FROM performance_schema.persisted_variables p \
LEFT JOIN performance_schema.global_variables g ON g.VARIABLE_NAME = p.VARIABLE_NAME \
WHERE g.VARIABLE_VALUE IS NULL OR g.VARIABLE_VALUE <> p.VARIABLE_VALUE ORDER BY p.VARIABLE_NAME";

/// Whether this version has persisted variables to read.
pub fn applies(identity: &Identity) -> bool {
    identity.version.flavour == Flavour::Mysql && identity.version.at_least(8, 0, 0)
}

/// `mysql.pending_restart`: on MySQL 8.0+ only (MariaDB's checks do not apply).
pub fn facts(sink: &mut FactSink<'_>, identity: &Identity, readings: &Readings) {
    if !applies(identity) {
        return;
    }
    let path = "mysql.pending_restart";
    match &readings.persisted {
        Some(Answer::Rows(rows)) => {
            let names: Vec<String> = rows
                .iter()
                .filter_map(|row| text(row, "name"))
                .map(|name| name.to_ascii_lowercase())
                .collect();
            sink.known(
                path,
                "performance_schema.persisted_variables against performance_schema.global_variables",
                names,
            );
        }
        Some(Answer::Failed { error, denied }) => {
            let fix = denied.then(|| {
                format!(
                    "GRANT SELECT ON performance_schema.persisted_variables TO {0}; GRANT SELECT ON performance_schema.global_variables TO {0};",
                    identity.account
                )
            });
            sink.unknown(
                path,
                format!("performance_schema.persisted_variables could not be read: {error}"),
                fix.as_deref(),
            );
        }
        None => sink.unknown(path, "persisted variables were not read", None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FactState;
    use serde_json::{Value as Json, json};

    fn identity(version: &str, comment: &str) -> Identity {
        let row = [
            ("version", version),
            ("version_comment", comment),
            ("account", "auditor@%"),
            ("privileges", "PROCESS"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), Json::String(v.to_string())))
        .collect();
        Identity::from_row(&row).expect("identity")
    }

    #[test]
    fn a_persisted_value_that_is_not_running_is_pending() {
        let row = [("name".to_string(), json!("INNODB_BUFFER_POOL_INSTANCES"))]
            .into_iter()
            .collect();
        let readings = Readings {
            persisted: Some(Answer::Rows(vec![row])),
            ..Readings::default()
        };
        let mut sink = FactSink::new("mysql");
        facts(
            &mut sink,
            &identity("8.0.36", "MySQL Community Server - GPL"),
            &readings,
        );
        let facts_ = sink.finish();
        match &facts_["mysql.pending_restart"].state {
            FactState::Known { value } => {
                assert_eq!(value, &json!(["innodb_buffer_pool_instances"]))
            }
            other => panic!("{other:?}"),
        }
        // MariaDB has no persisted variables: no fact, and the check does not apply.
        let mut sink = FactSink::new("mysql");
        facts(
            &mut sink,
            &identity("10.11.6-MariaDB", "MariaDB Server"),
            &readings,
        );
        assert!(!sink.finish().contains_key("mysql.pending_restart"));
    }
}
