//! The checklist table, made to scale from one database to many: an
//! overview line per database (id, engine, fail/warn/unknown counts, score),
//! then, per database, the items that are not `pass` with the fact that
//! decided each (`--details failing`, the default), every item
//! (`--details all`) or nothing more (`--details none`); then how to fix
//! what failed. Long ids are shortened the same way everywhere in the table
//! (the JSON report keeps them whole).

use super::escape::{visible, visible_lines};
use crate::checks::model::{Item, Status};
use crate::report::drift::Change;
use crate::report::waivers::{EXPIRED_CHECK, WaiverStatus};
use crate::report::{Finding, Report, TargetReport};
use clap::ValueEnum;
use comfy_table::{Cell, CellAlignment, Color, ContentArrangement, Table, presets};
use std::collections::BTreeSet;
use std::fmt::Write;

/// How much of each database the table shows after the overview.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Details {
    /// Every checklist item of every database, passes included.
    All,
    /// The items that are not `pass` (fail, warn, unknown, error), the passing
    /// and `n/a` ones named on one line, and the fixes.
    #[default]
    Failing,
    /// The overview and the summary only.
    None,
}

/// Ids longer than this are shortened in the middle (`module.db.mod…this[0]`).
const MAX_ID: usize = 44;

/// Renders the report; `color` only when writing to a terminal without NO_COLOR.
pub fn render(report: &Report, color: bool) -> String {
    render_with(report, color, Details::default())
}

/// Renders the report with the chosen amount of detail per database.
pub fn render_with(report: &Report, color: bool, details: Details) -> String {
    let names = Names::of(&report.targets);
    // A fleet's databases are thousands of independent sections: rendered on
    // every core while the overview table is laid out.
    let (mut out, sections) = rayon::join(
        || {
            let mut out = String::new();
            if report.targets.len() > 1 {
                overview(&mut out, report, &names, color);
                out.push('\n');
            }
            out
        },
        || {
            use rayon::prelude::*;
            let single = report.targets.len() == 1;
            report
                .targets
                .par_iter()
                .zip(names.shown.par_iter())
                .map(|(target, name)| section(target, name, color, details, single))
                .collect::<Vec<String>>()
        },
    );
    out.reserve(sections.iter().map(String::len).sum::<usize>() + 4096);
    for section in &sections {
        out.push_str(section);
    }
    let s = &report.summary;
    let score = s.coverage.beside(s.score);
    let waived = s
        .waived
        .map_or_else(String::new, |n| format!(", {n} waived"));
    let _ = writeln!(
        out,
        "{} target(s){}, {score}: {} pass, {} warn, {} fail, {} unknown, {} error{waived}",
        s.targets,
        super::not_audited_note(report),
        s.pass,
        s.warn,
        s.fail,
        s.unknown,
        s.error
    );
    let slice = super::slice_note(report);
    if !slice.is_empty() {
        let _ = writeln!(out, "{}", slice.trim_start_matches(" · "));
    }
    for waiver in report
        .waivers
        .iter()
        .filter(|w| w.state != WaiverStatus::Active)
    {
        let state = if waiver.state == WaiverStatus::Stale {
            "stale"
        } else {
            "expired"
        };
        let _ = writeln!(
            out,
            "{state} waiver: {} on {} ({}, line {}): {}",
            visible(&waiver.check),
            visible(&waiver.target),
            visible(&waiver.owner),
            waiver.line,
            visible(&waiver.note)
        );
    }
    if let Some(drift) = &report.drift {
        if drift.missing {
            let _ = writeln!(
                out,
                "baseline {} not found: first run, nothing compared",
                drift.baseline
            );
        } else {
            let _ = writeln!(
                out,
                "since the baseline: {} regressed, {} improved, {} changed, {} new, {} unchanged, {} removed",
                drift.regressed,
                drift.improved,
                drift.changed,
                drift.new,
                drift.unchanged,
                drift.removed.len()
            );
        }
    }
    out
}

/// The ids as the table shows them: without the prefix every id shares
/// (`terraform://PATH#`), said once, and shortened in the middle when long.
struct Names {
    /// The shared prefix left out, when the ids share one.
    prefix: Option<String>,
    /// One per target, in report order, each unique.
    shown: Vec<String>,
}

