//! Who else is connected with superuser rights: processlist sessions of user
//! names that hold global SUPER (ALL PRIVILEGES includes it), other than this
//! audit's own connection and the server's or provider's own threads.
//!
//! An application connected with SUPER can change any global variable, kill any
//! session and write while the server is read_only: every SQL injection in it
//! becomes an attack on the whole server.

use super::facts::{Answer, flag, text};
use crate::facts::{Fact, Facts};
use std::collections::BTreeSet;

/// Path of the fact this module records.
pub const PATH: &str = "access.superuser_sessions";

/// Other client sessions (PROCESS shows every account's; without it only the
/// audit's own). Server threads and managed services' agents are not clients:
/// `system user` (replication, InnoDB), `event_scheduler`, connections not yet
/// authenticated, RDS's `rdsadmin`/`rdsrepladmin`, Cloud SQL's `cloudsqladmin`.
pub const PROCESSLIST: &str = "SELECT USER AS user, HOST AS host, DB AS db \
FROM information_schema.PROCESSLIST \
WHERE ID <> CONNECTION_ID() \
AND USER NOT IN ('system user', 'event_scheduler', 'unauthenticated user', \
'rdsadmin', 'rdsrepladmin', 'cloudsqladmin', 'mysql.session') \
AND COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Binlog Dump GTID') \
ORDER BY USER, HOST";

/// `user from host (database)` for every session of a user name that has an
/// account with SUPER. The processlist names the user, not the matched account
/// (`'app'@'10.%'` and `'app'@'localhost'` both show as `app`): a name with any
/// SUPER account counts, which may warn where the session used a narrower
/// account but never passes a superuser session.
pub fn superuser_sessions(
    accounts: Option<&Answer>,
    processlist: Option<&Answer>,
) -> Result<Vec<String>, String> {
    let rows = |answer: Option<&Answer>, what: &str| match answer {
        Some(Answer::Rows(rows)) => Ok(rows.clone()),
        Some(Answer::Failed { error, .. }) => Err(format!("{what} failed: {error}")),
        None => Err(format!(
            "{what} was not read: without PROCESS the audit sees only its own sessions"
        )),
    };
    let processes = rows(processlist, "reading information_schema.PROCESSLIST")?;
    let accounts = rows(accounts, "reading the accounts")?;
    let supers: BTreeSet<&str> = accounts
        .iter()
        .filter(|row| text(row, "super").and_then(flag) == Some(true))
        .filter_map(|row| text(row, "user"))
        .filter(|user| !user.is_empty())
        .collect();
    let lines: BTreeSet<String> = processes
        .iter()
        .filter_map(|row| {
            let user = text(row, "user")?;
            if !supers.contains(user) {
                return None;
            }
            let host = client_host(text(row, "host").unwrap_or_default());
            Some(match text(row, "db").filter(|d| !d.is_empty()) {
                Some(db) => format!("{user} from {host} (database {db})"),
                None => format!("{user} from {host}"),
            })
        })
        .collect();
    Ok(lines.into_iter().collect())
}

/// The client's host without its port (`10.0.0.7:51234` → `10.0.0.7`;
/// `[::1]:5123` → `[::1]`; `localhost` as is).
fn client_host(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port))
            if !port.is_empty()
                && port.chars().all(|c| c.is_ascii_digit())
                && (name.ends_with(']') || !name.contains(':')) =>
        {
            name
        }
        _ => host,
    }
}

/// The minor-release facts (crate::eol) of this server. Aurora MySQL reports
/// the MySQL version it is compatible with (`8.0.32`) while its releases follow
/// Aurora's own lineage (`@@aurora_version`, 3.05.2): it is never compared with
/// MySQL's minor releases.
pub fn minor_release(
    identity: &super::facts::Identity,
    variables: &std::collections::BTreeMap<String, String>,
    today: chrono::NaiveDate,
) -> Facts {
    let version = match variables.get("aurora_version") {
        Some(aurora) => format!("{} (Aurora MySQL {aurora})", identity.version_text),
        None => identity.version_text.clone(),
    };
    let mut sink = crate::facts::FactSink::new(super::facts::SOURCE);
    crate::eol::record_minor(
        &mut sink,
        identity.version.flavour.engine(),
        &version,
        today,
    );
    sink.finish()
}

/// Records [`PATH`] from [`superuser_sessions`].
pub fn record(facts: &mut Facts, source: &str, sessions: Result<Vec<String>, String>) {
    let fact = match sessions {
        Ok(lines) => Fact::known(
            source,
            "information_schema.PROCESSLIST of user names with a global SUPER account, this session excluded",
            serde_json::json!(lines),
        ),
        Err(reason) => Fact::unknown(
            source,
            reason,
            Some("GRANT PROCESS ON *.* and SELECT ON mysql.user (MariaDB 10.4+: mysql.global_priv) to the audit account".into()),
        ),
    };
    facts.insert(PATH.to_string(), fact);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(values: serde_json::Value) -> Answer {
        Answer::Rows(
            values
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_object().unwrap().clone())
                .collect(),
        )
    }

    #[test]
    fn sessions_of_super_user_names_are_named_with_their_client() {
        let accounts = rows(json!([
            {"user": "root", "host": "localhost", "super": "1"},
            {"user": "app", "host": "%", "super": "0"},
            {"user": "admin", "host": "%", "super": "1"},
        ]));
        let processes = rows(json!([
            {"user": "admin", "host": "10.0.0.7:51234", "db": "shop"},
            {"user": "admin", "host": "10.0.0.7:51299", "db": "shop"},
            {"user": "app", "host": "10.0.0.8:40000", "db": "shop"},
            {"user": "root", "host": "localhost", "db": null},
        ]));
        assert_eq!(
            superuser_sessions(Some(&accounts), Some(&processes)).unwrap(),
            vec![
                "admin from 10.0.0.7 (database shop)".to_string(),
                "root from localhost".to_string(),
            ]
        );
    }

    #[test]
    fn unread_inputs_are_unknown_never_an_empty_list() {
        let accounts = rows(json!([]));
        assert!(superuser_sessions(Some(&accounts), None).is_err());
        let failed = Answer::Failed {
            error: "denied".into(),
            denied: true,
        };
        assert!(superuser_sessions(Some(&failed), Some(&rows(json!([])))).is_err());
    }

    #[test]
    fn ports_are_dropped_from_client_hosts() {
        assert_eq!(client_host("10.0.0.7:51234"), "10.0.0.7");
        assert_eq!(client_host("[::1]:5123"), "[::1]");
        assert_eq!(client_host("localhost"), "localhost");
        assert_eq!(client_host("::1"), "::1");
    }
}
