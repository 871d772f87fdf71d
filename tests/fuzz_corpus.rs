//! Replays every stored fuzz input (fuzz/corpus/TARGET/*) through the same
//! function its cargo-fuzz target calls, on stable: CI covers what fuzzing
//! found without nightly. A panic in any of them fails the test and names the
//! file. Run the fuzzers themselves as fuzz/README.md says.

#[path = "../fuzz/entries.rs"]
mod entries;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no corpus", dir.display());
    for file in files {
        let data = std::fs::read(&file).unwrap();
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            panic!("fuzz target {target} panicked on {}", file.display());
        }
    }
}

#[test]
fn guard_corpus() {
    replay("guard", entries::guard);
}

#[test]
fn target_uri_corpus() {
    replay("target_uri", entries::target_uri);
}

#[test]
fn config_corpus() {
    replay("config", entries::config);
}

#[test]
fn snapshot_corpus() {
    replay("snapshot", entries::snapshot);
}
