//! `sqlready merge`: joins the JSON reports of the N shards of one fleet
//! (`audit --shard I/N`) into the report one unsharded run would have
//! written — the same targets and verdicts, ordered by target id — after
//! checking that the shards are complete and disjoint. Pure: the caller reads
//! the files (see `read_input` in the binary).

use super::{REPORT_SCHEMA_VERSION, Report, Summary, Tool, score, waivers::WaiverState};
use crate::shard::{self, ShardInfo};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The merged report's record of its shards (an added JSON field, `merged`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merged {
    /// How many shards the fleet was split into.
    pub count: u32,
    /// The bucket rule the shards used ([`shard::HASH`]).
    pub hash: String,
    /// One entry per shard, by index.
    pub shards: Vec<MergedShard>,
}

/// One shard report that went into a merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedShard {
    pub index: u32,
    /// Where it was read from, as given.
    pub source: String,
    /// SHA-256 of the report file's bytes.
    pub sha256: String,
    pub targets: usize,
    /// The fleet size that shard's runner saw.
    pub fleet_size: usize,
    pub started_at: String,
    pub finished_at: String,
}

/// One shard report, read and parsed.
#[derive(Debug, Clone)]
pub struct Input {
    /// Where it came from, as given (a path; later an object-store URL).
    pub source: String,
    pub sha256: String,
    pub report: Report,
}

/// Why shard reports cannot be merged: every one a usage error (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error(
        "no shard reports given: name the JSON reports of `sqlready audit --shard I/N --format json`"
    )]
    Empty,
    #[error(
        "{file} is not a shard report (no \"shard\" field): write each shard with `sqlready audit --shard I/N --format json`"
    )]
    NotSharded { file: String },
    #[error(
        "{file} is report schema {found}; this sqlready reads schema {expected}: merge with the sqlready that wrote the shards"
    )]
    Schema {
        file: String,
        found: u32,
        expected: u32,
    },
    #[error(
        "{file} was written by {found}, {first} by {expected}: every shard must run the same sqlready release"
    )]
    Tool {
        file: String,
        found: String,
        first: String,
        expected: String,
    },
    #[error(
        "{file} is shard {index}/{count}, {first} is of {expected} shards: every shard must use the same N"
    )]
    Count {
        file: String,
        index: u32,
        count: u32,
        first: String,
        expected: u32,
    },
    #[error(
        "{file} buckets targets with '{found}', {first} with '{expected}': the shards come from different sqlready releases"
    )]
    Hash {
        file: String,
        found: String,
        first: String,
        expected: String,
    },
    #[error("shard {index}/{count} is given twice: {first} and {second}")]
    Duplicate {
        index: u32,
        count: u32,
        first: String,
        second: String,
    },
    #[error(
        "shard(s) {missing} of {count} missing: run `sqlready audit --shard I/{count}` for each and name every report"
    )]
    Missing { missing: String, count: u32 },
    #[error("target {id} is in two shard reports ({first} and {second}): the shards overlap")]
    TargetTwice {
        id: String,
        first: String,
        second: String,
    },
    #[error(
        "target {id} in {file} (shard {index}/{count}) belongs to shard {owner}/{count}: the report was not written by that shard"
    )]
    WrongShard {
        id: String,
        file: String,
        index: u32,
        count: u32,
        owner: u32,
    },
}

/// A merged report and what the merge noticed without refusing it.
#[derive(Debug)]
pub struct Outcome {
    pub report: Report,
    /// E.g. shards that saw fleets of different sizes (the fleet changed
    /// between their runs): said on stderr.
    pub warnings: Vec<String>,
}

