//! The newest minor release of each engine major, as far as it was verified from
//! a published source: how far behind a running server is.
//!
//! Every row is a release someone can look up; the comment above it names where.
//! A row says "as of `as_of`, the newest release of this major was N". Past the
//! engine's cadence window (see [`fresh_days`]) a newer release may exist that the
//! table does not know, so the table can still prove a server behind, but never
//! current. A row marked `final` is the last release of a major whose support has
//! ended: nothing newer will come, so it never goes stale.

use chrono::NaiveDate;

/// One verified row: (engine, major, newest minor, its release day, final).
struct Row {
    engine: &'static str,
    major: &'static str,
    minor: u32,
    as_of: &'static str,
    last: bool,
}

const fn row(
    engine: &'static str,
    major: &'static str,
    minor: u32,
    as_of: &'static str,
    last: bool,
) -> Row {
    Row {
        engine,
        major,
        minor,
        as_of,
        last,
    }
}

/// Each row's date is when that release came out or, where only a later
/// witness dates it, the release before it: never later than the truth, so a
/// row can only go stale early (unknown), never late (a false "current").
const ROWS: &[Row] = &[
    // PostgreSQL 18.6, 17.11, 16.15 (18.5 was skipped upstream): the Citus packaging
    // bump https://github.com/citusdata/the-process/pull/242 (2026-08-19), the
    // release of 2026-08-13, the second Thursday (https://www.postgresql.org/developer/roadmap/).
    row("postgres", "18", 6, "2026-08-13", false),
    row("postgres", "17", 11, "2026-08-13", false),
    row("postgres", "16", 15, "2026-08-13", false),
    // PostgreSQL 15.20: Debian's postgresql-15 15.20-0+deb12u1 ("New upstream version
    // 15.20", 2026-11-13, /usr/share/doc/postgresql-15/changelog.Debian.gz), the
    // release of 2026-11-12 announced with PostgreSQL 14's end of life
    // (https://www.postgresql.org/about/news/ of 2026-05-14; https://github.com/5432-fr/5432.fr/discussions/203).
    row("postgres", "15", 20, "2026-11-12", false),
    // 2026-05-14: PostgreSQL 18.4, 17.10, 16.14, 15.18 and 14.23 released
    // (postgresql.org banner, https://www.postgresql.org/ftp/pgadmin/pgadmin4/snapshots/2026-05-31/apt/trixie/).
    // 14's final release of 2026-11-12 was not confirmed from a source.
    row("postgres", "14", 23, "2026-05-14", false),
    // 2025-11-13: 13.23 released (postgresql.org banner), the last of 13, whose
    // support ended that day (https://www.postgresql.org/support/versioning/).
    row("postgres", "13", 23, "2025-11-13", true),
    // "As of April 2026, with version 8.0.46, MySQL 8.0 reaches End of Life"
    // (https://docs.oracle.com/cd/E17952_01/mysql-8.0-relnotes-en/).
    row("mysql", "8.0", 46, "2026-04-21", true),
    // MySQL 8.4.13: Percona Server for MySQL 8.4.13-13 (2026-11-30) is built on it
    // (https://docs.percona.com/percona-server/8.4/release-notes/release-notes-index.md),
    // https://dev.mysql.com/doc/relnotes/mysql/8.4/en/news-8-4-13.html; its own date
    // was not confirmed, so the row is dated by 8.4.10 (2026-06-16, the release of
    // MySQL Shell and Router 8.4.10 aligned with the server's).
    row("mysql", "8.4", 13, "2026-06-16", false),
    // MariaDB 10.6.28, 2026-08-13:
    // https://mariadb.com/docs/release-notes/community-server/changelogs/10.6.md
    row("mariadb", "10.6", 28, "2026-08-13", false),
    // MariaDB 10.11.19: Debian's mariadb 1:10.11.19-0+deb12u1 (2026-09-18,
    // /usr/share/doc/mariadb-server/changelog.Debian.gz); dated by 10.11.18,
    // 2026-05-27 (https://mariadb.com/docs/platform/post-download/mariadb-server-10.11.18).
    row("mariadb", "10.11", 19, "2026-05-27", false),
    // MariaDB 11.8.6, 2026-02-04: https://endoflife.date/api/mariadb.json
    row("mariadb", "11.8", 6, "2026-02-04", false),
];

/// How long a row stays a safe "newest", per engine cadence. PostgreSQL ships a
/// minor at least every three months (second Thursday of Feb/May/Aug/Nov,
/// postgresql.org/developer/roadmap); MySQL with Oracle's quarterly Critical Patch
/// Updates (Jan/Apr/Jul/Oct); MariaDB quarterly (Feb/May/Aug/Nov). A quarter plus
/// a few weeks' slack for a release to be noticed.
pub fn fresh_days(engine: &str) -> i64 {
    match engine {
        "postgres" => 100,
        "mysql" => 100,
        "mariadb" => 100,
        _ => 0,
    }
}

