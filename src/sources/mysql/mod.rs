//! MySQL and MariaDB, audited from inside: one read-only session with a
//! statement timeout, about a dozen small statements chosen by flavour and
//! version (`queries::plan`), the custom check queries in a read-only
//! transaction, then pure conversion into facts (`facts`).
//!
//! A statement the account may not run becomes an `Answer::Failed`, and the facts
//! that depend on it `unknown` with the GRANT that fixes it; it never stops the
//! audit. Statements that would silently answer less without a privilege (the
//! processlist without PROCESS, information_schema.TABLES without SELECT) are
//! judged against the account's global privileges, read first.

pub mod access;
mod binlog_size;
mod errors;
pub mod facts;
mod limits;
mod persisted;
mod privileges;
pub mod queries;
mod registered;

use super::{CollectOptions, CustomQuery};
use crate::facts::RawEvidence;
use crate::facts::snapshot::TargetFacts;
pub use errors::MyError;
use facts::{Answer, Identity, Readings, Row};
use serde_json::Value as Json;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow};
use sqlx::{Column, ConnectOptions, Connection, Row as _, TypeInfo};
use std::time::Duration;
use url::Url;

/// Extra time the client waits beyond the server-side statement timeout before it
/// gives up on an answer (SHOW statements are not bounded by max_execution_time).
const CLIENT_GRACE: Duration = Duration::from_secs(5);

/// Collects the facts of one MySQL or MariaDB server.
pub async fn collect(
    id: &str,
    url: &Url,
    options: &CollectOptions,
) -> Result<TargetFacts, MyError> {
    let connect_options = connect_options(url)?;
    let endpoint = format!(
        "{}:{}",
        connect_options.get_host(),
        connect_options.get_port()
    );
    let client_cert = url
        .query_pairs()
        .any(|(key, _)| matches!(key.as_ref(), "ssl-cert" | "sslcert"));
    let mut conn = connect(&connect_options, options, &endpoint, client_cert).await?;
    let user = connect_options.get_username().to_string();
    let mut evidence = Vec::new();
    let identity_row = match bounded(fetch(&mut conn, queries::IDENTITY), options).await {
        Ok(Ok(rows)) => rows.into_iter().next().unwrap_or_default(),
        Ok(Err(err)) => return Err(errors::query(&err, "reading the server version")),
        Err(waited) => {
            return Err(MyError::Unexpected {
                endpoint,
                detail: format!(
                    "no answer to SELECT VERSION() within {} s",
                    waited.as_secs()
                ),
            });
        }
    };
    let Some(identity) = Identity::from_row(&identity_row) else {
        return Err(MyError::NotMysql {
            endpoint,
            detail: format!(
                "VERSION() returned {:?}",
                facts::text(&identity_row, "version").unwrap_or_default()
            ),
        });
    };
    record(
        &mut evidence,
        "identity",
        queries::IDENTITY,
        &Answer::Rows(vec![identity_row.clone()]),
    );
    let warnings: Vec<String> = privilege_warning(&mut conn, id, &identity, options)
        .await
        .into_iter()
        .collect();
    let plan = queries::plan(&identity.version, options.statement_timeout);
    for statement in &plan.session {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone()))
            .execute(&mut conn)
            .await
            .map_err(|err| errors::query(&err, "setting up the read-only session"))?;
    }
    let mut readings = Readings {
        identity: identity_row,
        ..Readings::default()
    };
    let mut reader = Reader {
        conn: &mut conn,
        options,
        evidence: &mut evidence,
        broken: false,
    };
    readings.variables = Some(reader.read("variables", &queries::variables()).await);
    readings.status = Some(reader.read("status", &queries::status()).await);
    readings.replica_status = Some(reader.read("replica_status", plan.replica_status).await);
    if identity.has("PROCESS") {
        readings.binlog_dumps = Some(reader.read("binlog_dumps", queries::BINLOG_DUMPS).await);
        let registered = registered::statement(&identity.version);
        readings.replica_hosts = Some(reader.read("replica_hosts", registered).await);
    }
    if persisted::applies(&identity) {
        readings.persisted = Some(reader.read("persisted", persisted::QUERY).await);
    }
    readings.audit_plugins = Some(reader.read("audit_plugins", queries::AUDIT_PLUGINS).await);
    readings.accounts = Some(reader.read("accounts", plan.accounts).await);
    let (limits_sql, limits_grant) = limits::statement(&identity.version);
    let account_limits = reader.read("account_limits", limits_sql).await;
    readings.schemata = Some(reader.read("schemata", queries::SCHEMATA).await);
    readings.test_grants = Some(reader.read("test_grants", queries::TEST_GRANTS).await);
    readings.migrations = Some(reader.read("migrations", &queries::migrations()).await);
    let variables = facts::name_values(readings.variables.as_ref()).unwrap_or_default();
    let on = |name: &str| variables.get(name).and_then(|v| facts::flag(v)) == Some(true);
    if on("log_bin") {
        readings.binary_logs = Some(reader.read("binary_logs", queries::BINARY_LOGS).await);
    }
    if facts::on_rds(&variables) {
        readings.rds_binlog_retention = Some(
            reader
                .read("rds_binlog_retention", queries::RDS_BINLOG_RETENTION)
                .await,
        );
    }
    if let Some(sql) = plan.tls_threads.filter(|_| on("performance_schema")) {
        readings.tls_threads = Some(reader.read("tls_threads", sql).await);
    }
    let processlist = if identity.has("PROCESS") {
        Some(reader.read("processlist", access::PROCESSLIST).await)
    } else {
        None
    };
    readings.custom = reader.run_custom_queries(&options.queries).await;
    let broken = reader.broken;
    if !broken {
        let _ = conn.close().await;
    }
    let now = chrono::Utc::now();
    Ok(TargetFacts {
        id: id.to_string(),
        resource: None,
        kind: crate::target::Kind::Mysql,
        role: facts::role(&readings),
        engine: identity.version.flavour.engine().to_string(),
        version: identity.version.number(),
        collected_at: now,
        facts: {
            let mut all = facts::facts(&readings, now.date_naive());
            let sessions =
                access::superuser_sessions(readings.accounts.as_ref(), processlist.as_ref());
            access::record(&mut all, facts::SOURCE, sessions);
            let limit_rows = limits::limit_rows(
                Some(&account_limits),
                processlist.as_ref(),
                readings.variables.as_ref(),
            );
            let limits_fix = format!(
                "GRANT PROCESS ON *.* TO {account}; {limits_grant} TO {account};",
                account = identity.account
            );
            limits::record(&mut all, facts::SOURCE, limit_rows, &limits_fix);
            all.extend(access::minor_release(
                &identity,
                &variables,
                now.date_naive(),
            ));
            all
        },
        evidence,
        principal: Some(user),
        sources: Vec::new(),
        location: None,
        warnings,
        tags: Default::default(),
    })
}

