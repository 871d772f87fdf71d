//! Runs the real `sqlready` binary, as a user would.
#![allow(dead_code)]

use serde_json::Value;
use std::process::Command;

/// What one run printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!(
                "stdout is not JSON ({err}); exit {}\nstdout:\n{}\nstderr:\n{}",
                self.code, self.stdout, self.stderr
            )
        })
    }
}

/// `sqlready ARGS…` with a clean environment for the variables it reads.
pub fn sqlready(args: &[&str]) -> Run {
    sqlready_with_env(args, &[])
}

pub fn sqlready_with_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    run_binary(None, args, env)
}

/// `sqlready ARGS…` run in `dir` (where it looks for ./sqlready.toml).
pub fn sqlready_in(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_binary(Some(dir), args, env)
}

/// The binary with every variable it reads from the caller's environment
/// removed, then `env` set.
fn run_binary(dir: Option<&std::path::Path>, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sqlready"));
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    for var in [
        "PGPASSWORD",
        "PGUSER",
        "PGHOST",
        "PGPORT",
        "PGDATABASE",
        "PGSSLMODE",
        "MYSQL_PWD",
        "RUST_LOG",
        "NO_COLOR",
        "SQLREADY_CONFIG",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("run the sqlready binary");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The one target of a JSON report.
pub fn only_target(report: &Value) -> &Value {
    let targets = report["targets"].as_array().expect("targets array");
    assert_eq!(targets.len(), 1, "expected one target: {report:#}");
    &targets[0]
}

/// The status of a checklist item.
pub fn item<'a>(target: &'a Value, key: &str) -> &'a str {
    target["items"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no item {key} in {:#}", target["items"]))
}

/// The finding of a check.
pub fn finding<'a>(target: &'a Value, check: &str) -> &'a Value {
    target["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no finding for {check} in {:#}", target["findings"]))
}

pub fn status<'a>(target: &'a Value, check: &str) -> &'a str {
    finding(target, check)["status"].as_str().expect("status")
}

/// Every file below `dir` (outputs and evidence bundles searched for secrets).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The text of every file under `dir` that `keep` keeps, run together: what
/// a run wrote, to search for secrets.
pub fn text_under(dir: &std::path::Path, keep: impl Fn(&std::path::Path) -> bool) -> String {
    files_under(dir)
        .iter()
        .filter(|file| keep(file))
        .filter_map(|file| std::fs::read_to_string(file).ok())
        .collect()
}

/// A JSON file, or null when it is missing or not JSON.
pub fn json_file_or_null(path: &std::path::Path) -> Value {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null)
}

/// What an audit run kept: its run, the text of every file it wrote that the
/// caller keeps (searched for secrets), and its saved facts.
pub struct Kept {
    pub run: Run,
    pub written: String,
    pub facts: Value,
}

/// `sqlready audit ARGS… --format json --save-facts facts.json --evidence
/// bundle`, run in `dir` (where its sqlready.toml is, if any) with `env`,
/// `HOME` set to `dir` (no profile of the machine's) and `NO_PROXY=*`: the
/// `--connect` tests' run, which writes everything a secret could leak into.
pub fn audit_keeping_everything(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, String)],
    keep: impl Fn(&std::path::Path) -> bool,
) -> Kept {
    let home = dir.display().to_string();
    let mut all: Vec<(&str, &str)> = vec![("HOME", home.as_str()), ("NO_PROXY", "*")];
    all.extend(env.iter().map(|(k, v)| (*k, v.as_str())));
    let mut command = vec!["audit"];
    command.extend_from_slice(args);
    command.extend([
        "--format",
        "json",
        "--save-facts",
        "facts.json",
        "--evidence",
        "bundle",
    ]);
    let run = sqlready_in(dir, &command, &all);
    Kept {
        written: text_under(dir, keep),
        facts: json_file_or_null(&dir.join("facts.json")),
        run,
    }
}

/// Asserts that every listed checklist item of a target has `expected` status.
pub fn assert_items(target: &Value, keys: &[&str], expected: &str) {
    for key in keys {
        assert_eq!(
            item(target, key),
            expected,
            "{} {key}: {:#}",
            target["id"],
            target["findings"]
        );
    }
}

/// What must be equal between the merged and the unsharded report: per
/// target (by id), its kind, error, items and each finding's verdict.
pub fn verdicts(report: &Value) -> std::collections::BTreeMap<String, Value> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            let findings: Vec<Value> = t["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(|f| serde_json::json!([f["check"], f["status"], f["detail"]]))
                .collect();
            let id = t["id"].as_str().expect("id").to_string();
            let verdict = serde_json::json!({
                "kind": t["kind"], "error": t["error"], "items": t["items"],
                "score": t["score"], "findings": findings,
            });
            (id, verdict)
        })
        .collect()
}
