//! A local AWS endpoint for what moto does not serve (issue 21), answering in
//! the published API shapes and driven by the real SDK clients:
//!
//! - AWS Backup (REST-JSON, `AWS_ENDPOINT_URL_BACKUP`): `ListBackupPlans`,
//!   `GetBackupPlan`, `ListBackupSelections`, `GetBackupSelection` (moto has no
//!   selections; by ARN, by `ListOfTags` and by `Conditions`),
//!   `ListProtectedResources`, `ListBackupVaults`, `ListRestoreJobs`; or,
//!   started with [`Mode::Deny`], `AccessDeniedException` for every call.
//! - In front of moto for RDS (query protocol, `AWS_ENDPOINT_URL_RDS`):
//!   `DescribeCertificates`, `DescribeDBEngineVersions` (moto implements
//!   neither) and `DescribeEvents` (moto records no restore events) are
//!   answered here, paged by `MaxRecords`/`Marker`; every other request is
//!   passed to moto unchanged.
//! - [`Mode::DenyRestores`]: `ListRestoreJobs` and `DescribeEvents` refused
//!   (AccessDenied), everything else served.
//!
//! The region comes from the request's SigV4 credential scope, as AWS routes it.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The account moto uses.
pub const ACCOUNT: &str = "123456789012";
/// The region the Prowler-parity fleet lives in (tests/fixtures/rds/seed.py).
pub const REGION: &str = "ap-southeast-2";
/// The CA the fleet's expiring instance uses, listed as expiring in 40 days.
pub const EXPIRING_CA: &str = "rds-ca-test-expiring";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Serve,
    Deny,
    DenyRestores,
    /// AWS Budgets answered here in two pages (moto answers every budget in one):
    /// `AWS_ENDPOINT_URL_BUDGETS` points at this server, the rest goes to moto.
    PagedBudgets,
}

/// Restored by a point-in-time restore 3 days ago (an RDS event).
pub const DRILLED_PITR: &str = "pg-drill-pitr";
/// Restored from its manual snapshot [`DRILL_SNAPSHOT`] 5 days ago (an RDS event).
pub const DRILLED_SNAPSHOT: &str = "pg-drill-snapshot";
pub const DRILL_SNAPSHOT: &str = "pg-drill-snapshot-before-upgrade";

pub struct Server {
    pub endpoint: String,
}

struct State {
    mode: Mode,
    /// moto, for the RDS calls passed through.
    upstream: String,
}

/// Starts the endpoint on 127.0.0.1 in front of moto at `upstream` (`http://127.0.0.1:PORT`).
pub fn start(mode: Mode, upstream: &str) -> Server {
    let state = Arc::new(State {
        mode,
        upstream: upstream.trim_start_matches("http://").to_string(),
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let port = listener.local_addr().expect("local address").port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(state.clone(), request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    Server {
        endpoint: format!("http://127.0.0.1:{port}"),
    }
}

fn reply(status: u16, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000021")
        .body(Full::new(Bytes::from(body)))
        .expect("a response")
}

/// The region of the SigV4 credential scope (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`).
fn region_of(request: &Request<Incoming>) -> String {
    request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(2))
        .unwrap_or("us-east-1")
        .to_string()
}

async fn answer(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let region = region_of(&request);
    let budgets_operation = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix("AWSBudgetServiceGateway."))
        .map(str::to_string);
    if state.mode == Mode::PagedBudgets
        && let Some(operation) = budgets_operation
    {
        let body = request
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        return Ok(paged_budgets(&operation, &input));
    }
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or_default().to_string();
    let is_backup = path.starts_with("/backup/")
        || path == "/backup"
        || path.starts_with("/resources")
        || path.starts_with("/backup-vaults")
        || path.starts_with("/restore-jobs");
    if is_backup {
        return Ok(backup(&state, &region, &path, &query));
    }
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let form: Vec<(String, String)> = url_decode_pairs(&String::from_utf8_lossy(&body));
    let action = form
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.as_str());
    if action == Some("DescribeEvents") && state.mode == Mode::DenyRestores {
        return Ok(rds_denied("DescribeEvents"));
    }
    match action {
        Some("DescribeEvents") => Ok(rds_xml("DescribeEvents", &events(&form, &region))),
        Some("DescribeCertificates") => Ok(rds_xml("DescribeCertificates", &certificates(&form))),
        Some("DescribeDBEngineVersions") => Ok(rds_xml(
            "DescribeDBEngineVersions",
            &engine_versions(&form, &region),
        )),
        _ => Ok(forward(&state.upstream, parts, body).await),
    }
}

