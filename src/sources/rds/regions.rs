//! `rds://*`: every region the account has enabled, then each region's
//! discovery as `rds://REGION` does it.
//!
//! The regions come from one `ec2:DescribeRegions` per account (AllRegions
//! false: the regions enabled for the account, which AWS marks
//! `opt-in-not-required` or `opted-in`; a region still `not-opted-in` is
//! skipped — its endpoints refuse the account's credentials anyway). Regions
//! are audited a few at a time (the run's API concurrency), so the calls grow
//! with regions × pages and the wall time stays bounded.

use super::{CountCalls, RdsError, RetryAfter, Session, errors};
use crate::facts::snapshot::{Collected, TargetFailure};
use crate::target::{Kind, RdsScope, RdsSpec};
use aws_config::Region;
use futures::stream::{self, StreamExt};

/// The region a run without one in its targets talks to first (STS, EC2,
/// Organizations): `AWS_REGION`, then `AWS_DEFAULT_REGION`, else `us-east-1`.
pub fn home_region() -> String {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|value| value.trim().to_ascii_lowercase())
        .find(|value| !value.is_empty())
        .unwrap_or_else(|| "us-east-1".to_string())
}

/// The partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso…`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else if region.starts_with("us-isof-") {
        "aws-iso-f"
    } else {
        "aws"
    }
}

/// Whether a DescribeRegions entry is a region the account can use.
pub fn enabled(opt_in_status: Option<&str>) -> bool {
    // No status at all: older partitions answer without one, every region usable.
    matches!(
        opt_in_status,
        None | Some("opt-in-not-required") | Some("opted-in")
    )
}

impl Session {
    /// The regions this session's account has enabled, sorted, asked through `home`.
    pub async fn enabled_regions(&self, home: &str) -> Result<Vec<String>, RdsError> {
        let conf = aws_sdk_ec2::config::Builder::from(&self.config)
            .region(Region::new(home.to_string()))
            .interceptor(CountCalls(self.calls.clone()))
            .interceptor(super::CapAnswers)
            .retry_classifier(RetryAfter)
            .build();
        let answer = aws_sdk_ec2::Client::from_conf(conf)
            .describe_regions()
            .all_regions(false)
            .send()
            .await
            .map_err(|err| {
                errors::classify(&err, "ec2:DescribeRegions", home, self.max_attempts)
            })?;
        let mut regions: Vec<String> = answer
            .regions()
            .iter()
            .filter(|region| enabled(region.opt_in_status()))
            .filter_map(|region| region.region_name())
            // AWS answers with its own partition's regions only (emulators may not):
            // credentials of one partition are refused by the others.
            .filter(|name| partition(name) == partition(home))
            .map(str::to_string)
            .collect();
        regions.sort();
        regions.dedup();
        Ok(regions)
    }

    /// Every instance and cluster of `regions`, a few regions at a time; a
    /// region that cannot be listed is a failure under its own id.
    pub async fn collect_regions(&self, regions: &[String]) -> Vec<Collected> {
        let width = self.concurrency.max(1);
        stream::iter(regions)
            .map(|region| async move {
                let spec = RdsSpec::new(region, RdsScope::Region);
                self.collect_stamped(&spec).await
            })
            .buffered(width)
            .collect::<Vec<Vec<Collected>>>()
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// `rds://*` with the run's own credentials: today's ids (`rds://REGION/…`).
    pub async fn collect_every_region(&self, home: &str) -> Vec<Collected> {
        match self.enabled_regions(home).await {
            Ok(regions) => {
                tracing::info!(
                    "rds://*: {} enabled region(s): {}",
                    regions.len(),
                    regions.join(", ")
                );
                self.collect_regions(&regions).await
            }
            Err(err) => vec![Err(not_listed("rds://*", &err))],
        }
    }
}

/// The failure of a discovery whose regions could not be listed.
pub fn not_listed(id: &str, err: &RdsError) -> TargetFailure {
    let error = match err {
        RdsError::AccessDenied { detail, .. } => format!(
            "ec2:DescribeRegions was denied ({detail}): grant ec2:DescribeRegions to list the enabled regions, or name the regions instead (rds://REGION targets, or regions = [...] on an aws-org:// entry)"
        ),
        other => format!("the enabled regions could not be listed: {other}"),
    };
    TargetFailure {
        id: id.to_string(),
        kind: Kind::Rds,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_usable_regions_are_enabled() {
        assert!(enabled(Some("opt-in-not-required")));
        assert!(enabled(Some("opted-in")));
        assert!(enabled(None));
        assert!(!enabled(Some("not-opted-in")));
    }

    #[test]
    fn partitions_by_region_name() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-iso-east-1"), "aws-iso");
        assert_eq!(partition("us-isob-east-1"), "aws-iso-b");
    }
}
