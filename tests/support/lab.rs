//! Server-lifecycle plumbing shared by the test labs (pglab.rs for PostgreSQL,
//! mylab.rs for MariaDB): server roots under the temp dir, the OS user the servers
//! run as, port picking, named setup threads, and teardown — at process exit for
//! this process's servers, at the next lab start for servers of killed processes.
//!
//! What differs per engine is an [`Engine`], a `static` in each lab module.
#![allow(dead_code)]

use std::any::Any;
use std::collections::HashSet;
use std::ffi::CString;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, Once, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// File in each server root holding the pid of the test process that owns it, so a
/// later process can tell abandoned roots from live ones.
const OWNER_FILE: &str = "owner.pid";

/// The engine-specific parts of a lab's lifecycle.
pub struct Engine {
    /// OS user the servers run as when the tests run as root (the servers refuse root).
    os_user: &'static str,
    /// Ports never handed out: the system servers' ports.
    reserved_ports: &'static [u16],
    /// Prefix of setup thread names, so panic messages say which lab a thread is from.
    thread_prefix: &'static str,
    /// Prefix of every server root under `std::env::temp_dir()`; reaping finds an
    /// engine's abandoned roots by it.
    dir_prefix: &'static str,
    /// Stops the servers of these roots, best effort (they may not run at all); the
    /// roots are removed afterwards.
    stop: fn(&[PathBuf]),
    /// Cache of [`Engine::server_owner`]: the passwd lookup is done once.
    owner: OnceLock<Option<(u32, u32)>>,
}

impl Engine {
    pub const fn new(
        os_user: &'static str,
        reserved_ports: &'static [u16],
        thread_prefix: &'static str,
        dir_prefix: &'static str,
        stop: fn(&[PathBuf]),
    ) -> Engine {
        Engine {
            os_user,
            reserved_ports,
            thread_prefix,
            dir_prefix,
            stop,
            owner: OnceLock::new(),
        }
    }

    /// The (uid, gid) the servers run as: the engine's OS user when we are root,
    /// because the servers refuse to run as root; `None` (ourselves) otherwise.
    pub fn server_owner(&self) -> Option<(u32, u32)> {
        *self.owner.get_or_init(|| {
            // SAFETY: geteuid has no preconditions.
            if unsafe { libc::geteuid() } != 0 {
                return None;
            }
            let name = CString::new(self.os_user).expect("static user name has no NUL");
            // SAFETY: `name` is a valid C string; the returned record is read at once,
            // inside this OnceLock initialiser.
            let pw = unsafe { libc::getpwnam(name.as_ptr()) };
            assert!(
                !pw.is_null(),
                "running as root, but there is no `{}` OS user to run the lab servers as",
                self.os_user
            );
            // SAFETY: checked non-null above.
            Some(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
        })
    }

    /// Gives `path` to the servers' OS user (a no-op when not root).
    pub fn chown_to_server_owner(&self, path: &Path) {
        if let Some((uid, gid)) = self.server_owner() {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("could not chown {}: {e}", path.display()));
        }
    }

    /// Makes a server root `{dir_prefix}{name}-XXXX` in the temp dir, owned by the
    /// servers' OS user, marked with our pid (for reaping) and registered for
    /// teardown at process exit.
    pub fn create_root(&'static self, name: &str) -> PathBuf {
        let root = tempfile::Builder::new()
            .prefix(&format!("{}{name}-", self.dir_prefix))
            .tempdir()
            .expect("could not create a lab temp dir")
            .keep();
        fs::write(root.join(OWNER_FILE), std::process::id().to_string())
            .expect("could not write the lab owner pid file");
        self.chown_to_server_owner(&root);
        self.register_teardown(&root);
        root
    }

    /// A new directory `root/name`, owned by the servers' OS user.
    pub fn owned_subdir(&self, root: &Path, name: &str) -> PathBuf {
        let dir = root.join(name);
        fs::create_dir(&dir).unwrap_or_else(|e| panic!("could not create {}: {e}", dir.display()));
        self.chown_to_server_owner(&dir);
        dir
    }

    /// A free TCP port on 127.0.0.1: let the kernel pick one, then release it. Ports
    /// already handed out in this process (by any engine) are skipped so parallel
    /// scenarios never collide with each other; reserved ports are never handed out.
    pub fn free_port(&self) -> u16 {
        static TAKEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
        loop {
            let listener = TcpListener::bind("127.0.0.1:0").expect("could not bind 127.0.0.1:0");
            let port = listener
                .local_addr()
                .expect("bound socket has an address")
                .port();
            let mut taken = TAKEN
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if !self.reserved_ports.contains(&port)
                && taken.get_or_insert_with(HashSet::new).insert(port)
            {
                return port;
            }
        }
    }

