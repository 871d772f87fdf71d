//! Who ran the audit: the Google principal behind the credentials the Cloud
//! SQL source uses, for the run record of the evidence bundle.
//!
//! Found the way the credentials themselves are chosen (see `credentials()`):
//!
//! 1. `GOOGLE_OAUTH_ACCESS_TOKEN`: Google's token info endpoint says whose token it is.
//! 2. The ADC file (`GOOGLE_APPLICATION_CREDENTIALS`, else gcloud's), by its `type`:
//!    `service_account` → its `client_email`; `impersonated_service_account` and
//!    `external_account` with `service_account_impersonation_url` → the service
//!    account named there; `external_account` without it → `external_account:AUDIENCE`
//!    (the federated subject is known only to Google's STS); `authorized_user` →
//!    token info on the access token the credentials yield.
//! 3. No file: the metadata server's default service account.
//!
//! Principals use IAM member form (`serviceAccount:EMAIL`, `user:EMAIL`).
//! Everything here but [`resolve`] is pure. Identity never fails an audit: a
//! failure leaves the principal unknown, with the reason in the raw evidence.
//! The token is never stored, logged or put in an error.

use crate::facts::RawEvidence;
use google_cloud_auth::credentials::{CacheableResource, Credentials};
use serde_json::{Value, json};
use std::time::Duration;

/// Replaces `https://oauth2.googleapis.com` (where `/tokeninfo` lives).
pub const OAUTH_ENDPOINT_VAR: &str = "SQLREADY_GOOGLE_OAUTH_ENDPOINT";
const DEFAULT_OAUTH_ENDPOINT: &str = "https://oauth2.googleapis.com";
/// The metadata server's host, as the Google client libraries read it.
const METADATA_HOST_VAR: &str = "GCE_METADATA_HOST";
const DEFAULT_METADATA_HOST: &str = "metadata.google.internal";
const METADATA_EMAIL_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/email";
/// The evidence entry's name.
pub const EVIDENCE_NAME: &str = "caller identity";

/// The principal (when found) and the evidence of how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub principal: Option<String>,
    pub evidence: RawEvidence,
}

impl Identity {
    fn new(principal: Option<String>, request: &str, response: Value) -> Identity {
        Identity {
            principal,
            evidence: RawEvidence {
                source: "cloudsql".into(),
                name: EVIDENCE_NAME.into(),
                request: request.to_string(),
                response,
            },
        }
    }

    /// Found without asking Google: `{"principal": …, "how": …}`.
    pub fn found(request: &str, principal: String, how: &str) -> Identity {
        let response = json!({"principal": principal, "how": how});
        Identity::new(Some(principal), request, response)
    }

    /// Not found: `{"error": reason}`.
    pub fn failed(request: &str, reason: impl Into<String>) -> Identity {
        Identity::new(None, request, json!({"error": reason.into()}))
    }

    /// Why the principal is unknown, when it is.
    pub fn reason(&self) -> Option<&str> {
        match self.principal {
            Some(_) => None,
            None => self.evidence.response["error"].as_str(),
        }
    }
}

/// How the principal is to be found, decided before any network call.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Read from the credentials file (or not readable there): nothing to ask.
    Done(Identity),
    /// Ask token info about the bearer token the credentials yield; `what` names them.
    TokenInfo { what: String },
    /// Ask the metadata server which service account this machine runs as.
    Metadata,
}

/// The plan for the credentials in use: `token_set` when `GOOGLE_OAUTH_ACCESS_TOKEN`
/// is the bearer token; else `file`, the ADC file ADC reads (its name and text, or
/// why it could not be read); else the metadata server.
pub fn plan(token_set: bool, file: Option<(&str, Result<String, String>)>) -> Plan {
    if token_set {
        return Plan::TokenInfo {
            what: "GOOGLE_OAUTH_ACCESS_TOKEN".into(),
        };
    }
    match file {
        None => Plan::Metadata,
        Some((name, Err(reason))) => Plan::Done(Identity::failed(
            &format!("credentials file {name}"),
            format!("the credentials file {name} could not be read ({reason})"),
        )),
        Some((name, Ok(text))) => plan_for_file(name, &text),
    }
}

