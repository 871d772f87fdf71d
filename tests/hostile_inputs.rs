//! Issue 17, points 3 and 4: inputs that would take a run down, and
//! credentials that could be replayed. Each test plays a hostile peer (a
//! redirecting token endpoint, an API answering 100 MB, a server that never
//! answers, a bundle holding a FIFO) against the real binary or the real code.

#[path = "support/hostile.rs"]
mod hostile;
mod support;

use serde_json::json;
use support::cli::{sqlready, sqlready_in};

/// A facts snapshot whose target id and version carry line breaks, pipes,
/// backticks and a terminal escape, next to a failed target whose id and error do too.
fn hostile_snapshot(dir: &std::path::Path) -> String {
    let snapshot = json!({
        "schema_version": 1,
        "tool_version": "0.1.0",
        "targets": [{
            "id": "postgres://db:5432/app\n| injected | ✅ pass | `x` | forged |",
            "kind": "postgres",
            "role": "primary",
            "engine": "postgres",
            "version": "15\u{1b}[2J\r\n### forged heading",
            "collected_at": "2026-12-01T00:00:00Z",
            "facts": {}
        }],
        "failures": [{
            "id": "mysql://evil:3306/db`\n- forged list item",
            "kind": "mysql",
            "error": "connection refused\n| backups | ✅ pass | | forged |"
        }]
    });
    let path = dir.join("facts.json");
    std::fs::write(&path, snapshot.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn control_characters_in_target_ids_cannot_add_rows_or_lines() {
    let dir = tempfile::tempdir().unwrap();
    let facts = hostile_snapshot(dir.path());
    for format in ["table", "markdown"] {
        let run = sqlready_in(
            dir.path(),
            &[
                "audit",
                "--no-config",
                "--facts",
                &facts,
                "--format",
                format,
            ],
            &[("NO_COLOR", "1")],
        );
        assert!(
            run.code == 0 || run.code == 1 || run.code == 3,
            "{}",
            run.stderr
        );
        let out = &run.stdout;
        // The forged text is shown, escaped, on the line of the thing that carried it.
        assert!(out.contains("app\\n"), "{format}:\n{out}");
        assert!(out.contains("\\u{1b}[2J"), "{format}:\n{out}");
        assert!(
            ["refused\\n", "refused \\|", "refused / "]
                .iter()
                .any(|s| out.contains(s)),
            "{format}:\n{out}"
        );
        for line in out.lines() {
            let trimmed = line.trim_start_matches(['│', '|', ' ', '-', '#']);
            assert!(
                !trimmed.starts_with("injected")
                    && !trimmed.starts_with("forged")
                    && !trimmed.starts_with("backups | ✅")
                    && !line.contains('\u{1b}')
                    && !line.contains('\r'),
                "{format}: a target string started a line of its own: {line:?}\n{out}"
            );
        }
        if format == "markdown" {
            // Every table row has exactly the header's number of unescaped pipes.
            for line in out.lines().filter(|l| l.starts_with('|')) {
                let cells = line.replace("\\|", "").matches('|').count();
                assert!(cells == 5 || cells == 7, "{line:?}\n{out}");
            }
        }
    }
}

#[test]
fn the_hostile_snapshot_is_otherwise_an_ordinary_run() {
    // The same file as JSON keeps every character as it was: escaping is the
    // renderers' job, the report itself is exact.
    let dir = tempfile::tempdir().unwrap();
    let facts = hostile_snapshot(dir.path());
    let run = sqlready(&[
        "audit",
        "--no-config",
        "--facts",
        &facts,
        "--format",
        "json",
    ]);
    let report = run.json();
    assert_eq!(
        report["targets"][0]["id"],
        "postgres://db:5432/app\n| injected | ✅ pass | `x` | forged |"
    );
}

/// The Google environment of one run: the local Admin API server, the token
/// variable, a token info endpoint, and nothing of the caller's.
#[cfg(feature = "cloudsql")]
fn google_env(home: &std::path::Path, api: &str, oauth: &str) -> Vec<(&'static str, String)> {
    vec![
        ("HOME", home.display().to_string()),
        ("CLOUDSDK_CONFIG", home.display().to_string()),
        ("GCE_METADATA_HOST", "127.0.0.1:9".into()),
        ("NO_PROXY", "*".into()),
        ("HTTPS_PROXY", String::new()),
        ("HTTP_PROXY", String::new()),
        ("SQLREADY_CLOUDSQL_ENDPOINT", api.into()),
        ("SQLREADY_GOOGLE_OAUTH_ENDPOINT", oauth.into()),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", cloudsql_server::TOKEN.into()),
    ]
}

#[cfg(feature = "cloudsql")]
#[path = "support/cloudsql_server.rs"]
mod cloudsql_server;

#[cfg(feature = "cloudsql")]
#[test]
fn a_redirecting_token_info_endpoint_never_sees_the_token_again() {
    use cloudsql_server::{Server, TOKEN, scenario_routes};
    let api = Server::start(scenario_routes(), std::time::Duration::ZERO);
    let second = hostile::Peer::http(hostile::response("200 OK", &[], b"{}"));
    let location = format!("Location: {}/tokeninfo", second.url);
    let first = hostile::Peer::http(hostile::response(
        "307 Temporary Redirect",
        &[&location],
        b"",
    ));
    let home = tempfile::tempdir().unwrap();
    let env = google_env(home.path(), &api.url, &first.url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = sqlready_in(
        home.path(),
        &[
            "audit",
            "--no-config",
            "cloudsql://acme-prod/pg-good",
            "--format",
            "json",
        ],
        &env,
    );
    let report = run.json();
    assert!(report["targets"][0]["principal"].is_null(), "{report:#}");
    // The first host got the token once, in the Authorization header and nowhere else.
    let asked = first.received_text();
    assert_eq!(asked.len(), 1, "{asked:?}");
    let (head, body) = asked[0].split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("POST /tokeninfo "), "{head}");
    assert!(
        head.lines()
            .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {TOKEN}"))),
        "{head}"
    );
    assert!(
        !head.lines().next().unwrap().contains(TOKEN),
        "the token is not in the URL"
    );
    assert!(
        !body.contains(TOKEN),
        "the token is not in a body: {body:?}"
    );
    // The host the redirect named received nothing at all.
    assert!(second.received().is_empty(), "{:?}", second.received_text());
    assert!(run.stderr.contains("redirect"), "{}", run.stderr);
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
}

#[cfg(feature = "cloudsql")]
#[test]
fn a_redirecting_admin_api_never_gets_the_token_replayed() {
    use cloudsql_server::TOKEN;
    let second = hostile::Peer::http(hostile::response("200 OK", &[], b"{}"));
    let location = format!(
        "Location: {}/v1/projects/acme-prod/instances/pg-good",
        second.url
    );
    let first = hostile::Peer::http(hostile::response(
        "307 Temporary Redirect",
        &[&location],
        b"",
    ));
    let home = tempfile::tempdir().unwrap();
    let env = google_env(home.path(), &first.url, &first.url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = sqlready_in(
        home.path(),
        &[
            "audit",
            "--no-config",
            "cloudsql://acme-prod/pg-good",
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(!first.received().is_empty());
    assert!(second.received().is_empty(), "{:?}", second.received_text());
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
}

/// A check file around `condition`, with one example holding `facts` (TOML inline table body).
fn check_file(condition: &str, facts: &str) -> String {
    format!(
        r#"id = "custom.bomb"
item = "monitoring"
severity = "low"
title = "A hostile condition"
why = "A check file that arrived by pull request."
condition = """
{condition}
"""

[fix]
postgres = "nothing"

[[example]]
name = "the bomb"
expect = "pass"
facts = {{ {facts} }}
"#
    )
}

/// `checks lint FILE` within a bound, with its output.
fn lint_quickly(dir: &std::path::Path, name: &str, contents: &str) -> support::cli::Run {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    let started = std::time::Instant::now();
    let run = sqlready(&["checks", "lint", &path.display().to_string()]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "lint took {:?}",
        started.elapsed()
    );
    run
}

#[test]
fn a_cel_bomb_is_refused_at_load_quickly_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    // Nested comprehensions over fact lists: 1000^4 steps if it ever ran.
    let bomb = "replication.slots.exists(a, replication.slots.exists(b, replication.slots.exists(c, replication.slots.exists(d, a == d))))";
    let run = lint_quickly(dir.path(), "bomb.toml", &check_file(bomb, ""));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("bomb.toml:7:1:"), "{all}");
    assert!(all.contains("nesting .exists"), "{all}");
    // The same with literal lists the file itself supplies.
    let list = format!("[{}]", vec!["1"; 300].join(", "));
    let bomb = format!("{list}.map(x, {list}.map(y, {list}.map(z, z))).size() > 0");
    let run = lint_quickly(dir.path(), "literal.toml", &check_file(&bomb, ""));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    // And an example whose list is far longer than any fact list.
    let long = format!(
        r#""replication.slots" = [{}]"#,
        vec!["{ name = \"s\", active = true }"; 1500].join(", ")
    );
    let run = lint_quickly(
        dir.path(),
        "example.toml",
        &check_file("replication.slots.all(s, s.active)", &long),
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("list of 1500 elements"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn a_long_chain_is_refused_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let chain = format!("1{} > 0", " + 1".repeat(1500));
    let run = lint_quickly(dir.path(), "chain.toml", &check_file(&chain, ""));
    assert_eq!(
        run.code, 2,
        "exit {}: {}{}",
        run.code, run.stdout, run.stderr
    );
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("chain.toml:7:") && all.contains("deeper than 64"),
        "{all}"
    );
    // Longer than the parser is asked to read: refused before parsing.
    let chain = format!("1{} > 0", " + 1".repeat(4000));
    let run = lint_quickly(dir.path(), "long.toml", &check_file(&chain, ""));
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("bytes long") || run.stderr.contains("bytes long"));
    std::fs::remove_file(dir.path().join("long.toml")).unwrap();
    // The same chain given to an audit as a checks directory: refused, exit 2, no abort.
    let run = sqlready(&[
        "audit",
        "--no-config",
        "--checks-dir",
        &dir.path().display().to_string(),
        "postgres://127.0.0.1:9/db",
    ]);
    assert_eq!(run.code, 2, "exit {}: {}", run.code, run.stderr);
}

/// A fresh evidence bundle (from the hostile snapshot) in `dir/bundle`.
fn make_bundle(dir: &std::path::Path) -> std::path::PathBuf {
    let facts = hostile_snapshot(dir);
    let out = dir.join("bundle");
    let run = sqlready_in(
        dir,
        &[
            "audit",
            "--no-config",
            "--facts",
            &facts,
            "--format",
            "json",
            "--evidence",
            &out.display().to_string(),
        ],
        &[],
    );
    assert!(out.join("MANIFEST.json").is_file(), "{}", run.stderr);
    out
}

/// `evidence verify DIR`, killed (and the test failed) if it takes over 10 s.
fn verify_within_bound(dir: &std::path::Path) -> (i32, String, String) {
    // Waited for with wait4 below, for the child's own peak memory.
    #[allow(clippy::zombie_processes)]
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sqlready"))
        .args(["evidence", "verify", &dir.display().to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match wait.recv_timeout(std::time::Duration::from_secs(10)) {
        Ok(output) => {
            let output = output.unwrap();
            (
                output.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&output.stdout).into_owned(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        }
        Err(_) => {
            unsafe { libc::kill(id as i32, libc::SIGKILL) };
            panic!("evidence verify hung on {}", dir.display());
        }
    }
}

fn mkfifo(path: &std::path::Path) {
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o644) }, 0);
}

#[test]
fn evidence_verify_never_follows_a_link_nor_opens_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = make_bundle(dir.path());
    assert_eq!(verify_within_bound(&bundle).0, 0);

    // A listed file replaced by a link to an endless device, another by a FIFO.
    std::fs::remove_file(bundle.join("report.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", bundle.join("report.json")).unwrap();
    std::fs::remove_file(bundle.join("run.json")).unwrap();
    mkfifo(&bundle.join("run.json"));
    // An unlisted FIFO and an empty directory added.
    mkfifo(&bundle.join("extra.fifo"));
    std::fs::create_dir(bundle.join("empty")).unwrap();
    let (code, stdout, stderr) = verify_within_bound(&bundle);
    assert_eq!(code, 1, "{stdout}{stderr}");
    for line in [
        "changed: report.json",
        "changed: run.json",
        "added: extra.fifo",
        "added: empty/",
        "not opened: report.json is a symbolic link, not followed",
        "not opened: run.json is a FIFO, never opened",
        "FAILED",
    ] {
        assert!(stdout.contains(line), "{line}:\n{stdout}");
    }

    // A listed directory swapped for a link to a copy outside the bundle.
    let dir2 = tempfile::tempdir().unwrap();
    let bundle2 = make_bundle(dir2.path());
    let targets = bundle2.join("targets");
    let outside = dir2.path().join("outside");
    std::fs::rename(&targets, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, &targets).unwrap();
    let (code, stdout, _) = verify_within_bound(&bundle2);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("inside a symbolic link to a directory"),
        "{stdout}"
    );
    assert!(stdout.contains("added: targets\n"), "{stdout}");

    // The manifest itself a link to /dev/zero: refused at once, not read.
    std::fs::remove_file(bundle2.join("MANIFEST.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", bundle2.join("MANIFEST.json")).unwrap();
    let (code, stdout, stderr) = verify_within_bound(&bundle2);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("MANIFEST.json is a symbolic link"),
        "{stderr}"
    );
}

/// Temporary entries sqlready may leave in `dir` (`.tmp*`, `.sqlready-evidence-*`).
fn temporaries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp") || n.starts_with(".sqlready-evidence-"))
        .collect()
}

/// Waits for `child` at most `bound`; its exit code (the test fails on a hang).
fn exit_within(child: &mut std::process::Child, bound: std::time::Duration) -> i32 {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if started.elapsed() > bound {
            let _ = child.kill();
            panic!("no exit within {bound:?} of the signal");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn sigint_while_the_bundle_is_written_removes_it_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    // Enough failed targets that writing (and syncing) the bundle takes seconds.
    let failures: Vec<_> = (0..3000)
        .map(|i| json!({"id": format!("postgres://h{i}:5432/db"), "kind": "postgres", "error": "refused"}))
        .collect();
    let snapshot =
        json!({"schema_version": 1, "tool_version": "0.1.0", "targets": [], "failures": failures});
    std::fs::write(dir.path().join("many.json"), snapshot.to_string()).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sqlready"))
        .current_dir(dir.path())
        .args([
            "audit",
            "--no-config",
            "--facts",
            "many.json",
            "--format",
            "json",
        ])
        .args(["-o", "report.json", "--evidence", "bundle"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while temporaries(dir.path())
        .iter()
        .all(|n| !n.starts_with(".sqlready-evidence-"))
    {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before its bundle was being written"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let code = exit_within(&mut child, std::time::Duration::from_secs(10));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("interrupted (SIGINT)"), "{stderr}");
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
    assert!(!dir.path().join("bundle").exists(), "no partial bundle");
}

#[test]
fn sigterm_during_a_hanging_connection_exits_143_leaving_nothing() {
    let peer = hostile::Peer::silent();
    let dir = tempfile::tempdir().unwrap();
    let target = format!("postgres://u:secret@127.0.0.1:{}/db", peer.port);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sqlready"))
        .current_dir(dir.path())
        .args(["audit", "--no-config", &target, "-o", "report.json"])
        .args(["--evidence", "bundle", "--connect-timeout", "60"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the client is connected and waiting for the server's answer.
    let started = std::time::Instant::now();
    while peer.received().is_empty() {
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let code = exit_within(&mut child, std::time::Duration::from_secs(5));
    assert_eq!(code, 143);
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
    assert!(!dir.path().join("report.json").exists());
}

#[test]
fn ipv6_literal_targets_connect_to_real_servers_on_loopback() {
    let pg = support::pglab::lab();
    let url = pg.good.url("auditor", "app").replace("127.0.0.1", "[::1]");
    let run = sqlready(&["audit", "--no-config", &url, "--format", "json"]);
    let report = run.json();
    let target = support::cli::only_target(&report);
    assert_eq!(
        target["id"],
        format!("postgres://[::1]:{}/app", pg.good.port),
        "{}",
        run.stderr
    );
    assert!(target["error"].is_null(), "{target:#}\n{}", run.stderr);
    assert!(
        target["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("15")),
        "{target:#}"
    );

    let my = support::mylab::lab();
    let url = my.good.url("auditor").replace("127.0.0.1", "[::1]");
    let run = sqlready(&["audit", "--no-config", &url, "--format", "json"]);
    let report = run.json();
    let target = support::cli::only_target(&report);
    assert_eq!(target["id"], format!("mysql://[::1]:{}/", my.good.port));
    assert!(target["error"].is_null(), "{target:#}\n{}", run.stderr);
}

#[cfg(feature = "rds")]
#[test]
fn a_hanging_rds_endpoint_is_bounded_by_the_statement_timeout() {
    let peer = hostile::Peer::silent();
    let started = std::time::Instant::now();
    let run = support::cli::sqlready_with_env(
        &[
            "audit",
            "--no-config",
            "rds://us-east-1/db/orders",
            "--format",
            "json",
            "--statement-timeout",
            "2",
        ],
        &[
            ("AWS_ENDPOINT_URL", peer.url.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent/sqlready-test/config"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/sqlready-test/credentials",
            ),
            ("AWS_MAX_ATTEMPTS", "4"),
        ],
    );
    let elapsed = started.elapsed();
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let target = support::cli::only_target(&report);
    assert!(target["error"].as_str().is_some(), "{target:#}");
    // One call, 4 attempts allowed: still one statement timeout, not four
    // (two calls at most run one after the other: the describe and the caller identity).
    assert!(
        elapsed < std::time::Duration::from_secs(2 * 2 + 2),
        "took {elapsed:?}: {}",
        target["error"]
    );
    assert!(!peer.received().is_empty(), "the endpoint was asked");
}

/// A peer answering every HTTP request with 100 MB: with a Content-Length,
/// or (`chunked`) without one, streamed until the client hangs up.
#[cfg(any(feature = "rds", feature = "cloudsql"))]
fn hundred_megabytes(chunked: bool) -> hostile::Peer {
    hostile::Peer::start(
        false,
        std::sync::Arc::new(move |_, stream| {
            use std::io::Write;
            let total: usize = 100 * 1024 * 1024;
            let head = if chunked {
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .to_string()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {total}\r\n\r\n"
                )
            };
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            let block = vec![b'x'; 1024 * 1024];
            for _ in 0..100 {
                let sent = if chunked {
                    stream
                        .write_all(format!("{:x}\r\n", block.len()).as_bytes())
                        .and_then(|()| stream.write_all(&block))
                        .and_then(|()| stream.write_all(b"\r\n"))
                } else {
                    stream.write_all(&block)
                };
                if sent.is_err() {
                    return;
                }
            }
            let _ = stream.write_all(if chunked { b"0\r\n\r\n" } else { b"" });
        }),
    )
}

#[cfg(feature = "rds")]
#[test]
fn a_100_mb_rds_answer_is_refused_for_that_target_only() {
    for chunked in [false, true] {
        let peer = hundred_megabytes(chunked);
        let run = support::cli::sqlready_with_env(
            &[
                "audit",
                "--no-config",
                "rds://us-east-1/db/orders",
                "--format",
                "json",
                "--statement-timeout",
                "30",
            ],
            &[
                ("AWS_ENDPOINT_URL", peer.url.as_str()),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
                ("AWS_CONFIG_FILE", "/nonexistent/sqlready-test/config"),
                (
                    "AWS_SHARED_CREDENTIALS_FILE",
                    "/nonexistent/sqlready-test/credentials",
                ),
                ("AWS_MAX_ATTEMPTS", "1"),
            ],
        );
        assert_eq!(run.code, 3, "{}", run.stderr);
        let report = run.json();
        let target = support::cli::only_target(&report);
        let error = target["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("limit") && !error.contains("timed out"),
            "chunked={chunked}: {error}\n{}",
            run.stderr
        );
    }
}

#[cfg(feature = "rds")]
#[test]
fn rds_throttling_waits_as_retry_after_says() {
    let body = br#"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>"#;
    let peer = hostile::Peer::http(hostile::response(
        "429 Too Many Requests",
        &["Retry-After: 3", "Content-Type: text/xml"],
        body,
    ));
    let run = support::cli::sqlready_with_env(
        &[
            "audit",
            "--no-config",
            "rds://us-east-1/db/orders",
            "--format",
            "json",
        ],
        &[
            ("AWS_ENDPOINT_URL", peer.url.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent/sqlready-test/config"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/sqlready-test/credentials",
            ),
            ("AWS_MAX_ATTEMPTS", "2"),
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let describes: Vec<std::time::Instant> = peer
        .received_at()
        .into_iter()
        .filter(|(_, text)| text.contains("Action=DescribeDBInstances"))
        .map(|(at, _)| at)
        .collect();
    assert_eq!(describes.len(), 2, "two attempts");
    let gap = describes[1] - describes[0];
    // The SDK's own first backoff is at most 200 ms; the server asked for 3 s.
    assert!(
        gap >= std::time::Duration::from_millis(2800),
        "retried after {gap:?}"
    );
    assert!(
        gap < std::time::Duration::from_secs(6),
        "retried after {gap:?}"
    );
}

/// A PostgreSQL peer that accepts any start-up (no TLS, no password), says it
/// is ready, and then never answers a statement.
fn postgres_that_goes_silent() -> hostile::Peer {
    hostile::Peer::start(
        true,
        std::sync::Arc::new(|_, stream| {
            use std::io::{Read, Write};
            let message = |tag: u8, body: &[u8]| {
                let mut out = vec![tag];
                out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
                out.extend_from_slice(body);
                out
            };
            let mut hello = message(b'R', &0u32.to_be_bytes());
            hello.extend(message(b'S', b"server_version\x0015.0\x00"));
            hello.extend(message(b'K', &[0, 0, 0, 1, 0, 0, 0, 2]));
            hello.extend(message(b'Z', b"I"));
            if stream.write_all(&hello).is_err() {
                return;
            }
            let mut sink = [0u8; 4096];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
        }),
    )
}

#[test]
fn a_postgres_server_that_never_answers_a_statement_is_given_up() {
    let peer = postgres_that_goes_silent();
    let url = format!(
        "postgres://auditor@127.0.0.1:{}/app?sslmode=disable",
        peer.port
    );
    let started = std::time::Instant::now();
    let run = sqlready(&[
        "audit",
        "--no-config",
        &url,
        "--format",
        "json",
        "--statement-timeout",
        "1",
    ]);
    let elapsed = started.elapsed();
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    let error = support::cli::only_target(&report)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains("reading the catalog") && error.contains("no answer within 6 s"),
        "{error}"
    );
    assert!(
        elapsed < std::time::Duration::from_secs(12),
        "took {elapsed:?}"
    );
}

#[cfg(feature = "cloudsql")]
#[test]
fn a_hanging_cloudsql_api_is_bounded_by_the_statement_timeout() {
    let peer = hostile::Peer::silent();
    let home = tempfile::tempdir().unwrap();
    let env = google_env(home.path(), &peer.url, &peer.url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let started = std::time::Instant::now();
    let run = sqlready_in(
        home.path(),
        &[
            "audit",
            "--no-config",
            "cloudsql://acme-prod/pg-good",
            "--format",
            "json",
            "--statement-timeout",
            "2",
        ],
        &env,
    );
    let elapsed = started.elapsed();
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = run.json();
    assert!(
        support::cli::only_target(&report)["error"].is_string(),
        "{report:#}"
    );
    // One call of 6 attempts at most, all within the 2 s; the caller identity
    // (token info, at most 2 s too) runs alongside.
    assert!(
        elapsed < std::time::Duration::from_secs(2 + 3),
        "took {elapsed:?}"
    );
}

#[test]
fn a_refused_facts_file_names_its_target_with_control_characters_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("facts.json");
    let snapshot = json!({
        "schema_version": 1,
        "tool_version": "0.1.0",
        "targets": [{
            "id": "postgres://db:5432/app\n\u{1b}[2Jforged",
            "kind": "postgres",
            "role": "primary",
            "engine": "oracle\u{1b}[2J",
            "collected_at": "2026-12-01T00:00:00Z",
            "facts": {}
        }],
        "failures": []
    });
    std::fs::write(&path, snapshot.to_string()).unwrap();
    let run = sqlready_in(
        dir.path(),
        &["audit", "--no-config", "--facts", path.to_str().unwrap()],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
    assert!(run.stderr.contains("\\u{1b}[2J"), "{}", run.stderr);
    assert!(run.stderr.contains("app\\n"), "{}", run.stderr);
}

/// What a peer streams after a huge length header: enough that a client
/// reading it whole would pass the memory bound below.
const FLOOD: usize = 768 * 1024 * 1024;
/// The peak memory a run may reach while refusing a huge message.
const RSS_BOUND: u64 = 400 * 1024 * 1024;

/// A PostgreSQL message with its tag and length header.
fn pg_message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A PostgreSQL peer announcing a message of about 2 GB, then streaming
/// filler: at start-up (`in_row` false, as the authentication request) or,
/// after a normal start-up, as the first data row of the first statement.
fn postgres_announcing_2_gb(in_row: bool) -> hostile::Peer {
    hostile::Peer::start(
        true,
        std::sync::Arc::new(move |_, stream| {
            use std::io::{Read, Write};
            if in_row {
                let mut hello = pg_message(b'R', &0u32.to_be_bytes());
                hello.extend(pg_message(b'S', b"server_version\x0015.0\x00"));
                hello.extend(pg_message(b'K', &[0, 0, 0, 1, 0, 0, 0, 2]));
                hello.extend(pg_message(b'Z', b"I"));
                if stream.write_all(&hello).is_err() {
                    return;
                }
                let mut first = [0u8; 4096];
                if !matches!(stream.read(&mut first), Ok(n) if n > 0) {
                    return;
                }
            }
            let mut header = vec![if in_row { b'D' } else { b'R' }];
            header.extend_from_slice(&0x7fff_fff0u32.to_be_bytes());
            if stream.write_all(&header).is_ok() {
                hostile::stream_filler(stream, FLOOD);
            }
        }),
    )
}

#[test]
fn a_postgres_server_announcing_2_gb_is_refused_within_bounded_memory() {
    for in_row in [false, true] {
        let peer = postgres_announcing_2_gb(in_row);
        let url = format!(
            "postgres://auditor@127.0.0.1:{}/app?sslmode=disable",
            peer.port
        );
        let run = hostile::run_measured(
            &["audit", "--no-config", &url, "--format", "json"],
            std::time::Duration::from_secs(60),
        );
        assert_eq!(run.code, 3, "in_row={in_row}: {}", run.stderr);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let error = support::cli::only_target(&report)["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            error.contains("the server sent a message of 214748")
                && error.contains("over the 67108864-byte limit")
                && !error.contains("timed out")
                && !error.contains("timeout"),
            "in_row={in_row}: {error}\n{}",
            run.stdout
        );
        eprintln!("in_row={in_row}: peak RSS {} MiB", run.peak_rss >> 20);
        assert!(run.peak_rss > 0, "the child's memory was sampled");
        assert!(
            run.peak_rss < RSS_BOUND,
            "in_row={in_row}: peak RSS {} MiB",
            run.peak_rss >> 20
        );
    }
}

/// A MySQL peer whose handshake is a payload split into 16 MiB packets that
/// never ends (each packet announces the maximum length, so another follows).
fn mysql_with_an_endless_handshake() -> hostile::Peer {
    hostile::speaks_first(std::sync::Arc::new(|_, stream| {
        use std::io::Write;
        let mut sent = 0usize;
        let mut sequence = 0u8;
        let part = 0xff_ffffusize;
        while sent < FLOOD {
            let header = [0xff, 0xff, 0xff, sequence];
            // The payload starts like a v10 handshake, not like an error packet.
            let mut first = Vec::new();
            if sequence == 0 {
                first.push(10u8);
            }
            if stream.write_all(&header).is_err() || stream.write_all(&first).is_err() {
                return;
            }
            hostile::stream_filler(stream, part - first.len());
            sent += part;
            sequence = sequence.wrapping_add(1);
        }
    }))
}

#[test]
fn a_mysql_payload_reassembled_past_the_cap_is_refused_within_bounded_memory() {
    let peer = mysql_with_an_endless_handshake();
    let url = format!("mysql://auditor@127.0.0.1:{}/", peer.port);
    let run = hostile::run_measured(
        &["audit", "--no-config", &url, "--format", "json"],
        std::time::Duration::from_secs(60),
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let error = support::cli::only_target(&report)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Five 16 MiB packets: the fifth takes the payload past 64 MiB.
    assert!(
        error.contains(&format!(
            "the server sent a message of {} bytes, over the 67108864-byte limit",
            5 * 0xff_ffff
        )) && !error.contains("timed out"),
        "{error}"
    );
    eprintln!("peak RSS {} MiB", run.peak_rss >> 20);
    assert!(run.peak_rss > 0, "the child's memory was sampled");
    assert!(
        run.peak_rss < RSS_BOUND,
        "peak RSS {} MiB",
        run.peak_rss >> 20
    );
}

#[cfg(feature = "cloudsql")]
#[test]
fn cloudsql_throttling_waits_as_retry_after_says() {
    use cloudsql_server::{Reply, Server, fixture, scenario_routes};
    let path = "/v1/projects/acme-prod/instances/pg-good";
    let mut routes = scenario_routes();
    routes.add(
        path,
        vec![
            Reply::error(429, "RESOURCE_EXHAUSTED", "Quota exceeded")
                .with_header("Retry-After", "3"),
            Reply {
                status: 200,
                body: fixture("instances/pg-good.json"),
                headers: Vec::new(),
            },
        ],
    );
    let api = Server::start(routes, std::time::Duration::ZERO);
    let home = tempfile::tempdir().unwrap();
    let env = google_env(home.path(), &api.url, &api.url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let started = std::time::Instant::now();
    let run = sqlready_in(
        home.path(),
        &[
            "audit",
            "--no-config",
            "cloudsql://acme-prod/pg-good",
            "--format",
            "json",
        ],
        &env,
    );
    let elapsed = started.elapsed();
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = run.json();
    assert!(
        support::cli::only_target(&report)["error"].is_null(),
        "{report:#}"
    );
    let gets: Vec<String> = api
        .log()
        .into_iter()
        .filter(|line| line.starts_with(&format!("GET {path}?")))
        .collect();
    assert_eq!(
        gets.len(),
        2,
        "one throttled attempt, one that succeeds: {gets:?}"
    );
    // The client's own first backoff is at most 200 ms; the server asked for 3 s.
    assert!(
        elapsed >= std::time::Duration::from_millis(2900),
        "retried after {elapsed:?}"
    );
    assert!(
        elapsed < std::time::Duration::from_secs(8),
        "took {elapsed:?}"
    );
}

#[cfg(feature = "cloudsql")]
#[test]
fn a_100_mb_cloudsql_answer_is_refused_for_that_target_only() {
    use cloudsql_server::{Reply, Server, scenario_routes};
    // With a Content-Length, from the local Admin API server: a JSON instance
    // whose one field holds 100 MB.
    let mut routes = scenario_routes();
    let filler = "x".repeat(100 * 1024 * 1024);
    routes.add(
        "/v1/projects/acme-prod/instances/pg-good",
        vec![Reply {
            status: 200,
            body: format!(r#"{{"name":"pg-good","project":"acme-prod","gceZone":"{filler}"}}"#),
            headers: Vec::new(),
        }],
    );
    drop(filler);
    let api = Server::start(routes, std::time::Duration::ZERO);
    // Without one (chunked, streamed until the client hangs up).
    let chunked = hundred_megabytes(true);
    for (url, announced) in [(api.url.clone(), true), (chunked.url.clone(), false)] {
        let home = tempfile::tempdir().unwrap();
        let env = google_env(home.path(), &url, &api.url);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = sqlready_in(
            home.path(),
            &[
                "audit",
                "--no-config",
                "cloudsql://acme-prod/pg-good",
                "cloudsql://acme-prod/pg-bad",
                "--format",
                "json",
                "--statement-timeout",
                "30",
            ],
            &env,
        );
        assert_eq!(run.code, 3, "{}", run.stderr);
        let report = run.json();
        let targets = report["targets"].as_array().unwrap();
        let good = targets
            .iter()
            .find(|t| t["id"] == "cloudsql://acme-prod/pg-good")
            .unwrap();
        let error = good["error"].as_str().unwrap_or_default();
        let expected = if announced {
            "announced as 1048576"
        } else {
            "sent without a Content-Length; cut off"
        };
        assert!(
            error.contains("over the 33554432-byte limit sqlready reads")
                && error.contains(expected)
                && !error.contains("timed out"),
            "announced={announced}: {error}"
        );
        if announced {
            // The other instance of the same API is audited as usual.
            let bad = targets
                .iter()
                .find(|t| t["id"] == "cloudsql://acme-prod/pg-bad")
                .unwrap();
            assert!(bad["error"].is_null(), "{bad:#}");
        }
    }
}
