//! Where a discovered cloud instance is reached from inside, read from the
//! API's own answer (the raw evidence the RDS and Cloud SQL sources keep), and
//! the connection URL built from it. Pure: no I/O.

use crate::facts::snapshot::TargetFacts;
use crate::target::{Kind, Resolve};
use serde_json::Value as Json;
use std::path::Path;
use url::Url;

/// An instance's in-database address as the API publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `rds` or `cloudsql`.
    pub provider: Kind,
    /// `postgres` or `mysql` (MariaDB speaks the MySQL protocol).
    pub engine: Kind,
    pub host: String,
    pub port: u16,
    /// Which API field gave the address, for the evidence.
    pub from: String,
    /// The server's CA certificate (PEM) when the API publishes it (Cloud SQL).
    pub ca_pem: Option<String>,
    /// Whether IAM database authentication is on, when the API says.
    pub iam: Option<bool>,
    /// The AWS region (RDS), for signing an IAM token.
    pub region: Option<String>,
}

/// The endpoint of a target the RDS or Cloud SQL source collected; the
/// error says why there is none (a stopped instance, no address published).
pub fn of(target: &TargetFacts) -> Result<Endpoint, String> {
    let engine = match target.engine.as_str() {
        "postgres" => Kind::Postgres,
        "mysql" | "mariadb" => Kind::Mysql,
        other => {
            return Err(format!(
                "the engine '{other}' is not one sqlready audits from inside (PostgreSQL, MySQL, MariaDB)"
            ));
        }
    };
    let answer = |name: &str| {
        target
            .evidence
            .iter()
            .find(|e| e.name == name)
            .map(|e| &e.response)
    };
    match target.kind {
        Kind::Rds => {
            let region = rds_region(&target.id);
            if let Some(cluster) = answer("DescribeDBClusters") {
                rds_cluster(cluster, engine, region)
            } else if let Some(instance) = answer("DescribeDBInstances") {
                rds_instance(instance, engine, region)
            } else {
                Err("the RDS answer for this target is not in its evidence".into())
            }
        }
        Kind::Cloudsql => match answer("instances.get") {
            Some(instance) => cloudsql(instance, engine),
            None => Err("the Cloud SQL answer for this target is not in its evidence".into()),
        },
        other => Err(format!(
            "{} targets are not discovered from a cloud API",
            other.as_str()
        )),
    }
}

/// A reader member of a DB cluster, as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    /// `DBInstanceIdentifier`.
    pub instance: String,
    /// The reader's own id, `rds://[ACCOUNT@]REGION/db/ID` (it is audited
    /// as part of its cluster, never as a target of its own).
    pub id: String,
    /// Its instance endpoint, or why it has none.
    pub endpoint: Result<Endpoint, String>,
}

