//! Which environment a target belongs to (production, staging, development)
//! and which application it serves, from `[environments]` in sqlready.toml:
//! an explicit entry for the target, else a tag / label (`env=prod`), else a
//! name pattern. Pure: reads a target's id, kind and tags only.

use crate::facts::snapshot::TargetFacts;
use crate::report::waivers::glob_match;
use crate::target::Kind;
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// An environment a target can be classified into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Env {
    Production,
    Staging,
    Development,
}

impl Env {
    pub const ALL: [Env; 3] = [Env::Production, Env::Staging, Env::Development];

    pub fn as_str(self) -> &'static str {
        match self {
            Env::Production => "production",
            Env::Staging => "staging",
            Env::Development => "development",
        }
    }

    fn parse(text: &str) -> Option<Env> {
        Env::ALL
            .into_iter()
            .find(|env| env.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// `[environments]`, validated: how targets are classified and grouped.
#[derive(Debug, Clone)]
pub struct Environments {
    /// Tag / label keys naming the environment, tried in order (case-insensitive).
    pub tag_keys: Vec<String>,
    /// Tag values meaning each environment, lower-cased: production, staging, development.
    pub values: [Vec<String>; 3],
    /// Name patterns per environment, matched against the target id.
    pub names: [Vec<Regex>; 3],
    /// Tag / label keys naming the application, tried in order.
    pub app_keys: Vec<String>,
    /// `[environments.targets]`: target id pattern (`*`, `?`) → environment.
    pub targets: Vec<(String, Env)>,
    /// `[environments.counterparts]`: target id pattern → where the team says
    /// its staging counterpart is (outside what the run sees).
    pub counterparts: Vec<(String, String)>,
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

impl Default for Environments {
    fn default() -> Self {
        Environments {
            tag_keys: words(&["env", "environment", "stage"]),
            values: [
                words(&["prod", "production", "prd", "live"]),
                words(&["staging", "stage", "stg", "preprod", "pre-prod", "uat"]),
                words(&["dev", "development", "test", "testing", "qa", "sandbox"]),
            ],
            names: [Vec::new(), Vec::new(), Vec::new()],
            app_keys: words(&["app", "application", "service"]),
            targets: Vec::new(),
            counterparts: Vec::new(),
        }
    }
}

/// `[environments]` as written in the file.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawEnvironments {
    tag_keys: Option<Vec<String>>,
    production_values: Option<Vec<String>>,
    staging_values: Option<Vec<String>>,
    development_values: Option<Vec<String>>,
    #[serde(default)]
    production_names: Vec<Spanned<String>>,
    #[serde(default)]
    staging_names: Vec<Spanned<String>>,
    #[serde(default)]
    development_names: Vec<Spanned<String>>,
    app_keys: Option<Vec<String>>,
    #[serde(default)]
    targets: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    counterparts: BTreeMap<String, Spanned<String>>,
}

impl Environments {
    /// Validates `[environments]`; every problem goes to `problem(offset, message)`
    /// (a bad regular expression names its key and index). Keys not written keep
    /// their defaults.
    pub fn from_raw(
        raw: Option<&RawEnvironments>,
        mut problem: impl FnMut(usize, String),
    ) -> Environments {
        let mut settings = Environments::default();
        let Some(raw) = raw else {
            return settings;
        };
        let lower = |list: &Vec<String>| -> Vec<String> {
            list.iter()
                .map(|w| w.trim().to_lowercase())
                .filter(|w| !w.is_empty())
                .collect()
        };
        if let Some(keys) = &raw.tag_keys {
            settings.tag_keys = lower(keys);
        }
        if let Some(keys) = &raw.app_keys {
            settings.app_keys = lower(keys);
        }
        for (slot, given) in [
            &raw.production_values,
            &raw.staging_values,
            &raw.development_values,
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(values) = given {
                settings.values[slot] = lower(values);
            }
        }
        let patterns = [
            ("production_names", &raw.production_names),
            ("staging_names", &raw.staging_names),
            ("development_names", &raw.development_names),
        ];
        for (slot, (key, list)) in patterns.into_iter().enumerate() {
            for (index, pattern) in list.iter().enumerate() {
                match Regex::new(pattern.get_ref()) {
                    Ok(regex) => settings.names[slot].push(regex),
                    Err(err) => problem(
                        pattern.span().start,
                        format!(
                            "environments.{key}[{index}] '{}' is not a valid regular expression: {}; fix or remove it (syntax: https://docs.rs/regex/latest/regex/#syntax)",
                            pattern.get_ref(),
                            first_line(&err.to_string()),
                        ),
                    ),
                }
            }
        }
        for (pattern, env) in &raw.targets {
            match Env::parse(env.get_ref()) {
                Some(parsed) => settings.targets.push((pattern.clone(), parsed)),
                None => problem(
                    env.span().start,
                    format!(
                        "environments.targets.\"{pattern}\" is '{}': use production, staging or development",
                        env.get_ref()
                    ),
                ),
            }
        }
        for (pattern, note) in &raw.counterparts {
            if note.get_ref().trim().is_empty() {
                problem(
                    note.span().start,
                    format!(
                        "environments.counterparts.\"{pattern}\" is empty: say where the staging counterpart is (\"orders-staging in account 2222…, refreshed nightly\")"
                    ),
                );
            } else {
                settings
                    .counterparts
                    .push((pattern.clone(), note.get_ref().trim().to_string()));
            }
        }
        settings
    }

    /// Every word an environment value is made of, for stripping names.
    fn environment_words(&self) -> Vec<Vec<String>> {
        let mut all: Vec<Vec<String>> = self
            .values
            .iter()
            .flatten()
            .map(|value| tokens(value))
            .filter(|t| !t.is_empty())
            .collect();
        // Longer sequences first: "pre-prod" before "prod".
        all.sort_by_key(|t| std::cmp::Reverse(t.len()));
        all.dedup();
        all
    }

    /// The team's word on `id`'s staging counterpart, when an entry names it.
    pub fn recorded_counterpart(&self, id: &str) -> Option<(&str, &str)> {
        self.counterparts
            .iter()
            .find(|(pattern, _)| glob_match(pattern, id))
            .map(|(pattern, note)| (pattern.as_str(), note.as_str()))
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// How a target was classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    /// The environment and what said so ("tag env=prod").
    Classified { env: Env, by: String },
    /// Why not, and what would classify it.
    Unclassified { reason: String, resolve: String },
}

/// Classifies one target: `[environments.targets]`, else the first tag key
/// present, else the name patterns (one environment's patterns must match, not two).
pub fn classify(
    settings: &Environments,
    id: &str,
    kind: Kind,
    tags: &BTreeMap<String, String>,
) -> Classification {
    if let Some((pattern, env)) = settings
        .targets
        .iter()
        .find(|(pattern, _)| glob_match(pattern, id))
    {
        return Classification::Classified {
            env: *env,
            by: format!("sqlready.toml [environments.targets] \"{pattern}\""),
        };
    }
    for key in &settings.tag_keys {
        let Some((tag, value)) = tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) else {
            continue;
        };
        let word = value.trim().to_lowercase();
        let found = Env::ALL
            .into_iter()
            .zip(&settings.values)
            .find(|(_, values)| values.contains(&word));
        return match found {
            Some((env, _)) => Classification::Classified {
                env,
                by: format!("{} {tag}={value}", tag_word(kind)),
            },
            None => Classification::Unclassified {
                reason: format!(
                    "{} {tag}={value} is none of the production, staging or development values of [environments]",
                    tag_word(kind)
                ),
                resolve: format!(
                    "add '{word}' to production_values, staging_values or development_values in sqlready.toml [environments]"
                ),
            },
        };
    }
    let matched: Vec<(Env, &Regex)> = Env::ALL
        .into_iter()
        .zip(&settings.names)
        .filter_map(|(env, regexes)| regexes.iter().find(|r| r.is_match(id)).map(|r| (env, r)))
        .collect();
    match matched.as_slice() {
        [(env, regex)] => Classification::Classified {
            env: *env,
            by: format!(
                "the name matches {}_names '{}' of [environments]",
                env.as_str(),
                regex.as_str()
            ),
        },
        [] => Classification::Unclassified {
            reason: not_classified(settings, kind),
            resolve: how_to_classify(settings, kind),
        },
        several => Classification::Unclassified {
            reason: format!(
                "the name matches the patterns of several environments ({})",
                several
                    .iter()
                    .map(|(env, r)| format!("{}_names '{}'", env.as_str(), r.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            resolve: format!(
                "name it in sqlready.toml [environments.targets] (\"{id}\" = \"production\"), or narrow the patterns"
            ),
        },
    }
}

fn tag_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Cloudsql => "label",
        _ => "tag",
    }
}

fn not_classified(settings: &Environments, kind: Kind) -> String {
    let keys = settings.tag_keys.join(", ");
    match kind {
        Kind::Rds | Kind::Cloudsql => format!(
            "not classified: no {} {keys} names its environment and no name pattern of [environments] matches it",
            tag_word(kind)
        ),
        _ => "not classified: a database audited from inside or planned in Terraform has no tags sqlready reads, and no name pattern of [environments] matches it".to_string(),
    }
}

fn how_to_classify(settings: &Environments, kind: Kind) -> String {
    let key = settings.tag_keys.first().map_or("env", String::as_str);
    match kind {
        Kind::Rds => format!(
            "tag the database {key}=prod (or staging, dev): aws rds add-tags-to-resource --resource-name ARN --tags Key={key},Value=prod; or classify it in sqlready.toml [environments]"
        ),
        Kind::Cloudsql => format!(
            "label the instance {key}=prod (or staging, dev): gcloud sql instances patch INSTANCE --update-labels={key}=prod; or classify it in sqlready.toml [environments]"
        ),
        _ => "classify it in sqlready.toml: [environments.targets] \"ID\" = \"production\", or production_names / staging_names patterns".to_string(),
    }
}

/// The application a target serves and what said so: the first `app_keys`
/// tag, else the target's name with environment words stripped
/// (`orders-prod` and `orders-staging` are both `orders`).
pub fn application(
    settings: &Environments,
    id: &str,
    kind: Kind,
    tags: &BTreeMap<String, String>,
) -> (String, String) {
    for key in &settings.app_keys {
        if let Some((tag, value)) = tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
            && !value.trim().is_empty()
        {
            return (
                value.trim().to_lowercase(),
                format!("{} {tag}={value}", tag_word(kind)),
            );
        }
    }
    let name = name_of(id);
    let stripped = strip_environment(&name, &settings.environment_words());
    let by = format!("the name '{name}' without its environment words");
    (stripped, by)
}

/// The part of a target id that names the database: the instance or cluster
/// id (RDS), the instance (Cloud SQL), the resource address (Terraform); for
/// a connection URL the host's first DNS label (the whole address when it is
/// an IP address) and the database, so `app` on two unrelated hosts is not
/// one application (`orders-db-prod.internal:5432/app` → `orders-db-prod/app`).
pub fn name_of(id: &str) -> String {
    if let Some((_, address)) = id.split_once('#') {
        return address.to_string();
    }
    let without_query = id.split('?').next().unwrap_or(id);
    if let Some((scheme, rest)) = without_query.split_once("://")
        && matches!(scheme, "postgres" | "postgresql" | "mysql" | "mariadb")
    {
        let rest = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
        let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
        };
        let host = if host.parse::<std::net::IpAddr>().is_ok() {
            host
        } else {
            host.split('.').next().unwrap_or(host)
        };
        let database = database.trim_end_matches('/');
        return if database.is_empty() || database == "*" {
            host.to_string()
        } else {
            format!("{host}/{database}")
        };
    }
    let trimmed = without_query.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

/// Lower-case alphanumeric words.
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// `name`'s words without the environment words (`orders-prod-eu` → `orders-eu`).
fn strip_environment(name: &str, environment_words: &[Vec<String>]) -> String {
    let mut words = tokens(name);
    for sequence in environment_words {
        let mut at = 0;
        while at + sequence.len() <= words.len() {
            if words[at..at + sequence.len()] == sequence[..] {
                words.drain(at..at + sequence.len());
            } else {
                at += 1;
            }
        }
    }
    words.join("-")
}

/// Classification of a full target.
pub fn classify_target(settings: &Environments, target: &TargetFacts) -> Classification {
    classify(settings, &target.id, target.kind, &target.tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn env_of(
        settings: &Environments,
        id: &str,
        kind: Kind,
        pairs: &[(&str, &str)],
    ) -> Option<Env> {
        match classify(settings, id, kind, &tags(pairs)) {
            Classification::Classified { env, .. } => Some(env),
            Classification::Unclassified { .. } => None,
        }
    }

    #[test]
    fn tags_classify_case_insensitively_in_key_order() {
        let s = Environments::default();
        let id = "rds://eu-west-1/db/orders";
        assert_eq!(
            env_of(&s, id, Kind::Rds, &[("Env", "PROD")]),
            Some(Env::Production)
        );
        assert_eq!(
            env_of(&s, id, Kind::Rds, &[("environment", "Staging")]),
            Some(Env::Staging)
        );
        assert_eq!(
            env_of(&s, id, Kind::Rds, &[("stage", "uat")]),
            Some(Env::Staging)
        );
        assert_eq!(
            env_of(&s, id, Kind::Rds, &[("env", "qa")]),
            Some(Env::Development)
        );
        // `env` is tried before `stage`.
        assert_eq!(
            env_of(&s, id, Kind::Rds, &[("stage", "dev"), ("env", "prd")]),
            Some(Env::Production)
        );
        // The `team` tag says nothing about the environment.
        assert_eq!(env_of(&s, id, Kind::Rds, &[("team", "prod")]), None);
    }

    #[test]
    fn an_unknown_value_or_no_tag_is_unclassified_and_says_what_to_add() {
        let s = Environments::default();
        let Classification::Unclassified { reason, resolve } = classify(
            &s,
            "rds://eu-west-1/db/orders",
            Kind::Rds,
            &tags(&[("env", "perf")]),
        ) else {
            panic!("perf is no known value")
        };
        assert!(reason.contains("tag env=perf"), "{reason}");
        assert!(resolve.contains("'perf'"), "{resolve}");
        let Classification::Unclassified { reason, resolve } =
            classify(&s, "cloudsql://acme/orders", Kind::Cloudsql, &tags(&[]))
        else {
            panic!("no label")
        };
        assert!(
            reason.contains("no label env, environment, stage"),
            "{reason}"
        );
        assert!(resolve.contains("--update-labels=env=prod"), "{resolve}");
        // Names are not guessed by default.
        assert_eq!(
            env_of(&s, "rds://eu-west-1/db/orders-prod", Kind::Rds, &[]),
            None
        );
    }

    #[test]
    fn explicit_targets_beat_tags_and_patterns_classify_names() {
        let mut s = Environments::default();
        s.targets
            .push(("postgres://db-1:5432/*".into(), Env::Production));
        s.names[1].push(Regex::new("-(staging|stg)$").unwrap());
        s.names[0].push(Regex::new("-prod$").unwrap());
        assert_eq!(
            env_of(&s, "postgres://db-1:5432/app", Kind::Postgres, &[]),
            Some(Env::Production)
        );
        assert_eq!(
            env_of(&s, "rds://eu-west-1/db/orders-stg", Kind::Rds, &[]),
            Some(Env::Staging)
        );
        // A tag beats a pattern.
        assert_eq!(
            env_of(
                &s,
                "rds://eu-west-1/db/orders-stg",
                Kind::Rds,
                &[("env", "prod")]
            ),
            Some(Env::Production)
        );
        // Patterns of two environments: not guessed.
        s.names[2].push(Regex::new("orders").unwrap());
        assert_eq!(
            env_of(&s, "rds://eu-west-1/db/orders-prod", Kind::Rds, &[]),
            None
        );
    }

    #[test]
    fn the_application_is_the_app_tag_else_the_name_without_environment_words() {
        let s = Environments::default();
        let app = |id: &str, pairs: &[(&str, &str)]| application(&s, id, Kind::Rds, &tags(pairs)).0;
        assert_eq!(app("rds://eu-west-1/db/orders-prod", &[]), "orders");
        assert_eq!(app("rds://eu-west-1/db/orders-staging", &[]), "orders");
        assert_eq!(app("rds://eu-west-1/db/stg_orders_eu", &[]), "orders-eu");
        assert_eq!(app("rds://eu-west-1/db/orders-pre-prod", &[]), "orders");
        assert_eq!(app("cloudsql://acme-prod/orders", &[]), "orders");
        assert_eq!(
            app("rds://eu-west-1/db/x-prod", &[("Service", "Billing")]),
            "billing"
        );
        assert_eq!(
            name_of("terraform://infra#aws_db_instance.orders_prod"),
            "aws_db_instance.orders_prod"
        );
        assert_eq!(
            name_of("postgres://orders-db-prod.internal:5432/app?sslmode=require"),
            "orders-db-prod/app"
        );
        assert_eq!(name_of("mysql://10.0.0.5:3306/"), "10.0.0.5");
        assert_eq!(name_of("postgres://[::1]:5432/app"), "::1/app");
        // Two hosts' `app` databases are two applications; prod and staging hosts one.
        let app = |id: &str| application(&s, id, Kind::Postgres, &tags(&[])).0;
        assert_ne!(
            app("postgres://db-0001.fleet.internal:5432/app"),
            app("postgres://db-0002.fleet.internal:5432/app")
        );
        assert_eq!(
            app("postgres://orders-db-prod.internal:5432/app"),
            app("postgres://orders-db-staging.internal:5432/app")
        );
    }

    #[test]
    fn a_bad_regex_and_a_bad_environment_are_located_problems() {
        let raw: RawEnvironments = toml::from_str(
            "production_names = ['-prod$', '(unclosed']\n[targets]\n\"postgres://*\" = \"prodution\"\n",
        )
        .unwrap();
        let mut problems = Vec::new();
        let settings = Environments::from_raw(Some(&raw), |offset, message| {
            problems.push((offset, message))
        });
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].1.starts_with(
                "environments.production_names[1] '(unclosed' is not a valid regular expression"
            ),
            "{problems:?}"
        );
        assert!(
            problems[1]
                .1
                .contains("use production, staging or development"),
            "{problems:?}"
        );
        assert_eq!(settings.names[0].len(), 1);
    }
}
