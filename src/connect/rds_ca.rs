//! The RDS CA bundle of a region, so `--connect` verifies RDS/Aurora servers
//! (verify-full) without a file given: the API names the CA
//! (`CACertificateIdentifier`) but serves no certificate, AWS publishes the
//! bundle of every CA a region uses at
//! `https://truststore.pki.rds.amazonaws.com/REGION/REGION-bundle.pem`
//! (<https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html>).
//! Downloaded once per region per run ([`super::Run`] keeps it), over TLS,
//! size-capped, and checked to hold certificates and nothing else.

/// Where AWS publishes the bundles.
pub const DEFAULT_BASE: &str = "https://truststore.pki.rds.amazonaws.com";

/// Replaces [`DEFAULT_BASE`] (a mirror inside a network without internet
/// access, the tests). `https://` only, but for a loopback host.
pub const BASE_ENV: &str = "SQLREADY_RDS_TRUSTSTORE_URL";

/// A regional bundle is about 10 KB and the global one about 160 KB: a larger
/// answer is refused, not buffered.
pub const MAX_BUNDLE_BYTES: usize = 1024 * 1024;

/// The bundle URL of `region` under `base`; the error says what is wrong with
/// either (a region is letters, digits and dashes: it becomes a path).
pub fn url(base: &str, region: &str) -> Result<String, String> {
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!("'{region}' is not an AWS region name"));
    }
    let base = base.trim().trim_end_matches('/');
    let parsed = url::Url::parse(base).map_err(|err| format!("{BASE_ENV} '{base}': {err}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        other => {
            return Err(format!(
                "{BASE_ENV} '{base}': the CA bundle must come over https (not {other}://), or from a loopback address"
            ));
        }
    }
    Ok(format!("{base}/{region}/{region}-bundle.pem"))
}

/// The base URL of this run: [`BASE_ENV`] when set, else [`DEFAULT_BASE`].
pub fn base() -> String {
    std::env::var(BASE_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BASE.to_string())
}

/// Checks an answer is a PEM bundle of certificates only (a captive portal's
/// HTML or an error page is not); returns how many it holds.
pub fn certificates_in(body: &[u8]) -> Result<usize, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the answer is not text".to_string())?;
    let mut count = 0;
    let mut inside: Option<&str> = None;
    for line in text.lines().map(str::trim) {
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            if label != "CERTIFICATE" {
                return Err(format!(
                    "the answer holds a '{label}' block, not only certificates"
                ));
            }
            inside = Some(label);
        } else if line.starts_with("-----END ") {
            if inside.take().is_none() {
                return Err("the answer has an END line without BEGIN".into());
            }
            count += 1;
        } else if inside.is_some()
            && !line
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        {
            return Err("the answer's certificate text is not base64".into());
        }
    }
    if inside.is_some() {
        return Err("the answer ends inside a certificate".into());
    }
    if count == 0 {
        return Err("the answer holds no certificate".into());
    }
    Ok(count)
}

/// Downloads one bundle: the PEM text, or why not (the URL, the HTTP status or
/// the transport error).
#[cfg(any(feature = "rds", feature = "cloudsql"))]
pub async fn download(url: &str) -> Result<String, String> {
    use std::time::Duration;
    // How long one download may take, and its TCP connect (a network without
    // a route to AWS must not hold the region's sessions long).
    const TIMEOUT: Duration = Duration::from_secs(20);
    const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    // reqwest's rustls needs a process-wide provider; sqlready uses ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        // A redirect is followed to https only: the trust roots never come in the clear.
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() < 5 && attempt.url().scheme() == "https" {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }))
        .build()
        .map_err(|err| format!("no HTTP client: {err}"))?;
    let mut response = client.get(url).send().await.map_err(|err| chain(&err))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{url} answered HTTP {}", status.as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| chain(&err))? {
        if body.len() + chunk.len() > MAX_BUNDLE_BYTES {
            return Err(format!(
                "{url}: the answer is longer than {MAX_BUNDLE_BYTES} bytes; refused"
            ));
        }
        body.extend_from_slice(&chunk);
    }
    certificates_in(&body).map_err(|why| format!("{url}: {why}"))?;
    String::from_utf8(body).map_err(|_| format!("{url}: the answer is not text"))
}

#[cfg(not(any(feature = "rds", feature = "cloudsql")))]
pub async fn download(_url: &str) -> Result<String, String> {
    Err("this sqlready was built without an HTTP client (the `rds` feature)".into())
}

/// A transport error with its causes.
#[cfg(any(feature = "rds", feature = "cloudsql"))]
fn chain(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_the_published_one_and_only_https_or_loopback() {
        assert_eq!(
            url(DEFAULT_BASE, "eu-west-1").unwrap(),
            "https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem"
        );
        assert_eq!(
            url("http://127.0.0.1:8080/", "us-east-1").unwrap(),
            "http://127.0.0.1:8080/us-east-1/us-east-1-bundle.pem"
        );
        assert!(
            url("http://mirror.example", "us-east-1")
                .unwrap_err()
                .contains("https")
        );
        assert!(url(DEFAULT_BASE, "../etc").unwrap_err().contains("region"));
    }

    #[test]
    fn only_certificates_make_a_bundle() {
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB+w==\n-----END CERTIFICATE-----\n";
        assert_eq!(certificates_in(format!("{cert}{cert}").as_bytes()), Ok(2));
        assert!(certificates_in(b"<html>sign in</html>").is_err());
        let key = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
        assert!(
            certificates_in(key.as_bytes())
                .unwrap_err()
                .contains("PRIVATE KEY")
        );
        assert!(certificates_in(b"-----BEGIN CERTIFICATE-----\nMIIB\n").is_err());
    }
}
