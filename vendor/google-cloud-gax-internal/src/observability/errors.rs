// Copyright 2025 Google LLC
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     https://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

use super::attributes::error_type_values::*;
use crate::observability::attributes::keys::*;
use google_cloud_gax::error::{Error, rpc::Code, rpc::StatusDetails};
use http::StatusCode;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub(crate) enum ErrorType {
    HttpError {
        code: StatusCode,
        reason: Option<String>,
        domain: Option<String>,
        metadata: Option<BTreeMap<String, String>>,
    },
    RpcError {
        code: Code,
        reason: Option<String>,
        domain: Option<String>,
        metadata: Option<BTreeMap<String, String>>,
    },
    ClientTimeout,
    ClientConnectionError,
    ClientRequestError,
    ClientResponseDecodeError,
    ClientAuthenticationError,
    ClientRetryExhausted,
    Unknown,
}

impl ErrorType {
    pub(crate) fn from_gax_error(err: &Error) -> Self {
        match err {
            e if e.is_timeout() => ErrorType::ClientTimeout,
            e if e.is_exhausted() => ErrorType::ClientRetryExhausted,
            e if e.is_binding() => ErrorType::ClientRequestError,
            e if e.is_serialization() => ErrorType::ClientRequestError,
            e if e.is_deserialization() => ErrorType::ClientResponseDecodeError,
            e if e.is_authentication() => ErrorType::ClientAuthenticationError,
            e if e.is_io() || e.is_connect() => ErrorType::ClientConnectionError,
            e if e.status().is_some() => {
                let status = e.status().unwrap();
                let error_info = status.details.iter().find_map(|d| match d {
                    StatusDetails::ErrorInfo(info) => Some(info),
                    _ => None,
                });
                ErrorType::RpcError {
                    code: status.code,
                    reason: error_info.map(|i| i.reason.clone()),
                    domain: error_info.map(|i| i.domain.clone()),
                    metadata: error_info.map(|i| i.metadata.clone().into_iter().collect()),
                }
            }
            e if e.is_transport() => e
                .http_status_code()
                .and_then(|s| http::StatusCode::from_u16(s).ok())
                .map(|code| ErrorType::HttpError {
                    code,
                    reason: None,
                    domain: None,
                    metadata: None,
                })
                .unwrap_or(ErrorType::Unknown),
            _ => ErrorType::Unknown,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            ErrorType::HttpError {
                reason: Some(r), ..
            } => r.as_str(),
            ErrorType::HttpError { code, .. } => code.as_str(),
            ErrorType::RpcError {
                reason: Some(r), ..
            } => r.as_str(),
            ErrorType::RpcError { code, .. } => code.name(),
            ErrorType::ClientTimeout => CLIENT_TIMEOUT,
            ErrorType::ClientConnectionError => CLIENT_CONNECTION_ERROR,
            ErrorType::ClientRequestError => CLIENT_REQUEST_ERROR,
            ErrorType::ClientResponseDecodeError => CLIENT_RESPONSE_DECODE_ERROR,
            ErrorType::ClientAuthenticationError => CLIENT_AUTHENTICATION_ERROR,
            ErrorType::ClientRetryExhausted => CLIENT_RETRY_EXHAUSTED,
            ErrorType::Unknown => UNKNOWN,
        }
    }
}

impl std::fmt::Display for ErrorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returns the error type as a string for use in tracing/observability attributes.
pub fn error_type(err: &Error) -> String {
    ErrorType::from_gax_error(err).to_string()
}