/// The readers of a cluster target (`DBClusterMembers` with `IsClusterWriter`
/// false), each at its own instance endpoint (`DescribeDBInstances
/// Endpoint.Address:Port`), in the API's order. IAM authentication is the
/// cluster's setting (members follow it). Empty for anything but a cluster.
pub fn cluster_readers(target: &TargetFacts) -> Vec<Reader> {
    let engine = match target.engine.as_str() {
        "postgres" => Kind::Postgres,
        "mysql" | "mariadb" => Kind::Mysql,
        _ => return Vec::new(),
    };
    let Some(cluster) = target
        .evidence
        .iter()
        .find(|e| e.name == "DescribeDBClusters")
        .map(|e| &e.response)
    else {
        return Vec::new();
    };
    let region = rds_region(&target.id);
    let cluster_iam = cluster["IAMDatabaseAuthenticationEnabled"].as_bool();
    let members = cluster["DBClusterMembers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    members
        .iter()
        .filter(|m| m["IsClusterWriter"].as_bool() == Some(false))
        .filter_map(|m| m["DBInstanceIdentifier"].as_str())
        .map(|instance| {
            let described = target
                .evidence
                .iter()
                .filter(|e| e.name == "DescribeDBInstances")
                .map(|e| &e.response)
                .find(|r| r["DBInstanceIdentifier"].as_str() == Some(instance));
            let endpoint = match described {
                Some(answer) => rds_instance(answer, engine, region.clone()).map(|mut e| {
                    e.from = format!("DescribeDBInstances Endpoint.Address of reader {instance}");
                    e.iam = cluster_iam.or(e.iam);
                    e
                }),
                None => Err(format!(
                    "reader {instance} is listed in DBClusterMembers but not in the DescribeDBInstances answer, so its endpoint is unknown"
                )),
            };
            Reader {
                instance: instance.to_string(),
                id: reader_id(&target.id, instance),
                endpoint,
            }
        })
        .collect()
}

/// `rds://[ACCOUNT@]REGION/cluster/C` and a member → `rds://[ACCOUNT@]REGION/db/MEMBER`.
fn reader_id(cluster_id: &str, instance: &str) -> String {
    match cluster_id.split_once("/cluster/") {
        Some((authority, _)) => format!("{authority}/db/{instance}"),
        None => format!("{cluster_id}/db/{instance}"),
    }
}

/// `rds://[ACCOUNT@]REGION/...` → REGION.
fn rds_region(id: &str) -> Option<String> {
    let rest = id.strip_prefix("rds://")?;
    let authority = rest.split('/').next()?;
    Some(
        authority
            .rsplit_once('@')
            .map_or(authority, |(_, region)| region)
            .to_string(),
    )
}

fn port_of(value: &Json) -> Option<u16> {
    value.as_u64().and_then(|p| u16::try_from(p).ok())
}

fn rds_instance(answer: &Json, engine: Kind, region: Option<String>) -> Result<Endpoint, String> {
    let status = answer["DBInstanceStatus"].as_str().unwrap_or_default();
    let endpoint = &answer["Endpoint"];
    let (Some(host), Some(port)) = (endpoint["Address"].as_str(), port_of(&endpoint["Port"]))
    else {
        return Err(format!(
            "DescribeDBInstances publishes no Endpoint for this instance (DBInstanceStatus = '{status}'): it is not reachable until it is available"
        ));
    };
    if matches!(status, "stopped" | "stopping" | "creating" | "deleting") {
        return Err(format!(
            "DBInstanceStatus is '{status}': start it (or wait until it is available) to audit it from inside"
        ));
    }
    Ok(Endpoint {
        provider: Kind::Rds,
        engine,
        host: host.to_string(),
        port,
        from: "DescribeDBInstances Endpoint.Address".into(),
        ca_pem: None,
        iam: answer["IAMDatabaseAuthenticationEnabled"].as_bool(),
        region,
    })
}

/// A cluster is reached at its writer endpoint (`Endpoint`), not a reader.
fn rds_cluster(answer: &Json, engine: Kind, region: Option<String>) -> Result<Endpoint, String> {
    let status = answer["Status"].as_str().unwrap_or_default();
    let (Some(host), Some(port)) = (answer["Endpoint"].as_str(), port_of(&answer["Port"])) else {
        return Err(format!(
            "DescribeDBClusters publishes no writer Endpoint for this cluster (Status = '{status}')"
        ));
    };
    if matches!(status, "stopped" | "stopping" | "creating" | "deleting") {
        return Err(format!(
            "the cluster's Status is '{status}': start it (or wait until it is available) to audit it from inside"
        ));
    }
    Ok(Endpoint {
        provider: Kind::Rds,
        engine,
        host: host.to_string(),
        port,
        from: "DescribeDBClusters Endpoint (the writer)".into(),
        ca_pem: None,
        iam: answer["IAMDatabaseAuthenticationEnabled"].as_bool(),
        region,
    })
}

/// Cloud SQL: the private IP first (the VPC a scheduled job runs in), then the
/// public one; the server CA from `serverCaCert`; IAM auth from the
/// `cloudsql.iam_authentication` (PostgreSQL) / `cloudsql_iam_authentication`
/// (MySQL) flag.
///
/// The evidence holds the client's serialization, where enums are the API's
/// numbers (`SqlIpAddressType` PRIMARY = 1, PRIVATE = 3; `SqlInstanceState`
/// RUNNABLE = 1; `SqlActivationPolicy` NEVER = 2); the names are accepted too.
fn cloudsql(answer: &Json, engine: Kind) -> Result<Endpoint, String> {
    let is = |value: &Json, name: &str, number: i64| {
        value.as_str() == Some(name) || value.as_i64() == Some(number)
    };
    let state = &answer["state"];
    if !state.is_null() && !is(state, "RUNNABLE", 1) {
        return Err(format!(
            "the instance's state is {state}, not RUNNABLE: only a running instance can be audited from inside"
        ));
    }
    if is(&answer["settings"]["activationPolicy"], "NEVER", 2) {
        return Err(
            "settings.activationPolicy is NEVER (the instance is stopped): start it to audit it from inside"
                .into(),
        );
    }
    let addresses = answer["ipAddresses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let address = |kind: &str, number: i64| {
        addresses
            .iter()
            .find(|a| is(&a["type"], kind, number))
            .and_then(|a| a["ipAddress"].as_str())
            .map(str::to_string)
    };
    let (host, from) = match (address("PRIVATE", 3), address("PRIMARY", 1)) {
        (Some(private), _) => (private, "ipAddresses[type=PRIVATE]"),
        (None, Some(public)) => (public, "ipAddresses[type=PRIMARY] (no private IP)"),
        (None, None) => {
            return Err(
                "ipAddresses lists neither a private nor a public IP: connect through the Cloud SQL Auth Proxy and point --resolve at it".into(),
            );
        }
    };
    let flags = answer["settings"]["databaseFlags"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let iam = flags.iter().any(|f| {
        matches!(
            f["name"].as_str(),
            Some("cloudsql.iam_authentication" | "cloudsql_iam_authentication")
        ) && f["value"]
            .as_str()
            .is_some_and(|v| v.eq_ignore_ascii_case("on"))
    });
    Ok(Endpoint {
        provider: Kind::Cloudsql,
        engine,
        host,
        port: if engine == Kind::Postgres { 5432 } else { 3306 },
        from: from.into(),
        ca_pem: answer["serverCaCert"]["cert"]
            .as_str()
            .filter(|pem| pem.contains("BEGIN CERTIFICATE"))
            .map(str::to_string),
        iam: Some(iam),
        region: None,
    })
}

impl TlsMode {
    /// `connect_sslmode`'s words (libpq's names).
    pub fn parse(text: &str) -> Option<TlsMode> {
        match text {
            "prefer" => Some(TlsMode::Prefer),
            "require" => Some(TlsMode::Require),
            "verify-ca" => Some(TlsMode::VerifyCa),
            "verify-full" => Some(TlsMode::VerifyFull),
            _ => None,
        }
    }
}

/// How the session's TLS is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS when the server offers it (`connect_sslmode = "prefer"` only: a
    /// server without TLS would get the password in the clear).
    Prefer,
    /// Encrypted, the server not verified (no CA known).
    Require,
    /// Encrypted, the server's certificate checked against the CA.
    VerifyCa,
    /// As `VerifyCa`, and the certificate names the host connected to.
    VerifyFull,
}

/// TLS for an endpoint: verify-full when a CA is known and the API names the
/// server by a host name its certificate carries (RDS; through `--resolve`
/// too, which redirects the TCP connection and keeps the name for TLS, as
/// curl does); verify-ca when the certificate cannot name the address (Cloud
/// SQL certificates name `PROJECT:INSTANCE`, not an IP); require when no CA
/// is known.
pub fn tls_mode(endpoint: &Endpoint, has_ca: bool) -> TlsMode {
    match (has_ca, endpoint.provider) {
        (false, _) => TlsMode::Require,
        (true, Kind::Rds) => TlsMode::VerifyFull,
        (true, _) => TlsMode::VerifyCa,
    }
}

/// The connection URL for `user` at `host:port` (after `--resolve`), with TLS
/// parameters. The password is set separately ([`Url::set_password`]) and
/// never displayed.
pub fn url(
    endpoint: &Endpoint,
    host: &str,
    port: u16,
    user: &str,
    tls: TlsMode,
    ca_file: Option<&Path>,
) -> Result<Url, String> {
    let bracketed = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let (scheme, path, mode_key, ca_key, mode) = match endpoint.engine {
        Kind::Mysql => (
            "mysql",
            "/",
            "ssl-mode",
            "ssl-ca",
            match tls {
                TlsMode::Prefer => "PREFERRED",
                TlsMode::Require => "REQUIRED",
                TlsMode::VerifyCa => "VERIFY_CA",
                TlsMode::VerifyFull => "VERIFY_IDENTITY",
            },
        ),
        _ => (
            "postgres",
            "/postgres",
            "sslmode",
            "sslrootcert",
            match tls {
                TlsMode::Prefer => "prefer",
                TlsMode::Require => "require",
                TlsMode::VerifyCa => "verify-ca",
                TlsMode::VerifyFull => "verify-full",
            },
        ),
    };
    let mut url = Url::parse(&format!("{scheme}://{bracketed}:{port}{path}"))
        .map_err(|err| format!("cannot make a connection URL for {host}:{port}: {err}"))?;
    url.set_username(user)
        .map_err(|()| format!("cannot use '{user}' as the user name in a URL"))?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair(mode_key, mode);
        if let Some(ca) = ca_file {
            query.append_pair(ca_key, &ca.display().to_string());
        }
    }
    Ok(url)
}

