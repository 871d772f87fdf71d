//! PostgreSQL test lab: a handful of throw-away PostgreSQL 15 servers, each set up
//! to exhibit one production-readiness scenario that the integration tests audit.
//!
//! * `bad`          — initdb and postgresql.conf defaults; a table without a primary key.
//! * `good`         — checksums, TLS-only TCP, archiving that works, pgaudit,
//!   pg_stat_statements, migration tables, bounded slot retention.
//! * `standby`      — a streaming hot standby of `good` (physical slot `standby1`).
//! * `slot`         — an inactive physical slot (`stale_slot`) pinning > 16 MB of WAL.
//! * `archive_fail` — archive_mode on with an archive_command that always fails.
//!
//! [`lab()`] starts everything once per test process (scenarios in parallel threads)
//! and returns only when every scenario property holds. The servers are stopped and
//! their directories removed by an `atexit` handler; directories left behind by a
//! test process that was killed are reaped by the next one.
//!
//! All setup goes through the PostgreSQL binaries and `psql` (synchronous, no async
//! runtime needed), so the lab works from both `#[test]` and `#[tokio::test]`.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use super::lab::{Engine, join_named, run};

/// Password of every lab role. Distinctive so tests can assert it never leaks into output.
pub const LAB_PASSWORD: &str = "lab-S3cret-pw-9f2";

/// Default location of the PostgreSQL 15 binaries (Debian layout); override with
/// `SQLREADY_PG_BINDIR`. Version 15 matters because pgaudit is packaged for it.
const DEFAULT_PG_BINDIR: &str = "/usr/lib/postgresql/15/bin";

/// How long to wait for a server to start or for a scenario property to become true.
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The lifecycle parameters: servers run as the `postgres` OS user when we are root
/// (initdb and postgres refuse root), 5432 is the system server's port, roots are
/// `sqlready-lab-*` in the temp dir and are stopped with `pg_ctl`.
static ENGINE: Engine = Engine::new("postgres", &[5432], "pglab-", "sqlready-lab-", stop_servers);

/// One lab PostgreSQL server.
pub struct PgServer {
    /// Scenario name (`bad`, `good`, `standby`, `slot`, `archive_fail`).
    pub name: &'static str,
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// PGDATA.
    pub datadir: PathBuf,
    /// The server's temp directory (holds `data/`, `sock/`, `server.log`, ...).
    pub root: PathBuf,
    /// Directory of the server's unix socket.
    pub socket_dir: PathBuf,
    /// Server log (stderr of the postmaster, via `pg_ctl -l`).
    pub log_file: PathBuf,
    /// Directory of this server's initdb, pg_ctl and postgres (the lab's default, or
    /// another major's for [`scratch_in`]).
    pub bindir: PathBuf,
}

/// The whole lab; see the module docs for what each server exhibits.
pub struct PgLab {
    pub bad: PgServer,
    pub good: PgServer,
    pub standby: PgServer,
    pub slot: PgServer,
    pub archive_fail: PgServer,
    /// Wall-clock time `lab()` took to start and verify everything.
    pub started_in: Duration,
}

/// The lab, started on first use and shared by all tests of the process.
///
/// Panics (in every caller, without retrying) if the lab could not be started, so a
/// broken setup fails each test quickly instead of starting servers again and again.
pub fn lab() -> &'static PgLab {
    static LAB: OnceLock<Result<PgLab, String>> = OnceLock::new();
    match LAB.get_or_init(start_lab) {
        Ok(lab) => lab,
        Err(message) => panic!("the PostgreSQL test lab failed to start:\n{message}"),
    }
}

