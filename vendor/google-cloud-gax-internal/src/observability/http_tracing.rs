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

use crate::observability::attributes::keys::*;
use crate::observability::errors::ErrorType;
use crate::observability::{RequestRecorder, attributes::*};
use crate::options::InstrumentationClientInfo;
use google_cloud_gax::Result;
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::options::internal::{PathTemplate, RequestOptionsExt, ResourceName};
use opentelemetry_semantic_conventions::{attribute as otel_attr, trace as otel_trace};
use std::collections::HashSet;
use std::sync::LazyLock;
use tracing::{Span, field};

pub(crate) static REDACTED_QUERY_PARAMETERS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| {
        HashSet::from_iter([
            // Required by OpenTelemetry semantic conventions:
            //     https://opentelemetry.io/docs/specs/semconv/registry/attributes/url/#url-full
            "AWSAccessKeyId",
            "Signature",
            "sig",
            "X-Goog-Signature",
            // Google uses this as a key in resumable uploads.
            "upload_id",
        ])
    });

/// Creates a new tracing span for an HTTP request attempt.
///
/// Populates the span with attributes available before the request is sent,
/// adhering to OpenTelemetry semantic conventions.
pub(crate) fn create_http_attempt_span(
    request: &reqwest::Request,
    options: &RequestOptions,
    instrumentation: Option<&'static InstrumentationClientInfo>,
    prior_attempt_count: u32,
) -> Span {
    let url = sanitize_url(request.url());
    let method = request.method();

    let snapshot = RequestRecorder::current().map(|r| r.client_snapshot());
    let resource_name;
    let url_template;
    if let Some(snapshot) = &snapshot {
        resource_name = snapshot.resource_name();
        url_template = snapshot.url_template();
    } else {
        // TODO(#5177) - remove this code once nothing else uses the extensions.
        resource_name = options
            .get_extension::<ResourceName>()
            .map(|e| e.0.as_str());
        url_template = options.get_extension::<PathTemplate>().map(|e| e.0);
    };

    let otel_name = url_template
        .map(|template| format!("{method} {template}"))
        .unwrap_or_else(|| method.to_string());

    let http_request_resend_count = if prior_attempt_count > 0 {
        Some(prior_attempt_count as i64)
    } else {
        None
    };

    let (gcp_client_service, gcp_client_version, gcp_client_artifact, url_domain) = instrumentation
        .map_or((None, None, None, None), |info| {
            (
                Some(info.service_name),
                Some(info.client_version),
                Some(info.client_artifact),
                Some(info.default_host),
            )
        });

    tracing::info_span!(
        "http_request",
        { OTEL_NAME } = otel_name,
        { OTEL_KIND } = OTEL_KIND_CLIENT,
        { RPC_SYSTEM_NAME } = RPC_SYSTEM_HTTP,
        { otel_trace::HTTP_REQUEST_METHOD } = method.as_str(),
        { otel_trace::SERVER_ADDRESS } = url
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .unwrap_or(""),
        { otel_trace::SERVER_PORT } = url.port_or_known_default().map(|p| p as i64).unwrap_or(0),
        { otel_trace::URL_FULL } = url.as_str(),
        { otel_trace::URL_SCHEME } = url.scheme(),
        { otel_attr::URL_TEMPLATE } = url_template,
        { otel_attr::URL_DOMAIN } = url_domain,
        { GCP_CLIENT_SERVICE } = gcp_client_service,
        { GCP_CLIENT_VERSION } = gcp_client_version,
        { GCP_CLIENT_REPO } = GCP_CLIENT_REPO_GOOGLEAPIS,
        { GCP_CLIENT_ARTIFACT } = gcp_client_artifact,
        { GCP_SCHEMA_URL } = SCHEMA_URL_VALUE,
        { GCP_RESOURCE_DESTINATION_ID } = resource_name,
        { otel_trace::HTTP_REQUEST_RESEND_COUNT } = http_request_resend_count,
        // Fields to be recorded later
        { OTEL_STATUS_CODE } = otel_status_codes::UNSET, // Initial state
        { OTEL_STATUS_DESCRIPTION } = field::Empty,
        { otel_trace::HTTP_RESPONSE_STATUS_CODE } = field::Empty,
        { otel_trace::HTTP_RESPONSE_BODY_SIZE } = field::Empty,
        { otel_trace::ERROR_TYPE } = field::Empty,
    )
}

