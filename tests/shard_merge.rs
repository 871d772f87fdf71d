//! `audit --shard I/N` and `sqlready merge`, end to end through the real
//! binary: N shard runs over one fleet, merged, equal the unsharded run
//! (for N = 1..7); merge refuses incomplete or overlapping shards; the
//! merged evidence bundle verifies; progress never touches stdout.
//!
//! The fleet: a Cloud SQL project of 20 instances listed in pages by the
//! local Admin API server (support/cloudsql_server.rs), a project whose
//! listing is refused (a discovery failure, reported under its discovery
//! id), the Terraform fixtures, and a PostgreSQL address nothing listens on.

#[path = "support/cli.rs"]
mod cli;
#[cfg(feature = "cloudsql")]
#[path = "support/cloudsql_server.rs"]
mod cloudsql_server;

use cli::{Run, sqlready, verdicts};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/terraform")
        .join(path)
        .display()
        .to_string()
}

/// Targets that need no server: Terraform plans (several resources) and a
/// database nothing listens on (a failed target, under its own id).
fn local_fleet() -> Vec<String> {
    vec![
        fixture("aws"),
        fixture("orders"),
        fixture("kutt"),
        "postgres://sqlready@127.0.0.1:1/nothing".to_string(),
    ]
}

/// The summary without what depends on the clock.
fn summary(report: &Value) -> Value {
    report["summary"].clone()
}

fn args<'a>(base: &'a [&'a str], more: &[&'a str]) -> Vec<&'a str> {
    base.iter().chain(more).copied().collect()
}

/// Runs `audit` over `fleet` unsharded and as every shard of N = 1..=7,
/// merges each N, and compares.
fn sharded_equals_unsharded(fleet: &[String], env: &[(&str, &str)]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut base: Vec<&str> = vec!["audit"];
    base.extend(fleet.iter().map(String::as_str));
    base.extend(["--format", "json", "--fail-on", "never", "--no-config"]);
    let whole = cli::sqlready_with_env(&base, env);
    assert_ne!(whole.code, 2, "{}", whole.stderr);
    let whole = whole.json();
    let expected = verdicts(&whole);
    assert!(expected.len() >= 8, "a fleet of {}", expected.len());
    for count in 1..=7u32 {
        let shard_dir = dir.path().join(format!("n{count}"));
        std::fs::create_dir(&shard_dir).expect("shard dir");
        let mut sizes = Vec::new();
        for index in 0..count {
            let out = shard_dir.join(format!("shard-{index}.json"));
            let shard = format!("{index}/{count}");
            let out_text = out.display().to_string();
            let run =
                cli::sqlready_with_env(&args(&base, &["--shard", &shard, "-o", &out_text]), env);
            assert_ne!(run.code, 2, "shard {shard}: {}", run.stderr);
            assert!(run.stdout.is_empty(), "-o FILE: nothing on stdout");
            let report: Value =
                serde_json::from_slice(&std::fs::read(&out).expect("shard report")).unwrap();
            assert_eq!(report["shard"]["index"], index);
            assert_eq!(report["shard"]["count"], count);
            assert_eq!(report["shard"]["hash"], "sha256-be64-mod-v1");
            // Every runner saw the whole fleet, whatever it kept.
            assert_eq!(
                report["shard"]["fleet_size"],
                expected.len(),
                "shard {shard}: {report:#}"
            );
            sizes.push(report["targets"].as_array().unwrap().len());
        }
        assert_eq!(
            sizes.iter().sum::<usize>(),
            expected.len(),
            "N={count}: {sizes:?}"
        );
        let merged = cli::sqlready_with_env(
            &[
                "merge",
                &shard_dir.display().to_string(),
                "--format",
                "json",
                "--fail-on",
                "never",
            ],
            env,
        );
        assert_eq!(
            merged.code,
            whole_code(&whole),
            "N={count}: {}",
            merged.stderr
        );
        let merged = merged.json();
        assert_eq!(verdicts(&merged), expected, "N={count}");
        assert_eq!(summary(&merged), summary(&whole), "N={count}");
        assert_eq!(merged["merged"]["count"], count);
        assert!(merged.get("shard").is_none());
    }
}

/// The exit code `--fail-on never` gives a report: 3 when a target failed.
fn whole_code(report: &Value) -> i32 {
    let failed = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| !t["error"].is_null());
    if failed { 3 } else { 0 }
}

