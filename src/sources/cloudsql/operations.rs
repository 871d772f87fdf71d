//! Restore drills and copies of production data, from the project's
//! `operations.list` (read once per project, [`super::project`]): pure
//! functions over the operations and the instances listed with them.
//!
//! What an operation tells: `targetId` is the instance the method was called
//! on. `instances.clone` is called on the source, so a `CLONE` operation names
//! the instance that was cloned, not the clone; `instances.restoreBackup` is
//! called on the instance restored into, so a `RESTORE_VOLUME` names that one,
//! not the instance whose backup it was. Hence:
//!
//! - a restore drill of an instance is a `CLONE` of it, or a `RESTORE_VOLUME`
//!   into it, `DONE` without `error`;
//! - the clone a `CLONE` made is found among the instances listed with it: one
//!   created while the operation ran (`createTime` between its `startTime`
//!   and `endTime`, a minute either side). A clone deleted since (the usual
//!   drill: clone, check, delete) is no standing copy.
//!
//! The Admin API keeps a limited history of operations; how far back the
//! operations read reach is a fact of its own.

use crate::facts::FactSink;
use chrono::{DateTime, Utc};
use google_cloud_sql_v1::model::DatabaseInstance;
use google_cloud_sql_v1::model::Operation;
use google_cloud_sql_v1::model::operation::{SqlOperationStatus, SqlOperationType};
use serde_json::json;

/// Label keys that name an instance's environment, and the values that mean production.
pub const ENVIRONMENT_LABELS: [&str; 3] = ["env", "environment", "stage"];
const PRODUCTION: [&str; 4] = ["prod", "production", "prd", "live"];

fn time(t: &Option<google_cloud_wkt::Timestamp>) -> Option<DateTime<Utc>> {
    let t = t.as_ref()?;
    DateTime::from_timestamp(t.seconds(), t.nanos().max(0) as u32)
}

/// The environment label of an instance (`env`, `environment`, `stage`), lower case; empty when none.
pub fn environment(instance: &DatabaseInstance) -> String {
    let labels = instance.settings.as_ref().map(|s| &s.user_labels);
    labels
        .and_then(|labels| {
            ENVIRONMENT_LABELS.iter().find_map(|key| {
                labels
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v.to_lowercase())
            })
        })
        .unwrap_or_default()
}

fn is_production(environment: &str) -> bool {
    PRODUCTION.contains(&environment)
}

/// A finished operation that did what it was asked.
fn succeeded(op: &Operation) -> bool {
    op.status == SqlOperationStatus::Done && op.error.as_ref().is_none_or(|e| e.errors.is_empty())
}

/// The operation's short name (its id), for messages.
fn short(op: &Operation) -> String {
    op.name.rsplit('/').next().unwrap_or(&op.name).to_string()
}

fn type_name(op: &Operation) -> String {
    op.operation_type
        .name()
        .map(str::to_string)
        .unwrap_or_else(|| format!("UNKNOWN({:?})", op.operation_type.value()))
}

/// The restore drills of `instance`, newest first.
pub fn drills<'a>(operations: &'a [Operation], instance: &str) -> Vec<&'a Operation> {
    let mut drills: Vec<&Operation> = operations
        .iter()
        .filter(|op| op.target_id == instance && succeeded(op))
        .filter(|op| {
            matches!(
                op.operation_type,
                SqlOperationType::Clone | SqlOperationType::RestoreVolume
            )
        })
        .collect();
    drills.sort_by_key(|op| std::cmp::Reverse(time(&op.end_time)));
    drills
}

/// Instances of `peers` created while a `CLONE` of `instance` ran: its clones, still there.
pub fn clones<'a>(
    operations: &'a [Operation],
    instance: &str,
    peers: &'a [DatabaseInstance],
) -> Vec<(&'a Operation, &'a DatabaseInstance)> {
    let slack = chrono::Duration::minutes(1);
    let mut found = Vec::new();
    for op in operations {
        if op.target_id != instance
            || op.operation_type != SqlOperationType::Clone
            || !succeeded(op)
        {
            continue;
        }
        let (Some(start), Some(end)) = (
            time(&op.start_time).or(time(&op.insert_time)),
            time(&op.end_time),
        ) else {
            continue;
        };
        for peer in peers {
            let created = time(&peer.create_time);
            if peer.name != instance
                && created.is_some_and(|c| c >= start - slack && c <= end + slack)
            {
                found.push((op, peer));
            }
        }
    }
    found
}

