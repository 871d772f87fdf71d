//! Waivers: documented, owned, expiring exceptions (`[[waivers]]` in
//! `sqlready.toml`).
//!
//! * A waiver covers every finding whose check id matches its `check` pattern
//!   on a target whose id matches its `target` pattern, when the finding is not
//!   `pass` or `n/a`. The finding keeps its status and gains `waiver`; it no
//!   longer counts for `--fail-on`. The first matching waiver (file order) wins.
//! * Past its `expires` date (the waiver holds through that day), a waiver
//!   covers nothing, and every finding it would have covered gets a companion
//!   `waiver.expired` finding: `fail`, with the waived check's item, severity
//!   and controls — an exception nobody renewed is itself a failure.
//! * A waiver that covers no finding is *stale*: listed in the report's
//!   `waivers` register (state `stale`) and warned about on stderr, without
//!   changing the exit code.
//!
//! "Today" is a parameter: the binary passes the audit's start date (UTC),
//! tests pass any date.

use super::{Finding, Report, item_statuses};
use crate::checks::model::Status;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map as JsonMap, json};

/// The check id of the finding an expired waiver produces.
pub const EXPIRED_CHECK: &str = "waiver.expired";

/// A waiver from the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// Check id or pattern (`*`, `?`).
    pub check: String,
    /// Target id pattern.
    pub target: String,
    pub reason: String,
    pub owner: String,
    /// The last day the waiver holds.
    pub expires: NaiveDate,
    pub ticket: Option<String>,
    /// Line of its `[[waivers]]` header in the config file.
    pub line: usize,
}

/// The waiver covering a finding, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverRef {
    pub reason: String,
    pub owner: String,
    /// YYYY-MM-DD, the last day it holds.
    pub expires: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// What became of a waiver in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WaiverStatus {
    /// It covers at least one finding.
    Active,
    /// Past its date: it covers nothing, and each finding it would cover has a `waiver.expired` companion.
    Expired,
    /// It covers no finding: remove it (or fix its patterns).
    Stale,
}

/// One entry of the report's waiver register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaiverState {
    pub check: String,
    pub target: String,
    pub reason: String,
    pub owner: String,
    pub expires: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    pub state: WaiverStatus,
    /// Findings it covers (active) or would cover (expired).
    pub findings: usize,
    /// What to do about it, in words.
    pub note: String,
    /// Line of the waiver in the config file.
    pub line: usize,
}

