//! The JSON report, exactly as DESIGN.md specifies it.

use crate::report::{Report, TargetReport};
use std::io::{self, Write};

pub fn render(report: &Report) -> String {
    render_sized(report, 0)
}

/// [`render`] into a buffer with room for `capacity` bytes up front: a
/// fleet's report is hundreds of megabytes, and a growing buffer would be
/// copied again at every doubling (`sqlready merge` passes its inputs' size).
pub fn render_sized(report: &Report, capacity: usize) -> String {
    let mut bytes = Vec::with_capacity(capacity);
    if let Err(err) = write(report, &mut bytes) {
        return format!("{{\"error\": \"cannot serialize the report: {err}\"}}\n");
    }
    // serde_json writes UTF-8 only.
    String::from_utf8(bytes)
        .unwrap_or_else(|err| format!("{{\"error\": \"cannot serialize the report: {err}\"}}\n"))
}

/// Writes the report byte for byte as [`render`] gives it, streamed to `out`.
/// The targets — nearly all of a fleet's report — are serialized in chunks
/// on every core and written in order as they are ready; the rest of the
/// report is serialized once with no targets and the targets spliced in where
/// its `"targets": []` stands.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let frame = serde_json::to_string_pretty(&frame(report))?;
    // Top-level keys are indented by two spaces, and no JSON string holds a
    // raw newline: this is the report's own `targets` key.
    const EMPTY: &str = "\n  \"targets\": []";
    let at = frame
        .find(EMPTY)
        .ok_or_else(|| io::Error::other("the report has no targets field"))?;
    let (head, tail) = frame.split_at(at + EMPTY.len() - 1);
    out.write_all(head.as_bytes())?;
    if !report.targets.is_empty() {
        write_targets(&report.targets, out)?;
        out.write_all(b"\n  ")?;
    }
    out.write_all(tail.as_bytes())?;
    out.write_all(b"\n")
}

/// The report with no targets. Every field is named, so a new field of
/// [`Report`] fails to compile here instead of going missing.
fn frame(report: &Report) -> Report {
    let Report {
        schema_version,
        tool,
        started_at,
        finished_at,
        summary,
        targets: _,
        waivers,
        drift,
        shard,
        merged,
    } = report;
    Report {
        schema_version: *schema_version,
        tool: tool.clone(),
        started_at: *started_at,
        finished_at: *finished_at,
        summary: summary.clone(),
        targets: Vec::new(),
        waivers: waivers.clone(),
        drift: drift.clone(),
        shard: shard.clone(),
        merged: merged.clone(),
    }
}

/// Targets per chunk a worker serializes at once.
const CHUNK: usize = 64;

/// The elements of the `targets` array, each on its own lines at the
/// array's depth, separated by commas, without the brackets. Workers
/// serialize chunks while this thread writes the ones ready, in order; a
/// rayon version serializing a window, then writing it, lost that overlap
/// (the 8×1,000 merge took 3.8–4.1 s instead of 3.2 s).
fn write_targets(targets: &[TargetReport], out: &mut dyn Write) -> io::Result<()> {
    let chunks: Vec<&[TargetReport]> = targets.chunks(CHUNK).collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, chunks.len());
    if workers == 1 {
        for (index, chunk) in chunks.iter().enumerate() {
            out.write_all(&serialize_chunk(chunk, index == 0)?)?;
        }
        return Ok(());
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Bounded, so a slow writer holds a few chunks in memory, not the report.
    let (sender, receiver) = std::sync::mpsc::sync_channel(workers * 2);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let (next, chunks) = (&next, &chunks);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(chunk) = chunks.get(index) else {
                        return;
                    };
                    let text = serialize_chunk(chunk, index == 0);
                    let failed = text.is_err();
                    // The writer stopped (an error): nothing more to do.
                    if sender.send((index, text)).is_err() || failed {
                        return;
                    }
                }
            });
        }
        drop(sender);
        // In order: a chunk that is ready early waits for the ones before it.
        let mut waiting = std::collections::BTreeMap::new();
        let mut written = 0;
        // Owned by the loop: if writing fails, it is dropped, and the workers'
        // next send fails instead of waiting for room forever.
        for (index, text) in receiver {
            waiting.insert(index, text);
            while let Some(text) = waiting.remove(&written) {
                out.write_all(&text?)?;
                written += 1;
            }
        }
        if written == chunks.len() {
            Ok(())
        } else {
            Err(io::Error::other("a target could not be serialized"))
        }
    })
}

