//! Facts the team records in `sqlready.toml` where no source can read them:
//! `restore_tested = YYYY-MM-DD` on a `[[targets]]` entry, the day of the last
//! restore drill. The team's word, not verified: the fact says so, and its
//! origin names the file and line. Stamped on every collected target after
//! collection (and on a re-judged `--facts` file), the most specific entry
//! winning (`rds://REGION` covers what it discovers, as thresholds do).

use super::Fact;
use super::snapshot::Collected;
use crate::checks::thresholds::covers;
use crate::target::Kind;
use chrono::NaiveDate;

/// The `source` of recorded facts.
pub const SOURCE: &str = "config";

/// One entry's record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The entry's target id (a discovery URI covers what it finds).
    pub target: String,
    pub restore_tested: NaiveDate,
    /// Where it is written: `sqlready.toml:12`.
    pub at: String,
}

/// Adds `restore_tested.recorded` and `restore_tested.recorded_age_days` to
/// each target an entry covers. A cloud target (RDS, Cloud SQL) that no entry
/// covers gets them as null, so its API check can say "never tested" rather
/// than unknown; elsewhere they stay unknown (nothing else can tell).
pub fn stamp(records: &[Record], collected: &mut [Collected], today: NaiveDate) {
    for target in collected.iter_mut().flatten() {
        let record = records
            .iter()
            .filter(|r| covers(&r.target, &target.id))
            .max_by_key(|r| r.target.len());
        let (recorded, age) = match record {
            Some(r) => {
                let origin = format!(
                    "{} restore_tested = {} (recorded by the team, not verified)",
                    r.at, r.restore_tested
                );
                (
                    Fact::known(SOURCE, origin.clone(), r.restore_tested.to_string()),
                    Fact::known(SOURCE, origin, (today - r.restore_tested).num_days()),
                )
            }
            None if matches!(target.kind, Kind::Rds | Kind::Cloudsql) => {
                let origin = "no [[targets]] entry of sqlready.toml records restore_tested for it";
                (
                    Fact::known(SOURCE, origin, serde_json::Value::Null),
                    Fact::known(SOURCE, origin, serde_json::Value::Null),
                )
            }
            None => continue,
        };
        target
            .facts
            .insert("restore_tested.recorded".into(), recorded);
        target
            .facts
            .insert("restore_tested.recorded_age_days".into(), age);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::snapshot::TargetFacts;
    use crate::target::Role;

    fn target(id: &str, kind: Kind) -> Collected {
        Ok(TargetFacts {
            id: id.into(),
            resource: None,
            kind,
            role: Role::Primary,
            engine: "postgres".into(),
            version: String::new(),
            collected_at: chrono::Utc::now(),
            facts: Default::default(),
            evidence: Vec::new(),
            principal: None,
            sources: Vec::new(),
            location: None,
            warnings: Vec::new(),
            tags: Default::default(),
        })
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn the_most_specific_entry_records_and_cloud_targets_default_to_none() {
        let records = vec![
            Record {
                target: "rds://eu-west-1".into(),
                restore_tested: date("2026-09-01"),
                at: "sqlready.toml:3".into(),
            },
            Record {
                target: "rds://eu-west-1/db/orders".into(),
                restore_tested: date("2026-11-21"),
                at: "sqlready.toml:9".into(),
            },
        ];
        let mut collected = vec![
            target("rds://eu-west-1/db/orders", Kind::Rds),
            target("rds://eu-west-1/db/billing", Kind::Rds),
            target("rds://us-east-1/db/other", Kind::Rds),
            target("postgres://db:5432/app", Kind::Postgres),
        ];
        stamp(&records, &mut collected, date("2026-12-01"));
        let fact = |i: usize, path: &str| {
            collected[i]
                .as_ref()
                .unwrap()
                .facts
                .get(path)
                .and_then(|f| f.value().cloned())
        };
        assert_eq!(fact(0, "restore_tested.recorded_age_days"), Some(10.into()));
        assert_eq!(
            fact(1, "restore_tested.recorded"),
            Some("2026-09-01".into())
        );
        assert_eq!(
            fact(2, "restore_tested.recorded"),
            Some(serde_json::Value::Null)
        );
        assert!(collected[3].as_ref().unwrap().facts.is_empty());
    }
}
