//! One audit run: collect every target (bounded concurrency), judge, report.

use crate::checks::eval::Thresholds;
use crate::checks::Catalog;
use crate::facts::snapshot::Collected;
use crate::report::{self, Report};
use crate::sources::{self, CollectOptions, CustomQuery};
use crate::target::TargetSpec;
use futures::stream::{self, StreamExt};

/// Collects every target, at most `concurrency` at once, in the given order.
pub async fn collect_all(
    targets: &[TargetSpec],
    options: &CollectOptions,
    concurrency: usize,
) -> Vec<Collected> {
    stream::iter(targets)
        .map(|spec| async move {
            tracing::info!(target = spec.id(), "auditing");
            let outcomes = sources::collect(spec, options).await;
            for failure in outcomes.iter().filter_map(|outcome| outcome.as_ref().err()) {
                tracing::info!(target = %failure.id, error = %failure.error, "target could not be audited");
            }
            outcomes
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<Vec<Collected>>>()
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// The custom queries the catalog's checks declare.
pub fn custom_queries(catalog: &Catalog) -> Vec<CustomQuery> {
    catalog
        .checks
        .iter()
        .flat_map(|compiled| {
            compiled.check.query.iter().map(|(engine, sql)| CustomQuery {
                check_id: compiled.check.id.clone(),
                engine: engine.clone(),
                sql: sql.clone(),
            })
        })
        .collect()
}

/// Judges collected facts into a report.
pub fn judge(
    catalog: &Catalog,
    collected: &[Collected],
    thresholds: &Thresholds,
    started_at: chrono::DateTime<chrono::Utc>,
) -> Report {
    report::build(catalog, collected, thresholds, started_at, chrono::Utc::now())
}