/// Checks the shards and joins them (see the module doc).
pub fn merge(mut inputs: Vec<Input>) -> Result<Outcome, MergeError> {
    let infos = check(&inputs)?;
    let count = infos[0].count;
    let mut warnings = Vec::new();
    let sizes: Vec<usize> = infos.iter().map(|i| i.fleet_size).collect();
    if sizes.iter().any(|s| *s != sizes[0]) {
        let mut listed: Vec<(u32, usize)> = infos.iter().map(|i| (i.index, i.fleet_size)).collect();
        listed.sort_unstable();
        let listed: Vec<String> = listed
            .iter()
            .map(|(index, size)| format!("shard {index} saw {size}"))
            .collect();
        warnings.push(format!(
            "the shards saw fleets of different sizes ({}): the fleet changed between their runs, so a target may be in no shard or audited twice under different ids",
            listed.join(", ")
        ));
    }
    // In shard order, for the record.
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| infos[i].index);
    let record = Merged {
        count,
        hash: infos[0].hash.clone(),
        shards: order
            .iter()
            .map(|&i| {
                let input = &inputs[i];
                MergedShard {
                    index: infos[i].index,
                    source: input.source.clone(),
                    sha256: input.sha256.clone(),
                    targets: input.report.targets.len(),
                    fleet_size: infos[i].fleet_size,
                    started_at: time(input.report.started_at),
                    finished_at: time(input.report.finished_at),
                }
            })
            .collect(),
    };
    let started_at = inputs.iter().map(|i| i.report.started_at).min();
    let finished_at = inputs.iter().map(|i| i.report.finished_at).max();
    let mut targets = Vec::new();
    let mut waiver_registers = Vec::new();
    for input in &mut inputs {
        targets.append(&mut input.report.targets);
        waiver_registers.push(std::mem::take(&mut input.report.waivers));
    }
    // Each shard compared itself with its own baseline; the fleet's drift is
    // `merge --baseline`'s to compute, against the previous merged report.
    use rayon::prelude::*;
    targets.par_iter_mut().for_each(|target| {
        for finding in &mut target.findings {
            finding.drift = None;
        }
    });
    targets.par_sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let now = Utc::now();
    let mut report = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: Tool::this(),
        started_at: started_at.unwrap_or(now),
        finished_at: finished_at.unwrap_or(now),
        summary: Summary::default(),
        targets,
        waivers: merge_waivers(waiver_registers),
        drift: None,
        shard: None,
        merged: Some(record),
    };
    report.summary.score = score::overall(&report.targets);
    report.recount();
    Ok(Outcome { report, warnings })
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Every check of completeness and disjointness; the shards' records, in input order.
fn check(inputs: &[Input]) -> Result<Vec<ShardInfo>, MergeError> {
    let first = inputs.first().ok_or(MergeError::Empty)?;
    let mut infos = Vec::with_capacity(inputs.len());
    for input in inputs {
        let report = &input.report;
        let Some(info) = &report.shard else {
            return Err(MergeError::NotSharded {
                file: input.source.clone(),
            });
        };
        if report.schema_version != REPORT_SCHEMA_VERSION {
            return Err(MergeError::Schema {
                file: input.source.clone(),
                found: report.schema_version,
                expected: REPORT_SCHEMA_VERSION,
            });
        }
        if report.tool != first.report.tool {
            return Err(MergeError::Tool {
                file: input.source.clone(),
                found: format!("{} {}", report.tool.name, report.tool.version),
                first: first.source.clone(),
                expected: format!("{} {}", first.report.tool.name, first.report.tool.version),
            });
        }
        infos.push(info.clone());
    }
    let (count, hash) = (infos[0].count, infos[0].hash.clone());
    for (input, info) in inputs.iter().zip(&infos) {
        if info.count != count {
            return Err(MergeError::Count {
                file: input.source.clone(),
                index: info.index,
                count: info.count,
                first: first.source.clone(),
                expected: count,
            });
        }
        if info.hash != hash {
            return Err(MergeError::Hash {
                file: input.source.clone(),
                found: info.hash.clone(),
                first: first.source.clone(),
                expected: hash.clone(),
            });
        }
    }
    let mut by_index: BTreeMap<u32, &str> = BTreeMap::new();
    for (input, info) in inputs.iter().zip(&infos) {
        if let Some(earlier) = by_index.insert(info.index, &input.source) {
            return Err(MergeError::Duplicate {
                index: info.index,
                count,
                first: earlier.to_string(),
                second: input.source.clone(),
            });
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing: missing.join(", "),
            count,
        });
    }
    let known_rule = hash == shard::HASH;
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (input, info) in inputs.iter().zip(&infos) {
        for target in &input.report.targets {
            if let Some(earlier) = seen.insert(&target.id, &input.source) {
                return Err(MergeError::TargetTwice {
                    id: target.id.clone(),
                    first: earlier.to_string(),
                    second: input.source.clone(),
                });
            }
            let owner = shard::bucket(&target.id, count);
            if known_rule && owner != info.index {
                return Err(MergeError::WrongShard {
                    id: target.id.clone(),
                    file: input.source.clone(),
                    index: info.index,
                    count,
                    owner,
                });
            }
        }
    }
    Ok(infos)
}

