//! What is read once per project and run, not per instance (issue 12): the
//! Admin API's `operations.list` (restore drills, clones), Cloud Monitoring
//! `alertPolicies.list`, and the project's billing account and budgets. Each
//! project is read once however many targets name it (a process-wide cell per
//! project); a refused or failed API leaves its facts `unknown` with the
//! reason and the permission, and is said once per run on stderr.

use super::Api;
use super::budgets::{self, Billing, ListBudgetsResponse, Project, ProjectBillingInfo};
use super::facts::{Extra, SOURCE};
use super::google_rest::{self, RestError};
use super::monitoring::{AlertPolicy, ListAlertPoliciesResponse};
use super::{monitoring, operations};
use crate::facts::snapshot::TargetFacts;
use crate::facts::{FactSink, RawEvidence};
use chrono::{DateTime, Utc};
use google_cloud_gax::options::RequestOptionsBuilder as _;
use google_cloud_sql_v1::model::{DatabaseInstance, Operation};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Operations asked for per `operations.list` page.
pub const OPERATIONS_PAGE: u32 = 500;
/// Pages of operations read at most per project (newest first).
pub const OPERATIONS_MAX_PAGES: usize = 10;
/// Operations older than this are not read on for (no window is longer).
pub const OPERATIONS_MAX_DAYS: i64 = 400;
/// Alert policies / budgets asked for per page, and pages read at most.
const PAGE_SIZE: i32 = 1000;
const MAX_PAGES: usize = 50;

/// The permissions each read needs, for unknown facts and the warning.
pub const OPERATIONS_PERMISSION: &str =
    "grant cloudsql.instances.get (roles/cloudsql.viewer) on the project: operations.list";
pub const MONITORING_PERMISSION: &str =
    "grant monitoring.alertPolicies.list (roles/monitoring.viewer) on the project";
pub const BILLING_INFO_PERMISSION: &str =
    "grant resourcemanager.projects.get (roles/browser) on the project: projects.getBillingInfo";
pub const BUDGETS_PERMISSION: &str =
    "grant billing.budgets.list (roles/billing.viewer) on the project's billing account";

/// Everything read once for a project.
#[derive(Debug)]
pub struct ProjectReadings {
    /// `operations.list`, newest first, and whether older ones were left unread.
    pub operations: Extra<(Vec<Operation>, bool)>,
    pub policies: Extra<Vec<AlertPolicy>>,
    pub billing: Extra<Billing>,
    /// The requests made, for the evidence.
    pub requests: BTreeMap<&'static str, String>,
}

type Cell = Arc<tokio::sync::OnceCell<Arc<ProjectReadings>>>;
static PROJECTS: Mutex<Option<HashMap<String, Cell>>> = Mutex::new(None);
static WARNED: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// Says on stderr, once per run and API, that it failed.
fn warn_once(api: &'static str, message: &str) {
    let mut warned = WARNED.lock().unwrap_or_else(|p| p.into_inner());
    if warned.get_or_insert_with(HashSet::new).insert(api) {
        tracing::warn!("{message}");
    }
}

impl Api {
    /// The project's readings, read on the first call for it and shared after.
    pub(super) async fn project(&self, project: &str) -> Arc<ProjectReadings> {
        let cell = {
            let mut projects = PROJECTS.lock().unwrap_or_else(|p| p.into_inner());
            projects
                .get_or_insert_with(HashMap::new)
                .entry(project.to_string())
                .or_default()
                .clone()
        };
        cell.get_or_init(|| async { Arc::new(self.read_project(project).await) })
            .await
            .clone()
    }

