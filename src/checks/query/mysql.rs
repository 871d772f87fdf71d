//! MySQL and MariaDB custom queries, parsed by `sqlparser` with its MySQL
//! dialect (MySQL's own parser is not available as a library).
//!
//! sqlparser is not the server, so the places where a lexer could disagree
//! with it are refused before parsing rather than interpreted: executable
//! comments (`/*!`, `/*M!`) and optimizer hints (`/*+`, which can change
//! session settings such as the statement time limit) anywhere in the text,
//! and a backslash right before a quote character (whether it escapes the
//! quote depends on the server's `sql_mode`: NO_BACKSLASH_ESCAPES, ANSI_QUOTES).
//! The server then enforces the rest: one statement per prepared statement,
//! inside a read-only transaction.

use super::{Refusal, allow::MYSQL_FUNCTIONS, function_allowed};
use sqlparser::ast::{
    BinaryOperator, Expr, ObjectName, Query, SetExpr, Statement, TableFactor, Visit, Visitor,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// Accepts one read-only statement; says why and where otherwise.
pub(super) fn validate(sql: &str, extra: &[String]) -> Result<(), Refusal> {
    lexical(sql)?;
    let statements = Parser::parse_sql(&MySqlDialect {}, sql).map_err(|err| {
        let text = err.to_string();
        let offset = reported_location(sql, &text).unwrap_or(0);
        Refusal::at(
            offset,
            format!(
                "the query cannot be parsed as MySQL: {}",
                text.trim_start_matches("sql parser error: ")
            ),
        )
    })?;
    let statement = match statements.as_slice() {
        [] => return Err(Refusal::at(0, "the query has no statement")),
        [one] => one,
        [_, second, ..] => {
            let offset = offset_of(sql, sqlparser::ast::Spanned::span(second).start);
            return Err(Refusal::at(
                offset,
                "only a single statement is allowed (found a second statement)",
            ));
        }
    };
    if !reading_statement(statement) {
        let first = sql.split_whitespace().next().unwrap_or("").to_uppercase();
        return Err(Refusal::at(
            0,
            format!("a check query must be SELECT, WITH, VALUES, TABLE or SHOW (found {first})"),
        ));
    }
    let mut guard = Guard {
        sql,
        extra,
        refusal: None,
    };
    let _ = statement.visit(&mut guard);
    match guard.refusal {
        Some(refusal) => Err(refusal),
        None => Ok(()),
    }
}

/// What the lexers of sqlparser and the server could read differently.
fn lexical(sql: &str) -> Result<(), Refusal> {
    let lower = sql.to_ascii_lowercase();
    for (marker, what) in [
        ("/*!", "an executable comment '/*!'"),
        ("/*m!", "a MariaDB executable comment '/*M!'"),
        (
            "/*+",
            "an optimizer hint '/*+' (hints can change session settings)",
        ),
    ] {
        if let Some(offset) = lower.find(marker) {
            return Err(Refusal::at(
                offset,
                format!(
                    "{what} is not allowed in a check query (refused anywhere in the text, even inside a string)"
                ),
            ));
        }
    }
    let bytes = sql.as_bytes();
    for (i, pair) in bytes.windows(2).enumerate() {
        if pair[0] == b'\\' && matches!(pair[1], b'\'' | b'"' | b'`') {
            return Err(Refusal::at(
                i,
                "a backslash before a quote character is not allowed (whether it escapes the quote depends on the server's sql_mode); double the quote instead: 'it''s'",
            ));
        }
    }
    if let Some(offset) = lower.find("delimiter") {
        let before = lower[..offset].trim_end();
        if before.is_empty() || before.ends_with(';') {
            return Err(Refusal::at(
                offset,
                "DELIMITER is a client command, not SQL: a check query is one statement",
            ));
        }
    }
    for command in ["\\g", "\\G"] {
        if let Some(offset) = sql.find(command) {
            return Err(Refusal::at(
                offset,
                format!("'{command}' is a client command, not SQL: end the query without it"),
            ));
        }
    }
    Ok(())
}

fn reading_statement(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::Query(_)
            | Statement::ShowFunctions { .. }
            | Statement::ShowVariable { .. }
            | Statement::ShowStatus { .. }
            | Statement::ShowVariables { .. }
            | Statement::ShowCreate { .. }
            | Statement::ShowColumns { .. }
            | Statement::ShowDatabases { .. }
            | Statement::ShowSchemas { .. }
            | Statement::ShowCharset(_)
            | Statement::ShowTables { .. }
            | Statement::ShowViews { .. }
            | Statement::ShowCollation { .. }
    )
}

