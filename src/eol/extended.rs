//! Providers' own support calendars: how long a managed provider keeps a major version
//! patched past its community end of life, for a charge.
//!
//! **RDS Extended Support** (RDS for PostgreSQL, RDS for MySQL, Aurora PostgreSQL, Aurora
//! MySQL; MariaDB has none): after the RDS end of standard support a database is enrolled
//! automatically (unless created with `EngineLifecycleSupport =
//! open-source-rds-extended-support-disabled`) and billed per vCPU-hour on top of the
//! instance, at a higher rate from the third year; RDS keeps shipping security fixes until
//! the end of Extended Support, then upgrades the major version itself. The live API
//! (`DescribeDBMajorEngineVersions` → `SupportedEngineLifecycles`) is preferred; this table
//! answers when it does not (older partitions, emulators, a denied call).
//!
//! Sources (checked on [`RDS_TABLE_DATE`]):
//! - RDS for PostgreSQL: "Release calendar for Amazon RDS for PostgreSQL",
//!   docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html
//! - RDS for MySQL: "Supported MySQL major versions on Amazon RDS",
//!   docs.aws.amazon.com/AmazonRDS/latest/UserGuide/MySQL.Concepts.VersionMgmt.html
//! - Aurora: "Release calendars for Aurora PostgreSQL" and "Aurora MySQL major versions"
//!   (docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/aurorapostgresql-release-calendar.html,
//!   docs.aws.amazon.com/AmazonRDS/latest/AuroraMySQLReleaseNotes/AuroraMySQL.release-calendars.html)
//! - Charges: docs.aws.amazon.com/AmazonRDS/latest/UserGuide/extended-support-charges.html
//!
//! **Staleness.** Dates after the table's own date are promises the provider can move (AWS
//! has moved some, always later). Like the minor-release table ([`super::minor`]), a row is
//! trusted for its future dates only while the table is younger than [`MAX_AGE_DAYS`]:
//! an old table makes the verdict unknown ("upgrade sqlready"), never a late `pass` or an
//! early `fail`. Dates already past when the table was written are history and stay valid.

use chrono::NaiveDate;

/// When the RDS calendar below was last checked against AWS's published calendars.
pub const RDS_TABLE_DATE: &str = "2026-12-01";

/// How long the future dates of a provider calendar are trusted after it was checked.
pub const MAX_AGE_DAYS: i64 = 400;

/// What RDS Extended Support costs, in words (for evidence and details).
pub const RDS_CHARGE: &str =
    "billed per vCPU-hour on top of the instance, at a higher rate from the third year";

/// (RDS engine, major, end of standard support, start of year-3 pricing, end of Extended Support).
/// Aurora PostgreSQL follows RDS for PostgreSQL's dates; Aurora MySQL has its own.
const RDS: &[(&str, &str, &str, &str, &str)] = &[
    ("postgres", "11", "2024-02-29", "2026-03-01", "2027-03-31"),
    ("postgres", "12", "2025-02-28", "2027-03-01", "2028-02-29"),
    ("postgres", "13", "2026-02-28", "2028-03-01", "2029-02-28"),
    ("postgres", "14", "2027-02-28", "2029-03-01", "2030-02-28"),
    ("postgres", "15", "2028-02-29", "2030-03-01", "2031-02-28"),
    ("postgres", "16", "2029-02-28", "2031-03-01", "2032-02-29"),
    ("postgres", "17", "2030-02-28", "2032-03-01", "2033-02-28"),
    (
        "aurora-postgresql",
        "11",
        "2024-02-29",
        "2026-03-01",
        "2027-03-31",
    ),
    (
        "aurora-postgresql",
        "12",
        "2025-02-28",
        "2027-03-01",
        "2028-02-29",
    ),
    (
        "aurora-postgresql",
        "13",
        "2026-02-28",
        "2028-03-01",
        "2029-02-28",
    ),
    (
        "aurora-postgresql",
        "14",
        "2027-02-28",
        "2029-03-01",
        "2030-02-28",
    ),
    (
        "aurora-postgresql",
        "15",
        "2028-02-29",
        "2030-03-01",
        "2031-02-28",
    ),
    (
        "aurora-postgresql",
        "16",
        "2029-02-28",
        "2031-03-01",
        "2032-02-29",
    ),
    (
        "aurora-postgresql",
        "17",
        "2030-02-28",
        "2032-03-01",
        "2033-02-28",
    ),
    ("mysql", "5.7", "2024-02-29", "2026-03-01", "2027-02-28"),
    ("mysql", "8.0", "2026-07-31", "2028-08-01", "2029-07-31"),
    ("mysql", "8.4", "2029-07-31", "2031-08-01", "2032-07-31"),
    (
        "aurora-mysql",
        "5.7",
        "2024-10-31",
        "2026-03-01",
        "2027-02-28",
    ),
    (
        "aurora-mysql",
        "8.0",
        "2028-04-30",
        "2030-05-01",
        "2031-04-30",
    ),
];

