//! Where results go and where `merge` reads them: a local path, or an object
//! store (`s3://BUCKET/KEY`, `gs://BUCKET/KEY`; `file://PATH` is a local path).
//!
//! Object stores go through the `object_store` crate with sqlready's own
//! credential chains: the AWS SDK's (profiles, SSO, IRSA, instance roles — the
//! same the `rds://` source uses) and Google's Application Default Credentials
//! (or `GOOGLE_OAUTH_ACCESS_TOKEN`, as the `cloudsql://` source). One PUT makes
//! one object appear whole, so a report is never seen half-written; an
//! evidence bundle is uploaded file by file with `MANIFEST.json` last, so a
//! bundle whose manifest is visible is complete.
//!
//! Test and private endpoints: `AWS_ENDPOINT_URL_S3` (else `AWS_ENDPOINT_URL`)
//! for S3, `SQLREADY_GCS_ENDPOINT` for Cloud Storage.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use thiserror::Error;

/// Replaces `https://storage.googleapis.com` (a private endpoint or a test server).
pub const GCS_ENDPOINT_VAR: &str = "SQLREADY_GCS_ENDPOINT";

/// A place to write a file or bundle, or to read reports from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    Remote(Remote),
}

/// An object-store location: a bucket and a key (a file) or key prefix (a folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub store: Store,
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    S3,
    Gcs,
}

#[derive(Debug, Error)]
pub enum StorageError {
    #[error(
        "{url}: unsupported location scheme `{scheme}://`: use a local path, file://PATH, s3://BUCKET/KEY or gs://BUCKET/KEY"
    )]
    Scheme { url: String, scheme: String },
    #[error("{url}: {problem}")]
    Invalid { url: String, problem: String },
    #[error("{url}: this sqlready build has no {store} support (it needs the `{feature}` feature)")]
    NotBuilt {
        url: String,
        store: &'static str,
        feature: &'static str,
    },
    #[error("{url}: {what}: {detail}")]
    Store {
        url: String,
        what: String,
        detail: String,
    },
    #[error(
        "{url} already holds objects: evidence bundles are never overwritten; choose a new prefix (e.g. with {{time}} in it)"
    )]
    NotEmpty { url: String },
    #[error(
        "the evidence bundle was not uploaded to {url} ({cause}); it is kept whole in {kept}: upload that folder (e.g. `aws s3 cp --recursive` / `gcloud storage cp -r`), MANIFEST.json last"
    )]
    NotUploaded {
        url: String,
        kept: String,
        cause: String,
    },
    #[error(
        "the report was not uploaded to {url} ({cause}); it is kept in {kept}: upload that file once the cause is fixed"
    )]
    ReportNotUploaded {
        url: String,
        kept: String,
        cause: String,
    },
    #[error("{url}: {what}: {source}")]
    Local {
        url: String,
        what: String,
        source: std::io::Error,
    },
}

impl std::fmt::Display for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.store {
            Store::S3 => "s3",
            Store::Gcs => "gs",
        };
        if self.key.is_empty() {
            write!(f, "{scheme}://{}", self.bucket)
        } else {
            write!(f, "{scheme}://{}/{}", self.bucket, self.key)
        }
    }
}

