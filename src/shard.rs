//! `--shard I/N`: which slice of a fleet one runner audits.
//!
//! A target belongs to shard `bucket(id, N)`, where the bucket is the first 8
//! bytes of the SHA-256 of the target id (UTF-8), read as a big-endian u64,
//! modulo N ([`HASH`] names this rule; it never changes under that name).
//! SHA-256 rather than Rust's hasher: the answer must be the same on every
//! machine, build and release, so N runners agree without talking to each other.
//! A discovery that fails as a whole (a region, a project) is reported under
//! its discovery id, so it too lands in exactly one shard.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// The name of the bucket rule, recorded in every sharded report.
pub const HASH: &str = "sha256-be64-mod-v1";

/// The largest shard count accepted (a fleet split further than this is a typo).
pub const MAX_COUNT: u32 = 10_000;

/// One slice: shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses `I/N` (0 ≤ I < N, 1 ≤ N ≤ [`MAX_COUNT`]).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let usage = || {
            format!(
                "--shard '{text}' is not I/N: give the shard's 0-based index and the shard count, e.g. --shard 0/4 … --shard 3/4"
            )
        };
        let (index, count) = text.trim().split_once('/').ok_or_else(usage)?;
        let index: u32 = index.trim().parse().map_err(|_| usage())?;
        let count: u32 = count.trim().parse().map_err(|_| usage())?;
        if count == 0 || count > MAX_COUNT {
            return Err(format!(
                "--shard '{text}': the shard count must be between 1 and {MAX_COUNT}"
            ));
        }
        if index >= count {
            return Err(format!(
                "--shard '{text}': the index is 0-based and must be below the count {count} (0/{count} … {}/{count})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether the target `id` belongs to this shard.
    pub fn owns(&self, id: &str) -> bool {
        bucket(id, self.count) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard of `id` among `count` shards (see the module doc).
pub fn bucket(id: &str, count: u32) -> u32 {
    let digest = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // count ≥ 1, and the remainder is below count, so it fits in u32.
    (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32
}

/// What a sharded report records: which slice, of how large a fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: u32,
    pub count: u32,
    /// Targets this runner discovered before keeping its slice (failed
    /// discoveries count as one each): every shard of one run should agree.
    pub fleet_size: usize,
    /// The bucket rule ([`HASH`]).
    pub hash: String,
}

/// A run's shard filter: decides, and remembers every id it was asked
/// about, so the fleet size is known even for targets dropped before they
/// were read (a set, so asking twice about one id counts it once).
#[derive(Debug, Clone)]
pub struct Filter {
    pub shard: Shard,
    seen: Arc<Mutex<BTreeSet<String>>>,
}

impl Filter {
    pub fn new(shard: Shard) -> Filter {
        Filter {
            shard,
            seen: Arc::default(),
        }
    }

    /// Whether to keep the target `id`; records it as part of the fleet.
    pub fn keep(&self, id: &str) -> bool {
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(id.to_string());
        }
        self.shard.owns(id)
    }

    /// How many distinct targets were seen so far.
    pub fn fleet_size(&self) -> usize {
        self.seen.lock().map_or(0, |seen| seen.len())
    }

    /// The report's record of this run's slice.
    pub fn info(&self) -> ShardInfo {
        ShardInfo {
            index: self.shard.index,
            count: self.shard.count,
            fleet_size: self.fleet_size(),
            hash: HASH.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_index_and_count() {
        assert_eq!(Shard::parse("0/1"), Ok(Shard { index: 0, count: 1 }));
        assert_eq!(Shard::parse(" 3/4 "), Ok(Shard { index: 3, count: 4 }));
        for bad in [
            "4/4", "1/0", "0/0", "-1/3", "a/3", "3", "1/2/3", "", "0/10001",
        ] {
            assert!(Shard::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(
            Shard::parse("4/4")
                .unwrap_err()
                .contains("below the count 4")
        );
    }

    #[test]
    fn the_bucket_rule_is_fixed() {
        // SHA-256("rds://eu-west-1/db/orders") starts 05 28 9f 0e c9 5b 71 a3
        // (`printf %s ID | sha256sum`): these values pin the rule, since a
        // change would move targets between the shards of a running fleet.
        let buckets: Vec<u32> = (1..=7)
            .map(|count| bucket("rds://eu-west-1/db/orders", count))
            .collect();
        assert_eq!(buckets, [0, 1, 0, 3, 1, 3, 4]);
        assert_eq!(bucket("", 1), 0);
    }

    #[test]
    fn every_id_lands_in_exactly_one_shard() {
        let ids: Vec<String> = (0..500).map(|n| format!("rds://r/db/i{n}")).collect();
        for count in 1..=7 {
            let mut sizes = vec![0usize; count as usize];
            for id in &ids {
                let owners: Vec<u32> = (0..count)
                    .filter(|&index| Shard { index, count }.owns(id))
                    .collect();
                assert_eq!(owners.len(), 1, "{id} in {owners:?} of {count}");
                sizes[owners[0] as usize] += 1;
            }
            // Roughly even: no shard empty or holding most of the fleet.
            assert!(
                sizes.iter().all(|&s| s > 500 / count as usize / 2),
                "{sizes:?}"
            );
        }
    }

    #[test]
    fn the_filter_counts_each_id_once() {
        let filter = Filter::new(Shard { index: 0, count: 2 });
        let kept = ["a", "b", "c", "a"]
            .iter()
            .filter(|id| filter.keep(id))
            .count();
        assert_eq!(filter.fleet_size(), 3);
        assert!(kept <= 4);
        assert_eq!(filter.info().hash, HASH);
    }
}
