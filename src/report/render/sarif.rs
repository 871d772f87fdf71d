//! SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
//!
//! * One rule per check, from the check's own metadata: title as the short
//!   description, *why it matters* as the full description, the fixes as help,
//!   item, severity and SOC 2 controls as properties (and tags).
//! * One result per `fail` or `warn` finding per target. The level follows the
//!   severity (a `warn` one step lower); the target id is the logical location
//!   (`fullyQualifiedName`). When the target comes from `sqlready.toml`, the
//!   result also points at its `[[targets]]` line: code scanning only shows
//!   results with a file location.
//! * Waived findings carry an accepted external suppression with the reason;
//!   drift becomes `baselineState`; target failures and stale waivers become
//!   invocation notifications.

use crate::checks::Catalog;
use crate::checks::model::{Severity, Status};
use crate::report::drift::Change;
use crate::report::waivers::{EXPIRED_CHECK, WaiverStatus};
use crate::report::{Finding, Report, TargetReport};
use chrono::SecondsFormat;
use serde_json::{Map as JsonMap, Value as Json, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/sqlready/sqlready";

/// Where config-declared targets live, for physical locations.
#[derive(Debug, Clone, Default)]
pub struct ConfigLocations {
    /// The config file as a URI reference relative to the repository root.
    pub uri: String,
    /// Target id → line of its `[[targets]]` header.
    pub lines: BTreeMap<String, usize>,
}

/// Renders the report as a SARIF 2.1.0 log.
pub fn render(report: &Report, catalog: &Catalog, config: Option<&ConfigLocations>) -> String {
    let mut text = Vec::new();
    if let Err(err) = write(report, catalog, config, &mut text) {
        return format!("{{\"error\": \"cannot serialize the SARIF log: {err}\"}}\n");
    }
    // serde_json writes UTF-8 only.
    String::from_utf8(text)
        .unwrap_or_else(|err| format!("{{\"error\": \"cannot serialize the SARIF log: {err}\"}}\n"))
}

/// Writes the SARIF log to `out`: a fleet's results (one per failing
/// finding, hundreds of thousands) are made and serialized on every core.
pub fn write(
    report: &Report,
    catalog: &Catalog,
    config: Option<&ConfigLocations>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut rules: Vec<Json> = catalog.checks.iter().map(|c| rule(&c.check)).collect();
    rules.push(expired_rule());
    let index: BTreeMap<String, usize> = rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r["id"].as_str().map(|id| (id.to_string(), i)))
        .collect();
    let mut notifications = Vec::new();
    for target in &report.targets {
        if let Some(error) = &target.error {
            notifications.push(json!({
                "level": "error",
                "message": {"text": format!("{} could not be audited: {error}", target.id)},
                "locations": [location(target, config)],
            }));
        }
        for source in target.sources.iter().filter(|s| s.error.is_some()) {
            notifications.push(json!({
                "level": "error",
                "message": {"text": format!(
                    "source {} of {} could not be read: {}",
                    source.id, target.id, source.error.as_deref().unwrap_or_default()
                )},
                "locations": [location(target, config)],
            }));
        }
    }
    let configuration: Vec<Json> = report
        .waivers
        .iter()
        .filter(|w| w.state != WaiverStatus::Active)
        .map(|w| {
            let mut notification = json!({
                "level": if w.state == WaiverStatus::Expired { "error" } else { "warning" },
                "message": {"text": format!("waiver for {} on {} ({}): {}", w.check, w.target, w.owner, w.note)},
            });
            if let Some(config) = config {
                notification["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": {"uri": config.uri},
                        "region": {"startLine": w.line.max(1)},
                    }
                }]);
            }
            notification
        })
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "sqlready",
            "version": report.tool.version,
            "semanticVersion": report.tool.version,
            "informationUri": INFORMATION_URI,
            "rules": rules,
        }},
        "invocations": [{
            "executionSuccessful": !report.has_errors(),
            "startTimeUtc": report.started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "endTimeUtc": report.finished_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "toolExecutionNotifications": notifications,
            "toolConfigurationNotifications": configuration,
        }],
        // Spliced in below.
        "results": [],
        "properties": {
            "summary": report.summary,
            "coverage": report.summary.coverage.beside(report.summary.score),
        },
    });
    if let Some(drift) = &report.drift {
        run["properties"]["drift"] = serde_json::to_value(drift).unwrap_or_default();
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    });
    let frame = serde_json::to_string_pretty(&log)?;
    // The first run's `results`: its keys are three levels (six spaces) deep.
    super::splice::write_with_array(
        &frame,
        "\n      \"results\": []",
        &report.targets,
        64,
        |target, results| {
            let location = location(target, config);
            for finding in target
                .findings
                .iter()
                .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
            {
                let rule_index = index.get(&finding.check).copied();
                results.push(&result(target, finding, rule_index, &location))?;
            }
            Ok(())
        },
        out,
    )
}

fn level(status: Status, severity: Severity) -> &'static str {
    match (status, severity) {
        (Status::Fail, Severity::Critical | Severity::High) => "error",
        (Status::Fail, Severity::Medium) | (Status::Warn, Severity::Critical | Severity::High) => {
            "warning"
        }
        _ => "note",
    }
}

/// GitHub's security severity scale: critical above 9, high 7–8.9, medium 4–6.9, low below 4.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
    }
}

