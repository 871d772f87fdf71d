//! A live audit's evidence bundle records that its facts were observed live,
//! by which source and as which principal, and `evidence verify` prints it
//! (issue 18 point 5; the facts-file case is in tests/usability.rs).

mod support;

use support::cli::sqlready_in;
use support::pglab::lab;

#[test]
fn a_live_bundle_names_its_sources_and_principals() {
    let server = &lab().good;
    let url = server.url("auditor", "app");
    let work = tempfile::tempdir().unwrap();
    let run = sqlready_in(
        work.path(),
        &[
            "audit",
            url.as_str(),
            "--no-config",
            "--evidence",
            "bundle",
            "-o",
            "report.txt",
        ],
        &[],
    );
    assert!(matches!(run.code, 0 | 1), "{}", run.stderr);
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.path().join("bundle/run.json")).unwrap())
            .unwrap();
    let provenance = &record["provenance"];
    assert_eq!(provenance["obtained"], "live", "{record:#}");
    let sources = provenance["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "{provenance:#}");
    assert_eq!(sources[0]["source"], "postgres");
    assert_eq!(sources[0]["principal"], "auditor");
    let verify = sqlready_in(work.path(), &["evidence", "verify", "bundle"], &[]);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(
        verify.stdout.contains("facts: observed live")
            && verify.stdout.contains("via postgres as auditor"),
        "{}",
        verify.stdout
    );
}
