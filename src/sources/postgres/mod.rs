//! PostgreSQL, audited from inside: a read-only session with timeouts, a
//! handful of round trips (one main document, one privileged document when
//! the role may read it, one per other database for migrations, and the
//! custom check queries), then pure conversion into facts.

pub mod access;
mod activity_stats;
mod custom_rows;
pub mod effective;
mod errors;
pub mod facts;
mod libpq_tls;
mod listening;
pub mod queries;

use super::{CollectOptions, CustomQuery};
use crate::facts::RawEvidence;
use crate::facts::snapshot::TargetFacts;
use crate::sources::migrations;
pub use errors::PgError;
use facts::{MainDoc, OtherDatabase, PrivilegedDoc, Readings};
use futures::stream::{self, StreamExt};
use serde_json::Value as Json;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use std::str::FromStr;
use url::Url;

/// How long past the statement timeout the client waits for a statement the
/// server should have ended itself (as the MySQL source does).
const CLIENT_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs one audit statement with a client-side bound of the statement
/// timeout plus [`CLIENT_GRACE`]: `statement_timeout` is enforced by the
/// server, and a server that completes the handshake and then never answers
/// would otherwise hold the target (and the run) forever.
async fn client_bound<T>(
    options: &CollectOptions,
    statement: impl std::future::Future<Output = T>,
) -> Result<T, String> {
    let limit = options.statement_timeout + CLIENT_GRACE;
    tokio::time::timeout(limit, statement).await.map_err(|_| {
        format!(
            "no answer within {} s (the statement timeout of {} s, which the server did not enforce, plus {} s)",
            limit.as_secs(),
            options.statement_timeout.as_secs(),
            CLIENT_GRACE.as_secs()
        )
    })
}

/// How many other databases are searched for migration tables at once.
const DATABASE_CONCURRENCY: usize = 4;

/// Collects the facts of one PostgreSQL server.
pub async fn collect(
    id: &str,
    url: &Url,
    options: &CollectOptions,
) -> Result<TargetFacts, PgError> {
    let connect_options = connect_options(url, options)?;
    let endpoint = format!(
        "{}:{}",
        connect_options.get_host(),
        connect_options.get_port()
    );
    let mut conn = connect(&connect_options, options, &endpoint).await?;
    let connected_at = std::time::Instant::now();
    let settings: Vec<String> = queries::SETTINGS.iter().map(|s| s.to_string()).collect();
    let tables = migrations::table_names();
    let main_text: String = client_bound(
        options,
        sqlx::query_scalar(queries::MAIN)
            .bind(&settings)
            .bind(&tables)
            .fetch_one(&mut conn),
    )
    .await
    .map_err(|late| PgError::Query {
        what: "reading the catalog".into(),
        detail: late,
    })?
    .map_err(|err| errors::query(err, "reading the catalog", options))?;
    let main: MainDoc = serde_json::from_str(&main_text).map_err(|err| PgError::Unexpected {
        endpoint: endpoint.clone(),
        detail: format!("the catalog document did not have the expected shape: {err}"),
    })?;
    let mut evidence = vec![RawEvidence {
        source: facts::SOURCE.into(),
        name: "catalog".into(),
        request: queries::MAIN.trim().into(),
        response: serde_json::from_str(&main_text).unwrap_or(Json::Null),
    }];
    let warnings: Vec<String> = privilege_warning(&mut conn, id, &main)
        .await
        .into_iter()
        .collect();
    let privileged = read_privileged(&mut conn, &main, options, &mut evidence).await;
    let effective = effective::read(&mut conn, options, &mut evidence).await;
    let custom = run_custom_queries(&mut conn, &options.queries, &mut evidence).await;
    let superuser_sessions = access::read_superuser_sessions(&mut conn).await;
    let activity = activity_stats::read(&mut conn, main.version_num).await;
    let _ = conn.close().await;
    let other_databases = search_other_databases(&connect_options, &main, options, &tables).await;
    tracing::debug!(
        target = id,
        "collected after connect in {:.1} ms",
        connected_at.elapsed().as_secs_f64() * 1e3
    );
    let readings = Readings {
        main,
        privileged,
        effective,
        other_databases,
        custom,
    };
    let now = chrono::Utc::now();
    Ok(TargetFacts {
        id: id.to_string(),
        resource: None,
        kind: crate::target::Kind::Postgres,
        role: facts::role(&readings.main),
        engine: "postgres".into(),
        version: readings
            .main
            .version
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
        collected_at: now,
        facts: {
            let mut all = facts::facts(&readings, now.date_naive());
            access::record(&mut all, facts::SOURCE, &superuser_sessions);
            activity_stats::record(&mut all, facts::SOURCE, &activity);
            all
        },
        evidence,
        principal: Some(readings.main.user.clone()),
        sources: Vec::new(),
        location: None,
        warnings,
        tags: Default::default(),
    })
}

