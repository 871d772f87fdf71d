//! Benchmark (measures; not a test): `sqlready audit cloudsql://bench-project
//! --format json` against a local Cloud SQL Admin API server that serves
//! 1,000 instances with 20 ms of latency on every response. Reports wall time
//! and the requests made by kind: discovery must read list pages only (no
//! per-instance `get`), and the per-instance extras run with bounded
//! concurrency. Target: at most 3 s.
//!
//! cargo bench --bench cloudsql_discovery  (or ./scripts/bench-cloudsql.sh)
//! Environment: BENCH_INSTANCES (1000), BENCH_LATENCY_MS (20), BENCH_RUNS (3).

#[path = "../tests/support/cloudsql_server.rs"]
mod cloudsql_server;

use cloudsql_server::{Server, TOKEN, bench_routes};
use std::process::Command;
use std::time::{Duration, Instant};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs bench targets too: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "cloudsql_discovery: a benchmark; run it with `cargo bench --bench cloudsql_discovery`"
        );
        return;
    }
    let instances = env_number("BENCH_INSTANCES", 1000) as usize;
    let latency = Duration::from_millis(env_number("BENCH_LATENCY_MS", 20));
    let runs = env_number("BENCH_RUNS", 3).max(1);
    let project = "bench-project";
    let server = Server::start(bench_routes(project, instances, 500), latency);
    let home = std::env::temp_dir().join("sqlready-bench-home");
    let _ = std::fs::create_dir_all(&home);
    println!(
        "cloudsql discovery: {instances} instances, {} ms latency per response, {runs} run(s)",
        latency.as_millis()
    );
    let mut best = Duration::MAX;
    for run in 1..=runs {
        let before = server.log().len();
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_sqlready"))
            .args([
                "audit",
                &format!("cloudsql://{project}"),
                "--format",
                "json",
                "--fail-on",
                "never",
            ])
            .env("SQLREADY_CLOUDSQL_ENDPOINT", &server.url)
            .env("SQLREADY_GOOGLE_OAUTH_ENDPOINT", &server.url)
            .env("SQLREADY_GOOGLE_APIS_ENDPOINT", &server.url)
            .env("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN)
            .env("HOME", &home)
            .env("GCE_METADATA_HOST", "127.0.0.1:9")
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env("RUST_LOG", "sqlready=info")
            .output()
            .expect("run sqlready");
        let wall = started.elapsed();
        best = best.min(wall);
        assert!(
            output.status.success(),
            "exit {:?}: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("JSON report");
        let targets = report["targets"].as_array().map_or(0, Vec::len);
        assert_eq!(targets, instances, "every instance is a target");
        let log: Vec<String> = server.log().into_iter().skip(before).collect();
        let count = |f: &dyn Fn(&str) -> bool| log.iter().filter(|l| f(l)).count();
        let list = count(&|l| l.contains(&format!("/projects/{project}/instances?")));
        let backup_runs = count(&|l| l.contains("/backupRuns"));
        let recovery = count(&|l| l.contains("/getLatestRecoveryTime"));
        // Once per project (issue 12): operations.list, alert policies, billing info, project number.
        let project_reads = count(&|l| {
            l.contains("/operations?")
                || l.contains("/alertPolicies")
                || l.contains("/billingInfo")
                || l.contains("/budgets")
                || l.contains(&format!("/v3/projects/{project}?"))
        });
        let gets = log.len() - list - backup_runs - recovery - project_reads;
        println!(
            "run {run}: wall {:.2} s, {} requests: {list} list page(s), {gets} instances.get, {backup_runs} backupRuns.list, {recovery} getLatestRecoveryTime, {project_reads} once-per-project read(s); {targets} targets, {} bytes of JSON",
            wall.as_secs_f64(),
            log.len(),
            output.stdout.len()
        );
        assert_eq!(gets, 0, "discovery must not get instances one by one");
        assert!(
            project_reads <= 4,
            "project-level reads are made once per project, not per instance"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        if let Some(line) = stderr.lines().find(|l| l.contains("instance(s) listed")) {
            println!(
                "  source: {}",
                line.split("instance(s)").nth(1).map_or(line, str::trim)
            );
        }
    }
    println!(
        "best wall time {:.2} s (target: at most 3 s)",
        best.as_secs_f64()
    );
    // The same audit judged from saved facts: what the report costs without the API.
    let facts = std::env::temp_dir().join("sqlready-bench-cloudsql-facts.json");
    let saved = Command::new(env!("CARGO_BIN_EXE_sqlready"))
        .args([
            "audit",
            &format!("cloudsql://{project}"),
            "--format",
            "json",
        ])
        .args(["--fail-on", "never", "--save-facts"])
        .arg(&facts)
        .env("SQLREADY_CLOUDSQL_ENDPOINT", &server.url)
        .env("SQLREADY_GOOGLE_OAUTH_ENDPOINT", &server.url)
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN)
        .env("HOME", &home)
        .env("GCE_METADATA_HOST", "127.0.0.1:9")
        .output()
        .expect("run sqlready");
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let started = Instant::now();
    let offline = Command::new(env!("CARGO_BIN_EXE_sqlready"))
        .args(["audit", "--facts"])
        .arg(&facts)
        .args(["--format", "json", "--fail-on", "never"])
        .output()
        .expect("run sqlready");
    assert!(
        offline.status.success(),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    println!(
        "the same {instances} targets judged from saved facts (no API, {}): {:.2} s",
        facts.display(),
        started.elapsed().as_secs_f64()
    );
}
