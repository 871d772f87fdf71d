//! The evidence bundle (`audit --evidence DIR`): one more renderer of the
//! report, plus the facts and raw evidence it was judged on, for auditors.
//!
//! ```text
//! DIR/
//!   report.json                   the JSON report, exactly as --format json prints it
//!   report.html                   the same report as one self-contained page (--format html)
//!   run.json                      who ran it, where from, tool version, start/end, options,
//!                                 and how the facts were obtained (live sources and their
//!                                 principals, or a facts file and its SHA-256), and the
//!                                 warnings about the audit's own account (superuser, writes)
//!   controls.json                 SOC 2 mapping of every check (src/report/soc2.rs)
//!   config/sqlready.toml          the config file used, byte for byte (it holds no secrets)
//!   targets/NN-<id>/facts.json    normalized facts, each with its source and origin
//!   targets/NN-<id>/raw/NN-<name>.json   the query results / API responses they came from
//!   targets/NN-<id>/failure.json  why a target could not be audited
//!   MANIFEST.json                 SHA-256 and size of every other file
//!   MANIFEST.json.sig             optional: raw Ed25519 signature of MANIFEST.json
//! ```
//!
//! The bundle is built in a temporary directory beside DIR and renamed into
//! place, so a reader never sees a partial bundle; an existing non-empty DIR
//! is never overwritten. Keys are PKCS#8 / SPKI PEM files, interoperable with
//! OpenSSL (`openssl genpkey -algorithm ed25519`), and the signature is the
//! raw 64 bytes, so `openssl pkeyutl -verify -rawin` checks it independently.

use super::{Report, soc2};
use crate::checks::Catalog;
use crate::checks::thresholds::ThresholdSet;
use crate::facts::snapshot::Collected;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub mod merge;

pub const MANIFEST: &str = "MANIFEST.json";
pub const SIGNATURE: &str = "MANIFEST.json.sig";
pub const FORMAT: &str = "sqlready-evidence/1";

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error(
        "evidence directory {0} already exists and is not empty: evidence is never overwritten; choose a new directory (a '{{time}}' in the path is replaced by the audit's start time)"
    )]
    Exists(String),
    #[error("cannot write the evidence bundle {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not an evidence bundle: {reason}")]
    NotABundle { path: String, reason: String },
    #[error("cannot read key {path}: {reason}")]
    Key { path: String, reason: String },
}

/// What goes into a bundle besides the report.
pub struct BundleInput<'a> {
    pub report: &'a Report,
    /// The report as `--format json` renders it.
    pub report_json: &'a str,
    pub collected: &'a [Collected],
    pub catalog: &'a Catalog,
    pub thresholds: &'a ThresholdSet,
    /// The config file used: (path as given, exact text).
    pub config: Option<(&'a Path, &'a str)>,
    /// The run's options, with no secret (target ids, not URIs).
    pub invocation: Json,
    /// `--facts FILE` and the SHA-256 of the bytes judged, when the facts were
    /// read from a file rather than observed live.
    pub facts_file: Option<(&'a Path, &'a str)>,
}

/// One manifest entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// `MANIFEST.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub tool: String,
    pub created_at: String,
    pub algorithm: String,
    /// SHA-256 of the raw public key that signed the manifest, when signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key_sha256: Option<String>,
    pub files: Vec<ManifestEntry>,
}

/// Replaces `{time}` in an evidence path with the start time (`20261126T100000Z`).
pub fn expand_dir(template: &Path, started_at: DateTime<Utc>) -> PathBuf {
    let text = template.to_string_lossy();
    if !text.contains("{time}") {
        return template.to_path_buf();
    }
    PathBuf::from(text.replace("{time}", &started_at.format("%Y%m%dT%H%M%SZ").to_string()))
}

/// Fails early (before auditing) when the bundle could not be written to `dir`.
pub fn check_destination(dir: &Path) -> Result<(), EvidenceError> {
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(EvidenceError::Exists(dir.display().to_string()));
            }
            Ok(())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) if dir.is_file() => Err(EvidenceError::Write {
            path: dir.display().to_string(),
            source: std::io::Error::new(err.kind(), "a file is in the way"),
        }),
        Err(source) => Err(EvidenceError::Write {
            path: dir.display().to_string(),
            source,
        }),
    }
}

/// Lower-case hex SHA-256 (the manifest's hashes; the HTML report shows the manifest's own).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A file name from a target id or evidence name: safe characters only.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    out.chars().take(80).collect()
}

