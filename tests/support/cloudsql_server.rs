//! A local Cloud SQL Admin API v1 server (no emulator exists): answers the
//! read-only calls sqlready makes with JSON shaped like the published schema
//! (`tests/fixtures/cloudsql/`, validated in tests/cloudsql_fixtures.rs), on
//! 127.0.0.1 only. Requests without an accepted bearer token get 401: [`TOKEN`],
//! [`USER_TOKEN`], or a self-signed service account JWT issued by [`KEY_EMAIL`].
//!
//! It also plays the Google endpoints around the API that the credentials and
//! the caller identity use: the OAuth token endpoint (`POST /token`, for the
//! `token_uri` of credentials files), token info (`POST /tokeninfo`, for
//! `SQLREADY_GOOGLE_OAUTH_ENDPOINT`) and the metadata server
//! (`/computeMetadata/v1/…`, for `GCE_METADATA_HOST`).
//!
//! Fixture strings `${now}`, `${now-30h}`, `${now-5m}` become RFC 3339 times
//! relative to the moment the server renders them, so ages stay stable.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
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

/// The bearer token of `GOOGLE_OAUTH_ACCESS_TOKEN` and the metadata server: a
/// service account's ([`SA_EMAIL`] to token info).
pub const TOKEN: &str = "sqlready-test-token";
/// The token `POST /token` gives an authorized_user (refresh token) grant: a user's ([`USER_EMAIL`]).
pub const USER_TOKEN: &str = "sqlready-user-login";
/// Whose [`TOKEN`] is, as token info says.
pub const SA_EMAIL: &str = "auditor@acme-prod.iam.gserviceaccount.com";
/// Whose [`USER_TOKEN`] is, as token info says.
pub const USER_EMAIL: &str = "dana@acme.example";
/// The metadata server's default service account.
pub const VM_EMAIL: &str = "sqlready-vm@acme-prod.iam.gserviceaccount.com";
/// The service account whose self-signed JWTs the API accepts (a service_account key file's `client_email`).
pub const KEY_EMAIL: &str = "sqlready-key@acme-prod.iam.gserviceaccount.com";

/// One answer: HTTP status and body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// Extra response headers (`Retry-After` …).
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// The same reply with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn json(value: &Value) -> Reply {
        Reply {
            status: 200,
            body: value.to_string(),
            headers: Vec::new(),
        }
    }

    /// A Google API error envelope, as the Admin API sends it.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        let body = json!({"error": {"code": status, "message": message, "status": code,
            "errors": [{"message": message, "domain": "global", "reason": code.to_lowercase()}]}});
        Reply {
            status,
            body: body.to_string(),
            headers: Vec::new(),
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
    if path.starts_with("/computeMetadata/") {
        return Ok(metadata(&request, &path));
    }
    let bearer = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let method = request.method().clone();
    if method == hyper::Method::POST && (path == "/token" || path.ends_with("/tokeninfo")) {
        let body = match request.into_body().collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => Bytes::new(),
        };
        let form = form(&body);
        return Ok(if path == "/token" {
            token(&form)
        } else {
            tokeninfo(&path, &form, &bearer)
        });
    }
    if !accepted(&bearer) {
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
        // A project no test gave operations to has none (`OperationsListResponse`).
        if path.starts_with("/v1/projects/") && path.ends_with("/operations") {
            return Reply::json(&json!({"kind": "sql#operationsList"}));
        }
        Reply::error(404, "NOT_FOUND", "The Cloud SQL instance does not exist.")
    });
    Ok(respond(&Reply {
        status: reply.status,
        body: render(&reply.body),
        headers: reply.headers.clone(),
    }))
}

/// Whether `Authorization` carries a token the API accepts.
fn accepted(authorization: &str) -> bool {
    let Some(token) = authorization.strip_prefix("Bearer ") else {
        return false;
    };
    token == TOKEN || token == USER_TOKEN || self_signed_by(token, KEY_EMAIL)
}

