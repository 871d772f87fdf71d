//! AWS Budgets (`budgets:ViewBudget`: `DescribeBudgets` for the run's account,
//! from `sts:GetCallerIdentity`, and `DescribeNotificationsForBudget` per
//! budget — once per account per run, never per instance): a database's spend
//! is watched when a `COST` budget covers it and alerts at a threshold.
//!
//! A budget covers a target when it is unfiltered (the whole account), or
//! every filter it has admits the target: `Service` = Amazon Relational
//! Database Service, `TagKeyValue` = `user:KEY$VALUE` of a tag the target
//! carries, `Region` = its region, `LinkedAccount` = the account. The newer
//! `FilterExpression` is read the same way for `Dimensions` (SERVICE, REGION,
//! LINKED_ACCOUNT), `Tags` and `And`; any other filter (usage types, cost
//! categories, `Or`, `Not`) is not judged, and the budget is named as not
//! counted rather than guessed. Without a notification with a threshold a
//! budget never alerts, so it does not count either.

use crate::facts::FactSink;
use std::collections::BTreeMap;

/// The Service filter value Budgets and Cost Explorer use for RDS (Aurora included).
pub const RDS_SERVICE: &str = "Amazon Relational Database Service";

/// A `FilterExpression`, as far as it is judged.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `Dimensions`: key (SERVICE, REGION, …) and values (EQUALS).
    Dimension(String, Vec<String>),
    /// `Tags`: key and values.
    Tag(String, Vec<String>),
    And(Vec<Expr>),
    /// Anything else, by name (`Or`, `Not`, `CostCategories`, a match option).
    Other(String),
}

/// One budget with its notifications' thresholds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Budget {
    pub name: String,
    /// `BudgetType`: COST, USAGE, RI_UTILIZATION, …
    pub budget_type: String,
    /// `CostFilters`: key → values.
    pub cost_filters: BTreeMap<String, Vec<String>>,
    pub expression: Option<Expr>,
    /// `Threshold` of each notification (`DescribeNotificationsForBudget`).
    pub thresholds: Vec<f64>,
}

/// The account's budgets, or why they could not be read.
pub type Budgets = Result<Vec<Budget>, super::aws_backup::Refused>;

/// What a budget's filters are matched against.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Subject {
    pub region: String,
    pub account: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl Subject {
    /// `user:KEY$VALUE` (or `KEY$VALUE`) names one of the target's tags.
    fn carries(&self, value: &str) -> bool {
        let value = value.strip_prefix("user:").unwrap_or(value);
        value
            .split_once('$')
            .is_some_and(|(k, v)| self.tags.get(k).is_some_and(|t| t == v))
    }

    fn carries_tag(&self, key: &str, values: &[String]) -> bool {
        let key = key.strip_prefix("user:").unwrap_or(key);
        self.tags
            .get(key)
            .is_some_and(|v| values.is_empty() || values.contains(v))
    }
}

/// Whether the budget covers the subject: `Ok(())`, or why not.
fn covers(budget: &Budget, subject: &Subject) -> Result<(), String> {
    if budget.budget_type != "COST" {
        return Err(format!("BudgetType {} (not COST)", budget.budget_type));
    }
    for (key, values) in &budget.cost_filters {
        let admits = match key.as_str() {
            "Service" => values.iter().any(|v| v == RDS_SERVICE),
            "TagKeyValue" => values.iter().any(|v| subject.carries(v)),
            "Region" => values.contains(&subject.region),
            "LinkedAccount" => subject.account.as_ref().is_some_and(|a| values.contains(a)),
            other => return Err(format!("CostFilters {other} is not judged")),
        };
        if !admits {
            return Err(format!(
                "CostFilters {key} = {} does not include this database",
                values.join(", ")
            ));
        }
    }
    match &budget.expression {
        Some(expr) => admits(expr, subject),
        None => Ok(()),
    }
}

