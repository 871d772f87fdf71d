//! The catalog queries, one round trip per fact group. Each returns a single
//! JSON document so adding a fact never adds a round trip.

/// Settings read from pg_settings (typed by `facts::setting_value`).
pub const SETTINGS: &[&str] = &[
    "wal_level",
    "archive_mode",
    "archive_command",
    "archive_library",
    "archive_timeout",
    "max_wal_senders",
    "max_replication_slots",
    "max_slot_wal_keep_size",
    "log_min_duration_statement",
    "log_statement",
    "shared_preload_libraries",
    "ssl",
    "ssl_min_protocol_version",
    "password_encryption",
    "max_connections",
    "superuser_reserved_connections",
    "reserved_connections",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "data_checksums",
    "synchronous_standby_names",
    "pgaudit.log",
    "log_connections",
    "log_disconnections",
    "autovacuum_freeze_max_age",
    "vacuum_failsafe_age",
    "compute_query_id",
    "log_line_prefix",
    // Where it listens (listening.rs).
    "listen_addresses",
    "port",
    "unix_socket_directories",
];

/// What `archive_command` does, never its text (it may hold credentials):
/// `''` none (`(disabled)` is how 12–14 show it with archive_mode off),
/// `noop` a command that only returns success (`/bin/true`, `:`, `exit 0`,
/// Windows `REM`), which the documentation says "effectively disables
/// archiving", else `set`. Over a column named `setting`.
macro_rules! archive_command_kind {
    () => {
        r#"CASE WHEN setting IN ('', '(disabled)') THEN ''
     WHEN setting ~ '^\s*((/usr)?/bin/)?(true|:)(\s+[^;&|<>`$()]*)?\s*;?\s*$'
       OR lower(btrim(setting, ' ;')) IN ('exit', 'exit 0', 'rem') OR lower(setting) ~ '^\s*rem(\s|$)'
     THEN 'noop' ELSE 'set' END"#
    };
}

/// [`archive_command_kind!`], for tests.
pub const ARCHIVE_COMMAND_KIND: &str = archive_command_kind!();

/// Everything readable by any role (PUBLIC), in one document. `$1` is the
/// settings list, `$2` the migration table names. Ages are computed with
/// `age()` (int4) and never multiplied in SQL, so nothing overflows.
/// Columns that not every supported version has (PostgreSQL 12 has no
/// `pg_replication_slots.wal_status`/`safe_wal_size`) are read through
/// `to_jsonb(row)->>'column'`, which is NULL where the column does not exist.
pub const MAIN: &str = concat!(
    r#"
SELECT json_build_object(
  'version', current_setting('server_version'),
  'version_num', current_setting('server_version_num')::int,
  'in_recovery', pg_is_in_recovery(),
  'aurora', EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'aurora_version'),
  'user', current_user,
  'database', current_database(),
  'superuser', coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false),
  'read_all_settings', pg_has_role(current_user, 'pg_read_all_settings', 'USAGE'),
  'read_all_stats', pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'),
  'monitor', pg_has_role(current_user, 'pg_monitor', 'USAGE'),
  'hba_readable', has_table_privilege('pg_catalog.pg_hba_file_rules', 'SELECT')
                  AND has_function_privilege('pg_catalog.pg_hba_file_rules()', 'EXECUTE'),
  'settings', (SELECT coalesce(json_agg(json_build_object(
                  'name', name,
                  'setting', CASE WHEN name = 'archive_command'
                                  THEN "#,
    archive_command_kind!(),
    r#"
                                  ELSE setting END,
                  'vartype', vartype, 'unit', unit, 'pending_restart', pending_restart)), '[]'::json)
               FROM pg_settings WHERE name = ANY($1)),
  'replication', (SELECT coalesce(json_agg(json_build_object(
                  'name', r.application_name, 'client_addr', host(r.client_addr),
                  'state', r.state, 'sync_state', r.sync_state,
                  'logical', EXISTS (SELECT 1 FROM pg_replication_slots s
                                     WHERE s.active_pid = r.pid AND s.slot_type = 'logical'),
                  'replay_lag_bytes', CASE WHEN NOT pg_is_in_recovery()
                                           THEN pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn) END,
                  'replay_lag_seconds', extract(epoch FROM r.replay_lag))), '[]'::json)
                 FROM pg_stat_replication r),
  'receiver_running', EXISTS (SELECT 1 FROM pg_stat_wal_receiver),
  'receiver_status', (SELECT status FROM pg_stat_wal_receiver LIMIT 1),
  'receiver_sender', (SELECT CASE WHEN h LIKE '%:%' THEN '[' || h || ']' ELSE h END || ':' || p
                      FROM (SELECT to_jsonb(w)->>'sender_host' AS h, to_jsonb(w)->>'sender_port' AS p
                            FROM pg_stat_wal_receiver w LIMIT 1) sender),
  'replay_delay_seconds', CASE WHEN pg_is_in_recovery() THEN
        CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
             ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END END,
  'slots', (SELECT coalesce(json_agg(json_build_object(
                  'name', s.slot_name, 'type', s.slot_type, 'active', s.active,
                  'wal_status', to_jsonb(s)->>'wal_status',
                  'safe_wal_size', (to_jsonb(s)->>'safe_wal_size')::bigint,
                  'retained_bytes', pg_wal_lsn_diff(
                       CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn()
                            ELSE pg_current_wal_lsn() END, s.restart_lsn),
                  'xmin_age', age(s.xmin), 'catalog_xmin_age', age(s.catalog_xmin))
                  ORDER BY s.slot_name), '[]'::json)
            FROM pg_replication_slots s),
  'archiver', (SELECT json_build_object(
                  'archived_count', archived_count, 'failed_count', failed_count,
                  'last_archived_age_seconds', extract(epoch FROM now() - last_archived_time),
                  'failing', last_failed_time IS NOT NULL
                             AND (last_archived_time IS NULL OR last_failed_time > last_archived_time))
               FROM pg_stat_archiver),
  'clients', (SELECT json_build_object(
                  'total', count(*),
                  -- The audit's own sessions (this one and the per-database ones it opens
                  -- concurrently, all named 'sqlready') occupy slots (total) but are not
                  -- the clients whose transport is judged.
                  'tcp', count(*) FILTER (WHERE a.client_addr IS NOT NULL AND a.pid <> pg_backend_pid()
                                            AND a.application_name IS DISTINCT FROM 'sqlready'),
                  'tls', count(*) FILTER (WHERE s.ssl AND a.client_addr IS NOT NULL AND a.pid <> pg_backend_pid()
                                            AND a.application_name IS DISTINCT FROM 'sqlready'))
              FROM pg_stat_activity a LEFT JOIN pg_stat_ssl s ON s.pid = a.pid
              WHERE a.backend_type = 'client backend'),
  'extensions', (SELECT coalesce(json_agg(extname ORDER BY extname), '[]'::json) FROM pg_extension),
  'wraparound', (SELECT json_build_object(
                  'max_xid_age', max(age(datfrozenxid)),
                  'max_mxid_age', max(mxid_age(datminmxid)),
                  'oldest_database', (SELECT datname FROM pg_database
                                      ORDER BY age(datfrozenxid) DESC LIMIT 1))
                 FROM pg_database),
  'databases', (SELECT coalesce(json_agg(json_build_object(
                  'name', datname, 'connect', has_database_privilege(datname, 'CONNECT'))
                  ORDER BY datname), '[]'::json)
                FROM pg_database WHERE datallowconn AND NOT datistemplate),
  'migrations', (SELECT coalesce(json_agg(json_build_object('schema', n.nspname, 'table', c.relname)
                  ORDER BY n.nspname, c.relname), '[]'::json)
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'p', 'v') AND c.relname = ANY($2)),
  'access', json_build_object(
     'bootstrap', (SELECT rolname FROM pg_roles WHERE oid = 10),
     'superusers', (SELECT coalesce(json_agg(rolname ORDER BY rolname), '[]'::json)
                    FROM pg_roles WHERE rolsuper AND rolcanlogin AND oid <> 10
                      AND rolname <> current_user),
     'public_create_schemas', (SELECT coalesce(json_agg(n.nspname ORDER BY n.nspname), '[]'::json)
                    FROM pg_namespace n
                    WHERE EXISTS (SELECT 1 FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                                  WHERE a.grantee = 0 AND a.privilege_type = 'CREATE')),
     'public_create_databases', (SELECT coalesce(json_agg(d.datname ORDER BY d.datname), '[]'::json)
                    FROM pg_database d
                    WHERE EXISTS (SELECT 1 FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
                                  WHERE a.grantee = 0 AND a.privilege_type = 'CREATE')))
)::text
"#
);

