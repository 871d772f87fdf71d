//! The VPC security groups an RDS instance or cluster lists, read through EC2
//! (`ec2:DescribeSecurityGroups`) and judged by the public addresses their ingress
//! rules admit on the database's port ([`crate::sources::netrange`] rules).
//!
//! **Calls.** One paginated `DescribeSecurityGroups` per region and judgement, with the
//! union of the group ids the region's targets list (as a `group-id` filter: unlike
//! `GroupIds`, a filter does not fail the whole call for one group that was deleted in
//! the meantime, and it can be paged), never a call per instance; groups already read in
//! the run are not asked again. A refusal (`UnauthorizedOperation`) is remembered: the
//! run warns once and every later target's facts are `unknown`, naming the permission.
//!
//! **What admits the internet.** An ingress rule counts when it admits the database's
//! port: protocol `-1` (every protocol and port), or TCP with the port in its range. Its
//! IPv4 and IPv6 CIDRs are judged together, across every group of the target. A rule
//! that admits a *managed prefix list* on the port may admit anything, `0.0.0.0/0`
//! included, and its entries are not read: unless the CIDRs already admit the internet,
//! the facts are then `unknown`, saying which list. A rule that references *another
//! security group* admits the network interfaces in that group, by their private
//! addresses (in this VPC or a peered one): no internet address, so it does not count.
//!
//! The conversion from the SDK's types and the judgement are pure; the call lives in
//! [`Session::security_groups`].

use super::Session;
use crate::facts::snapshot::TargetFacts;
use crate::facts::{Fact, RawEvidence};
use crate::sources::netrange;
use aws_config::Region;
use aws_sdk_ec2::types::{Filter, SecurityGroup};
use serde_json::{Value as Json, json};
use std::collections::{BTreeSet, HashMap};

/// The facts this module writes (the Terraform source writes the same ones).
pub const OPEN: &str = "rds.network.open_ingress";
pub const COVERS: &str = "rds.network.open_coverage";

/// What lets the audit read security groups.
pub const EC2_HINT: &str =
    "allow ec2:DescribeSecurityGroups (in the AWS managed policy AmazonRDSReadOnlyAccess)";

/// Group ids per filter: EC2 takes at most 200 values in one filter.
const IDS_PER_FILTER: usize = 200;
/// Groups per page (the API allows 5 to 1000).
const PAGE: i32 = 1000;

/// One ingress rule of a security group, as far as the judgement needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `tcp`, `udp`, `icmp`, a protocol number, or `-1` for every protocol.
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    /// IPv4 and IPv6 CIDRs.
    pub cidrs: Vec<String>,
    pub prefix_lists: Vec<String>,
    pub groups: Vec<String>,
}

/// A security group: id, name and ingress rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub ingress: Vec<Rule>,
}

/// The groups read in a region by id, or why they could not be.
pub type Answer = Result<HashMap<String, Group>, String>;

/// A security group from the EC2 answer; `None` without an id.
pub fn from_sdk(group: &SecurityGroup) -> Option<Group> {
    let ingress = group
        .ip_permissions()
        .iter()
        .map(|p| Rule {
            protocol: p.ip_protocol().unwrap_or("-1").to_string(),
            from_port: p.from_port(),
            to_port: p.to_port(),
            cidrs: p
                .ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip().map(str::to_string))
                .chain(
                    p.ipv6_ranges()
                        .iter()
                        .filter_map(|r| r.cidr_ipv6().map(str::to_string)),
                )
                .collect(),
            prefix_lists: p
                .prefix_list_ids()
                .iter()
                .filter_map(|l| l.prefix_list_id().map(str::to_string))
                .collect(),
            groups: p
                .user_id_group_pairs()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_string))
                .collect(),
        })
        .collect();
    Some(Group {
        id: group.group_id()?.to_string(),
        name: group.group_name().unwrap_or_default().to_string(),
        ingress,
    })
}

/// Whether a rule admits TCP connections to `port` (any port when it is not known).
pub fn admits_port(rule: &Rule, port: Option<i32>) -> bool {
    match rule.protocol.to_ascii_lowercase().as_str() {
        "-1" | "all" => true,
        "tcp" | "6" => match (rule.from_port, rule.to_port, port) {
            // -1 / absent ports with TCP: the whole range.
            (Some(from), Some(to), Some(port)) if from >= 0 && to >= 0 => {
                from <= port && port <= to
            }
            _ => true,
        },
        _ => false,
    }
}

/// The judgement of one target's groups.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The rules that together admit the internet on the port (`sg-1 (name): CIDR`,
    /// widest first; empty when they do not) and what they cover.
    Known {
        open: Vec<String>,
        covers: String,
        origin: String,
    },
    Unknown {
        reason: String,
        fix: Option<String>,
    },
}

