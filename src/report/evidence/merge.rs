//! The fleet's evidence bundle (`sqlready merge --evidence-in … --evidence DIR`):
//! the merged report beside every shard's bundle, byte for byte.
//!
//! ```text
//! DIR/
//!   report.json, report.html      the merged report
//!   run.json                      who merged, when, and each shard bundle: its manifest's
//!                                 SHA-256, whether it was signed, and by which key
//!   controls.json                 SOC 2 mapping of every check
//!   shards/NN/…                   shard NN's bundle as written, MANIFEST.json and
//!                                 MANIFEST.json.sig included: `sqlready evidence verify
//!                                 DIR/shards/NN --public-key …` checks the shard's own signature
//!   MANIFEST.json                 SHA-256 of every file above: the manifest of the shard manifests
//!   MANIFEST.json.sig             optional: the merge's own signature (--sign-key)
//! ```
//!
//! A shard bundle is accepted only when it verifies against its manifest (and
//! its signature, when a public key is given); its files are read with the
//! same guarded reads as verification, never through a link.

use super::{
    EvidenceError, InBundle, MANIFEST, Manifest, SIGNATURE, SignatureCheck, read_in_bundle,
    sha256_hex, soc2, verify,
};
use crate::checks::Catalog;
use crate::report::Report;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A shard's bundle, verified and read.
#[derive(Debug)]
pub struct ShardBundle {
    pub dir: PathBuf,
    /// Every file, by path relative to the bundle (manifest and signature included).
    files: BTreeMap<String, Vec<u8>>,
    pub manifest_sha256: String,
    /// SHA-256 of the key that signed it, as its manifest says.
    pub signing_key_sha256: Option<String>,
    pub signature: SignatureCheck,
}

impl ShardBundle {
    /// The bundle's report.json.
    pub fn report_json(&self) -> &[u8] {
        self.files.get("report.json").map_or(&[], Vec::as_slice)
    }
}

/// Opens a shard bundle: it must verify (and carry a valid signature when
/// `key` is given), and hold a report.json.
pub fn open(dir: &Path, key: Option<&VerifyingKey>) -> Result<ShardBundle, EvidenceError> {
    let refused = |reason: String| EvidenceError::NotABundle {
        path: dir.display().to_string(),
        reason,
    };
    let verification = verify(dir, key)?;
    if !verification.ok() {
        let mut problems = Vec::new();
        for (what, list) in [
            ("changed", &verification.changed),
            ("added", &verification.added),
            ("removed", &verification.removed),
        ] {
            if !list.is_empty() {
                problems.push(format!("{} file(s) {what}", list.len()));
            }
        }
        problems.extend(verification.manifest_problem.clone());
        if let SignatureCheck::Invalid(why) = &verification.signature {
            problems.push(format!("signature invalid: {why}"));
        }
        return Err(refused(format!(
            "it does not verify ({}): `sqlready evidence verify {}` says more; a shard bundle is merged only intact",
            problems.join("; "),
            dir.display()
        )));
    }
    let read = |path: &str, limit: u64| match read_in_bundle(dir, path, limit) {
        InBundle::Bytes(bytes) => Ok(bytes),
        InBundle::Missing => Err(refused(format!("{path} is missing"))),
        InBundle::NotRegular(what) => Err(refused(format!("{path} is {what}"))),
    };
    let manifest_bytes = read(MANIFEST, super::MAX_MANIFEST_BYTES)?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|err| refused(format!("{MANIFEST} is not a valid manifest: {err}")))?;
    let mut files = BTreeMap::new();
    for entry in &manifest.files {
        files.insert(entry.path.clone(), read(&entry.path, entry.bytes)?);
    }
    if !files.contains_key("report.json") {
        return Err(refused("it holds no report.json".into()));
    }
    if let InBundle::Bytes(signature) = read_in_bundle(dir, SIGNATURE, 1024) {
        files.insert(SIGNATURE.to_string(), signature);
    }
    let manifest_sha256 = sha256_hex(&manifest_bytes);
    files.insert(MANIFEST.to_string(), manifest_bytes);
    Ok(ShardBundle {
        dir: dir.to_path_buf(),
        files,
        manifest_sha256,
        signing_key_sha256: manifest.signing_key_sha256,
        signature: verification.signature,
    })
}

/// What the fleet bundle holds besides the shard bundles.
pub struct MergedInput<'a> {
    pub report: &'a Report,
    /// The merged report as `--format json` renders it.
    pub report_json: &'a str,
    pub catalog: &'a Catalog,
    /// The shard bundles, by shard index.
    pub shards: Vec<(u32, &'a ShardBundle)>,
    /// The merge's options (no secret).
    pub invocation: Json,
}

/// The files of the fleet bundle, report.html aside (see [`write`]).
fn files(input: &MergedInput<'_>) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert(
        "report.json".to_string(),
        input.report_json.as_bytes().to_vec(),
    );
    let shards: Vec<Json> = input
        .shards
        .iter()
        .map(|(index, bundle)| {
            json!({
                "index": index,
                "bundle": bundle.dir.display().to_string(),
                "copy": shard_dir(*index),
                "manifest_sha256": bundle.manifest_sha256,
                "signed": bundle.files.contains_key(SIGNATURE),
                "signing_key_sha256": bundle.signing_key_sha256,
                "signature": match &bundle.signature {
                    SignatureCheck::Valid { key_sha256 } => format!("valid (public key sha256 {key_sha256})"),
                    SignatureCheck::NotChecked { signed: true } => "present, not checked (no --public-key)".to_string(),
                    SignatureCheck::NotChecked { signed: false } => "none".to_string(),
                    SignatureCheck::Invalid(why) => format!("invalid: {why}"),
                },
            })
        })
        .collect();
    let report = input.report;
    let run = json!({
        "tool": report.tool,
        "provenance": {
            "obtained": "merged",
            "note": "the verdicts are the shards' own: each shard bundle under shards/ holds its facts, raw evidence and run record",
            "shards": shards,
        },
        "started_at": report.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "finished_at": report.finished_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "merged_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "score": report.summary.coverage.beside(report.summary.score),
        "host": gethostname::gethostname().to_string_lossy(),
        "os_user": super::os_user(),
        "invocation": input.invocation,
        "checks": input.catalog.checks.len(),
    });
    files.insert("run.json".to_string(), super::pretty(&run));
    files.insert(
        "controls.json".to_string(),
        super::pretty(&soc2::mapping(input.catalog)),
    );
    for (index, bundle) in &input.shards {
        let prefix = shard_dir(*index);
        for (path, bytes) in &bundle.files {
            files.insert(format!("{prefix}/{path}"), bytes.clone());
        }
    }
    files
}

/// Where shard `index`'s bundle goes inside the fleet bundle.
pub fn shard_dir(index: u32) -> String {
    format!("shards/{index:02}")
}

/// Writes the fleet bundle atomically to `dir` (as [`super::write`] does);
/// `html` renders the merged report's page given whether it is signed.
pub fn write(
    dir: &Path,
    input: &MergedInput<'_>,
    html: impl FnOnce(bool) -> String,
    key: Option<&SigningKey>,
) -> Result<usize, EvidenceError> {
    let mut files = files(input);
    files.insert("report.html".to_string(), html(key.is_some()).into_bytes());
    super::seal(dir, files, key)
}
