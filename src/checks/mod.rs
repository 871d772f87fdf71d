//! Checks are data: one TOML file per check (metadata, a CEL condition over
//! the facts, examples). The built-in ones are compiled into the binary;
//! `--checks-dir` adds a team's own.

pub mod cel;
pub mod docs;
pub mod eval;
pub mod lint;
pub mod load;
pub mod model;
pub mod query;
pub mod thresholds;

use eval::CompiledCheck;
use include_dir::{Dir, include_dir};
use load::Diagnostic;
use std::collections::BTreeSet;
use std::path::Path;

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/checks");

/// The checks of a run, in checklist order.
#[derive(Debug)]
pub struct Catalog {
    pub checks: Vec<CompiledCheck>,
}

/// Why the checks could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("invalid check file(s):\n{}", join(.0))]
    Invalid(Vec<Diagnostic>),
    #[error("cannot read checks directory {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

fn join(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("  {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Catalog {
    /// The built-in checks plus, if given, every `*.toml` under `extra`.
    ///
    /// A team's checks are linted (paths, functions, their own examples) before
    /// use; the built-in ones were linted by the test suite when the binary was
    /// built, so a run only parses and compiles them.
    pub fn load(extra: Option<&Path>) -> Result<Catalog, CatalogError> {
        let mut files: Vec<(String, String, bool)> = builtin_files()
            .into_iter()
            .map(|(name, contents)| (name, contents, false))
            .collect();
        if let Some(dir) = extra {
            files.extend(read_dir(dir)?.into_iter().map(|(n, c)| (n, c, true)));
        }
        Catalog::from_sources(&files)
    }

    /// Parses, lints and compiles check files given as (name, contents).
    pub fn from_files(files: &[(String, String)]) -> Result<Catalog, CatalogError> {
        let files: Vec<(String, String, bool)> = files
            .iter()
            .map(|(name, contents)| (name.clone(), contents.clone(), true))
            .collect();
        Catalog::from_sources(&files)
    }

    /// Parses and compiles (name, contents, lint?) files.
    fn from_sources(files: &[(String, String, bool)]) -> Result<Catalog, CatalogError> {
        let mut problems = Vec::new();
        let mut checks = Vec::new();
        let mut ids = BTreeSet::new();
        for (name, contents, verify) in files {
            let source = match load::parse(name, contents) {
                Ok(source) => source,
                Err(found) => {
                    problems.extend(found);
                    continue;
                }
            };
            let found = if *verify {
                lint::lint(&source)
            } else {
                Vec::new()
            };
            if !found.is_empty() {
                problems.extend(found);
                continue;
            }
            if !ids.insert(source.check.id.clone()) {
                problems.push(
                    source.diagnostic(0, format!("duplicate check id '{}'", source.check.id)),
                );
                continue;
            }
            match CompiledCheck::compile(source.check) {
                Ok(compiled) => checks.push(compiled),
                Err(message) => problems.push(Diagnostic {
                    file: name.clone(),
                    line: 1,
                    column: 1,
                    message,
                }),
            }
        }
        if !problems.is_empty() {
            return Err(CatalogError::Invalid(problems));
        }
        checks.sort_by(|a, b| (a.check.item, &a.check.id).cmp(&(b.check.item, &b.check.id)));
        Ok(Catalog { checks })
    }

    pub fn get(&self, id: &str) -> Option<&CompiledCheck> {
        self.checks.iter().find(|c| c.check.id == id)
    }

    /// Keeps only the checks `keep` accepts (check selection of `sqlready.toml`).
    pub fn retain(&mut self, keep: impl Fn(&model::Check) -> bool) {
        self.checks.retain(|compiled| keep(&compiled.check));
    }

    /// Overrides the severity of every check whose id `matches`.
    pub fn set_severity(&mut self, matches: impl Fn(&str) -> bool, severity: model::Severity) {
        for compiled in &mut self.checks {
            if matches(&compiled.check.id) {
                std::sync::Arc::make_mut(&mut compiled.check).severity = severity;
            }
        }
    }
}

/// The built-in check files, as (name, contents).
pub fn builtin_files() -> Vec<(String, String)> {
    let mut files = Vec::new();
    collect_builtin(&BUILTIN, &mut files);
    files.sort();
    files
}

fn collect_builtin(dir: &Dir<'static>, files: &mut Vec<(String, String)>) {
    for file in dir.files() {
        if file.path().extension().is_some_and(|e| e == "toml")
            && let Some(text) = file.contents_utf8()
        {
            files.push((
                format!("checks/{}", file.path().display()),
                text.to_string(),
            ));
        }
    }
    for sub in dir.dirs() {
        collect_builtin(sub, files);
    }
}

fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, CatalogError> {
    let read_error = |source| CatalogError::Read {
        path: dir.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).map_err(read_error)? {
            let path = entry.map_err(read_error)?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                let contents =
                    std::fs::read_to_string(&path).map_err(|source| CatalogError::Read {
                        path: path.display().to_string(),
                        source,
                    })?;
                files.push((path.display().to_string(), contents));
            }
        }
    }
    files.sort();
    Ok(files)
}
