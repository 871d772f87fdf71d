//! Whether a Cloud Billing budget covers a Cloud SQL instance's spend and
//! would alert someone: the project's billing account
//! (`projects.getBillingInfo`), its number (Resource Manager `projects.get`,
//! since budget filters name projects by number), and the account's budgets
//! (`billingAccounts.budgets.list`), read once per project ([`super::project`]).
//!
//! The types follow the published REST references (Cloud Billing API v1
//! `ProjectBillingInfo`; Cloud Billing Budget API v1 `Budget`, `Filter`,
//! `ThresholdRule`, `NotificationsRule`, `ListBudgetsResponse`; Resource
//! Manager v3 `Project`); unknown fields are ignored.

use crate::facts::FactSink;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The Cloud SQL service in the Cloud Billing catalog (`services/9662-B51E-5089`).
pub const CLOUD_SQL_SERVICE: &str = "services/9662-B51E-5089";

/// `projects.getBillingInfo`: `GET https://cloudbilling.googleapis.com/v1/projects/{id}/billingInfo`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProjectBillingInfo {
    pub name: String,
    pub project_id: String,
    /// `billingAccounts/012345-567890-ABCDEF`; empty when billing is disabled.
    pub billing_account_name: String,
    pub billing_enabled: bool,
}

/// Resource Manager v3 `projects.get`: `name` is `projects/{number}`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Project {
    pub name: String,
    pub project_id: String,
}

