//! What the RDS source does when AWS misbehaves: throttling (retried with
//! backoff, then an error for that target only), access denied, malformed
//! answers, a parameter group it may not read, no credentials at all. An
//! in-process HTTP server answers in the RDS Query/XML protocol, reached by
//! the real binary through AWS_ENDPOINT_URL; it also serves what moto cannot:
//! DescribeDBMajorEngineVersions lifecycle dates.
#![cfg(feature = "rds")]

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::cli::{Run, finding, sqlready_with_env};

/// A request: its action and form parameters.
#[derive(Debug, Clone)]
struct Request {
    action: String,
    params: BTreeMap<String, String>,
}

type Handler = dyn Fn(&Request, usize) -> (u16, String) + Send + Sync;

/// A fake RDS endpoint. The handler gets the request and how many requests
/// with the same action and parameters came before it.
struct FakeRds {
    endpoint: String,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl FakeRds {
    fn start(
        handler: impl Fn(&Request, usize) -> (u16, String) + Send + Sync + 'static,
    ) -> FakeRds {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = handler.clone();
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    loop {
                        let mut length = 0usize;
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            let header = line.trim_end();
                            if header.is_empty() {
                                break;
                            }
                            if let Some((name, value)) = header.split_once(':')
                                && name.eq_ignore_ascii_case("content-length")
                            {
                                length = value.trim().parse().unwrap_or(0);
                            }
                        }
                        let mut body = vec![0u8; length];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        let params: BTreeMap<String, String> = String::from_utf8_lossy(&body)
                            .split('&')
                            .filter_map(|pair| pair.split_once('='))
                            .map(|(k, v)| (decode(k), decode(v)))
                            .collect();
                        let request = Request {
                            action: params.get("Action").cloned().unwrap_or_default(),
                            params,
                        };
                        let before = {
                            let mut log = log.lock().unwrap();
                            let n = log.iter().filter(|r| r.params == request.params).count();
                            log.push(request.clone());
                            n
                        };
                        let (status, body) = handler(&request, before);
                        let response = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        let mut out = stream.try_clone().unwrap();
                        if out.write_all(response.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        FakeRds { endpoint, seen }
    }

    fn count(&self, action: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.action == action)
            .count()
    }

    fn audit(&self, targets: &[&str], extra: &[(&str, &str)]) -> Run {
        let mut env = vec![
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ENDPOINT_URL_RDS", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent/sqlready-test/config"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/sqlready-test/credentials",
            ),
        ];
        env.extend_from_slice(extra);
        let mut args = vec!["audit"];
        args.extend_from_slice(targets);
        args.extend_from_slice(&["--format", "json"]);
        sqlready_with_env(&args, &env)
    }
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

const NS: &str = "http://rds.amazonaws.com/doc/2014-10-31/";

fn error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
    )
}

fn instance_xml(id: &str) -> String {
    format!(
        "<DBInstance><DBInstanceIdentifier>{id}</DBInstanceIdentifier><DBInstanceArn>arn:aws:rds:us-east-1:123456789012:db:{id}</DBInstanceArn>\
         <DBInstanceStatus>available</DBInstanceStatus><Engine>postgres</Engine><EngineVersion>16.3</EngineVersion>\
         <MultiAZ>true</MultiAZ><AvailabilityZone>us-east-1a</AvailabilityZone><BackupRetentionPeriod>7</BackupRetentionPeriod>\
         <AllocatedStorage>100</AllocatedStorage><MaxAllocatedStorage>200</MaxAllocatedStorage><PubliclyAccessible>false</PubliclyAccessible>\
         <StorageEncrypted>true</StorageEncrypted><DeletionProtection>true</DeletionProtection><MonitoringInterval>60</MonitoringInterval>\
         <PerformanceInsightsEnabled>true</PerformanceInsightsEnabled>\
         <DBParameterGroups><DBParameterGroup><DBParameterGroupName>pg16-custom</DBParameterGroupName><ParameterApplyStatus>in-sync</ParameterApplyStatus></DBParameterGroup></DBParameterGroups>\
         </DBInstance>"
    )
}

fn instances(ids: &[&str]) -> String {
    let body: String = ids.iter().map(|id| instance_xml(id)).collect();
    format!(
        "<DescribeDBInstancesResponse xmlns=\"{NS}\"><DescribeDBInstancesResult><DBInstances>{body}</DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeDBInstancesResponse>"
    )
}

