//! Google Cloud SQL, read through the Cloud SQL Admin API v1 with the
//! official client (`google-cloud-sql-v1`). Read-only: `instances.list`,
//! `instances.get`, `backupRuns.list` and `getLatestRecoveryTime`, all covered
//! by `roles/cloudsql.viewer`.
//!
//! Credentials: `GOOGLE_OAUTH_ACCESS_TOKEN` as the bearer token when set;
//! otherwise Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
//! gcloud's application-default login, workload identity federation, the
//! metadata server), checked once before the first call with a short timeout
//! so that a machine with none configured fails in seconds with the fix.
//! `SQLREADY_CLOUDSQL_ENDPOINT` replaces `https://sqladmin.googleapis.com`.
//!
//! Discovery (`cloudsql://PROJECT`) reads only the list pages: each page
//! carries the full instances, so no per-instance `get` is made. The
//! per-instance extras (backup runs, recovery window) run with bounded
//! concurrency. A list warning that leaves instances out (REGION_UNREACHABLE)
//! becomes a failure entry `cloudsql://PROJECT` next to the instances that
//! were listed, so the run is visibly partial and exits 3.
//!
//! Who ran the audit (the Google principal, for the evidence run record) is
//! found once per process, alongside the first listing (see [`identity`]),
//! and set on every instance with a `caller identity` evidence entry.

pub mod asset_inventory;
pub mod budgets;
pub mod errors;
pub mod facts;
pub mod google_rest;
pub mod identity;
pub mod monitoring;
pub mod operations;
pub mod patching;
pub mod project;
mod throttle;
pub use super::cloudsql_versions as versions;

use super::CollectOptions;
use crate::facts::snapshot::{Collected, TargetFailure};
use crate::target::{CloudSqlSpec, Kind, Role};
use errors::{CloudSqlError, classify};
use facts::{Extra, Readings};
use futures::stream::{self, StreamExt};
use google_cloud_auth::credentials::{
    CacheableResource, Credentials, CredentialsProvider, EntityTag,
};
use google_cloud_gax::error::Error as ApiError;
use google_cloud_gax::error::rpc::Code;
use google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder;
use google_cloud_gax::options::RequestOptionsBuilder as _;
use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicy, RetryPolicyExt};
use google_cloud_gax::retry_result::RetryResult;
use google_cloud_gax::retry_state::RetryState;
use google_cloud_sql_v1::client::{
    SqlBackupRunsService, SqlInstancesService, SqlOperationsService,
};
use google_cloud_sql_v1::model::{
    ApiWarning, DatabaseInstance, SqlBackupRunStatus, SqlBackupRunType,
    api_warning::SqlApiWarningCode,
};
use std::time::Duration;

// The Cloud SQL client reads answers through the patched gax HTTP layer
// (vendor/README.md), whose cap must be the one shared with RDS; this also
// fails the build if the patch is ever dropped.
const _: () = assert!(
    google_cloud_gax_internal::http::MAX_ANSWER_BYTES as u64
        == super::api_answers::MAX_ANSWER_BYTES
);

/// Replaces the API base URL (tests, private endpoints, proxies).
pub const ENDPOINT_VAR: &str = "SQLREADY_CLOUDSQL_ENDPOINT";
/// An OAuth 2.0 access token sent as the bearer token instead of ADC.
pub const TOKEN_VAR: &str = "GOOGLE_OAUTH_ACCESS_TOKEN";
const DEFAULT_ENDPOINT: &str = "https://sqladmin.googleapis.com";

/// Instances per list page (the API's own default and a safe maximum).
const PAGE_SIZE: u32 = 500;
/// Per-instance extras in flight at once, per project.
pub const EXTRA_CONCURRENCY: usize = 64;
/// The credentials pre-flight never waits longer than this.
const PREFLIGHT_CAP: Duration = Duration::from_secs(5);
/// Finding who runs the audit never waits longer than this.
const IDENTITY_CAP: Duration = Duration::from_secs(5);
/// Guards against a server that keeps handing out page tokens.
const MAX_PAGES: usize = 10_000;

