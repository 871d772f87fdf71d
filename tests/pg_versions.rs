//! The PostgreSQL version matrix: `sqlready audit postgres://…` through the real
//! binary against a real server of every major still in use — 13, 14, 16, 17, 18
//! from `.pg-versions/` (scripts/pg-versions.sh, pinned in tests/pg-versions.lock)
//! and 15 (the lab's default binaries). Each audit must run without an SQL error,
//! and the facts a major has must be known on it.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::cli::{only_target, sqlready_in};
use support::pglab::{LAB_PASSWORD, PgServer, scratch_in};

/// The majors fetched by scripts/pg-versions.sh (15 comes from the lab's bindir).
const FETCHED_MAJORS: [u32; 5] = [13, 14, 16, 17, 18];

/// `.pg-versions/`, filled by scripts/pg-versions.sh (run here too, so
/// `cargo test --test pg_versions` works on its own; it is idempotent and flock'd).
fn fetched_bindir(major: u32) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bindir = repo
        .join(".pg-versions")
        .join(major.to_string())
        .join("bin");
    if !repo
        .join(".pg-versions")
        .join(major.to_string())
        .join(".complete")
        .exists()
    {
        let status = Command::new(repo.join("scripts/pg-versions.sh"))
            .status()
            .expect("could not run scripts/pg-versions.sh");
        assert!(status.success(), "scripts/pg-versions.sh failed");
    }
    bindir
}

/// The lab's default bindir (PostgreSQL 15).
fn default_bindir() -> PathBuf {
    std::env::var_os("SQLREADY_PG_BINDIR")
        .unwrap_or_else(|| "/usr/lib/postgresql/15/bin".into())
        .into()
}

/// One server per major, started in parallel, with what the version-specific
/// facts read: a physical slot (`wal_status`, 13+), WAL archiving that works
/// (through `archive_library = basic_archive` on 15+, `archive_command` before),
/// `log_connections` (the list form on 18) and TLS.
fn servers() -> Vec<(u32, PgServer)> {
    let mut bindirs: Vec<(u32, PathBuf)> = FETCHED_MAJORS
        .iter()
        .map(|&major| (major, fetched_bindir(major)))
        .collect();
    bindirs.push((15, default_bindir()));
    let handles: Vec<_> = bindirs
        .into_iter()
        .map(|(major, bindir)| thread::spawn(move || (major, start_major(major, &bindir))))
        .collect();
    handles
        .into_iter()
        .map(|handle| match handle.join() {
            Ok(server) => server,
            Err(panic) => panic!(
                "a server of the matrix failed to start: {}",
                support::lab::panic_message(&*panic)
            ),
        })
        .collect()
}

/// The `log_connections` value each major is configured with: PostgreSQL 18 takes
/// a list of aspects, earlier majors a boolean.
fn log_connections(major: u32) -> &'static str {
    if major >= 18 {
        "receipt,authentication,authorization"
    } else {
        "on"
    }
}

