//! Cloud SQL facts Prowler judges and sqlready had not: the server CA
//! certificate (`serverCaCert.expirationTime`: when it expires, clients that
//! verify the server stop connecting), maintenance deny periods
//! (`settings.denyMaintenancePeriods`: updates, security fixes included, wait
//! until they end) with the newer maintenance versions on offer
//! (`availableMaintenanceVersions`), and the PostgreSQL connection and
//! statement logging flags (`log_connections`, `log_disconnections`,
//! `log_statement`), judged like their in-database equivalents.

use crate::facts::FactSink;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use google_cloud_sql_v1::model::{DatabaseInstance, DenyMaintenancePeriod};

/// Adds every fact of this module for one instance.
pub fn facts(sink: &mut FactSink<'_>, instance: &DatabaseInstance, now: DateTime<Utc>) {
    ca_facts(sink, instance, now);
    maintenance_facts(sink, instance, now);
    if super::facts::engine(instance) == "postgres" {
        logging_facts(sink, instance);
    }
    // The schema's generic hint sends the reader to the cloud API; this target came from it.
    sink.unknown(
        "monitoring.alerting",
        "Cloud Monitoring alert policies are not part of the Cloud SQL Admin API",
        Some("audit the Terraform that defines google_monitoring_alert_policy resources for this instance's CPU, memory, connections and disk"),
    );
}

fn ca_facts(sink: &mut FactSink<'_>, instance: &DatabaseInstance, now: DateTime<Utc>) {
    let cert = instance.server_ca_cert.as_ref();
    let expiry = cert
        .and_then(|c| c.expiration_time.as_ref())
        .and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds(), 0));
    let Some(expiry) = expiry else {
        for path in crate::facts::schema::SERVER_CA_FACTS {
            sink.unknown(
                path,
                "the instance answer has no serverCaCert.expirationTime",
                Some("grant roles/cloudsql.viewer; an instance with a customer-managed CA (serverCaMode CUSTOMER_MANAGED_CAS_CA) is checked in Certificate Authority Service"),
            );
        }
        return;
    };
    let name = cert.map(|c| c.common_name.clone()).unwrap_or_default();
    sink.known("server_ca.name", "serverCaCert.commonName", name);
    sink.known(
        "server_ca.expires",
        "serverCaCert.expirationTime",
        expiry.format("%Y-%m-%d").to_string(),
    );
    sink.known(
        "server_ca.days_until_expiry",
        "serverCaCert.expirationTime",
        (expiry - now).num_days(),
    );
    // Cloud SQL rotates per instance: the CA in use is retired only by expiring.
    sink.known(
        "server_ca.retired",
        "serverCaCert: Cloud SQL server CAs are per instance and end only by expiring (expirationTime)",
        false,
    );
}

/// A deny period's day: `YYYY-MM-DD`, or `MM-DD` recurring every year.
fn day(text: &str, year: i32) -> Option<(NaiveDate, bool)> {
    let parts: Vec<&str> = text.trim().split('-').collect();
    let num = |s: &str| s.parse::<u32>().ok();
    match parts.as_slice() {
        [y, m, d] => Some((
            NaiveDate::from_ymd_opt(y.parse().ok()?, num(m)?, num(d)?)?,
            false,
        )),
        [m, d] => Some((NaiveDate::from_ymd_opt(year, num(m)?, num(d)?)?, true)),
        _ => None,
    }
}

/// The days a period blocks updates (end inclusive), or `None` when unparsable.
pub fn deny_days(period: &DenyMaintenancePeriod, now: DateTime<Utc>) -> Option<i64> {
    let (start, recurring) = day(&period.start_date, now.year())?;
    let (mut end, _) = day(&period.end_date, now.year())?;
    if recurring && end < start {
        end = end.with_year(end.year() + 1)?;
    }
    Some((end - start).num_days() + 1)
}

fn maintenance_facts(sink: &mut FactSink<'_>, instance: &DatabaseInstance, now: DateTime<Utc>) {
    let periods = instance
        .settings
        .as_ref()
        .map(|s| s.deny_maintenance_periods.as_slice())
        .unwrap_or_default();
    let mut listed = Vec::new();
    let mut longest = 0;
    for period in periods {
        match deny_days(period, now) {
            Some(days) => {
                longest = longest.max(days);
                listed.push(format!(
                    "{}..{} ({days} days)",
                    period.start_date, period.end_date
                ));
            }
            None => listed.push(format!(
                "{}..{} (dates not understood)",
                period.start_date, period.end_date
            )),
        }
    }
    sink.known(
        "cloudsql.maintenance.deny_periods",
        "settings.denyMaintenancePeriods",
        listed,
    );
    sink.known(
        "cloudsql.maintenance.longest_deny_days",
        "settings.denyMaintenancePeriods startDate..endDate (absent: none)",
        longest,
    );
    sink.known(
        "cloudsql.maintenance.available_versions",
        format!(
            "availableMaintenanceVersions (running maintenanceVersion {})",
            if instance.maintenance_version.is_empty() {
                "not given"
            } else {
                instance.maintenance_version.as_str()
            }
        ),
        instance.available_maintenance_versions.clone(),
    );
}

fn logging_facts(sink: &mut FactSink<'_>, instance: &DatabaseInstance) {
    let flag = |name: &str| {
        instance
            .settings
            .as_ref()
            .and_then(|s| {
                s.database_flags
                    .iter()
                    .find(|f| f.name.eq_ignore_ascii_case(name))
            })
            .map(|f| f.value.as_str())
    };
    let origin = |name: &str, default: &str| match flag(name) {
        Some(_) => format!("settings.databaseFlags {name}"),
        None => format!("settings.databaseFlags {name} (absent: {default})"),
    };
    let on = |v: &str| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "on" | "true" | "1" | "yes"
        )
    };
    for name in ["log_connections", "log_disconnections"] {
        sink.known(
            &format!("cloudsql.postgres.{name}"),
            origin(name, "off"),
            flag(name).is_some_and(on),
        );
    }
    sink.known(
        "cloudsql.postgres.log_statement",
        origin("log_statement", "none"),
        flag("log_statement").map_or("none".to_string(), |v| v.trim().to_ascii_lowercase()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn period(start: &str, end: &str) -> DenyMaintenancePeriod {
        let mut p = DenyMaintenancePeriod::new();
        p.start_date = start.into();
        p.end_date = end.into();
        p
    }

    #[test]
    fn deny_periods_count_their_days_across_the_new_year() {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .single()
            .expect("a date");
        assert_eq!(
            deny_days(&period("2026-11-01", "2027-01-29"), now),
            Some(90)
        );
        assert_eq!(deny_days(&period("12-15", "01-15"), now), Some(32));
        assert_eq!(deny_days(&period("soon", "later"), now), None);
    }
}