/// The clients, built once per process after the credentials pre-flight.
struct Api {
    instances: SqlInstancesService,
    backup_runs: SqlBackupRunsService,
    /// `operations.list`, once per project ([`project`]).
    operations: SqlOperationsService,
    endpoint: String,
    /// The pre-flight's credentials, for finding who they belong to.
    credentials: Credentials,
    /// One call's time bound, retries and waits included (`--statement-timeout`).
    limit: Duration,
}

static API: tokio::sync::OnceCell<Result<Api, CloudSqlError>> = tokio::sync::OnceCell::const_new();
/// Who runs the audit, found once per process after the pre-flight.
static IDENTITY: tokio::sync::OnceCell<identity::Identity> = tokio::sync::OnceCell::const_new();

/// Collects what a `cloudsql://` target names: one instance, every instance of
/// the project, or (`gcp-org://`) every instance of an organization or folder.
pub async fn collect(spec: &CloudSqlSpec, options: &CollectOptions) -> Vec<Collected> {
    match &spec.fleet {
        Some(scope) => asset_inventory::collect(spec, scope, options).await,
        None => collect_project(spec, options).await,
    }
}

/// One instance, or every instance of one project.
async fn collect_project(spec: &CloudSqlSpec, options: &CollectOptions) -> Vec<Collected> {
    let api = match API.get_or_init(|| Api::connect(options)).await {
        Ok(api) => api,
        Err(err) => return vec![Err(failure(spec.id(), err))],
    };
    let targets = async {
        match &spec.instance {
            Some(instance) => vec![api.one(&spec.project, instance).await],
            None => api.discover(&spec.project, options.shard.as_ref()).await,
        }
    };
    let identity = IDENTITY.get_or_init(|| api.identity(options));
    // Read once per project, alongside the listing; the instances wait for it.
    let project = api.project(&spec.project);
    let (mut collected, identity, _) = futures::join!(targets, identity, project);
    for target in collected.iter_mut().flatten() {
        target.principal = identity.principal.clone();
        target.evidence.push(identity.evidence.clone());
    }
    collected
}

fn failure(id: &str, err: &CloudSqlError) -> TargetFailure {
    TargetFailure {
        id: id.to_string(),
        kind: Kind::Cloudsql,
        error: err.to_string(),
    }
}

impl Api {
    async fn connect(options: &CollectOptions) -> Result<Api, CloudSqlError> {
        // The client's TLS stack (reqwest + rustls) needs a process-wide crypto
        // provider; sqlready builds it without aws-lc-rs and uses ring, as sqlx does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let credentials = credentials(options).await?;
        let endpoint = std::env::var(ENDPOINT_VAR)
            .ok()
            .map(|e| e.trim().trim_end_matches('/').to_string())
            .filter(|e| !e.is_empty());
        let shown = endpoint
            .clone()
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let built = |err: google_cloud_gax::client_builder::Error| CloudSqlError::Api {
            what: format!("setting up the Cloud SQL Admin API client for {shown}"),
            detail: err.to_string(),
        };
        let mut instances = SqlInstancesService::builder()
            .with_credentials(credentials.clone())
            .with_retry_policy(retry_policy(options.statement_timeout))
            .with_backoff_policy(backoff_policy())
            .with_attempt_timeout(options.statement_timeout);
        let mut backup_runs = SqlBackupRunsService::builder()
            .with_credentials(credentials.clone())
            .with_retry_policy(retry_policy(options.statement_timeout))
            .with_backoff_policy(backoff_policy())
            .with_attempt_timeout(options.statement_timeout);
        // Every call carries the bearer token: a redirect is an answer, never
        // followed (reqwest would drop the header across hosts, but a token
        // must not depend on that). The switch is the gax client builder's
        // `internal` module (public, not semver-covered; Cargo.lock pins it).
        let mut operations = SqlOperationsService::builder()
            .with_credentials(credentials.clone())
            .with_retry_policy(retry_policy(options.statement_timeout))
            .with_backoff_policy(backoff_policy())
            .with_attempt_timeout(options.statement_timeout);
        use google_cloud_gax::client_builder::internal::with_follow_redirects;
        instances = with_follow_redirects(instances, false);
        backup_runs = with_follow_redirects(backup_runs, false);
        operations = with_follow_redirects(operations, false);
        if let Some(endpoint) = &endpoint {
            instances = instances.with_endpoint(endpoint.clone());
            backup_runs = backup_runs.with_endpoint(endpoint.clone());
            operations = operations.with_endpoint(endpoint.clone());
        }
        Ok(Api {
            instances: instances.build().await.map_err(built)?,
            backup_runs: backup_runs.build().await.map_err(built)?,
            operations: operations.build().await.map_err(built)?,
            endpoint: shown,
            credentials,
            limit: options.statement_timeout,
        })
    }