/// The address connected to: the API's, or where a `--resolve` rule sends it.
pub fn address(endpoint: &Endpoint, rules: &[Resolve]) -> (String, u16, bool) {
    match Resolve::apply(rules, &endpoint.host, endpoint.port) {
        Some((addr, port)) => (addr, port, true),
        None => (endpoint.host.clone(), endpoint.port, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::RawEvidence;
    use crate::target::Role;
    use serde_json::json;

    fn target(kind: Kind, engine: &str, id: &str, evidence: Vec<(&str, Json)>) -> TargetFacts {
        TargetFacts {
            tags: Default::default(),
            id: id.into(),
            resource: None,
            kind,
            role: Role::Primary,
            engine: engine.into(),
            version: String::new(),
            collected_at: chrono::DateTime::UNIX_EPOCH,
            facts: Default::default(),
            evidence: evidence
                .into_iter()
                .map(|(name, response)| RawEvidence {
                    source: kind.as_str().into(),
                    name: name.into(),
                    request: String::new(),
                    response,
                })
                .collect(),
            principal: None,
            sources: Vec::new(),
            location: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn an_rds_instance_is_reached_at_its_endpoint_with_its_iam_setting() {
        let t = target(
            Kind::Rds,
            "postgres",
            "rds://123456789012@eu-west-1/db/orders",
            vec![(
                "DescribeDBInstances",
                json!({"DBInstanceStatus": "available", "IAMDatabaseAuthenticationEnabled": true,
                       "Endpoint": {"Address": "orders.abc.eu-west-1.rds.amazonaws.com", "Port": 5432}}),
            )],
        );
        let e = of(&t).unwrap();
        assert_eq!(
            (
                e.host.as_str(),
                e.port,
                e.engine,
                e.iam,
                e.region.as_deref()
            ),
            (
                "orders.abc.eu-west-1.rds.amazonaws.com",
                5432,
                Kind::Postgres,
                Some(true),
                Some("eu-west-1")
            )
        );
        assert_eq!(tls_mode(&e, true), TlsMode::VerifyFull);
        assert_eq!(tls_mode(&e, false), TlsMode::Require);
    }

    #[test]
    fn a_cluster_is_reached_at_its_writer_and_a_stopped_instance_not_at_all() {
        let t = target(
            Kind::Rds,
            "mysql",
            "rds://us-east-1/cluster/ledger",
            vec![
                (
                    "DescribeDBClusters",
                    json!({"Status": "available", "Endpoint": "ledger.cluster-x.rds.amazonaws.com",
                                               "ReaderEndpoint": "ledger.cluster-ro-x.rds.amazonaws.com", "Port": 3306}),
                ),
                (
                    "DescribeDBInstances",
                    json!({"Endpoint": {"Address": "ledger-2.x", "Port": 3306}}),
                ),
            ],
        );
        let e = of(&t).unwrap();
        assert_eq!(
            (e.host.as_str(), e.engine),
            ("ledger.cluster-x.rds.amazonaws.com", Kind::Mysql)
        );
        let stopped = target(
            Kind::Rds,
            "postgres",
            "rds://us-east-1/db/x",
            vec![(
                "DescribeDBInstances",
                json!({"DBInstanceStatus": "stopped", "Endpoint": {"Address": "x", "Port": 5432}}),
            )],
        );
        assert!(of(&stopped).unwrap_err().contains("stopped"));
    }

    #[test]
    fn a_clusters_readers_are_its_non_writer_members_at_their_instance_endpoints() {
        let mut t = target(
            Kind::Rds,
            "postgres",
            "rds://123456789012@us-east-1/cluster/ledger",
            vec![
                (
                    "DescribeDBClusters",
                    json!({"Status": "available", "Endpoint": "ledger.cluster-x", "Port": 5432,
                           "IAMDatabaseAuthenticationEnabled": true,
                           "DBClusterMembers": [
                               {"DBInstanceIdentifier": "ledger-1", "IsClusterWriter": true},
                               {"DBInstanceIdentifier": "ledger-2", "IsClusterWriter": false},
                               {"DBInstanceIdentifier": "ledger-3", "IsClusterWriter": false}]}),
                ),
                (
                    "DescribeDBInstances",
                    json!({"DBInstanceIdentifier": "ledger-2", "DBInstanceStatus": "available",
                           "IAMDatabaseAuthenticationEnabled": false,
                           "Endpoint": {"Address": "ledger-2.x", "Port": 5433}}),
                ),
            ],
        );
        t.role = Role::Cluster;
        let readers = cluster_readers(&t);
        assert_eq!(readers.len(), 2);
        assert_eq!(readers[0].id, "rds://123456789012@us-east-1/db/ledger-2");
        let e = readers[0].endpoint.as_ref().unwrap();
        // The cluster's IAM setting, the reader's own address.
        assert_eq!(
            (e.host.as_str(), e.port, e.iam),
            ("ledger-2.x", 5433, Some(true))
        );
        assert!(e.from.contains("reader ledger-2"), "{}", e.from);
        assert!(
            readers[1]
                .endpoint
                .as_ref()
                .unwrap_err()
                .contains("not in the DescribeDBInstances answer")
        );
        // An instance has no readers.
        let instance = target(Kind::Rds, "postgres", "rds://r/db/x", vec![]);
        assert!(cluster_readers(&instance).is_empty());
    }

    #[test]
    fn cloud_sql_prefers_the_private_ip_and_takes_the_server_ca() {
        let answer = json!({
            "state": "RUNNABLE",
            "ipAddresses": [{"type": 1, "ipAddress": "34.1.2.3"}, {"type": "PRIVATE", "ipAddress": "10.0.0.3"}],
            "serverCaCert": {"cert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
            "settings": {"databaseFlags": [{"name": "cloudsql.iam_authentication", "value": "on"}]}
        });
        let e = of(&target(
            Kind::Cloudsql,
            "postgres",
            "cloudsql://p/i",
            vec![("instances.get", answer)],
        ))
        .unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.iam),
            ("10.0.0.3", 5432, Some(true))
        );
        assert!(e.ca_pem.is_some());
        assert_eq!(tls_mode(&e, true), TlsMode::VerifyCa);
        let none = json!({"state": "RUNNABLE", "ipAddresses": [{"type": "OUTGOING", "ipAddress": "1.1.1.1"}]});
        let err = of(&target(
            Kind::Cloudsql,
            "mysql",
            "cloudsql://p/j",
            vec![("instances.get", none)],
        ))
        .unwrap_err();
        assert!(err.contains("--resolve"), "{err}");
    }

    #[test]
    fn the_url_carries_the_user_and_tls_but_no_password() {
        let e = Endpoint {
            provider: Kind::Rds,
            engine: Kind::Mysql,
            host: "h".into(),
            port: 3306,
            from: String::new(),
            ca_pem: None,
            iam: None,
            region: None,
        };
        let url = url(
            &e,
            "::1",
            4000,
            "sqlready_auditor",
            TlsMode::VerifyCa,
            Some(Path::new("/tmp/ca.pem")),
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "mysql://sqlready_auditor@[::1]:4000/?ssl-mode=VERIFY_CA&ssl-ca=%2Ftmp%2Fca.pem"
        );
    }
}
