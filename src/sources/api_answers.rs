//! Bounds on what a cloud API may send back, shared by the RDS and Cloud SQL
//! sources: the largest answer read, and the `Retry-After` a throttled answer
//! asks for (docs/security.md, "Cloud APIs").

use std::time::Duration;

/// The largest cloud API answer read (bytes). A page of 100 RDS instances is
/// a few MiB of XML, a page of 500 Cloud SQL instances a few MiB of JSON; an
/// answer past this is refused as what it is instead of going, whole, into
/// memory and the facts.
pub const MAX_ANSWER_BYTES: u64 = 32 * 1024 * 1024;

/// The longest wait a `Retry-After` may ask for before the next attempt; a
/// larger value is cut to it (and every wait stays within the call's
/// `--statement-timeout`), so a server cannot stall a run.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The error of an oversized answer from `api` (e.g. "the RDS API"): its
/// announced length, or none when it came without one and was cut once it
/// grew past the limit.
pub fn answer_too_large(announced: Option<u64>, api: &str) -> String {
    let size = match announced {
        Some(length) => format!("announced as {length} bytes"),
        None => "longer than that (sent without a Content-Length; cut off)".to_string(),
    };
    format!(
        "the API answer is over the {MAX_ANSWER_BYTES}-byte limit sqlready reads, {size}; refused (a proxy or endpoint answering something other than {api}?)"
    )
}

/// A `Retry-After` value as a delay: whole seconds, or an HTTP date (a date
/// in the past is no delay). Anything else is ignored.
pub fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past is no wait"
        );
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let wait = retry_after(&soon).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
        assert_eq!(retry_after("soon"), None);
        assert_eq!(retry_after("-1"), None);
    }

    #[test]
    fn oversized_answers_say_the_limit_and_the_size() {
        let announced = answer_too_large(Some(104_857_600), "the RDS API");
        assert!(announced.contains("104857600") && announced.contains("33554432"));
        assert!(announced.contains("the RDS API"));
        assert!(answer_too_large(None, "x").contains("without a Content-Length"));
    }
}