    /// The retry and backoff policies of one call: the client's, plus the
    /// `Retry-After` of a throttled answer ([`throttle`]).
    fn policies(
        &self,
    ) -> (
        throttle::NoteRetryAfter<impl RetryPolicy + use<>>,
        throttle::HonourRetryAfter<google_cloud_gax::exponential_backoff::ExponentialBackoff>,
    ) {
        throttle::for_call(retry_policy(self.limit), backoff_policy())
    }

    /// Who the credentials belong to, in the order they were chosen; never fails.
    async fn identity(&self, options: &CollectOptions) -> identity::Identity {
        let token_set = std::env::var(TOKEN_VAR).is_ok_and(|t| !t.trim().is_empty());
        // The file ADC reads: GOOGLE_APPLICATION_CREDENTIALS, else gcloud's when present.
        let file = match std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS") {
            _ if token_set => None,
            Some(path) => Some(std::path::PathBuf::from(path)),
            None => adc_file().filter(|p| p.exists()),
        };
        let read = file.map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|err| err.to_string());
            (path.display().to_string(), text)
        });
        let plan = identity::plan(
            token_set,
            read.as_ref()
                .map(|(name, text)| (name.as_str(), text.clone())),
        );
        // Runs alongside the first listing: never longer than an API call may take.
        let timeout = options
            .connect_timeout
            .min(options.statement_timeout)
            .min(IDENTITY_CAP);
        let api_is_google = self.endpoint == DEFAULT_ENDPOINT;
        // Token info not asked because the API is redirected (tests, private
        // endpoints) is the user's setup, not a failure worth a warning.
        let not_asked = matches!(plan, identity::Plan::TokenInfo { .. })
            && identity::oauth_endpoint(api_is_google).is_err();
        let found = identity::resolve(plan, &self.credentials, timeout, api_is_google).await;
        match (&found.principal, found.reason()) {
            (Some(principal), _) => tracing::info!(principal, "Google principal found"),
            (None, reason) if not_asked => tracing::info!(
                "the Google principal is unknown ({})",
                reason.unwrap_or("no reason given")
            ),
            (None, reason) => tracing::warn!(
                "who runs the audit is not recorded: the Google principal is unknown ({})",
                reason.unwrap_or("no reason given")
            ),
        }
        found
    }

    fn classify(&self, err: &ApiError, what: &str, project: &str) -> CloudSqlError {
        classify(err, what, project, &self.endpoint)
    }

    /// `cloudsql://PROJECT/INSTANCE`: one `instances.get`, then the extras.
    async fn one(&self, project: &str, name: &str) -> Collected {
        let id = facts::target_id(project, name);
        let (retry, backoff) = self.policies();
        let response = self
            .instances
            .get()
            .set_project(project)
            .set_instance(name)
            .with_retry_policy(retry)
            .with_backoff_policy(backoff)
            .send()
            .await;
        match response {
            Ok(instance) => match facts::not_audited(&instance) {
                Some(why) => Err(TargetFailure {
                    id,
                    kind: Kind::Cloudsql,
                    error: why,
                }),
                None => self.audit(project, instance, &[], false).await,
            },
            Err(err) => {
                let what = format!("reading Cloud SQL instance {name} of project {project}");
                Err(failure(&id, &self.classify(&err, &what, project)))
            }
        }
    }

    /// `cloudsql://PROJECT`: every list page, then the extras of every instance
    /// (of this shard's slice, with `--shard`).
    async fn discover(
        &self,
        project: &str,
        shard: Option<&crate::shard::Filter>,
    ) -> Vec<Collected> {
        let what = format!("listing the Cloud SQL instances of project {project}");
        let project_id = format!("cloudsql://{project}");
        let mut instances = Vec::new();
        let mut warnings: Vec<ApiWarning> = Vec::new();
        let mut token = String::new();
        let started = std::time::Instant::now();
        let mut pages = 0;
        let mut stopped: Option<CloudSqlError> = None;
        for page_number in 1..=MAX_PAGES {
            pages = page_number;
            let (retry, backoff) = self.policies();
            let page = self
                .instances
                .list()
                .set_project(project)
                .set_max_results(PAGE_SIZE)
                .set_page_token(token.clone())
                .with_retry_policy(retry)
                .with_backoff_policy(backoff)
                .send()
                .await;
            let page = match page {
                Ok(page) => page,
                Err(err) => {
                    let what = if page_number == 1 {
                        what.clone()
                    } else {
                        format!("{what} (page {page_number})")
                    };
                    stopped = Some(self.classify(&err, &what, project));
                    break;
                }
            };
            tracing::debug!(
                project,
                page = page_number,
                instances = page.items.len(),
                "listed"
            );
            instances.extend(page.items);
            warnings.extend(page.warnings);
            if page.next_page_token.is_empty() {
                break;
            }
            if page.next_page_token == token || page_number == MAX_PAGES {
                stopped = Some(CloudSqlError::Malformed {
                    what: what.clone(),
                    detail: format!(
                        "the list did not end after {page_number} page(s): nextPageToken repeats"
                    ),
                });
                break;
            }
            token = page.next_page_token;
        }
        if instances.is_empty() && stopped.is_none() && warnings.is_empty() {
            tracing::warn!(project, "project {project} has no Cloud SQL instances");
        }
        // Source representations of servers outside Cloud SQL are listed too: not audited here.
        instances.retain(|instance| match facts::not_audited(instance) {
            Some(why) => {
                tracing::warn!(project, "not audited: {why}");
                false
            }
            None => true,
        });
        let listed = started.elapsed();
        let count = instances.len();
        // The listing describes the replicas too: judged from it, not read again.
        let peers = instances.clone();
        let peers = &peers;
        // Other shards' instances: no extras read, no facts.
        if let Some(filter) = shard {
            instances.retain(|i| filter.keep(&facts::target_id(project, &i.name)));
        }
        let mut collected: Vec<Collected> = stream::iter(instances)
            .map(|instance| self.audit(project, instance, peers, true))
            .buffered(EXTRA_CONCURRENCY)
            .collect()
            .await;
        tracing::info!(
            project,
            "{count} instance(s) listed in {pages} page(s) in {:.0} ms; extras and facts in {:.0} ms",
            listed.as_secs_f64() * 1e3,
            (started.elapsed() - listed).as_secs_f64() * 1e3
        );
        if let Some(message) = partial_listing(project, &warnings) {
            collected.push(Err(TargetFailure {
                id: project_id.clone(),
                kind: Kind::Cloudsql,
                error: message,
            }));
        }
        if let Some(err) = stopped {
            collected.push(Err(failure(&project_id, &err)));
        }
        collected
    }

    /// One instance: the extras it needs, then pure conversion to facts. `peers` are the
    /// instances already listed with it (their replicas need no second read); `listed`:
    /// they are the whole project (clones can be paired with the instances they made).
    async fn audit(
        &self,
        project: &str,
        instance: DatabaseInstance,
        peers: &[DatabaseInstance],
        listed: bool,
    ) -> Collected {
        if instance.name.is_empty() {
            return Err(failure(
                &format!("cloudsql://{project}"),
                &CloudSqlError::Malformed {
                    what: format!("listing the Cloud SQL instances of project {project}"),
                    detail: "an instance without a name".into(),
                },
            ));
        }
        let primary = facts::role(&instance) == Role::Primary;
        let backups = facts::backups_enabled(&instance);
        let pitr = facts::pitr_configured(&instance);
        let name = instance.name.clone();
        let runs = async {
            if !primary {
                return (
                    Extra::Skipped("a read replica has no backups of its own".into()),
                    false,
                );
            }
            if !backups {
                return (Extra::Skipped("automated backups are off".into()), false);
            }
            // Newest first. One page holds the last successful automated run
            // unless on-demand runs (or failures) crowd it out: then read on.
            let mut items = Vec::new();
            let mut token = String::new();
            for _ in 0..facts::BACKUP_RUNS_MAX_PAGES {
                let (retry, backoff) = self.policies();
                let response = self
                    .backup_runs
                    .list()
                    .set_project(project)
                    .set_instance(&name)
                    .set_max_results(facts::BACKUP_RUNS_PAGE)
                    .set_page_token(token.clone())
                    .with_retry_policy(retry)
                    .with_backoff_policy(backoff)
                    .send()
                    .await;
                let page = match response {
                    Ok(page) => page,
                    Err(err) => {
                        let what = format!("listing the backup runs of {name}");
                        return (self.failed(&err, &what, project), false);
                    }
                };
                items.extend(page.items);
                let found = items.iter().any(|run| {
                    run.r#type == SqlBackupRunType::Automated
                        && run.status == SqlBackupRunStatus::Successful
                });
                if found || page.next_page_token.is_empty() || page.next_page_token == token {
                    return (Extra::Read(items), false);
                }
                token = page.next_page_token;
            }
            (Extra::Read(items), true)
        };
        let recovery = async {
            if !primary {
                return Extra::Skipped(
                    "a read replica has no point-in-time recovery of its own".into(),
                );
            }
            if !backups || !pitr {
                return Extra::Skipped("point-in-time recovery is off".into());
            }
            let (retry, backoff) = self.policies();
            let response = self
                .instances
                .get_latest_recovery_time()
                .set_project(project)
                .set_instance(&name)
                .with_retry_policy(retry)
                .with_backoff_policy(backoff)
                .send()
                .await;
            match response {
                Ok(recovery) => Extra::Read(recovery),
                Err(err) => self.failed(
                    &err,
                    &format!("reading the recovery window of {name}"),
                    project,
                ),
            }
        };
        let replicas = self.replicas_of(project, &instance, peers);
        let project_readings = self.project(project);
        let ((backup_runs, backup_runs_truncated), recovery, replicas, project_readings) =
            futures::join!(runs, recovery, replicas, project_readings);
        let readings = Readings {
            project: project.to_string(),
            instance,
            backup_runs,
            backup_runs_truncated,
            recovery,
            replicas,
        };
        let now = chrono::Utc::now();
        let mut target = facts::target_facts(&readings, now);
        project::apply(
            &mut target,
            &project_readings,
            project,
            &readings.instance,
            listed.then_some(peers),
            now,
        );
        Ok(target)
    }

    /// Each of `replicaNames`: from `peers` when listed there, else `instances.get`
    /// (a name may carry its project as `PROJECT:NAME`). A failure is kept as the reason.
    async fn replicas_of(
        &self,
        project: &str,
        instance: &DatabaseInstance,
        peers: &[DatabaseInstance],
    ) -> Vec<(String, Result<DatabaseInstance, String>)> {
        stream::iter(instance.replica_names.clone())
            .map(|name| async move {
                let (there, short) = match name.split_once(':') {
                    Some((p, n)) => (p.to_string(), n.to_string()),
                    None => (project.to_string(), name.clone()),
                };
                if there == project
                    && let Some(peer) = peers.iter().find(|p| p.name == short)
                {
                    return (name, Ok(peer.clone()));
                }
                let response = self
                    .instances
                    .get()
                    .set_project(&there)
                    .set_instance(&short)
                    .send()
                    .await;
                let result = response.map_err(|err| {
                    let what = format!("reading read replica {short} of project {there}");
                    self.classify(&err, &what, &there).to_string()
                });
                (name, result)
            })
            .buffered(EXTRA_CONCURRENCY)
            .collect()
            .await
    }

    fn failed<T>(&self, err: &ApiError, what: &str, project: &str) -> Extra<T> {
        let err = self.classify(err, what, project);
        tracing::info!(error = %err, "an extra Cloud SQL read failed");
        Extra::Failed {
            resolve: err.resolve(),
            reason: err.to_string(),
        }
    }
}

