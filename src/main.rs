//! The `sqlready` binary: parse arguments, run, map the outcome to an exit code.

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use comfy_table::{Table, presets};
use sqlready::audit::Plan;
use sqlready::checks::{Catalog, docs, lint, load};
use sqlready::cli::{
    AuditArgs, ChecksCommand, Cli, Command, EvidenceCommand, FailOn, ListArgs, MergeArgs,
};
use sqlready::config::{self, Config};
use sqlready::facts::schema;
use sqlready::facts::snapshot::Snapshot;
use sqlready::report::drift::{self, Baseline};
use sqlready::report::evidence::{self, BundleInput, SignatureCheck};
use sqlready::report::render::escape::visible;
use sqlready::report::render::{self, Format};
use sqlready::report::waivers::{self, WaiverStatus};
use sqlready::sources::CollectOptions;
use sqlready::storage;
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
    // First, before any thread exists: an interrupted run removes its temporary files.
    if let Err(err) = output::remove_temporaries_on_signals() {
        eprintln!("warning: SIGINT/SIGTERM will not remove temporary files ({err})");
    }
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
        Command::Audit(args) => run_audit(*args),
        Command::Merge(args) => run_merge(*args),
        Command::Init { path } => run_init(&path),
        Command::Evidence(command) => run_evidence(command),
        Command::Checks(command) => run_checks(command),
    }
}

/// The config file of a run and the catalog it selects from: the file is
/// `--config` / `$SQLREADY_CONFIG`, else `./sqlready.toml` when it exists,
/// unless `--no-config`; every problem of the file is reported at once.
fn load_config_and_catalog(args: &AuditArgs) -> Result<(Option<Config>, Catalog)> {
    match config_path(args.config.as_deref(), args.no_config) {
        Some(path) => {
            let (config, catalog) = Config::load_with_catalog(&path, args.checks_dir.as_deref())?;
            Ok((Some(config), catalog))
        }
        None => Ok((None, Catalog::load(args.checks_dir.as_deref())?)),
    }
}

/// Which config file a run reads, if any.
fn config_path(config: Option<&Path>, no_config: bool) -> Option<PathBuf> {
    let path = match config {
        Some(path) => path.to_path_buf(),
        None if no_config => return None,
        None => {
            let default = PathBuf::from(config::DEFAULT_FILE);
            if !default.is_file() {
                return None;
            }
            tracing::info!("using ./{}", config::DEFAULT_FILE);
            default
        }
    };
    Some(path)
}

