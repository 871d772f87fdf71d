//! `--connect`: every instance a cloud discovery finds (`rds://REGION`,
//! `cloudsql://PROJECT`, or one named instance) is also audited from inside,
//! through the same path as a hand-written `[[targets]]` pairing: the API's
//! answer gives the address, engine, server CA and IAM setting
//! ([`endpoint`]); the credentials are a named password or an IAM token
//! ([`credentials`]); the database source reads the instance over a read-only
//! session, and [`crate::facts::merge`] joins both into one target.
//!
//! An instance that cannot be reached from where sqlready runs keeps its API
//! verdicts; its in-database facts become `unknown` with the connection error
//! and what resolves it ([`unreached`]). That is not a failed target (exit 3 is
//! for a target or a named source that could not be audited): `--connect` asks
//! for more where it can get it. `--fail-on-unknown` makes it exit 1.

pub mod credentials;
pub mod endpoint;
pub mod join;
pub mod rds_ca;
pub mod readers;
pub mod unreached;

use crate::facts::merge::{self, Part};
use crate::facts::snapshot::{Collected, TargetFacts};
use crate::sources::{self, CollectOptions};
use crate::target::{self, Resolve};
use credentials::PasswordSource;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::{OnceCell, Semaphore};

/// The database user when none is named.
pub const DEFAULT_USER: &str = "sqlready_auditor";

/// One discovery entry's connect settings (`--connect-*` flags, or the
/// `connect_*` keys of a `[[targets]]` entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The database user (`connect_user`); default [`DEFAULT_USER`], or for
    /// Cloud SQL IAM authentication the run's principal ([`credentials::user`]).
    pub user: Option<String>,
    /// A named password; none means IAM database authentication.
    pub password: Option<PasswordSource>,
    /// A CA bundle for the servers' certificates (`connect_ca_file`; the RDS
    /// bundle named by `CACertificateIdentifier`, which the API does not serve).
    pub ca_file: Option<PathBuf>,
    /// `connect_sslmode`: replaces the mode chosen from what the API publishes.
    pub tls: Option<endpoint::TlsMode>,
}

impl Settings {
    /// The named user, else [`DEFAULT_USER`] (a session with Cloud SQL IAM
    /// authentication and no named user logs in as the run's principal
    /// instead: [`credentials::user`]).
    pub fn user(&self) -> &str {
        self.user.as_deref().unwrap_or(DEFAULT_USER)
    }
}

/// An RDS region's CA bundle as this run got it: the file written, or why not.
type Bundle = Arc<OnceCell<Result<(PathBuf, String), String>>>;

/// What every `--connect` plan of one run shares: the `--resolve` rules, the
/// bound on sessions open at once, the CA files written for this run (the
/// RDS bundles once per region), the named passwords once read, and the
/// tally and warnings for the stderr summary.
#[derive(Debug)]
pub struct Run {
    pub resolve: Vec<Resolve>,
    sessions: Semaphore,
    ca_dir: Mutex<Option<tempfile::TempDir>>,
    rds_bundles: Mutex<HashMap<String, Bundle>>,
    passwords: Mutex<HashMap<PasswordSource, Result<String, String>>>,
    warnings: Mutex<Vec<String>>,
    tried: AtomicUsize,
    reached: AtomicUsize,
    /// Cluster readers, reached one by one besides their cluster's writer.
    readers_tried: AtomicUsize,
    readers_reached: AtomicUsize,
    unreached: Mutex<Vec<(String, String)>>,
}

/// The `--resolve` rules every database connection of the process consults
/// (installed into sqlx's TCP connect, which keeps the host name for TLS: a
/// redirected session still verifies the certificate against the API's name,
/// as curl's `--resolve` does).
static RESOLVE: RwLock<Vec<Resolve>> = RwLock::new(Vec::new());

fn redirect(host: &str, port: u16) -> Option<(String, u16)> {
    let rules = RESOLVE.read().ok()?;
    Resolve::apply(&rules, host.trim_matches(['[', ']']), port)
}

/// Where a connection to `host:port` goes under the installed rules.
pub fn redirected(host: &str, port: u16) -> Option<(String, u16)> {
    redirect(host, port)
}

impl Run {
    /// At most `concurrency` in-database sessions open at once, run-wide;
    /// `resolve` is installed for every connection of the process.
    pub fn new(resolve: Vec<Resolve>, concurrency: usize) -> Run {
        if let Ok(mut rules) = RESOLVE.write() {
            *rules = resolve.clone();
        }
        sqlx_core::net::set_connect_override(redirect);
        Run {
            resolve,
            sessions: Semaphore::new(concurrency.max(1)),
            ca_dir: Mutex::new(None),
            rds_bundles: Mutex::new(HashMap::new()),
            passwords: Mutex::new(HashMap::new()),
            warnings: Mutex::new(Vec::new()),
            tried: AtomicUsize::new(0),
            reached: AtomicUsize::new(0),
            readers_tried: AtomicUsize::new(0),
            readers_reached: AtomicUsize::new(0),
            unreached: Mutex::new(Vec::new()),
        }
    }

