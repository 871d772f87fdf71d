//! What a region holds beyond its instances and clusters, read once per region
//! per run (never per instance) and applied to each target after its own
//! facts: the CA list ([`ca`]), the engine-version lists, one per engine
//! ([`engine_versions`]), event subscriptions ([`events`]), AWS Backup
//! ([`aws_backup`]) and restores ([`restore_drills`]). A call that fails leaves its facts `unknown` with the
//! permission needed; the rest of the target is unchanged.

use super::{Session, aws_backup, ca, engine_versions, errors, events, restore_drills};
use crate::facts::snapshot::TargetFacts;
use crate::facts::{FactSink, RawEvidence};
use aws_config::Region;
use aws_sdk_rds::Client;
use aws_sdk_rds::types::{DbCluster, DbInstance};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// What one region holds, as read.
#[derive(Debug, Clone)]
pub struct RegionWide {
    pub certificates: ca::CaList,
    pub subscriptions: events::Subscriptions,
    pub backup: aws_backup::Coverage,
    pub restores: restore_drills::Reading,
    /// Engine → the versions it offers.
    pub offered: HashMap<String, engine_versions::Offered>,
}

/// The cache of a run: per region, per (region, engine).
#[derive(Default)]
pub struct Cache {
    regions: Mutex<HashMap<String, Arc<OnceCell<Arc<Base>>>>>,
    engines: Mutex<HashMap<(String, String), OfferedCell>>,
    /// AWS Backup refused once: said once per run.
    backup_warned: Mutex<bool>,
    /// The restore reads refused, by permission: each said once per run.
    restore_warned: Mutex<BTreeSet<String>>,
}

/// Where one engine's version list in one region is kept once read.
type OfferedCell = Arc<OnceCell<engine_versions::Offered>>;

/// The per-region part (not per engine).
#[derive(Debug)]
struct Base {
    certificates: ca::CaList,
    subscriptions: events::Subscriptions,
    backup: aws_backup::Coverage,
    restores: restore_drills::Reading,
}

