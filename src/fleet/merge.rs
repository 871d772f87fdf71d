//! `sqlready merge`: the staging pass again, over every shard's targets.
//!
//! A shard sees only its slice of the fleet, so it leaves a production
//! target without a counterpart in its slice `unknown` ([`super::staging`]).
//! The merged report holds every target, with the tags, role, engine and
//! version its shard read: the pass runs again over all of them (with
//! `[environments]` of the merge's sqlready.toml), the `staging` checks are
//! judged again on those facts, and the item, score and coverage recomputed —
//! the verdicts one unsharded run would have given. Only what the pass
//! needs is rebuilt: the facts file's `staging.environment` of a re-judged
//! run is not in a report, so a team's word must be in
//! `[environments.counterparts]` to count in a merge.

use super::environments::Environments;
use crate::checks::Catalog;
use crate::checks::model::Item;
use crate::checks::thresholds::ThresholdSet;
use crate::facts::snapshot::{Collected, TargetFacts, TargetFailure};
use crate::facts::{Fact, Facts};
use crate::report::{Report, TargetReport, item_statuses, score};
use crate::target::{Kind, Role};
use serde_json::{Value as Json, json};

/// The source of the facts rebuilt from a report.
const SOURCE: &str = "report";

/// Re-judges the `staging` item of every target of a merged report.
pub fn rejudge(report: &mut Report, catalog: &Catalog, settings: &Environments) {
    // Each target is read and judged on its own: on every core.
    use rayon::prelude::*;
    let mut collected: Vec<Collected> = report.targets.par_iter().map(stub).collect();
    super::staging(&mut collected, settings, None);
    let thresholds = ThresholdSet::default();
    report
        .targets
        .par_iter_mut()
        .zip(collected.par_iter())
        .for_each(|(target, outcome)| rejudge_one(target, outcome, catalog, &thresholds));
    report.summary.score = score::overall(&report.targets);
    report.recount();
}

/// Replaces one target's `staging` findings with the ones its re-built facts
/// give, keeping their waivers, and recomputes its items and score.
fn rejudge_one(
    target: &mut TargetReport,
    outcome: &Collected,
    catalog: &Catalog,
    thresholds: &ThresholdSet,
) {
    let Ok(facts) = outcome else { return };
    let judged = crate::report::judge_item(
        catalog,
        facts,
        thresholds.for_target(&facts.id),
        Item::Staging,
    );
    let mut changed = false;
    for finding in target
        .findings
        .iter_mut()
        .filter(|f| f.item == Item::Staging)
    {
        let Some(fresh) = judged.iter().find(|n| n.check == finding.check) else {
            continue;
        };
        let waiver = finding.waiver.take();
        *finding = fresh.clone();
        finding.waiver = waiver;
        changed = true;
    }
    if changed {
        target.items = item_statuses(&target.findings);
        target.score = score::target(&target.findings);
    }
}

/// What the staging pass reads of one target, from its report.
fn stub(target: &TargetReport) -> Collected {
    let kind = parse::<Kind>(&target.kind).unwrap_or(Kind::Postgres);
    if let Some(error) = &target.error {
        return Err(TargetFailure {
            id: target.id.clone(),
            kind,
            error: error.clone(),
        });
    }
    let mut facts = Facts::default();
    // The major version a check of the target showed, else from the version
    // the report names (as the pass itself falls back to).
    let engine = target.engine.clone().unwrap_or_default();
    let version = target.version.clone().unwrap_or_default();
    let shown = target
        .findings
        .iter()
        .find_map(|f| f.evidence.get("version.major").and_then(Json::as_str))
        .map(|major| (major.to_string(), "the shard report's evidence"));
    if let Some((major, origin)) = shown.or_else(|| {
        crate::eol::major_of(&engine, &version).map(|m| (m, "the shard report's version"))
    }) {
        facts.insert("version.major".into(), Fact::known(SOURCE, origin, major));
    }
    let role = target
        .role
        .as_deref()
        .and_then(parse::<Role>)
        .unwrap_or(Role::Primary);
    Ok(TargetFacts {
        resource: target.resource.clone(),
        facts,
        tags: target.tags.clone(),
        ..TargetFacts::bare(&target.id, kind, role, &engine, &version)
    })
}

/// A kind or role from its JSON name (`rds`, `replica`).
fn parse<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(json!(name)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::Shard;

    fn target(id: &str, version: &str, role: Role, env: &str) -> Collected {
        Ok(TargetFacts {
            tags: [("env".to_string(), env.to_string())].into(),
            ..TargetFacts::bare(id, Kind::Rds, role, "postgres", version)
        })
    }

    /// check, status, detail.
    type Judged = (String, String, String);

    fn staging_of(report: &Report) -> Vec<(String, String, Vec<Judged>)> {
        report
            .targets
            .iter()
            .map(|t| {
                (
                    t.id.clone(),
                    format!(
                        "{:?} {:?}",
                        t.items.0.iter().find(|(item, _)| *item == Item::Staging),
                        t.score
                    ),
                    t.findings
                        .iter()
                        .filter(|f| f.item == Item::Staging)
                        .map(|f| (f.check.clone(), format!("{:?}", f.status), f.detail.clone()))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn shards_rejudged_together_equal_the_unsharded_run() {
        let catalog = Catalog::load(None).unwrap();
        let settings = Environments::default();
        let fleet = vec![
            target(
                "rds://eu-west-1/db/orders-prod",
                "16.3",
                Role::Primary,
                "prod",
            ),
            target(
                "rds://eu-west-1/db/orders-staging",
                "14.9",
                Role::Primary,
                "staging",
            ),
            target(
                "rds://eu-west-1/db/orders-prod-ro",
                "16.3",
                Role::Replica,
                "prod",
            ),
            target(
                "rds://eu-west-1/db/search-prod",
                "16.3",
                Role::Primary,
                "prod",
            ),
            Err(TargetFailure {
                id: "rds://eu-west-1/db/x".into(),
                kind: Kind::Rds,
                error: "throttled".into(),
            }),
        ];
        let mut whole = fleet.clone();
        super::super::staging(&mut whole, &settings, None);
        let expected = crate::report::build(
            &catalog,
            &whole,
            &ThresholdSet::default(),
            chrono::DateTime::UNIX_EPOCH,
            chrono::DateTime::UNIX_EPOCH,
        );
        // Each target alone in its shard: nothing is seen, nothing fails.
        let mut shard = fleet;
        super::super::staging(&mut shard, &settings, Some(Shard { index: 0, count: 5 }));
        let mut merged = crate::report::build(
            &catalog,
            &shard,
            &ThresholdSet::default(),
            chrono::DateTime::UNIX_EPOCH,
            chrono::DateTime::UNIX_EPOCH,
        );
        assert_ne!(staging_of(&merged), staging_of(&expected));
        rejudge(&mut merged, &catalog, &settings);
        assert_eq!(staging_of(&merged), staging_of(&expected));
        assert_eq!(merged.summary.score, expected.summary.score);
        assert_eq!(merged.summary.fail, expected.summary.fail);
    }
}
