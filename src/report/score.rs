//! The score: the severity-weighted share of judged checks that pass.
//!
//! Each check that reached a verdict weighs by severity (low 1, medium 3,
//! high 5, critical 10) and earns all of it on `pass`, half on `warn`, none on
//! `fail`. `unknown`, `error` and `n/a` are left out: they are not judged, and
//! the report counts them separately so a score is never read as coverage.

use super::{Finding, TargetReport};
use crate::checks::model::Status;

/// 0–100 for one target; `None` when no check reached a verdict.
pub fn target(findings: &[Finding]) -> Option<u32> {
    let mut earned = 0u32;
    let mut possible = 0u32;
    for finding in findings {
        let weight = finding.severity.weight() * 2;
        let credit = match finding.status {
            Status::Pass => weight,
            Status::Warn => weight / 2,
            Status::Fail => 0,
            Status::Unknown | Status::Error | Status::NotApplicable => continue,
        };
        earned += credit;
        possible += weight;
    }
    (possible > 0).then(|| (earned * 100 + possible / 2) / possible)
}

/// The rounded mean of the scored targets.
pub fn overall(targets: &[TargetReport]) -> Option<u32> {
    let scores: Vec<u32> = targets.iter().filter_map(|t| t.score).collect();
    if scores.is_empty() {
        return None;
    }
    let total: u32 = scores.iter().sum();
    let count = scores.len() as u32;
    Some((total + count / 2) / count)
}