/// Connection options from the URI (`ssl-mode`, `ssl-ca`, `socket` … honoured; TLS
/// is preferred by default; the user defaults to `root` like sqlx's), the password
/// from `MYSQL_PWD` when the URI has none, and no statement cache: every statement
/// is run once.
fn connect_options(url: &Url) -> Result<MySqlConnectOptions, MyError> {
    let parsed = MySqlConnectOptions::from_url(url).map_err(|err| MyError::BadUri {
        reason: crate::target::redact_uri(&err.to_string()),
    })?;
    // An IPv6 literal ([::1]) is connected to as the address, not looked up.
    let parsed = match crate::target::connect_host(url) {
        Some(host) if url.host_str().is_some_and(|h| h.starts_with('[')) => parsed.host(&host),
        _ => parsed,
    };
    // sqlx reads every file named: say which one is missing before connecting.
    let files = &[
        "ssl-ca", "sslca", "ssl-cert", "sslcert", "ssl-key", "sslkey",
    ];
    if let Some(reason) = crate::sources::tls_errors::unreadable_file(url, files) {
        return Err(MyError::BadUri { reason });
    }
    let parsed = ssl_ca_implies_verify_ca(parsed, url);
    let parsed = match url
        .query_pairs()
        .find(|(key, _)| matches!(key.as_ref(), "ssl-key" | "sslkey"))
    {
        Some((param, path)) => match crate::sources::client_key::read_converted(&param, &path)
            .map_err(|reason| MyError::BadUri { reason })?
        {
            Some(pkcs8) => parsed.ssl_client_key_from_pem(pkcs8),
            None => parsed,
        },
        None => parsed,
    };
    let parsed = match (url.password(), std::env::var("MYSQL_PWD")) {
        (None, Ok(password)) if !password.is_empty() => parsed.password(&password),
        _ => parsed,
    };
    // sqlx would add PIPES_AS_CONCAT to sql_mode; custom check queries keep the
    // server's own SQL semantics (`||` as OR unless the server says otherwise).
    Ok(parsed
        .statement_cache_capacity(0)
        .pipes_as_concat(false)
        .no_engine_substitution(false))
}

