//! AWS Backup coverage of RDS instances and clusters: a database whose backups
//! AWS Backup owns (its own schedule, retention, cross-region copies and
//! vault lock) may have automated backups off and still be backed up.
//!
//! Read once per region per run, never per instance: `ListBackupPlans`, for
//! each plan `GetBackupPlan` and `ListBackupSelections` + `GetBackupSelection`,
//! `ListProtectedResources` (the last recovery point of each resource) and
//! `ListBackupVaults` (vault lock). A selection covers a target as AWS Backup
//! documents it (see [`Selection::selects`]): by ARN (`Resources`, `*`
//! wildcards) and by the target's tags (`TagList`, already in the
//! DescribeDBInstances / DescribeDBClusters answer), minus `NotResources`.

use crate::facts::FactSink;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// One backup plan with its rules and resource selections.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub name: String,
    pub rules: Vec<Rule>,
    pub selections: Vec<Selection>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rule {
    pub name: String,
    pub vault: String,
    /// `Lifecycle.DeleteAfterDays`; `None`: kept until deleted.
    pub delete_after_days: Option<i64>,
    /// `CopyActions[].DestinationBackupVaultArn`.
    pub copies_to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selection {
    pub name: String,
    pub resources: Vec<String>,
    pub not_resources: Vec<String>,
    /// `ListOfTags` (all STRINGEQUALS): (tag key, value); any one selects.
    pub list_of_tags: Vec<(String, String)>,
    /// `Conditions`: every one must hold.
    pub conditions: Vec<Condition>,
}

/// One entry of a selection's `Conditions` on `aws:ResourceTag/KEY`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: Operator,
    /// The tag key (`aws:ResourceTag/` stripped).
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringLike,
    StringNotLike,
}

impl Operator {
    pub fn name(self) -> &'static str {
        match self {
            Operator::StringEquals => "StringEquals",
            Operator::StringNotEquals => "StringNotEquals",
            Operator::StringLike => "StringLike",
            Operator::StringNotLike => "StringNotLike",
        }
    }
}

/// The tag key a condition names: `aws:ResourceTag/KEY` (Conditions) or the
/// bare `KEY` that `ListOfTags` examples use.
pub fn tag_key(condition_key: &str) -> String {
    condition_key
        .strip_prefix("aws:ResourceTag/")
        .unwrap_or(condition_key)
        .to_string()
}

impl Condition {
    /// Case-sensitive, as AWS Backup documents; a negated operator holds when
    /// the tag is absent (IAM condition semantics, which the keys follow).
    fn holds(&self, tags: &BTreeMap<String, String>) -> bool {
        let value = tags.get(&self.key);
        match self.operator {
            Operator::StringEquals => value.is_some_and(|v| *v == self.value),
            Operator::StringNotEquals => value.is_none_or(|v| *v != self.value),
            Operator::StringLike => value.is_some_and(|v| matches(&self.value, v)),
            Operator::StringNotLike => value.is_none_or(|v| !matches(&self.value, v)),
        }
    }
}

impl Selection {
    /// Whether this selection assigns the resource `arn` with `tags`, per AWS
    /// Backup's documented rules: `Resources` and `Conditions` are combined
    /// with AND (an empty `Resources` with conditions: every resource), the
    /// entries of `ListOfTags` with OR, and `ListOfTags` with the rest with
    /// OR; `NotResources` removes; a selection with none of them selects
    /// every supported resource.
    pub fn selects(&self, arn: &str, tags: &BTreeMap<String, String>) -> bool {
        if self.not_resources.iter().any(|r| matches(r, arn)) {
            return false;
        }
        if self.resources.is_empty() && self.conditions.is_empty() && self.list_of_tags.is_empty() {
            return true;
        }
        let by_resources = (!self.resources.is_empty() || !self.conditions.is_empty())
            && (self.resources.is_empty() || self.resources.iter().any(|r| matches(r, arn)))
            && self.conditions.iter().all(|c| c.holds(tags));
        let by_tags = self
            .list_of_tags
            .iter()
            .any(|(key, value)| tags.get(key) == Some(value));
        by_resources || by_tags
    }
}

/// A resource with a recovery point (`ListProtectedResources`).
#[derive(Debug, Clone, PartialEq)]
pub struct Protected {
    pub arn: String,
    pub last_backup: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Vault {
    pub name: String,
    pub locked: bool,
}

/// What AWS Backup holds in a region.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Holdings {
    pub plans: Vec<Plan>,
    pub protected: Vec<Protected>,
    pub vaults: Vec<Vault>,
}