fn run_audit(args: AuditArgs) -> Result<u8> {
    let started_at = chrono::Utc::now();
    let (config, catalog) = load_config_and_catalog(&args)?;
    let settings = config.as_ref().map(|c| c.audit.clone()).unwrap_or_default();
    let checks_dir = args.checks_dir.clone().or(settings.checks_dir.clone());
    let thresholds = config
        .as_ref()
        .map(|c| c.thresholds.clone())
        .unwrap_or_default();
    let fail_on = args.fail_on.or(settings.fail_on).unwrap_or(FailOn::Low);
    let concurrency = args.concurrency.or(settings.concurrency).unwrap_or(8);
    let mut evidence_dir = args
        .evidence
        .as_deref()
        .map(|dir| storage::BundleDestination::new(&evidence::expand_dir(dir, started_at)))
        .transpose()?;
    if let Some(destination) = &evidence_dir {
        destination.check()?;
    }
    if let Some(path) = args.output.as_deref().filter(|p| *p != Path::new("-")) {
        storage::check_output(&storage::Location::of_path(path)?)?;
    }
    let sign_key = args
        .sign_key
        .as_deref()
        .map(evidence::read_signing_key)
        .transpose()?;
    let shard = args
        .shard
        .or(settings.shard)
        .map(sqlready::shard::Filter::new);
    let mut baseline = match &args.baseline {
        Some(path) => Some((path, Baseline::load(path)?)),
        None => None,
    };
    // A shard compares its own slice: the baseline's other targets are not "removed".
    if let (Some(filter), Some((_, Some(previous)))) = (&shard, &mut baseline) {
        previous.targets.retain(|t| filter.shard.owns(&t.id));
    }
    let mut audited: Vec<String> = Vec::new();
    // The SHA-256 of a --facts file: the evidence bundle's provenance.
    let mut facts_sha256 = None;
    let mut collected = match &args.facts {
        Some(path) => {
            let (snapshot, sha256) = Snapshot::load_hashed(path)?;
            facts_sha256 = Some(sha256);
            let mut collected = snapshot.into_collected();
            if let Some(filter) = &shard {
                collected.retain(|outcome| filter.keep(audit::outcome_id(outcome)));
            }
            collected
        }
        None => {
            let mut plans = plans(&args.targets, config.as_ref())?;
            let connect_run =
                connect_plans(&mut plans, &args, &settings, usize::from(concurrency))?;
            audited = plans.iter().map(|p| p.id().to_string()).collect();
            let options = CollectOptions {
                connect_timeout: Duration::from_secs(
                    args.connect_timeout
                        .or(settings.connect_timeout)
                        .unwrap_or(10),
                ),
                statement_timeout: Duration::from_secs(
                    args.statement_timeout
                        .or(settings.statement_timeout)
                        .unwrap_or(10),
                ),
                queries: audit::custom_queries(&catalog),
                api_concurrency: usize::from(concurrency),
                shard: shard.clone(),
                ..CollectOptions::default()
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let display = sqlready::progress::Display::start(
                &options.progress,
                args.progress,
                std::io::stderr().is_terminal(),
            );
            let collected = runtime.block_on(audit::collect_plans(
                &plans,
                &options,
                usize::from(concurrency),
            ));
            display.finish();
            if let Some(summary) = connect_run.as_ref().and_then(|run| run.summary()) {
                eprintln!("{summary}");
            }
            collected
        }
    };
    // The team's word from sqlready.toml (restore drills), after collection.
    let records = config.as_ref().map(Config::records).unwrap_or_default();
    sqlready::facts::recorded::stamp(&records, &mut collected, started_at.date_naive());
    // Across the run's targets: environments and staging counterparts (also
    // on a re-judged facts file, with this run's [environments]).
    let environments = config
        .as_ref()
        .map(|c| c.environments.clone())
        .unwrap_or_default();
    // A shard sees only its slice: what it cannot see stays unknown there.
    let slice = shard.as_ref().map(|filter| filter.shard);
    sqlready::fleet::staging(&mut collected, &environments, slice);
    if let Some(path) = &args.save_facts {
        let snapshot = Snapshot::new(collected.clone());
        let text = serde_json::to_string_pretty(&snapshot)? + "\n";
        output::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write facts file {}", path.display()))?;
    }
    let mut report = audit::judge(&catalog, &collected, &thresholds, started_at);
    report.shard = shard.as_ref().map(sqlready::shard::Filter::info);
    if let Some(filter) = &shard {
        eprintln!(
            "shard {}: {} of the {} target(s) discovered",
            filter.shard,
            report.targets.len(),
            filter.fleet_size()
        );
    }
    if let Some(config) = &config
        && !config.waivers.is_empty()
    {
        waivers::apply(&mut report, &config.waivers, started_at.date_naive());
        // A shard sees only its slice: a waiver covering nothing here may cover
        // a target of another shard (`sqlready merge` tells stale fleet-wide).
        for waiver in report.waivers.iter().filter(|w| {
            w.state == WaiverStatus::Expired || (w.state == WaiverStatus::Stale && shard.is_none())
        }) {
            eprintln!(
                "warning: waiver for {} on {} ({}:{}) is {}: {}",
                waiver.check,
                waiver.target,
                config.path.display(),
                waiver.line,
                if waiver.state == WaiverStatus::Stale {
                    "stale"
                } else {
                    "expired"
                },
                waiver.note
            );
        }
    }
    apply_baseline(&mut report, &baseline);
    // The JSON text is made only when something writes it (the report in
    // json, or the bundle): a fleet's is hundreds of megabytes.
    let json = std::cell::LazyCell::new(|| render::json::render(&report));
    let text = render_text(
        &report,
        args.format,
        &catalog,
        sarif_locations(config.as_ref()).as_ref(),
        color_on_stdout(&args.output),
        args.details,
    );
    let facts_file = args
        .facts
        .as_ref()
        .map(|p| p.display().to_string())
        .zip(facts_sha256.clone());
    let html = |bundle: render::html::Bundle| {
        let mut context = render::html::Context::new(
            &catalog,
            &collected,
            &thresholds,
            facts_file.as_ref().map(|(p, s)| (p.as_str(), s.as_str())),
        );
        context.os_user = evidence::os_user();
        context.bundle = bundle;
        render::html::render(&report, &context)
    };
    if args.format != Format::Html {
        emit(
            text.as_deref().unwrap_or_else(|| json.as_str()),
            args.output.as_deref(),
        )?;
    } else if evidence_dir.is_none() {
        emit(&html(render::html::Bundle::None), args.output.as_deref())?;
    }
    if let Some(destination) = &mut evidence_dir {
        let dir = &destination.local_dir();
        let invocation = serde_json::json!({
            "targets": audited,
            "facts": args.facts.as_ref().map(|p| p.display().to_string()),
            "config": config.as_ref().map(|c| c.path.display().to_string()),
            "checks_dir": checks_dir.as_ref().map(|p| p.display().to_string()),
            "format": format!("{:?}", args.format).to_lowercase(),
            "fail_on": format!("{fail_on:?}").to_lowercase(),
            "baseline": args.baseline.as_ref().map(|p| p.display().to_string()),
            "fail_on_regression": args.fail_on_regression,
            "fail_on_unknown": args.fail_on_unknown,
            "signed": sign_key.is_some(),
        });
        let input = BundleInput {
            report: &report,
            report_json: &json,
            collected: &collected,
            catalog: &catalog,
            thresholds: &thresholds,
            config: config.as_ref().map(|c| (c.path.as_path(), c.text.as_str())),
            invocation,
            facts_file: args.facts.as_deref().zip(facts_sha256.as_deref()),
        };
        let files = evidence::write(dir, &input, sign_key.as_ref())?;
        destination.publish()?;
        eprintln!("evidence bundle: {destination} ({files} files)");
        if args.format == Format::Html {
            let manifest = std::fs::read(dir.join(evidence::MANIFEST)).with_context(|| {
                format!("cannot read {}", dir.join(evidence::MANIFEST).display())
            })?;
            let bundle = render::html::Bundle::Written {
                dir: destination.to_string(),
                manifest_sha256: evidence::sha256_hex(&manifest),
                signed: sign_key.is_some(),
            };
            emit(&html(bundle), args.output.as_deref())?;
        }
    }
    Ok(exit_code(
        &report,
        fail_on,
        args.fail_on_regression,
        args.fail_on_unknown,
    ))
}

/// The exit code of a report, as the contract fixes it (audit and merge alike).
fn exit_code(
    report: &sqlready::report::Report,
    fail_on: FailOn,
    fail_on_regression: bool,
    fail_on_unknown: bool,
) -> u8 {
    if report.has_errors() {
        TARGET_FAILED
    } else if fail_on
        .severity()
        .is_some_and(|severity| report.fails_at(severity))
        || (fail_on_regression && report.has_regressions())
        || (fail_on_unknown && report.has_unjudged())
    {
        FINDINGS
    } else {
        0
    }
}

/// Every format but HTML (whose page needs the run's context), as text.
/// Compares the report with the previous run's (`--baseline`), in `audit` and `merge` alike;
/// a missing baseline file is a first run, said once.
fn apply_baseline<P: AsRef<std::path::Path>, B>(
    report: &mut sqlready::report::Report,
    baseline: &Option<(P, Option<B>)>,
) where
    B: std::borrow::Borrow<sqlready::report::drift::Baseline>,
{
    match baseline {
        Some((path, Some(previous))) => drift::apply(
            report,
            previous.borrow(),
            &path.as_ref().display().to_string(),
        ),
        Some((path, None)) => {
            let path = path.as_ref().display();
            eprintln!("warning: baseline {path} does not exist: a first run, nothing compared");
            drift::missing(report, &path.to_string());
        }
        None => {}
    }
}

/// The report in a text format; `None` for json (the caller's JSON text,
/// written as it is) and html (rendered by the caller after the bundle whose
/// manifest hash it shows).
fn render_text(
    report: &sqlready::report::Report,
    format: Format,
    catalog: &Catalog,
    locations: Option<&render::sarif::ConfigLocations>,
    color: bool,
    details: render::table::Details,
) -> Option<String> {
    match format {
        Format::Json | Format::Html => None,
        Format::Table => Some(render::table::render_with(report, color, details)),
        Format::Sarif => Some(render::sarif::render(report, catalog, locations)),
        Format::Junit => Some(render::junit::render(report)),
        Format::Markdown => Some(render::markdown::render(report)),
    }
}

/// `sqlready merge`: shard reports (and bundles) in, one fleet report (and bundle) out.
fn run_merge(args: MergeArgs) -> Result<u8> {
    use sqlready::report::evidence::merge as bundles;
    use sqlready::report::merge;
    let merged_at = chrono::Utc::now();
    grow_heaps_in_large_steps();
    let catalog = Catalog::load(args.checks_dir.as_deref())?;
    let mut evidence_dir = args
        .evidence
        .as_deref()
        .map(|dir| storage::BundleDestination::new(&evidence::expand_dir(dir, merged_at)))
        .transpose()?;
    if let Some(destination) = &evidence_dir {
        destination.check()?;
    }
    if let Some(path) = args.output.as_deref().filter(|p| *p != Path::new("-")) {
        storage::check_output(&storage::Location::of_path(path)?)?;
    }
    let sign_key = args
        .sign_key
        .as_deref()
        .map(evidence::read_signing_key)
        .transpose()?;
    let public_key = args
        .public_key
        .as_deref()
        .map(evidence::read_verifying_key)
        .transpose()?;
    let baseline = match &args.baseline {
        Some(path) => Some((path, Baseline::load(path)?)),
        None => None,
    };
    // Object-store bundles are read from a temporary copy that lives until the merge ends.
    let bundle_sources = args
        .evidence_in
        .iter()
        .map(|dir| storage::BundleSource::open(dir))
        .collect::<Result<Vec<_>, _>>()?;
    let shard_bundles = bundle_sources
        .iter()
        .map(|source| bundles::open(&source.dir, public_key.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    let phase = std::time::Instant::now();
    let mut raw: Vec<ShardReport> = Vec::new();
    for arg in &args.reports {
        raw.extend(shard_reports(arg)?);
    }
    if args.reports.is_empty() {
        for bundle in &shard_bundles {
            let source = bundle.dir.join("report.json").display().to_string();
            raw.push(ShardReport::Bytes(source, bundle.report_json().into()));
        }
    }
    let input_bytes: usize = raw.iter().map(ShardReport::size).sum();
    let inputs = parse_reports(raw)?;
    tracing::debug!(
        "merge: {} shard report(s), {input_bytes} bytes, read and parsed in {:.2?}",
        inputs.len(),
        phase.elapsed()
    );
    // Which shard each report is, by the SHA-256 of its bytes (for the bundles).
    let shard_of: Vec<(String, u32)> = inputs
        .iter()
        .filter_map(|i| Some((i.sha256.clone(), i.report.shard.as_ref()?.index)))
        .collect();
    let outcome = merge::merge(inputs)?;
    for warning in &outcome.warnings {
        eprintln!("warning: {warning}");
    }
    let mut report = outcome.report;
    // The staging item across every shard's targets, as one unsharded run judges it.
    let environments = match config_path(args.config.as_deref(), args.no_config) {
        Some(path) => Config::load(&path)?.environments,
        None => sqlready::fleet::Environments::default(),
    };
    let phase = std::time::Instant::now();
    sqlready::fleet::merge::rejudge(&mut report, &catalog, &environments);
    tracing::debug!("merge: staging judged again in {:.2?}", phase.elapsed());
    // Each bundle must hold one of the merged reports, and each shard have one bundle.
    let mut bundle_of: std::collections::BTreeMap<u32, &bundles::ShardBundle> =
        std::collections::BTreeMap::new();
    for bundle in &shard_bundles {
        let sha256 = evidence::sha256_hex(bundle.report_json());
        let Some((_, index)) = shard_of.iter().find(|(s, _)| *s == sha256) else {
            bail!(
                "the evidence bundle {} holds a report.json that is none of the shard reports given: pass the reports its shards wrote, or only the bundles",
                bundle.dir.display()
            );
        };
        let index = *index;
        if let Some(earlier) = bundle_of.insert(index, bundle) {
            bail!(
                "the evidence bundles {} and {} are both of shard {index}",
                earlier.dir.display(),
                bundle.dir.display()
            );
        }
    }
    if evidence_dir.is_some()
        && let Some(count) = report.merged.as_ref().map(|m| m.count)
    {
        let missing: Vec<String> = (0..count)
            .filter(|i| !bundle_of.contains_key(i))
            .map(|i| i.to_string())
            .collect();
        if !missing.is_empty() {
            bail!(
                "no evidence bundle for shard(s) {} of {count}: name each shard's bundle with --evidence-in",
                missing.join(", ")
            );
        }
    }
    apply_baseline(&mut report, &baseline);
    let json = std::cell::LazyCell::new(|| render::json::render_sized(&report, input_bytes));
    let phase = std::time::Instant::now();
    let text = render_text(
        &report,
        args.format,
        &catalog,
        None,
        color_on_stdout(&args.output),
        args.details,
    );
    let shards_line = report.merged.as_ref().map_or_else(String::new, |m| {
        let sources: Vec<&str> = m.shards.iter().map(|s| s.source.as_str()).collect();
        format!(
            "merged from {} shard report(s): {}",
            m.shards.len(),
            sources.join(", ")
        )
    });
    let html = |bundle: render::html::Bundle| {
        let mut context = render::html::Context::new(
            &catalog,
            &[],
            &sqlready::checks::thresholds::ThresholdSet::default(),
            None,
        );
        context.provenance = shards_line.clone();
        context.os_user = evidence::os_user();
        context.bundle = bundle;
        render::html::render(&report, &context)
    };
    if args.format == Format::Json && evidence_dir.is_none() {
        // Streamed: the JSON text is needed nowhere else.
        emit_with(args.output.as_deref(), |out| {
            render::json::write(&report, out)
        })?;
    } else if args.format != Format::Html {
        emit(
            text.as_deref().unwrap_or_else(|| json.as_str()),
            args.output.as_deref(),
        )?;
    } else if evidence_dir.is_none() {
        emit(&html(render::html::Bundle::None), args.output.as_deref())?;
    }
    tracing::debug!(
        "merge: report rendered and written in {:.2?}",
        phase.elapsed()
    );
    if let Some(destination) = &mut evidence_dir {
        let dir = &destination.local_dir();
        let input = bundles::MergedInput {
            report: &report,
            report_json: &json,
            catalog: &catalog,
            shards: bundle_of.iter().map(|(i, b)| (*i, *b)).collect(),
            invocation: serde_json::json!({
                "reports": report.merged.as_ref().map(|m| m.shards.iter().map(|s| s.source.clone()).collect::<Vec<_>>()),
                "evidence_in": args.evidence_in.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "format": format!("{:?}", args.format).to_lowercase(),
                "fail_on": format!("{:?}", args.fail_on).to_lowercase(),
                "baseline": args.baseline.as_ref().map(|p| p.display().to_string()),
                "signed": sign_key.is_some(),
                "shard_signatures_checked": public_key.is_some(),
            }),
        };
        let files = bundles::write(
            dir,
            &input,
            |signed| html(render::html::Bundle::Inside { signed }),
            sign_key.as_ref(),
        )?;
        destination.publish()?;
        eprintln!("evidence bundle: {destination} ({files} files)");
        if args.format == Format::Html {
            let manifest = std::fs::read(dir.join(evidence::MANIFEST)).with_context(|| {
                format!("cannot read {}", dir.join(evidence::MANIFEST).display())
            })?;
            let bundle = render::html::Bundle::Written {
                dir: destination.to_string(),
                manifest_sha256: evidence::sha256_hex(&manifest),
                signed: sign_key.is_some(),
            };
            emit(&html(bundle), args.output.as_deref())?;
        }
    }
    let code = exit_code(
        &report,
        args.fail_on,
        args.fail_on_regression,
        args.fail_on_unknown,
    );
    // A fleet's report is millions of small allocations the process is about
    // to give back whole; freeing them one by one took a noticeable share of
    // a large merge.
    std::mem::forget(json);
    std::mem::forget(report);
    Ok(code)
}

/// A merge holds about twice its inputs' size in millions of small
/// allocations made on every core. glibc grows a thread's heap a few pages at
/// a time, one `mprotect` call each (130,000 calls for 8 shards of 1,000
/// targets, a third of the merge's kernel time); growing it 64 MiB at a time
/// (untouched pages cost no memory) removes them.
fn grow_heaps_in_large_steps() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt sets a tuning parameter of glibc's allocator; any value is valid.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

/// One shard report to parse: a local file (read by the thread that parses
/// it), or bytes already in memory (an object-store object, a bundle's copy).
enum ShardReport<'a> {
    File {
        source: String,
        path: PathBuf,
        size: usize,
    },
    Bytes(String, std::borrow::Cow<'a, [u8]>),
}

impl ShardReport<'_> {
    fn size(&self) -> usize {
        match self {
            ShardReport::File { size, .. } => *size,
            ShardReport::Bytes(_, bytes) => bytes.len(),
        }
    }
}

/// The shard reports one REPORT argument of `merge` names: a JSON report
/// file, or a directory whose `*.json` files (not recursive, in name order)
/// are reports; the same for an object in, or a prefix of, `s3://` and
/// `gs://` (src/storage.rs), fetched here.
fn shard_reports(arg: &str) -> Result<Vec<ShardReport<'static>>> {
    let path = match storage::Location::parse(arg)? {
        storage::Location::Local(path) => path,
        storage::Location::Remote(remote) => {
            let objects = storage::read_reports(&remote)?;
            if objects.is_empty() {
                bail!("{remote} holds no *.json shard reports");
            }
            return Ok(objects
                .into_iter()
                .map(|(source, bytes)| ShardReport::Bytes(source, bytes.into()))
                .collect());
        }
    };
    let file = |source: String, path: PathBuf| -> Result<ShardReport<'static>> {
        let size = std::fs::metadata(&path)
            .with_context(|| format!("cannot read shard report {source}"))?
            .len();
        Ok(ShardReport::File {
            source,
            path,
            size: usize::try_from(size).unwrap_or(usize::MAX),
        })
    };
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
            .with_context(|| format!("cannot read directory {arg}"))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        if files.is_empty() {
            bail!("{arg} holds no *.json shard reports");
        }
        return files
            .into_iter()
            .map(|path| file(path.display().to_string(), path))
            .collect();
    }
    Ok(vec![file(arg.to_string(), path)?])
}

