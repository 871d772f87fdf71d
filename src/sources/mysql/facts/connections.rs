//! Connection limits and usage.

use super::*;

pub(super) fn connection_facts(
    sink: &mut FactSink<'_>,
    vars: Option<&BTreeMap<String, String>>,
    status: Option<&BTreeMap<String, String>>,
    vars_error: &str,
    status_error: &str,
) {
    let int = |map: Option<&BTreeMap<String, String>>, name: &str| {
        map.and_then(|m| m.get(name))
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    let connected = int(status, "threads_connected");
    let max_used = int(status, "max_used_connections");
    let max = int(vars, "max_connections");
    sink.maybe(
        "connections.client_backends",
        "SHOW GLOBAL STATUS: Threads_connected",
        connected,
        status_error,
        None,
    );
    sink.maybe(
        "connections.max_connections",
        "SHOW GLOBAL VARIABLES: max_connections",
        max,
        vars_error,
        None,
    );
    sink.known(
        "connections.reserved",
        "MySQL/MariaDB keep their admin connection(s) on top of max_connections",
        0,
    );
    let why = if max.is_none() {
        vars_error
    } else {
        status_error
    };
    match (connected, max) {
        (Some(c), Some(m)) => sink.known(
            "connections.usage_ratio",
            "Threads_connected / max_connections",
            c as f64 / m.max(1) as f64,
        ),
        _ => sink.unknown("connections.usage_ratio", why, None),
    }
    match (max_used, max) {
        (Some(u), Some(m)) => sink.known(
            "connections.max_used_ratio",
            "Max_used_connections / max_connections (high-water mark since start)",
            u as f64 / m.max(1) as f64,
        ),
        _ => sink.unknown("connections.max_used_ratio", why, None),
    }
}