impl Names {
    fn of(targets: &[TargetReport]) -> Names {
        let ids: Vec<&str> = targets.iter().map(|t| t.id.as_str()).collect();
        if ids.len() < 2 {
            return Names {
                prefix: None,
                shown: ids.iter().map(|id| visible(id).into_owned()).collect(),
            };
        }
        let prefix = shared_prefix(&ids);
        let relative: Vec<String> = ids
            .iter()
            .map(|id| {
                let rest = &id[prefix.len()..];
                visible(if rest.is_empty() { id } else { rest }).into_owned()
            })
            .collect();
        // Only what follows a shared `terraform://PATH#` is shortened: a URI is
        // shown whole (its host and database are the name, and a forged part must show).
        let short: Vec<String> = if prefix.is_empty() {
            relative.clone()
        } else {
            relative.iter().map(|id| shortened(id)).collect()
        };
        // Two ids that shorten alike are shown whole, so each row names one database.
        let mut seen = BTreeSet::new();
        let clashes: BTreeSet<&String> = short.iter().filter(|s| !seen.insert(*s)).collect();
        let shown = short
            .iter()
            .zip(&relative)
            .map(|(s, whole)| {
                if clashes.contains(s) {
                    whole.clone()
                } else {
                    s.clone()
                }
            })
            .collect();
        Names {
            prefix: (!prefix.is_empty()).then(|| visible(&prefix).into_owned()),
            shown,
        }
    }
}

