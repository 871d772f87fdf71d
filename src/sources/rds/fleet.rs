//! The checklist items that live beside the database, read once per region
//! or account per run and applied to each target after its own facts:
//! CloudWatch alarms ([`alarms`], per region), AWS Budgets ([`budgets`], per
//! account) and the sharing of manual snapshots ([`snapshots`]: the lists per
//! region, then one attribute read per manual snapshot of an audited
//! database). A refused API leaves its items `unknown` naming the IAM
//! permission, with one warning per run; the rest of the target is unchanged.

use super::aws_backup::Refused;
use super::regional::Unit;
use super::{Session, alarms, budgets, errors, snapshots};
use crate::facts::snapshot::TargetFacts;
use crate::facts::{FactSink, RawEvidence};
use crate::target::Role;
use aws_config::Region;
use aws_sdk_rds::Client;
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// A region's manual snapshots by the instance or cluster they were taken of.
#[derive(Debug, Clone)]
struct SnapshotList {
    instances: Result<HashMap<String, Vec<String>>, Refused>,
    clusters: Result<HashMap<String, Vec<String>>, Refused>,
}

/// A snapshot answer that is missing (cannot happen after a read; said, not guessed).
fn not_read() -> Refused {
    Refused {
        permission: String::new(),
        message: "not read in this run".into(),
    }
}

type RestoreAnswer = Result<Vec<String>, Refused>;

/// A region's manual DB snapshots as (snapshot id, instance id).
pub(super) type ManualSnapshots = Result<Vec<(String, String)>, Refused>;

/// Answers read at most once per key in a run.
type Cells<K, V> = Mutex<HashMap<K, Arc<OnceCell<V>>>>;

/// What the run read, by region / account / snapshot.
#[derive(Default)]
pub struct Cache {
    alarms: Cells<String, alarms::Alarms>,
    budgets: OnceCell<budgets::Budgets>,
    lists: Cells<String, SnapshotList>,
    /// Per region: the manual DB snapshots (shared with the restore drills).
    manual_db: Cells<String, ManualSnapshots>,
    /// (region, `instance` | `cluster`, snapshot) → its `restore` attribute.
    restore: Cells<(String, &'static str, String), RestoreAnswer>,
    /// An attribute read was refused: the others are not asked in the run.
    restore_denied: Mutex<Option<Refused>>,
    /// The warnings said so far (one per refused API per run).
    warned: Mutex<BTreeSet<String>>,
}

/// What one region's targets are judged with.
#[derive(Debug, Clone)]
pub struct FleetWide {
    pub alarms: alarms::Alarms,
    pub budgets: budgets::Budgets,
    pub account: Option<String>,
    /// (`instance` | `cluster`, id) → its manual snapshots.
    pub snapshots: HashMap<(&'static str, String), snapshots::Listed>,
}

/// The refusal of one API call, in the words of its own service.
fn refused(permission: &str, operation: &str, region: &str, err: errors::RdsError) -> Refused {
    Refused {
        permission: permission.to_string(),
        // A 403 whose body is not in the service's error shape is a refusal too.
        message: if err.is_access_denied()
            || matches!(
                err,
                errors::RdsError::Service {
                    status: Some(403),
                    ..
                } | errors::RdsError::Malformed {
                    status: Some(403),
                    ..
                }
            ) {
            format!(
                "{operation} in {region} was denied (AccessDenied): {permission} is not allowed"
            )
        } else {
            err.to_string()
        },
    }
}

impl Session {
    /// Reads what the region's audited databases need: `audited` lists
    /// (`instance` | `cluster`, id) of each.
    pub(super) async fn fleet_wide(
        &self,
        client: &Client,
        region: &str,
        audited: &[(&'static str, String)],
    ) -> FleetWide {
        let (alarms, (budgets, account), snapshots) = futures::join!(
            self.alarms_of(region),
            self.budgets_of(region),
            self.snapshots_of(client, region, audited)
        );
        FleetWide {
            alarms,
            budgets,
            account,
            snapshots,
        }
    }

    fn warn_once(&self, key: &str, text: String) {
        let mut warned = self.fleet.warned.lock().unwrap_or_else(|e| e.into_inner());
        if warned.insert(key.to_string()) {
            tracing::warn!("{text}");
        }
    }

    async fn alarms_of(&self, region: &str) -> alarms::Alarms {
        let cell = {
            let mut cells = self.fleet.alarms.lock().unwrap_or_else(|e| e.into_inner());
            cells.entry(region.to_string()).or_default().clone()
        };
        let answer = cell.get_or_init(|| self.read_alarms(region)).await.clone();
        if let Err(refused) = &answer {
            self.warn_once(
                "alarms",
                format!(
                    "CloudWatch alarms could not be read ({}): monitoring by alarms is unknown; allow {}",
                    refused.message, refused.permission
                ),
            );
        }
        answer
    }

    async fn read_alarms(&self, region: &str) -> alarms::Alarms {
        let conf = aws_sdk_cloudwatch::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(super::CapAnswers)
            .retry_classifier(super::RetryAfter)
            .build();
        let client = aws_sdk_cloudwatch::Client::from_conf(conf);
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.calls.record("cloudwatch:DescribeAlarms");
            let page = client
                .describe_alarms()
                .max_records(100)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    refused(
                        "cloudwatch:DescribeAlarms",
                        "DescribeAlarms",
                        region,
                        errors::classify(&e, "DescribeAlarms", region, self.max_attempts),
                    )
                })?;
            found.extend(
                page.metric_alarms()
                    .iter()
                    .map(alarms::Alarm::from_sdk)
                    .filter(|a| a.watches.iter().any(|w| w.namespace == "AWS/RDS")),
            );
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(found);
            }
        }
    }

