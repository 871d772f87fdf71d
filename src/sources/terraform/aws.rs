//! `aws_db_instance` and `aws_rds_cluster` → the facts the RDS source reports.

use super::model::{Configuration, Resource};
use crate::facts::snapshot::{Collected, TargetFailure};
use crate::target::{Kind, TerraformSpec};
use chrono::{DateTime, Utc};

pub const INSTANCE: &str = "aws_db_instance";
pub const CLUSTER: &str = "aws_rds_cluster";

pub fn target(
    spec: &TerraformSpec,
    _config: &Configuration,
    resource: &Resource,
    _now: DateTime<Utc>,
) -> Collected {
    Err(TargetFailure {
        id: super::target_id(spec, resource),
        kind: Kind::Terraform,
        error: "not yet".into(),
    })
}
