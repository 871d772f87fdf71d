//! RDS failures in words a user can act on: which call, which region, and
//! the fix (a login, an IAM permission, a retry later).

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_rds::error::{ProvideErrorMetadata, SdkError};

/// How to give the audit AWS credentials, in one sentence.
pub const CREDENTIALS_FIX: &str = "log in with `aws sso login --profile NAME` and set AWS_PROFILE=NAME (IAM Identity Center), \
or set AWS_PROFILE to a profile of ~/.aws/config, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; \
on EC2, ECS or EKS attach an IAM role";

/// What the audit needs in IAM.
pub const IAM_FIX: &str = "grant read-only rds:Describe* and rds:ListTagsForResource (the AWS managed policy AmazonRDSReadOnlyAccess has them)";

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum RdsError {
    #[error("no AWS credentials found ({detail}): {CREDENTIALS_FIX}")]
    NoCredentials { detail: String },
    #[error(
        "AWS credentials could not be loaded within {seconds} s (the credential chain was still probing, e.g. for an instance metadata service that is not there): {CREDENTIALS_FIX}; on EC2 without a profile, check that the instance has an IAM role"
    )]
    CredentialsTimeout { seconds: u64 },
    #[error("AWS credentials could not be loaded ({detail}): {CREDENTIALS_FIX}")]
    Credentials { detail: String },
    #[error(
        "AWS rejected the credentials for {operation} in {region} ({detail}): they are expired or invalid; {CREDENTIALS_FIX}"
    )]
    InvalidCredentials {
        operation: String,
        region: String,
        detail: String,
    },
    #[error("{operation} in {region} was denied ({detail}): {IAM_FIX}")]
    AccessDenied {
        operation: String,
        region: String,
        detail: String,
    },
    #[error(
        "{what} not found in {region}: check the identifier and the region (`aws rds describe-db-instances --region {region}` lists them)"
    )]
    NotFound { what: String, region: String },
    #[error(
        "{what} in {region} runs {engine}, an engine sqlready does not audit (it audits PostgreSQL, MySQL and MariaDB on RDS and Aurora): nothing was judged"
    )]
    UnsupportedEngine {
        what: String,
        region: String,
        engine: String,
    },
    #[error(
        "{operation} in {region} was still throttled after {attempts} attempts ({detail}): retry later, or lower --concurrency"
    )]
    Throttled {
        operation: String,
        region: String,
        attempts: u32,
        detail: String,
    },
    #[error("{operation} in {region} timed out: {detail}")]
    Timeout {
        operation: String,
        region: String,
        detail: String,
    },
    #[error(
        "cannot reach the RDS API for {region} ({detail}): check the network, a proxy, or AWS_ENDPOINT_URL"
    )]
    Unreachable { region: String, detail: String },
    #[error("{operation} in {region} failed{}: {detail}", status.map(|s| format!(" with HTTP {s}")).unwrap_or_default())]
    Service {
        operation: String,
        region: String,
        status: Option<u16>,
        detail: String,
    },
    #[error("{operation} in {region} returned a response sqlready cannot read{}: {detail}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Malformed {
        operation: String,
        region: String,
        status: Option<u16>,
        detail: String,
    },
}

impl RdsError {
    /// Whether the error is about the call's permission, not the target: the
    /// audit goes on without what the call would have told.
    pub fn is_access_denied(&self) -> bool {
        matches!(self, RdsError::AccessDenied { .. })
    }
}

/// Classifies a failed credentials pre-flight.
pub fn credentials(err: &CredentialsError) -> RdsError {
    const TRIED: &str = "tried environment variables, AWS_PROFILE and ~/.aws profiles (SSO included), web identity, container and instance metadata";
    let detail = chain(err);
    match err {
        CredentialsError::CredentialsNotLoaded(_) => RdsError::NoCredentials {
            detail: TRIED.into(),
        },
        // The instance metadata service is the chain's last resort: its
        // failure means nothing before it had credentials either.
        _ if detail.contains("IMDS") => RdsError::NoCredentials {
            detail: format!("{TRIED}; the instance metadata service is disabled or unreachable"),
        },
        _ => RdsError::Credentials { detail },
    }
}

/// Error codes AWS uses for throttling.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
];