/// An RDS query-protocol AccessDenied for `action`.
fn rds_denied(action: &str) -> Response<Full<Bytes>> {
    reply(
        403,
        "text/xml",
        format!(
            "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::{ACCOUNT}:user/auditor is not authorized to perform: rds:{action}</Message></Error><RequestId>00000000-0000-0000-0000-000000000021</RequestId></ErrorResponse>"
        ),
    )
}

/// `DescribeEvents` in [`REGION`]: two restores (RDS-EVENT-0019 on the new
/// instance, RDS-EVENT-0043 on the snapshot) and a creation, filtered by `SourceType`,
/// `EventCategories.EventCategory.N` and `Duration` as RDS filters them; none elsewhere.
fn events(form: &[(String, String)], region: &str) -> String {
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let categories: Vec<String> = form
        .iter()
        .filter(|(k, _)| k.starts_with("EventCategories."))
        .map(|(_, v)| v.clone())
        .collect();
    let minutes: i64 = get("Duration").and_then(|d| d.parse().ok()).unwrap_or(60);
    // (days ago, source type, source, category, message): RDS-EVENT-0019 on the new
    // instance, RDS-EVENT-0043 on the snapshot, RDS-EVENT-0005.
    let all = [
        (
            3,
            "db-instance",
            "pg-drill-pitr-copy",
            "restoration",
            format!("Restored from DB instance {DRILLED_PITR} to pg-drill-pitr-copy."),
        ),
        (
            5,
            "db-snapshot",
            DRILL_SNAPSHOT,
            "restoration",
            format!("Restored from snapshot {DRILL_SNAPSHOT}."),
        ),
        (
            5,
            "db-instance",
            "pg-drill-snapshot-copy",
            "creation",
            "DB instance created".to_string(),
        ),
        // Older than any Duration RDS allows: never answered.
        (
            20,
            "db-instance",
            "pg-ca-expiring-copy",
            "restoration",
            "Restored from DB instance pg-ca-expiring to pg-ca-expiring-copy.".to_string(),
        ),
    ];
    let rows: Vec<String> = all
        .iter()
        .filter(|_| region == REGION)
        .filter(|(days, ..)| days * 24 * 60 <= minutes)
        .filter(|(_, _, _, category, _)| categories.is_empty() || categories.iter().any(|c| c == category))
        .filter(|(_, kind, ..)| get("SourceType").is_none_or(|t| t == *kind))
        .map(|(days, kind, source, category, message)| {
            let resource = if *kind == "db-snapshot" { "snapshot" } else { "db" };
            format!(
                "<Event><SourceIdentifier>{source}</SourceIdentifier><SourceType>{kind}</SourceType><Message>{message}</Message><EventCategories><EventCategory>{category}</EventCategory></EventCategories><Date>{}</Date><SourceArn>{}</SourceArn></Event>",
                iso(-days),
                arn(resource, source)
            )
        })
        .collect();
    let (items, next) = page(form, &rows);
    let marker = next
        .map(|n| format!("<Marker>{n}</Marker>"))
        .unwrap_or_default();
    format!("<Events>{}</Events>{marker}", items.concat())
}