/// The longest prefix all ids share that ends at a `#` (a Terraform
/// target's path) — never part of a name.
fn shared_prefix(ids: &[&str]) -> String {
    let first = ids[0];
    let mut end = first.len();
    for id in &ids[1..] {
        end = end.min(
            first
                .bytes()
                .zip(id.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    match first[..end].rfind('#') {
        Some(at) => first[..=at].to_string(),
        None => String::new(),
    }
}

/// `id` kept whole up to [`MAX_ID`] characters, else its start and its end
/// (where Terraform addresses differ: the resource and its index) around `…`.
fn shortened(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= MAX_ID {
        return id.to_string();
    }
    let keep_end = MAX_ID * 2 / 3;
    let keep_start = MAX_ID - keep_end - 1;
    let start: String = chars[..keep_start].iter().collect();
    let end: String = chars[chars.len() - keep_end..].iter().collect();
    format!("{start}…{end}")
}

/// How many items of a target have `status`.
fn count(target: &TargetReport, status: Status) -> usize {
    target.items.0.iter().filter(|(_, s)| *s == status).count()
}

/// One line per database, so a report on many fits one screen.
fn overview(out: &mut String, report: &Report, names: &Names, color: bool) {
    if let Some(prefix) = &names.prefix {
        let _ = writeln!(out, "{} databases in {prefix}", report.targets.len());
    }
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        // One line per database, never wrapped: ids are already short.
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec![
            "database", "engine", "fail", "warn", "unknown", "score",
        ]);
    if !color {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    for (target, name) in report.targets.iter().zip(&names.shown) {
        let engine = match (&target.role, &target.engine) {
            _ if target.error.is_some() => "error".to_string(),
            _ if target.not_audited.is_some() => "not audited".to_string(),
            (Some(role), Some(engine)) => {
                let engine = if engine.is_empty() {
                    "engine unknown"
                } else {
                    engine
                };
                let version = target.version.as_deref().unwrap_or_default();
                visible(format!("{role}, {engine} {version}").trim_end()).into_owned()
            }
            _ => String::new(),
        };
        let number = |status: Status| {
            let n = count(target, status);
            let mut cell = Cell::new(if target.error.is_some() || target.not_audited.is_some() {
                "–".to_string()
            } else {
                n.to_string()
            })
            .set_alignment(CellAlignment::Right);
            if color && n > 0 && target.error.is_none() {
                cell = cell.fg(status_color(status));
            }
            cell
        };
        let score = match target.score {
            Some(score) => format!(
                "{score}/100 · {}/{}",
                target.coverage.judged, target.coverage.applicable
            ),
            None => "–".to_string(),
        };
        table.add_row(vec![
            Cell::new(name),
            Cell::new(engine),
            number(Status::Fail),
            number(Status::Warn),
            number(Status::Unknown),
            Cell::new(score),
        ]);
    }
    let _ = writeln!(out, "{table}");
}

/// One database's part of the table after the overview (empty with
/// `--details none` when there is an overview line for it).
fn section(
    target: &TargetReport,
    name: &str,
    color: bool,
    details: Details,
    single: bool,
) -> String {
    let mut out = String::new();
    match details {
        // One database: its heading is its overview line.
        Details::None if single => {
            let _ = writeln!(out, "{}", heading(target, name));
        }
        Details::None => return out,
        _ => render_target(&mut out, target, name, color, details),
    }
    out.push('\n');
    out
}

/// `ID  ROLE, ENGINE VERSION  N fail, N warn, N unknown  score S/100 · J of A items judged`.
fn heading(target: &TargetReport, name: &str) -> String {
    // Everything a target said is shown with its control characters escaped:
    // an id holding a line break must not start a line of its own.
    let mut heading = name.to_string();
    if let (Some(role), Some(engine)) = (&target.role, &target.engine) {
        let engine = if engine.is_empty() {
            "engine unknown"
        } else {
            engine
        };
        let _ = write!(heading, "  {}, {}", visible(role), visible(engine));
        if let Some(version) = target.version.as_deref().filter(|v| !v.is_empty()) {
            let _ = write!(heading, " {}", visible(version));
        }
    }
    if target.error.is_none() && target.not_audited.is_none() {
        let _ = write!(
            heading,
            "  {} fail, {} warn, {} unknown",
            count(target, Status::Fail),
            count(target, Status::Warn),
            count(target, Status::Unknown)
        );
    }
    if target.not_audited.is_some() {
        heading.push_str("  not audited");
        return heading;
    }
    // Never a score without its coverage (shared DESIGN.md, Statuses).
    let _ = write!(heading, "  {}", target.coverage.beside(target.score));
    heading
}

fn render_target(
    out: &mut String,
    target: &TargetReport,
    name: &str,
    color: bool,
    details: Details,
) {
    let _ = writeln!(out, "{}", heading(target, name));
    if let Some(error) = &target.error {
        let _ = writeln!(out, "  error: {}", visible_lines(error).join(" / "));
        return;
    }
    if let Some(why) = &target.not_audited {
        let _ = writeln!(out, "  not audited: {}", visible_lines(why).join(" / "));
        return;
    }
    for source in target.sources.iter().filter(|s| s.error.is_some()) {
        let _ = writeln!(
            out,
            "  source {} could not be read: {}",
            visible(&source.id),
            visible_lines(source.error.as_deref().unwrap_or_default()).join(" / ")
        );
    }
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["item", "status", "check", "deciding fact"]);
    if !color {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    // Off a terminal (pipes, files, CI logs) there is no width to fit: wrap at 120.
    if table.width().is_none() {
        table.set_width(120);
    }
    // The target's own address starts many a fact's text: said once, in the heading.
    let own = target.resource.as_deref().map(|r| format!("{r}: "));
    let mut passed = Vec::new();
    let mut not_applicable = Vec::new();
    let per_item = per_item(target);
    for item in Item::ALL {
        let status = target.items.get(item);
        let PerItem { deciding, advice } = per_item[item as usize];
        let waived = deciding.is_some_and(|f| f.waiver.is_some());
        if details == Details::Failing && !waived {
            match status {
                Status::Pass => {
                    passed.push(if advice {
                        format!("{} (+ advice)", item.key())
                    } else {
                        item.key().to_string()
                    });
                    continue;
                }
                Status::NotApplicable => {
                    not_applicable.push(item.key());
                    continue;
                }
                _ => {}
            }
        }
        let shown = if waived {
            format!("{status} (waived)")
        } else if advice {
            format!("{status} + advice")
        } else {
            status.as_str().to_string()
        };
        let mut status_cell = Cell::new(shown);
        if color {
            status_cell = status_cell.fg(status_color(status));
        }
        let detail = deciding.map_or("no check judged this item", |f| f.detail.as_str());
        let detail = match &own {
            Some(own) => detail.replace(own.as_str(), ""),
            None => detail.to_string(),
        };
        table.add_row(vec![
            Cell::new(item.key()),
            status_cell,
            Cell::new(visible(deciding.map_or("", |f| f.check.as_str()))),
            Cell::new(visible(&detail)),
        ]);
    }
    if !table.is_empty() {
        let _ = writeln!(out, "{table}");
    }
    if !passed.is_empty() {
        let _ = writeln!(out, "pass ({}): {}", passed.len(), passed.join(", "));
    }
    if !not_applicable.is_empty() {
        let _ = writeln!(
            out,
            "n/a ({}): {}",
            not_applicable.len(),
            not_applicable.join(", ")
        );
    }
    // Advice (advisory checks) is listed apart: it did not lower the item.
    let (advice, failing): (Vec<&Finding>, Vec<&Finding>) = target
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn) && f.waiver.is_none())
        .partition(|f| f.advisory && f.status == Status::Warn);
    for (heading, mut findings) in [("to fix:", failing), ("advice:", advice)] {
        if findings.is_empty() {
            continue;
        }
        findings.sort_by_key(|f| (std::cmp::Reverse(f.severity), f.item));
        let _ = writeln!(out, "{heading}");
        for finding in findings {
            let regressed = match &finding.drift {
                Some(drift) if drift.change == Change::Regressed => {
                    format!(
                        " (regressed, was {})",
                        drift.was.map_or("?", |s| s.as_str())
                    )
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  {} [{}] {}: {}{regressed}",
                finding.status,
                finding.severity,
                visible(&finding.check),
                visible(&finding.title)
            );
            if let Some(fix) = &finding.remediation {
                for line in visible_lines(fix) {
                    let _ = writeln!(out, "      {line}");
                }
            }
        }
    }
    let waived: Vec<&Finding> = target
        .findings
        .iter()
        .filter(|f| f.waiver.is_some())
        .collect();
    if !waived.is_empty() {
        let _ = writeln!(out, "waived:");
        for finding in waived {
            if let Some(waiver) = &finding.waiver {
                let _ = writeln!(
                    out,
                    "  {} [{}] {}: {} (by {} until {})",
                    finding.status,
                    finding.severity,
                    visible(&finding.check),
                    visible(&waiver.reason),
                    visible(&waiver.owner),
                    waiver.expires
                );
            }
        }
    }
}

/// What the table shows of one checklist item beside its status.
#[derive(Clone, Copy, Default)]
struct PerItem<'a> {
    /// The finding that decided the item's status: the worst, most severe
    /// one (one no waiver covers first; the last of equals).
    deciding: Option<&'a Finding>,
    /// A passing item with advice (see [`crate::report::has_advice`]).
    advice: bool,
}

/// Every item's [`PerItem`], indexed by `Item as usize`, from one pass over
/// the target's findings (a fleet's table reads millions of them).
fn per_item(target: &TargetReport) -> [PerItem<'_>; Item::ALL.len()] {
    let statuses = Item::ALL.map(|item| target.items.get(item));
    let rank = |f: &Finding| (f.waiver.is_none(), f.severity, f.check != EXPIRED_CHECK);
    let mut per_item = [PerItem::default(); Item::ALL.len()];
    for finding in &target.findings {
        let status = statuses[finding.item as usize];
        let slot = &mut per_item[finding.item as usize];
        if finding.status == status && slot.deciding.is_none_or(|d| rank(finding) >= rank(d)) {
            slot.deciding = Some(finding);
        }
        slot.advice |= status == Status::Pass
            && finding.advisory
            && finding.status == Status::Warn
            && finding.waiver.is_none();
    }
    per_item
}

fn status_color(status: Status) -> Color {
    match status {
        Status::Pass => Color::Green,
        Status::Warn => Color::Yellow,
        Status::Fail => Color::Red,
        Status::Error => Color::Magenta,
        Status::Unknown | Status::NotApplicable => Color::DarkGrey,
    }
}