impl Location {
    /// Parses a command-line location. Anything without `SCHEME://` is a local path.
    pub fn parse(text: &str) -> Result<Location, StorageError> {
        let Some((scheme, rest)) = text.split_once("://") else {
            return Ok(Location::Local(PathBuf::from(text)));
        };
        let store = match scheme.to_ascii_lowercase().as_str() {
            "file" => return file_path(text, rest).map(Location::Local),
            "s3" => Store::S3,
            "gs" => Store::Gcs,
            // A Windows-less tool: a path like `./a://b` is unusual enough to refuse.
            other => {
                return Err(StorageError::Scheme {
                    url: text.to_string(),
                    scheme: other.to_string(),
                });
            }
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        let invalid = |problem: String| StorageError::Invalid {
            url: text.to_string(),
            problem,
        };
        if let Some(problem) = bucket_problem(store, bucket) {
            return Err(invalid(problem));
        }
        let key = key.trim_matches('/');
        if key.split('/').any(|part| part == "." || part == "..") {
            return Err(invalid(
                "`.` and `..` are not allowed in an object key".to_string(),
            ));
        }
        if key.contains("//") {
            return Err(invalid(
                "an object key cannot hold an empty segment (`//`)".to_string(),
            ));
        }
        Ok(Location::Remote(Remote {
            store,
            bucket: bucket.to_string(),
            key: key.to_string(),
        }))
    }

    /// `Location::parse` of a path argument that clap read as a `PathBuf`.
    pub fn of_path(path: &Path) -> Result<Location, StorageError> {
        Location::parse(&path.to_string_lossy())
    }
}

/// `file:///abs/path` or `file://relative` (a liberal reading, as curl's).
fn file_path(text: &str, rest: &str) -> Result<PathBuf, StorageError> {
    let path = rest
        .strip_prefix("localhost")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(rest);
    if path.is_empty() {
        return Err(StorageError::Invalid {
            url: text.to_string(),
            problem: "a file:// location needs a path (file:///abs/path)".to_string(),
        });
    }
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| StorageError::Invalid {
            url: text.to_string(),
            problem: "the path is not UTF-8 once percent-decoded".to_string(),
        })?;
    Ok(PathBuf::from(decoded.as_ref()))
}

/// Why `bucket` cannot be a bucket name of `store` (the providers' naming rules, in short).
fn bucket_problem(store: Store, bucket: &str) -> Option<String> {
    if bucket.is_empty() {
        return Some("the bucket name is missing (s3://BUCKET/KEY, gs://BUCKET/KEY)".to_string());
    }
    let max = match store {
        Store::S3 => 63,
        // Cloud Storage allows up to 222 characters when the name holds dots.
        Store::Gcs if bucket.contains('.') => 222,
        Store::Gcs => 63,
    };
    let allowed = |c: char| {
        c.is_ascii_lowercase()
            || c.is_ascii_digit()
            || c == '-'
            || c == '.'
            || (store == Store::Gcs && c == '_')
    };
    if bucket.len() < 3 || bucket.len() > max || !bucket.chars().all(allowed) {
        return Some(format!(
            "`{bucket}` is not a bucket name: 3 to {max} lower-case letters, digits, `-` and `.`{}",
            if store == Store::Gcs {
                " (and `_`)"
            } else {
                ""
            }
        ));
    }
    let edge = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !bucket.starts_with(edge) || !bucket.ends_with(edge) {
        return Some(format!(
            "`{bucket}` is not a bucket name: it must start and end with a letter or digit"
        ));
    }
    None
}

impl Remote {
    fn object(&self, relative: &str) -> ObjectPath {
        let joined = match (self.key.as_str(), relative) {
            (key, "") => key.to_string(),
            ("", relative) => relative.to_string(),
            (key, relative) => format!("{key}/{relative}"),
        };
        ObjectPath::from(joined)
    }

    fn failed(&self, what: impl Into<String>) -> impl FnOnce(object_store::Error) -> StorageError {
        let url = self.to_string();
        let what = what.into();
        move |err| StorageError::Store {
            url,
            what,
            detail: describe(&err),
        }
    }
}

/// One line on an object-store error: the kind and its innermost cause (the
/// crate's own chain repeats the URL; no credential is ever in it).
fn describe(err: &object_store::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text = format!("{text}: {line}");
        }
        source = cause.source();
    }
    text
}

/// Runs an object-store operation from synchronous code (the report and
/// evidence writers run after the audit's runtime is gone).
fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, StorageError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| StorageError::Local {
            url: "object storage".to_string(),
            what: "cannot start the async runtime".to_string(),
            source,
        })?;
    Ok(runtime.block_on(future))
}