/// Walks every query, table factor and expression of the statement.
struct Guard<'a> {
    sql: &'a str,
    extra: &'a [String],
    refusal: Option<Refusal>,
}

impl Guard<'_> {
    fn refuse(
        &mut self,
        location: sqlparser::tokenizer::Location,
        message: String,
    ) -> ControlFlow<()> {
        self.refusal = Some(Refusal::at(offset_of(self.sql, location), message));
        ControlFlow::Break(())
    }

    fn function(&mut self, name: &ObjectName) -> ControlFlow<()> {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|part| match part.as_ident() {
                Some(ident) => ident.value.to_lowercase(),
                None => part.to_string().to_lowercase(),
            })
            .collect();
        if function_allowed(&parts, "\0", MYSQL_FUNCTIONS, self.extra, true) {
            return ControlFlow::Continue(());
        }
        let location = sqlparser::ast::Spanned::span(name).start;
        self.refuse(
            location,
            format!(
                "function '{}' is not on the read-only allowlist (docs/security.md; an operator may add it with allow_functions)",
                parts.join(".")
            ),
        )
    }

    fn body(&mut self, body: &SetExpr, near: sqlparser::tokenizer::Location) -> ControlFlow<()> {
        match body {
            SetExpr::Select(select) => {
                if let Some(into) = &select.into {
                    return self.refuse(
                        sqlparser::ast::Spanned::span(&into.name).start,
                        "SELECT … INTO is not allowed: a check query must only read".into(),
                    );
                }
                ControlFlow::Continue(())
            }
            SetExpr::Query(query) => self.query(query),
            SetExpr::SetOperation { left, right, .. } => {
                self.body(left, near)?;
                self.body(right, near)
            }
            SetExpr::Values(_) | SetExpr::Table(_) => ControlFlow::Continue(()),
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                self.refuse(
                    near,
                    "a data-modifying statement inside the query is not allowed: a check query must only read".into(),
                )
            }
        }
    }

    fn query(&mut self, query: &Query) -> ControlFlow<()> {
        let near = sqlparser::ast::Spanned::span(query).start;
        if !query.locks.is_empty() {
            return self.refuse(
                near,
                "row locks (FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE) are not allowed in a check query".into(),
            );
        }
        if query.for_clause.is_some() {
            return self.refuse(near, "a FOR clause is not allowed in a check query".into());
        }
        self.body(&query.body, near)
    }
}

impl Visitor for Guard<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.query(query)
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        match factor {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | TableFactor::Function { name, .. } => self.function(name),
            TableFactor::Table { .. }
            | TableFactor::Derived { .. }
            | TableFactor::NestedJoin { .. }
            | TableFactor::JsonTable { .. }
            | TableFactor::TableFunction { .. } => ControlFlow::Continue(()),
            other => {
                let location = sqlparser::ast::Spanned::span(other).start;
                self.refuse(
                    location,
                    "this kind of FROM item is not MySQL and is not allowed in a check query"
                        .into(),
                )
            }
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(function) => self.function(&function.name),
            Expr::BinaryOp {
                op: BinaryOperator::Assignment,
                left,
                ..
            } => {
                let location = sqlparser::ast::Spanned::span(left.as_ref()).start;
                self.refuse(
                    location,
                    "':=' assigns a variable: a check query must only read".into(),
                )
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

/// Byte offset of a sqlparser location (1-based line and character column).
fn offset_of(sql: &str, location: sqlparser::tokenizer::Location) -> usize {
    if location.line == 0 {
        return 0;
    }
    let mut offset = 0;
    for (index, line) in sql.split_inclusive('\n').enumerate() {
        if index + 1 == location.line as usize {
            return offset
                + line
                    .char_indices()
                    .nth((location.column as usize).saturating_sub(1))
                    .map_or(line.len(), |(i, _)| i);
        }
        offset += line.len();
    }
    sql.len()
}

/// The "Line: L, Column: C" a parser error names, as a byte offset.
fn reported_location(sql: &str, message: &str) -> Option<usize> {
    let rest = &message[message.rfind("Line: ")? + 6..];
    let (line, rest) = rest.split_once(", Column: ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let location = sqlparser::tokenizer::Location {
        line: line.trim().parse().ok()?,
        column: column.parse().ok()?,
    };
    Some(offset_of(sql, location))
}
