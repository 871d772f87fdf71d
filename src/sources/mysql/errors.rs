//! MySQL / MariaDB failures in words a user can act on, classified by the
//! server's error number. No message carries a password: sqlx never echoes it,
//! and URIs are redacted before display.

use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlSslMode};

#[derive(Debug, thiserror::Error)]
pub enum MyError {
    #[error("invalid MySQL URI: {reason}")]
    BadUri { reason: String },
    #[error(
        "could not connect to {endpoint} within {seconds} s: check the host, port and firewall, or raise --connect-timeout"
    )]
    ConnectTimeout { endpoint: String, seconds: u64 },
    #[error("cannot reach {endpoint}: {detail}")]
    Unreachable { endpoint: String, detail: String },
    #[error(
        "authentication failed for user '{user}' at {endpoint}: {detail}; check the password (in the URI or MYSQL_PWD){hint}"
    )]
    Authentication {
        endpoint: String,
        user: String,
        detail: String,
        hint: String,
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
        "{endpoint} did not answer like a MySQL or MariaDB server ({detail}): check the port and scheme"
    )]
    NotMysql { endpoint: String, detail: String },
    #[error("{what} failed: {detail}")]
    Query { what: String, detail: String },
    #[error("unexpected answer from {endpoint}: {detail}")]
    Unexpected { endpoint: String, detail: String },
}

/// Server error numbers that mean "this account lacks a privilege".
const DENIED: &[u16] = &[
    1044, // ER_DBACCESS_DENIED_ERROR
    1142, // ER_TABLEACCESS_DENIED_ERROR
    1143, // ER_COLUMNACCESS_DENIED_ERROR
    1227, // ER_SPECIFIC_ACCESS_DENIED_ERROR ("you need (at least one of) the … privilege(s)")
    1370, // ER_PROCACCESS_DENIED_ERROR
    3530, // MySQL ER_ROLE_NOT_GRANTED / component access
];

/// The server's error number, if it answered with an error packet.
pub fn number(err: &sqlx::Error) -> Option<u16> {
    match err {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<MySqlDatabaseError>()
            .map(MySqlDatabaseError::number),
        _ => None,
    }
}

/// Whether a failed statement was refused for lack of a privilege.
pub fn is_denied(err: &sqlx::Error) -> bool {
    number(err).is_some_and(|n| DENIED.contains(&n))
}

/// Whether a failed statement hit the session's statement timeout (MariaDB 1969
/// max_statement_time, MySQL 3024 max_execution_time).
pub fn is_timeout(err: &sqlx::Error) -> bool {
    matches!(number(err), Some(1969 | 3024))
}

/// Classifies a connection failure; `client_cert`: the URI gave one (`ssl-cert`).
pub fn connect(
    err: sqlx::Error,
    endpoint: &str,
    options: &MySqlConnectOptions,
    client_cert: bool,
) -> MyError {
    let endpoint = endpoint.to_string();
    let user = options.get_username().to_string();
    let disabled = matches!(options.get_ssl_mode(), MySqlSslMode::Disabled);
    match err {
        sqlx::Error::Database(db) => {
            let detail = db.message().to_string();
            let number = db
                .try_downcast_ref::<MySqlDatabaseError>()
                .map(MySqlDatabaseError::number);
            match number {
                // MariaDB refuses a connection without TLS under require_secure_transport
                // with this same "Access denied" (verified on 10.11), so say so when the
                // client turned TLS off.
                Some(1045) => MyError::Authentication {
                    endpoint,
                    user,
                    detail,
                    hint: if disabled {
                        " — or, since ssl-mode=DISABLED: a MariaDB server with require_secure_transport=ON refuses connections without TLS with this same message; remove ssl-mode=DISABLED".into()
                    } else if client_cert {
                        String::new()
                    } else {
                        // Indistinguishable from a wrong password on the wire (MariaDB and MySQL alike).
                        " — or, if the account requires a client certificate (REQUIRE X509, SUBJECT or ISSUER): give it with ssl-cert=PATH and ssl-key=PATH".into()
                    },
                },
                // MySQL ER_SECURE_TRANSPORT_REQUIRED.
                Some(3159) => MyError::Refused {
                    endpoint,
                    user,
                    detail: format!("{detail} (the server requires TLS; remove ssl-mode=DISABLED)"),
                },
                _ => MyError::Refused {
                    endpoint,
                    user,
                    detail: describe_database_error_message(&detail, number),
                },
            }
        }
        sqlx::Error::Tls(inner) => {
            let detail = inner.to_string();
            let detail = if detail.contains("does not support TLS") {
                format!(
                    "{detail} (the client requires TLS but the server offers none: configure ssl_cert/ssl_key on the server, or use ssl-mode=PREFERRED)"
                )
            } else {
                crate::sources::tls_errors::describe(&detail, &crate::sources::tls_errors::MYSQL)
            };
            MyError::Tls { endpoint, detail }
        }
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::InvalidData => MyError::NotMysql {
                endpoint,
                detail: io.to_string(),
            },
            _ => MyError::Unreachable {
                endpoint,
                detail: io.to_string(),
            },
        },
        // The message size cap of the patched sqlx (vendor/README.md).
        sqlx::Error::Protocol(detail) if crate::sources::oversized_message(&detail) => {
            MyError::Unexpected { endpoint, detail }
        }
        sqlx::Error::Protocol(detail) => MyError::NotMysql { endpoint, detail },
        other => MyError::Unexpected {
            endpoint,
            detail: crate::target::redact_uri(&other.to_string()),
        },
    }
}

fn describe_database_error_message(message: &str, number: Option<u16>) -> String {
    match number {
        Some(n) => format!("{message} (error {n})"),
        None => message.to_string(),
    }
}

/// A database error as one line, with its error number.
pub fn describe(err: &sqlx::Error) -> String {
    match err {
        // The message size cap's own words, whole (not cut like an unknown error).
        sqlx::Error::Protocol(detail) if crate::sources::oversized_message(detail) => {
            detail.clone()
        }
        sqlx::Error::Database(db) => describe_database_error_message(db.message(), number(err)),
        other => crate::target::redact_uri(&other.to_string()),
    }
}

/// A failed query the audit cannot do without.
pub fn query(err: &sqlx::Error, what: &str) -> MyError {
    MyError::Query {
        what: what.to_string(),
        detail: describe(err),
    }
}