async fn open(remote: &Remote) -> Result<Arc<dyn ObjectStore>, StorageError> {
    match remote.store {
        Store::S3 => open_s3(remote).await,
        Store::Gcs => open_gcs(remote).await,
    }
}

#[cfg(feature = "rds")]
async fn open_s3(remote: &Remote) -> Result<Arc<dyn ObjectStore>, StorageError> {
    let store = s3::open(remote)
        .await
        .map_err(|detail| StorageError::Store {
            url: remote.to_string(),
            what: "cannot set up the S3 client".to_string(),
            detail,
        })?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "rds"))]
async fn open_s3(remote: &Remote) -> Result<Arc<dyn ObjectStore>, StorageError> {
    Err(StorageError::NotBuilt {
        url: remote.to_string(),
        store: "Amazon S3",
        feature: "rds",
    })
}

#[cfg(feature = "cloudsql")]
async fn open_gcs(remote: &Remote) -> Result<Arc<dyn ObjectStore>, StorageError> {
    let store = gcs::open(remote)
        .await
        .map_err(|detail| StorageError::Store {
            url: remote.to_string(),
            what: "cannot set up the Cloud Storage client".to_string(),
            detail,
        })?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "cloudsql"))]
async fn open_gcs(remote: &Remote) -> Result<Arc<dyn ObjectStore>, StorageError> {
    Err(StorageError::NotBuilt {
        url: remote.to_string(),
        store: "Google Cloud Storage",
        feature: "cloudsql",
    })
}

/// Writes one object (`-o s3://…/report.json`): it appears whole or not at all.
pub fn put_file(remote: &Remote, contents: &[u8]) -> Result<(), StorageError> {
    if remote.key.is_empty() {
        return Err(StorageError::Invalid {
            url: remote.to_string(),
            problem: "name the object to write, e.g. s3://BUCKET/reports/fleet.json".to_string(),
        });
    }
    let bytes = contents.to_vec();
    let written = block_on(async {
        let store = open(remote).await?;
        store
            .put(&remote.object(""), bytes.into())
            .await
            .map_err(remote.failed("cannot write the object"))?;
        Ok(())
    })
    .and_then(|result| result);
    // The report is the run's result: never lost with a failed upload.
    written.map_err(|err| {
        let kept = tempfile::Builder::new()
            .prefix("sqlready-report-")
            .tempfile()
            .and_then(|mut file| {
                std::io::Write::write_all(&mut file, contents)?;
                file.keep().map_err(|e| e.error)
            });
        match kept {
            Ok((_, path)) => StorageError::ReportNotUploaded {
                url: remote.to_string(),
                kept: path.display().to_string(),
                cause: err.to_string(),
            },
            Err(_) => err,
        }
    })
}

/// Checks early (before auditing) that `-o` can be written: a local path is
/// left to the writer; an object needs a key, and its bucket must answer a
/// listing with these credentials (so a refused token or a missing bucket
/// is said before the audit, not after it).
pub fn check_output(location: &Location) -> Result<(), StorageError> {
    let Location::Remote(remote) = location else {
        return Ok(());
    };
    if remote.key.is_empty() {
        return Err(StorageError::Invalid {
            url: remote.to_string(),
            problem: "name the object to write, e.g. s3://BUCKET/reports/fleet.json".to_string(),
        });
    }
    use futures::StreamExt;
    block_on(async {
        let store = open(remote).await?;
        let key = remote.object("");
        match store.list(Some(&key)).next().await {
            Some(Err(err)) => Err(remote.failed("cannot reach the bucket")(err)),
            _ => Ok(()),
        }
    })?
}

