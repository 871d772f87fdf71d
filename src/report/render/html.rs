//! The HTML report (`--format html`, and `report.html` in every evidence
//! bundle): one self-contained file for people who do not read JSON — a
//! fleet matrix (targets × checklist items), each target's checklist with
//! the facts that decided it, and the run header.
//!
//! Why it is shaped this way:
//! - **Offline.** No request leaves the page: the style and script are
//!   inline, no font or image is fetched, and a Content-Security-Policy
//!   (`default-src 'none'`, the inline style and script allowed only by
//!   their SHA-256) makes the browser refuse anything else — including a
//!   script that escaping somehow let through.
//! - **Readable without JavaScript.** Every table is rendered here; the
//!   script only adds sorting, filtering and live totals. It reads the
//!   rows' `data-` attributes and never turns text into markup.
//! - **Escaped.** Target ids, tags, error messages and fact values are
//!   attacker-influenced: the askama template escapes every value (text
//!   and attributes alike), and control characters are shown as visible
//!   escapes as in the other formats.
//! - **Small.** Text shared by many targets (fix texts, check docs) is
//!   written once and linked, so 1,000 targets stay well under 5 MB.
//!
//! Pure: it reads the [`Report`] and a [`Context`] (plain data gathered
//! from the facts, catalog and thresholds) and returns a string.

use super::escape::visible;
use crate::checks::Catalog;
use crate::checks::model::{Item, Severity, Status};
use crate::checks::thresholds::ThresholdSet;
use crate::facts::snapshot::Collected;
use crate::report::drift::Change;
use crate::report::waivers::WaiverStatus;
use crate::report::{Finding, Report, TargetReport};
use askama::Template;
use base64::Engine as _;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const STYLE: &str = include_str!("../../../templates/report.css");
const SCRIPT: &str = include_str!("../../../templates/report.js");

/// Up to this many targets, a target view lists its passing and
/// not-applicable findings too; a larger fleet lists only what needs
/// attention, so 1,000 targets stay under 5 MB (the JSON report and the
/// evidence bundle hold every finding).
const FULL_VIEWS: usize = 100;

/// A fact value longer than this is cut in the page (the bundle's
/// facts.json holds it whole).
const VALUE_CHARS: usize = 240;

/// Where a fact came from: the source and the query, setting or API field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source: String,
    pub origin: String,
}

/// A check's documentation, shown once in the page's check list.
#[derive(Debug, Clone, Default)]
pub struct CheckDoc {
    pub why: String,
    pub references: Vec<String>,
}

/// Who a source ran as, for one target.
#[derive(Debug, Clone)]
pub struct Principal {
    pub target: String,
    pub source: String,
    pub principal: Option<String>,
}

/// Whether the page belongs to an evidence bundle.
#[derive(Debug, Clone, Default)]
pub enum Bundle {
    /// A plain `--format html` run without `--evidence`.
    #[default]
    None,
    /// The `report.html` inside a bundle: the manifest that lists this file
    /// cannot name its own hash, so the page says where to verify it.
    Inside { signed: bool },
    /// A `--format html` run that also wrote a bundle.
    Written {
        dir: String,
        manifest_sha256: String,
        signed: bool,
    },
}

/// What the page shows beyond the report: the provenance of each deciding
/// fact, the checks' documentation and the run record.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Target id → fact path → where it came from.
    pub origins: HashMap<String, BTreeMap<String, Origin>>,
    /// Check id → its documentation.
    pub checks: BTreeMap<String, CheckDoc>,
    pub principals: Vec<Principal>,
    /// The account that ran sqlready on its host.
    pub os_user: Option<String>,
    /// How the facts were obtained, in words (live, or from a facts file and its hash).
    pub provenance: String,
    /// The run's thresholds, `name = value`.
    pub thresholds: Vec<(String, String)>,
    /// Per-target overrides of the thresholds: (target, `name = value, …`).
    pub threshold_overrides: Vec<(String, String)>,
    pub bundle: Bundle,
}

