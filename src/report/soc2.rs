//! The SOC 2 Trust Services Criteria (2017, points of focus revised 2022)
//! that checks name in `controls`, with what a sqlready verdict evidences for
//! each and where that evidence stops. The evidence bundle's `controls.json`
//! is built from this table and the check catalog; docs/compliance.md gives
//! the reasoning at length. A test keeps the two in step: every control a
//! check names must be described here.

use crate::checks::Catalog;
use serde::Serialize;
use serde_json::{Value as Json, json};

/// One criterion.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Criterion {
    /// As checks write it: `SOC2 CC6.7`.
    pub control: &'static str,
    /// The criterion, paraphrased.
    pub criterion: &'static str,
    /// What a sqlready verdict evidences for it.
    pub evidences: &'static str,
    /// What it does not: the part the auditor needs other evidence for.
    pub limits: &'static str,
}

pub const CRITERIA: &[Criterion] = &[
    Criterion {
        control: "SOC2 CC4.1",
        criterion: "The entity selects, develops and performs ongoing and/or separate evaluations of whether the components of internal control are present and functioning.",
        evidences: "A scheduled sqlready run is itself an ongoing evaluation of the database controls; the cost check shows that spend is watched by a budget.",
        limits: "Cost budgets are a weak fit for CC4.1 (they concern operations, not internal control); treat cost.budget as operational hygiene.",
    },
    Criterion {
        control: "SOC2 CC6.1",
        criterion: "The entity implements logical access security software, infrastructure and architectures over protected information assets.",
        evidences: "No public IP, TLS-only access rules, no anonymous or passwordless accounts, no world-open test schema, PUBLIC cannot create objects, the auditor is not a superuser, encryption at rest.",
        limits: "sqlready counts superusers and PUBLIC grants but does not review who holds which ordinary grant or role membership; access reviews need the identity provider's evidence.",
    },
    Criterion {
        control: "SOC2 CC6.2",
        criterion: "Before issuing credentials, the entity registers and authorizes users; credentials are removed when no longer needed.",
        evidences: "No anonymous accounts and no account without a password exist in the database.",
        limits: "Joiner/mover/leaver processes and periodic access reviews are outside the database's view.",
    },
    Criterion {
        control: "SOC2 CC6.3",
        criterion: "The entity authorizes, modifies or removes access to data, software, functions and other protected information assets based on roles, responsibilities or the system design, considering least privilege and segregation of duties.",
        evidences: "The audit's own login and other login roles are not superusers (PostgreSQL SUPERUSER, MySQL SUPER/ALL), no superuser or root account is reachable from other hosts, PUBLIC holds no CREATE right.",
        limits: "Whether each non-superuser role holds only what its job needs is a judgement the database cannot make; the role list in the evidence is the input to that review.",
    },
    Criterion {
        control: "SOC2 CC6.6",
        criterion: "The entity implements logical access security measures against threats from sources outside its system boundaries.",
        evidences: "The instance has no public IP address (read from the cloud API).",
        limits: "Firewall rules, authorized networks and private-service-access design are not evaluated.",
    },
    Criterion {
        control: "SOC2 CC6.7",
        criterion: "The entity restricts the transmission of information to authorized users and processes and protects it during transmission.",
        evidences: "TLS is offered, required for remote connections (pg_hba hostssl, require_secure_transport) and used by current client sessions.",
        limits: "Certificate validity and client-side verification (sslmode=verify-full) are not checked.",
    },
    Criterion {
        control: "SOC2 CC7.1",
        criterion: "The entity uses detection and monitoring procedures to identify configuration changes that introduce vulnerabilities and susceptibility to newly discovered ones.",
        evidences: "The engine's major version still receives security fixes, and end of life is not near (dated end-of-life table).",
        limits: "Minor-version patch level and CVE exposure are not assessed.",
    },
    Criterion {
        control: "SOC2 CC7.2",
        criterion: "The entity monitors system components for anomalies indicative of malicious acts, natural disasters and errors.",
        evidences: "Connection and audit logging (pgaudit, audit plugins), slow-query logging and statistics, alerting on resources, health of archiving, replication and slots.",
        limits: "Whether logs are shipped, retained and reviewed, and whether alerts reach someone, is outside the database.",
    },
    Criterion {
        control: "SOC2 CC7.3",
        criterion: "The entity evaluates security events to determine whether they could or did result in a failure to meet its objectives.",
        evidences: "Audit logging records who changed what, which makes security events evaluable.",
        limits: "The evaluation itself (triage, incident records) is a process sqlready cannot see.",
    },
    Criterion {
        control: "SOC2 CC7.5",
        criterion: "The entity identifies, develops, and implements activities to recover from identified security incidents.",
        evidences: "A restore of the database was exercised recently (AWS Backup restore jobs, RDS restore events, or a drill recorded in sqlready.toml).",
        limits: "Whether the restored data was checked, and how long the restore took, is not seen.",
    },
    Criterion {
        control: "SOC2 CC8.1",
        criterion: "The entity authorizes, designs, develops, configures, documents, tests, approves and implements changes to infrastructure, data and software.",
        evidences: "Schema changes go through a migration tool, a staging environment exists, replicas refuse writes, the instance cannot be deleted by accident.",
        limits: "Approval records (reviews, tickets) for individual changes are not evidenced.",
    },
    Criterion {
        control: "SOC2 A1.1",
        criterion: "The entity maintains, monitors and evaluates current processing capacity and use of system components to manage capacity demand.",
        evidences: "Storage grows automatically, connection headroom, WAL retained by replication slots is bounded, transaction-ID age is under control.",
        limits: "A point-in-time audit, not capacity trending or forecasting.",
    },
    Criterion {
        control: "SOC2 A1.2",
        criterion: "The entity authorizes, designs, implements, operates, maintains and monitors environmental protections, software, data backup processes and recovery infrastructure.",
        evidences: "Automated backups and retention, point-in-time recovery (WAL archiving, binary logs), multi-zone failover, healthy replicas, durable commits (fsync, full_page_writes, synchronous_commit), deletion protection.",
        limits: "Restores are not tested by sqlready: that is A1.3, and needs restore-test records.",
    },
    Criterion {
        control: "SOC2 A1.3",
        criterion: "The entity tests recovery plan procedures supporting system recovery to meet its objectives.",
        evidences: "Prerequisites of a recovery that can be tested: a recent successful backup, a copy in another region, a recovery window that reaches back far enough.",
        limits: "sqlready never restores anything: restore-test records remain the evidence for A1.3.",
    },
    Criterion {
        control: "SOC2 C1.1",
        criterion: "The entity identifies and maintains confidential information to meet its confidentiality objectives.",
        evidences: "Encryption at rest; developers work on sanitized copies rather than production data.",
        limits: "Data classification and the sanitization process itself are not inspected.",
    },
    Criterion {
        control: "SOC2 PI1.4",
        criterion: "The entity implements policies and procedures to make available or deliver output completely, accurately and timely.",
        evidences: "Durability settings (flush at commit, sync_binlog, doublewrite) keep acknowledged transactions intact after a crash.",
        limits: "PI1.5 (storing data completely and accurately) fits durability better than PI1.4; see docs/compliance.md.",
    },
    Criterion {
        control: "SOC2 PI1.5",
        criterion: "The entity implements policies and procedures to store inputs, items in processing and outputs completely, accurately and timely.",
        evidences: "Durability settings keep every acknowledged transaction on stable storage, and checksums detect corruption of what is stored.",
        limits: "Application-level completeness (reconciliations, constraints) is not evaluated.",
    },
];

