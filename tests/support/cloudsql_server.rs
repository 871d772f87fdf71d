//! A local Cloud SQL Admin API v1 server (no emulator exists): answers the
//! read-only calls sqlready makes with JSON shaped like the published schema
//! (`tests/fixtures/cloudsql/`, validated in tests/cloudsql_fixtures.rs), on
//! 127.0.0.1 only. Requests without `Authorization: Bearer TOKEN` get 401.
//!
//! Fixture strings `${now}`, `${now-30h}`, `${now-5m}` become RFC 3339 times
//! relative to the moment the server renders them, so ages stay stable.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The only bearer token the server accepts.
pub const TOKEN: &str = "sqlready-test-token";

/// One answer: HTTP status and body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(value: &Value) -> Reply {
        Reply {
            status: 200,
            body: value.to_string(),
        }
    }

    /// A Google API error envelope, as the Admin API sends it.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        let body = json!({"error": {"code": status, "message": message, "status": code,
            "errors": [{"message": message, "domain": "global", "reason": code.to_lowercase()}]}});
        Reply {
            status,
            body: body.to_string(),
        }
    }
}

/// Routes: `PATH` or `PATH?pageToken=T` → answers, served in order; the last one repeats.
#[derive(Debug, Default, Clone)]
pub struct Routes(pub HashMap<String, VecDeque<Reply>>);

impl Routes {
    pub fn add(&mut self, key: impl Into<String>, replies: Vec<Reply>) {
        self.0.insert(key.into(), replies.into());
    }
}

/// A running server.
pub struct Server {
    pub url: String,
    state: Arc<State>,
}

struct State {
    routes: Mutex<Routes>,
    log: Mutex<Vec<String>>,
    requests: AtomicUsize,
    latency: Duration,
}

impl Server {
    /// Starts a server on 127.0.0.1:0 in a background thread that lives as long as the process.
    pub fn start(routes: Routes, latency: Duration) -> Server {
        let state = Arc::new(State {
            routes: Mutex::new(routes),
            log: Mutex::new(Vec::new()),
            requests: AtomicUsize::new(0),
            latency,
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let shared = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let state = shared.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |request| answer(state.clone(), request));
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        Server { url, state }
    }

    /// The requests served so far, as `METHOD PATH?QUERY`.
    pub fn log(&self) -> Vec<String> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn request_count(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Requests whose path contains `needle`.
    pub fn requests_to(&self, needle: &str) -> Vec<String> {
        self.log()
            .into_iter()
            .filter(|line| line.contains(needle))
            .collect()
    }
}

async fn answer(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    state
        .log
        .lock()
        .unwrap()
        .push(format!("{} {path}?{query}", request.method()));
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    // The OAuth token endpoint of an authorized_user credentials file (token_uri).
    if request.method() == hyper::Method::POST && path == "/token" {
        let body = json!({"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer",
            "scope": "https://www.googleapis.com/auth/cloud-platform"});
        return Ok(respond(&Reply::json(&body)));
    }
    let bearer = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if bearer != format!("Bearer {TOKEN}") {
        return Ok(respond(&Reply::error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        )));
    }
    let token = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("pageToken="))
        .filter(|t| !t.is_empty())
        .map(percent_decode);
    let key = match &token {
        Some(token) => format!("{path}?pageToken={token}"),
        None => path.clone(),
    };
    let reply = {
        let mut routes = state.routes.lock().unwrap();
        match routes.0.get_mut(&key) {
            Some(queue) if queue.len() > 1 => queue.pop_front(),
            Some(queue) => queue.front().cloned(),
            None => None,
        }
    };
    let reply = reply.unwrap_or_else(|| {
        Reply::error(404, "NOT_FOUND", "The Cloud SQL instance does not exist.")
    });
    Ok(respond(&Reply {
        status: reply.status,
        body: render(&reply.body),
    }))
}

