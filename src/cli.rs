//! The command line. Doc comments here are the help text.

use crate::checks::model::Severity;
use crate::report::render::Format;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Tells whether a production SQL database is ready for production, and proves it.
///
/// sqlready reads PostgreSQL and MySQL/MariaDB from the inside (read-only,
/// with timeouts) and AWS RDS/Aurora and Google Cloud SQL through their APIs,
/// and scores the production-readiness checklist: replicas,
/// multi-zone, backups, point-in-time recovery, CDC, TLS, slow-query logging
/// and more. Every verdict names the fact that decided it.
#[derive(Debug, Parser)]
#[command(
    name = "sqlready",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    // Boxed: the audit's many flags would make every `Command` that large.
    /// Audit targets and print the checklist.
    Audit(Box<AuditArgs>),
    /// Join the JSON reports of `audit --shard I/N` runs into one fleet report.
    Merge(Box<MergeArgs>),
    /// Write a commented sqlready.toml template (never overwrites).
    Init {
        /// Where to write it.
        #[arg(value_name = "FILE", default_value = "sqlready.toml")]
        path: PathBuf,
    },
    /// Verify evidence bundles and make signing keys.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
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
  rds://REGION                                            every RDS instance and cluster in REGION
  rds://REGION/db/ID, rds://REGION/cluster/ID             one RDS DB instance / one DB cluster
  cloudsql://PROJECT                                      every Cloud SQL instance in PROJECT
  cloudsql://PROJECT/INSTANCE                             one Cloud SQL instance
  gcp-org://ORG_ID, gcp-org://folders/ID                  every instance of an organization/folder
  cloudsql://*                                            every instance of every visible project
  PATH.tf, DIR, plan.json (or terraform://PATH)           planned databases in Terraform files or
                                                          `terraform show -json` output
Passwords may also come from PGPASSWORD / MYSQL_PWD; they never appear in any output.
AWS uses the SDK's credential and region chain (AWS_PROFILE, SSO, AWS_ENDPOINT_URL);
Google Cloud uses Application Default Credentials or GOOGLE_OAUTH_ACCESS_TOKEN.

Exit codes:
  0  nothing at or above --fail-on failed
  1  a non-waived finding at or above --fail-on failed, or (--fail-on-regression) regressed,
     or (--fail-on-unknown) a non-waived item is unknown or error
  2  usage or configuration error (bad flag, bad config, bad check file, bad facts file)
  3  some target, or a source of a paired target, could not be audited (takes precedence over 1);
     an unreached --connect session is not: its in-database items are unknown (docs/connect.md)

Configuration: --config FILE, else $SQLREADY_CONFIG, else ./sqlready.toml when it
exists (--no-config ignores it). Without TARGET arguments the config's targets
are audited. Command-line flags override the config's [audit] settings.
Reference: docs/compliance.md.")]
pub struct AuditArgs {
    /// Targets to audit (URIs or Terraform paths; see below). Default: the config file's targets.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,

    /// Read targets, thresholds, severity overrides, check selection and waivers from FILE.
    #[arg(
        long,
        value_name = "FILE",
        env = "SQLREADY_CONFIG",
        conflicts_with = "no_config"
    )]
    pub config: Option<PathBuf>,

    /// Do not read ./sqlready.toml even when it exists.
    #[arg(long)]
    pub no_config: bool,

    /// Re-run the checks on a saved facts snapshot instead of connecting.
    #[arg(long, value_name = "FILE", conflicts_with = "targets")]
    pub facts: Option<PathBuf>,

    /// Also save the collected facts (with their raw evidence) to FILE.
    #[arg(long, value_name = "FILE")]
    pub save_facts: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to FILE (atomically; a device or pipe such as /dev/null is
    /// written as it is) instead of stdout; FILE may be s3://BUCKET/KEY or gs://BUCKET/KEY.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a non-waived check of at least this severity fails [default: low].
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,

    /// Exit 1 when any item of any target is `unknown` or `error` (not judged) and no
    /// waiver covers the findings that made it so: for a scheduled job that must
    /// judge the whole checklist, not only pass what it could see.
    #[arg(long)]
    pub fail_on_unknown: bool,

    /// Compare with a previous JSON report: mark each finding new, regressed, improved
    /// or unchanged. A missing FILE is a first run (a warning, nothing compared).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Exit 1 when a finding no waiver covers regressed since --baseline.
    #[arg(long, requires = "baseline")]
    pub fail_on_regression: bool,

    /// Also write an evidence bundle (report, facts, raw evidence, run record, SOC 2
    /// mapping, SHA-256 manifest) to the new directory DIR; '{time}' in DIR is replaced
    /// by the start time. DIR may be s3://BUCKET/PREFIX or gs://BUCKET/PREFIX (uploaded
    /// with MANIFEST.json last).
    #[arg(long, value_name = "DIR")]
    pub evidence: Option<PathBuf>,

    /// Sign the evidence manifest with this Ed25519 private key (PKCS#8 PEM).
    #[arg(long, value_name = "FILE", requires = "evidence")]
    pub sign_key: Option<PathBuf>,

    /// Load additional checks (*.toml, recursively) from DIR.
    #[arg(long, value_name = "DIR")]
    pub checks_dir: Option<PathBuf>,

    /// How many targets to audit at once [default: 8].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: Option<u16>,

    /// Seconds to wait for a connection [default: 10].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub connect_timeout: Option<u64>,

    /// Seconds any single audit statement may run [default: 10].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub statement_timeout: Option<u64>,

    /// Also audit every discovered cloud instance (rds://, cloudsql://) from inside:
    /// a read-only session at the address, engine and CA the API gives, merged into
    /// one target. Unreachable instances keep their API verdicts; their in-database
    /// items are unknown with the reason (docs/connect.md).
    #[arg(long)]
    pub connect: bool,

    /// The database user of --connect sessions [default: sqlready_auditor].
    #[arg(long, value_name = "USER", requires = "connect")]
    pub connect_user: Option<String>,

    /// The environment variable holding the --connect user's password. Without it
    /// (or --connect-password-file), IAM database authentication is used where the
    /// instance allows it.
    #[arg(
        long,
        value_name = "VAR",
        requires = "connect",
        conflicts_with = "connect_password_file"
    )]
    pub connect_password_env: Option<String>,

    /// A file holding the --connect user's password (one trailing newline ignored).
    #[arg(long, value_name = "FILE", requires = "connect")]
    pub connect_password_file: Option<PathBuf>,

    /// The CA bundle that signed the servers' certificates, for verified TLS on
    /// --connect sessions (default for RDS: the region's bundle, downloaded once).
    #[arg(long, value_name = "FILE", requires = "connect")]
    pub connect_ca_file: Option<PathBuf>,

    /// Connect to ADDR instead of HOST:PORT, TLS still verifying HOST (curl's form;
    /// repeatable; ADDR may carry its own port, e.g. 127.0.0.1:6543; HOST '*' matches
    /// any host): for the Cloud SQL Auth Proxy, SSM port forwarding and other tunnels.
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = crate::target::Resolve::parse)]
    pub resolve: Vec<crate::target::Resolve>,

    /// Progress on stderr while targets are collected: a bar on a terminal, else a line
    /// every 30 seconds (auto); lines only, with one at the end (lines); or none.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = crate::progress::Mode::Auto)]
    pub progress: crate::progress::Mode,

    /// Audit only shard I of N (0-based): the discovered targets whose id hashes to I
    /// (SHA-256, docs/sharding.md). N runners with 0/N … N-1/N cover the fleet once;
    /// `sqlready merge` joins their reports.
    #[arg(long, value_name = "I/N", value_parser = crate::shard::Shard::parse)]
    pub shard: Option<crate::shard::Shard>,

    /// With --format table: after the one-line-per-database overview, show every
    /// item (all), the items that are not pass with their fixes (failing), or
    /// nothing more (none).
    #[arg(long, value_enum, value_name = "WHICH", default_value_t = crate::report::render::table::Details::Failing)]
    pub details: crate::report::render::table::Details,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Every shard 0..N-1 must be given exactly once, all of the same N and sqlready release, and
