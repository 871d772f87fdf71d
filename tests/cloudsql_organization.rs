//! `sqlready audit gcp-org://…` end to end: the real binary against the local
//! Google API server (support/cloudsql_server.rs) answering Cloud Asset
//! Inventory `searchAllResources` (SQLREADY_GOOGLE_APIS_ENDPOINT) and the
//! Cloud SQL Admin API (SQLREADY_CLOUDSQL_ENDPOINT) in their published shapes.
//! An organization of four projects: three with instances, found over several
//! search pages, and one whose Admin API is disabled.
#![cfg(feature = "cloudsql")]

#[path = "support/cli.rs"]
mod cli;
#[path = "support/cloudsql_server.rs"]
mod cloudsql_server;

use cli::Run;
use cloudsql_server::{
    Reply, Routes, Server, TOKEN, asset_result, asset_search_routes, bench_routes,
};
use serde_json::{Value, json};
use std::time::Duration;

const ORG: &str = "organizations/123456789";
const FOLDER: &str = "folders/777";
/// (project, number, instances) of the organization.
const PROJECTS: [(&str, u64, usize); 3] = [
    ("acme-orders", 101, 3),
    ("acme-pay", 102, 2),
    ("acme-web", 103, 4),
];
const DISABLED: (&str, u64) = ("acme-legacy", 104);

fn org_routes() -> Routes {
    let mut routes = Routes::default();
    let mut results = Vec::new();
    for (project, number, count) in PROJECTS {
        routes.0.extend(bench_routes(project, count, 500).0);
        for i in 0..count {
            let folder = (project == "acme-web").then_some("777");
            results.push(asset_result(project, number, &format!("db-{i:05}"), folder));
        }
    }
    // The disabled project's instance is in the inventory; its Admin API refuses.
    let (project, number) = DISABLED;
    results.insert(4, asset_result(project, number, "old-mysql", None));
    let body = json!({"error": {
        "code": 403,
        "message": format!("Cloud SQL Admin API has not been used in project {number} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/sqladmin.googleapis.com/overview?project={number} then retry."),
        "status": "PERMISSION_DENIED",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED",
            "domain": "googleapis.com",
            "metadata": {"service": "sqladmin.googleapis.com", "consumer": format!("projects/{number}")}}]}});
    routes.add(
        format!("/v1/projects/{project}/instances"),
        vec![Reply {
            status: 403,
            body: body.to_string(),
            headers: Vec::new(),
        }],
    );
    // 10 results, 4 a page: three pages.
    asset_search_routes(&mut routes, ORG, &results, 4);
    let in_folder: Vec<Value> = results
        .iter()
        .filter(|r| r["folders"].as_array().is_some_and(|f| !f.is_empty()))
        .cloned()
        .collect();
    asset_search_routes(&mut routes, FOLDER, &in_folder, 500);
    // Resource Manager v3 projects.search (for cloudsql://*): two pages, one
    // project being deleted (the query asks for ACTIVE; it is filtered anyway).
    let project = |id: &str, number: u64, state: &str| {
        json!({"name": format!("projects/{number}"), "parent": "organizations/123456789",
            "projectId": id, "state": state, "displayName": id,
            "createTime": "2024-03-01T09:00:00Z", "etag": "W/\"1\""})
    };
    routes.add(
        "/v3/projects:search",
        vec![Reply::json(&json!({"projects": [
            project("acme-orders", 101, "ACTIVE"), project("acme-pay", 102, "ACTIVE"),
            project("acme-gone", 105, "DELETE_REQUESTED")], "nextPageToken": "projects-2"}))],
    );
    routes.add(
        "/v3/projects:search?pageToken=projects-2",
        vec![Reply::json(&json!({"projects": [
            project("acme-web", 103, "ACTIVE"), project("acme-legacy", 104, "ACTIVE")]}))],
    );
    routes.add(
        "/v1/organizations/5:searchAllResources",
        vec![Reply::error(
            403,
            "PERMISSION_DENIED",
            "The caller does not have permission",
        )],
    );
    routes
}

fn audit(server: &Server, target: &str) -> Run {
    audit_in(server, &[target], None)
}