fn admits(expr: &Expr, subject: &Subject) -> Result<(), String> {
    match expr {
        Expr::Dimension(key, values) => {
            let ok = match key.as_str() {
                "SERVICE" => values.iter().any(|v| v == RDS_SERVICE),
                "REGION" => values.contains(&subject.region),
                "LINKED_ACCOUNT" => subject.account.as_ref().is_some_and(|a| values.contains(a)),
                other => return Err(format!("FilterExpression dimension {other} is not judged")),
            };
            ok.then_some(()).ok_or_else(|| {
                format!(
                    "FilterExpression {key} = {} does not include this database",
                    values.join(", ")
                )
            })
        }
        Expr::Tag(key, values) => subject
            .carries_tag(key, values)
            .then_some(())
            .ok_or_else(|| {
                format!("FilterExpression tag {key} does not match this database's tags")
            }),
        Expr::And(all) => all.iter().try_for_each(|e| admits(e, subject)),
        Expr::Other(what) => Err(format!("FilterExpression {what} is not judged")),
    }
}

/// `rds.budgets.covering`, `rds.budgets.not_counted` and `cost.budget`.
pub fn facts(sink: &mut FactSink<'_>, subject: &Subject, budgets: &Budgets) {
    let paths = [
        "rds.budgets.covering",
        "rds.budgets.not_counted",
        "cost.budget",
    ];
    let budgets = match budgets {
        Ok(budgets) => budgets,
        Err(refused) => {
            let resolve = format!(
                "allow {} (AWS managed policy AWSBudgetsReadOnlyAccess); reading budgets is often reserved to the payer account",
                refused.permission
            );
            for path in paths {
                sink.unknown(
                    path,
                    format!("AWS Budgets could not be read: {}", refused.message),
                    Some(resolve.as_str()),
                );
            }
            return;
        }
    };
    let mut covering = Vec::new();
    let mut not_counted = Vec::new();
    for budget in budgets {
        match covers(budget, subject) {
            Err(why) => not_counted.push(format!("{}: {why}", budget.name)),
            Ok(()) if !budget.thresholds.iter().any(|t| *t > 0.0) => not_counted.push(format!(
                "{}: no notification with a threshold (it never alerts)",
                budget.name
            )),
            Ok(()) => covering.push(budget.name.clone()),
        }
    }
    let origin = format!(
        "budgets:DescribeBudgets of account {}: {} budget(s); COST budgets whose CostFilters / FilterExpression admit {RDS_SERVICE} in {} (or none), with a DescribeNotificationsForBudget threshold",
        subject.account.as_deref().unwrap_or("?"),
        budgets.len(),
        subject.region
    );
    sink.known("cost.budget", origin.clone(), !covering.is_empty());
    sink.known("rds.budgets.covering", origin.clone(), covering);
    sink.known("rds.budgets.not_counted", origin, not_counted);
}