fn pretty(value: &impl Serialize) -> Vec<u8> {
    let mut text = serde_json::to_vec_pretty(value).unwrap_or_default();
    text.push(b'\n');
    text
}

/// The files of a bundle, by relative path.
pub fn files(input: &BundleInput<'_>) -> BTreeMap<String, Vec<u8>> {
    let report = input.report;
    let mut files = BTreeMap::new();
    files.insert(
        "report.json".to_string(),
        input.report_json.as_bytes().to_vec(),
    );
    let mut principals = Vec::new();
    // What the run warned about on stderr (the audit's own account could
    // write, or is a superuser), kept with the run it concerns.
    let mut warnings = Vec::new();
    for (index, outcome) in input.collected.iter().enumerate() {
        let id = match outcome {
            Ok(target) => target.id.as_str(),
            Err(failure) => failure.id.as_str(),
        };
        let dir = format!("targets/{:02}-{}", index + 1, slug(id));
        match outcome {
            Ok(target) => {
                for warning in &target.warnings {
                    warnings.push(json!({"target": target.id, "warning": warning}));
                }
                // Every source that ran is listed; a null principal says
                // the source could not tell (its raw evidence says why).
                if target.sources.is_empty() {
                    principals.push(
                        json!({"target": target.id, "source": target.kind, "principal": target.principal}),
                    );
                }
                for source in target.sources.iter().filter(|s| s.error.is_none()) {
                    principals.push(json!({"target": target.id, "source": source.kind, "source_id": source.id, "principal": source.principal}));
                }
                let facts = json!({
                    "id": target.id, "resource": target.resource, "kind": target.kind,
                    "role": target.role, "engine": target.engine, "version": target.version,
                    "collected_at": target.collected_at, "principal": target.principal,
                    "thresholds": input.thresholds.for_target(&target.id),
                    "sources": target.sources, "facts": target.facts,
                });
                files.insert(format!("{dir}/facts.json"), pretty(&facts));
                for (n, raw) in target.evidence.iter().enumerate() {
                    let name = format!(
                        "{dir}/raw/{:02}-{}-{}.json",
                        n + 1,
                        slug(&raw.source),
                        slug(&raw.name)
                    );
                    files.insert(name, pretty(raw));
                }
            }
            Err(failure) => {
                files.insert(format!("{dir}/failure.json"), pretty(failure));
            }
        }
    }
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    // The account on that host (a person at a laptop, a CI or CronJob user).
    let os_user = os_user();
    let provenance = provenance(input, &principals);
    let run = json!({
        "tool": report.tool,
        "provenance": provenance,
        "started_at": report.started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "finished_at": report.finished_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        // Never a score without its coverage: the numbers of report.json's summary.
        "score": report.summary.coverage.beside(report.summary.score),
        "host": host,
        "os_user": os_user,
        "principals": principals,
        "warnings": warnings,
        "invocation": input.invocation,
        "thresholds": input.thresholds.run,
        "target_thresholds": input.thresholds.overrides(),
        "config": input.config.map(|(path, text)| json!({
            "path": path.display().to_string(),
            "sha256": sha256_hex(text.as_bytes()),
            "copy": "config/sqlready.toml",
        })),
        "checks": input.catalog.checks.len(),
    });
    files.insert("run.json".to_string(), pretty(&run));
    files.insert(
        "controls.json".to_string(),
        pretty(&soc2::mapping(input.catalog)),
    );
    if let Some((_, text)) = input.config {
        files.insert("config/sqlready.toml".to_string(), text.as_bytes().to_vec());
    }
    files
}

/// The report as the page a person opens first (`--format html`), listed in
/// the manifest like every other file; it says whether the manifest is signed.
pub fn report_html(input: &BundleInput<'_>, signed: bool) -> Vec<u8> {
    let facts_file = input
        .facts_file
        .map(|(path, sha256)| (path.display().to_string(), sha256));
    let mut context = super::render::html::Context::new(
        input.catalog,
        input.collected,
        input.thresholds,
        facts_file
            .as_ref()
            .map(|(path, sha256)| (path.as_str(), *sha256)),
    );
    context.os_user = os_user();
    context.bundle = super::render::html::Bundle::Inside { signed };
    super::render::html::render(input.report, &context).into_bytes()
}