/// What an ADC file says about its principal (see the module documentation).
pub fn plan_for_file(name: &str, text: &str) -> Plan {
    let request = format!("credentials file {name}");
    let json: Value = match serde_json::from_str(text) {
        Ok(json @ Value::Object(_)) => json,
        Ok(_) => {
            return Plan::Done(Identity::failed(
                &request,
                format!("the credentials file {name} is not a JSON object"),
            ));
        }
        Err(err) => {
            return Plan::Done(Identity::failed(
                &request,
                format!(
                    "the credentials file {name} is not JSON (line {}, column {})",
                    err.line(),
                    err.column()
                ),
            ));
        }
    };
    let field = |key: &str| {
        json.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let Some(kind) = field("type") else {
        return Plan::Done(Identity::failed(
            &request,
            format!("the credentials file {name} has no `type`"),
        ));
    };
    let impersonated = |url: &str, kind: &str| {
        let request = format!("service_account_impersonation_url of {name}");
        Plan::Done(match impersonated_email(url) {
            Ok(email) => Identity::found(
                &request,
                format!("serviceAccount:{email}"),
                &format!("the service account the {kind} credentials impersonate"),
            ),
            Err(reason) => Identity::failed(
                &request,
                format!("the {kind} credentials in {name}: {reason}"),
            ),
        })
    };
    match kind {
        "service_account" => Plan::Done(match field("client_email") {
            Some(email) => Identity::found(
                &format!("client_email of {name}"),
                format!("serviceAccount:{email}"),
                "client_email of the service_account credentials file",
            ),
            None => Identity::failed(
                &format!("client_email of {name}"),
                format!("the service_account credentials in {name} have no client_email"),
            ),
        }),
        "impersonated_service_account" => match field("service_account_impersonation_url") {
            Some(url) => impersonated(url, kind),
            None => Plan::Done(Identity::failed(
                &format!("service_account_impersonation_url of {name}"),
                format!(
                    "the impersonated_service_account credentials in {name} have no service_account_impersonation_url"
                ),
            )),
        },
        "external_account" => match (
            field("service_account_impersonation_url"),
            field("audience"),
        ) {
            (Some(url), _) => impersonated(url, kind),
            (None, Some(audience)) => Plan::Done(Identity::found(
                &format!("audience of {name}"),
                format!("external_account:{audience}"),
                "audience of the external_account credentials file (workload identity federation without impersonation: the federated subject is known only to Google's Security Token Service)",
            )),
            (None, None) => Plan::Done(Identity::failed(
                &format!("audience of {name}"),
                format!(
                    "the external_account credentials in {name} have neither service_account_impersonation_url nor audience"
                ),
            )),
        },
        "authorized_user" => Plan::TokenInfo {
            what: format!("the authorized_user credentials in {name}"),
        },
        other => Plan::Done(Identity::failed(
            &request,
            format!(
                "the credentials in {name} are of type {other}, whose principal sqlready does not read"
            ),
        )),
    }
}

/// The service account in `…/serviceAccounts/EMAIL:generateAccessToken`.
pub fn impersonated_email(url: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("service_account_impersonation_url {url:?} {why}"));
    let Some((_, rest)) = url.trim().split_once("/serviceAccounts/") else {
        return bad("names no service account (no /serviceAccounts/)");
    };
    let Some(account) = rest.strip_suffix(":generateAccessToken") else {
        return bad("does not end with :generateAccessToken");
    };
    let email = percent_decode(account);
    if email.contains('/') || email.chars().any(char::is_whitespace) {
        return bad("names no service account");
    }
    match email.split_once('@') {
        Some((user, domain)) if !user.is_empty() && domain.contains('.') => Ok(email),
        _ if !email.is_empty() && email.bytes().all(|b| b.is_ascii_digit()) => bad(&format!(
            "names service account {email} by its unique ID, not its email"
        )),
        _ => bad("names no service account email"),
    }
}

