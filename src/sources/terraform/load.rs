//! Reading a Terraform target: `.tf` files (one file, or every `.tf` file of
//! a directory, as Terraform reads a module) or the JSON `terraform show -json`
//! prints for a plan or a state.
//!
//! `.tf` files are evaluated with the modules they call ([`super::modules`]):
//! variable values come from `terraform.tfvars` and `*.auto.tfvars` (later
//! files win), else the variable's default; what does not resolve is recorded
//! as unresolved with its expression.

use super::model::{Configuration, Resource};
use super::{modules, plan_config, plan_locations};
use hcl::eval::{Context, Evaluate};
use hcl::{Body, Structure};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::path::Path;

/// Why a Terraform target could not be read: what, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

/// Reads a `.tf` file, a directory of them, or `terraform show -json` output.
pub fn load(path: &Path) -> Result<Configuration, LoadError> {
    let shown = path.display();
    if path.is_dir() {
        let mut files = list(path, |name| name.ends_with(".tf"))?;
        if files.is_empty() {
            return Err(LoadError(format!(
                "{shown} holds no .tf file: point at a Terraform module directory, a .tf file, or `terraform show -json PLAN` output"
            )));
        }
        files.sort();
        return from_files(path, &files);
    }
    let text = std::fs::read_to_string(path).map_err(|err| {
        if err.kind() == std::io::ErrorKind::InvalidData {
            // A saved plan (`terraform plan -out`) is a binary (zip) file.
            LoadError(format!(
                "{shown} is not text (a binary plan saved by `terraform plan -out`?): convert it with `terraform show -json {shown} > plan.json` and audit plan.json"
            ))
        } else {
            LoadError(format!("cannot read {shown}: {err}"))
        }
    })?;
    let name = path
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    if name.ends_with(".json") || text.trim_start().starts_with('{') {
        let mut config = from_json(&name, &text)?;
        if let Ok(doc) = serde_json::from_str::<Json>(&text) {
            let addresses: Vec<String> =
                config.resources.iter().map(|r| r.address.clone()).collect();
            config.locations = plan_locations::locate(path, &text, &doc, &addresses);
        }
        return Ok(config);
    }
    if name.ends_with(".tf") {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        return from_files(dir, &[path.to_path_buf()]);
    }
    Err(LoadError(format!(
        "{shown} is neither a .tf file nor JSON: audit a .tf file, a directory of them, or the output of `terraform show -json PLAN`"
    )))
}

fn list(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<std::path::PathBuf>, LoadError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| LoadError(format!("cannot read directory {}: {err}", dir.display())))?;
    let mut found: Vec<_> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| keep(&n.to_string_lossy())))
        .collect();
    found.sort();
    Ok(found)
}

pub(super) fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path)
        .map_err(|err| LoadError(format!("cannot read {}: {err}", path.display())))
}

fn from_files(dir: &Path, files: &[std::path::PathBuf]) -> Result<Configuration, LoadError> {
    let mut sources = Vec::new();
    for file in files {
        sources.push((file.display().to_string(), read(file)?));
    }
    let mut tfvars = Vec::new();
    let var_files = list(dir, |n| {
        n == "terraform.tfvars" || n.ends_with(".auto.tfvars")
    })?;
    // terraform.tfvars first, then *.auto.tfvars in lexical order: later wins.
    let (main, auto): (Vec<_>, Vec<_>) = var_files
        .into_iter()
        .partition(|p| p.file_name().is_some_and(|n| n == "terraform.tfvars"));
    for file in main.into_iter().chain(auto) {
        tfvars.push((file.display().to_string(), read(&file)?));
    }
    evaluate(Some(dir.to_path_buf()), &sources, &tfvars)
}

/// Parses HCL text, the error naming the file, line and column. A UTF-8
/// byte-order mark is skipped, as Terraform skips it.
pub(super) fn parse(name: &str, text: &str) -> Result<Body, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    hcl::parse(text).map_err(|err| {
        let hint = if text.contains(['“', '”']) {
            " (it contains typographic quotes “ ”: HCL strings use straight quotes \")"
        } else {
            ""
        };
        LoadError(format!("{name}: not valid HCL: {err}{hint}"))
    })
}

