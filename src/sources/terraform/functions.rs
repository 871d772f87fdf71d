//! The Terraform functions that modules use to pass values through
//! (`coalesce`, `merge`, `lookup`, `try`, `element`, `split`, …), for the
//! `.tf` evaluator. Each does what Terraform's documentation says
//! (developer.hashicorp.com/terraform/language/functions) on known values;
//! a function not listed here leaves its expression unresolved, never guessed.
//!
//! `try(a, b, …)` is resolved before evaluation where it can be (see
//! `modules::evaluate`); declared here it returns its first argument, and
//! only when every argument evaluates, so it can never pick a fallback for
//! an argument that is merely unknown.

use hcl::Value;
use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};

/// Declares the supported functions in `ctx`.
pub fn declare(ctx: &mut Context<'_>) {
    let variadic = |f| FuncDef::builder().variadic_param(ParamType::Any).build(f);
    let fixed = |n: usize, f| {
        FuncDef::builder()
            .params(std::iter::repeat_n(ParamType::Any, n))
            .build(f)
    };
    ctx.declare_func("coalesce", variadic(coalesce));
    ctx.declare_func("merge", variadic(merge));
    ctx.declare_func("concat", variadic(concat));
    ctx.declare_func("try", variadic(first));
    ctx.declare_func("format", variadic(format));
    ctx.declare_func("lookup", variadic(lookup));
    ctx.declare_func("element", fixed(2, element));
    ctx.declare_func("split", fixed(2, split));
    ctx.declare_func("slice", fixed(3, slice));
    ctx.declare_func("join", fixed(2, join));
    ctx.declare_func("length", fixed(1, length));
    ctx.declare_func("lower", fixed(1, lower));
    ctx.declare_func("upper", fixed(1, upper));
    ctx.declare_func("contains", fixed(2, contains));
    ctx.declare_func("tostring", fixed(1, tostring));
    ctx.declare_func("tobool", fixed(1, tobool));
    ctx.declare_func("tonumber", fixed(1, tonumber));
    ctx.declare_func("tolist", fixed(1, identity));
    ctx.declare_func("toset", fixed(1, identity));
    ctx.declare_func("tomap", fixed(1, identity));
    ctx.declare_func("keys", fixed(1, keys));
    ctx.declare_func("values", fixed(1, values));
    ctx.declare_func("compact", fixed(1, compact));
    ctx.declare_func("max", variadic(max));
    ctx.declare_func("min", variadic(min));
}

fn first(args: FuncArgs) -> Result<Value, String> {
    args.first().cloned().ok_or("try needs an argument".into())
}

fn identity(args: FuncArgs) -> Result<Value, String> {
    Ok(args[0].clone())
}

/// The first argument that is not null nor an empty string.
fn coalesce(args: FuncArgs) -> Result<Value, String> {
    args.iter()
        .find(|v| !v.is_null() && v.as_str() != Some(""))
        .cloned()
        .ok_or("no non-null, non-empty-string arguments".into())
}

fn merge(args: FuncArgs) -> Result<Value, String> {
    let mut merged = hcl::Map::new();
    for arg in args.iter() {
        match arg {
            Value::Null => {}
            Value::Object(fields) => merged.extend(fields.clone()),
            other => return Err(format!("merge: {other:?} is not a map")),
        }
    }
    Ok(Value::Object(merged))
}

fn concat(args: FuncArgs) -> Result<Value, String> {
    let mut all = Vec::new();
    for arg in args.iter() {
        all.extend(arg.as_array().ok_or("concat takes lists")?.iter().cloned());
    }
    Ok(Value::Array(all))
}

/// `lookup(map, key, default)`; without a default a missing key is an error.
fn lookup(args: FuncArgs) -> Result<Value, String> {
    let map = args
        .first()
        .and_then(Value::as_object)
        .ok_or("lookup: not a map")?;
    let key = args
        .get(1)
        .and_then(Value::as_str)
        .ok_or("lookup: key not a string")?;
    match (map.get(key), args.get(2)) {
        (Some(value), _) => Ok(value.clone()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(format!("lookup: no key {key}")),
    }
}

/// `format` with the verbs modules use: `%s`, `%d`, `%v`, `%%`.
fn format(args: FuncArgs) -> Result<Value, String> {
    let spec = args
        .first()
        .and_then(Value::as_str)
        .ok_or("format: no spec")?;
    let mut rest = args.iter().skip(1);
    let mut out = String::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('s' | 'd' | 'v') => out.push_str(&text(rest.next().ok_or("format: too few")?)?),
            other => return Err(format!("format: verb %{other:?} not supported")),
        }
    }
    Ok(Value::String(out))
}

fn text(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("{other:?} is not a primitive value")),
    }
}

fn element(args: FuncArgs) -> Result<Value, String> {
    let list = args[0].as_array().ok_or("element: not a list")?;
    let index = args[1].as_u64().ok_or("element: index not a number")? as usize;
    if list.is_empty() {
        return Err("element: empty list".into());
    }
    Ok(list[index % list.len()].clone())
}

/// `slice(list, start, end)`: elements `start` (inclusive) to `end` (exclusive);
/// the sql-db module derives a replica's region with `slice(split("-", zone), 0, 2)`.
fn slice(args: FuncArgs) -> Result<Value, String> {
    let list = args[0].as_array().ok_or("slice: not a list")?;
    let start = args[1].as_u64().ok_or("slice: start not a number")? as usize;
    let end = args[2].as_u64().ok_or("slice: end not a number")? as usize;
    if start > end || end > list.len() {
        return Err(format!(
            "slice: {start}..{end} is out of a list of {}",
            list.len()
        ));
    }
    Ok(Value::Array(list[start..end].to_vec()))
}