/// Reads and parses the shard reports on every core, keeping their order:
/// this is most of a merge's time (8 shards of 1,000 targets are ~450 MB of
/// JSON). Each rayon job reads its files into one buffer it reuses.
fn parse_reports(raw: Vec<ShardReport>) -> Result<Vec<sqlready::report::merge::Input>> {
    use rayon::prelude::*;
    let parsed: Vec<Result<sqlready::report::merge::Input>> = raw
        .par_iter()
        .map_init(Vec::new, |buffer, report| match report {
            ShardReport::Bytes(source, bytes) => parse_report(source.clone(), bytes),
            ShardReport::File { source, path, size } => read_into(source, path, *size, buffer)
                .and_then(|()| parse_report(source.clone(), buffer)),
        })
        .collect();
    // The first bad report in the order given, whichever thread found it.
    parsed.into_iter().collect()
}

/// Reads the file at `path` into `buffer`, replacing what it held.
fn read_into(source: &str, path: &Path, size: usize, buffer: &mut Vec<u8>) -> Result<()> {
    use std::io::Read;
    buffer.clear();
    buffer.reserve(size);
    std::fs::File::open(path)
        .and_then(|mut file| file.read_to_end(buffer))
        .with_context(|| format!("cannot read shard report {source}"))?;
    Ok(())
}

