//! `checks lint`: everything that can be wrong with a check file, located.
//!
//! CEL reports unknown fields and functions only when it evaluates, so lint
//! walks each expression: every field path must be in the facts schema,
//! every function known, and the file's own examples must come out as they say.

use super::cel::walk;
use super::eval::{CompiledCheck, Subject, evaluate};
use super::load::{CheckSource, Diagnostic, Located};
use super::model::Example;
use super::thresholds::Thresholds;
use crate::facts::schema::{self, FactType};
use crate::facts::snapshot::TargetFacts;
use crate::facts::{Fact, Facts};
use cel::Program;

/// Functions and macros of the CEL standard library the evaluator provides.
const FUNCTIONS: &[&str] = &[
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "dyn",
    "type",
    "duration",
    "timestamp",
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getFullYear",
    "getHours",
    "getMilliseconds",
    "getMinutes",
    "getMonth",
    "getSeconds",
];

/// Every problem in a parsed check file: expressions, paths, functions, examples.
pub fn lint(source: &CheckSource) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let expressions = [
        ("applies", source.applies.as_ref()),
        ("subjects", source.subjects.as_ref()),
        ("condition", Some(&source.condition)),
        ("detail", source.detail.as_ref()),
    ];
    let mut compiled_ok = true;
    for (name, located) in expressions {
        if let Some(located) = located {
            match Program::compile(&located.text) {
                Ok(program) => problems.extend(lint_program(source, name, located, &program)),
                Err(err) => {
                    compiled_ok = false;
                    problems.push(parse_error(source, name, located, &err));
                }
            }
        }
    }
    if source.check.examples.is_empty() {
        problems.push(source.diagnostic(
            0,
            "the check has no [[example]]: add at least a pass, a fail and an unknown example",
        ));
    }
    problems.extend(missing_in_effect(source));
    if compiled_ok && problems.is_empty() {
        problems.extend(lint_examples(source));
    }
    problems
}

/// The id namespaces of sqlready's own checks (`durability.fsync`,
/// `network.tls_required`, …). A check in one of them must say what it reads
/// to know the judged state is in effect; a team's own checks (`acme.…`)
/// are not held to it, so existing check directories keep loading.
pub const BUILTIN_NAMESPACES: &[&str] = &[
    "access_control",
    "audit",
    "backups",
    "cdc",
    "config",
    "connections",
    "cost",
    "deletion_protection",
    "dev_data",
    "disk_autogrow",
    "durability",
    "encryption",
    "migrations",
    "monitoring",
    "multi_zone",
    "network",
    "pitr",
    "replicas",
    "restore_tested",
    "slow_queries",
    "staging",
    "version",
];

/// `in_effect` is required in the built-in namespaces (rendered into
/// docs/checks.md: the overrides, sibling settings and load state read).
fn missing_in_effect(source: &CheckSource) -> Option<Diagnostic> {
    let check = &source.check;
    let namespace = check.id.split('.').next().unwrap_or_default();
    let builtin = check.id.contains('.') && BUILTIN_NAMESPACES.contains(&namespace);
    (builtin && check.in_effect.iter().all(|line| line.trim().is_empty())).then(|| {
        source.diagnostic(
            0,
            format!(
                "in_effect: '{}' does not say what it reads to know the state is in effect; add in_effect = [\"…\"] naming the overrides, sibling settings and load state it reads (or \"not read yet: …\"), one sentence each",
                check.id
            ),
        )
    })
}

fn parse_error(
    source: &CheckSource,
    name: &str,
    located: &Located,
    err: &cel::ParseErrors,
) -> Diagnostic {
    let first = err.errors.first();
    let (line, column) = first.map_or((1, 0), |e| {
        (e.pos.0.max(1) as usize, e.pos.1.max(0) as usize)
    });
    let message = first.map_or_else(|| err.to_string(), |e| e.msg.clone());
    let offset = offset_in(located, line, column);
    source.diagnostic(offset, format!("{name}: CEL syntax error: {message}"))
}

