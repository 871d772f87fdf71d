//! Whose key encrypts the storage: `encryption.customer_managed_key`.
//!
//! RDS encrypts with the AWS managed key `aws/rds` unless `kms_key_id` names
//! another key. A key this configuration creates (`aws_kms_key`) is a
//! customer managed key; the `aws/rds` alias is AWS's. A key passed in by a
//! variable or read from a data source may be either (`data.aws_kms_key`
//! often looks up `alias/aws/rds`), so it stays unknown.

use super::super::model::{Attr, Configuration, Resource};
use super::read::{Read, as_text, attr};

/// The kind of resource that creates a customer managed key.
const KMS_KEY: &str = "aws_kms_key";
/// A replica key, created by this configuration as well.
const KMS_REPLICA_KEY: &str = "aws_kms_replica_key";

/// Whether a literal key id names an AWS managed key (`alias/aws/rds`, its ARN).
fn aws_managed_alias(key: &str) -> bool {
    key.starts_with("alias/aws/") || key.contains(":alias/aws/")
}

/// `encryption.customer_managed_key` of an instance or cluster whose storage
/// encryption is `encrypted`. A same-region read replica without `kms_key_id`
/// uses its `source`'s key.
pub(super) fn customer_managed(
    config: &Configuration,
    resource: &Resource,
    source: Option<&Resource>,
    encrypted: &Read<bool>,
) -> Read<bool> {
    match encrypted {
        Read::Unknown(reason, fix) => return Read::Unknown(reason.clone(), fix.clone()),
        Read::Known(false, origin) => {
            return Read::Known(false, format!("{origin}: no key at all"));
        }
        Read::Known(true, _) => {}
    }
    let path = "kms_key_id";
    match attr(resource, path) {
        Attr::Set(value) => {
            let key = as_text(value).unwrap_or_else(|| value.to_string());
            if aws_managed_alias(&key) {
                Read::Known(false, format!("{path} = {value}: the AWS managed key"))
            } else {
                Read::Known(
                    true,
                    format!(
                        "{path} = {value}: a key named in the configuration, not the AWS managed alias/aws/rds"
                    ),
                )
            }
        }
        Attr::Unresolved(expression) => match config.referenced(expression) {
            Some(key) if key.kind == KMS_KEY || key.kind == KMS_REPLICA_KEY => Read::Known(
                true,
                format!(
                    "{path} = {expression}: the customer managed key {} of this configuration",
                    key.address
                ),
            ),
            _ => Read::Unknown(
                format!(
                    "{path} is set by `{expression}`, which may name a customer managed key or the AWS managed alias/aws/rds"
                ),
                Some(format!(
                    "reference an {KMS_KEY} of this configuration, or audit the running database with kms:DescribeKey"
                )),
            ),
        },
        Attr::Unset => match source {
            Some(source) if !matches!(attr(source, path), Attr::Unset) => {
                let inherited = customer_managed(config, source, None, encrypted);
                inherited.derive(
                    |managed| *managed,
                    &format!(
                        " (the key of the source {}: a read replica in its region uses it)",
                        source.address
                    ),
                )
            }
            _ => Read::Known(
                false,
                format!("{path} not set: RDS encrypts with the AWS managed key aws/rds"),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aws_managed_alias_is_not_a_customer_key() {
        assert!(aws_managed_alias("alias/aws/rds"));
        assert!(aws_managed_alias(
            "arn:aws:kms:eu-west-1:111122223333:alias/aws/rds"
        ));
        assert!(!aws_managed_alias(
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd"
        ));
        assert!(!aws_managed_alias("alias/orders-rds"));
    }
}