impl Context {
    /// Gathers the context from what the run had at hand.
    pub fn new(
        catalog: &Catalog,
        collected: &[Collected],
        thresholds: &ThresholdSet,
        facts_file: Option<(&str, &str)>,
    ) -> Context {
        let mut origins = HashMap::new();
        let mut principals = Vec::new();
        for target in collected.iter().filter_map(|c| c.as_ref().ok()) {
            let facts = target
                .facts
                .iter()
                .map(|(path, fact)| {
                    let origin = match &fact.state {
                        crate::facts::FactState::Known { .. } => fact.origin.clone(),
                        // The finding's detail already says why.
                        crate::facts::FactState::Unknown { .. } => "unknown".to_string(),
                    };
                    (
                        path.clone(),
                        Origin {
                            source: fact.source.clone(),
                            origin,
                        },
                    )
                })
                .collect();
            origins.insert(target.id.clone(), facts);
            if target.sources.is_empty() {
                principals.push(Principal {
                    target: target.id.clone(),
                    source: target.kind.as_str().to_string(),
                    principal: target.principal.clone(),
                });
            }
            for source in target.sources.iter().filter(|s| s.error.is_none()) {
                principals.push(Principal {
                    target: target.id.clone(),
                    source: format!("{} ({})", source.kind.as_str(), source.id),
                    principal: source.principal.clone(),
                });
            }
        }
        let checks = catalog
            .checks
            .iter()
            .map(|c| {
                (
                    c.check.id.clone(),
                    CheckDoc {
                        why: c.check.why.clone(),
                        references: c.check.references.clone(),
                    },
                )
            })
            .collect();
        let pairs = |value: Json| -> Vec<(String, String)> {
            match value {
                Json::Object(map) => map.into_iter().map(|(k, v)| (k, v.to_string())).collect(),
                _ => Vec::new(),
            }
        };
        let thresholds_run = pairs(serde_json::to_value(&thresholds.run).unwrap_or(Json::Null));
        let threshold_overrides = thresholds
            .overrides()
            .into_iter()
            .map(|(target, overrides)| {
                let text = pairs(overrides)
                    .into_iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                (target, text)
            })
            .collect();
        let provenance = match facts_file {
            Some((path, sha256)) => format!(
                "read from the facts file {path} (sha256 {sha256}), not observed live by this run"
            ),
            None => "observed live".to_string(),
        };
        Context {
            origins,
            checks,
            principals,
            os_user: None,
            provenance,
            thresholds: thresholds_run,
            threshold_overrides,
            bundle: Bundle::None,
        }
    }
}

/// Renders the report as one self-contained HTML page.
pub fn render(report: &Report, context: &Context) -> String {
    let page = Page::new(report, context);
    // Rendering into a String cannot fail but for a formatter error, which
    // the template's own values never raise.
    page.render().unwrap_or_else(|err| {
        format!("<!doctype html><title>sqlready</title><p>cannot render the HTML report: {err}")
    })
}

/// The statuses in the order the page lists them, worst first.
const STATUSES: [Status; 6] = [
    Status::Fail,
    Status::Error,
    Status::Warn,
    Status::Unknown,
    Status::Pass,
    Status::NotApplicable,
];

/// One letter per status: the rows' `data-s` and the cells' class.
fn code(status: Status) -> &'static str {
    match status {
        Status::Pass => "p",
        Status::Warn => "w",
        Status::Fail => "f",
        Status::Unknown => "u",
        Status::NotApplicable => "n",
        Status::Error => "e",
    }
}

/// A shape per status, so the matrix reads without colour.
fn shape(status: Status) -> &'static str {
    match status {
        Status::Pass => "✓",
        Status::Warn => "▲",
        Status::Fail => "✖",
        Status::Unknown => "?",
        Status::NotApplicable => "–",
        Status::Error => "!",
    }
}

/// Text from a target or a config, shown as it is but with control
/// characters visible (the template escapes markup).
fn shown(text: &str) -> String {
    visible(text).into_owned()
}