/// Records additional attributes to the span based on the `Result`.
pub trait ResultExt: sealed::ResultExt {
    fn record_http(self, span: &Span) -> Self;
}

mod sealed {
    pub trait ResultExt {}
}

impl sealed::ResultExt for Result<reqwest::Response> {}
impl ResultExt for Result<reqwest::Response> {
    fn record_http(self, span: &Span) -> Self {
        match &self {
            Ok(response) => {
                span.record(
                    otel_trace::HTTP_RESPONSE_STATUS_CODE,
                    response.status().as_u16() as i64,
                );
                if let Some(size) = response
                    .headers()
                    .get(http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i64>().ok())
                {
                    span.record(otel_trace::HTTP_RESPONSE_BODY_SIZE, size);
                }
            }
            Err(err) => {
                span.record(OTEL_STATUS_CODE, otel_status_codes::ERROR);
                if let Some(status) = err.http_status_code() {
                    span.record(otel_trace::HTTP_RESPONSE_STATUS_CODE, status as i64);
                }
                let error_type = ErrorType::from_gax_error(err);
                span.record(otel_trace::ERROR_TYPE, error_type.as_str());
                // TODO(#3239): clean up error messages
                span.record(OTEL_STATUS_DESCRIPTION, err.to_string());
                crate::observability::errors::emit_error_log(span, err);
            }
        }
        self
    }
}