/// Connection options from the URI (sslmode and friends honoured as libpq
/// does, [`libpq_tls`]; libpq's PG* variables such as PGPASSWORD fill what the
/// URI leaves out), plus a read-only session with a statement timeout set at
/// connection start.
fn connect_options(url: &Url, options: &CollectOptions) -> Result<PgConnectOptions, PgError> {
    let bad = |reason: String| PgError::BadUri { reason };
    let parse = |url: &Url| {
        PgConnectOptions::from_str(url.as_str()).map_err(|err| PgError::BadUri {
            reason: crate::target::redact_uri(&err.to_string()),
        })
    };
    let parsed = parse(url)?;
    let sslmode_env = std::env::var("PGSSLMODE").ok();
    let sslrootcert_env = std::env::var("PGSSLROOTCERT")
        .ok()
        .filter(|v| !v.is_empty());
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let decision = libpq_tls::decide(
        url,
        parsed.get_ssl_mode(),
        &libpq_tls::Env {
            sslmode: sslmode_env.as_deref(),
            sslrootcert: sslrootcert_env.as_deref(),
            home: home.as_deref(),
        },
        &|path| path.is_file(),
    )
    .map_err(bad)?;
    let read_url = if decision.strip_root {
        libpq_tls::without_root(url)
    } else {
        url.clone()
    };
    let mut parsed = if decision.strip_root {
        parse(&read_url)?
    } else {
        parsed
    };
    parsed = parsed.ssl_mode(decision.mode);
    if let Some(root) = &decision.default_root {
        parsed = parsed.ssl_root_cert(root);
    }
    // An IPv6 literal ([::1]) is connected to as the address, not looked up.
    if let Some(host) = crate::target::connect_host(url)
        && url.host_str().is_some_and(|h| h.starts_with('['))
    {
        parsed = parsed.host(&host);
    }
    // sqlx reads every file named: say which one cannot be read before connecting.
    let files = &[
        "sslrootcert",
        "ssl-root-cert",
        "ssl-ca",
        "sslcert",
        "ssl-cert",
        "sslkey",
        "ssl-key",
    ];
    if let Some(reason) = crate::sources::tls_errors::unreadable_file(&read_url, files) {
        return Err(bad(reason));
    }
    let mut key_file: Option<(String, String)> = read_url
        .query_pairs()
        .find(|(key, _)| matches!(key.as_ref(), "sslkey" | "ssl-key"))
        .map(|(key, path)| (key.into_owned(), path.into_owned()));
    if let Some((cert, key)) = libpq_tls::default_client_cert(
        &read_url,
        std::env::var_os("PGSSLCERT").is_some(),
        home.as_deref(),
        &|path| path.is_file(),
    )
    .map_err(bad)?
    {
        parsed = parsed.ssl_client_cert(&cert).ssl_client_key(&key);
        key_file = Some(("sslkey".into(), key.display().to_string()));
    }
    if let Some((param, path)) = key_file
        && let Some(pkcs8) =
            crate::sources::client_key::read_converted(&param, &path).map_err(bad)?
    {
        parsed = parsed.ssl_client_key_from_pem(pkcs8);
    }
    let timeout_ms = options.statement_timeout.as_millis().to_string();
    Ok(parsed
        .application_name("sqlready")
        .statement_cache_capacity(0)
        .options([
            ("default_transaction_read_only", "on"),
            // What `'\'` means is pinned to what the custom-query guard assumed.
            ("standard_conforming_strings", "on"),
            ("statement_timeout", timeout_ms.as_str()),
            ("lock_timeout", timeout_ms.as_str()),
            ("idle_in_transaction_session_timeout", "60000"),
        ]))
}

