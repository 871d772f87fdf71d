//! Cloud SQL Admin API failures in words a user can act on. No message
//! carries a token: the client never echoes the Authorization header, and the
//! credentials' own errors name files and hosts, not secrets.

use google_cloud_gax::error::Error as ApiError;
use google_cloud_gax::error::rpc::Code;

/// The IAM role that grants everything the audit reads.
pub const ROLE: &str = "roles/cloudsql.viewer";

/// What a user runs when no credentials are configured.
pub const LOGIN_FIX: &str = "run `gcloud auth application-default login` (or point GOOGLE_APPLICATION_CREDENTIALS at a service-account key or workload identity federation file, or set GOOGLE_OAUTH_ACCESS_TOKEN to an access token); the account needs roles/cloudsql.viewer on the project";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CloudSqlError {
    #[error("no usable Google Cloud credentials: {detail}; {LOGIN_FIX}")]
    NoCredentials { detail: String },
    #[error(
        "{what} was refused (401 UNAUTHENTICATED: {detail}): the access token is invalid or expired; {LOGIN_FIX}"
    )]
    Unauthenticated { what: String, detail: String },
    #[error(
        "{what} was denied (403 PERMISSION_DENIED: {detail}): grant {ROLE} on project {project} to the account sqlready runs as, and make sure the Cloud SQL Admin API (sqladmin.googleapis.com) is enabled in the project"
    )]
    PermissionDenied {
        what: String,
        project: String,
        detail: String,
    },
    #[error(
        "{what}: not found (404: {detail}); check the project ID and instance ID (`gcloud sql instances list --project PROJECT`)"
    )]
    NotFound { what: String, detail: String },
    #[error(
        "{what} was rate-limited (429 RESOURCE_EXHAUSTED: {detail}) even after retries with backoff: run again later, audit fewer instances at once, or raise the Cloud SQL Admin API quota"
    )]
    RateLimited { what: String, detail: String },
    #[error("{what}: the answer is not a Cloud SQL Admin API response ({detail})")]
    Malformed { what: String, detail: String },
    #[error(
        "{what}: cannot reach the Cloud SQL Admin API at {endpoint} ({detail}); check the network, proxy settings and SQLREADY_CLOUDSQL_ENDPOINT"
    )]
    Unreachable {
        what: String,
        endpoint: String,
        detail: String,
    },
    #[error("{what} timed out ({detail})")]
    Timeout { what: String, detail: String },
    #[error("{what} failed ({detail})")]
    Api { what: String, detail: String },
}

impl CloudSqlError {
    /// What access would fix it, for facts that became unknown through it.
    pub fn resolve(&self) -> Option<String> {
        match self {
            CloudSqlError::PermissionDenied { .. } => Some(format!(
                "grant {ROLE} (cloudsql.instances.get, cloudsql.backupRuns.list) to the account sqlready runs as"
            )),
            CloudSqlError::NoCredentials { .. } | CloudSqlError::Unauthenticated { .. } => {
                Some(LOGIN_FIX.to_string())
            }
            CloudSqlError::RateLimited { .. } => {
                Some("run again later or raise the Cloud SQL Admin API quota".to_string())
            }
            _ => None,
        }
    }
}

/// Classifies a failed call. `what` says what was being read; `project`
/// names the project for the IAM fix; `endpoint` is the base URL called.
pub fn classify(err: &ApiError, what: &str, project: &str, endpoint: &str) -> CloudSqlError {
    let what = what.to_string();
    let detail = detail(err);
    if err.is_deserialization() {
        return CloudSqlError::Malformed { what, detail };
    }
    if err.is_timeout() {
        return CloudSqlError::Timeout { what, detail };
    }
    if err.is_authentication() {
        return CloudSqlError::NoCredentials { detail };
    }
    let code = err.status().map(|status| status.code);
    match (err.http_status_code(), code) {
        (Some(401), _) | (_, Some(Code::Unauthenticated)) => {
            CloudSqlError::Unauthenticated { what, detail }
        }
        (Some(403), _) | (_, Some(Code::PermissionDenied)) => CloudSqlError::PermissionDenied {
            what,
            project: project.to_string(),
            detail,
        },
        (Some(404), _) | (_, Some(Code::NotFound)) => CloudSqlError::NotFound { what, detail },
        (Some(429), _) | (_, Some(Code::ResourceExhausted)) => {
            CloudSqlError::RateLimited { what, detail }
        }
        (Some(_), _) | (_, Some(_)) => CloudSqlError::Api { what, detail },
        (None, None) if err.is_connect() || err.is_io() || err.is_transport() => {
            CloudSqlError::Unreachable {
                what,
                endpoint: endpoint.to_string(),
                detail,
            }
        }
        (None, None) => CloudSqlError::Api { what, detail },
    }
}

