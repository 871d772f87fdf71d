//! Restore drills of RDS instances and clusters (checklist item
//! `restore_tested`): a backup nobody has restored is a hope, not a backup.
//!
//! Read once per region per run, never per instance:
//! - AWS Backup `ListRestoreJobs` (status COMPLETED, paged): a job whose
//!   `SourceResourceArn` is the target restored one of its recovery points
//!   (restore testing plans' jobs included, named by `CreatedBy`);
//! - RDS `DescribeEvents` (category restoration, the last 14 days: RDS keeps
//!   no older events): RDS-EVENT-0019 "Restored from DB instance X to Y"
//!   (source type db-instance: a point-in-time restore of X) and RDS-EVENT-0043
//!   "Restored from snapshot S" (source type db-snapshot, S its source; older
//!   answers give the same message on the new instance); S was taken of the
//!   instance its automated name (`rds:X-…`) or `DescribeDBSnapshots` tells,
//!   listed only when an event needs it.
//!
//! A refused call makes "none seen" unknown (a drill may be where it could not
//! look); a drill found is found whatever else was refused.

use super::aws_backup::Refused;
use crate::facts::FactSink;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// How far back `DescribeEvents` answers (RDS keeps events 14 days).
pub const EVENT_DAYS: i64 = 14;

/// One completed AWS Backup restore job.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreJob {
    pub id: String,
    /// `SourceResourceArn`: the resource the recovery point was taken of.
    pub source_arn: Option<String>,
    pub completed: Option<DateTime<Utc>>,
    /// `CreatedResourceArn`: what the restore made.
    pub created: Option<String>,
    /// `CreatedBy.RestoreTestingPlanArn`, for jobs of a restore testing plan.
    pub testing_plan: Option<String>,
    /// `ValidationStatus` of a restore testing job (SUCCESSFUL, FAILED, …).
    pub validation: Option<String>,
}

/// A restore the RDS events tell of.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreEvent {
    pub at: DateTime<Utc>,
    /// The instance the restore created; empty when the event does not say
    /// (a snapshot event).
    pub restored: String,
    pub from: RestoredFrom,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RestoredFrom {
    /// Point-in-time restore of this instance.
    Instance(String),
    /// Restore of this snapshot.
    Snapshot(String),
}

/// The events read, and the snapshots' instances when they had to be listed.
#[derive(Debug, Clone, PartialEq)]
pub struct EventReading {
    pub events: Vec<RestoreEvent>,
    /// Snapshot identifier → `DBInstanceIdentifier` (`DescribeDBSnapshots`);
    /// `Err` when that listing failed.
    pub snapshots: Result<HashMap<String, String>, String>,
}

impl Default for EventReading {
    fn default() -> Self {
        EventReading {
            events: Vec::new(),
            snapshots: Ok(HashMap::new()),
        }
    }
}

/// What a region's reads gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub jobs: Result<Vec<RestoreJob>, Refused>,
    pub events: Result<EventReading, Refused>,
}

/// The restore an RDS event message tells of (RDS-EVENT-0019, RDS-EVENT-0043).
pub fn parse_message(message: &str) -> Option<RestoredFrom> {
    let clean = |text: &str| {
        text.trim()
            .trim_end_matches('.')
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string()
    };
    if let Some(rest) = message.trim().strip_prefix("Restored from DB instance ") {
        let (source, _) = rest.split_once(" to ")?;
        return Some(RestoredFrom::Instance(clean(source)));
    }
    message
        .trim()
        .strip_prefix("Restored from snapshot ")
        .map(|rest| RestoredFrom::Snapshot(clean(rest)))
}

/// A snapshot's identifier from an ARN or a bare name.
fn snapshot_id(name: &str) -> &str {
    name.rsplit_once(":snapshot:").map_or(name, |(_, id)| id)
}

