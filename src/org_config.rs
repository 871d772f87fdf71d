//! `cloud = "aws-org://"` entries of sqlready.toml: every active account of an
//! AWS Organization, reached through a read-only role assumed in each
//! (docs/organization.md). Parsing and validation only; the discovery itself
//! is `sources::rds::organization`.
//!
//! ```toml
//! [[targets]]
//! cloud = "aws-org://"
//! role_name = "SqlreadyAudit"        # assumed in every member account
//! external_id = "..."                # optional: when the role's trust policy requires one
//! regions = ["eu-west-1", "us-east-1"]   # optional: default every region each account enabled
//! assume_role_in_caller_account = false  # optional: the run's own account uses its credentials
//! ```

use crate::target::{OrgScope, RdsScope, RdsSpec, TargetSpec};
use toml::Spanned;

/// The keys an `aws-org://` entry takes besides `cloud`.
pub struct Keys<'a> {
    pub role_name: Option<&'a Spanned<String>>,
    pub external_id: Option<&'a Spanned<String>>,
    pub regions: Option<&'a Spanned<Vec<Spanned<String>>>>,
    pub assume_role_in_caller_account: Option<&'a Spanned<bool>>,
}

/// Whether a `cloud` value names an AWS Organization.
pub fn is_organization(uri: &str) -> bool {
    uri.get(..10)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("aws-org://"))
}

/// The organization keys set on an entry that is not `aws-org://`: each one a problem.
pub fn misplaced(
    role_name: Option<(&str, usize)>,
    external_id: Option<(&str, usize)>,
    regions: Option<(&str, usize)>,
    caller: Option<(&str, usize)>,
    report: &mut dyn FnMut(usize, String),
) {
    for (key, offset) in [role_name, external_id, regions, caller]
        .into_iter()
        .flatten()
    {
        report(
            offset,
            format!(
                "`{key}` applies to a `cloud = \"aws-org://\"` entry (an AWS Organization); remove it here"
            ),
        );
    }
}

/// The target an `aws-org://` entry names, or `None` after reporting why not.
pub fn target(
    uri: &Spanned<String>,
    paired: bool,
    keys: Keys<'_>,
    report: &mut dyn FnMut(usize, String),
) -> Option<TargetSpec> {
    let start = uri.span().start;
    let rest = &uri.get_ref()[10..];
    let mut ok = true;
    if !rest.is_empty() && rest != "/" {
        report(
            start,
            format!(
                "write cloud = \"aws-org://\" (the Organization of the run's credentials); '{rest}' after it is not understood: name the role with role_name and the regions with regions"
            ),
        );
        ok = false;
    }
    if paired {
        report(
            start,
            "aws-org:// lists every account's instances, but a paired `database` is one server: remove `database` or name one instance (rds://REGION/db/ID)".into(),
        );
        ok = false;
    }
    let role_name = match keys.role_name {
        None => {
            report(
                start,
                "an aws-org:// entry needs role_name = \"ROLE\": the read-only role sqlready assumes in every member account (docs/organization.md)".into(),
            );
            ok = false;
            String::new()
        }
        Some(name) if !valid_role_name(name.get_ref()) => {
            report(
                name.span().start,
                format!(
                    "role_name '{}' is not an IAM role name (1 to 64 letters, digits and + = , . @ _ -; the name, not the ARN)",
                    name.get_ref()
                ),
            );
            ok = false;
            String::new()
        }
        Some(name) => name.get_ref().clone(),
    };
    let external_id = match keys.external_id {
        None => None,
        Some(id) if !valid_external_id(id.get_ref()) => {
            report(
                id.span().start,
                "external_id is 2 to 1224 letters, digits and + = , . @ : / _ - (as the role's trust policy names it)".into(),
            );
            ok = false;
            None
        }
        Some(id) => Some(id.get_ref().clone()),
    };
    let mut regions = Vec::new();
    if let Some(list) = keys.regions {
        if list.get_ref().is_empty() {
            report(
                list.span().start,
                "regions is empty: list the regions to audit, or remove the key to audit every region each account has enabled".into(),
            );
            ok = false;
        }
        for region in list.get_ref() {
            let name = region.get_ref().to_ascii_lowercase();
            if !valid_region(&name) {
                report(
                    region.span().start,
                    format!(
                        "'{}' is not an AWS region (like us-east-1 or eu-west-2)",
                        region.get_ref()
                    ),
                );
                ok = false;
            } else if !regions.contains(&name) {
                regions.push(name);
            }
        }
    }
    let assume_role_in_caller_account = keys
        .assume_role_in_caller_account
        .is_some_and(|flag| *flag.get_ref());
    ok.then(|| {
        TargetSpec::Rds(RdsSpec::new(
            "*",
            RdsScope::Organization(Box::new(OrgScope {
                role_name,
                external_id,
                regions,
                assume_role_in_caller_account,
            })),
        ))
    })
}

/// IAM role names: 1–64 of `[A-Za-z0-9+=,.@_-]`.
fn valid_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// STS external ids: 2–1224 of `[\w+=,.@:/-]`.
fn valid_external_id(id: &str) -> bool {
    (2..=1224).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c))
}

/// Region names like `us-east-1`, `us-gov-west-1`.
fn valid_region(region: &str) -> bool {
    region.contains('-')
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && region.ends_with(|c: char| c.is_ascii_digit())
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_are_checked() {
        assert!(valid_role_name("SqlreadyAudit"));
        assert!(valid_role_name("org.audit@team_1-ro"));
        assert!(!valid_role_name(""));
        assert!(!valid_role_name("arn:aws:iam::111122223333:role/x"));
        assert!(!valid_role_name(&"r".repeat(65)));
        assert!(valid_external_id("a1:b/c"));
        assert!(!valid_external_id("x"));
        assert!(!valid_external_id("with space"));
        assert!(valid_region("eu-west-1"));
        assert!(!valid_region("europe"));
        assert!(is_organization("AWS-ORG://"));
        assert!(!is_organization("rds://*"));
    }
}
