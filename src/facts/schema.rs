//! The facts schema: every fact path a check may reference, its type, what it
//! means, and which source would tell when none reported it.
//!
//! `checks lint` matches a check's field paths against this list, and the
//! evaluator turns a fact that no source reported into `unknown` with the
//! hint given here.

/// The JSON type a fact's value has when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    Bool,
    Int,
    /// A number that may carry a fraction (seconds, ratios).
    Number,
    String,
    /// A list of strings.
    StringList,
    /// A list of objects (rows); fields are documented in `doc`.
    Rows,
}

impl FactType {
    pub fn name(self) -> &'static str {
        match self {
            FactType::Bool => "bool",
            FactType::Int => "int",
            FactType::Number => "number",
            FactType::String => "string",
            FactType::StringList => "list<string>",
            FactType::Rows => "list<row>",
        }
    }

    /// Whether a JSON value has this type (`null` is allowed where the doc says so).
    pub fn admits(self, value: &serde_json::Value) -> bool {
        use serde_json::Value as V;
        match (self, value) {
            (_, V::Null) => true,
            (FactType::Bool, V::Bool(_)) => true,
            (FactType::Int, V::Number(n)) => n.is_i64() || n.is_u64(),
            (FactType::Number, V::Number(_)) => true,
            (FactType::String, V::String(_)) => true,
            (FactType::StringList, V::Array(items)) => items.iter().all(|v| v.is_string()),
            (FactType::Rows, V::Array(items)) => items.iter().all(|v| v.is_object()),
            _ => false,
        }
    }
}

/// One fact path in the schema.
#[derive(Debug, Clone, Copy)]
pub struct FactSpec {
    pub path: &'static str,
    pub ty: FactType,
    pub doc: &'static str,
    /// Said when no source reported the fact: which source or access would tell.
    pub hint: &'static str,
}

pub const IN_DB: &str = "connect to the database (postgres:// or mysql://) so sqlready can read it";
pub const CLOUD: &str = "a hosting property, invisible from inside the database; the cloud provider's API (Cloud SQL, RDS) tells";
pub const BACKUPS: &str = "base backups are invisible from SQL; the API of the service that takes them (Cloud SQL, RDS) tells";
const CSQL: &str = "the Cloud SQL Admin API tells: audit it as cloudsql://PROJECT/INSTANCE";
const CSQL_MON: &str = "Cloud Monitoring alert policies tell: audit it as cloudsql://PROJECT/INSTANCE with monitoring.alertPolicies.list (roles/monitoring.viewer)";
const CSQL_BILLING: &str = "Cloud Billing tells: audit it as cloudsql://PROJECT/INSTANCE with resourcemanager.projects.get on the project (roles/browser) and billing.budgets.list on its billing account (roles/billing.viewer)";
const OUTSIDE: &str = "outside the database and its hosting; no source sqlready reads can see it";
const RECORDED: &str = "record the day of the last restore drill on the target's [[targets]] entry in sqlready.toml: restore_tested = YYYY-MM-DD";
const FLEET: &str = "judged across the targets of one run: audit production and its staging in the same run, classified by a tag or label env=prod / env=staging or sqlready.toml [environments]";
const RDS: &str = "read from the RDS API: audit the instance as rds://REGION/db/ID or the cluster as rds://REGION/cluster/ID";

/// The facts a server CA reading gives, all unknown together when the answer has no CA.
pub const SERVER_CA_FACTS: [&str; 4] = [
    "server_ca.name",
    "server_ca.expires",
    "server_ca.days_until_expiry",
    "server_ca.retired",
];

macro_rules! facts {
    ($( $path:literal : $ty:ident, $hint:expr, $doc:literal; )*) => {
        /// Every fact path, in documentation order.
        pub const FACTS: &[FactSpec] = &[
            $( FactSpec { path: $path, ty: FactType::$ty, doc: $doc, hint: $hint }, )*
        ];
    };
}