/// How the facts were obtained. A bundle judged from a facts file observed
/// nothing itself: the file could have been written by hand, so the record
/// says so and pins the file by its SHA-256; a live run names each source
/// and the principal it ran as.
fn provenance(input: &BundleInput<'_>, principals: &[Json]) -> Json {
    match input.facts_file {
        Some((path, sha256)) => json!({
            "obtained": "facts_file",
            "facts_file": {"path": path.display().to_string(), "sha256": sha256},
            "note": "nothing was observed live by this run: the verdicts rest on the facts file as given, identified by its SHA-256",
        }),
        None => json!({
            "obtained": "live",
            "sources": principals,
        }),
    }
}

/// One paragraph for `evidence verify`: how the bundle's facts were
/// obtained, read from its run.json (empty if it cannot be read; the hash
/// check reports a damaged bundle).
pub fn describe_provenance(dir: &Path) -> String {
    // The same guarded read as verification: never a link, FIFO or device.
    let InBundle::Bytes(bytes) = read_in_bundle(dir, "run.json", 64 * 1024 * 1024) else {
        return String::new();
    };
    let Ok(run) = serde_json::from_slice::<Json>(&bytes) else {
        return String::new();
    };
    let provenance = &run["provenance"];
    match provenance["obtained"].as_str() {
        Some("facts_file") => format!(
            "facts: read from the file {} (sha256 {}), not observed live: the bundle proves what was judged, not that a database said it\n",
            provenance["facts_file"]["path"].as_str().unwrap_or("?"),
            provenance["facts_file"]["sha256"].as_str().unwrap_or("?"),
        ),
        Some("live") => {
            let mut out = String::from("facts: observed live\n");
            for source in provenance["sources"].as_array().into_iter().flatten() {
                let principal = match &source["principal"] {
                    Json::String(p) => p.clone(),
                    _ => "unknown principal".to_string(),
                };
                out.push_str(&format!(
                    "  {} via {} as {}\n",
                    source["target"].as_str().unwrap_or("?"),
                    source["source"].as_str().unwrap_or("?"),
                    principal
                ));
            }
            out
        }
        _ => {
            "facts: the bundle does not record how they were obtained (made by an older sqlready)\n"
                .to_string()
        }
    }
}

/// The account running the audit: USER/LOGNAME when set, else the name of
/// the process's uid from the password database (containers and CronJobs
/// often set neither variable), else `uid N` so the record is never empty.
pub fn os_user() -> Option<String> {
    if let Some(name) = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()))
    {
        return Some(name);
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    Some(uid_name(uid).unwrap_or_else(|| format!("uid {uid}")))
}

/// The name of `uid` in the password database (getpwuid_r: thread-safe).
fn uid_name(uid: libc::uid_t) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: an all-zero passwd is a valid value for getpwuid_r to fill.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and buf's length is passed.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: on success pw_name points to a NUL-terminated string inside buf.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    let name = name.to_string_lossy().into_owned();
    (!name.is_empty()).then_some(name)
}

/// Writes the bundle atomically to `dir`; returns the number of files (manifest included).
pub fn write(
    dir: &Path,
    input: &BundleInput<'_>,
    key: Option<&SigningKey>,
) -> Result<usize, EvidenceError> {
    let mut files = files(input);
    files.insert("report.html".to_string(), report_html(input, key.is_some()));
    seal(dir, files, key)
}

/// Writes `files`, their manifest and its signature to a temporary directory
/// beside `dir`, then renames it into place; returns the number of files.
fn seal(
    dir: &Path,
    mut files: BTreeMap<String, Vec<u8>>,
    key: Option<&SigningKey>,
) -> Result<usize, EvidenceError> {
    let failed = |source| EvidenceError::Write {
        path: dir.display().to_string(),
        source,
    };
    check_destination(dir)?;
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(failed)?;
    // Removed by the signal handler too if the run is interrupted while building it.
    let (temp, _pending) = crate::output::Temporary::create(
        || {
            tempfile::Builder::new()
                .prefix(".sqlready-evidence-")
                .tempdir_in(&parent)
        },
        |temp| temp.path(),
    )
    .map_err(failed)?;
    let manifest = Manifest {
        format: FORMAT.to_string(),
        tool: format!("sqlready {}", env!("CARGO_PKG_VERSION")),
        created_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        algorithm: "sha256".to_string(),
        signing_key_sha256: key.map(|k| sha256_hex(k.verifying_key().as_bytes())),
        files: files
            .iter()
            .map(|(path, bytes)| ManifestEntry {
                path: path.clone(),
                sha256: sha256_hex(bytes),
                bytes: bytes.len() as u64,
            })
            .collect(),
    };
    let manifest_bytes = pretty(&manifest);
    if let Some(key) = key {
        files.insert(
            SIGNATURE.to_string(),
            key.sign(&manifest_bytes).to_bytes().to_vec(),
        );
    }
    files.insert(MANIFEST.to_string(), manifest_bytes);
    let count = files.len();
    for (path, bytes) in &files {
        let target = temp.path().join(path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(failed)?;
        }
        let mut file = fs::File::create(&target).map_err(failed)?;
        file.write_all(bytes).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).map_err(failed)?;
    }
    set_dir_modes(temp.path()).map_err(failed)?;
    let built = temp.keep();
    if let Err(source) = fs::rename(&built, dir) {
        let _ = fs::remove_dir_all(&built);
        return Err(if source.kind() == std::io::ErrorKind::DirectoryNotEmpty {
            EvidenceError::Exists(dir.display().to_string())
        } else {
            failed(source)
        });
    }
    if let Ok(parent_dir) = fs::File::open(&parent) {
        let _ = parent_dir.sync_all();
    }
    Ok(count)
}