impl Session {
    /// The region's holdings, each read at most once per run.
    pub(super) async fn region_wide(
        &self,
        client: &Client,
        region: &str,
        engines: &BTreeSet<String>,
    ) -> RegionWide {
        // No audited instance or cluster (engines come from them): nothing to read for.
        if engines.is_empty() {
            let none = || "no audited database in the region".to_string();
            let refused = || aws_backup::Refused {
                permission: String::new(),
                message: none(),
            };
            return RegionWide {
                certificates: Err(none()),
                subscriptions: Err(none()),
                backup: Err(refused()),
                restores: restore_drills::Reading {
                    jobs: Err(refused()),
                    events: Err(refused()),
                },
                offered: HashMap::new(),
            };
        }
        let cell = {
            let mut regions = self
                .regional
                .regions
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            regions.entry(region.to_string()).or_default().clone()
        };
        let base = cell
            .get_or_init(|| async {
                let (certificates, subscriptions, backup, jobs, events) = futures::join!(
                    self.read_certificates(client, region),
                    self.read_subscriptions(client, region),
                    self.read_backup(region),
                    self.read_restore_jobs(region),
                    self.read_restore_events(client, region)
                );
                Arc::new(Base {
                    certificates,
                    subscriptions,
                    backup,
                    restores: restore_drills::Reading { jobs, events },
                })
            })
            .await
            .clone();
        let mut offered = HashMap::new();
        for engine in engines {
            let cell = {
                let mut cells = self
                    .regional
                    .engines
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                cells
                    .entry((region.to_string(), engine.clone()))
                    .or_default()
                    .clone()
            };
            let versions = cell
                .get_or_init(|| self.read_engine_versions(client, region, engine))
                .await
                .clone();
            offered.insert(engine.clone(), versions);
        }
        if let Err(refused) = &base.backup {
            let mut warned = self
                .regional
                .backup_warned
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if !*warned {
                *warned = true;
                tracing::warn!(
                    "AWS Backup could not be read ({}): coverage by backup plans is unknown; allow {}",
                    refused.message,
                    refused.permission
                );
            }
        }
        for refused in [
            &base.restores.jobs.as_ref().err(),
            &base.restores.events.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        {
            let mut warned = self
                .regional
                .restore_warned
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if warned.insert(refused.permission.clone()) {
                tracing::warn!(
                    "restores could not be read ({}): restore drills not found elsewhere are unknown; allow {}",
                    refused.message,
                    refused.permission
                );
            }
        }
        RegionWide {
            certificates: base.certificates.clone(),
            subscriptions: base.subscriptions.clone(),
            backup: base.backup.clone(),
            restores: base.restores.clone(),
            offered,
        }
    }

    /// The AWS Backup client of a region: the RDS client's answer-size cap and
    /// Retry-After handling.
    fn backup_client(&self, region: &str) -> aws_sdk_backup::Client {
        let conf = aws_sdk_backup::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(super::CapAnswers)
            .retry_classifier(super::RetryAfter)
            .build();
        aws_sdk_backup::Client::from_conf(conf)
    }

    /// Completed AWS Backup restore jobs of the region whose source is an RDS
    /// resource (`ListRestoreJobs`, every page).
    async fn read_restore_jobs(
        &self,
        region: &str,
    ) -> Result<Vec<restore_drills::RestoreJob>, aws_backup::Refused> {
        let backup = self.backup_client(region);
        let mut jobs = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.calls.record("backup:ListRestoreJobs");
            let page = backup
                .list_restore_jobs()
                .by_status(aws_sdk_backup::types::RestoreJobStatus::Completed)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    backup_refused(
                        "ListRestoreJobs",
                        region,
                        errors::classify(&e, "ListRestoreJobs", region, self.max_attempts),
                    )
                })?;
            jobs.extend(
                page.restore_jobs()
                    .iter()
                    .filter(|job| {
                        job.source_resource_arn()
                            .is_some_and(|arn| arn.contains(":rds:"))
                    })
                    .map(|job| restore_drills::RestoreJob {
                        id: job.restore_job_id().unwrap_or_default().to_string(),
                        source_arn: job.source_resource_arn().map(str::to_string),
                        completed: job.completion_date().and_then(super::facts::to_chrono),
                        created: job.created_resource_arn().map(str::to_string),
                        testing_plan: job
                            .created_by()
                            .and_then(|c| c.restore_testing_plan_arn())
                            .map(str::to_string),
                        validation: job.validation_status().map(|v| v.as_str().to_string()),
                    }),
            );
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(jobs);
            }
        }
    }

    /// The region's restores of the last 14 days (`DescribeEvents` source
    /// types db-instance and db-snapshot, category restoration, every page), and, when
    /// an event names a snapshot whose instance its name does not tell, the
    /// region's manual snapshots (`DescribeDBSnapshots`, every page).
    async fn read_restore_events(
        &self,
        client: &Client,
        region: &str,
    ) -> Result<restore_drills::EventReading, aws_backup::Refused> {
        let refused = |operation: &str, err: errors::RdsError| aws_backup::Refused {
            permission: format!("rds:{operation}"),
            message: err.to_string(),
        };
        let mut events = Vec::new();
        // RDS-EVENT-0019 (point-in-time) is an instance event; RDS-EVENT-0043
        // (restored from snapshot) a snapshot event, older answers also give
        // it on the new instance.
        use aws_sdk_rds::types::SourceType;
        for source_type in [SourceType::DbInstance, SourceType::DbSnapshot] {
            let snapshot_events = source_type == SourceType::DbSnapshot;
            let mut marker: Option<String> = None;
            loop {
                let page = client
                    .describe_events()
                    .source_type(source_type.clone())
                    .duration((restore_drills::EVENT_DAYS * 24 * 60) as i32)
                    .event_categories("restoration")
                    .max_records(self.page_size)
                    .set_marker(marker.clone())
                    .send()
                    .await
                    .map_err(|e| {
                        refused(
                            "DescribeEvents",
                            errors::classify(&e, "DescribeEvents", region, self.max_attempts),
                        )
                    })?;
                events.extend(page.events().iter().filter_map(|event| {
                    let source = event.source_identifier()?.to_string();
                    let at = event.date().and_then(super::facts::to_chrono)?;
                    Some(if snapshot_events {
                        restore_drills::RestoreEvent {
                            at,
                            restored: String::new(),
                            from: restore_drills::RestoredFrom::Snapshot(source),
                        }
                    } else {
                        restore_drills::RestoreEvent {
                            at,
                            restored: source,
                            from: restore_drills::parse_message(event.message()?)?,
                        }
                    })
                }));
                marker = page.marker().map(str::to_string);
                if marker.is_none() {
                    break;
                }
            }
        }
        let snapshots = if restore_drills::unresolved_snapshots(&events).is_empty() {
            Ok(HashMap::new())
        } else {
            self.read_snapshot_sources(client, region).await
        };
        Ok(restore_drills::EventReading { events, snapshots })
    }

    /// Snapshot identifier → the instance it was taken of: the region's manual
    /// snapshots (`DescribeDBSnapshots SnapshotType=manual`, every page), the
    /// one listing the snapshot-sharing checks read too (see [`super::fleet`]).
    async fn read_snapshot_sources(
        &self,
        client: &Client,
        region: &str,
    ) -> Result<HashMap<String, String>, String> {
        self.manual_db_snapshots(client, region)
            .await
            .map(|all| all.into_iter().collect())
            .map_err(|refused| refused.message)
    }

    async fn read_certificates(&self, client: &Client, region: &str) -> ca::CaList {
        let mut found = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = client
                .describe_certificates()
                .max_records(self.page_size)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| {
                    errors::classify(&e, "DescribeCertificates", region, self.max_attempts)
                        .to_string()
                })?;
            found.extend(page.certificates().iter().filter_map(ca::CaCert::from_sdk));
            marker = page.marker().map(str::to_string);
            if marker.is_none() {
                return Ok(found);
            }
        }
    }

    async fn read_subscriptions(&self, client: &Client, region: &str) -> events::Subscriptions {
        let mut found = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = client
                .describe_event_subscriptions()
                .max_records(self.page_size)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| {
                    errors::classify(&e, "DescribeEventSubscriptions", region, self.max_attempts)
                        .to_string()
                })?;
            found.extend(
                page.event_subscriptions_list()
                    .iter()
                    .map(events::Subscription::from_sdk),
            );
            marker = page.marker().map(str::to_string);
            if marker.is_none() {
                return Ok(found);
            }
        }
    }

    async fn read_engine_versions(
        &self,
        client: &Client,
        region: &str,
        engine: &str,
    ) -> engine_versions::Offered {
        let mut found = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = client
                .describe_db_engine_versions()
                .engine(engine)
                .max_records(self.page_size)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| {
                    errors::classify(&e, "DescribeDBEngineVersions", region, self.max_attempts)
                        .to_string()
                })?;
            found.extend(
                page.db_engine_versions()
                    .iter()
                    .filter(|v| v.status().is_none_or(|s| s == "available"))
                    .filter_map(|v| v.engine_version().map(str::to_string)),
            );
            marker = page.marker().map(str::to_string);
            if marker.is_none() {
                return Ok(found);
            }
        }
    }

    /// Every AWS Backup plan with its rules and selections, protected resources
    /// and vaults of the region.
    async fn read_backup(&self, region: &str) -> aws_backup::Coverage {
        let backup = self.backup_client(region);
        macro_rules! call {
            ($name:literal, $request:expr) => {{
                self.calls.record(concat!("backup:", $name));
                $request.await.map_err(|e| {
                    backup_refused(
                        $name,
                        region,
                        errors::classify(&e, $name, region, self.max_attempts),
                    )
                })?
            }};
        }
        let mut holdings = aws_backup::Holdings::default();
        let mut plans = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = call!(
                "ListBackupPlans",
                backup
                    .list_backup_plans()
                    .set_next_token(token.clone())
                    .send()
            );
            plans.extend(page.backup_plans_list().iter().filter_map(|p| {
                Some((
                    p.backup_plan_id()?.to_string(),
                    p.backup_plan_name().unwrap_or_default().to_string(),
                ))
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        for (id, name) in plans {
            let got = call!(
                "GetBackupPlan",
                backup.get_backup_plan().backup_plan_id(&id).send()
            );
            let rules = got
                .backup_plan()
                .map(|plan| {
                    plan.rules()
                        .iter()
                        .map(|rule| aws_backup::Rule {
                            name: rule.rule_name().to_string(),
                            vault: rule.target_backup_vault_name().to_string(),
                            delete_after_days: rule.lifecycle().and_then(|l| l.delete_after_days()),
                            copies_to: rule
                                .copy_actions()
                                .iter()
                                .map(|c| c.destination_backup_vault_arn().to_string())
                                .collect(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut selection_ids = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = call!(
                    "ListBackupSelections",
                    backup
                        .list_backup_selections()
                        .backup_plan_id(&id)
                        .set_next_token(token.clone())
                        .send()
                );
                selection_ids.extend(
                    page.backup_selections_list()
                        .iter()
                        .filter_map(|s| s.selection_id().map(str::to_string)),
                );
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
            let mut selections = Vec::new();
            for selection_id in selection_ids {
                let got = call!(
                    "GetBackupSelection",
                    backup
                        .get_backup_selection()
                        .backup_plan_id(&id)
                        .selection_id(&selection_id)
                        .send()
                );
                if let Some(s) = got.backup_selection() {
                    selections.push(selection_from_sdk(s));
                }
            }
            holdings.plans.push(aws_backup::Plan {
                name,
                rules,
                selections,
            });
        }
        let mut token: Option<String> = None;
        loop {
            let page = call!(
                "ListProtectedResources",
                backup
                    .list_protected_resources()
                    .set_next_token(token.clone())
                    .send()
            );
            holdings
                .protected
                .extend(page.results().iter().filter_map(|r| {
                    Some(aws_backup::Protected {
                        arn: r.resource_arn()?.to_string(),
                        last_backup: r.last_backup_time().and_then(super::facts::to_chrono),
                    })
                }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        let mut token: Option<String> = None;
        loop {
            let page = call!(
                "ListBackupVaults",
                backup
                    .list_backup_vaults()
                    .set_next_token(token.clone())
                    .send()
            );
            holdings
                .vaults
                .extend(page.backup_vault_list().iter().filter_map(|v| {
                    Some(aws_backup::Vault {
                        name: v.backup_vault_name()?.to_string(),
                        locked: v.locked().unwrap_or(false),
                    })
                }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(holdings)
    }
}

/// An AWS Backup call that failed: the RDS error text would name RDS
/// permissions, so a denial says AWS Backup's own.
fn backup_refused(operation: &str, region: &str, err: errors::RdsError) -> aws_backup::Refused {
    aws_backup::Refused {
        permission: format!("backup:{operation}"),
        message: if err.is_access_denied() {
            format!(
                "{operation} in {region} was denied (AccessDenied): backup:{operation} is not allowed"
            )
        } else {
            err.to_string()
        },
    }
}

/// A `GetBackupSelection` answer as [`aws_backup::Selection`] matches it.
fn selection_from_sdk(s: &aws_sdk_backup::types::BackupSelection) -> aws_backup::Selection {
    use aws_backup::{Condition, Operator, tag_key};
    let mut conditions = Vec::new();
    if let Some(c) = s.conditions() {
        for (operator, list) in [
            (Operator::StringEquals, c.string_equals()),
            (Operator::StringNotEquals, c.string_not_equals()),
            (Operator::StringLike, c.string_like()),
            (Operator::StringNotLike, c.string_not_like()),
        ] {
            conditions.extend(list.iter().map(|p| Condition {
                operator,
                key: tag_key(p.condition_key().unwrap_or_default()),
                value: p.condition_value().unwrap_or_default().to_string(),
            }));
        }
    }
    aws_backup::Selection {
        name: s.selection_name().to_string(),
        resources: s.resources().to_vec(),
        not_resources: s.not_resources().to_vec(),
        // ListOfTags supports STRINGEQUALS only.
        list_of_tags: s
            .list_of_tags()
            .iter()
            .filter(|t| t.condition_type().as_str() == "STRINGEQUALS")
            .map(|t| (tag_key(t.condition_key()), t.condition_value().to_string()))
            .collect(),
        conditions,
    }
}

/// What the region-wide readings need of one target.
pub enum Unit<'a> {
    Instance(&'a DbInstance),
    Cluster(&'a DbCluster, &'a [DbInstance]),
}

/// Adds the region-wide facts and their evidence to one target.
pub fn apply(
    target: &mut TargetFacts,
    unit: Unit<'_>,
    wide: &RegionWide,
    region: &str,
    now: DateTime<Utc>,
) {
    let mut sink = FactSink::new(super::facts::SOURCE);
    let (engine, version, arn, source_type, id, members, used, auto_minor, automated) = match unit {
        Unit::Instance(db) => (
            db.engine().unwrap_or_default(),
            db.engine_version().unwrap_or_default(),
            db.db_instance_arn(),
            "db-instance",
            db.db_instance_identifier().unwrap_or_default(),
            Vec::new(),
            vec![used_ca(db)],
            db.auto_minor_version_upgrade().map(|on| {
                (
                    on,
                    "DescribeDBInstances AutoMinorVersionUpgrade".to_string(),
                )
            }),
            db.backup_retention_period().map(i64::from),
        ),
        Unit::Cluster(cluster, members) => {
            let mut used: Vec<ca::UsedCa> = members.iter().map(used_ca).collect();
            if let Some(details) = cluster.certificate_details() {
                used.push(ca::UsedCa {
                    holder: cluster
                        .db_cluster_identifier()
                        .unwrap_or_default()
                        .to_string(),
                    id: details.ca_identifier().map(str::to_string),
                    valid_till: details.valid_till().and_then(super::facts::to_chrono),
                });
            }
            // Multi-AZ DB clusters carry the switch; Aurora sets it per member.
            let auto_minor = cluster
                .auto_minor_version_upgrade()
                .map(|on| (on, "DescribeDBClusters AutoMinorVersionUpgrade".to_string()))
                .or_else(|| {
                    let flags: Vec<(String, bool)> = members
                        .iter()
                        .filter_map(|m| {
                            Some((
                                m.db_instance_identifier()?.to_string(),
                                m.auto_minor_version_upgrade()?,
                            ))
                        })
                        .collect();
                    (!flags.is_empty()).then(|| {
                        let off: Vec<&str> = flags
                            .iter()
                            .filter(|(_, on)| !on)
                            .map(|(id, _)| id.as_str())
                            .collect();
                        let origin = if off.is_empty() {
                            "DescribeDBInstances AutoMinorVersionUpgrade of every member"
                                .to_string()
                        } else {
                            format!(
                                "DescribeDBInstances AutoMinorVersionUpgrade off on member(s) {}",
                                off.join(", ")
                            )
                        };
                        (off.is_empty(), origin)
                    })
                });
            (
                cluster.engine().unwrap_or_default(),
                cluster.engine_version().unwrap_or_default(),
                cluster.db_cluster_arn(),
                "db-cluster",
                cluster.db_cluster_identifier().unwrap_or_default(),
                members
                    .iter()
                    .filter_map(|m| m.db_instance_identifier().map(str::to_string))
                    .collect(),
                used,
                auto_minor,
                cluster.backup_retention_period().map(i64::from),
            )
        }
    };
    ca::facts(&mut sink, &used, &wide.certificates, now);
    let offered = wide
        .offered
        .get(engine)
        .cloned()
        .unwrap_or_else(|| Err("the engine's versions were not looked up".into()));
    engine_versions::facts(&mut sink, engine, version, auto_minor, &offered);
    events::facts(&mut sink, source_type, id, &members, &wide.subscriptions);
    // A read replica has no backups of its own to judge.
    if target.role != crate::target::Role::Replica {
        aws_backup::facts(
            &mut sink,
            arn,
            &target.tags,
            region,
            automated,
            &wide.backup,
            now,
        );
        let unit = restore_drills::Unit {
            id,
            arn,
            cluster: source_type == "db-cluster",
        };
        restore_drills::facts(&mut sink, &unit, &wide.restores, now);
    }
    target.facts.extend(sink.finish());
    target.evidence.push(RawEvidence {
        source: super::facts::SOURCE.into(),
        name: "region-wide reads".into(),
        request: format!("DescribeCertificates, DescribeDBEngineVersions Engine={engine}, DescribeEventSubscriptions, DescribeEvents SourceType=db-instance|db-snapshot EventCategories=restoration Duration=20160, AWS Backup plans/selections/protected resources/vaults and ListRestoreJobs ByStatus=COMPLETED in {region}"),
        response: json!({
            "certificates": match &wide.certificates {
                Ok(certs) => json!(certs.iter().map(|c| json!({"CertificateIdentifier": c.id, "ValidTill": c.valid_till.map(|t| t.to_rfc3339())})).collect::<Vec<_>>()),
                Err(reason) => json!({"error": reason}),
            },
            "engine_versions": match &offered {
                Ok(versions) => json!(versions),
                Err(reason) => json!({"error": reason}),
            },
            "event_subscriptions": match &wide.subscriptions {
                Ok(subs) => json!(subs.iter().map(|s| json!({"CustSubscriptionId": s.name, "Enabled": s.enabled, "SourceType": s.source_type, "SourceIdsList": s.source_ids, "EventCategoriesList": s.categories})).collect::<Vec<_>>()),
                Err(reason) => json!({"error": reason}),
            },
            "aws_backup": match &wide.backup {
                Ok(h) => json!({"plans": h.plans.iter().map(|p| json!({"BackupPlanName": p.name, "Rules": p.rules.iter().map(|r| json!({"RuleName": r.name, "TargetBackupVaultName": r.vault, "DeleteAfterDays": r.delete_after_days, "CopyActions": r.copies_to})).collect::<Vec<_>>(), "Selections": p.selections.iter().map(|s| json!({"SelectionName": s.name, "Resources": s.resources, "NotResources": s.not_resources, "ListOfTags": s.list_of_tags.iter().map(|(k, v)| json!({"ConditionType": "STRINGEQUALS", "ConditionKey": k, "ConditionValue": v})).collect::<Vec<_>>(), "Conditions": s.conditions.iter().map(|c| json!({"Operator": c.operator.name(), "ConditionKey": format!("aws:ResourceTag/{}", c.key), "ConditionValue": c.value})).collect::<Vec<_>>()})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
                    "protected": h.protected.iter().filter(|p| Some(p.arn.as_str()) == arn).map(|p| json!({"ResourceArn": p.arn, "LastBackupTime": p.last_backup.map(|t| t.to_rfc3339())})).collect::<Vec<_>>(),
                    "vaults": h.vaults.iter().map(|v| json!({"BackupVaultName": v.name, "Locked": v.locked})).collect::<Vec<_>>()}),
                Err(refused) => json!({"error": refused.message, "permission": refused.permission}),
            },
            "restore_jobs": match &wide.restores.jobs {
                Ok(jobs) => json!(jobs.iter().filter(|j| j.source_arn.as_deref() == arn).map(|j| json!({"RestoreJobId": j.id, "SourceResourceArn": j.source_arn, "CompletionDate": j.completed.map(|t| t.to_rfc3339()), "CreatedResourceArn": j.created, "RestoreTestingPlanArn": j.testing_plan, "ValidationStatus": j.validation})).collect::<Vec<_>>()),
                Err(refused) => json!({"error": refused.message, "permission": refused.permission}),
            },
            "restore_events": match &wide.restores.events {
                Ok(reading) => json!(reading.events.iter().map(|e| json!({"Date": e.at.to_rfc3339(), "SourceIdentifier": e.restored, "RestoredFrom": match &e.from { restore_drills::RestoredFrom::Instance(i) => json!({"DBInstance": i}), restore_drills::RestoredFrom::Snapshot(s) => json!({"DBSnapshot": s}) }})).collect::<Vec<_>>()),
                Err(refused) => json!({"error": refused.message, "permission": refused.permission}),
            },
        }),
    });
}

fn used_ca(db: &DbInstance) -> ca::UsedCa {
    let details = db.certificate_details();
    ca::UsedCa {
        holder: db.db_instance_identifier().unwrap_or_default().to_string(),
        id: details
            .and_then(|d| d.ca_identifier())
            .or(db.ca_certificate_identifier())
            .map(str::to_string),
        valid_till: details
            .and_then(|d| d.valid_till())
            .and_then(super::facts::to_chrono),
    }
}