/// A shard report's bytes, parsed, with their SHA-256.
fn parse_report(source: String, bytes: &[u8]) -> Result<sqlready::report::merge::Input> {
    // UTF-8 checked once for the whole file, not string by string.
    let text = std::str::from_utf8(bytes).with_context(|| {
        format!("{source} is not a sqlready JSON report (it is not UTF-8 text)")
    })?;
    let report = serde_json::from_str(text).with_context(|| {
        format!(
            "{source} is not a sqlready JSON report (`sqlready audit --shard I/N --format json` writes one)"
        )
    })?;
    Ok(sqlready::report::merge::Input {
        sha256: evidence::sha256_hex(bytes),
        source,
        report,
    })
}

/// What to audit: the TARGET arguments, else the config file's targets.
fn plans(targets: &[String], config: Option<&Config>) -> Result<Vec<Plan>> {
    if !targets.is_empty() {
        return Ok(targets
            .iter()
            .map(|t| target::parse(t).map(Plan::single))
            .collect::<Result<Vec<_>, _>>()?);
    }
    match config {
        Some(config) if !config.targets.is_empty() => Ok(config
            .targets
            .iter()
            .map(|entry| Plan {
                database: entry.database.clone(),
                password_env: entry.password_env.clone(),
                cloud: entry.cloud.clone(),
                connect: entry
                    .connect
                    .clone()
                    .map(|settings| sqlready::connect::Connect {
                        settings,
                        run: std::sync::Arc::new(sqlready::connect::Run::new(Vec::new(), 1)),
                    }),
            })
            .collect()),
        Some(config) => bail!(
            "no targets: give TARGET arguments or --facts FILE, or add [[targets]] to {}",
            config.path.display()
        ),
        None => bail!(
            "no targets: give TARGET arguments or --facts FILE, or list [[targets]] in sqlready.toml (`sqlready init` writes a template)"
        ),
    }
}