fn url_decode_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((decode(k), decode(v)))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("20");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b' '));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn rds_xml(action: &str, result: &str) -> Response<Full<Bytes>> {
    reply(
        200,
        "text/xml",
        format!(
            "<{action}Response xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000021</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
}

fn iso(offset_days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(offset_days))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// One page of `items` after `Marker` (an index), `MaxRecords` long.
fn page<'a>(form: &[(String, String)], items: &'a [String]) -> (&'a [String], Option<usize>) {
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let start: usize = get("Marker")
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
        .min(items.len());
    let size: usize = get("MaxRecords")
        .and_then(|m| m.parse().ok())
        .unwrap_or(100)
        .max(1);
    let end = (start + size).min(items.len());
    (&items[start..end], (end < items.len()).then_some(end))
}

fn certificates(form: &[(String, String)]) -> String {
    let certs: Vec<String> = [
        ("rds-ca-rsa2048-g1", -1800, 12600),
        ("rds-ca-rsa4096-g1", -1800, 12600),
        // What moto gives an instance created without CACertificateIdentifier.
        ("rds-ca-default", -1800, 12600),
        (EXPIRING_CA, -3600, 40),
    ]
    .iter()
    .map(|(id, from, till)| {
        format!(
            "<Certificate><CertificateIdentifier>{id}</CertificateIdentifier><CertificateType>CA</CertificateType><Thumbprint>0123456789abcdef</Thumbprint><ValidFrom>{}</ValidFrom><ValidTill>{}</ValidTill><CertificateArn>arn:aws:rds:{REGION}::cert:{id}</CertificateArn><CustomerOverride>false</CustomerOverride></Certificate>",
            iso(*from),
            iso(*till)
        )
    })
    .collect();
    let (items, next) = page(form, &certs);
    let marker = next
        .map(|n| format!("<Marker>{n}</Marker>"))
        .unwrap_or_default();
    format!(
        "<DefaultCertificateForNewLaunches>rds-ca-rsa2048-g1</DefaultCertificateForNewLaunches><Certificates>{}</Certificates>{marker}",
        items.concat()
    )
}

/// In [`REGION`] newer minors than the fleet runs; elsewhere exactly the
/// versions the us-east-1 fleet runs, so they are current.
fn engine_versions(form: &[(String, String)], region: &str) -> String {
    let engine = form
        .iter()
        .find(|(k, _)| k == "Engine")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "postgres".into());
    let versions: &[&str] = match (engine.as_str(), region == REGION) {
        ("postgres", true) => &["14.15", "15.10", "15.12", "16.3", "16.6", "17.2"],
        ("postgres", false) => &["15.7", "16.3"],
        ("mysql", _) => &["8.0.36", "8.4.3"],
        ("aurora-postgresql", _) => &["15.4", "16.6"],
        _ => &[],
    };
    let rows: Vec<String> = versions
        .iter()
        .map(|v| {
            let major = if engine.contains("postgres") { v.split('.').next().unwrap_or(v).to_string() } else { v.split('.').take(2).collect::<Vec<_>>().join(".") };
            format!(
                "<DBEngineVersion><Engine>{engine}</Engine><EngineVersion>{v}</EngineVersion><MajorEngineVersion>{major}</MajorEngineVersion><DBParameterGroupFamily>{engine}{major}</DBParameterGroupFamily><Status>available</Status></DBEngineVersion>"
            )
        })
        .collect();
    let (items, next) = page(form, &rows);
    let marker = next
        .map(|n| format!("<Marker>{n}</Marker>"))
        .unwrap_or_default();
    format!(
        "<DBEngineVersions>{}</DBEngineVersions>{marker}",
        items.concat()
    )
}

/// Passes an RDS request to moto and its answer back, unchanged.
async fn forward(
    upstream: &str,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\n",
        parts.method,
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    for (name, value) in &parts.headers {
        let name = name.as_str();
        if matches!(
            name,
            "host" | "connection" | "content-length" | "transfer-encoding"
        ) {
            continue;
        }
        head.push_str(&format!(
            "{name}: {}\r\n",
            value.to_str().unwrap_or_default()
        ));
    }
    head.push_str(&format!(
        "host: {upstream}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let Ok(mut stream) = tokio::net::TcpStream::connect(upstream).await else {
        return reply(502, "text/plain", "moto is not reachable".into());
    };
    let mut raw = Vec::new();
    if stream.write_all(head.as_bytes()).await.is_err()
        || stream.write_all(&body).await.is_err()
        || stream.read_to_end(&mut raw).await.is_err()
    {
        return reply(502, "text/plain", "moto did not answer".into());
    }
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return reply(502, "text/plain", "moto's answer has no header end".into());
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut payload = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let mut builder = Response::builder().status(status);
    let mut chunked = false;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if name == "transfer-encoding" {
                chunked = value.to_ascii_lowercase().contains("chunked");
                continue;
            }
            if matches!(name.as_str(), "content-length" | "connection") {
                continue;
            }
            builder = builder.header(name, value.trim());
        }
    }
    if chunked {
        payload = dechunk(&payload);
    }
    builder
        .body(Full::new(Bytes::from(payload)))
        .expect("a response")
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

const TAG_SELECTION: &str = "6a3e0d2b-0000-4000-8000-000000000021";
const CONDITION_SELECTION: &str = "7b4f1e3c-0000-4000-8000-000000000021";

fn arn(kind: &str, id: &str) -> String {
    format!("arn:aws:rds:{REGION}:{ACCOUNT}:{kind}:{id}")
}