/// Byte offset in the file of a (1-based line, 0-based column) inside an expression.
fn offset_in(located: &Located, line: usize, column: usize) -> usize {
    let mut offset = located.offset;
    for (index, text_line) in located.text.split_inclusive('\n').enumerate() {
        if index + 1 == line {
            let column = text_line
                .char_indices()
                .nth(column)
                .map_or(text_line.len(), |(i, _)| i);
            return offset + column;
        }
        offset += text_line.len();
    }
    offset
}

fn lint_program(
    source: &CheckSource,
    name: &str,
    located: &Located,
    program: &Program,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let (references, calls) = walk(program.expression());
    let at = |id: u64| {
        let char_offset = program
            .source_info()
            .offset_for(id)
            .map_or(0, |(start, _)| start as usize);
        let byte = located
            .text
            .char_indices()
            .nth(char_offset)
            .map_or(located.text.len(), |(i, _)| i);
        located.offset + byte
    };
    for reference in references {
        if let Err(message) = check_path(&reference.path, !source.check.query.is_empty()) {
            problems.push(source.diagnostic(at(reference.id), format!("{name}: {message}")));
        }
    }
    for call in calls {
        let operator = call.name.starts_with(['_', '@', '!', '-']);
        if !operator && !FUNCTIONS.contains(&call.name.as_str()) {
            problems.push(source.diagnostic(
                at(call.id),
                format!("{name}: unknown function '{}'", call.name),
            ));
        }
    }
    problems
}

/// A referenced path must be a fact, a namespace of facts, or the check's query rows.
fn check_path(path: &str, has_query: bool) -> Result<(), String> {
    if path == "query" || path.starts_with("query.") {
        return if !has_query {
            Err(format!("'{path}' needs a [query] section in this check"))
        } else if path == "query" || path == "query.rows" {
            Ok(())
        } else {
            Err(format!("'{path}': only query.rows exists (a list of rows)"))
        };
    }
    if schema::is_fact_or_namespace(path) {
        return Ok(());
    }
    if let Some(spec) = schema::fact_prefix_of(path) {
        let hint = match spec.ty {
            FactType::Rows => "; iterate its rows, e.g. .exists(r, r.field == …)",
            _ => "",
        };
        return Err(format!(
            "'{path}': {} is a {} and has no field '{}'{hint}",
            spec.path,
            spec.ty.name(),
            &path[spec.path.len() + 1..]
        ));
    }
    let root = path.split('.').next().unwrap_or(path);
    if !schema::roots().contains(&root) {
        return Err(format!(
            "unknown name '{root}': facts live under {}",
            schema::roots().join(", ")
        ));
    }
    Err(format!(
        "unknown fact path '{path}' (see `sqlready checks facts`)"
    ))
}

