//! AWS RDS and Aurora through the RDS API (`aws-sdk-rds`), read-only.
//!
//! One [`Session`] per run: the standard AWS credential chain (environment,
//! profiles, IAM Identity Center, web identity, container and instance roles)
//! is resolved once with a short pre-flight, so a machine without credentials
//! fails in seconds with the fix instead of probing; `AWS_ENDPOINT_URL` is
//! honoured by the SDK itself. A run then makes, per region, one paginated
//! listing of instances and one of clusters (or one describe for a single
//! target), one read per distinct custom parameter group (default groups need
//! none: they cannot be changed), one lifecycle look-up per engine, and one
//! paginated `ec2:DescribeSecurityGroups` for the union of the security groups
//! listed ([`security_groups`]) — never a call per instance. Conversion to facts is pure and lives in [`facts`].

pub mod alarms;
pub mod aws_backup;
pub mod budgets;
pub mod ca;
pub mod engine_versions;
pub mod errors;
pub mod events;
pub mod facts;
pub mod fleet;
pub mod identity;
pub mod organization;
pub mod params;
pub mod regional;
pub mod regions;
pub mod replicas;
pub mod restore_drills;
pub mod security_groups;
pub mod snapshots;

pub use errors::RdsError;

use crate::facts::snapshot::{Collected, TargetFailure};
use crate::sources::CollectOptions;
use crate::target::{Kind, RdsScope, RdsSpec};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_rds::Client;
use aws_sdk_rds::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_rds::config::{ConfigBag, Intercept, ProvideCredentials, RuntimeComponents};
use aws_sdk_rds::error::BoxError;
use aws_sdk_rds::types::{DbCluster, DbInstance, Filter};
use aws_smithy_types::body::SdkBody;
use chrono::NaiveDate;
use facts::{Context, GroupRef, Lifecycle};
use futures::stream::{self, StreamExt};
use params::{GroupParams, GroupReading, ParamRow};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// Records per page of a listing (the API allows 20 to 100);
/// `SQLREADY_RDS_PAGE_SIZE` changes it (tests use 20 to exercise paging).
const PAGE_SIZE: i32 = 100;
/// How long the credential chain may take before the audit gives up on it.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(5);
/// The lifecycle look-up is a nicety: few attempts, then the embedded table.
const LIFECYCLE_ATTEMPTS: u32 = 2;

/// Collects what an `rds://` target names: every instance and cluster of a
/// region, or one of them. A failure is reported for the target argument.
pub async fn collect(spec: &RdsSpec, options: &CollectOptions) -> Vec<Collected> {
    static SHARED: OnceCell<Result<Arc<Session>, RdsError>> = OnceCell::const_new();
    let session = SHARED
        .get_or_init(|| async {
            // `rds://*` and `aws-org://` name no region: the run starts from its home region.
            let home = if spec.every_region() {
                regions::home_region()
            } else {
                spec.region.clone()
            };
            Session::from_environment(&home, options)
                .await
                .map(Arc::new)
        })
        .await;
    let outcome = match session {
        Ok(session) => match &spec.scope {
            RdsScope::Organization(org) => {
                organization::collect(session, org, &regions::home_region()).await
            }
            _ if spec.every_region() => session.collect_every_region(&regions::home_region()).await,
            _ => match &spec.account {
                Some(account) => organization::collect_in_account(session, spec, account).await,
                None => session.collect_stamped(spec).await,
            },
        },
        Err(err) => vec![Err(failure(spec.id(), err))],
    };
    if let Ok(session) = session {
        tracing::info!(
            target = spec.id(),
            "rds API calls so far: {}",
            session.calls.summary()
        );
    }
    outcome
}

fn failure(id: &str, err: &RdsError) -> TargetFailure {
    TargetFailure {
        id: id.to_string(),
        kind: Kind::Rds,
        error: err.to_string(),
    }
}

