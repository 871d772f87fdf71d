//! TLS offered by the server and used by its clients.

use super::*;

pub(super) fn tls_facts(
    sink: &mut FactSink<'_>,
    identity: &Identity,
    vars: Option<&BTreeMap<String, String>>,
    status: Option<&BTreeMap<String, String>>,
    threads: Option<&Answer>,
) {
    match vars
        .and_then(|v| v.get("require_secure_transport"))
        .map(|v| flag(v))
    {
        Some(Some(required)) => sink.known(
            "network.tls_required",
            "SHOW GLOBAL VARIABLES: require_secure_transport",
            required,
        ),
        Some(None) => sink.unknown(
            "network.tls_required",
            "require_secure_transport has an unexpected value",
            None,
        ),
        None if vars.is_some() => sink.known(
            "network.tls_required",
            format!(
                "require_secure_transport does not exist on {}",
                identity.version.describe()
            ),
            false,
        ),
        None => sink.unknown("network.tls_required", "SHOW GLOBAL VARIABLES failed", None),
    }
    let threads_connected = status
        .and_then(|s| s.get("threads_connected"))
        .and_then(|v| v.parse::<i64>().ok());
    let count = |row: &Row, column: &str| {
        text(row, column)
            .and_then(|v| v.parse::<f64>().ok())
            .map(|v| v as i64)
    };
    // Without PROCESS, the threads of other accounts may be hidden: the count would
    // be the audit's own session, or nothing, and could never show clear text.
    let hidden = matches!(threads, Some(Answer::Rows(_))) && !identity.has("PROCESS");
    match threads {
        Some(Answer::Rows(_)) if hidden => {
            sink.maybe(
                "network.client_connections",
                "SHOW GLOBAL STATUS: Threads_connected",
                threads_connected,
                "SHOW GLOBAL STATUS failed",
                None,
            );
            sink.unknown(
                "network.tls_connections",
                format!(
                    "account {} lacks PROCESS, so performance_schema.threads may list only its own sessions",
                    identity.account
                ),
                Some(&identity.grant("PROCESS")),
            );
        }
        Some(Answer::Rows(rows)) if rows.first().is_some_and(|r| r.contains_key("total")) => {
            // Recorded before the per-transport form: {total, tls}.
            let origin = "performance_schema.threads (foreground, CONNECTION_TYPE)";
            sink.maybe(
                "network.client_connections",
                origin,
                count(&rows[0], "total"),
                "no count",
                None,
            );
            sink.maybe(
                "network.tls_connections",
                origin,
                count(&rows[0], "tls"),
                "no count",
                None,
            );
        }
        Some(Answer::Rows(rows)) => {
            // Sessions over the network only: local transports need no TLS.
            let origin = "performance_schema.threads: other sessions over TCP/IP or SSL/TLS";
            let sessions = |kind: &str| -> i64 {
                rows.iter()
                    .filter(|r| text(r, "CONNECTION_TYPE") == Some(kind))
                    .filter_map(|r| count(r, "sessions"))
                    .sum()
            };
            let tls = sessions("SSL/TLS");
            sink.known(
                "network.client_connections",
                origin,
                sessions("TCP/IP") + tls,
            );
            sink.known("network.tls_connections", origin, tls);
        }
        other => {
            sink.maybe(
                "network.client_connections",
                "SHOW GLOBAL STATUS: Threads_connected",
                threads_connected,
                "SHOW GLOBAL STATUS failed",
                None,
            );
            let performance_schema = vars
                .and_then(|v| v.get("performance_schema"))
                .and_then(|v| flag(v));
            let (reason, fix) = match other {
                Some(Answer::Failed {
                    error,
                    denied: true,
                }) => (
                    format!("performance_schema.threads was denied: {error}"),
                    Some(format!(
                        "GRANT SELECT ON performance_schema.threads TO {};",
                        identity.account
                    )),
                ),
                Some(Answer::Failed { error, .. }) => {
                    (format!("performance_schema.threads failed: {error}"), None)
                }
                _ if performance_schema == Some(false) => (
                    "performance_schema is OFF, so which sessions use TLS cannot be read"
                        .to_string(),
                    Some(
                        "set performance_schema = ON in the server configuration (restart)"
                            .to_string(),
                    ),
                ),
                _ => (
                    format!(
                        "{} cannot tell which sessions use TLS",
                        identity.version.describe()
                    ),
                    None,
                ),
            };
            sink.unknown("network.tls_connections", reason, fix.as_deref());
        }
    }
}