/// Classifies a failed call.
pub fn classify<E, R>(
    err: &SdkError<E, R>,
    operation: &str,
    region: &str,
    attempts: u32,
) -> RdsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HttpStatus + 'static,
{
    let operation = operation.to_string();
    let region = region.to_string();
    let status = err.raw_response().map(HttpStatus::status_code);
    match err {
        SdkError::TimeoutError(_) => {
            return RdsError::Timeout {
                operation,
                region,
                detail: "no answer within the operation timeout".into(),
            };
        }
        SdkError::DispatchFailure(failure) => {
            let detail = chain(err);
            return if failure.is_timeout() {
                RdsError::Timeout {
                    operation,
                    region,
                    detail,
                }
            } else {
                RdsError::Unreachable { region, detail }
            };
        }
        SdkError::ResponseError(_) => {
            return RdsError::Malformed {
                operation,
                region,
                status,
                detail: malformed_detail(err),
            };
        }
        _ => {}
    }
    let code = err.code().unwrap_or_default();
    let message = err.message().unwrap_or_default();
    let detail = match (code.is_empty(), message.is_empty()) {
        (false, false) => format!("{code}: {message}"),
        (false, true) => code.to_string(),
        _ => chain(err),
    };
    match code {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "AuthorizationError" => RdsError::AccessDenied {
            operation,
            region,
            detail,
        },
        "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "UnrecognizedClientException"
        | "InvalidAccessKeyId"
        | "AuthFailure" => RdsError::InvalidCredentials {
            operation,
            region,
            detail,
        },
        code if THROTTLING.contains(&code) => RdsError::Throttled {
            operation,
            region,
            attempts,
            detail,
        },
        "" if matches!(err, SdkError::ServiceError(_))
            && status.is_some_and(|s| (200..300).contains(&s)) =>
        {
            RdsError::Malformed {
                operation,
                region,
                status,
                detail: malformed_detail(err),
            }
        }
        "" if status.is_some_and(|s| s >= 500) => RdsError::Service {
            operation,
            region,
            status,
            detail: format!(
                "the service kept failing after {attempts} attempts, with no AWS error code in the response"
            ),
        },
        _ => RdsError::Service {
            operation,
            region,
            status,
            detail,
        },
    }
}

/// An error and its sources as one line (without the SDK's debug dump), at most 300 characters.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = inner.source();
    }
    let text = parts.join(": ");
    if text.chars().count() > 300 {
        format!("{}…", text.chars().take(300).collect::<String>())
    } else {
        text
    }
}

/// What was wrong with an unreadable answer, and how it began.
fn malformed_detail<E, R>(err: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + HttpStatus + 'static,
{
    let start = err
        .raw_response()
        .and_then(HttpStatus::body_start)
        .map(|body| format!("; the body starts with {body:?}"))
        .unwrap_or_default();
    let reason = chain(err);
    let reason = reason
        .split(", expected")
        .next()
        .unwrap_or(&reason)
        .to_string();
    format!(
        "not an RDS XML answer ({reason}){start}: a proxy, a captive portal or a wrong AWS_ENDPOINT_URL"
    )
}

/// The HTTP status of a raw response.
pub trait HttpStatus {
    fn status_code(&self) -> u16;
    /// The first characters of the body, when it is in memory.
    fn body_start(&self) -> Option<String>;
}

impl HttpStatus for aws_sdk_rds::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }

    fn body_start(&self) -> Option<String> {
        let bytes = self.body().bytes()?;
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]).into_owned();
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_fix() {
        let none = RdsError::NoCredentials {
            detail: "tried everything".into(),
        }
        .to_string();
        assert!(
            none.contains("aws sso login") && none.contains("AWS_PROFILE"),
            "{none}"
        );
        let denied = RdsError::AccessDenied {
            operation: "DescribeDBInstances".into(),
            region: "us-east-1".into(),
            detail: "AccessDenied: not authorized".into(),
        }
        .to_string();
        assert!(
            denied.contains("rds:Describe*") && denied.contains("us-east-1"),
            "{denied}"
        );
        let failed = RdsError::Service {
            operation: "DescribeDBClusters".into(),
            region: "eu-west-1".into(),
            status: Some(503),
            detail: "x".into(),
        }
        .to_string();
        assert!(failed.contains("HTTP 503"), "{failed}");
    }

    #[test]
    fn credential_errors_are_classified() {
        let err = CredentialsError::not_loaded("nothing configured");
        assert!(matches!(credentials(&err), RdsError::NoCredentials { .. }));
        let err = CredentialsError::provider_error("the SSO session has expired");
        let message = credentials(&err).to_string();
        assert!(
            message.contains("aws sso login") && message.contains("expired"),
            "{message}"
        );
    }
}
