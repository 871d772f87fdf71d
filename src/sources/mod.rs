//! Sources: the only code that does I/O. Each turns what it read into facts.

pub mod api_answers;
pub mod client_key;

#[cfg(feature = "cloudsql")]
pub mod cloudsql;
/// `gcp-org://` targets: parsing (the discovery is `cloudsql::asset_inventory`).
pub mod cloudsql_fleet;
/// Cloud SQL's version names and support calendar: pure, shared with the Terraform source.
#[path = "cloudsql/versions.rs"]
pub mod cloudsql_versions;
pub mod migrations;
pub mod mysql;
pub mod netrange;
pub mod postgres;
#[cfg(feature = "rds")]
pub mod rds;
pub mod reads;
pub mod terraform;
pub mod tls_errors;

use crate::facts::snapshot::{Collected, TargetFailure};
use crate::target::{Kind, TargetSpec};
use std::time::Duration;

/// The largest message (PostgreSQL) or reassembled packet payload (MySQL) a
/// database server may send; the patched sqlx refuses anything larger before
/// reserving memory for it (vendor/README.md, docs/security.md).
pub const MAX_SERVER_MESSAGE_BYTES: usize = sqlx_core::net::MAX_MESSAGE_BYTES;

/// Whether a sqlx protocol error is the message size cap refusing a message.
pub fn oversized_message(detail: &str) -> bool {
    detail.starts_with("the server sent a message of ") && detail.contains("-byte limit")
}

/// How sources connect and what extra they run.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    /// Custom check queries: (check id, engine, SQL).
    pub queries: Vec<CustomQuery>,
    /// Cloud API reads in flight at once within one target argument
    /// (parameter groups, lifecycle look-ups of a region's discovery).
    pub api_concurrency: usize,
    /// Attempts per cloud API call (throttling, 5xx, network errors are
    /// retried with exponential backoff; `AWS_MAX_ATTEMPTS` overrides for AWS).
    pub api_max_attempts: u32,
    /// `--shard I/N`: the slice of the discovered fleet to audit; sources
    /// drop other slices' instances right after listing them, before reading more.
    pub shard: Option<crate::shard::Filter>,
    /// Targets discovered and audited so far (the progress display reads it).
    pub progress: crate::progress::Tally,
}

/// A read-only query a check declared; its rows become `query.rows` for that check.
#[derive(Debug, Clone)]
pub struct CustomQuery {
    pub check_id: String,
    pub engine: String,
    pub sql: String,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(10),
            queries: Vec::new(),
            api_concurrency: 8,
            api_max_attempts: 4,
            shard: None,
            progress: crate::progress::Tally::default(),
        }
    }
}

/// Collects what one target argument names: one database, or every instance a
/// cloud discovery finds (`rds://REGION`, `cloudsql://PROJECT`). Never panics,
/// never returns a message with a secret; a failure is reported per target.
pub async fn collect(spec: &TargetSpec, options: &CollectOptions) -> Vec<Collected> {
    if let TargetSpec::CloudSql(cloudsql) = spec {
        return collect_cloudsql(cloudsql, options).await;
    }
    if let TargetSpec::Rds(rds) = spec {
        return collect_rds(rds, options).await;
    }
    if let TargetSpec::Terraform(terraform) = spec {
        return terraform::collect(terraform, chrono::Utc::now());
    }
    vec![collect_one(spec, options).await]
}

/// `cloudsql://PROJECT[/INSTANCE]`: every instance discovered, or the one named.
#[cfg(feature = "cloudsql")]
async fn collect_cloudsql(
    spec: &crate::target::CloudSqlSpec,
    options: &CollectOptions,
) -> Vec<Collected> {
    cloudsql::collect(spec, options).await
}

#[cfg(not(feature = "cloudsql"))]
async fn collect_cloudsql(
    spec: &crate::target::CloudSqlSpec,
    _options: &CollectOptions,
) -> Vec<Collected> {
    vec![Err(TargetFailure {
        id: spec.id().to_string(),
        kind: Kind::Cloudsql,
        error: "this sqlready was built without the `cloudsql` feature: rebuild with `--features cloudsql` (on by default) to audit cloudsql:// targets".to_string(),
    })]
}

/// `rds://REGION[/db/ID | /cluster/ID]`: every instance and cluster of the region, or the one named.
#[cfg(feature = "rds")]
async fn collect_rds(spec: &crate::target::RdsSpec, options: &CollectOptions) -> Vec<Collected> {
    rds::collect(spec, options).await
}

#[cfg(not(feature = "rds"))]
async fn collect_rds(spec: &crate::target::RdsSpec, _options: &CollectOptions) -> Vec<Collected> {
    vec![Err(TargetFailure {
        id: spec.id().to_string(),
        kind: Kind::Rds,
        error: "this sqlready was built without the `rds` feature: rebuild with `--features rds` (on by default) to audit rds:// targets".to_string(),
    })]
}

/// Collects one database target.
async fn collect_one(spec: &TargetSpec, options: &CollectOptions) -> Collected {
    let failure = |error: String| TargetFailure {
        id: spec.id().to_string(),
        kind: spec.kind(),
        error,
    };
    match spec {
        TargetSpec::Database {
            kind: Kind::Postgres,
            url,
            id,
        } => postgres::collect(id, url, options)
            .await
            .map_err(|err| failure(err.to_string())),
        TargetSpec::Database {
            kind: Kind::Mysql,
            url,
            id,
        } => mysql::collect(id, url, options)
            .await
            .map_err(|err| failure(err.to_string())),
        TargetSpec::CloudSql(spec) => Err(failure(format!(
            "{} is collected by sources::collect, not as a single database",
            spec.id()
        ))),
        TargetSpec::Rds(spec) => Err(failure(format!(
            "{} is collected by sources::collect, not as a single database",
            spec.id()
        ))),
        TargetSpec::Terraform(spec) => Err(failure(format!(
            "{} is collected by sources::collect, not as a single database",
            spec.id()
        ))),
        TargetSpec::Database { kind, .. } | TargetSpec::Cloud { kind, .. } => {
            Err(failure(format!(
                "{} targets are not supported by this build yet",
                kind.as_str()
            )))
        }
    }
}