/// The instance an automated snapshot's name tells (`rds:ID-YYYY-MM-DD-HH-MM`).
fn automated_source(name: &str) -> Option<&str> {
    let rest = snapshot_id(name).strip_prefix("rds:")?;
    // The date suffix is 17 characters: -YYYY-MM-DD-HH-MM.
    let cut = rest.len().checked_sub(17)?;
    let (id, date) = rest.split_at(cut);
    let digits = date.chars().filter(char::is_ascii_digit).count();
    (digits == 12 && date.starts_with('-') && !id.is_empty()).then_some(id)
}

/// Snapshot names the events give whose instance neither the name nor a listing tells.
pub fn unresolved_snapshots(events: &[RestoreEvent]) -> Vec<String> {
    let mut names: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.from {
            RestoredFrom::Snapshot(name) if automated_source(name).is_none() => {
                Some(snapshot_id(name).to_string())
            }
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A restore found, newest first when sorted.
#[derive(Debug, Clone, PartialEq)]
struct Drill {
    at: DateTime<Utc>,
    how: String,
}

/// What to judge: an instance (its identifier for events) or a cluster.
pub struct Unit<'a> {
    pub id: &'a str,
    pub arn: Option<&'a str>,
    pub cluster: bool,
}

/// `rds.restore_drill.*` for one target.
pub fn facts(sink: &mut FactSink<'_>, unit: &Unit<'_>, reading: &Reading, now: DateTime<Utc>) {
    let mut drills: Vec<Drill> = Vec::new();
    let mut blind: Vec<(String, String)> = Vec::new();
    match (&reading.jobs, unit.arn) {
        (Ok(jobs), Some(arn)) => {
            drills.extend(
                jobs.iter()
                    .filter(|job| job.source_arn.as_deref() == Some(arn))
                    .filter_map(|job| {
                        Some(Drill {
                            at: job.completed?,
                            how: job_how(job),
                        })
                    }),
            );
        }
        (Ok(_), None) => blind.push((
            "the RDS answer has no ARN to match AWS Backup restore jobs against".into(),
            String::new(),
        )),
        (Err(refused), _) => blind.push((
            format!(
                "AWS Backup restore jobs could not be read: {}",
                refused.message
            ),
            refused.permission.clone(),
        )),
    }
    if !unit.cluster {
        match &reading.events {
            Ok(reading) => {
                for event in &reading.events {
                    let source = match &event.from {
                        RestoredFrom::Instance(source) => Some((
                            source.clone(),
                            format!("point-in-time restore to {}", event.restored),
                        )),
                        RestoredFrom::Snapshot(name) => {
                            let listed = match &reading.snapshots {
                                Ok(map) => map.get(snapshot_id(name)).cloned(),
                                Err(_) => None,
                            };
                            let source = automated_source(name).map(str::to_string).or(listed);
                            if source.is_none()
                                && let Err(reason) = &reading.snapshots
                            {
                                blind.push((
                                    format!("the instance snapshot {name} (restored on {}) was taken of is not known: {reason}", event.at.format("%Y-%m-%d")),
                                    "rds:DescribeDBSnapshots".into(),
                                ));
                            }
                            let to = if event.restored.is_empty() {
                                String::new()
                            } else {
                                format!(" to {}", event.restored)
                            };
                            source.map(|s| (s, format!("restore of snapshot {name}{to}")))
                        }
                    };
                    if let Some((source, how)) = source
                        && source == unit.id
                    {
                        drills.push(Drill {
                            at: event.at,
                            how: format!("{how} (RDS event)"),
                        });
                    }
                }
            }
            Err(refused) => blind.push((
                format!("RDS events could not be read: {}", refused.message),
                refused.permission.clone(),
            )),
        }
    }
    let searched = if unit.cluster {
        "AWS Backup restore jobs (RDS events of cluster restores are not read)".to_string()
    } else {
        format!(
            "AWS Backup restore jobs and the RDS events of the last {EVENT_DAYS} days (RDS keeps no older events)"
        )
    };
    let paths = [
        "rds.restore_drill.last",
        "rds.restore_drill.age_days",
        "rds.restore_drill.how",
    ];
    drills.sort_by_key(|d| std::cmp::Reverse(d.at));
    let Some(newest) = drills.first() else {
        if !blind.is_empty() {
            let reasons: Vec<&str> = blind.iter().map(|(r, _)| r.as_str()).collect();
            let mut permissions: Vec<&str> = blind
                .iter()
                .map(|(_, p)| p.as_str())
                .filter(|p| !p.is_empty())
                .collect();
            permissions.dedup();
            let resolve =
                (!permissions.is_empty()).then(|| format!("allow {}", permissions.join(" and ")));
            for path in paths.iter().chain(["rds.restore_drill.searched"].iter()) {
                sink.unknown(
                    path,
                    format!("no restore of it seen, and {}", reasons.join("; ")),
                    resolve.as_deref(),
                );
            }
            return;
        }
        let origin = format!("no restore of {} in {searched}", unit.id);
        for path in paths {
            sink.known(path, origin.clone(), serde_json::Value::Null);
        }
        sink.known("rds.restore_drill.searched", origin, searched);
        return;
    };
    let origin = format!("the newest restore of {} in {searched}", unit.id);
    sink.known(
        "rds.restore_drill.last",
        origin.clone(),
        newest.at.format("%Y-%m-%d").to_string(),
    );
    sink.known(
        "rds.restore_drill.age_days",
        origin.clone(),
        (now - newest.at).num_days(),
    );
    sink.known("rds.restore_drill.how", origin.clone(), newest.how.clone());
    sink.known("rds.restore_drill.searched", origin, searched);
}

fn job_how(job: &RestoreJob) -> String {
    let mut how = format!("AWS Backup restore job {}", job.id);
    if let Some(plan) = &job.testing_plan {
        let name = plan.rsplit(':').next().unwrap_or(plan);
        how.push_str(&format!(" of restore testing plan {name}"));
    }
    if let Some(created) = &job.created {
        how.push_str(&format!(
            " to {}",
            created.rsplit(':').next().unwrap_or(created)
        ));
    }
    if let Some(validation) = &job.validation {
        how.push_str(&format!(", validation {validation}"));
    }
    how
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const ARN: &str = "arn:aws:rds:eu-west-1:123456789012:db:orders";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
            .single()
            .expect("a date")
    }

    fn days_ago(days: i64) -> DateTime<Utc> {
        now() - chrono::Duration::days(days)
    }

    fn instance() -> Unit<'static> {
        Unit {
            id: "orders",
            arn: Some(ARN),
            cluster: false,
        }
    }

    fn refused(permission: &str) -> Refused {
        Refused {
            permission: permission.into(),
            message: "AccessDenied".into(),
        }
    }

    fn run(unit: &Unit<'_>, reading: &Reading) -> crate::facts::Facts {
        let mut sink = FactSink::new("rds");
        facts(&mut sink, unit, reading, now());
        sink.finish()
    }

    #[test]
    fn messages_name_the_source_instance_or_snapshot() {
        assert_eq!(
            parse_message("Restored from DB instance orders to orders-drill"),
            Some(RestoredFrom::Instance("orders".into()))
        );
        assert_eq!(
            parse_message("Restored from snapshot orders-manual-1."),
            Some(RestoredFrom::Snapshot("orders-manual-1".into()))
        );
        assert_eq!(parse_message("DB instance created"), None);
        assert_eq!(
            automated_source("rds:orders-2026-11-20-05-10"),
            Some("orders")
        );
        assert_eq!(automated_source("orders-manual-1"), None);
    }

    #[test]
    fn the_newest_restore_of_this_instance_counts() {
        let reading = Reading {
            jobs: Ok(vec![RestoreJob {
                id: "job-1".into(),
                source_arn: Some(ARN.into()),
                completed: Some(days_ago(40)),
                created: Some("arn:aws:rds:eu-west-1:123456789012:db:orders-test".into()),
                testing_plan: Some(
                    "arn:aws:backup:eu-west-1:123456789012:restore-testing-plan:monthly".into(),
                ),
                validation: Some("SUCCESSFUL".into()),
            }]),
            events: Ok(EventReading {
                events: vec![
                    RestoreEvent {
                        at: days_ago(3),
                        restored: "orders-pitr".into(),
                        from: RestoredFrom::Instance("orders".into()),
                    },
                    RestoreEvent {
                        at: days_ago(1),
                        restored: "billing-copy".into(),
                        from: RestoredFrom::Instance("billing".into()),
                    },
                ],
                snapshots: Ok(HashMap::new()),
            }),
        };
        let facts = run(&instance(), &reading);
        assert_eq!(facts["rds.restore_drill.age_days"].value(), Some(&3.into()));
        let how = facts["rds.restore_drill.how"].value().unwrap().to_string();
        assert!(
            how.contains("point-in-time restore to orders-pitr"),
            "{how}"
        );
        // Without the event, the restore testing job.
        let mut older = reading.clone();
        older.events = Ok(EventReading::default());
        let facts = run(&instance(), &older);
        assert_eq!(
            facts["rds.restore_drill.age_days"].value(),
            Some(&40.into())
        );
        let how = facts["rds.restore_drill.how"].value().unwrap().to_string();
        assert!(how.contains("restore testing plan monthly"), "{how}");
    }

    #[test]
    fn a_snapshot_restore_counts_for_the_snapshots_instance() {
        let reading = Reading {
            jobs: Ok(Vec::new()),
            events: Ok(EventReading {
                events: vec![RestoreEvent {
                    at: days_ago(2),
                    restored: "drill".into(),
                    from: RestoredFrom::Snapshot("before-upgrade".into()),
                }],
                snapshots: Ok([("before-upgrade".to_string(), "orders".to_string())].into()),
            }),
        };
        let facts = run(&instance(), &reading);
        assert_eq!(facts["rds.restore_drill.age_days"].value(), Some(&2.into()));
        let other = Unit {
            id: "billing",
            arn: Some("arn:aws:rds:eu-west-1:123456789012:db:billing"),
            cluster: false,
        };
        assert_eq!(
            run(&other, &reading)["rds.restore_drill.last"].value(),
            Some(&serde_json::Value::Null)
        );
    }

    #[test]
    fn none_seen_is_known_only_when_everything_was_read() {
        let nothing = Reading {
            jobs: Ok(Vec::new()),
            events: Ok(EventReading::default()),
        };
        let facts = run(&instance(), &nothing);
        assert_eq!(
            facts["rds.restore_drill.last"].value(),
            Some(&serde_json::Value::Null)
        );
        let denied = Reading {
            jobs: Err(refused("backup:ListRestoreJobs")),
            ..nothing.clone()
        };
        let facts = run(&instance(), &denied);
        assert!(matches!(
            &facts["rds.restore_drill.age_days"].state,
            crate::facts::FactState::Unknown { resolve: Some(r), .. } if r.contains("backup:ListRestoreJobs")
        ));
        // A cluster is not judged by instance events: their refusal does not matter.
        let events_denied = Reading {
            events: Err(refused("rds:DescribeEvents")),
            ..nothing
        };
        let cluster = Unit {
            id: "aurora",
            arn: Some("arn:aws:rds:eu-west-1:123456789012:cluster:aurora"),
            cluster: true,
        };
        assert_eq!(
            run(&cluster, &events_denied)["rds.restore_drill.last"].value(),
            Some(&serde_json::Value::Null)
        );
        assert!(
            run(&instance(), &events_denied)["rds.restore_drill.last"]
                .value()
                .is_none()
        );
    }
}