/// The configuration in `.tf` sources (name, text) of one module, with
/// variable values from `tfvars`; module calls are read only with a folder.
pub fn from_hcl(
    sources: &[(String, String)],
    tfvars: &[(String, String)],
) -> Result<Configuration, LoadError> {
    evaluate(None, sources, tfvars)
}

fn evaluate(
    dir: Option<std::path::PathBuf>,
    sources: &[(String, String)],
    tfvars: &[(String, String)],
) -> Result<Configuration, LoadError> {
    let mut inputs = Map::new();
    for (name, text) in tfvars {
        for structure in parse(name, text)?.into_iter() {
            if let Structure::Attribute(attr) = structure
                && let Ok(value) = attr.expr.evaluate(&Context::new())
                && let Ok(value) = serde_json::to_value(value)
            {
                inputs.insert(attr.key.to_string(), value);
            }
        }
    }
    let evaluated = modules::evaluate(modules::Module {
        dir,
        sources: sources.to_vec(),
        inputs,
        unresolved_inputs: BTreeMap::new(),
        defaulted_inputs: BTreeMap::new(),
        input_refs: BTreeMap::new(),
    })?;
    let mut read = evaluated.read;
    read.extend(tfvars.iter().map(|(name, _)| name.clone()));
    Ok(Configuration {
        resources: evaluated.resources,
        read,
        skipped: evaluated.skipped,
        locations: BTreeMap::new(),
    })
}

/// `terraform show -json` output: a plan (`planned_values`, with what is known
/// only after apply in `resource_changes[].change.after_unknown`) or a state (`values`).
pub fn from_json(name: &str, text: &str) -> Result<Configuration, LoadError> {
    let doc: Json = serde_json::from_str(text).map_err(|err| {
        LoadError(format!(
            "{name}: not valid JSON (line {}, column {}): {err}",
            err.line(),
            err.column()
        ))
    })?;
    let root = doc
        .pointer("/planned_values/root_module")
        .or_else(|| doc.pointer("/values/root_module"))
        .ok_or_else(|| {
            LoadError(format!(
                "{name} is JSON but not `terraform show -json` output (no planned_values.root_module or values.root_module): run `terraform plan -out=plan.tfplan && terraform show -json plan.tfplan > plan.json`"
            ))
        })?;
    let mut after_unknown = BTreeMap::new();
    for change in doc["resource_changes"].as_array().into_iter().flatten() {
        if let (Some(address), Some(unknown)) = (
            change["address"].as_str(),
            change.pointer("/change/after_unknown"),
        ) {
            after_unknown.insert(address.to_string(), unknown.clone());
        }
    }
    let mut resources = Vec::new();
    collect_module(root, name, &after_unknown, Read::Planned, &mut resources);
    // Data sources Terraform read while planning are in the prior state only.
    if let Some(prior) = doc.pointer("/prior_state/values/root_module") {
        collect_module(
            prior,
            name,
            &BTreeMap::new(),
            Read::DataOnly,
            &mut resources,
        );
    }
    let written = plan_config::expressions(&doc);
    let config_root = doc
        .pointer("/configuration/root_module")
        .cloned()
        .unwrap_or_default();
    for resource in &mut resources {
        if let Some(expressions) = written.get(&plan_config::without_keys(&resource.address)) {
            plan_config::refine(resource, expressions, &config_root);
        }
    }
    plan_config::link_module_groups(&mut resources);
    let version = doc["format_version"].as_str().unwrap_or("?");
    Ok(Configuration {
        resources,
        read: vec![format!("{name} (terraform show -json, format {version})")],
        skipped: Vec::new(),
        locations: BTreeMap::new(),
    })
}

/// Which resources of a module's values to read.
#[derive(Clone, Copy, PartialEq)]
enum Read {
    /// The planned values: managed resources and deferred data sources.
    Planned,
    /// The prior state: only the data sources read while planning (its managed
    /// resources are what exists, not what the plan makes).
    DataOnly,
}

