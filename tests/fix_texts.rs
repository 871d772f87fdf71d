//! Fix texts (issue 18 point 6): every check has a fix for every kind of
//! target it judges, and every command it prints parses as the shell and the
//! client would read it (gcloud's flag-list syntax, engine-matching versions).
//! `aws` commands run through the real AWS CLI v1 (pinned in tests/requirements.txt);
//! gcloud is not installable here: its forms are the ones its reference documents.

#[path = "support/moto.rs"]
mod moto;
mod support;

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
            warnings: Vec::new(),
            tags: Default::default(),
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

/// Placeholders of the fix texts, and what stands in for them when a command is run.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("NEW_VERSION", "16.4"),
    ("ACCOUNT", "123456789012"),
    ("REGION", "us-east-1"),
    ("CLUSTER", "orders-cluster"),
    ("REPLICA", "orders-replica"),
    ("SNAPSHOT", "orders-snapshot"),
    ("GROUP", "orders-params"),
    ("ID", "orders"),
];

/// Every printed `aws` command parses with the real AWS CLI: its options, shorthand and
/// JSON values are checked against the service model (`--generate-cli-skeleton output`
/// runs the CLI's whole argument processing and parameter validation, then stops before
/// any request), with the placeholders filled in.
#[test]
fn every_aws_command_parses_with_the_real_aws_cli() {
    let aws = moto::python().with_file_name("aws");
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog();
    let mut problems = Vec::new();
    let mut ran = 0;
    for (id, key, words) in commands() {
        if words.first().map(String::as_str) != Some("aws") {
            continue;
        }
        // A file the command reads (file://params.json) holds what the fix's comment shows.
        let fix = catalog
            .checks
            .iter()
            .find(|c| c.check.id == id)
            .unwrap()
            .check
            .fix[&key]
            .as_str();
        for word in &words {
            if let Some(name) = word.strip_prefix("file://") {
                match commented_json(fix, name) {
                    Some(json) => std::fs::write(dir.path().join(name), json).unwrap(),
                    None => problems.push(format!(
                        "{id} [{key}]: reads {name} but its comment does not show the JSON it holds"
                    )),
                }
            }
        }
        let args: Vec<String> = words[1..]
            .iter()
            .map(|w| {
                PLACEHOLDERS
                    .iter()
                    .fold(w.clone(), |w, (from, to)| w.replace(from, to))
            })
            .collect();
        let output = std::process::Command::new(&aws)
            .args(&args)
            .args(["--generate-cli-skeleton", "output"])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("run the aws CLI");
        ran += 1;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let why: Vec<&str> = stderr
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.contains("AWS CLI version 2"))
                .collect();
            problems.push(format!(
                "{id} [{key}]: aws {}\n  {}",
                args.join(" "),
                why.join("\n  ")
            ));
        }
    }
    assert!(ran > 20, "only {ran} aws commands found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The JSON a fix text's comment shows for `file` (`# params.json: [ … ]`, possibly over
/// several comment lines), checked to be JSON.
fn commented_json(fix: &str, file: &str) -> Option<String> {
    let comments: String = fix
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let after = &comments[comments.find(file)? + file.len()..];
    let start = after.find(['[', '{'])?;
    let mut depth = 0;
    for (i, c) in after[start..].char_indices() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    let text = &after[start..=start + i];
                    serde_json::from_str::<serde_json::Value>(text).ok()?;
                    return Some(text.to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// gcloud's grammar for the commands the fix texts print: each command path (GA, as the
/// gcloud reference pages list it under cloud.google.com/sdk/gcloud/reference/…) and the
/// flags its reference page documents (a `--no-` form is the documented negation of a
/// boolean flag). gcloud itself cannot be installed here; a command or flag missing from
/// this table — a typo, a flag of another command, one only `gcloud beta` has — fails.
const GCLOUD: &[(&str, &[&str])] = &[
    (
        "sql instances patch",
        &[
            "activation-policy",
            "assign-ip",
            "authorized-networks",
            "availability-type",
            "backup",
            "backup-location",
            "backup-start-time",
            "clear-database-flags",
            "connector-enforcement",
            "database-flags",
            "database-version",
            "deletion-protection",
            "edition",
            "enable-bin-log",
            "enable-connection-pooling",
            "enable-database-replication",
            "enable-point-in-time-recovery",
            "insights-config-query-insights-enabled",
            "maintenance-release-channel",
            "maintenance-window-day",
            "maintenance-window-hour",
            "network",
            "remove-deny-maintenance-period",
            "require-ssl",
            "retained-backups-count",
            "retained-transaction-log-days",
            "ssl-mode",
            "storage-auto-increase",
            "storage-auto-increase-limit",
            "storage-size",
            "tier",
        ],
    ),
    (
        "sql instances create",
        &[
            "activation-policy",
            "assign-ip",
            "authorized-networks",
            "availability-type",
            "backup",
            "backup-start-time",
            "connector-enforcement",
            "database-flags",
            "database-version",
            "deletion-protection",
            "disk-encryption-key",
            "edition",
            "enable-bin-log",
            "enable-point-in-time-recovery",
            "master-instance-name",
            "network",
            "region",
            "ssl-mode",
            "storage-auto-increase",
            "storage-size",
            "tier",
        ],
    ),
    (
        "sql instances clone",
        &["point-in-time", "bin-log-file-name", "bin-log-position"],
    ),
    ("sql instances describe", &[]),
    ("sql instances delete", &[]),
    ("sql connect", &["user", "database", "port"]),
    ("sql ssl server-ca-certs create", &["instance"]),
    ("sql ssl server-ca-certs rotate", &["instance"]),
    ("sql ssl server-ca-certs list", &["instance"]),
    (
        "sql users create",
        &["instance", "host", "password", "type", "database-roles"],
    ),
    (
        "sql instances reschedule-maintenance",
        &["reschedule-type", "schedule-time"],
    ),
    (
        "sql backups list",
        &["instance", "limit", "filter", "page-size", "sort-by"],
    ),
    (
        "sql backups create",
        &["instance", "description", "location"],
    ),
    (
        "billing budgets create",
        &[
            "billing-account",
            "display-name",
            "budget-amount",
            "last-period-amount",
            "filter-projects",
            "filter-services",
            "filter-labels",
            "threshold-rule",
            "calendar-period",
            "credit-types-treatment",
            "notifications-rule-pubsub-topic",
            "notifications-rule-monitoring-notification-channels",
        ],
    ),
    (
        "monitoring policies create",
        &[
            "policy",
            "policy-from-file",
            "notification-channels",
            "display-name",
            "combiner",
        ],
    ),
];

/// Flags every gcloud command takes (the reference's GCLOUD WIDE FLAGS) and `--async`.
const GCLOUD_WIDE: &[&str] = &[
    "account",
    "async",
    "billing-project",
    "configuration",
    "flags-file",
    "flatten",
    "format",
    "help",
    "impersonate-service-account",
    "log-http",
    "project",
    "quiet",
    "verbosity",
];

#[test]
fn every_gcloud_command_uses_documented_commands_and_flags() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (id, key, words) in commands() {
        if words.first().map(String::as_str) != Some("gcloud") {
            continue;
        }
        let path: Vec<&str> = words[1..]
            .iter()
            .take_while(|w| {
                !w.starts_with('-') && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            })
            .map(String::as_str)
            .collect();
        let Some((command, flags)) = GCLOUD
            .iter()
            .filter(|(c, _)| path.join(" ").starts_with(c))
            .max_by_key(|(c, _)| c.len())
        else {
            problems.push(format!(
                "{id} [{key}]: gcloud {} is not a documented GA command",
                path.join(" ")
            ));
            continue;
        };
        checked += 1;
        for word in &words {
            let Some(flag) = word.strip_prefix("--") else {
                continue;
            };
            let name = flag.split('=').next().unwrap_or_default();
            let base = name.strip_prefix("no-").unwrap_or(name);
            if !flags.contains(&name) && !flags.contains(&base) && !GCLOUD_WIDE.contains(&name) {
                problems.push(format!("{id} [{key}]: gcloud {command} has no --{name}"));
            }
        }
    }
    assert!(checked > 20, "only {checked} gcloud commands found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_gcloud_grammar_table_refuses_what_gcloud_refuses() {
    // The same lookups as above, on commands gcloud rejects.
    let lookup = |command: &str, flag: &str| {
        GCLOUD
            .iter()
            .find(|(c, _)| *c == command)
            .is_some_and(|(_, flags)| flags.contains(&flag))
    };
    // A CMEK key is chosen when the instance is created, never patched in.
    assert!(!lookup("sql instances patch", "disk-encryption-key"));
    assert!(lookup("sql instances create", "disk-encryption-key"));
    assert!(!lookup("sql instances patch", "master-instance-name"));
}

/// Words that start a SQL statement in a fix text (anything else is a shell command).
const SQL_STARTS: &[&str] = &[
    "ALTER",
    "ANALYZE",
    "CALL",
    "CHANGE",
    "CHECKPOINT",
    "COMMENT",
    "CREATE",
    "DELETE",
    "DROP",
    "FLUSH",
    "GRANT",
    "INSERT",
    "INSTALL",
    "PURGE",
    "REINDEX",
    "RESET",
    "REVOKE",
    "SELECT",
    "SET",
    "SHOW",
    "START",
    "STOP",
    "UNINSTALL",
    "UPDATE",
    "VACUUM",
];

/// A line without its `--` comment (one outside a quoted string).
fn without_comment(line: &str) -> &str {
    let mut quoted = false;
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\'' => quoted = !quoted,
            b'-' if !quoted && bytes.get(i + 1) == Some(&b'-') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// The SQL statements of a fix text: from a line starting with a SQL keyword to its `;`,
/// without `--` comments.
fn sql_statements(fix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in fix.lines() {
        let code = without_comment(line).trim();
        let first = code.split_whitespace().next().unwrap_or_default();
        if current.is_empty() && !SQL_STARTS.contains(&first) {
            continue;
        }
        current.push_str(code);
        current.push('\n');
        if code.ends_with(';') {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// Every SQL statement a fix text prints for PostgreSQL parses with PostgreSQL's own parser
/// (pg_query, libpg_query). MySQL/MariaDB statements: [`every_mysql_sql_fix_parses`].
#[test]
fn every_postgres_sql_fix_parses_with_postgresqls_grammar() {
    let mut problems = Vec::new();
    let mut parsed = 0;
    for compiled in &catalog().checks {
        let Some(fix) = compiled.check.fix.get("postgres") else {
            continue;
        };
        for statement in sql_statements(fix) {
            parsed += 1;
            if let Err(err) = pg_query::parse(&statement, pg_query::ParserOptions::default()) {
                problems.push(format!(
                    "{} [postgres]: {err}\n  {}",
                    compiled.check.id,
                    statement.trim()
                ));
            }
        }
    }
    assert!(parsed > 20, "only {parsed} SQL statements found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Why a MySQL/MariaDB statement of a fix text does not parse, if it does not.
///
/// sqlparser's MySQL dialect reads the statement first. It lacks the
/// administrative grammar the fixes use (`'user'@'host'`, `ALTER USER`,
/// `GRANT PROCESS`, `SET PERSIST`), so what it refuses is then given to a real
/// MariaDB server as `PREPARE` (parsed, never run): error 1064 is a syntax
/// error. MySQL-only forms MariaDB lacks are read as MySQL's grammar defines
/// them: `SET PERSIST[_ONLY] x = v` is `SET GLOBAL x = v` with a persist
/// flag, `RESET PERSIST [IF EXISTS] name`.
fn mysql_statement_problem(statement: &str, server: &support::mylab::MyServer) -> Option<String> {
    use sqlparser::dialect::MySqlDialect;
    use sqlparser::parser::Parser;
    let trimmed = statement.trim().trim_end_matches(';').trim();
    let upper = trimmed.to_ascii_uppercase();
    let as_global = ["SET PERSIST_ONLY ", "SET PERSIST "]
        .iter()
        .find(|prefix| upper.starts_with(*prefix))
        .map(|prefix| format!("SET GLOBAL {}", &trimmed[prefix.len()..]));
    if let Some(global) = &as_global {
        return Parser::parse_sql(&MySqlDialect {}, global)
            .err()
            .map(|err| format!("{err} (read as {global})"));
    }
    if let Some(options) = upper.strip_prefix("CHANGE REPLICATION SOURCE TO ") {
        return change_replication_source_problem(options);
    }
    if let Some(rest) = upper.strip_prefix("RESET PERSIST") {
        let name = rest.trim().trim_start_matches("IF EXISTS").trim();
        let ok = name.is_empty() || name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        return (!ok).then(|| "RESET PERSIST [IF EXISTS] takes one variable name".to_string());
    }
    let sqlparser_error = match Parser::parse_sql(&MySqlDialect {}, trimmed) {
        Ok(_) => return None,
        Err(err) => err.to_string(),
    };
    let quoted = trimmed.replace('\\', "\\\\").replace('\'', "''");
    match server.try_sql(&format!(
        "PREPARE fix_text FROM '{quoted}'; DEALLOCATE PREPARE fix_text"
    )) {
        Ok(_) => None,
        Err(err) if err.contains("1064") || err.contains("1295") => Some(format!(
            "MariaDB: {} (sqlparser: {sqlparser_error})",
            err.trim()
        )),
        // Anything else (an unknown table or user) was parsed and refused later.
        Err(_) => None,
    }
}

/// `CHANGE REPLICATION SOURCE TO option = value, …` (MySQL 8.0.23+; MariaDB
/// has only CHANGE MASTER TO): each option one MySQL's reference lists, each
/// value a quoted string or a number.
fn change_replication_source_problem(options: &str) -> Option<String> {
    const OPTIONS: &[&str] = &[
        "SOURCE_HOST",
        "SOURCE_USER",
        "SOURCE_PASSWORD",
        "SOURCE_PORT",
        "SOURCE_AUTO_POSITION",
        "SOURCE_SSL",
        "SOURCE_SSL_CA",
        "SOURCE_LOG_FILE",
        "SOURCE_LOG_POS",
        "SOURCE_DELAY",
        "SOURCE_CONNECT_RETRY",
        "SOURCE_RETRY_COUNT",
        "SOURCE_HEARTBEAT_PERIOD",
        "GET_SOURCE_PUBLIC_KEY",
    ];
    let options = options.split(" FOR CHANNEL ").next().unwrap_or_default();
    for option in split_outside_quotes(options, ',') {
        let Some((name, value)) = option.split_once('=') else {
            return Some(format!("'{}' is not option = value", option.trim()));
        };
        let (name, value) = (name.trim(), value.trim());
        if !OPTIONS.contains(&name) {
            return Some(format!(
                "{name} is not an option of CHANGE REPLICATION SOURCE TO"
            ));
        }
        let quoted = value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'');
        if !quoted && value.parse::<u64>().is_err() {
            return Some(format!("{name} = {value}: not a quoted string or a number"));
        }
    }
    None
}

/// `text` cut at every `separator` outside single quotes.
fn split_outside_quotes(text: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '\'' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut().expect("one part").push(c);
    }
    parts.retain(|part| !part.trim().is_empty());
    parts
}

/// Every SQL statement a fix text prints for MySQL or MariaDB parses: with
/// sqlparser's MySQL dialect, or, for the administrative grammar it lacks,
/// with a real MariaDB server's own parser (see [`mysql_statement_problem`]).
#[test]
fn every_mysql_sql_fix_parses() {
    let server = &support::mylab::lab().good;
    let mut problems = Vec::new();
    let mut parsed = 0;
    for compiled in &catalog().checks {
        for key in ["mysql", "mariadb"] {
            let Some(fix) = compiled.check.fix.get(key) else {
                continue;
            };
            let statements = sql_statements(fix)
                .iter()
                .flat_map(|line| split_outside_quotes(line, ';'))
                .collect::<Vec<_>>();
            for statement in statements {
                parsed += 1;
                if let Some(problem) = mysql_statement_problem(&statement, server) {
                    problems.push(format!(
                        "{} [{key}]: {problem}\n  {}",
                        compiled.check.id,
                        statement.trim()
                    ));
                }
            }
        }
    }
    assert!(parsed > 20, "only {parsed} SQL statements found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The MySQL statement check refuses what the parsers refuse.
#[test]
fn the_mysql_statement_check_refuses_broken_statements() {
    let server = &support::mylab::lab().good;
    assert_eq!(
        mysql_statement_problem("SET PERSIST sync_binlog = 1;", server),
        None
    );
    assert_eq!(
        mysql_statement_problem("ALTER USER 'app'@'%' REQUIRE SSL;", server),
        None
    );
    assert!(mysql_statement_problem("SET PERSIST sync_binlog 1;", server).is_some());
    assert!(mysql_statement_problem("ALTER USER 'app'@'%' REQUIRES SSL;", server).is_some());
    assert!(mysql_statement_problem("GRANT PROCESS ON *.* 'auditor'@'%';", server).is_some());
    assert!(mysql_statement_problem("RESET PERSIST IF EXISTS a b;", server).is_some());
    let source = "CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'db', SOURCE_AUTO_POSITION = 1;";
    assert_eq!(mysql_statement_problem(source, server), None);
    let typo = "CHANGE REPLICATION SOURCE TO SOURCE_HOSTNAME = 'db';";
    assert!(mysql_statement_problem(typo, server).is_some());
}

#[test]
fn sql_statements_are_cut_at_their_semicolon_and_comments_outside_strings() {
    let fix = "# shell\npg_ctl restart\nALTER SYSTEM SET archive_command = 'x --stanza=main %p';   -- restart\nSELECT 1\n  FROM t; -- two lines\n";
    assert_eq!(
        sql_statements(fix),
        [
            "ALTER SYSTEM SET archive_command = 'x --stanza=main %p';\n",
            "SELECT 1\nFROM t;\n"
        ]
    );
    // A broken statement is refused by the same parser.
    assert!(
        pg_query::parse(
            "ALTER SYSTEM SET x = 'unterminated;",
            pg_query::ParserOptions::default()
        )
        .is_err()
    );
}

/// A fix that changes something only a restart applies says so: an RDS parameter applied
/// `pending-reboot` names the reboot, and a PostgreSQL `ALTER SYSTEM` of a setting that
/// needs a server start (postmaster context) names the restart.
#[test]
fn fixes_that_need_a_restart_say_so() {
    // PostgreSQL settings of postmaster context the fixes set (pg_settings.context).
    const RESTART_ONLY: &[&str] = &[
        "shared_preload_libraries",
        "wal_level",
        "archive_mode",
        "max_replication_slots",
        "max_wal_senders",
        "max_connections",
        "ssl_min_protocol_version",
    ];
    let mut problems = Vec::new();
    for compiled in &catalog().checks {
        for (key, fix) in &compiled.check.fix {
            let prose: String = fix.replace("pending-reboot", "").to_ascii_lowercase();
            // Terraform fix texts are rewritten per resource type elsewhere (issue 20 "modules").
            if key != "terraform" && fix.contains("pending-reboot") && !prose.contains("reboot") {
                problems.push(format!(
                    "{} [{key}]: applies a parameter pending-reboot but never says a reboot is needed",
                    compiled.check.id
                ));
            }
            if key == "postgres" {
                for statement in sql_statements(fix) {
                    let restart_only = RESTART_ONLY
                        .iter()
                        .any(|s| statement.contains(&format!("ALTER SYSTEM SET {s} ")));
                    if restart_only && !prose.contains("restart") {
                        problems.push(format!(
                            "{} [postgres]: `{}` needs a restart and the fix does not say so",
                            compiled.check.id,
                            statement.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A MariaDB server reached as `mysql://` is told MariaDB's syntax where a check
/// has it (CHANGE MASTER TO, SET GLOBAL plus my.cnf: MariaDB has no SET PERSIST
/// and no CHANGE REPLICATION SOURCE), and MySQL is not told MariaDB's.
#[test]
fn a_mariadb_server_gets_mariadb_syntax_and_mysql_keeps_its_own() {
    let catalog = catalog();
    let check = |id: &str| {
        &catalog
            .checks
            .iter()
            .find(|c| c.check.id == id)
            .unwrap_or_else(|| panic!("{id} is in the catalogue"))
            .check
    };
    let present = check("replicas.present");
    let mariadb = present.fix_for("mysql", "mariadb").unwrap();
    assert!(mariadb.contains("CHANGE MASTER TO"), "{mariadb}");
    assert!(!mariadb.contains("CHANGE REPLICATION SOURCE"), "{mariadb}");
    let mysql = present.fix_for("mysql", "mysql").unwrap();
    assert!(mysql.contains("CHANGE REPLICATION SOURCE"), "{mysql}");
    assert!(!mysql.contains("CHANGE MASTER"), "{mysql}");

    let slow_log = check("slow_queries.mysql_slow_log");
    let mariadb = slow_log.fix_for("mysql", "mariadb").unwrap();
    assert!(
        !mariadb.lines().any(|l| l.starts_with("SET PERSIST")),
        "{mariadb}"
    );
    assert!(
        mariadb.contains("SET GLOBAL slow_query_log = ON"),
        "{mariadb}"
    );
    // A cloud platform's own command still wins over the engine's SQL.
    let rds = slow_log.fix_for("rds", "mariadb").unwrap();
    assert!(rds.contains("aws rds"), "{rds}");
}

/// A MySQL/MariaDB fix that sets a variable only a server start reads (in
/// my.cnf: it is not dynamic) says a restart is needed.
#[test]
fn mysql_fixes_of_start_only_variables_say_a_restart_is_needed() {
    // Not dynamic on MySQL 8.4 and MariaDB 11.4 (their server system variable references).
    const START_ONLY: &[&str] = &[
        "log_bin",
        "performance_schema",
        "plugin_load_add",
        "innodb_doublewrite",
        "innodb_flush_method",
        "skip_networking",
        "bind_address",
        "file_key_management_filename",
    ];
    let mut problems = Vec::new();
    let mut seen = 0;
    for compiled in &catalog().checks {
        for key in ["mysql", "mariadb"] {
            let Some(fix) = compiled.check.fix.get(key) else {
                continue;
            };
            let sets = |name: &str| {
                fix.lines().any(|line| {
                    let line = line.trim_start_matches(['#', '-', ' ']);
                    line.split('=').next().map(str::trim) == Some(name) && line.contains('=')
                })
            };
            for name in START_ONLY.iter().filter(|name| sets(name)) {
                seen += 1;
                if !fix.to_ascii_lowercase().contains("restart") {
                    problems.push(format!(
                        "{} [{key}]: sets {name}, which only a server start reads, and never says restart",
                        compiled.check.id
                    ));
                }
            }
        }
    }
    assert!(
        seen >= 5,
        "only {seen} start-only settings found in the fixes"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Issue 21: fixes follow the RDS deployment (`rds.deployment`), so a cluster is not
/// told to run an instance-only command.
#[test]
fn rds_fixes_follow_the_deployment() {
    let catalog = catalog();
    let fix = |id: &str, deployment: Option<&str>| {
        catalog
            .checks
            .iter()
            .find(|c| c.check.id == id)
            .unwrap_or_else(|| panic!("no check {id}"))
            .check
            .fix_for_target("rds", "postgres", deployment)
            .unwrap_or_default()
            .to_string()
    };
    let protection = fix("deletion_protection.enabled", Some("aurora"));
    assert!(
        protection.contains("modify-db-cluster") && !protection.contains("modify-db-instance"),
        "{protection}"
    );
    let protection = fix("deletion_protection.enabled", Some("instance"));
    assert!(
        protection.contains("modify-db-instance") && !protection.contains("modify-db-cluster"),
        "{protection}"
    );
    let autogrow = fix("disk_autogrow.enabled", Some("multi-az-cluster"));
    assert!(
        !autogrow.contains("--max-allocated-storage") && autogrow.contains("modify-db-cluster"),
        "{autogrow}"
    );
    assert!(fix("disk_autogrow.enabled", None).contains("--max-allocated-storage"));
    let ca = fix("network.server_ca_valid", Some("multi-az-cluster"));
    assert!(ca.contains("modify-db-cluster"), "{ca}");
}
