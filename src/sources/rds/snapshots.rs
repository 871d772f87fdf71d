//! Manual snapshots and who may restore them: copies of production data
//! leaving production. `DescribeDBSnapshots` and `DescribeDBClusterSnapshots`
//! (`SnapshotType=manual`, paged) are listed once per region per run; then,
//! for the manual snapshots of the audited databases only, one
//! `DescribeDBSnapshotAttributes` / `DescribeDBClusterSnapshotAttributes` per
//! snapshot (bounded concurrency, cached for the run): its `restore`
//! attribute lists the AWS accounts allowed to restore (copy) it, or `all` —
//! public. Automated snapshots cannot be shared, so they are not read.

use crate::facts::FactSink;
use std::collections::BTreeSet;

/// One manual snapshot of the target and who may restore it.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub id: String,
    /// The `restore` attribute's values (`all`, account ids), or why they are not known.
    pub restore: Result<Vec<String>, super::aws_backup::Refused>,
}

/// The target's manual snapshots, or why they could not be listed.
pub type Listed = Result<Vec<Snapshot>, super::aws_backup::Refused>;

fn unknown(sink: &mut FactSink<'_>, path: &str, refused: &super::aws_backup::Refused) {
    let resolve = format!("allow {} (AmazonRDSReadOnlyAccess)", refused.permission);
    sink.unknown(
        path,
        format!(
            "the manual snapshots' sharing could not be read: {}",
            refused.message
        ),
        Some(resolve.as_str()),
    );
}

/// `rds.snapshots.manual`, `.public`, `.shared`, `.shared_accounts`.
pub fn facts(sink: &mut FactSink<'_>, kind: &str, listed: &Listed) {
    let shares = [
        "rds.snapshots.public",
        "rds.snapshots.shared",
        "rds.snapshots.shared_accounts",
    ];
    let snapshots = match listed {
        Ok(snapshots) => snapshots,
        Err(refused) => {
            unknown(sink, "rds.snapshots.manual", refused);
            for path in shares {
                unknown(sink, path, refused);
            }
            return;
        }
    };
    let list = if kind == "cluster" {
        "DescribeDBClusterSnapshots SnapshotType=manual"
    } else {
        "DescribeDBSnapshots SnapshotType=manual"
    };
    let attributes = if kind == "cluster" {
        "DescribeDBClusterSnapshotAttributes"
    } else {
        "DescribeDBSnapshotAttributes"
    };
    sink.known(
        "rds.snapshots.manual",
        list,
        snapshots.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
    );
    if let Some(refused) = snapshots.iter().find_map(|s| s.restore.as_ref().err()) {
        // A snapshot known to be public stays a finding, whatever the others are.
        let public: Vec<String> = snapshots
            .iter()
            .filter(|s| {
                s.restore
                    .as_ref()
                    .is_ok_and(|v| v.iter().any(|v| v == "all"))
            })
            .map(|s| s.id.clone())
            .collect();
        if public.is_empty() {
            unknown(sink, "rds.snapshots.public", refused);
        } else {
            sink.known(
                "rds.snapshots.public",
                format!(
                    "{list}, then {attributes} AttributeName=restore (not every snapshot's could be read: {})",
                    refused.message
                ),
                public,
            );
        }
        for path in &shares[1..] {
            unknown(sink, path, refused);
        }
        return;
    }
    let mut public = Vec::new();
    let mut shared = Vec::new();
    let mut accounts = BTreeSet::new();
    for snapshot in snapshots {
        let values = snapshot.restore.as_deref().unwrap_or_default();
        if values.iter().any(|v| v == "all") {
            public.push(snapshot.id.clone());
        }
        let named: Vec<&String> = values.iter().filter(|v| *v != "all").collect();
        if !named.is_empty() {
            shared.push(format!(
                "{}: {}",
                snapshot.id,
                named
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            accounts.extend(named.into_iter().cloned());
        }
    }
    let origin = format!("{list}, then {attributes} AttributeName=restore of each");
    sink.known("rds.snapshots.public", origin.clone(), public);
    sink.known("rds.snapshots.shared", origin.clone(), shared);
    sink.known(
        "rds.snapshots.shared_accounts",
        origin,
        accounts.into_iter().collect::<Vec<_>>(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(facts: &crate::facts::Facts, path: &str) -> Vec<String> {
        serde_json::from_value(facts[path].value().cloned().unwrap_or_default()).unwrap_or_default()
    }

    fn snap(id: &str, restore: &[&str]) -> Snapshot {
        Snapshot {
            id: id.into(),
            restore: Ok(restore.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn public_and_shared_snapshots_are_named() {
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            "instance",
            &Ok(vec![
                snap("private", &[]),
                snap("open", &["all"]),
                snap("dev", &["111122223333", "444455556666"]),
                snap("dev-2", &["111122223333"]),
            ]),
        );
        let facts = sink.finish();
        assert_eq!(list(&facts, "rds.snapshots.manual").len(), 4);
        assert_eq!(list(&facts, "rds.snapshots.public"), ["open"]);
        assert_eq!(
            list(&facts, "rds.snapshots.shared"),
            ["dev: 111122223333, 444455556666", "dev-2: 111122223333"]
        );
        assert_eq!(
            list(&facts, "rds.snapshots.shared_accounts"),
            ["111122223333", "444455556666"]
        );
    }

    #[test]
    fn one_unread_attribute_makes_sharing_unknown_but_the_list_known() {
        let mut sink = FactSink::new("rds");
        let refused = super::super::aws_backup::Refused {
            permission: "rds:DescribeDBSnapshotAttributes".into(),
            message: "AccessDenied".into(),
        };
        facts(
            &mut sink,
            "instance",
            &Ok(vec![
                snap("a", &[]),
                Snapshot {
                    id: "b".into(),
                    restore: Err(refused),
                },
            ]),
        );
        let facts = sink.finish();
        assert_eq!(list(&facts, "rds.snapshots.manual"), ["a", "b"]);
        assert!(
            matches!(&facts["rds.snapshots.public"].state, crate::facts::FactState::Unknown { resolve: Some(r), .. } if r.contains("rds:DescribeDBSnapshotAttributes"))
        );
    }

    #[test]
    fn a_snapshot_read_as_public_stays_public_when_another_is_unread() {
        let mut sink = FactSink::new("rds");
        let refused = super::super::aws_backup::Refused {
            permission: "rds:DescribeDBSnapshotAttributes".into(),
            message: "throttled".into(),
        };
        facts(
            &mut sink,
            "instance",
            &Ok(vec![
                snap("open", &["all"]),
                Snapshot {
                    id: "b".into(),
                    restore: Err(refused),
                },
            ]),
        );
        let facts = sink.finish();
        assert_eq!(list(&facts, "rds.snapshots.public"), ["open"]);
        assert!(matches!(
            &facts["rds.snapshots.shared_accounts"].state,
            crate::facts::FactState::Unknown { .. }
        ));
    }
}