/// IAM member form of an email a Google token was issued to.
pub fn member(email: &str) -> String {
    if email.to_ascii_lowercase().ends_with(".gserviceaccount.com") {
        format!("serviceAccount:{email}")
    } else {
        format!("user:{email}")
    }
}

/// What token info answered (`POST {base}/tokeninfo`, the token in the
/// Authorization header), as the identity.
pub fn from_tokeninfo(request: &str, what: &str, status: u16, body: &[u8]) -> Identity {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    if !(200..300).contains(&status) {
        let detail = json
            .as_ref()
            .and_then(|j| {
                let error = j["error"].as_str()?;
                Some(match j["error_description"].as_str() {
                    Some(description) => format!(" ({error}: {description})"),
                    None => format!(" ({error})"),
                })
            })
            .unwrap_or_default();
        return Identity::failed(
            request,
            format!("token info answered HTTP {status} about the token of {what}{detail}"),
        );
    }
    let Some(Value::Object(mut info)) = json else {
        return Identity::failed(
            request,
            format!("token info answered something that is not a JSON object (HTTP {status})"),
        );
    };
    // Token info answers with claims, never a token; drop any all the same.
    for secret in ["access_token", "id_token", "refresh_token"] {
        info.remove(secret);
    }
    let email = info
        .get("email")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    match email {
        Some(email) => Identity::new(Some(member(&email)), request, Value::Object(info)),
        None => {
            let subject = info
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or("not given");
            let reason = format!(
                "the token of {what} carries no email (it lacks the userinfo.email scope); its subject (sub) is {subject}"
            );
            Identity::new(
                None,
                request,
                json!({"error": reason, "tokeninfo": Value::Object(info)}),
            )
        }
    }
}

/// What the metadata server answered for the default service account's email.
pub fn from_metadata(request: &str, status: u16, body: &[u8]) -> Identity {
    if !(200..300).contains(&status) {
        return Identity::failed(
            request,
            format!("the metadata server answered HTTP {status}"),
        );
    }
    let text = String::from_utf8_lossy(body);
    let email = text.trim();
    let plain = !email.is_empty() && !email.chars().any(char::is_whitespace);
    let how = "the default service account of the metadata server";
    match email.split_once('@') {
        Some((user, domain)) if plain && !user.is_empty() && domain.contains('.') => {
            Identity::found(request, format!("serviceAccount:{email}"), how)
        }
        // GKE workload identity with no Google service account bound: the
        // workload's own principal needs the project number and the
        // Kubernetes service account, which the metadata server does not say.
        None if plain && email.ends_with(".svc.id.goog") => Identity::found(
            request,
            format!("workload_identity_pool:{email}"),
            "the workload identity pool the metadata server names (GKE workload identity without a bound service account)",
        ),
        _ => Identity::failed(
            request,
            "the metadata server answered something that is not a service account email",
        ),
    }
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The token info base URL: `SQLREADY_GOOGLE_OAUTH_ENDPOINT`, else Google's —
/// but only while the Admin API is Google's too: with the API redirected
/// (`SQLREADY_CLOUDSQL_ENDPOINT`: a private endpoint, a proxy, a test server)
/// the token is not sent to a public Google endpoint it was not meant for.
pub fn oauth_endpoint(api_is_google: bool) -> Result<String, String> {
    match std::env::var(OAUTH_ENDPOINT_VAR)
        .ok()
        .map(|e| e.trim().trim_end_matches('/').to_string())
        .filter(|e| !e.is_empty())
    {
        Some(endpoint) => Ok(endpoint),
        None if api_is_google => Ok(DEFAULT_OAUTH_ENDPOINT.to_string()),
        None => Err(format!(
            "token info was not asked: the Admin API is redirected (SQLREADY_CLOUDSQL_ENDPOINT) and {OAUTH_ENDPOINT_VAR} is not set, so the token is not sent to {DEFAULT_OAUTH_ENDPOINT}"
        )),
    }
}

fn metadata_url() -> String {
    let host = std::env::var(METADATA_HOST_VAR)
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| DEFAULT_METADATA_HOST.to_string());
    format!("http://{host}{METADATA_EMAIL_PATH}")
}

