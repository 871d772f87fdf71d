//! Sources: the only code that does I/O. Each turns what it read into facts.

pub mod migrations;
pub mod mysql;
pub mod postgres;

use crate::facts::snapshot::{Collected, TargetFailure};
use crate::target::{Kind, TargetSpec};
use std::time::Duration;

/// How sources connect and what extra they run.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    /// Custom check queries: (check id, engine, SQL).
    pub queries: Vec<CustomQuery>,
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
        }
    }
}

/// Collects what one target argument names: one database, or every instance a
/// cloud discovery finds (`rds://REGION`, `cloudsql://PROJECT`). Never panics,
/// never returns a message with a secret; a failure is reported per target.
pub async fn collect(spec: &TargetSpec, options: &CollectOptions) -> Vec<Collected> {
    vec![collect_one(spec, options).await]
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
        } => postgres::collect(id, url, options).await.map_err(|err| failure(err.to_string())),
        TargetSpec::Database {
            kind: Kind::Mysql,
            url,
            id,
        } => mysql::collect(id, url, options).await.map_err(|err| failure(err.to_string())),
        TargetSpec::Database { kind, .. } | TargetSpec::Cloud { kind, .. } => Err(failure(format!(
            "{} targets are not supported by this build yet",
            kind.as_str()
        ))),
    }
}