    /// Says something once for the whole run (in the summary).
    fn warn(&self, text: String) {
        if let Ok(mut warnings) = self.warnings.lock()
            && !warnings.contains(&text)
        {
            warnings.push(text);
        }
    }

    /// A named password, read once per run: a file mounted as a secret is not
    /// read again per instance; an unreadable one is one reason in the summary.
    fn password(&self, source: &PasswordSource) -> Result<String, String> {
        let mut cache = self
            .passwords
            .lock()
            .map_err(|_| "the password cache lock is poisoned".to_string())?;
        let read = cache
            .entry(source.clone())
            .or_insert_with(|| credentials::named(source))
            .clone();
        drop(cache);
        read
    }

    /// The RDS CA bundle of `region`, downloaded at most once per run: the
    /// file and the URL it came from, or why not (said once per region).
    async fn rds_bundle(&self, region: &str) -> Result<(PathBuf, String), String> {
        let cell = {
            let mut bundles = self
                .rds_bundles
                .lock()
                .map_err(|_| "the CA bundle lock is poisoned".to_string())?;
            bundles.entry(region.to_string()).or_default().clone()
        };
        let got = cell
            .get_or_init(|| async {
                let url = rds_ca::url(&rds_ca::base(), region)?;
                let pem = rds_ca::download(&url)
                    .await
                    .map_err(|why| format!("cannot download {url}: {why}"))?;
                let path = self.ca_file(&format!("rds-{region}-bundle"), &pem)?;
                Ok((path, url))
            })
            .await
            .clone();
        if let Err(why) = &got {
            self.warn(format!(
                "warning: the RDS CA bundle of {region} could not be had ({why}): --connect sessions to its instances are encrypted but the server is not verified; give --connect-ca-file (connect_ca_file) with the bundle"
            ));
        }
        got
    }

    /// "N of M instances reached from inside", and which were not and why.
    pub fn summary(&self) -> Option<String> {
        let tried = self.tried.load(Ordering::Relaxed);
        if tried == 0 {
            return None;
        }
        let reached = self.reached.load(Ordering::Relaxed);
        let mut text = format!("connect: {reached} of {tried} instances reached from inside");
        let readers = self.readers_tried.load(Ordering::Relaxed);
        if readers > 0 {
            text.push_str(&format!(
                "; cluster readers: {} of {readers} reached",
                self.readers_reached.load(Ordering::Relaxed)
            ));
        }
        if let Ok(warnings) = self.warnings.lock() {
            for warning in warnings.iter() {
                text.push_str(&format!("\n{warning}"));
            }
        }
        let mut unreached = self
            .unreached
            .lock()
            .map(|list| list.clone())
            .unwrap_or_default();
        unreached.sort();
        let groups = same_reason(&unreached);
        for (ids, reason) in groups.iter().take(20) {
            let shown = match ids.len() {
                0..=5 => ids.join(", "),
                n => format!("{} and {} more", ids[..5].join(", "), n - 5),
            };
            text.push_str(&format!("\n  {shown}: {reason}"));
        }
        if groups.len() > 20 {
            text.push_str(&format!(
                "\n  … and {} more reasons (their in-database items are unknown; see the report)",
                groups.len() - 20
            ));
        }
        Some(text)
    }

    /// Writes a CA certificate the API published to a private file of this
    /// run (removed when the run ends), for the driver's root-certificate option.
    fn ca_file(&self, id: &str, pem: &str) -> Result<PathBuf, String> {
        let mut guard = self
            .ca_dir
            .lock()
            .map_err(|_| "the CA directory lock is poisoned".to_string())?;
        if guard.is_none() {
            *guard = Some(
                tempfile::Builder::new()
                    .prefix("sqlready-ca-")
                    .tempdir()
                    .map_err(|err| format!("cannot create a directory for server CAs: {err}"))?,
            );
        }
        let dir = guard
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .unwrap_or_default();
        let name: String = id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = dir.join(format!("{name}.pem"));
        std::fs::write(&path, pem)
            .map_err(|err| format!("cannot write the server CA to {}: {err}", path.display()))?;
        Ok(path)
    }
}

/// Instances that failed for the same reason (an unreadable password file,
/// IAM off everywhere), said once: `(ids, reason)` in the order of the first id.
fn same_reason(unreached: &[(String, String)]) -> Vec<(Vec<String>, String)> {
    let mut groups: Vec<(Vec<String>, String)> = Vec::new();
    for (id, reason) in unreached {
        match groups.iter_mut().find(|(_, r)| r == reason) {
            Some((ids, _)) => ids.push(id.clone()),
            None => groups.push((vec![id.clone()], reason.clone())),
        }
    }
    groups
}

