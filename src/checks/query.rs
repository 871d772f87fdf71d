//! Custom check queries: only a single read-only statement is accepted.
//!
//! The database source also runs every custom query inside a read-only
//! transaction with a statement timeout; this validation refuses what that
//! would not stop (functions with side effects) and says so at load time.

/// Statements a custom query may start with.
const STARTS: &[&str] = &["SELECT", "WITH", "SHOW", "VALUES", "TABLE"];

/// Words that write, lock, or leave the read-only transaction.
const FORBIDDEN_WORDS: &[&str] = &[
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "INTO",
    "COPY",
    "CALL",
    "DO",
    "LOCK",
    "SET",
    "GRANT",
    "REVOKE",
    "CREATE",
    "ALTER",
    "DROP",
    "TRUNCATE",
    "COMMIT",
    "ROLLBACK",
    "BEGIN",
    "START",
    "SAVEPOINT",
    "RELEASE",
    "PREPARE",
    "EXECUTE",
    "DEALLOCATE",
    "LISTEN",
    "NOTIFY",
    "VACUUM",
    "ANALYZE",
    "CLUSTER",
    "REINDEX",
    "REFRESH",
    "CHECKPOINT",
    "DISCARD",
    "RESET",
    "LOAD",
    "HANDLER",
    "KILL",
    "SHUTDOWN",
    "FLUSH",
    "PURGE",
    "OUTFILE",
    "DUMPFILE",
];

/// Functions with side effects a read-only transaction does not stop.
const FORBIDDEN_FUNCTIONS: &[&str] = &[
    "PG_TERMINATE_BACKEND",
    "PG_CANCEL_BACKEND",
    "PG_RELOAD_CONF",
    "PG_ROTATE_LOGFILE",
    "SET_CONFIG",
    "PG_SWITCH_WAL",
    "PG_CREATE_RESTORE_POINT",
    "PG_ADVISORY_LOCK",
    "PG_ADVISORY_XACT_LOCK",
    "PG_TRY_ADVISORY_LOCK",
    "PG_TRY_ADVISORY_XACT_LOCK",
    "PG_ADVISORY_LOCK_SHARED",
    "DBLINK",
    "DBLINK_EXEC",
    "LO_IMPORT",
    "LO_EXPORT",
    "PG_READ_FILE",
    "PG_READ_BINARY_FILE",
    "PG_SLEEP",
    "PG_SLEEP_FOR",
    "PG_SLEEP_UNTIL",
    "PG_NOTIFY",
    "PG_LOGICAL_SLOT_GET_CHANGES",
    "PG_REPLICATION_SLOT_ADVANCE",
    "PG_DROP_REPLICATION_SLOT",
    "SLEEP",
    "BENCHMARK",
    "GET_LOCK",
    "RELEASE_LOCK",
    "LOAD_FILE",
    "SYS_EXEC",
    "SYS_EVAL",
];

/// Accepts one read-only statement; says why otherwise.
pub fn validate(sql: &str) -> Result<(), String> {
    let code = strip_literals_and_comments(sql)?;
    let trimmed = code.trim().trim_end_matches(';').trim_end();
    if trimmed.is_empty() {
        return Err("the query is empty".to_string());
    }
    if trimmed.contains(';') {
        return Err(
            "only a single statement is allowed (found ';' between statements)".to_string(),
        );
    }
    let words: Vec<String> = trimmed
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let first = words.first().map(String::as_str).unwrap_or("");
    if !STARTS.contains(&first) {
        return Err(format!(
            "a check query must start with {} (found '{first}')",
            STARTS.join(", ")
        ));
    }
    for word in &words {
        if FORBIDDEN_WORDS.contains(&word.as_str()) {
            return Err(format!(
                "'{word}' is not allowed: a check query must only read"
            ));
        }
        if FORBIDDEN_FUNCTIONS.contains(&word.as_str()) {
            return Err(format!(
                "'{}' has side effects and is not allowed in a check query",
                word.to_ascii_lowercase()
            ));
        }
    }
    if words
        .windows(2)
        .any(|w| w[0] == "FOR" && matches!(w[1].as_str(), "UPDATE" | "SHARE" | "NO" | "KEY"))
    {
        return Err(
            "row locks (FOR UPDATE / FOR SHARE) are not allowed in a check query".to_string(),
        );
    }
    Ok(())
}