fn cut(text: String) -> String {
    if text.chars().count() > VALUE_CHARS {
        format!(
            "{}…",
            text.chars().take(VALUE_CHARS - 1).collect::<String>()
        )
    } else {
        text
    }
}

/// A column of the fleet matrix.
struct Column {
    key: &'static str,
}

/// A status count, for the totals.
struct Total {
    code: &'static str,
    shape: &'static str,
    label: &'static str,
    /// Per item, in checklist order.
    per_item: Vec<usize>,
    all: usize,
}

/// A cell of the fleet matrix.
struct Cell {
    code: &'static str,
    shape: &'static str,
    label: &'static str,
}

/// One target's row of the fleet matrix.
struct Row {
    index: usize,
    id: String,
    kind: String,
    engine: String,
    role: String,
    score: String,
    /// The score for sorting: -1 when none.
    score_sort: i64,
    coverage: String,
    coverage_sort: String,
    tags: Vec<String>,
    /// The tags, one per line, for the script.
    tags_data: String,
    /// Every item's status letter, in checklist order.
    statuses: String,
    cells: Vec<Cell>,
    error: String,
}

/// A deciding fact of a finding.
struct FactLine {
    path: String,
    value: String,
    source: String,
    origin: String,
}

/// A finding as the target view shows it.
struct FindingView {
    code: &'static str,
    shape: &'static str,
    status: &'static str,
    severity: &'static str,
    check: String,
    title: String,
    detail: String,
    facts: Vec<FactLine>,
    resolve: Vec<String>,
    waiver: Option<String>,
    drift: Option<String>,
    /// The index of its fix text in the page's fix list.
    fix: Option<usize>,
}

/// A finding of a large fleet's target view: its line, and the shared
/// finding (detail, facts, fix) it links to.
struct Line {
    code: &'static str,
    shape: &'static str,
    status: &'static str,
    severity: &'static str,
    check: String,
    group: usize,
    waiver: Option<String>,
    drift: Option<String>,
}

/// Open findings of a large fleet, each distinct one written once.
#[derive(Default)]
struct Groups {
    views: Vec<(usize, FindingView)>,
    index: HashMap<String, usize>,
}

impl Groups {
    /// The group of `view` (its waiver and drift belong to the target, not the group).
    fn add(&mut self, mut view: FindingView) -> Line {
        let line = Line {
            code: view.code,
            shape: view.shape,
            status: view.status,
            severity: view.severity,
            check: view.check.clone(),
            group: 0,
            waiver: view.waiver.take(),
            drift: view.drift.take(),
        };
        let facts: Vec<String> = view
            .facts
            .iter()
            .map(|f| {
                format!(
                    "{}\u{0}{}\u{0}{}\u{0}{}",
                    f.path, f.value, f.source, f.origin
                )
            })
            .collect();
        let key = format!(
            "{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}\u{1}{:?}",
            view.check,
            view.status,
            view.detail,
            facts.join("\u{1}"),
            view.resolve.join("\u{1}"),
            view.fix
        );
        let group = match self.index.get(&key) {
            Some(group) => *group,
            None => {
                let group = self.views.len();
                self.views.push((0, view));
                self.index.insert(key, group);
                group
            }
        };
        if let Some((count, _)) = self.views.get_mut(group) {
            *count += 1;
        }
        Line { group, ..line }
    }
}

