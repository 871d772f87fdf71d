//! Fixes that cannot make things worse: a printed command that *replaces a whole list*
//! is printed with the target's current list merged in, when the facts have it.
//!
//! - `gcloud sql instances patch … --database-flags=…` replaces every database flag of the
//!   instance (gcloud's reference: "Any flags not provided will be cleared"): applied as
//!   written, `--database-flags=long_query_time=1` turns the slow query log off again. The
//!   instance's flags (`cloudsql.database_flags`) are kept, the fix's own values win.
//! - `ALTER SYSTEM SET shared_preload_libraries = '…'` replaces the list of preloaded
//!   libraries; the libraries loaded now (`postgres.settings.shared_preload_libraries`) are
//!   kept.
//! - `gcloud sql instances patch … --authorized-networks=…` replaces every authorized
//!   network: the instance's networks (`cloudsql.network.authorized_networks`) are kept but
//!   for those that open it to the internet, dropped widest first until the rest no longer
//!   does (an office /24 next to a `0.0.0.0/0` stays); none left → `--clear-authorized-networks`.
//!
//! Without those facts the fix text is printed as written; its first line already warns
//! that the list is replaced (a test holds every fix text to that).

use serde_json::Value as Json;

/// Delimiters gcloud's `^D^` list syntax may use here: none of them is special to the shell
/// inside single quotes, and the first one absent from every name and value is taken.
const DELIMITERS: &[char] = &[':', '~', '@', '%', '+', '!'];

/// Splits a `--database-flags` value in gcloud's list syntax (`a=1,b=2` or `^D^a=1Db=2`).
pub fn parse_flags(value: &str) -> Vec<(String, String)> {
    let (delimiter, list) = match value.strip_prefix('^').and_then(|r| r.split_once('^')) {
        Some((d, list)) => (d.to_string(), list),
        None => (",".to_string(), value),
    };
    list.split(delimiter.as_str())
        .filter(|e| !e.is_empty())
        .map(|e| match e.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => (e.to_string(), String::new()),
        })
        .collect()
}

/// Renders a flag list as one shell word: `--database-flags=a=1,b=2`, or quoted with the
/// `^D^` delimiter when a value holds a comma.
pub fn render_flags(flags: &[(String, String)]) -> String {
    let items: Vec<String> = flags.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let plain = items.iter().all(|i| {
        !i.contains(',')
            && i.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._=-/:".contains(c))
    });
    if plain {
        return format!("--database-flags={}", items.join(","));
    }
    let delimiter = DELIMITERS
        .iter()
        .find(|d| !items.iter().any(|i| i.contains(**d)))
        .copied()
        .unwrap_or(':');
    let word = format!(
        "--database-flags=^{delimiter}^{}",
        items.join(&delimiter.to_string())
    );
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// The current flags (`cloudsql.database_flags` rows `{name, value}`) with the fix's own
/// settings applied: same name → the fix's value, new names appended in the fix's order.
pub fn merged(current: &[(String, String)], wanted: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = current.to_vec();
    for (name, value) in wanted {
        match out.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.clone(),
            None => out.push((name.clone(), value.clone())),
        }
    }
    out
}

/// `cloudsql.database_flags` rows as pairs; `None` unless every row has a string name and
/// no name or value holds a control character (a line break would forge a new line in a
/// command the reader copies: then the fix is printed as written, with its warning).
pub fn flag_rows(rows: &Json) -> Option<Vec<(String, String)>> {
    let rows: Vec<(String, String)> = flag_rows_raw(rows)?;
    rows.iter()
        .all(|(n, v)| !n.chars().chain(v.chars()).any(char::is_control))
        .then_some(rows)
}

fn flag_rows_raw(rows: &Json) -> Option<Vec<(String, String)>> {
    rows.as_array()?
        .iter()
        .map(|row| {
            let name = row["name"].as_str()?.to_string();
            let value = match &row["value"] {
                Json::String(v) => v.clone(),
                Json::Null => String::new(),
                other => other.to_string(),
            };
            Some((name, value))
        })
        .collect()
}