/// `GET https://billingbudgets.googleapis.com/v1/{parent=billingAccounts/*}/budgets`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListBudgetsResponse {
    pub budgets: Vec<Budget>,
    pub next_page_token: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Budget {
    /// `billingAccounts/{account}/budgets/{budget}`.
    pub name: String,
    pub display_name: String,
    pub budget_filter: Option<Filter>,
    pub threshold_rules: Vec<ThresholdRule>,
    pub notifications_rule: Option<NotificationsRule>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Filter {
    /// `projects/{number}`; empty (with `resourceAncestors` empty) = every project of the account.
    pub projects: Vec<String>,
    /// `folders/{id}`, `organizations/{id}`.
    pub resource_ancestors: Vec<String>,
    /// `services/{id}`; empty = every service.
    pub services: Vec<String>,
    /// `billingAccounts/{id}` of resold sub-accounts.
    pub subaccounts: Vec<String>,
    /// Label key → values (the API allows one key with one value).
    pub labels: BTreeMap<String, Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ThresholdRule {
    pub threshold_percent: f64,
    pub spend_basis: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct NotificationsRule {
    pub pubsub_topic: String,
    pub monitoring_notification_channels: Vec<String>,
    /// When true, the billing account's administrators and users get no email.
    pub disable_default_iam_recipients: bool,
    pub enable_project_level_recipients: bool,
}

/// What was read about the project's billing.
#[derive(Debug, Clone)]
pub struct Billing {
    pub info: ProjectBillingInfo,
    /// `projects/{number}`, or why it is not known.
    pub number: Result<String, String>,
    pub budgets: Vec<Budget>,
    /// `billingAccounts.budgets.list` failed or was refused: why, and the permission.
    pub budgets_failed: Option<(String, String)>,
}

/// Whether a budget's filter takes in the instance's spend.
#[derive(Debug, Clone, PartialEq)]
pub enum Coverage {
    Covers,
    Not,
    CannotTell(String),
}

/// Whether `budget` covers Cloud SQL spend of project `project_id` (`number`:
/// `projects/N` when known) for an instance with `labels`.
pub fn covers(
    budget: &Budget,
    project_id: &str,
    number: Option<&str>,
    labels: &BTreeMap<String, String>,
) -> Coverage {
    let Some(filter) = &budget.budget_filter else {
        return Coverage::Covers;
    };
    if !filter.services.is_empty() && !filter.services.iter().any(|s| s == CLOUD_SQL_SERVICE) {
        return Coverage::Not;
    }
    for (key, values) in &filter.labels {
        let wanted = labels.get(key);
        let any = values.iter().any(|v| {
            v.as_str()
                .is_some_and(|v| Some(v) == wanted.map(String::as_str))
        });
        if !any {
            return Coverage::Not;
        }
    }
    if !filter.subaccounts.is_empty() {
        return Coverage::CannotTell("it filters on sub-accounts".into());
    }
    if filter.projects.is_empty() && filter.resource_ancestors.is_empty() {
        return Coverage::Covers;
    }
    let by_id = format!("projects/{project_id}");
    if filter
        .projects
        .iter()
        .any(|p| p == &by_id || Some(p.as_str()) == number)
    {
        return Coverage::Covers;
    }
    if !filter.resource_ancestors.is_empty() {
        return Coverage::CannotTell(format!(
            "it filters on folders or organizations ({}), whose projects are not read",
            filter.resource_ancestors.join(", ")
        ));
    }
    match number {
        Some(_) => Coverage::Not,
        None => Coverage::CannotTell(
            "the project's number (budget filters name projects by number) is not known".into(),
        ),
    }
}

/// Why a covering budget would never alert, if it would not.
pub fn silent(budget: &Budget) -> Option<&'static str> {
    if budget.threshold_rules.is_empty() {
        return Some("no threshold rule");
    }
    match &budget.notifications_rule {
        None => None,
        Some(rule)
            if !rule.disable_default_iam_recipients
                || !rule.pubsub_topic.is_empty()
                || !rule.monitoring_notification_channels.is_empty()
                || rule.enable_project_level_recipients =>
        {
            None
        }
        Some(_) => Some(
            "every recipient disabled (disableDefaultIamRecipients, no Pub/Sub topic, no channel)",
        ),
    }
}

fn budget_name(budget: &Budget) -> String {
    if budget.display_name.is_empty() {
        budget.name.clone()
    } else {
        format!("{} ({})", budget.display_name, budget.name)
    }
}

/// Records the cost facts of one instance of `project_id`.
pub fn facts(
    sink: &mut FactSink<'_>,
    billing: &Billing,
    project_id: &str,
    labels: &BTreeMap<String, String>,
) {
    let account = billing.info.billing_account_name.clone();
    sink.known(
        "cloudsql.billing.account",
        format!("projects.getBillingInfo of {project_id}: billingAccountName"),
        account.clone(),
    );
    if !billing.info.billing_enabled || account.is_empty() {
        let origin = format!(
            "projects.getBillingInfo of {project_id}: billingEnabled false, no billing account"
        );
        sink.known(
            "cloudsql.billing.budgets",
            origin.clone(),
            Vec::<String>::new(),
        );
        sink.known(
            "cloudsql.billing.incomplete_budgets",
            origin.clone(),
            Vec::<String>::new(),
        );
        sink.known("cost.budget", origin, false);
        return;
    }
    if let Some((reason, resolve)) = &billing.budgets_failed {
        for path in [
            "cloudsql.billing.budgets",
            "cloudsql.billing.incomplete_budgets",
            "cost.budget",
        ] {
            sink.unknown(path, reason.clone(), Some(resolve));
        }
        return;
    }
    let number = billing.number.as_ref().ok().map(String::as_str);
    let mut complete = Vec::new();
    let mut incomplete = Vec::new();
    let mut unsure = Vec::new();
    for budget in &billing.budgets {
        match covers(budget, project_id, number, labels) {
            Coverage::Covers => match silent(budget) {
                None => complete.push(budget_name(budget)),
                Some(why) => incomplete.push(format!("{}: {why}", budget_name(budget))),
            },
            Coverage::CannotTell(why) => unsure.push(format!("{}: {why}", budget_name(budget))),
            Coverage::Not => {}
        }
    }
    let origin = format!(
        "billingAccounts.budgets.list of {account} ({} budget(s)): budgetFilter.projects empty or naming {project_id}{}, services empty or {CLOUD_SQL_SERVICE} (Cloud SQL), labels matching the instance's; with thresholdRules and a recipient",
        billing.budgets.len(),
        number.map(|n| format!(" ({n})")).unwrap_or_default()
    );
    sink.known("cloudsql.billing.budgets", origin.clone(), complete.clone());
    sink.known(
        "cloudsql.billing.incomplete_budgets",
        origin.clone(),
        incomplete,
    );
    if complete.is_empty() && !unsure.is_empty() {
        let mut reason = format!(
            "whether these budgets cover project {project_id} cannot be told: {}",
            unsure.join("; ")
        );
        if let Err(why) = &billing.number {
            reason.push_str(&format!(" (project number: {why})"));
        }
        sink.unknown(
            "cost.budget",
            reason,
            Some("grant resourcemanager.projects.get (roles/browser) on the project, or filter the budget by project"),
        );
    } else {
        sink.known("cost.budget", origin, !complete.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(filter: serde_json::Value, rules: bool) -> Budget {
        let mut value = serde_json::json!({"name": "billingAccounts/A/budgets/b1", "displayName": "db", "budgetFilter": filter});
        if rules {
            value["thresholdRules"] = serde_json::json!([{"thresholdPercent": 0.8}]);
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn filters_by_project_number_service_and_label() {
        let labels = BTreeMap::from([("team".to_string(), "orders".to_string())]);
        let n = Some("projects/123");
        let all = budget(serde_json::json!({}), true);
        assert_eq!(covers(&all, "acme", n, &labels), Coverage::Covers);
        let ours = budget(
            serde_json::json!({"projects": ["projects/123"], "services": [CLOUD_SQL_SERVICE]}),
            true,
        );
        assert_eq!(covers(&ours, "acme", n, &labels), Coverage::Covers);
        let other = budget(serde_json::json!({"projects": ["projects/999"]}), true);
        assert_eq!(covers(&other, "acme", n, &labels), Coverage::Not);
        assert!(matches!(
            covers(&other, "acme", None, &labels),
            Coverage::CannotTell(_)
        ));
        let compute = budget(
            serde_json::json!({"services": ["services/6F81-5844-456A"]}),
            true,
        );
        assert_eq!(covers(&compute, "acme", n, &labels), Coverage::Not);
        let label = budget(serde_json::json!({"labels": {"team": ["orders"]}}), true);
        assert_eq!(covers(&label, "acme", n, &labels), Coverage::Covers);
        let label = budget(serde_json::json!({"labels": {"team": ["billing"]}}), true);
        assert_eq!(covers(&label, "acme", n, &labels), Coverage::Not);
    }

    #[test]
    fn a_budget_without_threshold_or_recipient_is_silent() {
        assert_eq!(
            silent(&budget(serde_json::json!({}), false)),
            Some("no threshold rule")
        );
        let mut quiet = budget(serde_json::json!({}), true);
        assert_eq!(silent(&quiet), None);
        quiet.notifications_rule = Some(NotificationsRule {
            disable_default_iam_recipients: true,
            ..Default::default()
        });
        assert!(silent(&quiet).is_some());
    }
}
