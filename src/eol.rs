//! Upstream end-of-life dates of engine major versions: dated data, embedded.
//!
//! Providers keep their own calendars (RDS extended support, Cloud SQL); the
//! cloud sources prefer those when the API offers them. Review this table
//! when `TABLE_DATE` is more than a few months old.

use chrono::NaiveDate;

pub mod extended;
mod minor;
pub use minor::{fresh_days, parse as parse_minor, record_minor};

/// When this table was last checked against the projects' own policies.
pub const TABLE_DATE: &str = "2026-11-01";

/// (engine, major, end of life) — PostgreSQL: postgresql.org/support/versioning;
/// MySQL: oracle lifetime support policy; MariaDB: mariadb.org/about/#maintenance-policy.
/// PostgreSQL before 9.3 from the "Releases" table of the same page (final releases):
/// a version older than every row has no date of its own ([`ended_by`] bounds it).
const TABLE: &[(&str, &str, &str)] = &[
    ("postgres", "7.4", "2010-10-01"),
    ("postgres", "8.0", "2010-10-01"),
    ("postgres", "8.1", "2010-11-08"),
    ("postgres", "8.2", "2011-12-05"),
    ("postgres", "8.3", "2013-02-07"),
    ("postgres", "8.4", "2014-07-24"),
    ("postgres", "9.0", "2015-10-08"),
    ("postgres", "9.1", "2016-10-27"),
    ("postgres", "9.2", "2017-11-09"),
    ("postgres", "9.3", "2018-11-08"),
    ("postgres", "9.4", "2020-02-13"),
    ("postgres", "9.5", "2021-02-11"),
    ("postgres", "9.6", "2021-11-11"),
    ("postgres", "10", "2022-11-10"),
    ("postgres", "11", "2023-11-09"),
    ("postgres", "12", "2024-11-21"),
    ("postgres", "13", "2025-11-13"),
    ("postgres", "14", "2026-11-12"),
    ("postgres", "15", "2027-11-11"),
    ("postgres", "16", "2028-11-09"),
    ("postgres", "17", "2029-11-08"),
    ("postgres", "18", "2030-11-14"),
    ("mysql", "5.5", "2018-12-31"),
    ("mysql", "5.6", "2021-02-28"),
    ("mysql", "5.7", "2023-10-31"),
    ("mysql", "8.0", "2026-04-30"),
    ("mysql", "8.4", "2032-04-30"),
    ("mariadb", "5.5", "2020-04-11"),
    ("mariadb", "10.0", "2019-03-31"),
    ("mariadb", "10.1", "2020-10-17"),
    ("mariadb", "10.2", "2022-05-23"),
    ("mariadb", "10.3", "2023-05-25"),
    ("mariadb", "10.4", "2024-06-18"),
    ("mariadb", "10.5", "2025-06-24"),
    ("mariadb", "10.6", "2026-07-06"),
    // Short-term releases, one year each.
    ("mariadb", "10.7", "2023-02-09"),
    ("mariadb", "10.8", "2023-05-20"),
    ("mariadb", "10.9", "2023-08-22"),
    ("mariadb", "10.10", "2023-11-17"),
    ("mariadb", "11.0", "2024-06-06"),
    ("mariadb", "11.1", "2024-08-21"),
    ("mariadb", "11.2", "2024-11-21"),
    ("mariadb", "11.3", "2025-05-29"),
    ("mariadb", "10.11", "2028-02-16"),
    ("mariadb", "11.4", "2029-05-29"),
    ("mariadb", "11.8", "2030-06-04"),
];

/// The end-of-life date of an engine's major version, if the table has it.
pub fn end_of_life(engine: &str, major: &str) -> Option<NaiveDate> {
    TABLE
        .iter()
        .find(|(e, m, _)| *e == engine && *m == major)
        .and_then(|(_, _, date)| date_of(date))
}

