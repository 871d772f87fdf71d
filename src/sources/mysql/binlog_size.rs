//! Binary-log retention by size as well as by time: MariaDB 11.4+ purges the
//! oldest binary logs once they take more than `max_binlog_total_size`
//! (alias `binlog_space_limit`), whatever `binlog_expire_logs_seconds` says,
//! so a busy server keeps less than its time retention. MySQL has no size
//! limit; older MariaDB has none either (the variable does not exist: 0).

use super::facts::name_values;
use super::facts::{Answer, Readings};
use crate::facts::FactSink;

/// The variables read (added to `queries::VARIABLES`).
pub const VARIABLES: &[&str] = &["max_binlog_total_size", "binlog_space_limit"];

/// `binlog.size_limit_bytes`: 0 when there is no limit.
pub fn facts(sink: &mut FactSink<'_>, readings: &Readings) {
    let path = "binlog.size_limit_bytes";
    let Some(vars) = name_values(readings.variables.as_ref()) else {
        let reason = match &readings.variables {
            Some(Answer::Failed { error, .. }) => format!("SHOW GLOBAL VARIABLES failed: {error}"),
            _ => "SHOW GLOBAL VARIABLES was not read".to_string(),
        };
        sink.unknown(path, reason, None);
        return;
    };
    let limit = VARIABLES
        .iter()
        .find_map(|name| vars.get(*name).map(|value| (*name, value)));
    match limit {
        None => sink.known(
            path,
            "no max_binlog_total_size / binlog_space_limit on this server (MySQL, MariaDB before 11.4): no size limit",
            0,
        ),
        Some((name, value)) => match value.trim().parse::<i64>() {
            Ok(bytes) => sink.known(path, format!("SHOW GLOBAL VARIABLES: {name}"), bytes),
            Err(_) => sink.unknown(
                path,
                format!("{name} = '{value}' is not a number of bytes"),
                None,
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as Json, json};

    fn readings(pairs: &[(&str, &str)]) -> Readings {
        let rows = pairs
            .iter()
            .map(|(name, value)| {
                [
                    ("Variable_name".to_string(), Json::String(name.to_string())),
                    ("Value".to_string(), Json::String(value.to_string())),
                ]
                .into_iter()
                .collect()
            })
            .collect();
        Readings {
            variables: Some(Answer::Rows(rows)),
            ..Readings::default()
        }
    }

    fn limit(readings: &Readings) -> Option<Json> {
        let mut sink = FactSink::new("mysql");
        facts(&mut sink, readings);
        sink.finish()["binlog.size_limit_bytes"].value().cloned()
    }

    #[test]
    fn a_size_limit_is_read_and_its_absence_is_none() {
        assert_eq!(limit(&readings(&[("log_bin", "ON")])), Some(json!(0)));
        let limited = readings(&[("max_binlog_total_size", "1073741824")]);
        assert_eq!(limit(&limited), Some(json!(1073741824)));
    }
}
