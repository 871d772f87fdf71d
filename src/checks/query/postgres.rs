//! PostgreSQL custom queries, parsed by PostgreSQL's own parser (libpg_query,
//! through the `pg_query` crate): the same grammar and lexer as the server, so
//! `#` is an operator, `$` inside a name is not a quote, comments nest, `'\'`
//! follows `standard_conforming_strings`, and quoted or `U&`-escaped names come
//! out decoded — exactly the name the server would call.
//!
//! The parse tree is walked as JSON (every node the protobuf carries, so no
//! node kind can be skipped by an incomplete visitor).

use super::{Refusal, allow::POSTGRES_FUNCTIONS, function_allowed};
use serde_json::Value as Json;

/// Statement kinds a check query may be, by parse-node name.
const TOP_LEVEL: &[&str] = &["SelectStmt", "VariableShowStmt"];

/// Accepts one read-only statement; says why and where otherwise.
pub(super) fn validate(sql: &str, extra: &[String]) -> Result<(), Refusal> {
    // The server's standard_conforming_strings decides what `'\'` is; the session
    // pins it on, and the text must mean the same read-only thing either way.
    check(sql, extra, pg_query::ParserOptions::DEFAULT, "")?;
    check(
        sql,
        extra,
        pg_query::ParserOptions::DISABLE_STANDARD_CONFORMING_STRINGS,
        " (when standard_conforming_strings is off)",
    )
}

fn check(
    sql: &str,
    extra: &[String],
    options: pg_query::ParserOptions,
    mode: &str,
) -> Result<(), Refusal> {
    let parsed = pg_query::parse(sql, options).map_err(|err| {
        Refusal::at(
            0,
            format!(
                "PostgreSQL cannot parse the query{mode}: {}",
                err.to_string().trim_start_matches("Error parsing query: ")
            ),
        )
    })?;
    let tree = serde_json::to_value(&parsed.protobuf)
        .map_err(|err| Refusal::at(0, format!("cannot read the parse tree: {err}")))?;
    let statements = tree
        .get("stmts")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    match statements.len() {
        0 => return Err(Refusal::at(0, "the query has no statement")),
        1 => {}
        _ => {
            let second = statements[1]
                .get("stmt_location")
                .and_then(Json::as_u64)
                .unwrap_or(0) as usize;
            return Err(Refusal::at(
                second,
                "only a single statement is allowed (found a second statement)",
            ));
        }
    }
    let statement = &statements[0]["stmt"]["node"];
    let kind = statement
        .as_object()
        .and_then(|o| o.keys().next())
        .cloned()
        .unwrap_or_default();
    if !TOP_LEVEL.contains(&kind.as_str()) {
        return Err(Refusal::at(
            0,
            format!(
                "a check query must be SELECT, WITH, VALUES, TABLE or SHOW (found {})",
                describe_statement(&kind)
            ),
        ));
    }
    let mut walker = Walker { extra };
    walker.walk(statement, 0)
}

struct Walker<'a> {
    extra: &'a [String],
}

impl Walker<'_> {
    /// Visits every node; `near` is the closest known location above it.
    fn walk(&mut self, node: &Json, near: usize) -> Result<(), Refusal> {
        match node {
            Json::Array(items) => {
                for item in items {
                    self.walk(item, near)?;
                }
                Ok(())
            }
            Json::Object(fields) => {
                let here = fields
                    .get("location")
                    .and_then(Json::as_i64)
                    .filter(|l| *l >= 0)
                    .map_or(near, |l| l as usize);
                for (key, value) in fields {
                    self.node(key, value, here)?;
                    self.walk(value, here)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Judges one named node of the tree.
    fn node(&mut self, key: &str, value: &Json, near: usize) -> Result<(), Refusal> {
        let at = |v: &Json| {
            v.get("location")
                .and_then(Json::as_i64)
                .filter(|l| *l >= 0)
                .map_or(near, |l| l as usize)
        };
        match key {
            "FuncCall" => {
                let parts = names(value.get("funcname"));
                if !function_allowed(&parts, "pg_catalog", POSTGRES_FUNCTIONS, self.extra, false) {
                    return Err(Refusal::at(
                        at(value),
                        format!(
                            "function '{}' is not on the read-only allowlist (docs/security.md; an operator may add it with allow_functions)",
                            parts.join(".")
                        ),
                    ));
                }
                Ok(())
            }
            "into_clause" if !value.is_null() => Err(Refusal::at(
                near,
                "SELECT … INTO creates a table: a check query must only read",
            )),
            "locking_clause" if value.as_array().is_some_and(|a| !a.is_empty()) => {
                Err(Refusal::at(
                    near,
                    "row locks (FOR UPDATE / FOR SHARE …) are not allowed in a check query",
                ))
            }
            "InsertStmt" | "UpdateStmt" | "DeleteStmt" | "MergeStmt" => Err(Refusal::at(
                near,
                format!(
                    "{} inside the query writes: a check query must only read",
                    describe_statement(key)
                ),
            )),
            other if other.ends_with("Stmt") && !TOP_LEVEL.contains(&other) => Err(Refusal::at(
                near,
                format!(
                    "{} is not allowed inside a check query",
                    describe_statement(other)
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// The decoded parts of a qualified name (a list of String nodes).
fn names(list: Option<&Json>) -> Vec<String> {
    list.and_then(Json::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    item.pointer("/node/String/sval")
                        .and_then(Json::as_str)
                        .unwrap_or("?")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A parse-node name as SQL a reader recognises.
fn describe_statement(kind: &str) -> String {
    let known = match kind {
        "InsertStmt" => "INSERT",
        "UpdateStmt" => "UPDATE",
        "DeleteStmt" => "DELETE",
        "MergeStmt" => "MERGE",
        "VariableSetStmt" => "SET",
        "TransactionStmt" => "a transaction statement (BEGIN/COMMIT/ROLLBACK…)",
        "CopyStmt" => "COPY",
        "ExplainStmt" => "EXPLAIN",
        "DoStmt" => "DO",
        "CallStmt" => "CALL",
        "CreateTableAsStmt" => "CREATE TABLE AS / SELECT INTO",
        "LockStmt" => "LOCK",
        "" => "nothing",
        _ => "",
    };
    if known.is_empty() {
        format!("a {} statement", kind.trim_end_matches("Stmt"))
    } else {
        known.to_string()
    }
}