/// The mysql client: "specifying `--ssl-ca` without `--ssl-mode` implies
/// `VERIFY_CA`" — a CA file is given to be checked against. sqlx keeps its
/// default (PREFERRED, nothing verified) instead, so the URI that the mysql
/// client verifies would go unverified here.
fn ssl_ca_implies_verify_ca(parsed: MySqlConnectOptions, url: &Url) -> MySqlConnectOptions {
    let names = |wanted: &[&str]| {
        url.query_pairs()
            .any(|(key, _)| wanted.contains(&key.as_ref()))
    };
    if names(&["ssl-ca", "sslca"]) && !names(&["ssl-mode", "sslmode"]) {
        parsed.ssl_mode(sqlx::mysql::MySqlSslMode::VerifyCa)
    } else {
        parsed
    }
}

/// `client_cert`: the URI gives a client certificate (`ssl-cert`), so a
/// refusal is not for the lack of one.
async fn connect(
    connect_options: &MySqlConnectOptions,
    options: &CollectOptions,
    endpoint: &str,
    client_cert: bool,
) -> Result<MySqlConnection, MyError> {
    match tokio::time::timeout(
        options.connect_timeout,
        MySqlConnection::connect_with(connect_options),
    )
    .await
    {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => Err(errors::connect(err, endpoint, connect_options, client_cert)),
        Err(_) => {
            // MySQL servers speak first. A port that accepts TCP but never sends a
            // handshake is something else (a PostgreSQL server waits for the client).
            let seconds = options.connect_timeout.as_secs();
            if tcp_accepts(connect_options.get_host(), connect_options.get_port()).await {
                Err(MyError::NotMysql {
                    endpoint: endpoint.to_string(),
                    detail: format!(
                        "it accepted the TCP connection but sent no MySQL handshake within {seconds} s"
                    ),
                })
            } else {
                Err(MyError::ConnectTimeout {
                    endpoint: endpoint.to_string(),
                    seconds,
                })
            }
        }
    }
}

/// What the account may do beyond reading (`privileges`): its grants per
/// schema, table, column and routine from `SHOW GRANTS`, and its global ones
/// from `SHOW GRANTS` and information_schema. Said once on stderr and
/// returned for the run record. `SHOW GRANTS` not answering leaves the global
/// privileges only (a warning is a courtesy; the session is read-only anyway).
async fn privilege_warning(
    conn: &mut MySqlConnection,
    id: &str,
    identity: &Identity,
    options: &CollectOptions,
) -> Option<String> {
    let lines: Vec<String> = match bounded(fetch(conn, "SHOW GRANTS"), options).await {
        Ok(Ok(rows)) => rows
            .iter()
            .filter_map(|row| row.values().next()?.as_str().map(str::to_string))
            .collect(),
        Ok(Err(err)) => {
            tracing::info!(error = %errors::describe(&err), "SHOW GRANTS failed; only global privileges are looked at");
            Vec::new()
        }
        Err(_) => Vec::new(),
    };
    let mut beyond = privileges::beyond_reading(&lines);
    let global: Vec<String> = privileges::BEYOND_READING_GLOBAL
        .iter()
        .filter(|p| identity.has(p))
        .map(|p| p.to_string())
        .collect();
    match beyond.iter_mut().find(|b| b.on == "*.*") {
        Some(on_all) => {
            for privilege in global {
                if !on_all.privileges.contains(&privilege) {
                    on_all.privileges.push(privilege);
                }
            }
        }
        None if !global.is_empty() => beyond.insert(
            0,
            privileges::Beyond {
                privileges: global,
                on: "*.*".into(),
            },
        ),
        None => {}
    }
    let warning = privileges::warning(&identity.account, &beyond)?;
    tracing::warn!(target = id, "{warning}");
    Some(warning)
}