    async fn read_project(&self, project: &str) -> ProjectReadings {
        let mut requests = BTreeMap::new();
        requests.insert(
            "operations.list",
            format!("GET {}/v1/projects/{project}/operations", self.endpoint),
        );
        let google = self.endpoint == super::DEFAULT_ENDPOINT;
        let base = |host: &str| google_rest::base_url(host, google);
        if let Ok(base) = base("monitoring") {
            requests.insert(
                "alertPolicies.list",
                format!("GET {base}/v3/projects/{project}/alertPolicies"),
            );
        }
        if let Ok(base) = base("cloudbilling") {
            requests.insert(
                "projects.getBillingInfo",
                format!("GET {base}/v1/projects/{project}/billingInfo"),
            );
        }
        let (operations, policies, billing) = futures::join!(
            self.operations(project),
            self.alert_policy_list(project, google),
            self.billing(project, google)
        );
        if let Extra::Read(b) = &billing
            && !b.info.billing_account_name.is_empty()
        {
            requests.insert(
                "billingAccounts.budgets.list",
                format!(
                    "GET {}/v1/{}/budgets",
                    base("billingbudgets").unwrap_or_default(),
                    b.info.billing_account_name
                ),
            );
        }
        ProjectReadings {
            operations,
            policies,
            billing,
            requests,
        }
    }

    async fn operations(&self, project: &str) -> Extra<(Vec<Operation>, bool)> {
        let mut items: Vec<Operation> = Vec::new();
        let mut token = String::new();
        let horizon = Utc::now() - chrono::Duration::days(OPERATIONS_MAX_DAYS);
        for _ in 0..OPERATIONS_MAX_PAGES {
            let (retry, backoff) = self.policies();
            let page = self
                .operations
                .list()
                .set_project(project)
                .set_max_results(OPERATIONS_PAGE)
                .set_page_token(token.clone())
                .with_retry_policy(retry)
                .with_backoff_policy(backoff)
                .send()
                .await;
            let page = match page {
                Ok(page) => page,
                Err(err) => {
                    let err = self.classify(
                        &err,
                        &format!("listing the operations of project {project}"),
                        project,
                    );
                    warn_once(
                        "operations.list",
                        &format!("{err}; restore drills and clones stay unknown"),
                    );
                    return Extra::Failed {
                        reason: err.to_string(),
                        resolve: Some(OPERATIONS_PERMISSION.to_string()),
                    };
                }
            };
            items.extend(page.items);
            let old = items
                .last()
                .and_then(|op| op.start_time.as_ref().or(op.insert_time.as_ref()))
                .is_some_and(|t| {
                    DateTime::from_timestamp(t.seconds(), 0).is_some_and(|t| t < horizon)
                });
            if page.next_page_token.is_empty() || page.next_page_token == token || old {
                return Extra::Read((items, false));
            }
            token = page.next_page_token;
        }
        Extra::Read((items, true))
    }

    async fn alert_policy_list(&self, project: &str, google: bool) -> Extra<Vec<AlertPolicy>> {
        let base = match google_rest::base_url("monitoring", google) {
            Ok(base) => base,
            Err(reason) => return Extra::Skipped(reason),
        };
        let mut items = Vec::new();
        let mut token = String::new();
        for _ in 0..MAX_PAGES {
            let mut url =
                format!("{base}/v3/projects/{project}/alertPolicies?pageSize={PAGE_SIZE}");
            if !token.is_empty() {
                url.push_str(&format!("&pageToken={}", query_escape(&token)));
            }
            let what = format!("listing the alert policies of project {project}");
            let page: ListAlertPoliciesResponse =
                match google_rest::get_json(&self.credentials, &url, &what, self.limit).await {
                    Ok(page) => page,
                    Err(err) => {
                        let reason = match &err {
                            RestError::Denied { .. } => {
                                format!(
                                    "{err}: the permission monitoring.alertPolicies.list is needed"
                                )
                            }
                            _ => err.to_string(),
                        };
                        warn_once(
                            "alertPolicies.list",
                            &format!(
                                "{reason}; monitoring stays unknown ({MONITORING_PERMISSION})"
                            ),
                        );
                        return Extra::Failed {
                            reason,
                            resolve: Some(MONITORING_PERMISSION.to_string()),
                        };
                    }
                };
            items.extend(page.alert_policies);
            if page.next_page_token.is_empty() || page.next_page_token == token {
                return Extra::Read(items);
            }
            token = page.next_page_token;
        }
        Extra::Read(items)
    }