/// One target's view.
struct TargetView {
    index: usize,
    id: String,
    summary: String,
    facts: Vec<(&'static str, String)>,
    tags: Vec<String>,
    warnings: Vec<String>,
    error: Option<String>,
    /// fail, error, warn, unknown: shown in full (a fleet of up to
    /// [`FULL_VIEWS`] targets).
    open: Vec<FindingView>,
    /// The same, for a larger fleet: one line each, linking to the finding
    /// as [`Page::groups`] shows it once for every target that has it.
    lines: Vec<Line>,
    /// Advice: an advisory check's `warn`, which did not lower its item;
    /// shown apart from what to fix (a fleet of up to [`FULL_VIEWS`] targets;
    /// a larger one marks its lines `advice`).
    advice: Vec<FindingView>,
    /// pass and n/a: shown folded.
    settled: Vec<FindingView>,
    settled_summary: String,
}

/// A check as the check list shows it.
struct CheckView {
    id: String,
    title: String,
    item: &'static str,
    severity: &'static str,
    controls: String,
    why: String,
    /// (text, whether it is a web link).
    references: Vec<(String, bool)>,
}

struct WaiverRow {
    state: &'static str,
    code: &'static str,
    check: String,
    target: String,
    owner: String,
    expires: String,
    note: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    style: &'static str,
    script: &'static str,
    csp: String,
    version: String,
    started_at: String,
    finished_at: String,
    score_line: String,
    status_line: String,
    drift_line: Option<String>,
    provenance: String,
    os_user: Option<String>,
    principals: Vec<(String, String, String)>,
    sources: String,
    thresholds: Vec<(String, String)>,
    threshold_overrides: Vec<(String, String)>,
    bundle: Vec<(&'static str, String)>,
    columns: Vec<Column>,
    rows: Vec<Row>,
    totals: Vec<Total>,
    engines: Vec<String>,
    kinds: Vec<String>,
    tags: Vec<String>,
    targets: Vec<TargetView>,
    fixes: Vec<String>,
    /// Open findings shared by the targets of a large fleet: (how many targets, the finding).
    groups: Vec<(usize, FindingView)>,
    checks: Vec<CheckView>,
    waivers: Vec<WaiverRow>,
}

/// `sha256-…` for a Content-Security-Policy source list.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

impl Page {
    fn new(report: &Report, context: &Context) -> Page {
        let s = &report.summary;
        let mut status_line = format!(
            "{} pass · {} warn · {} fail · {} unknown · {} error",
            s.pass, s.warn, s.fail, s.unknown, s.error
        );
        if let Some(waived) = s.waived {
            status_line.push_str(&format!(" · {waived} waived"));
        }
        let columns: Vec<Column> = Item::ALL.iter().map(|i| Column { key: i.key() }).collect();
        let mut totals: Vec<Total> = STATUSES
            .iter()
            .map(|status| Total {
                code: code(*status),
                shape: shape(*status),
                label: status.as_str(),
                per_item: vec![0; Item::ALL.len()],
                all: 0,
            })
            .collect();
        let mut fixes = Fixes::default();
        let mut groups = Groups::default();
        let mut rows = Vec::with_capacity(report.targets.len());
        let mut targets = Vec::with_capacity(report.targets.len());
        let (mut engines, mut kinds, mut tags) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for (index, target) in report.targets.iter().enumerate() {
            let matrix_row = row(index, target);
            for (column, (_, status)) in target.items.0.iter().enumerate() {
                if let Some(total) = totals.iter_mut().find(|t| t.code == code(*status))
                    && let Some(slot) = total.per_item.get_mut(column)
                {
                    *slot += 1;
                    total.all += 1;
                }
            }
            engines.insert(matrix_row.engine.clone());
            kinds.insert(matrix_row.kind.clone());
            tags.extend(matrix_row.tags.iter().cloned());
            rows.push(matrix_row);
            targets.push(target_view(
                index,
                target,
                context.origins.get(&target.id),
                &mut fixes,
                (report.targets.len() > FULL_VIEWS).then_some(&mut groups),
            ));
        }
        let mut used: BTreeMap<&str, &Finding> = BTreeMap::new();
        for finding in report.targets.iter().flat_map(|t| &t.findings) {
            used.entry(finding.check.as_str()).or_insert(finding);
        }
        let checks = used
            .into_values()
            .map(|finding| check_view(finding, context.checks.get(&finding.check)))
            .collect();
        let waivers = report
            .waivers
            .iter()
            .map(|w| {
                let (state, code) = match w.state {
                    WaiverStatus::Active => ("active", "p"),
                    WaiverStatus::Expired => ("expired", "f"),
                    WaiverStatus::Stale => ("stale", "w"),
                };
                WaiverRow {
                    state,
                    code,
                    check: shown(&w.check),
                    target: shown(&w.target),
                    owner: shown(&w.owner),
                    expires: shown(&w.expires),
                    note: shown(&w.note),
                }
            })
            .collect();
        let drift_line = report.drift.as_ref().map(|d| {
            if d.missing {
                format!(
                    "baseline {} not found: a first run, nothing compared",
                    shown(&d.baseline)
                )
            } else {
                let mut line = format!(
                    "since the baseline {}: {} regressed, {} improved, {} changed, {} new, {} unchanged, {} removed",
                    shown(&d.baseline),
                    d.regressed,
                    d.improved,
                    d.changed,
                    d.new,
                    d.unchanged,
                    d.removed.len()
                );
                if let (Some(before), Some(after)) = (d.score_before, d.score_after) {
                    line.push_str(&format!("; score {before} → {after}"));
                }
                line
            }
        });
        let sources: BTreeSet<&str> = report
            .targets
            .iter()
            .flat_map(|t| {
                let own = t.sources.is_empty().then_some(t.kind.as_str());
                own.into_iter()
                    .chain(t.sources.iter().map(|s| s.kind.as_str()))
            })
            .collect();
        let bundle = match &context.bundle {
            Bundle::None => vec![(
                "evidence bundle",
                "none written by this run (audit --evidence DIR writes one, with this page inside)"
                    .to_string(),
            )],
            Bundle::Inside { signed } => vec![
                (
                    "evidence bundle",
                    "this page is report.html of a bundle; MANIFEST.json lists its SHA-256 (`sqlready evidence verify DIR` checks every file)"
                        .to_string(),
                ),
                ("signature", signature(*signed).to_string()),
            ],
            Bundle::Written {
                dir,
                manifest_sha256,
                signed,
            } => vec![
                ("evidence bundle", shown(dir)),
                ("manifest sha256", manifest_sha256.clone()),
                ("signature", signature(*signed).to_string()),
            ],
        };
        Page {
            style: STYLE,
            script: SCRIPT,
            csp: format!(
                "default-src 'none'; style-src {}; script-src {}; img-src data:; form-action 'none'; base-uri 'none'",
                csp_hash(STYLE),
                csp_hash(SCRIPT)
            ),
            version: report.tool.version.clone(),
            started_at: report
                .started_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            finished_at: report
                .finished_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            score_line: format!(
                "{} target(s){}, {}{}",
                s.targets,
                super::not_audited_note(report),
                s.coverage.beside(s.score),
                super::slice_note(report)
            ),
            status_line,
            drift_line,
            provenance: shown(&context.provenance),
            os_user: context.os_user.as_deref().map(shown),
            principals: context
                .principals
                .iter()
                .map(|p| {
                    (
                        shown(&p.target),
                        shown(&p.source),
                        p.principal
                            .as_deref()
                            .map_or_else(|| "(the source could not tell)".to_string(), shown),
                    )
                })
                .collect(),
            sources: sources.into_iter().collect::<Vec<_>>().join(", "),
            thresholds: context.thresholds.clone(),
            threshold_overrides: context
                .threshold_overrides
                .iter()
                .map(|(t, o)| (shown(t), shown(o)))
                .collect(),
            bundle,
            columns,
            rows,
            totals,
            engines: engines.into_iter().collect(),
            kinds: kinds.into_iter().collect(),
            tags: tags.into_iter().collect(),
            targets,
            fixes: fixes.texts,
            groups: groups.views,
            checks,
            waivers,
        }
    }
}

fn signature(signed: bool) -> &'static str {
    if signed {
        "signed (MANIFEST.json.sig, Ed25519)"
    } else {
        "not signed (audit --sign-key KEY signs the manifest)"
    }
}

/// Fix texts, each written once: many targets share the same text.
#[derive(Default)]
struct Fixes {
    texts: Vec<String>,
    index: HashMap<String, usize>,
}

impl Fixes {
    fn add(&mut self, text: &str) -> usize {
        if let Some(index) = self.index.get(text) {
            return *index;
        }
        let index = self.texts.len();
        self.texts.push(shown_multiline(text));
        self.index.insert(text.to_string(), index);
        index
    }
}

/// Like [`shown`], but line breaks stay line breaks (fix texts are commands).
fn shown_multiline(text: &str) -> String {
    text.split('\n').map(shown).collect::<Vec<_>>().join("\n")
}

fn tag_texts(target: &TargetReport) -> Vec<String> {
    target
        .tags
        .iter()
        .map(|(k, v)| shown(&format!("{k}={v}")))
        .collect()
}

fn row(index: usize, target: &TargetReport) -> Row {
    let tags = tag_texts(target);
    Row {
        index,
        id: shown(&target.id),
        kind: shown(&target.kind),
        engine: target.engine.as_deref().map_or_else(String::new, shown),
        role: target.role.as_deref().map_or_else(String::new, shown),
        score: target
            .score
            .map_or_else(|| "–".to_string(), |s| s.to_string()),
        score_sort: target.score.map_or(-1, i64::from),
        coverage: format!("{}/{}", target.coverage.judged, target.coverage.applicable),
        coverage_sort: format!(
            "{:03}{:03}",
            target.coverage.judged, target.coverage.applicable
        ),
        tags_data: tags.join("\n"),
        tags,
        statuses: target.items.0.iter().map(|(_, s)| code(*s)).collect(),
        cells: target
            .items
            .0
            .iter()
            .map(|(item, status)| Cell {
                code: code(*status),
                shape: shape(*status),
                label: if crate::report::has_advice(&target.findings, *item, *status) {
                    "pass + advice"
                } else {
                    status.as_str()
                },
            })
            .collect(),
        error: target
            .error
            .as_deref()
            .map(shown)
            .or_else(|| {
                target
                    .not_audited
                    .as_deref()
                    .map(|why| shown(&format!("not audited: {why}")))
            })
            .unwrap_or_default(),
    }
}

fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Low => 0,
        Severity::Medium => 1,
        Severity::High => 2,
        Severity::Critical => 3,
    }
}

