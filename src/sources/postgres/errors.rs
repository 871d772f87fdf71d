//! PostgreSQL failures in words a user can act on. No message carries a
//! password: sqlx never echoes it, and URIs are redacted before display.

use super::super::CollectOptions;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("invalid PostgreSQL URI: {reason}")]
    BadUri { reason: String },
    #[error(
        "could not connect to {endpoint} within {seconds} s: check the host, port and firewall, or raise --connect-timeout"
    )]
    ConnectTimeout { endpoint: String, seconds: u64 },
    #[error("cannot reach {endpoint}: {detail}")]
    Unreachable { endpoint: String, detail: String },
    #[error(
        "authentication failed for user '{user}' at {endpoint}: {detail}; check the password (in the URI or PGPASSWORD)"
    )]
    Authentication {
        endpoint: String,
        user: String,
        detail: String,
    },
    #[error("the server at {endpoint} refused user '{user}': {detail}")]
    Refused {
        endpoint: String,
        user: String,
        detail: String,
    },
    #[error("TLS with {endpoint} failed: {detail}")]
    Tls { endpoint: String, detail: String },
    #[error(
        "{endpoint} did not answer like a PostgreSQL server ({detail}): check the port and scheme"
    )]
    NotPostgres { endpoint: String, detail: String },
    #[error(
        "{what} exceeded the statement timeout of {seconds} s: raise --statement-timeout or audit a less loaded server"
    )]
    StatementTimeout { what: String, seconds: u64 },
    #[error("{what} was denied: {detail}; grant pg_monitor to the audit role")]
    PermissionDenied { what: String, detail: String },
    #[error("{what} failed: {detail}")]
    Query { what: String, detail: String },
    #[error("unexpected answer from {endpoint}: {detail}")]
    Unexpected { endpoint: String, detail: String },
}

/// A connection attempt that timed out. A PostgreSQL server answers the
/// client's first message at once, so a port that accepts TCP but stays
/// silent is another service (or a proxy with nothing behind it), not a
/// firewall: the error says which, after a short second TCP attempt.
pub async fn timed_out(endpoint: &str, options: &PgConnectOptions, seconds: u64) -> PgError {
    let endpoint = endpoint.to_string();
    if tcp_accepts(options.get_host(), options.get_port()).await {
        PgError::NotPostgres {
            endpoint,
            detail: format!(
                "it accepted the TCP connection but sent no PostgreSQL answer within {seconds} s; something else listens on that port"
            ),
        }
    } else {
        PgError::ConnectTimeout { endpoint, seconds }
    }
}

