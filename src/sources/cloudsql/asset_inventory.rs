//! `gcp-org://ORG_ID` and `gcp-org://folders/ID`: every Cloud SQL instance of
//! an organization or folder (docs/organization.md).
//!
//! Discovery is one Cloud Asset Inventory search per run —
//! `GET https://cloudasset.googleapis.com/v1/{scope}:searchAllResources?assetTypes=sqladmin.googleapis.com/Instance`,
//! every page (`pageToken` / `nextPageToken`) — instead of listing project by
//! project. Only the projects the search found instances in are then read
//! with the Admin API, as `cloudsql://PROJECT` reads them (one paginated
//! `instances.list`, the per-project reads, the per-instance extras): the
//! details the checks need. Target ids stay `cloudsql://PROJECT/INSTANCE`, so
//! baselines and waivers written for project runs keep matching.
//!
//! A project whose Admin API is disabled (403 SERVICE_DISABLED) is one warning
//! with the `gcloud services enable` command and one not-audited entry
//! `cloudsql://PROJECT`; a refused search is one not-audited entry under the
//! `gcp-org://` id naming `cloudasset.assets.searchAllResources`.
//!
//! `cloudsql://*` (every project the credentials can see) has no organization
//! to search: the projects come from Resource Manager v3 `projects.search`
//! (`GET https://cloudresourcemanager.googleapis.com/v3/projects:search?query=state:ACTIVE`,
//! every page), the documented way to list the projects a caller has
//! `resourcemanager.projects.get` on; each is then listed with the Admin API.

use super::{API, Api, CollectOptions, DEFAULT_ENDPOINT, collect_project, google_rest};
use crate::facts::snapshot::{Collected, TargetFailure};
use crate::target::{CloudSqlSpec, Kind};
use futures::stream::{self, StreamExt};
use google_rest::RestError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The Cloud Asset Inventory type of a Cloud SQL instance.
pub const ASSET_TYPE: &str = "sqladmin.googleapis.com/Instance";
/// The permission the search needs, and the predefined role that grants it.
pub const PERMISSION: &str = "cloudasset.assets.searchAllResources";
pub const ROLE: &str = "roles/cloudasset.viewer";
/// Results per search page (the API's maximum).
const PAGE_SIZE: u32 = 500;
/// Projects read with the Admin API at once.
const PROJECT_CONCURRENCY: usize = 4;
/// Guards against a server that keeps handing out page tokens.
const MAX_PAGES: usize = 10_000;

/// One `ResourceSearchResult` (only the fields sqlready reads).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchResult {
    /// `//cloudsql.googleapis.com/projects/PROJECT_ID/instances/INSTANCE`.
    pub name: String,
    pub asset_type: String,
    /// `projects/PROJECT_NUMBER`.
    pub project: String,
    pub location: String,
}

/// One `SearchAllResourcesResponse` page.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SearchPage {
    results: Vec<SearchResult>,
    next_page_token: String,
}

/// `(PROJECT_ID, INSTANCE)` of a Cloud SQL asset name, whatever its service host.
pub fn project_and_instance(name: &str) -> Option<(String, String)> {
    let path = name.strip_prefix("//")?.split_once('/')?.1;
    let mut parts = path.split('/');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("projects"), Some(project), Some("instances"), Some(instance), None)
            if !project.is_empty() && !instance.is_empty() =>
        {
            Some((project.to_string(), instance.to_string()))
        }
        _ => None,
    }
}

/// The instances each project holds, as the search found them (project ID → instance names).
pub type Found = BTreeMap<String, Vec<String>>;

/// Groups search results by project; results that are not Cloud SQL instance
/// names are logged and left out.
pub fn group(results: Vec<SearchResult>) -> Found {
    let mut found = Found::new();
    for result in results {
        if !result.asset_type.is_empty() && result.asset_type != ASSET_TYPE {
            continue;
        }
        match project_and_instance(&result.name) {
            Some((project, instance)) => found.entry(project).or_default().push(instance),
            None => tracing::warn!(
                "Cloud Asset Inventory returned '{}', which is not a Cloud SQL instance name: left out",
                result.name
            ),
        }
    }
    for instances in found.values_mut() {
        instances.sort();
        instances.dedup();
    }
    found
}

/// Why the search failed, as the not-audited entry says it.
fn search_error(scope: &str, err: &RestError) -> String {
    match err {
        RestError::Denied { what, detail } => format!(
            "{what} was denied ({detail}): grant {ROLE} (permission {PERMISSION}) on {scope} to the account sqlready runs as, and enable the Cloud Asset API in the project its quota is billed to (`gcloud services enable cloudasset.googleapis.com`)"
        ),
        RestError::Failed { .. } => format!(
            "{err}; the Cloud SQL instances of {scope} were not discovered, so none was audited"
        ),
    }
}