/// `--connect` and `connect = true`: every cloud plan without a paired
/// database gets the run's shared connect state (`--resolve` and the
/// config's `resolve` rules, the session bound). Returns it for the summary.
fn connect_plans(
    plans: &mut [Plan],
    args: &AuditArgs,
    settings: &config::AuditSettings,
    concurrency: usize,
) -> Result<Option<std::sync::Arc<sqlready::connect::Run>>> {
    use sqlready::connect::{Connect, Run, Settings, credentials::PasswordSource};
    let from_flags = Settings {
        user: args.connect_user.clone(),
        password: match (&args.connect_password_env, &args.connect_password_file) {
            (Some(env), _) => Some(PasswordSource::Env(env.clone())),
            (None, Some(file)) => Some(PasswordSource::File(file.clone())),
            (None, None) => None,
        },
        ca_file: args.connect_ca_file.clone(),
        tls: None,
    };
    let wanted = args.connect || plans.iter().any(|p| p.connect.is_some());
    if !wanted {
        if !args.resolve.is_empty() {
            eprintln!("warning: --resolve applies to --connect sessions, and --connect is not on");
        }
        return Ok(None);
    }
    let mut resolve = args.resolve.clone();
    resolve.extend(settings.resolve.iter().cloned());
    let run = std::sync::Arc::new(Run::new(resolve, concurrency));
    let mut cloud = 0;
    for plan in plans.iter_mut() {
        let eligible = plan.cloud.is_some() && plan.database.is_none();
        let entry = plan.connect.take().map(|c| c.settings);
        let chosen = match entry {
            // Flags override the entry's keys they set.
            Some(entry) => Some(Settings {
                user: from_flags.user.clone().or(entry.user),
                password: from_flags.password.clone().or(entry.password),
                ca_file: from_flags.ca_file.clone().or(entry.ca_file),
                tls: entry.tls,
            }),
            None if args.connect => Some(from_flags.clone()),
            None => None,
        };
        if eligible && let Some(settings) = chosen {
            cloud += 1;
            plan.connect = Some(Connect {
                settings,
                run: run.clone(),
            });
        }
    }
    if cloud == 0 {
        bail!("--connect applies to cloud targets (rds://…, cloudsql://…), and none is given");
    }
    Ok(Some(run))
}