/// Fails early (before auditing) when the prefix already holds objects or
/// cannot be listed — the object-store side of `evidence::check_destination`.
pub fn check_empty_prefix(remote: &Remote) -> Result<(), StorageError> {
    use futures::StreamExt;
    block_on(async {
        let store = open(remote).await?;
        let prefix = (!remote.key.is_empty()).then(|| remote.object(""));
        let first = store.list(prefix.as_ref()).next().await;
        match first {
            None => Ok(()),
            Some(Ok(_)) => Err(StorageError::NotEmpty {
                url: remote.to_string(),
            }),
            Some(Err(err)) => Err(remote.failed("cannot list the prefix")(err)),
        }
    })?
}

/// Uploads a bundle written to `dir` under the prefix, every file but the
/// manifest first and `MANIFEST.json` last: a visible manifest means a whole bundle.
pub fn upload_dir(dir: &Path, remote: &Remote, last: &str) -> Result<usize, StorageError> {
    let mut files = Vec::new();
    collect_files(dir, "", &mut files).map_err(|source| StorageError::Local {
        url: remote.to_string(),
        what: format!("cannot read the bundle built in {}", dir.display()),
        source,
    })?;
    files.sort_by_key(|relative| (relative == last, relative.clone()));
    block_on(async {
        let store = open(remote).await?;
        for relative in &files {
            let bytes =
                std::fs::read(dir.join(relative)).map_err(|source| StorageError::Local {
                    url: remote.to_string(),
                    what: format!("cannot read {relative} of the bundle"),
                    source,
                })?;
            store
                .put(&remote.object(relative), bytes.into())
                .await
                .map_err(remote.failed(format!("cannot write {relative}")))?;
        }
        Ok(files.len())
    })?
}

fn collect_files(dir: &Path, prefix: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if entry.file_type()?.is_dir() {
            collect_files(&entry.path(), &relative, out)?;
        } else {
            out.push(relative);
        }
    }
    Ok(())
}

/// Where an evidence bundle goes: a local folder (written atomically by
/// `evidence`), or an object-store prefix — built in a private temporary
/// folder first, then uploaded with its manifest last.
pub enum BundleDestination {
    Local(PathBuf),
    Remote {
        remote: Remote,
        staging: tempfile::TempDir,
    },
}

impl BundleDestination {
    pub fn new(path: &Path) -> Result<BundleDestination, StorageError> {
        match Location::of_path(path)? {
            Location::Local(dir) => Ok(BundleDestination::Local(dir)),
            Location::Remote(remote) => {
                let staging = tempfile::Builder::new()
                    .prefix(".sqlready-evidence-")
                    .tempdir()
                    .map_err(|source| StorageError::Local {
                        url: remote.to_string(),
                        what: "cannot make a temporary folder to build the bundle in".to_string(),
                        source,
                    })?;
                Ok(BundleDestination::Remote { remote, staging })
            }
        }
    }

    /// Fails early (before auditing) when the bundle could not be written.
    pub fn check(&self) -> Result<(), anyhow::Error> {
        match self {
            BundleDestination::Local(dir) => Ok(crate::report::evidence::check_destination(dir)?),
            BundleDestination::Remote { remote, .. } => Ok(check_empty_prefix(remote)?),
        }
    }

    /// The folder the bundle writers write to.
    pub fn local_dir(&self) -> PathBuf {
        match self {
            BundleDestination::Local(dir) => dir.clone(),
            BundleDestination::Remote { staging, .. } => staging.path().join("bundle"),
        }
    }