/// Runs `sql` through `psql` against a connection URL (e.g. [`PgServer::url`]), the
/// way a client outside the server would: over TCP, with the URL's password and
/// sslmode. Returns stdout (`-tA`), or stderr when psql fails.
pub fn psql_url(url: &str, sql: &str) -> Result<String, String> {
    let output = client_command(pg_bin("psql"))
        .args([
            "-X",
            "-q",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .expect("could not run psql");
    psql_result(output)
}

/// Like [`psql_url`], with `env` set for psql (e.g. `HOME`, where libpq looks
/// for `.postgresql/root.crt`, or `SSL_CERT_FILE`).
pub fn psql_url_env(url: &str, sql: &str, env: &[(&str, &str)]) -> Result<String, String> {
    let output = client_command(pg_bin("psql"))
        .args([
            "-X",
            "-q",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .envs(env.iter().copied())
        .output()
        .expect("could not run psql");
    psql_result(output)
}

/// psql's trimmed stdout on success, its stderr on failure.
fn psql_result(output: std::process::Output) -> Result<String, String> {
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

impl PgServer {
    /// `postgres://USER:LAB_PASSWORD@127.0.0.1:PORT/DB?sslmode=prefer`.
    pub fn url(&self, user: &str, db: &str) -> String {
        self.url_with(user, db, "sslmode=prefer")
    }

    /// Like [`PgServer::url`] with explicit query parameters, e.g. `"sslmode=disable"`.
    pub fn url_with(&self, user: &str, db: &str, params: &str) -> String {
        let mut url = format!(
            "postgres://{user}:{LAB_PASSWORD}@127.0.0.1:{}/{db}",
            self.port
        );
        if !params.is_empty() {
            url.push('?');
            url.push_str(params);
        }
        url
    }

    /// Runs `sql` (one or more statements) as the `postgres` superuser over the unix
    /// socket and returns stdout (`-tA`, command tags suppressed). Panics with psql's
    /// stderr on failure.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        self.try_psql(db, sql).unwrap_or_else(|err| {
            panic!("{}: psql on db {db} failed: {err}\nSQL: {sql}", self.name)
        })
    }

    /// Like [`PgServer::psql`] but returns psql's stderr instead of panicking.
    ///
    /// The SQL goes through stdin rather than `-c` so psql sends statements one by
    /// one; a multi-statement `-c` string would run as one implicit transaction, in
    /// which e.g. `CREATE DATABASE` is not allowed.
    pub fn try_psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let mut child = client_command(pg_bin("psql"))
            .args([
                "-X",
                "-q",
                "-tA",
                "-v",
                "ON_ERROR_STOP=1",
                "-U",
                "postgres",
                "-f",
                "-",
            ])
            .arg("-h")
            .arg(&self.socket_dir)
            .args(["-p", &self.port.to_string(), "-d", db])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("could not run psql");
        child
            .stdin
            .take()
            .expect("psql stdin is piped")
            .write_all(sql.as_bytes())
            .expect("could not write SQL to psql");
        psql_result(child.wait_with_output().expect("could not wait for psql"))
    }

    /// The whole server log so far (e.g. to check log_connections or pgaudit lines).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// The last lines of the server log, for panic messages.
    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!("--- last lines of {} ---\n{tail}", self.log_file.display())
    }
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

/// Starts all scenarios in parallel and collects them, or every failure message.
fn start_lab() -> Result<PgLab, String> {
    let started = Instant::now();
    ENGINE.reap_abandoned_labs();
    let bad = ENGINE.spawn_named("bad", start_bad);
    let good_and_standby = ENGINE.spawn_named("good", || {
        let good = start_good();
        let standby = start_standby(&good);
        (good, standby)
    });
    let slot = ENGINE.spawn_named("slot", start_slot);
    let archive_fail = ENGINE.spawn_named("archive_fail", start_archive_fail);

    let (bad, good_and_standby, slot, archive_fail) = (
        join_named(bad),
        join_named(good_and_standby),
        join_named(slot),
        join_named(archive_fail),
    );
    match (bad, good_and_standby, slot, archive_fail) {
        (Ok(bad), Ok((good, standby)), Ok(slot), Ok(archive_fail)) => Ok(PgLab {
            bad,
            good,
            standby,
            slot,
            archive_fail,
            started_in: started.elapsed(),
        }),
        (bad, good_and_standby, slot, archive_fail) => Err([
            bad.err(),
            good_and_standby.err(),
            slot.err(),
            archive_fail.err(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n\n")),
    }
}

/// A server of its own, for a test that changes it (ALTER ROLE, a rewritten
/// pg_hba.conf, ALTER SYSTEM) where the shared lab must stay as it is:
/// initdb defaults plus `settings`, TCP over any transport, the lab roles
/// and the `app` database, and a certificate in PGDATA for `ssl = on`.
/// Stopped at exit like the lab's servers.
pub fn scratch(name: &'static str, settings: &[(&str, &str)]) -> PgServer {
    scratch_in(name, &default_bindir(), settings)
}

/// Like [`scratch`], with the server binaries (initdb, pg_ctl, postgres) of `bindir`,
/// e.g. another PostgreSQL major from `.pg-versions/` (scripts/pg-versions.sh). The
/// lab's psql (the default major) still does the setup: psql talks to every major.
pub fn scratch_in(name: &'static str, bindir: &Path, settings: &[(&str, &str)]) -> PgServer {
    ENGINE.reap_abandoned_labs();
    let server = PgServer::create_in(name, bindir.to_path_buf());
    server.initdb(&[]);
    server.generate_self_signed_cert();
    let mut all: Vec<(&str, String)> = server.base_settings();
    all.extend(settings.iter().map(|(k, v)| (*k, v.to_string())));
    server.configure(&all);
    server.write_hba(HbaTcp::AnyTransport);
    server.start();
    server.create_roles_and_app_db();
    server
}

/// A server outside the shared lab, for the TLS tests: TLS-only TCP with
/// certificates made the PostgreSQL manual's way
/// ([`super::lab::manual_ca_signed_certs`]) for `server_cn`. `root.crt`,
/// `server.crt` are in its PGDATA.
/// With `expired`, the server certificate's validity ended in 2020.
pub fn start_manual_tls(name: &'static str, server_cn: &str, expired: bool) -> PgServer {
    start_manual_tls_with_hba(name, server_cn, expired, "")
}

/// Like [`start_manual_tls`], with `first_hba_lines` put before every other
/// line of pg_hba.conf before the server starts (the first matching line
/// decides), e.g. an `ldap` line for one user.
pub fn start_manual_tls_with_hba(
    name: &'static str,
    server_cn: &str,
    expired: bool,
    first_hba_lines: &str,
) -> PgServer {
    ENGINE.reap_abandoned_labs();
    let server = PgServer::create(name);
    server.initdb(&[]);
    let openssl = || server.owned_command("openssl");
    super::lab::manual_ca_signed_certs(&openssl, &server.datadir, server_cn);
    if expired {
        super::lab::expire_server_cert(&openssl, &server.datadir);
    }
    let mut settings = server.base_settings();
    settings.push(("ssl", "on".to_string()));
    // Client certificates signed by root.crt are verified (a `cert` hba line needs it).
    settings.push(("ssl_ca_file", "root.crt".to_string()));
    server.configure(&settings);
    server.write_hba(HbaTcp::SslOnly);
    server.require_client_cert(CERT_USER);
    server.prepend_hba(first_hba_lines);
    server.start();
    server.create_roles_and_app_db();
    server.psql(
        "app",
        &format!("CREATE ROLE {CERT_USER} LOGIN PASSWORD '{LAB_PASSWORD}' IN ROLE pg_monitor;"),
    );
    server
}

/// The role of [`start_manual_tls`] servers that logs in over TCP only with a
/// client certificate (pg_hba `hostssl … cert`, the manual's way): its
/// certificate's common name must be the role's name.
pub const CERT_USER: &str = "certified";

/// A server outside the shared lab with `ssl = off` (initdb's default), for
/// what clients do when the server offers no TLS.
pub fn start_without_tls(name: &'static str) -> PgServer {
    ENGINE.reap_abandoned_labs();
    let server = PgServer::create(name);
    server.initdb(&[]);
    server.configure(&server.base_settings());
    server.write_hba(HbaTcp::AnyTransport);
    server.start();
    server.create_roles_and_app_db();
    server
}

/// Scenario `bad`: everything left at its default.
fn start_bad() -> PgServer {
    let server = PgServer::create("bad");
    server.initdb(&[]);
    server.configure(&server.base_settings());
    server.write_hba(HbaTcp::AnyTransport);
    server.start();
    server.create_roles_and_app_db();
    server.psql("app", "CREATE TABLE orders(id int);");
    // What clusters made before PostgreSQL 15 (and upgraded since) still carry, and an
    // application given SUPERUSER: the access_control failures of a default install.
    server.psql(
        "app",
        &format!(
            "GRANT CREATE ON SCHEMA public TO PUBLIC;
             CREATE ROLE app_admin LOGIN SUPERUSER PASSWORD '{LAB_PASSWORD}';"
        ),
    );
    server
}

/// Scenario `good`: the settings a production-readiness audit wants to see.
fn start_good() -> PgServer {
    let server = PgServer::create("good");
    server.initdb(&["--data-checksums"]);
    server.generate_self_signed_cert();
    let archive_dir = server.owned_subdir("archive");
    let archive_dir = archive_dir.display();
    let archive_command = format!("test ! -f {archive_dir}/%f && cp %p {archive_dir}/%f");
    let mut settings = server.base_settings();
    settings.extend([
        ("wal_level", "logical".to_string()),
        ("archive_mode", "on".to_string()),
        ("archive_command", archive_command),
        ("archive_timeout", "60".to_string()),
        ("log_min_duration_statement", "500".to_string()),
        (
            "shared_preload_libraries",
            "pg_stat_statements,pgaudit".to_string(),
        ),
        ("pgaudit.log", "ddl,role".to_string()),
        ("ssl", "on".to_string()),
        ("max_slot_wal_keep_size", "1GB".to_string()),
        ("max_wal_senders", "10".to_string()),
        ("max_replication_slots", "10".to_string()),
        ("log_connections", "on".to_string()),
        // pgaudit's lines name no user: the prefix does.
        ("log_line_prefix", "%m [%p] %q%u@%d %r ".to_string()),
    ]);
    server.configure(&settings);
    server.write_hba(HbaTcp::SslOnly);
    let hba_written = Instant::now();
    server.start();
    server.create_roles_and_app_db();
    server.psql(
        "app",
        "CREATE EXTENSION pg_stat_statements;
         CREATE EXTENSION pgaudit;
         CREATE TABLE customers(id int PRIMARY KEY);
         CREATE TABLE public._sqlx_migrations(
             version bigint PRIMARY KEY, description text,
             installed_on timestamptz NOT NULL DEFAULT now(), success bool NOT NULL,
             checksum bytea NOT NULL, execution_time bigint NOT NULL);
         INSERT INTO public._sqlx_migrations(version, description, success, checksum, execution_time)
             VALUES (20240101000000, 'init', true, '\\x00', 1000);",
    );
    server.psql("postgres", "CREATE DATABASE billing;");
    server.psql(
        "billing",
        "CREATE SCHEMA ops;
         CREATE TABLE ops.flyway_schema_history(
             installed_rank int PRIMARY KEY, version text,
             installed_on timestamp NOT NULL DEFAULT now(), success bool NOT NULL);
         INSERT INTO ops.flyway_schema_history(installed_rank, version, success) VALUES (1, '1', true);",
    );
    server.generate_wal_and_switch();
    server.wait_for(
        "pg_stat_archiver.archived_count > 0 and failed_count = 0",
        "SELECT archived_count > 0 AND failed_count = 0 FROM pg_stat_archiver",
    );
    server.reload_after(hba_written);
    server
}

/// Scenario `standby`: a streaming hot standby of `good`, cloned with pg_basebackup
/// (which also copies good's TLS certificate and key, with mode 0600).
fn start_standby(primary: &PgServer) -> PgServer {
    let server = PgServer::create("standby");
    run(
        server
            .owned_command(pg_bin("pg_basebackup"))
            .args([
                "-U", "postgres", "-R", "-X", "stream", "-C", "-S", "standby1",
            ])
            .args(["--checkpoint=fast", "--no-sync"])
            .arg("-h")
            .arg(&primary.socket_dir)
            .args(["-p", &primary.port.to_string()])
            .arg("-D")
            .arg(&server.datadir),
        "standby: pg_basebackup from good",
    );
    let mut settings = server.base_settings();
    settings.push(("hot_standby", "on".to_string()));
    server.configure(&settings);
    server.start();
    primary.wait_for(
        "one streaming replica on the active slot standby1",
        "SELECT (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming') = 1
            AND (SELECT active FROM pg_replication_slots WHERE slot_name = 'standby1')",
    );
    server.wait_for("pg_is_in_recovery()", "SELECT pg_is_in_recovery()");
    server
}

/// A streaming hot standby of `primary` (a [`scratch`] server) outside the
/// shared lab, cloned over TCP (127.0.0.1, the `postgres` role's password), so
/// its WAL receiver names the primary as `127.0.0.1:PORT` (`sender_host`,
/// `sender_port`) as a standby on another machine would, not by a socket path.
pub fn start_tcp_standby(name: &'static str, primary: &PgServer) -> PgServer {
    let server = PgServer::create(name);
    run(
        server
            .owned_command(pg_bin("pg_basebackup"))
            .env("PGPASSWORD", LAB_PASSWORD)
            .args(["-U", "postgres", "-R", "-X", "stream"])
            .args(["--checkpoint=fast", "--no-sync"])
            .args(["-h", "127.0.0.1", "-p", &primary.port.to_string()])
            .arg("-D")
            .arg(&server.datadir),
        &format!("{name}: pg_basebackup over TCP"),
    );
    let mut settings = server.base_settings();
    settings.push(("hot_standby", "on".to_string()));
    server.configure(&settings);
    server.start();
    server.wait_for("pg_is_in_recovery()", "SELECT pg_is_in_recovery()");
    primary.wait_for(
        "one streaming standby",
        "SELECT count(*) = 1 FROM pg_stat_replication WHERE state = 'streaming'",
    );
    server
}

/// Scenario `slot`: an inactive physical slot holding back a lot of WAL, with
/// `max_slot_wal_keep_size` at its default (-1, unbounded).
fn start_slot() -> PgServer {
    let server = PgServer::create("slot");
    server.initdb(&[]);
    server.configure(&server.base_settings());
    server.write_hba(HbaTcp::AnyTransport);
    server.start();
    server.create_roles_and_app_db();
    // Reserve WAL immediately, then write ~30 MB of WAL the slot has to retain. The
    // churn table is dropped again: the WAL stays, the disk space does not.
    server.psql(
        "postgres",
        "SELECT pg_create_physical_replication_slot('stale_slot', true);
         CREATE TABLE churn AS SELECT g, repeat('x', 100) AS filler FROM generate_series(1, 200000) g;
         DROP TABLE churn;
         SELECT pg_switch_wal();
         CHECKPOINT;
         SELECT pg_switch_wal();
         CHECKPOINT;",
    );
    let retained = server.psql(
        "postgres",
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint
           FROM pg_replication_slots WHERE slot_name = 'stale_slot'",
    );
    let retained: i64 = retained
        .trim()
        .parse()
        .expect("retained WAL bytes is a number");
    assert!(
        retained > 16 * 1024 * 1024,
        "slot: stale_slot retains only {retained} bytes of WAL, expected > 16 MB"
    );
    server
}

/// Scenario `archive_fail`: archiving is on but every attempt fails.
fn start_archive_fail() -> PgServer {
    let server = PgServer::create("archive_fail");
    server.initdb(&[]);
    let mut settings = server.base_settings();
    settings.extend([
        ("archive_mode", "on".to_string()),
        ("archive_command", "/bin/false".to_string()),
    ]);
    server.configure(&settings);
    server.write_hba(HbaTcp::AnyTransport);
    server.start();
    server.create_roles_and_app_db();
    server.generate_wal_and_switch();
    server.wait_for(
        "pg_stat_archiver.failed_count > 0",
        "SELECT failed_count > 0 FROM pg_stat_archiver",
    );
    server
}

// ---------------------------------------------------------------------------
// Server building blocks
// ---------------------------------------------------------------------------

/// Which TCP connections pg_hba.conf lets in (password auth either way).
#[derive(Clone, Copy)]
enum HbaTcp {
    /// `host` lines: TLS or plaintext.
    AnyTransport,
    /// `hostssl` lines only, plus explicit `hostnossl ... reject`.
    SslOnly,
}

impl PgServer {
    /// Makes the server's temp directory (owned by the server's OS user), picks a
    /// port and registers the directory for teardown at process exit.
    fn create(name: &'static str) -> PgServer {
        PgServer::create_in(name, default_bindir())
    }

    /// Like [`PgServer::create`] with the server binaries of `bindir`, recorded in
    /// the root (`bindir`) so the teardown stops it with its own pg_ctl.
    fn create_in(name: &'static str, bindir: PathBuf) -> PgServer {
        let root = ENGINE.create_root(name);
        let marker = root.join("bindir");
        fs::write(&marker, bindir.as_os_str().as_encoded_bytes())
            .unwrap_or_else(|e| panic!("could not write {}: {e}", marker.display()));
        let server = PgServer {
            bindir,
            name,
            port: ENGINE.free_port(),
            datadir: root.join("data"),
            socket_dir: root.join("sock"),
            log_file: root.join("server.log"),
            root,
        };
        server.owned_subdir("sock");
        server
    }

    /// A directory under the server root, owned by the server's OS user.
    pub fn owned_subdir(&self, name: &str) -> PathBuf {
        ENGINE.owned_subdir(&self.root, name)
    }

    /// A command that runs as the server's OS user, in the server root.
    fn owned_command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = client_command(program);
        cmd.current_dir(&self.root).env("HOME", &self.root);
        if let Some((uid, gid)) = ENGINE.server_owner() {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    /// initdb with superuser `postgres` and trust auth (pg_hba.conf is rewritten
    /// afterwards). `--no-sync` only skips initdb's final fsync; it changes no setting.
    /// (No `--no-instructions`: PostgreSQL 13's initdb does not know it, and the
    /// instructions only go to the captured stdout.)
    fn initdb(&self, extra_args: &[&str]) {
        run(
            self.owned_command(self.bindir.join("initdb"))
                .arg("-D")
                .arg(&self.datadir)
                .args([
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ])
                .arg("--no-sync")
                .args(extra_args),
            &format!("{}: initdb", self.name),
        );
    }

    /// The settings every lab server needs: its own port, loopback only, and a
    /// private unix socket directory.
    fn base_settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("port", self.port.to_string()),
            // ::1 too: IPv6 literal targets (`postgres://[::1]:PORT/…`) are tested on it.
            ("listen_addresses", "127.0.0.1,::1".to_string()),
            (
                "unix_socket_directories",
                self.socket_dir.display().to_string(),
            ),
        ]
    }

    /// Appends `name = 'value'` lines to postgresql.conf (later lines win, so this
    /// also overrides what pg_basebackup copied from the primary).
    pub fn configure(&self, settings: &[(&str, String)]) {
        let mut block = format!("\n# --- sqlready test lab: {} ---\n", self.name);
        for (name, value) in settings {
            block.push_str(&format!("{name} = '{}'\n", value.replace('\'', "''")));
        }
        let path = self.datadir.join("postgresql.conf");
        fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(block.as_bytes()))
            .unwrap_or_else(|e| panic!("could not append to {}: {e}", path.display()));
    }

    /// Replaces pg_hba.conf: trust over the unix socket (the harness's own setup
    /// connection), scram-sha-256 passwords over TCP from loopback.
    fn write_hba(&self, tcp: HbaTcp) {
        let host = match tcp {
            HbaTcp::AnyTransport => "host",
            HbaTcp::SslOnly => "hostssl",
        };
        let mut hba = String::from(
            "# sqlready test lab\n\
             local   all          all                  trust\n\
             local   replication  all                  trust\n",
        );
        for addr in ["127.0.0.1/32", "::1/128"] {
            hba.push_str(&format!(
                "{host:<7} all          all  {addr:<15} scram-sha-256\n"
            ));
            hba.push_str(&format!(
                "{host:<7} replication  all  {addr:<15} scram-sha-256\n"
            ));
        }
        if let HbaTcp::SslOnly = tcp {
            hba.push_str("hostnossl all          all  0.0.0.0/0       reject\n");
            hba.push_str("hostnossl all          all  ::/0            reject\n");
        }
        let path = self.datadir.join("pg_hba.conf");
        fs::write(&path, hba).unwrap_or_else(|e| panic!("could not write {}: {e}", path.display()));
    }

    /// Puts `hostssl all USER … cert` lines before the others of pg_hba.conf
    /// (the first matching line decides): `user` logs in over TCP with a
    /// client certificate and nothing else.
    fn require_client_cert(&self, user: &str) {
        self.prepend_hba(&format!(
            "hostssl all          {user}  127.0.0.1/32 cert\nhostssl all          {user}  ::1/128      cert\n"
        ));
    }

    /// Puts `lines` before the others of pg_hba.conf.
    fn prepend_hba(&self, lines: &str) {
        let path = self.datadir.join("pg_hba.conf");
        let hba = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("could not read {}: {e}", path.display()));
        fs::write(&path, format!("{lines}{hba}"))
            .unwrap_or_else(|e| panic!("could not write {}: {e}", path.display()));
    }

    /// A self-signed certificate for `localhost`/127.0.0.1 in PGDATA (the default
    /// ssl_cert_file/ssl_key_file names). P-256 because key generation is instant.
    /// The key must be 0600 and owned by the server user, or PostgreSQL refuses it.
    fn generate_self_signed_cert(&self) {
        let mut openssl = self.owned_command("openssl");
        super::lab::self_signed_cert(&mut openssl, &self.datadir, self.name);
    }

    /// Reloads the configuration at least a second after `written`: pg_stat_file
    /// gives pg_hba.conf's change time in whole seconds, so a file written in
    /// the second the server started cannot be told loaded (`network.hba_loaded`
    /// is then unknown) until a later reload.
    pub fn reload_after(&self, written: Instant) {
        let wait = Duration::from_millis(1100).saturating_sub(written.elapsed());
        thread::sleep(wait);
        self.psql("postgres", "SELECT pg_reload_conf();");
        thread::sleep(Duration::from_millis(200));
    }

    /// `pg_ctl start`, waiting until the server accepts connections.
    fn start(&self) {
        let output = self
            .owned_command(self.bindir.join("pg_ctl"))
            .arg("-D")
            .arg(&self.datadir)
            .arg("-l")
            .arg(&self.log_file)
            .args([
                "-w",
                "-t",
                &WAIT_TIMEOUT.as_secs().to_string(),
                "-s",
                "start",
            ])
            .output()
            .expect("could not run pg_ctl");
        if !output.status.success() {
            panic!(
                "{}: pg_ctl start failed: {}\n{}",
                self.name,
                String::from_utf8_lossy(&output.stderr),
                self.log_tail()
            );
        }
    }

    /// The roles and database every scenario has. All passwords are scram-sha-256.
    fn create_roles_and_app_db(&self) {
        self.psql(
            "postgres",
            &format!(
                "SET password_encryption = 'scram-sha-256';
                 ALTER ROLE postgres PASSWORD '{LAB_PASSWORD}';
                 CREATE ROLE auditor LOGIN PASSWORD '{LAB_PASSWORD}' IN ROLE pg_monitor;
                 CREATE ROLE plain LOGIN PASSWORD '{LAB_PASSWORD}';
                 CREATE DATABASE app;"
            ),
        );
    }

    /// Writes a little WAL and closes the segment so the archiver gets to work. The
    /// scratch table is dropped so no scenario gains a stray table.
    fn generate_wal_and_switch(&self) {
        self.psql(
            "postgres",
            "CREATE TABLE lab_wal AS SELECT g FROM generate_series(1, 10000) g;
             DROP TABLE lab_wal;
             SELECT pg_switch_wal();",
        );
    }

    /// Polls `sql` (a query returning one boolean, run in db `postgres`) until it
    /// returns true; panics with the last answer and the log tail after WAIT_TIMEOUT.
    fn wait_for(&self, what: &str, sql: &str) {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let answer = match self.try_psql("postgres", sql) {
                Ok(out) if out.trim() == "t" => return,
                Ok(out) => format!("{out:?}"),
                Err(err) => err,
            };
            if Instant::now() >= deadline {
                panic!(
                    "{}: timed out after {WAIT_TIMEOUT:?} waiting for {what} (last answer: {answer})\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

// ---------------------------------------------------------------------------
// Binaries and stopping (the rest of the lifecycle is in lab.rs)
// ---------------------------------------------------------------------------

/// The lab's PostgreSQL binaries: `SQLREADY_PG_BINDIR`, else [`DEFAULT_PG_BINDIR`].
fn default_bindir() -> PathBuf {
    std::env::var_os("SQLREADY_PG_BINDIR")
        .unwrap_or_else(|| DEFAULT_PG_BINDIR.into())
        .into()
}

/// Path of a PostgreSQL binary of the lab's default major (psql, pg_basebackup).
fn pg_bin(name: &str) -> PathBuf {
    default_bindir().join(name)
}

/// A command for a PostgreSQL client or tool with every `PG*` variable of the
/// environment removed, so a developer's PGHOST/PGSSLMODE/... cannot redirect it.
fn client_command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Engine stop function (see [`Engine`]): `pg_ctl stop -m immediate` for every
/// root whose server may be running, all in parallel, then waited for. Best effort:
/// errors are ignored.
fn stop_servers(roots: &[PathBuf]) {
    let stops: Vec<_> = roots
        .iter()
        .filter(|root| root.join("data/postmaster.pid").exists())
        .filter_map(|root| {
            // The server's own pg_ctl (create_in recorded its bindir).
            let pg_ctl = fs::read(root.join("bindir"))
                .ok()
                .map(|dir| PathBuf::from(String::from_utf8_lossy(&dir).into_owned()).join("pg_ctl"))
                .unwrap_or_else(|| pg_bin("pg_ctl"));
            let mut cmd = client_command(pg_ctl);
            cmd.current_dir(root)
                .arg("-D")
                .arg(root.join("data"))
                .args(["-m", "immediate", "-w", "-s", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some((uid, gid)) = ENGINE.server_owner() {
                cmd.uid(uid).gid(gid);
            }
            cmd.spawn().ok()
        })
        .collect();
    for mut stop in stops {
        let _ = stop.wait();
    }
}