/// Why AWS Backup could not be read: the call, the permission it needs, the error.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub permission: String,
    pub message: String,
}

pub type Coverage = Result<Holdings, Refused>;

/// `*` matches any run of characters, as in AWS Backup resource assignments.
pub fn matches(pattern: &str, arn: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == arn;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !arn.starts_with(first) || arn.len() < first.len() + last.len() || !arn.ends_with(last) {
        return false;
    }
    let mut rest = &arn[first.len()..arn.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3)
}

/// `backups.aws_backup.*` for the target whose ARN is `arn`, and, when a plan
/// covers it, `backups.enabled` / `backups.retention_days` as AWS Backup
/// keeps them (so a database backed up only by AWS Backup is not judged as
/// having no backups). `automated` is what automated backups alone said.
pub fn facts(
    sink: &mut FactSink<'_>,
    arn: Option<&str>,
    tags: &BTreeMap<String, String>,
    region: &str,
    automated: Option<i64>,
    coverage: &Coverage,
    now: DateTime<Utc>,
) {
    let paths = [
        "backups.aws_backup.plans",
        "backups.aws_backup.retention_days",
        "backups.aws_backup.last_backup_age_hours",
        "backups.aws_backup.vault_locked",
        "backups.aws_backup.cross_region",
    ];
    let holdings = match coverage {
        Ok(holdings) => holdings,
        Err(refused) => {
            let resolve = format!(
                "allow {} (AWS managed policy AWSBackupAuditAccess)",
                refused.permission
            );
            for path in paths {
                sink.unknown(
                    path,
                    format!("AWS Backup could not be read: {}", refused.message),
                    Some(resolve.as_str()),
                );
            }
            if automated == Some(0) {
                // Off as automated backups go; AWS Backup may still hold them.
                sink.unknown(
                    "backups.enabled",
                    format!("BackupRetentionPeriod is 0 (automated backups off) and AWS Backup, which may back it up instead, could not be read: {}", refused.message),
                    Some(resolve.as_str()),
                );
                sink.unknown(
                    "backups.retention_days",
                    format!(
                        "BackupRetentionPeriod is 0 and AWS Backup could not be read: {}",
                        refused.message
                    ),
                    Some(resolve.as_str()),
                );
            }
            return;
        }
    };
    let Some(arn) = arn else {
        for path in paths {
            sink.unknown(
                path,
                "the RDS answer has no ARN to match AWS Backup selections against",
                None,
            );
        }
        return;
    };
    let covering: Vec<(&Plan, &Selection)> = holdings
        .plans
        .iter()
        .flat_map(|plan| plan.selections.iter().map(move |s| (plan, s)))
        .filter(|(_, selection)| selection.selects(arn, tags))
        .collect();
    let tagged = if tags.is_empty() {
        "no tags".to_string()
    } else {
        format!(
            "tags {}",
            tags.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let origin = format!(
        "AWS Backup: {} plan(s) in {region}, selections whose Resources, ListOfTags and Conditions select {arn} ({tagged})",
        holdings.plans.len()
    );
    let names: Vec<String> = covering
        .iter()
        .map(|(p, s)| format!("{}/{}", p.name, s.name))
        .collect();
    sink.known("backups.aws_backup.plans", origin.clone(), names.clone());
    let rules: Vec<&Rule> = covering.iter().flat_map(|(p, _)| p.rules.iter()).collect();
    let protected = holdings.protected.iter().find(|p| p.arn == arn);
    match protected.and_then(|p| p.last_backup) {
        Some(at) => sink.known(
            "backups.aws_backup.last_backup_age_hours",
            format!("ListProtectedResources LastBackupTime of {arn}"),
            ((now - at).num_minutes() as f64 / 60.0 * 10.0).round() / 10.0,
        ),
        None => sink.known(
            "backups.aws_backup.last_backup_age_hours",
            format!("ListProtectedResources does not list {arn}: no recovery point yet"),
            serde_json::Value::Null,
        ),
    }
    if rules.is_empty() {
        for path in [
            "backups.aws_backup.retention_days",
            "backups.aws_backup.vault_locked",
            "backups.aws_backup.cross_region",
        ] {
            sink.known(path, origin.clone(), serde_json::Value::Null);
        }
        return;
    }
    // The longest-kept recovery points count; "until deleted" beats any number.
    let forever = rules.iter().find(|r| r.delete_after_days.is_none());
    let retention = match forever {
        Some(_) => -1,
        None => rules
            .iter()
            .filter_map(|r| r.delete_after_days)
            .max()
            .unwrap_or(0),
    };
    let rule_names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    sink.known(
        "backups.aws_backup.retention_days",
        format!(
            "AWS Backup rules {} Lifecycle.DeleteAfterDays (-1: kept until deleted)",
            rule_names.join(", ")
        ),
        retention,
    );
    let vaults: Vec<&str> = rules.iter().map(|r| r.vault.as_str()).collect();
    let unlocked: Vec<&str> = vaults
        .iter()
        .copied()
        .filter(|v| {
            !holdings
                .vaults
                .iter()
                .any(|vault| vault.name == *v && vault.locked)
        })
        .collect();
    sink.known(
        "backups.aws_backup.vault_locked",
        if unlocked.is_empty() {
            format!("ListBackupVaults Locked of {}", vaults.join(", "))
        } else {
            format!("ListBackupVaults: not locked: {}", unlocked.join(", "))
        },
        unlocked.is_empty(),
    );
    let copied_to: Vec<&str> = rules
        .iter()
        .flat_map(|r| r.copies_to.iter())
        .filter(|dest| region_of(dest).is_some_and(|r| r != region))
        .map(String::as_str)
        .collect();
    sink.known(
        "backups.aws_backup.cross_region",
        "AWS Backup rules CopyActions[].DestinationBackupVaultArn",
        !copied_to.is_empty(),
    );
    // Off-site copies made by AWS Backup count like replicated automated backups.
    if !copied_to.is_empty() {
        sink.known(
            "rds.backups.cross_region_replication",
            format!(
                "AWS Backup copies recovery points to {}",
                copied_to.join(", ")
            ),
            true,
        );
    }
    // Evidence for `backups`: AWS Backup protects it as well as (or instead of) automated backups.
    let plans = names.join(", ");
    if automated.is_none_or(|days| days == 0) {
        sink.known(
            "backups.enabled",
            format!("AWS Backup plan selection(s) {plans} protect {arn} (BackupRetentionPeriod = 0: automated backups off)"),
            true,
        );
    }
    let kept = if retention < 0 { 36500 } else { retention };
    if automated.is_none_or(|days| days < kept) {
        sink.known(
            "backups.retention_days",
            if retention < 0 {
                format!("AWS Backup rules {} keep recovery points until deleted (no DeleteAfterDays; counted as 36500 days)", rule_names.join(", "))
            } else {
                format!("AWS Backup rules {} Lifecycle.DeleteAfterDays = {retention}", rule_names.join(", "))
            },
            kept,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const ARN: &str = "arn:aws:rds:eu-west-1:123456789012:db:orders";

    fn plan(resources: &[&str], delete_after: Option<i64>) -> Plan {
        Plan {
            name: "daily".into(),
            rules: vec![Rule {
                name: "daily-35".into(),
                vault: "prod".into(),
                delete_after_days: delete_after,
                copies_to: vec!["arn:aws:backup:eu-central-1:123456789012:backup-vault:dr".into()],
            }],
            selections: vec![Selection {
                name: "rds".into(),
                resources: resources.iter().map(|s| s.to_string()).collect(),
                ..Selection::default()
            }],
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
            .single()
            .expect("a date")
    }

    #[test]
    fn wildcards_match_as_aws_backup_applies_them() {
        assert!(matches("*", ARN));
        assert!(matches("arn:aws:rds:*:*:db:*", ARN));
        assert!(matches("arn:aws:rds:eu-west-1:123456789012:db:ord*", ARN));
        assert!(!matches("arn:aws:rds:*:*:cluster:*", ARN));
        assert!(!matches("arn:aws:rds:eu-west-1:123456789012:db:order", ARN));
    }

    #[test]
    fn a_plan_that_selects_the_arn_stands_for_backups() {
        let holdings = Holdings {
            plans: vec![plan(&["arn:aws:rds:*:*:db:*"], Some(35))],
            protected: vec![Protected {
                arn: ARN.into(),
                last_backup: Some(now() - chrono::Duration::hours(5)),
            }],
            vaults: vec![Vault {
                name: "prod".into(),
                locked: true,
            }],
        };
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            Some(ARN),
            &BTreeMap::new(),
            "eu-west-1",
            Some(0),
            &Ok(holdings),
            now(),
        );
        let facts = sink.finish();
        assert_eq!(facts["backups.enabled"].value(), Some(&true.into()));
        assert_eq!(facts["backups.retention_days"].value(), Some(&35.into()));
        assert_eq!(
            facts["backups.aws_backup.vault_locked"].value(),
            Some(&true.into())
        );
        assert_eq!(
            facts["backups.aws_backup.cross_region"].value(),
            Some(&true.into())
        );
        assert_eq!(
            facts["backups.aws_backup.last_backup_age_hours"].value(),
            Some(&5.0.into())
        );
    }

    #[test]
    fn an_excluded_arn_is_not_covered_and_automated_backups_stay_the_judge() {
        let mut p = plan(&["*"], Some(35));
        p.selections[0].not_resources = vec![ARN.into()];
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            Some(ARN),
            &BTreeMap::new(),
            "eu-west-1",
            Some(0),
            &Ok(Holdings {
                plans: vec![p],
                ..Holdings::default()
            }),
            now(),
        );
        let facts = sink.finish();
        assert!(!facts.contains_key("backups.enabled"));
        assert_eq!(
            facts["backups.aws_backup.plans"].value(),
            Some(&serde_json::json!([]))
        );
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn condition(operator: Operator, key: &str, value: &str) -> Condition {
        Condition {
            operator,
            key: tag_key(key),
            value: value.into(),
        }
    }

    #[test]
    fn list_of_tags_are_ored_and_also_ored_with_resources() {
        let selection = Selection {
            resources: vec!["arn:aws:rds:*:*:cluster:*".into()],
            list_of_tags: vec![
                ("backup".into(), "daily".into()),
                ("tier".into(), "gold".into()),
            ],
            ..Selection::default()
        };
        assert!(selection.selects(ARN, &tags(&[("tier", "gold")])));
        assert!(selection.selects(ARN, &tags(&[("backup", "daily"), ("tier", "x")])));
        // Case-sensitive; an instance ARN is not a cluster.
        assert!(!selection.selects(ARN, &tags(&[("backup", "Daily")])));
        assert!(!selection.selects(ARN, &tags(&[])));
    }

    #[test]
    fn conditions_are_anded_with_each_other_and_with_resources() {
        let selection = Selection {
            resources: vec!["arn:aws:rds:*:*:db:*".into()],
            conditions: vec![
                condition(Operator::StringEquals, "aws:ResourceTag/backup", "yes"),
                condition(Operator::StringLike, "aws:ResourceTag/env", "prod*"),
                condition(
                    Operator::StringNotEquals,
                    "aws:ResourceTag/owner",
                    "sandbox",
                ),
                condition(Operator::StringNotLike, "aws:ResourceTag/name", "*-tmp"),
            ],
            ..Selection::default()
        };
        let good = tags(&[("backup", "yes"), ("env", "production")]);
        assert!(selection.selects(ARN, &good));
        let mut sandbox = good.clone();
        sandbox.insert("owner".into(), "sandbox".into());
        assert!(!selection.selects(ARN, &sandbox));
        let mut temporary = good.clone();
        temporary.insert("name".into(), "orders-tmp".into());
        assert!(!selection.selects(ARN, &temporary));
        assert!(!selection.selects(ARN, &tags(&[("backup", "yes"), ("env", "staging")])));
        // The conditions hold but the Resources do not name a cluster.
        assert!(!selection.selects("arn:aws:rds:eu-west-1:123456789012:cluster:c", &tags(&[])));
    }

    #[test]
    fn conditions_without_resources_select_any_resource_and_not_resources_remove() {
        let mut selection = Selection {
            conditions: vec![condition(
                Operator::StringEquals,
                "aws:ResourceTag/backup",
                "yes",
            )],
            ..Selection::default()
        };
        assert!(selection.selects(ARN, &tags(&[("backup", "yes")])));
        selection.not_resources = vec![ARN.into()];
        assert!(!selection.selects(ARN, &tags(&[("backup", "yes")])));
        // Only ListOfTags: nothing else is selected.
        let only_tags = Selection {
            list_of_tags: vec![("backup".into(), "yes".into())],
            ..Selection::default()
        };
        assert!(!only_tags.selects(ARN, &tags(&[])));
        // Nothing at all: every supported resource.
        assert!(Selection::default().selects(ARN, &tags(&[])));
    }

    #[test]
    fn refused_makes_backups_unknown_only_when_automated_backups_are_off() {
        let refused = Err(Refused {
            permission: "backup:ListBackupPlans".into(),
            message: "AccessDeniedException".into(),
        });
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            Some(ARN),
            &BTreeMap::new(),
            "eu-west-1",
            Some(7),
            &refused,
            now(),
        );
        assert!(!sink.finish().contains_key("backups.enabled"));
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            Some(ARN),
            &BTreeMap::new(),
            "eu-west-1",
            Some(0),
            &refused,
            now(),
        );
        let facts = sink.finish();
        assert!(
            matches!(&facts["backups.enabled"].state, crate::facts::FactState::Unknown { resolve: Some(r), .. } if r.contains("backup:ListBackupPlans"))
        );
    }
}