#[test]
fn shards_merged_equal_the_unsharded_run_for_n_1_to_7() {
    #[cfg(feature = "cloudsql")]
    {
        let server = cloudsql_server::Server::start(
            {
                let mut routes = cloudsql_server::scenario_routes();
                let fleet = cloudsql_server::bench_routes("acme-fleet", 20, 7);
                routes.0.extend(fleet.0);
                routes
            },
            std::time::Duration::ZERO,
        );
        let home = tempfile::tempdir().expect("temp home");
        let home = home.path().display().to_string();
        let env = [
            ("HOME", home.as_str()),
            ("GCE_METADATA_HOST", "127.0.0.1:9"),
            ("NO_PROXY", "*"),
            ("SQLREADY_CLOUDSQL_ENDPOINT", server.url.as_str()),
            ("SQLREADY_GOOGLE_OAUTH_ENDPOINT", server.url.as_str()),
            ("GOOGLE_OAUTH_ACCESS_TOKEN", cloudsql_server::TOKEN),
        ];
        let mut fleet = local_fleet();
        fleet.push("cloudsql://acme-fleet".into());
        fleet.push("cloudsql://acme-denied".into());
        sharded_equals_unsharded(&fleet, &env);
        // Each shard read the extras (backup runs) of its own instances only:
        // 10 of the 20 instances have extras, read once per N = 1..7 plus the
        // unsharded run, never by another shard.
        let backup_reads = server.requests_to("/backupRuns").len();
        assert_eq!(backup_reads, 10 * 8, "{backup_reads} backupRuns reads");
    }
    #[cfg(not(feature = "cloudsql"))]
    sharded_equals_unsharded(&local_fleet(), &[]);
}

/// Shard reports of the local fleet in `dir`: `shard-I.json` for each I of N.
fn write_shards(dir: &Path, count: u32, extra: &[&str]) -> Vec<PathBuf> {
    let fleet = local_fleet();
    (0..count)
        .map(|index| {
            let out = dir.join(format!("shard-{index}.json"));
            let shard = format!("{index}/{count}");
            let out_text = out.display().to_string();
            let mut command: Vec<&str> = vec!["audit"];
            command.extend(fleet.iter().map(String::as_str));
            command.extend(["--no-config", "--format", "json", "--shard", &shard]);
            command.extend(["-o", &out_text]);
            command.extend_from_slice(extra);
            let run = sqlready(&command);
            assert_ne!(run.code, 2, "{}", run.stderr);
            out
        })
        .collect()
}

fn merge(reports: &[PathBuf], extra: &[&str]) -> Run {
    let paths: Vec<String> = reports.iter().map(|p| p.display().to_string()).collect();
    let mut command: Vec<&str> = vec!["merge"];
    command.extend(paths.iter().map(String::as_str));
    command.extend_from_slice(extra);
    sqlready(&command)
}

#[test]
fn a_missing_duplicate_or_foreign_shard_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let shards = write_shards(dir.path(), 3, &[]);
    let run = merge(&shards[..2], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("shard(s) 2 of 3 missing"),
        "{}",
        run.stderr
    );
    let run = merge(&[&shards[..], &shards[1..2]].concat(), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("shard 1/3 is given twice"),
        "{}",
        run.stderr
    );
    // A shard of another split of the same fleet.
    let other = tempfile::tempdir().unwrap();
    let two = write_shards(other.path(), 2, &[]);
    let run = merge(&[shards[0].clone(), shards[1].clone(), two[1].clone()], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("every shard must use the same N"),
        "{}",
        run.stderr
    );
    // An unsharded report.
    let whole = dir.path().join("whole.json");
    let mut command: Vec<String> = vec!["audit".into()];
    command.extend(local_fleet());
    command.extend(["--no-config", "--format", "json", "-o"].map(String::from));
    command.push(whole.display().to_string());
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    sqlready(&command);
    let run = merge(std::slice::from_ref(&whole), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("is not a shard report"),
        "{}",
        run.stderr
    );
    // Not a report at all.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}").unwrap();
    let run = merge(std::slice::from_ref(&junk), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("is not a sqlready JSON report"),
        "{}",
        run.stderr
    );
    // Among other reports (parsed on every core), the bad one is named.
    let latin1 = dir.path().join("latin1.json");
    std::fs::write(&latin1, b"{\"tool\": \"caf\xe9\"}").unwrap();
    let run = merge(&[whole.clone(), latin1.clone(), junk.clone()], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!(
            "{} is not a sqlready JSON report (it is not UTF-8 text)",
            latin1.display()
        )),
        "{}",
        run.stderr
    );
    let missing = dir.path().join("shard-9.json");
    let run = merge(&[whole, missing.clone()], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(&format!("cannot read shard report {}", missing.display())),
        "{}",
        run.stderr
    );
}

