//! The HTML report (`--format html`, issue 14), checked as a person would:
//! the binary renders it from a facts file, headless Chromium (Debian's
//! `chromium` and `chromium-driver`, driven over WebDriver) opens it, and
//! the assertions read the live DOM — which rows filtering leaves visible,
//! the totals the script computed, and that nothing a target said ran as
//! script. What the rows should be comes from the JSON report of the same
//! facts, never from the HTML text. Screenshots land in
//! `target/tmp/html-report/` (docs/ keeps copies of the first two).

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value as Json, json};
use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// One browser at a time: the machine is small and Chromium is not.
static BROWSER: Mutex<()> = Mutex::const_new(());

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn example(name: &str) -> Json {
    let text = std::fs::read_to_string(repo(&format!("examples/{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn snapshot(targets: Vec<Json>, failures: Vec<Json>) -> Json {
    json!({"schema_version": 1, "tool_version": "0.1.0", "targets": targets, "failures": failures})
}

/// Renders `facts` with the binary as HTML and as JSON; returns the HTML
/// file and the JSON report.
fn render(dir: &Path, name: &str, facts: &Json) -> (PathBuf, Json) {
    let facts_path = dir.join(format!("{name}-facts.json"));
    std::fs::write(&facts_path, serde_json::to_vec(facts).unwrap()).unwrap();
    let html = dir.join(format!("{name}.html"));
    let json_path = dir.join(format!("{name}.json"));
    for (format, out) in [("html", &html), ("json", &json_path)] {
        let output = Command::new(env!("CARGO_BIN_EXE_sqlready"))
            .args([
                "audit",
                "--no-config",
                "--fail-on",
                "never",
                "--format",
                format,
            ])
            .arg("--facts")
            .arg(&facts_path)
            .arg("-o")
            .arg(out)
            .output()
            .unwrap();
        // 3: some target of the facts file could not be audited (a failure entry).
        assert!(
            matches!(output.status.code(), Some(0 | 3)),
            "sqlready audit --format {format} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    (html, report)
}

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver() -> Driver {
    for binary in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(binary).exists(),
            "{binary} is missing: the HTML report is checked in headless Chromium; install Debian's \
             chromium and chromium-driver packages (`apt-get install chromium chromium-driver`, \
             which ./scripts/test.sh does)"
        );
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    driver
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_string(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,900", "--hide-scrollbars"],
        }),
    );
    ClientBuilder::native()
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session through chromedriver: {e}"))
}

fn file_url(path: &Path) -> String {
    url::Url::from_file_path(path).unwrap().to_string()
}

fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

/// The target ids of the fleet rows the browser shows, in order.
async fn visible_rows(client: &Client) -> Vec<String> {
    let rows = client
        .execute(
            "return Array.from(document.querySelectorAll('#matrix tbody tr'))\
               .filter(r => r.getClientRects().length > 0)\
               .map(r => r.cells[0].querySelector('a').textContent);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(rows).unwrap()
}

/// How many target sections (the target views) the browser shows.
async fn visible_sections(client: &Client) -> usize {
    let n = client
        .execute(
            "return Array.from(document.querySelectorAll('section.target'))\
               .filter(s => s.getClientRects().length > 0).length;",
            vec![],
        )
        .await
        .unwrap();
    n.as_u64().unwrap() as usize
}

/// Picks the option whose value is `value`, as a person clicks it (compared
/// as a DOM property: the value may hold quotes no selector could carry).
async fn select(client: &Client, id: &str, value: &str) {
    let field = client.find(Locator::Id(id)).await.unwrap();
    for option in field.find_all(Locator::Css("option")).await.unwrap() {
        if option.prop("value").await.unwrap().as_deref() == Some(value) {
            option.click().await.unwrap();
            return;
        }
    }
    panic!("#{id} has no option {value:?}");
}

async fn type_text(client: &Client, text: &str) {
    let field = client.find(Locator::Id("f-text")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn reset(client: &Client) {
    client
        .find(Locator::Id("f-reset"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The reset handler re-filters on the next tick: wait until every row shows.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let done = client
            .execute(
                "return document.body.getAttribute('data-shown') == \
                   String(document.querySelectorAll('#matrix tbody tr').length);",
                vec![],
            )
            .await
            .unwrap();
        if done == json!(true) {
            break;
        }
        assert!(Instant::now() < deadline, "the filters did not clear");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Nothing was fetched: every byte the page shows is in the file.
async fn assert_offline(client: &Client) {
    let resources = client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(resources, json!([]), "the page requested other resources");
}

fn ids_where(report: &Json, keep: impl Fn(&Json) -> bool) -> BTreeSet<String> {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| keep(t))
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

fn item_keys(report: &Json) -> Vec<String> {
    report["targets"][0]["items"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn set(rows: Vec<String>) -> BTreeSet<String> {
    rows.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_facts_render_and_filter_by_status_and_item() {
    let _one = BROWSER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let targets: Vec<Json> = ["postgres-bad", "postgres-good", "postgres-standby"]
        .iter()
        .flat_map(|name| example(name)["targets"].as_array().unwrap().clone())
        .collect();
    let (html, report) = render(dir.path(), "examples", &snapshot(targets, vec![]));
    let driver = start_driver();
    let client = browser(&driver).await;
    client.goto(&file_url(&html)).await.unwrap();
    assert_offline(&client).await;

    let all = ids_where(&report, |_| true);
    assert_eq!(set(visible_rows(&client).await), all);
    assert_eq!(visible_sections(&client).await, all.len());
    screenshot(&client, "examples").await;

    // Status: every target with some failing item.
    select(&client, "f-status", "f").await;
    let failing = ids_where(&report, |t| {
        t["items"]
            .as_object()
            .unwrap()
            .values()
            .any(|s| s == "fail")
    });
    assert!(
        !failing.is_empty() && failing.len() < all.len(),
        "the examples differ"
    );
    assert_eq!(set(visible_rows(&client).await), failing);
    assert_eq!(visible_sections(&client).await, failing.len());

    // Status of one item: the targets whose `pitr` fails, and the totals
    // row counts them.
    let keys = item_keys(&report);
    let pitr = keys.iter().position(|k| k == "pitr").unwrap();
    select(&client, "f-item", &pitr.to_string()).await;
    let pitr_failing = ids_where(&report, |t| t["items"]["pitr"] == "fail");
    assert_eq!(set(visible_rows(&client).await), pitr_failing);
    let total = client
        .execute(
            "const row = document.querySelector('#matrix tfoot tr[data-code=\"f\"]');\
             const cells = Array.from(row.querySelectorAll('td')).filter(c => c.getClientRects().length > 0);\
             return cells.map(c => c.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        total,
        json!([pitr_failing.len().to_string()]),
        "only the pitr column, counted"
    );

    // Passing `pitr` instead.
    select(&client, "f-status", "p").await;
    let pitr_passing = ids_where(&report, |t| t["items"]["pitr"] == "pass");
    assert_eq!(set(visible_rows(&client).await), pitr_passing);

    reset(&client).await;
    assert_eq!(set(visible_rows(&client).await), all);

    // Text: a part of one target's id.
    let standby = all.iter().find(|id| id.contains("standby")).cloned();
    if let Some(standby) = standby {
        type_text(&client, "standby").await;
        assert_eq!(set(visible_rows(&client).await), BTreeSet::from([standby]));
    } else {
        let first = all.iter().next().unwrap().clone();
        type_text(&client, &first).await;
        assert_eq!(set(visible_rows(&client).await), BTreeSet::from([first]));
    }
    client.close().await.unwrap();
}

/// 1,000 targets: the three examples over and over under their own ids and
/// tags, and every 50th one a target that could not be reached.
fn fleet() -> Json {
    let examples: Vec<Json> = ["postgres-bad", "postgres-good", "postgres-standby"]
        .iter()
        .map(|name| example(name)["targets"][0].clone())
        .collect();
    let teams = ["payments", "search", "ledger", "growth"];
    let mut targets = Vec::new();
    let mut failures = Vec::new();
    for n in 0..1000 {
        if n % 50 == 49 {
            failures.push(json!({
                "id": format!("rds://eu-west-1/db/orders-{n:04}"),
                "kind": "rds",
                "error": "cannot reach the RDS API: timed out after 10 s",
            }));
            continue;
        }
        let mut target = examples[n % 3].clone();
        target["id"] = json!(format!("postgres://db-{n:04}.fleet.internal:5432/app"));
        target["tags"] =
            json!({"team": teams[n % 4], "env": if n % 5 == 0 { "staging" } else { "prod" }});
        targets.push(target);
    }
    snapshot(targets, failures)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_of_1000_targets_renders_small_and_filters_by_tag_status_and_text() {
    let _one = BROWSER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let (html, report) = render(dir.path(), "fleet", &fleet());
    let bytes = std::fs::metadata(&html).unwrap().len();
    assert!(
        bytes < 5_000_000,
        "the HTML report of 1,000 targets is {bytes} bytes; at most 5 MB"
    );
    let driver = start_driver();
    let client = browser(&driver).await;
    client.goto(&file_url(&html)).await.unwrap();
    assert_offline(&client).await;
    assert_eq!(visible_rows(&client).await.len(), 1000);
    screenshot(&client, "fleet").await;

    // A team's databases.
    select(&client, "f-tag", "team=payments").await;
    let payments = ids_where(&report, |t| t["tags"]["team"] == "payments");
    assert!(!payments.is_empty());
    assert_eq!(set(visible_rows(&client).await), payments);
    assert_eq!(visible_sections(&client).await, payments.len());

    // …and those whose point-in-time recovery fails.
    let pitr = item_keys(&report).iter().position(|k| k == "pitr").unwrap();
    select(&client, "f-item", &pitr.to_string()).await;
    select(&client, "f-status", "f").await;
    let failing = ids_where(&report, |t| {
        t["tags"]["team"] == "payments" && t["items"]["pitr"] == "fail"
    });
    assert!(!failing.is_empty() && failing.len() < payments.len());
    assert_eq!(set(visible_rows(&client).await), failing);

    // The targets that could not be audited, by platform.
    reset(&client).await;
    select(&client, "f-kind", "rds").await;
    select(&client, "f-status", "e").await;
    let unreachable = ids_where(&report, |t| t["kind"] == "rds");
    assert_eq!(unreachable.len(), 20);
    assert_eq!(set(visible_rows(&client).await), unreachable);

    // Text finds one database among 1,000.
    reset(&client).await;
    type_text(&client, "db-0042.").await;
    assert_eq!(
        visible_rows(&client).await,
        vec!["postgres://db-0042.fleet.internal:5432/app".to_string()]
    );

    // Sorting by score puts the best first, then the worst.
    reset(&client).await;
    let header = client
        .find(Locator::Css("#matrix th[data-sort='score']"))
        .await
        .unwrap();
    header.click().await.unwrap();
    let best = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["score"].as_u64())
        .max()
        .unwrap();
    let first = visible_rows(&client).await[0].clone();
    let first_score = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == first.as_str())
        .unwrap()["score"]
        .as_u64();
    assert_eq!(first_score, Some(best));
    header.click().await.unwrap();
    let first = visible_rows(&client).await[0].clone();
    assert!(
        unreachable.contains(&first),
        "ascending, the targets without a score come first: {first}"
    );
    client.close().await.unwrap();
}

const HOSTILE_ID: &str = "postgres://evil\"'><script>window.__pwned='id'</script>:5432/a</script><img src=x onerror=\"window.__pwned='img'\">";
const HOSTILE_TAG: &str = "</script><script>window.__pwned='tag'</script>\"'<b>bold</b>";

#[tokio::test(flavor = "multi_thread")]
async fn names_and_tags_that_hold_script_stay_text() {
    let _one = BROWSER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let mut target = example("postgres-bad")["targets"][0].clone();
    target["id"] = json!(HOSTILE_ID);
    target["tags"] =
        json!({"team": HOSTILE_TAG, "<i onmouseover=alert(1)>k</i>": "v\"><svg onload=alert(2)>"});
    target["version"] = json!("15<script>alert('version')</script>");
    let mut plain = example("postgres-good")["targets"][0].clone();
    plain["tags"] = json!({"team": "plain"});
    let failure = json!({
        "id": "mysql://<script>window.__pwned='failure'</script>:3306/x",
        "kind": "mysql",
        "error": "access denied for '<script>alert(\"error\")</script>' </script>",
    });
    let (html, report) = render(
        dir.path(),
        "hostile",
        &snapshot(vec![target, plain], vec![failure]),
    );
    assert_eq!(
        report["targets"][0]["id"], HOSTILE_ID,
        "the id reached the report as given"
    );
    let driver = start_driver();
    let client = browser(&driver).await;
    client.goto(&file_url(&html)).await.unwrap();

    // No injected script ran, no alert is open, no injected element exists.
    assert!(
        client.get_alert_text().await.is_err(),
        "an alert is open: injected script ran"
    );
    let state = client
        .execute(
            "return {pwned: typeof window.__pwned, scripts: document.scripts.length,\
                     injected: document.querySelectorAll('img, b, i, svg, iframe').length};",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        state,
        json!({"pwned": "undefined", "scripts": 1, "injected": 0})
    );
    screenshot(&client, "hostile").await;

    // What the target said is shown as text, exactly.
    let rows = visible_rows(&client).await;
    assert!(rows.contains(&HOSTILE_ID.to_string()), "rows: {rows:?}");
    let heading = client
        .execute(
            "return Array.from(document.querySelectorAll('section.target h3')).map(h => h.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert!(heading.as_array().unwrap().contains(&json!(HOSTILE_ID)));
    let tags = client
        .execute(
            "return Array.from(document.querySelectorAll('#matrix tbody .tag')).map(t => t.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        tags.as_array()
            .unwrap()
            .contains(&json!(format!("team={HOSTILE_TAG}"))),
        "tags: {tags}"
    );

    // The filters take the hostile text as text.
    type_text(&client, "</script>").await;
    let shown = set(visible_rows(&client).await);
    let expected = ids_where(&report, |t| {
        // What the text filter reads: the id, the error, the tags.
        let tags: Vec<String> = t["tags"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        let text = format!("{} {} {}", t["id"], t["error"], tags.join(" ")).to_lowercase();
        text.contains("</script>")
    });
    assert_eq!(shown, expected);
    reset(&client).await;
    select(&client, "f-tag", &format!("team={HOSTILE_TAG}")).await;
    assert_eq!(visible_rows(&client).await, vec![HOSTILE_ID.to_string()]);

    let state = client
        .execute("return typeof window.__pwned;", vec![])
        .await
        .unwrap();
    assert_eq!(state, json!("undefined"));
    assert!(client.get_alert_text().await.is_err());
    client.close().await.unwrap();
}

/// Every evidence bundle holds the page, the manifest lists it and `evidence
/// verify` checks it; `--format html` beside `--evidence` shows the hash of
/// the bundle's manifest.
#[test]
fn an_evidence_bundle_holds_report_html_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    let page = dir.path().join("page.html");
    let run = Command::new(env!("CARGO_BIN_EXE_sqlready"))
        .args([
            "audit",
            "--no-config",
            "--fail-on",
            "never",
            "--format",
            "html",
        ])
        .arg("--facts")
        .arg(repo("examples/postgres-bad.json"))
        .arg("--evidence")
        .arg(&bundle)
        .arg("-o")
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let manifest = std::fs::read(bundle.join("MANIFEST.json")).unwrap();
    let listed: Json = serde_json::from_slice(&manifest).unwrap();
    assert!(
        listed["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "report.html"),
        "MANIFEST.json lists report.html"
    );
    let inside = std::fs::read_to_string(bundle.join("report.html")).unwrap();
    assert!(inside.contains("this page is report.html of a bundle"));
    let verify = Command::new(env!("CARGO_BIN_EXE_sqlready"))
        .args(["evidence", "verify"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let hash: String = sha2_hex(&manifest);
    assert!(
        std::fs::read_to_string(&page).unwrap().contains(&hash),
        "the page shows the manifest's SHA-256"
    );
}

fn sha2_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
