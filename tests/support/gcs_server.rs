//! A local Cloud Storage server for the `gs://` tests: the XML API's object
//! PUT and GET (https://cloud.google.com/storage/docs/xml-api/put-object-upload,
//! …/get-object-download) and bucket listing with `list-type=2`
//! (…/get-bucket-list), answered as Cloud Storage answers them (ETag,
//! Last-Modified, x-goog-generation headers, `ListBucketResult` XML, XML
//! `Error` bodies), keeping objects in memory. Every request must carry
//! `Authorization: Bearer TOKEN`, else 401 as Cloud Storage says it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;

pub const TOKEN: &str = "ya29.gcs-test-token";

#[derive(Default)]
struct State {
    /// bucket → object name → (generation, bytes)
    objects: BTreeMap<String, BTreeMap<String, (u64, Vec<u8>)>>,
    generation: u64,
    log: Vec<String>,
}

pub struct GcsServer {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl GcsServer {
    /// Starts a server with the given (empty) buckets on 127.0.0.1:0.
    pub fn start(buckets: &[&str]) -> GcsServer {
        let mut state = State::default();
        for bucket in buckets {
            state.objects.insert(bucket.to_string(), BTreeMap::new());
        }
        let state = Arc::new(Mutex::new(state));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let shared = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
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
        GcsServer { url, state }
    }

    /// Object names in `bucket`, in order.
    pub fn names(&self, bucket: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state
            .objects
            .get(bucket)
            .map(|objects| objects.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn object(&self, bucket: &str, name: &str) -> Option<Vec<u8>> {
        let state = self.state.lock().unwrap();
        state.objects.get(bucket)?.get(name).map(|(_, b)| b.clone())
    }

    /// Requests served so far, as `METHOD PATH?QUERY`.
    pub fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

fn error(status: u16, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    Response::builder()
        .status(status)
        .header("content-type", "application/xml; charset=UTF-8")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn etag(generation: u64) -> String {
    format!("\"{generation:032x}\"")
}

const LAST_MODIFIED: &str = "Sun, 06 Dec 2026 03:00:00 GMT";

async fn answer(
    state: Arc<Mutex<State>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    state
        .lock()
        .unwrap()
        .log
        .push(format!("{method} {path}?{query}"));
    let authorized = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"));
    if !authorized {
        return Ok(error(
            401,
            "AuthenticationRequired",
            "Authentication required.",
        ));
    }
    let trimmed = path.trim_start_matches('/');
    let (bucket, name) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    let bucket = percent_decode(bucket);
    let name = percent_decode(name);
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut state = state.lock().unwrap();
    let next_generation = state.generation + 1;
    let Some(objects) = state.objects.get_mut(&bucket) else {
        return Ok(error(
            404,
            "NoSuchBucket",
            "The specified bucket does not exist.",
        ));
    };
    let response = match (&method, name.is_empty()) {
        // A prefix the credentials may list but not write to (a bucket policy that
        // grants objects.list only): Cloud Storage's 403.
        (&Method::PUT, false) if name.starts_with("read-only/") => error(
            403,
            "AccessDenied",
            "Access denied. Caller does not have storage.objects.create access.",
        ),
        (&Method::PUT, false) => {
            objects.insert(name, (next_generation, body.to_vec()));
            state.generation = next_generation;
            Response::builder()
                .status(200)
                .header("etag", etag(next_generation))
                .header("x-goog-generation", next_generation.to_string())
                .header("x-goog-metageneration", "1")
                .body(Full::new(Bytes::new()))
                .unwrap()
        }
        (&Method::GET, false) | (&Method::HEAD, false) => match objects.get(&name) {
            Some((generation, bytes)) => Response::builder()
                .status(200)
                .header("etag", etag(*generation))
                .header("last-modified", LAST_MODIFIED)
                .header("content-length", bytes.len().to_string())
                .header("x-goog-generation", generation.to_string())
                .body(Full::new(if method == Method::HEAD {
                    Bytes::new()
                } else {
                    Bytes::from(bytes.clone())
                }))
                .unwrap(),
            None => error(404, "NoSuchKey", "The specified key does not exist."),
        },
        (&Method::GET, true) => list(&bucket, objects, &query),
        _ => error(405, "MethodNotAllowed", "The method is not allowed."),
    };
    Ok(response)
}

/// `GET /BUCKET?list-type=2&prefix=P&delimiter=/` (one page: the tests hold few objects).
fn list(
    bucket: &str,
    objects: &BTreeMap<String, (u64, Vec<u8>)>,
    query: &str,
) -> Response<Full<Bytes>> {
    let param = |key: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{key}=")))
            .map(percent_decode)
    };
    if param("list-type").as_deref() != Some("2") {
        return error(
            400,
            "InvalidArgument",
            "list-type=2 expected by this server",
        );
    }
    let prefix = param("prefix").unwrap_or_default();
    let delimiter = param("delimiter");
    let mut contents = String::new();
    let mut prefixes = std::collections::BTreeSet::new();
    for (name, (generation, bytes)) in objects.range(prefix.clone()..) {
        if !name.starts_with(&prefix) {
            break;
        }
        if let Some(delimiter) = &delimiter
            && let Some(pos) = name[prefix.len()..].find(delimiter.as_str())
        {
            prefixes.insert(name[..prefix.len() + pos + delimiter.len()].to_string());
            continue;
        }
        contents.push_str(&format!(
            "<Contents><Key>{name}</Key><Generation>{generation}</Generation><MetaGeneration>1</MetaGeneration><LastModified>2026-12-06T03:00:00.000Z</LastModified><ETag>{}</ETag><Size>{}</Size></Contents>",
            etag(*generation).replace('"', "&quot;"),
            bytes.len()
        ));
    }
    let common: String = prefixes
        .iter()
        .map(|p| format!("<CommonPrefixes><Prefix>{p}</Prefix></CommonPrefixes>"))
        .collect();
    let body = format!(
        "<?xml version='1.0' encoding='UTF-8'?><ListBucketResult xmlns=\"http://doc.s3.amazonaws.com/2006-03-01\"><Name>{bucket}</Name><Prefix>{prefix}</Prefix><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{contents}{common}</ListBucketResult>"
    );
    Response::builder()
        .status(200)
        .header("content-type", "application/xml; charset=UTF-8")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}