fn parameters() -> String {
    format!(
        "<DescribeDBParametersResponse xmlns=\"{NS}\"><DescribeDBParametersResult><Parameters>\
         <Parameter><ParameterName>rds.logical_replication</ParameterName><ParameterValue>1</ParameterValue><ApplyType>static</ApplyType><Source>user</Source></Parameter>\
         </Parameters></DescribeDBParametersResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeDBParametersResponse>"
    )
}

fn lifecycle() -> String {
    format!(
        "<DescribeDBMajorEngineVersionsResponse xmlns=\"{NS}\"><DescribeDBMajorEngineVersionsResult><DBMajorEngineVersions>\
         <DBMajorEngineVersion><Engine>postgres</Engine><MajorEngineVersion>16</MajorEngineVersion><SupportedEngineLifecycles>\
         <SupportedEngineLifecycle><LifecycleSupportName>open-source-rds-standard-support</LifecycleSupportName>\
         <LifecycleSupportStartDate>2023-11-17T00:00:00Z</LifecycleSupportStartDate><LifecycleSupportEndDate>2029-02-28T00:00:00Z</LifecycleSupportEndDate></SupportedEngineLifecycle>\
         <SupportedEngineLifecycle><LifecycleSupportName>open-source-rds-extended-support</LifecycleSupportName>\
         <LifecycleSupportStartDate>2029-03-01T00:00:00Z</LifecycleSupportStartDate><LifecycleSupportEndDate>2032-02-29T00:00:00Z</LifecycleSupportEndDate></SupportedEngineLifecycle>\
         </SupportedEngineLifecycles></DBMajorEngineVersion></DBMajorEngineVersions></DescribeDBMajorEngineVersionsResult>\
         <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeDBMajorEngineVersionsResponse>"
    )
}

/// A well-behaved endpoint for one action set; `instances_answer` decides DescribeDBInstances.
fn rds(
    instances_answer: impl Fn(&Request, usize) -> (u16, String) + Send + Sync + 'static,
) -> FakeRds {
    FakeRds::start(move |request, before| match request.action.as_str() {
        "DescribeDBInstances" => instances_answer(request, before),
        "DescribeDBParameters" => (200, parameters()),
        "DescribeDBMajorEngineVersions" => (200, lifecycle()),
        other => (
            400,
            error("InvalidAction", &format!("{other} is not served here")),
        ),
    })
}

fn target<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no target {id} in {report:#}"))
}

#[test]
fn throttling_is_retried_and_lifecycle_dates_come_from_the_api() {
    let fake = rds(|request, before| {
        let id = request
            .params
            .get("DBInstanceIdentifier")
            .cloned()
            .unwrap_or_default();
        if before < 2 {
            (400, error("Throttling", "Rate exceeded"))
        } else {
            (200, instances(&[&id]))
        }
    });
    let run = fake.audit(&["rds://us-east-1/db/orders"], &[]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    assert_eq!(fake.count("DescribeDBInstances"), 3);
    let report = run.json();
    let orders = target(&report, "rds://us-east-1/db/orders");
    assert_eq!(orders["items"]["multi_zone"], "pass");
    // RDS's own calendar, not the upstream table (2028-11-09): enrolled in
    // Extended Support (the default), the version is patched until 2032-02-29,
    // and standard support (2029-02-28) is what the cost warning watches.
    let supported = finding(orders, "version.supported");
    assert!(
        supported["detail"].as_str().unwrap().contains("2032-02-29"),
        "{supported:#}"
    );
    let standard = finding(orders, "version.rds_standard_support");
    assert_eq!(standard["status"], "pass", "{standard:#}");
    assert!(
        standard["detail"].as_str().unwrap().contains("2029-02-28"),
        "{standard:#}"
    );
    assert_eq!(
        finding(orders, "cdc.rds_logical_replication")["status"],
        "pass"
    );
    assert_eq!(fake.count("DescribeDBParameters"), 1);
}

#[test]
fn endless_throttling_is_an_error_for_that_target_only() {
    let fake = rds(|request, _| {
        match request
            .params
            .get("DBInstanceIdentifier")
            .map(String::as_str)
        {
            Some("busy") => (400, error("Throttling", "Rate exceeded")),
            Some(id) => (200, instances(&[id])),
            None => (200, instances(&[])),
        }
    });
    let started = Instant::now();
    let run = fake.audit(
        &["rds://us-east-1/db/busy", "rds://us-east-1/db/calm"],
        &[("AWS_MAX_ATTEMPTS", "3")],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(20));
    let busy_calls = fake
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.params.get("DBInstanceIdentifier").map(String::as_str) == Some("busy"))
        .count();
    assert_eq!(busy_calls, 3, "AWS_MAX_ATTEMPTS attempts, then give up");
    let report = run.json();
    let busy = target(&report, "rds://us-east-1/db/busy").to_string();
    assert!(busy.contains("throttled after 3 attempts"), "{busy}");
    assert_eq!(
        target(&report, "rds://us-east-1/db/calm")["role"],
        "primary"
    );
}

