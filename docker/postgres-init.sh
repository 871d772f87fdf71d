#!/bin/bash
# Runs once at first start (docker-entrypoint-initdb.d): the archive
# directory, pg_stat_statements, and the least-privilege audit role.
set -euo pipefail
mkdir -p /var/lib/postgresql/archive
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname app <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE ROLE auditor LOGIN PASSWORD 'auditor-pw' IN ROLE pg_monitor;
GRANT SELECT ON pg_catalog.pg_hba_file_rules TO auditor;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_hba_file_rules() TO auditor;
CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, description text NOT NULL,
  installed_on timestamptz NOT NULL DEFAULT now(), success boolean NOT NULL,
  checksum bytea NOT NULL, execution_time bigint NOT NULL);
SQL
