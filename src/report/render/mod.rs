//! Renderers: each turns the one [`Report`](super::Report) into text.

pub mod escape;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
mod splice;
pub mod table;

use clap::ValueEnum;

/// Output formats of `sqlready audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The checklist table, for people.
    Table,
    /// The JSON report (stable, versioned by `schema_version`).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning (failing and warning checks as results).
    Sarif,
    /// JUnit XML, one testcase per check per target, for CI test reports.
    Junit,
    /// Markdown, for a pull-request comment or a ticket.
    Markdown,
    /// One self-contained HTML page (fleet matrix, each target's findings, the run), for people.
    Html,
}

/// " (N not audited)" after the target count, when some targets are listed
/// but not audited (another cloud's database in a Terraform configuration).
pub fn not_audited_note(report: &super::Report) -> String {
    match report
        .targets
        .iter()
        .filter(|t| t.not_audited.is_some())
        .count()
    {
        0 => String::new(),
        n => format!(" ({n} not audited)"),
    }
}

/// What part of a fleet the report covers, for the summary line of every
/// human format: ` · shard I/N of a fleet of F targets` for one shard's
/// report, ` · merged from N shards` for `sqlready merge`'s, else nothing.
pub fn slice_note(report: &super::Report) -> String {
    if let Some(shard) = &report.shard {
        return format!(
            " · shard {}/{} of a fleet of {} target(s)",
            shard.index, shard.count, shard.fleet_size
        );
    }
    match &report.merged {
        Some(merged) => format!(" · merged from {} shard(s)", merged.shards.len()),
        None => String::new(),
    }
}