/// Whether a TCP connection to host:port opens within two seconds (a Unix
/// socket path is never probed).
async fn tcp_accepts(host: &str, port: u16) -> bool {
    if host.starts_with('/') {
        return false;
    }
    // Where the connection went (`--resolve`, installed into sqlx's connect).
    let (host, port) =
        sqlx_core::net::connect_override(host, port).unwrap_or_else(|| (host.to_string(), port));
    tokio::task::spawn_blocking(move || {
        use std::net::ToSocketAddrs;
        let Ok(addresses) = (host.as_str(), port).to_socket_addrs() else {
            return false;
        };
        addresses.take(2).any(|address| {
            std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_secs(2))
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// Classifies a connection failure.
pub fn connect(err: sqlx::Error, endpoint: &str, options: &PgConnectOptions) -> PgError {
    let endpoint = endpoint.to_string();
    let user = options.get_username().to_string();
    match err {
        sqlx::Error::Database(db) => {
            let detail = db.message().to_string();
            match db.code().as_deref() {
                Some("28P01") => PgError::Authentication {
                    endpoint,
                    user,
                    detail,
                },
                Some("28000")
                    if detail.contains("no encryption")
                        && matches!(options.get_ssl_mode(), PgSslMode::Disable) =>
                {
                    PgError::Refused {
                        endpoint,
                        user,
                        detail: format!(
                            "{detail} (the server requires TLS; remove sslmode=disable)"
                        ),
                    }
                }
                // pg_hba `cert` or `clientcert=verify-ca|verify-full`: the TLS session
                // was set up, then authentication wanted the client's certificate.
                Some("28000") if detail.contains("client certificate") => PgError::Refused {
                    endpoint,
                    user,
                    detail: format!(
                        "{detail} (the server's pg_hba.conf requires a client certificate for this connection: give it with sslcert=PATH and sslkey=PATH, signed by a CA in the server's ssl_ca_file)"
                    ),
                },
                Some("28000") if detail.contains("certificate authentication failed") => {
                    let detail = format!(
                        "{detail} (the client certificate given with sslcert was accepted, but its common name is not the user name '{user}' nor mapped to it in pg_ident.conf: connect as the certificate's user or use a certificate made for this one)"
                    );
                    PgError::Refused {
                        endpoint,
                        user,
                        detail,
                    }
                }
                Some(code) if code.starts_with("28") || code == "3D000" || code == "42501" => {
                    PgError::Refused {
                        endpoint,
                        user,
                        detail,
                    }
                }
                _ => PgError::Refused {
                    endpoint,
                    user,
                    detail,
                },
            }
        }
        // A PostgreSQL server answers the SSLRequest with 'S' or 'N'; anything else is another service.
        sqlx::Error::Tls(inner)
            if inner
                .to_string()
                .to_lowercase()
                .contains("unexpected response from sslrequest") =>
        {
            PgError::NotPostgres {
                endpoint,
                detail: "it did not answer the PostgreSQL SSL request".into(),
            }
        }
        sqlx::Error::Tls(inner) => {
            let detail = inner.to_string();
            let detail = if detail.contains("server does not support TLS") {
                format!(
                    "the server offers no TLS but the URI requires it (sslmode={}): enable ssl on the server, or use sslmode=prefer",
                    mode_name(options.get_ssl_mode())
                )
            } else {
                crate::sources::tls_errors::describe(&detail, &crate::sources::tls_errors::POSTGRES)
            };
            PgError::Tls { endpoint, detail }
        }
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::InvalidData => PgError::NotPostgres {
                endpoint,
                detail: io.to_string(),
            },
            _ => PgError::Unreachable {
                endpoint,
                detail: io.to_string(),
            },
        },
        // The message size cap of the patched sqlx (vendor/README.md): a hostile
        // or broken server, not a wrong port.
        sqlx::Error::Protocol(detail) if crate::sources::oversized_message(&detail) => {
            PgError::Unexpected { endpoint, detail }
        }
        sqlx::Error::Protocol(detail)
            if detail
                .to_lowercase()
                .contains("unexpected response from sslrequest") =>
        {
            PgError::NotPostgres {
                endpoint,
                detail: "it did not answer the PostgreSQL SSL request".into(),
            }
        }
        sqlx::Error::Protocol(detail) => {
            if detail.contains("SSL") || detail.contains("TLS") || detail.contains("ssl") {
                PgError::Tls {
                    endpoint,
                    detail: format!("{detail} (sslmode={:?})", options.get_ssl_mode())
                        .to_lowercase(),
                }
            } else {
                PgError::NotPostgres { endpoint, detail }
            }
        }
        other => PgError::Unexpected {
            endpoint,
            detail: crate::target::redact_uri(&other.to_string()),
        },
    }
}

/// An sslmode as libpq spells it.
pub fn mode_name(mode: PgSslMode) -> &'static str {
    match mode {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    }
}

/// Classifies a failed audit query.
pub fn query(err: sqlx::Error, what: &str, options: &CollectOptions) -> PgError {
    let what = what.to_string();
    if let sqlx::Error::Database(db) = &err {
        match db.code().as_deref() {
            Some("57014") => {
                return PgError::StatementTimeout {
                    what,
                    seconds: options.statement_timeout.as_secs(),
                };
            }
            Some("42501") => {
                return PgError::PermissionDenied {
                    what,
                    detail: db.message().to_string(),
                };
            }
            _ => {}
        }
    }
    PgError::Query {
        what,
        detail: describe_database_error(&err),
    }
}

/// A database error as one line, with its SQLSTATE.
pub fn describe_database_error(err: &sqlx::Error) -> String {
    match err {
        // The message size cap's own words, whole (not cut like an unknown error).
        sqlx::Error::Protocol(detail) if crate::sources::oversized_message(detail) => {
            detail.clone()
        }
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_string(),
        },
        other => crate::target::redact_uri(&other.to_string()),
    }
}