/// One run's AWS state: the configuration (credentials resolved once), a
/// client per region, what was read of parameter groups and engine
/// lifecycles, and the count of API calls.
pub struct Session {
    config: SdkConfig,
    concurrency: usize,
    max_attempts: u32,
    page_size: i32,
    clients: Mutex<HashMap<String, Client>>,
    groups: Mutex<HashMap<GroupKey, Arc<OnceCell<GroupParams>>>>,
    lifecycles: Mutex<HashMap<(String, String), LifecycleCell>>,
    /// Set when DescribeDBMajorEngineVersions failed once: later look-ups use the embedded table.
    lifecycle_down: Mutex<Option<String>>,
    /// Who the run is, asked once (see [`identity`]).
    caller: OnceCell<identity::IdentityAnswer>,
    /// Security groups read in the run, by (region, id) (see [`security_groups`]).
    sg_read: Mutex<HashMap<(String, String), security_groups::Group>>,
    /// Set when ec2:DescribeSecurityGroups was refused: not asked again in the run.
    sg_denied: Mutex<Option<String>>,
    /// One security-group read at a time, so concurrent targets reuse what it read.
    sg_reading: tokio::sync::Mutex<()>,
    pub calls: Arc<CallCounter>,
    /// `--shard I/N`: other shards' instances are dropped right after the listing.
    pub shard: Option<crate::shard::Filter>,
    /// CA list, engine versions, event subscriptions, AWS Backup: once per region (see [`regional`]).
    regional: regional::Cache,
    /// The member account of an organization run: target ids carry it
    /// (`rds://ACCOUNT@REGION/…`, see [`organization`]); `None` keeps today's ids.
    account: Option<String>,
    /// Alarms, budgets, snapshot sharing: once per region / account (see [`fleet`]).
    fleet: fleet::Cache,
}

