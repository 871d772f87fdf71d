//! MariaDB test lab: throw-away MariaDB servers from the OS packages
//! (`mariadb-install-db` + `/usr/sbin/mariadbd`), each set up to exhibit one
//! production-readiness scenario that the integration tests audit.
//!
//! * `defaults` — a fresh `mariadb-install-db`: passwordless roots, anonymous
//!   accounts, the `test` database, no binary log, no TLS, no audit plugin,
//!   performance_schema OFF; made lossy with `innodb_flush_log_at_trx_commit=2`
//!   and `sync_binlog=0`.
//! * `good`     — binary log (ROW, FULL images, sync_binlog=1, 7 days), GTIDs,
//!   slow log at 1 s, performance_schema, TLS required (self-signed certificate),
//!   the server_audit plugin logging, migration tables, root with a password, no
//!   anonymous account, no test database.
//! * `replica`  — a GTID replica of `good` over TLS (read_only), so `good` has one
//!   replica.
//!
//! Every server has the accounts `auditor` (the grant set of the in-database notes:
//! PROCESS, BINLOG MONITOR, SLAVE MONITOR, REPLICATION MASTER ADMIN, SELECT on *.*),
//! `narrow` (the no-data-access set docs/mysql.md recommends: PROCESS, BINLOG
//! MONITOR, SLAVE MONITOR, SHOW VIEW on *.*, SELECT on mysql.global_priv and
//! performance_schema.threads) and `bare` (USAGE only), all `'…'@'%'` with
//! [`LAB_PASSWORD`]. On `good` and `replica` root has that password too.
//!
//! [`lab()`] starts everything once per test process (servers in parallel
//! threads) and returns only when every scenario property holds. The servers are
//! killed and their directories removed by an `atexit` handler; directories left
//! behind by a test process that was killed are reaped by the next one. The system
//! MariaDB on port 3306 is never touched: every lab server has its own port,
//! datadir, socket and pid file under its own temp directory.
#![allow(dead_code)]

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::lab::{Engine, join_named, panic_message, run, wait_gone};

/// Password of every lab account. Distinctive so tests can assert it never leaks.
pub const LAB_PASSWORD: &str = "myLab-Pw-4a7e-XQ";

/// The grants of the `auditor` account (the in-database notes' minimal set for MariaDB ≥ 10.5.9).
pub const AUDITOR_GRANTS: &str = "GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR, REPLICATION MASTER ADMIN, SELECT ON *.* TO 'auditor'@'%'";

/// The grants of the `narrow` account: everything the audit reads, no application data.
pub const NARROW_GRANTS: &[&str] = &[
    "GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR, SHOW VIEW ON *.* TO 'narrow'@'%'",
    "GRANT SELECT ON mysql.global_priv TO 'narrow'@'%'",
    "GRANT SELECT ON mysql.db TO 'narrow'@'%'",
    "GRANT SELECT ON performance_schema.threads TO 'narrow'@'%'",
];

const MARIADBD: &str = "/usr/sbin/mariadbd";
const INSTALL_DB: &str = "mariadb-install-db";
const CLIENT: &str = "mariadb";

/// How long to wait for a server to start or for a scenario property to hold.
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The lifecycle parameters: servers run as the `mysql` OS user when we are root
/// (mariadbd refuses root), the system servers' ports 3306 and 5432 are never
/// handed out, roots are `sqlready-mylab-*` in the temp dir and are stopped by
/// killing their mariadbd.
static ENGINE: Engine = Engine::new(
    "mysql",
    &[3306, 5432],
    "mylab-",
    "sqlready-mylab-",
    stop_servers,
);

/// One lab MariaDB server.
pub struct MyServer {
    /// Scenario name (`defaults`, `good`, `replica`).
    pub name: &'static str,
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// The server's temp directory (holds `data/`, `my.cnf`, `server.log`, …).
    pub root: PathBuf,
    pub datadir: PathBuf,
    pub socket: PathBuf,
    pub pid_file: PathBuf,
    pub log_file: PathBuf,
    /// Whether root needs [`LAB_PASSWORD`] (set once the scenario gives it one).
    root_password: AtomicBool,
    child: Mutex<Option<Child>>,
}

