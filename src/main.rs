//! The `sqlready` binary: parse arguments, run, map the outcome to an exit code.

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use comfy_table::{Table, presets};
use sqlready::checks::eval::Thresholds;
use sqlready::checks::{Catalog, docs, lint, load};
use sqlready::cli::{AuditArgs, ChecksCommand, Cli, Command, ListArgs};
use sqlready::facts::schema;
use sqlready::facts::snapshot::Snapshot;
use sqlready::report::render::{self, Format};
use sqlready::sources::CollectOptions;
use sqlready::{audit, output, target};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Exit codes, as the contract fixes them.
const FINDINGS: u8 = 1;
const USAGE: u8 = 2;
const TARGET_FAILED: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(USAGE)
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("sqlready={default}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color_on_stderr())
        .init();
}

fn color_on_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Audit(args) => run_audit(args),
        Command::Checks(command) => run_checks(command),
    }
}

fn run_audit(args: AuditArgs) -> Result<u8> {
    let started_at = chrono::Utc::now();
    let catalog = Catalog::load(args.checks_dir.as_deref())?;
    let collected = match &args.facts {
        Some(path) => Snapshot::load(path)?.into_collected(),
        None => {
            let specs = args
                .targets
                .iter()
                .map(|t| target::parse(t))
                .collect::<Result<Vec<_>, _>>()?;
            let options = CollectOptions {
                connect_timeout: Duration::from_secs(args.connect_timeout),
                statement_timeout: Duration::from_secs(args.statement_timeout),
                queries: audit::custom_queries(&catalog),
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(audit::collect_all(
                &specs,
                &options,
                usize::from(args.concurrency),
            ))
        }
    };
    if let Some(path) = &args.save_facts {
        let snapshot = Snapshot::new(collected.clone());
        let text = serde_json::to_string_pretty(&snapshot)? + "\n";
        output::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write facts file {}", path.display()))?;
    }
    let report = audit::judge(&catalog, &collected, &Thresholds::default(), started_at);
    let text = match args.format {
        Format::Json => render::json::render(&report),
        Format::Table => render::table::render(&report, color_on_stdout(&args.output)),
    };
    emit(&text, args.output.as_deref())?;
    Ok(if report.has_errors() {
        TARGET_FAILED
    } else if args
        .fail_on
        .severity()
        .is_some_and(|severity| report.fails_at(severity))
    {
        FINDINGS
    } else {
        0
    })
}

fn color_on_stdout(output: &Option<PathBuf>) -> bool {
    output.is_none() && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

fn emit(text: &str, path: Option<&Path>) -> Result<()> {
    match path {
        Some(path) => output::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display())),
        None => output::print(text).context("cannot write to stdout"),
    }
}

fn run_checks(command: ChecksCommand) -> Result<u8> {
    match command {
        ChecksCommand::List(ListArgs { checks_dir, json }) => {
            let catalog = Catalog::load(checks_dir.as_deref())?;
            emit(&list(&catalog, json)?, None)?;
        }
        ChecksCommand::Show { id, checks_dir } => {
            let catalog = Catalog::load(checks_dir.as_deref())?;
            let Some(compiled) = catalog.get(&id) else {
                bail!("no check '{id}': `sqlready checks list` shows every id");
            };
            emit(&docs::check_page(&compiled.check), None)?;
        }
        ChecksCommand::Lint { files } => return lint_files(&files),
        ChecksCommand::Docs => emit(&docs::catalog_page(&Catalog::load(None)?), None)?,
        ChecksCommand::Facts => emit(&facts_table(), None)?,
    }
    Ok(0)
}

fn list(catalog: &Catalog, json: bool) -> Result<String> {
    if json {
        let rows: Vec<serde_json::Value> = catalog
            .checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.check.id, "item": c.check.item, "severity": c.check.severity,
                    "title": c.check.title, "controls": c.check.controls,
                })
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&rows)? + "\n");
    }
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_header(vec!["id", "item", "severity", "title"]);
    for compiled in &catalog.checks {
        let check = &compiled.check;
        table.add_row(vec![
            check.id.as_str(),
            check.item.key(),
            check.severity.as_str(),
            check.title.as_str(),
        ]);
    }
    Ok(format!("{table}\n"))
}

fn facts_table() -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_header(vec!["fact", "type", "meaning"]);
    for spec in schema::FACTS {
        table.add_row(vec![spec.path, spec.ty.name(), spec.doc]);
    }
    format!("{table}\n")
}

/// Lints files and directories; exit 2 when any problem is found.
fn lint_files(paths: &[PathBuf]) -> Result<u8> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut pending = vec![path.clone()];
            while let Some(dir) = pending.pop() {
                for entry in std::fs::read_dir(&dir)
                    .with_context(|| format!("cannot read directory {}", dir.display()))?
                {
                    let entry = entry?.path();
                    if entry.is_dir() {
                        pending.push(entry);
                    } else if entry.extension().is_some_and(|e| e == "toml") {
                        files.push(entry);
                    }
                }
            }
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    let mut problems = 0;
    for file in &files {
        let shown = file.display().to_string();
        let contents = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read check file {shown}"))?;
        let diagnostics = match load::parse(&shown, &contents) {
            Ok(source) => lint::lint(&source),
            Err(diagnostics) => diagnostics,
        };
        for diagnostic in &diagnostics {
            eprintln!("{diagnostic}");
        }
        problems += diagnostics.len();
    }
    if problems > 0 {
        eprintln!("{problems} problem(s) in {} file(s)", files.len());
        return Ok(USAGE);
    }
    output::print(&format!("{} check file(s) OK\n", files.len()))?;
    Ok(0)
}
