//! Plain REST reads of the Google APIs that have no official Rust client
//! (Cloud Billing Budgets) or whose client would add a large crate for one
//! call (Cloud Billing `getBillingInfo`, Resource Manager `projects.get`):
//! `GET` with the audit's bearer token, JSON answers, Google's error envelope
//! classified like the Admin API client's errors.
//!
//! The same rules as the Admin API client: no redirect is followed (the token
//! must reach no other host), answers are capped at
//! [`crate::sources::api_answers::MAX_ANSWER_BYTES`], 429 / 5xx / connection
//! failures are retried with exponential backoff (honouring `Retry-After`)
//! within the call's time limit.

use crate::sources::api_answers::{
    MAX_ANSWER_BYTES, MAX_RETRY_AFTER, answer_too_large, retry_after,
};
use google_cloud_auth::credentials::{CacheableResource, Credentials};
use serde::de::DeserializeOwned;
use std::time::{Duration, Instant};

/// Replaces the hosts of the Google APIs read besides the Admin API
/// (`monitoring`, `cloudbilling`, `billingbudgets`, `cloudresourcemanager`
/// `.googleapis.com`): their paths differ, so one server or proxy can answer all.
pub const ENDPOINT_VAR: &str = "SQLREADY_GOOGLE_APIS_ENDPOINT";

/// Attempts per call (as the Admin API client).
const ATTEMPTS: u32 = 6;

/// Where an API is reached: `https://HOST.googleapis.com`, or the override.
/// `None` (with the reason) when the Admin API is redirected and no override
/// is set: the token is not sent to a Google host it was not meant for.
pub fn base_url(host: &str, admin_api_is_google: bool) -> Result<String, String> {
    let set = std::env::var(ENDPOINT_VAR)
        .ok()
        .map(|e| e.trim().trim_end_matches('/').to_string())
        .filter(|e| !e.is_empty());
    match set {
        Some(endpoint) => Ok(endpoint),
        None if admin_api_is_google => Ok(format!("https://{host}.googleapis.com")),
        None => Err(format!(
            "not asked: the Admin API is redirected (SQLREADY_CLOUDSQL_ENDPOINT) and {ENDPOINT_VAR} is not set, so the token is not sent to {host}.googleapis.com"
        )),
    }
}

/// Why a call failed, in words a user can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum RestError {
    /// 403: the permission (and role) that would allow it.
    Denied { what: String, detail: String },
    /// 404, 400, transport failures and other answers.
    Failed { what: String, detail: String },
}

impl std::fmt::Display for RestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestError::Denied { what, detail } => {
                write!(f, "{what} was denied ({detail})")
            }
            RestError::Failed { what, detail } => write!(f, "{what} failed ({detail})"),
        }
    }
}

/// The message of Google's error envelope (`{"error": {"code", "message", "status"}}`), else the body's start.
pub fn error_detail(status: u16, body: &[u8]) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let message = parsed.as_ref().and_then(|v| {
        let error = v.get("error")?;
        let message = error.get("message")?.as_str()?;
        Some(match error.get("status").and_then(|s| s.as_str()) {
            Some(code) => format!("{code}: {message}"),
            None => message.to_string(),
        })
    });
    match message {
        Some(message) => format!("HTTP {status} {message}"),
        None => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let shown: String = text.chars().take(200).collect();
            format!("HTTP {status}: {shown}")
        }
    }
}

/// One `GET url` with the credentials' bearer token, read as `T`.
/// `what` names the call for messages ("listing the budgets of billingAccounts/X").
pub async fn get_json<T: DeserializeOwned>(
    credentials: &Credentials,
    url: &str,
    what: &str,
    limit: Duration,
) -> Result<T, RestError> {
    let failed = |detail: String| RestError::Failed {
        what: what.to_string(),
        detail,
    };
    let client = reqwest::Client::builder()
        .timeout(limit)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|err| failed(format!("no HTTP client: {err}")))?;
    let started = Instant::now();
    let mut delay = Duration::from_millis(200);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let token = bearer(credentials).await.map_err(failed)?;
        let sent = client.get(url).bearer_auth(&token).send().await;
        let (status, wait, body) = match read(sent).await {
            Ok(answer) => answer,
            Err(Read::Transport(detail)) if attempt < ATTEMPTS => {
                if !sleep_within(delay, started, limit).await {
                    return Err(failed(detail));
                }
                delay = (delay * 2).min(Duration::from_secs(8));
                continue;
            }
            Err(Read::Transport(detail) | Read::Refused(detail)) => return Err(failed(detail)),
        };
        match status {
            200..=299 => {
                return serde_json::from_slice(&body).map_err(|err| {
                    failed(format!("the answer is not what the API documents: {err}"))
                });
            }
            429 | 500 | 502 | 503 | 504 if attempt < ATTEMPTS => {
                let wait = wait.map_or(delay, |w| w.min(MAX_RETRY_AFTER));
                if !sleep_within(wait, started, limit).await {
                    return Err(failed(error_detail(status, &body)));
                }
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            403 => {
                return Err(RestError::Denied {
                    what: what.to_string(),
                    detail: error_detail(status, &body),
                });
            }
            _ => return Err(failed(error_detail(status, &body))),
        }
    }
}

/// Sleeps `wait` unless that would pass the call's time limit.
async fn sleep_within(wait: Duration, started: Instant, limit: Duration) -> bool {
    if started.elapsed() + wait > limit {
        return false;
    }
    tokio::time::sleep(wait).await;
    true
}

enum Read {
    /// Worth retrying: the connection failed.
    Transport(String),
    /// Not worth retrying: a redirect, an answer over the cap.
    Refused(String),
}

async fn read(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<(u16, Option<Duration>, Vec<u8>), Read> {
    let mut response = sent.map_err(|err| Read::Transport(chain(&err)))?;
    let status = response.status().as_u16();
    if (300..400).contains(&status) {
        return Err(Read::Refused(format!(
            "answered HTTP {status} (a redirect); sqlready follows no redirect with a credential"
        )));
    }
    let wait = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(retry_after);
    if let Some(length) = response.content_length()
        && length > MAX_ANSWER_BYTES
    {
        return Err(Read::Refused(answer_too_large(
            Some(length),
            "a Google API",
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| Read::Transport(chain(&err)))?
    {
        if (body.len() + chunk.len()) as u64 > MAX_ANSWER_BYTES {
            return Err(Read::Refused(answer_too_large(None, "a Google API")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, wait, body))
}

/// A transport error with its causes (the URL carries no token: it is in a header).
fn chain(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The bearer token the credentials put in the Authorization header.
async fn bearer(credentials: &Credentials) -> Result<String, String> {
    match credentials.headers(http::Extensions::new()).await {
        Ok(CacheableResource::New { data, .. }) => data
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| "the credentials gave no bearer token".to_string()),
        Ok(CacheableResource::NotModified) => Err("the credentials gave no token".into()),
        Err(err) => Err(format!("the credentials gave no token ({err})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_error_envelopes_are_read() {
        let body = br#"{"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}}"#;
        assert_eq!(
            error_detail(403, body),
            "HTTP 403 PERMISSION_DENIED: The caller does not have permission"
        );
        assert_eq!(
            error_detail(502, b"<html>bad gateway</html>"),
            "HTTP 502: <html>bad gateway</html>"
        );
    }
}