/// The whole lab; see the module docs for what each server exhibits.
pub struct MyLab {
    pub defaults: MyServer,
    pub good: MyServer,
    pub replica: MyServer,
    /// Wall-clock time `lab()` took to start and verify everything.
    pub started_in: Duration,
}

/// The lab, started on first use and shared by all tests of the process.
///
/// Panics (in every caller, without retrying) if the lab could not be started.
pub fn lab() -> &'static MyLab {
    static LAB: OnceLock<Result<MyLab, String>> = OnceLock::new();
    match LAB.get_or_init(start_lab) {
        Ok(lab) => lab,
        Err(message) => panic!("the MariaDB test lab failed to start:\n{message}"),
    }
}

impl MyServer {
    /// `mysql://USER:LAB_PASSWORD@127.0.0.1:PORT/` (TLS preferred, the default).
    pub fn url(&self, user: &str) -> String {
        self.url_with(user, "")
    }

    /// Like [`MyServer::url`] with query parameters, e.g. `"ssl-mode=DISABLED"`.
    pub fn url_with(&self, user: &str, params: &str) -> String {
        let mut url = format!("mysql://{user}:{LAB_PASSWORD}@127.0.0.1:{}/", self.port);
        if !params.is_empty() {
            url.push('?');
            url.push_str(params);
        }
        url
    }

    /// Runs SQL as root over the unix socket; returns stdout (tab-separated, no
    /// headers). Panics with the client's stderr on failure.
    pub fn sql(&self, sql: &str) -> String {
        self.try_sql(sql).unwrap_or_else(|err| {
            panic!(
                "{}: SQL failed: {err}\nSQL: {sql}\n{}",
                self.name,
                self.log_tail()
            )
        })
    }