/// A major version's provider calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    /// The last day of standard (regular) support, after which the paid support starts.
    pub standard_end: NaiveDate,
    /// When the higher third-year rate starts, if the provider has one.
    pub year3_start: Option<NaiveDate>,
    /// The last day of paid extended support: no security fixes after it.
    pub extended_end: NaiveDate,
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// RDS's calendar for an RDS engine name (`postgres`, `aurora-postgresql`, `mysql`,
/// `aurora-mysql`; the legacy `aurora` is Aurora MySQL) and major version.
pub fn rds(engine: &str, major: &str) -> Option<Calendar> {
    let engine = if engine == "aurora" {
        "aurora-mysql"
    } else {
        engine
    };
    let (_, _, standard, year3, extended) =
        RDS.iter().find(|(e, m, ..)| *e == engine && *m == major)?;
    Some(Calendar {
        standard_end: date(standard)?,
        year3_start: date(year3),
        extended_end: date(extended)?,
    })
}

/// For a major older than every one RDS's calendar dates for `engine` (Aurora
/// PostgreSQL 10, Aurora MySQL 1): the oldest dated major's end of standard
/// support. AWS ends an older major before a newer one and offers Extended
/// Support only from the calendar's majors on, so support ended by then at the latest.
pub fn rds_ended_by(engine: &str, major: &str) -> Option<NaiveDate> {
    let engine = if engine == "aurora" {
        "aurora-mysql"
    } else {
        engine
    };
    let ordinal = |major: &str| -> Option<(u32, u32)> {
        let mut parts = major.split('.');
        let first = parts.next()?.parse().ok()?;
        let second = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        Some((first, second))
    };
    let wanted = ordinal(major)?;
    let (oldest, standard) = RDS
        .iter()
        .filter(|(e, ..)| *e == engine)
        .filter_map(|(_, m, standard, ..)| Some((ordinal(m)?, *standard)))
        .min_by_key(|(ordinal, _)| *ordinal)?;
    (wanted < oldest).then(|| date(standard)).flatten()
}

/// Whether a calendar date can be relied on today: a date before the table was checked
/// is history; a later one is a promise, trusted while the table is under [`MAX_AGE_DAYS`].
pub fn trusted(day: NaiveDate, table_date: &str, today: NaiveDate) -> bool {
    match date(table_date) {
        Some(checked) => day <= checked || (today - checked).num_days() <= MAX_AGE_DAYS,
        None => false,
    }
}

/// Why a calendar is not relied on today, if it is not: its future dates are older
/// promises than [`MAX_AGE_DAYS`].
pub fn stale(calendar: &Calendar, table_date: &str, today: NaiveDate) -> Option<String> {
    let fine = trusted(calendar.standard_end, table_date, today)
        && trusted(calendar.extended_end, table_date, today);
    (!fine).then(|| {
        format!(
            "the provider calendar shipped with sqlready was checked on {table_date}, more than {MAX_AGE_DAYS} days ago, and its dates after that are promises the provider may have moved"
        )
    })
}

/// The `EngineLifecycleSupport` value that opts out of RDS Extended Support.
pub const EXTENDED_SUPPORT_DISABLED: &str = "open-source-rds-extended-support-disabled";

/// Version support from the RDS calendar shipped with sqlready (this module), for
/// the `rds://` source when the API gave none and for a planned Terraform resource
/// (always): the same facts as from DescribeDBMajorEngineVersions. `false` when
/// the calendar has no row for the version, or its row is too old to rely on.
pub fn rds_calendar_facts(
    sink: &mut crate::facts::FactSink<'_>,
    engine: &str,
    major: &str,
    lifecycle_support: Option<&str>,
    fallback_reason: &str,
    today: NaiveDate,
) -> bool {
    let Some(calendar) = rds(engine, major) else {
        return false;
    };
    if let Some(reason) = stale(&calendar, RDS_TABLE_DATE, today) {
        tracing::debug!("{engine} {major}: {reason}; the upstream end-of-life table applies");
        return false;
    }
    let enrolled = lifecycle_support != Some(EXTENDED_SUPPORT_DISABLED);
    let (end, extended) = (calendar.standard_end, calendar.extended_end);
    let support_end = if enrolled { extended } else { end };
    let origin = format!(
        "RDS calendar shipped with sqlready (checked {RDS_TABLE_DATE}; {fallback_reason}): {engine} {major} standard support ends {end}, paid Extended Support ({RDS_CHARGE}) until {extended}; {}",
        enrolment(enrolled)
    );
    support_facts(
        sink,
        SupportDates {
            origin: origin.clone(),
            standard_end: end,
            support_end,
            paid_extended_support: enrolled && end < today,
            table_date: (origin.clone(), RDS_TABLE_DATE.into()),
            lifecycle_source: format!(
                "embedded RDS calendar ({RDS_TABLE_DATE}): {fallback_reason}"
            ),
        },
        today,
    );
    true
}