/// Connects as libpq would for the URI's sslmode. sqlx treats `allow` as
/// `disable`; libpq's `allow` tries without TLS first and with TLS when the
/// server refuses that, which is done here.
async fn connect(
    connect_options: &PgConnectOptions,
    options: &CollectOptions,
    endpoint: &str,
) -> Result<PgConnection, PgError> {
    match connect_once(connect_options, options, endpoint).await {
        Err(PgError::Refused { detail, .. })
            if matches!(connect_options.get_ssl_mode(), PgSslMode::Allow)
                && detail.contains("no encryption") =>
        {
            let with_tls = connect_options.clone().ssl_mode(PgSslMode::Require);
            connect_once(&with_tls, options, endpoint).await
        }
        other => other,
    }
}

async fn connect_once(
    connect_options: &PgConnectOptions,
    options: &CollectOptions,
    endpoint: &str,
) -> Result<PgConnection, PgError> {
    match tokio::time::timeout(
        options.connect_timeout,
        PgConnection::connect_with(connect_options),
    )
    .await
    {
        Err(_) => {
            Err(
                errors::timed_out(endpoint, connect_options, options.connect_timeout.as_secs())
                    .await,
            )
        }
        Ok(Err(err)) => Err(errors::connect(err, endpoint, connect_options)),
        Ok(Ok(conn)) => Ok(conn),
    }
}

/// Whether the role may write to any table of this database (owned or granted).
const WRITE_GRANTS: &str = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND pg_catalog.has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))";

/// sqlready needs read access only; a session that could do more (superuser,
/// write grants) is said once per target on stderr and in the run record
/// (the target's `warnings`), since the read-only session and the query guard
/// are then the only things between a check file and the data
/// (docs/security.md, "The auditor's role").
async fn privilege_warning(conn: &mut PgConnection, id: &str, main: &MainDoc) -> Option<String> {
    let warning = if main.superuser {
        format!(
            "role {} is a superuser: sqlready needs only pg_monitor (docs/security.md)",
            main.user
        )
    } else if let Ok(true) = sqlx::query_scalar::<_, bool>(WRITE_GRANTS)
        .fetch_one(&mut *conn)
        .await
    {
        format!(
            "role {} may write to tables of this database: sqlready needs only pg_monitor (docs/security.md)",
            main.user
        )
    } else {
        return None;
    };
    tracing::warn!(target = id, "{warning}");
    Some(warning)
}

/// hba rules and the archive backlog, each only when the role may read it.
async fn read_privileged(
    conn: &mut PgConnection,
    main: &MainDoc,
    options: &CollectOptions,
    evidence: &mut Vec<RawEvidence>,
) -> PrivilegedDoc {
    let hba = main.superuser || main.hba_readable;
    let ready = (main.superuser || main.monitor) && !main.in_recovery;
    let Some(sql) = queries::privileged(hba, ready, main.superuser) else {
        return PrivilegedDoc::default();
    };
    // Built only from the constants in `queries`.
    let read = client_bound(
        options,
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.clone())).fetch_one(&mut *conn),
    )
    .await;
    let read = match read {
        Ok(read) => read,
        Err(late) => {
            tracing::warn!("reading hba rules / archive status: {late}");
            return PrivilegedDoc::default();
        }
    };
    match read {
        Ok(text) => {
            let response: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
            evidence.push(RawEvidence {
                source: facts::SOURCE.into(),
                name: "privileged".into(),
                request: sql.clone(),
                response: response.clone(),
            });
            serde_json::from_value(response).unwrap_or_default()
        }
        Err(err) => {
            tracing::warn!(error = %errors::query(err, "reading hba rules / archive status", options), "privileged facts unavailable");
            PrivilegedDoc::default()
        }
    }
}