/// The warnings that mean instances are missing from the list, as one message.
/// Others (e.g. COMPROMISED_CREDENTIALS) are logged on stderr, never dropped.
fn partial_listing(project: &str, warnings: &[ApiWarning]) -> Option<String> {
    let mut partial = Vec::new();
    for warning in warnings {
        let code = warning
            .code
            .name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{:?}", warning.code.value()));
        let region = if warning.region.is_empty() {
            String::new()
        } else {
            format!(" in {}", warning.region)
        };
        let line = format!("{code}{region}: {}", warning.message);
        match warning.code {
            SqlApiWarningCode::MaxResultsExceedsLimit
            | SqlApiWarningCode::CompromisedCredentials => {
                tracing::warn!(project, "Cloud SQL Admin API warning: {line}");
            }
            _ => partial.push(line),
        }
    }
    (!partial.is_empty()).then(|| {
        format!(
            "the instance list of project {project} is partial, so instances there were not audited ({}); run again later",
            partial.join("; ")
        )
    })
}

/// Retries what a read may retry: 429 (quota), 500, 502, 503, 504 and
/// connection failures, with exponential backoff, at most 6 attempts, all
/// within the statement timeout (as one RDS call): a server that accepts and
/// never answers holds a call for that long, not attempts × it.
#[derive(Debug)]
struct Transient;