fn target_view(
    index: usize,
    target: &TargetReport,
    origins: Option<&BTreeMap<String, Origin>>,
    fixes: &mut Fixes,
    groups: Option<&mut Groups>,
) -> TargetView {
    let full = groups.is_none();
    let mut summary = vec![shown(&target.kind)];
    summary.extend(target.role.as_deref().map(shown));
    if let Some(engine) = &target.engine {
        let version = target.version.as_deref().unwrap_or("");
        summary.push(shown(format!("{engine} {version}").trim()));
    }
    summary.push(target.coverage.beside(target.score));
    let mut facts = Vec::new();
    if let Some(resource) = &target.resource {
        facts.push(("resource", shown(resource)));
    }
    if let Some(location) = &target.location {
        facts.push((
            "declared in",
            shown(&format!("{}:{}", location.file, location.line)),
        ));
    }
    if let Some(principal) = &target.principal {
        facts.push(("audited as", shown(principal)));
    }
    if let Some(why) = &target.not_audited {
        facts.push(("not audited", shown(why)));
    }
    for source in &target.sources {
        let state = match (&source.error, &source.principal) {
            (Some(error), _) => format!("failed: {error}"),
            (None, Some(principal)) => format!("read as {principal}"),
            (None, None) => "read".to_string(),
        };
        facts.push((
            "source",
            shown(&format!("{} {}: {state}", source.kind.as_str(), source.id)),
        ));
    }
    let (mut advice, mut open): (Vec<&Finding>, Vec<&Finding>) = target
        .findings
        .iter()
        .filter(|f| !matches!(f.status, Status::Pass | Status::NotApplicable))
        .partition(|f| is_advice(f));
    if !full {
        // A large fleet's lines: what to fix first, then the advice, marked.
        open.append(&mut advice);
    }
    open.sort_by_key(|f| {
        (
            is_advice(f),
            std::cmp::Reverse(f.status.badness()),
            std::cmp::Reverse(severity_rank(f.severity)),
        )
    });
    let settled: Vec<&Finding> = target
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Pass | Status::NotApplicable))
        .collect();
    let passing = settled.iter().filter(|f| f.status == Status::Pass).count();
    TargetView {
        index,
        id: shown(&target.id),
        summary: summary.join(" · "),
        facts,
        tags: tag_texts(target),
        warnings: target.warnings.iter().map(|w| shown(w)).collect(),
        error: target.error.as_deref().map(shown),
        advice: advice
            .iter()
            .map(|f| finding_view(f, origins, fixes))
            .collect(),
        open: if full {
            open.iter()
                .map(|f| finding_view(f, origins, fixes))
                .collect()
        } else {
            Vec::new()
        },
        lines: match groups {
            Some(groups) => open
                .iter()
                .map(|f| groups.add(finding_view(f, origins, fixes)))
                .collect(),
            None => Vec::new(),
        },
        settled_summary: if full {
            format!(
                "{passing} passing, {} not applicable",
                settled.len() - passing
            )
        } else {
            format!(
                "{passing} passing and {} not applicable findings are not listed for a fleet of more than {FULL_VIEWS} targets: the JSON report and the evidence bundle hold every finding",
                settled.len() - passing
            )
        },
        settled: if full {
            settled
                .into_iter()
                .map(|f| finding_view(f, origins, fixes))
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// An advisory check's `warn` no waiver covers: advice, not a defect.
fn is_advice(finding: &Finding) -> bool {
    finding.advisory && finding.status == Status::Warn && finding.waiver.is_none()
}

fn finding_view(
    finding: &Finding,
    origins: Option<&BTreeMap<String, Origin>>,
    fixes: &mut Fixes,
) -> FindingView {
    let facts = finding
        .evidence
        .iter()
        .map(|(path, value)| {
            let origin = origins.and_then(|o| o.get(path));
            FactLine {
                path: shown(path),
                value: cut(shown(&value.to_string())),
                source: origin.map_or_else(String::new, |o| shown(&o.source)),
                origin: origin.map_or_else(String::new, |o| cut(shown(&o.origin))),
            }
        })
        .collect();
    let waiver = finding.waiver.as_ref().map(|w| {
        let mut text = format!("waived by {} until {}: {}", w.owner, w.expires, w.reason);
        if let Some(ticket) = &w.ticket {
            text.push_str(&format!(" ({ticket})"));
        }
        shown(&text)
    });
    let drift = finding.drift.as_ref().map(|d| {
        let change = match d.change {
            Change::New => "new since the baseline",
            Change::Unchanged => "unchanged since the baseline",
            Change::Improved => "improved since the baseline",
            Change::Regressed => "regressed since the baseline",
            Change::Changed => "changed since the baseline",
        };
        match d.was {
            Some(was) => format!("{change} (was {was})"),
            None => change.to_string(),
        }
    });
    FindingView {
        code: code(finding.status),
        shape: shape(finding.status),
        status: if is_advice(finding) {
            "advice"
        } else {
            finding.status.as_str()
        },
        severity: finding.severity.as_str(),
        check: shown(&finding.check),
        title: shown(&finding.title),
        detail: shown(&finding.detail),
        facts,
        // Said once: an unknown's detail often already names what resolves it.
        resolve: finding
            .resolve
            .iter()
            .filter(|r| !finding.detail.contains(r.as_str()))
            .map(|r| shown(r))
            .collect(),
        waiver,
        drift,
        fix: finding.remediation.as_deref().map(|fix| fixes.add(fix)),
    }
}

fn check_view(finding: &Finding, doc: Option<&CheckDoc>) -> CheckView {
    CheckView {
        id: shown(&finding.check),
        title: shown(&finding.title),
        item: finding.item.key(),
        severity: finding.severity.as_str(),
        controls: shown(&finding.controls.join(", ")),
        why: doc.map_or_else(String::new, |d| shown(&d.why)),
        references: doc
            .map(|d| {
                d.references
                    .iter()
                    .map(|r| {
                        let link = (r.starts_with("https://") || r.starts_with("http://"))
                            && !r.chars().any(|c| c.is_whitespace() || c.is_control());
                        (shown(r), link)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}