fn set_dir_modes(dir: &Path) -> std::io::Result<()> {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            set_dir_modes(&path)?;
        }
    }
    Ok(())
}

/// The state of a bundle's signature after verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// No public key given; whether the bundle carries a signature.
    NotChecked {
        signed: bool,
    },
    Valid {
        key_sha256: String,
    },
    Invalid(String),
}

/// What `evidence verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub files: usize,
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// A manifest that is not a valid manifest (edited by hand, truncated).
    pub manifest_problem: Option<String>,
    /// Listed files found as something else (a symlink, a FIFO, a device, a
    /// file behind a symlinked directory): never followed nor opened; each is
    /// also in `changed`. Why, per file.
    pub not_regular: Vec<String>,
    pub signature: SignatureCheck,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.changed.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.manifest_problem.is_none()
            && !matches!(self.signature, SignatureCheck::Invalid(_))
    }
}

/// Every file under `dir` (symlinks and other non-regular files included, never
/// followed), relative; an empty directory as `its/path/` (an addition too).
fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut empty = true;
    for entry in fs::read_dir(dir)? {
        empty = false;
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        // file_type() does not follow a symlink: a link to a directory is a leaf.
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), &relative, out)?;
        } else {
            out.push(relative);
        }
    }
    if empty && !prefix.is_empty() {
        out.push(format!("{prefix}/"));
    }
    Ok(())
}

/// The largest manifest `evidence verify` reads (a bundle of thousands of
/// targets has a manifest of a few MiB).
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;
/// An Ed25519 signature is 64 bytes; anything much longer is not one.
const MAX_SIGNATURE_BYTES: u64 = 1024;

/// What reading one bundle file found, without ever following a link out of
/// the bundle or opening anything but a regular file.
enum InBundle {
    Bytes(Vec<u8>),
    Missing,
    /// Present but not a regular file reached through real directories: why.
    NotRegular(&'static str),
}

/// What `metadata` is, when it is not a regular file.
fn not_regular(metadata: &fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_file() {
        None
    } else if kind.is_symlink() {
        Some("a symbolic link, not followed")
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a FIFO, never opened")
    } else if kind.is_char_device() || kind.is_block_device() {
        Some("a device, never opened")
    } else if kind.is_socket() {
        Some("a socket, never opened")
    } else {
        Some("not a regular file")
    }
}

/// Reads `relative` (a `/`-separated path already checked to hold no `..`)
/// under `dir`, at most `limit + 1` bytes: every directory on the way must be
/// a real directory (not a link), the file itself is opened with O_NOFOLLOW
/// and O_NONBLOCK (a FIFO swapped in after the check does not block) and must
/// still be the regular file that was checked.
fn read_in_bundle(dir: &Path, relative: &str, limit: u64) -> InBundle {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let parts: Vec<&str> = relative.split('/').collect();
    let mut path = dir.to_path_buf();
    for (index, part) in parts.iter().enumerate() {
        path.push(part);
        let metadata = match fs::symlink_metadata(&path) {
            Ok(metadata) => metadata,
            Err(_) => return InBundle::Missing,
        };
        let last = index + 1 == parts.len();
        if !last {
            if metadata.file_type().is_symlink() {
                return InBundle::NotRegular("inside a symbolic link to a directory, not followed");
            }
            if !metadata.is_dir() {
                return InBundle::Missing;
            }
            continue;
        }
        if let Some(what) = not_regular(&metadata) {
            return InBundle::NotRegular(what);
        }
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path);
        let Ok(file) = file else {
            return InBundle::NotRegular("could not be opened as a regular file");
        };
        match file.metadata() {
            Ok(opened)
                if opened.is_file()
                    && opened.dev() == metadata.dev()
                    && opened.ino() == metadata.ino() => {}
            _ => return InBundle::NotRegular("replaced while being verified"),
        }
        let mut bytes = Vec::new();
        return match file.take(limit.saturating_add(1)).read_to_end(&mut bytes) {
            Ok(_) => InBundle::Bytes(bytes),
            Err(_) => InBundle::NotRegular("could not be read"),
        };
    }
    InBundle::Missing
}

