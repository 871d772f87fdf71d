//! Whether an alarm, alert policy or budget of the configuration counts for one database:
//! it must be enabled and actually cover this instance (or project / account).
//!
//! A `aws_cloudwatch_metric_alarm` with `actions_enabled = false` notifies no one; one whose
//! `dimensions` name another DB instance watches that instance; a
//! `google_monitoring_alert_policy` with `enabled = false` opens no incident; one filtered on
//! another `database_id` watches another instance; a budget without any alert rule (no
//! `threshold_rules` / no `notification`) or filtered on other projects or services never
//! warns about this database's spend. What only a plan knows (an expression) is said as such,
//! never counted.

use super::model::{Attr, Configuration, Resource};
use serde_json::Value as Json;

/// The database being judged: its resource address and how others may name it.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// Addresses an expression may reference (`aws_db_instance.orders`, cluster members).
    pub addresses: Vec<String>,
    /// Literal names: RDS identifiers, the Cloud SQL instance name.
    pub names: Vec<String>,
    /// The Google project, when written literally.
    pub project: Option<String>,
    /// The `google_project` resources of the configuration that declare this
    /// project (`project_id` = [`Subject::project`]): a budget names projects
    /// by number, often as `google_project.NAME.number`.
    pub project_resources: Vec<String>,
    /// This project's number, when a `google_project` of the configuration writes it.
    pub project_number: Option<String>,
}

impl Subject {
    /// The subject for a target resource: its own identifiers, and for an Aurora cluster
    /// its `aws_rds_cluster_instance` members (alarms watch members by instance identifier).
    pub fn of(config: &Configuration, resource: &Resource) -> Subject {
        let mut subject = Subject {
            addresses: vec![resource.address.clone()],
            project: resource.string("project").map(str::to_string),
            ..Subject::default()
        };
        for key in ["identifier", "cluster_identifier", "name"] {
            if resource.kind == "aws_db_instance" && key == "cluster_identifier" {
                continue;
            }
            if let Some(name) = resource.string(key) {
                subject.names.push(name.to_string());
            }
        }
        if let Some(project) = subject.project.clone() {
            for declared in config.of_kind("google_project") {
                if declared.string("project_id") == Some(project.as_str()) {
                    subject.project_resources.push(declared.address.clone());
                    if let Some(number) = declared.string("number") {
                        subject.project_number = Some(number.to_string());
                    }
                }
            }
        }
        if resource.kind == "aws_rds_cluster" {
            for member in config.of_kind("aws_rds_cluster_instance") {
                let belongs = match member.attr("cluster_identifier") {
                    Attr::Set(Json::String(id)) => subject.names.contains(id),
                    Attr::Unresolved(expression) => references(expression, &resource.address),
                    _ => false,
                };
                if belongs {
                    subject.addresses.push(member.address.clone());
                    if let Some(id) = member.string("identifier") {
                        subject.names.push(id.to_string());
                    }
                }
            }
        }
        subject
    }

    fn referenced_by(&self, expression: &str) -> bool {
        self.addresses.iter().any(|a| references(expression, a))
    }
}

/// Whether an expression refers to the resource at `address` (`aws_db_instance.a.id`).
pub fn references(expression: &str, address: &str) -> bool {
    expression.match_indices(address).any(|(at, _)| {
        let after = &expression[at + address.len()..];
        let before = expression[..at].chars().last();
        (after.is_empty() || after.starts_with(['.', '[', ' ', '}', ',', ')']))
            && !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
    })
}

/// One alarm / policy / budget judged for the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It counts; the text says on what grounds.
    Covers(String),
    /// It does not count, and why (disabled, another instance, no alert rule).
    Ignored(String),
    /// Only a plan can tell (an expression decides).
    Unresolved(String),
}