/// The description of a control, if the table has it.
pub fn criterion(control: &str) -> Option<&'static Criterion> {
    CRITERIA.iter().find(|c| c.control == control)
}

/// The mapping document of the evidence bundle: every check with its
/// controls, and every control with its checks and reasoning.
pub fn mapping(catalog: &Catalog) -> Json {
    let checks: Vec<Json> = catalog
        .checks
        .iter()
        .map(|c| {
            let check = &c.check;
            json!({
                "id": check.id, "item": check.item, "severity": check.severity,
                "title": check.title, "controls": check.controls,
            })
        })
        .collect();
    let mut controls: Vec<&str> = catalog
        .checks
        .iter()
        .flat_map(|c| c.check.controls.iter().map(String::as_str))
        .collect();
    controls.sort_unstable();
    controls.dedup();
    let by_control: Vec<Json> = controls
        .iter()
        .map(|control| {
            let ids: Vec<&str> = catalog
                .checks
                .iter()
                .filter(|c| c.check.controls.iter().any(|x| x == control))
                .map(|c| c.check.id.as_str())
                .collect();
            let described = criterion(control);
            json!({
                "control": control,
                "criterion": described.map(|c| c.criterion),
                "evidences": described.map(|c| c.evidences),
                "limits": described.map(|c| c.limits),
                "checks": ids,
            })
        })
        .collect();
    json!({
        "framework": "AICPA Trust Services Criteria (2017, revised points of focus 2022)",
        "reasoning": "docs/compliance.md, section SOC 2 mapping",
        "checks": checks,
        "controls": by_control,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_a_check_names_is_described() {
        let catalog = Catalog::load(None).unwrap();
        for compiled in &catalog.checks {
            for control in &compiled.check.controls {
                assert!(
                    criterion(control).is_some(),
                    "{} names {control}, which src/report/soc2.rs does not describe",
                    compiled.check.id
                );
            }
        }
    }
}