/// Records the restore and copy facts of `instance` (of `project`).
/// `truncated`: older operations exist than those read.
pub fn facts(
    sink: &mut FactSink<'_>,
    operations: &[Operation],
    truncated: bool,
    instance: &DatabaseInstance,
    peers: &[DatabaseInstance],
    now: DateTime<Utc>,
) {
    let name = instance.name.as_str();
    let oldest = operations
        .iter()
        .filter_map(|op| time(&op.start_time).or(time(&op.insert_time)))
        .min();
    let reach = oldest.map_or(0, |t| (now - t).num_days().max(0));
    let origin = format!(
        "operations.list of the project ({} operation(s), back {reach} day(s){}): CLONE of {name} or RESTORE_VOLUME into it, status DONE without error",
        operations.len(),
        if truncated {
            ", older ones not read"
        } else {
            ""
        }
    );
    sink.known("cloudsql.restore.operations_days", origin.clone(), reach);
    let drills = drills(operations, name);
    sink.known(
        "cloudsql.restore.drill_count",
        origin.clone(),
        drills.len() as i64,
    );
    match drills.first() {
        Some(op) => {
            let ended = time(&op.end_time);
            sink.known(
                "cloudsql.restore.last_drill",
                origin.clone(),
                format!(
                    "{} {} ended {}",
                    type_name(op),
                    short(op),
                    ended.map_or("(no endTime)".to_string(), |t| t.date_naive().to_string())
                ),
            );
            match ended {
                Some(t) => sink.known(
                    "cloudsql.restore.last_drill_age_days",
                    origin.clone(),
                    (now - t).num_days().max(0),
                ),
                None => sink.unknown(
                    "cloudsql.restore.last_drill_age_days",
                    format!("operation {} has no endTime", short(op)),
                    None,
                ),
            }
        }
        None => {
            sink.known("cloudsql.restore.last_drill", origin.clone(), "");
            sink.known(
                "cloudsql.restore.last_drill_age_days",
                origin.clone(),
                serde_json::Value::Null,
            );
        }
    }
    let own = environment(instance);
    let copy_origin = format!(
        "operations.list CLONE of {name} (DONE) paired with the instances listed whose createTime falls within it; labels {}",
        ENVIRONMENT_LABELS.join(", ")
    );
    let rows: Vec<serde_json::Value> = if !own.is_empty() && !is_production(&own) {
        Vec::new()
    } else {
        clones(operations, name, peers)
            .into_iter()
            .map(|(op, peer)| (op, peer, environment(peer)))
            .filter(|(_, _, env)| !is_production(env))
            .map(|(op, peer, env)| {
                json!({
                    "instance": peer.name,
                    "environment": env,
                    "operation": short(op),
                    "ended": time(&op.end_time).map(|t| t.date_naive().to_string()).unwrap_or_default(),
                })
            })
            .collect()
    };
    let copy_origin = if !own.is_empty() && !is_production(&own) {
        format!(
            "{copy_origin}; {name} is labelled {own}, not production: its copies are not production data"
        )
    } else {
        copy_origin
    };
    sink.known("cloudsql.copies.standing", copy_origin, rows);
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_sql_v1::model::{OperationError, OperationErrors, Settings};

    fn at(t: DateTime<Utc>) -> google_cloud_wkt::Timestamp {
        google_cloud_wkt::Timestamp::clamp(t.timestamp(), 0)
    }

    fn op(kind: SqlOperationType, target: &str, ended: DateTime<Utc>) -> Operation {
        Operation::new()
            .set_name(format!(
                "projects/acme/operations/{target}-{}",
                ended.timestamp()
            ))
            .set_operation_type(kind)
            .set_target_id(target)
            .set_status(SqlOperationStatus::Done)
            .set_start_time(at(ended - chrono::Duration::minutes(10)))
            .set_end_time(at(ended))
    }

    fn instance(name: &str, env: Option<&str>, created: DateTime<Utc>) -> DatabaseInstance {
        let mut settings = Settings::new();
        if let Some(env) = env {
            settings = settings.set_user_labels([("env", env)]);
        }
        DatabaseInstance::new()
            .set_name(name)
            .set_settings(settings)
            .set_create_time(at(created))
    }

    #[test]
    fn a_recent_clone_is_a_drill_and_a_failed_one_is_not() {
        let now = Utc::now();
        let failed = op(
            SqlOperationType::Clone,
            "orders",
            now - chrono::Duration::days(1),
        )
        .set_error(OperationErrors::new().set_errors([OperationError::new().set_code("X")]));
        let good = op(
            SqlOperationType::Clone,
            "orders",
            now - chrono::Duration::days(20),
        );
        let other = op(SqlOperationType::BackupVolume, "orders", now);
        let ops = vec![failed, good, other];
        let mut sink = FactSink::new("cloudsql");
        facts(
            &mut sink,
            &ops,
            false,
            &instance("orders", None, now),
            &[],
            now,
        );
        let got = sink.finish();
        assert_eq!(got["cloudsql.restore.drill_count"].value(), Some(&json!(1)));
        assert_eq!(
            got["cloudsql.restore.last_drill_age_days"].value(),
            Some(&json!(20))
        );
    }

    #[test]
    fn a_clone_still_there_in_a_dev_instance_is_a_standing_copy() {
        let now = Utc::now();
        let ended = now - chrono::Duration::days(3);
        let clone = op(SqlOperationType::Clone, "orders", ended);
        let peers = vec![
            instance("orders", Some("prod"), now - chrono::Duration::days(300)),
            instance(
                "orders-dev",
                Some("dev"),
                ended - chrono::Duration::minutes(5),
            ),
            instance("unrelated", Some("dev"), now - chrono::Duration::days(100)),
            instance("scratch", None, now - chrono::Duration::days(10)),
        ];
        let mut sink = FactSink::new("cloudsql");
        facts(&mut sink, &[clone], false, &peers[0], &peers, now);
        let got = sink.finish();
        let rows = got["cloudsql.copies.standing"].value().unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
        assert_eq!(rows[0]["instance"], "orders-dev");
        assert_eq!(rows[0]["environment"], "dev");
        // A dev instance's own clones are not production data.
        let dev_clone = op(
            SqlOperationType::Clone,
            "orders-dev",
            now - chrono::Duration::days(10) + chrono::Duration::minutes(5),
        );
        let mut sink = FactSink::new("cloudsql");
        facts(&mut sink, &[dev_clone], false, &peers[1], &peers, now);
        assert_eq!(
            sink.finish()["cloudsql.copies.standing"].value(),
            Some(&json!([]))
        );
    }
}
