//! The bridge between facts and CEL: value conversion both ways, and the
//! field paths an expression reads (for unknown-fact handling and lint).

use cel::Value as CelValue;
use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};
use cel::objects::{Key, Map};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Arc;

/// JSON to CEL, keeping integers signed so `x + 1` works (positive JSON
/// integers would otherwise become `uint`).
pub fn to_cel(value: &Json) -> CelValue {
    match value {
        Json::Null => CelValue::Null,
        Json::Bool(b) => CelValue::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => CelValue::Int(i),
            (None, Some(u), _) => CelValue::UInt(u),
            (_, _, Some(f)) => CelValue::Float(f),
            _ => CelValue::Null,
        },
        Json::String(s) => CelValue::String(Arc::new(s.clone())),
        Json::Array(items) => CelValue::List(Arc::new(items.iter().map(to_cel).collect())),
        Json::Object(fields) => {
            let map: HashMap<Key, CelValue> = fields
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            CelValue::Map(Map { map: Arc::new(map) })
        }
    }
}

/// CEL to JSON, for evidence. Values JSON cannot hold become strings.
pub fn to_json(value: &CelValue) -> Json {
    match value {
        CelValue::Null => Json::Null,
        CelValue::Bool(b) => Json::Bool(*b),
        CelValue::Int(i) => Json::from(*i),
        CelValue::UInt(u) => Json::from(*u),
        CelValue::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        CelValue::String(s) => Json::String(s.to_string()),
        CelValue::List(items) => Json::Array(items.iter().map(to_json).collect()),
        CelValue::Map(map) => {
            let mut entries: Vec<(String, Json)> = map
                .map
                .iter()
                .map(|(k, v)| (key_string(k), to_json(v)))
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(entries.into_iter().collect())
        }
        other => Json::String(format!("{other:?}")),
    }
}

fn key_string(key: &Key) -> String {
    match key {
        Key::String(s) => s.to_string(),
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
    }
}

/// A field path an expression reads, e.g. `postgres.settings.wal_level`,
/// with the AST node id where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub path: String,
    pub id: u64,
}

/// A function call in an expression, with its node id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub name: String,
    pub id: u64,
}

/// Every field path and function call in an expression. Comprehension
/// variables (`s` in `slots.all(s, …)`) are not paths.
pub fn walk(expr: &IdedExpr) -> (Vec<Reference>, Vec<Call>) {
    let mut walker = Walker::default();
    walker.visit(expr);
    (walker.references, walker.calls)
}

#[derive(Default)]
struct Walker {
    bound: Vec<String>,
    references: Vec<Reference>,
    calls: Vec<Call>,
}

