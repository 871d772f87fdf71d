//! One audit run: collect every target (bounded concurrency), judge, report.

use crate::checks::Catalog;
use crate::checks::thresholds::ThresholdSet;
use crate::facts::merge::{self, Part};
use crate::facts::snapshot::{Collected, TargetFailure};
use crate::report::{self, Report};
use crate::sources::{self, CollectOptions, CustomQuery};
use crate::target::TargetSpec;
use futures::stream::{self, StreamExt};

/// One target of a run: a database, a cloud target, or both for the same
/// server (a `sqlready.toml` entry), merged into one target.
#[derive(Debug, Clone)]
pub struct Plan {
    pub database: Option<TargetSpec>,
    /// The environment variable holding the database password (config `password_env`).
    pub password_env: Option<String>,
    pub cloud: Option<TargetSpec>,
    /// `--connect`: every instance the cloud target discovers is also audited
    /// from inside (only for a cloud target without a paired `database`).
    pub connect: Option<crate::connect::Connect>,
}

impl Plan {
    /// A plan for one target given on the command line.
    pub fn single(spec: TargetSpec) -> Plan {
        let cloud = merge::is_cloud(spec.kind());
        Plan {
            database: (!cloud).then(|| spec.clone()),
            password_env: None,
            cloud: cloud.then_some(spec),
            connect: None,
        }
    }

    /// Whether the report's id is known before collecting: a database alone
    /// (a cloud target may discover many, or be audited as its cluster).
    fn known_id(&self) -> bool {
        self.cloud.is_none()
            && self.database.as_ref().is_some_and(|spec| {
                matches!(
                    spec,
                    TargetSpec::Database {
                        kind: crate::target::Kind::Postgres | crate::target::Kind::Mysql,
                        ..
                    }
                )
            })
    }

    /// The id the report uses: the cloud target's when there is one.
    pub fn id(&self) -> &str {
        self.cloud
            .as_ref()
            .or(self.database.as_ref())
            .map_or("", TargetSpec::id)
    }
}

/// Collects every plan, at most `concurrency` at once, in the given order.
/// The two halves of a paired plan are collected at the same time and merged
/// (see [`crate::facts::merge`]).
pub async fn collect_plans(
    plans: &[Plan],
    options: &CollectOptions,
    concurrency: usize,
) -> Vec<Collected> {
    // A database named outright is never connected to by another shard's runner.
    let plans: Vec<&Plan> = plans
        .iter()
        .filter(|plan| match &options.shard {
            Some(filter) if plan.known_id() => filter.keep(plan.id()),
            _ => true,
        })
        .collect();
    let mut collected = stream::iter(plans)
        .map(|plan| async move {
            tracing::info!(target = plan.id(), "auditing");
            let outcomes = collect_plan(plan, options).await;
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
        .collect::<Vec<Collected>>();
    // A MySQL/MariaDB source's replica lag, from its replicas audited in this run.
    crate::connect::join::replicas(&mut collected);
    collected
}

/// The id a collected target, or a failed one, is reported under.
pub fn outcome_id(outcome: &Collected) -> &str {
    match outcome {
        Ok(target) => &target.id,
        Err(failure) => &failure.id,
    }
}

/// Keeps this shard's slice of what a plan found (failed discoveries by their id).
fn keep_shard(outcomes: &mut Vec<Collected>, options: &CollectOptions) {
    if let Some(filter) = &options.shard {
        outcomes.retain(|outcome| filter.keep(outcome_id(outcome)));
    }
}

async fn collect_plan(plan: &Plan, options: &CollectOptions) -> Vec<Collected> {
    let progress = &options.progress;
    if let (Some(connect), Some(cloud), None) = (&plan.connect, &plan.cloud, &plan.database) {
        // Discovery first (one listing), then every instance's session; the
        // run-wide semaphore in `connect` bounds the sessions open at once.
        let mut discovered = sources::collect(cloud, options).await;
        // No session to another shard's instances.
        keep_shard(&mut discovered, options);
        progress.discovered(discovered.len());
        let width = options.api_concurrency.max(1);
        return stream::iter(discovered)
            .map(|outcome| async move {
                let paired = crate::connect::pair(outcome, connect, options).await;
                progress.done(paired.is_ok());
                paired
            })
            .buffered(width)
            .collect()
            .await;
    }
    let mut outcomes = collect_unpaired(plan, options).await;
    keep_shard(&mut outcomes, options);
    progress.discovered(outcomes.len());
    for outcome in &outcomes {
        progress.done(outcome.is_ok());
    }
    outcomes
}

/// A plan without `--connect` pairing: a database, a cloud target, or both merged.
async fn collect_unpaired(plan: &Plan, options: &CollectOptions) -> Vec<Collected> {
    let database = async {
        let spec = plan.database.as_ref()?;
        Some(match with_password(spec, plan.password_env.as_deref()) {
            Ok(spec) => sources::collect(&spec, options).await,
            Err(error) => vec![Err(TargetFailure {
                id: spec.id().to_string(),
                kind: spec.kind(),
                error,
            })],
        })
    };
    let cloud = async {
        let spec = plan.cloud.as_ref()?;
        Some(sources::collect(spec, options).await)
    };
    let (database, cloud) = futures::join!(database, cloud);
    match (cloud, database) {
        (Some(cloud), Some(database)) => {
            let (Some(cloud_spec), Some(database_spec)) = (&plan.cloud, &plan.database) else {
                return Vec::new();
            };
            let part = |spec: &TargetSpec, mut outcomes: Vec<Collected>| Part {
                kind: spec.kind(),
                id: spec.id().to_string(),
                outcome: if outcomes.len() == 1 {
                    outcomes.remove(0)
                } else {
                    Err(TargetFailure {
                        id: spec.id().to_string(),
                        kind: spec.kind(),
                        error: format!(
                            "{} named {} targets where one was expected",
                            spec.id(),
                            outcomes.len()
                        ),
                    })
                },
            };
            vec![merge::merge(
                cloud_spec.id(),
                part(cloud_spec, cloud),
                part(database_spec, database),
            )]
        }
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => Vec::new(),
    }
}

/// The database spec with its password from the environment variable `env`.
/// The password lives only in the connection URL, which is never displayed.
fn with_password(spec: &TargetSpec, env: Option<&str>) -> Result<TargetSpec, String> {
    let Some(env) = env else {
        return Ok(spec.clone());
    };
    let password = match std::env::var(env) {
        Ok(password) if !password.is_empty() => password,
        Ok(_) => {
            return Err(format!(
                "environment variable {env} (password_env) is empty"
            ));
        }
        Err(_) => {
            return Err(format!(
                "environment variable {env} (password_env) is not set"
            ));
        }
    };
    match spec {
        TargetSpec::Database { kind, url, id } => {
            let mut url = url.clone();
            url.set_password(Some(&crate::connect::credentials::url_encoded(&password)))
                .map_err(|()| format!("cannot set the password from {env} on {id}"))?;
            Ok(TargetSpec::Database {
                kind: *kind,
                url,
                id: id.clone(),
            })
        }
        other => Ok(other.clone()),
    }
}

/// The custom queries the catalog's checks declare.
pub fn custom_queries(catalog: &Catalog) -> Vec<CustomQuery> {
    catalog
        .checks
        .iter()
        .flat_map(|compiled| {
            compiled
                .check
                .query
                .iter()
                .map(|(engine, sql)| CustomQuery {
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
    thresholds: &ThresholdSet,
    started_at: chrono::DateTime<chrono::Utc>,
) -> Report {
    report::build(
        catalog,
        collected,
        thresholds,
        started_at,
        chrono::Utc::now(),
    )
}