// The edge: the HTTP calls.

/// Finds the principal as `plan` says, within `timeout`; never fails.
pub async fn resolve(
    plan: Plan,
    credentials: &Credentials,
    timeout: Duration,
    api_is_google: bool,
) -> Identity {
    let (request, asked) = match plan {
        Plan::Done(identity) => return identity,
        Plan::TokenInfo { what } => {
            let endpoint = match oauth_endpoint(api_is_google) {
                Ok(endpoint) => endpoint,
                Err(reason) => return Identity::failed("token info", reason),
            };
            let request = format!("POST {endpoint}/tokeninfo");
            let asked = tokeninfo(request.clone(), endpoint, what, credentials, timeout);
            (request, futures::future::Either::Left(asked))
        }
        Plan::Metadata => {
            let url = metadata_url();
            let request = format!("GET {url}");
            let asked = metadata(request.clone(), url, timeout);
            (request, futures::future::Either::Right(asked))
        }
    };
    match tokio::time::timeout(timeout, asked).await {
        Ok(identity) => identity,
        Err(_) => Identity::failed(
            &request,
            format!("no answer within {:.0} s", timeout.as_secs_f64()),
        ),
    }
}

async fn tokeninfo(
    request: String,
    endpoint: String,
    what: String,
    credentials: &Credentials,
    timeout: Duration,
) -> Identity {
    let token = match bearer(credentials).await {
        Ok(token) => token,
        Err(reason) => return Identity::failed(&request, format!("{what}: {reason}")),
    };
    let client = match client(timeout, false) {
        Ok(client) => client,
        Err(err) => return Identity::failed(&request, format!("no HTTP client ({err})")),
    };
    // The token goes in the Authorization header only: never in a body or a
    // URL (which proxies log), and with redirects refused (see `client`) it
    // reaches no host but the one named.
    let sent = client
        .post(format!("{endpoint}/tokeninfo"))
        .bearer_auth(&token)
        .send()
        .await;
    match read(sent).await {
        Ok((status, body)) => from_tokeninfo(&request, &what, status, &body),
        Err(reason) => Identity::failed(&request, format!("token info: {reason}")),
    }
}

async fn metadata(request: String, url: String, timeout: Duration) -> Identity {
    // The metadata server is link-local: never through a proxy.
    let client = match client(timeout, true) {
        Ok(client) => client,
        Err(err) => return Identity::failed(&request, format!("no HTTP client ({err})")),
    };
    let sent = client
        .get(&url)
        .header("Metadata-Flavor", "Google")
        .send()
        .await;
    match read(sent).await {
        Ok((status, body)) => from_metadata(&request, status, &body),
        Err(reason) => Identity::failed(&request, format!("the metadata server: {reason}")),
    }
}

/// The largest identity answer read (token info and the metadata server answer
/// well under 2 KiB); a longer one is refused, not buffered.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// An HTTP client that follows no redirect: a request carrying a credential
/// (the bearer token, the metadata flavour header) must never be replayed to
/// a host the answer names. A 3xx is read as the answer it is.
fn client(timeout: Duration, no_proxy: bool) -> Result<reqwest::Client, reqwest::Error> {
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none());
    let builder = if no_proxy {
        builder.no_proxy()
    } else {
        builder
    };
    builder.build()
}