/// An enable switch: `Err` carries the verdict when it is off or unknown.
fn switch(resource: &Resource, attr: &str, default: bool) -> Result<(), Verdict> {
    let on = match resource.attr(attr) {
        Attr::Set(Json::Bool(on)) => *on,
        Attr::Set(Json::String(text)) if text.trim() == "false" => false,
        Attr::Set(Json::String(text)) if text.trim() == "true" => true,
        Attr::Unresolved(expression) => {
            return Err(Verdict::Unresolved(format!(
                "{}: {attr} is set by `{expression}`",
                resource.address
            )));
        }
        _ => default,
    };
    if on {
        Ok(())
    } else {
        Err(Verdict::Ignored(format!(
            "{}: {attr} = false, it notifies no one",
            resource.address
        )))
    }
}

/// Every string under a key named `key`, at any depth (blocks are lists of objects).
fn strings_under<'a>(value: &'a Json, key: &str, out: &mut Vec<&'a Json>) {
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                if k == key {
                    out.push(v);
                } else {
                    strings_under(v, key, out);
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|v| strings_under(v, key, out)),
        _ => {}
    }
}

/// Unresolved expressions whose attribute path ends in `key` (or passes through it).
fn unresolved_under<'a>(resource: &'a Resource, key: &str) -> Vec<&'a str> {
    resource
        .unresolved
        .iter()
        .filter(|(path, _)| path.split('.').any(|p| p == key))
        .map(|(_, e)| e.as_str())
        .collect()
}

/// The RDS dimensions that pick one instance or cluster.
const RDS_DIMENSIONS: &[&str] = &["DBInstanceIdentifier", "DBClusterIdentifier"];

/// `aws_cloudwatch_metric_alarm` (already known to be on `AWS/RDS`).
pub fn alarm(alarm: &Resource, subject: &Subject) -> Verdict {
    if let Err(verdict) = switch(alarm, "actions_enabled", true) {
        return verdict;
    }
    let mut dims = Vec::new();
    strings_under(&alarm.values, "dimensions", &mut dims);
    let mut named: Vec<&str> = Vec::new();
    for map in dims {
        if let Json::Object(map) = map {
            for (k, v) in map {
                if RDS_DIMENSIONS.contains(&k.as_str())
                    && let Some(v) = v.as_str()
                {
                    named.push(v);
                }
            }
        }
    }
    let expressions = unresolved_under(alarm, "dimensions");
    if let Some(name) = named.iter().find(|n| subject.names.iter().any(|s| s == *n)) {
        return Verdict::Covers(format!("{} (dimension {name})", alarm.address));
    }
    if expressions.iter().any(|e| subject.referenced_by(e)) {
        return Verdict::Covers(format!(
            "{} (dimensions reference this database)",
            alarm.address
        ));
    }
    if let Some(expression) = expressions.first() {
        return Verdict::Unresolved(format!(
            "{}: dimensions are set by `{expression}`",
            alarm.address
        ));
    }
    if let Some(other) = named.first() {
        return Verdict::Ignored(format!(
            "{}: watches {other}, not this database",
            alarm.address
        ));
    }
    Verdict::Covers(format!(
        "{} (no instance dimension: every RDS instance of the region)",
        alarm.address
    ))
}