fn port_text(port: Option<i32>) -> String {
    port.map_or_else(|| "any port".to_string(), |p| format!("port {p}"))
}

/// Judges the groups `ids` a target lists, on its `port`, from what EC2 answered.
pub fn judge(ids: &[String], port: Option<i32>, answer: &Answer) -> Verdict {
    if ids.is_empty() {
        return Verdict::Unknown {
            reason: "the RDS answer lists no VpcSecurityGroups for it".into(),
            fix: Some(super::facts::IAM_HINT.into()),
        };
    }
    let found = match answer {
        Ok(found) => found,
        Err(reason) => {
            return Verdict::Unknown {
                reason: reason.clone(),
                fix: Some(EC2_HINT.into()),
            };
        }
    };
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| !found.contains_key(*id))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Verdict::Unknown {
            reason: format!(
                "DescribeSecurityGroups did not return {} (deleted, or in another account)",
                missing.join(", ")
            ),
            fix: Some(EC2_HINT.into()),
        };
    }
    let mut cidrs: Vec<(String, String)> = Vec::new();
    let mut prefix_lists: Vec<String> = Vec::new();
    for id in ids {
        let group = &found[id];
        let label = if group.name.is_empty() {
            group.id.clone()
        } else {
            format!("{} ({})", group.id, group.name)
        };
        for rule in group.ingress.iter().filter(|r| admits_port(r, port)) {
            cidrs.extend(rule.cidrs.iter().map(|c| (label.clone(), c.clone())));
            prefix_lists.extend(rule.prefix_lists.iter().map(|l| format!("{label}: {l}")));
        }
    }
    let list: Vec<&str> = cidrs.iter().map(|(_, c)| c.as_str()).collect();
    let exposure = netrange::exposure(&list);
    let origin = format!(
        "ec2:DescribeSecurityGroups: ingress of {} on {} judged by the public addresses it admits together (more than a /8 of IPv4 or a /12 of IPv6)",
        ids.join(", "),
        port_text(port)
    );
    match exposure {
        Some(exposure) => Verdict::Known {
            open: exposure
                .entries
                .iter()
                .map(|cidr| {
                    let label = cidrs
                        .iter()
                        .find(|(_, c)| c.trim() == cidr)
                        .map(|(l, _)| l.as_str())
                        .unwrap_or_default();
                    format!("{label}: {cidr}")
                })
                .collect(),
            covers: exposure.covers,
            origin,
        },
        None if !prefix_lists.is_empty() => Verdict::Unknown {
            reason: format!(
                "ingress on {} from managed prefix list(s) {}: their entries are not read, and a prefix list may hold 0.0.0.0/0",
                port_text(port),
                prefix_lists.join(", ")
            ),
            fix: Some(
                "check the entries with `aws ec2 get-managed-prefix-list-entries --prefix-list-id PL_ID`, or admit the application's security group instead of a prefix list".into(),
            ),
        },
        None => Verdict::Known {
            open: Vec::new(),
            covers: String::new(),
            origin,
        },
    }
}

/// The listed group ids of a target, without repeats, in listed order.
pub fn listed<'a>(ids: impl IntoIterator<Item = Option<&'a str>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids.into_iter().flatten() {
        if !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
    }
    out
}

/// Writes the verdict's facts and the groups read as raw evidence into a target.
pub fn stamp(target: &mut TargetFacts, ids: &[String], port: Option<i32>, answer: &Answer) {
    let source = super::facts::SOURCE;
    match judge(ids, port, answer) {
        Verdict::Known {
            open,
            covers,
            origin,
        } => {
            target
                .facts
                .insert(OPEN.into(), Fact::known(source, origin.clone(), open));
            target
                .facts
                .insert(COVERS.into(), Fact::known(source, origin, covers));
        }
        Verdict::Unknown { reason, fix } => {
            for key in [OPEN, COVERS] {
                target.facts.insert(
                    key.into(),
                    Fact::unknown(source, reason.clone(), fix.clone()),
                );
            }
        }
    }
    let response = match answer {
        Ok(found) => Json::Array(
            ids.iter()
                .filter_map(|id| found.get(id))
                .map(evidence_of)
                .collect(),
        ),
        Err(reason) => json!({ "error": reason }),
    };
    target.evidence.push(RawEvidence {
        source: source.into(),
        name: "DescribeSecurityGroups".into(),
        request: format!("ec2:DescribeSecurityGroups group-id={}", ids.join(",")),
        response,
    });
}

