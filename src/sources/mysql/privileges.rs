//! What the audit's own MySQL/MariaDB account may do beyond reading, from
//! `SHOW GRANTS`: global privileges and those granted per schema, table,
//! column or routine (the `mysql.db`, `tables_priv`, `columns_priv` and
//! `procs_priv` grants), which `information_schema.USER_PRIVILEGES` alone
//! does not show.
//!
//! sqlready needs read access only; an account that can write is said once
//! per target on stderr and in the run record (docs/security.md), since the
//! read-only session and the query guard are then the only things between a
//! check file and the data. `SHOW GRANTS` needs no privilege for the current
//! account. Its lines may carry a password hash (`IDENTIFIED BY PASSWORD`),
//! so they are parsed here and never recorded as evidence.

/// Privileges on a schema, table, column or routine that only read.
/// Anything else granted there (INSERT, ALTER, EXECUTE, LOCK TABLES, ALL …)
/// counts as beyond reading: an allowlist, so a new privilege is not missed.
const READ_ONLY_LOCAL: &[&str] = &["SELECT", "SHOW VIEW", "USAGE"];

/// Global privileges beyond reading and monitoring (an account's `*.*` grants
/// also carry monitoring privileges such as PROCESS that the audit needs).
pub const BEYOND_READING_GLOBAL: &[&str] = &[
    "ALL PRIVILEGES",
    "ALL",
    "SUPER",
    "FILE",
    "INSERT",
    "UPDATE",
    "DELETE",
    "DELETE HISTORY",
    "DROP",
    "CREATE",
    "CREATE VIEW",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "ALTER",
    "INDEX",
    "REFERENCES",
    "SHUTDOWN",
    "CREATE USER",
    "GRANT OPTION",
    "EXECUTE",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "CREATE TABLESPACE",
    "EVENT",
    "TRIGGER",
    "RELOAD",
    "CONNECTION ADMIN",
    "PROXY",
];

/// One grant that goes beyond reading: which privileges, on what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beyond {
    pub privileges: Vec<String>,
    /// `*.*`, `` `shop`.* ``, `` `shop`.`orders` ``, `PROCEDURE `p`.`f` ``.
    pub on: String,
}

/// The grants of `SHOW GRANTS` lines that go beyond reading. Lines that are
/// not privilege grants (`GRANT role TO …`, `SET DEFAULT ROLE …`) are skipped.
pub fn beyond_reading(lines: &[String]) -> Vec<Beyond> {
    lines.iter().filter_map(|line| parse(line)).collect()
}

/// The warning for an account holding `beyond` (none when it is empty).
pub fn warning(user: &str, beyond: &[Beyond]) -> Option<String> {
    if beyond.is_empty() {
        return None;
    }
    let held: Vec<String> = beyond
        .iter()
        .map(|b| format!("{} ON {}", b.privileges.join(", "), b.on))
        .collect();
    Some(format!(
        "account {user} holds {}: sqlready needs only read and monitoring privileges (docs/security.md)",
        held.join("; ")
    ))
}

fn parse(line: &str) -> Option<Beyond> {
    let rest = strip_prefix_ci(line.trim(), "GRANT ")?;
    let on_at = find_top_level_ci(rest, " ON ")?;
    let privileges_text = &rest[..on_at];
    let after_on = &rest[on_at + 4..];
    let to_at = find_top_level_ci(after_on, " TO ")?;
    let on = after_on[..to_at].trim().to_string();
    let grant_option = after_on.to_ascii_uppercase().contains(" WITH GRANT OPTION");
    let global = on == "*.*";
    let mut privileges: Vec<String> = split_top_level(privileges_text)
        .into_iter()
        .map(|p| {
            // Column privileges: `INSERT (a, b)` is INSERT on those columns.
            let name = p.split('(').next().unwrap_or("").trim();
            name.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_uppercase()
        })
        .filter(|p| !p.is_empty())
        .filter(|p| {
            if global {
                BEYOND_READING_GLOBAL.contains(&p.as_str())
            } else {
                !READ_ONLY_LOCAL.contains(&p.as_str())
            }
        })
        .collect();
    if grant_option {
        privileges.push("GRANT OPTION".into());
    }
    privileges.dedup();
    (!privileges.is_empty()).then_some(Beyond { privileges, on })
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    (text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &text[prefix.len()..])
}

/// The byte offset of `needle` (ASCII, any case) outside parentheses and
/// backquoted names.
fn find_top_level_ci(text: &str, needle: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut quoted = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'`' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth = depth.saturating_sub(1),
            _ if !quoted
                && depth == 0
                && text.is_char_boundary(i)
                && bytes.len() >= i + needle.len()
                && text.is_char_boundary(i + needle.len())
                && text[i..i + needle.len()].eq_ignore_ascii_case(needle) =>
            {
                return Some(i);
            }
            _ => {}
        }
    }
    None
}

/// Splits a privilege list on commas outside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn schema_table_and_column_write_grants_are_seen() {
        let found = beyond_reading(&lines(&[
            "GRANT PROCESS, BINLOG MONITOR, SELECT ON *.* TO `auditor`@`%` IDENTIFIED BY PASSWORD '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'",
            "GRANT SELECT, INSERT, UPDATE ON `shop`.* TO `auditor`@`%`",
            "GRANT SELECT, SHOW VIEW ON `reports`.* TO `auditor`@`%`",
            "GRANT SELECT (`id`), UPDATE (`a`, `b`) ON `shop`.`orders` TO `auditor`@`%`",
            "GRANT EXECUTE ON PROCEDURE `shop`.`purge` TO `auditor`@`%`",
            "GRANT `app_writer` TO `auditor`@`%`",
            "SET DEFAULT ROLE `app_writer` FOR `auditor`@`%`",
        ]));
        assert_eq!(
            found,
            vec![
                Beyond {
                    privileges: vec!["INSERT".into(), "UPDATE".into()],
                    on: "`shop`.*".into()
                },
                Beyond {
                    privileges: vec!["UPDATE".into()],
                    on: "`shop`.`orders`".into()
                },
                Beyond {
                    privileges: vec!["EXECUTE".into()],
                    on: "PROCEDURE `shop`.`purge`".into()
                },
            ]
        );
        let text = warning("auditor", &found).unwrap();
        assert!(text.contains("INSERT, UPDATE ON `shop`.*"), "{text}");
        assert!(!text.contains("2470C0"), "no password hash: {text}");
    }

    #[test]
    fn global_grants_count_only_beyond_monitoring() {
        assert!(
            beyond_reading(&lines(&[
                "GRANT PROCESS, REPLICATION CLIENT, SELECT, SHOW VIEW ON *.* TO 'a'@'%'"
            ]))
            .is_empty()
        );
        let all = beyond_reading(&lines(&[
            "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION",
        ]));
        assert_eq!(all[0].privileges, vec!["ALL PRIVILEGES", "GRANT OPTION"]);
        // A name that contains " on " or " to " inside backquotes is not a keyword.
        let odd = beyond_reading(&lines(&["GRANT DELETE ON `a to b`.`x on y` TO `u`@`%`"]));
        assert_eq!(odd[0].on, "`a to b`.`x on y`");
        // Read-only grants on a schema, and USAGE alone, say nothing.
        assert!(
            beyond_reading(&lines(&[
                "GRANT USAGE ON *.* TO `u`@`%`",
                "GRANT SELECT ON `mysql`.`db` TO `u`@`%`"
            ]))
            .is_empty()
        );
        assert_eq!(warning("u", &[]), None);
    }
}