/// The query with string literals, quoted identifiers and comments blanked.
fn strip_literals_and_comments(sql: &str) -> Result<String, String> {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                let mut closed = false;
                while let Some(next) = chars.next() {
                    if next == c {
                        if chars.peek() == Some(&c) {
                            chars.next();
                            continue;
                        }
                        closed = true;
                        break;
                    }
                    if next == '\\' && c == '\'' {
                        chars.next();
                    }
                }
                if !closed {
                    return Err(format!("unterminated {c}-quoted text"));
                }
                out.push_str(" x ");
            }
            '-' if chars.peek() == Some(&'-') => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        break;
                    }
                }
                out.push(' ');
            }
            '#' => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        break;
                    }
                }
                out.push(' ');
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut previous = ' ';
                let mut closed = false;
                for next in chars.by_ref() {
                    if previous == '*' && next == '/' {
                        closed = true;
                        break;
                    }
                    previous = next;
                }
                if !closed {
                    return Err("unterminated /* comment".to_string());
                }
                out.push(' ');
            }
            '$' => {
                // PostgreSQL dollar quoting: $$…$$ or $tag$…$tag$.
                let mut tag = String::from("$");
                while let Some(&next) = chars.peek() {
                    chars.next();
                    tag.push(next);
                    if next == '$' {
                        break;
                    }
                    if !(next.is_ascii_alphanumeric() || next == '_') {
                        // A positional parameter like $1, not a quote.
                        break;
                    }
                }
                if tag.len() >= 2 && tag.ends_with('$') {
                    let rest: String = chars.by_ref().collect();
                    let Some(end) = rest.find(&tag) else {
                        return Err("unterminated dollar-quoted text".to_string());
                    };
                    out.push_str(" x ");
                    out.push_str(&strip_literals_and_comments(&rest[end + tag.len()..])?);
                    return Ok(out);
                }
                out.push_str(&tag);
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn plain_selects_pass() {
        assert_eq!(
            validate("SELECT relname FROM pg_class WHERE relkind = 'r';"),
            Ok(())
        );
        assert_eq!(validate("with t as (select 1) select * from t"), Ok(()));
        assert_eq!(validate("SHOW GLOBAL VARIABLES"), Ok(()));
    }

    #[test]
    fn words_inside_literals_and_comments_do_not_count() {
        assert_eq!(validate("SELECT 'DELETE; DROP' AS x -- UPDATE\n"), Ok(()));
        assert_eq!(validate("SELECT $$ insert $$, 1 /* drop */"), Ok(()));
    }

    #[test]
    fn several_statements_are_refused() {
        let err = validate("SELECT 1; SELECT 2").unwrap_err();
        assert!(err.contains("single statement"), "{err}");
    }

    #[test]
    fn writes_and_side_effects_are_refused() {
        assert!(
            validate("DELETE FROM t")
                .unwrap_err()
                .contains("must start")
        );
        assert!(
            validate("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d")
                .unwrap_err()
                .contains("DELETE")
        );
        assert!(
            validate("SELECT * INTO copy FROM t")
                .unwrap_err()
                .contains("INTO")
        );
        assert!(
            validate("SELECT pg_terminate_backend(42)")
                .unwrap_err()
                .contains("side effects")
        );
        assert!(validate("SELECT * FROM t FOR UPDATE").is_err());
    }

    #[test]
    fn unterminated_literals_are_refused() {
        assert!(validate("SELECT 'oops").is_err());
    }
}