/// `sqlready audit TARGETS… --format json`, run in `dir` when given (its sqlready.toml).
fn audit_in(server: &Server, targets: &[&str], dir: Option<&std::path::Path>) -> Run {
    let home = tempfile::tempdir().expect("temp home");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sqlready"));
    command
        .arg("audit")
        .args(targets)
        .args(["--format", "json"]);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    for var in [
        "GOOGLE_APPLICATION_CREDENTIALS",
        "RUST_LOG",
        "NO_COLOR",
        "CLOUDSDK_CONFIG",
    ] {
        command.env_remove(var);
    }
    command.envs([
        ("HOME", home.path().display().to_string()),
        ("GCE_METADATA_HOST", "127.0.0.1:9".to_string()),
        ("NO_PROXY", "*".to_string()),
        ("HTTPS_PROXY", String::new()),
        ("HTTP_PROXY", String::new()),
        ("SQLREADY_CLOUDSQL_ENDPOINT", server.url.clone()),
        ("SQLREADY_GOOGLE_APIS_ENDPOINT", server.url.clone()),
        ("SQLREADY_GOOGLE_OAUTH_ENDPOINT", server.url.clone()),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN.to_string()),
    ]);
    let output = command.output().expect("run sqlready");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "the token leaked"
    );
    run
}

/// The report's targets by id: `(error or "", number of findings)`.
fn targets(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap_or_default().to_string(),
                t["error"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn an_organization_is_discovered_with_one_search_and_audited_per_project() {
    let server = Server::start(org_routes(), Duration::ZERO);
    let run = audit(&server, "gcp-org://123456789");
    let report = run.json();
    let found = targets(&report);
    let mut expected: Vec<String> = PROJECTS
        .iter()
        .flat_map(|(p, _, n)| (0..*n).map(move |i| format!("cloudsql://{p}/db-{i:05}")))
        .collect();
    expected.push("cloudsql://acme-legacy".into());
    expected.sort();
    assert_eq!(
        found.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        expected,
        "stderr:\n{}",
        run.stderr
    );
    // Every instance judged; the disabled project is the one not-audited entry.
    for (id, error) in &found {
        if id == "cloudsql://acme-legacy" {
            assert!(
                error.contains(
                    "gcloud services enable sqladmin.googleapis.com --project acme-legacy"
                ) && error.contains("found 1 Cloud SQL instance")
                    && error.contains("[SERVICE_DISABLED]"),
                "{error}"
            );
        } else {
            assert_eq!(error, "", "{id}");
        }
    }
    assert_eq!(
        run.code, 3,
        "a project not audited makes the exit 3\n{}",
        run.stderr
    );
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| {
            l.contains("gcloud services enable sqladmin.googleapis.com --project acme-legacy")
        })
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning for the disabled project:\n{}",
        run.stderr
    );
    assert!(warnings[0].contains("WARN"), "{}", warnings[0]);

    // Calls: the three search pages once, one instances.list per project, no
    // per-instance read for discovery (no instances.get).
    let searches = server.requests_to(":searchAllResources");
    assert_eq!(searches.len(), 3, "{searches:#?}");
    assert!(
        searches
            .iter()
            .all(|s| s.contains("assetTypes=sqladmin.googleapis.com%2FInstance")),
        "{searches:#?}"
    );
    assert!(
        searches[1].contains("pageToken=asset-page-1")
            && searches[2].contains("pageToken=asset-page-2")
    );
    for (project, _, _) in PROJECTS.iter().chain(&[(DISABLED.0, 0, 0)]) {
        let path = format!("GET /v1/projects/{project}/instances?");
        let lists = server
            .log()
            .into_iter()
            .filter(|l| l.starts_with(&path))
            .count();
        assert_eq!(lists, 1, "{project}: {:#?}", server.log());
    }
    let gets: Vec<String> = server
        .log()
        .into_iter()
        .filter(|l| {
            let path = l.split('?').next().unwrap_or_default();
            path.contains("/instances/")
                && path
                    .rsplit('/')
                    .next()
                    .is_some_and(|last| last.starts_with("db-") || last == "old-mysql")
        })
        .collect();
    assert!(gets.is_empty(), "instances.get calls: {gets:#?}");
}

#[test]
fn a_folder_scope_searches_only_the_folder() {
    let server = Server::start(org_routes(), Duration::ZERO);
    let run = audit(&server, "gcp-org://folders/777");
    let found = targets(&run.json());
    let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "cloudsql://acme-web/db-00000",
            "cloudsql://acme-web/db-00001",
            "cloudsql://acme-web/db-00002",
            "cloudsql://acme-web/db-00003"
        ],
        "{}",
        run.stderr
    );
    // Judged (half of the bench instances fail checks), none left unaudited.
    assert!(found.iter().all(|(_, error)| error.is_empty()), "{found:?}");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        server
            .requests_to("/v1/folders/777:searchAllResources")
            .len(),
        1
    );
    assert!(server.requests_to("/v1/organizations/").is_empty());
    assert!(server.requests_to("/v1/projects/acme-orders/").is_empty());
}