/// Physical locations for SARIF: the config file and its targets' lines.
fn sarif_locations(config: Option<&Config>) -> Option<render::sarif::ConfigLocations> {
    let config = config?;
    let path = &config.path;
    let relative = match std::env::current_dir() {
        Ok(cwd) if path.is_absolute() => path.strip_prefix(&cwd).map(Path::to_path_buf).ok(),
        _ => Some(path.clone()),
    };
    let uri = match relative {
        Some(relative) => relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().replace(' ', "%20"))
            .filter(|c| c != ".")
            .collect::<Vec<_>>()
            .join("/"),
        None => format!("file://{}", path.display()).replace(' ', "%20"),
    };
    Some(render::sarif::ConfigLocations {
        uri,
        lines: config.target_lines(),
    })
}

fn run_init(path: &Path) -> Result<u8> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| {
            format!(
                "cannot create {}: `sqlready init` never overwrites a file; remove it or name another",
                path.display()
            )
        })?;
    std::io::Write::write_all(&mut file, config::template().as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    output::print(&format!(
        "wrote {}: list your targets under [[targets]], then run `sqlready audit`\n",
        path.display()
    ))?;
    Ok(0)
}

fn run_evidence(command: EvidenceCommand) -> Result<u8> {
    match command {
        EvidenceCommand::Keygen {
            private_key,
            public_key,
        } => {
            let fingerprint = evidence::keygen(&private_key, &public_key)?;
            output::print(&format!(
                "wrote {} (private, keep it secret) and {} (public, for `evidence verify --public-key`)\npublic key sha256 {fingerprint}\n",
                private_key.display(),
                public_key.display()
            ))?;
            Ok(0)
        }
        EvidenceCommand::Verify { dir, public_key } => {
            let key = public_key
                .as_deref()
                .map(evidence::read_verifying_key)
                .transpose()?;
            let source = storage::BundleSource::open(&dir)?;
            let verification = evidence::verify(&source.dir, key.as_ref())?;
            let mut out = evidence::describe_provenance(&source.dir);
            for path in &verification.changed {
                out.push_str(&format!("changed: {}\n", visible(path)));
            }
            for path in &verification.added {
                out.push_str(&format!("added: {}\n", visible(path)));
            }
            for why in &verification.not_regular {
                out.push_str(&format!("not opened: {}\n", visible(why)));
            }
            for path in &verification.removed {
                out.push_str(&format!("removed: {}\n", visible(path)));
            }
            if let Some(problem) = &verification.manifest_problem {
                out.push_str(&format!("manifest: {problem}\n"));
            }
            out.push_str(&match &verification.signature {
                SignatureCheck::NotChecked { signed: true } => {
                    "signature: present, not checked (pass --public-key FILE to check it)\n".to_string()
                }
                SignatureCheck::NotChecked { signed: false } => {
                    "signature: none (the manifest detects changes, not a forger who rewrites it too)\n".to_string()
                }
                SignatureCheck::Valid { key_sha256 } => format!("signature: valid (public key sha256 {key_sha256})\n"),
                SignatureCheck::Invalid(why) => format!("signature: INVALID: {why}\n"),
            });
            if verification.ok() {
                out.push_str(&format!(
                    "OK: {} file(s) match {}\n",
                    verification.files,
                    dir.display()
                ));
                output::print(&out)?;
                Ok(0)
            } else {
                out.push_str(&format!(
                    "FAILED: {} does not match its manifest\n",
                    dir.display()
                ));
                output::print(&out)?;
                Ok(FINDINGS)
            }
        }
    }
}