/// One line: the service's own message when it sent one, else the error chain.
fn detail(err: &ApiError) -> String {
    if let Some(status) = err.status()
        && !status.message.is_empty()
    {
        // The machine-readable reason (e.g. SERVICE_DISABLED), when Google sent one.
        let reason = status.details.iter().find_map(|detail| match detail {
            google_cloud_gax::error::rpc::StatusDetails::ErrorInfo(info)
                if !info.reason.is_empty() && !status.message.contains(&info.reason) =>
            {
                Some(format!(" [{}]", info.reason))
            }
            _ => None,
        });
        let message = format!("{}{}", status.message, reason.unwrap_or_default());
        return match err.http_status_code() {
            Some(code) => format!("HTTP {code}: {message}"),
            None => message,
        };
    }
    if let (Some(code), Some(payload)) = (err.http_status_code(), err.http_payload()) {
        let text = String::from_utf8_lossy(payload);
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let shown: String = text.chars().take(200).collect();
        return if shown.is_empty() {
            format!("HTTP {code}")
        } else {
            format!("HTTP {code}: {shown}")
        };
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_gax::error::rpc::Status;

    fn service(code: Code, http: u16, message: &str) -> ApiError {
        ApiError::service_with_http_metadata(
            Status::default().set_code(code).set_message(message),
            Some(http),
            None,
        )
    }

    #[test]
    fn permission_denied_names_the_role_and_project() {
        let err = classify(
            &service(
                Code::PermissionDenied,
                403,
                "The client is not authorized to make this request.",
            ),
            "listing the instances of project acme",
            "acme",
            "https://sqladmin.googleapis.com",
        );
        let message = err.to_string();
        assert!(message.contains("roles/cloudsql.viewer"), "{message}");
        assert!(message.contains("project acme"), "{message}");
        assert!(message.contains("not authorized"), "{message}");
        assert!(err.resolve().is_some());
    }

    #[test]
    fn not_found_rate_limited_and_unauthenticated_are_told_apart() {
        let what = "reading instance acme/orders";
        let endpoint = "http://127.0.0.1:1";
        assert!(matches!(
            classify(
                &service(Code::NotFound, 404, "gone"),
                what,
                "acme",
                endpoint
            ),
            CloudSqlError::NotFound { .. }
        ));
        assert!(matches!(
            classify(
                &service(Code::ResourceExhausted, 429, "quota"),
                what,
                "acme",
                endpoint
            ),
            CloudSqlError::RateLimited { .. }
        ));
        let unauthenticated = classify(
            &service(Code::Unauthenticated, 401, "bad token"),
            what,
            "acme",
            endpoint,
        );
        assert!(
            unauthenticated
                .to_string()
                .contains("gcloud auth application-default login")
        );
    }

    #[test]
    fn a_body_that_does_not_parse_is_malformed() {
        let err = ApiError::deser("expected value at line 1 column 1");
        let classified = classify(
            &err,
            "reading instance acme/orders",
            "acme",
            "http://127.0.0.1:1",
        );
        assert!(
            matches!(classified, CloudSqlError::Malformed { .. }),
            "{classified:?}"
        );
        assert!(
            classified
                .to_string()
                .contains("not a Cloud SQL Admin API response")
        );
    }
}
