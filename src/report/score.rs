//! The score: the severity-weighted share of judged checks that pass.
//!
//! Each check that reached a verdict weighs by severity (low 1, medium 3,
//! high 5, critical 10) and earns all of it on `pass`, half on `warn`, none on
//! `fail`. `unknown`, `error` and `n/a` are left out: they are not judged, so
//! an `unknown` can never lift a score (nor sink one for what the sources
//! cannot see). Instead every score is shown beside its coverage
//! (`report::Coverage`: N of M items judged), so a 100 that judged half the
//! checklist says so. docs/scoring.md explains both to users.

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

#[cfg(test)]
mod tests {
    use super::target;
    use crate::checks::model::{Item, Severity, Status};
    use crate::report::Finding;

    fn finding(status: Status, severity: Severity) -> Finding {
        Finding {
            check: "t".into(),
            item: Item::Cdc,
            status,
            severity,
            advisory: false,
            title: String::new(),
            detail: String::new(),
            evidence: Default::default(),
            remediation: None,
            controls: Vec::new(),
            resolve: Vec::new(),
            disagreements: Vec::new(),
            waiver: None,
            drift: None,
        }
    }

    #[test]
    fn unknown_error_and_na_neither_lift_nor_sink_the_score() {
        let judged = [
            finding(Status::Pass, Severity::High),
            finding(Status::Fail, Severity::High),
        ];
        assert_eq!(target(&judged), Some(50));
        let mut more = judged.to_vec();
        for status in [Status::Unknown, Status::Error, Status::NotApplicable] {
            more.push(finding(status, Severity::Critical));
        }
        assert_eq!(target(&more), Some(50));
        let unjudged = [
            finding(Status::Unknown, Severity::Critical),
            finding(Status::NotApplicable, Severity::Low),
        ];
        assert_eq!(target(&unjudged), None, "nothing judged, no score");
    }
}

#[cfg(test)]
mod advice_tests {
    use crate::checks::model::{Item, Severity, Status};
    use crate::report::{Finding, has_advice, item_statuses};

    fn finding(item: Item, status: Status, advisory: bool) -> Finding {
        Finding {
            check: "t".into(),
            item,
            status,
            severity: Severity::Low,
            advisory,
            title: String::new(),
            detail: String::new(),
            evidence: Default::default(),
            remediation: None,
            controls: Vec::new(),
            resolve: Vec::new(),
            disagreements: Vec::new(),
            waiver: None,
            drift: None,
        }
    }

    #[test]
    fn advice_does_not_lower_an_item_another_check_judged() {
        let findings = [
            finding(Item::Encryption, Status::Pass, false),
            finding(Item::Encryption, Status::Warn, true),
            finding(Item::Backups, Status::Pass, false),
            finding(Item::Backups, Status::Unknown, true),
            finding(Item::Cdc, Status::Fail, false),
            finding(Item::Cdc, Status::Warn, true),
            // Only advice applies: it decides.
            finding(Item::Monitoring, Status::NotApplicable, false),
            finding(Item::Monitoring, Status::Warn, true),
        ];
        let items = item_statuses(&findings);
        assert_eq!(items.get(Item::Encryption), Status::Pass);
        assert_eq!(items.get(Item::Backups), Status::Pass);
        assert_eq!(items.get(Item::Cdc), Status::Fail);
        assert_eq!(items.get(Item::Monitoring), Status::Warn);
        assert!(has_advice(&findings, Item::Encryption, Status::Pass));
        assert!(!has_advice(&findings, Item::Backups, Status::Pass));
        assert!(!has_advice(&findings, Item::Cdc, Status::Fail));
    }
}