fn pascal(id: &str) -> String {
    id.split(['.', '_', '-'])
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

fn rule(check: &crate::checks::model::Check) -> Json {
    let mut help_text = String::new();
    let mut help_markdown = String::new();
    for (provider, fix) in &check.fix {
        help_text.push_str(&format!("{provider}:\n{}\n\n", fix.trim_end()));
        help_markdown.push_str(&format!(
            "**{provider}**\n\n```\n{}\n```\n\n",
            fix.trim_end()
        ));
    }
    if help_text.is_empty() {
        help_text = check.why.clone();
        help_markdown = check.why.clone();
    }
    let mut tags = vec!["sqlready".to_string(), check.item.key().to_string()];
    tags.extend(check.controls.iter().cloned());
    let mut rule = json!({
        "id": check.id,
        "name": pascal(&check.id),
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": check.why.trim()},
        "help": {"text": help_text.trim_end(), "markdown": help_markdown.trim_end()},
        "defaultConfiguration": {"level": level(check.violation.status(), check.severity)},
        "properties": {
            "item": check.item.key(),
            "severity": check.severity,
            "controls": check.controls,
            "tags": tags,
            "security-severity": security_severity(check.severity),
            "precision": "high",
        },
    });
    if let Some(uri) = check.references.iter().find(|r| r.starts_with("https://")) {
        rule["helpUri"] = json!(uri);
    }
    rule
}

fn expired_rule() -> Json {
    json!({
        "id": EXPIRED_CHECK,
        "name": "WaiverExpired",
        "shortDescription": {"text": "A waiver has expired"},
        "fullDescription": {"text": "A documented exception in sqlready.toml is past its expiry date. The finding it covered counts again, and the expired waiver is itself a failure until the finding is fixed or the waiver renewed."},
        "help": {"text": "Fix the waived check, or renew the waiver with a new `expires` date after review.", "markdown": "Fix the waived check, or renew the waiver with a new `expires` date after review."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"item": "waivers", "tags": ["sqlready", "waiver"], "precision": "very-high"},
    })
}

fn location(target: &TargetReport, config: Option<&ConfigLocations>) -> Json {
    let name = target.id.rsplit('/').next().unwrap_or(&target.id);
    let mut location = json!({
        "logicalLocations": [{
            "name": name,
            "fullyQualifiedName": target.id,
            "kind": "resource",
        }],
    });
    if let Some(declared) = &target.location {
        location["physicalLocation"] = json!({
            "artifactLocation": {"uri": file_uri(&declared.file)},
            "region": {"startLine": declared.line.max(1)},
        });
    } else if let Some(config) = config
        && let Some(line) = config.lines.get(&target.id)
    {
        location["physicalLocation"] = json!({
            "artifactLocation": {"uri": config.uri},
            "region": {"startLine": (*line).max(1)},
        });
    }
    location
}

/// A file path as a SARIF URI: relative paths stay relative to where sqlready
/// ran (the repository root in CI), with `/` separators; absolute ones become `file://`.
fn file_uri(path: &str) -> String {
    let path = path.replace('\\', "/").replace(' ', "%20");
    let path = path.strip_prefix("./").unwrap_or(&path);
    if path.starts_with('/') {
        format!("file://{path}")
    } else {
        path.to_string()
    }
}

fn result(
    target: &TargetReport,
    finding: &Finding,
    rule_index: Option<usize>,
    location: &Json,
) -> Json {
    let mut fingerprint_input = format!("{}\n{}", target.id, finding.check);
    if finding.check == EXPIRED_CHECK {
        fingerprint_input.push('\n');
        fingerprint_input.push_str(
            finding
                .evidence
                .get("waived_check")
                .and_then(Json::as_str)
                .unwrap_or_default(),
        );
    }
    let mut fingerprint = String::with_capacity(32);
    for byte in &Sha256::digest(fingerprint_input.as_bytes())[..16] {
        let _ = write!(fingerprint, "{byte:02x}");
    }
    let mut message = format!("{} on {}", finding.title, target.id);
    if !finding.detail.is_empty() {
        message.push_str(": ");
        message.push_str(&finding.detail);
    }
    let mut properties = JsonMap::new();
    properties.insert("status".into(), json!(finding.status));
    properties.insert("severity".into(), json!(finding.severity));
    properties.insert("item".into(), json!(finding.item));
    properties.insert("controls".into(), json!(finding.controls));
    properties.insert("evidence".into(), Json::Object(finding.evidence.clone()));
    if let Some(fix) = &finding.remediation {
        properties.insert("remediation".into(), json!(fix));
    }
    if !finding.disagreements.is_empty() {
        properties.insert("disagreements".into(), json!(finding.disagreements));
    }
    let mut result = json!({
        "ruleId": finding.check,
        "kind": "fail",
        "level": level(finding.status, finding.severity),
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {"sqlreadyFinding/v1": fingerprint},
        "properties": properties,
    });
    if let Some(index) = rule_index {
        result["ruleIndex"] = json!(index);
    }
    if let Some(waiver) = &finding.waiver {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!("{} (owner {}, waived through {})", waiver.reason, waiver.owner, waiver.expires),
        }]);
    }
    if let Some(drift) = &finding.drift {
        result["baselineState"] = json!(match drift.change {
            Change::New => "new",
            Change::Unchanged => "unchanged",
            Change::Improved | Change::Regressed | Change::Changed => "updated",
        });
    }
    result
}
