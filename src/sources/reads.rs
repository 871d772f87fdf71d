//! What each API source can report, in one place next to the sources: a fact
//! path, or a namespace ending in `.`. A fact a target lacks is then explained
//! precisely (see `checks::eval`): "the rds source does not read X; the Cloud
//! SQL Admin API tells" when its source never reports X, "the rds answer
//! lacked X" when it does but said nothing this time — rather than the
//! schema's generic "the cloud provider's API tells" on a target that came
//! from that very API. Kept in step with the sources by their unit tests
//! (every fact a fixture produces is listed here).
//!
//! The in-database and Terraform sources are not listed: their facts'
//! schema hints already name them.

/// `rds://` (src/sources/rds): DescribeDBInstances / DescribeDBClusters and
/// the region-wide reads.
pub const RDS: &[&str] = &[
    "version.major",
    "version.eol_date",
    "version.days_until_eol",
    "version.eol_upper_bound",
    "version.table_date",
    "version.paid_extended_support",
    "replicas.count",
    "replicas.unhealthy",
    "ha.enabled",
    "backups.",
    "pitr.enabled",
    "binlog.enabled",
    "disk.autogrow",
    "network.public_ip",
    "network.tls_required",
    "monitoring.alerting",
    // AWS Budgets (src/sources/rds/budgets.rs); CloudWatch alarms, budgets and
    // snapshot sharing also as rds.alarms.*, rds.budgets.*, rds.snapshots.*.
    "cost.budget",
    "deletion_protection.enabled",
    "encryption.at_rest",
    "encryption.customer_managed_key",
    "server_ca.",
    "rds.",
];

/// `cloudsql://` (src/sources/cloudsql): the Cloud SQL Admin API.
pub const CLOUDSQL: &[&str] = &[
    "version.major",
    "version.eol_date",
    "version.days_until_eol",
    "version.eol_upper_bound",
    "version.table_date",
    "version.paid_extended_support",
    "replicas.count",
    "replicas.unhealthy",
    "ha.enabled",
    "backups.enabled",
    "backups.retention_days",
    "pitr.enabled",
    "binlog.enabled",
    "disk.autogrow",
    "network.public_ip",
    "network.tls_required",
    "monitoring.alerting",
    "deletion_protection.enabled",
    "encryption.at_rest",
    "encryption.customer_managed_key",
    "server_ca.",
    // Cloud Billing budgets, read once per project (src/sources/cloudsql/budgets.rs).
    "cost.budget",
    "cloudsql.",
];

/// The listed sources, with how a user would audit through them.
const LISTED: &[(&str, &[&str], &str)] = &[
    ("rds", RDS, "the RDS API (rds://REGION/db/ID)"),
    (
        "cloudsql",
        CLOUDSQL,
        "the Cloud SQL Admin API (cloudsql://PROJECT/INSTANCE)",
    ),
];

/// Whether `source` is listed here (an API source).
pub fn is_listed(source: &str) -> bool {
    LISTED.iter().any(|(name, _, _)| *name == source)
}

/// Whether the listed `source` can report `path`.
pub fn reads(source: &str, path: &str) -> bool {
    LISTED
        .iter()
        .filter(|(name, _, _)| *name == source)
        .flat_map(|(_, paths, _)| paths.iter())
        .any(|entry| covers(entry, path))
}

/// The listed sources, other than `except`, that can report `path`, as a user
/// would audit through them.
pub fn who_reads(path: &str, except: &[&str]) -> Vec<&'static str> {
    LISTED
        .iter()
        .filter(|(name, _, _)| !except.contains(name))
        .filter(|(_, paths, _)| paths.iter().any(|entry| covers(entry, path)))
        .map(|(_, _, how)| *how)
        .collect()
}

fn covers(entry: &str, path: &str) -> bool {
    match entry.strip_suffix('.') {
        Some(namespace) => {
            path.starts_with(namespace) && path.as_bytes().get(namespace.len()) == Some(&b'.')
        }
        None => entry == path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::schema;

    #[test]
    fn every_listed_entry_names_schema_facts() {
        for (name, paths, _) in LISTED {
            for entry in *paths {
                assert!(
                    schema::is_fact_or_namespace(entry.trim_end_matches('.')),
                    "{name}: {entry} is not in the facts schema"
                );
            }
        }
    }

    #[test]
    fn namespaces_and_paths_match_whole_segments() {
        assert!(reads("rds", "rds.restore_drill.last"));
        assert!(reads("rds", "backups.aws_backup.plans"));
        // Issue 12: alarms, budgets and snapshot sharing.
        for path in [
            "cost.budget",
            "monitoring.alerting",
            "rds.alarms.missing",
            "rds.budgets.covering",
            "rds.snapshots.shared_accounts",
        ] {
            assert!(reads("rds", path), "{path}");
        }
        assert!(!reads("cloudsql", "backups.aws_backup.plans"));
        assert!(!reads("rds", "cloudsql.cmek_key"));
        assert!(!reads("rds", "version.latest_minor"));
        assert_eq!(
            who_reads("cloudsql.cmek_key", &["rds"]),
            ["the Cloud SQL Admin API (cloudsql://PROJECT/INSTANCE)"]
        );
        assert!(who_reads("version.latest_minor", &[]).is_empty());
    }
}
