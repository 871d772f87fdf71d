//! CloudWatch alarms on RDS metrics (`cloudwatch:DescribeAlarms`, paged once
//! per region per run, never per instance): the alerting that wakes someone
//! before storage (FreeStorageSpace; FreeLocalStorage on Aurora), CPU, memory
//! or connections run out, or a replica falls behind (ReplicaLag;
//! AuroraReplicaLag or AuroraReplicaLagMaximum for an Aurora cluster's readers). An alarm covers a metric of a target when one of the metrics it
//! watches (its own, or a metric-math alarm's `Metrics[].MetricStat.Metric`)
//! is that `AWS/RDS` metric with a `DBInstanceIdentifier` dimension naming the
//! instance, or a `DBClusterIdentifier` dimension naming its cluster; a
//! cluster is also covered by per-member alarms when every member has one.
//! An alarm counts only when it can notify (`ActionsEnabled` and at least one
//! `AlarmActions` entry) and is not stuck in `INSUFFICIENT_DATA` (which is
//! what an alarm on a misspelt identifier or a gone instance does).

use crate::facts::FactSink;
use chrono::{DateTime, Duration, Utc};

/// An alarm in `INSUFFICIENT_DATA` for longer than this watches nothing.
pub const STALE_AFTER_HOURS: i64 = 24;

/// One metric an alarm watches.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Watched {
    pub namespace: String,
    pub metric: String,
    /// `(Name, Value)` of its dimensions.
    pub dimensions: Vec<(String, String)>,
}

/// One metric alarm as `DescribeAlarms` lists it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alarm {
    pub name: String,
    pub actions_enabled: bool,
    /// `AlarmActions` (SNS topics, automations); `OK`/`INSUFFICIENT_DATA` actions do not wake anyone.
    pub alarm_actions: usize,
    pub state: String,
    pub state_updated: Option<DateTime<Utc>>,
    pub watches: Vec<Watched>,
}

