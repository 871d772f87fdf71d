//! The custom-query guard: a check's `[query]` is parsed by its engine's own
//! grammar and accepted only when everything in it is known to be read-only.
//!
//! This is an allowlist, not a blocklist: one statement, of a reading kind
//! (SELECT, WITH without data-modifying parts, VALUES, TABLE, SHOW), with no
//! INTO, no row locks, no executable comments, and every function it calls on
//! the engine's list of read-only built-ins (`allow`) or on the operator's own
//! `allow_functions` list. Anything the parser cannot parse is refused. Check
//! files arrive by pull request and are shared between teams; the credentials
//! they run under were granted on the promise that they only read (see
//! docs/security.md). The database sources enforce it a second time: one
//! statement per prepared statement, inside a read-only transaction, with a
//! statement timeout.

mod allow;
mod mysql;
mod postgres;

use std::fmt;
use std::sync::OnceLock;

pub use allow::{MYSQL_FUNCTIONS, POSTGRES_FUNCTIONS};

/// Why a query was refused, and where in the query text (byte offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    /// Byte offset in the query text of the refused construct.
    pub offset: usize,
}

impl Refusal {
    fn at(offset: usize, message: impl Into<String>) -> Self {
        Refusal {
            message: message.into(),
            offset,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Functions the operator allowed beyond the built-in lists, per engine.
///
/// Entries are lower-case names, optionally schema-qualified (`myschema.f`);
/// an unqualified entry also allows the name qualified with the engine's
/// system schema (`pg_catalog` on PostgreSQL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed {
    pub postgres: Vec<String>,
    pub mysql: Vec<String>,
}

/// The operator's additions, set once per process from the configuration.
static ALLOWED: OnceLock<Allowed> = OnceLock::new();

/// Records the operator's `allow_functions` for this process; false when
/// they were already set (the first setting stands).
pub fn set_allowed(allowed: Allowed) -> bool {
    ALLOWED.set(allowed).is_ok()
}

/// The operator's additions (none unless `set_allowed` was called).
pub fn allowed() -> Allowed {
    ALLOWED.get().cloned().unwrap_or_default()
}

/// Accepts one read-only statement for `engine` ("postgres" or "mysql", the
/// keys of a check's `[query]` table); says why and where otherwise.
pub fn validate(engine: &str, sql: &str, allowed: &Allowed) -> Result<(), Refusal> {
    if sql.trim().trim_end_matches(';').trim().is_empty() {
        return Err(Refusal::at(0, "the query is empty"));
    }
    if sql.len() > MAX_QUERY_BYTES {
        return Err(Refusal::at(
            MAX_QUERY_BYTES,
            format!("the query is longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    if let Some(offset) = too_deep(sql) {
        return Err(Refusal::at(
            offset,
            format!("the query nests brackets deeper than {MAX_DEPTH}"),
        ));
    }
    if sql.contains('\0') {
        let offset = sql.find('\0').unwrap_or(0);
        return Err(Refusal::at(offset, "the query contains a NUL character"));
    }
    match engine {
        "postgres" => postgres::validate(sql, &allowed.postgres),
        "mysql" => mysql::validate(sql, &allowed.mysql),
        other => Err(Refusal::at(
            0,
            format!("unknown query engine '{other}': use postgres or mysql"),
        )),
    }
}

/// Longest query text accepted (a check query is a few lines; this bounds
/// the parsers' work).
pub const MAX_QUERY_BYTES: usize = 64 * 1024;

/// Deepest bracket nesting accepted, counted over the raw text (strings
/// included, so it over-counts): keeps the parsers and the tree walk far from
/// their recursion limits.
pub const MAX_DEPTH: usize = 128;

/// Offset of the first bracket deeper than [`MAX_DEPTH`], if any.
fn too_deep(sql: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (offset, c) in sql.char_indices() {
        match c {
            '(' | '[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(offset);
                }
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Line and column (1-based, in characters) of a byte offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = text.floor_char_boundary(offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, tail)| tail)
        .chars()
        .count()
        + 1;
    (line, column)
}

/// Whether a called function (its name parts as the engine resolved them:
/// unquoted names folded, quoted and escaped names decoded) is allowed.
fn function_allowed(
    parts: &[String],
    system_schema: &str,
    builtin: &[&str],
    extra: &[String],
    fold: bool,
) -> bool {
    let parts: Vec<String> = if fold {
        parts.iter().map(|p| p.to_lowercase()).collect()
    } else {
        parts.to_vec()
    };
    let full = parts.join(".");
    if extra.contains(&full) {
        return true;
    }
    let name = match parts.as_slice() {
        [name] => name,
        [schema, name] if schema == system_schema => name,
        _ => return false,
    };
    builtin.contains(&name.as_str()) || extra.iter().any(|e| e == name)
}

#[cfg(test)]
mod tests;