    async fn billing(&self, project: &str, google: bool) -> Extra<Billing> {
        let (billing, manager, budgets) = match (
            google_rest::base_url("cloudbilling", google),
            google_rest::base_url("cloudresourcemanager", google),
            google_rest::base_url("billingbudgets", google),
        ) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(reason), _, _) | (_, Err(reason), _) | (_, _, Err(reason)) => {
                return Extra::Skipped(reason);
            }
        };
        let limit = self.limit;
        let failed = |err: RestError, api: &'static str, permission: &str| {
            let reason = match &err {
                RestError::Denied { .. } => format!("{err}: the permission {api} is needed"),
                _ => err.to_string(),
            };
            warn_once(api, &format!("{reason}; cost stays unknown ({permission})"));
            Extra::Failed {
                reason,
                resolve: Some(permission.to_string()),
            }
        };
        let info_url = format!("{billing}/v1/projects/{project}/billingInfo");
        let what = format!("reading the billing info of project {project}");
        let number_url = format!("{manager}/v3/projects/{project}");
        let number_what = format!("reading the number of project {project}");
        let (info, number) = futures::join!(
            google_rest::get_json::<ProjectBillingInfo>(&self.credentials, &info_url, &what, limit),
            google_rest::get_json::<Project>(&self.credentials, &number_url, &number_what, limit)
        );
        let info = match info {
            Ok(info) => info,
            Err(err) => {
                return failed(err, "resourcemanager.projects.get", BILLING_INFO_PERMISSION);
            }
        };
        let number = number
            .map(|p| p.name)
            .map_err(|err| err.to_string())
            .and_then(|name| {
                if name.starts_with("projects/") {
                    Ok(name)
                } else {
                    Err(format!("projects.get answered the name {name:?}"))
                }
            });
        let mut items = Vec::new();
        let mut budgets_failed = None;
        if info.billing_enabled && !is_billing_account(&info.billing_account_name) {
            let reason = format!(
                "projects.getBillingInfo of project {project} answered billingAccountName {:?}, not billingAccounts/ID",
                info.billing_account_name
            );
            warn_once(
                "projects.getBillingInfo",
                &format!("{reason}; cost stays unknown"),
            );
            return Extra::Failed {
                reason,
                resolve: None,
            };
        }
        if info.billing_enabled && !info.billing_account_name.is_empty() {
            let mut token = String::new();
            for _ in 0..MAX_PAGES {
                let mut url = format!(
                    "{budgets}/v1/{}/budgets?pageSize=100",
                    info.billing_account_name
                );
                if !token.is_empty() {
                    url.push_str(&format!("&pageToken={}", query_escape(&token)));
                }
                let what = format!("listing the budgets of {}", info.billing_account_name);
                let page: ListBudgetsResponse =
                    match google_rest::get_json(&self.credentials, &url, &what, limit).await {
                        Ok(page) => page,
                        Err(err) => {
                            // The account is known; only the budgets are not.
                            if let Extra::Failed { reason, resolve } =
                                failed(err, "billing.budgets.list", BUDGETS_PERMISSION)
                            {
                                budgets_failed = Some((reason, resolve.unwrap_or_default()));
                            }
                            items.clear();
                            break;
                        }
                    };
                items.extend(page.budgets);
                if page.next_page_token.is_empty() || page.next_page_token == token {
                    break;
                }
                token = page.next_page_token;
            }
        }
        Extra::Read(Billing {
            info,
            number,
            budgets: items,
            budgets_failed,
        })
    }
}