no target may appear twice; the merged report lists the targets in id order and records
its shards under \"merged\". Each shard's own --baseline drift is dropped: give the merge
--baseline (the previous merged report) for the fleet's drift. docs/sharding.md.

Exit codes (as audit):
  0  nothing at or above --fail-on failed
  1  a non-waived finding at or above --fail-on failed, or (--fail-on-regression) regressed,
     or (--fail-on-unknown) a non-waived item is unknown or error
  2  a shard is missing, given twice or overlaps another, a report or bundle cannot be read
     or does not verify, or a bad flag
  3  some target could not be audited by its shard (takes precedence over 1)")]
pub struct MergeArgs {
    /// Shard reports (`audit --shard I/N --format json -o FILE`), or directories whose
    /// *.json files are shard reports, locally or at s3://BUCKET/… / gs://BUCKET/… (an object
    /// or a prefix). Default with --evidence-in: the bundles' reports.
    #[arg(value_name = "REPORT", required_unless_present = "evidence_in")]
    pub reports: Vec<String>,

    /// Read [environments] from FILE: the staging item is judged again across all shards
    /// (docs/fleet.md). Default: ./sqlready.toml when it exists.
    #[arg(
        long,
        value_name = "FILE",
        env = "SQLREADY_CONFIG",
        conflicts_with = "no_config"
    )]
    pub config: Option<PathBuf>,

    /// Do not read ./sqlready.toml even when it exists.
    #[arg(long)]
    pub no_config: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the merged report to FILE (atomically; a device or pipe such as /dev/null
    /// is written as it is) instead of stdout; FILE may be s3://BUCKET/KEY or gs://BUCKET/KEY.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a non-waived check of at least this severity fails [default: low].
    #[arg(long, value_enum, value_name = "SEVERITY", default_value = "low")]
    pub fail_on: FailOn,

    /// Exit 1 when any item of any target is `unknown` or `error` and no waiver covers it.
    #[arg(long)]
    pub fail_on_unknown: bool,

    /// Compare the merged report with a previous (merged) JSON report.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Exit 1 when a finding no waiver covers regressed since --baseline.
    #[arg(long, requires = "baseline")]
    pub fail_on_regression: bool,

    /// A shard's evidence bundle (repeatable, one per shard): each must verify and hold
    /// one of the shard reports; they are joined into the bundle --evidence writes.
    #[arg(long, value_name = "DIR")]
    pub evidence_in: Vec<PathBuf>,

    /// Write the fleet's evidence bundle to the new directory DIR: the merged report, and
    /// every shard bundle byte for byte (its manifest and signature kept) under
    /// shards/NN/, all listed in one manifest. '{time}' is replaced by the merge time.
    #[arg(long, value_name = "DIR", requires = "evidence_in")]
    pub evidence: Option<PathBuf>,

    /// Sign the merged bundle's manifest with this Ed25519 private key (PKCS#8 PEM).
    #[arg(long, value_name = "FILE", requires = "evidence")]
    pub sign_key: Option<PathBuf>,

    /// Check the shard bundles' signatures with this Ed25519 public key (PEM): a bundle
    /// whose signature is missing or does not verify is refused.
    #[arg(long, value_name = "FILE", requires = "evidence_in")]
    pub public_key: Option<PathBuf>,

    /// Also load checks from DIR (the shards' --checks-dir), for SARIF rules and HTML docs.
    #[arg(long, value_name = "DIR")]
    pub checks_dir: Option<PathBuf>,

    /// With --format table: which items to show after the overview (as audit).
    #[arg(long, value_enum, value_name = "WHICH", default_value_t = crate::report::render::table::Details::Failing)]
    pub details: crate::report::render::table::Details,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Recompute every hash of a bundle; report changed, added and removed files.
    #[command(after_help = "\
Exit codes:
  0  every file matches the manifest (and the signature, with --public-key)
  1  a file changed, was added or removed, or the signature does not verify
  2  DIR is not an evidence bundle, or the key cannot be read")]
    Verify {
        /// The evidence bundle directory, or its s3:// / gs:// prefix.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Also verify MANIFEST.json.sig with this Ed25519 public key (PEM).
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
    },
    /// Generate an Ed25519 key pair for --sign-key (PKCS#8 / SPKI PEM, OpenSSL-compatible).
    Keygen {
        /// Where to write the private key (mode 0600; never overwritten).
        #[arg(long, value_name = "FILE")]
        private_key: PathBuf,
        /// Where to write the public key, for `evidence verify --public-key`.
        #[arg(long, value_name = "FILE")]
        public_key: PathBuf,
    },
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
        /// Read `[checks.allow_functions]` from FILE, as `audit` does (default:
        /// $SQLREADY_CONFIG, else ./sqlready.toml when it exists).
        #[arg(
            long,
            value_name = "FILE",
            env = "SQLREADY_CONFIG",
            conflicts_with = "no_config"
        )]
        config: Option<PathBuf>,
        /// Do not read ./sqlready.toml even when it exists (built-in allowlist only).
        #[arg(long)]
        no_config: bool,
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