/// Whether `text` matches a pattern where `*` is any run of characters and `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((star_pi, star_ti)) = star {
            pi = star_pi + 1;
            ti = star_ti + 1;
            star = Some((star_pi, star_ti + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn waivable(status: Status) -> bool {
    !matches!(status, Status::Pass | Status::NotApplicable)
}

/// Applies `waivers` to the report as of `today`, fills its waiver register
/// and recounts the summary and item statuses.
pub fn apply(report: &mut Report, waivers: &[Waiver], today: NaiveDate) {
    let mut register = Vec::new();
    for waiver in waivers {
        let expires = waiver.expires.format("%Y-%m-%d").to_string();
        let expired = today > waiver.expires;
        let mut matched = 0;
        let mut shadowed = 0;
        let mut covered = 0;
        for target in report
            .targets
            .iter_mut()
            .filter(|t| glob_match(&waiver.target, &t.id))
        {
            let mut companions = Vec::new();
            for finding in target.findings.iter_mut() {
                if finding.check == EXPIRED_CHECK || !glob_match(&waiver.check, &finding.check) {
                    continue;
                }
                matched += 1;
                if finding.waiver.is_some() {
                    shadowed += 1;
                    continue;
                }
                if !waivable(finding.status) {
                    continue;
                }
                covered += 1;
                if expired {
                    companions.push(expired_finding(finding, waiver, &target.id, &expires));
                } else {
                    finding.waiver = Some(Box::new(WaiverRef {
                        reason: waiver.reason.clone(),
                        owner: waiver.owner.clone(),
                        expires: expires.clone(),
                        ticket: waiver.ticket.clone(),
                    }));
                }
            }
            target.findings.extend(companions);
        }
        let (state, note) = match (expired, covered) {
            (true, 0) => (
                WaiverStatus::Stale,
                format!("expired on {expires} and covers no failing finding: remove it"),
            ),
            (true, n) => (
                WaiverStatus::Expired,
                format!("expired on {expires}: {n} finding(s) it covered count again; fix them or renew the waiver with a new expiry date"),
            ),
            (false, 0) if shadowed > 0 => (
                WaiverStatus::Stale,
                "every finding it matches is covered by an earlier waiver: remove it".to_string(),
            ),
            (false, 0) if matched == 0 => (
                WaiverStatus::Stale,
                "matches no check on any audited target: remove it, or fix its check and target patterns".to_string(),
            ),
            (false, 0) => (
                WaiverStatus::Stale,
                format!("the {matched} finding(s) it matches pass (or do not apply) now: remove it"),
            ),
            (false, n) => (WaiverStatus::Active, format!("covers {n} finding(s) until {expires}")),
        };
        register.push(WaiverState {
            check: waiver.check.clone(),
            target: waiver.target.clone(),
            reason: waiver.reason.clone(),
            owner: waiver.owner.clone(),
            expires,
            ticket: waiver.ticket.clone(),
            state,
            findings: covered,
            note,
            line: waiver.line,
        });
    }
    for target in report.targets.iter_mut().filter(|t| t.error.is_none()) {
        target.items = item_statuses(&target.findings);
    }
    report.waivers = register;
    report.recount();
}

/// The failing finding an expired waiver leaves beside the finding it covered.
fn expired_finding(covered: &Finding, waiver: &Waiver, target: &str, expires: &str) -> Finding {
    let mut evidence = JsonMap::new();
    evidence.insert(
        "waiver".to_string(),
        json!({
            "check": waiver.check, "target": waiver.target, "reason": waiver.reason,
            "owner": waiver.owner, "expires": expires, "ticket": waiver.ticket,
        }),
    );
    evidence.insert("waived_check".to_string(), json!(covered.check));
    evidence.insert("waived_status".to_string(), json!(covered.status));
    Finding {
        check: EXPIRED_CHECK.to_string(),
        item: covered.item,
        status: Status::Fail,
        severity: covered.severity,
        advisory: false,
        title: format!("The waiver for {} has expired", covered.check),
        detail: format!(
            "the waiver for {} on {target} (owner {}: \"{}\") held through {expires}; {} is {} and no longer waived",
            covered.check, waiver.owner, waiver.reason, covered.check, covered.status
        ),
        evidence,
        remediation: Some(format!(
            "fix {} (see its finding), or renew the waiver at line {} of the config file with a new `expires` date",
            covered.check, waiver.line
        )),
        controls: covered.controls.clone(),
        resolve: Vec::new(),
        disagreements: Vec::new(),
        waiver: None,
        drift: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Catalog;
    use crate::checks::thresholds::ThresholdSet;
    use crate::facts::snapshot::Snapshot;

    fn report() -> Report {
        let snapshot = Snapshot::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/postgres-bad.json"
        )))
        .unwrap();
        let catalog = Catalog::load(None).unwrap();
        let now = chrono::DateTime::UNIX_EPOCH;
        super::super::build(
            &catalog,
            &snapshot.into_collected(),
            &ThresholdSet::default(),
            now,
            now,
        )
    }

    fn waiver(check: &str, target: &str, expires: &str) -> Waiver {
        Waiver {
            check: check.into(),
            target: target.into(),
            reason: "accepted by the risk committee".into(),
            owner: "dba@example.com".into(),
            expires: NaiveDate::parse_from_str(expires, "%Y-%m-%d").unwrap(),
            ticket: Some("SEC-1".into()),
            line: 7,
        }
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn finding<'a>(report: &'a Report, check: &str) -> &'a Finding {
        report.targets[0]
            .findings
            .iter()
            .find(|f| f.check == check)
            .unwrap()
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", "postgres://h:5432/app"));
        assert!(glob_match("postgres://*/app", "postgres://h:5432/app"));
        assert!(glob_match("cdc.*", "cdc.wal_level_logical"));
        assert!(glob_match("pitr.?nabled", "pitr.enabled"));
        assert!(!glob_match("cdc.*", "pitr.enabled"));
        assert!(!glob_match("postgres://*/app", "postgres://h:5432/app2"));
        assert!(glob_match("a*b*c", "aXXbYYc") && !glob_match("a*b*c", "aXXbYY"));
    }

    #[test]
    fn an_active_waiver_keeps_the_status_and_lifts_fail_on() {
        let mut report = report();
        assert!(report.fails_at(crate::checks::model::Severity::High));
        let high_failures: Vec<String> = report.targets[0]
            .findings
            .iter()
            .filter(|f| {
                f.status == Status::Fail && f.severity >= crate::checks::model::Severity::High
            })
            .map(|f| f.check.clone())
            .collect();
        let waivers: Vec<Waiver> = high_failures
            .iter()
            .map(|c| waiver(c, "postgres://*", "2026-12-31"))
            .collect();
        let items_before = report.targets[0].items.clone().0;
        apply(&mut report, &waivers, day("2026-12-31"));
        let waived = finding(&report, &high_failures[0]);
        assert_eq!(
            waived.status,
            Status::Fail,
            "a waived finding keeps its status"
        );
        assert_eq!(waived.waiver.as_ref().unwrap().expires, "2026-12-31");
        assert!(
            !report.fails_at(crate::checks::model::Severity::High),
            "waived findings do not count for --fail-on"
        );
        assert_eq!(
            report.targets[0].items.0, items_before,
            "items keep the worst status"
        );
        assert_eq!(report.summary.waived, Some(high_failures.len()));
        assert!(
            report
                .waivers
                .iter()
                .all(|w| w.state == WaiverStatus::Active)
        );
    }

    #[test]
    fn the_day_after_expiry_the_waiver_is_a_failing_finding() {
        let check = "cdc.wal_level_logical";
        let mut on_the_day = report();
        apply(
            &mut on_the_day,
            &[waiver(check, "*", "2026-06-30")],
            day("2026-06-30"),
        );
        assert!(
            finding(&on_the_day, check).waiver.is_some(),
            "holds through its last day"
        );
        assert!(
            on_the_day.targets[0]
                .findings
                .iter()
                .all(|f| f.check != EXPIRED_CHECK)
        );

        let mut after = report();
        let fails_before = after.summary.fail;
        apply(
            &mut after,
            &[waiver(check, "*", "2026-06-30")],
            day("2026-07-01"),
        );
        assert!(finding(&after, check).waiver.is_none());
        let expired = finding(&after, EXPIRED_CHECK);
        assert_eq!(expired.status, Status::Fail);
        assert_eq!(expired.item, finding(&after, check).item);
        assert_eq!(expired.severity, finding(&after, check).severity);
        assert!(
            expired.detail.contains("held through 2026-06-30"),
            "{}",
            expired.detail
        );
        assert!(expired.remediation.as_deref().unwrap().contains("line 7"));
        assert_eq!(
            after.summary.fail,
            fails_before + 1,
            "visible in the summary"
        );
        assert_eq!(after.waivers[0].state, WaiverStatus::Expired);
        assert!(after.fails_at(expired.severity));
    }

    #[test]
    fn waivers_that_cover_nothing_are_stale() {
        let mut report = report();
        apply(
            &mut report,
            &[
                waiver("durability.fsync", "*", "2030-01-01"),
                waiver("cdc.wal_level_logical", "mysql://*", "2030-01-01"),
                waiver("durability.fsync", "*", "2020-01-01"),
            ],
            day("2026-01-01"),
        );
        assert_eq!(finding(&report, "durability.fsync").status, Status::Pass);
        let states: Vec<WaiverStatus> = report.waivers.iter().map(|w| w.state).collect();
        assert_eq!(states, [WaiverStatus::Stale; 3]);
        assert!(
            report.waivers[0].note.contains("pass"),
            "{}",
            report.waivers[0].note
        );
        assert!(
            report.waivers[1].note.contains("matches no check"),
            "{}",
            report.waivers[1].note
        );
        assert!(
            report.waivers[2].note.contains("expired"),
            "{}",
            report.waivers[2].note
        );
        assert_eq!(report.summary.waived, Some(0));
    }

    #[test]
    fn the_first_matching_waiver_wins() {
        let mut report = report();
        let first = waiver("cdc.*", "*", "2030-01-01");
        let mut second = waiver("cdc.wal_level_logical", "*", "2030-01-01");
        second.owner = "someone-else".into();
        apply(&mut report, &[first, second], day("2026-01-01"));
        assert_eq!(
            finding(&report, "cdc.wal_level_logical")
                .waiver
                .as_ref()
                .unwrap()
                .owner,
            "dba@example.com"
        );
        assert_eq!(report.waivers[1].state, WaiverStatus::Stale);
        assert!(
            report.waivers[1].note.contains("earlier waiver"),
            "{}",
            report.waivers[1].note
        );
    }
}