/// The (major, minor) of a version text in the engine's own numbering, or why it
/// cannot be read. Provider spellings that are not upstream numbers are refused
/// rather than guessed: `8.0.mysql_aurora.3.05.2` (Aurora's own lineage) and Cloud
/// SQL's `8.0.31-google` builds are not comparable with upstream releases.
pub fn parse(engine: &str, version: &str) -> Result<(String, u32), String> {
    let version = version.trim();
    let lower = version.to_ascii_lowercase();
    if lower.contains("aurora") {
        return Err(format!(
            "'{version}' is an Aurora version, numbered in Aurora's own lineage, not {engine}'s minor releases"
        ));
    }
    if lower.contains("-google") || lower.contains("cloudsql") {
        return Err(format!(
            "'{version}' is a Cloud SQL build; Google applies minor versions in maintenance, not by {engine}'s numbering"
        ));
    }
    let numeric: String = version
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let parts: Vec<&str> = numeric.split('.').collect();
    let number = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
    let unreadable = || format!("cannot read a minor release from '{version}'");
    match engine {
        "postgres" => {
            let major = number(0).ok_or_else(unreadable)?;
            if major < 10 {
                return Err(format!(
                    "'{version}' is a pre-10 PostgreSQL, numbered major.major.minor; not in the minor-release table"
                ));
            }
            Ok((major.to_string(), number(1).ok_or_else(unreadable)?))
        }
        "mysql" | "mariadb" => {
            let (first, second, minor) = (number(0), number(1), number(2));
            match (first, second, minor) {
                (Some(a), Some(b), Some(c)) => Ok((format!("{a}.{b}"), c)),
                _ => Err(unreadable()),
            }
        }
        _ => Err(format!("no minor-release table for engine '{engine}'")),
    }
}

