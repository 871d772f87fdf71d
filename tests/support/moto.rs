//! A moto server (the AWS emulator, from PyPI) for the RDS tests: installed
//! into `.venv/` of the repository exactly as `tests/requirements.txt` pins
//! it (by `scripts/test-venv.sh`), started once per test binary
//! on 127.0.0.1 and a free port, seeded with `tests/fixtures/rds/seed.py`
//! through boto3, and stopped when the test binary exits (the server gets
//! SIGTERM when the thread that started it ends, which is at process exit).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

pub struct Moto {
    pub endpoint: String,
}

impl Moto {
    /// Environment for `sqlready`: the emulator, static test credentials, no
    /// instance metadata probing, no profile files of the machine.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ENDPOINT_URL_RDS", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            (
                "AWS_CONFIG_FILE",
                "/nonexistent/sqlready-test/config".into(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/sqlready-test/credentials".into(),
            ),
        ]
    }
}

impl Moto {
    /// Runs a Python `script` (boto3 against this emulator; its endpoint is
    /// `sys.argv[1]`) and reads what it prints as JSON: the test's fixture
    /// and the endpoints it made.
    pub fn seed<T: serde::de::DeserializeOwned>(&self, script: &str) -> T {
        let output = Command::new(python())
            .args(["-c", script, &self.endpoint])
            .output()
            .expect("run the seed script");
        assert!(
            output.status.success(),
            "seeding moto failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("the seed script prints JSON")
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The python of the repository's venv, holding exactly `tests/requirements.txt`
/// (moto and boto3, pinned with hashes) as `scripts/test-venv.sh` installs it.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            run(&mut Command::new(repo().join("scripts/test-venv.sh")));
            repo().join(".venv/bin/python")
        })
        .clone()
}

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(status.success(), "{command:?} failed: {status}");
}

/// The seeded fleet's server, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO_SERVER: OnceLock<Moto> = OnceLock::new();
    MOTO_SERVER.get_or_init(|| {
        let moto = start();
        run(Command::new(python())
            .arg(repo().join("tests/fixtures/rds/seed.py"))
            .arg(&moto.endpoint));
        moto
    })
}

/// Starts an empty moto server.
pub fn start() -> Moto {
    let python = python();
    let server = python.with_file_name("moto_server");
    let port = free_port();
    let log = std::env::temp_dir().join(format!("sqlready-moto-{port}.log"));
    let (ready, started) = mpsc::channel();
    let log_path = log.clone();
    // The thread that spawns the server lives as long as the process, so the
    // parent-death signal reaches the server only when the test binary exits.
    std::thread::spawn(move || {
        let log = std::fs::File::create(&log_path).expect("moto log file");
        let mut command = Command::new(&server);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        // SAFETY: prctl is async-signal-safe and only affects the child.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = command.spawn().expect("start moto_server");
        ready.send(()).ok();
        let _ = child.wait();
        std::thread::park();
    });
    started.recv().expect("moto_server started");
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_ready(port, &log);
    Moto { endpoint }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_ready(port: u16, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            let mut head = [0u8; 12];
            if stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "moto_server did not answer on port {port} within 60 s:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Runs a seed script against `moto` and returns what it printed.
fn seed_output(script: &str, moto: &Moto, mode: &str) -> String {
    let output = Command::new(python())
        .arg(repo().join(script))
        .arg(&moto.endpoint)
        .arg(mode)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {script}: {err}"));
    assert!(output.status.success(), "{script} {mode} failed");
    String::from_utf8(output.stdout).expect("seed output is UTF-8")
}

/// A server seeded with the security-group scenarios
/// (tests/fixtures/rds/seed_security_groups.py), started on first use.
pub fn security_groups() -> &'static Moto {
    static SERVER: OnceLock<Moto> = OnceLock::new();
    SERVER.get_or_init(|| {
        let moto = start();
        seed_output(
            "tests/fixtures/rds/seed_security_groups.py",
            &moto,
            "scenarios",
        );
        moto
    })
}

/// The same scenarios on a server that enforces IAM, and the access key (id, secret) of a
/// user allowed `rds:*` and `sts:*` but not `ec2:DescribeSecurityGroups`.
pub fn ec2_denied() -> &'static (Moto, String, String) {
    static SERVER: OnceLock<(Moto, String, String)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let moto = start();
        let printed = seed_output("tests/fixtures/rds/seed_security_groups.py", &moto, "deny");
        let key: serde_json::Value = serde_json::from_str(printed.trim()).expect("the key as JSON");
        let id = key["AccessKeyId"]
            .as_str()
            .expect("AccessKeyId")
            .to_string();
        let secret = key["SecretAccessKey"]
            .as_str()
            .expect("SecretAccessKey")
            .to_string();
        (moto, id, secret)
    })
}

/// A server seeded with the alarm, budget and snapshot-sharing scenarios
/// (tests/fixtures/rds/seed_fleet_items.py), started on first use.
pub fn fleet_items() -> &'static Moto {
    static SERVER: OnceLock<Moto> = OnceLock::new();
    SERVER.get_or_init(|| {
        let moto = start();
        seed_output("tests/fixtures/rds/seed_fleet_items.py", &moto, "scenarios");
        moto
    })
}

/// The same scenarios on a server that enforces IAM, and the access key (id, secret) of a
/// user allowed `rds:*`, `sts:*`, `ec2:*` but not CloudWatch, Budgets or the snapshot
/// attribute reads.
pub fn fleet_items_denied() -> &'static (Moto, String, String) {
    static SERVER: OnceLock<(Moto, String, String)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let moto = start();
        let printed = seed_output("tests/fixtures/rds/seed_fleet_items.py", &moto, "deny");
        let key: serde_json::Value = serde_json::from_str(printed.trim()).expect("the key as JSON");
        let field = |name: &str| key[name].as_str().expect(name).to_string();
        (moto, field("AccessKeyId"), field("SecretAccessKey"))
    })
}

/// A server alone with the scale scenario (tests/fixtures/rds/seed_fleet_items.py
/// `scale`): 250 instances in us-west-2, an alarm each, five manual snapshots, a budget.
pub fn fleet_scale() -> &'static Moto {
    static SERVER: OnceLock<Moto> = OnceLock::new();
    SERVER.get_or_init(|| {
        let moto = start();
        seed_output("tests/fixtures/rds/seed_fleet_items.py", &moto, "scale");
        moto
    })
}