fn collect_module(
    module: &Json,
    file: &str,
    after_unknown: &BTreeMap<String, Json>,
    read: Read,
    into: &mut Vec<Resource>,
) {
    for resource in module["resources"].as_array().into_iter().flatten() {
        let (Some(address), Some(kind)) = (resource["address"].as_str(), resource["type"].as_str())
        else {
            continue;
        };
        // Managed resources, and the `google_project` data sources a budget names projects by.
        let wanted = match resource["mode"].as_str() {
            Some("managed") => read == Read::Planned,
            Some("data") => kind == modules::DATA_PROJECT,
            _ => false,
        };
        if !wanted || into.iter().any(|r| r.address == address) {
            continue;
        }
        let mut unresolved = BTreeMap::new();
        if let Some(unknown) = after_unknown.get(address) {
            unknown_paths(unknown, "", &mut unresolved);
        }
        let mut values = resource["values"].clone();
        if let Some(sensitive) = resource.get("sensitive_values") {
            drop_sensitive(&mut values, sensitive);
        }
        into.push(Resource {
            address: address.to_string(),
            kind: kind.to_string(),
            file: file.to_string(),
            line: None,
            values,
            unresolved,
            defaults: BTreeMap::new(),
            inputs: BTreeMap::new(),
        });
    }
    for child in module["child_modules"].as_array().into_iter().flatten() {
        collect_module(child, file, after_unknown, read, into);
    }
}

/// `after_unknown` marks with `true` what is known only after apply; list
/// indices other than the first are ignored (blocks are read at index 0).
fn unknown_paths(node: &Json, prefix: &str, into: &mut BTreeMap<String, String>) {
    match node {
        Json::Bool(true) if !prefix.is_empty() => {
            into.insert(prefix.to_string(), "known after apply".to_string());
        }
        Json::Object(fields) => {
            for (key, value) in fields {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                unknown_paths(value, &path, into);
            }
        }
        Json::Array(items) => {
            if let Some(first) = items.first() {
                unknown_paths(first, prefix, into);
            }
        }
        _ => {}
    }
}

