//! Reading check files: TOML into [`Check`], with every problem located by
//! line and column so `checks lint` and `--checks-dir` can say where to look.

use super::model::{Check, Example, Item, Severity, Violation};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

/// A problem in a check file, located.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// A CEL expression and where its text starts in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub text: String,
    /// Byte offset in the file of the expression's first character.
    pub offset: usize,
}

/// A parsed check file with the locations lint needs.
#[derive(Debug, Clone)]
pub struct CheckSource {
    pub check: Check,
    pub file: String,
    pub contents: String,
    pub applies: Option<Located>,
    pub subjects: Option<Located>,
    pub condition: Located,
    pub detail: Option<Located>,
}

impl CheckSource {
    /// Line and column (1-based) of a byte offset in the file.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        position(&self.contents, offset)
    }

    pub fn diagnostic(&self, offset: usize, message: impl Into<String>) -> Diagnostic {
        let (line, column) = self.position(offset);
        Diagnostic {
            file: self.file.clone(),
            line,
            column,
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    id: String,
    item: Item,
    severity: Severity,
    title: String,
    #[serde(default)]
    violation: Violation,
    #[serde(default)]
    advisory: bool,
    applies: Option<Spanned<String>>,
    subjects: Option<Spanned<String>>,
    no_subjects: Option<String>,
    condition: Spanned<String>,
    detail: Option<Spanned<String>>,
    why: String,
    #[serde(default)]
    fix: BTreeMap<String, String>,
    #[serde(default)]
    controls: Vec<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    in_effect: Vec<String>,
    #[serde(default)]
    query: BTreeMap<String, Spanned<String>>,
    #[serde(default, rename = "example")]
    examples: Vec<Example>,
}

/// `mariadb` is for MariaDB syntax (no SET PERSIST, CHANGE MASTER TO); without it MariaDB gets `mysql`.
/// `rds_cluster` (Aurora and Multi-AZ DB clusters) and `rds_multi_az_cluster` replace `rds` for those
/// deployments, whose API calls differ (modify-db-cluster, no storage autoscaling on Multi-AZ clusters).
const FIX_KEYS: &[&str] = &[
    "postgres",
    "mysql",
    "mariadb",
    "cloudsql",
    "rds",
    "rds_cluster",
    "rds_multi_az_cluster",
    "terraform",
];
const QUERY_ENGINES: &[&str] = &["postgres", "mysql"];

/// Parses one check file. `file` names it in diagnostics.
pub fn parse(file: &str, contents: &str) -> Result<CheckSource, Vec<Diagnostic>> {
    if contents.len() > MAX_CHECK_FILE_BYTES {
        return Err(vec![Diagnostic {
            file: file.to_string(),
            line: 1,
            column: 1,
            message: format!(
                "the check file is {} bytes long; at most {MAX_CHECK_FILE_BYTES} are accepted",
                contents.len()
            ),
        }]);
    }
    let raw: RawCheck = toml::from_str(contents).map_err(|err| {
        let offset = err.span().map_or(0, |span| span.start);
        let (line, column) = position(contents, offset);
        vec![Diagnostic {
            file: file.to_string(),
            line,
            column,
            message: err.message().trim().to_string(),
        }]
    })?;
    let located = |spanned: &Spanned<String>| Located {
        text: spanned.get_ref().clone(),
        offset: text_start(contents, spanned.span().start),
    };
    let condition = located(&raw.condition);
    let applies = raw.applies.as_ref().map(located);
    let subjects = raw.subjects.as_ref().map(located);
    let detail = raw.detail.as_ref().map(located);
    let mut problems = expression_limits(file, contents, &condition, &applies, &detail);
    if !problems.is_empty() {
        // Nothing else may compile or evaluate an expression over the limits.
        return Err(problems);
    }
    let at = |needle: &str| {
        let offset = contents.find(needle).unwrap_or(0);
        let (line, column) = position(contents, offset);
        (line, column)
    };
    let mut problem = |needle: &str, message: String| {
        let (line, column) = at(needle);
        problems.push(Diagnostic {
            file: file.to_string(),
            line,
            column,
            message,
        });
    };
    if !valid_id(&raw.id) {
        problem(
            "id",
            format!(
                "check id '{}' must be lower-case words joined by '.', '_' or '-' (e.g. 'backups.retention')",
                raw.id
            ),
        );
    }
    for key in raw.fix.keys() {
        if !FIX_KEYS.contains(&key.as_str()) {
            problem(
                "[fix]",
                format!(
                    "unknown fix key '{key}': use one of {}",
                    FIX_KEYS.join(", ")
                ),
            );
        }
    }
    for key in raw.query.keys() {
        if !QUERY_ENGINES.contains(&key.as_str()) {
            problem(
                "[query]",
                format!(
                    "unknown query engine '{key}': use {}",
                    QUERY_ENGINES.join(" or ")
                ),
            );
        }
    }
    match (&raw.subjects, &raw.no_subjects) {
        (Some(_), None) => problem(
            "subjects",
            "'subjects' needs 'no_subjects': the reason shown when there is nothing to judge (e.g. \"no replication slots\")".to_string(),
        ),
        (None, Some(_)) => problem(
            "no_subjects",
            "'no_subjects' needs 'subjects': the list (or count) of what the check judges".to_string(),
        ),
        (_, Some(reason)) if reason.trim().is_empty() => problem(
            "no_subjects",
            "'no_subjects' must say what is missing (e.g. \"no replication slots\")".to_string(),
        ),
        _ => {}
    }
    if raw.advisory && raw.violation != Violation::Warn {
        problem(
            "advisory",
            "an advisory check gives advice: set violation = \"warn\"".to_string(),
        );
    }
    if raw.why.trim().is_empty() {
        problem("why", "'why' must say why the check matters".to_string());
    }
    let allowed = super::query::allowed();
    for (engine, text) in &raw.query {
        if !QUERY_ENGINES.contains(&engine.as_str()) {
            continue;
        }
        if let Err(refusal) = super::query::validate(engine, text.get_ref(), &allowed) {
            // Located in the file: the query's own line and column, counted from
            // where its text starts (exact for literal strings and for lines
            // without TOML escapes).
            let start = text_start(contents, text.span().start);
            let (start_line, start_column) = position(contents, start);
            let (line, column) = super::query::line_column(text.get_ref(), refusal.offset);
            problems.push(Diagnostic {
                file: file.to_string(),
                line: start_line + line - 1,
                column: if line == 1 {
                    start_column + column - 1
                } else {
                    column
                },
                message: format!("{engine} query refused: {}", refusal.message),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let check = Check {
        id: raw.id,
        item: raw.item,
        severity: raw.severity,
        title: raw.title,
        violation: raw.violation,
        advisory: raw.advisory,
        applies: applies.as_ref().map(|l| l.text.clone()),
        subjects: subjects.as_ref().map(|l| l.text.clone()),
        no_subjects: raw.no_subjects.map(|reason| reason.trim().to_string()),
        condition: condition.text.clone(),
        detail: detail.as_ref().map(|l| l.text.clone()),
        why: raw.why.trim().to_string(),
        fix: raw
            .fix
            .into_iter()
            .map(|(k, v)| (k, v.trim().to_string()))
            .collect(),
        controls: raw.controls,
        references: raw.references,
        in_effect: raw
            .in_effect
            .into_iter()
            .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect(),
        query: raw
            .query
            .into_iter()
            .map(|(engine, text)| (engine, text.into_inner()))
            .collect(),
        examples: raw.examples,
        origin: file.to_string(),
    };
    Ok(CheckSource {
        check,
        file: file.to_string(),
        contents: contents.to_string(),
        applies,
        subjects,
        condition,
        detail,
    })
}

/// The largest check file read (a check with its examples is a few KiB); it
/// bounds the TOML parser and the example data.
pub const MAX_CHECK_FILE_BYTES: usize = 256 * 1024;

/// Each expression against the CEL limits (length, depth, estimated cost),
/// located at the place in the file that went over.
fn expression_limits(
    file: &str,
    contents: &str,
    condition: &Located,
    applies: &Option<Located>,
    detail: &Option<Located>,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let all = [
        ("applies", applies.as_ref()),
        ("condition", Some(condition)),
        ("detail", detail.as_ref()),
    ];
    for (name, located) in all {
        let Some(located) = located else { continue };
        if let Err(err) = super::cel::check_limits(&located.text) {
            let byte = located
                .text
                .char_indices()
                .nth(err.offset)
                .map_or(0, |(i, _)| i);
            let (line, column) = position(contents, located.offset + byte);
            problems.push(Diagnostic {
                file: file.to_string(),
                line,
                column,
                message: format!("{name}: {}", err.message),
            });
        }
    }
    problems
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        && id.starts_with(|c: char| c.is_ascii_lowercase())
}

/// Where a TOML string's text starts, given the span of the string literal.
fn text_start(contents: &str, literal_start: usize) -> usize {
    let rest = &contents[literal_start.min(contents.len())..];
    let quote = if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
        3
    } else if rest.starts_with('"') || rest.starts_with('\'') {
        1
    } else {
        0
    };
    let mut start = literal_start + quote;
    // A newline right after an opening triple quote is not part of the text.
    if quote == 3 {
        if contents[start..].starts_with("\r\n") {
            start += 2;
        } else if contents[start..].starts_with('\n') {
            start += 1;
        }
    }
    start
}

/// 1-based line and column of a byte offset.
pub fn position(contents: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(contents.len());
    let before = &contents[..contents.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, tail)| tail)
        .chars()
        .count()
        + 1;
    (line, column)
}