/// Every page of the search over `scope`.
async fn search(api: &Api, base: &str, scope: &str) -> Result<(Found, usize), RestError> {
    let what = format!("searching {scope} for Cloud SQL instances ({PERMISSION})");
    let endpoint = format!("{base}/v1/{scope}:searchAllResources");
    let mut results = Vec::new();
    let mut token = String::new();
    for page_number in 1..=MAX_PAGES {
        let mut params = vec![
            ("assetTypes", ASSET_TYPE.to_string()),
            ("pageSize", PAGE_SIZE.to_string()),
        ];
        if !token.is_empty() {
            params.push(("pageToken", token.clone()));
        }
        let url = reqwest::Url::parse_with_params(&endpoint, &params).map_err(|err| {
            RestError::Failed {
                what: what.clone(),
                detail: format!("'{endpoint}' is not a URL ({err})"),
            }
        })?;
        let page: SearchPage =
            google_rest::get_json(&api.credentials, url.as_str(), &what, api.limit).await?;
        results.extend(page.results);
        if page.next_page_token.is_empty() {
            return Ok((group(results), page_number));
        }
        if page.next_page_token == token {
            break;
        }
        token = page.next_page_token;
    }
    Err(RestError::Failed {
        what,
        detail: "the search did not end: nextPageToken repeats".into(),
    })
}

/// One Resource Manager v3 `Project` (only the fields sqlready reads).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Project {
    project_id: String,
    state: String,
}

/// One `SearchProjectsResponse` page.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ProjectsPage {
    projects: Vec<Project>,
    next_page_token: String,
}

/// `cloudsql://*`: the ACTIVE projects the credentials can see, every page of `projects.search`.
async fn visible_projects(api: &Api, base: &str) -> Result<(Vec<String>, usize), RestError> {
    let what = "listing the projects the credentials can see (Resource Manager projects.search)";
    let endpoint = format!("{base}/v3/projects:search");
    let mut projects = Vec::new();
    let mut token = String::new();
    for page_number in 1..=MAX_PAGES {
        let mut params = vec![("query", "state:ACTIVE".to_string())];
        if !token.is_empty() {
            params.push(("pageToken", token.clone()));
        }
        let url = reqwest::Url::parse_with_params(&endpoint, &params).map_err(|err| {
            RestError::Failed {
                what: what.to_string(),
                detail: format!("'{endpoint}' is not a URL ({err})"),
            }
        })?;
        let page: ProjectsPage =
            google_rest::get_json(&api.credentials, url.as_str(), what, api.limit).await?;
        projects.extend(
            page.projects
                .into_iter()
                .filter(|p| p.state.is_empty() || p.state == "ACTIVE")
                .map(|p| p.project_id)
                .filter(|id| !id.is_empty()),
        );
        if page.next_page_token.is_empty() {
            projects.sort();
            projects.dedup();
            return Ok((projects, page_number));
        }
        if page.next_page_token == token {
            break;
        }
        token = page.next_page_token;
    }
    Err(RestError::Failed {
        what: what.to_string(),
        detail: "the list did not end: nextPageToken repeats".into(),
    })
}

/// Whether an Admin API failure says the API is disabled in the project:
/// the `SERVICE_DISABLED` reason of Google's ErrorInfo (which errors.rs keeps
/// in the message), or the message Google sends with it.
pub fn admin_api_disabled(error: &str) -> bool {
    error.contains("[SERVICE_DISABLED]")
        || (error.contains("has not been used in project") && error.contains("it is disabled"))
}

/// The not-audited message of a project whose Admin API is disabled
/// (`instances`: how many the search found there, `None` under `cloudsql://*`).
pub fn disabled_message(project: &str, instances: Option<usize>, error: &str) -> String {
    let found = match instances {
        Some(n) => format!("and Cloud Asset Inventory found {n} Cloud SQL instance(s) in it"),
        None => "so whether it holds Cloud SQL instances is unknown".to_string(),
    };
    format!(
        "project {project} was not audited: the Cloud SQL Admin API (sqladmin.googleapis.com) is disabled there, {found}; enable it with `gcloud services enable sqladmin.googleapis.com --project {project}` ({error})"
    )
}