/// Records the project-level facts of one instance on its target.
/// `peers`: the instances listed with it (`None` for a `cloudsql://PROJECT/INSTANCE` target).
pub fn apply(
    target: &mut TargetFacts,
    readings: &ProjectReadings,
    project: &str,
    instance: &DatabaseInstance,
    peers: Option<&[DatabaseInstance]>,
    now: DateTime<Utc>,
) {
    let mut sink = FactSink::new(SOURCE);
    let replica = super::facts::role(instance) == crate::target::Role::Replica;
    let labels: BTreeMap<String, String> = instance
        .settings
        .as_ref()
        .map(|s| s.user_labels.clone().into_iter().collect())
        .unwrap_or_default();
    let evidence = |name: &'static str, response: serde_json::Value| RawEvidence {
        source: SOURCE.to_string(),
        name: name.to_string(),
        request: readings.requests.get(name).cloned().unwrap_or_default(),
        response,
    };
    const MONITORING: [&str; 4] = [
        "cloudsql.monitoring.alert_policies",
        "cloudsql.monitoring.covered_signals",
        "cloudsql.monitoring.missing_signals",
        "monitoring.alerting",
    ];
    match &readings.policies {
        Extra::Read(policies) => {
            monitoring::facts(
                &mut sink,
                policies,
                project,
                &instance.name,
                &instance.region,
                replica,
            );
            let database_id = format!("{project}:{}", instance.name);
            let named: Vec<&AlertPolicy> = policies
                .iter()
                .filter(|p| {
                    p.conditions.iter().any(|c| {
                        let text = serde_json::to_string(c).unwrap_or_default();
                        text.contains("cloudsql.googleapis.com")
                            && (!text.contains("database_id") || text.contains(&database_id))
                    })
                })
                .collect();
            target.evidence.push(evidence(
                "alertPolicies.list",
                serde_json::to_value(named).unwrap_or_default(),
            ));
        }
        other => unknown_all(&mut sink, &MONITORING, other),
    }
    const COST: [&str; 4] = [
        "cloudsql.billing.account",
        "cloudsql.billing.budgets",
        "cloudsql.billing.incomplete_budgets",
        "cost.budget",
    ];
    match &readings.billing {
        Extra::Read(billing) => {
            budgets::facts(&mut sink, billing, project, &labels);
            target.evidence.push(evidence(
                "projects.getBillingInfo",
                serde_json::to_value(&billing.info).unwrap_or_default(),
            ));
            let number = billing.number.as_ref().ok().map(String::as_str);
            let covering: Vec<&budgets::Budget> = billing
                .budgets
                .iter()
                .filter(|b| budgets::covers(b, project, number, &labels) != budgets::Coverage::Not)
                .collect();
            if billing.budgets_failed.is_none() {
                target.evidence.push(evidence(
                    "billingAccounts.budgets.list",
                    serde_json::to_value(covering).unwrap_or_default(),
                ));
            }
        }
        other => unknown_all(&mut sink, &COST, other),
    }
    const RESTORE: [&str; 5] = [
        "cloudsql.restore.drill_count",
        "cloudsql.restore.last_drill",
        "cloudsql.restore.last_drill_age_days",
        "cloudsql.restore.operations_days",
        "cloudsql.copies.standing",
    ];
    match &readings.operations {
        Extra::Read((ops, truncated)) => {
            operations::facts(
                &mut sink,
                ops,
                *truncated,
                instance,
                peers.unwrap_or(&[]),
                now,
            );
            let clones = ops.iter().any(|op| {
                op.target_id == instance.name
                    && op.operation_type
                        == google_cloud_sql_v1::model::operation::SqlOperationType::Clone
            });
            if peers.is_none() && clones {
                sink.unknown(
                    "cloudsql.copies.standing",
                    format!(
                        "{} was cloned, but the instances the clones became were not listed (a single-instance target)",
                        instance.name
                    ),
                    Some(&format!("audit cloudsql://{project} to pair clones with the instances they created")),
                );
            }
            let own: Vec<&Operation> = ops
                .iter()
                .filter(|op| op.target_id == instance.name)
                .filter(|op| {
                    use google_cloud_sql_v1::model::operation::SqlOperationType as T;
                    matches!(op.operation_type, T::Clone | T::RestoreVolume)
                })
                .collect();
            target.evidence.push(evidence(
                "operations.list",
                serde_json::to_value(own).unwrap_or_default(),
            ));
        }
        other => unknown_all(&mut sink, &RESTORE, other),
    }
    target.facts.extend(sink.finish());
}