/// The AWS Backup answers: in [`REGION`], plan `daily-rds` selects `pg-aws-backup`
/// (by ARN) and every DB cluster (wildcard), except by NotResources; vault
/// `prod-locked` is locked and the rule copies to eu-central-1. Other regions
/// hold nothing.
fn backup(state: &State, region: &str, path: &str, query: &str) -> Response<Full<Bytes>> {
    let restores = path.starts_with("/restore-jobs");
    if state.mode == Mode::Deny || (state.mode == Mode::DenyRestores && restores) {
        let action = if restores {
            "ListRestoreJobs"
        } else {
            "ListBackupPlans"
        };
        let body = json!({"__type": "AccessDeniedException", "Message": format!("User: arn:aws:iam::{ACCOUNT}:user/auditor is not authorized to perform: backup:{action}")});
        return reply(403, "application/json", body.to_string());
    }
    let ours = region == REGION;
    let now = chrono::Utc::now().timestamp() as f64;
    let plan_id = "8a1e4c5b-0000-4000-8000-000000000021";
    let selection_id = "5f2d9c1a-0000-4000-8000-000000000021";
    let plan_arn = format!("arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:{plan_id}");
    let paged_token = query
        .split('&')
        .find_map(|p| p.strip_prefix("nextToken="))
        .map(str::to_string);
    let body: Value = match path.trim_end_matches('/') {
        "/backup/plans" => json!({
            "BackupPlansList": if ours { vec![json!({"BackupPlanArn": plan_arn, "BackupPlanId": plan_id, "BackupPlanName": "daily-rds", "VersionId": "v1", "CreationDate": now - 86400.0 * 30.0})] } else { vec![] }
        }),
        p if p == format!("/backup/plans/{plan_id}") && ours => json!({
            "BackupPlan": {"BackupPlanName": "daily-rds", "Rules": [{
                "RuleName": "daily-35", "TargetBackupVaultName": "prod-locked", "ScheduleExpression": "cron(0 5 ? * * *)",
                "StartWindowMinutes": 60, "CompletionWindowMinutes": 180, "RuleId": "rule-21",
                "Lifecycle": {"DeleteAfterDays": 35},
                "CopyActions": [{"DestinationBackupVaultArn": format!("arn:aws:backup:eu-central-1:{ACCOUNT}:backup-vault:dr"), "Lifecycle": {"DeleteAfterDays": 35}}]
            }]},
            "BackupPlanId": plan_id, "BackupPlanArn": plan_arn, "VersionId": "v1", "CreationDate": now - 86400.0 * 30.0
        }),
        p if p == format!("/backup/plans/{plan_id}/selections") && ours => json!({
            "BackupSelectionsList": ([selection_id, TAG_SELECTION, CONDITION_SELECTION].iter().zip(["rds-by-arn", "rds-by-tag", "rds-by-condition"]).map(|(id, name)| json!({"SelectionId": id, "SelectionName": name, "BackupPlanId": plan_id, "CreationDate": now - 86400.0 * 30.0, "IamRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole")})).collect::<Vec<_>>())
        }),
        // ListOfTags: any one tag selects (OR).
        p if p == format!("/backup/plans/{plan_id}/selections/{TAG_SELECTION}") && ours => json!({
            "BackupSelection": {"SelectionName": "rds-by-tag", "IamRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"),
                "Resources": [], "NotResources": [],
                "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily"}, {"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "hourly"}],
                "Conditions": {"StringEquals": [], "StringNotEquals": [], "StringLike": [], "StringNotLike": []}},
            "SelectionId": TAG_SELECTION, "BackupPlanId": plan_id, "CreationDate": now - 86400.0 * 30.0
        }),
        // Conditions AND'ed with each other and with Resources (DB instances only).
        p if p == format!("/backup/plans/{plan_id}/selections/{CONDITION_SELECTION}") && ours => {
            json!({
                "BackupSelection": {"SelectionName": "rds-by-condition", "IamRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"),
                    "Resources": [format!("arn:aws:rds:*:{ACCOUNT}:db:*")], "NotResources": [], "ListOfTags": [],
                    "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/tier", "ConditionValue": "gold"}], "StringNotEquals": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "sandbox"}], "StringLike": [], "StringNotLike": []}},
                "SelectionId": CONDITION_SELECTION, "BackupPlanId": plan_id, "CreationDate": now - 86400.0 * 30.0
            })
        }
        p if p == format!("/backup/plans/{plan_id}/selections/{selection_id}") && ours => json!({
            "BackupSelection": {"SelectionName": "rds-by-arn", "IamRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"),
                "Resources": [arn("db", "pg-aws-backup"), format!("arn:aws:rds:{REGION}:{ACCOUNT}:cluster:*")],
                "NotResources": [], "ListOfTags": []},
            "SelectionId": selection_id, "BackupPlanId": plan_id, "CreationDate": now - 86400.0 * 30.0
        }),
        // Two pages, so the client's pagination is exercised.
        "/resources" => match (ours, paged_token.as_deref()) {
            (true, None) => {
                json!({"Results": [{"ResourceArn": arn("db", "pg-aws-backup"), "ResourceType": "RDS", "ResourceName": "pg-aws-backup", "LastBackupTime": now - 5.0 * 3600.0}], "NextToken": "page-2"})
            }
            (true, Some(_)) => {
                json!({"Results": [{"ResourceArn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-0abc"), "ResourceType": "EBS", "LastBackupTime": now - 3600.0}]})
            }
            (false, _) => json!({"Results": []}),
        },
        // Completed restore jobs, two pages: pg-aws-backup restored by a restore
        // testing plan 10 days ago; an EBS volume (not RDS).
        "/restore-jobs" => match (ours, paged_token.as_deref()) {
            (true, None) => json!({"RestoreJobs": [{
                "AccountId": ACCOUNT, "RestoreJobId": "restore-job-21", "Status": "COMPLETED",
                "RecoveryPointArn": format!("arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:awsbackup:job-1a2b3c"),
                "SourceResourceArn": arn("db", "pg-aws-backup"), "ResourceType": "RDS",
                "BackupVaultArn": format!("arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:prod-locked"),
                "CreationDate": now - 86400.0 * 10.0 - 3600.0, "CompletionDate": now - 86400.0 * 10.0,
                "CreatedResourceArn": arn("db", "pg-aws-backup-restore-test"),
                "CreatedBy": {"RestoreTestingPlanArn": format!("arn:aws:backup:{REGION}:{ACCOUNT}:restore-testing-plan:monthly-rds-21")},
                "ValidationStatus": "SUCCESSFUL", "DeletionStatus": "SUCCESSFUL", "IsParent": false
            }], "NextToken": "page-2"}),
            (true, Some(_)) => json!({"RestoreJobs": [{
                "AccountId": ACCOUNT, "RestoreJobId": "restore-job-ebs", "Status": "COMPLETED",
                "RecoveryPointArn": format!("arn:aws:ec2:{REGION}::snapshot/snap-0abc"),
                "SourceResourceArn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-0abc"), "ResourceType": "EBS",
                "CreationDate": now - 86400.0, "CompletionDate": now - 86000.0, "IsParent": false
            }]}),
            (false, _) => json!({"RestoreJobs": []}),
        },
        "/backup-vaults" => json!({
            "BackupVaultList": if ours { vec![
                json!({"BackupVaultName": "prod-locked", "BackupVaultArn": format!("arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:prod-locked"), "CreationDate": now - 86400.0 * 90.0, "NumberOfRecoveryPoints": 35, "Locked": true, "MinRetentionDays": 7, "MaxRetentionDays": 365, "LockDate": now - 86400.0 * 60.0}),
                json!({"BackupVaultName": "Default", "BackupVaultArn": format!("arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:Default"), "CreationDate": now - 86400.0 * 90.0, "NumberOfRecoveryPoints": 0, "Locked": false})
            ] } else { vec![] }
        }),
        _ => {
            let body = json!({"__type": "ResourceNotFoundException", "Message": format!("no such resource: {path}")});
            return reply(404, "application/json", body.to_string());
        }
    };
    reply(200, "application/json", body.to_string())
}