impl Alarm {
    pub fn from_sdk(alarm: &aws_sdk_cloudwatch::types::MetricAlarm) -> Alarm {
        let dims = |list: &[aws_sdk_cloudwatch::types::Dimension]| {
            list.iter()
                .map(|d| {
                    (
                        d.name().unwrap_or_default().to_string(),
                        d.value().unwrap_or_default().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let mut watches = Vec::new();
        if let Some(metric) = alarm.metric_name() {
            watches.push(Watched {
                namespace: alarm.namespace().unwrap_or_default().to_string(),
                metric: metric.to_string(),
                dimensions: dims(alarm.dimensions()),
            });
        }
        for query in alarm.metrics() {
            if let Some(metric) = query.metric_stat().and_then(|s| s.metric()) {
                watches.push(Watched {
                    namespace: metric.namespace().unwrap_or_default().to_string(),
                    metric: metric.metric_name().unwrap_or_default().to_string(),
                    dimensions: dims(metric.dimensions()),
                });
            }
        }
        Alarm {
            name: alarm.alarm_name().unwrap_or_default().to_string(),
            actions_enabled: alarm.actions_enabled().unwrap_or(false),
            alarm_actions: alarm.alarm_actions().len(),
            state: alarm
                .state_value()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            state_updated: alarm
                .state_updated_timestamp()
                .and_then(super::facts::to_chrono),
            watches,
        }
    }

    /// Why the alarm would not wake anyone, if so.
    fn not_counted(&self, now: DateTime<Utc>) -> Option<String> {
        if !self.actions_enabled {
            return Some("ActionsEnabled is false".into());
        }
        if self.alarm_actions == 0 {
            return Some("no AlarmActions".into());
        }
        let stale = self
            .state_updated
            .is_some_and(|at| now - at > Duration::hours(STALE_AFTER_HOURS));
        if self.state == "INSUFFICIENT_DATA" && stale {
            return Some(format!(
                "INSUFFICIENT_DATA for more than {STALE_AFTER_HOURS} hours (the metric it names reports nothing)"
            ));
        }
        None
    }
}

/// The region's alarms, or why they could not be read.
pub type Alarms = Result<Vec<Alarm>, super::aws_backup::Refused>;

/// What the alarms are matched against for one target.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Subject {
    /// The standalone instance, or none for a cluster.
    pub instance: Option<String>,
    /// The cluster and its members.
    pub cluster: Option<String>,
    pub members: Vec<String>,
    /// The members that are not the writer (`DBClusterMembers[].IsClusterWriter` false).
    pub readers: Vec<String>,
    pub aurora: bool,
    pub replica: bool,
}

/// The metrics alerting needs for a target. Aurora storage grows by itself,
/// but each instance's local storage (temporary tables, logs) does not:
/// FreeLocalStorage there, FreeStorageSpace elsewhere. A read replica's lag
/// (ReplicaLag; AuroraReplicaLag for an Aurora cluster's readers) is what
/// makes its reads stale.
pub fn wanted(subject: &Subject) -> Vec<&'static str> {
    let mut wanted = vec![
        if subject.aurora {
            "FreeLocalStorage"
        } else {
            "FreeStorageSpace"
        },
        "CPUUtilization",
        "FreeableMemory",
        "DatabaseConnections",
    ];
    if subject.replica && !subject.aurora {
        wanted.push("ReplicaLag");
    }
    if subject.aurora && !subject.readers.is_empty() {
        wanted.push("AuroraReplicaLag");
    }
    wanted
}

/// The metrics an alarm may watch to cover `metric`: the lag of every Aurora
/// reader is also watched by AuroraReplicaLagMaximum (reported by the writer
/// and the cluster).
fn equivalents(metric: &str) -> &'static [&'static str] {
    match metric {
        "AuroraReplicaLag" => &["AuroraReplicaLag", "AuroraReplicaLagMaximum"],
        "FreeStorageSpace" => &["FreeStorageSpace"],
        "FreeLocalStorage" => &["FreeLocalStorage"],
        "CPUUtilization" => &["CPUUtilization"],
        "FreeableMemory" => &["FreeableMemory"],
        "DatabaseConnections" => &["DatabaseConnections"],
        "ReplicaLag" => &["ReplicaLag"],
        _ => &[],
    }
}

/// The ids an `AWS/RDS` metric of the alarm names, by dimension.
fn names(watched: &Watched, dimension: &str) -> Option<String> {
    (watched.namespace == "AWS/RDS")
        .then(|| {
            watched
                .dimensions
                .iter()
                .find(|(name, _)| name == dimension)
                .map(|(_, value)| value.clone())
        })
        .flatten()
}

/// The metrics the alarm watches that stand for `metric`.
fn on_metric<'a>(alarm: &'a Alarm, metric: &str) -> impl Iterator<Item = &'a Watched> {
    let accepted = equivalents(metric);
    alarm
        .watches
        .iter()
        .filter(move |w| accepted.contains(&w.metric.as_str()))
}

/// Whether the alarm watches `metric` of the subject (see the module doc).
fn watches(alarm: &Alarm, subject: &Subject, metric: &str) -> bool {
    let instance = |id: &str| {
        on_metric(alarm, metric).any(|w| names(w, "DBInstanceIdentifier").is_some_and(|v| v == id))
    };
    if let Some(id) = &subject.instance {
        return instance(id);
    }
    let cluster = subject.cluster.as_ref().is_some_and(|cluster| {
        on_metric(alarm, metric)
            .any(|w| names(w, "DBClusterIdentifier").is_some_and(|v| &v == cluster))
    });
    // AuroraReplicaLagMaximum of any member (the writer reports it) covers every reader.
    let maximum = metric == "AuroraReplicaLag"
        && alarm.watches.iter().any(|w| {
            w.metric == "AuroraReplicaLagMaximum"
                && names(w, "DBInstanceIdentifier").is_some_and(|v| subject.members.contains(&v))
        });
    cluster || maximum
}