/// A plan's `--connect`: its settings and the run's shared state.
#[derive(Debug, Clone)]
pub struct Connect {
    pub settings: Settings,
    pub run: std::sync::Arc<Run>,
}

/// Audits one discovered instance from inside too, and merges: the API's
/// outcome as given when it failed; otherwise the merged target, or the API's
/// target with its in-database facts unknown and why. A cluster's readers
/// are reached one by one at the same time as its writer, and complete the
/// cluster's replicas facts ([`readers`]).
pub async fn pair(api: Collected, connect: &Connect, options: &CollectOptions) -> Collected {
    let api = api?;
    let run = &connect.run;
    run.tried.fetch_add(1, Ordering::Relaxed);
    let (writer, reads) = futures::join!(
        session(&api, connect, options),
        read_readers(&api, connect, options)
    );
    let api_count = api.facts.get("replicas.count").cloned();
    let mut paired = match writer {
        Ok((database, source_id)) => {
            run.reached.fetch_add(1, Ordering::Relaxed);
            let kind = api.kind;
            let id = api.id.clone();
            let db_kind = database.kind;
            merge::merge(
                &id,
                Part {
                    kind,
                    id: id.clone(),
                    outcome: Ok(api),
                },
                Part {
                    kind: db_kind,
                    id: source_id,
                    outcome: Ok(database),
                },
            )
        }
        Err((reason, source_id)) => {
            if let Ok(mut list) = run.unreached.lock() {
                list.push((api.id.clone(), reason.clone()));
            }
            Ok(unreached::target(api, &source_id, &reason))
        }
    };
    if let Ok(target) = &mut paired {
        readers::complete(target, api_count.as_ref(), &reads);
    }
    paired
}

/// Every reader of a cluster target, each at its own instance endpoint, all
/// at once (each session takes its place under the run's `--concurrency`
/// bound and its own `--connect-timeout`). Empty for anything but a cluster.
async fn read_readers(
    api: &TargetFacts,
    connect: &Connect,
    options: &CollectOptions,
) -> Vec<readers::Read> {
    let run = &connect.run;
    let sessions = endpoint::cluster_readers(api)
        .into_iter()
        .map(|reader| async move {
            run.readers_tried.fetch_add(1, Ordering::Relaxed);
            let (outcome, record) = match &reader.endpoint {
                Err(why) => (Err(why.clone()), serde_json::Value::Null),
                Ok(endpoint) => match open(endpoint, api, connect, options).await {
                    Ok(opened) => (Ok(opened.facts), opened.record),
                    Err((why, _)) => (Err(why), serde_json::Value::Null),
                },
            };
            match &outcome {
                Ok(_) => {
                    run.readers_reached.fetch_add(1, Ordering::Relaxed);
                }
                Err(why) => {
                    if let Ok(mut list) = run.unreached.lock() {
                        list.push((format!("{} (reader of {})", reader.id, api.id), why.clone()));
                    }
                }
            }
            readers::Read {
                id: reader.id,
                instance: reader.instance,
                outcome,
                record,
            }
        });
    futures::future::join_all(sessions).await
}

/// Opens the in-database session for a discovered target and collects it;
/// the error (with the source id for the record) says why it could not.
async fn session(
    api: &TargetFacts,
    connect: &Connect,
    options: &CollectOptions,
) -> Result<(TargetFacts, String), (String, String)> {
    let endpoint = endpoint::of(api).map_err(|reason| (reason, String::new()))?;
    let opened = open(&endpoint, api, connect, options).await?;
    let mut database = opened.facts;
    database.evidence.push(crate::facts::RawEvidence {
        source: "connect".into(),
        name: "connect".into(),
        request: format!("--connect {}", api.id),
        response: opened.record,
    });
    Ok((database, opened.source_id))
}

/// A session opened and read: the database's facts, its source id
/// (`postgres://HOST:PORT` of the API's address) and the record of how it was
/// reached (address, user, authentication, TLS; never the secret).
struct Opened {
    facts: TargetFacts,
    source_id: String,
    record: serde_json::Value,
}

