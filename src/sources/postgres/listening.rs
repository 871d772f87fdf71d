//! Where the server listens: with `listen_addresses` empty (Unix-domain
//! socket only) or only loopback addresses, no other host can connect, which
//! the server itself knows (`network.public_ip` false; a cloud API's answer
//! still wins when paired, src/facts/merge.rs).

use crate::facts::FactSink;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Whether one `listen_addresses` entry is loopback (127.0.0.0/8, ::1, or
/// the name `localhost`). `*`, `0.0.0.0` and `::` mean every interface.
fn is_loopback(entry: &str) -> bool {
    let entry = entry.trim();
    entry.eq_ignore_ascii_case("localhost")
        || entry
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Why the server cannot be reached from the network, when it cannot.
pub fn unreachable_from_network(listen_addresses: &str) -> Option<String> {
    let entries: Vec<&str> = listen_addresses
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    if entries.is_empty() {
        return Some("listen_addresses = '' (Unix-domain socket only)".into());
    }
    entries
        .iter()
        .all(|entry| is_loopback(entry))
        .then(|| format!("listen_addresses = '{listen_addresses}' (loopback only)"))
}

/// `network.public_ip` false when pg_settings says so; nothing otherwise (a
/// hosting property then, for the cloud API to tell).
pub fn listening_facts(sink: &mut FactSink<'_>, settings: &BTreeMap<String, Json>) {
    let Some(listen) = settings.get("listen_addresses").and_then(Json::as_str) else {
        return;
    };
    if let Some(why) = unreachable_from_network(listen) {
        sink.known(
            "network.public_ip",
            format!(
                "pg_settings.{why}: the server listens on no address reachable from the network"
            ),
            false,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_only_and_loopback_only_are_unreachable() {
        assert!(
            unreachable_from_network("")
                .unwrap()
                .contains("socket only")
        );
        assert!(unreachable_from_network("localhost").is_some());
        assert!(unreachable_from_network("127.0.0.1,::1").is_some());
    }

    #[test]
    fn any_other_address_is_not_judged() {
        for listen in [
            "*",
            "0.0.0.0",
            "::",
            "10.0.0.5",
            "localhost,10.0.0.5",
            "db.internal",
        ] {
            assert_eq!(unreachable_from_network(listen), None, "{listen}");
        }
    }
}
