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
}