fn unknown_all<T>(sink: &mut FactSink<'_>, paths: &[&str], extra: &Extra<T>) {
    let (reason, resolve) = match extra {
        Extra::Read(_) => return,
        Extra::Skipped(reason) => (reason.clone(), None),
        Extra::Failed { reason, resolve } => (reason.clone(), resolve.clone()),
    };
    for path in paths {
        sink.unknown(path, reason.clone(), resolve.as_deref());
    }
}

/// `billingAccounts/ID` with an ID of letters, digits and dashes (it goes into a URL path).
fn is_billing_account(name: &str) -> bool {
    name.strip_prefix("billingAccounts/").is_some_and(|id| {
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

/// A page token as a query value (tokens are opaque; base64 may hold `+`, `/`, `=`).
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FactState;
    use crate::target::{Kind, Role};

    fn empty_target() -> TargetFacts {
        TargetFacts {
            id: "cloudsql://acme/orders".into(),
            resource: None,
            kind: Kind::Cloudsql,
            role: Role::Primary,
            engine: "postgres".into(),
            version: "15".into(),
            collected_at: Utc::now(),
            facts: Default::default(),
            evidence: Vec::new(),
            principal: None,
            sources: Vec::new(),
            location: None,
            warnings: Vec::new(),
            tags: Default::default(),
        }
    }

    fn read() -> ProjectReadings {
        ProjectReadings {
            operations: Extra::Read((Vec::new(), false)),
            policies: Extra::Read(Vec::new()),
            billing: Extra::Read(Billing {
                info: budgets::ProjectBillingInfo {
                    billing_account_name: "billingAccounts/A".into(),
                    billing_enabled: true,
                    ..Default::default()
                },
                number: Ok("projects/1".into()),
                budgets: Vec::new(),
                budgets_failed: None,
            }),
            requests: BTreeMap::new(),
        }
    }

    fn denied() -> ProjectReadings {
        fn failed<T>() -> Extra<T> {
            Extra::Failed {
                reason: "HTTP 403".to_string(),
                resolve: Some("grant it".to_string()),
            }
        }
        ProjectReadings {
            operations: failed(),
            policies: failed(),
            billing: failed(),
            requests: BTreeMap::new(),
        }
    }

    /// Every fact the project reads give is in the source's list
    /// (crate::sources::reads), read or refused.
    #[test]
    fn every_project_fact_is_listed_as_read_by_cloudsql() {
        let instance = DatabaseInstance::new().set_name("orders");
        for readings in [read(), denied()] {
            let mut target = empty_target();
            apply(
                &mut target,
                &readings,
                "acme",
                &instance,
                Some(&[]),
                Utc::now(),
            );
            assert!(target.facts.len() >= 12, "{:?}", target.facts.keys());
            for path in target.facts.keys() {
                assert!(
                    crate::sources::reads::reads("cloudsql", path),
                    "{path} is reported by the cloudsql source but not listed in src/sources/reads.rs"
                );
                assert!(crate::facts::schema::spec(path).is_some(), "{path}");
            }
        }
    }

    #[test]
    fn a_refused_read_leaves_its_facts_unknown_with_the_permission() {
        let instance = DatabaseInstance::new().set_name("orders");
        let mut target = empty_target();
        apply(&mut target, &denied(), "acme", &instance, None, Utc::now());
        for path in [
            "monitoring.alerting",
            "cost.budget",
            "cloudsql.restore.drill_count",
        ] {
            match &target.facts[path].state {
                FactState::Unknown { unknown, .. } => assert!(unknown.contains("403"), "{unknown}"),
                other => panic!("{path}: {other:?}"),
            }
        }
    }

    #[test]
    fn billing_account_names_are_checked_before_they_go_into_a_url() {
        assert!(is_billing_account("billingAccounts/012345-567890-ABCDEF"));
        for bad in [
            "",
            "billingAccounts/",
            "billingAccounts/../x",
            "projects/1",
            "billingAccounts/a?b",
        ] {
            assert!(!is_billing_account(bad), "{bad}");
        }
    }

    #[test]
    fn page_tokens_are_escaped() {
        assert_eq!(query_escape("a+b/c=="), "a%2Bb%2Fc%3D%3D");
        assert_eq!(query_escape("plain-_.~9"), "plain-_.~9");
    }
}
