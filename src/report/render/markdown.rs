//! Markdown, for a pull-request comment or a ticket: the summary, each
//! target's checklist, what to fix (with drift), what is waived, and the
//! waiver register when something needs attention.

use super::escape::{markdown_code, markdown_code_outside_table, markdown_text, visible};
use crate::checks::model::{Item, Status};
use crate::report::drift::Change;
use crate::report::waivers::{EXPIRED_CHECK, WaiverStatus};
use crate::report::{Finding, Report, TargetReport};
use std::fmt::Write;

fn icon(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
        Status::Unknown => "❔",
        Status::NotApplicable => "➖",
        Status::Error => "💥",
    }
}

/// Text safe inside a table cell: one line (runs of white space become one
/// space), control characters shown escaped, pipes and `<` escaped.
fn cell(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let escaped = markdown_text(&one_line);
    if escaped.chars().count() > 160 {
        format!("{}…", escaped.chars().take(159).collect::<String>())
    } else {
        escaped
    }
}

/// Renders the report as Markdown.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let score = s.coverage.beside(s.score);
    let _ = writeln!(
        out,
        "## sqlready: {} target(s){}, {score}{}\n",
        s.targets,
        super::not_audited_note(report),
        super::slice_note(report)
    );
    let mut line = format!(
        "**{} pass · {} warn · {} fail · {} unknown · {} error**",
        s.pass, s.warn, s.fail, s.unknown, s.error
    );
    if let Some(waived) = s.waived {
        let _ = write!(line, " · {waived} waived");
    }
    let _ = writeln!(out, "{line}\n");
    if let Some(drift) = &report.drift {
        if drift.missing {
            let _ = writeln!(
                out,
                "Baseline `{}` not found: this run is the first, nothing compared.\n",
                drift.baseline
            );
        } else {
            let _ = writeln!(
                out,
                "Since the baseline: **{} regressed**, {} improved, {} changed, {} new, {} unchanged, {} removed{}.\n",
                drift.regressed,
                drift.improved,
                drift.changed,
                drift.new,
                drift.unchanged,
                drift.removed.len(),
                match (drift.score_before, drift.score_after) {
                    (Some(before), Some(after)) => format!("; score {before} → {after}"),
                    _ => String::new(),
                }
            );
        }
    }
    for target in &report.targets {
        render_target(&mut out, target);
    }
    let attention: Vec<_> = report
        .waivers
        .iter()
        .filter(|w| w.state != WaiverStatus::Active)
        .collect();
    if !report.waivers.is_empty() {
        let _ = writeln!(out, "### Waivers\n");
        let _ = writeln!(out, "| state | check | target | owner | expires | note |");
        let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
        for w in &report.waivers {
            let state = match w.state {
                WaiverStatus::Active => "active",
                WaiverStatus::Expired => "❌ expired",
                WaiverStatus::Stale => "⚠️ stale",
            };
            let _ = writeln!(
                out,
                "| {state} | {} | {} | {} | {} | {} |",
                markdown_code(&w.check),
                markdown_code(&w.target),
                cell(&w.owner),
                w.expires,
                cell(&w.note)
            );
        }
        out.push('\n');
        if !attention.is_empty() {
            let _ = writeln!(out, "{} waiver(s) need attention.\n", attention.len());
        }
    }
    out
}