    /// The account's budgets (once per run) and the account they were read for.
    async fn budgets_of(&self, region: &str) -> (budgets::Budgets, Option<String>) {
        let caller = self.caller_identity(region).await;
        let account = caller.as_ref().ok().and_then(|c| c.account.clone());
        let answer = self
            .fleet
            .budgets
            .get_or_init(|| async {
                match &account {
                    Some(account) => self.read_budgets(region, account).await,
                    None => Err(Refused {
                        permission: "sts:GetCallerIdentity".into(),
                        message: format!(
                            "the account to read budgets for is not known: {}",
                            caller
                                .as_ref()
                                .err()
                                .map_or("no account in the answer", |e| e.as_str())
                        ),
                    }),
                }
            })
            .await
            .clone();
        if let Err(refused) = &answer {
            self.warn_once(
                "budgets",
                format!(
                    "AWS Budgets could not be read ({}): cost is unknown; allow {}",
                    refused.message, refused.permission
                ),
            );
        }
        (answer, account)
    }

    async fn read_budgets(&self, region: &str, account: &str) -> budgets::Budgets {
        let home = budgets::home_region(region);
        let conf = aws_sdk_budgets::config::Builder::from(&self.config)
            .region(Region::new(home))
            .interceptor(super::CapAnswers)
            .retry_classifier(super::RetryAfter)
            .build();
        let client = aws_sdk_budgets::Client::from_conf(conf);
        let deny = |operation: &str, err: errors::RdsError| {
            refused("budgets:ViewBudget", operation, home, err)
        };
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.calls.record("budgets:DescribeBudgets");
            let page = client
                .describe_budgets()
                .account_id(account)
                .max_results(100)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    deny(
                        "DescribeBudgets",
                        errors::classify(&e, "DescribeBudgets", home, self.max_attempts),
                    )
                })?;
            found.extend(page.budgets().iter().map(budgets::from_sdk));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        for budget in &mut found {
            let mut token: Option<String> = None;
            loop {
                self.calls.record("budgets:DescribeNotificationsForBudget");
                let page = client
                    .describe_notifications_for_budget()
                    .account_id(account)
                    .budget_name(&budget.name)
                    .max_results(100)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| {
                        deny(
                            "DescribeNotificationsForBudget",
                            errors::classify(
                                &e,
                                "DescribeNotificationsForBudget",
                                home,
                                self.max_attempts,
                            ),
                        )
                    })?;
                budget
                    .thresholds
                    .extend(page.notifications().iter().map(|n| n.threshold()));
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// The manual snapshots of the audited databases and who may restore each.
    async fn snapshots_of(
        &self,
        client: &Client,
        region: &str,
        audited: &[(&'static str, String)],
    ) -> HashMap<(&'static str, String), snapshots::Listed> {
        let cell = {
            let mut cells = self.fleet.lists.lock().unwrap_or_else(|e| e.into_inner());
            cells.entry(region.to_string()).or_default().clone()
        };
        let list = cell
            .get_or_init(|| self.read_snapshot_list(client, region))
            .await
            .clone();
        let wanted: Vec<(&'static str, String)> = audited
            .iter()
            .flat_map(|(kind, id)| {
                let of = if *kind == "cluster" {
                    &list.clusters
                } else {
                    &list.instances
                };
                of.as_ref()
                    .ok()
                    .and_then(|by| by.get(id))
                    .into_iter()
                    .flatten()
                    .map(|snapshot| (*kind, snapshot.clone()))
            })
            .collect();
        let answers: HashMap<(&'static str, String), RestoreAnswer> = stream::iter(wanted)
            .map(|(kind, snapshot)| async move {
                let answer = self.restore_of(client, region, kind, &snapshot).await;
                ((kind, snapshot), answer)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        if let Some(refused) = answers.values().find_map(|a| a.as_ref().err()) {
            self.warn_once(
                "snapshot-attributes",
                format!(
                    "the sharing of manual snapshots could not be read ({}): it is unknown; allow {}",
                    refused.message, refused.permission
                ),
            );
        }
        for listed in [&list.instances, &list.clusters] {
            if let Err(refused) = listed {
                self.warn_once(
                    &refused.permission,
                    format!(
                        "manual snapshots could not be listed ({}): their sharing is unknown; allow {}",
                        refused.message, refused.permission
                    ),
                );
            }
        }
        audited
            .iter()
            .map(|(kind, id)| {
                let of = if *kind == "cluster" {
                    &list.clusters
                } else {
                    &list.instances
                };
                let listed = of.as_ref().map_err(Clone::clone).map(|by| {
                    by.get(id)
                        .into_iter()
                        .flatten()
                        .map(|snapshot| snapshots::Snapshot {
                            id: snapshot.clone(),
                            restore: answers
                                .get(&(*kind, snapshot.clone()))
                                .cloned()
                                .unwrap_or_else(|| Err(not_read())),
                        })
                        .collect()
                });
                ((*kind, id.clone()), listed)
            })
            .collect()
    }

    async fn read_snapshot_list(&self, client: &Client, region: &str) -> SnapshotList {
        let (instances, clusters) = futures::join!(
            async {
                self.manual_db_snapshots(client, region).await.map(|all| {
                    let mut by: HashMap<String, Vec<String>> = HashMap::new();
                    for (id, db) in all {
                        by.entry(db).or_default().push(id);
                    }
                    by
                })
            },
            async {
                client
                    .describe_db_cluster_snapshots()
                    .snapshot_type("manual")
                    .max_records(self.page_size)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map(|all| {
                        let mut by: HashMap<String, Vec<String>> = HashMap::new();
                        for s in all {
                            if let (Some(c), Some(id)) = (
                                s.db_cluster_identifier(),
                                s.db_cluster_snapshot_identifier(),
                            ) {
                                by.entry(c.to_string()).or_default().push(id.to_string());
                            }
                        }
                        by
                    })
                    .map_err(|e| {
                        refused(
                            "rds:DescribeDBClusterSnapshots",
                            "DescribeDBClusterSnapshots",
                            region,
                            errors::classify(
                                &e,
                                "DescribeDBClusterSnapshots",
                                region,
                                self.max_attempts,
                            ),
                        )
                    })
            }
        );
        SnapshotList {
            instances,
            clusters,
        }
    }

    /// The region's manual DB snapshots as (snapshot id, instance id):
    /// `DescribeDBSnapshots SnapshotType=manual`, every page, read at most once
    /// per region per run. Shared with the restore drills, which need it to
    /// tell the instance of a snapshot a restore event names (automated
    /// snapshots are named `rds:INSTANCE-…`, so only manual ones need it).
    pub(super) async fn manual_db_snapshots(
        &self,
        client: &Client,
        region: &str,
    ) -> ManualSnapshots {
        let cell = {
            let mut cells = self
                .fleet
                .manual_db
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            cells.entry(region.to_string()).or_default().clone()
        };
        cell.get_or_init(|| async {
            client
                .describe_db_snapshots()
                .snapshot_type("manual")
                .max_records(self.page_size)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map(|all| {
                    all.iter()
                        .filter_map(|s| {
                            Some((
                                s.db_snapshot_identifier()?.to_string(),
                                s.db_instance_identifier()?.to_string(),
                            ))
                        })
                        .collect()
                })
                .map_err(|e| {
                    refused(
                        "rds:DescribeDBSnapshots",
                        "DescribeDBSnapshots",
                        region,
                        errors::classify(&e, "DescribeDBSnapshots", region, self.max_attempts),
                    )
                })
        })
        .await
        .clone()
    }

    /// The `restore` attribute of one manual snapshot, read at most once per run;
    /// after a refusal the others are not asked.
    async fn restore_of(
        &self,
        client: &Client,
        region: &str,
        kind: &'static str,
        snapshot: &str,
    ) -> RestoreAnswer {
        let cell = {
            let mut cells = self.fleet.restore.lock().unwrap_or_else(|e| e.into_inner());
            cells
                .entry((region.to_string(), kind, snapshot.to_string()))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| async {
            if let Some(refused) = self
                .fleet
                .restore_denied
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            {
                return Err(refused);
            }
            let operation = if kind == "cluster" {
                "DescribeDBClusterSnapshotAttributes"
            } else {
                "DescribeDBSnapshotAttributes"
            };
            let deny = |err| refused(&format!("rds:{operation}"), operation, region, err);
            let answer = if kind == "cluster" {
                client
                    .describe_db_cluster_snapshot_attributes()
                    .db_cluster_snapshot_identifier(snapshot)
                    .send()
                    .await
                    .map(|out| {
                        restore_values(
                            out.db_cluster_snapshot_attributes_result()
                                .map(|r| r.db_cluster_snapshot_attributes())
                                .unwrap_or_default()
                                .iter()
                                .map(|a| (a.attribute_name(), a.attribute_values())),
                        )
                    })
                    .map_err(|e| deny(errors::classify(&e, operation, region, self.max_attempts)))
            } else {
                client
                    .describe_db_snapshot_attributes()
                    .db_snapshot_identifier(snapshot)
                    .send()
                    .await
                    .map(|out| {
                        restore_values(
                            out.db_snapshot_attributes_result()
                                .map(|r| r.db_snapshot_attributes())
                                .unwrap_or_default()
                                .iter()
                                .map(|a| (a.attribute_name(), a.attribute_values())),
                        )
                    })
                    .map_err(|e| deny(errors::classify(&e, operation, region, self.max_attempts)))
            };
            if let Err(refused) = &answer
                && refused.message.contains("AccessDenied")
            {
                let mut denied = self
                    .fleet
                    .restore_denied
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                denied.get_or_insert_with(|| refused.clone());
            }
            answer
        })
        .await
        .clone()
    }
}

/// The values of the `restore` attribute.
fn restore_values<'a>(
    attributes: impl Iterator<Item = (Option<&'a str>, &'a [String])>,
) -> Vec<String> {
    attributes
        .filter(|(name, _)| *name == Some("restore"))
        .flat_map(|(_, values)| values.iter().cloned())
        .collect()
}

/// The (kind, id) a target's snapshots are listed under.
pub fn audited_as(unit: &Unit<'_>) -> (&'static str, String) {
    match unit {
        Unit::Instance(db) => (
            "instance",
            db.db_instance_identifier().unwrap_or_default().to_string(),
        ),
        Unit::Cluster(cluster, _) => (
            "cluster",
            cluster
                .db_cluster_identifier()
                .unwrap_or_default()
                .to_string(),
        ),
    }
}

/// Adds the alarm, budget and snapshot facts and their evidence to one target.
pub fn apply(
    target: &mut TargetFacts,
    unit: &Unit<'_>,
    fleet: &FleetWide,
    region: &str,
    now: DateTime<Utc>,
) {
    let mut sink = FactSink::new(super::facts::SOURCE);
    let subject = match unit {
        Unit::Instance(db) => alarms::Subject {
            instance: db.db_instance_identifier().map(str::to_string),
            replica: target.role == Role::Replica,
            ..alarms::Subject::default()
        },
        Unit::Cluster(cluster, members) => alarms::Subject {
            instance: None,
            cluster: cluster.db_cluster_identifier().map(str::to_string),
            members: members
                .iter()
                .filter_map(|m| m.db_instance_identifier().map(str::to_string))
                .collect(),
            readers: cluster
                .db_cluster_members()
                .iter()
                .filter(|m| m.is_cluster_writer() != Some(true))
                .filter_map(|m| m.db_instance_identifier().map(str::to_string))
                .collect(),
            aurora: cluster.engine().is_some_and(|e| e.starts_with("aurora")),
            replica: target.role == Role::Replica,
        },
    };
    alarms::facts(&mut sink, &subject, &fleet.alarms, now);
    let payer = budgets::Subject {
        region: region.to_string(),
        account: fleet.account.clone(),
        tags: target.tags.clone(),
    };
    budgets::facts(&mut sink, &payer, &fleet.budgets);
    let key = audited_as(unit);
    let listed = fleet
        .snapshots
        .get(&key)
        .cloned()
        .unwrap_or_else(|| Err(not_read()));
    snapshots::facts(&mut sink, key.0, &listed);
    target.facts.extend(sink.finish());

    let concerning: Vec<serde_json::Value> = match &fleet.alarms {
        Ok(all) => all
            .iter()
            .filter(|a| {
                a.watches.iter().any(|w| {
                    w.dimensions.iter().any(|(_, v)| {
                        subject.instance.as_ref() == Some(v)
                            || subject.cluster.as_ref() == Some(v)
                            || subject.members.contains(v)
                    })
                })
            })
            .map(|a| json!({"AlarmName": a.name, "ActionsEnabled": a.actions_enabled, "AlarmActions": a.alarm_actions, "StateValue": a.state, "StateUpdatedTimestamp": a.state_updated.map(|t| t.to_rfc3339()), "Metrics": a.watches.iter().map(|w| json!({"Namespace": w.namespace, "MetricName": w.metric, "Dimensions": w.dimensions.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect::<Vec<_>>()})).collect::<Vec<_>>()}))
            .collect(),
        Err(refused) => vec![json!({"error": refused.message, "permission": refused.permission})],
    };
    target.evidence.push(RawEvidence {
        source: super::facts::SOURCE.into(),
        name: "alarms, budgets and snapshot sharing".into(),
        request: format!("cloudwatch:DescribeAlarms in {region}, budgets:DescribeBudgets + DescribeNotificationsForBudget, DescribeDBSnapshots / DescribeDBClusterSnapshots SnapshotType=manual, then the restore attribute of this database's manual snapshots"),
        response: json!({
            "alarms": concerning,
            "budgets": match &fleet.budgets {
                Ok(all) => json!(all.iter().map(|b| json!({"BudgetName": b.name, "BudgetType": b.budget_type, "CostFilters": b.cost_filters, "FilterExpression": b.expression.as_ref().map(|e| format!("{e:?}")), "NotificationThresholds": b.thresholds})).collect::<Vec<_>>()),
                Err(refused) => json!({"error": refused.message, "permission": refused.permission}),
            },
            "snapshots": match &listed {
                Ok(all) => json!(all.iter().map(|s| match &s.restore {
                    Ok(values) => json!({"SnapshotIdentifier": s.id, "restore": values}),
                    Err(refused) => json!({"SnapshotIdentifier": s.id, "error": refused.message, "permission": refused.permission}),
                }).collect::<Vec<_>>()),
                Err(refused) => json!({"error": refused.message, "permission": refused.permission}),
            },
        }),
    });
}
