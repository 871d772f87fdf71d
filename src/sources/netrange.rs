//! Network ranges judged by the addresses they cover, not by their spelling.
//!
//! An allow-list of `0.0.0.0/1` and `128.0.0.0/1` admits every IPv4 address as surely as
//! `0.0.0.0/0` does; so does a list of CIDRs that spells out "every public address except the
//! private ranges". Authorized networks (Cloud SQL), security-group ingress and Terraform
//! `authorized_networks` blocks are therefore judged on the union of what they admit.
//!
//! **The threshold.** Only globally routable ("public") addresses count: an entry for
//! `10.0.0.0/8` admits no scanner on the internet. A list is *open to the internet* when,
//! together, its entries admit
//! - **more than 2^24 public IPv4 addresses** (more than one `/8`: the largest block ever
//!   allocated to a single organisation, so anything beyond it admits other parties'
//!   addresses — cloud tenants, ISPs' customers), or
//! - **more than 2^116 public IPv6 addresses** (more than one `/12`: the size of the blocks
//!   IANA gives a regional registry, far beyond any single organisation's allocation).
//!
//! Public means outside the IANA special-purpose ranges that are not globally reachable
//! (RFC 6890 and its registry): for IPv4 `0/8`, `10/8`, `100.64/10`, `127/8`, `169.254/16`,
//! `172.16/12`, `192.0.0/24`, `192.0.2/24`, `192.88.99/24`, `192.168/16`, `198.18/15`,
//! `198.51.100/24`, `203.0.113/24`, `224/4` and `240/4`; for IPv6 the global unicast block
//! `2000::/3` without the documentation prefix `2001:db8::/32`.

use std::net::IpAddr;

use ipnet::IpNet;

/// IPv4 ranges that are not globally reachable (IANA special-purpose registry).
const IPV4_NOT_PUBLIC: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
];

/// The IPv6 global unicast block, and the documentation prefix inside it.
const IPV6_PUBLIC: &str = "2000::/3";
const IPV6_NOT_PUBLIC: &[&str] = &["2001:db8::/32"];

/// More public IPv4 addresses than this (one /8) is the internet in effect.
pub const IPV4_THRESHOLD: u128 = 1 << 24;
/// More public IPv6 addresses than this (one /12) is the internet in effect.
pub const IPV6_THRESHOLD: u128 = 1 << 116;

/// An inclusive address interval within one family.
type Span = (u128, u128);

/// What a list of network entries admits from the internet, when that is too much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// The entries (as written) that admit public addresses, widest first.
    pub entries: Vec<String>,
    /// What they admit together: "every public IPv4 address", "62.5% of public IPv4 addresses"…
    pub covers: String,
}

/// Parses one entry: a CIDR (`203.0.113.0/24`, host bits allowed) or a bare address
/// (a single host). `None` for anything else.
pub fn parse(entry: &str) -> Option<IpNet> {
    let entry = entry.trim();
    entry
        .parse::<IpNet>()
        .map(|net| net.trunc())
        .ok()
        .or_else(|| entry.parse::<IpAddr>().ok().map(IpNet::from))
}