/// One chunk of targets as they appear in the array: each preceded by a
/// newline (and a comma unless it is the array's first) and indented by the
/// four spaces of its depth.
fn serialize_chunk(chunk: &[TargetReport], first_chunk: bool) -> io::Result<Vec<u8>> {
    let mut text = Vec::new();
    let mut one = Vec::new();
    for (i, target) in chunk.iter().enumerate() {
        one.clear();
        serde_json::to_writer_pretty(&mut one, target)?;
        if i == 0 {
            // Targets of one fleet are much alike: room for the chunk at once.
            text.reserve((one.len() + one.len() / 8) * chunk.len());
        }
        if !(first_chunk && i == 0) {
            text.push(b',');
        }
        text.extend_from_slice(b"\n    ");
        let mut from = 0;
        for newline in memchr::memchr_iter(b'\n', &one) {
            text.extend_from_slice(&one[from..=newline]);
            text.extend_from_slice(b"    ");
            from = newline + 1;
        }
        text.extend_from_slice(&one[from..]);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report of `n` targets, read from the shape `audit` writes.
    fn report(n: usize) -> Report {
        let target = |i: usize| {
            serde_json::json!({
                "id": format!("rds://eu-west-1/db/t-{i:04}"),
                "kind": "rds",
                "engine": "postgres",
                "version": "16.4",
                "score": 80,
                "coverage": {"judged": 2, "applicable": 3},
                "items": {"backups": "pass", "multi_zone": "fail"},
                "findings": [{
                    "check": "backups.enabled", "item": "backups", "status": "pass",
                    "severity": "high", "title": "Backups \"on\"",
                    "detail": "line one\nline two", "evidence": {"a": [1, {"b": null}], "e": {}},
                    "controls": [], "resolve": []
                }],
                "tags": {"env": "prod"}
            })
        };
        serde_json::from_value(serde_json::json!({
            "schema_version": 1,
            "tool": {"name": "sqlready", "version": "0"},
            "started_at": "2026-12-06T00:00:00Z",
            "finished_at": "2026-12-06T00:00:01Z",
            "summary": {"targets": n, "score": 80, "coverage": {"judged": 0, "applicable": 0},
                        "pass": 0, "warn": 0, "fail": 0, "unknown": 0, "error": 0},
            "targets": (0..n).map(target).collect::<Vec<_>>(),
            "shard": {"index": 0, "count": 2, "fleet_size": 9, "hash": "sha256-be64-mod-v1"}
        }))
        .unwrap()
    }

    /// Streamed in parallel chunks, the report is byte for byte serde_json's
    /// own pretty text — with no target, one, a chunk's worth and several chunks.
    #[test]
    fn the_streamed_report_is_the_pretty_report_byte_for_byte() {
        for n in [0, 1, 2, CHUNK, CHUNK + 1, 3 * CHUNK + 7] {
            let report = report(n);
            let mut expected = serde_json::to_string_pretty(&report).unwrap();
            expected.push('\n');
            let mut streamed = Vec::new();
            write(&report, &mut streamed).unwrap();
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                expected,
                "{n} targets"
            );
            assert_eq!(render(&report), expected, "{n} targets");
        }
    }

    /// A writer that fails is an error, not a panic or a hang.
    #[test]
    fn a_failing_writer_is_an_error() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let err = write(&report(3 * CHUNK), &mut Full).unwrap_err();
        assert_eq!(err.to_string(), "disk full");
    }
}