/// A parameter group in a region: (region, `instance` or `cluster`, name).
type GroupKey = (String, &'static str, String);

/// An engine's lifecycle calendar, or why it could not be read.
type LifecycleAnswer = Result<Vec<MajorLifecycle>, String>;

/// Where one engine's lifecycle answer is kept once read.
type LifecycleCell = Arc<OnceCell<LifecycleAnswer>>;

/// The lifecycle of one major version.
#[derive(Debug, Clone, PartialEq)]
pub struct MajorLifecycle {
    pub major: String,
    pub standard_end: Option<NaiveDate>,
    pub extended_end: Option<NaiveDate>,
}

impl Session {
    /// A session from the standard AWS chain, after a credentials pre-flight.
    pub async fn from_environment(
        region: &str,
        options: &CollectOptions,
    ) -> Result<Session, RdsError> {
        let max_attempts = std::env::var("AWS_MAX_ATTEMPTS")
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|n| *n >= 1)
            .unwrap_or(options.api_max_attempts.max(1));
        let retry = RetryConfig::standard()
            .with_max_attempts(max_attempts)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(5));
        // One API call, retries and their backoff included, ends within the
        // statement timeout: an attempt timeout alone let a server that
        // accepts and never answers hold a call for attempts × the timeout.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(options.connect_timeout)
            .operation_attempt_timeout(options.statement_timeout)
            .operation_timeout(options.statement_timeout)
            .build();
        // The region is in every target URI: setting it skips the region chain
        // (whose last resort is the instance metadata service).
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .retry_config(retry)
            .timeout_config(timeouts)
            .load()
            .await;
        preflight(&config).await?;
        let mut session = Session::with_config(config, options.api_concurrency, max_attempts);
        session.shard = options.shard.clone();
        Ok(session)
    }

    /// A session on a given configuration, without pre-flight (tests: an
    /// endpoint and static credentials).
    pub fn with_config(config: SdkConfig, concurrency: usize, max_attempts: u32) -> Session {
        Session {
            config,
            concurrency: concurrency.max(1),
            max_attempts,
            page_size: std::env::var("SQLREADY_RDS_PAGE_SIZE")
                .ok()
                .and_then(|v| v.trim().parse::<i32>().ok())
                .map_or(PAGE_SIZE, |n| n.clamp(20, 100)),
            clients: Mutex::default(),
            groups: Mutex::default(),
            lifecycles: Mutex::default(),
            lifecycle_down: Mutex::default(),
            caller: OnceCell::new(),
            sg_read: Mutex::default(),
            sg_denied: Mutex::default(),
            sg_reading: tokio::sync::Mutex::const_new(()),
            calls: Arc::default(),
            shard: None,
            regional: regional::Cache::default(),
            account: None,
            fleet: fleet::Cache::default(),
        }
    }

    /// A target id as the run reports it: account-qualified in an organization run.
    fn qualified(&self, id: String) -> String {
        match &self.account {
            Some(account) => organization::qualify(&id, account),
            None => id,
        }
    }

    fn client(&self, region: &str) -> Client {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = aws_sdk_rds::config::Builder::from(&self.config)
                    .region(Region::new(region.to_string()))
                    .interceptor(CountCalls(self.calls.clone()))
                    .interceptor(CapAnswers)
                    .retry_classifier(RetryAfter)
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }

    /// Who the run's credentials are (`sts:GetCallerIdentity`, once per run,
    /// through the first target's region). A failure is an answer too: the
    /// audit goes on without a principal.
    pub async fn caller_identity(&self, region: &str) -> &identity::IdentityAnswer {
        self.caller
            .get_or_init(|| async {
                let conf = aws_sdk_sts::config::Builder::from(&self.config)
                    .region(Region::new(region.to_string()))
                    .interceptor(CountCalls(self.calls.clone()))
                    .interceptor(CapAnswers)
                    .retry_classifier(RetryAfter)
                    .build();
                let answer = aws_sdk_sts::Client::from_conf(conf)
                    .get_caller_identity()
                    .send()
                    .await
                    .map(|output| identity::CallerIdentity::from_response(&output))
                    .map_err(|err| identity::failure(&err));
                if let Err(reason) = &answer {
                    tracing::warn!("the evidence will not name the AWS caller: {reason}");
                }
                answer
            })
            .await
    }

    /// [`Session::collect`], each target stamped with who the session is.
    pub async fn collect_stamped(&self, spec: &RdsSpec) -> Vec<Collected> {
        let (mut targets, caller) =
            tokio::join!(self.collect(spec), self.caller_identity(&spec.region));
        for target in targets.iter_mut().flatten() {
            identity::stamp(target, caller);
        }
        targets
    }

    /// Collects one `rds://` target argument (ids account-qualified in an organization run).
    pub async fn collect(&self, spec: &RdsSpec) -> Vec<Collected> {
        let mut outcomes = self.collect_unqualified(spec).await;
        if let Some(account) = &self.account {
            organization::qualify_all(&mut outcomes, account);
        }
        outcomes
    }

    async fn collect_unqualified(&self, spec: &RdsSpec) -> Vec<Collected> {
        let region = spec.region.as_str();
        let client = self.client(region);
        let inventory = match &spec.scope {
            RdsScope::Region => self.list_region(&client, region).await,
            RdsScope::Instance(id) => self.one_instance(&client, region, id).await,
            RdsScope::Cluster(id) => self.one_cluster(&client, region, id).await,
            RdsScope::Organization(_) => Err(RdsError::Service {
                operation: "aws-org://".into(),
                region: region.into(),
                status: None,
                detail: "an organization is collected through organization::collect".into(),
            }),
        };
        match inventory {
            Ok(inventory) => {
                // A target named by id whose engine sqlready skips (Oracle, SQL
                // Server, Db2, …) must not come out as an audit with nothing to fail.
                let named = match &spec.scope {
                    RdsScope::Region | RdsScope::Organization(_) => None,
                    RdsScope::Instance(id) => {
                        Some((format!("DB instance '{id}'"), inventory.engines()))
                    }
                    RdsScope::Cluster(id) => {
                        Some((format!("DB cluster '{id}'"), inventory.engines()))
                    }
                };
                let judged = self.judge(&client, region, inventory).await;
                match named {
                    Some((what, engines)) if judged.is_empty() => {
                        let err = RdsError::UnsupportedEngine {
                            what,
                            region: region.into(),
                            engine: if engines.is_empty() {
                                "an unknown engine".into()
                            } else {
                                engines.join(", ")
                            },
                        };
                        vec![Err(failure(spec.id(), &err))]
                    }
                    _ => judged,
                }
            }
            Err(err) => vec![Err(failure(spec.id(), &err))],
        }
    }

    async fn list_region(&self, client: &Client, region: &str) -> Result<Inventory, RdsError> {
        let (instances, clusters) = futures::join!(
            self.describe_instances(client, region, None),
            self.describe_clusters(client, region, None)
        );
        Ok(Inventory {
            instances: instances?,
            clusters: clusters?,
        })
    }

    async fn one_instance(
        &self,
        client: &Client,
        region: &str,
        id: &str,
    ) -> Result<Inventory, RdsError> {
        let found = self
            .describe_instances(client, region, Some(InstanceQuery::Id(id)))
            .await?;
        let Some(db) = found.into_iter().next() else {
            return Err(RdsError::NotFound {
                what: format!("DB instance '{id}'"),
                region: region.into(),
            });
        };
        if let Some(cluster_id) = db.db_cluster_identifier() {
            // Aurora and Multi-AZ DB cluster members are judged as their cluster.
            tracing::warn!(
                "rds://{region}/db/{id} is a member of DB cluster {cluster_id}: it is audited as rds://{region}/cluster/{cluster_id}, where availability, backups and encryption live"
            );
            return self.one_cluster(client, region, cluster_id).await;
        }
        Ok(Inventory {
            instances: vec![db],
            clusters: Vec::new(),
        })
    }

    async fn one_cluster(
        &self,
        client: &Client,
        region: &str,
        id: &str,
    ) -> Result<Inventory, RdsError> {
        let clusters = self.describe_clusters(client, region, Some(id)).await?;
        if clusters.is_empty() {
            return Err(RdsError::NotFound {
                what: format!("DB cluster '{id}'"),
                region: region.into(),
            });
        }
        let instances = self
            .describe_instances(client, region, Some(InstanceQuery::Cluster(id)))
            .await?;
        Ok(Inventory {
            instances,
            clusters,
        })
    }

    /// Every DB instance (all pages), one by id, or the members of a cluster.
    async fn describe_instances(
        &self,
        client: &Client,
        region: &str,
        query: Option<InstanceQuery<'_>>,
    ) -> Result<Vec<DbInstance>, RdsError> {
        let mut request = client.describe_db_instances();
        match query {
            Some(InstanceQuery::Id(id)) => request = request.db_instance_identifier(id),
            Some(InstanceQuery::Cluster(id)) => {
                request = request
                    .filters(Filter::builder().name("db-cluster-id").values(id).build())
                    .max_records(self.page_size)
            }
            None => request = request.max_records(self.page_size),
        }
        let listed = request.into_paginator().items().send().try_collect().await;
        match listed {
            Ok(instances) => Ok(instances),
            // One named by id that does not exist: found nothing, said by the caller.
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_db_instance_not_found_fault()) =>
            {
                Ok(Vec::new())
            }
            Err(err) => Err(errors::classify(
                &err,
                "DescribeDBInstances",
                region,
                self.max_attempts,
            )),
        }
    }

    /// Every DB cluster (all pages), or one by id.
    async fn describe_clusters(
        &self,
        client: &Client,
        region: &str,
        id: Option<&str>,
    ) -> Result<Vec<DbCluster>, RdsError> {
        let mut request = client.describe_db_clusters();
        request = match id {
            Some(id) => request.db_cluster_identifier(id),
            None => request.max_records(self.page_size),
        };
        let listed = request.into_paginator().items().send().try_collect().await;
        match listed {
            Ok(clusters) => Ok(clusters),
            // One named by id that does not exist: found nothing, said by the caller.
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_db_cluster_not_found_fault()) =>
            {
                Ok(Vec::new())
            }
            Err(err) => Err(errors::classify(
                &err,
                "DescribeDBClusters",
                region,
                self.max_attempts,
            )),
        }
    }

    /// Turns an inventory into targets: reads what they need once, then converts.
    async fn judge(&self, client: &Client, region: &str, inventory: Inventory) -> Vec<Collected> {
        let Inventory {
            instances,
            clusters,
        } = inventory;
        let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
        let mut skip = |engine: Option<&str>| {
            *skipped
                .entry(engine.unwrap_or("unknown engine").to_string())
                .or_default() += 1;
        };
        let mut members_of: HashMap<&str, Vec<DbInstance>> = HashMap::new();
        let mut standalone = Vec::new();
        for db in &instances {
            match db.db_cluster_identifier() {
                Some(cluster) => members_of.entry(cluster).or_default().push(db.clone()),
                None if db.engine().and_then(facts::engine_family).is_some() => standalone.push(db),
                None => skip(db.engine()),
            }
        }
        let mut audited_clusters = Vec::new();
        for cluster in &clusters {
            if cluster.engine().and_then(facts::engine_family).is_some() {
                let members = members_of
                    .remove(cluster.db_cluster_identifier().unwrap_or_default())
                    .unwrap_or_default();
                audited_clusters.push((cluster, members));
            } else {
                skip(cluster.engine());
                members_of.remove(cluster.db_cluster_identifier().unwrap_or_default());
            }
        }
        for (cluster, orphans) in &members_of {
            tracing::warn!(
                "{} instance(s) of DB cluster {cluster} in {region} were not audited: the cluster was not in the DescribeDBClusters answer",
                orphans.len()
            );
        }
        if !skipped.is_empty() {
            let list: Vec<String> = skipped
                .iter()
                .map(|(engine, n)| format!("{engine} ({n})"))
                .collect();
            tracing::warn!(
                "{region}: skipped DB instances and clusters of engines sqlready does not audit: {}",
                list.join(", ")
            );
        }

        // Another shard's targets: nothing more read for them (their ids as facts.rs writes them).
        if let Some(filter) = &self.shard {
            standalone.retain(|db| {
                let id = db.db_instance_identifier().unwrap_or_default();
                filter.keep(&self.qualified(format!("rds://{region}/db/{id}")))
            });
            audited_clusters.retain(|(cluster, _)| {
                let id = cluster.db_cluster_identifier().unwrap_or_default();
                filter.keep(&self.qualified(format!("rds://{region}/cluster/{id}")))
            });
        }

        // What the targets need, each read once.
        let mut refs: BTreeSet<GroupRef> = BTreeSet::new();
        let mut engines: BTreeSet<String> = BTreeSet::new();
        for db in &standalone {
            refs.extend(facts::instance_groups(db));
            engines.extend(db.engine().map(str::to_string));
        }
        for (cluster, members) in &audited_clusters {
            refs.extend(facts::cluster_groups(cluster, members));
            engines.extend(cluster.engine().map(str::to_string));
        }
        let wanted: Vec<GroupRef> = refs.into_iter().filter(|r| !r.is_default()).collect();
        let concurrency = self.concurrency;
        let sg_ids: BTreeSet<String> = standalone
            .iter()
            .flat_map(|db| instance_sg_ids(db))
            .chain(audited_clusters.iter().flat_map(|(c, _)| cluster_sg_ids(c)))
            .collect();
        let audited: Vec<(&'static str, String)> = standalone
            .iter()
            .map(|db| fleet::audited_as(&regional::Unit::Instance(db)))
            .chain(
                audited_clusters
                    .iter()
                    .map(|(c, m)| fleet::audited_as(&regional::Unit::Cluster(c, m))),
            )
            .collect();
        let (_, lifecycles, wide, sg_answer, items) = futures::join!(
            stream::iter(&wanted).for_each_concurrent(concurrency, |group| async move {
                self.group(client, region, group).await;
            }),
            self.lifecycles_of(client, region, engines.clone()),
            self.region_wide(client, region, &engines),
            async {
                if sg_ids.is_empty() {
                    Ok(HashMap::new())
                } else {
                    self.security_groups(region, &sg_ids).await
                }
            },
            async {
                if audited.is_empty() {
                    None
                } else {
                    Some(self.fleet_wide(client, region, &audited).await)
                }
            }
        );

        // Every listed read replica, described: only working ones count.
        let replicas = self
            .replicas_of(client, region, &instances, &standalone)
            .await;

        let now = chrono::Utc::now();
        let mut out = Vec::new();
        for db in standalone {
            let groups = self
                .readings(client, region, &facts::instance_groups(db))
                .await;
            let lifecycle = pick_lifecycle(&lifecycles, db.engine(), db.engine_version());
            let ctx = Context {
                region,
                now,
                groups: &groups,
                lifecycle: &lifecycle,
                replicas: &replicas,
            };
            let mut target = facts::instance_target(db, &ctx);
            regional::apply(
                &mut target,
                regional::Unit::Instance(db),
                &wide,
                region,
                now,
            );
            let port = db
                .endpoint()
                .and_then(|e| e.port())
                .or(db.db_instance_port().filter(|p| *p > 0));
            security_groups::stamp(&mut target, &instance_sg_ids(db), port, &sg_answer);
            if let Some(items) = &items {
                fleet::apply(
                    &mut target,
                    &regional::Unit::Instance(db),
                    items,
                    region,
                    now,
                );
            }
            out.push(Ok(target));
        }
        for (cluster, members) in &audited_clusters {
            let groups = self
                .readings(client, region, &facts::cluster_groups(cluster, members))
                .await;
            let lifecycle = pick_lifecycle(&lifecycles, cluster.engine(), cluster.engine_version());
            let ctx = Context {
                region,
                now,
                groups: &groups,
                lifecycle: &lifecycle,
                replicas: &replicas,
            };
            let mut target = facts::cluster_target(cluster, members, &ctx);
            regional::apply(
                &mut target,
                regional::Unit::Cluster(cluster, members),
                &wide,
                region,
                now,
            );
            security_groups::stamp(
                &mut target,
                &cluster_sg_ids(cluster),
                cluster.port(),
                &sg_answer,
            );
            if let Some(items) = &items {
                fleet::apply(
                    &mut target,
                    &regional::Unit::Cluster(cluster, members),
                    items,
                    region,
                    now,
                );
            }
            out.push(Ok(target));
        }
        out.sort_by(|a: &Collected, b: &Collected| target_id(a).cmp(target_id(b)));
        out
    }

    /// The read replicas the standalone instances list, by the identifier they are listed
    /// under: taken from the inventory when there, else described (by ARN in its own
    /// region for a cross-region replica). A failure is kept as the reason, per replica.
    async fn replicas_of(
        &self,
        client: &Client,
        region: &str,
        inventory: &[DbInstance],
        standalone: &[&DbInstance],
    ) -> HashMap<String, Result<DbInstance, String>> {
        let mut found: HashMap<String, Result<DbInstance, String>> = HashMap::new();
        let mut wanted: Vec<String> = Vec::new();
        for id in standalone
            .iter()
            .flat_map(|db| db.read_replica_db_instance_identifiers())
        {
            match inventory
                .iter()
                .find(|db| db.db_instance_identifier() == Some(id.as_str()))
            {
                Some(db) => {
                    found.insert(id.clone(), Ok(db.clone()));
                }
                None if !wanted.contains(id) => wanted.push(id.clone()),
                None => {}
            }
        }
        let described: Vec<(String, Result<DbInstance, String>)> = stream::iter(wanted)
            .map(|id| async move {
                let there = replicas::arn_region(&id).unwrap_or(region).to_string();
                let regional;
                let client = if there == region {
                    client
                } else {
                    regional = self.client(&there);
                    &regional
                };
                let answer = self
                    .describe_instances(client, &there, Some(InstanceQuery::Id(&id)))
                    .await;
                let result = match answer {
                    Ok(found) => found
                        .into_iter()
                        .next()
                        .ok_or_else(|| format!("DescribeDBInstances in {there} did not find it")),
                    Err(err) => Err(err.to_string()),
                };
                (id, result)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        found.extend(described);
        found
    }

    /// The lifecycles of a region's engines: the first alone, so that an API
    /// that fails (an emulator, a partition without it) is asked only once.
    async fn lifecycles_of(
        &self,
        client: &Client,
        region: &str,
        engines: BTreeSet<String>,
    ) -> HashMap<String, LifecycleAnswer> {
        let mut engines = engines.into_iter();
        let mut found = HashMap::new();
        if let Some(first) = engines.next() {
            let lifecycle = self.lifecycle(client, region, &first).await;
            found.insert(first, lifecycle);
        }
        let rest: Vec<(String, LifecycleAnswer)> = stream::iter(engines)
            .map(|engine| async move {
                let lifecycle = self.lifecycle(client, region, &engine).await;
                (engine, lifecycle)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        found.extend(rest);
        found
    }

    async fn readings(
        &self,
        client: &Client,
        region: &str,
        refs: &[GroupRef],
    ) -> Vec<GroupReading> {
        let mut readings = Vec::with_capacity(refs.len());
        for group in refs {
            readings.push(GroupReading {
                name: group.name.clone(),
                level: group.level,
                apply_status: group.apply_status.clone(),
                params: self.group(client, region, group).await,
            });
        }
        readings
    }

    /// One parameter group's user-set parameters, read at most once per run.
    async fn group(&self, client: &Client, region: &str, group: &GroupRef) -> GroupParams {
        if group.is_default() {
            return GroupParams::Default;
        }
        let cell = {
            let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
            groups
                .entry((region.to_string(), group.level, group.name.clone()))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| self.read_group(client, region, group))
            .await
            .clone()
    }

    async fn read_group(&self, client: &Client, region: &str, group: &GroupRef) -> GroupParams {
        // Both calls page the same `Parameter` rows; only the request differs.
        let (operation, parameters) = if group.level == "cluster" {
            let operation = "DescribeDBClusterParameters";
            let read = client
                .describe_db_cluster_parameters()
                .db_cluster_parameter_group_name(&group.name)
                .source("user")
                .max_records(self.page_size)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await;
            let read = read.map_err(|e| errors::classify(&e, operation, region, self.max_attempts));
            (operation, read)
        } else {
            let operation = "DescribeDBParameters";
            let read = client
                .describe_db_parameters()
                .db_parameter_group_name(&group.name)
                .source("user")
                .max_records(self.page_size)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await;
            let read = read.map_err(|e| errors::classify(&e, operation, region, self.max_attempts));
            (operation, read)
        };
        tracing::debug!("{region}: {operation} {}", group.name);
        let rows = parameters.map(|parameters| {
            parameters
                .iter()
                .filter_map(|p| {
                    param_row(
                        p.parameter_name(),
                        p.parameter_value(),
                        p.apply_type(),
                        p.source(),
                    )
                })
                .collect::<Vec<_>>()
        });
        match rows {
            Ok(rows) => GroupParams::Custom(rows.into_iter().collect()),
            Err(err) => {
                tracing::warn!(
                    "{region}: parameter group {} could not be read: {err}",
                    group.name
                );
                GroupParams::Unreadable(err.to_string())
            }
        }
    }

    /// The lifecycle calendar of an engine, read at most once per run; after
    /// one failure the API is not asked again and the embedded table applies.
    async fn lifecycle(&self, client: &Client, region: &str, engine: &str) -> LifecycleAnswer {
        let cell = {
            let mut lifecycles = self.lifecycles.lock().unwrap_or_else(|e| e.into_inner());
            lifecycles
                .entry((region.to_string(), engine.to_string()))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| async {
            if let Some(reason) = self
                .lifecycle_down
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            {
                return Err(reason);
            }
            let outcome = self.read_lifecycle(client, region, engine).await;
            if let Err(reason) = &outcome {
                let mut down = self
                    .lifecycle_down
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if down.is_none() {
                    tracing::warn!("{reason}");
                    *down = Some(reason.clone());
                }
            }
            outcome
        })
        .await
        .clone()
    }

    async fn read_lifecycle(&self, client: &Client, region: &str, engine: &str) -> LifecycleAnswer {
        let mut majors = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let quick = aws_sdk_rds::config::Builder::default().retry_config(
                RetryConfig::standard()
                    .with_max_attempts(LIFECYCLE_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(100)),
            );
            let answer = client
                .describe_db_major_engine_versions()
                .engine(engine)
                .max_records(self.page_size)
                .set_marker(marker.clone())
                .customize()
                .config_override(quick)
                .send()
                .await;
            let page = answer.map_err(|err| {
                let err = errors::classify(&err, "DescribeDBMajorEngineVersions", region, LIFECYCLE_ATTEMPTS);
                format!("DescribeDBMajorEngineVersions failed ({err}); version support is judged from the RDS calendar shipped with sqlready, else the embedded end-of-life table")
            })?;
            for version in page.db_major_engine_versions() {
                let date = |name: &str| {
                    version
                        .supported_engine_lifecycles()
                        .iter()
                        .find(|l| l.lifecycle_support_name().map(|n| n.as_str()) == Some(name))
                        .and_then(|l| l.lifecycle_support_end_date())
                        .and_then(facts::to_chrono)
                        .map(|t| t.date_naive())
                };
                majors.push(MajorLifecycle {
                    major: version
                        .major_engine_version()
                        .unwrap_or_default()
                        .to_string(),
                    standard_end: date("open-source-rds-standard-support"),
                    extended_end: date("open-source-rds-extended-support"),
                });
            }
            marker = page.marker().map(str::to_string);
            if marker.is_none() {
                return Ok(majors);
            }
        }
    }
}

/// What a listing or a describe found.
struct Inventory {
    instances: Vec<DbInstance>,
    clusters: Vec<DbCluster>,
}

impl Inventory {
    /// The engines named in the answer (clusters first), without repeats.
    fn engines(&self) -> Vec<String> {
        let mut engines: Vec<String> = Vec::new();
        let named = self
            .clusters
            .iter()
            .filter_map(DbCluster::engine)
            .chain(self.instances.iter().filter_map(DbInstance::engine));
        for engine in named {
            if !engines.iter().any(|e| e == engine) {
                engines.push(engine.to_string());
            }
        }
        engines
    }
}

enum InstanceQuery<'a> {
    Id(&'a str),
    Cluster(&'a str),
}

fn param_row(
    name: Option<&str>,
    value: Option<&str>,
    apply_type: Option<&str>,
    source: Option<&str>,
) -> Option<(String, ParamRow)> {
    Some((
        name?.to_string(),
        ParamRow {
            value: value.map(str::to_string),
            apply_type: apply_type.map(str::to_string),
            source: source.map(str::to_string),
        },
    ))
}

/// The VPC security groups a standalone instance lists.
fn instance_sg_ids(db: &DbInstance) -> Vec<String> {
    security_groups::listed(
        db.vpc_security_groups()
            .iter()
            .map(|g| g.vpc_security_group_id()),
    )
}

/// The VPC security groups a cluster lists (its members share them).
fn cluster_sg_ids(cluster: &DbCluster) -> Vec<String> {
    security_groups::listed(
        cluster
            .vpc_security_groups()
            .iter()
            .map(|g| g.vpc_security_group_id()),
    )
}

fn pick_lifecycle(
    lifecycles: &HashMap<String, LifecycleAnswer>,
    engine: Option<&str>,
    version: Option<&str>,
) -> Lifecycle {
    let engine = engine.unwrap_or_default();
    let major = facts::major_version(engine, version.unwrap_or_default()).unwrap_or_default();
    match lifecycles.get(engine) {
        Some(Ok(majors)) => match majors.iter().find(|m| m.major == major) {
            Some(found) => Lifecycle::Api {
                standard_end: found.standard_end,
                extended_end: found.extended_end,
            },
            None => Lifecycle::Api {
                standard_end: None,
                extended_end: None,
            },
        },
        Some(Err(reason)) => Lifecycle::Unavailable(reason.clone()),
        None => Lifecycle::Unavailable("the engine lifecycle was not looked up".into()),
    }
}

fn target_id(collected: &Collected) -> &str {
    match collected {
        Ok(target) => &target.id,
        Err(failure) => &failure.id,
    }
}

/// Resolves credentials once, with a timeout, so that a machine without any
/// fails at once with the fix rather than after the chain's retries.
async fn preflight(config: &SdkConfig) -> Result<(), RdsError> {
    let Some(provider) = config.credentials_provider() else {
        return Err(RdsError::NoCredentials {
            detail: "no credential provider is configured".into(),
        });
    };
    match tokio::time::timeout(PREFLIGHT_TIMEOUT, provider.provide_credentials()).await {
        Err(_) => Err(RdsError::CredentialsTimeout {
            seconds: PREFLIGHT_TIMEOUT.as_secs(),
        }),
        Ok(Err(err)) => Err(errors::credentials(&err)),
        Ok(Ok(_)) => Ok(()),
    }
}

/// API calls made in a run, by action (attempts, retries included).
#[derive(Debug, Default)]
pub struct CallCounter {
    by_action: Mutex<BTreeMap<String, u64>>,
}

impl CallCounter {
    fn record(&self, action: &str) {
        let mut calls = self.by_action.lock().unwrap_or_else(|e| e.into_inner());
        *calls.entry(action.to_string()).or_default() += 1;
    }

    pub fn total(&self) -> u64 {
        self.by_action
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }

    /// `total=12 DescribeDBInstances=10 DescribeDBClusters=1 …`
    pub fn summary(&self) -> String {
        let calls = self.by_action.lock().unwrap_or_else(|e| e.into_inner());
        let mut text = format!("total={}", calls.values().sum::<u64>());
        for (action, n) in calls.iter() {
            text.push_str(&format!(" {action}={n}"));
        }
        text
    }
}

pub use super::api_answers::{MAX_ANSWER_BYTES, retry_after};

/// Refuses an answer whose Content-Length is over [`MAX_ANSWER_BYTES`], and
/// cuts one without a length (chunked) when it grows past it.
#[derive(Debug)]
struct CapAnswers;

impl Intercept for CapAnswers {
    fn name(&self) -> &'static str {
        "sqlready::rds::CapAnswers"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response_mut();
        let announced = response
            .headers()
            .get("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(length) = announced
            && length > MAX_ANSWER_BYTES
        {
            return Err(answer_too_large(Some(length)).into());
        }
        let body = std::mem::replace(response.body_mut(), SdkBody::taken());
        *response.body_mut() = body.map(|body| {
            use http_body_util::BodyExt;
            let limited = http_body_util::Limited::new(body, MAX_ANSWER_BYTES as usize);
            SdkBody::from_body_1_x(limited.map_err(|err| -> BoxError {
                if err.is::<http_body_util::LengthLimitError>() {
                    answer_too_large(None).into()
                } else {
                    err
                }
            }))
        });
        Ok(())
    }
}

/// The error of an oversized RDS or STS answer ([`super::api_answers`]).
pub fn answer_too_large(announced: Option<u64>) -> String {
    super::api_answers::answer_too_large(announced, "the RDS API")
}

/// Honours an HTTP `Retry-After` (seconds, or an HTTP date) on 429 and 503:
/// the SDK's own classifiers retry them after its exponential backoff only.
/// The wait is still capped by the retry configuration's maximum backoff
/// (5 s) and by the operation timeout (`--statement-timeout`), so a server
/// cannot stall a run with a large value.
#[derive(Debug)]
struct RetryAfter;

impl aws_sdk_rds::config::retry::ClassifyRetry for RetryAfter {
    fn classify_retry(
        &self,
        ctx: &aws_sdk_rds::config::interceptors::InterceptorContext,
    ) -> aws_sdk_rds::config::retry::RetryAction {
        use aws_sdk_rds::config::retry::RetryAction;
        use aws_smithy_types::retry::ErrorKind;
        let Some(response) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        let kind = match response.status().as_u16() {
            429 => ErrorKind::ThrottlingError,
            503 => ErrorKind::ServerError,
            _ => return RetryAction::NoActionIndicated,
        };
        match response.headers().get("retry-after").and_then(retry_after) {
            Some(delay) => RetryAction::retryable_error_with_explicit_delay(kind, delay),
            None => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "sqlready::rds::RetryAfter"
    }

    fn priority(
        &self,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;
        // After the SDK's classifiers, so that its plain "retry" gains the delay.
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// Counts each HTTP attempt by its `Action`.
#[derive(Debug)]
struct CountCalls(Arc<CallCounter>);

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "sqlready::rds::CountCalls"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let action = context
            .request()
            .body()
            .bytes()
            .and_then(|body| std::str::from_utf8(body).ok())
            .and_then(|body| {
                body.split('&')
                    .find_map(|pair| pair.strip_prefix("Action="))
            })
            // JSON protocols (Organizations) name the operation in a header.
            .or_else(|| {
                context
                    .request()
                    .headers()
                    .get("x-amz-target")
                    .and_then(|target| target.rsplit('.').next())
            })
            .unwrap_or("unknown");
        self.0.record(action);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_answers_name_the_rds_api() {
        assert!(answer_too_large(Some(1)).contains("the RDS API"));
    }
}
