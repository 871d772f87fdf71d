//! Cloud SQL `databaseVersion` values: engine, major version, and Cloud SQL's
//! own support calendar (which runs past the community end of life, as paid
//! extended support, until the version is deprecated).

use chrono::NaiveDate;

/// Where the calendar comes from. The API carries no support dates.
pub const CALENDAR_SOURCE: &str = "Cloud SQL database version policies (cloud.google.com/sql/docs/db-versions): end of regular support = start of paid extended support; deprecation 3 years later";

/// When the calendar below was last reviewed (with the upstream end-of-life table); its
/// future dates are relied on only while it is young ([`crate::eol::extended::stale`]).
pub const CALENDAR_DATE: &str = "2026-11-01";

/// What Cloud SQL extended support costs, in words.
pub const CHARGE: &str =
    "billed on top of the instance (per vCPU-hour), with no new Cloud SQL features";

/// (engine, major, end of regular support = extended support start, deprecation).
/// Versions Cloud SQL had not dated when this table was written (PostgreSQL 18,
/// MySQL 8.4) are absent: their facts are unknown rather than guessed.
const CALENDAR: &[(&str, &str, &str, &str)] = &[
    ("postgres", "9.6", "2025-02-01", "2028-02-01"),
    ("postgres", "10", "2025-02-01", "2028-02-01"),
    ("postgres", "11", "2025-02-01", "2028-02-01"),
    ("postgres", "12", "2025-02-01", "2028-02-01"),
    ("postgres", "13", "2026-02-01", "2029-02-01"),
    ("postgres", "14", "2027-02-01", "2030-02-01"),
    ("postgres", "15", "2028-02-01", "2031-02-01"),
    ("postgres", "16", "2029-02-01", "2032-02-01"),
    ("postgres", "17", "2030-02-01", "2033-02-01"),
    ("mysql", "5.6", "2025-02-01", "2028-02-01"),
    ("mysql", "5.7", "2025-02-01", "2028-02-01"),
    ("mysql", "8.0", "2026-07-01", "2029-07-01"),
];

/// A `databaseVersion` enum name, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseVersion {
    /// `postgres`, `mysql`, `sqlserver`, or `unknown`.
    pub engine: &'static str,
    /// `15`, `9.6`, `8.0`, `2019`; empty when unreadable.
    pub major: String,
    /// The version as far as the name tells: `15`, `8.0.31`, `2019 STANDARD`.
    pub display: String,
}

/// Reads `POSTGRES_15`, `MYSQL_8_0_31`, `SQLSERVER_2019_STANDARD`.
pub fn parse(name: &str) -> DatabaseVersion {
    let mut parts = name.split('_');
    let family = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let numeric: Vec<&str> = rest
        .iter()
        .copied()
        .take_while(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        .collect();
    match family {
        "POSTGRES" => {
            let major = match numeric.as_slice() {
                [first, second, ..] if *first == "9" => format!("{first}.{second}"),
                [first, ..] => first.to_string(),
                [] => String::new(),
            };
            DatabaseVersion {
                engine: "postgres",
                display: numeric.join("."),
                major,
            }
        }
        "MYSQL" => {
            let major = match numeric.as_slice() {
                [first, second, ..] => format!("{first}.{second}"),
                [first] => first.to_string(),
                [] => String::new(),
            };
            DatabaseVersion {
                engine: "mysql",
                display: numeric.join("."),
                major,
            }
        }
        "SQLSERVER" => DatabaseVersion {
            engine: "sqlserver",
            major: numeric.first().map(|s| s.to_string()).unwrap_or_default(),
            display: rest.join(" "),
        },
        _ => DatabaseVersion {
            engine: "unknown",
            major: String::new(),
            display: String::new(),
        },
    }
}

/// The installed version (`POSTGRES_15_7` → `15.7`, `MYSQL_8_0_31` → `8.0.31`).
pub fn installed(name: &str) -> Option<String> {
    let parsed = parse(name);
    (parsed.engine != "unknown" && !parsed.display.is_empty()).then_some(parsed.display)
}

/// Cloud SQL's end of regular support and deprecation date for a major version.
pub fn calendar(engine: &str, major: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (_, _, end, deprecated) = CALENDAR
        .iter()
        .find(|(e, m, _, _)| *e == engine && *m == major)?;
    let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    Some((date(end)?, date(deprecated)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_engine_and_major() {
        let pg = parse("POSTGRES_15");
        assert_eq!(
            (pg.engine, pg.major.as_str(), pg.display.as_str()),
            ("postgres", "15", "15")
        );
        assert_eq!(parse("POSTGRES_9_6").major, "9.6");
        let mysql = parse("MYSQL_8_0_31");
        assert_eq!(
            (mysql.engine, mysql.major.as_str(), mysql.display.as_str()),
            ("mysql", "8.0", "8.0.31")
        );
        assert_eq!(parse("MYSQL_8_4").major, "8.4");
        let mssql = parse("SQLSERVER_2019_STANDARD");
        assert_eq!((mssql.engine, mssql.major.as_str()), ("sqlserver", "2019"));
        assert_eq!(parse("SQL_DATABASE_VERSION_UNSPECIFIED").engine, "unknown");
        assert_eq!(installed("POSTGRES_15_7").as_deref(), Some("15.7"));
        assert_eq!(installed(""), None);
    }

    #[test]
    fn every_calendar_date_parses() {
        for (engine, major, _, _) in CALENDAR {
            let (end, deprecated) = calendar(engine, major).expect("dated");
            assert!(end < deprecated, "{engine} {major}");
        }
        assert_eq!(calendar("postgres", "18"), None);
    }
}