    /// Uploads a bundle built for an object store (nothing to do for a local one).
    /// If the upload fails, the bundle built locally is kept and named in the
    /// error, so the evidence of the run is not lost with it.
    pub fn publish(&mut self) -> Result<(), StorageError> {
        let local = self.local_dir();
        if let BundleDestination::Remote { remote, staging } = self {
            let uploaded = check_empty_prefix(remote)
                .and_then(|()| upload_dir(&local, remote, crate::report::evidence::MANIFEST));
            if let Err(err) = uploaded {
                staging.disable_cleanup(true);
                return Err(StorageError::NotUploaded {
                    url: remote.to_string(),
                    kept: local.display().to_string(),
                    cause: err.to_string(),
                });
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for BundleDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BundleDestination::Local(dir) => write!(f, "{}", dir.display()),
            BundleDestination::Remote { remote, .. } => write!(f, "{remote}"),
        }
    }
}

/// A bundle to read (`evidence verify`, `merge --evidence-in`): a local folder
/// as is, or an object-store prefix downloaded into a temporary folder that
/// lives as long as this value.
pub struct BundleSource {
    pub dir: PathBuf,
    _staging: Option<tempfile::TempDir>,
}

impl BundleSource {
    pub fn open(path: &Path) -> Result<BundleSource, StorageError> {
        match Location::of_path(path)? {
            Location::Local(dir) => Ok(BundleSource {
                dir,
                _staging: None,
            }),
            Location::Remote(remote) => {
                let staging = tempfile::Builder::new()
                    .prefix(".sqlready-bundle-")
                    .tempdir()
                    .map_err(|source| StorageError::Local {
                        url: remote.to_string(),
                        what: "cannot make a temporary folder to read the bundle into".to_string(),
                        source,
                    })?;
                let dir = staging.path().join("bundle");
                let count = download_prefix(&remote, &dir)?;
                if count == 0 {
                    return Err(StorageError::Invalid {
                        url: remote.to_string(),
                        problem:
                            "no object under this prefix: name the prefix the bundle was written to"
                                .to_string(),
                    });
                }
                Ok(BundleSource {
                    dir,
                    _staging: Some(staging),
                })
            }
        }
    }
}

/// Objects read back: `(location, bytes)` in key order.
pub type Objects = Vec<(String, Vec<u8>)>;

/// Reads merge inputs: the object itself when the key names a `.json`, else
/// every `*.json` directly under the prefix (not recursive), as for a local folder.
pub fn read_reports(remote: &Remote) -> Result<Objects, StorageError> {
    block_on(async {
        let store = open(remote).await?;
        if remote.key.ends_with(".json") {
            let bytes = get(&*store, remote, &remote.object("")).await?;
            return Ok(vec![(remote.to_string(), bytes)]);
        }
        let prefix = (!remote.key.is_empty()).then(|| remote.object(""));
        let listed = store
            .list_with_delimiter(prefix.as_ref())
            .await
            .map_err(remote.failed("cannot list the prefix"))?;
        let mut keys: Vec<ObjectPath> = listed
            .objects
            .into_iter()
            .map(|meta| meta.location)
            .filter(|key| key.as_ref().ends_with(".json"))
            .collect();
        keys.sort();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let bytes = get(&*store, remote, &key).await?;
            out.push((display_key(remote, &key), bytes));
        }
        Ok(out)
    })?
}

/// Copies every object under the prefix into `dir` (merge's `--evidence-in`
/// reads bundles from disk); returns how many.
pub fn download_prefix(remote: &Remote, dir: &Path) -> Result<usize, StorageError> {
    use futures::TryStreamExt;
    block_on(async {
        let store = open(remote).await?;
        let prefix = (!remote.key.is_empty()).then(|| remote.object(""));
        let mut keys: Vec<ObjectPath> = store
            .list(prefix.as_ref())
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(remote.failed("cannot list the prefix"))?;
        keys.sort();
        let strip = prefix.as_ref().map_or(0, |p| p.as_ref().len() + 1);
        for key in &keys {
            let relative = &key.as_ref()[strip.min(key.as_ref().len())..];
            // object_store's paths hold no `.`/`..` segments; refuse anything odd anyway.
            if relative.is_empty()
                || relative
                    .split('/')
                    .any(|part| part.is_empty() || part == "." || part == "..")
            {
                continue;
            }
            let bytes = get(&*store, remote, key).await?;
            let target = dir.join(relative);
            let written = target
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&target, bytes));
            written.map_err(|source| StorageError::Local {
                url: remote.to_string(),
                what: format!("cannot save {relative} in {}", dir.display()),
                source,
            })?;
        }
        Ok(keys.len())
    })?
}