    /// Spawns a named setup thread (the name shows up in panic messages); pair with
    /// [`join_named`].
    pub fn spawn_named<T: Send + 'static>(
        &self,
        name: &str,
        setup: impl FnOnce() -> T + Send + 'static,
    ) -> (String, thread::JoinHandle<T>) {
        let handle = thread::Builder::new()
            .name(format!("{}{name}", self.thread_prefix))
            .spawn(setup)
            .expect("could not spawn a lab setup thread");
        (name.to_string(), handle)
    }

    /// Records a server root for teardown, installing the atexit handler on first use.
    pub fn register_teardown(&'static self, root: &Path) {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            // SAFETY: registering a plain extern "C" fn with no captured state.
            let rc = unsafe { libc::atexit(teardown_at_exit) };
            assert_eq!(rc, 0, "could not register the lab's atexit handler");
        });
        TEARDOWN
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((self, root.to_path_buf()));
    }

    /// Stops and removes this engine's roots left by test processes that no longer
    /// exist (killed before their atexit handler could run), so servers do not pile up.
    pub fn reap_abandoned_labs(&self) {
        let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        let abandoned: Vec<PathBuf> = entries
            .flatten()
            .filter(|entry| {
                entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(self.dir_prefix)
            })
            .map(|entry| entry.path())
            .filter(|root| {
                fs::read_to_string(root.join(OWNER_FILE))
                    .ok()
                    .and_then(|pid| pid.trim().parse::<i32>().ok())
                    .is_some_and(|pid| !process_alive(pid))
            })
            .collect();
        self.stop_and_remove(&abandoned);
    }

    /// Stops the servers of `roots` with the engine's stop function, then removes
    /// the roots. Best effort: errors are ignored.
    fn stop_and_remove(&self, roots: &[PathBuf]) {
        if roots.is_empty() {
            return;
        }
        (self.stop)(roots);
        for root in roots {
            let _ = fs::remove_dir_all(root);
        }
    }
}

/// A self-signed certificate for localhost / 127.0.0.1 (P-256: instant to
/// make): `server.crt` and `server.key` (mode 0600) in `dir`, made by
/// `openssl`, a command already set up to run as the server's owner.
pub fn self_signed_cert(openssl: &mut Command, dir: &Path, what: &str) {
    use std::os::unix::fs::PermissionsExt;
    run(
        openssl
            .current_dir(dir)
            .args(["req", "-new", "-x509", "-days", "3650", "-nodes"])
            .args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
            .args(["-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .args(["-keyout", "server.key", "-out", "server.crt"]),
        &format!("{what}: openssl req"),
    );
    let key = dir.join("server.key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("could not chmod {}: {e}", key.display()));
}

/// Certificates made the way the PostgreSQL manual's "Creating Certificates"
/// section makes them: a root CA (`root.crt`, `root.key`; `openssl x509 -req
/// -signkey` with the v3_ca extensions) and a server certificate for
/// `server_cn` signed by it (`server.crt`, `server.key`; `openssl x509 -req
/// -CA` with no extension file, which OpenSSL 3.0 writes as X.509 **v1**:
/// rustls/webpki refuse it, libpq accepts it). Keys are mode 0600. `openssl`
/// makes a command already set up to run as the server's owner.
pub fn manual_ca_signed_certs(openssl: &dyn Fn() -> Command, dir: &Path, server_cn: &str) {
    use std::os::unix::fs::PermissionsExt;
    let step = |args: &[&str]| {
        run(
            openssl().current_dir(dir).args(args),
            &format!("openssl {}", args.join(" ")),
        );
    };
    // Each root its own name: OpenSSL finds an issuer by name.
    let root_subject = format!("/CN=root.{server_cn}");
    step(&[
        "req",
        "-new",
        "-nodes",
        "-text",
        "-out",
        "root.csr",
        "-keyout",
        "root.key",
        "-subj",
        &root_subject,
    ]);
    step(&[
        "x509",
        "-req",
        "-in",
        "root.csr",
        "-text",
        "-days",
        "3650",
        "-extfile",
        "/etc/ssl/openssl.cnf",
        "-extensions",
        "v3_ca",
        "-signkey",
        "root.key",
        "-out",
        "root.crt",
    ]);
    let subject = format!("/CN={server_cn}");
    step(&[
        "req",
        "-new",
        "-nodes",
        "-text",
        "-out",
        "server.csr",
        "-keyout",
        "server.key",
        "-subj",
        &subject,
    ]);
    step(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-text",
        "-days",
        "365",
        "-CA",
        "root.crt",
        "-CAkey",
        "root.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
    ]);
    for key in ["root.key", "server.key"] {
        let key = dir.join(key);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("could not chmod {}: {e}", key.display()));
    }
}

/// A client certificate for the database user `user`, made and signed the
/// way the PostgreSQL manual's "Creating Certificates" section makes one:
/// `{name}.crt` and `{name}.key` (PKCS#8, what OpenSSL 3 writes) in `dir`,
/// signed by `root.crt` / `root.key` there ([`manual_ca_signed_certs`]), and
/// `{name}.pkcs1.key`, the same key in the older `BEGIN RSA PRIVATE KEY` form
/// (`openssl pkey -traditional`). Keys are mode 0600.
pub fn client_cert(openssl: &dyn Fn() -> Command, dir: &Path, user: &str, name: &str) {
    use std::os::unix::fs::PermissionsExt;
    let (csr, key, crt, pkcs1) = (
        format!("{name}.csr"),
        format!("{name}.key"),
        format!("{name}.crt"),
        format!("{name}.pkcs1.key"),
    );
    let subject = format!("/CN={user}");
    let steps: [&[&str]; 3] = [
        &[
            "req", "-new", "-nodes", "-out", &csr, "-keyout", &key, "-subj", &subject,
        ],
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-days",
            "365",
            "-CA",
            "root.crt",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            &crt,
        ],
        &["pkey", "-in", &key, "-traditional", "-out", &pkcs1],
    ];
    for args in steps {
        run(
            openssl().current_dir(dir).args(args),
            &format!("openssl {}", args.join(" ")),
        );
    }
    for key in [key, pkcs1] {
        let key = dir.join(key);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("could not chmod {}: {e}", key.display()));
    }
}

