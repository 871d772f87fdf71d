//! The server CA certificate of an RDS instance or cluster: when it expires,
//! every client that verifies the server (`sslmode=verify-full`,
//! `--ssl-mode=VERIFY_IDENTITY`) stops connecting, as fleets on `rds-ca-2019`
//! found in August 2024. Rotation needs a maintenance window and client
//! bundles, so it is judged months ahead.
//!
//! Read: `CACertificateIdentifier` and `CertificateDetails.ValidTill` of each
//! instance (and of a Multi-AZ DB cluster), and `DescribeCertificates` once
//! per region per run for the CA list: a CA AWS no longer lists, or one of
//! the retired ones below, is retired.

use crate::facts::FactSink;
use aws_sdk_rds::types::Certificate;
use chrono::{DateTime, Utc};

/// CAs AWS has retired (expired, no longer offered): every client bundle that
/// trusts only them fails. Dates from the RDS user guide's rotation pages.
pub const RETIRED: &[(&str, &str)] =
    &[("rds-ca-2015", "2020-03-05"), ("rds-ca-2019", "2024-08-22")];

/// One CA as `DescribeCertificates` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaCert {
    pub id: String,
    pub valid_till: Option<DateTime<Utc>>,
}

impl CaCert {
    pub fn from_sdk(cert: &Certificate) -> Option<CaCert> {
        Some(CaCert {
            id: cert.certificate_identifier()?.to_string(),
            valid_till: cert.valid_till().and_then(super::facts::to_chrono),
        })
    }
}

/// The region's CA list, or why it could not be read.
pub type CaList = Result<Vec<CaCert>, String>;

/// The CA one instance (a member of a cluster, or the cluster) uses.
#[derive(Debug, Clone, PartialEq)]
pub struct UsedCa {
    /// Whose CA it is: the instance or member identifier.
    pub holder: String,
    pub id: Option<String>,
    /// `CertificateDetails.ValidTill`: the server certificate's own expiry.
    pub valid_till: Option<DateTime<Utc>>,
}

/// A holder's CA with its expiry and, when retired, the retirement day.
type Judged<'a> = (&'a UsedCa, Option<DateTime<Utc>>, Option<&'static str>);