/// One register of waivers for the fleet: a waiver (same check, target and
/// config line) is active when it covered a finding in any shard, expired
/// when it expired, and stale only when it covered nothing in every shard.
fn merge_waivers(registers: Vec<Vec<WaiverState>>) -> Vec<WaiverState> {
    use super::waivers::WaiverStatus;
    let rank = |state: WaiverStatus| match state {
        WaiverStatus::Expired => 2,
        WaiverStatus::Active => 1,
        WaiverStatus::Stale => 0,
    };
    let mut merged: Vec<WaiverState> = Vec::new();
    for waiver in registers.into_iter().flatten() {
        match merged
            .iter_mut()
            .find(|w| w.check == waiver.check && w.target == waiver.target && w.line == waiver.line)
        {
            Some(kept) => {
                kept.findings += waiver.findings;
                if rank(waiver.state) > rank(kept.state) {
                    kept.state = waiver.state;
                    kept.note = waiver.note;
                }
            }
            None => merged.push(waiver),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::model::{Item, Status};
    use crate::report::{Coverage, Items, TargetReport};

    fn target(id: &str) -> TargetReport {
        TargetReport {
            id: id.to_string(),
            resource: None,
            kind: "postgres".into(),
            role: Some("primary".into()),
            engine: Some("postgres".into()),
            version: None,
            score: Some(50),
            coverage: Coverage::default(),
            items: Items(Item::ALL.iter().map(|i| (*i, Status::Unknown)).collect()),
            findings: Vec::new(),
            error: None,
            not_audited: None,
            principal: None,
            sources: Vec::new(),
            location: None,
            warnings: Vec::new(),
            tags: BTreeMap::new(),
        }
    }

    /// Shard `index` of `count` of the fleet `ids`, as `audit --shard` writes it.
    fn shard(index: u32, count: u32, ids: &[String]) -> Input {
        let at = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut report = Report {
            schema_version: REPORT_SCHEMA_VERSION,
            tool: Tool::this(),
            started_at: at,
            finished_at: at,
            summary: Summary::default(),
            targets: ids
                .iter()
                .filter(|id| shard::bucket(id, count) == index)
                .map(|id| target(id))
                .collect(),
            waivers: Vec::new(),
            drift: None,
            shard: Some(ShardInfo {
                index,
                count,
                fleet_size: ids.len(),
                hash: shard::HASH.into(),
            }),
            merged: None,
        };
        report.recount();
        Input {
            source: format!("shard-{index}.json"),
            sha256: String::new(),
            report,
        }
    }

    fn fleet() -> Vec<String> {
        (0..40)
            .map(|n| format!("rds://eu-west-1/db/db{n}"))
            .collect()
    }

    #[test]
    fn joins_complete_shards_in_id_order() {
        let ids = fleet();
        let inputs = (0..3).rev().map(|i| shard(i, 3, &ids)).collect();
        let outcome = merge(inputs).unwrap();
        let mut expected = ids.clone();
        expected.sort();
        let got: Vec<&str> = outcome
            .report
            .targets
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(got, expected);
        assert_eq!(outcome.report.summary.targets, 40);
        assert_eq!(outcome.report.summary.score, Some(50));
        let merged = outcome.report.merged.unwrap();
        assert_eq!(
            merged.shards.iter().map(|s| s.index).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(outcome.warnings.is_empty());
    }

    #[test]
    fn a_missing_or_duplicate_shard_is_named() {
        let ids = fleet();
        let err = merge(vec![shard(0, 3, &ids), shard(2, 3, &ids)]).unwrap_err();
        assert_eq!(
            err,
            MergeError::Missing {
                missing: "1".into(),
                count: 3
            }
        );
        let mut twice = shard(1, 3, &ids);
        twice.source = "again.json".into();
        let err = merge(vec![shard(0, 3, &ids), shard(1, 3, &ids), twice]).unwrap_err();
        assert!(
            err.to_string()
                .contains("shard 1/3 is given twice: shard-1.json and again.json")
        );
    }

    #[test]
    fn overlapping_or_mislabelled_shards_are_refused() {
        let ids = fleet();
        let mut zero = shard(0, 2, &ids);
        let one = shard(1, 2, &ids);
        zero.report.targets.push(one.report.targets[0].clone());
        let err = merge(vec![zero, one]).unwrap_err();
        assert!(matches!(
            err,
            MergeError::WrongShard { .. } | MergeError::TargetTwice { .. }
        ));
        let mut other = shard(1, 2, &ids);
        other.report.shard.as_mut().unwrap().count = 3;
        assert!(matches!(
            merge(vec![shard(0, 2, &ids), other]).unwrap_err(),
            MergeError::Count { .. }
        ));
        let mut unsharded = shard(0, 1, &ids);
        unsharded.report.shard = None;
        assert!(matches!(
            merge(vec![unsharded]).unwrap_err(),
            MergeError::NotSharded { .. }
        ));
        let mut old = shard(1, 2, &ids);
        old.report.tool.version = "0.0.1".into();
        assert!(matches!(
            merge(vec![shard(0, 2, &ids), old]).unwrap_err(),
            MergeError::Tool { .. }
        ));
    }

    #[test]
    fn different_fleet_sizes_are_a_warning() {
        let ids = fleet();
        let mut late = shard(1, 2, &ids);
        late.report.shard.as_mut().unwrap().fleet_size = 41;
        let outcome = merge(vec![shard(0, 2, &ids), late]).unwrap();
        assert_eq!(outcome.warnings.len(), 1);
        assert!(outcome.warnings[0].contains("shard 0 saw 40, shard 1 saw 41"));
    }
}