fn render_target(out: &mut String, target: &TargetReport) {
    // What a target said is escaped: a line break in its id must not end the
    // heading and start Markdown of its own.
    let mut heading = format!("### {}", markdown_code_outside_table(&target.id));
    if let (Some(role), Some(engine)) = (&target.role, &target.engine) {
        let _ = write!(
            heading,
            " — {}, {}",
            markdown_text(&role.to_string()),
            markdown_text(&engine.to_string())
        );
        if let Some(version) = &target.version {
            let _ = write!(heading, " {}", markdown_text(&version.to_string()));
        }
    }
    let _ = write!(heading, " — {}", target.coverage.beside(target.score));
    let _ = writeln!(out, "{heading}\n");
    if let Some(error) = &target.error {
        let _ = writeln!(out, "💥 **could not be audited:** {}\n", cell(error));
        return;
    }
    if let Some(why) = &target.not_audited {
        let _ = writeln!(out, "**not audited:** {}\n", cell(why));
        return;
    }
    for source in target.sources.iter().filter(|s| s.error.is_some()) {
        let _ = writeln!(
            out,
            "💥 source {} could not be read: {}\n",
            markdown_code_outside_table(&source.id),
            cell(source.error.as_deref().unwrap_or_default())
        );
    }
    let _ = writeln!(out, "| item | status | check | deciding fact |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    for item in Item::ALL {
        let status = target.items.get(item);
        let deciding = target
            .findings
            .iter()
            .filter(|f| f.item == item && f.status == status)
            .max_by_key(|f| (f.waiver.is_none(), f.severity, f.check != EXPIRED_CHECK));
        let mut shown = format!("{} {status}", icon(status));
        if deciding.is_some_and(|f| f.waiver.is_some()) {
            shown.push_str(" (waived)");
        } else if crate::report::has_advice(&target.findings, item, status) {
            shown.push_str(" + advice");
        }
        let _ = writeln!(
            out,
            "| {} | {shown} | {} | {} |",
            item.key(),
            deciding.map_or(String::new(), |f| markdown_code(&f.check)),
            deciding.map_or_else(
                || "no check judged this item".to_string(),
                |f| cell(&f.detail)
            ),
        );
    }
    out.push('\n');
    // Advice (advisory checks) is listed apart: it did not lower the item.
    let (advice, to_fix): (Vec<&Finding>, Vec<&Finding>) = target
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn) && f.waiver.is_none())
        .partition(|f| f.advisory && f.status == Status::Warn);
    for (heading, mut findings) in [("To fix", to_fix), ("Advice", advice)] {
        if findings.is_empty() {
            continue;
        }
        findings.sort_by_key(|f| (std::cmp::Reverse(f.severity), f.item));
        let _ = writeln!(
            out,
            "<details><summary>{heading} ({})</summary>\n",
            findings.len()
        );
        for finding in findings {
            let _ = writeln!(
                out,
                "- {} **{}** {} [{}] {}: {}{}",
                icon(finding.status),
                finding.status,
                markdown_code_outside_table(&finding.check),
                finding.severity,
                cell(&finding.title),
                cell(&finding.detail),
                drift_note(finding)
            );
            if let Some(fix) = &finding.remediation {
                let fence = fence_for(fix);
                let _ = writeln!(out, "\n  {fence}\n{}\n  {fence}\n", indent(fix));
            }
        }
        let _ = writeln!(out, "</details>\n");
    }
    let waived: Vec<&Finding> = target
        .findings
        .iter()
        .filter(|f| f.waiver.is_some())
        .collect();
    if !waived.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Waived ({})</summary>\n",
            waived.len()
        );
        for finding in waived {
            if let Some(waiver) = &finding.waiver {
                let _ = writeln!(
                    out,
                    "- {} {} {}: waived by {} until {}: {}",
                    finding.status,
                    markdown_code_outside_table(&finding.check),
                    cell(&finding.title),
                    cell(&waiver.owner),
                    waiver.expires,
                    cell(&waiver.reason)
                );
            }
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    let improved: Vec<&Finding> = target
        .findings
        .iter()
        .filter(|f| {
            f.drift
                .as_ref()
                .is_some_and(|d| d.change == Change::Improved)
        })
        .collect();
    if !improved.is_empty() {
        let _ = writeln!(out, "Improved since the baseline:");
        for finding in improved {
            let _ = writeln!(
                out,
                "- {} {}{}",
                markdown_code_outside_table(&finding.check),
                finding.status,
                drift_note(finding)
            );
        }
        out.push('\n');
    }
}

fn drift_note(finding: &Finding) -> String {
    match &finding.drift {
        Some(drift) => match (drift.change, drift.was) {
            (Change::Regressed, Some(was)) => format!(" — **regressed** (was {was})"),
            (Change::Improved, Some(was)) => format!(" (was {was})"),
            (Change::Changed, Some(was)) => format!(" (changed, was {was})"),
            (Change::New, _) => " — new".to_string(),
            _ => String::new(),
        },
        None => String::new(),
    }
}

/// A code fence longer than any backtick run in `text`, so no line of it
/// closes the block early.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

/// A remediation inside a fenced block: indented, control characters shown escaped.
fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {}", visible(l)))
        .collect::<Vec<_>>()
        .join("\n")
}
