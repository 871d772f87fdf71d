//! `sqlready.toml`: targets, thresholds, severity overrides, check selection
//! and waivers.
//!
//! Like cargo-deny, the file is *parsed* (TOML syntax, unknown keys, types —
//! every problem located by line and column), then *validated*: target URIs,
//! secrets, dates and ranges by [`Config::parse`]; everything that names a
//! check (severity overrides, selection, waivers) against the loaded catalog
//! by [`Config::apply`]. Secrets are only ever named (`password_env`), never
//! written in the file: a password in a URI is an error that says how to fix it.

use crate::checks::Catalog;
use crate::checks::load::{Diagnostic, position};
use crate::checks::model::Severity;
use crate::checks::thresholds::{ThresholdSet, Thresholds};
use crate::cli::FailOn;
use crate::report::waivers::{Waiver, glob_match};
use crate::target::{self, Kind, TargetError, TargetSpec};
use chrono::NaiveDate;
use clap::ValueEnum;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The file `audit` reads when no `--config` is given and it exists.
pub const DEFAULT_FILE: &str = "sqlready.toml";

/// Problems in a config file, each located.
#[derive(Debug)]
pub struct ConfigError(pub Vec<Diagnostic>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(
            f,
            "invalid configuration ({count} problem{}):",
            if count == 1 { "" } else { "s" }
        )?;
        for diagnostic in &self.0 {
            if diagnostic.line == 0 {
                write!(f, "\n  {}: {}", diagnostic.file, diagnostic.message)?;
            } else {
                write!(f, "\n  {diagnostic}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// `[audit]`: defaults for the command-line flags of the same names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditSettings {
    pub fail_on: Option<FailOn>,
    /// Resolved against the config file's directory.
    pub checks_dir: Option<PathBuf>,
    pub concurrency: Option<u16>,
    pub connect_timeout: Option<u64>,
    pub statement_timeout: Option<u64>,
    /// `resolve = ["HOST:PORT:ADDR", …]`: added to the `--resolve` rules.
    pub resolve: Vec<crate::target::Resolve>,
    /// `shard = "I/N"`: audit one slice of the fleet (`--shard` overrides it).
    pub shard: Option<crate::shard::Shard>,
}

/// One `[[targets]]` entry: a database, a cloud instance, or both for the same server.
#[derive(Debug, Clone)]
pub struct TargetEntry {
    /// The id the report uses: the cloud target's when there is one.
    pub id: String,
    pub database: Option<TargetSpec>,
    /// The environment variable holding the database password.
    pub password_env: Option<String>,
    pub cloud: Option<TargetSpec>,
    /// Thresholds this entry's targets are judged by instead of the run's
    /// (only the keys it sets; validated).
    pub thresholds: toml::Table,
    /// Line of the entry's `[[targets]]` header, for SARIF locations.
    pub line: usize,
    /// `connect = true` (with `connect_user`, `connect_password_env`,
    /// `connect_password_file`, `connect_ca_file`) on a cloud entry.
    pub connect: Option<crate::connect::Settings>,
    /// `restore_tested = YYYY-MM-DD`: the team's record of its last restore drill.
    pub restore_tested: Option<NaiveDate>,
}

/// A parsed, validated config file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The path as given (relative paths stay relative: SARIF locations use it).
    pub path: PathBuf,
    /// The file's exact text (copied into evidence bundles).
    pub text: String,
    pub audit: AuditSettings,
    pub targets: Vec<TargetEntry>,
    /// The run's thresholds and the per-target overrides of `[[targets]]` entries.
    pub thresholds: ThresholdSet,
    pub waivers: Vec<Waiver>,
    /// `[checks.allow_functions]`, lower-cased.
    pub allow_functions: crate::checks::query::Allowed,
    /// `[environments]`, validated (defaults when absent).
    pub environments: crate::fleet::Environments,
    severity: Vec<(Located, Severity)>,
    include: Vec<Located>,
    exclude: Vec<Located>,
    waiver_checks: Vec<Located>,
}

/// A string from the file and where it starts.
#[derive(Debug, Clone)]
struct Located {
    text: String,
    offset: usize,
}

impl Located {
    fn of(spanned: &Spanned<String>) -> Located {
        Located {
            text: spanned.get_ref().clone(),
            offset: spanned.span().start,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    audit: Option<RawAudit>,
    #[serde(default)]
    targets: Vec<Spanned<RawTarget>>,
    #[serde(default)]
    thresholds: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    checks: Option<RawChecks>,
    #[serde(default)]
    waivers: Vec<Spanned<RawWaiver>>,
    /// `[environments]`: how targets are classified for the staging checks (src/fleet).
    #[serde(default)]
    environments: Option<crate::fleet::RawEnvironments>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    fail_on: Option<Spanned<String>>,
    checks_dir: Option<String>,
    concurrency: Option<Spanned<i64>>,
    connect_timeout: Option<Spanned<i64>>,
    statement_timeout: Option<Spanned<i64>>,
    #[serde(default)]
    resolve: Vec<Spanned<String>>,
    shard: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    terraform: Option<Spanned<String>>,
    database: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    cloud: Option<Spanned<String>>,
    thresholds: Option<Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>>,
    connect: Option<Spanned<bool>>,
    connect_user: Option<Spanned<String>>,
    connect_password_env: Option<Spanned<String>>,
    connect_password_file: Option<Spanned<String>>,
    connect_ca_file: Option<Spanned<String>>,
    connect_sslmode: Option<Spanned<String>>,
    restore_tested: Option<Spanned<toml::Value>>,
    // `cloud = "aws-org://"` entries (docs/organization.md).
    role_name: Option<Spanned<String>>,
    external_id: Option<Spanned<String>>,
    regions: Option<Spanned<Vec<Spanned<String>>>>,
    assume_role_in_caller_account: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChecks {
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    allow_functions: RawAllowFunctions,
}

/// `[checks.allow_functions]`: functions custom check queries may call beyond
/// the read-only built-ins, per engine (docs/security.md). Only the operator's
/// config can widen the guard; a check file cannot.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAllowFunctions {
    #[serde(default)]
    postgres: Vec<String>,
    #[serde(default)]
    mysql: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    check: Spanned<String>,
    target: Spanned<String>,
    reason: Spanned<String>,
    owner: Spanned<String>,
    expires: Spanned<toml::Value>,
    ticket: Option<String>,
}

/// Collects located problems while validating.
struct Problems<'a> {
    file: String,
    text: &'a str,
    found: Vec<Diagnostic>,
}

impl Problems<'_> {
    fn at(&mut self, offset: usize, message: impl Into<String>) {
        let (line, column) = position(self.text, offset);
        self.found.push(Diagnostic {
            file: self.file.clone(),
            line,
            column,
            message: message.into(),
        });
    }
}

impl Config {
    /// What the entries record in the team's word (`restore_tested`), for
    /// [`crate::facts::recorded::stamp`].
    pub fn records(&self) -> Vec<crate::facts::recorded::Record> {
        self.targets
            .iter()
            .filter_map(|entry| {
                Some(crate::facts::recorded::Record {
                    target: entry.id.clone(),
                    restore_tested: entry.restore_tested?,
                    at: format!("{}:{}", self.path.display(), entry.line),
                })
            })
            .collect()
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read(path)?;
        Config::parse(path, &text)
    }

    /// Reads a config file and validates all of it at once — its shape, its
    /// values and every check it names — before the catalog the run uses
    /// (built-in checks plus `checks_dir`: `cli_checks_dir` when given, else
    /// the file's) is returned with the selection and severities applied. One
    /// report lists every problem of the file, each at file:line:column.
    pub fn load_with_catalog(
        path: &Path,
        cli_checks_dir: Option<&Path>,
    ) -> anyhow::Result<(Config, Catalog)> {
        let text = read(path)?;
        let (config, mut problems) = Config::parse_collect(path, &text);
        let Some(config) = config else {
            return Err(ConfigError(problems).into());
        };
        let checks_dir = cli_checks_dir.or(config.audit.checks_dir.as_deref());
        // Before any check file is loaded: the query guard reads it at load time.
        crate::checks::query::set_allowed(config.allow_functions.clone());
        let mut catalog = match Catalog::load(checks_dir) {
            Ok(catalog) => catalog,
            // A broken config (say, its allowlist) can be why check files are
            // refused: its own problems come first.
            Err(_) if !problems.is_empty() => return Err(ConfigError(problems).into()),
            Err(err) => return Err(err.into()),
        };
        problems.extend(config.reference_problems(&catalog));
        if !problems.is_empty() {
            return Err(ConfigError(problems).into());
        }
        config.apply(&mut catalog)?;
        Ok((config, catalog))
    }

    /// Parses and validates everything that does not need the check catalog.
    pub fn parse(path: &Path, original: &str) -> Result<Config, ConfigError> {
        match Config::parse_collect(path, original) {
            (Some(config), problems) if problems.is_empty() => Ok(config),
            (_, problems) => Err(ConfigError(problems)),
        }
    }

    /// Parses and validates what does not need the catalog, returning the
    /// config read (its invalid parts left out) with every problem found, or
    /// no config when the file's shape could not be read at all.
    fn parse_collect(path: &Path, original: &str) -> (Option<Config>, Vec<Diagnostic>) {
        let text = original;
        let file = path.display().to_string();
        let (raw, found, text) = read_raw(&file, text);
        let Some(raw) = raw else {
            return (None, found);
        };
        let mut problems = Problems {
            file,
            text: &text,
            found,
        };
        let audit = audit_settings(raw.audit, path, &mut problems);
        let targets = targets(&raw.targets, path, &mut problems);
        let run_thresholds: Thresholds =
            toml::Value::Table(threshold_overrides(&raw.thresholds, &mut problems))
                .try_into()
                .unwrap_or_default();
        let mut thresholds = ThresholdSet::uniform(run_thresholds);
        for entry in targets.iter().filter(|e| !e.thresholds.is_empty()) {
            let overrides = match serde_json::to_value(&entry.thresholds) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            };
            if let Err(message) = thresholds.scope(&entry.id, overrides) {
                problems.found.push(Diagnostic {
                    file: problems.file.clone(),
                    line: entry.line,
                    column: 1,
                    message,
                });
            }
        }
        let mut severity = Vec::new();
        for (id, level) in &raw.severity {
            match Severity::deserialize(toml::Value::String(level.get_ref().clone())) {
                Ok(parsed) => severity.push((Located::of(id), parsed)),
                Err(_) => problems.at(
                    level.span().start,
                    format!(
                        "unknown severity '{}': use low, medium, high or critical",
                        level.get_ref()
                    ),
                ),
            }
        }
        let (include, exclude) = match &raw.checks {
            Some(checks) => (
                checks.include.iter().map(Located::of).collect(),
                checks.exclude.iter().map(Located::of).collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let lower = |names: &[String]| names.iter().map(|n| n.to_lowercase()).collect();
        let allow_functions = raw
            .checks
            .as_ref()
            .map(|c| crate::checks::query::Allowed {
                postgres: lower(&c.allow_functions.postgres),
                mysql: lower(&c.allow_functions.mysql),
            })
            .unwrap_or_default();
        let mut waivers = Vec::new();
        let mut waiver_checks = Vec::new();
        for entry in &raw.waivers {
            if let Some(waiver) = waiver(entry, &mut problems) {
                waiver_checks.push(Located::of(&entry.get_ref().check));
                waivers.push(waiver);
            }
        }
        let environments =
            crate::fleet::Environments::from_raw(raw.environments.as_ref(), |offset, message| {
                problems.at(offset, message)
            });
        let found = problems.found;
        let config = Config {
            path: path.to_path_buf(),
            text: original.to_string(),
            audit,
            targets,
            thresholds,
            waivers,
            allow_functions,
            environments,
            severity,
            include,
            exclude,
            waiver_checks,
        };
        (Some(config), found)
    }

    /// Validates every reference to a check against `catalog`, then applies the
    /// selection (`[checks]`) and the severity overrides to it.
    pub fn apply(&self, catalog: &mut Catalog) -> Result<(), ConfigError> {
        let found = self.reference_problems(catalog);
        if !found.is_empty() {
            return Err(ConfigError(found));
        }
        let ids: Vec<(String, &'static str)> = catalog
            .checks
            .iter()
            .map(|c| (c.check.id.clone(), c.check.item.key()))
            .collect();
        let selects = |pattern: &str, (id, item): &(String, &str)| {
            pattern == *item || glob_match(pattern, id)
        };
        let keep: BTreeSet<String> = ids
            .iter()
            .filter(|check| {
                (self.include.is_empty() || self.include.iter().any(|e| selects(&e.text, check)))
                    && !self.exclude.iter().any(|e| selects(&e.text, check))
            })
            .map(|(id, _)| id.clone())
            .collect();
        catalog.retain(|check| keep.contains(&check.id));
        for (pattern, severity) in &self.severity {
            catalog.set_severity(|id| glob_match(&pattern.text, id), *severity);
        }
        Ok(())
    }

    /// Every reference to a check (selection, severity overrides, waivers)
    /// that matches no check of `catalog`.
    fn reference_problems(&self, catalog: &Catalog) -> Vec<Diagnostic> {
        let mut problems = Problems {
            file: self.path.display().to_string(),
            text: &self.text,
            found: Vec::new(),
        };
        let ids: Vec<(String, &'static str)> = catalog
            .checks
            .iter()
            .map(|c| (c.check.id.clone(), c.check.item.key()))
            .collect();
        let selects = |pattern: &str, (id, item): &(String, &str)| {
            pattern == *item || glob_match(pattern, id)
        };
        for entry in self.include.iter().chain(&self.exclude) {
            if !ids.iter().any(|check| selects(&entry.text, check)) {
                problems.at(
                    entry.offset,
                    format!(
                        "'{}' matches no check: use a check id, an id pattern such as 'cdc.*', or a checklist item key (`sqlready checks list`)",
                        entry.text
                    ),
                );
            }
        }
        for (entry, _) in &self.severity {
            if !ids.iter().any(|(id, _)| glob_match(&entry.text, id)) {
                problems.at(entry.offset, unknown_check(&entry.text));
            }
        }
        for entry in &self.waiver_checks {
            if !ids.iter().any(|(id, _)| glob_match(&entry.text, id)) {
                problems.at(entry.offset, unknown_check(&entry.text));
            }
        }
        problems.found
    }

    /// Where each target is declared: (id, line of its `[[targets]]` header).
    pub fn target_lines(&self) -> BTreeMap<String, usize> {
        self.targets
            .iter()
            .map(|t| (t.id.clone(), t.line))
            .collect()
    }
}

/// The text of a config file, or the located reason it cannot be read.
fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|err| {
        ConfigError(vec![Diagnostic {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read the config file: {err}"),
        }])
    })
}

/// At most this many type and key errors are collected from one file.
const MAX_SHAPE_ERRORS: usize = 50;

/// Deserializes the file, collecting every unknown key and wrongly typed
/// value rather than the first (the toml crate stops at one): each error's
/// `key = value` line is blanked (spaces, so every offset stays put) and the
/// file parsed again. Returns the config read from the text with those lines
/// blanked — validated next, so that its problems join these in one report —
/// or `None` when it still does not parse (a TOML syntax error, an error in
/// a value spanning several lines, or a required key that was blanked).
fn read_raw(file: &str, text: &str) -> (Option<RawConfig>, Vec<Diagnostic>, String) {
    let mut text = text.to_string();
    let mut found = Vec::new();
    let mut blanked: Vec<String> = Vec::new();
    loop {
        let err = match toml::from_str::<RawConfig>(&text) {
            Ok(raw) => return (Some(raw), found, text),
            Err(err) => err,
        };
        let mut message = err.message().trim().to_string();
        // A required key whose line was blanked for its own error: already reported.
        if blanked
            .iter()
            .any(|key| message.starts_with(&format!("missing field `{key}`")))
        {
            return (None, found, text);
        }
        let offset = err.span().map_or(0, |span| span.start);
        let (line, column) = position(&text, offset);
        if message.starts_with("unknown field `password`") {
            message = "secrets are never written in sqlready.toml: remove `password` and set `password_env = \"NAME\"`, the environment variable that holds it".to_string();
        }
        found.push(Diagnostic {
            file: file.to_string(),
            line,
            column,
            message,
        });
        // A missing key cannot be blanked away; nor can anything unlocated.
        if err.span().is_none()
            || err.message().starts_with("missing field")
            || found.len() >= MAX_SHAPE_ERRORS
        {
            return (None, found, text);
        }
        // Blank the line only when it is one whole `key = value`.
        let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let line_text = &text[start..end];
        if line_text.trim_start().starts_with('[') {
            return (None, found, text);
        }
        let Ok(alone) = toml::from_str::<toml::Table>(line_text) else {
            return (None, found, text);
        };
        let Some(key) = alone.keys().next().cloned() else {
            return (None, found, text);
        };
        blanked.push(key);
        let spaces = " ".repeat(end - start);
        text.replace_range(start..end, &spaces);
    }
}

fn unknown_check(pattern: &str) -> String {
    format!(
        "'{pattern}' matches no check id: `sqlready checks list` shows them (patterns may use * and ?)"
    )
}

fn audit_settings(
    raw: Option<RawAudit>,
    path: &Path,
    problems: &mut Problems<'_>,
) -> AuditSettings {
    let Some(raw) = raw else {
        return AuditSettings::default();
    };
    let mut settings = AuditSettings::default();
    if let Some(fail_on) = &raw.fail_on {
        match FailOn::from_str(fail_on.get_ref(), true) {
            Ok(parsed) => settings.fail_on = Some(parsed),
            Err(_) => problems.at(
                fail_on.span().start,
                format!(
                    "unknown fail_on '{}': use low, medium, high, critical or never",
                    fail_on.get_ref()
                ),
            ),
        }
    }
    settings.checks_dir = raw.checks_dir.map(|dir| {
        let dir = PathBuf::from(dir);
        match path.parent() {
            Some(parent) if dir.is_relative() && !parent.as_os_str().is_empty() => parent.join(dir),
            _ => dir,
        }
    });
    let mut ranged = |value: &Option<Spanned<i64>>, name: &str, min: i64, max: i64| {
        let value = value.as_ref()?;
        if (min..=max).contains(value.get_ref()) {
            Some(*value.get_ref())
        } else {
            problems.at(
                value.span().start,
                format!(
                    "{name} is {}; it must be between {min} and {max}",
                    value.get_ref()
                ),
            );
            None
        }
    };
    settings.concurrency = ranged(&raw.concurrency, "concurrency", 1, 256).map(|v| v as u16);
    settings.connect_timeout =
        ranged(&raw.connect_timeout, "connect_timeout", 1, 600).map(|v| v as u64);
    settings.statement_timeout =
        ranged(&raw.statement_timeout, "statement_timeout", 1, 600).map(|v| v as u64);
    for rule in &raw.resolve {
        match crate::target::Resolve::parse(rule.get_ref()) {
            Ok(parsed) => settings.resolve.push(parsed),
            Err(message) => problems.at(
                rule.span().start,
                message.replacen("--resolve", "resolve", 1),
            ),
        }
    }
    if let Some(shard) = &raw.shard {
        match crate::shard::Shard::parse(shard.get_ref()) {
            Ok(parsed) => settings.shard = Some(parsed),
            Err(message) => {
                problems.at(shard.span().start, message.replacen("--shard", "shard", 1))
            }
        }
    }
    settings
}

/// `connect = true` and its `connect_*` keys on a `[[targets]]` entry: only
/// on a cloud entry without a paired `database` (discovery names the address).
fn connect_settings(
    entry: &RawTarget,
    config_path: &Path,
    problems: &mut Problems<'_>,
) -> Option<crate::connect::Settings> {
    use crate::connect::credentials::PasswordSource;
    let on = entry.connect.as_ref().is_some_and(|c| *c.get_ref());
    let keys = [
        ("connect_user", &entry.connect_user),
        ("connect_password_env", &entry.connect_password_env),
        ("connect_password_file", &entry.connect_password_file),
        ("connect_ca_file", &entry.connect_ca_file),
        ("connect_sslmode", &entry.connect_sslmode),
    ];
    if !on {
        for (name, value) in keys {
            if let Some(value) = value {
                problems.at(
                    value.span().start,
                    format!(
                        "{name} applies with `connect = true`, and this target does not set it"
                    ),
                );
            }
        }
        return None;
    }
    if let Some(connect) = &entry.connect
        && (entry.cloud.is_none() || entry.database.is_some())
    {
        problems.at(
            connect.span().start,
            "`connect = true` applies to a `cloud` entry without a `database`: discovery gives each instance's address (a hand-written pairing names its `database` itself)",
        );
        return None;
    }
    let relative = |text: &str| {
        let path = PathBuf::from(text);
        match config_path.parent() {
            Some(parent) if path.is_relative() && !parent.as_os_str().is_empty() => {
                parent.join(path)
            }
            _ => path,
        }
    };
    let password = match (&entry.connect_password_env, &entry.connect_password_file) {
        (Some(_), Some(file)) => {
            problems.at(
                file.span().start,
                "name one of connect_password_env and connect_password_file, not both",
            );
            None
        }
        (Some(env), None) if !valid_env_name(env.get_ref()) => {
            problems.at(
                env.span().start,
                "connect_password_env names an environment variable (letters, digits and '_', not starting with a digit), e.g. connect_password_env = \"AUDITOR_DB_PASSWORD\"",
            );
            None
        }
        (Some(env), None) => Some(PasswordSource::Env(env.get_ref().clone())),
        (None, Some(file)) => Some(PasswordSource::File(relative(file.get_ref()))),
        (None, None) => None,
    };
    Some(crate::connect::Settings {
        user: entry
            .connect_user
            .as_ref()
            .map(|u| u.get_ref().clone())
            .filter(|u| !u.is_empty()),
        password,
        ca_file: entry.connect_ca_file.as_ref().map(|f| relative(f.get_ref())),
        tls: entry.connect_sslmode.as_ref().and_then(|mode| {
            let parsed = crate::connect::endpoint::TlsMode::parse(mode.get_ref());
            if parsed.is_none() {
                problems.at(
                    mode.span().start,
                    format!(
                        "unknown connect_sslmode '{}': use prefer, require, verify-ca or verify-full",
                        mode.get_ref()
                    ),
                );
            }
            parsed
        }),
    })
}

fn targets(
    raw: &[Spanned<RawTarget>],
    config_path: &Path,
    problems: &mut Problems<'_>,
) -> Vec<TargetEntry> {
    let mut entries: Vec<TargetEntry> = Vec::new();
    for spanned in raw {
        let entry = spanned.get_ref();
        let header = header_offset(problems.text, spanned.span().start);
        if let Some(path) = &entry.terraform {
            if let Some(spec) = terraform_target(entry, path, config_path, problems) {
                let id = spec.id().to_string();
                if entries.iter().any(|e| e.id == id) {
                    problems.at(header, format!("target {id} is listed twice"));
                    continue;
                }
                let thresholds = entry
                    .thresholds
                    .as_ref()
                    .map(|table| threshold_overrides(table.get_ref(), problems))
                    .unwrap_or_default();
                let (line, _) = position(problems.text, header);
                let restore_tested = restore_tested(entry, problems);
                entries.push(TargetEntry {
                    id,
                    database: Some(spec),
                    password_env: None,
                    cloud: None,
                    thresholds,
                    line,
                    connect: None,
                    restore_tested,
                });
            }
            continue;
        }
        let database = entry
            .database
            .as_ref()
            .and_then(|uri| database_target(uri, problems));
        let cloud = entry.cloud.as_ref().and_then(|uri| {
            if crate::org_config::is_organization(uri.get_ref()) {
                crate::org_config::target(
                    uri,
                    entry.database.is_some(),
                    crate::org_config::Keys {
                        role_name: entry.role_name.as_ref(),
                        external_id: entry.external_id.as_ref(),
                        regions: entry.regions.as_ref(),
                        assume_role_in_caller_account: entry.assume_role_in_caller_account.as_ref(),
                    },
                    &mut |offset, message| problems.at(offset, message),
                )
            } else {
                crate::org_config::misplaced(
                    entry
                        .role_name
                        .as_ref()
                        .map(|k| ("role_name", k.span().start)),
                    entry
                        .external_id
                        .as_ref()
                        .map(|k| ("external_id", k.span().start)),
                    entry.regions.as_ref().map(|k| ("regions", k.span().start)),
                    entry
                        .assume_role_in_caller_account
                        .as_ref()
                        .map(|k| ("assume_role_in_caller_account", k.span().start)),
                    &mut |offset, message| problems.at(offset, message),
                );
                cloud_target(uri, entry.database.is_some(), problems)
            }
        });
        if entry.database.is_none() && entry.cloud.is_none() {
            problems.at(
                header,
                "a target needs `database = \"postgres://USER@HOST/DB\"` (or mysql://), `cloud = \"cloudsql://PROJECT/INSTANCE\"` (or rds://), both for the same server, or `terraform = \"PATH\"`",
            );
            continue;
        }
        let password_env = match &entry.password_env {
            None => None,
            Some(name) if entry.database.is_none() => {
                problems.at(
                    name.span().start,
                    "password_env applies to a `database` connection, and this target has none",
                );
                None
            }
            Some(name) if !valid_env_name(name.get_ref()) => {
                problems.at(
                    name.span().start,
                    "password_env names an environment variable (letters, digits and '_', not starting with a digit), e.g. password_env = \"APP_DB_PASSWORD\"",
                );
                None
            }
            Some(name) => Some(name.get_ref().clone()),
        };
        let id = match (&cloud, &database) {
            (Some(cloud), _) => cloud.id().to_string(),
            (None, Some(database)) => database.id().to_string(),
            (None, None) => continue,
        };
        if entries.iter().any(|e| e.id == id) {
            problems.at(header, format!("target {id} is listed twice"));
            continue;
        }
        let (line, _) = position(problems.text, header);
        let thresholds = entry
            .thresholds
            .as_ref()
            .map(|table| threshold_overrides(table.get_ref(), problems))
            .unwrap_or_default();
        let connect = connect_settings(entry, config_path, problems);
        let restore_tested = restore_tested(entry, problems);
        entries.push(TargetEntry {
            id,
            database,
            password_env,
            cloud,
            thresholds,
            line,
            connect,
            restore_tested,
        });
    }
    entries
}

/// `restore_tested = YYYY-MM-DD` on an entry: a past day (the team's record of
/// its last restore drill).
fn restore_tested(entry: &RawTarget, problems: &mut Problems<'_>) -> Option<NaiveDate> {
    let value = entry.restore_tested.as_ref()?;
    match toml_date(value.get_ref()) {
        Some(day) if day <= chrono::Utc::now().date_naive() => Some(day),
        Some(day) => {
            problems.at(
                value.span().start,
                format!("restore_tested = {day} is in the future: record the day the last restore drill was done"),
            );
            None
        }
        None => {
            problems.at(
                value.span().start,
                "restore_tested is the day of the last restore drill, e.g. restore_tested = 2026-11-20",
            );
            None
        }
    }
}

/// A TOML local date (`2026-11-20`) or a string holding one.
fn toml_date(value: &toml::Value) -> Option<NaiveDate> {
    match value {
        toml::Value::Datetime(datetime) => match (datetime.date, datetime.time) {
            (Some(date), None) => NaiveDate::from_ymd_opt(
                i32::from(date.year),
                u32::from(date.month),
                u32::from(date.day),
            ),
            _ => None,
        },
        toml::Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").ok(),
        _ => None,
    }
}

/// `terraform = "PATH"`: files read from the config's directory, shown as written.
fn terraform_target(
    entry: &RawTarget,
    path: &Spanned<String>,
    config_path: &Path,
    problems: &mut Problems<'_>,
) -> Option<TargetSpec> {
    if entry.database.is_some()
        || entry.cloud.is_some()
        || entry.password_env.is_some()
        || entry.connect.is_some()
    {
        problems.at(
            path.span().start,
            "a `terraform` entry stands alone: it audits every database the files plan; list a running server in an entry of its own",
        );
        return None;
    }
    let written = path.get_ref().trim();
    if written.is_empty() {
        problems.at(
            path.span().start,
            "terraform names a .tf file, a module directory or `terraform show -json` output, e.g. terraform = \"infra/\"",
        );
        return None;
    }
    let resolved = match config_path.parent() {
        Some(parent) if Path::new(written).is_relative() && !parent.as_os_str().is_empty() => {
            parent.join(written)
        }
        _ => PathBuf::from(written),
    };
    Some(TargetSpec::Terraform(target::TerraformSpec::at(
        resolved, written,
    )))
}

/// The start of the `[[…]]` header of an array-of-tables entry.
fn header_offset(text: &str, span_start: usize) -> usize {
    let span_start = span_start.min(text.len());
    if text[span_start..].starts_with("[[") {
        return span_start;
    }
    text[..span_start].rfind("[[").unwrap_or(span_start)
}

fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Query parameters that would put a secret in the file.
const SECRET_PARAMS: &[&str] = &[
    "password",
    "sslpassword",
    "pass",
    "pwd",
    "passwd",
    "secret",
    "token",
];

fn database_target(uri: &Spanned<String>, problems: &mut Problems<'_>) -> Option<TargetSpec> {
    let text = uri.get_ref();
    let start = uri.span().start;
    if let Ok(url) = url::Url::parse(text) {
        if url.password().is_some() {
            let offset = password_offset(problems.text, start, text);
            problems.at(
                offset,
                "a password is written in the database URI: secrets are never written in sqlready.toml; remove ':PASSWORD' from the URI and set `password_env = \"NAME\"` to the environment variable that holds it",
            );
            return None;
        }
        if let Some((key, _)) = url
            .query_pairs()
            .find(|(key, _)| SECRET_PARAMS.contains(&key.to_ascii_lowercase().as_str()))
        {
            problems.at(
                start,
                format!("the database URI carries '{key}=' in its query string: secrets are never written in sqlready.toml; remove it and set `password_env = \"NAME\"`"),
            );
            return None;
        }
    }
    match target::parse(text) {
        Ok(spec) if matches!(spec.kind(), Kind::Postgres | Kind::Mysql) => Some(spec),
        Ok(spec) => {
            problems.at(
                start,
                format!("`database` is a connection to the database (postgres:// or mysql://); put {} in `cloud`", spec.id()),
            );
            None
        }
        Err(TargetError::NotAvailable { scheme }) => {
            problems.at(
                start,
                format!("`database` is a connection to the database (postgres:// or mysql://); put {scheme}:// targets in `cloud`"),
            );
            None
        }
        Err(err) => {
            problems.at(start, err.to_string());
            None
        }
    }
}

/// Where the password of a URI string starts in the file (approximately when escaped).
fn password_offset(file: &str, span_start: usize, uri: &str) -> usize {
    let literal = span_start + 1;
    let Some((_, rest)) = uri.split_once("://") else {
        return span_start;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return span_start;
    };
    let Some(colon) = userinfo.find(':') else {
        return span_start;
    };
    let offset = literal + uri.len() - rest.len() + colon + 1;
    if offset < file.len() {
        offset
    } else {
        span_start
    }
}

fn cloud_target(
    uri: &Spanned<String>,
    paired: bool,
    problems: &mut Problems<'_>,
) -> Option<TargetSpec> {
    let text = uri.get_ref();
    let start = uri.span().start;
    let spec = match target::parse(text) {
        Ok(spec) => spec,
        // Cloud sources not compiled into this build are still accepted here: the
        // target then fails at audit time with the reason, and a paired database
        // connection still produces facts.
        Err(TargetError::NotAvailable { scheme }) => match cloud_not_in_build(&scheme, text) {
            Ok(spec) => spec,
            Err(message) => {
                problems.at(start, message);
                return None;
            }
        },
        Err(err) => {
            problems.at(start, err.to_string());
            return None;
        }
    };
    if !matches!(spec.kind(), Kind::Cloudsql | Kind::Rds) {
        problems.at(
            start,
            format!(
                "`cloud` names a cloudsql:// or rds:// instance; put {} in `database`",
                spec.id()
            ),
        );
        return None;
    }
    if paired && !names_one_instance(spec.id()) {
        problems.at(
            start,
            format!(
                "{} lists every instance, but a paired `database` is one server: write cloudsql://PROJECT/INSTANCE or rds://REGION/db/ID (or rds://REGION/cluster/ID)",
                spec.id()
            ),
        );
        return None;
    }
    Some(spec)
}

/// A cloud URI whose source is not in this build, checked for shape only.
fn cloud_not_in_build(scheme: &str, text: &str) -> Result<TargetSpec, String> {
    let kind = match scheme {
        "rds" => Kind::Rds,
        "cloudsql" => Kind::Cloudsql,
        other => return Err(format!("{other}:// is not a cloud target")),
    };
    let rest = text
        .split_once("://")
        .map_or("", |(_, rest)| rest)
        .trim_end_matches('/');
    let segments: Vec<&str> = rest.split('/').collect();
    let well_formed = !rest.is_empty()
        && !rest.contains(['@', '?', '#', ' '])
        && segments.iter().all(|s| !s.is_empty())
        && match kind {
            Kind::Rds => matches!(segments.as_slice(), [_] | [_, "db" | "cluster", _]),
            _ => segments.len() <= 2,
        };
    if !well_formed {
        return Err(match kind {
            Kind::Rds => format!(
                "'{}' is not an RDS target: write rds://REGION, rds://REGION/db/ID or rds://REGION/cluster/ID",
                target::redact_uri(text)
            ),
            _ => format!(
                "'{}' is not a Cloud SQL target: write cloudsql://PROJECT or cloudsql://PROJECT/INSTANCE",
                target::redact_uri(text)
            ),
        });
    }
    Ok(TargetSpec::Cloud {
        kind,
        uri: format!("{}://{rest}", kind.as_str()),
    })
}

/// Whether a cloud target id names one instance rather than a discovery.
fn names_one_instance(id: &str) -> bool {
    let rest = id.split_once("://").map_or("", |(_, rest)| rest);
    let segments = rest.split('/').filter(|s| !s.is_empty()).count();
    if id.starts_with("gcp-org://") {
        return false;
    }
    if id.starts_with("rds://") {
        segments >= 3
    } else {
        segments >= 2
    }
}

/// The valid entries of a `thresholds` table (the run's, or a target's),
/// each problem reported where it is.
fn threshold_overrides(
    raw: &BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    problems: &mut Problems<'_>,
) -> toml::Table {
    let defaults = serde_json::to_value(Thresholds::default()).unwrap_or_default();
    let known = defaults.as_object().cloned().unwrap_or_default();
    let mut table = toml::Table::new();
    for (key, value) in raw {
        let name = key.get_ref();
        let Some(default) = known.get(name) else {
            problems.at(
                key.span().start,
                format!(
                    "unknown threshold '{name}': expected one of {}",
                    known.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
            continue;
        };
        if default.is_array() {
            match account_list(value.get_ref()) {
                Ok(list) => {
                    table.insert(name.clone(), list);
                }
                Err(message) => {
                    problems.at(value.span().start, format!("threshold {name} {message}"))
                }
            }
            continue;
        }
        let number = match value.get_ref() {
            toml::Value::Integer(i) => Some(*i as f64),
            toml::Value::Float(f) if default.is_f64() => Some(*f),
            _ => None,
        };
        let Some(number) = number else {
            let expected = if default.is_f64() {
                "a number"
            } else {
                "an integer"
            };
            problems.at(
                value.span().start,
                format!("threshold {name} must be {expected}"),
            );
            continue;
        };
        let in_range = if name == "max_connection_usage" {
            number > 0.0 && number <= 1.0
        } else {
            number >= 0.0
        };
        if !in_range {
            let range = if name == "max_connection_usage" {
                "a share between 0 (excluded) and 1"
            } else {
                "zero or more"
            };
            problems.at(
                value.span().start,
                format!("threshold {name} is {number}; it must be {range}"),
            );
            continue;
        }
        let value = if default.is_f64() {
            toml::Value::Float(number)
        } else {
            value.get_ref().clone()
        };
        table.insert(name.clone(), value);
    }
    table
}

/// `trusted_aws_accounts`: a list of 12-digit AWS account ids.
fn account_list(value: &toml::Value) -> Result<toml::Value, String> {
    const FIX: &str = "must be a list of 12-digit AWS account ids, e.g. [\"111122223333\"]";
    let toml::Value::Array(items) = value else {
        return Err(FIX.to_string());
    };
    for item in items {
        let ok = item
            .as_str()
            .is_some_and(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(format!("{FIX}; {item} is not one"));
        }
    }
    Ok(value.clone())
}

fn waiver(entry: &Spanned<RawWaiver>, problems: &mut Problems<'_>) -> Option<Waiver> {
    let raw = entry.get_ref();
    let mut ok = true;
    for (field, value) in [
        ("reason", &raw.reason),
        ("owner", &raw.owner),
        ("check", &raw.check),
        ("target", &raw.target),
    ] {
        if value.get_ref().trim().is_empty() {
            problems.at(
                value.span().start,
                format!("a waiver's {field} must not be empty"),
            );
            ok = false;
        }
    }
    let expires = toml_date(raw.expires.get_ref());
    if expires.is_none() {
        problems.at(
            raw.expires.span().start,
            "a waiver's expires is a date, e.g. expires = 2026-12-31 (the waiver holds through that day)",
        );
    }
    let (line, _) = position(
        problems.text,
        header_offset(problems.text, entry.span().start),
    );
    match (ok, expires) {
        (true, Some(expires)) => Some(Waiver {
            check: raw.check.get_ref().clone(),
            target: raw.target.get_ref().clone(),
            reason: raw.reason.get_ref().trim().to_string(),
            owner: raw.owner.get_ref().trim().to_string(),
            expires,
            ticket: raw.ticket.clone(),
            line,
        }),
        _ => None,
    }
}

/// The commented template `sqlready init` writes.
pub fn template() -> String {
    let t = Thresholds::default();
    format!(
        r#"# sqlready.toml — what `sqlready audit` checks, how strictly, and the
# exceptions you have accepted. Reference: docs/compliance.md.
#
# Unknown keys are errors (with line and column). Secrets are never written
# here: name the environment variable that holds them (password_env).

[audit]
# Exit 1 when a non-waived check of at least this severity fails:
# low, medium, high, critical or never. The --fail-on flag overrides it.
fail_on = "low"
# Extra check files (*.toml), relative to this file.
# checks_dir = "checks"
# concurrency = 8          # targets audited at once
# connect_timeout = 10     # seconds
# statement_timeout = 10   # seconds
# shard = "0/4"            # audit one slice of the fleet; `sqlready merge` joins them (docs/sharding.md)

# One [[targets]] entry per server. Without TARGET arguments, `sqlready audit`
# audits these.
#
# A database, audited from inside over a read-only session:
# [[targets]]
# database = "postgres://auditor@db.internal:5432/app"
# password_env = "APP_DB_PASSWORD"
#
# A cloud instance paired with a connection to the same server: both sources
# feed one target, each fact says which source it came from, and where they
# disagree the finding shows it (the API decides hosting facts, the database
# what it reads inside itself).
# [[targets]]
# cloud = "cloudsql://acme-prod/orders"
# database = "postgres://auditor@10.0.0.3:5432/orders"
# password_env = "ORDERS_DB_PASSWORD"
#
# The databases a Terraform configuration plans (a module directory, a .tf
# file or `terraform show -json` output, relative to this file):
# [[targets]]
# terraform = "infra/"
#
# Every instance of a region or project, with thresholds of its own (only the
# keys set here differ from [thresholds] below):
# [[targets]]
# cloud = "rds://eu-west-1"
# thresholds = {{ min_backup_retention_days = 30 }}
#
# The day of the last restore drill, where no API shows it (a database audited
# from inside, Terraform, a drill older than RDS keeps its events): the team's
# word, reported as such.
# [[targets]]
# database = "postgres://auditor@db.internal:5432/app"
# restore_tested = 2026-11-20
#
# Every instance of a project, also audited from inside (docs/connect.md): the
# API gives each address, engine and CA; without a password, IAM database
# authentication is used where the instance allows it.
# [[targets]]
# cloud = "cloudsql://acme-prod"
# connect = true
# connect_user = "sqlready-auditor@acme-prod.iam"

[thresholds]
min_backup_retention_days = {min_backup_retention_days}
max_replica_lag_seconds = {max_replica_lag_seconds}
max_slot_retained_bytes = {max_slot_retained_bytes}
max_connection_usage = {max_connection_usage:?}
min_eol_days = {min_eol_days}
max_minor_releases_behind = {max_minor_releases_behind}
min_binlog_retention_seconds = {min_binlog_retention_seconds}
max_long_query_time_seconds = {max_long_query_time_seconds:?}
min_ca_days = {min_ca_days}
max_maintenance_deny_days = {max_maintenance_deny_days}
restore_drill_days = {restore_drill_days}
# AWS accounts manual RDS snapshots may be shared with (dev_data.rds_snapshot_sharing),
# e.g. the account of a sanitizing pipeline: ["111122223333"]
trusted_aws_accounts = []

# Severity overrides: check id (or pattern) = low | medium | high | critical.
[severity]
# "durability.data_checksums" = "high"

# Which checks run: check ids, id patterns ("cdc.*") or checklist item keys.
# An empty include means every check.
[checks]
include = []
exclude = []
# exclude = ["cost", "dev_data", "staging"]

# Environments (docs/fleet.md): the staging item looks, among the targets of
# the run, for a non-production database of each production database's
# application. Targets are classified by [environments.targets], else a tag or
# label (env=prod, env=staging, env=dev), else a name pattern (regular
# expressions on the target id; none by default). Set lists replace defaults.
# [environments]
# tag_keys = ["env", "environment", "stage"]
# production_values = ["prod", "production", "prd", "live"]
# staging_values = ["staging", "stage", "stg", "preprod", "pre-prod", "uat"]
# development_values = ["dev", "development", "test", "testing", "qa", "sandbox"]
# production_names = ['-prod$']
# staging_names = ['-(staging|stg)$']
# app_keys = ["app", "application", "service"]   # else the name without env words
# [environments.targets]                          # explicit: beats tags and names
# "postgres://db.internal:5432/*" = "production"
# [environments.counterparts]                     # the team's word, for a staging
# "rds://eu-west-1/db/orders-prod" = "orders-staging in account 222233334444"   # the run cannot see

# Waivers: accepted exceptions. A waived finding keeps its status, is shown as
# waived with the reason, and does not make `audit` exit 1. After `expires`
# the waiver stops applying and is itself a failing finding; a waiver that
# matches no failing finding is reported as stale.
# [[waivers]]
# check = "replicas.present"                  # check id or pattern
# target = "postgres://db.internal:5432/*"    # target id pattern (* and ?)
# reason = "single-node staging database; no replica by design"
# owner = "dba-team@example.com"
# expires = 2026-12-31                         # holds through that day
# ticket = "https://tracker.example.com/SEC-123"
"#,
        min_backup_retention_days = t.min_backup_retention_days,
        max_replica_lag_seconds = t.max_replica_lag_seconds,
        max_slot_retained_bytes = t.max_slot_retained_bytes,
        max_connection_usage = t.max_connection_usage,
        min_eol_days = t.min_eol_days,
        max_minor_releases_behind = t.max_minor_releases_behind,
        min_binlog_retention_seconds = t.min_binlog_retention_seconds,
        max_long_query_time_seconds = t.max_long_query_time_seconds,
        min_ca_days = t.min_ca_days,
        max_maintenance_deny_days = t.max_maintenance_deny_days,
        restore_drill_days = t.restore_drill_days,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("sqlready.toml"), text)
    }

    fn errors(text: &str) -> Vec<String> {
        match parse(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(err) => err.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn the_template_parses_validates_and_holds_the_default_thresholds() {
        let config = parse(&template()).expect("template parses");
        assert_eq!(config.thresholds, ThresholdSet::default());
        assert!(config.targets.is_empty() && config.waivers.is_empty());
        let mut catalog = Catalog::load(None).unwrap();
        let before = catalog.checks.len();
        config.apply(&mut catalog).expect("template validates");
        assert_eq!(catalog.checks.len(), before);
    }

    #[test]
    fn every_key_and_type_error_is_reported_at_once_with_the_others() {
        let text = "[audit]\nfail_on = \"high\"\nconcurrency = \"eight\"\n\n[[targets]]\ndatabase = \"postgres://a@h/db?sslmode=requir\"\nhost = \"x\"\n\n[[waivers]]\ncheck = \"replicas.present\"\ntarget = \"*\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2999-01-01\ncolour = \"red\"\n";
        let found = errors(text);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(
            found[0].starts_with("sqlready.toml:3:15: invalid type"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("sqlready.toml:7:1: unknown field `host`"),
            "{found:?}"
        );
        assert!(
            found[2].starts_with("sqlready.toml:15:1: unknown field `colour`"),
            "{found:?}"
        );
        // The semantic problems of the rest of the file come in the same report.
        assert!(
            found[3].starts_with("sqlready.toml:6:") && found[3].contains("'requir'"),
            "{found:?}"
        );
    }

    #[test]
    fn unknown_keys_are_located() {
        let found = errors(
            "[audit]\nfail_on = \"high\"\n\n[[targets]]\ndatabase = \"postgres://a@h/db\"\nhost = \"x\"\n",
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("sqlready.toml:6:1: unknown field `host`"),
            "{found:?}"
        );
        let found = errors("[thresholds]\nmin_backup_retention_dayz = 3\n");
        assert!(
            found[0]
                .starts_with("sqlready.toml:2:1: unknown threshold 'min_backup_retention_dayz'"),
            "{found:?}"
        );
    }

    #[test]
    fn an_inline_password_is_refused_at_its_column_without_echoing_it() {
        let text = "[[targets]]\ndatabase = \"postgres://auditor:hunter2@10.0.0.3/app\"\n";
        let found = errors(text);
        assert_eq!(found.len(), 1);
        // Column of 'hunter2' in the line.
        let column = text.lines().nth(1).unwrap().find("hunter2").unwrap() + 1;
        assert!(
            found[0].starts_with(&format!("sqlready.toml:2:{column}: a password is written")),
            "{found:?}"
        );
        assert!(found[0].contains("password_env"), "{found:?}");
        assert!(!found[0].contains("hunter2"));
        let found = errors(
            "[[targets]]\ndatabase = \"postgres://auditor@h/app?sslmode=require&password=hunter2\"\n",
        );
        assert!(
            found[0].contains("'password='") && !found[0].contains("hunter2"),
            "{found:?}"
        );
        let found = errors(
            "[[targets]]\ndatabase = \"postgres://auditor@h/app\"\npassword = \"hunter2\"\n",
        );
        assert!(
            found[0].starts_with("sqlready.toml:3:1:") && found[0].contains("password_env"),
            "{found:?}"
        );
        assert!(!found[0].contains("hunter2"));
    }

    #[test]
    fn discovery_entries_take_connect_keys_and_misplaced_ones_are_located() {
        let config = parse(
            "[audit]\nresolve = [\"db.x:5432:127.0.0.1:6543\"]\n\n[[targets]]\ncloud = \"rds://eu-west-1\"\nconnect = true\nconnect_user = \"auditor\"\nconnect_password_file = \"pw\"\nconnect_sslmode = \"verify-full\"\n\n[[targets]]\ncloud = \"cloudsql://acme-prod\"\nconnect = true\n",
        )
        .unwrap();
        assert_eq!(config.audit.resolve[0].addr_port, Some(6543));
        let rds = config.targets[0]
            .connect
            .as_ref()
            .expect("connect settings");
        assert_eq!(rds.user(), "auditor");
        assert_eq!(
            rds.password,
            Some(crate::connect::credentials::PasswordSource::File(
                "pw".into()
            ))
        );
        assert_eq!(rds.tls, Some(crate::connect::endpoint::TlsMode::VerifyFull));
        let cloudsql = config.targets[1]
            .connect
            .as_ref()
            .expect("connect settings");
        assert_eq!(
            (cloudsql.user(), &cloudsql.password),
            ("sqlready_auditor", &None)
        );
        let found = errors(
            "[audit]\nresolve = [\"db.x:5432\"]\n\n[[targets]]\ncloud = \"rds://eu-west-1\"\nconnect_user = \"a\"\n\n[[targets]]\ncloud = \"rds://us-east-1/db/x\"\ndatabase = \"postgres://a@h/app\"\nconnect = true\n\n[[targets]]\ncloud = \"rds://eu-west-2\"\nconnect = true\nconnect_password_env = \"1BAD\"\nconnect_sslmode = \"sometimes\"\n",
        );
        let all = found.join("\n");
        for expected in [
            "sqlready.toml:2:12: resolve 'db.x:5432': no ADDR",
            "sqlready.toml:6:16: connect_user applies with `connect = true`",
            "sqlready.toml:11:11: `connect = true` applies to a `cloud` entry without a `database`",
            "sqlready.toml:16:24: connect_password_env names an environment variable",
            "sqlready.toml:17:19: unknown connect_sslmode 'sometimes'",
        ] {
            assert!(all.contains(expected), "{expected}\nin:\n{all}");
        }
    }

    #[test]
    fn a_cloud_target_pairs_with_a_database_connection() {
        let config = parse(
            "[[targets]]\ncloud = \"cloudsql://acme-prod/orders\"\ndatabase = \"postgres://auditor@10.0.0.3/app\"\npassword_env = \"APP_DB_PASSWORD\"\n\n[[targets]]\ncloud = \"rds://eu-west-1/db/orders\"\n",
        )
        .unwrap();
        assert_eq!(config.targets.len(), 2);
        let paired = &config.targets[0];
        assert_eq!(paired.id, "cloudsql://acme-prod/orders");
        assert_eq!(
            paired.database.as_ref().unwrap().id(),
            "postgres://10.0.0.3:5432/app"
        );
        assert_eq!(paired.password_env.as_deref(), Some("APP_DB_PASSWORD"));
        assert_eq!(paired.line, 1);
        assert_eq!(config.targets[1].id, "rds://eu-west-1/db/orders");
        assert_eq!(config.targets[1].line, 6);
        let found = errors(
            "[[targets]]\ncloud = \"cloudsql://acme-prod\"\ndatabase = \"postgres://a@h/app\"\n",
        );
        assert!(
            found[0].starts_with("sqlready.toml:2:9:") && found[0].contains("one server"),
            "{found:?}"
        );
        let found = errors("[[targets]]\ncloud = \"postgres://a@h/app\"\n");
        assert!(
            found[0].contains("put postgres://h:5432/app in `database`"),
            "{found:?}"
        );
        let found = errors("[[targets]]\npassword_env = \"X\"\n");
        assert!(
            found[0].starts_with("sqlready.toml:1:1: a target needs"),
            "{found:?}"
        );
        let found = errors(
            "[[targets]]\ndatabase = \"postgres://a@h/app\"\n[[targets]]\ndatabase = \"postgres://b@h:5432/app\"\n",
        );
        assert!(
            found[0].starts_with("sqlready.toml:3:1: target postgres://h:5432/app is listed twice"),
            "{found:?}"
        );
    }

    #[test]
    fn values_are_validated_where_they_are_written() {
        let found = errors(
            "[audit]\nfail_on = \"sometimes\"\nconcurrency = 0\n\n[thresholds]\nmax_connection_usage = 1.5\nmin_eol_days = \"soon\"\n",
        );
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found[0].starts_with("sqlready.toml:2:11: unknown fail_on 'sometimes'"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("sqlready.toml:3:15: concurrency is 0"),
            "{found:?}"
        );
        assert!(
            found[2].starts_with("sqlready.toml:6:24: threshold max_connection_usage is 1.5"),
            "{found:?}"
        );
        assert!(
            found[3].starts_with("sqlready.toml:7:16: threshold min_eol_days must be an integer"),
            "{found:?}"
        );
        let config =
            parse("[thresholds]\nmin_backup_retention_days = 14\nmax_connection_usage = 1\n")
                .unwrap();
        assert_eq!(config.thresholds.run.min_backup_retention_days, 14);
        assert_eq!(config.thresholds.run.max_connection_usage, 1.0);
        assert_eq!(
            config.thresholds.run.max_replica_lag_seconds,
            Thresholds::default().max_replica_lag_seconds
        );
    }

    #[test]
    fn waivers_need_a_reason_an_owner_and_a_date() {
        let found = errors(
            "[[waivers]]\ncheck = \"pitr.enabled\"\ntarget = \"*\"\nreason = \"\"\nowner = \"dba\"\nexpires = \"next year\"\n",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("sqlready.toml:4:10: a waiver's reason must not be empty"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("sqlready.toml:6:11: a waiver's expires is a date"),
            "{found:?}"
        );
        let found = errors(
            "[[waivers]]\ncheck = \"pitr.enabled\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2026-01-01\n",
        );
        assert!(found[0].contains("missing field `target`"), "{found:?}");
        let config = parse("[[waivers]]\ncheck = \"pitr.*\"\ntarget = \"postgres://*\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2026-01-31\n").unwrap();
        assert_eq!(
            config.waivers[0].expires,
            NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()
        );
        assert_eq!(config.waivers[0].line, 1);
    }

    #[test]
    fn check_references_are_validated_against_the_catalog_and_applied() {
        let config = parse(
            "[severity]\n\"durability.data_checksums\" = \"critical\"\n\n[checks]\nexclude = [\"cost\", \"dev_data.*\", \"staging.environment\"]\n",
        )
        .unwrap();
        let mut catalog = Catalog::load(None).unwrap();
        config.apply(&mut catalog).unwrap();
        assert!(catalog.get("cost.budget").is_none());
        assert!(catalog.get("dev_data.sanitized_copy").is_none());
        assert!(catalog.get("staging.environment").is_none());
        assert_eq!(
            catalog
                .get("durability.data_checksums")
                .unwrap()
                .check
                .severity,
            Severity::Critical
        );
        let config = parse("[checks]\ninclude = [\"cdc\"]\n").unwrap();
        let mut catalog = Catalog::load(None).unwrap();
        config.apply(&mut catalog).unwrap();
        assert!(catalog.checks.iter().all(|c| c.check.item.key() == "cdc"));
        let config = parse(
            "[severity]\n\"durability.checksum\" = \"high\"\n[checks]\ninclude = [\"replica\"]\n[[waivers]]\ncheck = \"pitr.enabeld\"\ntarget = \"*\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2030-01-01\n",
        )
        .unwrap();
        let err = config.apply(&mut Catalog::load(None).unwrap()).unwrap_err();
        let found: Vec<String> = err.0.iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("sqlready.toml:4:12: 'replica' matches no check"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("sqlready.toml:2:1: 'durability.checksum' matches no check id"),
            "{found:?}"
        );
        assert!(
            found[2].starts_with("sqlready.toml:6:9: 'pitr.enabeld' matches no check id"),
            "{found:?}"
        );
    }
}