/// Removes what Terraform marks sensitive (`sensitive_values`: `true` leaves).
fn drop_sensitive(values: &mut Json, sensitive: &Json) {
    match (values, sensitive) {
        (Json::Object(fields), Json::Object(marks)) => {
            for (key, mark) in marks {
                if mark == &Json::Bool(true) {
                    fields.insert(key.clone(), Json::String("(sensitive)".into()));
                } else if let Some(inner) = fields.get_mut(key) {
                    drop_sensitive(inner, mark);
                }
            }
        }
        (Json::Array(items), Json::Array(marks)) => {
            for (item, mark) in items.iter_mut().zip(marks) {
                drop_sensitive(item, mark);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::terraform::model::Attr;
    use serde_json::json;

    fn hcl(text: &str) -> Configuration {
        from_hcl(&[("main.tf".into(), text.into())], &[]).unwrap()
    }

    #[test]
    fn literals_variables_and_locals_are_evaluated_the_rest_is_unresolved() {
        let config = from_hcl(
            &[(
                "main.tf".into(),
                r#"
variable "tier" { default = "db-f1-micro" }
variable "vpc_id" {}
variable "ha" { default = "ZONAL" }
locals {
  retained = local.base * 2
  base     = 15
}
resource "google_sql_database_instance" "db" {
  name             = replace("shortener-${var.tier}", "_", "-")
  database_version = "POSTGRES_13"
  settings {
    tier              = var.tier
    availability_type = var.ha
    backup_configuration {
      enabled = true
      backup_retention_settings { retained_backups = local.retained }
    }
    ip_configuration {
      ipv4_enabled    = false
      private_network = var.vpc_id
    }
  }
}
"#
                .into(),
            )],
            &[("terraform.tfvars".into(), "ha = \"REGIONAL\"\n".into())],
        )
        .unwrap();
        let db = &config.resources[0];
        assert_eq!(db.address, "google_sql_database_instance.db");
        assert_eq!(db.line, Some(9), "the line of its resource block");
        assert_eq!(db.string("settings.tier"), Some("db-f1-micro"));
        assert_eq!(
            db.string("settings.availability_type"),
            Some("REGIONAL"),
            "tfvars win over defaults"
        );
        assert_eq!(
            db.attr("settings.backup_configuration.backup_retention_settings.retained_backups"),
            Attr::Set(&json!(30))
        );
        assert_eq!(
            db.attr("settings.ip_configuration.private_network"),
            Attr::Unresolved("var.vpc_id")
        );
        assert!(matches!(db.attr("name"), Attr::Unresolved(e) if e.starts_with("replace(")));
    }

    #[test]
    fn dynamic_blocks_are_unresolved_and_count_zero_plans_nothing() {
        let config = hcl(r#"
resource "aws_db_instance" "off" {
  count  = 0
  engine = "postgres"
}
resource "aws_db_instance" "on" {
  engine = "postgres"
  dynamic "blue_green_update" {
    for_each = var.switches
    content { enabled = true }
  }
}
"#);
        assert_eq!(config.resources.len(), 1);
        assert_eq!(
            config.resources[0].attr("blue_green_update.enabled"),
            Attr::Unresolved("dynamic \"blue_green_update\" block")
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_a_binary_plan_says_how_to_convert_it() {
        let config =
            hcl("\u{feff}resource \"aws_db_instance\" \"a\" {\n  engine = \"postgres\"\n}\n");
        assert_eq!(config.resources[0].string("engine"), Some("postgres"));
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.tfplan");
        std::fs::write(&plan, b"PK\x03\x04\xff\xfe\x00binary").unwrap();
        let err = load(&plan).unwrap_err();
        assert!(err.0.contains("terraform show -json"), "{err}");
    }

    #[test]
    fn bad_hcl_names_the_file_and_position_and_typographic_quotes() {
        let err = from_hcl(&[("db.tf".into(), "variable “region” {\n".into())], &[]).unwrap_err();
        assert!(err.0.starts_with("db.tf: not valid HCL"), "{err}");
        assert!(err.0.contains("typographic quotes"), "{err}");
    }

    #[test]
    fn plan_json_reads_planned_values_unknowns_and_hides_sensitive_values() {
        let plan = json!({
            "format_version": "1.2",
            "planned_values": {"root_module": {
                "resources": [{
                    "address": "aws_db_instance.main", "mode": "managed",
                    "type": "aws_db_instance", "name": "main",
                    "values": {"engine": "postgres", "password": "hunter2", "multi_az": true},
                    "sensitive_values": {"password": true}
                }, {
                    "address": "data.aws_caller_identity.me", "mode": "data",
                    "type": "aws_caller_identity", "name": "me", "values": {}
                }],
                "child_modules": [{"address": "module.db", "resources": [{
                    "address": "module.db.google_sql_database_instance.this", "mode": "managed",
                    "type": "google_sql_database_instance", "name": "this",
                    "values": {"settings": [{"ip_configuration": [{"ipv4_enabled": false}]}]}
                }]}]
            }},
            "resource_changes": [{
                "address": "module.db.google_sql_database_instance.this",
                "change": {"after_unknown": {"settings": [{"ip_configuration": [{"private_network": true}]}]}}
            }]
        });
        let config = from_json("plan.json", &plan.to_string()).unwrap();
        assert_eq!(config.resources.len(), 2);
        let aws = &config.resources[0];
        assert_eq!(aws.values["password"], "(sensitive)");
        assert_eq!(aws.attr("multi_az"), Attr::Set(&json!(true)));
        let google = &config.resources[1];
        assert_eq!(
            google.address,
            "module.db.google_sql_database_instance.this"
        );
        assert_eq!(
            google.attr("settings.ip_configuration.private_network"),
            Attr::Unresolved("known after apply")
        );
        let err = from_json("x.json", "{\"a\": 1}").unwrap_err();
        assert!(err.0.contains("terraform show -json"), "{err}");
    }
}
