//! The staging pass: after every target of a run is collected, each
//! production target is matched with the run's non-production targets of the
//! same application, and the facts the `staging` checks judge are written:
//! `environment.name`, `staging.app`, `staging.fleet_targets`,
//! `staging.recorded`, `staging.recorded_by`, `staging.counterparts`, `staging.same_version_counterparts`.
//!
//! Only the targets of this run are seen: live targets are compared with live
//! ones and Terraform resources with Terraform resources. A run that saw no
//! non-production target at all cannot tell (a scoped one-off audit), and a
//! target of the same application that is not classified, or could not be
//! audited, may be the counterpart: both leave `staging.counterparts` unknown
//! rather than failing production. Pure: runs over the collected facts.

use super::environments::{Classification, Env, Environments, application, classify};
use crate::facts::Fact;
use crate::facts::snapshot::{Collected, TargetFacts};
use crate::target::{Kind, Role};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// The `source` of the facts this pass writes.
pub const SOURCE: &str = "fleet";

/// How many target ids an origin lists before it only counts.
const LISTED: usize = 5;

/// What the pass needs to know of one outcome of the run.
struct Seen {
    id: String,
    planned: bool,
    class: Classification,
    app: (String, String),
    engine: String,
    major: Option<String>,
    replica: bool,
    /// Collected (false: the target could not be audited).
    audited: bool,
}

impl Seen {
    fn env(&self) -> Option<Env> {
        match &self.class {
            Classification::Classified { env, .. } => Some(*env),
            Classification::Unclassified { .. } => None,
        }
    }

    fn describe(&self) -> String {
        let env = self.env().map_or("not classified", Env::as_str);
        match &self.major {
            Some(major) => format!("{} ({env}, {} {major})", self.id, self.engine),
            None => format!(
                "{} ({env}, {}, major version unknown)",
                self.id, self.engine
            ),
        }
    }
}

fn seen(settings: &Environments, outcome: &Collected) -> Seen {
    match outcome {
        Ok(target) => Seen {
            id: target.id.clone(),
            planned: target.kind == Kind::Terraform,
            class: classify(settings, &target.id, target.kind, &target.tags),
            app: application(settings, &target.id, target.kind, &target.tags),
            engine: target.engine.clone(),
            major: major(target),
            replica: target.role == Role::Replica,
            audited: true,
        },
        Err(failure) => Seen {
            id: failure.id.clone(),
            planned: failure.kind == Kind::Terraform,
            class: classify(settings, &failure.id, failure.kind, &BTreeMap::new()),
            app: application(settings, &failure.id, failure.kind, &BTreeMap::new()),
            engine: String::new(),
            major: None,
            replica: false,
            audited: false,
        },
    }
}

/// The major version: the `version.major` fact, else from the reported version.
fn major(target: &TargetFacts) -> Option<String> {
    target
        .facts
        .get("version.major")
        .and_then(Fact::value)
        .and_then(Json::as_str)
        .map(str::to_string)
        .or_else(|| crate::eol::major_of(&target.engine, &target.version))
}

/// Writes the staging facts on every collected target (replacing any this
/// pass wrote before, as in a re-judged facts file). `shard` is the slice a
/// `--shard I/N` run audits: it sees only its part of the fleet, so a
/// counterpart it finds counts, but one it does not find may be in another
/// shard (`staging.counterparts` / `staging.same_version_counterparts` are
/// then unknown, not failures, until `sqlready merge` judges them across
/// every shard: [`super::merge`]; docs/fleet.md).
pub fn staging(
    collected: &mut [Collected],
    settings: &Environments,
    shard: Option<crate::shard::Shard>,
) {
    // One shard of one sees the whole fleet.
    let shard = shard.filter(|s| s.count > 1);
    let all: Vec<Seen> = collected.iter().map(|o| seen(settings, o)).collect();
    // (planned, app) → indexes, for matching without comparing every pair.
    let mut by_app: BTreeMap<(bool, &str), Vec<usize>> = BTreeMap::new();
    for (index, s) in all.iter().enumerate() {
        by_app
            .entry((s.planned, s.app.0.as_str()))
            .or_default()
            .push(index);
    }
    let census = [Census::of(&all, false), Census::of(&all, true)];
    for (index, outcome) in collected.iter_mut().enumerate() {
        let Ok(target) = outcome else { continue };
        let me = &all[index];
        let census = &census[usize::from(me.planned)];
        let same_app: Vec<&Seen> = by_app[&(me.planned, me.app.0.as_str())]
            .iter()
            .filter(|&&other| other != index)
            .map(|&other| &all[other])
            .collect();
        target.facts.retain(|_, fact| fact.source != SOURCE);
        let facts = judge(me, &same_app, census, settings, target, shard);
        target.facts.extend(facts);
    }
}

