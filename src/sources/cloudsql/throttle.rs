//! `Retry-After` for the Cloud SQL Admin API client. The gax retry loop asks
//! the retry policy whether to retry an error, then the backoff policy how
//! long to wait; neither reads the answer's headers. The pair here shares one
//! cell per call: the retry policy notes the `Retry-After` of a 429 or 503
//! (seconds or an HTTP date, [`crate::sources::api_answers::retry_after`], as
//! for RDS) and the backoff policy waits that long instead of its own
//! exponential delay, at most [`MAX_RETRY_AFTER`]. The loop still gives up
//! when the wait would pass the call's time limit (`--statement-timeout`).
//!
//! A fresh pair is made for every call ([`for_call`]): the clients run many
//! calls at once, and one call's hint must not delay another.
//!
//! `on_failure`, `on_error`, `on_throttle` and `remaining_time` are public
//! but not semver-covered in gax (`_internal-semver`); Cargo.lock pins it.

use crate::sources::api_answers::{MAX_RETRY_AFTER, retry_after};
use google_cloud_gax::backoff_policy::BackoffPolicy;
use google_cloud_gax::error::Error as ApiError;
use google_cloud_gax::retry_policy::RetryPolicy;
use google_cloud_gax::retry_result::RetryResult;
use google_cloud_gax::retry_state::RetryState;
use google_cloud_gax::throttle_result::ThrottleResult;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The wait the last failed attempt of one call asked for, if any.
type Hint = Arc<Mutex<Option<Duration>>>;

/// The retry policy `inner`, noting each error's `Retry-After`.
#[derive(Debug)]
pub struct NoteRetryAfter<R> {
    inner: R,
    hint: Hint,
}

/// The backoff policy `inner`, replaced by a noted `Retry-After` when there is one.
#[derive(Debug)]
pub struct HonourRetryAfter<B> {
    inner: B,
    hint: Hint,
}

/// The policies of one call: `retry` and `backoff` sharing one hint.
pub fn for_call<R: RetryPolicy, B: BackoffPolicy>(
    retry: R,
    backoff: B,
) -> (NoteRetryAfter<R>, HonourRetryAfter<B>) {
    let hint = Hint::default();
    (
        NoteRetryAfter {
            inner: retry,
            hint: hint.clone(),
        },
        HonourRetryAfter {
            inner: backoff,
            hint,
        },
    )
}

/// The wait an error asks for: `Retry-After` on a 429 or 503.
fn asked_wait(error: &ApiError) -> Option<Duration> {
    if !matches!(error.http_status_code(), Some(429 | 503)) {
        return None;
    }
    let value = error.http_headers()?.get("retry-after")?.to_str().ok()?;
    retry_after(value)
}

impl<R: RetryPolicy> RetryPolicy for NoteRetryAfter<R> {
    fn on_error(&self, state: &RetryState, error: ApiError) -> RetryResult {
        *self.hint.lock().unwrap_or_else(|e| e.into_inner()) = asked_wait(&error);
        self.inner.on_error(state, error)
    }

    fn on_throttle(&self, state: &RetryState, error: ApiError) -> ThrottleResult {
        self.inner.on_throttle(state, error)
    }

    fn remaining_time(&self, state: &RetryState) -> Option<Duration> {
        self.inner.remaining_time(state)
    }
}

impl<B: BackoffPolicy> BackoffPolicy for HonourRetryAfter<B> {
    fn on_failure(&self, state: &RetryState) -> Duration {
        let asked = self.hint.lock().unwrap_or_else(|e| e.into_inner()).take();
        match asked {
            Some(wait) => wait.min(MAX_RETRY_AFTER),
            None => self.inner.on_failure(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_gax::error::rpc::{Code, Status};

    #[derive(Debug)]
    struct Always;
    impl RetryPolicy for Always {
        fn on_error(&self, _: &RetryState, error: ApiError) -> RetryResult {
            RetryResult::Continue(error)
        }
    }
    #[derive(Debug)]
    struct Fixed;
    impl BackoffPolicy for Fixed {
        fn on_failure(&self, _: &RetryState) -> Duration {
            Duration::from_millis(200)
        }
    }

    fn throttled(status: u16, retry_after: Option<&str>) -> ApiError {
        let mut headers = http::HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert("retry-after", value.parse().unwrap());
        }
        ApiError::service_with_http_metadata(
            Status::default().set_code(Code::ResourceExhausted),
            Some(status),
            Some(headers),
        )
    }

    #[test]
    fn a_throttled_answer_sets_the_next_wait_once_and_capped() {
        let (retry, backoff) = for_call(Always, Fixed);
        let state = RetryState::new(true);
        let _ = retry.on_error(&state, throttled(429, Some("3")));
        assert_eq!(backoff.on_failure(&state), Duration::from_secs(3));
        // Used once: the next failure without a hint backs off as usual.
        assert_eq!(backoff.on_failure(&state), Duration::from_millis(200));
        let _ = retry.on_error(&state, throttled(503, Some("3600")));
        assert_eq!(backoff.on_failure(&state), MAX_RETRY_AFTER);
        // Not on other statuses, nor without the header.
        let _ = retry.on_error(&state, throttled(500, Some("3")));
        assert_eq!(backoff.on_failure(&state), Duration::from_millis(200));
        let _ = retry.on_error(&state, throttled(429, None));
        assert_eq!(backoff.on_failure(&state), Duration::from_millis(200));
    }

    #[test]
    fn calls_do_not_share_a_hint() {
        let (retry, _) = for_call(Always, Fixed);
        let (_, other_backoff) = for_call(Always, Fixed);
        let _ = retry.on_error(&RetryState::new(true), throttled(429, Some("3")));
        assert_eq!(
            other_backoff.on_failure(&RetryState::new(true)),
            Duration::from_millis(200)
        );
    }
}
