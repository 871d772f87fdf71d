//! The JSON report, exactly as DESIGN.md specifies it.

use crate::report::Report;
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

/// Writes the report byte for byte as [`render`] gives it, streamed to `out`
/// with the targets — nearly all of a fleet's report — serialized on every
/// core ([`super::splice`]).
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let frame = serde_json::to_string_pretty(&frame(report))?;
    // Top-level keys are indented by two spaces.
    super::splice::write_with_array(
        &frame,
        "\n  \"targets\": []",
        &report.targets,
        CHUNK,
        |target, elements| elements.push(target),
        out,
    )
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