/// How many targets of one set (live or planned) the run saw, by environment.
struct Census {
    total: usize,
    counts: [usize; 3],
    unclassified: usize,
    failed: usize,
    non_production: Vec<String>,
    planned: bool,
}

impl Census {
    fn of(all: &[Seen], planned: bool) -> Census {
        let mut census = Census {
            total: 0,
            counts: [0; 3],
            unclassified: 0,
            failed: 0,
            non_production: Vec::new(),
            planned,
        };
        for s in all.iter().filter(|s| s.planned == planned) {
            census.total += 1;
            if !s.audited {
                census.failed += 1;
            }
            match s.env() {
                Some(env) => {
                    census.counts[env as usize] += 1;
                    if env != Env::Production && !s.replica {
                        census.non_production.push(s.id.clone());
                    }
                }
                None => census.unclassified += 1,
            }
        }
        census
    }

    /// "the 7 targets of this run (3 production, 2 staging, …)".
    fn words(&self) -> String {
        let set = if self.planned {
            "Terraform resources"
        } else {
            "live targets"
        };
        let mut parts: Vec<String> = Env::ALL
            .into_iter()
            .zip(self.counts)
            .map(|(env, n)| format!("{n} {}", env.as_str()))
            .collect();
        if self.unclassified > 0 {
            parts.push(format!("{} not classified", self.unclassified));
        }
        if self.failed > 0 {
            parts.push(format!("{} not audited", self.failed));
        }
        format!(
            "the {} {set} of this run ({})",
            self.total,
            parts.join(", ")
        )
    }
}