/// Rewrites every `--database-flags=…` word of a fix text with `current` merged in, and
/// says so under the first line.
pub fn merge_database_flags(fix: &str, current: &[(String, String)]) -> String {
    if !fix.contains("--database-flags=") {
        return fix.to_string();
    }
    let mut out = Vec::new();
    for line in fix.lines() {
        let Some(at) = line.find("--database-flags=") else {
            out.push(line.to_string());
            continue;
        };
        let rest = &line[at + "--database-flags=".len()..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let wanted = parse_flags(&rest[..end]);
        let word = render_flags(&merged(current, &wanted));
        out.push(format!("{}{word}{}", &line[..at], &rest[end..]));
    }
    let names: Vec<&str> = current.iter().map(|(n, _)| n.as_str()).collect();
    let note = if names.is_empty() {
        "# (the instance has no database flags now: nothing else to keep)".to_string()
    } else {
        format!(
            "# (merged: the flags the instance has now are kept — {})",
            names.join(", ")
        )
    };
    out.insert(1.min(out.len()), note);
    let mut text = out.join("\n");
    if fix.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Rewrites `ALTER SYSTEM SET shared_preload_libraries = '…'` with the libraries loaded
/// now kept in front.
pub fn merge_preload(fix: &str, loaded: &[String]) -> String {
    const SET: &str = "shared_preload_libraries = '";
    let mut out = Vec::new();
    let mut changed = false;
    for line in fix.lines() {
        match line.find(SET) {
            Some(at) if line.contains("ALTER SYSTEM") => {
                let rest = &line[at + SET.len()..];
                let Some(close) = rest.find('\'') else {
                    out.push(line.to_string());
                    continue;
                };
                let mut libraries: Vec<String> = loaded.to_vec();
                for lib in rest[..close]
                    .split(',')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                {
                    if !libraries.iter().any(|l| l == lib) {
                        libraries.push(lib.to_string());
                    }
                }
                let list = libraries.join(", ").replace('\'', "''");
                out.push(format!("{}{SET}{list}{}", &line[..at], &rest[close..]));
                changed = true;
            }
            _ => out.push(line.to_string()),
        }
    }
    if !changed {
        return fix.to_string();
    }
    let mut text = out.join("\n");
    if fix.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The instance's authorized networks split into those kept and those dropped: the
/// widest entry that opens the list to the internet goes, until the rest does not
/// ([`crate::sources::netrange`] rules).
pub fn split_networks(current: &[String]) -> (Vec<String>, Vec<String>) {
    let mut kept: Vec<String> = current.to_vec();
    let mut dropped = Vec::new();
    loop {
        let list: Vec<&str> = kept.iter().map(String::as_str).collect();
        let Some(widest) =
            crate::sources::netrange::exposure(&list).and_then(|e| e.entries.into_iter().next())
        else {
            break;
        };
        match kept.iter().position(|n| n.trim() == widest) {
            Some(at) => dropped.push(kept.remove(at)),
            None => break,
        }
    }
    (kept, dropped)
}

/// Rewrites `--authorized-networks=…` with the instance's own networks minus the open
/// ones (see [`split_networks`]), and says so under the first line. Printed as written
/// when a network is not a plain CIDR or address (nothing odd reaches a shell line).
pub fn merge_authorized_networks(fix: &str, current: &[String]) -> String {
    const FLAG: &str = "--authorized-networks=";
    let plain = current.iter().all(|n| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_hexdigit() || ".:/".contains(c))
            && crate::sources::netrange::parse(n).is_some()
    });
    if !fix.contains(FLAG) || !plain {
        return fix.to_string();
    }
    let (kept, dropped) = split_networks(current);
    let word = if kept.is_empty() {
        "--clear-authorized-networks".to_string()
    } else {
        format!("{FLAG}{}", kept.join(","))
    };
    let mut out = Vec::new();
    for line in fix.lines() {
        match line.find(FLAG) {
            Some(at) => {
                let rest = &line[at + FLAG.len()..];
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                out.push(format!("{}{word}{}", &line[..at], &rest[end..]));
            }
            None => out.push(line.to_string()),
        }
    }
    let note = format!(
        "# (merged: the instance's networks are kept{}; dropped because they open it to the internet: {})",
        if kept.is_empty() {
            " — none is left".to_string()
        } else {
            format!(" — {}", kept.join(", "))
        },
        if dropped.is_empty() {
            "none".to_string()
        } else {
            dropped.join(", ")
        }
    );
    out.insert(1.min(out.len()), note);
    let mut text = out.join("\n");
    if fix.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The fix text for one target, with the lists it replaces merged with the target's own
/// (when the facts have them).
pub fn for_target(fix: &str, facts: &crate::facts::snapshot::TargetFacts) -> String {
    let known = |path: &str| facts.facts.get(path).and_then(|f| f.value());
    let mut text = fix.to_string();
    if let Some(current) = known("cloudsql.database_flags").and_then(flag_rows) {
        text = merge_database_flags(&text, &current);
    }
    if let Some(loaded) = known("postgres.settings.shared_preload_libraries")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
    {
        text = merge_preload(&text, &loaded);
    }
    if let Some(networks) = known("cloudsql.network.authorized_networks")
        .and_then(Json::as_array)
        .and_then(|a| {
            a.iter()
                .map(|n| n.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        })
    {
        text = merge_authorized_networks(&text, &networks);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    const NETWORKS_FIX: &str = "# --authorized-networks replaces the whole list: give only the CIDRs that need direct access\ngcloud sql instances patch INSTANCE --authorized-networks=198.51.100.0/24\n";

    #[test]
    fn open_networks_are_dropped_and_the_others_kept() {
        let current = nets(&["0.0.0.0/0", "81.2.69.0/24", "10.0.0.0/8"]);
        let (kept, dropped) = split_networks(&current);
        assert_eq!(kept, ["81.2.69.0/24", "10.0.0.0/8"]);
        assert_eq!(dropped, ["0.0.0.0/0"]);
        let text = merge_authorized_networks(NETWORKS_FIX, &current);
        assert!(
            text.contains("patch INSTANCE --authorized-networks=81.2.69.0/24,10.0.0.0/8\n"),
            "{text}"
        );
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .contains("dropped because they open it to the internet: 0.0.0.0/0"),
            "{text}"
        );
        // The first line still warns that the list is replaced.
        assert!(text.starts_with("# --authorized-networks replaces"));
    }

    #[test]
    fn two_halves_both_go_and_an_empty_list_is_cleared() {
        let current = nets(&["0.0.0.0/1", "128.0.0.0/1"]);
        // One half alone still admits far more than a /8: both go.
        let (kept, dropped) = split_networks(&current);
        assert_eq!(dropped, ["0.0.0.0/1", "128.0.0.0/1"]);
        assert!(kept.is_empty());
        let mixed = nets(&["::/0", "2001:db8::/32", "0.0.0.0/0"]);
        let (kept, dropped) = split_networks(&mixed);
        assert_eq!(kept, ["2001:db8::/32"]);
        assert_eq!(dropped.len(), 2);
        let text = merge_authorized_networks(NETWORKS_FIX, &nets(&["0.0.0.0/0"]));
        assert!(
            text.contains("gcloud sql instances patch INSTANCE --clear-authorized-networks\n"),
            "{text}"
        );
        assert!(!text.contains("--authorized-networks="), "{text}");
    }

    #[test]
    fn odd_network_values_leave_the_fix_as_written() {
        let text = merge_authorized_networks(NETWORKS_FIX, &nets(&["0.0.0.0/0", "1.2.3.4/32;rm"]));
        assert_eq!(text, NETWORKS_FIX);
        // A fix without the flag is not touched.
        assert_eq!(
            merge_authorized_networks(
                "gcloud sql instances patch I --require-ssl\n",
                &nets(&["0.0.0.0/0"])
            ),
            "gcloud sql instances patch I --require-ssl\n"
        );
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_flag_list_keeps_the_flags_already_set() {
        let fix = "# --database-flags replaces the whole list\ngcloud sql instances patch INSTANCE --database-flags=slow_query_log=on,long_query_time=1\n";
        let current = pairs(&[("slow_query_log", "off"), ("max_connections", "500")]);
        let text = merge_database_flags(fix, &current);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("replaces"));
        assert!(lines[1].contains("max_connections"), "{text}");
        assert_eq!(
            lines[2],
            "gcloud sql instances patch INSTANCE --database-flags=slow_query_log=on,max_connections=500,long_query_time=1"
        );
    }

    #[test]
    fn a_value_with_a_comma_uses_a_delimiter_that_is_free() {
        let current = pairs(&[("pgaudit.log", "ddl,role"), ("search_path", "a:b")]);
        let word = render_flags(&merged(
            &current,
            &pairs(&[("cloudsql.enable_pgaudit", "on")]),
        ));
        assert_eq!(
            word,
            "'--database-flags=^~^pgaudit.log=ddl,role~search_path=a:b~cloudsql.enable_pgaudit=on'"
        );
        // Round trip through the shell word and gcloud's list syntax.
        let inner = word
            .trim_matches('\'')
            .strip_prefix("--database-flags=")
            .unwrap();
        assert_eq!(parse_flags(inner).len(), 3);
        assert_eq!(parse_flags(inner)[0].1, "ddl,role");
    }

    #[test]
    fn the_alternate_delimiter_of_the_fix_text_is_read() {
        assert_eq!(
            parse_flags("^:^cloudsql.enable_pgaudit=on:pgaudit.log=ddl,role"),
            pairs(&[
                ("cloudsql.enable_pgaudit", "on"),
                ("pgaudit.log", "ddl,role")
            ])
        );
    }

    #[test]
    fn trailing_comments_stay() {
        let fix = "# replaces\ngcloud sql instances patch INSTANCE --database-flags=cloudsql_mysql_audit=ON   # MySQL";
        let text = merge_database_flags(fix, &pairs(&[("general_log", "off")]));
        assert!(
            text.ends_with("--database-flags=general_log=off,cloudsql_mysql_audit=ON   # MySQL"),
            "{text}"
        );
    }

    #[test]
    fn preloaded_libraries_are_kept() {
        let fix = "-- shared_preload_libraries is one list: keep the libraries already there\nALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';   -- then restart PostgreSQL\n";
        let text = merge_preload(fix, &["auto_explain".to_string(), "pgaudit".to_string()]);
        assert!(
            text.contains("ALTER SYSTEM SET shared_preload_libraries = 'auto_explain, pgaudit, pg_stat_statements';"),
            "{text}"
        );
        // Already there: not repeated.
        let text = merge_preload(fix, &["pg_stat_statements".to_string()]);
        assert!(text.contains("= 'pg_stat_statements';"), "{text}");
    }

    #[test]
    fn rows_from_the_facts() {
        let rows = serde_json::json!([{"name": "a", "value": "1"}, {"name": "b", "value": null}]);
        assert_eq!(flag_rows(&rows), Some(pairs(&[("a", "1"), ("b", "")])));
        assert_eq!(flag_rows(&serde_json::json!([{"value": "1"}])), None);
        // A hostile answer cannot forge a line of its own in the printed fix.
        let forged = serde_json::json!([{"name": "a\nrm -rf ~", "value": "1"}]);
        assert_eq!(flag_rows(&forged), None);
        // Shell-active values stay inside single quotes.
        let word = render_flags(&pairs(&[("x", "$(touch /tmp/p)")]));
        assert_eq!(word, "'--database-flags=^:^x=$(touch /tmp/p)'");
    }
}