fn lint_examples(source: &CheckSource) -> Vec<Diagnostic> {
    let compiled = match CompiledCheck::compile(source.check.clone()) {
        Ok(compiled) => compiled,
        Err(message) => return vec![source.diagnostic(source.condition.offset, message)],
    };
    let mut problems = Vec::new();
    if let (Some(subjects), Some(reason)) = (&source.subjects, &source.check.no_subjects) {
        let shown = source.check.examples.iter().any(|example| {
            let verdict = run_example(&compiled, example);
            verdict.status == super::model::Status::NotApplicable
                && verdict.detail.starts_with(reason.as_str())
        });
        if !shown {
            problems.push(source.diagnostic(
                subjects.offset,
                format!(
                    "subjects: no example shows the empty case; add an [[example]] with expect = \"n/a\" whose subjects are empty (\"{reason}\")"
                ),
            ));
        }
    }
    for example in &source.check.examples {
        for path in example
            .facts
            .keys()
            .chain(&example.unknown)
            .chain(&example.null)
        {
            let valid = if path == "query.rows" {
                !source.check.query.is_empty()
            } else {
                schema::spec(path).is_some()
            };
            if !valid {
                problems.push(source.diagnostic(
                    find_example(source, &example.name),
                    format!("example '{}': '{path}' is not a fact path", example.name),
                ));
            }
            if let (Some(spec), Some(value)) = (schema::spec(path), example.facts.get(path))
                && !spec.ty.admits(value)
            {
                problems.push(source.diagnostic(
                    find_example(source, &example.name),
                    format!(
                        "example '{}': '{path}' is a {}, not {value}",
                        example.name,
                        spec.ty.name()
                    ),
                ));
            }
        }
        if let Some((path, len)) = example
            .facts
            .iter()
            .find_map(|(path, value)| longest_list(value).map(|len| (path, len)))
        {
            // The cost limit of `cel::check_limits` assumes lists of this length.
            problems.push(source.diagnostic(
                find_example(source, &example.name),
                format!(
                    "example '{}': '{path}' holds a list of {len} elements; examples are held to {}",
                    example.name,
                    super::cel::ASSUMED_LIST_LEN
                ),
            ));
            continue;
        }
        let verdict = run_example(&compiled, example);
        if verdict.status != example.expect {
            problems.push(source.diagnostic(
                find_example(source, &example.name),
                format!(
                    "example '{}' expects {} but the check says {} ({})",
                    example.name, example.expect, verdict.status, verdict.detail
                ),
            ));
        }
    }
    problems
}

/// The length of the longest list in `value` (nested ones included), when one
/// is longer than the cost estimate assumes.
fn longest_list(value: &serde_json::Value) -> Option<usize> {
    let limit = super::cel::ASSUMED_LIST_LEN as usize;
    let mut stack = vec![value];
    let mut longest = None;
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Array(items) => {
                if items.len() > limit {
                    longest = longest.max(Some(items.len()));
                }
                stack.extend(items);
            }
            serde_json::Value::Object(fields) => stack.extend(fields.values()),
            _ => {}
        }
    }
    longest
}

fn find_example(source: &CheckSource, name: &str) -> usize {
    source.contents.find(&format!("\"{name}\"")).unwrap_or(0)
}

/// Evaluates a check on one of its examples.
pub fn run_example(compiled: &CompiledCheck, example: &Example) -> super::eval::Verdict {
    let mut facts = Facts::new();
    for (path, value) in &example.facts {
        facts.insert(
            path.clone(),
            Fact::known("example", "example", value.clone()),
        );
    }
    for path in &example.null {
        facts.insert(
            path.clone(),
            Fact::known("example", "example", serde_json::Value::Null),
        );
    }
    for path in &example.unknown {
        facts.insert(
            path.clone(),
            Fact::unknown("example", "the example marks it unknown", None),
        );
    }
    let target = TargetFacts {
        id: format!("example://{}", example.name),
        resource: None,
        kind: example.target.kind,
        role: example.target.role,
        engine: example.target.engine.clone(),
        version: example.target.version.clone(),
        collected_at: chrono::DateTime::UNIX_EPOCH,
        facts,
        evidence: Vec::new(),
        principal: None,
        sources: Vec::new(),
        location: None,
        warnings: Vec::new(),
        tags: Default::default(),
    };
    evaluate(compiled, &Subject::new(&target, &Thresholds::default()))
}

/// Whether every example of a check comes out as it says (used by tests).
pub fn examples_hold(compiled: &CompiledCheck) -> Vec<String> {
    compiled
        .check
        .examples
        .iter()
        .filter_map(|example| {
            let verdict = run_example(compiled, example);
            (verdict.status != example.expect).then(|| {
                format!(
                    "{}: example '{}' expects {} but got {} ({})",
                    compiled.check.id, example.name, example.expect, verdict.status, verdict.detail
                )
            })
        })
        .collect()
}
