//! Renderers: each turns the one [`Report`](super::Report) into text.

pub mod json;
pub mod table;

use clap::ValueEnum;

/// Output formats of `sqlready audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The checklist table, for people.
    Table,
    /// The JSON report (stable, versioned by `schema_version`).
    Json,
}