/// Records how far the running minor release is behind the newest of its major:
/// `version.latest_minor`, `version.minor_behind` (a lower bound once the row is
/// old) and `version.minor_table_current` (known only while the row is fresh or
/// final, so a check can pass only when "not behind" is true today).
pub fn record_minor(
    sink: &mut crate::facts::FactSink<'_>,
    engine: &str,
    version: &str,
    today: NaiveDate,
) {
    const ORIGIN: &str = "embedded minor-release table";
    let paths = [
        "version.latest_minor",
        "version.minor_behind",
        "version.minor_table_current",
    ];
    let unknown_all = |sink: &mut crate::facts::FactSink<'_>, reason: String, fix: &str| {
        for path in paths {
            sink.unknown(path, reason.clone(), Some(fix));
        }
    };
    let (major, running) = match parse(engine, version) {
        Ok(parsed) => parsed,
        Err(reason) => {
            return unknown_all(
                sink,
                reason,
                "compare the version with the provider's or project's release notes",
            );
        }
    };
    let Some(row) = ROWS.iter().find(|r| r.engine == engine && r.major == major) else {
        let listed: Vec<String> = ROWS
            .iter()
            .filter(|r| r.engine == engine)
            .map(|r| r.major.to_string())
            .collect();
        return unknown_all(
            sink,
            format!(
                "{engine} {major} is not in the minor-release table (it records {}): no newest release was verified from a source",
                if listed.is_empty() {
                    "none".to_string()
                } else {
                    listed.join(", ")
                }
            ),
            "compare the version with the project's release notes",
        );
    };
    let latest = row.minor;
    if running > latest {
        return unknown_all(
            sink,
            format!(
                "{major}.{running} is newer than {major}.{latest}, the newest in the minor-release table as of {}: the table is out of date",
                row.as_of
            ),
            "upgrade sqlready for a newer minor-release table",
        );
    }
    let as_of = NaiveDate::parse_from_str(row.as_of, "%Y-%m-%d").unwrap_or(today);
    let age = (today - as_of).num_days();
    sink.known(
        "version.latest_minor",
        format!("{ORIGIN}, as of {}", row.as_of),
        format!("{major}.{latest}"),
    );
    sink.known(
        "version.minor_behind",
        format!(
            "{major}.{running} against {major}.{latest}, the newest as of {} (releases after it would add to the count)",
            row.as_of
        ),
        i64::from(latest - running),
    );
    let window = fresh_days(engine);
    if row.last {
        sink.known(
            "version.minor_table_current",
            format!(
                "{ORIGIN}: {major}.{latest} is the last release of {engine} {major}, whose support has ended"
            ),
            true,
        );
    } else if age <= window {
        sink.known(
            "version.minor_table_current",
            format!("{ORIGIN}: {major}.{latest}, released {age} day(s) ago, within {engine}'s release cadence"),
            true,
        );
    } else {
        let standing = match latest - running {
            0 => format!("{major}.{running} is the newest the table knows, but"),
            behind => format!("{major}.{running} is at least {behind} behind, and"),
        };
        sink.unknown(
            "version.minor_table_current",
            format!(
                "{major}.{latest}, the newest in the table, dates from {}, {age} days ago, longer than {engine}'s release cadence ({window} days): {standing} newer releases may exist, so it is not known to be current",
                row.as_of
            ),
            Some("upgrade sqlready for a newer minor-release table, or compare with the project's release notes"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn facts(engine: &str, version: &str, today: NaiveDate) -> crate::facts::Facts {
        let mut sink = crate::facts::FactSink::new(engine);
        record_minor(&mut sink, engine, version, today);
        sink.finish()
    }

    fn value(facts: &crate::facts::Facts, path: &str) -> Option<serde_json::Value> {
        facts.get(path).and_then(crate::facts::Fact::value).cloned()
    }

    #[test]
    fn versions_parse_in_each_engine_numbering() {
        assert_eq!(
            parse("postgres", "15.2 (Debian 15.2-1.pgdg120+1)"),
            Ok(("15".into(), 2))
        );
        assert_eq!(parse("mysql", "8.0.36"), Ok(("8.0".into(), 36)));
        assert_eq!(parse("mysql", "8.0.36-log"), Ok(("8.0".into(), 36)));
        assert_eq!(
            parse("mariadb", "10.11.6-MariaDB-0+deb12u1"),
            Ok(("10.11".into(), 6))
        );
        // Provider lineages are never read as upstream numbers.
        assert!(parse("mysql", "8.0.mysql_aurora.3.05.2").is_err());
        assert!(parse("mysql", "8.0.31-google").is_err());
        assert!(parse("mysql", "8.0.32 (Aurora MySQL 3.05.2)").is_err());
        assert!(parse("postgres", "15.4 (Aurora PostgreSQL)").is_err());
        assert!(parse("postgres", "9.6.24").is_err());
        assert!(parse("mysql", "8.0").is_err());
    }

    #[test]
    fn postgres_behind_is_counted_and_current_only_while_fresh() {
        let fresh = day("2026-09-01");
        let f = facts("postgres", "16.2", fresh);
        assert_eq!(value(&f, "version.minor_behind"), Some(13.into()));
        assert_eq!(value(&f, "version.latest_minor"), Some("16.15".into()));
        assert_eq!(value(&f, "version.minor_table_current"), Some(true.into()));
        let late = day("2026-12-05");
        let f = facts("postgres", "16.15", late);
        assert_eq!(value(&f, "version.minor_behind"), Some(0.into()));
        assert_eq!(value(&f, "version.minor_table_current"), None);
        // A final release never goes stale: 13.23 is the last of 13.
        let f = facts("postgres", "13.20", day("2030-01-01"));
        assert_eq!(value(&f, "version.minor_behind"), Some(3.into()));
        assert_eq!(value(&f, "version.minor_table_current"), Some(true.into()));
    }

    #[test]
    fn mysql_and_mariadb_are_judged_on_their_own_rows() {
        let today = day("2026-12-05");
        let f = facts("mysql", "8.0.36", today);
        assert_eq!(value(&f, "version.minor_behind"), Some(10.into()));
        assert_eq!(value(&f, "version.latest_minor"), Some("8.0.46".into()));
        assert_eq!(value(&f, "version.minor_table_current"), Some(true.into()));
        // 8.4.13 is dated by an earlier release: stale, so never "current" today.
        let f = facts("mysql", "8.4.13", today);
        assert_eq!(value(&f, "version.minor_behind"), Some(0.into()));
        assert_eq!(value(&f, "version.minor_table_current"), None);
        let f = facts("mysql", "8.4.13", day("2026-08-01"));
        assert_eq!(value(&f, "version.minor_table_current"), Some(true.into()));
        let f = facts("mariadb", "10.11.6-MariaDB-0+deb12u1", today);
        assert_eq!(value(&f, "version.minor_behind"), Some(13.into()));
        assert_eq!(value(&f, "version.minor_table_current"), None);
        // PostgreSQL 15.20 (2026-11-12) is fresh today.
        let f = facts("postgres", "15.20 (Debian 15.20-0+deb12u1)", today);
        assert_eq!(value(&f, "version.minor_behind"), Some(0.into()));
        assert_eq!(value(&f, "version.minor_table_current"), Some(true.into()));
        // A MariaDB version is never looked up in MySQL's rows, nor the reverse.
        let f = facts("mariadb", "8.0.36", today);
        assert_eq!(value(&f, "version.minor_behind"), None);
    }

    #[test]
    fn unreadable_or_unlisted_versions_are_unknown_with_a_reason() {
        let today = day("2026-12-05");
        for (engine, version) in [
            ("mysql", "8.0.mysql_aurora.3.05.2"),
            ("mysql", "8.0.31-google"),
            ("mysql", "9.1.0"),
            ("mariadb", "11.4.5-MariaDB"),
            ("postgres", "16.99"),
        ] {
            let f = facts(engine, version, today);
            for path in ["version.minor_behind", "version.minor_table_current"] {
                let fact = f.get(path).unwrap();
                assert!(fact.value().is_none(), "{engine} {version} {path}");
            }
        }
    }

    #[test]
    fn every_row_has_a_date_and_is_unique() {
        for (i, r) in ROWS.iter().enumerate() {
            assert!(day(r.as_of) > day("2025-01-01"), "{} {}", r.engine, r.major);
            assert!(fresh_days(r.engine) > 0);
            assert!(
                !ROWS[..i]
                    .iter()
                    .any(|o| o.engine == r.engine && o.major == r.major),
                "{} {} twice",
                r.engine,
                r.major
            );
        }
    }
}
