//! Checkpoint and I/O counters, from the view each major keeps them in:
//! checkpoints in `pg_stat_checkpointer` (17+) or `pg_stat_bgwriter`
//! (before 17); fsyncs that client backends had to do themselves (the
//! checkpointer's queue was full) in `pg_stat_io` (16+) or
//! `pg_stat_bgwriter.buffers_backend_fsync` (before 16; removed in 17).
//! Exposed as facts with the view they came from; no check judges them yet
//! (the counters run since the last stats reset, so a ratio says little
//! without the reset time and a second sample).

use crate::facts::{Fact, Facts};
use serde::Deserialize;
use sqlx::PgConnection;

/// The fact paths (src/facts/schema.rs).
pub const TIMED: &str = "postgres.checkpoints.timed";
pub const REQUESTED: &str = "postgres.checkpoints.requested";
pub const BACKEND_FSYNCS: &str = "postgres.io.backend_fsyncs";

/// The counters and the view each was read from.
#[derive(Debug, Deserialize, PartialEq)]
pub struct Counters {
    pub timed: i64,
    pub requested: i64,
    pub checkpoints_from: String,
    pub backend_fsyncs: i64,
    pub fsyncs_from: String,
}

/// The one statement for a server of `version_num` (every view named exists
/// on that major, so the statement never fails on a missing relation).
pub fn query(version_num: i64) -> &'static str {
    if version_num >= 170000 {
        "SELECT json_build_object(
           'timed', c.num_timed, 'requested', c.num_requested,
           'checkpoints_from', 'pg_stat_checkpointer.num_timed / num_requested',
           'backend_fsyncs', (SELECT coalesce(sum(fsyncs), 0)::bigint FROM pg_catalog.pg_stat_io
                              WHERE backend_type = 'client backend'),
           'fsyncs_from', 'pg_stat_io.fsyncs of client backends')::text
         FROM pg_catalog.pg_stat_checkpointer c"
    } else if version_num >= 160000 {
        "SELECT json_build_object(
           'timed', b.checkpoints_timed, 'requested', b.checkpoints_req,
           'checkpoints_from', 'pg_stat_bgwriter.checkpoints_timed / checkpoints_req',
           'backend_fsyncs', (SELECT coalesce(sum(fsyncs), 0)::bigint FROM pg_catalog.pg_stat_io
                              WHERE backend_type = 'client backend'),
           'fsyncs_from', 'pg_stat_io.fsyncs of client backends')::text
         FROM pg_catalog.pg_stat_bgwriter b"
    } else {
        "SELECT json_build_object(
           'timed', b.checkpoints_timed, 'requested', b.checkpoints_req,
           'checkpoints_from', 'pg_stat_bgwriter.checkpoints_timed / checkpoints_req',
           'backend_fsyncs', b.buffers_backend_fsync,
           'fsyncs_from', 'pg_stat_bgwriter.buffers_backend_fsync')::text
         FROM pg_catalog.pg_stat_bgwriter b"
    }
}

/// Reads the counters (these views are readable by every role).
pub async fn read(conn: &mut PgConnection, version_num: i64) -> Result<Counters, String> {
    let text: String = sqlx::query_scalar(query(version_num))
        .fetch_one(conn)
        .await
        .map_err(|err| format!("reading the checkpoint and I/O statistics failed: {err}"))?;
    serde_json::from_str(&text)
        .map_err(|err| format!("the checkpoint and I/O statistics had an unexpected shape: {err}"))
}

/// Records the three facts, known with their view, or unknown with why.
pub fn record(facts: &mut Facts, source: &str, counters: &Result<Counters, String>) {
    match counters {
        Ok(c) => {
            let since = "(since the last statistics reset)";
            for (path, origin, value) in [
                (TIMED, &c.checkpoints_from, c.timed),
                (REQUESTED, &c.checkpoints_from, c.requested),
                (BACKEND_FSYNCS, &c.fsyncs_from, c.backend_fsyncs),
            ] {
                facts.insert(
                    path.to_string(),
                    Fact::known(
                        source,
                        format!("{origin} {since}"),
                        serde_json::json!(value),
                    ),
                );
            }
        }
        Err(reason) => {
            for path in [TIMED, REQUESTED, BACKEND_FSYNCS] {
                facts.insert(
                    path.to_string(),
                    Fact::unknown(source, reason.clone(), None),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_major_reads_the_views_it_has() {
        assert!(query(180000).contains("pg_stat_checkpointer"));
        assert!(query(170000).contains("pg_stat_io"));
        assert!(query(160004).contains("pg_stat_bgwriter") && query(160004).contains("pg_stat_io"));
        assert!(!query(150000).contains("pg_stat_io"));
        assert!(!query(130000).contains("pg_stat_checkpointer"));
    }

    #[test]
    fn the_origin_names_the_view() {
        let mut facts = Facts::default();
        let counters = Counters {
            timed: 3,
            requested: 1,
            checkpoints_from: "pg_stat_checkpointer.num_timed / num_requested".into(),
            backend_fsyncs: 0,
            fsyncs_from: "pg_stat_io.fsyncs of client backends".into(),
        };
        record(&mut facts, "postgres", &Ok(counters));
        let timed = &facts[TIMED];
        assert!(
            timed.origin.starts_with("pg_stat_checkpointer"),
            "{timed:?}"
        );
    }
}