/// Recomputes every hash of the bundle at `dir`, and checks the signature with `key`.
pub fn verify(dir: &Path, key: Option<&VerifyingKey>) -> Result<Verification, EvidenceError> {
    let not_a_bundle = |reason: String| EvidenceError::NotABundle {
        path: dir.display().to_string(),
        reason,
    };
    if !dir.is_dir() {
        return Err(not_a_bundle("no such directory".into()));
    }
    let manifest_bytes = match read_in_bundle(dir, MANIFEST, MAX_MANIFEST_BYTES) {
        InBundle::Bytes(bytes) if bytes.len() as u64 > MAX_MANIFEST_BYTES => {
            return Err(not_a_bundle(format!(
                "{MANIFEST} is larger than {MAX_MANIFEST_BYTES} bytes"
            )));
        }
        InBundle::Bytes(bytes) => bytes,
        InBundle::Missing => return Err(not_a_bundle(format!("{MANIFEST} is missing"))),
        InBundle::NotRegular(what) => {
            return Err(not_a_bundle(format!("{MANIFEST} is {what}")));
        }
    };
    let mut present = Vec::new();
    walk(dir, "", &mut present).map_err(|err| not_a_bundle(err.to_string()))?;
    present.retain(|p| p != MANIFEST && p != SIGNATURE);
    present.sort();
    let signature_bytes = match read_in_bundle(dir, SIGNATURE, MAX_SIGNATURE_BYTES) {
        InBundle::Bytes(bytes) => Some(Ok(bytes)),
        InBundle::Missing => None,
        InBundle::NotRegular(what) => Some(Err(what)),
    };
    let signature = match (key, &signature_bytes) {
        (Some(_), Some(Err(what))) => SignatureCheck::Invalid(format!("{SIGNATURE} is {what}")),
        (None, signed) => SignatureCheck::NotChecked {
            signed: signed.is_some(),
        },
        (Some(_), None) => SignatureCheck::Invalid(format!(
            "the bundle has no {SIGNATURE}, but a public key was given"
        )),
        (Some(key), Some(Ok(bytes))) => match <[u8; 64]>::try_from(bytes.as_slice()) {
            Err(_) => SignatureCheck::Invalid(format!(
                "{SIGNATURE} is {} bytes, not a 64-byte Ed25519 signature",
                bytes.len()
            )),
            Ok(raw) => match key.verify_strict(&manifest_bytes, &Signature::from_bytes(&raw)) {
                Ok(()) => SignatureCheck::Valid {
                    key_sha256: sha256_hex(key.as_bytes()),
                },
                Err(_) => SignatureCheck::Invalid(format!(
                    "{SIGNATURE} does not verify {MANIFEST} with this public key: the manifest was changed, or another key signed it"
                )),
            },
        },
    };
    let manifest: Manifest = match serde_json::from_slice(&manifest_bytes) {
        Ok(manifest) => manifest,
        Err(err) => {
            return Ok(Verification {
                files: present.len(),
                changed: Vec::new(),
                added: present,
                removed: Vec::new(),
                manifest_problem: Some(format!("{MANIFEST} is not a valid manifest: {err}")),
                not_regular: Vec::new(),
                signature,
            });
        }
    };
    let mut verification = Verification {
        files: manifest.files.len(),
        changed: Vec::new(),
        added: Vec::new(),
        removed: Vec::new(),
        manifest_problem: (manifest.format != FORMAT).then(|| {
            format!(
                "{MANIFEST} has format '{}', expected '{FORMAT}'",
                manifest.format
            )
        }),
        not_regular: Vec::new(),
        signature,
    };
    let listed: BTreeMap<&str, &ManifestEntry> = manifest
        .files
        .iter()
        .map(|e| (e.path.as_str(), e))
        .collect();
    for entry in &manifest.files {
        let unsafe_path = entry
            .path
            .split('/')
            .any(|part| part.is_empty() || part == ".." || part == ".");
        if unsafe_path || entry.path.starts_with('/') {
            verification.manifest_problem = Some(format!(
                "{MANIFEST} lists a path outside the bundle: {}",
                entry.path
            ));
            continue;
        }
        match read_in_bundle(dir, &entry.path, entry.bytes) {
            InBundle::Bytes(bytes) => {
                if bytes.len() as u64 != entry.bytes || sha256_hex(&bytes) != entry.sha256 {
                    verification.changed.push(entry.path.clone());
                }
            }
            InBundle::NotRegular(what) => {
                verification.changed.push(entry.path.clone());
                verification
                    .not_regular
                    .push(format!("{} is {what}", entry.path));
            }
            InBundle::Missing => verification.removed.push(entry.path.clone()),
        }
    }
    verification.added = present
        .into_iter()
        .filter(|p| !listed.contains_key(p.as_str()))
        .collect();
    Ok(verification)
}