fn split(args: FuncArgs) -> Result<Value, String> {
    let (sep, s) = (text(&args[0])?, text(&args[1])?);
    Ok(Value::Array(
        s.split(sep.as_str())
            .map(|p| Value::String(p.into()))
            .collect(),
    ))
}

fn join(args: FuncArgs) -> Result<Value, String> {
    let sep = text(&args[0])?;
    let parts: Result<Vec<String>, String> = args[1]
        .as_array()
        .ok_or("join: not a list")?
        .iter()
        .map(text)
        .collect();
    Ok(Value::String(parts?.join(&sep)))
}

fn length(args: FuncArgs) -> Result<Value, String> {
    let n = match &args[0] {
        Value::Array(items) => items.len(),
        Value::Object(fields) => fields.len(),
        Value::String(s) => s.chars().count(),
        other => return Err(format!("length: {other:?}")),
    };
    Ok(Value::from(n as u64))
}

fn lower(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::String(text(&args[0])?.to_lowercase()))
}

fn upper(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::String(text(&args[0])?.to_uppercase()))
}

fn contains(args: FuncArgs) -> Result<Value, String> {
    let list = args[0].as_array().ok_or("contains: not a list")?;
    Ok(Value::Bool(list.contains(&args[1])))
}

fn tostring(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        other => Ok(Value::String(text(other)?)),
    }
}

fn tobool(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Bool(_) | Value::Null => Ok(args[0].clone()),
        Value::String(s) if s == "true" => Ok(Value::Bool(true)),
        Value::String(s) if s == "false" => Ok(Value::Bool(false)),
        other => Err(format!("tobool: {other:?}")),
    }
}

fn tonumber(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Number(_) | Value::Null => Ok(args[0].clone()),
        Value::String(s) => s
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| s.parse::<f64>().map(Value::from))
            .map_err(|_| format!("tonumber: {s}")),
        other => Err(format!("tonumber: {other:?}")),
    }
}

fn keys(args: FuncArgs) -> Result<Value, String> {
    let map = args[0].as_object().ok_or("keys: not a map")?;
    Ok(Value::Array(
        map.keys().map(|k| Value::String(k.clone())).collect(),
    ))
}

fn values(args: FuncArgs) -> Result<Value, String> {
    let map = args[0].as_object().ok_or("values: not a map")?;
    Ok(Value::Array(map.values().cloned().collect()))
}

fn compact(args: FuncArgs) -> Result<Value, String> {
    let list = args[0].as_array().ok_or("compact: not a list")?;
    Ok(Value::Array(
        list.iter()
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
            .cloned()
            .collect(),
    ))
}

fn numbers(args: &FuncArgs) -> Result<Vec<f64>, String> {
    args.iter()
        .map(|v| v.as_f64().ok_or(format!("{v:?} is not a number")))
        .collect()
}

fn max(args: FuncArgs) -> Result<Value, String> {
    let best = numbers(&args)?
        .into_iter()
        .reduce(f64::max)
        .ok_or("max: none")?;
    Ok(whole(best))
}

fn min(args: FuncArgs) -> Result<Value, String> {
    let best = numbers(&args)?
        .into_iter()
        .reduce(f64::min)
        .ok_or("min: none")?;
    Ok(whole(best))
}

fn whole(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::eval::Evaluate;

    fn eval(text: &str) -> Result<serde_json::Value, String> {
        let mut ctx = Context::new();
        declare(&mut ctx);
        let body: hcl::Body = hcl::parse(&format!("x = {text}\n")).unwrap();
        let expr = body.attributes().next().unwrap().expr.clone();
        expr.evaluate(&ctx)
            .map(|v| serde_json::to_value(v).unwrap())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn functions_behave_as_terraform_documents_them() {
        use serde_json::json;
        assert_eq!(eval(r#"coalesce(null, "", "b")"#), Ok(json!("b")));
        assert!(eval("coalesce(null, null)").is_err());
        assert_eq!(
            eval(r#"merge({a = 1}, null, {a = 2, b = 3})"#),
            Ok(json!({"a": 2, "b": 3}))
        );
        assert_eq!(eval(r#"lookup({a = 1}, "b", 5)"#), Ok(json!(5)));
        assert!(eval(r#"lookup({a = 1}, "b")"#).is_err());
        assert_eq!(eval(r#"format("%s-%d", "db", 3)"#), Ok(json!("db-3")));
        assert_eq!(
            eval(r#"join("-", slice(split("-", "europe-west1-b"), 0, 2))"#),
            Ok(json!("europe-west1"))
        );
        assert!(eval(r#"slice(["a"], 0, 2)"#).is_err());
        assert_eq!(
            eval(r#"element(split("-", "sqlserver-se"), 0)"#),
            Ok(json!("sqlserver"))
        );
        assert_eq!(eval(r#"join(", ", ["a", "b"])"#), Ok(json!("a, b")));
        assert_eq!(eval(r#"length({a = 1, b = 2})"#), Ok(json!(2)));
        assert_eq!(eval(r#"max(1, 7, 3)"#), Ok(json!(7)));
        assert_eq!(eval(r#"compact(["a", "", null])"#), Ok(json!(["a"])));
        // try never falls back past an argument that fails: that stays unresolved.
        assert_eq!(eval(r#"try(1, 2)"#), Ok(json!(1)));
        assert!(eval(r#"try(module.x.y, 2)"#).is_err());
        assert!(
            eval(r#"regex("a", "b")"#).is_err(),
            "not supported: unresolved"
        );
    }
}