/// `gcp-org://…`: the search, then the Admin API per project it found.
pub async fn collect(spec: &CloudSqlSpec, scope: &str, options: &CollectOptions) -> Vec<Collected> {
    let failed = |error: String| {
        vec![Err(TargetFailure {
            id: spec.id().to_string(),
            kind: Kind::Cloudsql,
            error,
        })]
    };
    let api = match API.get_or_init(|| Api::connect(options)).await {
        Ok(api) => api,
        Err(err) => return failed(err.to_string()),
    };
    let every_visible = scope == "*";
    let host = if every_visible {
        "cloudresourcemanager"
    } else {
        "cloudasset"
    };
    let base = match google_rest::base_url(host, api.endpoint == DEFAULT_ENDPOINT) {
        Ok(base) => base,
        Err(reason) => {
            return failed(format!(
                "discovering the projects of {} was {reason}; set {} to the server that answers {host}.googleapis.com",
                spec.id(),
                google_rest::ENDPOINT_VAR
            ));
        }
    };
    let found: BTreeMap<String, Option<usize>> = if every_visible {
        match visible_projects(api, &base).await {
            Ok((projects, pages)) => {
                tracing::info!(
                    "Resource Manager: {} visible ACTIVE project(s), {pages} page(s)",
                    projects.len()
                );
                if projects.is_empty() {
                    tracing::warn!(
                        "cloudsql://* found no project: the credentials have resourcemanager.projects.get on none"
                    );
                }
                projects.into_iter().map(|p| (p, None)).collect()
            }
            Err(err) => {
                let message = match &err {
                    RestError::Denied { .. } => format!(
                        "{err}: grant roles/browser (resourcemanager.projects.get) on the projects, or audit an organization with gcp-org://ORG_ID"
                    ),
                    RestError::Failed { .. } => err.to_string(),
                };
                tracing::warn!("cloudsql://* was not audited: {message}");
                return failed(message);
            }
        }
    } else {
        match search(api, &base, scope).await {
            Ok((found, pages)) => {
                let instances: usize = found.values().map(Vec::len).sum();
                tracing::info!(
                    scope,
                    "Cloud Asset Inventory: {instances} Cloud SQL instance(s) in {} project(s), {pages} page(s)",
                    found.len()
                );
                if found.is_empty() {
                    tracing::warn!(
                        "{scope} has no Cloud SQL instances that Cloud Asset Inventory can see"
                    );
                }
                found
                    .into_iter()
                    .map(|(project, names)| (project, Some(names.len())))
                    .collect()
            }
            Err(err) => {
                let message = search_error(scope, &err);
                tracing::warn!("{} was not audited: {message}", spec.id());
                return failed(message);
            }
        }
    };
    stream::iter(found)
        .map(|(project, instances)| async move {
            let mut collected = collect_project(&CloudSqlSpec::new(&project, None), options).await;
            let project_id = format!("cloudsql://{project}");
            for outcome in &mut collected {
                if let Err(failure) = outcome
                    && failure.id == project_id
                    && admin_api_disabled(&failure.error)
                {
                    failure.error = disabled_message(&project, instances, &failure.error);
                    tracing::warn!("{}", failure.error);
                }
            }
            collected
        })
        .buffered(PROJECT_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names_give_project_and_instance() {
        assert_eq!(
            project_and_instance("//cloudsql.googleapis.com/projects/acme-prod/instances/orders"),
            Some(("acme-prod".into(), "orders".into()))
        );
        assert_eq!(
            project_and_instance("//sqladmin.googleapis.com/projects/p-1/instances/db"),
            Some(("p-1".into(), "db".into()))
        );
        for bad in [
            "cloudsql.googleapis.com/projects/p/instances/i",
            "//cloudsql.googleapis.com/projects/p",
            "//cloudsql.googleapis.com/projects/p/instances/i/databases/d",
            "//cloudsql.googleapis.com/projects//instances/i",
        ] {
            assert_eq!(project_and_instance(bad), None, "{bad}");
        }
    }

    #[test]
    fn results_are_grouped_by_project() {
        let result = |name: &str| SearchResult {
            name: name.into(),
            asset_type: ASSET_TYPE.into(),
            ..SearchResult::default()
        };
        let found = group(vec![
            result("//cloudsql.googleapis.com/projects/b/instances/z"),
            result("//cloudsql.googleapis.com/projects/a/instances/x"),
            result("//cloudsql.googleapis.com/projects/b/instances/y"),
            result("//cloudsql.googleapis.com/projects/b/instances/y"),
            result("not a name"),
        ]);
        assert_eq!(found.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(found["b"], ["y", "z"]);
    }

    #[test]
    fn a_disabled_admin_api_is_recognised_and_named_with_its_fix() {
        let google = "listing the Cloud SQL instances of project p was denied (403 PERMISSION_DENIED: HTTP 403: Cloud SQL Admin API has not been used in project 123 before or it is disabled.)";
        assert!(admin_api_disabled(google));
        assert!(admin_api_disabled(
            "listing was denied (403 PERMISSION_DENIED: HTTP 403: API disabled. [SERVICE_DISABLED])"
        ));
        assert!(!admin_api_disabled(
            "listing was denied (403 PERMISSION_DENIED: HTTP 403: The caller does not have permission)"
        ));
        let message = disabled_message("p", Some(2), google);
        assert!(message.contains("gcloud services enable sqladmin.googleapis.com --project p"));
    }

    #[test]
    fn a_refused_search_names_the_permission_and_role() {
        let err = RestError::Denied {
            what: "searching organizations/1 for Cloud SQL instances".into(),
            detail: "HTTP 403 PERMISSION_DENIED: denied".into(),
        };
        let message = search_error("organizations/1", &err);
        assert!(
            message.contains(PERMISSION) && message.contains(ROLE),
            "{message}"
        );
    }
}