/// Whether the instance is enrolled in RDS Extended Support, in words.
pub fn enrolment(enrolled: bool) -> &'static str {
    if enrolled {
        "enrolled in Extended Support (EngineLifecycleSupport absent or open-source-rds-extended-support)"
    } else {
        "Extended Support disabled: RDS upgrades the major version when standard support ends"
    }
}

/// RDS version support, from DescribeDBMajorEngineVersions or the shipped calendar.
pub struct SupportDates {
    pub origin: String,
    pub standard_end: NaiveDate,
    /// When security fixes stop: the end of paid Extended Support when enrolled.
    pub support_end: NaiveDate,
    pub paid_extended_support: bool,
    /// (origin, date) of the dates' source.
    pub table_date: (String, String),
    pub lifecycle_source: String,
}

/// The same version-support facts whichever of the two told the dates.
pub fn support_facts(sink: &mut crate::facts::FactSink<'_>, dates: SupportDates, today: NaiveDate) {
    let origin = dates.origin;
    sink.known(
        "version.eol_date",
        origin.clone(),
        dates.support_end.to_string(),
    );
    sink.known(
        "version.days_until_eol",
        origin.clone(),
        (dates.support_end - today).num_days(),
    );
    sink.known(
        "rds.version.standard_support_end",
        origin.clone(),
        dates.standard_end.to_string(),
    );
    sink.known(
        "rds.version.days_until_standard_support_end",
        origin.clone(),
        (dates.standard_end - today).num_days(),
    );
    sink.known(
        "version.paid_extended_support",
        origin.clone(),
        dates.paid_extended_support,
    );
    let (table_origin, table_date) = dates.table_date;
    sink.known("version.table_date", table_origin, table_date);
    sink.known(
        "rds.version.lifecycle_source",
        origin,
        dates.lifecycle_source,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors_older_than_the_calendar_ended_by_its_oldest_standard_end() {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        assert_eq!(
            rds_ended_by("aurora-postgresql", "10"),
            Some(day("2024-02-29"))
        );
        assert_eq!(
            rds_ended_by("aurora-postgresql", "9.6"),
            Some(day("2024-02-29"))
        );
        assert_eq!(rds_ended_by("aurora", "5.6"), Some(day("2024-10-31")));
        assert_eq!(rds_ended_by("aurora-postgresql", "11"), None);
        assert_eq!(rds_ended_by("aurora-mysql", "8.0"), None);
        assert_eq!(rds_ended_by("mariadb", "10.3"), None);
    }

    fn day(text: &str) -> NaiveDate {
        date(text).unwrap()
    }

    #[test]
    fn every_row_parses_in_order_and_once() {
        for (engine, major, _, _, _) in RDS {
            let c = rds(engine, major).unwrap_or_else(|| panic!("{engine} {major}"));
            assert!(c.standard_end < c.extended_end, "{engine} {major}");
            let y3 = c.year3_start.expect("year 3");
            assert!(
                c.standard_end < y3 && y3 <= c.extended_end,
                "{engine} {major}"
            );
            // Up to three years of Extended Support.
            assert!((c.extended_end - c.standard_end).num_days() <= 3 * 366 + 31);
            let same = RDS
                .iter()
                .filter(|(e, m, ..)| e == engine && m == major)
                .count();
            assert_eq!(same, 1, "{engine} {major}");
        }
        assert!(date(RDS_TABLE_DATE).is_some());
    }

    #[test]
    fn engines_are_named_as_rds_names_them() {
        assert_eq!(
            rds("postgres", "13").map(|c| c.extended_end),
            Some(day("2029-02-28"))
        );
        assert_eq!(rds("aurora", "5.7"), rds("aurora-mysql", "5.7"));
        // MariaDB has no RDS Extended Support; unlisted majors are None.
        assert_eq!(rds("mariadb", "10.6"), None);
        assert_eq!(rds("postgres", "19"), None);
    }

    #[test]
    fn future_dates_go_stale_history_does_not() {
        let c = rds("mysql", "8.0").unwrap();
        assert_eq!(stale(&c, RDS_TABLE_DATE, day("2027-01-01")), None);
        let reason = stale(&c, RDS_TABLE_DATE, day("2028-06-01")).expect("stale");
        assert!(reason.contains(RDS_TABLE_DATE), "{reason}");
        // Every date of a row already past when the table was checked stays valid.
        let old = rds("postgres", "11").unwrap();
        assert!(trusted(old.extended_end, "2027-06-01", day("2035-01-01")));
        assert_eq!(stale(&old, "2027-06-01", day("2035-01-01")), None);
    }
}