fn color_on_stdout(output: &Option<PathBuf>) -> bool {
    output.is_none() && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// Writes the report to `path` atomically, or to stdout (no path, or `-`).
fn emit(text: &str, path: Option<&Path>) -> Result<()> {
    emit_with(path, |out| std::io::Write::write_all(out, text.as_bytes()))
}

/// [`emit`] with the report streamed by `write`: a fleet's JSON report is
/// hundreds of megabytes, written without first being held as one string.
fn emit_with(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    match path.filter(|p| *p != Path::new("-")) {
        Some(path) => match storage::Location::of_path(path)? {
            storage::Location::Local(path) => output::write_atomic_with(&path, write)
                .with_context(|| format!("cannot write {}", path.display())),
            storage::Location::Remote(remote) => {
                // One PUT of the whole object (no partial object is ever visible).
                let mut bytes = Vec::new();
                write(&mut bytes).context("cannot render the report")?;
                Ok(storage::put_file(&remote, &bytes)?)
            }
        },
        None => output::print_with(write).context("cannot write to stdout"),
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
        ChecksCommand::Lint {
            files,
            config,
            no_config,
        } => {
            // The operator's allowlist widens what custom queries may call,
            // exactly as in `audit`: a query lint accepts is one audit runs.
            if let Some(path) = config_path(config.as_deref(), no_config) {
                let config = Config::load(&path)?;
                sqlready::checks::query::set_allowed(config.allow_functions);
            }
            return lint_files(&files);
        }
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