fn start_major(major: u32, bindir: &Path) -> PgServer {
    let name: &'static str = Box::leak(format!("pg{major}").into_boxed_str());
    let server = scratch_in(
        name,
        bindir,
        &[
            ("ssl", "on"),
            ("wal_level", "replica"),
            ("archive_mode", "on"),
            ("log_connections", log_connections(major)),
            ("max_slot_wal_keep_size", "1GB"),
            ("log_min_duration_statement", "500"),
        ],
    );
    let archive = server.owned_subdir("archive");
    let archive = archive.display();
    // Appended to postgresql.conf (ALTER SYSTEM refuses basic_archive's setting
    // before the archiver has loaded the module); the reload below applies it.
    let archiving = if major >= 15 {
        vec![
            ("archive_library", "basic_archive".to_string()),
            ("basic_archive.archive_directory", archive.to_string()),
        ]
    } else {
        vec![(
            "archive_command",
            format!("test ! -f {archive}/%f && cp %p {archive}/%f"),
        )]
    };
    server.configure(&archiving);
    // A reload a second after pg_hba.conf was written, so network.hba_loaded is known.
    server.reload_after(Instant::now());
    server.psql(
        "postgres",
        "SELECT pg_create_physical_replication_slot('matrix_slot', true);
         CREATE TABLE matrix_wal AS SELECT g FROM generate_series(1, 10000) g;
         DROP TABLE matrix_wal;
         SELECT pg_switch_wal();",
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.psql(
        "postgres",
        "SELECT archived_count > 0 AND failed_count = 0 FROM pg_stat_archiver",
    ) != "t"
    {
        assert!(
            Instant::now() < deadline,
            "{name}: no WAL segment archived within 30 s\n{}",
            server.log_tail()
        );
        thread::sleep(Duration::from_millis(100));
    }
    server
}

/// The audit's report, its saved facts and its stderr for one server, as `user`.
fn audit(server: &PgServer, user: &str) -> (Value, Value, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = server.url(user, "app");
    let run = sqlready_in(
        dir.path(),
        &[
            "audit",
            &url,
            "--format",
            "json",
            "--save-facts",
            "facts.json",
        ],
        &[],
    );
    assert!(
        run.code == 0 || run.code == 1,
        "{}: exit {}: {}\n{}",
        server.name,
        run.code,
        run.stderr,
        run.stdout
    );
    assert!(!run.stdout.contains(LAB_PASSWORD) && !run.stderr.contains(LAB_PASSWORD));
    let facts = std::fs::read_to_string(dir.path().join("facts.json")).expect("facts.json");
    let facts: Value = serde_json::from_str(&facts).expect("facts.json is JSON");
    (run.json(), facts["targets"][0]["facts"].clone(), run.stderr)
}

/// A fact's value, panicking with the fact (and its unknown reason) when it is not known.
fn known<'a>(facts: &'a Value, key: &str, major: u32) -> &'a Value {
    let fact = &facts[key];
    assert!(
        fact.get("value").is_some(),
        "PostgreSQL {major}: {key} is not known: {fact}"
    );
    &fact["value"]
}