/// Whether `token` is a self-signed service account JWT issued by `email` for the
/// cloud-platform scope and not expired, as google-cloud-auth makes from a key
/// file. Only the claims are read: the signature is not verified.
fn self_signed_by(token: &str, email: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(_header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some(claims) = base64url(claims).and_then(|c| serde_json::from_slice::<Value>(&c).ok())
    else {
        return false;
    };
    let now = chrono::Utc::now().timestamp();
    !signature.is_empty()
        && claims["iss"] == email
        && claims["sub"] == email
        && claims["scope"]
            .as_str()
            .is_some_and(|s| s.contains("https://www.googleapis.com/auth/cloud-platform"))
        && claims["exp"].as_i64().is_some_and(|exp| exp > now)
}

fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            b'=' => continue,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The fields of an `application/x-www-form-urlencoded` or JSON body (Google's
/// OAuth endpoints take both; google-cloud-auth sends its refresh grant as JSON).
fn form(body: &[u8]) -> HashMap<String, String> {
    if let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) {
        return fields
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
            .collect();
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

/// `POST /token`, the OAuth token endpoint of a credentials file's `token_uri`:
/// a refresh-token grant (authorized_user) gets [`USER_TOKEN`]; a JWT-bearer grant
/// (a service account assertion) issued by [`KEY_EMAIL`] gets [`TOKEN`].
fn token(form: &HashMap<String, String>) -> Response<Full<Bytes>> {
    let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
    let issued = |token: &str| {
        respond(&Reply::json(
            &json!({"access_token": token, "expires_in": 3599,
            "token_type": "Bearer", "scope": "https://www.googleapis.com/auth/cloud-platform"}),
        ))
    };
    let refused = |error: &str| {
        respond(&Reply {
            status: 400,
            body: json!({"error": error}).to_string(),
            headers: Vec::new(),
        })
    };
    match grant {
        "refresh_token" if form.get("refresh_token").is_some_and(|t| !t.is_empty()) => {
            issued(USER_TOKEN)
        }
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => match form.get("assertion") {
            Some(assertion) if self_signed_by(assertion, KEY_EMAIL) => issued(TOKEN),
            _ => refused("invalid_grant"),
        },
        _ => refused("unsupported_grant_type"),
    }
}

/// `POST /tokeninfo` with `Authorization: Bearer T` or `access_token=T` (both,
/// when sent, must be the same token): whose token it is, as Google answers. Failing
/// variants, for `SQLREADY_GOOGLE_OAUTH_ENDPOINT=URL/PREFIX`: `/unavailable/tokeninfo`
/// answers 503, `/no-email/tokeninfo` as for a token without the email scope.
fn tokeninfo(
    path: &str,
    form: &HashMap<String, String>,
    authorization: &str,
) -> Response<Full<Bytes>> {
    if path == "/unavailable/tokeninfo" {
        return respond(&Reply::error(
            503,
            "UNAVAILABLE",
            "The service is currently unavailable.",
        ));
    }
    // Google reads the token from `access_token` or, as sqlready sends it, from
    // the Authorization header; both given must agree.
    let token = match (
        form.get("access_token"),
        authorization.strip_prefix("Bearer "),
    ) {
        (Some(token), _) => token.as_str(),
        (None, Some(token)) => token,
        (None, None) => "",
    };
    let consistent = authorization.is_empty() || authorization == format!("Bearer {token}");
    let scope = "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/cloud-platform";
    let info = |email: &str, sub: &str, azp: &str| {
        json!({"azp": azp, "aud": azp, "sub": sub, "scope": scope,
            "exp": (chrono::Utc::now().timestamp() + 3599).to_string(), "expires_in": "3599",
            "email": email, "email_verified": "true", "access_type": "online"})
    };
    let body = match token {
        _ if !consistent => None,
        TOKEN if path == "/no-email/tokeninfo" => Some(json!({"azp": "104857600000000000001",
            "aud": "104857600000000000001", "sub": "104857600000000000001",
            "scope": "https://www.googleapis.com/auth/cloud-platform",
            "exp": (chrono::Utc::now().timestamp() + 3599).to_string(), "expires_in": "3599",
            "access_type": "online"})),
        _ if path != "/tokeninfo" => None,
        TOKEN => Some(info(
            SA_EMAIL,
            "104857600000000000001",
            "104857600000000000001",
        )),
        USER_TOKEN => Some(info(
            USER_EMAIL,
            "104857600000000000002",
            "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com",
        )),
        _ => None,
    };
    respond(&match body {
        Some(body) => Reply::json(&body),
        None => Reply {
            status: 400,
            body: json!({"error": "invalid_token", "error_description": "Invalid Value"})
                .to_string(),
            headers: Vec::new(),
        },
    })
}

/// The metadata server: requires `Metadata-Flavor: Google` (else 403, as GCE does);
/// the default service account's token and email, and the universe domain.
fn metadata(request: &Request<Incoming>, path: &str) -> Response<Full<Bytes>> {
    let flavored = request
        .headers()
        .get("metadata-flavor")
        .is_some_and(|v| v == "Google");
    let text = |status: u16, body: &str| {
        Response::builder()
            .status(status)
            .header("content-type", "application/text")
            .header("metadata-flavor", "Google")
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("response")
    };
    if !flavored {
        return text(403, "Missing required header: Metadata-Flavor");
    }
    match path {
        "/computeMetadata/v1/instance/service-accounts/default/token" => respond(&Reply::json(
            &json!({"access_token": TOKEN, "expires_in": 3599,
                "token_type": "Bearer"}),
        )),
        "/computeMetadata/v1/instance/service-accounts/default/email" => text(200, VM_EMAIL),
        "/computeMetadata/v1/universe/universe-domain" => text(200, "googleapis.com"),
        _ => text(404, "Not Found"),
    }
}

fn respond(reply: &Reply) -> Response<Full<Bytes>> {
    let mut response = Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json; charset=UTF-8");
    for (name, value) in &reply.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    response
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
        // `${now+40d}`: a time ahead (a certificate's expiry).
        let ahead = spec.starts_with('+');
        let offset = spec.strip_prefix(['-', '+']).and_then(|amount| {
            let (number, unit) = amount.split_at(amount.len().saturating_sub(1));
            let number: i64 = number.parse().ok()?;
            Some(match unit {
                "m" => chrono::Duration::minutes(number),
                "h" => chrono::Duration::hours(number),
                "d" => chrono::Duration::days(number),
                _ => return None,
            })
        });
        let offset = offset.unwrap_or_default();
        let time = if ahead { now + offset } else { now - offset };
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
/// | `cloudsql://acme-prod/INSTANCE` | `instances.get` of each, plus `pg-future` (unknown fields and enum values), `pg-ca-expiring` (issue 21: server CA expiring in 40 days, log_connections off, a 90-day deny maintenance period) and 404 for others |
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
        "pg-ca-expiring",
    ] {
        routes.add(
            format!("{base}/{name}"),
            vec![Reply {
                status: 200,
                body: fixture(&format!("instances/{name}.json")),
                headers: Vec::new(),
            }],
        );
    }
    for (name, runs) in [
        ("pg-good", "pg-good"),
        ("mysql-good", "mysql-good"),
        ("mysql-bad", "mysql-bad"),
        ("pg-ca-expiring", "pg-good"),
    ] {
        routes.add(
            format!("{base}/{name}/backupRuns"),
            vec![Reply {
                status: 200,
                body: fixture(&format!("backup-runs/{runs}.json")),
                headers: Vec::new(),
            }],
        );
    }
    routes.add(
        format!("{base}/pg-future/backupRuns"),
        vec![Reply {
            status: 200,
            body: fixture("backup-runs/empty.json"),
            headers: Vec::new(),
        }],
    );
    for (name, recovery) in [
        ("pg-good", "pg-good"),
        ("mysql-good", "mysql-good"),
        ("pg-ca-expiring", "pg-good"),
    ] {
        routes.add(
            format!("{base}/{name}/getLatestRecoveryTime"),
            vec![Reply {
                status: 200,
                body: fixture(&format!("recovery/{recovery}.json")),
                headers: Vec::new(),
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
            headers: Vec::new(),
        }],
    );
    routes.add(
        "/v1/projects/acme-busy/instances/pg-good/getLatestRecoveryTime",
        vec![Reply {
            status: 200,
            body: fixture("recovery/pg-good.json"),
            headers: Vec::new(),
        }],
    );
    routes.add(
        "/v1/projects/acme-broken/instances",
        vec![Reply {
            status: 200,
            body: r#"{"kind": "sql#instancesList", "items": "#.to_string(),
            headers: Vec::new(),
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
            headers: Vec::new(),
        }],
    );

    routes.add(
        "/v1/projects/acme-odd/instances/pg-good",
        vec![Reply {
            status: 200,
            body: fixture("instances/pg-good.json"),
            headers: Vec::new(),
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
            headers: Vec::new(),
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
                    headers: Vec::new(),
                }],
            );
            routes.add(
                format!("/v1/projects/{project}/instances/{name}/getLatestRecoveryTime"),
                vec![Reply {
                    status: 200,
                    body: fixture("recovery/pg-good.json"),
                    headers: Vec::new(),
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

/// The billing account of `acme-fleet` (a `ProjectBillingInfo.billingAccountName`).
pub const FLEET_ACCOUNT: &str = "billingAccounts/012345-567890-ABCDEF";
/// The second pages of `acme-fleet`'s operations and budgets (opaque tokens; `=` and `+` must be escaped).
pub const OPERATIONS_PAGE_2: &str = "CiBvcGVyYXRpb25zLXBhZ2UtMg==";
pub const BUDGETS_PAGE_2: &str = "Yn+dWRnZXRz/cGFnZS0y";

/// The project-level reads of issue 12, for `SQLREADY_GOOGLE_APIS_ENDPOINT` pointed
/// at this server (the other Google APIs' paths do not collide with the Admin API's):
///
/// | project | what the server does |
/// | --- | --- |
/// | `cloudsql://acme-fleet` | pg-good (env=prod, team=orders), pg-good-dev (created by a CLONE of pg-good 3 days ago, env=dev), pg-bad, mysql-good, pg-replica; operations on two pages (`operations/acme-fleet*.json`): that CLONE, a failed CLONE of pg-bad, then a RESTORE_VOLUME into mysql-good 200 days ago; alert policies on two pages; a billing account with three budgets on two pages |
/// | `cloudsql://acme-closed` | pg-good, pg-bad; 403 on operations.list, alertPolicies.list and budgets.list |
///
/// Shapes, from the published REST references (no discovery document is kept here):
/// Cloud Monitoring v3 `ListAlertPoliciesResponse` {alertPolicies[AlertPolicy], nextPageToken}
/// with `AlertPolicy` {name, displayName, conditions[{name, displayName,
/// conditionThreshold {filter, comparison, thresholdValue, duration}}], combiner, enabled,
/// notificationChannels[]}; Cloud Billing v1 `ProjectBillingInfo` {name, projectId,
/// billingAccountName, billingEnabled}; Resource Manager v3 `Project` {name: projects/NUMBER,
/// parent, projectId, state, displayName}; Cloud Billing Budget v1 `ListBudgetsResponse`
/// {budgets[Budget], nextPageToken} with `Budget` {name, displayName, budgetFilter {projects,
/// services, labels: {key: [values]}, creditTypesTreatment, calendarPeriod}, amount
/// {specifiedAmount {currencyCode, units}}, thresholdRules[{thresholdPercent, spendBasis}],
/// notificationsRule, etag}. The operations list is a fixture validated against the Admin
/// API's discovery document (tests/cloudsql_fixtures.rs).
pub fn project_routes() -> Routes {
    let mut routes = Routes::default();
    let base = "/v1/projects/acme-fleet/instances";
    let instance = |name: &str, from: &str, labels: Value| {
        let mut value = fixture_json(&format!("instances/{from}.json"));
        value["name"] = json!(name);
        value["project"] = json!("acme-fleet");
        value["replicaNames"] = json!([]);
        value["settings"]["userLabels"] = labels;
        if from == "pg-replica" {
            value["masterInstanceName"] = json!("acme-fleet:pg-good");
        }
        value
    };
    let mut dev = instance(
        "pg-good-dev",
        "pg-good",
        json!({"env": "dev", "team": "sandbox"}),
    );
    dev["createTime"] = json!("${now-72h}");
    let listed = vec![
        instance(
            "pg-good",
            "pg-good",
            json!({"env": "prod", "team": "orders"}),
        ),
        dev,
        instance("pg-bad", "pg-bad", json!({})),
        instance("mysql-good", "mysql-good", json!({"env": "prod"})),
        instance("pg-replica", "pg-replica", json!({"env": "prod"})),
    ];
    for instance in &listed {
        let name = instance["name"].as_str().unwrap_or_default();
        routes.add(format!("{base}/{name}"), vec![Reply::json(instance)]);
    }
    routes.add(base, vec![Reply::json(&list_page(listed, None, None))]);
    routes.add(
        "/v1/projects/acme-fleet/operations",
        vec![Reply {
            status: 200,
            body: fixture("operations/acme-fleet.json"),
            headers: Vec::new(),
        }],
    );
    routes.add(
        format!("/v1/projects/acme-fleet/operations?pageToken={OPERATIONS_PAGE_2}"),
        vec![Reply {
            status: 200,
            body: fixture("operations/acme-fleet-2.json"),
            headers: Vec::new(),
        }],
    );
    let threshold = |name: &str, metric: &str, instance: Option<&str>| {
        let mut filter = format!(
            "resource.type = \"cloudsql_database\" AND metric.type = \"cloudsql.googleapis.com/database/{metric}\""
        );
        if let Some(instance) = instance {
            filter.push_str(&format!(" AND resource.label.database_id = \"{instance}\""));
        }
        json!({"name": format!("projects/acme-fleet/alertPolicies/1/conditions/{name}"), "displayName": name,
            "conditionThreshold": {"filter": filter, "comparison": "COMPARISON_GT", "thresholdValue": 0.85,
                "duration": "300s", "trigger": {"count": 1}}})
    };
    let policy = |id: u32, name: &str, conditions: Vec<Value>, enabled: bool| {
        json!({"name": format!("projects/acme-fleet/alertPolicies/{id}"), "displayName": name,
            "conditions": conditions, "combiner": "OR", "enabled": enabled,
            "notificationChannels": ["projects/acme-fleet/notificationChannels/42"],
            "creationRecord": {"mutateTime": "2026-01-10T10:00:00Z", "mutatedBy": "dana@acme.example"}})
    };
    routes.add(
        "/v3/projects/acme-fleet/alertPolicies",
        vec![Reply::json(&json!({
            "alertPolicies": [
                policy(1, "Cloud SQL disk", vec![threshold("disk", "disk/utilization", None)], true),
                policy(2, "orders CPU and memory", vec![
                    threshold("cpu", "cpu/utilization", Some("acme-fleet:pg-good")),
                    threshold("memory", "memory/utilization", Some("acme-fleet:pg-good")),
                ], true),
            ],
            "nextPageToken": "policies-2",
            "totalSize": 3
        }))],
    );
    routes.add(
        "/v3/projects/acme-fleet/alertPolicies?pageToken=policies-2",
        vec![Reply::json(&json!({
            "alertPolicies": [
                policy(3, "every memory, switched off", vec![threshold("memory", "memory/utilization", None)], false),
            ],
            "totalSize": 3
        }))],
    );
    routes.add(
        "/v1/projects/acme-fleet/billingInfo",
        vec![Reply::json(
            &json!({"name": "projects/acme-fleet/billingInfo", "projectId": "acme-fleet",
            "billingAccountName": FLEET_ACCOUNT, "billingEnabled": true}),
        )],
    );
    routes.add(
        "/v3/projects/acme-fleet",
        vec![Reply::json(
            &json!({"name": "projects/123456789012", "parent": "organizations/1234",
            "projectId": "acme-fleet", "state": "ACTIVE", "displayName": "ACME fleet",
            "etag": "W/\"1\""}),
        )],
    );
    let amount = json!({"specifiedAmount": {"currencyCode": "USD", "units": "500"}});
    routes.add(
        format!("/v1/{FLEET_ACCOUNT}/budgets"),
        vec![Reply::json(&json!({"budgets": [
            {"name": format!("{FLEET_ACCOUNT}/budgets/orders"), "displayName": "orders database",
             "budgetFilter": {"projects": ["projects/123456789012"], "services": ["services/9662-B51E-5089"],
                "labels": {"team": ["orders"]}, "creditTypesTreatment": "INCLUDE_ALL_CREDITS", "calendarPeriod": "MONTH"},
             "amount": amount, "thresholdRules": [{"thresholdPercent": 0.8, "spendBasis": "CURRENT_SPEND"}],
             "etag": "1"},
            {"name": format!("{FLEET_ACCOUNT}/budgets/compute"), "displayName": "compute",
             "budgetFilter": {"services": ["services/6F81-5844-456A"]}, "amount": amount,
             "thresholdRules": [{"thresholdPercent": 1.0}], "etag": "2"}
        ], "nextPageToken": BUDGETS_PAGE_2}))],
    );
    routes.add(
        format!("/v1/{FLEET_ACCOUNT}/budgets?pageToken={BUDGETS_PAGE_2}"),
        vec![Reply::json(&json!({"budgets": [
            {"name": format!("{FLEET_ACCOUNT}/budgets/quiet"), "displayName": "everything, no alerts",
             "budgetFilter": {"creditTypesTreatment": "INCLUDE_ALL_CREDITS", "calendarPeriod": "MONTH"},
             "amount": amount, "etag": "3"}
        ]}))],
    );

    let denied = || {
        Reply::error(
            403,
            "PERMISSION_DENIED",
            "The caller does not have permission",
        )
    };
    let closed = "/v1/projects/acme-closed/instances";
    let closed_instance = |name: &str| {
        let mut value = fixture_json(&format!("instances/{name}.json"));
        value["project"] = json!("acme-closed");
        value["replicaNames"] = json!([]);
        value
    };
    routes.add(
        closed,
        vec![Reply::json(&list_page(
            vec![closed_instance("pg-good"), closed_instance("pg-bad")],
            None,
            None,
        ))],
    );
    routes.add("/v1/projects/acme-closed/operations", vec![denied()]);
    routes.add("/v3/projects/acme-closed/alertPolicies", vec![denied()]);
    routes.add(
        "/v1/projects/acme-closed/billingInfo",
        vec![Reply::json(
            &json!({"name": "projects/acme-closed/billingInfo", "projectId": "acme-closed",
            "billingAccountName": "billingAccounts/0AAAAA-BBBBBB-CCCCCC", "billingEnabled": true}),
        )],
    );
    routes.add(
        "/v3/projects/acme-closed",
        vec![Reply::json(
            &json!({"name": "projects/222222222222", "projectId": "acme-closed"}),
        )],
    );
    routes.add(
        "/v1/billingAccounts/0AAAAA-BBBBBB-CCCCCC/budgets",
        vec![denied()],
    );
    routes
}

/// One Cloud Asset Inventory `ResourceSearchResult` of a Cloud SQL instance, in
/// the published shape (`searchAllResources` v1): full resource name on the
/// `cloudsql.googleapis.com` service, `project` as `projects/NUMBER`, the
/// ancestors, and the parent project's full resource name.
pub fn asset_result(project: &str, number: u64, instance: &str, folder: Option<&str>) -> Value {
    json!({
        "name": format!("//cloudsql.googleapis.com/projects/{project}/instances/{instance}"),
        "assetType": "sqladmin.googleapis.com/Instance",
        "project": format!("projects/{number}"),
        "folders": folder.map(|f| vec![format!("folders/{f}")]).unwrap_or_default(),
        "organization": "organizations/123456789",
        "displayName": instance,
        "description": "",
        "location": "us-central1",
        "labels": {"team": "orders"},
        "createTime": "2025-01-07T10:00:00Z",
        "updateTime": "2026-11-02T08:30:00Z",
        "state": "RUNNABLE",
        "additionalAttributes": {"databaseVersion": "POSTGRES_15"},
        "parentFullResourceName": format!("//cloudresourcemanager.googleapis.com/projects/{project}"),
        "parentAssetType": "cloudresourcemanager.googleapis.com/Project"
    })
}

/// The `searchAllResources` pages of `scope` (`organizations/ID`, `folders/ID`)
/// holding `results`, `page_size` a page, chained by `nextPageToken`.
pub fn asset_search_routes(routes: &mut Routes, scope: &str, results: &[Value], page_size: usize) {
    let pages: Vec<&[Value]> = results.chunks(page_size.max(1)).collect();
    let pages = if pages.is_empty() {
        vec![&[][..]]
    } else {
        pages
    };
    for (n, page) in pages.iter().enumerate() {
        let mut body = json!({"results": page});
        if n + 1 < pages.len() {
            body["nextPageToken"] = json!(format!("asset-page-{}", n + 1));
        }
        let key = if n == 0 {
            format!("/v1/{scope}:searchAllResources")
        } else {
            format!("/v1/{scope}:searchAllResources?pageToken=asset-page-{n}")
        };
        routes.add(key, vec![Reply::json(&body)]);
    }
}