#[test]
fn access_denied_names_the_permission_and_is_not_retried() {
    let fake = rds(|_, _| {
        (
            403,
            error(
                "AccessDenied",
                "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: rds:DescribeDBInstances",
            ),
        )
    });
    let run = fake.audit(&["rds://eu-central-1"], &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(fake.count("DescribeDBInstances"), 1);
    let text = run.stdout.clone();
    assert!(
        text.contains("rds:Describe*") && text.contains("eu-central-1"),
        "{text}"
    );
}

#[test]
fn a_malformed_answer_is_an_error_not_an_empty_region() {
    let fake = rds(|_, _| (200, "<html><body>captive portal</body></html>".to_string()));
    let run = fake.audit(&["rds://us-east-1"], &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let region = target(&report, "rds://us-east-1");
    let error = region["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {region:#}"));
    assert!(
        error.contains("cannot read") && error.contains("captive portal"),
        "{error}"
    );
    assert!(error.len() < 600, "{error}");
}

#[test]
fn an_unreadable_parameter_group_makes_parameter_checks_unknown() {
    let fake = FakeRds::start(|request, _| match request.action.as_str() {
        "DescribeDBInstances" => (200, instances(&["orders"])),
        "DescribeDBParameters" => (
            403,
            error(
                "AccessDenied",
                "not authorized to perform: rds:DescribeDBParameters",
            ),
        ),
        _ => (500, "<html>internal error</html>".to_string()),
    });
    let run = fake.audit(&["rds://us-east-1/db/orders"], &[]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    let report = run.json();
    let orders = target(&report, "rds://us-east-1/db/orders");
    let cdc = finding(orders, "cdc.rds_logical_replication");
    assert_eq!(cdc["status"], "unknown", "{cdc:#}");
    assert!(
        cdc["detail"].as_str().unwrap().contains("denied"),
        "{cdc:#}"
    );
    // The lifecycle API failed (HTTP 500): the embedded RDS calendar decides (PostgreSQL 16's
    // security fixes on RDS end with its paid extended support, 2032-02-29), and the report
    // still stands.
    let supported = finding(orders, "version.supported");
    assert!(
        supported["detail"].as_str().unwrap().contains("2032-02-29"),
        "{supported:#}"
    );
    // Backups are still judged: retention passes; the item is unknown only because AWS Backup
    // (not served here) is, the cross-region copy being advice (docs/scoring.md).
    assert_eq!(finding(orders, "backups.retention")["status"], "pass");
    assert_eq!(orders["items"]["backups"], "unknown");
}

#[test]
fn no_credentials_fails_fast_with_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_sqlready"))
        .args(["audit", "rds://us-east-1", "--format", "json"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.path().join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("credentials"),
        )
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(3));
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("aws sso login") && stdout.contains("AWS_PROFILE"),
        "{stdout}"
    );
    assert!(stdout.contains("no AWS credentials found"), "{stdout}");
}

#[test]
fn a_named_instance_of_an_engine_sqlready_does_not_audit_is_an_error_not_an_empty_pass() {
    let fake = rds(|_, _| {
        let oracle = instance_xml("erp")
            .replace("<Engine>postgres</Engine>", "<Engine>oracle-ee</Engine>")
            .replace(
                "<EngineVersion>16.3</EngineVersion>",
                "<EngineVersion>19.0.0.0.ru-2024-07.rur-2024-07.r1</EngineVersion>",
            );
        (
            200,
            format!(
                "<DescribeDBInstancesResponse xmlns=\"{NS}\"><DescribeDBInstancesResult><DBInstances>{oracle}</DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeDBInstancesResponse>"
            ),
        )
    });
    let run = fake.audit(&["rds://us-east-1/db/erp"], &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let failed = target(&report, "rds://us-east-1/db/erp");
    let error = failed["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {failed:#}"));
    assert!(
        error.contains("oracle-ee") && error.contains("does not audit"),
        "{error}"
    );
}