impl Walker {
    fn visit(&mut self, expr: &IdedExpr) {
        if let Some((path, id)) = self.path_of(expr) {
            self.references.push(Reference { path, id });
            return;
        }
        match &expr.expr {
            Expr::Call(call) => {
                self.calls.push(Call {
                    name: call.func_name.clone(),
                    id: expr.id,
                });
                if let Some(target) = &call.target {
                    self.visit(target);
                }
                for arg in &call.args {
                    self.visit(arg);
                }
            }
            Expr::Select(select) => self.visit(&select.operand),
            Expr::List(list) => list.elements.iter().for_each(|e| self.visit(e)),
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(entry) = &entry.expr {
                        self.visit(&entry.key);
                        self.visit(&entry.value);
                    }
                }
            }
            Expr::Struct(st) => {
                for entry in &st.entries {
                    if let EntryExpr::StructField(field) = &entry.expr {
                        self.visit(&field.value);
                    }
                }
            }
            Expr::Comprehension(comp) => {
                self.visit(&comp.iter_range);
                self.visit(&comp.accu_init);
                self.bound.push(comp.iter_var.clone());
                if let Some(var) = &comp.iter_var2 {
                    self.bound.push(var.clone());
                }
                self.bound.push(comp.accu_var.clone());
                self.visit(&comp.loop_cond);
                self.visit(&comp.loop_step);
                self.visit(&comp.result);
                self.bound
                    .truncate(self.bound.len() - 2 - usize::from(comp.iter_var2.is_some()));
            }
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
    }

    /// The dotted path an expression spells (`a.b.c`, `a.b['c']`), if it is
    /// one rooted at a free identifier, with the id of that identifier (where
    /// the path starts in the source).
    fn path_of(&self, expr: &IdedExpr) -> Option<(String, u64)> {
        match &expr.expr {
            Expr::Ident(name) if !self.bound.contains(name) => Some((name.clone(), expr.id)),
            Expr::Select(select) if !select.test => self
                .path_of(&select.operand)
                .map(|(base, id)| (format!("{base}.{}", select.field), id)),
            Expr::Call(call) if call.func_name == "_[_]" && call.args.len() == 2 => {
                let (base, id) = self.path_of(&call.args[0])?;
                match &call.args[1].expr {
                    Expr::Literal(LiteralValue::String(key)) => {
                        Some((format!("{base}.{}", key.inner()), id))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// The longest expression accepted (bytes). Far above any real check (the
/// longest built-in is under 1 KiB); it bounds the parser's work.
pub const MAX_EXPRESSION_BYTES: usize = 8 * 1024;
/// The deepest expression tree accepted. The evaluator recurses once per
/// level: a chain of ~4,000 `+` overflowed a 2 MiB stack (exit 134).
pub const MAX_DEPTH: usize = 64;
/// The most work an expression may be estimated to do (node visits, with each
/// comprehension counted as its list's length times its body).
pub const MAX_COST: u128 = 10_000_000;
/// The list length the estimate assumes for a fact or a variable: lists of facts
/// (slots, replicas, query rows) are far shorter in practice, and example lists
/// in check files are held to it by lint.
pub const ASSUMED_LIST_LEN: u128 = 1_000;

/// An expression over a limit: where (a character offset into the
/// expression) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitError {
    pub offset: usize,
    pub message: String,
}

/// Refuses, before anything evaluates it, an expression too long, too deep, or
/// whose estimated cost is over [`MAX_COST`] (nested `.exists`/`.map` over
/// large lists). Syntax errors pass: lint reports those with their own position.
pub fn check_limits(text: &str) -> Result<(), LimitError> {
    if text.len() > MAX_EXPRESSION_BYTES {
        return Err(LimitError {
            offset: 0,
            message: format!(
                "the expression is {} bytes long; at most {MAX_EXPRESSION_BYTES} are accepted",
                text.len()
            ),
        });
    }
    let Ok(program) = cel::Program::compile(text) else {
        return Ok(());
    };
    let at = |id: u64| {
        program
            .source_info()
            .offset_for(id)
            .map_or(0, |(start, _)| start as usize)
    };
    // Depth first, without recursion: the tree may be thousands of levels deep.
    let mut stack = vec![(program.expression(), 1usize)];
    while let Some((expr, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(LimitError {
                offset: at(expr.id),
                message: format!(
                    "the expression nests deeper than {MAX_DEPTH} levels here; split it or use a comprehension"
                ),
            });
        }
        stack.extend(children(expr).into_iter().map(|c| (c, depth + 1)));
    }
    // The tree is now known to be shallow: recursion is safe.
    let (cost, _) = estimate(program.expression(), &mut Vec::new());
    if cost > MAX_COST {
        return Err(LimitError {
            offset: 0,
            message: format!(
                "the expression could take about {cost} steps (nested comprehensions over lists of up to {ASSUMED_LIST_LEN} elements); at most {MAX_COST} are allowed: avoid nesting .exists/.all/.map/.filter more than two deep"
            ),
        });
    }
    Ok(())
}

/// An expression's direct sub-expressions.
fn children(expr: &IdedExpr) -> Vec<&IdedExpr> {
    match &expr.expr {
        Expr::Call(call) => call
            .target
            .iter()
            .map(|t| t.as_ref())
            .chain(call.args.iter())
            .collect(),
        Expr::Select(select) => vec![&*select.operand],
        Expr::List(list) => list.elements.iter().collect(),
        Expr::Map(map) => map
            .entries
            .iter()
            .flat_map(|entry| match &entry.expr {
                EntryExpr::MapEntry(e) => vec![&e.key, &e.value],
                EntryExpr::StructField(f) => vec![&f.value],
            })
            .collect(),
        Expr::Struct(st) => st
            .entries
            .iter()
            .flat_map(|entry| match &entry.expr {
                EntryExpr::MapEntry(e) => vec![&e.key, &e.value],
                EntryExpr::StructField(f) => vec![&f.value],
            })
            .collect(),
        Expr::Comprehension(comp) => vec![
            &comp.iter_range,
            &comp.accu_init,
            &comp.loop_cond,
            &comp.loop_step,
            &comp.result,
        ],
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Vec::new(),
    }
}

/// (cost, size): an upper-bound-minded estimate of the steps an expression
/// takes and of the number of elements of the list it yields (1 for a scalar,
/// [`ASSUMED_LIST_LEN`] for anything read from the facts or a variable, 0 for
/// a comprehension's own accumulator, whose growth is counted by the loop).
fn estimate(expr: &IdedExpr, accumulators: &mut Vec<String>) -> (u128, u128) {
    match &expr.expr {
        Expr::Comprehension(comp) => {
            let (range_cost, n) = estimate(&comp.iter_range, accumulators);
            let (init_cost, _) = estimate(&comp.accu_init, accumulators);
            accumulators.push(comp.accu_var.clone());
            let (cond_cost, _) = estimate(&comp.loop_cond, accumulators);
            let (step_cost, step_size) = estimate(&comp.loop_step, accumulators);
            let (result_cost, _) = estimate(&comp.result, accumulators);
            accumulators.pop();
            let per_item = cond_cost.saturating_add(step_cost).saturating_add(1);
            let cost = range_cost
                .saturating_add(init_cost)
                .saturating_add(n.saturating_mul(per_item))
                .saturating_add(result_cost);
            (cost, n.saturating_mul(step_size))
        }
        Expr::Ident(name) if accumulators.contains(name) => (1, 0),
        Expr::Ident(_) => (1, ASSUMED_LIST_LEN),
        Expr::Literal(_) | Expr::Unspecified => (1, 1),
        _ => {
            let parts: Vec<(u128, u128)> = children(expr)
                .into_iter()
                .map(|c| estimate(c, accumulators))
                .collect();
            let cost = parts.iter().fold(1u128, |c, (pc, _)| c.saturating_add(*pc));
            let sizes = parts.iter().map(|(_, size)| *size);
            let size = match &expr.expr {
                Expr::Select(_) => ASSUMED_LIST_LEN,
                Expr::List(list) => list.elements.len() as u128,
                Expr::Map(map) => map.entries.len() as u128,
                Expr::Call(call) => match call.func_name.as_str() {
                    "_+_" => sizes.fold(0u128, u128::saturating_add),
                    "_?_:_" => sizes.skip(1).max().unwrap_or(1),
                    "_[_]" | "dyn" => ASSUMED_LIST_LEN,
                    _ => 1,
                },
                _ => 1,
            };
            (cost, size)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(source: &str) -> Vec<String> {
        let program = cel::Program::compile(source).unwrap();
        walk(program.expression())
            .0
            .into_iter()
            .map(|r| r.path)
            .collect()
    }

    #[test]
    fn select_chains_are_paths() {
        assert_eq!(
            paths("postgres.settings.wal_level == 'logical' && replicas.count > 0"),
            vec!["postgres.settings.wal_level", "replicas.count"]
        );
    }

    #[test]
    fn comprehension_variables_are_not_paths() {
        assert_eq!(
            paths("replication.slots.filter(s, !s.active).map(s, s.name)"),
            vec!["replication.slots"]
        );
    }

    #[test]
    fn string_index_extends_a_path() {
        assert_eq!(paths("a.b['c'] == 1"), vec!["a.b.c"]);
    }

    #[test]
    fn integers_stay_signed() {
        let mut context = cel::Context::default();
        context.add_variable_from_value("x", to_cel(&serde_json::json!(41)));
        let program = cel::Program::compile("x + 1 == 42").unwrap();
        assert_eq!(program.execute(&context), Ok(CelValue::Bool(true)));
    }

    #[test]
    fn ordinary_checks_are_within_the_limits() {
        for text in [
            "replication.slots.filter(s, !s.active).map(s, s.name)",
            "backups.retention_days >= 7 && replicas.count > 0",
            "query.rows.exists(r, r.grants.exists(g, g == 'SUPER'))",
        ] {
            assert_eq!(check_limits(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn a_long_chain_is_refused_where_it_gets_too_deep() {
        let chain = format!("1{}", " + 1".repeat(2000));
        let err = check_limits(&chain).unwrap_err();
        assert!(err.message.contains("deeper than 64"), "{err:?}");
        let text = format!("x{}", ".y".repeat(5000));
        assert!(
            check_limits(&text)
                .unwrap_err()
                .message
                .contains("bytes long")
        );
    }

    #[test]
    fn nested_comprehensions_over_large_lists_are_refused() {
        let bomb = "a.exists(x, b.exists(y, c.exists(z, x == y && y == z)))";
        let err = check_limits(bomb).unwrap_err();
        assert!(err.message.contains("nesting .exists"), "{err:?}");
        let list = format!("[{}]", vec!["1"; 400].join(","));
        let bomb = format!("{list}.map(x, {list}.map(y, {list}.map(z, z)))");
        assert!(check_limits(&bomb).is_err());
    }
}