async fn read(sent: Result<reqwest::Response, reqwest::Error>) -> Result<(u16, Vec<u8>), String> {
    let mut response = sent.map_err(|err| request_error(&err))?;
    let status = response.status().as_u16();
    if (300..400).contains(&status) {
        return Err(format!(
            "answered HTTP {status} (a redirect); sqlready follows no redirect with a credential"
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| request_error(&err))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!(
                "the answer is longer than {MAX_ANSWER_BYTES} bytes; refused (HTTP {status})"
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

/// A transport error with its causes (the URL carries no token: it is in a header).
fn request_error(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The bearer token the credentials put in the Authorization header.
pub(crate) async fn bearer(credentials: &Credentials) -> Result<String, String> {
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

    const FILE: &str = "/home/me/adc.json";

    fn done(plan: Plan) -> Identity {
        match plan {
            Plan::Done(identity) => identity,
            other => panic!("expected a finished plan, got {other:?}"),
        }
    }

    fn file(json: Value) -> Identity {
        done(plan_for_file(FILE, &json.to_string()))
    }

    #[test]
    fn the_access_token_variable_goes_to_token_info_first() {
        let adc = json!({"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com"});
        let plan = plan(true, Some((FILE, Ok(adc.to_string()))));
        assert_eq!(
            plan,
            Plan::TokenInfo {
                what: "GOOGLE_OAUTH_ACCESS_TOKEN".into()
            }
        );
    }

    #[test]
    fn no_file_asks_the_metadata_server() {
        assert_eq!(plan(false, None), Plan::Metadata);
    }

    #[test]
    fn an_unreadable_file_is_a_reason() {
        let identity = done(plan(false, Some((FILE, Err("permission denied".into())))));
        assert_eq!(identity.principal, None);
        assert!(identity.reason().unwrap().contains("permission denied"));
    }

    #[test]
    fn service_account_file_is_its_client_email() {
        let identity = file(json!({
            "type": "service_account",
            "client_email": "auditor@acme-prod.iam.gserviceaccount.com",
            "private_key": "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n",
        }));
        assert_eq!(
            identity.principal.as_deref(),
            Some("serviceAccount:auditor@acme-prod.iam.gserviceaccount.com")
        );
        assert_eq!(identity.evidence.name, "caller identity");
        assert_eq!(identity.evidence.source, "cloudsql");
        assert_eq!(identity.evidence.request, format!("client_email of {FILE}"));
        assert_eq!(
            identity.evidence.response["principal"],
            "serviceAccount:auditor@acme-prod.iam.gserviceaccount.com"
        );
        assert!(identity.evidence.response["how"].is_string());
        assert!(!identity.evidence.response.to_string().contains("PRIVATE"));
    }

    #[test]
    fn service_account_file_without_client_email() {
        let identity = file(json!({"type": "service_account", "client_email": ""}));
        assert_eq!(identity.principal, None);
        assert!(identity.reason().unwrap().contains("no client_email"));
    }

    #[test]
    fn impersonated_file_is_the_target_service_account() {
        let identity = file(json!({
            "type": "impersonated_service_account",
            "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/audit@acme-prod.iam.gserviceaccount.com:generateAccessToken",
            "source_credentials": {"type": "authorized_user", "refresh_token": "r"},
        }));
        assert_eq!(
            identity.principal.as_deref(),
            Some("serviceAccount:audit@acme-prod.iam.gserviceaccount.com")
        );
        assert!(
            identity
                .evidence
                .request
                .starts_with("service_account_impersonation_url of ")
        );
    }

    #[test]
    fn impersonated_file_without_url() {
        let identity = file(json!({"type": "impersonated_service_account"}));
        assert_eq!(identity.principal, None);
        assert!(
            identity
                .reason()
                .unwrap()
                .contains("no service_account_impersonation_url")
        );
    }

    #[test]
    fn bad_impersonation_urls_are_reasons() {
        for (url, why) in [
            (
                "https://iamcredentials.googleapis.com/v1/projects/-/foo",
                "no /serviceAccounts/",
            ),
            (
                "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/a@b.com:signBlob",
                ":generateAccessToken",
            ),
            (
                "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/:generateAccessToken",
                "no service account email",
            ),
            (
                "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/1234567890:generateAccessToken",
                "unique ID",
            ),
        ] {
            let err = impersonated_email(url).unwrap_err();
            assert!(err.contains(why), "{url}: {err}");
        }
        let identity = file(json!({
            "type": "impersonated_service_account",
            "service_account_impersonation_url": "not a url",
        }));
        assert_eq!(identity.principal, None);
        assert!(identity.reason().unwrap().contains("not a url"));
    }

    #[test]
    fn a_percent_encoded_email_is_decoded() {
        assert_eq!(
            impersonated_email(
                "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/a%40b.iam.gserviceaccount.com:generateAccessToken"
            )
            .unwrap(),
            "a@b.iam.gserviceaccount.com"
        );
    }

    #[test]
    fn external_account_with_impersonation_is_the_service_account() {
        let identity = file(json!({
            "type": "external_account",
            "audience": "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/gh/providers/gh",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": "https://sts.googleapis.com/v1/token",
            "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/ci@acme-prod.iam.gserviceaccount.com:generateAccessToken",
            "credential_source": {"file": "/var/run/token"},
        }));
        assert_eq!(
            identity.principal.as_deref(),
            Some("serviceAccount:ci@acme-prod.iam.gserviceaccount.com")
        );
    }

    #[test]
    fn external_account_without_impersonation_is_its_audience() {
        let audience = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/gh/providers/gh";
        let identity = file(json!({"type": "external_account", "audience": audience}));
        assert_eq!(
            identity.principal,
            Some(format!("external_account:{audience}"))
        );
        assert_eq!(identity.evidence.request, format!("audience of {FILE}"));
        let identity = file(json!({"type": "external_account"}));
        assert_eq!(identity.principal, None);
        assert!(identity.reason().unwrap().contains("neither"));
    }

    #[test]
    fn authorized_user_goes_to_token_info() {
        let plan = plan_for_file(
            FILE,
            &json!({"type": "authorized_user", "refresh_token": "r"}).to_string(),
        );
        assert_eq!(
            plan,
            Plan::TokenInfo {
                what: format!("the authorized_user credentials in {FILE}")
            }
        );
    }

    #[test]
    fn malformed_files_are_reasons() {
        for (text, why) in [
            ("{\"type\": ", "not JSON"),
            ("[1, 2]", "not a JSON object"),
            ("{\"client_email\": \"a@b.com\"}", "no `type`"),
            (
                "{\"type\": \"gdch_service_account\"}",
                "gdch_service_account",
            ),
        ] {
            let identity = done(plan_for_file(FILE, text));
            assert_eq!(identity.principal, None, "{text}");
            let reason = identity.reason().unwrap();
            assert!(reason.contains(why) && reason.contains(FILE), "{reason}");
        }
    }

    #[test]
    fn token_info_of_a_user() {
        let body = json!({"azp": "32555940559.apps.googleusercontent.com",
            "aud": "32555940559.apps.googleusercontent.com", "sub": "1098",
            "scope": "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/cloud-platform",
            "exp": "1767225600", "expires_in": "3599", "email": "dana@acme.example",
            "email_verified": "true", "access_type": "offline"});
        let identity = from_tokeninfo(
            "POST https://oauth2.googleapis.com/tokeninfo",
            "GOOGLE_OAUTH_ACCESS_TOKEN",
            200,
            body.to_string().as_bytes(),
        );
        assert_eq!(
            identity.principal.as_deref(),
            Some("user:dana@acme.example")
        );
        assert_eq!(identity.evidence.response, body);
        assert_eq!(
            identity.evidence.request,
            "POST https://oauth2.googleapis.com/tokeninfo"
        );
    }

    #[test]
    fn token_info_of_a_service_account() {
        let body = json!({"email": "auditor@acme-prod.iam.gserviceaccount.com", "sub": "1",
            "email_verified": "true", "expires_in": "3000"});
        let identity = from_tokeninfo("r", "w", 200, body.to_string().as_bytes());
        assert_eq!(
            identity.principal.as_deref(),
            Some("serviceAccount:auditor@acme-prod.iam.gserviceaccount.com")
        );
        assert_eq!(
            member("ci@acme.IAM.GSERVICEACCOUNT.COM"),
            "serviceAccount:ci@acme.IAM.GSERVICEACCOUNT.COM"
        );
        assert_eq!(
            member("x@developer.gserviceaccount.com"),
            "serviceAccount:x@developer.gserviceaccount.com"
        );
    }

    #[test]
    fn token_info_without_email_names_the_subject() {
        let body = json!({"azp": "1", "aud": "1", "sub": "112233",
            "scope": "https://www.googleapis.com/auth/cloud-platform", "exp": "1", "expires_in": "3599"});
        let identity = from_tokeninfo(
            "r",
            "GOOGLE_OAUTH_ACCESS_TOKEN",
            200,
            body.to_string().as_bytes(),
        );
        assert_eq!(identity.principal, None);
        let reason = identity.reason().unwrap();
        assert!(
            reason.contains("no email") && reason.contains("112233"),
            "{reason}"
        );
        assert_eq!(identity.evidence.response["tokeninfo"], body);
    }

    #[test]
    fn token_info_never_keeps_a_token() {
        let body = json!({"email": "a@b.com", "access_token": "ya29.secret"});
        let identity = from_tokeninfo("r", "w", 200, body.to_string().as_bytes());
        assert!(!identity.evidence.response.to_string().contains("ya29"));
    }

    #[test]
    fn token_info_errors_are_reasons() {
        let identity = from_tokeninfo(
            "r",
            "GOOGLE_OAUTH_ACCESS_TOKEN",
            400,
            br#"{"error": "invalid_token", "error_description": "Invalid Value"}"#,
        );
        assert_eq!(identity.principal, None);
        assert_eq!(
            identity.reason(),
            Some(
                "token info answered HTTP 400 about the token of GOOGLE_OAUTH_ACCESS_TOKEN (invalid_token: Invalid Value)"
            )
        );
        let identity = from_tokeninfo("r", "w", 503, b"<html>down</html>");
        assert!(
            identity
                .reason()
                .unwrap()
                .ends_with("HTTP 503 about the token of w")
        );
        assert!(!identity.reason().unwrap().contains("html"));
        for body in [&b"<html>"[..], b"\"a string\"", b""] {
            let identity = from_tokeninfo("r", "w", 200, body);
            assert!(
                identity.reason().unwrap().contains("not a JSON object"),
                "{identity:?}"
            );
        }
    }

    #[test]
    fn metadata_email_is_a_service_account() {
        let identity = from_metadata(
            "GET http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/email",
            200,
            b"123-compute@developer.gserviceaccount.com\n",
        );
        assert_eq!(
            identity.principal.as_deref(),
            Some("serviceAccount:123-compute@developer.gserviceaccount.com")
        );
        assert_eq!(
            identity.evidence.response["how"],
            "the default service account of the metadata server"
        );
    }

    #[test]
    fn metadata_answers_that_are_no_email() {
        let identity = from_metadata("r", 200, b"acme-prod.svc.id.goog");
        assert_eq!(
            identity.principal.as_deref(),
            Some("workload_identity_pool:acme-prod.svc.id.goog")
        );
        let identity = from_metadata("r", 404, b"Not Found");
        assert_eq!(
            identity.reason(),
            Some("the metadata server answered HTTP 404")
        );
        for body in [&b"<html>hello world</html>"[..], b"", b"@"] {
            let identity = from_metadata("r", 200, body);
            assert!(
                identity
                    .reason()
                    .unwrap()
                    .contains("not a service account email")
            );
        }
    }
}