/// Migration tables and extensions of another database (run over a
/// connection to it): pg_class and pg_extension are per database.
pub const MIGRATIONS: &str = r#"
SELECT json_build_object(
  'tables', (SELECT coalesce(json_agg(json_build_object('schema', n.nspname, 'table', c.relname)
         ORDER BY n.nspname, c.relname), '[]'::json)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v') AND c.relname = ANY($1)),
  'extensions', (SELECT coalesce(json_agg(extname ORDER BY extname), '[]'::json) FROM pg_extension)
)::text
"#;

/// pg_hba rules (superuser, or SELECT on the view and EXECUTE on the function),
/// in the order the server matches them: `rule_number` (with `file_name`,
/// PostgreSQL 16+, where `include` directives make `line_number` a line of
/// some file), else `line_number`.
pub const HBA: &str = "(SELECT coalesce(json_agg(json_build_object(
    'line', r.line_number, 'type', r.type, 'database', r.database, 'user_name', r.user_name,
    'address', r.address, 'netmask', r.netmask, 'auth_method', r.auth_method, 'error', r.error,
    'rule_number', (to_jsonb(r)->>'rule_number')::int, 'file_name', to_jsonb(r)->>'file_name')
    ORDER BY (to_jsonb(r)->>'rule_number')::int NULLS LAST, r.line_number), '[]'::json)
    FROM pg_catalog.pg_hba_file_rules r)";

/// WAL segments waiting for the archiver (pg_monitor).
pub const READY_COUNT: &str =
    "(SELECT count(*) FROM pg_catalog.pg_ls_archive_statusdir() WHERE name LIKE '%.ready')";

/// Login roles that have no password (pg_authid: superuser only; pg_roles
/// shows every password as `********`). Expired roles cannot log in.
pub const PASSWORDLESS: &str = "(SELECT coalesce(json_agg(rolname ORDER BY rolname), '[]'::json)
    FROM pg_catalog.pg_authid WHERE rolcanlogin AND rolpassword IS NULL
      AND (rolvaliduntil IS NULL OR rolvaliduntil > now()))";

/// The privileged document: each part only when the role may read it
/// (permissions on a view are checked even in an untaken CASE branch).
pub fn privileged(hba: bool, ready_count: bool, authid: bool) -> Option<String> {
    if !hba && !ready_count && !authid {
        return None;
    }
    let part = |allowed: bool, sql: &str| {
        if allowed {
            sql.to_string()
        } else {
            "NULL".to_string()
        }
    };
    Some(format!(
        "SELECT json_build_object('hba', {}, 'ready_count', {}, 'passwordless', {})::text",
        part(hba, HBA),
        part(ready_count, READY_COUNT),
        part(authid, PASSWORDLESS)
    ))
}