#[test]
fn a_refused_search_names_the_permission_and_reads_nothing_else() {
    let server = Server::start(org_routes(), Duration::ZERO);
    let run = audit(&server, "gcp-org://5");
    let found = targets(&run.json());
    assert_eq!(found.len(), 1, "{found:?}");
    let (id, error) = &found[0];
    assert_eq!(id, "gcp-org://5");
    assert!(
        error.contains("cloudasset.assets.searchAllResources")
            && error.contains("roles/cloudasset.viewer")
            && error.contains("organizations/5")
            && error.contains("PERMISSION_DENIED"),
        "{error}"
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("cloudasset.assets.searchAllResources"),
        "{}",
        run.stderr
    );
    assert!(
        server.requests_to("/v1/projects/").is_empty(),
        "{:#?}",
        server.log()
    );
}

#[test]
fn a_malformed_scope_is_refused_with_the_forms() {
    let server = Server::start(Routes::default(), Duration::ZERO);
    for bad in [
        "gcp-org://",
        "gcp-org://acme.com",
        "gcp-org://projects/acme",
    ] {
        let run = audit(&server, bad);
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(
            run.stderr.contains("gcp-org://ORG_ID"),
            "{bad}: {}",
            run.stderr
        );
    }
    assert_eq!(server.request_count(), 0);
}

#[test]
fn every_visible_project_is_found_with_resource_manager_search() {
    let server = Server::start(org_routes(), Duration::ZERO);
    let run = audit(&server, "cloudsql://*");
    let found = targets(&run.json());
    let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), 10, "{ids:?}\n{}", run.stderr);
    assert!(ids.contains(&"cloudsql://acme-web/db-00003"), "{ids:?}");
    let (_, error) = found
        .iter()
        .find(|(id, _)| id == "cloudsql://acme-legacy")
        .expect("the disabled project is reported");
    assert!(
        error.contains("gcloud services enable sqladmin.googleapis.com --project acme-legacy")
            && error.contains("unknown"),
        "{error}"
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let searches = server.requests_to("/v3/projects:search");
    assert_eq!(searches.len(), 2, "{searches:#?}");
    assert!(
        searches.iter().all(|s| s.contains("query=state%3AACTIVE")),
        "{searches:#?}"
    );
    assert!(server.requests_to(":searchAllResources").is_empty());
    assert!(server.requests_to("/v1/projects/acme-gone/").is_empty());
    for project in ["acme-orders", "acme-pay", "acme-web", "acme-legacy"] {
        let path = format!("GET /v1/projects/{project}/instances?");
        let lists = server
            .log()
            .into_iter()
            .filter(|l| l.starts_with(&path))
            .count();
        assert_eq!(lists, 1, "{project}");
    }
}

#[test]
fn an_organization_is_a_target_of_sqlready_toml() {
    let server = Server::start(org_routes(), Duration::ZERO);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("sqlready.toml"),
        "[[targets]]\ncloud = \"gcp-org://folders/777\"\n",
    )
    .expect("write sqlready.toml");
    let run = audit_in(&server, &[], Some(dir.path()));
    let found = targets(&run.json());
    assert_eq!(found.len(), 4, "{found:?}\n{}", run.stderr);
    assert!(
        found
            .iter()
            .all(|(id, _)| id.starts_with("cloudsql://acme-web/")),
        "{found:?}"
    );
    assert_eq!(server.requests_to(":searchAllResources").len(), 1);
}

#[test]
fn shards_of_an_organization_are_disjoint_and_cover_it() {
    let server = Server::start(org_routes(), Duration::ZERO);
    let whole: Vec<String> = targets(&audit(&server, "gcp-org://123456789").json())
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let searches_before = server.requests_to(":searchAllResources").len();
    let mut union = Vec::new();
    for shard in ["0/3", "1/3", "2/3"] {
        let run = audit_in(&server, &["gcp-org://123456789", "--shard", shard], None);
        let ids: Vec<String> = targets(&run.json()).into_iter().map(|(id, _)| id).collect();
        assert!(ids.len() < whole.len(), "{shard}: {ids:?}");
        union.extend(ids);
    }
    union.sort();
    assert_eq!(
        union, whole,
        "the shards are disjoint and their union is the fleet"
    );
    // Every shard runs the same search (3 pages each).
    assert_eq!(
        server.requests_to(":searchAllResources").len(),
        searches_before + 3 * 3
    );
}

#[test]
fn an_organization_cannot_be_paired_with_one_database() {
    let server = Server::start(Routes::default(), Duration::ZERO);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("sqlready.toml"),
        "[[targets]]\ncloud = \"gcp-org://folders/777\"\ndatabase = \"postgres://audit@10.0.0.3/app\"\n",
    )
    .expect("write sqlready.toml");
    let run = audit_in(&server, &[], Some(dir.path()));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("gcp-org://folders/777 lists every instance"),
        "{}",
        run.stderr
    );
    assert_eq!(server.request_count(), 0);
}