/// `google_monitoring_alert_policy` (already known to be on Cloud SQL metrics).
pub fn alert_policy(policy: &Resource, subject: &Subject) -> Verdict {
    if let Err(verdict) = switch(policy, "enabled", true) {
        return verdict;
    }
    if let (Some(theirs), Some(ours)) = (policy.string("project"), subject.project.as_deref())
        && theirs != ours
    {
        return Verdict::Ignored(format!(
            "{}: in project {theirs}, not {ours}",
            policy.address
        ));
    }
    let mut filters = Vec::new();
    for key in ["filter", "query"] {
        strings_under(&policy.values, key, &mut filters);
    }
    let scoped: Vec<&str> = filters
        .iter()
        .filter_map(|f| f.as_str())
        .filter(|f| f.contains("cloudsql.googleapis.com/") && f.contains("database_id"))
        .collect();
    let unscoped = filters
        .iter()
        .filter_map(|f| f.as_str())
        .any(|f| f.contains("cloudsql.googleapis.com/") && !f.contains("database_id"));
    if unscoped {
        return Verdict::Covers(format!(
            "{} (every Cloud SQL instance of the project)",
            policy.address
        ));
    }
    // database_id is "PROJECT:INSTANCE".
    let ours = |f: &&str| {
        subject
            .names
            .iter()
            .any(|n| f.contains(&format!(":{n}\"")) || f.contains(&format!(":{n}'")))
    };
    if scoped.iter().any(ours) {
        return Verdict::Covers(format!("{} (database_id names it)", policy.address));
    }
    if let Some(expression) = unresolved_under(policy, "filter")
        .into_iter()
        .chain(unresolved_under(policy, "query"))
        .next()
    {
        return if subject.referenced_by(expression) {
            Verdict::Covers(format!("{} (filter references it)", policy.address))
        } else {
            Verdict::Unresolved(format!(
                "{}: a filter is set by `{expression}`",
                policy.address
            ))
        };
    }
    Verdict::Ignored(format!(
        "{}: its database_id filter names another instance",
        policy.address
    ))
}

/// Cloud SQL's service in Cloud Billing (`services/9662-B51E-5089`).
const CLOUD_SQL_SERVICE: &str = "9662-B51E-5089";

/// `google_billing_budget`.
pub fn google_budget(budget: &Resource, subject: &Subject) -> Verdict {
    if budget.blocks("threshold_rules") == 0 && !budget.unresolved.contains_key("threshold_rules") {
        return Verdict::Ignored(format!(
            "{}: no threshold_rules, it never alerts",
            budget.address
        ));
    }
    match budget.attr("budget_filter.services") {
        Attr::Set(Json::Array(services))
            if !services.is_empty()
                && !services
                    .iter()
                    .any(|s| s.as_str().is_some_and(|s| s.contains(CLOUD_SQL_SERVICE))) =>
        {
            return Verdict::Ignored(format!(
                "{}: budget_filter.services leaves out Cloud SQL (services/{CLOUD_SQL_SERVICE})",
                budget.address
            ));
        }
        Attr::Unresolved(expression) => {
            return Verdict::Unresolved(format!(
                "{}: budget_filter.services is set by `{expression}`",
                budget.address
            ));
        }
        _ => {}
    }
    // Folder / organisation and label filters cannot be matched to an instance here.
    for narrower in ["budget_filter.resource_ancestors", "budget_filter.labels"] {
        match budget.attr(narrower) {
            Attr::Set(value)
                if value.as_array().is_none_or(|a| !a.is_empty())
                    && !value.as_object().is_some_and(|o| o.is_empty()) =>
            {
                return Verdict::Unresolved(format!(
                    "{}: {narrower} is {value}; whether it takes in this instance is not known here",
                    budget.address
                ));
            }
            Attr::Unresolved(expression) => {
                return Verdict::Unresolved(format!(
                    "{}: {narrower} is set by `{expression}`",
                    budget.address
                ));
            }
            _ => {}
        }
    }
    match budget.attr("budget_filter.projects") {
        Attr::Set(Json::Array(projects)) if !projects.is_empty() => {
            let ours = [
                subject.project.as_deref(),
                subject.project_number.as_deref(),
            ]
            .into_iter()
            .flatten()
            .any(|p| {
                projects
                    .iter()
                    .any(|x| x.as_str() == Some(&format!("projects/{p}")))
            });
            if ours {
                Verdict::Covers(format!(
                    "{} (budget_filter.projects names it)",
                    budget.address
                ))
            } else {
                Verdict::Unresolved(format!(
                    "{}: budget_filter.projects is {} (project numbers); whether one is this instance's project is not known here",
                    budget.address,
                    Json::Array(projects.clone())
                ))
            }
        }
        // `projects/${google_project.p.number}`: the number of the project this instance runs in.
        Attr::Unresolved(expression)
            if subject
                .project_resources
                .iter()
                .any(|p| references(expression, &format!("{p}.number"))) =>
        {
            Verdict::Covers(format!(
                "{} (budget_filter.projects takes the number of the google_project whose project_id is this instance's project)",
                budget.address
            ))
        }
        Attr::Unresolved(expression) => Verdict::Unresolved(format!(
            "{}: budget_filter.projects is set by `{expression}`{}",
            budget.address,
            if expression.contains(".number") {
                ": a project number from a resource or data source that does not declare this instance's project here"
            } else {
                ""
            }
        )),
        _ => Verdict::Covers(format!(
            "{} (no project filter: the whole billing account)",
            budget.address
        )),
    }
}

