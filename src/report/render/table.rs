//! The checklist table: one line per item in checklist order, with its
//! status and the fact that decided it; then how to fix what failed.

use super::escape::{visible, visible_lines};
use crate::checks::model::{Item, Status};
use crate::report::drift::Change;
use crate::report::waivers::{EXPIRED_CHECK, WaiverStatus};
use crate::report::{Finding, Report, TargetReport};
use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use std::fmt::Write;

/// Renders the report; `color` only when writing to a terminal without NO_COLOR.
pub fn render(report: &Report, color: bool) -> String {
    let mut out = String::new();
    for target in &report.targets {
        render_target(&mut out, target, color);
        out.push('\n');
    }
    let s = &report.summary;
    let score = s.coverage.beside(s.score);
    let waived = s
        .waived
        .map_or_else(String::new, |n| format!(", {n} waived"));
    let _ = writeln!(
        out,
        "{} target(s), {score}: {} pass, {} warn, {} fail, {} unknown, {} error{waived}",
        s.targets, s.pass, s.warn, s.fail, s.unknown, s.error
    );
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

fn render_target(out: &mut String, target: &TargetReport, color: bool) {
    // Everything a target said is shown with its control characters escaped:
    // an id holding a line break must not start a line of its own.
    let mut heading = visible(&target.id).into_owned();
    if let (Some(role), Some(engine)) = (&target.role, &target.engine) {
        let _ = write!(
            heading,
            "  {}, {}",
            visible(&role.to_string()),
            visible(&engine.to_string())
        );
        if let Some(version) = &target.version {
            let _ = write!(heading, " {}", visible(&version.to_string()));
        }
    }
    // Never a score without its coverage (shared DESIGN.md, Statuses).
    let _ = write!(heading, "  {}", target.coverage.beside(target.score));
    let _ = writeln!(out, "{heading}");
    if let Some(error) = &target.error {
        let _ = writeln!(out, "  error: {}", visible_lines(error).join(" / "));
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
    for item in Item::ALL {
        let status = target.items.get(item);
        let deciding = deciding_finding(&target.findings, item, status);
        let shown = match deciding {
            Some(finding) if finding.waiver.is_some() => format!("{status} (waived)"),
            _ => status.as_str().to_string(),
        };
        let mut status_cell = Cell::new(shown);
        if color {
            status_cell = status_cell.fg(status_color(status));
        }
        table.add_row(vec![
            Cell::new(item.key()),
            status_cell,
            Cell::new(visible(deciding.map_or("", |f| f.check.as_str()))),
            Cell::new(visible(
                deciding.map_or("no check judged this item", |f| f.detail.as_str()),
            )),
        ]);
    }
    let _ = writeln!(out, "{table}");
    let mut failing: Vec<&Finding> = target
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn) && f.waiver.is_none())
        .collect();
    failing.sort_by_key(|f| (std::cmp::Reverse(f.severity), f.item));
    if !failing.is_empty() {
        let _ = writeln!(out, "to fix:");
        for finding in failing {
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

/// The finding that decided an item's status: the worst, most severe one
/// (one no waiver covers first).
fn deciding_finding(findings: &[Finding], item: Item, status: Status) -> Option<&Finding> {
    findings
        .iter()
        .filter(|f| f.item == item && f.status == status)
        .max_by_key(|f| (f.waiver.is_none(), f.severity, f.check != EXPIRED_CHECK))
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