fn date_of(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// `15` → (15, 0), `10.11` → (10, 11): majors in release order.
fn ordinal(major: &str) -> Option<(u32, u32)> {
    let mut parts = major.split('.');
    let first = parts.next()?.parse().ok()?;
    let second = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    Some((first, second))
}

/// For a major older than every one in the table (PostgreSQL 9.1, MySQL
/// 5.1): the oldest end of life there. Support ended then at the latest.
pub fn ended_by(engine: &str, major: &str) -> Option<NaiveDate> {
    let wanted = ordinal(major)?;
    let (oldest, date) = TABLE
        .iter()
        .filter(|(e, _, _)| *e == engine)
        .filter_map(|(_, m, d)| Some((ordinal(m)?, *d)))
        .min_by_key(|(ordinal, _)| *ordinal)?;
    (wanted < oldest).then(|| date_of(date)).flatten()
}

/// The major version as the table keys it: `15.4` → `15` for PostgreSQL ≥ 10,
/// `8.0.36` → `8.0` for MySQL and MariaDB.
pub fn major_of(engine: &str, version: &str) -> Option<String> {
    let numeric: String = version
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let mut parts = numeric.split('.').filter(|p| !p.is_empty());
    let first = parts.next()?;
    match engine {
        "postgres" => {
            let major: u32 = first.parse().ok()?;
            if major >= 10 {
                Some(major.to_string())
            } else {
                Some(format!("{major}.{}", parts.next()?))
            }
        }
        _ => Some(format!("{first}.{}", parts.next()?)),
    }
}

/// Records `version.major`, `version.eol_date`, `version.days_until_eol` and
/// `version.table_date` for `major` from this table; `origin` names where the
/// version was read, `shown` the engine as people name it.
pub fn record_support(
    sink: &mut crate::facts::FactSink<'_>,
    engine: &str,
    shown: &str,
    major: &str,
    origin: &str,
    today: NaiveDate,
) {
    const TABLE: &str = "embedded end-of-life table";
    sink.known("version.major", origin, major);
    sink.known("version.table_date", TABLE, TABLE_DATE);
    match end_of_life(engine, major) {
        Some(date) => {
            sink.known("version.eol_date", TABLE, date.to_string());
            sink.known("version.days_until_eol", TABLE, (date - today).num_days());
        }
        None if ended_by(engine, major).is_some() => {
            let date = ended_by(engine, major).unwrap_or(today);
            let origin = format!(
                "{TABLE}: {shown} {major} is older than every version listed, whose support ended by {date}"
            );
            sink.known("version.eol_date", &origin, date.to_string());
            sink.known("version.days_until_eol", &origin, (date - today).num_days());
            sink.known("version.eol_upper_bound", &origin, true);
        }
        None => {
            let mut reason =
                format!("{shown} {major} is not in the end-of-life table dated {TABLE_DATE}");
            if engine == "mysql" && major.starts_with("9.") {
                reason.push_str(" (innovation releases such as MySQL 9.x are supported only until the next one)");
            }
            let fix = Some("upgrade sqlready for a newer end-of-life table");
            sink.unknown("version.eol_date", reason.clone(), fix);
            sink.unknown("version.days_until_eol", reason, fix);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors_follow_each_engine_numbering() {
        assert_eq!(
            major_of("postgres", "15.20 (Debian 15.20-0+deb12u1)").as_deref(),
            Some("15")
        );
        assert_eq!(major_of("postgres", "9.6.24").as_deref(), Some("9.6"));
        assert_eq!(major_of("mysql", "8.0.36-log").as_deref(), Some("8.0"));
        assert_eq!(
            major_of("mariadb", "10.11.19-MariaDB-0+deb12u1").as_deref(),
            Some("10.11")
        );
    }

    #[test]
    fn known_dates_parse() {
        assert_eq!(
            end_of_life("postgres", "15"),
            NaiveDate::from_ymd_opt(2027, 11, 11)
        );
        assert_eq!(end_of_life("postgres", "7"), None);
        // MariaDB's short-term releases are dated too.
        assert_eq!(
            end_of_life("mariadb", "11.2"),
            NaiveDate::from_ymd_opt(2024, 11, 21)
        );
        for (engine, major, _) in TABLE {
            assert!(end_of_life(engine, major).is_some(), "{engine} {major}");
        }
    }

    #[test]
    fn a_major_older_than_the_table_ended_by_its_oldest_date() {
        assert_eq!(
            ended_by("postgres", "7.3"),
            NaiveDate::from_ymd_opt(2010, 10, 1)
        );
        assert_eq!(
            ended_by("mysql", "5.1"),
            NaiveDate::from_ymd_opt(2018, 12, 31)
        );
        // Listed majors have their own date, not the oldest row's (issue 21).
        assert_eq!(ended_by("postgres", "8.0"), None);
        assert_eq!(
            end_of_life("postgres", "8.0"),
            NaiveDate::from_ymd_opt(2010, 10, 1)
        );
        // Newer than the table, or listed: not this rule.
        assert_eq!(ended_by("postgres", "19"), None);
        assert_eq!(ended_by("mysql", "9.1"), None);
        assert_eq!(ended_by("mariadb", "10.11"), None);
        let mut sink = crate::facts::FactSink::new("postgres");
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        record_support(
            &mut sink,
            "postgres",
            "PostgreSQL",
            "8.4",
            "server_version",
            today,
        );
        let facts = sink.finish();
        assert!(!facts.contains_key("version.eol_upper_bound"));
        let days = facts
            .get("version.days_until_eol")
            .and_then(crate::facts::Fact::value)
            .and_then(serde_json::Value::as_i64);
        assert!(days.is_some_and(|d| d < -2900), "{days:?}");
    }
}
