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
pub mod unreached;

use crate::facts::merge::{self, Part};
use crate::facts::snapshot::{Collected, TargetFacts};
use crate::sources::{self, CollectOptions};
use crate::target::{self, Resolve};
use credentials::PasswordSource;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

/// The database user when none is named.
pub const DEFAULT_USER: &str = "sqlready_auditor";

/// One discovery entry's connect settings (`--connect-*` flags, or the
/// `connect_*` keys of a `[[targets]]` entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The database user (`connect_user`); default [`DEFAULT_USER`].
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
    pub fn user(&self) -> &str {
        self.user.as_deref().unwrap_or(DEFAULT_USER)
    }
}

/// What every `--connect` plan of one run shares: the `--resolve` rules, the
/// bound on sessions open at once, the CA files written for this run, and the
/// tally for the stderr summary.
#[derive(Debug)]
pub struct Run {
    pub resolve: Vec<Resolve>,
    sessions: Semaphore,
    ca_dir: Mutex<Option<tempfile::TempDir>>,
    tried: AtomicUsize,
    reached: AtomicUsize,
    unreached: Mutex<Vec<(String, String)>>,
}

impl Run {
    /// At most `concurrency` in-database sessions open at once, run-wide.
    pub fn new(resolve: Vec<Resolve>, concurrency: usize) -> Run {
        Run {
            resolve,
            sessions: Semaphore::new(concurrency.max(1)),
            ca_dir: Mutex::new(None),
            tried: AtomicUsize::new(0),
            reached: AtomicUsize::new(0),
            unreached: Mutex::new(Vec::new()),
        }
    }

    /// "N of M instances reached from inside", and which were not and why.
    pub fn summary(&self) -> Option<String> {
        let tried = self.tried.load(Ordering::Relaxed);
        if tried == 0 {
            return None;
        }
        let reached = self.reached.load(Ordering::Relaxed);
        let mut text = format!("connect: {reached} of {tried} instances reached from inside");
        let mut unreached = self
            .unreached
            .lock()
            .map(|list| list.clone())
            .unwrap_or_default();
        unreached.sort();
        for (id, reason) in unreached.iter().take(20) {
            text.push_str(&format!("\n  {id}: {reason}"));
        }
        if unreached.len() > 20 {
            text.push_str(&format!(
                "\n  … and {} more (their in-database items are unknown; see the report)",
                unreached.len() - 20
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

/// A plan's `--connect`: its settings and the run's shared state.
#[derive(Debug, Clone)]
pub struct Connect {
    pub settings: Settings,
    pub run: std::sync::Arc<Run>,
}

/// Audits one discovered instance from inside too, and merges: the API's
/// outcome as given when it failed; otherwise the merged target, or the API's
/// target with its in-database facts unknown and why.
pub async fn pair(api: Collected, connect: &Connect, options: &CollectOptions) -> Collected {
    let api = api?;
    let run = &connect.run;
    run.tried.fetch_add(1, Ordering::Relaxed);
    match session(&api, connect, options).await {
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
    }
}

/// Opens the in-database session for a discovered target and collects it;
/// the error (with the source id for the record) says why it could not.
async fn session(
    api: &TargetFacts,
    connect: &Connect,
    options: &CollectOptions,
) -> Result<(TargetFacts, String), (String, String)> {
    let endpoint = endpoint::of(api).map_err(|reason| (reason, String::new()))?;
    let (host, port, resolved) = endpoint::address(&endpoint, &connect.run.resolve);
    let scheme = if endpoint.engine == target::Kind::Mysql {
        "mysql"
    } else {
        "postgres"
    };
    let source_id = format!("{scheme}://{}:{}", endpoint.host, endpoint.port);
    let fail = |reason: String| (reason, source_id.clone());
    let ca_file = match (&connect.settings.ca_file, &endpoint.ca_pem) {
        (Some(file), _) => Some(file.clone()),
        (None, Some(pem)) => Some(connect.run.ca_file(&api.id, pem).map_err(fail)?),
        (None, None) => None,
    };
    let tls = connect
        .settings
        .tls
        .unwrap_or_else(|| endpoint::tls_mode(&endpoint, ca_file.is_some(), resolved));
    let user = connect.settings.user();
    let mut url =
        endpoint::url(&endpoint, &host, port, user, tls, ca_file.as_deref()).map_err(fail)?;
    let password = credentials::password(connect.settings.password.as_ref(), &endpoint, user)
        .await
        .map_err(fail)?;
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
    let mut database = outcome.map_err(|failure| {
        let via = if resolved {
            format!(" (via --resolve {host}:{port})")
        } else {
            String::new()
        };
        fail(format!(
            "{} at {}:{}{via} as {user} ({}): {}",
            endpoint.from,
            endpoint.host,
            endpoint.port,
            credentials::method(connect.settings.password.as_ref(), &endpoint),
            failure.error
        ))
    })?;
    database.evidence.push(crate::facts::RawEvidence {
        source: "connect".into(),
        name: "connect".into(),
        request: format!("--connect {}", api.id),
        response: serde_json::json!({
            "address_from": endpoint.from,
            "host": endpoint.host,
            "port": endpoint.port,
            "connected_to": format!("{host}:{port}"),
            "resolved": resolved,
            "user": user,
            "authentication": credentials::method(connect.settings.password.as_ref(), &endpoint),
            "tls": format!("{tls:?}"),
            "server_ca": match (&connect.settings.ca_file, &endpoint.ca_pem) {
                (Some(file), _) => format!("connect_ca_file {}", file.display()),
                (None, Some(_)) => "published by the API (serverCaCert)".to_string(),
                (None, None) => "none known: the server is not verified".to_string(),
            },
        }),
    });
    Ok((database, source_id))
}