#[test]
fn the_shard_flag_and_key_are_validated() {
    for bad in ["3/3", "0/0", "1", "a/b"] {
        let run = sqlready(&["audit", &fixture("aws"), "--no-config", "--shard", bad]);
        assert_eq!(run.code, 2, "--shard {bad}: {}", run.stderr);
        assert!(run.stderr.contains("--shard"), "{}", run.stderr);
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sqlready.toml");
    std::fs::write(&config, "[audit]\nshard = \"5/2\"\n").unwrap();
    let run = sqlready(&[
        "audit",
        &fixture("aws"),
        "--config",
        &config.display().to_string(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("sqlready.toml:2:") && run.stderr.contains("below the count 2"),
        "{}",
        run.stderr
    );
    // A valid key applies, and the flag overrides it.
    std::fs::write(&config, "[audit]\nshard = \"1/2\"\n").unwrap();
    let config = config.display().to_string();
    let run = sqlready(&[
        "audit",
        &fixture("aws"),
        "--config",
        &config,
        "--format",
        "json",
    ]);
    assert_eq!(run.json()["shard"]["index"], 1, "{}", run.stderr);
    let run = sqlready(&[
        "audit",
        &fixture("aws"),
        "--config",
        &config,
        "--format",
        "json",
        "--shard",
        "0/3",
    ]);
    assert_eq!(run.json()["shard"]["count"], 3);
}

#[test]
fn merge_renders_every_format_and_says_it_merged() {
    let dir = tempfile::tempdir().unwrap();
    let shards = write_shards(dir.path(), 2, &[]);
    for (format, needle) in [
        ("table", "merged from 2 shard(s)"),
        ("markdown", "merged from 2 shard(s)"),
        ("html", "merged from 2 shard(s)"),
        ("sarif", "\"version\": \"2.1.0\""),
        ("junit", "<testsuites"),
    ] {
        let run = merge(&shards, &["--format", format, "--fail-on", "never"]);
        assert_eq!(
            run.code, 3,
            "{format}: the fleet holds a failed target: {}",
            run.stderr
        );
        assert!(run.stdout.contains(needle), "{format}:\n{}", run.stdout);
    }
    // A shard's own table says which slice it is.
    let aws = fixture("aws");
    let json = sqlready(&[
        "audit",
        &aws,
        "--no-config",
        "--format",
        "json",
        "--shard",
        "0/1",
    ]);
    let fleet = json.json()["targets"].as_array().unwrap().len();
    let table = sqlready(&["audit", &aws, "--no-config", "--shard", "0/1"]);
    assert!(
        table
            .stdout
            .contains(&format!("shard 0/1 of a fleet of {fleet} target(s)")),
        "{}",
        table.stdout
    );
    // --fail-on decides exit 1 as in audit; a failed target (3) takes precedence.
    let terraform_only = tempfile::tempdir().unwrap();
    let reports: Vec<PathBuf> = (0..2)
        .map(|index| {
            let out = terraform_only.path().join(format!("{index}.json"));
            let shard = format!("{index}/2");
            let out_text = out.display().to_string();
            sqlready(&[
                "audit",
                &fixture("aws"),
                "--no-config",
                "--format",
                "json",
                "--shard",
                &shard,
                "-o",
                &out_text,
            ]);
            out
        })
        .collect();
    assert_eq!(merge(&reports, &[]).code, 1);
    assert_eq!(merge(&reports, &["--fail-on", "never"]).code, 0);
}

#[test]
fn the_merged_evidence_bundle_verifies_and_keeps_the_shard_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private.pem");
    let public = dir.path().join("public.pem");
    let (private, public) = (private.display().to_string(), public.display().to_string());
    let keys = sqlready(&[
        "evidence",
        "keygen",
        "--private-key",
        &private,
        "--public-key",
        &public,
    ]);
    assert_eq!(keys.code, 0, "{}", keys.stderr);
    let bundles: Vec<String> = (0..3)
        .map(|i| dir.path().join(format!("bundle-{i}")).display().to_string())
        .collect();
    let fleet = local_fleet();
    for (index, bundle) in bundles.iter().enumerate() {
        let shard = format!("{index}/3");
        let mut command: Vec<&str> = vec!["audit"];
        command.extend(fleet.iter().map(String::as_str));
        command.extend(["--no-config", "--format", "json", "--shard", &shard]);
        command.extend(["--evidence", bundle, "--sign-key", &private]);
        let run = sqlready(&command);
        assert_ne!(run.code, 2, "{}", run.stderr);
    }
    let out = dir.path().join("fleet").display().to_string();
    let mut command: Vec<&str> = vec!["merge", "--format", "json", "--fail-on", "never"];
    for bundle in &bundles {
        command.extend(["--evidence-in", bundle]);
    }
    command.extend([
        "--evidence",
        &out,
        "--sign-key",
        &private,
        "--public-key",
        &public,
    ]);
    let run = sqlready(&command);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.json()["merged"]["count"], 3);
    let verify = sqlready(&["evidence", "verify", &out, "--public-key", &public]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("signature: valid"),
        "{}",
        verify.stdout
    );
    // Each shard's bundle inside is itself a bundle, with its own signature.
    for index in 0..3 {
        let inner = format!("{out}/shards/{index:02}");
        let verify = sqlready(&["evidence", "verify", &inner, "--public-key", &public]);
        assert_eq!(
            verify.code, 0,
            "{inner}: {}{}",
            verify.stdout, verify.stderr
        );
    }
    let run_json: Value =
        serde_json::from_slice(&std::fs::read(format!("{out}/run.json")).unwrap()).unwrap();
    let shards = run_json["provenance"]["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 3);
    assert!(
        shards[0]["signature"]
            .as_str()
            .unwrap()
            .starts_with("valid")
    );
    // The merged report.json is the report merge printed.
    let report: Value =
        serde_json::from_slice(&std::fs::read(format!("{out}/report.json")).unwrap()).unwrap();
    assert_eq!(report["summary"], run.json()["summary"]);
    // Tampering with the merged bundle is caught by verify.
    std::fs::write(format!("{out}/shards/01/report.json"), "{}").unwrap();
    let verify = sqlready(&["evidence", "verify", &out]);
    assert_eq!(verify.code, 1, "{}", verify.stdout);
    assert!(
        verify.stdout.contains("changed: shards/01/report.json"),
        "{}",
        verify.stdout
    );
    // A tampered shard bundle is never merged; a missing one is named.
    std::fs::write(format!("{}/report.json", bundles[2]), "{}").unwrap();
    let again = dir.path().join("again").display().to_string();
    let mut command: Vec<&str> = vec!["merge"];
    for bundle in &bundles {
        command.extend(["--evidence-in", bundle]);
    }
    command.extend(["--evidence", &again]);
    let run = sqlready(&command);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("does not verify"), "{}", run.stderr);
    let run = sqlready(&[
        "merge",
        "--evidence-in",
        &bundles[0],
        "--evidence-in",
        &bundles[1],
        "--evidence",
        &again,
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("shard(s) 2 of 3 missing"),
        "{}",
        run.stderr
    );
    assert!(!Path::new(&again).exists());
}

#[test]
fn progress_goes_to_stderr_as_plain_lines_off_a_terminal() {
    let mut command: Vec<String> = vec!["audit".into()];
    command.extend(local_fleet());
    command.extend(
        [
            "--no-config",
            "--format",
            "json",
            "--progress",
            "lines",
            "-o",
            "-",
        ]
        .map(String::from),
    );
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let run = sqlready(&command);
    // stdout is the report alone.
    let report = run.json();
    let targets = report["targets"].as_array().unwrap().len();
    let last = run
        .stderr
        .lines()
        .rfind(|l| l.starts_with("progress: "))
        .unwrap_or_else(|| panic!("no progress line: {}", run.stderr));
    assert!(
        last.starts_with(&format!(
            "progress: {targets} target(s) discovered, {} audited, 1 failed (",
            targets - 1
        )),
        "{last}"
    );
    // The default off a terminal: no bar, no control characters.
    let default: Vec<&str> = command
        .iter()
        .copied()
        .filter(|a| *a != "--progress" && *a != "lines")
        .collect();
    let run = sqlready(&default);
    run.json();
    assert!(
        !run.stderr.contains('\r') && !run.stderr.contains('\u{1b}'),
        "{:?}",
        run.stderr
    );
}