/// Runs each custom check query inside one read-only transaction; a failing
/// query is rolled back to its savepoint and reported for that check only.
///
/// Each query runs exactly as written, alone, through the extended protocol
/// (`sqlx::query` always sends Parse/Bind/Execute, and a Parse message holds
/// one statement: PostgreSQL refuses a second one), under the session's
/// statement timeout. The guard (`checks::query`) refused anything but a
/// single read-only statement at load time; this is the second line.
async fn run_custom_queries(
    conn: &mut PgConnection,
    queries: &[CustomQuery],
    evidence: &mut Vec<RawEvidence>,
) -> Vec<(String, Result<Json, String>)> {
    let mine: Vec<&CustomQuery> = queries.iter().filter(|q| q.engine == "postgres").collect();
    if mine.is_empty() {
        return Vec::new();
    }
    let mut results = Vec::new();
    if let Err(err) = sqlx::raw_sql("BEGIN READ ONLY").execute(&mut *conn).await {
        let reason = format!("cannot start a read-only transaction: {err}");
        return mine
            .iter()
            .map(|q| (q.check_id.clone(), Err(reason.clone())))
            .collect();
    }
    for query in mine {
        let _ = sqlx::raw_sql("SAVEPOINT sqlready_check")
            .execute(&mut *conn)
            .await;
        let outcome = match run_one(conn, &query.sql).await {
            Ok(rows) => Ok(rows),
            Err(reason) => {
                let _ = sqlx::raw_sql("ROLLBACK TO SAVEPOINT sqlready_check")
                    .execute(&mut *conn)
                    .await;
                Err(reason)
            }
        };
        if let Ok(rows) = &outcome {
            evidence.push(RawEvidence {
                source: facts::SOURCE.into(),
                name: format!("query for {}", query.check_id),
                request: query.sql.clone(),
                response: rows.clone(),
            });
        }
        results.push((query.check_id.clone(), outcome));
    }
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
    results
}

/// One custom query through the extended protocol, its rows as JSON objects.
///
/// Public for the tests that prove the protocol refuses a second statement
/// even when the guard is bypassed; the audit reaches it only through
/// `run_custom_queries`, inside the read-only transaction.
pub async fn run_one(conn: &mut PgConnection, sql: &str) -> Result<Json, String> {
    // Custom SQL passed `checks::query::validate` at load time and runs read-only.
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| errors::describe_database_error(&err))?;
    rows.iter()
        .map(|row| custom_rows::row_json(row).map(Json::Object))
        .collect::<Result<Vec<_>, _>>()
        .map(Json::Array)
}

/// Migration tables live in application databases, and PostgreSQL has no
/// cross-database catalog (pg_class and pg_extension are per database):
/// connect to each other connectable database.
async fn search_other_databases(
    connect_options: &PgConnectOptions,
    main: &MainDoc,
    options: &CollectOptions,
    tables: &[String],
) -> Vec<(String, Result<OtherDatabase, String>)> {
    let others: Vec<String> = main
        .databases
        .iter()
        .filter(|db| db.connect && db.name != main.database)
        .map(|db| db.name.clone())
        .collect();
    stream::iter(others)
        .map(|database| async move {
            let outcome = migration_tables(connect_options, &database, options, tables).await;
            (database, outcome)
        })
        .buffered(DATABASE_CONCURRENCY)
        .collect()
        .await
}

async fn migration_tables(
    connect_options: &PgConnectOptions,
    database: &str,
    options: &CollectOptions,
    tables: &[String],
) -> Result<OtherDatabase, String> {
    let per_db = connect_options.clone().database(database);
    let endpoint = format!("{}:{}/{database}", per_db.get_host(), per_db.get_port());
    let mut conn = connect(&per_db, options, &endpoint)
        .await
        .map_err(|err| err.to_string())?;
    let text: String = client_bound(
        options,
        sqlx::query_scalar(queries::MIGRATIONS)
            .bind(tables)
            .fetch_one(&mut conn),
    )
    .await?
    .map_err(|err| errors::describe_database_error(&err))?;
    let _ = conn.close().await;
    serde_json::from_str(&text).map_err(|err| err.to_string())
}