fn display_key(remote: &Remote, key: &ObjectPath) -> String {
    Remote {
        key: key.to_string(),
        ..remote.clone()
    }
    .to_string()
}

async fn get(
    store: &dyn ObjectStore,
    remote: &Remote,
    key: &ObjectPath,
) -> Result<Vec<u8>, StorageError> {
    let shown = display_key(remote, key);
    let failed = |err: object_store::Error| StorageError::Store {
        url: shown.clone(),
        what: "cannot read the object".to_string(),
        detail: describe(&err),
    };
    let result = store.get(key).await.map_err(failed)?;
    let bytes = result.bytes().await.map_err(failed)?;
    Ok(bytes.to_vec())
}

/// S3 through the AWS SDK's credential and region chain.
#[cfg(feature = "rds")]
mod s3 {
    use std::sync::Arc;

    use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
    use object_store::aws::{AmazonS3, AmazonS3Builder, AwsCredential};
    use object_store::{ClientOptions, CredentialProvider};

    use super::Remote;

    /// The AWS SDK's default chain (env, profiles, SSO, web identity/IRSA,
    /// ECS and instance roles), asked each time the store signs; it caches.
    #[derive(Debug)]
    struct SdkChain(SharedCredentialsProvider);

    #[async_trait::async_trait]
    impl CredentialProvider for SdkChain {
        type Credential = AwsCredential;

        async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
            let credentials =
                self.0
                    .provide_credentials()
                    .await
                    .map_err(|err| object_store::Error::Generic {
                        store: "S3",
                        source: format!("no AWS credentials: {err}").into(),
                    })?;
            Ok(Arc::new(AwsCredential {
                key_id: credentials.access_key_id().to_string(),
                secret_key: credentials.secret_access_key().to_string(),
                token: credentials.session_token().map(str::to_string),
            }))
        }
    }

    pub async fn open(remote: &Remote) -> Result<AmazonS3, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        let credentials = sdk.credentials_provider().ok_or_else(|| {
            "no AWS credentials are configured (environment, ~/.aws profiles, SSO, or a role)"
                .to_string()
        })?;
        let endpoint = std::env::var("AWS_ENDPOINT_URL_S3")
            .ok()
            .filter(|e| !e.trim().is_empty())
            .or_else(|| sdk.endpoint_url().map(str::to_string));
        let options = ClientOptions::new().with_allow_http(
            endpoint
                .as_deref()
                .is_some_and(|e| e.starts_with("http://")),
        );
        // The bucket's own region (a 301 otherwise); the configured one when S3
        // does not say, or when the endpoint is not AWS's.
        let configured = sdk.region().map(|r| r.to_string());
        let region = match endpoint {
            Some(_) => configured,
            None => object_store::aws::resolve_bucket_region(&remote.bucket, &options)
                .await
                .ok()
                .or(configured),
        }
        .unwrap_or_else(|| "us-east-1".to_string());
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&remote.bucket)
            .with_region(region)
            .with_credentials(Arc::new(SdkChain(credentials)))
            .with_client_options(options);
        if let Some(endpoint) = &endpoint {
            builder = builder.with_endpoint(endpoint.trim_end_matches('/'));
        }
        builder.build().map_err(|err| err.to_string())
    }
}

/// Cloud Storage through the Cloud SQL source's Google credentials.
#[cfg(feature = "cloudsql")]
mod gcs {
    use std::sync::Arc;

    use object_store::gcp::{GcpCredential, GoogleCloudStorage, GoogleCloudStorageBuilder};
    use object_store::{ClientOptions, CredentialProvider};

    use super::{GCS_ENDPOINT_VAR, Remote};

