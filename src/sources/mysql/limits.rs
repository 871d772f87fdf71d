//! Per-account connection limits: MySQL and MariaDB refuse an account's next
//! connection once it has `MAX_USER_CONNECTIONS` open (its own, or the global
//! `max_user_connections` when its own is 0), and its next login once it
//! connected `MAX_CONNECTIONS_PER_HOUR` times within the hour, however much
//! room `max_connections` leaves. They become `connections.limits` rows, the
//! fact PostgreSQL's role and database limits fill, so
//! `connections.role_limits` judges both engines alike.
//!
//! The global `max_user_connections` is read with the other variables
//! (`queries::VARIABLES`). Limits are kept per account (`'app'@'10.%'`), the processlist names only
//! the user: sessions are counted per user name, which may warn where a user
//! name has several accounts but never misses one at its limit.

use super::facts::{Answer, Row, name_values, text};
use super::queries::{Flavour, ServerVersion};
use crate::facts::{Fact, Facts};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// Path of the fact this module records.
pub const PATH: &str = "connections.limits";

/// Accounts with a limit of their own, where the account list is read from
/// (MariaDB 10.4+ keeps them in mysql.global_priv's JSON, which the
/// least-privilege account may read; mysql.user elsewhere), with the grant
/// that lets the audit read it.
pub fn statement(version: &ServerVersion) -> (&'static str, &'static str) {
    match version.flavour {
        Flavour::Mariadb if version.at_least(10, 4, 0) => {
            (GLOBAL_PRIV, "GRANT SELECT ON mysql.global_priv")
        }
        _ => (USER_TABLE, "GRANT SELECT ON mysql.user"),
    }
}

/// MariaDB 10.4+: `max_user_connections` and `max_connections` (per hour) in `Priv`.
const GLOBAL_PRIV: &str = "SELECT User AS user, Host AS host, \
CAST(COALESCE(JSON_VALUE(Priv, '$.max_user_connections'), '0') AS SIGNED) AS per_account, \
CAST(COALESCE(JSON_VALUE(Priv, '$.max_connections'), '0') AS SIGNED) AS per_hour \
FROM mysql.global_priv \
HAVING per_account <> 0 OR per_hour <> 0 ORDER BY User, Host";

/// MySQL and older MariaDB: the columns of mysql.user.
const USER_TABLE: &str = "SELECT User AS user, Host AS host, \
max_user_connections AS per_account, max_connections AS per_hour \
FROM mysql.user WHERE max_user_connections <> 0 OR max_connections <> 0 \
ORDER BY User, Host";

/// A number from a row, whether the driver gave it as a number or as text.
fn number(row: &Row, column: &str) -> Option<i64> {
    match row.get(column)? {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn rows<'a>(answer: Option<&'a Answer>, what: &str) -> Result<&'a [Row], String> {
    match answer {
        Some(Answer::Rows(rows)) => Ok(rows),
        Some(Answer::Failed { error, .. }) => Err(format!("{what} failed: {error}")),
        None => Err(format!(
            "{what} was not read: without PROCESS the audit sees only its own sessions"
        )),
    }
}

/// The limit rows `{kind, name, limit, used}`: every account with its own
/// limit (`account`, `account per hour`), and, when the global
/// `max_user_connections` is set, every user name with sessions now whose
/// accounts have no limit of their own (`every account`).
pub fn limit_rows(
    limits: Option<&Answer>,
    processlist: Option<&Answer>,
    variables: Option<&Answer>,
) -> Result<Vec<Json>, String> {
    let limits = rows(limits, "reading mysql.user resource limits")?;
    let processes = rows(processlist, "reading information_schema.PROCESSLIST")?;
    let global = name_values(variables)
        .ok_or("SHOW GLOBAL VARIABLES was not read")?
        .get("max_user_connections")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0);
    let mut sessions: BTreeMap<&str, i64> = BTreeMap::new();
    for row in processes {
        if let Some(user) = text(row, "user") {
            *sessions.entry(user).or_default() += 1;
        }
    }
    let used = |user: &str| sessions.get(user).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut own_limit: Vec<&str> = Vec::new();
    for row in limits {
        let user = text(row, "user").unwrap_or_default();
        let account = format!("'{user}'@'{}'", text(row, "host").unwrap_or_default());
        let per_account = number(row, "per_account").unwrap_or(0);
        if per_account > 0 {
            own_limit.push(user);
            out.push(json!({"kind": "account", "name": account, "limit": per_account, "used": used(user)}));
        }
        let per_hour = number(row, "per_hour").unwrap_or(0);
        if per_hour > 0 {
            out.push(json!({"kind": "account per hour", "name": account, "limit": per_hour, "used": used(user)}));
        }
    }
    if global > 0 {
        for (user, count) in &sessions {
            if !own_limit.contains(user) {
                out.push(
                    json!({"kind": "every account", "name": user, "limit": global, "used": count}),
                );
            }
        }
    }
    Ok(out)
}

/// Records [`PATH`]; `fix` is what lets the audit account read what failed.
pub fn record(facts: &mut Facts, source: &str, rows: Result<Vec<Json>, String>, fix: &str) {
    let fact = match rows {
        Ok(rows) => Fact::known(
            source,
            "mysql.user max_user_connections / max_connections (per hour) and the global max_user_connections, against each user's sessions in information_schema.PROCESSLIST",
            rows,
        ),
        Err(reason) => Fact::unknown(source, reason, Some(fix.to_string())),
    };
    facts.insert(PATH.to_string(), fact);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(rows: Json) -> Answer {
        Answer::Rows(serde_json::from_value(rows).unwrap())
    }

    fn variables(global: &str) -> Answer {
        answer(json!([{"Variable_name": "max_user_connections", "Value": global}]))
    }

    #[test]
    fn own_global_and_hourly_limits_are_rows_with_their_sessions() {
        let limits = answer(json!([
            {"user": "app", "host": "%", "per_account": 20, "per_hour": "0"},
            {"user": "batch", "host": "10.%", "per_account": "0", "per_hour": 50}
        ]));
        let processes = answer(json!([
            {"user": "app", "host": "10.0.0.1:5000", "db": "shop"},
            {"user": "app", "host": "10.0.0.2:5000", "db": "shop"},
            {"user": "report", "host": "10.0.0.3:5000", "db": null}
        ]));
        let rows = limit_rows(Some(&limits), Some(&processes), Some(&variables("10"))).unwrap();
        assert_eq!(
            rows,
            vec![
                json!({"kind": "account", "name": "'app'@'%'", "limit": 20, "used": 2}),
                json!({"kind": "account per hour", "name": "'batch'@'10.%'", "limit": 50, "used": 0}),
                json!({"kind": "every account", "name": "report", "limit": 10, "used": 1}),
            ]
        );
        let none = limit_rows(Some(&limits), Some(&processes), Some(&variables("0"))).unwrap();
        assert_eq!(none.len(), 2);
    }

    #[test]
    fn without_the_processlist_the_limits_are_unknown() {
        let limits = answer(json!([]));
        let err = limit_rows(Some(&limits), None, Some(&variables("0"))).unwrap_err();
        assert!(err.contains("PROCESS"), "{err}");
    }
}
