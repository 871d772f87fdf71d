//! Hostile peers on 127.0.0.1: tiny TCP servers that answer what an attacker
//! or a broken server would (a redirect, a 100 MB body, a 2 GB length header,
//! nothing at all), recording every byte they were sent so a test can assert
//! what reached them. Not databases and not APIs: peers that misbehave.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a peer does with one connection, given the bytes of the first request.
pub type Answer = Arc<dyn Fn(&[u8], &mut TcpStream) + Send + Sync>;

/// Every connection's first request, with when it arrived.
type Log = Arc<Mutex<Vec<(Instant, Vec<u8>)>>>;

/// A listening peer; every connection's received bytes are kept.
pub struct Peer {
    pub port: u16,
    pub url: String,
    received: Log,
}

impl Peer {
    /// Listens on 127.0.0.1; for each connection reads one HTTP request (head
    /// and a Content-Length body) or, for `raw`, whatever arrives first, then
    /// calls `answer`.
    pub fn start(raw: bool, answer: Answer) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let received: Log = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let log = log.clone();
                let answer = answer.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let bytes = if raw {
                        read_some(&mut stream)
                    } else {
                        read_request(&mut stream)
                    };
                    log.lock().unwrap().push((Instant::now(), bytes.clone()));
                    let _ = stream.set_read_timeout(None);
                    answer(&bytes, &mut stream);
                });
            }
        });
        Peer {
            port,
            url: format!("http://127.0.0.1:{port}"),
            received,
        }
    }

    /// An HTTP peer answering every request with the same bytes.
    pub fn http(response: Vec<u8>) -> Peer {
        Peer::start(
            false,
            Arc::new(move |_, stream| {
                let _ = stream.write_all(&response);
                let _ = stream.flush();
            }),
        )
    }

    /// A peer that accepts, reads, and never answers (the connection stays open
    /// until the client gives up).
    pub fn silent() -> Peer {
        Peer::start(
            true,
            Arc::new(|_, stream| {
                let mut sink = [0u8; 1024];
                let _ = stream.set_read_timeout(None);
                while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            }),
        )
    }

    /// Every connection's first request, as received.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, bytes)| bytes.clone())
            .collect()
    }

    /// Every connection's first request as text, with when it arrived.
    pub fn received_at(&self) -> Vec<(Instant, String)> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(at, bytes)| (*at, String::from_utf8_lossy(bytes).into_owned()))
            .collect()
    }

    /// Every received request as text.
    pub fn received_text(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }
}

/// An HTTP/1.1 response with `status`, extra header lines and a body.
pub fn response(status: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for header in headers {
        out.push_str(header);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn read_some(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = vec![0u8; 64 * 1024];
    match stream.read(&mut buf) {
        Ok(n) => buf[..n].to_vec(),
        Err(_) => Vec::new(),
    }
}

fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = find(&bytes, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if bytes.len() >= end + 4 + length {
                return bytes;
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return bytes,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A peer for protocols where the server speaks first (MySQL's handshake):
/// `answer` gets each connection as soon as it is accepted.
pub fn speaks_first(answer: Answer) -> Peer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let answer = answer.clone();
            std::thread::spawn(move || answer(&[], &mut stream));
        }
    });
    Peer {
        port,
        url: format!("tcp://127.0.0.1:{port}"),
        received: Arc::new(Mutex::new(Vec::new())),
    }
}

/// Writes `total` bytes of filler to `stream` in 1 MiB blocks; stops early
/// (without error) once the client hangs up.
pub fn stream_filler(stream: &mut TcpStream, total: usize) {
    let block = vec![b'x'; 1024 * 1024];
    let mut left = total;
    while left > 0 {
        let n = left.min(block.len());
        if stream.write_all(&block[..n]).is_err() {
            return;
        }
        left -= n;
    }
}

/// One run of the binary, with the peak resident memory it reached.
pub struct Measured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The child's own peak resident memory (`VmHWM`), in bytes.
    pub peak_rss: u64,
}

/// Runs `sqlready ARGS…` and samples its peak resident memory (`VmHWM` in
/// /proc/PID/status, the high-water mark of its own address space) every few
/// milliseconds until it exits. Not `ru_maxrss`: Linux carries the spawning
/// process's RSS into it at exec, so it would measure the test process.
pub fn run_measured(args: &[&str], bound: Duration) -> Measured {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sqlready"))
        .args(args)
        .env_remove("SQLREADY_CONFIG")
        .env_remove("PGPASSWORD")
        .env_remove("MYSQL_PWD")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the sqlready binary");
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let mut peak_rss = 0u64;
    loop {
        if let Some(hwm) = vm_hwm(pid) {
            peak_rss = peak_rss.max(hwm);
        }
        if let Some(status) = child.try_wait().expect("wait for sqlready") {
            return Measured {
                code: status.code().unwrap_or(-1),
                stdout: out.join().unwrap(),
                stderr: err.join().unwrap(),
                peak_rss,
            };
        }
        if started.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sqlready did not exit within {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// `VmHWM` of a live process, in bytes (none once it has exited).
fn vm_hwm(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
