//! Every Cloud SQL fixture, and every body the local Admin API server sends,
//! has exactly the shape of the published schema
//! (tests/fixtures/cloudsql/sqladmin-v1-discovery.json, a copy of the Cloud
//! SQL Admin API v1 discovery document): known fields only, the right JSON
//! types (int64 as strings, int32 as numbers), enum values from the schema,
//! RFC 3339 times. One fixture (instances/pg-future.json) deliberately
//! carries fields and enum values the schema does not know.

#[path = "support/cloudsql_server.rs"]
mod cloudsql_server;

use cloudsql_server::{Reply, fixture, fixtures_dir, render, scenario_routes};
use serde_json::{Map, Value};
use std::sync::OnceLock;

fn schemas() -> &'static Map<String, Value> {
    static SCHEMAS: OnceLock<Map<String, Value>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let text = fixture("sqladmin-v1-discovery.json");
        let doc: Value = serde_json::from_str(&text).expect("the discovery document parses");
        doc["schemas"].as_object().expect("schemas").clone()
    })
}

/// Problems with `value` against the discovery schema `schema` (a `$ref` name or an inline property).
fn validate(value: &Value, property: &Value, path: &str, problems: &mut Vec<String>) {
    if let Some(reference) = property["$ref"].as_str() {
        let Some(schema) = schemas().get(reference) else {
            problems.push(format!("{path}: unknown schema {reference}"));
            return;
        };
        return validate(value, schema, path, problems);
    }
    let kind = property["type"].as_str().unwrap_or("any");
    match (kind, value) {
        ("any", _) => {}
        ("object", Value::Object(fields)) => {
            let properties = property["properties"].as_object();
            let additional = &property["additionalProperties"];
            for (key, field) in fields {
                let child = format!("{path}.{key}");
                match properties.and_then(|p| p.get(key)) {
                    Some(spec) => validate(field, spec, &child, problems),
                    None if additional.is_object() => validate(field, additional, &child, problems),
                    None => problems.push(format!("{child}: not a field of the schema")),
                }
            }
        }
        ("array", Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                validate(item, &property["items"], &format!("{path}[{i}]"), problems);
            }
        }
        ("string", Value::String(text)) => {
            if let Some(allowed) = property["enum"].as_array()
                && !allowed.iter().any(|a| a == text)
            {
                problems.push(format!(
                    "{path}: '{text}' is not one of the schema's enum values"
                ));
            }
            match property["format"].as_str() {
                Some("int64" | "uint64") if text.parse::<i128>().is_err() => {
                    problems.push(format!("{path}: '{text}' is not an int64 string"));
                }
                Some("google-datetime") if chrono::DateTime::parse_from_rfc3339(text).is_err() => {
                    problems.push(format!("{path}: '{text}' is not an RFC 3339 time"));
                }
                _ => {}
            }
        }
        ("integer", Value::Number(n)) if n.is_i64() || n.is_u64() => {}
        ("number", Value::Number(_)) | ("boolean", Value::Bool(_)) => {}
        (kind, other) => problems.push(format!(
            "{path}: {} where the schema says {kind}{}",
            json_type(other),
            property["format"]
                .as_str()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default()
        )),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn problems_of(text: &str, schema: &str) -> Vec<String> {
    let value: Value =
        serde_json::from_str(&render(text)).unwrap_or_else(|err| panic!("not JSON: {err}"));
    let mut problems = Vec::new();
    validate(
        &value,
        &serde_json::json!({"$ref": schema}),
        schema,
        &mut problems,
    );
    problems
}

/// The response schema of each fixture folder.
const FOLDERS: &[(&str, &str)] = &[
    ("instances", "DatabaseInstance"),
    ("backup-runs", "BackupRunsListResponse"),
    ("recovery", "SqlInstancesGetLatestRecoveryTimeResponse"),
    ("lists", "InstancesListResponse"),
    ("operations", "OperationsListResponse"),
];

/// The one fixture allowed to break the schema, on purpose.
const DELIBERATELY_UNKNOWN: &str = "instances/pg-future.json";

#[test]
fn every_fixture_has_the_published_shape() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (folder, schema) in FOLDERS {
        let dir = fixtures_dir().join(folder);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let relative = format!("{folder}/{}", path.file_name().unwrap().to_string_lossy());
            if relative == DELIBERATELY_UNKNOWN {
                continue;
            }
            checked += 1;
            let found = problems_of(&std::fs::read_to_string(&path).unwrap(), schema);
            problems.extend(found.into_iter().map(|p| format!("{relative}: {p}")));
        }
    }
    assert!(checked >= 10, "only {checked} fixtures found");
    assert!(
        problems.is_empty(),
        "fixtures that do not match the schema:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_deliberate_fixture_carries_what_the_schema_does_not_know() {
    let problems = problems_of(&fixture(DELIBERATELY_UNKNOWN), "DatabaseInstance");
    for expected in [
        "DatabaseInstance.carbonFootprint: not a field of the schema",
        "DatabaseInstance.settings.quantumReplication: not a field of the schema",
        "DatabaseInstance.settings.dataDiskType: 'HYPERDISK_EXTREME' is not one of the schema's enum values",
    ] {
        assert!(
            problems.iter().any(|p| p == expected),
            "{expected} not reported in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), 3, "{problems:#?}");
}

#[test]
fn the_validator_catches_wrong_types() {
    let problems = problems_of(
        r#"{"name": "x", "settings": {"dataDiskSizeGb": 100, "storageAutoResize": "yes"}, "currentDiskSize": "ten", "createTime": "yesterday"}"#,
        "DatabaseInstance",
    );
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("dataDiskSizeGb: a number where the schema says string (int64)")),
        "{problems:#?}"
    );
}

#[test]
fn every_body_the_local_server_sends_has_the_published_shape() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (key, replies) in scenario_routes().0 {
        for Reply { status, body, .. } in replies {
            if status != 200
                || key.contains("pg-future")
                || key.contains("acme-broken")
                || key.contains("acme-odd/instances/pg-good/getLatestRecoveryTime")
            {
                continue;
            }
            let path = key.split('?').next().unwrap();
            let schema = if path.ends_with("/backupRuns") {
                "BackupRunsListResponse"
            } else if path.ends_with("/getLatestRecoveryTime") {
                "SqlInstancesGetLatestRecoveryTimeResponse"
            } else if path.ends_with("/instances") {
                "InstancesListResponse"
            } else {
                "DatabaseInstance"
            };
            checked += 1;
            problems.extend(
                problems_of(&body, schema)
                    .into_iter()
                    .map(|p| format!("{key}: {p}")),
            );
        }
    }
    assert!(checked >= 18, "only {checked} bodies checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