/// Whether a TCP connection to host:port opens within two seconds (only asked
/// after a connection attempt already timed out, to word the error).
async fn tcp_accepts(host: &str, port: u16) -> bool {
    // Where the connection went (`--resolve`, installed into sqlx's connect).
    let (host, port) =
        sqlx_core::net::connect_override(host, port).unwrap_or_else(|| (host.to_string(), port));
    tokio::task::spawn_blocking(move || {
        use std::net::ToSocketAddrs;
        let Ok(addresses) = (host.as_str(), port).to_socket_addrs() else {
            return false;
        };
        addresses.take(2).any(|address| {
            std::net::TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// Runs a statement over the text protocol and returns its rows as text.
async fn fetch(conn: &mut MySqlConnection, sql: &str) -> Result<Vec<Row>, sqlx::Error> {
    // Only the constants of `queries` and validated custom queries get here.
    let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(conn)
        .await?;
    Ok(rows.iter().map(|row| row_json(row, false)).collect())
}

/// Awaits a statement for at most the statement timeout plus a grace period.
async fn bounded<T>(
    future: impl Future<Output = T>,
    options: &CollectOptions,
) -> Result<T, Duration> {
    let limit = options.statement_timeout + CLIENT_GRACE;
    tokio::time::timeout(limit, future).await.map_err(|_| limit)
}

/// A row as JSON. The text protocol sends every value as text: kept as strings for
/// the audit's own statements (facts.rs types them), typed by column for custom
/// queries so their rows compare as numbers in CEL.
fn row_json(row: &MySqlRow, typed: bool) -> Row {
    let mut out = Row::new();
    for (index, column) in row.columns().iter().enumerate() {
        let value = match row.try_get_unchecked::<Option<Vec<u8>>, _>(index) {
            Ok(Some(bytes)) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if typed {
                    typed_value(column.type_info().name(), text)
                } else {
                    Json::String(text)
                }
            }
            Ok(None) | Err(_) => Json::Null,
        };
        out.insert(column.name().to_string(), value);
    }
    out
}

fn typed_value(type_name: &str, text: String) -> Json {
    let base = type_name.split_whitespace().next().unwrap_or_default();
    match base {
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => text
            .parse::<i64>()
            .map(Json::from)
            .or_else(|_| text.parse::<u64>().map(Json::from))
            .unwrap_or(Json::String(text)),
        // COUNT/SUM over integers come back as DECIMAL without a fraction: keep them integers.
        "DECIMAL" if !text.contains('.') => {
            text.parse::<i64>().map(Json::from).unwrap_or_else(|_| {
                text.parse::<f64>()
                    .map(Json::from)
                    .unwrap_or(Json::String(text))
            })
        }
        "DECIMAL" | "FLOAT" | "DOUBLE" => text
            .parse::<f64>()
            .map(Json::from)
            .unwrap_or(Json::String(text)),
        "BOOLEAN" => Json::Bool(text == "1"),
        _ => Json::String(text),
    }
}

fn record(evidence: &mut Vec<RawEvidence>, name: &str, sql: &str, answer: &Answer) {
    evidence.push(RawEvidence {
        source: facts::SOURCE.into(),
        name: name.into(),
        request: sql.trim().into(),
        response: serde_json::to_value(answer).unwrap_or(Json::Null),
    });
}

/// Runs the audit's statements on one connection, recording each as evidence.
struct Reader<'a> {
    conn: &'a mut MySqlConnection,
    options: &'a CollectOptions,
    evidence: &'a mut Vec<RawEvidence>,
    /// A statement got no answer in time: the connection is mid-query, stop using it.
    broken: bool,
}

impl Reader<'_> {
    async fn read(&mut self, name: &str, sql: &str) -> Answer {
        let answer = if self.broken {
            Answer::Failed {
                error: "skipped: an earlier statement got no answer in time".into(),
                denied: false,
            }
        } else {
            match bounded(fetch(self.conn, sql), self.options).await {
                Ok(Ok(rows)) => Answer::Rows(rows),
                Ok(Err(err)) => Answer::Failed {
                    error: self.describe(&err),
                    denied: errors::is_denied(&err),
                },
                Err(waited) => {
                    self.broken = true;
                    Answer::Failed {
                        error: format!("no answer within {} s", waited.as_secs()),
                        denied: false,
                    }
                }
            }
        };
        if let Answer::Failed { error, .. } = &answer {
            tracing::info!(statement = name, error = %error, "statement failed; its facts are unknown");
        }
        record(self.evidence, name, sql, &answer);
        answer
    }

    fn describe(&self, err: &sqlx::Error) -> String {
        if errors::is_timeout(err) {
            format!(
                "exceeded the statement timeout of {} s ({})",
                self.options.statement_timeout.as_secs_f64(),
                errors::describe(err)
            )
        } else {
            errors::describe(err)
        }
    }

    /// Runs each custom check query inside one read-only transaction (a failed
    /// statement does not end a MySQL transaction, so no savepoints are needed),
    /// each alone as a prepared statement, under the session's statement timeout.
    async fn run_custom_queries(
        &mut self,
        queries: &[CustomQuery],
    ) -> Vec<(String, Result<Json, String>)> {
        let mine: Vec<&CustomQuery> = queries.iter().filter(|q| q.engine == "mysql").collect();
        if mine.is_empty() {
            return Vec::new();
        }
        if self.broken {
            let reason = "skipped: an earlier statement got no answer in time".to_string();
            return mine
                .iter()
                .map(|q| (q.check_id.clone(), Err(reason.clone())))
                .collect();
        }
        if let Err(err) = sqlx::raw_sql(queries::BEGIN_READ_ONLY)
            .execute(&mut *self.conn)
            .await
        {
            let reason = format!(
                "cannot start a read-only transaction: {}",
                errors::describe(&err)
            );
            return mine
                .iter()
                .map(|q| (q.check_id.clone(), Err(reason.clone())))
                .collect();
        }
        let mut results = Vec::new();
        for query in mine {
            if self.broken {
                results.push((
                    query.check_id.clone(),
                    Err("skipped: an earlier query got no answer in time".to_string()),
                ));
                continue;
            }
            let run = run_one(&mut *self.conn, &query.sql);
            let outcome = match bounded(run, self.options).await {
                Ok(Ok(rows)) => Ok(rows),
                Ok(Err(err)) => Err(self.describe(&err)),
                Err(waited) => {
                    self.broken = true;
                    Err(format!(
                        "no answer within {} s (statement timeout plus grace)",
                        waited.as_secs()
                    ))
                }
            };
            if let Ok(rows) = &outcome {
                self.evidence.push(RawEvidence {
                    source: facts::SOURCE.into(),
                    name: format!("query for {}", query.check_id),
                    request: query.sql.clone(),
                    response: rows.clone(),
                });
            }
            results.push((query.check_id.clone(), outcome));
        }
        if !self.broken {
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *self.conn).await;
        }
        results
    }
}

/// One custom query, exactly as written, as a prepared statement: `sqlx::query`
/// always prepares (COM_STMT_PREPARE), and a prepared statement is one
/// statement — the server refuses `SELECT 1; DELETE …` even if the guard
/// (`checks::query`) were bypassed. The session is read-only with a statement
/// timeout (`queries::plan`); the audit reaches this only inside
/// `START TRANSACTION READ ONLY`. Public for the tests that prove it.
pub async fn run_one(conn: &mut MySqlConnection, sql: &str) -> Result<Json, sqlx::Error> {
    // Custom SQL passed `checks::query::validate` at load time and runs read-only.
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(conn)
        .await?;
    Ok(Json::Array(
        rows.iter()
            .map(|row| Json::Object(binary_row_json(row)))
            .collect(),
    ))
}

/// A row of the binary protocol as JSON, typed by column: integers and floats
/// as numbers, DECIMAL as a number (an integer when it has no fraction), dates
/// and times as text, JSON as JSON, everything else as text.
fn binary_row_json(row: &MySqlRow) -> Row {
    use sqlx::ValueRef;
    let mut out = Row::new();
    for (index, column) in row.columns().iter().enumerate() {
        let type_name = column.type_info().name().to_string();
        let null = row
            .try_get_raw(index)
            .map(|raw| raw.is_null())
            .unwrap_or(true);
        let value = if null {
            Json::Null
        } else {
            let base = type_name.split_whitespace().next().unwrap_or_default();
            let unsigned = type_name.contains("UNSIGNED");
            match base {
                "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" if unsigned => row
                    .try_get_unchecked::<u64, _>(index)
                    .map_or(Json::Null, Json::from),
                "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => row
                    .try_get_unchecked::<i64, _>(index)
                    .map_or(Json::Null, Json::from),
                "BOOLEAN" => row
                    .try_get_unchecked::<i64, _>(index)
                    .map_or(Json::Null, |v| Json::Bool(v != 0)),
                "FLOAT" => row
                    .try_get_unchecked::<f32, _>(index)
                    .map_or(Json::Null, |v| Json::from(f64::from(v))),
                "DOUBLE" => row
                    .try_get_unchecked::<f64, _>(index)
                    .map_or(Json::Null, Json::from),
                "DATETIME" | "TIMESTAMP" => row
                    .try_get_unchecked::<chrono::NaiveDateTime, _>(index)
                    .map_or(Json::Null, |t| Json::String(t.to_string())),
                "DATE" => row
                    .try_get_unchecked::<chrono::NaiveDate, _>(index)
                    .map_or(Json::Null, |t| Json::String(t.to_string())),
                "JSON" => row
                    .try_get_unchecked::<Option<Vec<u8>>, _>(index)
                    .ok()
                    .flatten()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or(Json::Null),
                _ => match row.try_get_unchecked::<Option<Vec<u8>>, _>(index) {
                    Ok(Some(bytes)) => {
                        typed_value(&type_name, String::from_utf8_lossy(&bytes).into_owned())
                    }
                    Ok(None) | Err(_) => Json::Null,
                },
            }
        };
        out.insert(column.name().to_string(), value);
    }
    out
}