fn span(net: &IpNet) -> Span {
    match net {
        IpNet::V4(n) => (
            u32::from(n.network()) as u128,
            u32::from(n.broadcast()) as u128,
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

fn spans(cidrs: &[&str]) -> Vec<Span> {
    cidrs
        .iter()
        .filter_map(|c| parse(c))
        .map(|n| span(&n))
        .collect()
}

/// Sorted, disjoint, merged intervals.
fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_unstable();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match out.last_mut() {
            Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// `spans` minus `holes`; both merged.
fn subtract(spans: &[Span], holes: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    for &(mut start, end) in spans {
        let mut open = true;
        for &(hs, he) in holes {
            if he < start || hs > end {
                continue;
            }
            if hs > start {
                out.push((start, hs - 1));
            }
            if he >= end {
                open = false;
                break;
            }
            start = he + 1;
        }
        if open {
            out.push((start, end));
        }
    }
    out
}

/// `spans` intersected with the inclusive `range`.
fn clip(spans: &[Span], range: Span) -> Vec<Span> {
    spans
        .iter()
        .filter(|(s, e)| *e >= range.0 && *s <= range.1)
        .map(|(s, e)| ((*s).max(range.0), (*e).min(range.1)))
        .collect()
}

fn size(spans: &[Span]) -> u128 {
    spans.iter().map(|(s, e)| e - s + 1).sum()
}

/// One address family: where its public space is and when too much of it is admitted.
struct Family {
    name: &'static str,
    public: Vec<Span>,
    threshold: u128,
}

impl Family {
    fn v4() -> Self {
        Family {
            name: "IPv4",
            public: subtract(&[(0, u32::MAX as u128)], &merge(spans(IPV4_NOT_PUBLIC))),
            threshold: IPV4_THRESHOLD,
        }
    }

    fn v6() -> Self {
        Family {
            name: "IPv6",
            public: subtract(
                &merge(spans(&[IPV6_PUBLIC])),
                &merge(spans(IPV6_NOT_PUBLIC)),
            ),
            threshold: IPV6_THRESHOLD,
        }
    }

    /// The public addresses a set of spans of this family admits.
    fn public_part(&self, spans: &[Span]) -> Vec<Span> {
        let mut out = Vec::new();
        for &range in &self.public {
            out.extend(clip(spans, range));
        }
        merge(out)
    }
}

/// Judges a list of allow-list entries: `Some` when, together, they admit more of the
/// internet than the threshold (see the module docs). Entries that do not parse admit
/// nothing here: the providers refuse them.
pub fn exposure(cidrs: &[&str]) -> Option<Exposure> {
    let parsed: Vec<(&str, IpNet)> = cidrs
        .iter()
        .filter_map(|c| parse(c).map(|n| (*c, n)))
        .collect();
    let mut covers = Vec::new();
    let mut entries: Vec<(u128, &str)> = Vec::new();
    for (family, is_v4) in [(Family::v4(), true), (Family::v6(), false)] {
        let mine: Vec<(&str, Span)> = parsed
            .iter()
            .filter(|(_, n)| matches!(n, IpNet::V4(_)) == is_v4)
            .map(|(c, n)| (*c, span(n)))
            .collect();
        let union = family.public_part(&merge(mine.iter().map(|(_, s)| *s).collect()));
        let admitted = size(&union);
        if admitted <= family.threshold {
            continue;
        }
        let total = size(&family.public);
        covers.push(if admitted == total {
            format!("every public {} address", family.name)
        } else {
            let share = admitted as f64 / total as f64 * 100.0;
            format!("{share:.1}% of public {} addresses", family.name)
        });
        for (entry, s) in mine {
            let own = size(&family.public_part(&[s]));
            if own > 0 {
                entries.push((own, entry));
            }
        }
    }
    if covers.is_empty() {
        return None;
    }
    // Widest first; equal sizes keep the order they were written in.
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    Some(Exposure {
        entries: entries
            .into_iter()
            .map(|(_, e)| e.trim().to_string())
            .collect(),
        covers: covers.join(" and "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(cidrs: &[&str]) -> Option<(Vec<String>, String)> {
        exposure(cidrs).map(|e| (e.entries, e.covers))
    }

    #[test]
    fn the_whole_internet_in_one_entry() {
        let (entries, covers) = open(&["0.0.0.0/0"]).unwrap();
        assert_eq!(entries, ["0.0.0.0/0"]);
        assert_eq!(covers, "every public IPv4 address");
        let (entries, covers) = open(&["::/0"]).unwrap();
        assert_eq!(entries, ["::/0"]);
        assert_eq!(covers, "every public IPv6 address");
    }

    #[test]
    fn two_halves_are_the_whole_internet() {
        let (entries, covers) = open(&["0.0.0.0/1", "128.0.0.0/1"]).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(covers, "every public IPv4 address");
        let (_, covers) = open(&["::/1", "8000::/1"]).unwrap();
        assert_eq!(covers, "every public IPv6 address");
        // Host bits set: 1.2.3.4/0 is still 0.0.0.0/0.
        assert!(open(&["1.2.3.4/0"]).is_some());
    }

    #[test]
    fn one_half_is_still_open() {
        let (entries, covers) = open(&["0.0.0.0/1", "198.51.100.7"]).unwrap();
        assert_eq!(entries, ["0.0.0.0/1"]);
        assert!(covers.ends_with("% of public IPv4 addresses"), "{covers}");
    }

    #[test]
    fn every_public_address_without_the_private_ranges() {
        // The usual "everything but RFC 1918" list (as VPN split-tunnel configs write it).
        let list = [
            "0.0.0.0/5",
            "8.0.0.0/7",
            "11.0.0.0/8",
            "12.0.0.0/6",
            "16.0.0.0/4",
            "32.0.0.0/3",
            "64.0.0.0/2",
            "128.0.0.0/3",
            "160.0.0.0/5",
            "168.0.0.0/6",
            "172.0.0.0/12",
            "172.32.0.0/11",
            "172.64.0.0/10",
            "172.128.0.0/9",
            "173.0.0.0/8",
            "174.0.0.0/7",
            "176.0.0.0/4",
            "192.0.0.0/9",
            "192.128.0.0/11",
            "192.160.0.0/13",
            "192.169.0.0/16",
            "192.170.0.0/15",
            "192.172.0.0/14",
            "192.176.0.0/12",
            "192.192.0.0/10",
            "193.0.0.0/8",
            "194.0.0.0/7",
            "196.0.0.0/6",
            "200.0.0.0/5",
            "208.0.0.0/4",
        ];
        let (entries, covers) = open(&list).unwrap();
        assert_eq!(covers, "every public IPv4 address");
        assert_eq!(entries.len(), list.len());
        assert_eq!(entries[0], "64.0.0.0/2");
    }

    #[test]
    fn the_threshold_is_one_slash_8_of_public_space() {
        // Exactly a /8 of public addresses: one organisation's largest possible block.
        assert_eq!(open(&["17.0.0.0/8"]), None);
        // A /7 is more than any one organisation holds.
        assert!(open(&["16.0.0.0/7"]).is_some());
        // Two /8s in separate entries add up.
        assert!(open(&["17.0.0.0/8", "44.0.0.0/8"]).is_some());
        // Overlapping entries count once.
        assert_eq!(open(&["17.0.0.0/8", "17.0.0.0/9", "17.128.0.0/9"]), None);
        // IPv6: a /12 passes, a /11 does not.
        assert_eq!(open(&["2400::/12"]), None);
        assert!(open(&["2400::/11"]).is_some());
    }

    #[test]
    fn private_and_reserved_space_admits_no_one_from_the_internet() {
        assert_eq!(
            open(&[
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "100.64.0.0/10"
            ]),
            None
        );
        assert_eq!(open(&["224.0.0.0/3"]), None);
        assert_eq!(open(&["fc00::/7", "fe80::/10", "2001:db8::/32"]), None);
        // 0.0.0.0/4 covers 0/8 and 10/8 too, but 14 public /8s remain.
        let (_, covers) = open(&["0.0.0.0/4"]).unwrap();
        assert!(covers.contains("% of public IPv4"), "{covers}");
    }

    #[test]
    fn both_families_are_named_when_both_are_open() {
        let (entries, covers) = open(&["::/0", "0.0.0.0/0", "203.0.113.9/32"]).unwrap();
        assert_eq!(
            covers,
            "every public IPv4 address and every public IPv6 address"
        );
        assert_eq!(entries, ["::/0", "0.0.0.0/0"]);
    }

    #[test]
    fn small_lists_and_garbage_are_not_open() {
        assert_eq!(open(&[]), None);
        assert_eq!(open(&["198.51.100.0/24", "203.0.113.7"]), None);
        assert_eq!(open(&["not-a-cidr", "300.1.1.1/8", ""]), None);
    }

    #[test]
    fn bare_addresses_are_single_hosts() {
        assert_eq!(parse("8.8.8.8").map(|n| n.prefix_len()), Some(32));
        assert_eq!(parse(" 2001:4860::1 ").map(|n| n.prefix_len()), Some(128));
        assert_eq!(
            parse("10.1.2.3/8").map(|n| n.to_string()),
            Some("10.0.0.0/8".into())
        );
    }
}
