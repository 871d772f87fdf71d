//! Minor-version patching on RDS: `AutoMinorVersionUpgrade`, and where the
//! running version stands in the region's engine-version list
//! (`DescribeDBEngineVersions`, once per engine per region per run, all
//! pages). A version the list no longer offers is deprecated: RDS upgrades it
//! on its own schedule. A version behind the newest minor of its major misses
//! security and bug fixes.

use crate::facts::FactSink;
use std::cmp::Ordering;

/// The versions an engine offers in a region, or why they could not be read.
pub type Offered = Result<Vec<String>, String>;

/// Compares version strings by their numeric runs (`15.10` > `15.9`;
/// `8.0.mysql_aurora.3.05.2` by 8, 0, 3, 5, 2).
pub fn compare(a: &str, b: &str) -> Ordering {
    numbers(a).cmp(&numbers(b))
}

fn numbers(version: &str) -> Vec<u64> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .filter_map(|part| part.parse().ok())
        .collect()
}

/// `rds.version.auto_minor_upgrade`, `rds.version.offered`,
/// `rds.version.latest_minor` and `rds.version.minors_behind`.
pub fn facts(
    sink: &mut FactSink<'_>,
    engine: &str,
    version: &str,
    auto_minor: Option<(bool, String)>,
    offered: &Offered,
) {
    match auto_minor {
        Some((on, origin)) => sink.known("rds.version.auto_minor_upgrade", origin, on),
        None => sink.unknown(
            "rds.version.auto_minor_upgrade",
            "AutoMinorVersionUpgrade is absent from the response",
            Some(super::facts::IAM_HINT),
        ),
    }
    let versions = match offered {
        Ok(versions) => versions,
        Err(reason) => {
            for path in [
                "rds.version.offered",
                "rds.version.latest_minor",
                "rds.version.minors_behind",
            ] {
                sink.unknown(
                    path,
                    format!("DescribeDBEngineVersions could not be read: {reason}"),
                    Some("allow rds:DescribeDBEngineVersions (AmazonRDSReadOnlyAccess)"),
                );
            }
            return;
        }
    };
    let origin = format!("DescribeDBEngineVersions Engine={engine} (EngineVersion {version})");
    let major = super::facts::major_version(engine, version);
    let same_major: Vec<&String> = versions
        .iter()
        .filter(|v| major.is_some() && super::facts::major_version(engine, v) == major)
        .collect();
    sink.known(
        "rds.version.offered",
        origin.clone(),
        versions.iter().any(|v| v == version),
    );
    match same_major.iter().max_by(|a, b| compare(a, b)) {
        Some(latest) => {
            sink.known("rds.version.latest_minor", origin.clone(), latest.as_str());
            let behind = same_major
                .iter()
                .filter(|v| compare(v, version) == Ordering::Greater)
                .count();
            sink.known("rds.version.minors_behind", origin, behind as i64);
        }
        None => {
            for path in ["rds.version.latest_minor", "rds.version.minors_behind"] {
                sink.unknown(
                    path,
                    format!("DescribeDBEngineVersions offers no {engine} version of the running major ({version}): it is no longer sold in this region"),
                    Some("upgrade to a supported major version (aws rds describe-db-engine-versions)"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_number() {
        assert_eq!(compare("15.10", "15.9"), Ordering::Greater);
        assert_eq!(
            compare("8.0.mysql_aurora.3.05.2", "8.0.mysql_aurora.3.10.0"),
            Ordering::Less
        );
    }

    #[test]
    fn an_old_minor_is_behind_and_may_no_longer_be_offered() {
        let offered = Ok(vec!["15.10".to_string(), "15.12".into(), "16.6".into()]);
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            "postgres",
            "15.4",
            Some((false, "x".into())),
            &offered,
        );
        let facts = sink.finish();
        assert_eq!(facts["rds.version.offered"].value(), Some(&false.into()));
        assert_eq!(
            facts["rds.version.latest_minor"].value(),
            Some(&"15.12".into())
        );
        assert_eq!(facts["rds.version.minors_behind"].value(), Some(&2.into()));
        assert_eq!(
            facts["rds.version.auto_minor_upgrade"].value(),
            Some(&false.into())
        );
    }

    #[test]
    fn an_unreadable_list_leaves_the_version_facts_unknown() {
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            "postgres",
            "15.4",
            Some((true, "x".into())),
            &Err("AccessDenied".into()),
        );
        let facts = sink.finish();
        assert!(facts["rds.version.offered"].value().is_none());
        assert_eq!(
            facts["rds.version.auto_minor_upgrade"].value(),
            Some(&true.into())
        );
    }
}