/// Reads an SDK budget (without its notifications). `CostFilters` is deprecated
/// in favour of `FilterExpression`, but budgets made before it still carry it.
#[allow(deprecated)]
pub fn from_sdk(budget: &aws_sdk_budgets::types::Budget) -> Budget {
    Budget {
        name: budget.budget_name().to_string(),
        budget_type: budget.budget_type().as_str().to_string(),
        cost_filters: budget
            .cost_filters()
            .map(|filters| {
                filters
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        expression: budget.filter_expression().map(expression),
        thresholds: Vec::new(),
    }
}

fn expression(expr: &aws_sdk_budgets::types::Expression) -> Expr {
    let equals = |options: &[aws_sdk_budgets::types::MatchOption]| {
        options.is_empty() || options.iter().all(|o| o.as_str() == "EQUALS")
    };
    if !expr.and().is_empty() {
        return Expr::And(expr.and().iter().map(expression).collect());
    }
    if !expr.or().is_empty() {
        return Expr::Other("Or".into());
    }
    if expr.not().is_some() {
        return Expr::Other("Not".into());
    }
    if let Some(d) = expr.dimensions() {
        if !equals(d.match_options()) {
            return Expr::Other("a non-EQUALS match option".into());
        }
        return Expr::Dimension(d.key().as_str().to_string(), d.values().to_vec());
    }
    if let Some(t) = expr.tags() {
        if !equals(t.match_options()) {
            return Expr::Other("a non-EQUALS tag match option".into());
        }
        return Expr::Tag(t.key().unwrap_or_default().to_string(), t.values().to_vec());
    }
    Expr::Other("CostCategories".into())
}

/// The Budgets endpoint region of the partition the run's region is in (Budgets is global).
pub fn home_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "cn-northwest-1"
    } else if region.starts_with("us-gov-") {
        "us-gov-west-1"
    } else {
        "us-east-1"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            region: "eu-west-1".into(),
            account: Some("123456789012".into()),
            tags: [("team".to_string(), "orders".to_string())].into(),
        }
    }

    fn budget(name: &str, filters: &[(&str, &[&str])]) -> Budget {
        Budget {
            name: name.into(),
            budget_type: "COST".into(),
            cost_filters: filters
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
            expression: None,
            thresholds: vec![80.0],
        }
    }

    fn run(budgets: Vec<Budget>) -> crate::facts::Facts {
        let mut sink = FactSink::new("rds");
        facts(&mut sink, &subject(), &Ok(budgets));
        sink.finish()
    }

    fn list(facts: &crate::facts::Facts, path: &str) -> Vec<String> {
        serde_json::from_value(facts[path].value().cloned().unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn unfiltered_rds_and_tag_budgets_cover() {
        let facts = run(vec![
            budget("account", &[]),
            budget(
                "rds",
                &[("Service", &[RDS_SERVICE]), ("Region", &["eu-west-1"])],
            ),
            budget("team", &[("TagKeyValue", &["user:team$orders"])]),
        ]);
        assert_eq!(
            list(&facts, "rds.budgets.covering"),
            ["account", "rds", "team"]
        );
        assert_eq!(facts["cost.budget"].value(), Some(&true.into()));
    }

    #[test]
    fn other_services_tags_usage_and_silent_budgets_do_not() {
        let mut silent = budget("silent", &[]);
        silent.thresholds.clear();
        let mut usage = budget("usage", &[]);
        usage.budget_type = "USAGE".into();
        let facts = run(vec![
            budget(
                "ec2",
                &[("Service", &["Amazon Elastic Compute Cloud - Compute"])],
            ),
            budget("billing", &[("TagKeyValue", &["user:team$billing"])]),
            budget(
                "types",
                &[("UsageType", &["EU-InstanceUsage:db.r6g.large"])],
            ),
            silent,
            usage,
        ]);
        assert!(list(&facts, "rds.budgets.covering").is_empty());
        let why = list(&facts, "rds.budgets.not_counted").join("\n");
        assert!(why.contains("ec2: CostFilters Service"), "{why}");
        assert!(
            why.contains("types: CostFilters UsageType is not judged"),
            "{why}"
        );
        assert!(why.contains("silent: no notification"), "{why}");
        assert!(why.contains("usage: BudgetType USAGE"), "{why}");
        assert_eq!(facts["cost.budget"].value(), Some(&false.into()));
    }

    #[test]
    fn filter_expressions_are_read_for_service_and_tags() {
        let mut b = budget("expr", &[]);
        b.expression = Some(Expr::And(vec![
            Expr::Dimension("SERVICE".into(), vec![RDS_SERVICE.into()]),
            Expr::Tag("team".into(), vec!["orders".into()]),
        ]));
        let mut or = budget("or", &[]);
        or.expression = Some(Expr::Other("Or".into()));
        let facts = run(vec![b, or]);
        assert_eq!(list(&facts, "rds.budgets.covering"), ["expr"]);
    }

    #[test]
    fn refused_is_unknown_naming_the_permission() {
        let mut sink = FactSink::new("rds");
        let refused = Err(super::super::aws_backup::Refused {
            permission: "budgets:ViewBudget".into(),
            message: "AccessDeniedException".into(),
        });
        facts(&mut sink, &subject(), &refused);
        let facts = sink.finish();
        assert!(
            matches!(&facts["cost.budget"].state, crate::facts::FactState::Unknown { resolve: Some(r), .. } if r.contains("budgets:ViewBudget"))
        );
    }
}