impl RetryPolicy for Transient {
    fn on_error(&self, state: &RetryState, error: ApiError) -> RetryResult {
        let code = error.status().map(|status| status.code);
        let retry_code = matches!(
            code,
            Some(Code::ResourceExhausted | Code::Unavailable | Code::Internal)
        );
        let retry_http = matches!(error.http_status_code(), Some(429 | 500 | 502 | 503 | 504));
        if state.idempotent && (retry_code || retry_http) {
            return RetryResult::Continue(error);
        }
        Aip194Strict.on_error(state, error)
    }
}

fn retry_policy(limit: Duration) -> impl RetryPolicy {
    Transient.with_attempt_limit(6).with_time_limit(limit)
}

fn backoff_policy() -> google_cloud_gax::exponential_backoff::ExponentialBackoff {
    ExponentialBackoffBuilder::new()
        .with_initial_delay(Duration::from_millis(200))
        .with_maximum_delay(Duration::from_secs(8))
        .with_scaling(2.0)
        .clamp()
}

/// `GOOGLE_OAUTH_ACCESS_TOKEN` as a fixed bearer token.
#[derive(Debug)]
struct AccessToken {
    header: http::HeaderValue,
    tag: EntityTag,
}

impl CredentialsProvider for AccessToken {
    async fn headers(
        &self,
        _extensions: http::Extensions,
    ) -> Result<CacheableResource<http::HeaderMap>, google_cloud_auth::errors::CredentialsError>
    {
        let mut data = http::HeaderMap::new();
        data.insert(http::header::AUTHORIZATION, self.header.clone());
        Ok(CacheableResource::New {
            entity_tag: self.tag.clone(),
            data,
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        Some("googleapis.com".to_string())
    }
}

/// The credentials to use, proven to yield a token before any API call.
/// The credentials this source uses, for sqlready's other Google calls
/// (Cloud Storage destinations, src/storage.rs): one chain, one set of rules.
pub async fn google_credentials() -> Result<Credentials, CloudSqlError> {
    credentials(&CollectOptions::default()).await
}

/// The bearer token `credentials` put in the Authorization header.
pub async fn bearer_token(credentials: &Credentials) -> Result<String, String> {
    identity::bearer(credentials).await
}

async fn credentials(options: &CollectOptions) -> Result<Credentials, CloudSqlError> {
    if let Some(token) = std::env::var(TOKEN_VAR)
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        let mut header = http::HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| {
            CloudSqlError::NoCredentials {
                detail: format!("{TOKEN_VAR} is not a valid access token (it has characters a header cannot carry)"),
            }
        })?;
        header.set_sensitive(true);
        return Ok(Credentials::from(AccessToken {
            header,
            tag: EntityTag::new(),
        }));
    }
    let credentials = google_cloud_auth::credentials::Builder::default()
        .build()
        .map_err(|err| CloudSqlError::NoCredentials {
            detail: format!("Application Default Credentials could not be loaded ({err})"),
        })?;
    // What ADC will try, in its order, to say which one failed.
    let source = match std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS") {
        Some(path) => Some(format!(
            "GOOGLE_APPLICATION_CREDENTIALS ({})",
            path.to_string_lossy()
        )),
        None => adc_file()
            .filter(|p| p.exists())
            .map(|p| p.display().to_string()),
    };
    let nothing = || {
        format!(
            "none configured: {TOKEN_VAR} and GOOGLE_APPLICATION_CREDENTIALS are unset, there is no {}, and no metadata server gave a token",
            adc_file().map_or("application_default_credentials.json".to_string(), |p| p
                .display()
                .to_string())
        )
    };
    let timeout = options.connect_timeout.min(PREFLIGHT_CAP);
    match tokio::time::timeout(timeout, credentials.headers(http::Extensions::new())).await {
        Ok(Ok(_)) => Ok(credentials),
        Ok(Err(err)) => Err(CloudSqlError::NoCredentials {
            detail: match source {
                Some(source) => format!("the credentials in {source} gave no token ({err})"),
                None => format!("{} ({err})", nothing()),
            },
        }),
        Err(_) => Err(CloudSqlError::NoCredentials {
            detail: match source {
                Some(source) => format!(
                    "the credentials in {source} gave no token within {:.0} s",
                    timeout.as_secs_f64()
                ),
                None => format!("{} within {:.0} s", nothing(), timeout.as_secs_f64()),
            },
        }),
    }
}