fn respond(reply: &Reply) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json; charset=UTF-8")
        .body(Full::new(Bytes::from(reply.body.clone())))
        .expect("response")
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 3 <= bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(byte) => {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Replaces `${now}`, `${now-30h}`, `${now-5m}`, `${now-2d}` with RFC 3339 UTC times.
pub fn render(text: &str) -> String {
    let now = chrono::Utc::now();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${now") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let spec = &rest[start + 5..start + end];
        let offset = spec.strip_prefix('-').and_then(|amount| {
            let (number, unit) = amount.split_at(amount.len().saturating_sub(1));
            let number: i64 = number.parse().ok()?;
            Some(match unit {
                "m" => chrono::Duration::minutes(number),
                "h" => chrono::Duration::hours(number),
                "d" => chrono::Duration::days(number),
                _ => return None,
            })
        });
        let time = now - offset.unwrap_or_default();
        out.push_str(&time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// tests/fixtures/cloudsql.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cloudsql")
}

/// A fixture file's text, as stored (placeholders not yet rendered).
pub fn fixture(relative: &str) -> String {
    let path = fixtures_dir().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

pub fn fixture_json(relative: &str) -> Value {
    serde_json::from_str(&fixture(relative)).unwrap_or_else(|err| panic!("{relative}: {err}"))
}

/// An `InstancesListResponse` page.
pub fn list_page(items: Vec<Value>, next: Option<&str>, warnings: Option<Value>) -> Value {
    let mut page = json!({"kind": "sql#instancesList", "items": items});
    if let Some(next) = next {
        page["nextPageToken"] = json!(next);
    }
    if let Some(warnings) = warnings {
        page["warnings"] = warnings;
    }
    page
}

/// The scenarios the integration tests audit:
///
/// | target | what the server does |
/// | --- | --- |
/// | `cloudsql://acme-prod` | two list pages: pg-good, pg-bad, pg-replica / mysql-good, mysql-bad, mysql-replica |
/// | `cloudsql://acme-prod/INSTANCE` | `instances.get` of each, plus `pg-future` (unknown fields and enum values) and 404 for others |
/// | `cloudsql://acme-denied` | 403 on the list |
/// | `cloudsql://acme-busy` | 429, then the list (pg-good) |
/// | `cloudsql://acme-broken` | a body that is not an `InstancesListResponse` |
/// | `cloudsql://acme-partial` | one instance and a REGION_UNREACHABLE warning |
/// | `cloudsql://acme-odd/pg-good` | the instance, but 403 on backupRuns and a malformed getLatestRecoveryTime |
pub fn scenario_routes() -> Routes {
    let mut routes = Routes::default();
    let instance = |name: &str| fixture_json(&format!("instances/{name}.json"));
    let base = "/v1/projects/acme-prod/instances";
    routes.add(
        base,
        vec![Reply::json(&list_page(
            vec![
                instance("pg-good"),
                instance("pg-bad"),
                instance("pg-replica"),
            ],
            Some("page 2/2"),
            None,
        ))],
    );
    routes.add(
        format!("{base}?pageToken=page 2/2"),
        vec![Reply::json(&list_page(
            vec![
                instance("mysql-good"),
                instance("mysql-bad"),
                instance("mysql-replica"),
            ],
            None,
            None,
        ))],
    );
    for name in [
        "pg-good",
        "pg-bad",
        "pg-replica",
        "mysql-good",
        "mysql-bad",
        "mysql-replica",
        "pg-future",
    ] {
        routes.add(
            format!("{base}/{name}"),
            vec![Reply {
                status: 200,
                body: fixture(&format!("instances/{name}.json")),
            }],
        );
    }
    for name in ["pg-good", "mysql-good", "mysql-bad"] {
        routes.add(
            format!("{base}/{name}/backupRuns"),
            vec![Reply {
                status: 200,
                body: fixture(&format!("backup-runs/{name}.json")),
            }],
        );
    }
    routes.add(
        format!("{base}/pg-future/backupRuns"),
        vec![Reply {
            status: 200,
            body: fixture("backup-runs/empty.json"),
        }],
    );
    for name in ["pg-good", "mysql-good"] {
        routes.add(
            format!("{base}/{name}/getLatestRecoveryTime"),
            vec![Reply {
                status: 200,
                body: fixture(&format!("recovery/{name}.json")),
            }],
        );
    }

    routes.add(
        "/v1/projects/acme-denied/instances",
        vec![Reply::error(
            403,
            "PERMISSION_DENIED",
            "The client is not authorized to make this request.",
        )],
    );
    routes.add(
        "/v1/projects/acme-busy/instances",
        vec![
            Reply::error(
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute'.",
            ),
            Reply::json(&list_page(vec![instance("pg-good")], None, None)),
        ],
    );
    routes.add(
        "/v1/projects/acme-busy/instances/pg-good/backupRuns",
        vec![Reply {
            status: 200,
            body: fixture("backup-runs/pg-good.json"),
        }],
    );
    routes.add(
        "/v1/projects/acme-busy/instances/pg-good/getLatestRecoveryTime",
        vec![Reply {
            status: 200,
            body: fixture("recovery/pg-good.json"),
        }],
    );
    routes.add(
        "/v1/projects/acme-broken/instances",
        vec![Reply {
            status: 200,
            body: r#"{"kind": "sql#instancesList", "items": "#.to_string(),
        }],
    );
    let mut partial = fixture_json("lists/partial.json");
    partial["items"] = json!([instance("mysql-bad")]);
    routes.add(
        "/v1/projects/acme-partial/instances",
        vec![Reply::json(&partial)],
    );
    routes.add(
        "/v1/projects/acme-partial/instances/mysql-bad/backupRuns",
        vec![Reply {
            status: 200,
            body: fixture("backup-runs/mysql-bad.json"),
        }],
    );

    routes.add(
        "/v1/projects/acme-odd/instances/pg-good",
        vec![Reply {
            status: 200,
            body: fixture("instances/pg-good.json"),
        }],
    );
    routes.add(
        "/v1/projects/acme-odd/instances/pg-good/backupRuns",
        vec![Reply::error(
            403,
            "PERMISSION_DENIED",
            "The client is not authorized to make this request.",
        )],
    );
    routes.add(
        "/v1/projects/acme-odd/instances/pg-good/getLatestRecoveryTime",
        vec![Reply {
            status: 200,
            body: r#"{"kind": "sql#getLatestRecoveryTime", "latestRecoveryTime": 42}"#.to_string(),
        }],
    );
    routes
}

/// `count` instances in project `project` for the benchmark: alternately a
/// well-kept PostgreSQL primary (backups + PITR: two extras each) and a bare
/// MySQL primary (backups off: no extras), listed `page_size` per page.
pub fn bench_routes(project: &str, count: usize, page_size: usize) -> Routes {
    let mut routes = Routes::default();
    let good = fixture_json("instances/pg-good.json");
    let bare = fixture_json("instances/mysql-bad.json");
    let mut instances = Vec::with_capacity(count);
    for i in 0..count {
        let mut instance = if i % 2 == 0 {
            good.clone()
        } else {
            bare.clone()
        };
        let name = format!("db-{i:05}");
        instance["name"] = json!(name);
        instance["project"] = json!(project);
        instance["replicaNames"] = json!([]);
        if i % 2 == 1 {
            instance["settings"]["backupConfiguration"]["enabled"] = json!(false);
        } else {
            routes.add(
                format!("/v1/projects/{project}/instances/{name}/backupRuns"),
                vec![Reply {
                    status: 200,
                    body: fixture("backup-runs/pg-good.json"),
                }],
            );
            routes.add(
                format!("/v1/projects/{project}/instances/{name}/getLatestRecoveryTime"),
                vec![Reply {
                    status: 200,
                    body: fixture("recovery/pg-good.json"),
                }],
            );
        }
        instances.push(instance);
    }
    let pages: Vec<&[Value]> = instances.chunks(page_size.max(1)).collect();
    for (n, page) in pages.iter().enumerate() {
        let next = (n + 1 < pages.len()).then(|| format!("p{}", n + 1));
        let key = if n == 0 {
            format!("/v1/projects/{project}/instances")
        } else {
            format!("/v1/projects/{project}/instances?pageToken=p{n}")
        };
        routes.add(
            key,
            vec![Reply::json(&list_page(
                page.to_vec(),
                next.as_deref(),
                None,
            ))],
        );
    }
    routes
}
