//! RDS event subscriptions (`DescribeEventSubscriptions`, once per region per
//! run): the standard alerting path for what CloudWatch metrics do not show —
//! a failover, an instance failure, storage running out, maintenance. A
//! subscription covers a target when it is enabled and active, its source
//! type is the target's (`db-instance`, `db-cluster`) or unset (every source),
//! its source ids list the target or are empty (every source of the type).

use crate::facts::FactSink;
use aws_sdk_rds::types::EventSubscription;

/// One subscription as the API lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub name: String,
    pub enabled: bool,
    pub status: String,
    pub source_type: Option<String>,
    pub source_ids: Vec<String>,
    /// Empty: every category.
    pub categories: Vec<String>,
}

impl Subscription {
    pub fn from_sdk(sub: &EventSubscription) -> Subscription {
        Subscription {
            name: sub.cust_subscription_id().unwrap_or_default().to_string(),
            enabled: sub.enabled().unwrap_or(false),
            status: sub.status().unwrap_or_default().to_string(),
            source_type: sub.source_type().map(str::to_string),
            source_ids: sub.source_ids_list().to_vec(),
            categories: sub.event_categories_list().to_vec(),
        }
    }

    fn covers(&self, source_type: &str, id: &str) -> bool {
        self.enabled
            && self.status != "inactive"
            && self
                .source_type
                .as_deref()
                .is_none_or(|t| t.is_empty() || t == source_type)
            && (self.source_ids.is_empty() || self.source_ids.iter().any(|s| s == id))
    }
}

/// The region's subscriptions, or why they could not be read.
pub type Subscriptions = Result<Vec<Subscription>, String>;

/// The categories a database's alerting needs, by source type. DB clusters
/// have no `low storage` category (Aurora storage grows by itself).
pub fn wanted(source_type: &str) -> &'static [&'static str] {
    match source_type {
        "db-cluster" => &["failover", "failure", "maintenance"],
        _ => &["failover", "failure", "low storage", "maintenance"],
    }
}

/// `rds.events.subscriptions` (those covering this target) and
/// `rds.events.missing_categories` (wanted categories none of them covers).
/// A cluster also counts the subscriptions to its member instances.
pub fn facts(
    sink: &mut FactSink<'_>,
    source_type: &str,
    id: &str,
    members: &[String],
    subscriptions: &Subscriptions,
) {
    let subscriptions = match subscriptions {
        Ok(subscriptions) => subscriptions,
        Err(reason) => {
            for path in ["rds.events.subscriptions", "rds.events.missing_categories"] {
                sink.unknown(
                    path,
                    format!("DescribeEventSubscriptions could not be read: {reason}"),
                    Some("allow rds:DescribeEventSubscriptions (AmazonRDSReadOnlyAccess)"),
                );
            }
            return;
        }
    };
    let covering: Vec<&Subscription> = subscriptions
        .iter()
        .filter(|s| s.covers(source_type, id) || members.iter().any(|m| s.covers("db-instance", m)))
        .collect();
    let missing: Vec<String> = wanted(source_type)
        .iter()
        .filter(|category| {
            !covering
                .iter()
                .any(|s| s.categories.is_empty() || s.categories.iter().any(|c| c == *category))
        })
        .map(|c| c.to_string())
        .collect();
    let origin = format!(
        "DescribeEventSubscriptions: {} subscription(s) in the region, enabled ones whose SourceType is {source_type} or unset and whose SourceIdsList is empty or names {id}",
        subscriptions.len()
    );
    sink.known(
        "rds.events.subscriptions",
        origin.clone(),
        covering.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
    );
    sink.known("rds.events.missing_categories", origin, missing);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(
        name: &str,
        source_type: Option<&str>,
        ids: &[&str],
        categories: &[&str],
    ) -> Subscription {
        Subscription {
            name: name.into(),
            enabled: true,
            status: "active".into(),
            source_type: source_type.map(str::to_string),
            source_ids: ids.iter().map(|s| s.to_string()).collect(),
            categories: categories.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn list(facts: &crate::facts::Facts, path: &str) -> Vec<String> {
        serde_json::from_value(facts[path].value().cloned().unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn a_subscription_for_every_instance_covers_all_categories() {
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            "db-instance",
            "orders",
            &[],
            &Ok(vec![sub("all", Some("db-instance"), &[], &[])]),
        );
        let facts = sink.finish();
        assert_eq!(list(&facts, "rds.events.subscriptions"), ["all"]);
        assert!(list(&facts, "rds.events.missing_categories").is_empty());
    }

    #[test]
    fn a_subscription_for_other_ids_or_categories_leaves_gaps() {
        let subs = Ok(vec![
            sub("other", Some("db-instance"), &["billing"], &[]),
            sub("failover", None, &["orders"], &["failover", "failure"]),
        ]);
        let mut sink = FactSink::new("rds");
        facts(&mut sink, "db-instance", "orders", &[], &subs);
        let facts = sink.finish();
        assert_eq!(list(&facts, "rds.events.subscriptions"), ["failover"]);
        assert_eq!(
            list(&facts, "rds.events.missing_categories"),
            ["low storage", "maintenance"]
        );
    }

    #[test]
    fn a_disabled_subscription_covers_nothing() {
        let mut disabled = sub("off", None, &[], &[]);
        disabled.enabled = false;
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            "db-cluster",
            "c1",
            &["c1-a".into()],
            &Ok(vec![disabled]),
        );
        assert_eq!(
            list(&sink.finish(), "rds.events.missing_categories").len(),
            3
        );
    }
}