/// `server_ca.*` facts: the CA that expires first among the holders (a
/// cluster's members each have their own), judged against the region's list.
pub fn facts(sink: &mut FactSink<'_>, used: &[UsedCa], list: &CaList, now: DateTime<Utc>) {
    let judged: Vec<Judged<'_>> = used
        .iter()
        .filter(|u| u.id.is_some() || u.valid_till.is_some())
        .map(|u| {
            let id = u.id.as_deref().unwrap_or_default();
            let retired = RETIRED
                .iter()
                .find(|(name, _)| *name == id)
                .map(|(_, day)| *day);
            let listed = list
                .as_ref()
                .ok()
                .and_then(|certs| certs.iter().find(|c| c.id == id))
                .and_then(|c| c.valid_till);
            // A retired CA expired on its retirement day (no longer listed anywhere).
            let ended = retired
                .and_then(|day| chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc());
            // The server certificate may expire before its CA: the earlier counts.
            let expiry = match (u.valid_till, listed.or(ended)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            (u, expiry, retired)
        })
        .collect();
    if judged.is_empty() {
        for path in crate::facts::schema::SERVER_CA_FACTS {
            sink.unknown(
                path,
                "the RDS answer names no CACertificateIdentifier for this database",
                Some(super::facts::IAM_HINT),
            );
        }
        return;
    }
    // Retired first, then the earliest expiry.
    let worst = judged
        .iter()
        .min_by_key(|(_, expiry, retired)| (retired.is_none(), expiry.map(|e| e.timestamp())))
        .copied();
    let Some((used, expiry, retired)) = worst else {
        return;
    };
    let id = used.id.clone().unwrap_or_default();
    let who = if used.holder.is_empty() {
        String::new()
    } else {
        format!(" of {}", used.holder)
    };
    sink.known(
        "server_ca.name",
        format!("DescribeDBInstances CACertificateIdentifier{who}"),
        id.clone(),
    );
    let unlisted = match list {
        Ok(certs) => !id.is_empty() && !certs.iter().any(|c| c.id == id),
        Err(_) => false,
    };
    match (retired, unlisted, list) {
        (Some(day), _, _) => sink.known(
            "server_ca.retired",
            format!("{id} was retired by AWS on {day} (RDS certificate rotation)"),
            true,
        ),
        (None, true, _) => sink.known(
            "server_ca.retired",
            format!("DescribeCertificates no longer lists {id}"),
            true,
        ),
        (None, false, Ok(_)) => sink.known(
            "server_ca.retired",
            format!("DescribeCertificates lists {id}"),
            false,
        ),
        (None, false, Err(reason)) => sink.known(
            "server_ca.retired",
            format!("{id} is not one of the CAs AWS has retired (rds-ca-2015, rds-ca-2019); DescribeCertificates was not read: {reason}"),
            false,
        ),
    }
    match expiry {
        Some(expiry) => {
            let origin = if used.valid_till.is_some() {
                format!("DescribeDBInstances CertificateDetails.ValidTill{who}")
            } else if let Some(day) = retired {
                format!("{id} expired on {day}, when AWS retired it")
            } else {
                format!("DescribeCertificates ValidTill of {id}")
            };
            sink.known(
                "server_ca.expires",
                origin.clone(),
                expiry.format("%Y-%m-%d").to_string(),
            );
            sink.known(
                "server_ca.days_until_expiry",
                origin,
                (expiry - now).num_days(),
            );
        }
        None => {
            let reason = match list {
                Err(reason) => format!(
                    "the answer has no CertificateDetails.ValidTill and DescribeCertificates could not be read: {reason}"
                ),
                Ok(_) => format!(
                    "neither CertificateDetails.ValidTill nor DescribeCertificates gives an expiry for {id}"
                ),
            };
            for path in ["server_ca.expires", "server_ca.days_until_expiry"] {
                sink.unknown(
                    path,
                    reason.clone(),
                    Some("allow rds:DescribeCertificates (AmazonRDSReadOnlyAccess)"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
            .single()
            .expect("a date")
    }

    fn used(id: &str, till: Option<DateTime<Utc>>) -> UsedCa {
        UsedCa {
            holder: "db1".into(),
            id: Some(id.into()),
            valid_till: till,
        }
    }

    fn value(facts: &crate::facts::Facts, path: &str) -> serde_json::Value {
        facts[path].value().cloned().unwrap_or_default()
    }

    #[test]
    fn a_retired_ca_is_retired_whatever_the_list_says() {
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            &[used("rds-ca-2019", None)],
            &Err("no access".into()),
            at(2026, 12, 1),
        );
        let facts = sink.finish();
        assert_eq!(value(&facts, "server_ca.retired"), true);
        assert_eq!(value(&facts, "server_ca.name"), "rds-ca-2019");
        assert_eq!(value(&facts, "server_ca.expires"), "2024-08-22");
    }

    #[test]
    fn the_expiry_comes_from_the_instance_or_the_list() {
        let list = Ok(vec![CaCert {
            id: "rds-ca-rsa2048-g1".into(),
            valid_till: Some(at(2061, 5, 20)),
        }]);
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            &[used("rds-ca-rsa2048-g1", Some(at(2027, 1, 30)))],
            &list,
            at(2026, 12, 1),
        );
        let found = sink.finish();
        assert_eq!(value(&found, "server_ca.days_until_expiry"), 60);
        assert_eq!(value(&found, "server_ca.retired"), false);
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            &[used("rds-ca-rsa2048-g1", None)],
            &list,
            at(2026, 12, 1),
        );
        assert_eq!(value(&sink.finish(), "server_ca.expires"), "2061-05-20");
    }

    #[test]
    fn a_ca_the_list_no_longer_has_is_retired() {
        let list = Ok(vec![CaCert {
            id: "rds-ca-rsa2048-g1".into(),
            valid_till: None,
        }]);
        let mut sink = FactSink::new("rds");
        facts(
            &mut sink,
            &[used("rds-ca-old", None)],
            &list,
            at(2026, 12, 1),
        );
        let facts = sink.finish();
        assert_eq!(value(&facts, "server_ca.retired"), true);
        assert!(facts["server_ca.days_until_expiry"].value().is_none());
    }
}