fn listed(ids: &[String]) -> String {
    let mut text = ids
        .iter()
        .take(LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > LISTED {
        text.push_str(&format!(" and {} more", ids.len() - LISTED));
    }
    text
}

/// The facts of one target.
fn judge(
    me: &Seen,
    same_app: &[&Seen],
    census: &Census,
    settings: &Environments,
    target: &TargetFacts,
    shard: Option<crate::shard::Shard>,
) -> Vec<(String, Fact)> {
    let mut facts = Vec::new();
    let mut put = |path: &str, fact: Fact| facts.push((path.to_string(), fact));
    match &me.class {
        Classification::Classified { env, by } => put(
            "environment.name",
            Fact::known(SOURCE, by.clone(), env.as_str()),
        ),
        Classification::Unclassified { reason, resolve } => put(
            "environment.name",
            Fact::unknown(SOURCE, reason.clone(), Some(resolve.clone())),
        ),
    }
    put(
        "staging.app",
        Fact::known(SOURCE, me.app.1.clone(), me.app.0.clone()),
    );
    put(
        "staging.fleet_targets",
        Fact::known(SOURCE, census.words(), census.total as u64),
    );
    let (recorded, recorded_by) = recorded(settings, target);
    put("staging.recorded", recorded);
    put("staging.recorded_by", recorded_by);
    if me.env() != Some(Env::Production) {
        return facts;
    }
    let counterparts: Vec<&Seen> = same_app
        .iter()
        .copied()
        .filter(|s| !s.replica && matches!(s.env(), Some(Env::Staging | Env::Development)))
        .collect();
    let undecided: Vec<String> = same_app
        .iter()
        .filter(|s| s.env().is_none() || !s.audited)
        .map(|s| s.id.clone())
        .collect();
    let app = &me.app.0;
    if counterparts.is_empty() {
        let fact = if let Some(shard) = shard {
            Fact::unknown(
                SOURCE,
                format!(
                    "no non-production target of application '{app}' among {}, but this run is shard {shard} and sees only its slice of the fleet: the counterpart may be in another shard (sqlready merge judges it again across every shard's targets)",
                    census.words()
                ),
                Some("merge the shard reports (sqlready merge), or audit production and its staging in one run; a counterpart outside the fleet: record it in sqlready.toml [environments.counterparts]".into()),
            )
        } else if !undecided.is_empty() {
            Fact::unknown(
                SOURCE,
                format!(
                    "no classified non-production target of application '{app}' among {}, but {} of the same application {} not classified or could not be audited: it may be the counterpart",
                    census.words(),
                    listed(&undecided),
                    if undecided.len() == 1 { "is" } else { "are" },
                ),
                Some("classify every target (a tag or label env=staging, or sqlready.toml [environments]) and audit them in the same run".into()),
            )
        } else if census.non_production.is_empty() {
            Fact::unknown(
                SOURCE,
                format!(
                    "none of {} is classified non-production: a run that audits one environment cannot see a staging counterpart",
                    census.words()
                ),
                Some("audit production and its staging in the same run (add the staging account, region or project as a target), or record the counterpart in sqlready.toml [environments.counterparts]".into()),
            )
        } else {
            Fact::known(
                SOURCE,
                format!(
                    "no non-production target of application '{app}' ({}) among {}; non-production targets seen: {}",
                    me.app.1,
                    census.words(),
                    listed(&census.non_production)
                ),
                json!([]),
            )
        };
        put("staging.counterparts", fact);
        return facts;
    }
    let described: Vec<String> = counterparts.iter().map(|s| s.describe()).collect();
    put(
        "staging.counterparts",
        Fact::known(
            SOURCE,
            format!(
                "the non-production targets of application '{app}' ({}) among {}",
                me.app.1,
                census.words()
            ),
            json!(described),
        ),
    );
    let same: Vec<String> = counterparts
        .iter()
        .filter(|s| s.engine == me.engine && s.major.is_some() && s.major == me.major)
        .map(|s| s.describe())
        .collect();
    let unsure: Vec<String> = counterparts
        .iter()
        .filter(|s| s.engine == me.engine && (s.major.is_none() || me.major.is_none()))
        .map(|s| s.id.clone())
        .collect();
    let this = match &me.major {
        Some(major) => format!("{} {major}", me.engine),
        None => format!("{}, major version unknown", me.engine),
    };
    let fact = if let (true, Some(shard)) = (same.is_empty(), shard) {
        Fact::unknown(
            SOURCE,
            format!(
                "no counterpart of this shard runs {this} ({}), but this run is shard {shard}: one on the same version may be in another shard",
                listed(
                    &counterparts
                        .iter()
                        .map(|s| s.describe())
                        .collect::<Vec<_>>()
                )
            ),
            Some(
                "merge the shard reports (sqlready merge), or audit production and its staging in one run"
                    .into(),
            ),
        )
    } else if same.is_empty() && !unsure.is_empty() {
        Fact::unknown(
            SOURCE,
            format!(
                "this target runs {this}; the major version of {} is not known",
                listed(&unsure)
            ),
            Some("audit the targets with access to their engine version (the cloud API or a connection)".into()),
        )
    } else {
        Fact::known(
            SOURCE,
            format!("the counterparts that run {this}, as this target does"),
            json!(same),
        )
    };
    put("staging.same_version_counterparts", fact);
    facts
}

/// The team's word on this target: `[environments.counterparts]`, else a
/// `staging.environment` fact a facts file recorded; known `null` when none.
/// Also where it was recorded (`staging.recorded_by`), for the finding.
fn recorded(settings: &Environments, target: &TargetFacts) -> (Fact, Fact) {
    if let Some((pattern, note)) = settings.recorded_counterpart(&target.id) {
        let by = format!("sqlready.toml [environments.counterparts] \"{pattern}\": {note}");
        return (
            Fact::known(SOURCE, by.clone(), true),
            Fact::known(SOURCE, "sqlready.toml [environments.counterparts]", by),
        );
    }
    match target.facts.get("staging.environment") {
        Some(fact) if fact.value().is_some_and(Json::is_boolean) => {
            let by = format!(
                "staging.environment as recorded ({}{})",
                fact.source,
                if fact.origin.is_empty() {
                    String::new()
                } else {
                    format!(": {}", fact.origin)
                }
            );
            (
                Fact::known(
                    SOURCE,
                    by.clone(),
                    fact.value().cloned().unwrap_or(Json::Null),
                ),
                Fact::known(SOURCE, "a staging.environment fact of the facts file", by),
            )
        }
        _ => {
            let none = "nothing recorded: no [environments.counterparts] entry names this target";
            (
                Fact::known(SOURCE, none, Json::Null),
                Fact::known(SOURCE, none, Json::Null),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::snapshot::TargetFailure;

    fn target(id: &str, engine: &str, version: &str, pairs: &[(&str, &str)]) -> Collected {
        Ok(TargetFacts {
            tags: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            id: id.into(),
            resource: None,
            kind: Kind::Rds,
            role: Role::Primary,
            engine: engine.into(),
            version: version.into(),
            collected_at: chrono::DateTime::UNIX_EPOCH,
            facts: Default::default(),
            evidence: Vec::new(),
            principal: None,
            sources: Vec::new(),
            location: None,
            warnings: Vec::new(),
        })
    }

    fn fact<'a>(collected: &'a [Collected], id: &str, path: &str) -> &'a Fact {
        let target = collected
            .iter()
            .flatten()
            .find(|t| t.id == id)
            .unwrap_or_else(|| panic!("no {id}"));
        target
            .facts
            .get(path)
            .unwrap_or_else(|| panic!("{id} has no {path}: {:?}", target.facts.keys()))
    }

    fn value(collected: &[Collected], id: &str, path: &str) -> Json {
        fact(collected, id, path)
            .value()
            .cloned()
            .unwrap_or_else(|| panic!("{id} {path} is unknown: {:?}", fact(collected, id, path)))
    }

    const R: &str = "rds://eu-west-1/db/";

    fn fleet() -> Vec<Collected> {
        vec![
            target(
                &format!("{R}orders-prod"),
                "postgres",
                "16.3",
                &[("env", "prod")],
            ),
            target(
                &format!("{R}orders-staging"),
                "postgres",
                "16.1",
                &[("env", "staging")],
            ),
            target(
                &format!("{R}billing-prod"),
                "postgres",
                "16.3",
                &[("env", "production")],
            ),
            target(
                &format!("{R}billing-stg"),
                "postgres",
                "14.9",
                &[("env", "stg")],
            ),
            target(
                &format!("{R}search-prod"),
                "mysql",
                "8.0.36",
                &[("env", "prod")],
            ),
            target(&format!("{R}misc"), "mysql", "8.0.36", &[]),
        ]
    }

    #[test]
    fn production_is_matched_with_its_applications_non_production_targets() {
        let mut collected = fleet();
        staging(&mut collected, &Environments::default(), None);
        let orders = format!("{R}orders-prod");
        assert_eq!(
            value(&collected, &orders, "environment.name"),
            json!("production")
        );
        assert_eq!(value(&collected, &orders, "staging.app"), json!("orders"));
        assert_eq!(
            value(&collected, &orders, "staging.fleet_targets"),
            json!(6)
        );
        assert_eq!(
            value(&collected, &orders, "staging.counterparts"),
            json!([format!("{R}orders-staging (staging, postgres 16)")])
        );
        assert_eq!(
            value(&collected, &orders, "staging.same_version_counterparts"),
            value(&collected, &orders, "staging.counterparts")
        );
        let origin = &fact(&collected, &orders, "staging.fleet_targets").origin;
        assert!(
            origin.contains("the 6 live targets of this run (3 production, 2 staging, 0 development, 1 not classified)"),
            "{origin}"
        );
        // Another major: a counterpart, but none on the same version.
        let billing = format!("{R}billing-prod");
        assert_eq!(
            value(&collected, &billing, "staging.counterparts"),
            json!([format!("{R}billing-stg (staging, postgres 14)")])
        );
        assert_eq!(
            value(&collected, &billing, "staging.same_version_counterparts"),
            json!([])
        );
        // None: known empty, naming what was seen.
        let search = format!("{R}search-prod");
        assert_eq!(
            value(&collected, &search, "staging.counterparts"),
            json!([])
        );
        let origin = &fact(&collected, &search, "staging.counterparts").origin;
        assert!(origin.contains("orders-staging, "), "{origin}");
        // Non-production targets get no counterpart facts; unclassified ones say what to add.
        assert!(
            !collected[1]
                .as_ref()
                .unwrap()
                .facts
                .contains_key("staging.counterparts")
        );
        assert!(
            fact(&collected, &format!("{R}misc"), "environment.name")
                .value()
                .is_none()
        );
        assert_eq!(
            value(&collected, &format!("{R}misc"), "staging.recorded"),
            Json::Null
        );
    }

    #[test]
    fn a_run_of_one_environment_or_an_unclassified_sibling_cannot_tell() {
        let mut alone = vec![target(
            &format!("{R}orders-prod"),
            "postgres",
            "16.3",
            &[("env", "prod")],
        )];
        staging(&mut alone, &Environments::default(), None);
        let counterparts = fact(&alone, &format!("{R}orders-prod"), "staging.counterparts");
        assert!(counterparts.value().is_none());
        assert!(format!("{counterparts:?}").contains("none of the 1 live targets of this run"));

        let mut collected = fleet();
        collected.push(target(
            &format!("{R}search-staging"),
            "mysql",
            "8.0.36",
            &[],
        ));
        collected.push(Err(TargetFailure {
            id: format!("{R}orders-dev"),
            kind: Kind::Rds,
            error: "throttled".into(),
        }));
        staging(&mut collected, &Environments::default(), None);
        let search = fact(
            &collected,
            &format!("{R}search-prod"),
            "staging.counterparts",
        );
        assert!(search.value().is_none(), "{search:?}");
        assert!(format!("{search:?}").contains("search-staging"));
        // orders has a classified counterpart: the failed orders-dev does not matter.
        assert!(
            fact(
                &collected,
                &format!("{R}orders-prod"),
                "staging.counterparts"
            )
            .value()
            .is_some()
        );
    }

    #[test]
    fn the_teams_word_is_recorded_and_the_pass_replaces_its_own_facts() {
        let mut settings = Environments::default();
        settings.counterparts.push((
            "*orders-prod".into(),
            "orders-staging in account 2222".into(),
        ));
        let mut collected = fleet();
        staging(&mut collected, &settings, None);
        let orders = format!("{R}orders-prod");
        assert_eq!(value(&collected, &orders, "staging.recorded"), json!(true));
        assert!(
            fact(&collected, &orders, "staging.recorded")
                .origin
                .contains("account 2222")
        );
        let by = value(&collected, &orders, "staging.recorded_by");
        assert!(
            by.as_str()
                .unwrap()
                .ends_with("\"*orders-prod\": orders-staging in account 2222"),
            "{by}"
        );
        // Re-run without the entry (a re-judged facts file): nothing stale stays.
        staging(&mut collected, &Environments::default(), None);
        assert_eq!(value(&collected, &orders, "staging.recorded"), Json::Null);
        assert_eq!(
            value(&collected, &orders, "staging.recorded_by"),
            Json::Null
        );
    }

    #[test]
    fn a_shard_counts_the_counterparts_it_sees_but_cannot_rule_any_out() {
        let shard = crate::shard::Shard { index: 1, count: 4 };
        let mut collected = fleet();
        staging(&mut collected, &Environments::default(), Some(shard));
        // Seen in the slice: as in an unsharded run.
        let orders = format!("{R}orders-prod");
        assert_eq!(
            value(&collected, &orders, "staging.same_version_counterparts"),
            json!([format!("{R}orders-staging (staging, postgres 16)")])
        );
        // Not seen: may be in another shard.
        let search = fact(
            &collected,
            &format!("{R}search-prod"),
            "staging.counterparts",
        );
        assert!(search.value().is_none(), "{search:?}");
        assert!(format!("{search:?}").contains("shard 1/4"), "{search:?}");
        // Another major seen; one on the same major may be elsewhere.
        let billing = fact(
            &collected,
            &format!("{R}billing-prod"),
            "staging.same_version_counterparts",
        );
        assert!(billing.value().is_none(), "{billing:?}");
        assert!(format!("{billing:?}").contains("billing-stg (staging, postgres 14)"));
        // One shard of one is the whole fleet.
        let mut whole = fleet();
        let one = crate::shard::Shard { index: 0, count: 1 };
        staging(&mut whole, &Environments::default(), Some(one));
        assert_eq!(
            value(&whole, &format!("{R}search-prod"), "staging.counterparts"),
            json!([])
        );
    }
}
