//! Where a planned resource is declared, for SARIF and the JSON report.
//!
//! A plan (`terraform show -json`) names resources by address but keeps no
//! file or line. It is usually written beside the root module it plans
//! (`terraform show -json plan.tfplan > plan.json`), so a resource's block is
//! looked for in the `.tf` files of the plan's directory, and a module's
//! resource in the module's directory: the `source` of a local module call in
//! the plan's `configuration` section, or the directory `terraform init`
//! recorded in `.terraform/modules/modules.json`. A resource found nowhere
//! points at the plan file itself, at the line of its address.

use crate::facts::snapshot::Location;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Address → where it is declared, for every resource address in `addresses`.
pub fn locate(
    plan: &Path,
    text: &str,
    doc: &Json,
    addresses: &[String],
) -> BTreeMap<String, Location> {
    let root = plan
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let installed = installed_modules(root);
    let mut cache: BTreeMap<PathBuf, Vec<(String, String)>> = BTreeMap::new();
    addresses
        .iter()
        .map(|address| {
            let found = declared(root, doc, &installed, address, &mut cache);
            let location = found.unwrap_or_else(|| Location {
                file: plan.display().to_string(),
                line: address_line(text, address),
            });
            (address.clone(), location)
        })
        .collect()
}

/// `module.a[0].module.b.aws_db_instance.this["x"]` → (["a", "b"], "aws_db_instance", "this").
fn split(address: &str) -> Option<(Vec<String>, String, String)> {
    let mut parts = Vec::new();
    // Split on dots outside brackets.
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in address.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => {
                parts.push(&address[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&address[start..]);
    let strip = |p: &str| p.split('[').next().unwrap_or(p).to_string();
    let mut modules = Vec::new();
    let mut i = 0;
    while i + 1 < parts.len() && parts[i] == "module" {
        modules.push(strip(parts[i + 1]));
        i += 2;
    }
    match &parts[i..] {
        [kind, name] => Some((modules, kind.to_string(), strip(name))),
        _ => None,
    }
}

/// `.terraform/modules/modules.json`: module key (`db.db_instance`) → directory.
fn installed_modules(root: &Path) -> BTreeMap<String, PathBuf> {
    let path = root.join(".terraform/modules/modules.json");
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeMap::new();
    };
    let Ok(doc) = serde_json::from_str::<Json>(&text) else {
        return BTreeMap::new();
    };
    doc["Modules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some((
                m["Key"].as_str()?.to_string(),
                root.join(m["Dir"].as_str()?),
            ))
        })
        .collect()
}

/// The directory of the module `modules` (call names from the root).
fn module_dir(
    root: &Path,
    doc: &Json,
    installed: &BTreeMap<String, PathBuf>,
    modules: &[String],
) -> Option<PathBuf> {
    if modules.is_empty() {
        return Some(root.to_path_buf());
    }
    if let Some(dir) = installed.get(&modules.join(".")) {
        return Some(dir.clone());
    }
    // A local module call: its source, relative to the calling module.
    let mut dir = root.to_path_buf();
    let mut module = doc.pointer("/configuration/root_module")?;
    for name in modules {
        let call = module.pointer(&format!("/module_calls/{name}"))?;
        let source = call["source"].as_str()?;
        if !(source.starts_with("./") || source.starts_with("../")) {
            return None;
        }
        dir = dir.join(source);
        module = call.get("module")?;
    }
    Some(dir)
}

fn declared(
    root: &Path,
    doc: &Json,
    installed: &BTreeMap<String, PathBuf>,
    address: &str,
    cache: &mut BTreeMap<PathBuf, Vec<(String, String)>>,
) -> Option<Location> {
    let (modules, kind, name) = split(address)?;
    let dir = module_dir(root, doc, installed, &modules)?;
    let files = cache.entry(dir.clone()).or_insert_with(|| tf_files(&dir));
    files.iter().find_map(|(file, text)| {
        block_line(text, &kind, &name).map(|line| Location {
            file: file.clone(),
            line,
        })
    })
}

/// The `.tf` files of a directory, sorted, with their text.
fn tf_files(dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf") && p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            Some((normalize(&p), text))
        })
        .collect()
}

/// A path without `./` segments and with `dir/../` folded, as a report shows it.
fn normalize(path: &Path) -> String {
    let mut parts: Vec<std::ffi::OsString> = Vec::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if parts.last().is_some_and(|p| p != "..") => {
                parts.pop();
            }
            other => parts.push(other.as_os_str().to_os_string()),
        }
    }
    let joined: PathBuf = parts.iter().collect();
    joined.display().to_string()
}

/// The line of `resource "KIND" "NAME"` (`{` may follow on the same line).
fn block_line(text: &str, kind: &str, name: &str) -> Option<usize> {
    let (kind, name) = (format!("\"{kind}\""), format!("\"{name}\""));
    text.trim_start_matches('\u{feff}')
        .lines()
        .position(|line| {
            let mut words = line.split_whitespace();
            words.next() == Some("resource")
                && words.next() == Some(&kind)
                && words.next().map(|w| w.trim_end_matches('{')) == Some(&name)
        })
        .map(|index| index + 1)
}

/// The line where the plan first names `address` (`"address": "…"`); 1 when
/// it cannot be found (`terraform show -json` writes one line).
fn address_line(text: &str, address: &str) -> usize {
    let quoted = serde_json::to_string(address).unwrap_or_default();
    text.lines()
        .position(|line| line.contains("\"address\"") && line.contains(&quoted))
        .map_or(1, |index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_modules_type_and_name() {
        assert_eq!(
            split("module.db[0].module.db_instance.aws_db_instance.this[\"a.b\"]"),
            Some((
                vec!["db".to_string(), "db_instance".to_string()],
                "aws_db_instance".to_string(),
                "this".to_string()
            ))
        );
        assert_eq!(
            split("aws_rds_cluster.main"),
            Some((Vec::new(), "aws_rds_cluster".into(), "main".into()))
        );
        assert_eq!(split("module.x"), None);
    }

    #[test]
    fn a_resource_block_is_found_by_type_and_name() {
        let text = "variable \"x\" {}\n\nresource \"aws_db_instance\" \"main\"{\n}\nresource \"aws_db_instance\" \"main_replica\" {\n";
        assert_eq!(block_line(text, "aws_db_instance", "main"), Some(3));
        assert_eq!(block_line(text, "aws_db_instance", "main_replica"), Some(5));
        assert_eq!(block_line(text, "aws_rds_cluster", "main"), None);
    }

    #[test]
    fn the_plan_line_of_an_address() {
        let text = "{\n \"planned_values\": {\n  \"address\": \"aws_db_instance.a[\\\"k\\\"]\",\n";
        assert_eq!(address_line(text, "aws_db_instance.a[\"k\"]"), 3);
        assert_eq!(address_line(text, "aws_db_instance.b"), 1);
    }

    #[test]
    fn paths_are_shown_without_dot_segments() {
        assert_eq!(
            normalize(Path::new("./infra/./modules/../main.tf")),
            "infra/main.tf"
        );
    }
}