/// The gcloud application-default credentials file, where the client looks for it.
fn adc_file() -> Option<std::path::PathBuf> {
    let (var, relative) = if cfg!(windows) {
        ("APPDATA", "gcloud/application_default_credentials.json")
    } else {
        (
            "HOME",
            ".config/gcloud/application_default_credentials.json",
        )
    };
    std::env::var_os(var).map(|root| std::path::PathBuf::from(root).join(relative))
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_sql_v1::model::ApiWarning;

    #[test]
    fn region_unreachable_makes_the_list_partial() {
        let warnings = vec![
            ApiWarning::new()
                .set_code(SqlApiWarningCode::RegionUnreachable)
                .set_region("us-east4")
                .set_message("The region is temporarily unreachable."),
        ];
        let message = partial_listing("acme", &warnings).expect("partial");
        assert!(
            message.contains("REGION_UNREACHABLE in us-east4"),
            "{message}"
        );
        assert!(message.contains("project acme is partial"), "{message}");
    }

    #[test]
    fn informational_warnings_do_not_make_it_partial() {
        let warnings = vec![ApiWarning::new().set_code(SqlApiWarningCode::MaxResultsExceedsLimit)];
        assert_eq!(partial_listing("acme", &warnings), None);
        assert_eq!(partial_listing("acme", &[]), None);
    }
}