/// Reads an Ed25519 private key (PKCS#8 PEM).
pub fn read_signing_key(path: &Path) -> Result<SigningKey, EvidenceError> {
    let failed = |reason: String| EvidenceError::Key {
        path: path.display().to_string(),
        reason,
    };
    let text = fs::read_to_string(path).map_err(|err| failed(err.to_string()))?;
    SigningKey::from_pkcs8_pem(&text).map_err(|err| {
        failed(format!(
            "not an Ed25519 private key in PKCS#8 PEM ({err}); make one with `sqlready evidence keygen` or `openssl genpkey -algorithm ed25519`"
        ))
    })
}

/// Reads an Ed25519 public key (SPKI PEM).
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey, EvidenceError> {
    let failed = |reason: String| EvidenceError::Key {
        path: path.display().to_string(),
        reason,
    };
    let text = fs::read_to_string(path).map_err(|err| failed(err.to_string()))?;
    VerifyingKey::from_public_key_pem(&text).map_err(|err| {
        failed(format!(
            "not an Ed25519 public key in PEM ({err}); `sqlready evidence keygen` writes one, or `openssl pkey -in private.pem -pubout`"
        ))
    })
}

/// Generates a key pair and writes it: private key 0600, public key 0644; never overwrites.
pub fn keygen(private: &Path, public: &Path) -> Result<String, EvidenceError> {
    let failed = |path: &Path, reason: String| EvidenceError::Key {
        path: path.display().to_string(),
        reason,
    };
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|err| {
        failed(
            private,
            format!("no randomness from the operating system: {err}"),
        )
    })?;
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    // PKCS#8 v1 (RFC 8410 without the optional public key): OpenSSL 3.0
    // rejects the v2 form that `SigningKey::to_pkcs8_pem` writes.
    let private_pem = ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    }
    .to_pkcs8_pem(LineEnding::LF)
    .map_err(|err| failed(private, err.to_string()))?;
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|err| failed(public, err.to_string()))?;
    for (path, contents, mode) in [
        (private, private_pem.as_bytes(), 0o600),
        (public, public_pem.as_bytes(), 0o644),
    ] {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)
            .map_err(|err| {
                failed(
                    path,
                    format!("cannot create it ({err}); keys are never overwritten"),
                )
            })?;
        file.write_all(contents)
            .map_err(|err| failed(path, err.to_string()))?;
        file.sync_all()
            .map_err(|err| failed(path, err.to_string()))?;
    }
    Ok(sha256_hex(key.verifying_key().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_user_of_the_running_uid() {
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        let expected = fs::read_to_string("/etc/passwd").ok().and_then(|text| {
            text.lines().find_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                (fields.get(2) == Some(&uid.to_string().as_str())).then(|| fields[0].to_string())
            })
        });
        assert_eq!(uid_name(uid), expected);
    }

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(
            slug("postgres://127.0.0.1:5432/app"),
            "postgres-127.0.0.1-5432-app"
        );
        assert_eq!(slug("query for custom.pk"), "query-for-custom.pk");
        assert!(!slug("../../etc/passwd").contains('/'));
    }

    #[test]
    fn time_placeholder() {
        let at = DateTime::parse_from_rfc3339("2026-11-26T10:00:02Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            expand_dir(Path::new("/evidence/run-{time}"), at),
            PathBuf::from("/evidence/run-20261126T100002Z")
        );
        assert_eq!(
            expand_dir(Path::new("/evidence/x"), at),
            PathBuf::from("/evidence/x")
        );
    }
}
