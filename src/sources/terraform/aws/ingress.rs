//! Who may reach an RDS database through its security groups, judged by the addresses the
//! ingress rules cover together (`crate::sources::netrange`), as Cloud SQL's authorized
//! networks are.
//!
//! The rules are read from the configuration: `ingress` blocks of the
//! `aws_security_group`s that `vpc_security_group_ids` references, and the
//! `aws_vpc_security_group_ingress_rule` / `aws_security_group_rule` (type `ingress`)
//! resources attached to them. Without `vpc_security_group_ids` the VPC's default group
//! applies, whose rules are not in the configuration: unknown, as is a group named by a
//! literal id or a rule set by an expression.

use super::super::Writer;
use super::super::coverage;
use super::super::model::{Attr, Configuration, Resource};
use crate::sources::netrange;
use serde_json::Value as Json;

const OPEN: &str = "rds.network.open_ingress";
const COVERS: &str = "rds.network.open_coverage";

fn strings(value: Option<&Json>) -> Vec<String> {
    value
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn unknown(w: &mut Writer<'_>, why: String, fix: &str) {
    w.sink.unknown(OPEN, why.clone(), Some(fix));
    w.sink.unknown(COVERS, why, Some(fix));
}

/// `rds.network.open_ingress` and `rds.network.open_coverage` for a DB instance or cluster.
pub(super) fn facts(w: &mut Writer<'_>, config: &Configuration, resource: &Resource) {
    let address = resource.address.clone();
    let groups: Vec<&Resource> = match resource.attr("vpc_security_group_ids") {
        Attr::Unset => {
            return unknown(
                w,
                format!(
                    "{address}: no vpc_security_group_ids, so the VPC's default security group applies; its rules are not in this configuration"
                ),
                "name the security groups in vpc_security_group_ids, defined in this configuration",
            );
        }
        Attr::Unresolved(expression) => {
            let found: Vec<&Resource> = config
                .of_kind("aws_security_group")
                .filter(|g| coverage::references(expression, &g.address))
                .collect();
            if found.is_empty() {
                return unknown(
                    w,
                    format!(
                        "{address}: vpc_security_group_ids is `{expression}`, no aws_security_group of this configuration"
                    ),
                    super::super::PLAN_FIX,
                );
            }
            found
        }
        Attr::Set(ids) => {
            return unknown(
                w,
                format!(
                    "{address}: vpc_security_group_ids names groups by id ({ids}); their rules are not in this configuration"
                ),
                "reference aws_security_group resources of this configuration, or audit it where they are defined",
            );
        }
    };
    let mut cidrs: Vec<(String, String)> = Vec::new(); // (rule, cidr)
    for group in &groups {
        if let Some(expression) = group
            .unresolved
            .iter()
            .find_map(|(p, e)| p.starts_with("ingress").then_some(e))
        {
            return unknown(
                w,
                format!(
                    "{}: an ingress rule is set by `{expression}`",
                    group.address
                ),
                super::super::PLAN_FIX,
            );
        }
        if let Some(Json::Array(rules)) = group.values.get("ingress") {
            for rule in rules {
                for key in ["cidr_blocks", "ipv6_cidr_blocks"] {
                    for cidr in strings(rule.get(key)) {
                        cidrs.push((group.address.clone(), cidr));
                    }
                }
            }
        }
        let attached = |rule: &&Resource| match rule.attr("security_group_id") {
            Attr::Unresolved(expression) => coverage::references(expression, &group.address),
            _ => false,
        };
        for rule in config
            .of_kind("aws_vpc_security_group_ingress_rule")
            .filter(attached)
        {
            for key in ["cidr_ipv4", "cidr_ipv6"] {
                match rule.attr(key) {
                    Attr::Set(Json::String(cidr)) => {
                        cidrs.push((rule.address.clone(), cidr.clone()))
                    }
                    Attr::Unresolved(expression) => {
                        return unknown(
                            w,
                            format!("{}: {key} is set by `{expression}`", rule.address),
                            super::super::PLAN_FIX,
                        );
                    }
                    _ => {}
                }
            }
        }
        for rule in config.of_kind("aws_security_group_rule").filter(attached) {
            if rule.string("type") != Some("ingress") {
                continue;
            }
            for key in ["cidr_blocks", "ipv6_cidr_blocks"] {
                match rule.attr(key) {
                    Attr::Set(value) => {
                        for cidr in strings(Some(value)) {
                            cidrs.push((rule.address.clone(), cidr));
                        }
                    }
                    Attr::Unresolved(expression) => {
                        return unknown(
                            w,
                            format!("{}: {key} is set by `{expression}`", rule.address),
                            super::super::PLAN_FIX,
                        );
                    }
                    Attr::Unset => {}
                }
            }
        }
    }
    let list: Vec<&str> = cidrs.iter().map(|(_, c)| c.as_str()).collect();
    let exposure = netrange::exposure(&list);
    let names: Vec<String> = groups.iter().map(|g| g.address.clone()).collect();
    let origin = format!(
        "ingress rules of {} judged by the public addresses they admit together (more than a /8 of IPv4 or a /12 of IPv6)",
        names.join(", ")
    );
    let open: Vec<String> = exposure
        .as_ref()
        .map(|e| {
            e.entries
                .iter()
                .map(|cidr| {
                    let rule = cidrs
                        .iter()
                        .find(|(_, c)| c.trim() == cidr)
                        .map(|(r, _)| r.as_str())
                        .unwrap_or_default();
                    format!("{rule}: {cidr}")
                })
                .collect()
        })
        .unwrap_or_default();
    w.known(OPEN, origin.clone(), open);
    w.known(
        COVERS,
        origin,
        exposure.map(|e| e.covers).unwrap_or_default(),
    );
}
