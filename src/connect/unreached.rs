//! A discovered instance whose in-database session could not be opened: its
//! API facts stand, and every fact only the database can tell becomes
//! `unknown` with the connection error and what resolves it, so the report
//! says why those items were not judged instead of a generic "connect to the
//! database". Pure.

use crate::facts::merge::SourceRun;
use crate::facts::snapshot::TargetFacts;
use crate::facts::{Fact, schema};
use crate::target::Kind;

/// What to do about an unreached instance, in words.
pub const RESOLVE: &str = "run sqlready where the instance's address is reachable (inside its VPC, or through the Cloud SQL Auth Proxy / a tunnel with --resolve HOST:PORT:ADDR), and give the connect user its grants and credentials (docs/connect.md)";

/// The API's target, with the unreached session recorded and the in-database
/// facts unknown for `reason`. `source_id` is the session's address, when known.
pub fn target(api: TargetFacts, source_id: &str, reason: &str) -> TargetFacts {
    let mut facts = api.facts;
    let why = format!("not read from inside: the --connect session failed: {reason}");
    let engine_kind = if matches!(api.engine.as_str(), "mysql" | "mariadb") {
        Kind::Mysql
    } else {
        Kind::Postgres
    };
    // Attributed to the engine's source, so the in-database checks apply (and
    // are `unknown` with this reason) rather than being `n/a` for an API-only target.
    for spec in schema::FACTS.iter().filter(|s| s.hint == schema::IN_DB) {
        let known = facts.get(spec.path).is_some_and(|f| f.value().is_some());
        if !known {
            facts.insert(
                spec.path.to_string(),
                Fact::unknown(engine_kind.as_str(), why.clone(), Some(RESOLVE.to_string())),
            );
        }
    }
    let sources = vec![
        SourceRun {
            kind: api.kind,
            id: api.id.clone(),
            principal: api.principal.clone(),
            error: None,
            unreached: None,
        },
        SourceRun {
            kind: engine_kind,
            id: if source_id.is_empty() {
                format!("{} (no address)", engine_kind.as_str())
            } else {
                source_id.to_string()
            },
            principal: None,
            error: None,
            unreached: Some(reason.to_string()),
        },
    ];
    TargetFacts {
        facts,
        sources,
        ..api
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FactSink;
    use crate::target::Role;

    #[test]
    fn api_facts_stand_and_in_database_facts_say_why_they_are_unknown() {
        let mut sink = FactSink::new("rds");
        sink.known("ha.enabled", "MultiAZ", true);
        let api = TargetFacts {
            tags: Default::default(),
            id: "rds://r/db/x".into(),
            resource: None,
            kind: Kind::Rds,
            role: Role::Primary,
            engine: "postgres".into(),
            version: "16.4".into(),
            collected_at: chrono::DateTime::UNIX_EPOCH,
            facts: sink.finish(),
            evidence: Vec::new(),
            principal: None,
            sources: Vec::new(),
            location: None,
            warnings: Vec::new(),
        };
        let out = target(api, "postgres://x:5432", "connection refused");
        assert_eq!(
            out.facts["ha.enabled"].value(),
            Some(&serde_json::json!(true))
        );
        let in_db = schema::FACTS
            .iter()
            .find(|s| s.hint == schema::IN_DB)
            .expect("the schema has in-database facts");
        let fact = &out.facts[in_db.path];
        assert!(
            matches!(&fact.state, crate::facts::FactState::Unknown { unknown, resolve: Some(_) } if unknown.contains("connection refused")),
            "{fact:?}"
        );
        assert_eq!(
            out.sources[1].unreached.as_deref(),
            Some("connection refused")
        );
        assert!(out.sources.iter().all(|s| s.error.is_none()));
    }
}
