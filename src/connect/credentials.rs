//! The password of a `--connect` session: named (an environment variable or a
//! file), or made locally for IAM database authentication — an RDS auth token
//! signed from the AWS credential chain (no network call), or the Google OAuth
//! access token Cloud SQL accepts as the IAM user's password. A secret lives
//! only in the connection URL's password, which nothing displays; errors here
//! name the variable, file or setting, never the value.

use super::endpoint::Endpoint;
use crate::target::Kind;
use std::path::PathBuf;

/// Where a named password comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PasswordSource {
    Env(String),
    File(PathBuf),
}

/// Reads a named password; the error says which name and how to fix it.
pub fn named(source: &PasswordSource) -> Result<String, String> {
    match source {
        PasswordSource::Env(name) => match std::env::var(name) {
            Ok(value) if !value.is_empty() => Ok(value),
            Ok(_) => Err(format!(
                "environment variable {name} (the connect password) is empty"
            )),
            Err(_) => Err(format!(
                "environment variable {name} (the connect password) is not set"
            )),
        },
        PasswordSource::File(path) => match std::fs::read_to_string(path) {
            // One trailing newline (echo, Kubernetes secrets) is not part of it.
            Ok(text) => {
                let password = text.strip_suffix('\n').unwrap_or(&text);
                let password = password.strip_suffix('\r').unwrap_or(password);
                if password.is_empty() {
                    Err(format!("password file {} is empty", path.display()))
                } else {
                    Ok(password.to_string())
                }
            }
            Err(err) => Err(format!(
                "cannot read password file {}: {err}",
                path.display()
            )),
        },
    }
}