/// A group in the API's own field names (the parts read).
fn evidence_of(group: &Group) -> Json {
    json!({
        "GroupId": group.id,
        "GroupName": group.name,
        "IpPermissions": group.ingress.iter().map(|r| json!({
            "IpProtocol": r.protocol,
            "FromPort": r.from_port,
            "ToPort": r.to_port,
            "IpRanges": r.cidrs,
            "PrefixListIds": r.prefix_lists,
            "UserIdGroupPairs": r.groups,
        })).collect::<Vec<_>>(),
    })
}

impl Session {
    fn ec2_client(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(super::CountCalls(self.calls.clone()))
            .interceptor(super::CapAnswers)
            .retry_classifier(super::RetryAfter)
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    /// The security groups `ids` of a region: those not read yet in this run, in one
    /// paginated call. After a refusal the API is not asked again in the run.
    pub(super) async fn security_groups(&self, region: &str, ids: &BTreeSet<String>) -> Answer {
        let _one_at_a_time = self.sg_reading.lock().await;
        if let Some(reason) = self
            .sg_denied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Err(reason);
        }
        let wanted: Vec<String> = {
            let known = self.sg_read.lock().unwrap_or_else(|e| e.into_inner());
            ids.iter()
                .filter(|id| !known.contains_key(&(region.to_string(), (*id).clone())))
                .cloned()
                .collect()
        };
        if !wanted.is_empty() {
            let client = self.ec2_client(region);
            for chunk in wanted.chunks(IDS_PER_FILTER) {
                let listed = client
                    .describe_security_groups()
                    .filters(
                        Filter::builder()
                            .name("group-id")
                            .set_values(Some(chunk.to_vec()))
                            .build(),
                    )
                    .max_results(PAGE)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await;
                let read: Vec<Group> = match listed {
                    Ok(groups) => groups.iter().filter_map(from_sdk).collect(),
                    Err(err) => return Err(self.refused(region, &err)),
                };
                let mut known = self.sg_read.lock().unwrap_or_else(|e| e.into_inner());
                for group in read {
                    known.insert((region.to_string(), group.id.clone()), group);
                }
            }
        }
        let known = self.sg_read.lock().unwrap_or_else(|e| e.into_inner());
        Ok(ids
            .iter()
            .filter_map(|id| {
                known
                    .get(&(region.to_string(), id.clone()))
                    .map(|g| (id.clone(), g.clone()))
            })
            .collect())
    }

    /// Why the call failed, in words; a refusal is remembered and warned about once.
    fn refused<E, R>(&self, region: &str, err: &aws_sdk_ec2::error::SdkError<E, R>) -> String
    where
        E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + super::errors::HttpStatus + 'static,
    {
        let err = super::errors::classify(err, "DescribeSecurityGroups", region, self.max_attempts);
        if err.is_access_denied() {
            let reason = format!(
                "ec2:DescribeSecurityGroups was refused in {region} ({}): the security groups of RDS databases are not judged in this run",
                denied_detail(&err)
            );
            let mut denied = self.sg_denied.lock().unwrap_or_else(|e| e.into_inner());
            if denied.is_none() {
                tracing::warn!("{reason}; {EC2_HINT}");
                *denied = Some(reason.clone());
            }
            reason
        } else {
            tracing::warn!("{region}: security groups could not be read: {err}");
            format!("DescribeSecurityGroups failed in {region}: {err}")
        }
    }
}