/// Whether per-member alarms cover every member of a cluster for `metric`
/// (every reader, for AuroraReplicaLag: the writer has no lag).
fn members_covered(counted: &[&Alarm], subject: &Subject, metric: &str) -> bool {
    let members = if metric == "AuroraReplicaLag" {
        &subject.readers
    } else {
        &subject.members
    };
    subject.instance.is_none()
        && !members.is_empty()
        && members.iter().all(|member| {
            counted.iter().any(|alarm| {
                on_metric(alarm, metric)
                    .any(|w| names(w, "DBInstanceIdentifier").is_some_and(|v| &v == member))
            })
        })
}

/// Whether the alarm names the subject at all (any metric).
fn concerns(alarm: &Alarm, subject: &Subject) -> bool {
    alarm.watches.iter().any(|w| {
        let instance = names(w, "DBInstanceIdentifier");
        let cluster = names(w, "DBClusterIdentifier");
        instance
            .as_ref()
            .is_some_and(|v| subject.instance.as_ref() == Some(v) || subject.members.contains(v))
            || cluster.is_some_and(|v| subject.cluster.as_ref() == Some(&v))
    })
}

/// `rds.alarms.*` and `monitoring.alerting` for one target.
pub fn facts(sink: &mut FactSink<'_>, subject: &Subject, alarms: &Alarms, now: DateTime<Utc>) {
    let paths = [
        "rds.alarms.wanted",
        "rds.alarms.missing",
        "rds.alarms.covering",
        "rds.alarms.not_counted",
        "monitoring.alerting",
    ];
    let alarms = match alarms {
        Ok(alarms) => alarms,
        Err(refused) => {
            let resolve = format!("allow {} (CloudWatchReadOnlyAccess)", refused.permission);
            for path in paths {
                sink.unknown(
                    path,
                    format!("CloudWatch alarms could not be read: {}", refused.message),
                    Some(resolve.as_str()),
                );
            }
            return;
        }
    };
    let wanted = wanted(subject);
    let mine: Vec<&Alarm> = alarms.iter().filter(|a| concerns(a, subject)).collect();
    let mut not_counted = Vec::new();
    let mut counted: Vec<&Alarm> = Vec::new();
    for alarm in &mine {
        match alarm.not_counted(now) {
            Some(why) => not_counted.push(format!("{}: {why}", alarm.name)),
            None => counted.push(alarm),
        }
    }
    let mut covering: Vec<String> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    for metric in &wanted {
        let by: Vec<&&Alarm> = counted
            .iter()
            .filter(|a| watches(a, subject, metric))
            .collect();
        if by.is_empty() && !members_covered(&counted, subject, metric) {
            missing.push(metric.to_string());
        }
        for alarm in by {
            let named = format!("{} ({metric})", alarm.name);
            if !covering.contains(&named) {
                covering.push(named);
            }
        }
    }
    if subject.instance.is_none() {
        // Per-member alarms that cover every member, named once each.
        for alarm in &counted {
            for w in &alarm.watches {
                let member = names(w, "DBInstanceIdentifier");
                let named = format!("{} ({})", alarm.name, w.metric);
                let stands_for = wanted
                    .iter()
                    .find(|m| equivalents(m).contains(&w.metric.as_str()));
                if member.is_some_and(|m| subject.members.contains(&m))
                    && stands_for.is_some_and(|m| !missing.iter().any(|x| x == m))
                    && !covering.contains(&named)
                {
                    covering.push(named);
                }
            }
        }
    }
    let target = match (&subject.instance, &subject.cluster) {
        (Some(id), _) => format!("DBInstanceIdentifier = {id}"),
        (None, Some(id)) => {
            format!("DBClusterIdentifier = {id} (or DBInstanceIdentifier of every member)")
        }
        (None, None) => "no identifier".into(),
    };
    let origin = format!(
        "cloudwatch:DescribeAlarms: {} alarm(s) in the region, {} on AWS/RDS metrics with {target}; counted when ActionsEnabled with AlarmActions and not INSUFFICIENT_DATA for over {STALE_AFTER_HOURS} h",
        alarms.len(),
        mine.len()
    );
    sink.known("rds.alarms.wanted", origin.clone(), wanted.clone());
    sink.known("rds.alarms.missing", origin.clone(), missing.clone());
    sink.known("rds.alarms.covering", origin.clone(), covering);
    sink.known("rds.alarms.not_counted", origin.clone(), not_counted);
    sink.known("monitoring.alerting", origin, missing.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
            .single()
            .expect("a date")
    }

    fn alarm(name: &str, metric: &str, dimension: &str, id: &str) -> Alarm {
        Alarm {
            name: name.into(),
            actions_enabled: true,
            alarm_actions: 1,
            state: "OK".into(),
            state_updated: Some(now() - Duration::days(10)),
            watches: vec![Watched {
                namespace: "AWS/RDS".into(),
                metric: metric.into(),
                dimensions: vec![(dimension.into(), id.into())],
            }],
        }
    }

    fn instance(id: &str) -> Subject {
        Subject {
            instance: Some(id.into()),
            ..Subject::default()
        }
    }

    fn run(subject: &Subject, alarms: Vec<Alarm>) -> crate::facts::Facts {
        let mut sink = FactSink::new("rds");
        facts(&mut sink, subject, &Ok(alarms), now());
        sink.finish()
    }

    fn list(facts: &crate::facts::Facts, path: &str) -> Vec<String> {
        serde_json::from_value(facts[path].value().cloned().unwrap_or_default()).unwrap_or_default()
    }

    fn every(id: &str, dimension: &str) -> Vec<Alarm> {
        [
            "FreeStorageSpace",
            "CPUUtilization",
            "FreeableMemory",
            "DatabaseConnections",
        ]
        .iter()
        .map(|m| alarm(&format!("{id}-{m}"), m, dimension, id))
        .collect()
    }

    #[test]
    fn alarms_on_every_metric_cover_an_instance() {
        let facts = run(&instance("orders"), every("orders", "DBInstanceIdentifier"));
        assert!(list(&facts, "rds.alarms.missing").is_empty());
        assert_eq!(list(&facts, "rds.alarms.covering").len(), 4);
        assert_eq!(facts["monitoring.alerting"].value(), Some(&true.into()));
    }

    #[test]
    fn alarms_without_actions_or_stuck_without_data_do_not_count() {
        let mut alarms = every("orders", "DBInstanceIdentifier");
        alarms[0].actions_enabled = false;
        alarms[1].alarm_actions = 0;
        alarms[2].state = "INSUFFICIENT_DATA".into();
        // Freshly in INSUFFICIENT_DATA (just created): still counts.
        alarms[3].state = "INSUFFICIENT_DATA".into();
        alarms[3].state_updated = Some(now() - Duration::hours(1));
        let facts = run(&instance("orders"), alarms);
        assert_eq!(
            list(&facts, "rds.alarms.missing"),
            ["FreeStorageSpace", "CPUUtilization", "FreeableMemory"]
        );
        let ignored = list(&facts, "rds.alarms.not_counted");
        assert!(
            ignored[0].contains("ActionsEnabled is false"),
            "{ignored:?}"
        );
        assert!(ignored[1].contains("no AlarmActions"), "{ignored:?}");
        assert!(ignored[2].contains("INSUFFICIENT_DATA"), "{ignored:?}");
        assert_eq!(facts["monitoring.alerting"].value(), Some(&false.into()));
    }

    #[test]
    fn another_instance_or_namespace_or_an_aggregate_does_not_cover() {
        let mut alarms = every("billing", "DBInstanceIdentifier");
        alarms.push(alarm(
            "class",
            "CPUUtilization",
            "DatabaseClass",
            "db.r6g.large",
        ));
        let mut other = alarm(
            "agent",
            "FreeStorageSpace",
            "DBInstanceIdentifier",
            "orders",
        );
        other.watches[0].namespace = "CWAgent".into();
        alarms.push(other);
        let facts = run(&instance("orders"), alarms);
        assert_eq!(list(&facts, "rds.alarms.missing").len(), 4);
    }

    #[test]
    fn a_metric_math_alarm_counts_through_its_metric_stats() {
        let mut alarms = every("orders", "DBInstanceIdentifier");
        let mut math = alarms.remove(0);
        math.watches.push(Watched {
            namespace: "AWS/RDS".into(),
            metric: "AllocatedStorage".into(),
            dimensions: vec![],
        });
        alarms.push(math);
        let facts = run(&instance("orders"), alarms);
        assert!(list(&facts, "rds.alarms.missing").is_empty());
    }

    #[test]
    fn replicas_need_lag_and_aurora_needs_local_storage() {
        let mut replica = instance("orders-ro");
        replica.replica = true;
        let facts = run(&replica, every("orders-ro", "DBInstanceIdentifier"));
        assert_eq!(list(&facts, "rds.alarms.missing"), ["ReplicaLag"]);

        let aurora = Subject {
            cluster: Some("c1".into()),
            members: vec!["c1-w".into(), "c1-a".into(), "c1-b".into()],
            readers: vec!["c1-a".into(), "c1-b".into()],
            aurora: true,
            ..Subject::default()
        };
        // On Aurora FreeStorageSpace is not wanted, FreeLocalStorage is.
        let mut alarms: Vec<Alarm> = every("c1", "DBClusterIdentifier");
        let facts = run(&aurora, alarms.clone());
        assert_eq!(
            list(&facts, "rds.alarms.missing"),
            ["FreeLocalStorage", "AuroraReplicaLag"]
        );
        alarms.push(alarm(
            "local",
            "FreeLocalStorage",
            "DBClusterIdentifier",
            "c1",
        ));
        // AuroraReplicaLag on each reader (the writer has no lag), not on the cluster.
        alarms.push(alarm(
            "lag-a",
            "AuroraReplicaLag",
            "DBInstanceIdentifier",
            "c1-a",
        ));
        let facts = run(&aurora, alarms.clone());
        assert_eq!(list(&facts, "rds.alarms.missing"), ["AuroraReplicaLag"]);
        let mut both = alarms.clone();
        both.push(alarm(
            "lag-b",
            "AuroraReplicaLag",
            "DBInstanceIdentifier",
            "c1-b",
        ));
        let facts = run(&aurora, both);
        assert!(list(&facts, "rds.alarms.missing").is_empty());
        assert!(list(&facts, "rds.alarms.covering").contains(&"lag-b (AuroraReplicaLag)".into()));
        // Or AuroraReplicaLagMaximum, which the writer reports for all readers.
        alarms.push(alarm(
            "lag-max",
            "AuroraReplicaLagMaximum",
            "DBInstanceIdentifier",
            "c1-w",
        ));
        let facts = run(&aurora, alarms);
        assert!(list(&facts, "rds.alarms.missing").is_empty());
    }

    #[test]
    fn refused_is_unknown_naming_the_permission() {
        let mut sink = FactSink::new("rds");
        let refused = Err(super::super::aws_backup::Refused {
            permission: "cloudwatch:DescribeAlarms".into(),
            message: "AccessDenied".into(),
        });
        facts(&mut sink, &instance("orders"), &refused, now());
        let facts = sink.finish();
        assert!(
            matches!(&facts["rds.alarms.missing"].state, crate::facts::FactState::Unknown { resolve: Some(r), .. } if r.contains("cloudwatch:DescribeAlarms"))
        );
    }
}