    /// Application Default Credentials (or `GOOGLE_OAUTH_ACCESS_TOKEN`), as `cloudsql://` uses.
    struct Adc(google_cloud_auth::credentials::Credentials);

    impl std::fmt::Debug for Adc {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Adc")
        }
    }

    #[async_trait::async_trait]
    impl CredentialProvider for Adc {
        type Credential = GcpCredential;

        async fn get_credential(&self) -> object_store::Result<Arc<GcpCredential>> {
            let bearer = crate::sources::cloudsql::bearer_token(&self.0)
                .await
                .map_err(|err| object_store::Error::Generic {
                    store: "GCS",
                    source: err.into(),
                })?;
            Ok(Arc::new(GcpCredential { bearer }))
        }
    }

    pub async fn open(remote: &Remote) -> Result<GoogleCloudStorage, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let credentials = crate::sources::cloudsql::google_credentials()
            .await
            .map_err(|err| err.to_string())?;
        let endpoint = std::env::var(GCS_ENDPOINT_VAR)
            .ok()
            .map(|e| e.trim().trim_end_matches('/').to_string())
            .filter(|e| !e.is_empty());
        let options = ClientOptions::new().with_allow_http(
            endpoint
                .as_deref()
                .is_some_and(|e| e.starts_with("http://")),
        );
        let mut builder = GoogleCloudStorageBuilder::new()
            .with_bucket_name(&remote.bucket)
            .with_credentials(Arc::new(Adc(credentials)))
            .with_client_options(options);
        if let Some(endpoint) = &endpoint {
            builder = builder.with_base_url(endpoint);
        }
        builder.build().map_err(|err| err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(text: &str) -> Remote {
        match Location::parse(text) {
            Ok(Location::Remote(remote)) => remote,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn problem(text: &str) -> String {
        Location::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn plain_paths_and_file_urls_are_local() {
        assert_eq!(
            Location::parse("out/report.json").unwrap(),
            Location::Local("out/report.json".into())
        );
        assert_eq!(
            Location::parse("file:///tmp/a%20b/report.json").unwrap(),
            Location::Local("/tmp/a b/report.json".into())
        );
        assert_eq!(
            Location::parse("file://localhost/tmp/x").unwrap(),
            Location::Local("/tmp/x".into())
        );
    }

    #[test]
    fn buckets_and_keys_are_split_and_shown_back_the_same() {
        let r = remote("s3://acme-audit/fleet/2026/");
        assert_eq!((r.store, r.bucket.as_str()), (Store::S3, "acme-audit"));
        assert_eq!(r.key, "fleet/2026");
        assert_eq!(r.to_string(), "s3://acme-audit/fleet/2026");
        assert_eq!(
            r.object("MANIFEST.json").as_ref(),
            "fleet/2026/MANIFEST.json"
        );
        let root = remote("gs://acme_audit");
        assert_eq!(root.key, "");
        assert_eq!(root.object("a/b.json").as_ref(), "a/b.json");
    }

    #[test]
    fn bad_locations_say_what_is_wrong() {
        assert!(problem("az://c/x").contains("unsupported location scheme `az://`"));
        assert!(problem("s3:///key").contains("bucket name is missing"));
        assert!(problem("s3://Acme/key").contains("not a bucket name"));
        assert!(problem("s3://acme_audit/key").contains("not a bucket name"));
        assert!(problem("s3://-acme/key").contains("start and end"));
        assert!(problem("gs://acme/a/../b").contains("`..`"));
        assert!(problem("gs://acme/a//b").contains("empty segment"));
        assert!(problem("file://").contains("needs a path"));
    }

    #[test]
    fn a_bare_bucket_is_not_a_file_to_write() {
        let err = put_file(&remote("s3://acme-audit"), b"{}").unwrap_err();
        assert!(err.to_string().contains("name the object"), "{err}");
    }
}
