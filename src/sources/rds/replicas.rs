//! Which read replicas count: a replica is a failover and read target only when it is up
//! and applying changes. RDS lists a primary's replicas by name
//! (`ReadReplicaDBInstanceIdentifiers`) whatever their state; a replica whose
//! `DBInstanceStatus` is `stopped`, `failed`, `storage-full`… or whose `StatusInfos`
//! "read replication" entry says `error`, `stopped` or `terminated` is listed all the same.
//! Each one is therefore described and judged; one that could not be described is neither
//! counted nor held against the primary.

use aws_sdk_rds::types::DbInstance;
use std::collections::HashMap;

/// `DBInstanceStatus` values in which an instance serves reads and applies changes
/// (the RDS console's "available for use" states, per the DB instance status table).
pub const SERVING: &[&str] = &[
    "available",
    "backing-up",
    "storage-optimization",
    "configuring-enhanced-monitoring",
    "configuring-log-exports",
    "configuring-iam-database-auth",
];

/// What the replicas of one primary (or the readers of one cluster) were found to be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// Up and replicating.
    pub healthy: Vec<String>,
    /// `ID: why` — listed, but not a failover or read target now.
    pub unhealthy: Vec<String>,
    /// `ID: why` — could not be described (another region, access, a cluster).
    pub unverified: Vec<String>,
}

/// Why an instance is not a working replica, or `None` when it is.
pub fn problem(db: &DbInstance) -> Option<String> {
    let status = db.db_instance_status().unwrap_or("unknown");
    if !SERVING.contains(&status) {
        return Some(format!("DBInstanceStatus is {status}"));
    }
    let replication = db
        .status_infos()
        .iter()
        .find(|i| i.status_type() == Some("read replication"))?;
    let state = replication.status().unwrap_or_default();
    if matches!(state, "error" | "stopped" | "terminated") || replication.normal() == Some(false) {
        let message = replication
            .message()
            .filter(|m| !m.is_empty())
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        return Some(format!("read replication is {state}{message}"));
    }
    None
}

/// Judges the listed replica identifiers against what was described for them
/// (`Err` carries why one could not be).
pub fn judge(ids: &[String], described: &HashMap<String, Result<DbInstance, String>>) -> Health {
    let mut health = Health::default();
    for id in ids {
        match described.get(id) {
            Some(Ok(db)) => match problem(db) {
                None => health.healthy.push(id.clone()),
                Some(why) => health.unhealthy.push(format!("{id}: {why}")),
            },
            Some(Err(why)) => health.unverified.push(format!("{id}: {why}")),
            None => health
                .unverified
                .push(format!("{id}: not described in this audit")),
        }
    }
    health
}

/// The region of a replica named by ARN (`arn:aws:rds:eu-west-1:…:db:ID`), if it is one.
pub fn arn_region(id: &str) -> Option<&str> {
    let mut parts = id.split(':');
    (parts.next() == Some("arn")).then_some(())?;
    parts.nth(2).filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::types::DbInstanceStatusInfo;

    fn replica(status: &str, replication: Option<(&str, bool, &str)>) -> DbInstance {
        let mut b = DbInstance::builder()
            .db_instance_identifier("r")
            .db_instance_status(status);
        if let Some((state, normal, message)) = replication {
            b = b.status_infos(
                DbInstanceStatusInfo::builder()
                    .status_type("read replication")
                    .status(state)
                    .normal(normal)
                    .message(message)
                    .build(),
            );
        }
        b.build()
    }

    #[test]
    fn a_replicating_available_replica_is_healthy() {
        assert_eq!(
            problem(&replica("available", Some(("replicating", true, "")))),
            None
        );
        assert_eq!(problem(&replica("backing-up", None)), None);
    }

    #[test]
    fn error_stopped_or_down_replicas_are_named_with_why() {
        let why = problem(&replica(
            "available",
            Some((
                "error",
                false,
                "Replication has stopped because of error 1062",
            )),
        ))
        .unwrap();
        assert!(
            why.contains("read replication is error") && why.contains("1062"),
            "{why}"
        );
        assert!(problem(&replica("available", Some(("stopped", false, "")))).is_some());
        assert!(problem(&replica("available", Some(("terminated", false, "")))).is_some());
        assert_eq!(
            problem(&replica("storage-full", Some(("replicating", true, "")))).unwrap(),
            "DBInstanceStatus is storage-full"
        );
        assert!(problem(&replica("stopped", None)).is_some());
        assert!(problem(&replica("incompatible-parameters", None)).is_some());
    }

    #[test]
    fn judge_splits_healthy_unhealthy_and_unverified() {
        let mut described = HashMap::new();
        described.insert("a".to_string(), Ok(replica("available", None)));
        described.insert("b".to_string(), Ok(replica("failed", None)));
        described.insert("c".to_string(), Err("AccessDenied".to_string()));
        let ids: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let h = judge(&ids, &described);
        assert_eq!(h.healthy, ["a"]);
        assert_eq!(h.unhealthy, ["b: DBInstanceStatus is failed"]);
        assert_eq!(h.unverified.len(), 2);
    }

    #[test]
    fn arns_name_their_region() {
        assert_eq!(
            arn_region("arn:aws:rds:eu-west-1:123456789012:db:orders-dr"),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("orders-replica"), None);
    }
}
