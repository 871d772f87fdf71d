#![allow(dead_code)]
//! The functions each fuzz target feeds, shared with `tests/fuzz_corpus.rs`
//! (which replays the stored corpus on stable, so CI covers it without nightly).
//! Each must never panic, whatever the bytes.

use std::path::Path;

/// The custom-query guard, both grammars; a refusal must point inside the text.
pub fn guard(data: &[u8]) {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let allowed = sqlready::checks::query::Allowed::default();
    for engine in ["postgres", "mysql"] {
        if let Err(refusal) = sqlready::checks::query::validate(engine, sql, &allowed) {
            assert!(refusal.offset <= sql.len(), "offset past the end");
            let _ = sqlready::checks::query::line_column(sql, refusal.offset);
        }
    }
}

/// The target-URI parser and the redaction applied to anything echoed.
pub fn target_uri(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = sqlready::target::parse(text);
    let _ = sqlready::target::redact_uri(text);
}

/// The sqlready.toml reader.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = sqlready::config::Config::parse(Path::new("fuzz.toml"), text);
}

/// The facts-snapshot reader (`--facts FILE`).
pub fn snapshot(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = sqlready::facts::snapshot::Snapshot::parse(text, "fuzz.json");
}