    pub fn try_sql(&self, sql: &str) -> Result<String, String> {
        let mut cmd = client_command();
        cmd.arg("--protocol=socket")
            .arg(format!("--socket={}", self.socket.display()))
            .args(["-uroot", "-N", "-B", "-e", sql]);
        if self.root_password.load(Ordering::SeqCst) {
            cmd.env("MYSQL_PWD", LAB_PASSWORD);
        }
        let output = cmd
            .output()
            .map_err(|e| format!("could not run {CLIENT}: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout)
                .trim_end()
                .to_string())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// The server's error log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("--- last lines of {} ---\n{tail}", self.log_file.display())
    }

    /// Polls `sql` (one value) until it prints "1"; panics after WAIT_TIMEOUT.
    pub fn wait_for(&self, what: &str, sql: &str) {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let answer = match self.try_sql(sql) {
                Ok(out) if out.trim() == "1" => return,
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
// Scenarios
// ---------------------------------------------------------------------------

fn start_lab() -> Result<MyLab, String> {
    let started = Instant::now();
    ENGINE.reap_abandoned_labs();
    let defaults = ENGINE.spawn_named("defaults", start_defaults);
    let good = ENGINE.spawn_named("good", start_good);
    let replica = ENGINE.spawn_named("replica", start_replica_server);
    let (defaults, good, replica) = (join_named(defaults), join_named(good), join_named(replica));
    let (defaults, good, replica) = match (defaults, good, replica) {
        (Ok(d), Ok(g), Ok(r)) => (d, g, r),
        (d, g, r) => {
            return Err([d.err(), g.err(), r.err()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n\n"));
        }
    };
    let replicate =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| replicate(&good, &replica)));
    if let Err(payload) = replicate {
        return Err(format!("scenario replica: {}", panic_message(&*payload)));
    }
    Ok(MyLab {
        defaults,
        good,
        replica,
        started_in: started.elapsed(),
    })
}

/// A server outside the shared lab, for the TLS tests: TLS required
/// (`require_secure_transport`) with certificates made the PostgreSQL manual's
/// way ([`super::lab::manual_ca_signed_certs`], a v1 server certificate) for
/// `server_cn`; `root.crt` is in its root directory.
/// With `expired`, the server certificate's validity ended in 2020.
pub fn start_manual_tls(name: &'static str, server_cn: &str, expired: bool) -> MyServer {
    ENGINE.reap_abandoned_labs();
    let server = MyServer::create(name);
    server.install_db(true);
    let openssl = || server.owned_command("openssl");
    super::lab::manual_ca_signed_certs(&openssl, &server.root, server_cn);
    if expired {
        super::lab::expire_server_cert(&openssl, &server.root);
    }
    server.write_config(&[
        ("require_secure_transport", "ON".into()),
        (
            "ssl_cert",
            server.root.join("server.crt").display().to_string(),
        ),
        (
            "ssl_key",
            server.root.join("server.key").display().to_string(),
        ),
        // Client certificates signed by root.crt are verified (REQUIRE X509 needs it).
        ("ssl_ca", server.root.join("root.crt").display().to_string()),
    ]);
    server.start();
    server.create_audit_accounts();
    server.sql(&format!(
        "CREATE USER '{CERT_USER}'@'%' IDENTIFIED BY '{LAB_PASSWORD}' REQUIRE X509;
         {}",
        AUDITOR_GRANTS.replace("'auditor'", &format!("'{CERT_USER}'"))
    ));
    server
}

/// The account of [`start_manual_tls`] servers that must present a client
/// certificate signed by the server's CA (`REQUIRE X509`).
pub const CERT_USER: &str = "certified";

/// Scenario `defaults`: a fresh install, made lossy.
fn start_defaults() -> MyServer {
    let server = MyServer::create("defaults");
    server.install_db(false);
    server.write_config(&[
        ("innodb_flush_log_at_trx_commit", "2".into()),
        ("sync_binlog", "0".into()),
    ]);
    server.start();
    server.create_audit_accounts();
    server
}

/// Scenario `good`: what a production-readiness audit wants to see.
fn start_good() -> MyServer {
    let server = MyServer::create("good");
    server.install_db(true);
    server.generate_self_signed_cert();
    let audit_dir = server.owned_subdir("audit");
    server.write_config(&[
        ("server_id", "1".into()),
        ("log_bin", "mysql-bin".into()),
        ("binlog_format", "ROW".into()),
        ("binlog_row_image", "FULL".into()),
        ("sync_binlog", "1".into()),
        ("binlog_expire_logs_seconds", "604800".into()),
        ("innodb_flush_log_at_trx_commit", "1".into()),
        ("slow_query_log", "1".into()),
        ("long_query_time", "1".into()),
        (
            "slow_query_log_file",
            server.root.join("slow.log").display().to_string(),
        ),
        ("performance_schema", "ON".into()),
        ("require_secure_transport", "ON".into()),
        (
            "ssl_cert",
            server.root.join("server.crt").display().to_string(),
        ),
        (
            "ssl_key",
            server.root.join("server.key").display().to_string(),
        ),
        ("plugin_load_add", "server_audit".into()),
        ("server_audit_logging", "ON".into()),
        (
            "server_audit_file_path",
            audit_dir.join("server_audit.log").display().to_string(),
        ),
    ]);
    server.start();
    server.set_root_password();
    server.create_audit_accounts();
    server.sql(&format!(
        "CREATE USER 'repl'@'%' IDENTIFIED BY '{LAB_PASSWORD}';
         GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
         CREATE DATABASE app;
         CREATE TABLE app.schema_migrations (version VARCHAR(255) PRIMARY KEY);
         INSERT INTO app.schema_migrations VALUES ('20240101000000');
         CREATE TABLE app.flyway_schema_history (installed_rank INT PRIMARY KEY, version VARCHAR(50),
           description VARCHAR(200) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
           success BOOL NOT NULL);
         INSERT INTO app.flyway_schema_history (installed_rank, version, description, success)
           VALUES (1, '1', 'init', TRUE);"
    ));
    server
}

/// Scenario `replica`, first half: its own server, not yet replicating.
fn start_replica_server() -> MyServer {
    let server = MyServer::create("replica");
    server.install_db(true);
    server.write_config(&[
        ("server_id", "2".into()),
        ("read_only", "ON".into()),
        ("relay_log", "relay-bin".into()),
        ("skip_slave_start", "ON".into()),
    ]);
    server.start();
    // The same root password good gets: good's ALTER USER replicates here too.
    server.set_root_password();
    server
}

/// Scenario `replica`, second half: a GTID replica of `good` over TLS. Everything
/// good's setup wrote (accounts, app tables) arrives through replication.
fn replicate(good: &MyServer, replica: &MyServer) {
    replica.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {}, MASTER_USER = 'repl',
           MASTER_PASSWORD = '{LAB_PASSWORD}', MASTER_SSL = 1, MASTER_USE_GTID = slave_pos;
         START SLAVE;",
        good.port
    ));
    // Slave_running is ON when both the IO and the SQL thread of the default connection run.
    replica.wait_for(
        "both replication threads running",
        "SELECT VARIABLE_VALUE = 'ON' FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'SLAVE_RUNNING'",
    );
    let target = good.sql("SELECT @@gtid_binlog_pos");
    replica.wait_for(
        &format!("replica caught up with good (gtid {target})"),
        &format!("SELECT @@gtid_slave_pos = '{target}'"),
    );
    good.wait_for(
        "good has exactly one Binlog Dump thread",
        "SELECT COUNT(*) = 1 FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'",
    );
}

// ---------------------------------------------------------------------------
// Server building blocks
// ---------------------------------------------------------------------------

impl MyServer {
    /// Makes the server's temp directory (owned by the `mysql` OS user when we are
    /// root), picks a port and registers the directory for teardown.
    fn create(name: &'static str) -> MyServer {
        let root = ENGINE.create_root(name);
        MyServer {
            name,
            port: ENGINE.free_port(),
            datadir: root.join("data"),
            socket: root.join("mysqld.sock"),
            pid_file: root.join("mariadbd.pid"),
            log_file: root.join("server.log"),
            root,
            root_password: AtomicBool::new(false),
            child: Mutex::new(None),
        }
    }

    fn owned_subdir(&self, name: &str) -> PathBuf {
        ENGINE.owned_subdir(&self.root, name)
    }

    fn owned_command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root).env("HOME", &self.root);
        for var in [
            "MYSQL_PWD",
            "MYSQL_HOST",
            "MYSQL_TCP_PORT",
            "MYSQL_UNIX_PORT",
        ] {
            cmd.env_remove(var);
        }
        if let Some((uid, gid)) = ENGINE.server_owner() {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    /// `mariadb-install-db` with passwordless roots ("normal" authentication, as the
    /// historical default) and, unless `skip_test_db`, the test database and the
    /// anonymous accounts it still creates on 10.11.
    fn install_db(&self, skip_test_db: bool) {
        let tmpdir = self.owned_subdir("tmp");
        let mut cmd = self.owned_command(INSTALL_DB);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", self.datadir.display()))
            // Each server has its own tmpdir: a starting mariadbd deletes every `#sql*`
            // file in its tmpdir, which breaks concurrent bootstraps sharing /tmp — and
            // would touch the system server's temporary tables.
            .arg(format!("--tmpdir={}", tmpdir.display()))
            .args([
                "--auth-root-authentication-method=normal",
                "--skip-name-resolve",
            ]);
        if skip_test_db {
            cmd.arg("--skip-test-db");
        }
        run(&mut cmd, &format!("{}: mariadb-install-db", self.name));
    }

    /// Writes `my.cnf`: the server's own port, loopback only, its own socket, pid file,
    /// log and tmpdir, no host-name resolution (so `'user'@'%'` accounts match 127.0.0.1
    /// instead of the anonymous `''@'localhost'`), plus the scenario's settings.
    fn write_config(&self, settings: &[(&str, String)]) {
        let mut config = format!(
            "# sqlready test lab: {}\n[mariadbd]\ndatadir = {}\nport = {}\nbind_address = 127.0.0.1,::1\n\
             socket = {}\npid_file = {}\nlog_error = {}\ntmpdir = {}\nskip_name_resolve = ON\n",
            self.name,
            self.datadir.display(),
            self.port,
            self.socket.display(),
            self.pid_file.display(),
            self.log_file.display(),
            self.root.join("tmp").display(),
        );
        for (name, value) in settings {
            config.push_str(&format!("{name} = {value}\n"));
        }
        let path = self.root.join("my.cnf");
        fs::write(&path, config)
            .unwrap_or_else(|e| panic!("could not write {}: {e}", path.display()));
        ENGINE.chown_to_server_owner(&path);
    }

    /// A self-signed certificate for localhost / 127.0.0.1 (P-256: instant to make).
    fn generate_self_signed_cert(&self) {
        let mut openssl = self.owned_command("openssl");
        super::lab::self_signed_cert(&mut openssl, &self.root, self.name);
    }

    /// Starts mariadbd (as the `mysql` OS user when we are root: it refuses root)
    /// and waits until it answers over its socket.
    fn start(&self) {
        let log = fs::File::create(self.root.join("stderr.log")).expect("create stderr log");
        let child = self
            .owned_command(MARIADBD)
            .arg(format!(
                "--defaults-file={}",
                self.root.join("my.cnf").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: could not start {MARIADBD}: {e}", self.name));
        *self.child.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            if self.try_sql("SELECT 1").is_ok() {
                return;
            }
            if let Some(status) = self
                .child
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "{}: mariadbd exited at start ({status})\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "{}: mariadbd did not accept connections within {WAIT_TIMEOUT:?}\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Gives every root account the lab password. mariadb-install-db also creates
    /// root@HOSTNAME (and, with the test db, ''@HOSTNAME), which skip_name_resolve makes
    /// unusable — ALTER USER refuses them — but which stay passwordless in
    /// mysql.global_priv; a hardened server drops them (not binlogged: each server of
    /// the lab has its own).
    fn set_root_password(&self) {
        self.sql(
            "SET SESSION sql_log_bin = 0;
             DELETE FROM mysql.global_priv WHERE Host NOT IN ('localhost', '127.0.0.1', '::1', '%');
             FLUSH PRIVILEGES;",
        );
        let alters: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .iter()
            .map(|host| format!("ALTER USER 'root'@'{host}' IDENTIFIED BY '{LAB_PASSWORD}';"))
            .collect();
        self.sql(&alters.join("\n"));
        self.root_password.store(true, Ordering::SeqCst);
    }

    fn create_audit_accounts(&self) {
        let mut sql = format!(
            "CREATE USER 'auditor'@'%' IDENTIFIED BY '{LAB_PASSWORD}';
             {AUDITOR_GRANTS};
             CREATE USER 'narrow'@'%' IDENTIFIED BY '{LAB_PASSWORD}';
             CREATE USER 'bare'@'%' IDENTIFIED BY '{LAB_PASSWORD}';\n"
        );
        for grant in NARROW_GRANTS {
            sql.push_str(grant);
            sql.push_str(";\n");
        }
        self.sql(&sql);
    }
}

// ---------------------------------------------------------------------------
// Client and stopping (the rest of the lifecycle is in lab.rs)
// ---------------------------------------------------------------------------

/// The `mariadb` client, reading no option files and no MYSQL_* variables of ours.
fn client_command() -> Command {
    let mut cmd = Command::new(CLIENT);
    cmd.arg("--no-defaults");
    for var in [
        "MYSQL_PWD",
        "MYSQL_HOST",
        "MYSQL_TCP_PORT",
        "MYSQL_UNIX_PORT",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Engine stop function (see [`Engine`]): kills the mariadbd of each root (all
/// first, then waits for each), so an immediate stop like PostgreSQL's.
fn stop_servers(roots: &[PathBuf]) {
    let pids: Vec<i32> = roots
        .iter()
        .filter_map(|root| lab_server_pid(root))
        .collect();
    for pid in &pids {
        // SAFETY: sending a signal to a process we verified is our lab server.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    for pid in &pids {
        wait_gone(*pid);
    }
}

/// The pid of the lab server of `root`, if one runs: the pid in its own pid file,
/// and only if that process really runs with this root's my.cnf (a stale pid file
/// must not get an unrelated process killed).
fn lab_server_pid(root: &Path) -> Option<i32> {
    let pid: i32 = fs::read_to_string(root.join("mariadbd.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let config = root.join("my.cnf").display().to_string();
    String::from_utf8_lossy(&cmdline)
        .contains(&config)
        .then_some(pid)
}