fn denied_detail(err: &super::RdsError) -> String {
    match err {
        super::RdsError::AccessDenied { detail, .. } => detail.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, PrefixListId, UserIdGroupPair};

    fn rule(protocol: &str, from: i32, to: i32, cidrs: &[&str]) -> IpPermission {
        let mut p = IpPermission::builder()
            .ip_protocol(protocol)
            .from_port(from)
            .to_port(to);
        for cidr in cidrs {
            p = if cidr.contains(':') {
                p.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(*cidr).build())
            } else {
                p.ip_ranges(IpRange::builder().cidr_ip(*cidr).build())
            };
        }
        p.build()
    }

    fn group(id: &str, rules: Vec<IpPermission>) -> Group {
        let sg = SecurityGroup::builder()
            .group_id(id)
            .group_name(format!("{id}-name"))
            .set_ip_permissions(Some(rules))
            .build();
        from_sdk(&sg).expect("an id")
    }

    fn answer(groups: Vec<Group>) -> Answer {
        Ok(groups.into_iter().map(|g| (g.id.clone(), g)).collect())
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn open_of(verdict: Verdict) -> (Vec<String>, String) {
        match verdict {
            Verdict::Known { open, covers, .. } => (open, covers),
            other => panic!("not known: {other:?}"),
        }
    }

    #[test]
    fn the_whole_internet_on_the_port_is_open() {
        let found = answer(vec![group(
            "sg-1",
            vec![rule("tcp", 5432, 5432, &["0.0.0.0/0"])],
        )]);
        let (open, covers) = open_of(judge(&ids(&["sg-1"]), Some(5432), &found));
        assert_eq!(open, ["sg-1 (sg-1-name): 0.0.0.0/0"]);
        assert_eq!(covers, "every public IPv4 address");
    }

    #[test]
    fn another_port_or_protocol_admits_no_one_to_the_database() {
        let found = answer(vec![group(
            "sg-1",
            vec![
                rule("tcp", 22, 22, &["0.0.0.0/0"]),
                rule("udp", 5432, 5432, &["0.0.0.0/0"]),
                rule("tcp", 3306, 3306, &["::/0"]),
            ],
        )]);
        let (open, _) = open_of(judge(&ids(&["sg-1"]), Some(5432), &found));
        assert!(open.is_empty(), "{open:?}");
        // The same rules judged for the MySQL port: IPv6 is open.
        let (open, covers) = open_of(judge(&ids(&["sg-1"]), Some(3306), &found));
        assert_eq!(open, ["sg-1 (sg-1-name): ::/0"]);
        assert_eq!(covers, "every public IPv6 address");
    }

    #[test]
    fn every_protocol_and_port_ranges_count() {
        let all = IpPermission::builder()
            .ip_protocol("-1")
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/1").build())
            .build();
        let found = answer(vec![
            group("sg-a", vec![all]),
            group("sg-b", vec![rule("tcp", 1024, 65535, &["128.0.0.0/1"])]),
        ]);
        // Two halves in two groups: together the internet.
        let (open, covers) = open_of(judge(&ids(&["sg-a", "sg-b"]), Some(5432), &found));
        assert_eq!(open.len(), 2, "{open:?}");
        assert_eq!(covers, "every public IPv4 address");
    }

    #[test]
    fn private_and_narrow_ranges_are_not_the_internet() {
        let found = answer(vec![group(
            "sg-1",
            vec![rule(
                "tcp",
                5432,
                5432,
                &[
                    "10.0.0.0/8",
                    "172.16.0.0/12",
                    "203.0.113.0/24",
                    "198.51.100.7/32",
                ],
            )],
        )]);
        let (open, covers) = open_of(judge(&ids(&["sg-1"]), Some(5432), &found));
        assert!(open.is_empty());
        assert_eq!(covers, "");
    }

    #[test]
    fn a_prefix_list_on_the_port_is_unknown_unless_cidrs_already_open() {
        let with_list = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(5432)
            .to_port(5432)
            .prefix_list_ids(PrefixListId::builder().prefix_list_id("pl-123").build())
            .build();
        let found = answer(vec![group("sg-1", vec![with_list.clone()])]);
        match judge(&ids(&["sg-1"]), Some(5432), &found) {
            Verdict::Unknown { reason, .. } => {
                assert!(reason.contains("pl-123"), "{reason}");
                assert!(reason.contains("0.0.0.0/0"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let found = answer(vec![group(
            "sg-1",
            vec![with_list, rule("tcp", 5432, 5432, &["0.0.0.0/0"])],
        )]);
        let (open, _) = open_of(judge(&ids(&["sg-1"]), Some(5432), &found));
        assert_eq!(open.len(), 1);
    }

    #[test]
    fn a_referenced_group_admits_no_internet_address() {
        let referenced = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(5432)
            .to_port(5432)
            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-app").build())
            .build();
        let found = answer(vec![group("sg-1", vec![referenced])]);
        let (open, _) = open_of(judge(&ids(&["sg-1"]), Some(5432), &found));
        assert!(open.is_empty());
    }

    #[test]
    fn missing_groups_refusals_and_empty_lists_are_unknown() {
        let found = answer(vec![]);
        match judge(&ids(&["sg-gone"]), Some(5432), &found) {
            Verdict::Unknown { reason, .. } => assert!(reason.contains("sg-gone"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let refused: Answer = Err("ec2:DescribeSecurityGroups was refused".into());
        match judge(&ids(&["sg-1"]), Some(5432), &refused) {
            Verdict::Unknown { fix, .. } => {
                assert!(fix.unwrap().contains("ec2:DescribeSecurityGroups"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            judge(&[], Some(5432), &found),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn listed_ids_keep_their_order_without_repeats() {
        assert_eq!(
            listed([Some("sg-2"), None, Some("sg-1"), Some("sg-2")]),
            ["sg-2", "sg-1"]
        );
    }
}