/// DescribeBudgets in two pages (the first holds a budget that never alerts, the
/// second the unfiltered one that does) and DescribeNotificationsForBudget, in
/// the awsJson1_1 shapes of the Budgets API reference.
fn paged_budgets(operation: &str, input: &Value) -> Response<Full<Bytes>> {
    let budget = |name: &str| {
        json!({
            "BudgetName": name,
            "BudgetLimit": {"Amount": "500.0", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "CostFilters": {},
            "TimePeriod": {"Start": 1_767_225_600.0, "End": 3_706_473_600.0},
        })
    };
    let body = match operation {
        "DescribeBudgets" => match input["NextToken"].as_str() {
            None => json!({"Budgets": [budget("page-one-silent")], "NextToken": "page-2"}),
            Some("page-2") => json!({"Budgets": [budget("page-two-alerting")]}),
            Some(other) => {
                return reply(
                    400,
                    "application/x-amz-json-1.1",
                    json!({"__type": "InvalidNextTokenException", "Message": format!("bad token {other}")}).to_string(),
                );
            }
        },
        "DescribeNotificationsForBudget" => match input["BudgetName"].as_str() {
            Some("page-two-alerting") => json!({"Notifications": [{
                "NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN",
                "Threshold": 80.0, "ThresholdType": "PERCENTAGE", "NotificationState": "OK"
            }]}),
            _ => json!({"Notifications": []}),
        },
        other => {
            return reply(
                400,
                "application/x-amz-json-1.1",
                json!({"__type": "InvalidParameterException", "Message": format!("{other} is not served here")}).to_string(),
            );
        }
    };
    reply(200, "application/x-amz-json-1.1", body.to_string())
}
