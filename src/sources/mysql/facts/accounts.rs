//! Accounts, their authentication and rights, and grants on test schemas.

use super::*;

/// One account as the accounts query returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub user: String,
    pub host: String,
    pub locked: bool,
    pub is_role: bool,
    pub plugin: String,
    pub empty_authentication: bool,
    pub alternatives: bool,
    /// MariaDB `IDENTIFIED VIA … OR …`: another method is a password plugin with an
    /// empty password.
    pub empty_alternative: bool,
    /// TLS required: MariaDB global_priv ssl_type 1..3, mysql.user ssl_type ANY/X509/SPECIFIED.
    pub requires_tls: bool,
    /// Global SUPER (MariaDB: bit 15 of global_priv `access`, which ALL PRIVILEGES sets).
    pub superuser: bool,
}

impl Account {
    pub fn from_row(row: &Row) -> Account {
        let truthy = |column: &str| {
            text(row, column).is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
        };
        let ssl_type = text(row, "ssl_type")
            .unwrap_or_default()
            .trim()
            .to_ascii_uppercase();
        Account {
            user: text(row, "user").unwrap_or_default().to_string(),
            host: text(row, "host").unwrap_or_default().to_string(),
            locked: truthy("locked"),
            is_role: truthy("is_role"),
            plugin: text(row, "plugin")
                .unwrap_or("mysql_native_password")
                .to_string(),
            empty_authentication: truthy("empty_authentication"),
            alternatives: truthy("alternatives"),
            empty_alternative: truthy("empty_alternative"),
            requires_tls: !matches!(ssl_type.as_str(), "" | "0" | "NONE"),
            superuser: truthy("super"),
        }
    }

    pub fn name(&self) -> String {
        format!("'{}'@'{}'", self.user, self.host)
    }

    /// Can be used to log in at all (locked accounts and roles cannot).
    fn active(&self) -> bool {
        !self.locked && !self.is_role
    }

    /// A named account that logs in with an empty password by one of its methods.
    /// Plugins that do not take a password (unix_socket, auth_socket, ed25519 keys,
    /// PAM, GSSAPI) are exempt. A MariaDB account with several methods (`IDENTIFIED VIA
    /// unix_socket OR mysql_native_password …`) is passwordless when any password
    /// method is: the top-level one is always one of its methods.
    pub fn empty_password(&self) -> bool {
        const PASSWORD_PLUGINS: &[&str] = &[
            "mysql_native_password",
            "mysql_old_password",
            "caching_sha2_password",
            "sha256_password",
        ];
        self.active()
            && !self.user.is_empty()
            && ((PASSWORD_PLUGINS.contains(&self.plugin.as_str()) && self.empty_authentication)
                || self.empty_alternative)
    }

    pub fn anonymous(&self) -> bool {
        self.active() && self.user.is_empty()
    }

    fn loopback(&self) -> bool {
        self.host == "localhost" || self.host == "::1" || self.host.starts_with("127.")
    }

    /// May log in over TCP from another host without TLS.
    pub fn remote_without_tls(&self) -> bool {
        self.active() && !self.loopback() && !self.requires_tls
    }

    /// A superuser (or root) that may log in from another host: an attacker who
    /// guesses or steals its password owns the server from anywhere the host pattern
    /// admits. `hostname` is the server's own name (root@HOSTNAME from the installer).
    pub fn remote_superuser(&self, hostname: Option<&str>) -> bool {
        let own_name = hostname.is_some_and(|h| self.host.eq_ignore_ascii_case(h));
        self.active() && !self.loopback() && !own_name && (self.superuser || self.user == "root")
    }
}

