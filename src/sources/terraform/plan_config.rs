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

/// The configuration of the module at `prefix` (`module.a.module.b.`, no keys).
fn module_at<'a>(root: &'a Json, prefix: &str) -> Option<&'a Json> {
    let mut module = root;
    for name in prefix.split('.').collect::<Vec<_>>().chunks(2) {
        match name {
            ["module", call] => module = module.pointer(&format!("/module_calls/{call}/module"))?,
            [""] | [] => {}
            _ => return None,
        }
    }
    Some(module)
}

/// The resource an output of the module at `prefix` passes on
/// (`module.master.db_instance_arn` → `module.master.aws_db_instance.this[0].arn`),
/// through nested modules' outputs.
fn output_reference(root: &Json, prefix: &str, output: &str, depth: usize) -> Option<String> {
    if depth > 16 {
        return None;
    }
    let module = module_at(root, &without_keys(prefix))?;
    let references = module.pointer(&format!("/outputs/{output}/expression/references"))?;
    references
        .as_array()?
        .iter()
        .filter_map(Json::as_str)
        .find_map(|r| resource_reference(root, prefix, r, depth + 1))
}

/// A reference as a resource address with `prefix`, following module outputs.
fn resource_reference(root: &Json, prefix: &str, reference: &str, depth: usize) -> Option<String> {
    if depth > 16 {
        return None;
    }
    let mut parts = reference.split('.');
    let first = parts.next()?;
    if first == "var" {
        // A module's variable: what its caller passed, resolved in the caller.
        let name = parts.next()?;
        let inner = prefix.strip_suffix('.')?;
        let (parent, call) = inner.rsplit_once(".module.").map_or_else(
            || inner.strip_prefix("module.").map(|c| ("", c)),
            |(p, c)| Some((p, c)),
        )?;
        let parent = if parent.is_empty() {
            String::new()
        } else {
            format!("{parent}.")
        };
        let call = call.split('[').next()?;
        let caller = module_at(root, &without_keys(&parent))?;
        let references = caller.pointer(&format!(
            "/module_calls/{call}/expressions/{name}/references"
        ))?;
        return references
            .as_array()?
            .iter()
            .filter_map(Json::as_str)
            .find_map(|r| resource_reference(root, &parent, r, depth + 1));
    }
    if first == "module" {
        let (call, output) = (parts.next()?, parts.next()?);
        let call = call.split('[').next()?;
        return output_reference(root, &format!("{prefix}module.{call}."), output, depth);
    }
    (!NOT_RESOURCES.contains(&first) && reference.contains('.'))
        .then(|| format!("{prefix}{reference}"))
}

/// Resolves `after_unknown` attributes of `resource` with what its
/// configuration wrote (top-level attributes only: blocks are left as planned);
/// `root` is the configuration's root module, to follow module outputs.
pub fn refine(resource: &mut Resource, expressions: &Json, root: &Json) {
    let prefix = module_prefix(resource).to_string();
    // In a module: the variable each top-level attribute reads (for fixes that name inputs).
    if !prefix.is_empty()
        && let Some(written) = expressions.as_object()
    {
        for (path, expression) in written {
            let vars: Vec<&str> = expression["references"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .filter_map(|r| r.strip_prefix("var."))
                .map(|name| name.split(['.', '[']).next().unwrap_or(name))
                .collect();
            if let [name] = vars.as_slice() {
                resource.inputs.insert(path.clone(), name.to_string());
            }
        }
    }
    let open: Vec<String> = resource
        .unresolved
        .iter()
        .filter(|(_, why)| why.as_str() == AFTER_APPLY)
        .map(|(path, _)| path.clone())
        .collect();
    for path in open {
        match written_at(expressions, &path) {
            Written::Unknown => {}
            Written::No => {
                resource.unresolved.remove(&path);
            }
            Written::Yes(written) => {
                let reference = written["references"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Json::as_str)
                    .find_map(|r| resource_reference(root, &prefix, r, 0));
                if let Some(reference) = reference {
                    resource.unresolved.insert(path, reference);
                }
            }
        }
    }
}

/// What the configuration wrote at an attribute path.
enum Written<'a> {
    /// This expression.
    Yes(&'a Json),
    /// Nothing: its block is written without it.
    No,
    /// Cannot tell: a block on the way is not in the configuration, and may
    /// come from a `dynamic` block (Terraform's JSON configuration leaves those out).
    Unknown,
}

/// The expression written at `settings.ip_configuration.ssl_mode` (blocks are
/// lists of objects in the configuration, entered at their first occurrence).
fn written_at<'a>(expressions: &'a Json, path: &str) -> Written<'a> {
    let mut node = expressions;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let Some(next) = node.get(part) else {
            return if parts.peek().is_none() {
                Written::No
            } else {
                Written::Unknown
            };
        };
        if parts.peek().is_none() {
            return Written::Yes(next);
        }
        node = match next {
            Json::Array(blocks) => match blocks.first() {
                Some(first) => first,
                None => return Written::Unknown,
            },
            other => other,
        };
    }
    Written::Unknown
}

/// The parameter-group attributes of the RDS resources, and the group type each names.
const GROUP_ATTRIBUTES: [(&str, &str); 3] = [
    ("parameter_group_name", "aws_db_parameter_group"),
    ("db_parameter_group_name", "aws_db_parameter_group"),
    (
        "db_cluster_parameter_group_name",
        "aws_rds_cluster_parameter_group",
    ),
];