pub fn sanitize_url(url: &::reqwest::Url) -> ::reqwest::Url {
    if url.query().is_none() {
        return url.clone();
    }
    let mut clone = url.clone();
    let mut query = clone.query_pairs_mut();
    query.clear();
    url.query_pairs()
        .into_iter()
        .map(|(k, v)| {
            if !REDACTED_QUERY_PARAMETERS.contains(k.as_ref()) {
                (k, v)
            } else {
                (k, "REDACTED".into())
            }
        })
        .fold(query, |mut query, (k, v)| {
            query.append_pair(k.as_ref(), v.as_ref());
            query
        });
    clone
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::InstrumentationClientInfo;
    use google_cloud_gax::error::{
        Error,
        rpc::{Code, Status, StatusDetails},
    };
    use google_cloud_gax::options::RequestOptions;
    use google_cloud_gax::options::internal::{PathTemplate, RequestOptionsExt, ResourceName};
    use google_cloud_test_utils::test_layer::{AttributeValue, TestLayer, TestLayerGuard};
    use http::Method;
    use opentelemetry_semantic_conventions::{attribute as otel_attr, trace as otel_trace};
    use pretty_assertions::assert_eq;
    use reqwest::{self, StatusCode};
    use std::collections::{BTreeMap, BTreeSet};
    use test_case::test_case;

    const TEST_INFO: InstrumentationClientInfo = InstrumentationClientInfo {
        service_name: "test.service",
        client_version: "1.2.3",
        client_artifact: "google-cloud-test",
        default_host: "example.com",
    };

    #[track_caller]
    fn http_request_attributes(guard: &TestLayerGuard) -> BTreeMap<String, AttributeValue> {
        let captured = TestLayer::capture(guard);
        let span = captured
            .iter()
            .find(|s| s.name == "http_request")
            .unwrap_or_else(|| panic!("missing `http_request` span in {captured:?}"));
        BTreeMap::from_iter(span.attributes.clone())
    }

    #[tokio::test]
    async fn test_create_span_attributes() {
        let guard = TestLayer::initialize();
        let request =
            reqwest::Request::new(Method::GET, "https://example.com/test".parse().unwrap());
        let options = RequestOptions::default()
            .insert_extension(PathTemplate("/test"))
            .insert_extension(ResourceName(
                "//example.com/projects/p/resources/r".to_string(),
            ));
        let _span = create_http_attempt_span(&request, &options, Some(&TEST_INFO), 1);

        let want: BTreeMap<String, AttributeValue> = [
            (OTEL_NAME, "GET /test".into()),
            (OTEL_KIND, "Client".into()),
            (RPC_SYSTEM_NAME, "http".into()),
            (otel_trace::HTTP_REQUEST_METHOD, "GET".into()),
            (otel_trace::SERVER_ADDRESS, "example.com".into()),
            (otel_trace::SERVER_PORT, 443_i64.into()),
            (otel_trace::URL_FULL, "https://example.com/test".into()),
            (otel_trace::URL_SCHEME, "https".into()),
            (otel_attr::URL_TEMPLATE, "/test".into()),
            (otel_attr::URL_DOMAIN, "example.com".into()),
            (GCP_CLIENT_SERVICE, "test.service".into()),
            (GCP_CLIENT_VERSION, "1.2.3".into()),
            (GCP_CLIENT_REPO, "googleapis/google-cloud-rust".into()),
            (GCP_CLIENT_ARTIFACT, "google-cloud-test".into()),
            (GCP_SCHEMA_URL, SCHEMA_URL_VALUE.into()),
            (
                GCP_RESOURCE_DESTINATION_ID,
                "//example.com/projects/p/resources/r".into(),
            ),
            (otel_trace::HTTP_REQUEST_RESEND_COUNT, 1_i64.into()),
            (OTEL_STATUS_CODE, "UNSET".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();

        let got = http_request_attributes(&guard);
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn test_create_span_attributes_optional() {
        let guard = TestLayer::initialize();
        let request =
            reqwest::Request::new(Method::POST, "http://localhost:8080/".parse().unwrap());
        let options = RequestOptions::default(); // No path template
        // No InstrumentationClientInfo
        let _span = create_http_attempt_span(&request, &options, None, 0);

        let want: BTreeMap<String, AttributeValue> = [
            (OTEL_NAME, "POST".into()),
            (OTEL_KIND, "Client".into()),
            (RPC_SYSTEM_NAME, "http".into()),
            (otel_trace::HTTP_REQUEST_METHOD, "POST".into()),
            (otel_trace::SERVER_ADDRESS, "localhost".into()),
            (otel_trace::SERVER_PORT, 8080_i64.into()),
            (otel_trace::URL_FULL, "http://localhost:8080/".into()),
            (otel_trace::URL_SCHEME, "http".into()),
            (GCP_CLIENT_REPO, "googleapis/google-cloud-rust".into()),
            (GCP_SCHEMA_URL, SCHEMA_URL_VALUE.into()),
            (OTEL_STATUS_CODE, "UNSET".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();

        let got = http_request_attributes(&guard);
        assert_eq!(got, want);
    }

    #[test_case("https://example.com/test", vec![])]
    #[test_case("https://example.com/test?upload_id=ABC", vec!["upload_id=REDACTED"])]
    #[test_case("https://example.com/test?X-Goog-Signature=ABC", vec!["X-Goog-Signature=REDACTED"])]
    #[test_case("https://example.com/test?sig=ABC", vec!["sig=REDACTED"])]
    #[test_case("https://example.com/test?Signature=ABC", vec!["Signature=REDACTED"])]
    #[test_case("https://example.com/test?AWSAccessKeyId=ABC", vec!["AWSAccessKeyId=REDACTED"])]
    #[test_case("https://example.com/test?AWSAccessKeyId=ABC&Signature=BCD&sig=CDE&X-Goog-Signature=DEF&upload_id=EFG",
            vec![
                "AWSAccessKeyId=REDACTED",
                "Signature=REDACTED",
                "sig=REDACTED",
                "X-Goog-Signature=REDACTED",
                "upload_id=REDACTED",
            ])]
    fn cleanup_url_query(input: &str, want: Vec<&str>) -> anyhow::Result<()> {
        let guard = TestLayer::initialize();
        let request = reqwest::Request::new(Method::GET, input.parse()?);
        let options = RequestOptions::default()
            .insert_extension(PathTemplate("/test"))
            .insert_extension(ResourceName(
                "//example.com/projects/p/resources/r".to_string(),
            ));
        let _span = create_http_attempt_span(&request, &options, Some(&TEST_INFO), 1);

        let captured = TestLayer::capture(&guard);
        let span = captured
            .iter()
            .find(|s| s.name == "http_request")
            .unwrap_or_else(|| panic!("missing `http_request` span in capture: {captured:?}"));
        let value = span
            .attributes
            .get(otel_trace::URL_FULL)
            .unwrap_or_else(|| {
                panic!(
                    "missing attribute {} in span: {span:?}",
                    otel_trace::URL_FULL
                )
            });
        let url = value
            .as_string()
            .unwrap_or_else(|| panic!("URL_FULL attribute must be a string, got: {value:?}"));
        let parsed = ::reqwest::Url::parse(&url)?;
        let got = parsed
            .query_pairs()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<BTreeSet<_>>();
        let want = BTreeSet::from_iter(want.iter().map(|s| s.to_string()));
        assert_eq!(got, want, "url={url:?}");
        Ok(())
    }

    #[test_case(StatusCode::OK; "OK")]
    #[test_case(StatusCode::CREATED; "Created")]
    #[tokio::test]
    async fn record_http_ok(status_code: StatusCode) -> anyhow::Result<()> {
        let guard = TestLayer::initialize();
        let request = reqwest::Request::new(Method::GET, "https://example.com/test".parse()?);
        let options = RequestOptions::default();
        let span = create_http_attempt_span(&request, &options, None, 0);
        let _enter = span.enter();

        let response = http::Response::builder().status(status_code).body("")?;
        let response: reqwest::Response = response.into();
        let _ = Ok(response).record_http(&span);

        let want: BTreeMap<String, AttributeValue> = [
            (OTEL_NAME, "GET".into()),
            (OTEL_KIND, "Client".into()),
            (RPC_SYSTEM_NAME, "http".into()),
            (otel_trace::HTTP_REQUEST_METHOD, "GET".into()),
            (otel_trace::SERVER_ADDRESS, "example.com".into()),
            (otel_trace::SERVER_PORT, 443_i64.into()),
            (otel_trace::URL_FULL, "https://example.com/test".into()),
            (otel_trace::URL_SCHEME, "https".into()),
            (GCP_CLIENT_REPO, "googleapis/google-cloud-rust".into()),
            (GCP_SCHEMA_URL, SCHEMA_URL_VALUE.into()),
            (OTEL_STATUS_CODE, "UNSET".into()),
            (
                otel_trace::HTTP_RESPONSE_STATUS_CODE,
                (status_code.as_u16() as i64).into(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();

        let got = http_request_attributes(&guard);
        assert_eq!(got, want);
        Ok(())
    }

    #[tokio::test]
    async fn test_record_response_attributes_error() {
        let guard = TestLayer::initialize();
        let request =
            reqwest::Request::new(Method::GET, "https://example.com/test".parse().unwrap());
        let options = RequestOptions::default();
        let span = create_http_attempt_span(&request, &options, None, 0);
        let _enter = span.enter();

        // Simulate a timeout error as a gax::Error
        let error = Error::timeout("test timeout");
        let _ = Err(error).record_http(&span);

        let want: BTreeMap<String, AttributeValue> = [
            (OTEL_NAME, "GET".into()),
            (OTEL_KIND, "Client".into()),
            (RPC_SYSTEM_NAME, "http".into()),
            (otel_trace::HTTP_REQUEST_METHOD, "GET".into()),
            (otel_trace::SERVER_ADDRESS, "example.com".into()),
            (otel_trace::SERVER_PORT, 443_i64.into()),
            (otel_trace::URL_FULL, "https://example.com/test".into()),
            (otel_trace::URL_SCHEME, "https".into()),
            (GCP_CLIENT_REPO, "googleapis/google-cloud-rust".into()),
            (GCP_SCHEMA_URL, SCHEMA_URL_VALUE.into()),
            (OTEL_STATUS_CODE, "ERROR".into()),
            (otel_trace::ERROR_TYPE, "CLIENT_TIMEOUT".into()),
            (
                OTEL_STATUS_DESCRIPTION,
                "the request exceeded the request deadline test timeout".into(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();

        let got = http_request_attributes(&guard);
        assert_eq!(got, want);
    }

    #[test_case(StatusCode::BAD_REQUEST, "400", "the HTTP transport reports a [400] error: "; "Bad Request")]
    #[test_case(StatusCode::UNAUTHORIZED, "401", "the HTTP transport reports a [401] error: "; "Unauthorized")]
    #[test_case(StatusCode::FORBIDDEN, "403", "the HTTP transport reports a [403] error: "; "Forbidden")]
    #[test_case(StatusCode::NOT_FOUND, "404", "the HTTP transport reports a [404] error: "; "Not Found")]
    #[test_case(StatusCode::INTERNAL_SERVER_ERROR, "500", "the HTTP transport reports a [500] error: "; "Internal Server Error")]
    #[test_case(StatusCode::SERVICE_UNAVAILABLE, "503", "the HTTP transport reports a [503] error: "; "Service Unavailable")]
    #[tokio::test]
    async fn test_record_response_attributes_http_error(
        status_code: StatusCode,
        expected_error_type: &'static str,
        expected_description_prefix: &'static str,
    ) {
        let guard = TestLayer::initialize();
        let request =
            reqwest::Request::new(Method::GET, "https://example.com/test".parse().unwrap());
        let options = RequestOptions::default();
        let span = create_http_attempt_span(&request, &options, None, 0);
        let _enter = span.enter();

        // Simulate what to_http_error would return: a gax::Error with HTTP metadata
        let error = Error::http(
            status_code.as_u16(),
            http::HeaderMap::new(),
            bytes::Bytes::new(),
        );
        let _ = Err(error).record_http(&span);

        let captured = TestLayer::capture(&guard);
        assert_eq!(captured.len(), 1, "captured spans: {:?}", captured);
        let attributes = &captured[0].attributes;

        assert_eq!(
            attributes.get(OTEL_STATUS_CODE),
            Some(&"ERROR".into()),
            "{} mismatch, attrs: {:?}",
            OTEL_STATUS_CODE,
            attributes
        );
        assert_eq!(
            attributes.get(otel_trace::HTTP_RESPONSE_STATUS_CODE),
            Some(&(status_code.as_u16() as i64).into()),
            "{} mismatch, attrs: {:?}",
            otel_trace::HTTP_RESPONSE_STATUS_CODE,
            attributes
        );
        assert_eq!(
            attributes.get(otel_trace::ERROR_TYPE),
            Some(&expected_error_type.into()),
            "{} mismatch, attrs: {:?}",
            otel_trace::ERROR_TYPE,
            attributes
        );
        let description = attributes
            .get(OTEL_STATUS_DESCRIPTION)
            .unwrap_or_else(|| panic!("{} missing", OTEL_STATUS_DESCRIPTION))
            .as_string()
            .unwrap_or_else(|| panic!("{} not a string", OTEL_STATUS_DESCRIPTION));
        assert!(
            description.starts_with(expected_description_prefix),
            "{} '{}' does not start with '{}', attrs: {:?}",
            OTEL_STATUS_DESCRIPTION,
            description,
            expected_description_prefix,
            attributes
        );
    }

    #[tokio::test]
    async fn test_record_response_attributes_error_info() {
        let guard = TestLayer::initialize();
        let request =
            reqwest::Request::new(Method::GET, "https://example.com/test".parse().unwrap());
        let options = RequestOptions::default();
        let span = create_http_attempt_span(&request, &options, None, 0);
        let _enter = span.enter();

        let error_info = google_cloud_rpc::model::ErrorInfo::default()
            .set_reason("API_KEY_INVALID")
            .set_domain("googleapis.com");
        let status = Status::default()
            .set_code(Code::InvalidArgument)
            .set_message("Invalid API Key")
            .set_details(vec![StatusDetails::ErrorInfo(error_info)]);
        let error = Error::service(status);
        let _ = Err(error).record_http(&span);

        let captured = TestLayer::capture(&guard);
        assert_eq!(captured.len(), 1, "captured spans: {:?}", captured);
        let attributes = &captured[0].attributes;

        assert_eq!(
            attributes.get(OTEL_STATUS_CODE),
            Some(&"ERROR".into()),
            "{} mismatch, attrs: {:?}",
            OTEL_STATUS_CODE,
            attributes
        );
        assert_eq!(
            attributes.get(otel_trace::ERROR_TYPE),
            Some(&"API_KEY_INVALID".into()),
            "{} mismatch, attrs: {:?}",
            otel_trace::ERROR_TYPE,
            attributes
        );
        let description = attributes
            .get(OTEL_STATUS_DESCRIPTION)
            .unwrap_or_else(|| panic!("{} missing", OTEL_STATUS_DESCRIPTION))
            .as_string()
            .unwrap_or_else(|| panic!("{} not a string", OTEL_STATUS_DESCRIPTION));
        assert!(
            description.contains("Invalid API Key"),
            "{} '{}' does not contain 'Invalid API Key', attrs: {:?}",
            OTEL_STATUS_DESCRIPTION,
            description,
            attributes
        );
    }

    #[tokio::test]
    async fn test_retry_attribute() {
        let guard = TestLayer::initialize();
        let request =
            reqwest::Request::new(Method::GET, "https://example.com/test".parse().unwrap());
        let options = RequestOptions::default();

        // First attempt
        let _span1 = create_http_attempt_span(&request, &options, None, 0);
        let captured = TestLayer::capture(&guard);
        assert_eq!(captured.len(), 1, "captured spans: {:?}", captured);
        assert!(
            !captured[0]
                .attributes
                .contains_key(otel_trace::HTTP_REQUEST_RESEND_COUNT),
            "captured spans: {:?}",
            captured
        );

        // First retry
        let _span2 = create_http_attempt_span(&request, &options, None, 1);
        let captured = TestLayer::capture(&guard);
        assert_eq!(captured.len(), 1, "captured spans: {:?}", captured);
        assert_eq!(
            captured[0]
                .attributes
                .get(otel_trace::HTTP_REQUEST_RESEND_COUNT),
            Some(&1_i64.into()),
            "captured spans: {:?}",
            captured
        );

        // Second retry
        let _span3 = create_http_attempt_span(&request, &options, None, 2);
        let captured = TestLayer::capture(&guard);
        assert_eq!(captured.len(), 1, "captured spans: {:?}", captured);
        assert_eq!(
            captured[0]
                .attributes
                .get(otel_trace::HTTP_REQUEST_RESEND_COUNT),
            Some(&2_i64.into()),
            "captured spans: {:?}",
            captured
        );
    }

    #[tokio::test]
    async fn test_record_intermediate_client_request() {
        let recorder = RequestRecorder::new(TEST_INFO);
        let request =
            reqwest::Request::new(Method::GET, "https://example.com/test".parse().unwrap());
        recorder.on_http_request(&request);
        let response = http::Response::builder()
            .status(StatusCode::OK)
            .body("")
            .unwrap();
        let response: reqwest::Response = response.into();
        recorder.on_http_response(&response);
        let t4 = tracing::info_span!("t4");
        let _ = recorder
            .clone()
            .scope(async { Ok(response).record_http(&t4) })
            .await;

        let snapshot = recorder.client_snapshot();
        assert!(snapshot.http_resend_count().is_none(), "{snapshot:?}");
        assert_eq!(snapshot.http_status_code(), Some(200), "{snapshot:?}");
        assert_eq!(snapshot.server_address(), "example.com", "{snapshot:?}");
        assert_eq!(snapshot.server_port(), 443, "{snapshot:?}");
    }

    #[tokio::test]
    async fn test_record_intermediate_client_request_error() {
        let recorder = RequestRecorder::new(TEST_INFO);
        let request =
            reqwest::Request::new(Method::GET, "https://example.com/test".parse().unwrap());
        recorder.on_http_request(&request);
        // Simulate a 404 error
        let response = http::Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("")
            .unwrap();
        let response: reqwest::Response = response.into();
        recorder.on_http_response(&response);
        let t4 = tracing::info_span!("t4");
        let _ = recorder
            .clone()
            .scope(async { Ok(response).record_http(&t4) })
            .await;

        let snapshot = recorder.client_snapshot();
        assert!(snapshot.http_resend_count().is_none(), "{snapshot:?}");
        assert_eq!(snapshot.http_status_code(), Some(404), "{snapshot:?}");
        assert_eq!(snapshot.server_address(), "example.com", "{snapshot:?}");
        assert_eq!(snapshot.server_port(), 443, "{snapshot:?}");
    }
}