/// Signs `server.csr` again with `root.crt` (as [`manual_ca_signed_certs`]
/// left them in `dir`) for 2020-01-01 to 2020-01-02 only: `server.crt` is then
/// expired. `openssl ca`, since `openssl x509` sets no start date on OpenSSL 3.0.
pub fn expire_server_cert(openssl: &dyn Fn() -> Command, dir: &Path) {
    let config = "[ca]\ndefault_ca = lab\n[lab]\ndatabase = index.txt\nnew_certs_dir = .\n\
                  serial = ca.srl\ndefault_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n";
    for (name, content) in [("ca.cnf", config), ("index.txt", ""), ("ca.srl", "1000\n")] {
        let path = dir.join(name);
        fs::write(&path, content)
            .unwrap_or_else(|e| panic!("could not write {}: {e}", path.display()));
    }
    run(
        openssl().current_dir(dir).args([
            "ca",
            "-batch",
            "-notext",
            "-config",
            "ca.cnf",
            "-cert",
            "root.crt",
            "-keyfile",
            "root.key",
            "-in",
            "server.csr",
            "-out",
            "server.crt",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200102000000Z",
        ]),
        "openssl ca (expired server certificate)",
    );
}

/// Runs a command to completion and returns its stdout; panics with its output if
/// it fails.
pub fn run(cmd: &mut Command, what: &str) -> String {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: could not run {:?}: {e}", cmd.get_program()));
    if !output.status.success() {
        panic!(
            "{what} failed ({}):\nstdout: {}\nstderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The message of a panic payload (`panic!` makes a `String` or a `&str`).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(non-string panic)")
        .to_string()
}

/// Joins a setup thread of [`Engine::spawn_named`], turning its panic into an error
/// message naming the scenario.
pub fn join_named<T>((name, handle): (String, thread::JoinHandle<T>)) -> Result<T, String> {
    handle
        .join()
        .map_err(|payload| format!("scenario {name}: {}", panic_message(&*payload)))
}

/// Waits (at most 5 s) until `pid` is gone, reaping it if it is our child (a
/// zombie counts as gone: it holds no port or files any more).
pub fn wait_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let mut status = 0;
        // SAFETY: WNOHANG never blocks; a pid that is not our child just returns -1.
        unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        let state = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = state
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'));
        if state.is_empty() || zombie {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a process with this pid exists (EPERM means it exists but is not ours).
fn process_alive(pid: i32) -> bool {
    if pid <= 0 {
        return true; // not a real owner pid: leave the directory alone
    }
    // SAFETY: signal 0 only checks for existence and permission.
    let exists = unsafe { libc::kill(pid, 0) } == 0;
    exists || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Server roots created by this process, with their engine, stopped and removed at
/// exit. One registry (and one atexit handler) serves every engine.
static TEARDOWN: Mutex<Vec<(&'static Engine, PathBuf)>> = Mutex::new(Vec::new());

/// atexit handler: stops every lab server with its engine's stop function (each
/// engine's servers in one call, so they are stopped in parallel) and removes the
/// roots. Panics must not unwind out of an extern "C" fn, so they are caught and
/// ignored.
extern "C" fn teardown_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        let mut pending = std::mem::take(
            &mut *TEARDOWN
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        while let Some(&(engine, _)) = pending.first() {
            let (mine, rest): (Vec<_>, Vec<_>) = pending
                .into_iter()
                .partition(|(other, _)| std::ptr::eq(*other, engine));
            pending = rest;
            let roots: Vec<PathBuf> = mine.into_iter().map(|(_, root)| root).collect();
            engine.stop_and_remove(&roots);
        }
    });
}
