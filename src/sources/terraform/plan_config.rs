//! A plan's `configuration` section: what the code wrote for each resource,
//! used to resolve what `after_unknown` leaves open the way `.tf` mode does.
//!
//! - An attribute known only after apply that the configuration does not
//!   write is computed by the provider: its documented default applies, as
//!   for an unwritten attribute in `.tf` mode (it becomes unset).
//! - One written as a reference to another resource
//!   (`cluster_identifier = aws_rds_cluster.this[0].id`) names that resource,
//!   at the address of the same module instance, so a cluster member links
//!   to its cluster and a replica to its source, as in `.tf` mode.

use super::model::Resource;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Roots of references that are not another resource.
const NOT_RESOURCES: [&str; 8] = [
    "var", "local", "each", "count", "data", "path", "module", "self",
];

/// The expression Terraform's JSON records for a value only apply knows.
const AFTER_APPLY: &str = "known after apply";

/// Every resource of the configuration, by its address without instance
/// keys (`module.db.module.db_instance.aws_db_instance.this`) → its `expressions`.
pub fn expressions(doc: &Json) -> BTreeMap<String, Json> {
    let mut found = BTreeMap::new();
    if let Some(root) = doc.pointer("/configuration/root_module") {
        walk(root, "", &mut found);
    }
    found
}

fn walk(module: &Json, prefix: &str, into: &mut BTreeMap<String, Json>) {
    for resource in module["resources"].as_array().into_iter().flatten() {
        if resource["mode"].as_str() != Some("managed") {
            continue;
        }
        if let Some(address) = resource["address"].as_str() {
            into.insert(
                format!("{prefix}{address}"),
                resource["expressions"].clone(),
            );
        }
    }
    for (name, call) in module["module_calls"].as_object().into_iter().flatten() {
        walk(&call["module"], &format!("{prefix}module.{name}."), into);
    }
}

/// `module.a["k"].aws_x.y[0]` → `module.a.aws_x.y` (quoted keys may hold anything).
pub fn without_keys(address: &str) -> String {
    let mut out = String::new();
    let (mut depth, mut quoted, mut escaped) = (0, false, false);
    for c in address.chars() {
        if depth > 0 {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ']' if !quoted => depth -= 1,
                _ => {}
            }
            continue;
        }
        if c == '[' {
            depth = 1;
        } else {
            out.push(c);
        }
    }
    out
}

/// The address of the module instance a resource sits in, with a trailing
/// dot (`module.aurora.`), empty at the root.
fn module_prefix(resource: &Resource) -> &str {
    let marker = format!(".{}.", resource.kind);
    match resource.address.rfind(&marker) {
        Some(at) => &resource.address[..=at],
        None => "",
    }
}

/// Resolves `after_unknown` attributes of `resource` with what its
/// configuration wrote (top-level attributes only: blocks are left as planned).
pub fn refine(resource: &mut Resource, expressions: &Json) {
    let prefix = module_prefix(resource).to_string();
    let open: Vec<String> = resource
        .unresolved
        .iter()
        .filter(|(path, why)| !path.contains('.') && why.as_str() == AFTER_APPLY)
        .map(|(path, _)| path.clone())
        .collect();
    for path in open {
        match expressions.get(&path) {
            None => {
                resource.unresolved.remove(&path);
            }
            Some(written) => {
                let reference = written["references"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Json::as_str)
                    .find(|r| {
                        let root = r.split('.').next().unwrap_or_default();
                        !NOT_RESOURCES.contains(&root) && r.contains('.')
                    });
                if let Some(reference) = reference {
                    resource
                        .unresolved
                        .insert(path, format!("{prefix}{reference}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn instance_keys_are_dropped_whatever_they_hold() {
        assert_eq!(
            without_keys(r#"module.a["x.]y"].aws_db_instance.this[0]"#),
            "module.a.aws_db_instance.this"
        );
    }

    #[test]
    fn unwritten_computed_attributes_take_the_default_and_references_name_the_resource() {
        let mut member = Resource {
            address: r#"module.aurora.aws_rds_cluster_instance.this["one"]"#.into(),
            kind: "aws_rds_cluster_instance".into(),
            file: "plan.json".into(),
            line: None,
            values: json!({}),
            unresolved: [
                ("cluster_identifier", AFTER_APPLY),
                ("performance_insights_enabled", AFTER_APPLY),
                ("db_parameter_group_name", AFTER_APPLY),
            ]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
            defaults: BTreeMap::new(),
        };
        refine(
            &mut member,
            &json!({
                "cluster_identifier": {"references": ["aws_rds_cluster.this[0].id", "aws_rds_cluster.this[0]", "aws_rds_cluster.this"]},
                "db_parameter_group_name": {"references": ["var.db_parameter_group_name"]}
            }),
        );
        assert_eq!(
            member.unresolved.get("cluster_identifier").unwrap(),
            "module.aurora.aws_rds_cluster.this[0].id"
        );
        assert!(
            !member
                .unresolved
                .contains_key("performance_insights_enabled")
        );
        assert_eq!(
            member.unresolved.get("db_parameter_group_name").unwrap(),
            AFTER_APPLY,
            "a variable only apply resolves stays unknown"
        );
    }
}
