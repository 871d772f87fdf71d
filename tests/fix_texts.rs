//! Fix texts (issue 18 point 6): every check has a fix for every kind of
//! target it judges, and every command it prints parses as the shell and the
//! client would read it (gcloud's flag-list syntax, engine-matching versions).
//! The real clients are not installable here; the forms below are the ones
//! their references document.

use serde_json::json;
use sqlready::checks::Catalog;
use sqlready::checks::lint::run_example;
use sqlready::checks::model::{Example, ExampleTarget, Status};
use sqlready::target::Kind;

fn catalog() -> Catalog {
    Catalog::load(None).expect("the built-in catalogue loads")
}

/// Every (check, kind, engine) that one of the check's own examples judges
/// (anything but `n/a`) has fix text: a user told `fail` is told what to do.
#[test]
fn every_check_has_fix_text_wherever_it_applies() {
    let catalog = catalog();
    let mut missing = std::collections::BTreeSet::new();
    for compiled in &catalog.checks {
        let check = &compiled.check;
        for example in &check.examples {
            // A verdict a user acts on; `unknown` examples stand for targets
            // that cannot see the setting at all (a cloud check from inside).
            if !matches!(example.expect, Status::Pass | Status::Fail | Status::Warn) {
                continue;
            }
            // The example must still judge as it says (else the target is not representative).
            if run_example(compiled, example).status == Status::NotApplicable {
                continue;
            }
            let kind = example.target.kind.as_str();
            let engine = example.target.engine.as_str();
            if check
                .fix_for(kind, engine)
                .is_none_or(|t| t.trim().is_empty())
            {
                missing.insert(format!("{} on {kind}/{engine}", check.id));
            }
        }
    }
    // A Terraform resource planning a Cloud SQL or RDS instance runs the
    // platform's checks (target.platform): each needs a Terraform fix.
    for compiled in &catalog.checks {
        let check = &compiled.check;
        for platform in ["cloudsql", "rds"] {
            for engine in ["postgres", "mysql"] {
                let example = Example {
                    name: format!("terraform {platform} {engine}"),
                    expect: Status::Unknown,
                    target: ExampleTarget {
                        kind: Kind::Terraform,
                        engine: engine.into(),
                        ..ExampleTarget::default()
                    },
                    facts: [("terraform.platform".to_string(), json!(platform))].into(),
                    unknown: Vec::new(),
                    null: Vec::new(),
                };
                let applies = check
                    .applies
                    .as_deref()
                    .is_some_and(|a| a.contains("platform") || a.contains("terraform"));
                if applies
                    && run_example(compiled, &example).status != Status::NotApplicable
                    && check
                        .fix_for("terraform", engine)
                        .is_none_or(|t| t.trim().is_empty())
                {
                    missing.insert(format!("{} on terraform/{platform}/{engine}", check.id));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "checks with no fix text for a target they judge:\n  {}",
        missing.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

/// A representative target of each kind a check could meet: (kind, engine,
/// the in-database source paired with it, the Terraform platform).
fn representative_targets() -> Vec<(Kind, &'static str, Option<&'static str>, &'static str)> {
    let mut out = vec![
        (Kind::Postgres, "postgres", None, ""),
        (Kind::Mysql, "mysql", None, ""),
        (Kind::Mysql, "mariadb", None, ""),
    ];
    for (kind, engines) in [
        (Kind::Rds, &["postgres", "mysql", "mariadb"][..]),
        (Kind::Cloudsql, &["postgres", "mysql"][..]),
    ] {
        for engine in engines {
            let inside = if *engine == "postgres" {
                "postgres"
            } else {
                "mysql"
            };
            out.push((kind, engine, None, ""));
            out.push((kind, engine, Some(inside), ""));
        }
    }
    for platform in ["cloudsql", "rds", ""] {
        for engine in ["postgres", "mysql"] {
            out.push((Kind::Terraform, engine, None, platform));
        }
    }
    out
}

/// Whether a fact, by where the schema says it comes from, can be read on a
/// target of `kind` (with an in-database source paired or not).
fn readable(path: &str, kind: Kind, inside: bool) -> bool {
    use sqlready::facts::schema;
    let Some(spec) = schema::spec(path).or_else(|| schema::fact_prefix_of(path)) else {
        return false;
    };
    let hint = spec.hint;
    let in_db = hint.starts_with("connect to the database");
    let outside = hint.starts_with("outside the database");
    let cloud = hint.starts_with("a hosting property") || hint.starts_with("base backups");
    match kind {
        Kind::Postgres | Kind::Mysql => in_db,
        Kind::Rds => (inside && in_db) || cloud || hint.starts_with("read from the RDS API"),
        Kind::Cloudsql => (inside && in_db) || cloud || hint.starts_with("the Cloud SQL Admin API"),
        Kind::Terraform => !in_db && !outside,
    }
}

/// The fact paths a check's condition and applies name.
fn referenced_facts(check: &sqlready::checks::model::Check) -> Vec<String> {
    let pattern = regex::Regex::new(r"[a-z_]+(?:\.[a-z_0-9]+)+").unwrap();
    let text = format!(
        "{} {}",
        check.condition,
        check.applies.as_deref().unwrap_or("")
    );
    pattern
        .find_iter(&text)
        .map(|m| m.as_str().to_string())
        .filter(|p| !p.starts_with("target.") && !p.starts_with("thresholds."))
        .collect()
}

/// Issue 18 point 6, derived from `applies` rather than from the examples: for
/// every representative target where a check's `applies` admits it (its
/// verdict is anything but `n/a` with no facts but the source's presence) and
/// one of the facts it reads can come from that target's sources, the check has
/// fix text for that kind and engine. (A check whose facts no source of the
/// target can read is only ever `unknown` there; its unknown says which source
/// would tell, as the facts schema's hint.)
#[test]
fn fix_text_exists_for_every_target_kind_applies_admits() {
    use sqlready::checks::eval::{Subject, evaluate};
    use sqlready::checks::thresholds::Thresholds;
    use sqlready::facts::snapshot::TargetFacts;
    use sqlready::facts::{Fact, Facts};
    use sqlready::target::Role;
    let catalog = catalog();
    let mut missing = std::collections::BTreeSet::new();
    let mut admitted = 0;
    for (kind, engine, inside, platform) in representative_targets() {
        let mut facts = Facts::new();
        if let Some(source) = inside {
            // Any fact from the in-database source marks it present in target.sources.
            facts.insert(
                "access.session_user".to_string(),
                Fact::unknown(source, "not read in this test", None),
            );
        }
        if !platform.is_empty() {
            facts.insert(
                "terraform.platform".to_string(),
                Fact::known("terraform", "test", platform),
            );
        }
        let target = TargetFacts {
            id: "fix-texts://representative".into(),
            resource: None,
            kind,
            role: Role::Primary,
            engine: engine.into(),
            version: String::new(),
            collected_at: chrono::DateTime::UNIX_EPOCH,
            facts,
            evidence: Vec::new(),
            principal: None,
            sources: Vec::new(),
            location: None,
        };
        let subject = Subject::new(&target, &Thresholds::default());
        for compiled in &catalog.checks {
            if evaluate(compiled, &subject).status == Status::NotApplicable {
                continue;
            }
            let check = &compiled.check;
            if !referenced_facts(check)
                .iter()
                .any(|path| readable(path, kind, inside.is_some()))
            {
                continue;
            }
            admitted += 1;
            if check
                .fix_for(kind.as_str(), engine)
                .is_none_or(|t| t.trim().is_empty())
            {
                let paired = inside.map(|s| format!(" + {s}")).unwrap_or_default();
                let platform = if platform.is_empty() {
                    String::new()
                } else {
                    format!(" ({platform})")
                };
                missing.insert(format!(
                    "{} on {}/{engine}{paired}{platform}",
                    check.id,
                    kind.as_str()
                ));
            }
        }
    }
    // The grid must reach checks at all, or it proves nothing.
    assert!(
        admitted > 100,
        "only {admitted} (check, target) pairs admitted"
    );
    assert!(
        missing.is_empty(),
        "checks whose applies admits a target they have no fix text for:\n  {}",
        missing.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

/// Each printed shell command of every fix text: (check, fix key, words).
fn commands() -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for compiled in &catalog().checks {
        let check = &compiled.check;
        for (key, text) in &check.fix {
            // Lines ending in a backslash continue the command.
            let joined = text.replace("\\\n", " ");
            for line in joined.lines() {
                let line = line.trim();
                if !(line.starts_with("gcloud ") || line.starts_with("aws ")) {
                    continue;
                }
                let words = shlex::split(line).unwrap_or_else(|| {
                    panic!(
                        "{} [{key}]: does not parse as a shell command: {line}",
                        check.id
                    )
                });
                // A trailing `# comment` is not part of the command.
                let words: Vec<String> = words
                    .into_iter()
                    .take_while(|w| !w.starts_with('#'))
                    .collect();
                out.push((check.id.clone(), key.clone(), words));
            }
        }
    }
    assert!(!out.is_empty());
    out
}

/// The value of `--database-flags` in gcloud's list syntax: a list split at
/// commas, or at the delimiter D given as a `^D^` prefix. Each element must
/// be NAME=VALUE, so a comma inside a value (pgaudit.log=ddl,role) needs `^:^`.
fn database_flags(value: &str) -> Result<Vec<(String, String)>, String> {
    let (delimiter, list) = match value.strip_prefix('^') {
        Some(rest) => {
            let (delimiter, list) = rest
                .split_once('^')
                .ok_or_else(|| format!("'{value}': unterminated ^D^ delimiter"))?;
            (delimiter.to_string(), list)
        }
        None => (",".to_string(), value),
    };
    list.split(delimiter.as_str())
        .map(|element| {
            element
                .split_once('=')
                .filter(|(name, _)| !name.is_empty() && !name.contains(' '))
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .ok_or_else(|| {
                    format!("'{element}' is not NAME=VALUE (a comma inside a value needs --database-flags=^:^NAME=V1,V2:…)")
                })
        })
        .collect()
}

#[test]
fn the_flag_list_parser_refuses_a_comma_inside_a_value() {
    assert!(database_flags("cloudsql.enable_pgaudit=on,pgaudit.log=ddl,role").is_err());
    assert_eq!(
        database_flags("^:^cloudsql.enable_pgaudit=on:pgaudit.log=ddl,role").unwrap()[1],
        ("pgaudit.log".into(), "ddl,role".into())
    );
    assert_eq!(database_flags("a=1,b=2").unwrap().len(), 2);
}

#[test]
fn gcloud_database_flags_parse_and_warn_that_they_replace_the_list() {
    let mut problems = Vec::new();
    for (id, key, words) in commands() {
        if words.first().map(String::as_str) != Some("gcloud") {
            continue;
        }
        for word in &words {
            if let Some(value) = word.strip_prefix("--database-flags=")
                && let Err(err) = database_flags(value)
            {
                problems.push(format!("{id} [{key}]: {err}"));
            }
        }
    }
    // The first line of a fix that sets --database-flags says it replaces them all.
    for compiled in &catalog().checks {
        for (key, text) in &compiled.check.fix {
            if text.contains("--database-flags") {
                let first = text.trim_start().lines().next().unwrap_or_default();
                if !first.contains("replaces") {
                    problems.push(format!(
                        "{} [{key}]: first line does not say --database-flags replaces the whole list: {first}",
                        compiled.check.id
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// gcloud and aws flags the fix texts use: `--flag=value` or `--flag value`,
/// never a single dash, never a space inside a flag name.
#[test]
fn cloud_cli_flags_are_well_formed() {
    let mut problems = Vec::new();
    for (id, key, words) in commands() {
        for word in words.iter().skip(1) {
            if word.starts_with('-') && !word.starts_with("--") {
                problems.push(format!("{id} [{key}]: single-dash flag {word}"));
            }
            if let Some(flag) = word.strip_prefix("--") {
                let name = flag.split('=').next().unwrap_or_default();
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                {
                    problems.push(format!("{id} [{key}]: malformed flag {word}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A fix for a MySQL target never names a PostgreSQL version, and the other
/// way round (`engine-version 16` printed for a MySQL 8.0 instance).
#[test]
fn fix_texts_name_versions_of_their_own_engine() {
    let mut problems = Vec::new();
    for compiled in &catalog().checks {
        let check = &compiled.check;
        if let Some(text) = check.fix.get("mysql")
            && (text.contains("POSTGRES_") || text.to_lowercase().contains("postgresql 1"))
        {
            problems.push(format!("{} [mysql] names a PostgreSQL version", check.id));
        }
        if let Some(text) = check.fix.get("postgres")
            && text.contains("MYSQL_")
        {
            problems.push(format!("{} [postgres] names a MySQL version", check.id));
        }
    }
    // A fix shared by both engines (cloudsql, rds, terraform keys of a check
    // whose `applies` does not pick an engine) names no engine's version
    // outside a comment: it would be printed for the other engine too.
    let version = regex::Regex::new(
        r#"(POSTGRES_\d|MYSQL_\d|engine[-_]version[ =]+"?\d|database-version=\w*\d)"#,
    )
    .unwrap();
    for compiled in &catalog().checks {
        let check = &compiled.check;
        if check
            .applies
            .as_deref()
            .is_some_and(|a| a.contains("target.engine"))
        {
            continue;
        }
        for key in ["cloudsql", "rds", "terraform"] {
            let Some(text) = check.fix.get(key) else {
                continue;
            };
            for line in text.lines() {
                let code = line.split('#').next().unwrap_or_default();
                if let Some(found) = version.find(code) {
                    problems.push(format!(
                        "{} [{key}] is printed for PostgreSQL and MySQL targets alike but names a version ({}): {line}",
                        check.id,
                        found.as_str()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// AWS CLI shorthand (`Key=Value,Key=Value`, lists in `[{…}]`) splits at
/// every comma, so a value holding one must be written in the JSON form.
fn shorthand_problem(value: &str) -> Option<String> {
    if value.starts_with('[') && value.contains('"') || value.starts_with('{') {
        return serde_json::from_str::<serde_json::Value>(value)
            .err()
            .map(|err| format!("'{value}' is not valid JSON: {err}"));
    }
    if !value.contains('=') {
        return None;
    }
    value
        .split(',')
        .map(|piece| piece.trim_start_matches(['[', '{']))
        .find(|piece| !piece.contains('='))
        .map(|piece| {
            format!(
                "'{piece}' in '{value}' is no Key=Value: a comma inside a value needs the JSON form"
            )
        })
}

#[test]
fn aws_shorthand_values_hold_no_comma() {
    assert!(shorthand_problem("OptionSettings=[{Name=EVENTS,Value=CONNECT,QUERY_DDL}]").is_some());
    assert!(
        shorthand_problem("ParameterName=log_output,ParameterValue=FILE,ApplyMethod=immediate")
            .is_none()
    );
    assert!(shorthand_problem(r#"[{"Name":"EVENTS","Value":"CONNECT,QUERY_DDL"}]"#).is_none());
    let mut problems = Vec::new();
    for (id, key, words) in commands() {
        if words.first().map(String::as_str) != Some("aws") {
            continue;
        }
        for pair in words.windows(2) {
            if matches!(pair[0].as_str(), "--parameters" | "--options")
                && let Some(problem) = shorthand_problem(&pair[1])
            {
                problems.push(format!("{id} [{key}]: {problem}"));
            }
        }
        // `--parameters A B` takes several values: check the ones after the first too.
        if let Some(at) = words.iter().position(|w| w == "--parameters") {
            for value in words[at + 1..]
                .iter()
                .take_while(|w| !w.starts_with("--"))
                .skip(1)
            {
                if let Some(problem) = shorthand_problem(value) {
                    problems.push(format!("{id} [{key}]: {problem}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
