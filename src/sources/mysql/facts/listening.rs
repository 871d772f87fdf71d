//! Where the server listens: a server that accepts no TCP connection from
//! another host (`skip_networking`, or every `bind_address` on loopback) is
//! not reachable from the network, which the server itself knows
//! (`network.public_ip` false; a cloud API's answer still wins when paired,
//! src/facts/merge.rs).

use super::*;

/// Whether one `bind_address` entry is a loopback address (127.0.0.0/8, ::1,
/// or the name `localhost`). An empty value (MariaDB's default) and `*`, `::`,
/// `0.0.0.0` mean every interface.
fn is_loopback(entry: &str) -> bool {
    let entry = entry.trim();
    entry.eq_ignore_ascii_case("localhost")
        || entry
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether every address in a `bind_address` list (comma-separated since
/// MySQL 8.0.13 and MariaDB 10.11) is loopback.
fn all_loopback(list: &str) -> bool {
    !list.trim().is_empty() && list.split(',').all(is_loopback)
}

/// Why the server cannot be reached from the network, when it cannot: the
/// classic protocol (`skip_networking`, `bind_address`), MySQL's separate
/// administrative interface (`admin_address`) and X Protocol
/// (`mysqlx_bind_address`, on by default in MySQL 8 on port 33060) must
/// all stay on the host. `None` when any of them may listen elsewhere.
pub fn unreachable_from_network(vars: &BTreeMap<String, String>) -> Option<String> {
    let classic = if vars.get("skip_networking").and_then(|v| flag(v)) == Some(true) {
        "skip_networking = ON".to_string()
    } else {
        let bind = vars.get("bind_address")?;
        if !all_loopback(bind) {
            return None;
        }
        format!("bind_address = {bind}")
    };
    let mut why = vec![classic];
    match vars.get("admin_address").map(|v| v.trim()) {
        None | Some("") => {}
        Some(admin) if all_loopback(admin) => why.push(format!("admin_address = {admin}")),
        Some(_) => return None,
    }
    match vars.get("mysqlx_bind_address") {
        None => {}
        Some(x) if all_loopback(x) => why.push(format!("mysqlx_bind_address = {x}")),
        Some(_) => return None,
    }
    Some(why.join(", "))
}

pub(super) fn listening_facts(sink: &mut FactSink<'_>, vars: Option<&BTreeMap<String, String>>) {
    if let Some(why) = vars.and_then(unreachable_from_network) {
        sink.known(
            "network.public_ip",
            format!("SHOW GLOBAL VARIABLES: {why}: the server listens on no address reachable from the network"),
            false,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn loopback_only_servers_are_unreachable() {
        let why = unreachable_from_network(&vars(&[("bind_address", "127.0.0.1,::1")])).unwrap();
        assert!(why.contains("bind_address = 127.0.0.1,::1"), "{why}");
        assert!(unreachable_from_network(&vars(&[("skip_networking", "ON")])).is_some());
        assert!(unreachable_from_network(&vars(&[("bind_address", "localhost")])).is_some());
    }

    #[test]
    fn any_interface_or_unknown_is_not_judged() {
        for bind in [
            "",
            "*",
            "0.0.0.0",
            "::",
            "10.0.0.5",
            "127.0.0.1,10.0.0.5",
            "db.internal",
        ] {
            assert_eq!(
                unreachable_from_network(&vars(&[("bind_address", bind)])),
                None,
                "{bind}"
            );
        }
        assert_eq!(unreachable_from_network(&vars(&[])), None);
    }

    #[test]
    fn x_protocol_and_the_admin_interface_count_too() {
        let x_open = vars(&[("bind_address", "127.0.0.1"), ("mysqlx_bind_address", "*")]);
        assert_eq!(unreachable_from_network(&x_open), None);
        let admin_open = vars(&[("skip_networking", "ON"), ("admin_address", "10.0.0.5")]);
        assert_eq!(unreachable_from_network(&admin_open), None);
        let closed = vars(&[
            ("bind_address", "127.0.0.1"),
            ("mysqlx_bind_address", "127.0.0.1"),
            ("admin_address", ""),
        ]);
        assert!(unreachable_from_network(&closed).is_some());
    }
}