pub(super) fn account_facts(
    sink: &mut FactSink<'_>,
    identity: &Identity,
    plan: &Plan,
    answer: Option<&Answer>,
) {
    sink.known(
        "access.session_user",
        "CURRENT_USER()",
        identity.account.clone(),
    );
    sink.known(
        "access.session_superuser",
        "information_schema.USER_PRIVILEGES of CURRENT_USER(): SUPER (ALL PRIVILEGES includes it)",
        identity.has("SUPER"),
    );
    let paths = [
        "network.accounts_without_tls",
        "mysql.accounts.empty_password",
        "mysql.accounts.anonymous",
        "access.passwordless_logins",
        "access.remote_superusers",
    ];
    let rows = match answer {
        Some(Answer::Rows(rows)) => rows,
        Some(Answer::Failed { error, denied }) => {
            let fix = denied.then(|| format!("{} TO {};", plan.accounts_grant, identity.account));
            for path in paths {
                sink.unknown(
                    path,
                    format!("the account list could not be read: {error}"),
                    fix.as_deref(),
                );
            }
            return;
        }
        None => {
            for path in paths {
                sink.unknown(path, "the account list was not read", None);
            }
            return;
        }
    };
    let accounts: Vec<Account> = rows.iter().map(Account::from_row).collect();
    let table = match identity.version.flavour {
        Flavour::Mariadb if identity.version.at_least(10, 4, 0) => "mysql.global_priv",
        _ => "mysql.user",
    };
    let names = |keep: fn(&Account) -> bool| -> Vec<String> {
        accounts
            .iter()
            .filter(|a| keep(a))
            .map(Account::name)
            .collect()
    };
    sink.known(
        "network.accounts_without_tls",
        format!("{table}: non-loopback hosts without REQUIRE SSL/X509"),
        names(Account::remote_without_tls),
    );
    sink.known(
        "mysql.accounts.empty_password",
        format!("{table}: a password method with an empty authentication string"),
        names(Account::empty_password),
    );
    sink.known(
        "mysql.accounts.anonymous",
        format!("{table}: User = ''"),
        names(Account::anonymous),
    );
    sink.known(
        "access.passwordless_logins",
        format!("{table}: a password method with an empty authentication string"),
        names(Account::empty_password),
    );
    sink.known(
        "access.remote_superusers",
        format!(
            "{table}: SUPER or root, host neither loopback nor the server's own name, not locked"
        ),
        accounts
            .iter()
            .filter(|a| a.remote_superuser(identity.hostname.as_deref()))
            .map(Account::name)
            .collect::<Vec<_>>(),
    );
}

/// Whether a `mysql.db` pattern (LIKE syntax: `%`, `_`, `\` escapes) matches a name.
pub(super) fn like(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('%', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('_', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some(('\\', rest)) if !rest.is_empty() => {
                n.first() == Some(&rest[0]) && go(&rest[1..], &n[1..])
            }
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// Grants that open an existing test schema to every account.
pub(super) fn test_grant_facts(
    sink: &mut FactSink<'_>,
    identity: &Identity,
    test_databases: Option<&[String]>,
    grants: Option<&Answer>,
) {
    let path = "access.test_database_grants";
    if test_databases.is_some_and(|schemas| schemas.is_empty()) {
        sink.known(
            path,
            "information_schema.SCHEMATA: no test schema exists, so no grant opens one",
            Vec::<String>::new(),
        );
        return;
    }
    let rows = match grants {
        Some(Answer::Rows(rows)) => rows,
        Some(Answer::Failed { error, denied }) => {
            let fix = denied.then(|| format!("GRANT SELECT ON mysql.db TO {};", identity.account));
            sink.unknown(
                path,
                format!("mysql.db could not be read: {error}"),
                fix.as_deref(),
            );
            return;
        }
        None => {
            sink.unknown(path, "mysql.db was not read", None);
            return;
        }
    };
    let Some(schemas) = test_databases else {
        sink.unknown(
            path,
            "which test schemas exist is unknown (see mysql.test_databases)",
            None,
        );
        return;
    };
    let mut found = Vec::new();
    for row in rows {
        let db = text(row, "Db").unwrap_or_default();
        let user = text(row, "User").unwrap_or_default();
        let host = text(row, "Host").unwrap_or_default();
        for schema in schemas.iter().filter(|s| like(db, s)) {
            let who = if user == "PUBLIC" {
                "PUBLIC".to_string()
            } else {
                format!("'{user}'@'{host}'")
            };
            found.push(format!("{who} on {schema} (grant on `{db}`)"));
        }
    }
    sink.known(
        path,
        "mysql.db: grants to the anonymous user or PUBLIC on test schemas that exist",
        found,
    );
}
