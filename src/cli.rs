//! The command line. Doc comments here are the help text.

use crate::checks::model::Severity;
use crate::report::render::Format;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Tells whether a production SQL database is ready for production, and proves it.
///
/// sqlready reads PostgreSQL and MySQL/MariaDB from the inside (read-only,
/// with timeouts) and scores the production-readiness checklist: replicas,
/// multi-zone, backups, point-in-time recovery, CDC, TLS, slow-query logging
/// and more. Every verdict names the fact that decided it.
#[derive(Debug, Parser)]
#[command(name = "sqlready", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit targets and print the checklist.
    Audit(AuditArgs),
    /// List, show, lint and document checks.
    #[command(subcommand)]
    Checks(ChecksCommand),
}

/// When an audit exits with 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
    Critical,
    /// Never exit 1 for findings (errors still exit 3).
    Never,
}

impl FailOn {
    pub fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Never => None,
        }
    }
}

#[derive(Debug, Args)]
#[command(after_help = "\
Targets:
  postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…]   a PostgreSQL database
  mysql://USER[:PASSWORD]@HOST[:PORT]/DB                  a MySQL or MariaDB database
Passwords may also come from PGPASSWORD / MYSQL_PWD; they never appear in any output.

Exit codes:
  0  nothing at or above --fail-on failed
  1  a finding at or above --fail-on failed
  2  usage or configuration error (bad flag, bad check file, bad facts file)
  3  some target could not be audited (takes precedence over 1)")]
pub struct AuditArgs {
    /// Targets to audit (URIs; see below).
    #[arg(value_name = "TARGET", required_unless_present = "facts")]
    pub targets: Vec<String>,

    /// Re-run the checks on a saved facts snapshot instead of connecting.
    #[arg(long, value_name = "FILE", conflicts_with = "targets")]
    pub facts: Option<PathBuf>,

    /// Also save the collected facts (with their raw evidence) to FILE.
    #[arg(long, value_name = "FILE")]
    pub save_facts: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a check of at least this severity fails.
    #[arg(long, value_enum, default_value_t = FailOn::Low, value_name = "SEVERITY")]
    pub fail_on: FailOn,

    /// Load additional checks (*.toml, recursively) from DIR.
    #[arg(long, value_name = "DIR")]
    pub checks_dir: Option<PathBuf>,

    /// How many targets to audit at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Seconds to wait for a connection.
    #[arg(long, default_value_t = 10, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub connect_timeout: u64,

    /// Seconds any single audit statement may run.
    #[arg(long, default_value_t = 10, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub statement_timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum ChecksCommand {
    /// List every check: id, item, severity, title.
    List(ListArgs),
    /// Show a check's full documentation.
    Show {
        /// The check id, e.g. cdc.wal_level_logical.
        id: String,
        /// Also load checks from DIR.
        #[arg(long, value_name = "DIR")]
        checks_dir: Option<PathBuf>,
    },
    /// Validate check files: syntax, fact paths, functions, and their examples.
    Lint {
        /// Check files (*.toml) or directories of them.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print the documentation of every check as Markdown (docs/checks.md).
    Docs,
    /// List the fact paths checks can use, with their types.
    Facts,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Also load checks from DIR.
    #[arg(long, value_name = "DIR")]
    pub checks_dir: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}