#[test]
fn every_major_audits_without_sql_errors_and_knows_its_facts() {
    let servers = servers();
    let majors: Vec<u32> = servers.iter().map(|(major, _)| *major).collect();
    assert_eq!(majors, [13, 14, 16, 17, 18, 15]);
    for (major, server) in &servers {
        let major = *major;
        let (report, facts, stderr) = audit(server, "postgres");
        let target = only_target(&report);
        assert_eq!(
            target["version"].as_str().and_then(|v| v.split('.').next()),
            Some(major.to_string().as_str()),
            "{}: the audit reached another server: {target}",
            server.name
        );

        // No SQL error anywhere: not in a finding, not in a fact's unknown
        // reason, not in a warning of the source.
        for finding in target["findings"].as_array().expect("findings") {
            assert_ne!(
                finding["status"], "error",
                "PostgreSQL {major}: a finding is an error: {finding}"
            );
        }
        for (key, fact) in facts.as_object().expect("facts is an object") {
            if let Some(reason) = fact.get("unknown").and_then(Value::as_str) {
                assert!(
                    !reason.contains("SQLSTATE") && !reason.contains("unavailable"),
                    "PostgreSQL {major}: {key} is unknown because of an SQL error: {reason}"
                );
            }
        }
        assert!(
            !stderr.contains("SQLSTATE") && !stderr.contains("unavailable"),
            "PostgreSQL {major}: the source warned of a failed query:\n{stderr}"
        );

        // Facts every major has, read from the privileged document and the catalog.
        assert_eq!(known(&facts, "network.hba_loaded", major), true);
        assert!(
            !known(&facts, "network.hba_rules", major)
                .as_array()
                .expect("hba rules are rows")
                .is_empty(),
            "PostgreSQL {major}: pg_hba_file_rules read nothing"
        );
        assert_eq!(known(&facts, "postgres.settings.ssl", major), true);
        assert!(known(&facts, "network.tls_connections", major).is_i64());
        // Only loopback `host` lines, which the source does not count as exposure.
        assert_eq!(known(&facts, "network.tls_required", major), true);

        // The slot, with wal_status (PostgreSQL 13+).
        let slots = known(&facts, "replication.slots", major);
        let slot = slots
            .as_array()
            .and_then(|slots| slots.iter().find(|s| s["name"] == "matrix_slot"))
            .unwrap_or_else(|| panic!("PostgreSQL {major}: matrix_slot not in {slots}"));
        assert_eq!(slot["wal_status"], "reserved", "PostgreSQL {major}: {slot}");
        assert!(slot["safe_wal_size"].is_i64(), "PostgreSQL {major}: {slot}");

        // Archiving works, through archive_library on 15+.
        assert_eq!(known(&facts, "pitr.wal_archiving", major), true);
        assert_eq!(known(&facts, "archiver.failing", major), false);
        assert!(known(&facts, "archiver.archived_count", major).as_i64() > Some(0));
        let library = &facts["postgres.settings.archive_library"];
        if major >= 15 {
            assert_eq!(library["value"], "basic_archive", "PostgreSQL {major}");
            assert_eq!(library["origin"], "pg_settings.archive_library");
        } else {
            assert_eq!(library["value"], "", "PostgreSQL {major}");
            assert_eq!(
                library["origin"],
                "pg_settings.archive_library: not in PostgreSQL before 15"
            );
        }

        // log_connections: a list of aspects on 18 that names authorization.
        assert_eq!(
            known(&facts, "postgres.settings.log_connections", major),
            true,
            "PostgreSQL {major}: log_connections = '{}'",
            log_connections(major)
        );

        // Checkpoint and I/O counters, from the view each major keeps them in.
        for (path, view) in [
            (
                "postgres.checkpoints.timed",
                if major >= 17 {
                    "pg_stat_checkpointer"
                } else {
                    "pg_stat_bgwriter"
                },
            ),
            (
                "postgres.checkpoints.requested",
                if major >= 17 {
                    "pg_stat_checkpointer"
                } else {
                    "pg_stat_bgwriter"
                },
            ),
            (
                "postgres.io.backend_fsyncs",
                if major >= 16 {
                    "pg_stat_io"
                } else {
                    "pg_stat_bgwriter"
                },
            ),
        ] {
            assert!(
                known(&facts, path, major).is_i64(),
                "PostgreSQL {major}: {path}"
            );
            let origin = facts[path]["origin"].as_str().unwrap_or_default();
            assert!(
                origin.starts_with(view),
                "PostgreSQL {major}: {path} from {origin}"
            );
        }

        // Where it listens: the lab's TCP port, socket directory and loopback addresses.
        assert_eq!(
            known(&facts, "postgres.settings.port", major),
            i64::from(server.port)
        );
        assert!(known(&facts, "postgres.settings.unix_socket_directories", major).is_string());
        assert_eq!(known(&facts, "network.public_ip", major), false);

        // Settings a major does not have are known with their effect, or unknown
        // saying so, never an error.
        let failsafe = &facts["postgres.settings.vacuum_failsafe_age"];
        if major >= 14 {
            assert!(failsafe["value"].is_i64(), "PostgreSQL {major}: {failsafe}");
        } else {
            assert_eq!(
                failsafe["unknown"],
                "vacuum_failsafe_age does not exist on PostgreSQL 13.23"
            );
        }
        assert!(known(&facts, "postgres.settings.compute_query_id", major).is_string());
        assert!(known(&facts, "connections.reserved", major).is_i64());

        // A pg_monitor role (what the README recommends) runs the same queries
        // on every major without an SQL error; what it may not read is unknown
        // with a grant, never an error.
        let (report, facts, stderr) = audit(server, "auditor");
        for finding in only_target(&report)["findings"]
            .as_array()
            .expect("findings")
        {
            assert_ne!(
                finding["status"], "error",
                "PostgreSQL {major} as auditor: a finding is an error: {finding}"
            );
        }
        for (key, fact) in facts.as_object().expect("facts is an object") {
            if let Some(reason) = fact.get("unknown").and_then(Value::as_str) {
                assert!(
                    !reason.contains("SQLSTATE"),
                    "PostgreSQL {major} as auditor: {key} is unknown because of an SQL error: {reason}"
                );
            }
        }
        assert!(
            !stderr.contains("SQLSTATE"),
            "PostgreSQL {major} as auditor: a query failed:\n{stderr}"
        );
        let slots = known(&facts, "replication.slots", major);
        assert!(
            slots
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["wal_status"] == "reserved")),
            "PostgreSQL {major} as auditor: {slots}"
        );
    }
}