/// RDS in AWS Budgets' `Service` cost filter.
const RDS_SERVICE: &str = "Amazon Relational Database Service";

/// `aws_budgets_budget`.
pub fn aws_budget(budget: &Resource, _subject: &Subject) -> Verdict {
    if budget.blocks("notification") == 0 && !budget.unresolved.contains_key("notification") {
        return Verdict::Ignored(format!(
            "{}: no notification block, it never alerts",
            budget.address
        ));
    }
    let mut filters = Vec::new();
    strings_under(&budget.values, "cost_filter", &mut filters);
    for filter in filters
        .iter()
        .flat_map(|f| f.as_array().into_iter().flatten())
    {
        if filter["name"].as_str() != Some("Service") {
            continue;
        }
        let values: Vec<&str> = filter["values"]
            .as_array()
            .map(|v| v.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        if !values.contains(&RDS_SERVICE) {
            return Verdict::Ignored(format!(
                "{}: its Service cost_filter leaves out {RDS_SERVICE}",
                budget.address
            ));
        }
    }
    if let Some(expression) = unresolved_under(budget, "cost_filter").first() {
        return Verdict::Unresolved(format!(
            "{}: cost_filter is set by `{expression}`",
            budget.address
        ));
    }
    Verdict::Covers(format!(
        "{} (covers the account's RDS spend)",
        budget.address
    ))
}

#[cfg(test)]
mod tests {
    use super::super::load::from_hcl;
    use super::*;

    fn config(hcl: &str) -> Configuration {
        from_hcl(&[("main.tf".to_string(), hcl.to_string())], &[]).expect("parses")
    }

    fn judge(hcl: &str, subject: &str, other: &str) -> Verdict {
        let config = config(hcl);
        let subject_resource = config
            .resources
            .iter()
            .find(|r| r.address == subject)
            .unwrap();
        let s = Subject::of(&config, subject_resource);
        let r = config
            .resources
            .iter()
            .find(|r| r.address == other)
            .unwrap();
        match r.kind.as_str() {
            "aws_cloudwatch_metric_alarm" => alarm(r, &s),
            "google_monitoring_alert_policy" => alert_policy(r, &s),
            "google_billing_budget" => google_budget(r, &s),
            _ => aws_budget(r, &s),
        }
    }

    const RDS: &str = r#"
resource "aws_db_instance" "orders" {
  identifier = "orders"
}
"#;

    #[test]
    fn a_disabled_alarm_does_not_count() {
        let hcl = format!(
            "{RDS}{}",
            r#"resource "aws_cloudwatch_metric_alarm" "disk" {
  namespace       = "AWS/RDS"
  actions_enabled = false
  dimensions      = { DBInstanceIdentifier = "orders" }
}"#
        );
        let v = judge(
            &hcl,
            "aws_db_instance.orders",
            "aws_cloudwatch_metric_alarm.disk",
        );
        assert!(
            matches!(&v, Verdict::Ignored(why) if why.contains("actions_enabled = false")),
            "{v:?}"
        );
    }

    #[test]
    fn an_alarm_counts_for_the_instance_its_dimensions_name() {
        let alarm = |dims: &str| {
            format!(
                "{RDS}resource \"aws_cloudwatch_metric_alarm\" \"disk\" {{\n  namespace = \"AWS/RDS\"\n  {dims}\n}}"
            )
        };
        let v = judge(
            &alarm(r#"dimensions = { DBInstanceIdentifier = "orders" }"#),
            "aws_db_instance.orders",
            "aws_cloudwatch_metric_alarm.disk",
        );
        assert!(matches!(v, Verdict::Covers(_)), "{v:?}");
        let v = judge(
            &alarm(r#"dimensions = { DBInstanceIdentifier = "billing" }"#),
            "aws_db_instance.orders",
            "aws_cloudwatch_metric_alarm.disk",
        );
        assert!(
            matches!(&v, Verdict::Ignored(why) if why.contains("billing")),
            "{v:?}"
        );
        let v = judge(
            &alarm("dimensions = { DBInstanceIdentifier = aws_db_instance.orders.identifier }"),
            "aws_db_instance.orders",
            "aws_cloudwatch_metric_alarm.disk",
        );
        assert!(matches!(v, Verdict::Covers(_)), "{v:?}");
        let v = judge(
            &alarm("dimensions = { DBInstanceIdentifier = aws_db_instance.orders_old.identifier }"),
            "aws_db_instance.orders",
            "aws_cloudwatch_metric_alarm.disk",
        );
        assert!(matches!(v, Verdict::Unresolved(_)), "{v:?}");
        // No instance dimension: the region-wide RDS metric, every instance.
        let v = judge(
            &alarm(""),
            "aws_db_instance.orders",
            "aws_cloudwatch_metric_alarm.disk",
        );
        assert!(
            matches!(&v, Verdict::Covers(why) if why.contains("every RDS instance")),
            "{v:?}"
        );
    }

    #[test]
    fn an_aurora_members_alarm_counts_for_its_cluster() {
        let hcl = r#"
resource "aws_rds_cluster" "orders" {
  cluster_identifier = "orders"
}
resource "aws_rds_cluster_instance" "a" {
  identifier         = "orders-a"
  cluster_identifier = aws_rds_cluster.orders.id
}
resource "aws_cloudwatch_metric_alarm" "cpu" {
  namespace  = "AWS/RDS"
  dimensions = { DBInstanceIdentifier = "orders-a" }
}
"#;
        let v = judge(
            hcl,
            "aws_rds_cluster.orders",
            "aws_cloudwatch_metric_alarm.cpu",
        );
        assert!(matches!(v, Verdict::Covers(_)), "{v:?}");
    }

    const SQL: &str = r#"
resource "google_sql_database_instance" "orders" {
  name    = "orders"
  project = "acme-prod"
}
"#;

    fn policy(body: &str) -> String {
        format!("{SQL}resource \"google_monitoring_alert_policy\" \"p\" {{\n{body}\n}}")
    }

    #[test]
    fn alert_policies_count_when_enabled_and_on_this_instance() {
        let on_all = r#"conditions {
  condition_threshold {
    filter = "resource.type = \"cloudsql_database\" AND metric.type = \"cloudsql.googleapis.com/database/disk/utilization\""
  }
}"#;
        let v = judge(
            &policy(on_all),
            "google_sql_database_instance.orders",
            "google_monitoring_alert_policy.p",
        );
        assert!(matches!(v, Verdict::Covers(_)), "{v:?}");
        let v = judge(
            &policy(&format!("enabled = false\n{on_all}")),
            "google_sql_database_instance.orders",
            "google_monitoring_alert_policy.p",
        );
        assert!(
            matches!(&v, Verdict::Ignored(why) if why.contains("enabled = false")),
            "{v:?}"
        );
        let v = judge(
            &policy(&format!("project = \"acme-dev\"\n{on_all}")),
            "google_sql_database_instance.orders",
            "google_monitoring_alert_policy.p",
        );
        assert!(
            matches!(&v, Verdict::Ignored(why) if why.contains("acme-dev")),
            "{v:?}"
        );
        let scoped = |id: &str| {
            format!(
                "conditions {{\n  condition_threshold {{\n    filter = \"metric.type = \\\"cloudsql.googleapis.com/database/cpu/utilization\\\" AND resource.label.database_id = \\\"acme-prod:{id}\\\"\"\n  }}\n}}"
            )
        };
        let v = judge(
            &policy(&scoped("orders")),
            "google_sql_database_instance.orders",
            "google_monitoring_alert_policy.p",
        );
        assert!(matches!(v, Verdict::Covers(_)), "{v:?}");
        let v = judge(
            &policy(&scoped("billing")),
            "google_sql_database_instance.orders",
            "google_monitoring_alert_policy.p",
        );
        assert!(matches!(v, Verdict::Ignored(_)), "{v:?}");
    }

    #[test]
    fn budgets_count_when_they_alert_on_this_spend() {
        let budget =
            |body: &str| format!("{SQL}resource \"google_billing_budget\" \"b\" {{\n{body}\n}}");
        let rule = "threshold_rules {\n  threshold_percent = 0.9\n}";
        let v = judge(
            &budget(rule),
            "google_sql_database_instance.orders",
            "google_billing_budget.b",
        );
        assert!(matches!(v, Verdict::Covers(_)), "{v:?}");
        let v = judge(
            &budget(""),
            "google_sql_database_instance.orders",
            "google_billing_budget.b",
        );
        assert!(
            matches!(&v, Verdict::Ignored(why) if why.contains("threshold_rules")),
            "{v:?}"
        );
        let v = judge(
            &budget(&format!(
                "{rule}\nbudget_filter {{\n  services = [\"services/6F81-5844-456A\"]\n}}"
            )),
            "google_sql_database_instance.orders",
            "google_billing_budget.b",
        );
        assert!(
            matches!(&v, Verdict::Ignored(why) if why.contains("Cloud SQL")),
            "{v:?}"
        );
        let v = judge(
            &budget(&format!(
                "{rule}\nbudget_filter {{\n  projects = [\"projects/123456789\"]\n}}"
            )),
            "google_sql_database_instance.orders",
            "google_billing_budget.b",
        );
        assert!(matches!(v, Verdict::Unresolved(_)), "{v:?}");

        let aws = |body: &str| {
            format!(
                "{RDS}resource \"aws_budgets_budget\" \"b\" {{\n  budget_type = \"COST\"\n{body}\n}}"
            )
        };
        let notify = "notification {\n  comparison_operator = \"GREATER_THAN\"\n  threshold = 80\n  threshold_type = \"PERCENTAGE\"\n  notification_type = \"ACTUAL\"\n  subscriber_email_addresses = [\"ops@example.com\"]\n}";
        let v = judge(
            &aws(notify),
            "aws_db_instance.orders",
            "aws_budgets_budget.b",
        );
        assert!(matches!(v, Verdict::Covers(_)), "{v:?}");
        let v = judge(&aws(""), "aws_db_instance.orders", "aws_budgets_budget.b");
        assert!(
            matches!(&v, Verdict::Ignored(why) if why.contains("notification")),
            "{v:?}"
        );
        let v = judge(
            &aws(&format!(
                "{notify}\ncost_filter {{\n  name = \"Service\"\n  values = [\"Amazon Elastic Compute Cloud - Compute\"]\n}}"
            )),
            "aws_db_instance.orders",
            "aws_budgets_budget.b",
        );
        assert!(matches!(v, Verdict::Ignored(_)), "{v:?}");
        let v = judge(
            &aws(&format!(
                "{notify}\ncost_filter {{\n  name = \"Service\"\n  values = [\"{RDS_SERVICE}\"]\n}}"
            )),
            "aws_db_instance.orders",
            "aws_budgets_budget.b",
        );
        assert!(matches!(v, Verdict::Covers(_)), "{v:?}");
    }
}