/// A parameter group passed through a module's `locals` (terraform-aws-modules/rds:
/// `local.parameter_group_name_id`, a `name_prefix` group of a child module):
/// Terraform's JSON configuration leaves locals out, so the references stop
/// there. The group is then the only one of its type that the enclosing
/// module creates — looked for from the resource's own module outwards, and
/// only inside a module (never a guess among a root's groups); two candidates
/// at the nearest level leave it unknown.
pub fn link_module_groups(resources: &mut [Resource]) {
    let groups: Vec<(String, String)> = resources
        .iter()
        .filter(|r| GROUP_ATTRIBUTES.iter().any(|(_, kind)| *kind == r.kind))
        .map(|r| (r.kind.clone(), r.address.clone()))
        .collect();
    for resource in resources.iter_mut() {
        for (path, kind) in GROUP_ATTRIBUTES {
            if resource.unresolved.get(path).map(String::as_str) != Some(AFTER_APPLY) {
                continue;
            }
            let mut prefix = module_prefix(resource).to_string();
            while !prefix.is_empty() {
                let candidates: Vec<&String> = groups
                    .iter()
                    .filter(|(k, address)| k == kind && address.starts_with(&prefix))
                    .map(|(_, address)| address)
                    .collect();
                match candidates.as_slice() {
                    [only] => {
                        resource
                            .unresolved
                            .insert(path.to_string(), (*only).clone());
                        break;
                    }
                    [] => {}
                    _ => break,
                }
                // One module up: `module.a.module.b.` → `module.a.`.
                let inner = prefix.trim_end_matches('.');
                prefix = match inner.rfind(".module.") {
                    Some(at) => inner[..=at].to_string(),
                    None => String::new(),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_replica_by_arn_follows_the_source_module_outputs_to_the_instance() {
        let root = json!({"module_calls": {
            "replica": {
                "expressions": {"replicate_source_db": {"references": ["module.master.db_instance_arn", "module.master"]}},
                "module": {"module_calls": {"db_instance": {
                    "expressions": {"replicate_source_db": {"references": ["var.replicate_source_db"]}},
                    "module": {}
                }}}
            },
            "master": {"module": {
                "outputs": {"db_instance_arn": {"expression": {"references": ["module.db_instance.db_instance_arn", "module.db_instance"]}}},
                "module_calls": {"db_instance": {"module": {
                    "outputs": {"db_instance_arn": {"expression": {"references": ["aws_db_instance.this[0].arn", "aws_db_instance.this[0]", "aws_db_instance.this"]}}}
                }}}
            }}
        }});
        let mut replica = Resource {
            address: "module.replica.module.db_instance.aws_db_instance.this[0]".into(),
            kind: "aws_db_instance".into(),
            file: "plan.json".into(),
            line: None,
            values: json!({}),
            unresolved: [("replicate_source_db".to_string(), AFTER_APPLY.to_string())].into(),
            defaults: BTreeMap::new(),
            inputs: BTreeMap::new(),
        };
        // In the root: `replicate_source_db = module.master.db_instance_arn`, passed down by variables.
        let at_root = resource_reference(&root, "", "module.master.db_instance_arn", 0);
        assert_eq!(
            at_root.as_deref(),
            Some("module.master.module.db_instance.aws_db_instance.this[0].arn")
        );
        refine(
            &mut replica,
            &json!({"replicate_source_db": {"references": ["var.replicate_source_db"]}}),
            &root,
        );
        assert_eq!(
            replica.unresolved["replicate_source_db"],
            "module.master.module.db_instance.aws_db_instance.this[0].arn",
            "through the variables of both calls, then the outputs of the source's modules"
        );
    }

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
            inputs: BTreeMap::new(),
        };
        refine(
            &mut member,
            &json!({
                "cluster_identifier": {"references": ["aws_rds_cluster.this[0].id", "aws_rds_cluster.this[0]", "aws_rds_cluster.this"]},
                "db_parameter_group_name": {"references": ["var.db_parameter_group_name"]}
            }),
            &json!({}),
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
    #[test]
    fn a_group_behind_a_local_is_the_only_one_its_module_creates() {
        let resource = |address: &str, kind: &str, unresolved: &[(&str, &str)]| Resource {
            address: address.into(),
            kind: kind.into(),
            file: "plan.json".into(),
            line: None,
            values: json!({}),
            unresolved: unresolved
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            defaults: BTreeMap::new(),
            inputs: BTreeMap::new(),
        };
        let mut resources = vec![
            resource(
                "module.db.module.db_instance.aws_db_instance.this[0]",
                "aws_db_instance",
                &[("parameter_group_name", AFTER_APPLY)],
            ),
            resource(
                "module.db.module.db_parameter_group.aws_db_parameter_group.this[0]",
                "aws_db_parameter_group",
                &[],
            ),
            resource(
                "aws_db_instance.root",
                "aws_db_instance",
                &[("parameter_group_name", AFTER_APPLY)],
            ),
            resource("aws_db_parameter_group.a", "aws_db_parameter_group", &[]),
        ];
        link_module_groups(&mut resources);
        assert_eq!(
            resources[0].unresolved["parameter_group_name"],
            "module.db.module.db_parameter_group.aws_db_parameter_group.this[0]"
        );
        // At the root nothing is guessed.
        assert_eq!(resources[2].unresolved["parameter_group_name"], AFTER_APPLY);
        // Two groups in the module: ambiguous, left unknown.
        resources[0]
            .unresolved
            .insert("parameter_group_name".into(), AFTER_APPLY.into());
        resources.push(resource(
            "module.db.aws_db_parameter_group.other",
            "aws_db_parameter_group",
            &[],
        ));
        link_module_groups(&mut resources);
        assert_eq!(resources[0].unresolved["parameter_group_name"], AFTER_APPLY);
    }
}
