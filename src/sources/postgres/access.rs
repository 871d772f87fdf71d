//! Who else is connected as a superuser: client sessions in pg_stat_activity
//! whose role has SUPERUSER, other than this audit's own.
//!
//! An application connecting as a superuser turns every SQL injection into
//! control of the server (COPY … PROGRAM runs shell commands). The catalogue
//! already lists login superusers (access.superusers); this shows which of
//! them are in use, from where, and by what program.

use crate::facts::{Fact, Facts};
use sqlx::postgres::PgConnection;

/// Path of the fact this module records.
pub const PATH: &str = "access.superuser_sessions";

/// Client backends of superuser roles, as `role from address (application)`.
/// On managed services the master user is not rolsuper but a member of the
/// provider's admin role (rds_superuser, cloudsqlsuperuser, azure_pg_admin):
/// those count; the provider's own agents (rdsadmin, cloudsqladmin, azuresu)
/// are the service at work, not a client, and are left out.
/// Without pg_read_all_stats (or superuser) another role's client address and
/// application are hidden (NULL); the session and its role are still listed.
/// This session and other sqlready sessions (application_name `sqlready`,
/// judged by access_control.auditor_not_superuser) are excluded.
pub const SUPERUSER_SESSIONS: &str = r#"
SELECT coalesce(json_agg(DISTINCT s.line ORDER BY s.line), '[]'::json)::text FROM (
  SELECT format('%s from %s%s', a.usename,
           CASE WHEN a.client_addr IS NOT NULL THEN host(a.client_addr)
                WHEN a.client_port = -1 THEN 'a local socket'
                WHEN a.client_port IS NULL AND a.state IS NULL
                  THEN 'an address hidden without pg_read_all_stats'
                ELSE 'a local socket' END,
           CASE WHEN coalesce(a.application_name, '') <> ''
                THEN format(' (%s)', a.application_name) ELSE '' END) AS line
  FROM pg_catalog.pg_stat_activity a
  JOIN pg_catalog.pg_roles r ON r.oid = a.usesysid
  WHERE a.backend_type = 'client backend'
    AND (r.rolsuper OR EXISTS (
          SELECT 1 FROM pg_catalog.pg_auth_members m
          JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
          WHERE m.member = r.oid
            AND g.rolname IN ('rds_superuser', 'cloudsqlsuperuser', 'azure_pg_admin')))
    AND a.usename NOT IN ('rdsadmin', 'cloudsqladmin', 'azuresu', 'azure_superuser')
    AND a.pid <> pg_backend_pid()
    AND a.application_name IS DISTINCT FROM 'sqlready'
) s
"#;

/// Reads the superuser sessions, or why they could not be read.
pub async fn read_superuser_sessions(conn: &mut PgConnection) -> Result<Vec<String>, String> {
    let text: String = sqlx::query_scalar(SUPERUSER_SESSIONS)
        .fetch_one(conn)
        .await
        .map_err(|err| format!("reading pg_stat_activity failed: {err}"))?;
    serde_json::from_str(&text)
        .map_err(|err| format!("pg_stat_activity gave an unexpected shape: {err}"))
}

/// Records [`PATH`] from what [`read_superuser_sessions`] returned.
pub fn record(facts: &mut Facts, source: &str, sessions: &Result<Vec<String>, String>) {
    let fact = match sessions {
        Ok(lines) => Fact::known(
            source,
            "pg_stat_activity: client backends of superuser roles (rolsuper, or members of rds_superuser / cloudsqlsuperuser / azure_pg_admin), this session excluded",
            serde_json::json!(lines),
        ),
        Err(reason) => Fact::unknown(
            source,
            reason.clone(),
            Some(
                "GRANT pg_read_all_stats TO the audit role (or pg_monitor, which includes it)"
                    .into(),
            ),
        ),
    };
    facts.insert(PATH.to_string(), fact);
}