/// Opens a read-only session at `endpoint` (a discovered instance's, or one
/// reader of a cluster) with the run's credentials rules, within the run's
/// session bound, and collects it. `api` is the discovered target the
/// endpoint belongs to (its id names the CA file, its principal the Cloud SQL
/// IAM user). The error, with the source id, says why it could not.
async fn open(
    endpoint: &endpoint::Endpoint,
    api: &TargetFacts,
    connect: &Connect,
    options: &CollectOptions,
) -> Result<Opened, (String, String)> {
    let (host, port, resolved) = endpoint::address(endpoint, &connect.run.resolve);
    let scheme = if endpoint.engine == target::Kind::Mysql {
        "mysql"
    } else {
        "postgres"
    };
    let source_id = format!("{scheme}://{}:{}", endpoint.host, endpoint.port);
    let fail = |reason: String| (reason, source_id.clone());
    let (ca_file, server_ca) = server_ca(api, endpoint, connect).await.map_err(fail)?;
    let tls = connect
        .settings
        .tls
        .unwrap_or_else(|| endpoint::tls_mode(endpoint, ca_file.is_some()));
    let user = credentials::user(
        connect.settings.user.as_deref(),
        connect.settings.password.as_ref(),
        endpoint,
        api.principal.as_deref(),
    )
    .map_err(fail)?;
    let user = user.as_str();
    // The API's host name and port: a `--resolve` rule redirects the TCP
    // connection underneath (see [`Run::new`]), TLS still checks this name.
    let mut url = endpoint::url(
        endpoint,
        &endpoint.host,
        endpoint.port,
        user,
        tls,
        ca_file.as_deref(),
    )
    .map_err(fail)?;
    let password = match &connect.settings.password {
        Some(source) => connect.run.password(source).map_err(fail)?,
        None => credentials::password(None, endpoint, user)
            .await
            .map_err(fail)?,
    };
    url.set_password(Some(&credentials::url_encoded(&password)))
        .map_err(|()| fail("cannot put the password into the connection URL".into()))?;
    let spec = target::parse(url.as_str()).map_err(|err| fail(err.to_string()))?;
    let _permit = connect
        .run
        .sessions
        .acquire()
        .await
        .map_err(|_| fail("the session limit was closed".into()))?;
    let mut outcomes = sources::collect(&spec, options).await;
    let outcome = match outcomes.len() {
        1 => outcomes.remove(0),
        n => return Err(fail(format!("the database source returned {n} targets"))),
    };
    let database = outcome.map_err(|failure| {
        let via = if resolved {
            format!(" (via --resolve {host}:{port})")
        } else {
            String::new()
        };
        // Which CA refused the server, when one was used.
        let verified = if ca_file.is_some() {
            format!(", server CA: {server_ca}")
        } else {
            String::new()
        };
        fail(format!(
            "{} at {}:{}{via} as {user} ({}{verified}): {}",
            endpoint.from,
            endpoint.host,
            endpoint.port,
            credentials::method(connect.settings.password.as_ref(), endpoint),
            failure.error
        ))
    })?;
    let record = serde_json::json!({
        "address_from": endpoint.from,
        "host": endpoint.host,
        "port": endpoint.port,
        "connected_to": format!("{host}:{port}"),
        "resolved": resolved,
        "user": user,
        "authentication": credentials::method(connect.settings.password.as_ref(), endpoint),
        "tls": format!("{tls:?}"),
        "server_ca": server_ca,
    });
    Ok(Opened {
        facts: database,
        source_id,
        record,
    })
}

/// The CA file a session verifies the server against, and where it came
/// from in words for the evidence: `connect_ca_file` first, else what the API
/// publishes (Cloud SQL `serverCaCert`), else for RDS/Aurora the region's
/// bundle AWS publishes (downloaded once per region). None: the session is
/// encrypted but the server not verified, and the words say why.
async fn server_ca(
    api: &TargetFacts,
    endpoint: &endpoint::Endpoint,
    connect: &Connect,
) -> Result<(Option<PathBuf>, String), String> {
    if let Some(file) = &connect.settings.ca_file {
        return Ok((
            Some(file.clone()),
            format!("connect_ca_file {}", file.display()),
        ));
    }
    if let Some(pem) = &endpoint.ca_pem {
        let path = connect.run.ca_file(&api.id, pem)?;
        return Ok((Some(path), "published by the API (serverCaCert)".into()));
    }
    // A mode that does not verify (connect_sslmode prefer/require) needs no CA.
    let verifying = !matches!(
        connect.settings.tls,
        Some(endpoint::TlsMode::Prefer | endpoint::TlsMode::Require)
    );
    match (&endpoint.provider, &endpoint.region) {
        (target::Kind::Rds, Some(region)) if verifying => {
            match connect.run.rds_bundle(region).await {
                Ok((path, url)) => {
                    Ok((Some(path), format!("the RDS CA bundle of {region} ({url})")))
                }
                Err(why) => Ok((
                    None,
                    format!(
                        "none: the server is not verified (the RDS CA bundle of {region}: {why})"
                    ),
                )),
            }
        }
        _ => Ok((None, "none known: the server is not verified".into())),
    }
}