/// A password for [`url::Url::set_password`], which takes it already
/// percent-encoded (a literal `%2F` in an RDS token would otherwise reach the
/// server as `/`): every byte but RFC 3986's unreserved ones is encoded.
pub fn url_encoded(password: &str) -> String {
    password
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// How the session authenticates, in words for the evidence (never the secret).
pub fn method(source: Option<&PasswordSource>, endpoint: &Endpoint) -> String {
    match (source, endpoint.provider) {
        (Some(PasswordSource::Env(name)), _) => format!("password from ${name}"),
        (Some(PasswordSource::File(path)), _) => format!("password from {}", path.display()),
        (None, Kind::Rds) => "RDS IAM database authentication token".into(),
        (None, _) => "Cloud SQL IAM database authentication (OAuth access token)".into(),
    }
}

/// The database user Cloud SQL makes for an IAM principal, from its email:
/// PostgreSQL names a user account by its whole email and a service account by
/// its email without `.gserviceaccount.com`; MySQL by the email's part before
/// `@` for both (Cloud SQL's "Manage users with IAM database authentication" and
/// "Log in using IAM database authentication" pages). Lower case, as Cloud SQL
/// creates them.
pub fn cloudsql_iam_user(email: &str, engine: Kind) -> String {
    // The run's principal is written as an IAM member (`serviceAccount:…`, `user:…`).
    let email = email.trim();
    let email = ["serviceAccount:", "user:"]
        .iter()
        .find_map(|kind| email.strip_prefix(kind))
        .unwrap_or(email)
        .to_ascii_lowercase();
    match engine {
        Kind::Mysql => email.split('@').next().unwrap_or_default().to_string(),
        _ => email
            .strip_suffix(".gserviceaccount.com")
            .map_or_else(|| email.clone(), str::to_string),
    }
}

/// The user a session logs in as: the one named (`--connect-user`), else for
/// Cloud SQL IAM authentication the run's Google principal in the engine's
/// form ([`cloudsql_iam_user`]), else [`super::DEFAULT_USER`].
pub fn user(
    named: Option<&str>,
    password: Option<&PasswordSource>,
    endpoint: &Endpoint,
    principal: Option<&str>,
) -> Result<String, String> {
    if let Some(user) = named {
        return Ok(user.to_string());
    }
    if password.is_none() && endpoint.provider == Kind::Cloudsql && endpoint.iam == Some(true) {
        return match principal.filter(|p| p.contains('@')) {
            Some(email) => Ok(cloudsql_iam_user(email, endpoint.engine)),
            None => Err(
                "Cloud SQL IAM database authentication logs in as the IAM principal, and the run's Google principal is unknown: name its database user with --connect-user (connect_user), e.g. 'NAME@PROJECT.iam' for a service account on PostgreSQL".into(),
            ),
        };
    }
    Ok(super::DEFAULT_USER.to_string())
}

/// The password for `user` at `endpoint`: the named one, else an IAM token
/// when the instance accepts IAM authentication; the error says what to set.
pub async fn password(
    source: Option<&PasswordSource>,
    endpoint: &Endpoint,
    user: &str,
) -> Result<String, String> {
    if let Some(source) = source {
        return named(source);
    }
    match (endpoint.provider, endpoint.iam) {
        (Kind::Rds, Some(true)) => rds_token(endpoint, user).await,
        (Kind::Rds, _) => Err(
            "no password is named and IAM database authentication is disabled on this instance (IAMDatabaseAuthenticationEnabled = false): enable it (aws rds modify-db-instance --enable-iam-database-authentication) or name a password (--connect-password-env VAR, connect_password_env / connect_password_file)".into(),
        ),
        (Kind::Cloudsql, Some(true)) => cloudsql_token().await,
        (Kind::Cloudsql, _) => Err(
            "no password is named and IAM database authentication is off on this instance (database flag cloudsql.iam_authentication / cloudsql_iam_authentication is not 'on'): turn the flag on and add the IAM user, or name a password (--connect-password-env VAR, connect_password_env / connect_password_file)".into(),
        ),
        (other, _) => Err(format!("{} instances have no IAM authentication", other.as_str())),
    }
}

/// An RDS IAM auth token for `user` at the instance's own host name and port
/// (the name the signature covers, even when `--resolve` redirects the
/// address), signed locally by the SDK's generator from the credential chain.
#[cfg(feature = "rds")]
pub async fn rds_token(endpoint: &Endpoint, user: &str) -> Result<String, String> {
    // One SDK configuration per region for the whole run: its credentials
    // provider caches (an IRSA / SSO chain is not asked again per instance).
    type Cache = std::sync::Mutex<std::collections::BTreeMap<String, aws_config::SdkConfig>>;
    static CONFIGS: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let cache = CONFIGS.get_or_init(Default::default);
    let key = endpoint.region.clone().unwrap_or_default();
    let cached = cache.lock().ok().and_then(|map| map.get(&key).cloned());
    let sdk = match cached {
        Some(sdk) => sdk,
        None => {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(region) = &endpoint.region {
                loader = loader.region(aws_config::Region::new(region.clone()));
            }
            let sdk = loader.load().await;
            if let Ok(mut map) = cache.lock() {
                map.insert(key, sdk.clone());
            }
            sdk
        }
    };
    sign_rds_token(endpoint, user, &sdk).await
}

/// [`rds_token`] with the given SDK configuration (credentials, region, clock).
#[cfg(feature = "rds")]
pub async fn sign_rds_token(
    endpoint: &Endpoint,
    user: &str,
    sdk: &aws_config::SdkConfig,
) -> Result<String, String> {
    use aws_sdk_rds::auth_token::{AuthTokenGenerator, Config};
    let config = Config::builder()
        .hostname(&endpoint.host)
        .port(u64::from(endpoint.port))
        .username(user)
        .build()
        .map_err(|err| format!("cannot configure the RDS auth token: {err}"))?;
    AuthTokenGenerator::new(config)
        .auth_token(sdk)
        .await
        .map(|token| token.as_str().to_string())
        .map_err(|err| {
            format!(
                "cannot sign an RDS IAM auth token (no AWS credentials? set AWS_PROFILE or the role of the pod): {err}"
            )
        })
}

#[cfg(not(feature = "rds"))]
pub async fn rds_token(_endpoint: &Endpoint, _user: &str) -> Result<String, String> {
    Err("this sqlready was built without the `rds` feature, which signs RDS IAM tokens".into())
}

/// The Google OAuth access token Cloud SQL IAM database authentication takes
/// as the password: `GOOGLE_OAUTH_ACCESS_TOKEN` when set, else Application
/// Default Credentials (workload identity, a service-account key, gcloud).
#[cfg(feature = "cloudsql")]
pub async fn cloudsql_token() -> Result<String, String> {
    if let Ok(token) = std::env::var("GOOGLE_OAUTH_ACCESS_TOKEN")
        && !token.is_empty()
    {
        return Ok(token);
    }
    let credentials = google_cloud_auth::credentials::Builder::default()
        .with_scopes(["https://www.googleapis.com/auth/sqlservice.login"])
        .build_access_token_credentials()
        .map_err(|err| format!("no Google credentials for Cloud SQL IAM authentication: {err}"))?;
    match tokio::time::timeout(
        std::time::Duration::from_secs(15),
        credentials.access_token(),
    )
    .await
    {
        Ok(Ok(token)) => Ok(token.token),
        Ok(Err(err)) => Err(format!(
            "cannot get a Google access token for Cloud SQL IAM authentication: {err}"
        )),
        Err(_) => Err(
            "getting a Google access token for Cloud SQL IAM authentication took more than 15 s"
                .into(),
        ),
    }
}

#[cfg(not(feature = "cloudsql"))]
pub async fn cloudsql_token() -> Result<String, String> {
    Err("this sqlready was built without the `cloudsql` feature".into())
}

#[cfg(test)]
mod encoding_tests {
    #[test]
    fn a_password_survives_the_url_byte_for_byte() {
        let token = "h:5432/?Action=connect&X-Amz-Credential=a%2Fb p@ss";
        let mut url = url::Url::parse("postgres://u@h:5432/db").unwrap();
        url.set_password(Some(&super::url_encoded(token))).unwrap();
        let decoded = percent_decode(url.password().unwrap());
        assert_eq!(decoded, token);
    }

    fn percent_decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
}

#[cfg(test)]
mod user_tests {
    use super::*;

    #[test]
    fn cloud_sql_names_iam_users_per_engine() {
        let sa = "serviceAccount:Auditor@acme-prod.iam.gserviceaccount.com";
        assert_eq!(
            cloudsql_iam_user(sa, Kind::Postgres),
            "auditor@acme-prod.iam"
        );
        assert_eq!(cloudsql_iam_user(sa, Kind::Mysql), "auditor");
        let person = "user:dana@acme.example";
        assert_eq!(
            cloudsql_iam_user(person, Kind::Postgres),
            "dana@acme.example"
        );
        assert_eq!(cloudsql_iam_user(person, Kind::Mysql), "dana");
    }
}

#[cfg(all(test, feature = "rds"))]
mod tests {
    use super::*;

    /// The token is the SDK's presigned `connect` URL without its scheme, for
    /// the API's host name and port, the user, and SigV4 query parameters.
    #[tokio::test]
    async fn an_rds_token_is_a_presigned_connect_url_for_the_host_and_user() {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                None,
                None,
                "test",
            ))
            .region(aws_config::Region::new("eu-west-1"))
            .load()
            .await;
        let endpoint = Endpoint {
            provider: Kind::Rds,
            engine: Kind::Postgres,
            host: "orders.abc.eu-west-1.rds.amazonaws.com".into(),
            port: 5432,
            from: String::new(),
            ca_pem: None,
            iam: Some(true),
            region: Some("eu-west-1".into()),
        };
        let token = sign_rds_token(&endpoint, "sqlready_auditor", &sdk)
            .await
            .unwrap();
        assert!(
            token.starts_with(
                "orders.abc.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=sqlready_auditor&"
            ),
            "{token}"
        );
        for key in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIDEXAMPLE%2F",
            "%2Feu-west-1%2Frds-db%2Faws4_request",
            "X-Amz-Date=",
            "X-Amz-Expires=900",
            "X-Amz-SignedHeaders=host",
            "X-Amz-Signature=",
        ] {
            assert!(token.contains(key), "{key} in {token}");
        }
        let off = Endpoint {
            iam: Some(false),
            ..endpoint
        };
        let err = password(None, &off, "u").await.unwrap_err();
        assert!(
            err.contains("IAMDatabaseAuthenticationEnabled = false"),
            "{err}"
        );
    }
}