facts! {
    // Target identity: always known.
    "target.kind": String, "", "where the facts came from: postgres, mysql, rds, cloudsql, terraform";
    "target.engine": String, "", "postgres, mysql or mariadb";
    "target.role": String, "", "primary, replica or cluster";
    "target.version": String, "", "the engine version as reported (may be empty)";
    "target.sources": StringList, "", "the sources that fed this target (postgres, mysql, rds, cloudsql, terraform): in-database checks apply when their engine's source took part";
    "target.platform": String, "", "where the database runs or is planned to run: cloudsql, rds, or empty when the source cannot tell (a database audited from inside); provider configuration checks apply by platform, so they judge a Terraform resource too";
    "terraform.platform": String, "audit the Terraform configuration or plan that defines the database", "the platform a Terraform resource plans: cloudsql (google_sql_database_instance) or rds (aws_db_instance, aws_rds_cluster)";
    "terraform.not_audited": String, "", "why a planned database is listed but not audited (another cloud's service such as azurerm_mssql_server, or an engine sqlready does not judge such as sqlserver-ee): every item n/a, not an error; absent for audited targets";
    // Thresholds: always known, configurable.
    "thresholds.min_backup_retention_days": Int, "", "minimum automated backup retention, in days (default 7)";
    "thresholds.max_replica_lag_seconds": Int, "", "replay lag above which a replica is unhealthy (default 300)";
    "thresholds.max_slot_retained_bytes": Int, "", "WAL an inactive slot may retain before it is a finding (default 1 GiB)";
    "thresholds.max_connection_usage": Number, "", "share of usable connections in use above which headroom is too small (default 0.8)";
    "thresholds.min_eol_days": Int, "", "days before end-of-life from which version support warns (default 180)";
    "thresholds.max_minor_releases_behind": Int, "", "minor releases the running version may lag behind the newest of its major before version support warns (default 1)";
    "thresholds.min_ca_days": Int, "", "days before the server CA certificate expires from which it warns (default 90)";
    "thresholds.max_maintenance_deny_days": Int, "", "days a Cloud SQL maintenance deny period may block updates before it warns (default 60)";
    "thresholds.restore_drill_days": Int, "", "days within which a restore of the database must have been tested (default 90)";
    "thresholds.trusted_aws_accounts": StringList, "", "AWS accounts manual RDS snapshots may be shared with (a sanitizing pipeline's or a backup account); any other is a finding (default none)";

    // Engine version support, from the embedded, dated end-of-life table.
    "version.major": String, IN_DB, "major version: '15' for PostgreSQL, '10.11' for MariaDB, '8.0' for MySQL";
    "version.eol_date": String, IN_DB, "upstream end-of-life date of the major version (YYYY-MM-DD)";
    "version.days_until_eol": Int, IN_DB, "days from the audit to end-of-life; negative once past it";
    "version.eol_upper_bound": Bool, IN_DB, "the major is older than every one the end-of-life table dates: version.eol_date is the latest its support can have ended, not its own date (absent otherwise)";
    "version.table_date": String, IN_DB, "the date the embedded end-of-life table was last reviewed";
    "version.latest_minor": String, IN_DB, "PostgreSQL: the newest minor release of the running major in the embedded minor-release table ('15.17')";
    "version.minor_behind": Int, IN_DB, "PostgreSQL: minor releases between the running one and the newest in the table (a lower bound: releases after the table's date add to it)";
    "version.minor_table_current": Bool, IN_DB, "the minor-release table is recent enough (about a quarter) that 'not behind' is true today; unknown once it is older";
    "version.paid_extended_support": Bool, CLOUD, "the managed provider keeps the major version patched today only through its paid extended support (RDS Extended Support, Cloud SQL extended support): past its standard support and enrolled; version.eol_date is then the end of that paid support";

    // Replicas.
    "replicas.count": Int, IN_DB, "read replicas / standbys currently streaming from this server";
    "replicas.unhealthy": StringList, CLOUD, "read replicas the provider lists for this server that are not working ('ID: why': stopped, failed, replication error or stopped); not counted in replicas.count";
    "replicas.connected": Rows, IN_DB, "connected replicas: {name, client_addr, state, sync_state, replay_lag_bytes, replay_lag_seconds}";
    "replicas.max_replay_lag_seconds": Number, IN_DB, "largest replay lag among connected replicas, null when there are none or lag is not measurable yet";
    "upstream.receiver_status": String, IN_DB, "on a replica: state of the WAL receiver / IO thread ('streaming'; empty when not receiving)";
    "upstream.replay_delay_seconds": Number, IN_DB, "on a replica: seconds since the last replayed transaction's commit on the primary (null before the first)";
    "upstream.source": String, IN_DB, "on a PostgreSQL standby: HOST:PORT it streams WAL from (pg_stat_wal_receiver sender_host:sender_port; empty when not receiving): a run that audits its primary too joins them";

    // High availability across zones.
    "ha.enabled": Bool, CLOUD, "a standby in another zone takes over automatically (Cloud SQL REGIONAL, RDS Multi-AZ, Aurora readers in other AZs)";
    "ha.synchronous_standbys": Int, IN_DB, "replicas in sync or quorum commit with this server";

    // Backups and point-in-time recovery.
    "backups.enabled": Bool, BACKUPS, "automated backups are taken";
    "backups.retention_days": Int, BACKUPS, "how many days automated backups are kept";
    "pitr.enabled": Bool, CLOUD, "the provider can restore to any point in time within the retention window";
    "pitr.wal_archiving": Bool, IN_DB, "PostgreSQL: WAL archiving is on (archive_mode on/always with an archive_command or archive_library)";
    "archiver.archived_count": Int, IN_DB, "PostgreSQL pg_stat_archiver.archived_count";
    "archiver.failed_count": Int, IN_DB, "PostgreSQL pg_stat_archiver.failed_count";
    "archiver.last_archived_age_seconds": Number, IN_DB, "seconds since the last WAL segment was archived; null if never";
    "archiver.failing": Bool, IN_DB, "the archiver's last attempt failed (last failure after the last success, or failures and no success)";
    "archiver.ready_count": Int, IN_DB, "WAL segments waiting to be archived (.ready files; needs pg_monitor)";
    "binlog.enabled": Bool, IN_DB, "MySQL/MariaDB: the binary log is on (log_bin)";
    "binlog.size_limit_bytes": Int, IN_DB, "MariaDB 11.4+: max_binlog_total_size (binlog_space_limit), above which the oldest binary logs are purged whatever their age; 0 = no size limit (MySQL, older MariaDB)";
    "binlog.retention_seconds": Int, IN_DB, "MySQL/MariaDB: binary log retention in seconds (0 = never purged automatically)";

    // Change data capture.
    "replication.slots": Rows, IN_DB, "PostgreSQL replication slots: {name, type, active, wal_status, retained_bytes, safe_wal_size, xmin_age, catalog_xmin_age}";
    "replication.slot_count": Int, IN_DB, "number of replication slots";

    // Storage.
    "disk.autogrow": Bool, CLOUD, "storage grows automatically when it fills";

    // Migrations.
    "migrations.tables": Rows, IN_DB, "tables of schema migration tools: {database, schema, table, tool}";
    "migrations.unreadable_databases": StringList, IN_DB, "databases the audit could not look into (no CONNECT privilege)";

    // Network security.
    "network.public_ip": Bool, CLOUD, "the instance has a public IP address";
    "network.tls_required": Bool, IN_DB, "the server refuses unencrypted client connections";
    "network.hba_rules": Rows, IN_DB, "PostgreSQL pg_hba_file_rules: {line, type, database, user_name, address, auth_method}";
    "network.hba_insecure_rules": StringList, IN_DB, "pg_hba lines that accept TCP connections without TLS from non-loopback addresses";
    "network.tls_connections": Int, IN_DB, "current client connections using TLS";
    "network.client_connections": Int, IN_DB, "current client connections";
    "network.accounts_without_tls": StringList, IN_DB, "MySQL/MariaDB: accounts that may log in from remote hosts without REQUIRE SSL";

    // Access control: who can log in, with what rights (item access_control).
    "access.session_user": String, IN_DB, "the role / account the audit is connected as (PostgreSQL current_user, MySQL CURRENT_USER())";
    "access.session_superuser": Bool, IN_DB, "the audit's own role is a superuser (PostgreSQL rolsuper; MySQL/MariaDB global SUPER or ALL PRIVILEGES)";
    "access.superusers": StringList, IN_DB, "PostgreSQL: other login roles with SUPERUSER (the bootstrap superuser, which owns the cluster, and the session's own role excluded)";
    "access.remote_superusers": StringList, IN_DB, "MySQL/MariaDB: active accounts with global SUPER (or ALL PRIVILEGES) that may log in from a non-loopback host, and root from any non-loopback host";
    "access.passwordless_logins": StringList, IN_DB, "login roles / accounts with no password (PostgreSQL pg_authid, superuser only; MySQL/MariaDB password methods with an empty authentication string)";
    "access.superuser_sessions": StringList, IN_DB, "client sessions connected now as a superuser, other than the audit's own ('role from address (application)'; PostgreSQL pg_stat_activity, MySQL/MariaDB processlist)";
    "access.public_create_schemas": StringList, IN_DB, "PostgreSQL: schemas of the audited database where PUBLIC may CREATE (the public schema before PostgreSQL 15)";
    "access.public_create_databases": StringList, IN_DB, "PostgreSQL: databases where PUBLIC may CREATE schemas";
    "access.test_database_grants": StringList, IN_DB, "MySQL/MariaDB: database-level grants on test / test\\_% schemas that exist, to every account (anonymous or PUBLIC) ('user'@'host' on db)";

    // Outside any source.
    "dev_data.sanitized_copy": Bool, OUTSIDE, "a sanitized copy of production data is available to developers";
    "staging.environment": Bool, OUTSIDE, "the team's word, recorded in a facts file: a staging environment with recent production-like data exists (read into staging.recorded)";
    "monitoring.alerting": Bool, CLOUD, "CPU, memory, connections and storage are monitored with alerts";
    "cost.budget": Bool, "define a budget for the project or account (Terraform google_billing_budget / aws_budgets_budget) and audit the Terraform", "a cost budget with alerts covers this database";
    "deletion_protection.enabled": Bool, CLOUD, "the instance cannot be deleted without first turning protection off";
    "encryption.at_rest": Bool, CLOUD, "storage is encrypted at rest";
    "encryption.customer_managed_key": Bool, CLOUD, "storage is encrypted with a key the customer manages in a KMS (Cloud SQL CMEK, an AWS KMS customer managed key); false with the provider-managed key (Google-managed, AWS managed aws/rds) or when unencrypted";

    // Across the run's targets (src/fleet, after collection; docs/fleet.md).
    "environment.name": String, FLEET, "production, staging or development: from sqlready.toml [environments.targets], else a tag / label (env, environment, stage), else an [environments] name pattern; unknown, with the tag to add, when none says";
    "staging.app": String, FLEET, "the application the target serves: its app / application / service tag or label, else its name without environment words (orders-prod and orders-staging are both orders)";
    "staging.fleet_targets": Int, FLEET, "how many targets of this run were compared (live targets with live ones, Terraform resources with Terraform resources); the origin counts them by environment";
    "staging.recorded": Bool, FLEET, "the team's word on a counterpart the run cannot see (sqlready.toml [environments.counterparts], or staging.environment in a facts file); null when nothing is recorded";
    "staging.recorded_by": String, FLEET, "where staging.recorded comes from: the [environments.counterparts] entry and its text, or the facts file's staging.environment; null when nothing is recorded";
    "staging.counterparts": StringList, FLEET, "production only: the run's non-production targets of the same application, 'ID (staging, postgres 16)'; unknown when the run saw no non-production target, or a target of the same application that is not classified or not audited";
    "staging.same_version_counterparts": StringList, FLEET, "production only: those counterparts that run this target's engine and major version";

    // The server CA certificate clients verify (RDS CACertificateIdentifier, Cloud SQL serverCaCert).
    "server_ca.name": String, CLOUD, "the server CA: RDS CACertificateIdentifier (rds-ca-rsa2048-g1…), Cloud SQL serverCaCert.commonName; for a cluster, the member whose CA is retired or expires first";
    "server_ca.expires": String, CLOUD, "the day the server certificate or its CA expires, whichever is first (YYYY-MM-DD)";
    "server_ca.days_until_expiry": Int, CLOUD, "days from the audit to server_ca.expires; negative once expired";
    "server_ca.retired": Bool, CLOUD, "the provider has retired this CA (RDS: rds-ca-2015, rds-ca-2019, or one DescribeCertificates no longer lists); clients trusting only it fail";

    // Connections.
    "connections.client_backends": Int, IN_DB, "client connections now (PostgreSQL: client backends only, not background workers)";
    "connections.max_connections": Int, IN_DB, "max_connections";
    "connections.reserved": Int, IN_DB, "connections reserved for superusers / replication (superuser_reserved_connections + reserved_connections)";
    "connections.usage_ratio": Number, IN_DB, "client connections / connections usable by applications";
    "connections.max_used_ratio": Number, IN_DB, "MySQL/MariaDB: Max_used_connections / max_connections (high-water mark since start)";

    // Transaction ID wraparound (PostgreSQL).
    "wraparound.max_xid_age": Int, IN_DB, "the largest age(datfrozenxid) over all databases";
    "wraparound.max_xid_age_database": String, IN_DB, "the database with the largest age(datfrozenxid)";
    "wraparound.max_mxid_age": Int, IN_DB, "the largest mxid_age(datminmxid) over all databases";

    // PostgreSQL settings (pg_settings, typed; names with dots use '_').
    "postgres.settings.wal_level": String, IN_DB, "wal_level";
    "postgres.settings.archive_mode": String, IN_DB, "archive_mode: off, on, always";
    "postgres.settings.archive_library": String, IN_DB, "archive_library (PostgreSQL 15+; empty when archive_command is used)";
    "postgres.settings.archive_timeout": Int, IN_DB, "archive_timeout, seconds";
    "postgres.settings.max_wal_senders": Int, IN_DB, "max_wal_senders";
    "postgres.settings.max_replication_slots": Int, IN_DB, "max_replication_slots";
    "postgres.settings.max_slot_wal_keep_size": Int, IN_DB, "max_slot_wal_keep_size, MB; -1 means unlimited";
    "postgres.settings.log_min_duration_statement": Int, IN_DB, "log_min_duration_statement, ms; -1 disables";
    "postgres.settings.log_statement": String, IN_DB, "log_statement";
    "postgres.settings.shared_preload_libraries": StringList, IN_DB, "shared_preload_libraries, as a list (hidden without pg_read_all_settings)";
    "postgres.settings.ssl": Bool, IN_DB, "ssl";
    "postgres.settings.ssl_min_protocol_version": String, IN_DB, "ssl_min_protocol_version";
    "postgres.settings.password_encryption": String, IN_DB, "password_encryption";
    "postgres.settings.max_connections": Int, IN_DB, "max_connections";
    "postgres.settings.superuser_reserved_connections": Int, IN_DB, "superuser_reserved_connections";
    "postgres.settings.fsync": Bool, IN_DB, "fsync";
    "postgres.settings.synchronous_commit": String, IN_DB, "synchronous_commit";
    "postgres.settings.full_page_writes": Bool, IN_DB, "full_page_writes";
    "postgres.settings.data_checksums": Bool, IN_DB, "data_checksums";
    "postgres.settings.synchronous_standby_names": String, IN_DB, "synchronous_standby_names";
    "postgres.settings.pgaudit_log": String, IN_DB, "pgaudit.log in lower case; none when it logs nothing (none, or only subtracted classes); empty when pgaudit is not loaded";
    "postgres.settings.log_connections": Bool, IN_DB, "log_connections logs successful logins (on; from PostgreSQL 18 a list naming authentication, authorization or all)";
    "postgres.settings.log_disconnections": Bool, IN_DB, "log_disconnections";
    "postgres.settings.autovacuum_freeze_max_age": Int, IN_DB, "autovacuum_freeze_max_age";
    "postgres.settings.vacuum_failsafe_age": Int, IN_DB, "vacuum_failsafe_age";
    "postgres.settings.log_line_prefix": String, IN_DB, "log_line_prefix: what each server log line starts with (%u user, %d database, %h/%r client)";
    "postgres.settings.compute_query_id": String, IN_DB, "compute_query_id (PostgreSQL 14+; auto before 14, where pg_stat_statements computes query ids itself): off disables pg_stat_statements";
    "postgres.pending_restart": StringList, IN_DB, "settings changed in the configuration but waiting for a restart";
    "postgres.setting_overrides": Rows, IN_DB, "ALTER ROLE / ALTER DATABASE … SET overrides (pg_db_role_setting) of the settings checks judge, that reach a login role: {role ('' = every role), database ('' = every database), name, value (typed like the server's setting), scope (who gets it, in words)}";
    "postgres.settings.log_min_messages": String, IN_DB, "log_min_messages, lower case: fatal or panic discard the LOG lines that slow-statement, connection and audit logging write";
    "postgres.settings.logging_collector": Bool, IN_DB, "logging_collector";
    "postgres.settings.log_destination": String, IN_DB, "log_destination, lower case (stderr, csvlog, jsonlog, syslog, eventlog)";
    "postgres.settings.listen_addresses": String, IN_DB, "listen_addresses: the interfaces the server accepts TCP on ('' = Unix-domain socket only, * = every interface)";
    "postgres.settings.port": Int, IN_DB, "port: the TCP port (and the Unix-domain socket's file name)";
    "postgres.settings.unix_socket_directories": String, IN_DB, "unix_socket_directories: where the Unix-domain socket is ('' = none; then only TCP)";
    "postgres.checkpoints.timed": Int, IN_DB, "checkpoints started by checkpoint_timeout since the statistics reset (pg_stat_checkpointer on 17+, pg_stat_bgwriter before)";
    "postgres.checkpoints.requested": Int, IN_DB, "checkpoints forced (max_wal_size reached, CHECKPOINT, backups) since the statistics reset (pg_stat_checkpointer on 17+, pg_stat_bgwriter before)";
    "postgres.io.backend_fsyncs": Int, IN_DB, "fsyncs client backends had to do themselves because the checkpointer's queue was full, since the statistics reset (pg_stat_io on 16+, pg_stat_bgwriter.buffers_backend_fsync before)";
    "postgres.pg_stat_statements_databases": StringList, IN_DB, "databases of the cluster where CREATE EXTENSION pg_stat_statements ran (pg_extension of every connectable database); unknown when it is in none of those read and some could not be read";
    "postgres.settings.pgaudit_log_level": String, IN_DB, "pgaudit.log_level, lower case (log by default; debug5..warning); empty when pgaudit is not loaded. Lines below log_min_messages are discarded";
    "postgres.settings.pg_stat_statements_track": String, IN_DB, "pg_stat_statements.track, lower case (top, all, none); empty when pg_stat_statements is not loaded in the audit session";
    "connections.limits": Rows, IN_DB, "Connection limits below the server-wide one: PostgreSQL login roles and databases with a CONNECTION LIMIT (rolconnlimit, datconnlimit); MySQL/MariaDB accounts with MAX_USER_CONNECTIONS or MAX_CONNECTIONS_PER_HOUR, and the global max_user_connections per user name with sessions {kind (role, database, account, account per hour, every account), name, limit, used (their sessions now)}";
    "network.hba_loaded": Bool, IN_DB, "pg_hba.conf on disk is what the server enforces: unchanged since the last configuration load (pg_stat_file vs pg_conf_load_time) and free of invalid lines";
    "postgres.extensions": StringList, IN_DB, "extensions created in the audited database";
    "postgres.archive_command_set": Bool, IN_DB, "archive_command is set (its text is never recorded: it may hold credentials)";
    "postgres.archive_command_noop": Bool, IN_DB, "archive_command only returns success (/bin/true, :, exit 0, REM): it archives nothing";

    // ------------------------------------------------------------------
    // MySQL / MariaDB (source `mysql`). The generic facts above are reused where
    // the meaning is the same (replicas.count, upstream.*, binlog.*, network.*,
    // connections.*, migrations.*, version.*); these are the rest.
    // ------------------------------------------------------------------
    "thresholds.min_binlog_retention_seconds": Int, "", "binary log retention a CDC consumer needs to survive its own downtime (default 86400 = 1 day)";
    "thresholds.max_long_query_time_seconds": Number, "", "MySQL/MariaDB long_query_time above which the slow log misses slow queries (default 2)";
    "upstream.io_running": Bool, IN_DB, "MySQL/MariaDB replica: the IO (receiver) thread of every replication channel runs";
    "upstream.sql_running": Bool, IN_DB, "MySQL/MariaDB replica: the SQL (applier) thread of every replication channel runs";
    "upstream.channels": Rows, IN_DB, "MySQL/MariaDB replica: replication channels {name, source, io_running, sql_running, seconds_behind, last_io_error, last_sql_error, gtid, ssl}";
    "mysql.pending_restart": StringList, IN_DB, "MySQL 8.0+: persisted variables (SET PERSIST / PERSIST_ONLY, performance_schema.persisted_variables) whose running global value differs, lower case: a restart changes them";
    "mysql.registered_replicas": Rows, IN_DB, "MySQL/MariaDB source: replicas registered with it (SHOW REPLICAS / SHOW REPLICA HOSTS / SHOW SLAVE HOSTS) {server_id, host, port}; CDC clients that stream the binary log without registering are not in it";
    "mysql.replica_connections": Rows, IN_DB, "MySQL/MariaDB source: Binlog Dump threads, one per connected replica {user, host, seconds, state} (needs PROCESS)";
    "mysql.gtid_enabled": Bool, IN_DB, "transactions carry GTIDs (MySQL gtid_mode=ON; MariaDB always, once the binary log is on)";
    "mysql.binlog.file_count": Int, IN_DB, "binary log files kept on the server (SHOW BINARY LOGS; 0 when log_bin is off)";
    "mysql.binlog.total_bytes": Int, IN_DB, "bytes of binary logs kept on the server (SHOW BINARY LOGS)";
    "mysql.accounts.empty_password": StringList, IN_DB, "named accounts that log in with an empty password ('user'@'host'; socket/PAM/ed25519 accounts exempt)";
    "mysql.accounts.anonymous": StringList, IN_DB, "anonymous accounts (User = '') that are not locked";
    "mysql.test_databases": StringList, IN_DB, "schemas named test or test_* (mariadb-install-db / mysql_install_db leave one open to every account)";
    "mysql.audit_plugins": Rows, IN_DB, "audit plugins from information_schema.PLUGINS {name, status}";
    "mysql.variables.log_bin": Bool, IN_DB, "log_bin";
    "mysql.variables.binlog_format": String, IN_DB, "binlog_format (ROW, MIXED, STATEMENT)";
    "mysql.variables.binlog_row_image": String, IN_DB, "binlog_row_image (FULL, MINIMAL, NOBLOB)";
    "mysql.variables.sync_binlog": Int, IN_DB, "sync_binlog (1 = fsync the binary log at every commit)";
    "mysql.variables.binlog_expire_logs_seconds": Int, IN_DB, "binlog_expire_logs_seconds (MySQL 8.0+, MariaDB 10.6.1+)";
    "mysql.variables.expire_logs_days": Number, IN_DB, "expire_logs_days (removed in MySQL 8.4)";
    "mysql.variables.server_id": Int, IN_DB, "server_id (0 refuses replicas and CDC clients)";
    "mysql.variables.gtid_mode": String, IN_DB, "MySQL gtid_mode (OFF, OFF_PERMISSIVE, ON_PERMISSIVE, ON)";
    "mysql.variables.gtid_strict_mode": Bool, IN_DB, "MariaDB gtid_strict_mode";
    "mysql.variables.read_only": Bool, IN_DB, "read_only";
    "mysql.variables.super_read_only": Bool, IN_DB, "MySQL super_read_only (MariaDB has none)";
    "mysql.variables.innodb_flush_log_at_trx_commit": Int, IN_DB, "innodb_flush_log_at_trx_commit (1, and MariaDB 3, = durable at every commit)";
    "mysql.variables.innodb_doublewrite": String, IN_DB, "innodb_doublewrite (ON/OFF; MySQL 8.0.30+ DETECT_AND_RECOVER/DETECT_ONLY; MariaDB 11.x FAST)";
    "mysql.variables.slow_query_log": Bool, IN_DB, "slow_query_log (MariaDB alias log_slow_query)";
    "mysql.variables.long_query_time": Number, IN_DB, "long_query_time, seconds";
    "mysql.variables.log_output": String, IN_DB, "log_output (FILE, TABLE, NONE or a comma list)";
    "mysql.variables.log_queries_not_using_indexes": Bool, IN_DB, "log_queries_not_using_indexes";
    "mysql.variables.performance_schema": Bool, IN_DB, "performance_schema (default ON in MySQL, OFF in MariaDB)";
    "mysql.variables.require_secure_transport": Bool, IN_DB, "require_secure_transport (false where it does not exist)";
    "mysql.variables.have_ssl": String, IN_DB, "have_ssl (YES, DISABLED, NO)";
    "mysql.variables.tls_version": String, IN_DB, "tls_version (TLS protocols the server accepts)";
    "mysql.variables.max_connections": Int, IN_DB, "max_connections";
    "mysql.variables.server_audit_logging": Bool, IN_DB, "MariaDB server_audit plugin: logging on (false when the plugin is not loaded)";
    "mysql.variables.server_audit_events": String, IN_DB, "server_audit_events (empty = all events)";
    "mysql.variables.server_audit_incl_users": String, IN_DB, "server_audit_incl_users: when not empty, only these users are audited (empty when the plugin is not loaded)";
    "mysql.variables.server_audit_excl_users": String, IN_DB, "server_audit_excl_users: users never audited (empty when the plugin is not loaded)";
    "mysql.variables.innodb_flush_method": String, IN_DB, "innodb_flush_method, upper case (NOSYNC and LITTLESYNC skip fsync); empty where the variable does not exist";
    "mysql.variables.min_examined_row_limit": Int, IN_DB, "min_examined_row_limit: statements examining fewer rows are not written to the slow log";
    "mysql.variables.log_slow_rate_limit": Int, IN_DB, "MariaDB log_slow_rate_limit: only one in this many sessions or queries is written to the slow log (1 on MySQL, which has none)";
    "mysql.variables.audit_log_policy": String, IN_DB, "MySQL Enterprise / Percona audit_log_policy (ALL, LOGINS, QUERIES, NONE)";

    // ------------------------------------------------------------------
    // Google Cloud SQL (source `cloudsql`, the Cloud SQL Admin API). The generic
    // facts above are reused where the meaning is the same (ha.enabled,
    // replicas.count, backups.*, pitr.enabled, binlog.enabled for MySQL,
    // disk.autogrow, network.public_ip, network.tls_required,
    // deletion_protection.enabled, encryption.at_rest, version.*); these are the
    // rest. Absent fields and flags carry the documented default (see docs/cloudsql.md).
    // ------------------------------------------------------------------
    "cloudsql.instance_type": String, CSQL, "instanceType: CLOUD_SQL_INSTANCE, READ_REPLICA_INSTANCE, READ_POOL_INSTANCE, …";
    "cloudsql.state": String, CSQL, "state: RUNNABLE, SUSPENDED, MAINTENANCE, FAILED, …";
    "cloudsql.region": String, CSQL, "region of the instance";
    "cloudsql.edition": String, CSQL, "settings.edition: ENTERPRISE (default) or ENTERPRISE_PLUS";
    "cloudsql.availability_type": String, CSQL, "settings.availabilityType: ZONAL (default) or REGIONAL (high availability)";
    "cloudsql.database_version": String, CSQL, "databaseVersion, e.g. POSTGRES_16, MYSQL_8_0_31";
    "cloudsql.version.regular_support_end": String, CSQL, "the day Cloud SQL moves the major version to paid extended support (YYYY-MM-DD)";
    "cloudsql.version.deprecation_date": String, CSQL, "the day Cloud SQL ends extended support for the major version (YYYY-MM-DD)";
    "cloudsql.version.days_until_regular_support_end": Int, CSQL, "days from the audit to the end of Cloud SQL regular support; negative once in extended support";
    "cloudsql.maintenance.day": Int, CSQL, "settings.maintenanceWindow.day, 1 = Monday … 7 = Sunday; 0 = no window (any time)";
    "cloudsql.maintenance.hour": Int, CSQL, "settings.maintenanceWindow.hour, UTC";
    "cloudsql.maintenance.update_track": String, CSQL, "settings.maintenanceWindow.updateTrack: canary, stable, week5, or empty";
    "cloudsql.master_instance": String, CSQL, "masterInstanceName (PROJECT:INSTANCE) on a replica; empty on a primary";
    "cloudsql.replica_names": StringList, CSQL, "replicaNames: the read replicas of this primary";
    "cloudsql.replication_enabled": Bool, CSQL, "replica only: settings.databaseReplicationEnabled (absent: on)";
    "cloudsql.backups.retained_count": Int, CSQL, "backupRetentionSettings.retainedBackups (absent: 7); one automated backup a day";
    "cloudsql.backups.location": String, CSQL, "backupConfiguration.location; empty = the multi-region nearest the instance";
    "cloudsql.backups.off_site": Bool, CSQL, "backups are stored outside the instance's region (the default multi-region, or another region)";
    "cloudsql.backups.last_success_age_hours": Number, CSQL, "hours since the newest SUCCESSFUL AUTOMATED backup run ended (backupRuns.list); null when none is among the runs read and there are no older ones, unknown when older runs were not read";
    "cloudsql.backups.last_automated_status": String, CSQL, "status of the newest AUTOMATED backup run (SUCCESSFUL, FAILED, SKIPPED, …); empty when there is none";
    "cloudsql.backups.runs_read": Int, CSQL, "backup runs read (newest first, 20 a page, more pages until a successful automated one, at most 100)";
    "cloudsql.backups.successful_runs": Int, CSQL, "SUCCESSFUL AUTOMATED runs among the backup runs read; unknown when none is among them and older runs were not read";
    "cloudsql.pitr.configured": Bool, CSQL, "the engine's PITR switch: PostgreSQL pointInTimeRecoveryEnabled, MySQL binaryLogEnabled (pitr.enabled also needs backups on)";
    "cloudsql.pitr.log_retention_days": Int, CSQL, "backupConfiguration.transactionLogRetentionDays (absent: 7, Enterprise Plus 14)";
    "cloudsql.pitr.latest_recovery_age_minutes": Number, CSQL, "minutes between the audit and getLatestRecoveryTime.latestRecoveryTime: how much a restore would lose now";
    "cloudsql.pitr.window_hours": Number, CSQL, "hours between earliestRecoveryTime and latestRecoveryTime; null when the API gives no earliest time";
    "cloudsql.database_flags": Rows, CSQL, "settings.databaseFlags as set: {name, value} (absent flags keep the engine default)";
    "cloudsql.insights.enabled": Bool, CSQL, "settings.insightsConfig.queryInsightsEnabled (absent: off)";
    "cloudsql.postgres.logical_decoding": Bool, CSQL, "PostgreSQL flag cloudsql.logical_decoding (absent: off)";
    "cloudsql.postgres.log_min_duration_statement": Int, CSQL, "PostgreSQL flag log_min_duration_statement, ms (absent: -1, off)";
    "cloudsql.postgres.pgaudit": Bool, CSQL, "PostgreSQL flag cloudsql.enable_pgaudit (absent: off)";
    "cloudsql.postgres.pgaudit_log": String, CSQL, "PostgreSQL flag pgaudit.log, lowercase (what pgAudit logs; default none); unknown when the flag is not set, as it may be set per database or role";
    "cloudsql.mysql.slow_query_log": Bool, CSQL, "MySQL flag slow_query_log (absent: off)";
    "cloudsql.mysql.long_query_time": Number, CSQL, "MySQL flag long_query_time, seconds (absent: 10)";
    "cloudsql.mysql.log_output": String, CSQL, "MySQL flag log_output (absent: FILE; only FILE reaches Cloud Logging)";
    "cloudsql.mysql.binlog_format": String, CSQL, "MySQL flag binlog_format (absent: ROW)";
    "cloudsql.mysql.binlog_row_image": String, CSQL, "MySQL flag binlog_row_image (absent: FULL)";
    "cloudsql.mysql.audit_log": Bool, CSQL, "MySQL flag cloudsql_mysql_audit is ON, FORCE or FORCE_PLUS_PERMANENT (absent: OFF)";
    "cloudsql.network.ipv4_enabled": Bool, CSQL, "settings.ipConfiguration.ipv4Enabled: a public IPv4 address is assigned";
    "cloudsql.network.private_network": String, CSQL, "settings.ipConfiguration.privateNetwork (private services access); empty when none";
    "cloudsql.network.psc_enabled": Bool, CSQL, "settings.ipConfiguration.pscConfig.pscEnabled (Private Service Connect)";
    "cloudsql.network.authorized_networks": StringList, CSQL, "settings.ipConfiguration.authorizedNetworks[].value (CIDR)";
    "cloudsql.network.world_open_networks": StringList, CSQL, "authorized networks that together admit the internet (more than a /8 of public IPv4 or a /12 of public IPv6 addresses: 0.0.0.0/0, 0.0.0.0/1 + 128.0.0.0/1, ::/0…), widest first; empty when they do not";
    "cloudsql.network.open_coverage": String, CSQL, "what the open authorized networks admit together ('every public IPv4 address', '62.5% of public IPv4 addresses'); empty when not open";
    "cloudsql.network.ssl_mode": String, CSQL, "effective TLS mode: sslMode, or the legacy requireSsl when sslMode is absent";
    "cloudsql.network.connector_enforcement": String, CSQL, "settings.connectorEnforcement: NOT_REQUIRED (default) or REQUIRED";
    "cloudsql.storage.disk_size_gb": Int, CSQL, "settings.dataDiskSizeGb";
    "cloudsql.storage.auto_resize_limit_gb": Int, CSQL, "settings.storageAutoResizeLimit, GB; 0 = no limit (default)";
    "cloudsql.storage.used_ratio": Number, CSQL, "currentDiskSize / dataDiskSizeGb; unknown when the API omits the deprecated currentDiskSize";
    "cloudsql.storage.out_of_disk_state": String, CSQL, "outOfDiskReport.sqlOutOfDiskState: NORMAL, SOFT_SHUTDOWN, or empty";
    "cloudsql.cmek_key": String, CSQL, "diskEncryptionConfiguration.kmsKeyName; empty = Google-managed encryption key";
    "cloudsql.maintenance.deny_periods": StringList, CSQL, "settings.denyMaintenancePeriods as 'START..END (N days)'; empty when none";
    "cloudsql.maintenance.longest_deny_days": Int, CSQL, "days the longest deny maintenance period blocks updates (0 when none); a year-less period (MM-DD) recurs every year";
    "cloudsql.maintenance.available_versions": StringList, CSQL, "availableMaintenanceVersions: newer maintenance versions (minor releases) Cloud SQL offers this instance; empty when it runs the newest";
    "cloudsql.postgres.log_connections": Bool, CSQL, "PostgreSQL flag log_connections (absent: off)";
    "cloudsql.postgres.log_disconnections": Bool, CSQL, "PostgreSQL flag log_disconnections (absent: off)";
    "cloudsql.postgres.log_statement": String, CSQL, "PostgreSQL flag log_statement, lower case: none (absent), ddl, mod, all";

    // Cloud SQL, read once per project (issue 12): Cloud Monitoring alert policies,
    // Cloud Billing budgets, and the Admin API's operations list (docs/cloudsql.md).
    "cloudsql.monitoring.alert_policies": StringList, CSQL_MON, "enabled Cloud Monitoring alert policies with a notification channel whose conditions watch this instance's cloudsql.googleapis.com/database/... metrics ('displayName (name)')";
    "cloudsql.monitoring.covered_signals": StringList, CSQL_MON, "of disk, cpu, memory (and replica_lag on a replica), the signals those policies alert on";
    "cloudsql.monitoring.missing_signals": StringList, CSQL_MON, "of disk, cpu, memory (and replica_lag on a replica), the signals no such policy alerts on; unknown when a policy's condition could not be read (MQL, PromQL, OR, negations)";
    "cloudsql.billing.account": String, CSQL_BILLING, "projects.getBillingInfo billingAccountName (billingAccounts/ID); empty when billing is disabled";
    "cloudsql.billing.budgets": StringList, CSQL_BILLING, "budgets of the billing account covering this instance's project and Cloud SQL, with a threshold rule and a notification ('displayName (name)')";
    "cloudsql.billing.incomplete_budgets": StringList, CSQL_BILLING, "budgets covering this instance's spend that would never alert ('NAME: why': no threshold rule, every recipient disabled)";
    "cloudsql.restore.drill_count": Int, CSQL, "CLONE / RESTORE_VOLUME operations of this instance, DONE without error, among the project's operations read (operations.list)";
    "cloudsql.restore.last_drill": String, CSQL, "the newest of those: 'TYPE NAME ended YYYY-MM-DD'; empty when none";
    "cloudsql.restore.last_drill_age_days": Int, CSQL, "whole days since the newest of those ended; null when none";
    "cloudsql.restore.operations_days": Int, CSQL, "days back the operations read reach (operations.list keeps a limited history)";
    "cloudsql.copies.standing": Rows, CSQL, "instances of the fleet created by a clone of this instance and still there, not labelled production: {instance, environment, operation, ended}";

    // ------------------------------------------------------------------
    // AWS RDS and Aurora (source `rds`, the RDS API). The generic facts above are
    // reused where the meaning is the same (ha.enabled, backups.enabled,
    // backups.retention_days, pitr.enabled, binlog.enabled for MySQL/MariaDB,
    // disk.autogrow, network.public_ip, network.tls_required,
    // deletion_protection.enabled, encryption.at_rest, replicas.count, version.*,
    // monitoring.alerting); these are the rest. Parameters not overridden by a
    // custom group carry the engine default (see docs/rds.md).
    // ------------------------------------------------------------------
    "rds.engine": String, RDS, "Engine as RDS names it: postgres, mysql, mariadb, aurora-postgresql, aurora-mysql";
    "rds.deployment": String, RDS, "instance (a standalone DB instance or read replica), aurora (an Aurora cluster) or multi-az-cluster (a Multi-AZ DB cluster)";
    "rds.status": String, RDS, "DBInstanceStatus / cluster Status: available, backing-up, storage-full, stopped, …";
    "rds.network.open_ingress": StringList, "read from the RDS API's VpcSecurityGroups with ec2:DescribeSecurityGroups (rds://), or from Terraform: the security groups of the aws_db_instance / aws_rds_cluster and their ingress rules", "ingress CIDRs of the database's security groups that together admit the internet (more than a /8 of public IPv4 or a /12 of public IPv6) — live, only rules that admit the database's port — as 'RULE: CIDR' ('sg-ID (name): CIDR' live), widest first; empty when they do not";
    "rds.network.open_coverage": String, "read from the RDS API's VpcSecurityGroups with ec2:DescribeSecurityGroups (rds://), or from Terraform: the security groups of the aws_db_instance / aws_rds_cluster and their ingress rules", "what the open ingress rules admit together ('every public IPv4 address'); empty when not open";
    "rds.replica.source": String, RDS, "on a read replica: the source instance or cluster (an ARN when in another region)";
    "rds.replica.replication_status": String, RDS, "on a read replica: StatusInfos 'read replication' status (replicating, error, stopped, terminated), with the message if any";
    "rds.cluster.members": Rows, RDS, "cluster members: {id, writer, availability_zone, status, class}";
    "rds.backups.latest_restorable_age_seconds": Number, RDS, "seconds between LatestRestorableTime and the audit: how much a point-in-time restore would lose now (only judged with automated backups on)";
    "rds.backups.cross_region_replication": Bool, RDS, "instance: automated backups are replicated to another region (DBInstanceAutomatedBackupsReplications), or an AWS Backup plan that selects the database copies its recovery points to another region";
    "rds.kms_key_id": String, RDS, "KmsKeyId of the encrypted storage";
    "rds.monitoring.enhanced_interval_seconds": Int, RDS, "Enhanced Monitoring interval (MonitoringInterval); 0 = off; for Aurora the smallest over the members, 0 when any member has it off";
    "rds.monitoring.performance_insights": Bool, RDS, "Performance Insights (or Database Insights advanced mode) is on; for Aurora on every member";
    "rds.logs.exports": StringList, RDS, "logs exported to CloudWatch Logs (EnabledCloudwatchLogsExports): postgresql, upgrade, error, slowquery, general, audit, …";
    "rds.parameters.logical_replication": Bool, RDS, "PostgreSQL / Aurora PostgreSQL: rds.logical_replication (wal_level=logical), as configured";
    "rds.parameters.force_ssl": Bool, RDS, "PostgreSQL / Aurora PostgreSQL: rds.force_ssl (default on from RDS PostgreSQL 15)";
    "rds.parameters.log_min_duration_statement": Int, RDS, "PostgreSQL: log_min_duration_statement, ms; -1 = off (default)";
    "rds.parameters.binlog_format": String, RDS, "MySQL / MariaDB / Aurora MySQL: binlog_format (ROW, MIXED, STATEMENT; OFF on Aurora = no binary log)";
    "rds.parameters.require_secure_transport": Bool, RDS, "MySQL / MariaDB / Aurora MySQL: require_secure_transport";
    "rds.parameters.slow_query_log": Bool, RDS, "MySQL / MariaDB / Aurora MySQL: slow_query_log";
    "rds.parameters.long_query_time": Number, RDS, "MySQL / MariaDB / Aurora MySQL: long_query_time, seconds (default 10)";
    "rds.parameters.log_output": String, RDS, "MySQL / MariaDB / Aurora MySQL: log_output, upper case (TABLE, FILE, NONE or a list); RDS MySQL/MariaDB default TABLE; only FILE reaches CloudWatch Logs";
    "rds.parameters.shared_preload_libraries": StringList, RDS, "PostgreSQL / Aurora PostgreSQL: shared_preload_libraries, lower case (default pg_stat_statements from PostgreSQL 11): pgaudit must be in it";
    "rds.parameters.pgaudit_log": String, RDS, "PostgreSQL / Aurora PostgreSQL: pgaudit.log, lower case (none logs nothing); unknown when no parameter group sets it, as it may be set per database or role";
    "rds.parameters.server_audit_logging": Bool, RDS, "Aurora MySQL: server_audit_logging (Advanced Auditing; default off); unknown on RDS MySQL / MariaDB, where the audit plugin is an option";
    "rds.parameters.server_audit_events": String, RDS, "Aurora MySQL: server_audit_events, upper case; empty (the default) logs nothing even with server_audit_logging on";
    "rds.audit.option_group_plugin": Bool, "read from the option group of the aws_db_instance in Terraform (the RDS source does not read option groups yet)", "RDS MySQL / MariaDB: the instance's option group has the MARIADB_AUDIT_PLUGIN option (server_audit, SERVER_AUDIT_LOGGING on)";
    "rds.audit.plugin_events": String, "read from the option group of the aws_db_instance in Terraform (the RDS source does not read option groups yet)", "RDS MySQL / MariaDB: the MARIADB_AUDIT_PLUGIN option's SERVER_AUDIT_EVENTS (default CONNECT,QUERY); empty when the option is absent";
    "rds.audit.activity_stream": String, RDS, "Aurora: the Database Activity Stream's mode when one is started (async, sync; ActivityStreamStatus started), empty when none (RDS for PostgreSQL / MySQL / MariaDB have none)";
    "rds.parameters.pending_reboot": StringList, RDS, "static parameters set in a group whose changes wait for a reboot (ParameterApplyStatus pending-reboot): configured, not yet active";
    "rds.version.standard_support_end": String, RDS, "end of RDS standard support for the major version (DescribeDBMajorEngineVersions); after it, RDS Extended Support is billed";
    "rds.version.days_until_standard_support_end": Int, RDS, "days from the audit to the end of RDS standard support; negative once in paid Extended Support";
    "rds.version.lifecycle_source": String, RDS, "where version support dates came from: DescribeDBMajorEngineVersions, or the embedded table and why";
    "rds.version.auto_minor_upgrade": Bool, RDS, "AutoMinorVersionUpgrade: RDS applies new minor versions in the maintenance window (Aurora: on every member)";
    "rds.version.offered": Bool, RDS, "the running EngineVersion is still in DescribeDBEngineVersions (available versions of the engine in the region); a version no longer offered is deprecated and will be upgraded by RDS";
    "rds.version.latest_minor": String, RDS, "the newest version of the running major that DescribeDBEngineVersions offers";
    "rds.version.minors_behind": Int, RDS, "offered versions of the running major newer than the running one";
    "rds.events.subscriptions": StringList, RDS, "enabled RDS event subscriptions (DescribeEventSubscriptions) that cover this instance or cluster (or its members)";
    "rds.events.missing_categories": StringList, RDS, "of failover, failure, low storage (instances) and maintenance, the event categories no covering subscription sends";
    "backups.aws_backup.plans": StringList, RDS, "AWS Backup 'PLAN/SELECTION' whose resource assignment matches the target's ARN";
    "backups.aws_backup.retention_days": Int, RDS, "the longest Lifecycle.DeleteAfterDays of the covering plans' rules; -1 when a rule keeps recovery points until deleted; null when no plan covers it";
    "backups.aws_backup.last_backup_age_hours": Number, RDS, "hours since AWS Backup's last recovery point of the target (ListProtectedResources LastBackupTime); null when it has none";
    "backups.aws_backup.vault_locked": Bool, RDS, "every vault the covering rules write to has AWS Backup Vault Lock (Locked); null when no plan covers it";
    "backups.aws_backup.cross_region": Bool, RDS, "a covering rule copies recovery points to a vault in another region; null when no plan covers it";

    // Restore drills (item restore_tested): seen by the API, or recorded by the team.
    "rds.restore_drill.last": String, RDS, "the day of the newest restore of this instance or cluster seen (YYYY-MM-DD): a COMPLETED AWS Backup restore job whose SourceResourceArn is it, or an RDS event of a point-in-time or snapshot restore of it (last 14 days only); null when none is seen";
    "rds.restore_drill.age_days": Int, RDS, "days since rds.restore_drill.last; null when none is seen";
    "rds.restore_drill.how": String, RDS, "how that restore was made (AWS Backup restore job or restore testing plan, point-in-time restore, snapshot restore) and what it created; null when none is seen";
    "rds.restore_drill.searched": String, RDS, "where restores were looked for (AWS Backup restore jobs; RDS events of the last 14 days for instances)";
    "restore_tested.recorded": String, RECORDED, "the day of the last restore drill as the team records it in sqlready.toml (`restore_tested = YYYY-MM-DD` on the target's [[targets]] entry; the team's word, not verified); null on a cloud target whose entry records none";
    "restore_tested.recorded_age_days": Int, RECORDED, "days since restore_tested.recorded; null when none is recorded";

    // Alarms, budgets and snapshot sharing, read once per region / account (src/sources/rds/fleet.rs).
    "rds.alarms.wanted": StringList, RDS, "the AWS/RDS metrics alerting needs for this database: FreeStorageSpace (FreeLocalStorage on Aurora), CPUUtilization, FreeableMemory, DatabaseConnections, ReplicaLag on a read replica, AuroraReplicaLag on an Aurora cluster with readers";
    "rds.alarms.missing": StringList, RDS, "of rds.alarms.wanted, the metrics no counted CloudWatch alarm (ActionsEnabled, AlarmActions, not INSUFFICIENT_DATA for over a day) watches with a DBInstanceIdentifier / DBClusterIdentifier dimension naming this database";
    "rds.alarms.covering": StringList, RDS, "counted CloudWatch alarms on this database's wanted metrics, as 'ALARM (Metric)'";
    "rds.alarms.not_counted": StringList, RDS, "CloudWatch alarms naming this database that do not count, as 'ALARM: why' (actions disabled, no AlarmActions, INSUFFICIENT_DATA for over a day)";
    "rds.budgets.covering": StringList, RDS, "AWS Budgets COST budgets of the account that cover this database (unfiltered, or filtered to RDS, its region, account or one of its tags) and have a notification with a threshold";
    "rds.budgets.not_counted": StringList, RDS, "the account's other budgets, as 'BUDGET: why' it does not count";
    "rds.snapshots.manual": StringList, RDS, "manual snapshots of this instance (DescribeDBSnapshots) or cluster (DescribeDBClusterSnapshots)";
    "rds.snapshots.public": StringList, RDS, "manual snapshots whose restore attribute is 'all': any AWS account can copy the data";
    "rds.snapshots.shared": StringList, RDS, "manual snapshots shared with AWS accounts, as 'SNAPSHOT: ACCOUNT, ACCOUNT'";
    "rds.snapshots.shared_accounts": StringList, RDS, "the AWS accounts (restore attribute values) any manual snapshot of this database is shared with";
}

/// The spec of a fact path, if the schema has it.
pub fn spec(path: &str) -> Option<&'static FactSpec> {
    FACTS.iter().find(|spec| spec.path == path)
}

/// Whether `path` names a fact or a namespace of facts (`postgres.settings`).
pub fn is_fact_or_namespace(path: &str) -> bool {
    FACTS.iter().any(|spec| {
        spec.path == path
            || (spec.path.starts_with(path) && spec.path.as_bytes().get(path.len()) == Some(&b'.'))
    })
}

/// The fact a longer path runs into (`replicas.count.x` runs into `replicas.count`).
pub fn fact_prefix_of(path: &str) -> Option<&'static FactSpec> {
    FACTS.iter().find(|spec| {
        path.starts_with(spec.path) && path.as_bytes().get(spec.path.len()) == Some(&b'.')
    })
}

/// The top-level variable names facts live under (`target`, `postgres`, …).
pub fn roots() -> Vec<&'static str> {
    let mut roots: Vec<&'static str> = FACTS
        .iter()
        .map(|spec| spec.path.split('.').next().unwrap_or(spec.path))
        .collect();
    roots.dedup();
    roots.sort_unstable();
    roots.dedup();
    roots
}
