//! Target URIs: parsing, and display with every secret removed.

use serde::{Deserialize, Serialize};
use std::fmt;
use url::Url;

/// Where a target's facts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Postgres,
    Mysql,
    Rds,
    Cloudsql,
    Terraform,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Postgres => "postgres",
            Kind::Mysql => "mysql",
            Kind::Rds => "rds",
            Kind::Cloudsql => "cloudsql",
            Kind::Terraform => "terraform",
        }
    }
}

/// A target's place in its replication topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Primary,
    Replica,
    Cluster,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Replica => "replica",
            Role::Cluster => "cluster",
        }
    }
}

/// A target as given on the command line.
#[derive(Clone)]
pub enum TargetSpec {
    /// A database audited from inside; `url` holds credentials and is never displayed.
    Database { kind: Kind, url: Url, id: String },
    Cloud { kind: Kind, uri: String },
}

impl TargetSpec {
    /// The id that appears in reports: no user, no password, no query string.
    pub fn id(&self) -> &str {
        match self {
            TargetSpec::Database { id, .. } => id,
            TargetSpec::Cloud { uri, .. } => uri,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            TargetSpec::Database { kind, .. } | TargetSpec::Cloud { kind, .. } => *kind,
        }
    }
}

impl fmt::Debug for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the URL: it may carry a password.
        f.debug_tuple("TargetSpec").field(&self.id()).finish()
    }
}

/// Why a target string was refused. Messages never include the password.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TargetError {
    #[error(
        "'{shown}' is not a target URI: expected postgres://, mysql://, rds://REGION or cloudsql://PROJECT"
    )]
    NotAUri { shown: String },
    #[error(
        "unknown target scheme '{scheme}://' in '{shown}': use postgres://, postgresql://, mysql://, mariadb://, rds:// or cloudsql://"
    )]
    UnknownScheme { scheme: String, shown: String },
    #[error("'{shown}' has no host: write it as {example}")]
    NoHost { shown: String, example: &'static str },
    #[error("'{shown}': {reason}")]
    Invalid { shown: String, reason: String },
    #[error(
        "{scheme}:// targets are not available in this build yet: audit the database from inside (postgres://, mysql://) for now"
    )]
    NotAvailable { scheme: String },
}

/// Parses one target argument.
pub fn parse(input: &str) -> Result<TargetSpec, TargetError> {
    let shown = redact_uri(input);
    let Some((scheme, _)) = input.split_once("://") else {
        return Err(TargetError::NotAUri { shown });
    };
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "postgres" | "postgresql" => database(Kind::Postgres, input, shown, 5432),
        "mysql" | "mariadb" => database(Kind::Mysql, input, shown, 3306),
        "rds" | "cloudsql" => Err(TargetError::NotAvailable { scheme }),
        _ => Err(TargetError::UnknownScheme { scheme, shown }),
    }
}

fn database(
    kind: Kind,
    input: &str,
    shown: String,
    default_port: u16,
) -> Result<TargetSpec, TargetError> {
    let url = Url::parse(input).map_err(|err| TargetError::Invalid {
        shown: shown.clone(),
        reason: err.to_string(),
    })?;
    let host = match url.host_str() {
        Some(host) if !host.is_empty() => host.to_string(),
        _ => {
            return Err(TargetError::NoHost {
                shown,
                example: match kind {
                    Kind::Mysql => "mysql://USER@HOST:3306/DB",
                    _ => "postgres://USER@HOST:5432/DB",
                },
            });
        }
    };
    let port = url.port().unwrap_or(default_port);
    let database = url.path().trim_start_matches('/');
    let database = if database.is_empty() {
        match kind {
            // libpq connects to the database named after the user by default.
            Kind::Postgres if !url.username().is_empty() => url.username().to_string(),
            Kind::Postgres => "postgres".to_string(),
            _ => String::new(),
        }
    } else {
        percent_encoding::percent_decode_str(database)
            .decode_utf8_lossy()
            .into_owned()
    };
    let scheme = kind.as_str();
    let id = format!("{scheme}://{host}:{port}/{database}");
    Ok(TargetSpec::Database { kind, url, id })
}

/// A URI with any `user:password@` part and query string removed, for messages.
pub fn redact_uri(input: &str) -> String {
    let Some((scheme, rest)) = input.split_once("://") else {
        // Not a URI: it may still be a password typed in the wrong place.
        return if input.len() > 64 {
            format!("{}…", &input[..input.floor_char_boundary(64)])
        } else {
            input.to_string()
        };
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let tail = tail.split(['?', '#']).next().unwrap_or("");
    format!("{scheme}://{host}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_id_drops_credentials_and_query() {
        let spec = parse("postgres://app:s3cret@db.internal:6432/orders?sslmode=require").unwrap();
        assert_eq!(spec.id(), "postgres://db.internal:6432/orders");
        assert!(!format!("{spec:?}").contains("s3cret"));
    }

    #[test]
    fn postgres_defaults_port_and_database_to_user() {
        let spec = parse("postgresql://auditor@localhost").unwrap();
        assert_eq!(spec.id(), "postgres://localhost:5432/auditor");
        assert_eq!(spec.kind(), Kind::Postgres);
    }

    #[test]
    fn mysql_and_mariadb_share_a_kind() {
        let spec = parse("mariadb://root:pw@127.0.0.1/app").unwrap();
        assert_eq!(spec.id(), "mysql://127.0.0.1:3306/app");
    }

    #[test]
    fn unknown_scheme_is_named_without_the_password() {
        let err = parse("oracle://scott:tiger@host/db").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("oracle://"), "{message}");
        assert!(!message.contains("tiger"), "{message}");
    }

    #[test]
    fn not_a_uri_is_refused() {
        assert!(matches!(
            parse("localhost:5432"),
            Err(TargetError::NotAUri { .. })
        ));
    }

    #[test]
    fn missing_host_is_refused_with_an_example() {
        let err = parse("postgres:///app").unwrap_err();
        assert!(err.to_string().contains("postgres://USER@HOST:5432/DB"));
    }

    #[test]
    fn redaction_keeps_host_and_path_only() {
        assert_eq!(
            redact_uri("mysql://u:p@w@h:1/db?password=x"),
            "mysql://h:1/db"
        );
    }
}