pub(crate) fn emit_error_log(span: &tracing::Span, err: &Error) {
    let error_type = ErrorType::from_gax_error(err);
    let rpc_status_code = err.status().map(|s| s.code.name());
    let http_status_code = err.http_status_code();

    {
        let (domain, metadata) = match &error_type {
            ErrorType::HttpError {
                domain, metadata, ..
            }
            | ErrorType::RpcError {
                domain, metadata, ..
            } => (domain.as_deref(), metadata.as_ref()),
            _ => (None, None),
        };

        let metadata_json =
            metadata.map(|m| serde_json::to_string(m).unwrap_or_else(|_| "{}".to_string()));

        let error_str = error_type.as_str();
        let log_msg = err
            .status()
            .map(|s| s.message.clone())
            .unwrap_or_else(|| format!("{err:?}"));

        span.in_scope(|| {
            tracing::event!(
                tracing::Level::DEBUG,
                { ERROR_TYPE } = error_str,
                { GCP_ERRORS_DOMAIN } = domain,
                { GCP_ERRORS_METADATA } = metadata_json,
                { RPC_RESPONSE_STATUS_CODE } = rpc_status_code,
                { HTTP_RESPONSE_STATUS_CODE } = http_status_code.map(|v| v as i64),
                "{log_msg}"
            );
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use google_cloud_gax::error::{
        CredentialsError, Error,
        rpc::{Code, Status, StatusDetails},
    };
    use http::{HeaderMap, StatusCode};
    use test_case::test_case;

    #[test_case(ErrorType::HttpError { code: StatusCode::OK, reason: None, domain: None, metadata: None }, "200"; "OK")]
    #[test_case(ErrorType::HttpError { code: StatusCode::BAD_REQUEST, reason: None, domain: None, metadata: None }, "400"; "Bad Request")]
    #[test_case(ErrorType::HttpError { code: StatusCode::UNAUTHORIZED, reason: None, domain: None, metadata: None }, "401"; "Unauthorized")]
    #[test_case(ErrorType::HttpError { code: StatusCode::FORBIDDEN, reason: None, domain: None, metadata: None }, "403"; "Forbidden")]
    #[test_case(ErrorType::HttpError { code: StatusCode::NOT_FOUND, reason: None, domain: None, metadata: None }, "404"; "Not Found")]
    #[test_case(ErrorType::HttpError { code: StatusCode::CONFLICT, reason: None, domain: None, metadata: None }, "409"; "Conflict")]
    #[test_case(ErrorType::HttpError { code: StatusCode::TOO_MANY_REQUESTS, reason: None, domain: None, metadata: None }, "429"; "Too Many Requests")]
    #[test_case(ErrorType::HttpError { code: StatusCode::INTERNAL_SERVER_ERROR, reason: None, domain: None, metadata: None }, "500"; "Internal Server Error")]
    #[test_case(ErrorType::HttpError { code: StatusCode::NOT_IMPLEMENTED, reason: None, domain: None, metadata: None }, "501"; "Not Implemented")]
    #[test_case(ErrorType::HttpError { code: StatusCode::SERVICE_UNAVAILABLE, reason: None, domain: None, metadata: None }, "503"; "Service Unavailable")]
    #[test_case(ErrorType::HttpError { code: StatusCode::GATEWAY_TIMEOUT, reason: None, domain: None, metadata: None }, "504"; "Gateway Timeout")]
    #[test_case(ErrorType::HttpError { code: StatusCode::IM_A_TEAPOT, reason: None, domain: None, metadata: None }, "418"; "I'm a teapot")]
    #[test_case(ErrorType::HttpError { code: StatusCode::CREATED, reason: None, domain: None, metadata: None }, "201"; "Created")]
    #[test_case(ErrorType::HttpError { code: StatusCode::METHOD_NOT_ALLOWED, reason: None, domain: None, metadata: None }, "405"; "Method Not Allowed")]
    #[test_case(ErrorType::HttpError { code: StatusCode::BAD_GATEWAY, reason: None, domain: None, metadata: None }, "502"; "Bad Gateway")]
    #[test_case(ErrorType::HttpError { code: StatusCode::from_u16(499).unwrap(), reason: None, domain: None, metadata: None }, "499"; "Client Closed Request")]
    #[test_case(ErrorType::HttpError { code: StatusCode::BAD_REQUEST, reason: Some("REASON".to_string()), domain: None, metadata: None }, "REASON"; "Bad Request with Reason")]
    #[test_case(ErrorType::HttpError { code: StatusCode::METHOD_NOT_ALLOWED, reason: None, domain: Some("pubsub.googleapis.com".to_string()), metadata: Some(std::collections::BTreeMap::from([("zone".to_string(), "us-east1-a".to_string())])) }, "405"; "Method Not Allowed with Meta")]
    #[test_case(ErrorType::RpcError { code: Code::NotFound, reason: None, domain: None, metadata: None }, "NOT_FOUND"; "RPC Not Found")]
    #[test_case(ErrorType::RpcError { code: Code::Unavailable, reason: None, domain: None, metadata: None }, "UNAVAILABLE"; "RPC Unavailable")]
    #[test_case(ErrorType::RpcError { code: Code::InvalidArgument, reason: Some("API_KEY_INVALID".to_string()), domain: None, metadata: None }, "API_KEY_INVALID"; "RPC Invalid Argument with Reason")]
    #[test_case(ErrorType::RpcError { code: Code::Unavailable, reason: None, domain: Some("pubsub.googleapis.com".to_string()), metadata: Some(std::collections::BTreeMap::from([("zone".to_string(), "us-east1-a".to_string())])) }, "UNAVAILABLE"; "RPC Unavailable with Meta")]
    #[test_case(ErrorType::ClientTimeout, CLIENT_TIMEOUT; "Client Timeout")]
    #[test_case(ErrorType::ClientConnectionError, CLIENT_CONNECTION_ERROR; "Client Connection Error")]
    #[test_case(ErrorType::ClientRequestError, CLIENT_REQUEST_ERROR; "Client Request Error")]
    #[test_case(ErrorType::ClientResponseDecodeError, CLIENT_RESPONSE_DECODE_ERROR; "Client Response Decode Error")]
    #[test_case(ErrorType::ClientAuthenticationError, CLIENT_AUTHENTICATION_ERROR; "Client Authentication Error")]
    #[test_case(ErrorType::ClientRetryExhausted, CLIENT_RETRY_EXHAUSTED; "Client Retry Exhausted")]
    #[test_case(ErrorType::Unknown, UNKNOWN; "Unknown")]
    fn test_error_type_conversions(error_type: ErrorType, expected_as_str: &str) {
        assert_eq!(
            error_type.as_str(),
            expected_as_str,
            "expected as_str for {:?}",
            error_type
        );
    }

    #[test_case(Error::timeout("test"), CLIENT_TIMEOUT; "Timeout")]
    #[test_case(Error::exhausted("test"), CLIENT_RETRY_EXHAUSTED; "Exhausted")]
    #[test_case(Error::binding("test"), CLIENT_REQUEST_ERROR; "Binding")]
    #[test_case(Error::ser("test"), CLIENT_REQUEST_ERROR; "Serialization")]
    #[test_case(Error::deser("test"), CLIENT_RESPONSE_DECODE_ERROR; "Deserialization")]
    #[test_case(Error::authentication(CredentialsError::from_msg(false, "test")), CLIENT_AUTHENTICATION_ERROR; "Authentication")]
    #[test_case(Error::io("test"), CLIENT_CONNECTION_ERROR; "IO")]
    #[test_case(Error::http(404, HeaderMap::new(), bytes::Bytes::new()), "404"; "HTTP 404")]
    #[test_case(Error::http(503, HeaderMap::new(), bytes::Bytes::new()), "503"; "HTTP 503")]
    #[test_case(Error::http(1000, HeaderMap::new(), bytes::Bytes::new()), UNKNOWN; "Invalid HTTP Status")]
    #[test_case(Error::service(Status::default().set_code(5).set_message("not found")), "NOT_FOUND"; "Service Error")]
    #[test_case(Error::service(Status::default()), UNKNOWN; "Service Error Default")]
    fn test_from_gax_error(err: Error, expected: &str) {
        assert_eq!(ErrorType::from_gax_error(&err).as_str(), expected);
    }

    #[test]
    fn test_from_gax_error_with_error_info() {
        let mut metadata = std::collections::HashMap::new();
        metadata.insert("zone".to_string(), "us-central1-a".to_string());
        metadata.insert("project".to_string(), "test-project".to_string());

        let error_info = google_cloud_rpc::model::ErrorInfo::default()
            .set_reason("API_KEY_INVALID")
            .set_domain("pubsub.googleapis.com")
            .set_metadata(metadata.clone());
        let status = Status::default()
            .set_code(Code::InvalidArgument)
            .set_message("Invalid API Key")
            .set_details(vec![StatusDetails::ErrorInfo(error_info)]);
        let err = Error::service(status);

        let error_type = ErrorType::from_gax_error(&err);
        assert_eq!(error_type.as_str(), "API_KEY_INVALID");

        // Verify that the domain and metadata are correctly extracted.
        match error_type {
            ErrorType::RpcError {
                code,
                reason,
                domain,
                metadata: parsed_metadata,
            } => {
                assert_eq!(code, Code::InvalidArgument);
                assert_eq!(reason, Some("API_KEY_INVALID".to_string()));
                assert_eq!(domain, Some("pubsub.googleapis.com".to_string()));
                // Since ErrorType uses BTreeMap for sortedness but StatusDetails might use HashMap,
                // we iterate to check values or rely on their respective Eq implementations if the struct allows it.
                // The implementation uses `.clone()`, meaning it's the exact type ErrorInfo uses.
                let parsed_metadata = parsed_metadata.expect("metadata should be present");
                assert_eq!(parsed_metadata.get("zone").unwrap(), "us-central1-a");
                assert_eq!(parsed_metadata.get("project").unwrap(), "test-project");
            }
            _ => panic!("Expected ErrorType::RpcError"),
        }
    }

    #[test]
    #[ignore = "TODO(#6077) - disabled because it is flaky"]
    fn test_emit_error_log() {
        {
            use std::sync::{Arc, Mutex};
            use tracing_subscriber::fmt::MakeWriter;

            #[derive(Clone)]
            struct MockWriter(Arc<Mutex<Vec<u8>>>);

            impl std::io::Write for MockWriter {
                fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                    self.0.lock().unwrap().extend_from_slice(buf);
                    Ok(buf.len())
                }
                fn flush(&mut self) -> std::io::Result<()> {
                    Ok(())
                }
            }

            impl<'a> MakeWriter<'a> for MockWriter {
                type Writer = Self;
                fn make_writer(&'a self) -> Self::Writer {
                    self.clone()
                }
            }

            let output = Arc::new(Mutex::new(Vec::new()));
            let subscriber = tracing_subscriber::fmt()
                .json()
                .with_writer(MockWriter(output.clone()))
                .with_max_level(tracing::Level::DEBUG)
                .finish();

            tracing::subscriber::with_default(subscriber, || {
                let span = tracing::info_span!("test_t4_error_log_span");
                let span_guard = span.enter();

                let error_info = google_cloud_rpc::model::ErrorInfo::default()
                    .set_reason("BAD_TESTING")
                    .set_domain("test.googleapis.com")
                    .set_metadata(std::collections::HashMap::from([
                        ("k1".to_string(), "v1".to_string()),
                        ("k2".to_string(), "v2".to_string()),
                    ]));

                let status = Status::default()
                    .set_code(Code::InvalidArgument)
                    .set_message("test_message")
                    .set_details(vec![StatusDetails::ErrorInfo(error_info)]);

                super::emit_error_log(&span, &Error::service(status));
                drop(span_guard);
            });

            let log_output = String::from_utf8(output.lock().unwrap().clone()).unwrap();
            let json_val: serde_json::Value =
                serde_json::from_str(&log_output).expect("valid JSON log");

            let fields = &json_val["fields"];
            assert_eq!(
                fields["message"].as_str().expect("message field"),
                "test_message"
            );
            assert_eq!(
                fields["error.type"].as_str().expect("error.type field"),
                "BAD_TESTING"
            );
            assert_eq!(
                fields["gcp.errors.domain"].as_str().expect("domain field"),
                "test.googleapis.com"
            );
            let metadata_str = fields["gcp.errors.metadata"]
                .as_str()
                .expect("metadata field");
            let metadata_json: serde_json::Value =
                serde_json::from_str(metadata_str).expect("valid JSON in metadata");
            assert_eq!(metadata_json["k1"], "v1");
            assert_eq!(metadata_json["k2"], "v2");
            assert_eq!(
                fields["rpc.response.status_code"]
                    .as_str()
                    .expect("status code field"),
                "INVALID_ARGUMENT"
            );
        }
    }
}
