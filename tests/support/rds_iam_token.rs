//! AWS's side of RDS IAM database authentication, for the tests: is a
//! password a valid SigV4-presigned `connect` token for this user at this
//! instance? Written from the SigV4 specification ("Authenticating Requests:
//! Using Query Parameters", "Create a canonical request", "Calculate the
//! signature"), not from the SDK that makes the tokens, so a token the SDK's
//! generator signs verifies only if both follow the published algorithm.
//! Pure: the caller gives the clock.
#![allow(dead_code)]

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// What the verifier knows of the instance and the account, as AWS does.
#[derive(Clone, Debug)]
pub struct Expected {
    /// The instance endpoint the token is signed for, `HOST:PORT`.
    pub authority: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// The longest life AWS gives an RDS auth token (15 minutes).
pub const MAX_EXPIRES_SECONDS: i64 = 900;

/// How far in the future a token's X-Amz-Date may be (clock skew), seconds.
const MAX_SKEW_SECONDS: i64 = 300;

/// SigV4's URI encoding: every byte but the unreserved ones, upper-case hex.
const SIGV4_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Ok when `token` is a presigned `GET https://AUTHORITY/?Action=connect&DBUser=USER`
/// signed by `expected`'s key for `rds-db` in its region, valid at `now`;
/// otherwise why not (never the token itself).
pub fn verify(
    token: &str,
    user: &str,
    expected: &Expected,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let (authority, query) = token
        .split_once("/?")
        .ok_or("not HOST:PORT/?QUERY".to_string())?;
    if authority != expected.authority {
        return Err(format!(
            "signed for {authority}, not this instance ({})",
            expected.authority
        ));
    }
    let mut params: Vec<(String, String)> = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |text: &str| {
            percent_decode_str(text)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| format!("parameter {key} is not UTF-8"))
        };
        let (key, value) = (decode(key)?, decode(value)?);
        if params.iter().any(|(k, _)| *k == key) {
            return Err(format!("parameter {key} twice"));
        }
        params.push((key, value));
    }
    let param = |name: &str| -> Result<&str, String> {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or(format!("no {name}"))
    };
    if param("Action")? != "connect" {
        return Err("Action is not connect".into());
    }
    if param("DBUser")? != user {
        return Err(format!(
            "DBUser is {}, the login is {user}",
            param("DBUser")?
        ));
    }
    if param("X-Amz-Algorithm")? != "AWS4-HMAC-SHA256" {
        return Err("X-Amz-Algorithm is not AWS4-HMAC-SHA256".into());
    }
    if param("X-Amz-SignedHeaders")? != "host" {
        return Err("X-Amz-SignedHeaders is not host".into());
    }
    let amz_date = param("X-Amz-Date")?;
    let signed_at = NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| format!("X-Amz-Date {amz_date} is not YYYYMMDDTHHMMSSZ"))?
        .and_utc();
    let credential: Vec<&str> = param("X-Amz-Credential")?.split('/').collect();
    let [key_id, day, region, service, terminator] = credential[..] else {
        return Err("X-Amz-Credential is not KEY/DATE/REGION/SERVICE/aws4_request".into());
    };
    if key_id != expected.access_key_id {
        return Err(format!("unknown access key {key_id}"));
    }
    if day != &amz_date[..8]
        || region != expected.region
        || service != "rds-db"
        || terminator != "aws4_request"
    {
        return Err(format!(
            "credential scope {day}/{region}/{service}/{terminator}; expected {}/{}/rds-db/aws4_request",
            &amz_date[..8],
            expected.region
        ));
    }
    let expires: i64 = param("X-Amz-Expires")?
        .parse()
        .map_err(|_| "X-Amz-Expires is not a number".to_string())?;
    if !(1..=MAX_EXPIRES_SECONDS).contains(&expires) {
        return Err(format!(
            "X-Amz-Expires {expires} is not 1..={MAX_EXPIRES_SECONDS}"
        ));
    }
    if now > signed_at + Duration::seconds(expires) {
        return Err(format!("expired: signed {signed_at}, valid {expires} s"));
    }
    if signed_at > now + Duration::seconds(MAX_SKEW_SECONDS) {
        return Err(format!("signed in the future ({signed_at})"));
    }
    let signature = param("X-Amz-Signature")?;
    let scope = format!("{day}/{region}/rds-db/aws4_request");
    let expected_signature = signature_for(&params, authority, amz_date, &scope, expected);
    if signature.len() != expected_signature.len()
        || !openssl::memcmp::eq(signature.as_bytes(), expected_signature.as_bytes())
    {
        return Err("the signature does not match".into());
    }
    Ok(())
}

/// The hex SigV4 signature of the presigned GET: canonical request (query
/// parameters but the signature, encoded and sorted; the one signed header
/// `host`; the empty payload's hash), string to sign, derived key.
fn signature_for(
    params: &[(String, String)],
    authority: &str,
    amz_date: &str,
    scope: &str,
    expected: &Expected,
) -> String {
    let encode = |text: &str| utf8_percent_encode(text, SIGV4_ENCODE).to_string();
    let mut query: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    query.sort();
    let query: Vec<String> = query.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    let canonical = format!(
        "GET\n/\n{}\nhost:{authority}\n\nhost\n{}",
        query.join("&"),
        hex(&openssl::sha::sha256(b""))
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&openssl::sha::sha256(canonical.as_bytes()))
    );
    let mut key = format!("AWS4{}", expected.secret_access_key).into_bytes();
    for part in scope.split('/') {
        key = hmac_sha256(&key, part.as_bytes());
    }
    hex(&hmac_sha256(&key, to_sign.as_bytes()))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = openssl::pkey::PKey::hmac(key).expect("an HMAC key");
    let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key)
        .expect("an HMAC-SHA256 signer");
    signer.update(data).expect("HMAC update");
    signer.sign_to_vec().expect("HMAC")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A token with its date and signature reduced to their lengths: two tokens
/// for the same user and endpoint have the same shape whenever they were signed.
pub fn token_shape(token: &str) -> Vec<String> {
    token
        .split('&')
        .map(|part| match part.split_once('=') {
            Some(("X-Amz-Date", v)) => format!("X-Amz-Date=<{} chars>", v.len()),
            Some(("X-Amz-Signature", v)) => format!(
                "X-Amz-Signature=<{} hex>",
                v.chars().filter(char::is_ascii_hexdigit).count()
            ),
            Some(("X-Amz-Credential", v)) => {
                let mut parts: Vec<&str> = v.split("%2F").collect();
                if parts.len() > 1 {
                    parts[1] = "<date>";
                }
                format!("X-Amz-Credential={}", parts.join("%2F"))
            }
            _ => part.to_string(),
        })
        .collect()
}

/// An RDS auth token from the SDK's own generator (to compare what
/// sqlready sent with, and to feed the verifier).
pub fn sdk_token(
    key_id: &str,
    secret: &str,
    host: &str,
    port: u16,
    user: &str,
    region: &str,
) -> String {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .credentials_provider(aws_credential_types::Credentials::new(
                    key_id, secret, None, None, "test",
                ))
                .region(aws_config::Region::new(region.to_string()))
                .load()
                .await;
            let config = aws_sdk_rds::auth_token::Config::builder()
                .hostname(host)
                .port(u64::from(port))
                .username(user)
                .build()
                .expect("config");
            aws_sdk_rds::auth_token::AuthTokenGenerator::new(config)
                .auth_token(&sdk)
                .await
                .expect("the SDK signs")
                .as_str()
                .to_string()
        })
}
