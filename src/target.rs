//! Target URIs: parsing, and display with every secret removed.

use serde::{Deserialize, Serialize};
use std::fmt;
use url::Url;

/// Where a target's facts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Postgres,
    Mysql,
    Rds,
    Cloudsql,
    Terraform,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Postgres => "postgres",
            Kind::Mysql => "mysql",
            Kind::Rds => "rds",
            Kind::Cloudsql => "cloudsql",
            Kind::Terraform => "terraform",
        }
    }
}

/// A target's place in its replication topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Primary,
    Replica,
    Cluster,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Replica => "replica",
            Role::Cluster => "cluster",
        }
    }
}

/// A target as given on the command line.
#[derive(Clone)]
pub enum TargetSpec {
    /// A database audited from inside; `url` holds credentials and is never displayed.
    Database {
        kind: Kind,
        url: Url,
        id: String,
    },
    Cloud {
        kind: Kind,
        uri: String,
    },
    /// Google Cloud SQL: every instance of a project, or one instance.
    CloudSql(CloudSqlSpec),
    /// AWS RDS / Aurora: every instance and cluster of a region, or one of them.
    Rds(RdsSpec),
    /// Terraform: a `.tf` file, a directory of them, or `terraform show -json` output.
    Terraform(TerraformSpec),
}

/// A Terraform target: the path as given (ids use it) and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerraformSpec {
    pub path: std::path::PathBuf,
    /// The path as the user wrote it.
    pub shown: String,
    id: String,
}

impl TerraformSpec {
    pub fn new(path: &str) -> Self {
        TerraformSpec::at(std::path::PathBuf::from(path), path)
    }

    /// A path read at `path` but shown (and identified) as `shown`: a config
    /// file's relative paths are read from the config's directory.
    pub fn at(path: std::path::PathBuf, shown: &str) -> Self {
        TerraformSpec {
            path,
            shown: shown.to_string(),
            id: format!("terraform://{shown}"),
        }
    }

    /// `terraform://PATH`; each database in it is `terraform://PATH#ADDRESS`.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// What an `rds://` target names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdsScope {
    /// `rds://REGION`: every DB instance and DB cluster of the region.
    Region,
    /// `rds://REGION/db/ID`: one DB instance.
    Instance(String),
    /// `rds://REGION/cluster/ID`: one DB cluster (Aurora, Multi-AZ DB cluster).
    Cluster(String),
    /// `aws-org://` (a `[[targets]]` entry of sqlready.toml): every active
    /// account of the AWS Organization, through a role assumed in each
    /// (`region` is `*`: every enabled region, unless the entry names them).
    Organization(Box<OrgScope>),
}

/// How an `aws-org://` entry reaches the Organization's member accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgScope {
    /// The read-only role assumed in each member account (`role_name`).
    pub role_name: String,
    /// `external_id`, when the role's trust policy requires one.
    pub external_id: Option<String>,
    /// `regions`: only these; empty means every region each account has enabled.
    pub regions: Vec<String>,
    /// `assume_role_in_caller_account = true`: the run's own account is
    /// reached through the role too, not with the run's credentials.
    pub assume_role_in_caller_account: bool,
}

/// `rds://REGION`, `rds://REGION/db/ID` or `rds://REGION/cluster/ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdsSpec {
    pub region: String,
    pub scope: RdsScope,
    /// `rds://ACCOUNT@REGION/…`: the account the target must be in (the run's
    /// credentials must belong to it); `None` for today's ids.
    pub account: Option<String>,
    id: String,
}

impl RdsSpec {
    pub fn new(region: &str, scope: RdsScope) -> Self {
        let id = match &scope {
            RdsScope::Region => format!("rds://{region}"),
            RdsScope::Instance(db) => format!("rds://{region}/db/{db}"),
            RdsScope::Cluster(cluster) => format!("rds://{region}/cluster/{cluster}"),
            RdsScope::Organization(_) => "aws-org://".to_string(),
        };
        RdsSpec {
            region: region.to_string(),
            scope,
            account: None,
            id,
        }
    }

    /// The same target, account-qualified: `rds://ACCOUNT@REGION/…`.
    pub fn in_account(mut self, account: &str) -> Self {
        if let Some(rest) = self.id.strip_prefix("rds://") {
            self.id = format!("rds://{account}@{rest}");
        }
        self.account = Some(account.to_string());
        self
    }

    /// The target id: `rds://REGION`, `rds://REGION/db/ID` or `rds://REGION/cluster/ID`
    /// (`rds://*`: every enabled region; `aws-org://`: the Organization).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `rds://*` or `aws-org://`: the regions are discovered (ec2:DescribeRegions).
    pub fn every_region(&self) -> bool {
        self.region == "*"
    }
}

/// `cloudsql://PROJECT` (discovery) or `cloudsql://PROJECT/INSTANCE` (one instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudSqlSpec {
    pub project: String,
    /// The instance ID (no project prefix); `None` lists every instance of the project.
    pub instance: Option<String>,
    /// `gcp-org://…`: the Cloud Asset Inventory scope (`organizations/ID`,
    /// `folders/ID`) whose projects are discovered; `*` for `cloudsql://*`
    /// (docs/organization.md).
    pub fleet: Option<String>,
    id: String,
}

impl CloudSqlSpec {
    pub fn new(project: &str, instance: Option<&str>) -> Self {
        let id = match instance {
            Some(instance) => format!("cloudsql://{project}/{instance}"),
            None => format!("cloudsql://{project}"),
        };
        CloudSqlSpec {
            project: project.to_string(),
            instance: instance.map(str::to_string),
            fleet: None,
            id,
        }
    }

    /// `gcp-org://ORG_ID` or `gcp-org://folders/ID`: every project of the scope;
    /// `cloudsql://*` (scope `*`): every project the credentials can see.
    pub fn fleet(scope: &str) -> Self {
        let id = match scope.strip_prefix("organizations/") {
            _ if scope == "*" => "cloudsql://*".to_string(),
            Some(org) => format!("gcp-org://{org}"),
            None => format!("gcp-org://{scope}"),
        };
        CloudSqlSpec {
            project: "*".to_string(),
            instance: None,
            fleet: Some(scope.to_string()),
            id,
        }
    }

    /// `cloudsql://PROJECT` or `cloudsql://PROJECT/INSTANCE`.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl TargetSpec {
    /// The id that appears in reports: no user, no password, no query string.
    pub fn id(&self) -> &str {
        match self {
            TargetSpec::Database { id, .. } => id,
            TargetSpec::Cloud { uri, .. } => uri,
            TargetSpec::CloudSql(spec) => spec.id(),
            TargetSpec::Rds(spec) => spec.id(),
            TargetSpec::Terraform(spec) => spec.id(),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            TargetSpec::Database { kind, .. } | TargetSpec::Cloud { kind, .. } => *kind,
            TargetSpec::CloudSql(_) => Kind::Cloudsql,
            TargetSpec::Rds(_) => Kind::Rds,
            TargetSpec::Terraform(_) => Kind::Terraform,
        }
    }
}

impl fmt::Debug for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the URL: it may carry a password.
        f.debug_tuple("TargetSpec").field(&self.id()).finish()
    }
}

/// Why a target string was refused. Messages never include the password.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TargetError {
    #[error(
        "'{shown}' is not a target: expected postgres://, mysql://, rds://REGION, cloudsql://PROJECT, or an existing Terraform path (.tf file, module directory, terraform show -json output)"
    )]
    NotAUri { shown: String },
    #[error(
        "unknown target scheme '{scheme}://' in '{shown}': use postgres://, postgresql://, mysql://, mariadb://, rds://, cloudsql:// or terraform://"
    )]
    UnknownScheme { scheme: String, shown: String },
    #[error("'{shown}' has no host: write it as {example}")]
    NoHost {
        shown: String,
        example: &'static str,
    },
    #[error("'{shown}': {reason}")]
    Invalid { shown: String, reason: String },
    #[error(
        "'{shown}': connection parameter '{parameter}' has the value '{value}'; accepted: {accepted}"
    )]
    BadParameterValue {
        shown: String,
        parameter: String,
        value: String,
        accepted: String,
    },
    #[error(
        "'{shown}': unknown connection parameter '{parameter}' (a misspelt parameter would be silently ignored by the driver); accepted: {accepted}"
    )]
    UnknownParameter {
        shown: String,
        parameter: String,
        accepted: String,
    },
    #[error(
        "{scheme}:// targets are not available in this build yet: audit the database from inside (postgres://, mysql://) for now"
    )]
    NotAvailable { scheme: String },
}

/// A Terraform path; a saved binary plan is refused with the command that converts it.
fn terraform(path: &str, shown: String) -> Result<TargetSpec, TargetError> {
    if binary_plan(std::path::Path::new(path)) {
        return Err(TargetError::Invalid {
            shown,
            reason: format!(
                "this is a binary plan saved by `terraform plan -out`: run `terraform show -json {path} > plan.json` and audit plan.json"
            ),
        });
    }
    Ok(TargetSpec::Terraform(TerraformSpec::new(path)))
}

/// Whether `path` is a file in the zip format `terraform plan -out` writes.
fn binary_plan(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut magic))
        .is_ok_and(|()| magic == *b"PK\x03\x04")
}

/// Parses one target argument.
pub fn parse(input: &str) -> Result<TargetSpec, TargetError> {
    let shown = redact_uri(input);
    let Some((scheme, rest)) = input.split_once("://") else {
        // A path: Terraform files, a module directory or `terraform show -json` output.
        let path = std::path::Path::new(input);
        let named = [".tf", ".json"].iter().any(|ext| input.ends_with(ext));
        if path.exists() || named {
            return terraform(input, shown);
        }
        return Err(TargetError::NotAUri { shown });
    };
    if scheme.eq_ignore_ascii_case("terraform") {
        if rest.is_empty() {
            return Err(TargetError::Invalid {
                shown,
                reason: "write terraform://PATH (a .tf file, a directory of them, or terraform show -json output), or just the path".into(),
            });
        }
        return terraform(rest, shown);
    }
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "postgres" | "postgresql" => database(Kind::Postgres, input, shown, 5432),
        "mysql" | "mariadb" => database(Kind::Mysql, input, shown, 3306),
        "cloudsql" => cloudsql(input, shown),
        "gcp-org" => crate::sources::cloudsql_fleet::parse(rest, shown),
        "rds" => rds(input, shown),
        "aws-org" => Err(TargetError::Invalid {
            shown,
            reason: "an AWS Organization is audited from sqlready.toml: a [[targets]] entry with cloud = \"aws-org://\" and role_name = \"ROLE\" (docs/organization.md)".into(),
        }),
        _ => Err(TargetError::UnknownScheme { scheme, shown }),
    }
}

fn database(
    kind: Kind,
    input: &str,
    shown: String,
    default_port: u16,
) -> Result<TargetSpec, TargetError> {
    let url = Url::parse(input).map_err(|err| TargetError::Invalid {
        shown: shown.clone(),
        reason: err.to_string(),
    })?;
    let host = match url.host_str() {
        Some(host) if !host.is_empty() => host.to_string(),
        _ => {
            return Err(TargetError::NoHost {
                shown,
                example: match kind {
                    Kind::Mysql => "mysql://USER@HOST:3306/DB",
                    _ => "postgres://USER@HOST:5432/DB",
                },
            });
        }
    };
    check_parameters(kind, &url, &shown)?;
    let port = url.port().unwrap_or(default_port);
    let database = url.path().trim_start_matches('/');
    let database = if database.is_empty() {
        match kind {
            // libpq connects to the database named after the user by default.
            Kind::Postgres if !url.username().is_empty() => url.username().to_string(),
            Kind::Postgres => "postgres".to_string(),
            _ => String::new(),
        }
    } else {
        percent_encoding::percent_decode_str(database)
            .decode_utf8_lossy()
            .into_owned()
    };
    let scheme = kind.as_str();
    let id = format!("{scheme}://{host}:{port}/{database}");
    Ok(TargetSpec::Database { kind, url, id })
}

/// What one connection parameter may hold.
enum Accepts {
    /// One of these words (compared case-insensitively, as the driver does).
    OneOf(&'static [&'static str]),
    /// A whole number in 0..=max.
    Number(u64),
    /// An IP address (libpq's `hostaddr`).
    IpAddress,
    /// Any text (paths, names, passwords: never echoed).
    Text,
}

const PG_SSLMODES: &[&str] = &[
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];
const MYSQL_SSLMODES: &[&str] = &[
    "DISABLED",
    "PREFERRED",
    "REQUIRED",
    "VERIFY_CA",
    "VERIFY_IDENTITY",
];

/// The URI parameters the driver (sqlx) understands, by engine. Anything else
/// is refused: sqlx ignores unknown parameters, so `sslmod=require` would
/// connect without the TLS its author asked for.
fn parameters(kind: Kind) -> &'static [(&'static str, Accepts)] {
    use Accepts::*;
    match kind {
        Kind::Mysql => &[
            ("ssl-mode", OneOf(MYSQL_SSLMODES)),
            ("sslmode", OneOf(MYSQL_SSLMODES)),
            ("ssl-ca", Text),
            ("sslca", Text),
            ("ssl-cert", Text),
            ("sslcert", Text),
            ("ssl-key", Text),
            ("sslkey", Text),
            ("tls-sni-servername", Text),
            ("charset", Text),
            ("collation", Text),
            ("socket", Text),
            ("timezone", Text),
            ("time-zone", Text),
            ("statement-cache-capacity", Number(u32::MAX as u64)),
        ],
        _ => &[
            ("sslmode", OneOf(PG_SSLMODES)),
            ("ssl-mode", OneOf(PG_SSLMODES)),
            ("sslrootcert", Text),
            ("ssl-root-cert", Text),
            ("ssl-ca", Text),
            ("sslcert", Text),
            ("ssl-cert", Text),
            ("sslkey", Text),
            ("ssl-key", Text),
            ("host", Text),
            ("hostaddr", IpAddress),
            ("port", Number(u16::MAX as u64)),
            ("dbname", Text),
            ("user", Text),
            ("password", Text),
            ("application_name", Text),
            ("options", Text),
            ("statement-cache-capacity", Number(u32::MAX as u64)),
        ],
    }
}

/// Checks every query parameter of a database URI before the driver sees it,
/// so that a typo is a usage error naming the parameter, its value and what
/// is accepted (the driver's own message is truncated and comes as a
/// connection failure).
fn check_parameters(kind: Kind, url: &Url, shown: &str) -> Result<(), TargetError> {
    let known = parameters(kind);
    for (key, value) in url.query_pairs() {
        // libpq-style `options[NAME]=VALUE` sets one server option.
        if kind == Kind::Postgres && key.starts_with("options[") && key.ends_with(']') {
            continue;
        }
        let Some((_, accepts)) = known.iter().find(|(name, _)| *name == key) else {
            let names: Vec<&str> = known.iter().map(|(name, _)| *name).collect();
            let extra = if kind == Kind::Postgres {
                ", options[NAME]"
            } else {
                ""
            };
            return Err(TargetError::UnknownParameter {
                shown: shown.to_string(),
                parameter: key.into_owned(),
                accepted: format!("{}{extra}", names.join(", ")),
            });
        };
        let bad = |accepted: String| TargetError::BadParameterValue {
            shown: shown.to_string(),
            parameter: key.to_string(),
            value: value.to_string(),
            accepted,
        };
        match accepts {
            Accepts::OneOf(words) => {
                if !words.iter().any(|w| w.eq_ignore_ascii_case(&value)) {
                    return Err(bad(words.join(", ")));
                }
            }
            Accepts::Number(max) => {
                if value.parse::<u64>().map_or(true, |n| n > *max) {
                    return Err(bad(format!("a whole number from 0 to {max}")));
                }
            }
            Accepts::IpAddress => {
                if value.parse::<std::net::IpAddr>().is_err() {
                    return Err(bad("an IPv4 or IPv6 address such as 10.0.0.5".into()));
                }
            }
            Accepts::Text => {}
        }
    }
    Ok(())
}

/// The host to connect to: the URI's host without the brackets an IPv6
/// literal is written with (`[::1]` → `::1`). `Url::host_str` keeps them, and
/// a bracketed name is then looked up in DNS and "fails to resolve".
pub fn connect_host(url: &Url) -> Option<String> {
    match url.host()? {
        url::Host::Ipv6(address) => Some(address.to_string()),
        url::Host::Ipv4(address) => Some(address.to_string()),
        url::Host::Domain(name) => Some(name.to_string()),
    }
}

/// `rds://REGION[/db/ID | /cluster/ID]`. Regions look like `us-east-1`; DB
/// instance and cluster identifiers are 1–63 letters, digits and hyphens,
/// starting with a letter (AWS stores them in lower case).
fn rds(input: &str, shown: String) -> Result<TargetSpec, TargetError> {
    const FORMS: &str = "rds://REGION, rds://* (every enabled region), rds://REGION/db/ID or rds://REGION/cluster/ID";
    let invalid = |reason: String| TargetError::Invalid {
        shown: shown.clone(),
        reason,
    };
    let rest = input.split_once("://").map_or("", |(_, rest)| rest);
    let no_user = || {
        invalid(format!(
            "an RDS target takes no user, query or fragment (only an account id, as organization runs write it: rds://ACCOUNT@REGION/db/ID): write {FORMS}"
        ))
    };
    if rest.contains(['?', '#']) {
        return Err(no_user());
    }
    // `rds://ACCOUNT@REGION/…`: the account-qualified id of an organization run.
    let (account, rest) = match rest.split_once('@') {
        None => (None, rest),
        Some((account, after))
            if account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && !after.contains('@')
                && !after.starts_with('*') =>
        {
            (Some(account.to_string()), after)
        }
        Some(_) => return Err(no_user()),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest == "*" {
        return Ok(TargetSpec::Rds(RdsSpec::new("*", RdsScope::Region)));
    }
    let parts: Vec<&str> = rest.split('/').collect();
    let region = parts[0].to_ascii_lowercase();
    if region == "*" {
        return Err(invalid(
            "rds://* names every enabled region; to name one instance or cluster, write its region: rds://REGION/db/ID or rds://REGION/cluster/ID".into(),
        ));
    }
    if region.is_empty() {
        return Err(TargetError::NoHost {
            shown,
            example: FORMS,
        });
    }
    let region_ok = region.contains('-')
        && region.ends_with(|c: char| c.is_ascii_digit())
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !region_ok {
        return Err(invalid(format!(
            "'{region}' is not an AWS region (like us-east-1 or eu-west-2): write {FORMS}"
        )));
    }
    let identifier = |what: &str, id: &str| -> Result<String, TargetError> {
        let ok = (1..=63).contains(&id.len())
            && id.starts_with(|c: char| c.is_ascii_alphabetic())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !id.ends_with('-')
            && !id.contains("--");
        if ok {
            Ok(id.to_ascii_lowercase())
        } else {
            Err(invalid(format!(
                "'{id}' is not an RDS {what} identifier (1 to 63 letters, digits and single hyphens, starting with a letter)"
            )))
        }
    };
    let scope = match parts.as_slice() {
        [_] => RdsScope::Region,
        [_, "db", id] => RdsScope::Instance(identifier("DB instance", id)?),
        [_, "cluster", id] => RdsScope::Cluster(identifier("DB cluster", id)?),
        _ => return Err(invalid(format!("expected {FORMS}"))),
    };
    let spec = RdsSpec::new(&region, scope);
    Ok(TargetSpec::Rds(match account {
        Some(account) => spec.in_account(&account),
        None => spec,
    }))
}

/// `cloudsql://PROJECT[/INSTANCE]`: project IDs are lower-case letters, digits and
/// hyphens (legacy domain-scoped ones `example.com:project`); instance IDs start
/// with a letter and hold lower-case letters, digits and hyphens.
fn cloudsql(input: &str, shown: String) -> Result<TargetSpec, TargetError> {
    let invalid = |reason: String| TargetError::Invalid {
        shown: shown.clone(),
        reason,
    };
    let rest = input.split_once("://").map_or("", |(_, rest)| rest);
    if rest.contains(['?', '#', '@']) {
        return Err(invalid(
            "a Cloud SQL target takes no user, query or fragment: write cloudsql://PROJECT or cloudsql://PROJECT/INSTANCE".into(),
        ));
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut parts = rest.split('/');
    let project = parts.next().unwrap_or_default();
    let instance = parts.next();
    if parts.next().is_some() {
        return Err(invalid(
            "too many path segments: write cloudsql://PROJECT or cloudsql://PROJECT/INSTANCE"
                .into(),
        ));
    }
    if project.is_empty() {
        return Err(TargetError::NoHost {
            shown,
            example: "cloudsql://PROJECT or cloudsql://PROJECT/INSTANCE",
        });
    }
    if project == "*" {
        if instance.is_some() {
            return Err(invalid(
                "cloudsql://* names every project the credentials can see; to name one instance, write its project: cloudsql://PROJECT/INSTANCE".into(),
            ));
        }
        return Ok(TargetSpec::CloudSql(CloudSqlSpec::fleet("*")));
    }
    if project.matches(':').count() >= 2 {
        return Err(invalid(format!(
            "'{project}' looks like a connection name (PROJECT:REGION:INSTANCE): write cloudsql://PROJECT/INSTANCE"
        )));
    }
    let project_ok = project
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | ':'));
    if !project_ok {
        return Err(invalid(format!(
            "'{project}' is not a project ID (lower-case letters, digits and hyphens)"
        )));
    }
    if let Some(instance) = instance {
        let instance_ok = instance.starts_with(|c: char| c.is_ascii_lowercase())
            && instance
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !instance_ok {
            return Err(invalid(format!(
                "'{instance}' is not a Cloud SQL instance ID (a lower-case letter, then lower-case letters, digits and hyphens)"
            )));
        }
    }
    Ok(TargetSpec::CloudSql(CloudSqlSpec::new(project, instance)))
}

/// A URI with any `user:password@` part and query string removed, for messages.
pub fn redact_uri(input: &str) -> String {
    let Some((scheme, rest)) = input.split_once("://") else {
        // Not a URI: it may still be a password typed in the wrong place.
        return if input.len() > 64 {
            format!("{}…", &input[..input.floor_char_boundary(64)])
        } else {
            input.to_string()
        };
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let tail = tail.split(['?', '#']).next().unwrap_or("");
    format!("{scheme}://{host}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_id_drops_credentials_and_query() {
        let spec = parse("postgres://app:s3cret@db.internal:6432/orders?sslmode=require").unwrap();
        assert_eq!(spec.id(), "postgres://db.internal:6432/orders");
        assert!(!format!("{spec:?}").contains("s3cret"));
    }

    #[test]
    fn bad_sslmode_names_parameter_value_and_accepted_values() {
        let err = parse("postgres://app:s3cret@db:5432/app?sslmode=requir").unwrap_err();
        let text = err.to_string();
        for part in [
            "'sslmode'",
            "'requir'",
            "disable, allow, prefer, require, verify-ca, verify-full",
        ] {
            assert!(text.contains(part), "{text}");
        }
        assert!(!text.contains("s3cret"), "{text}");
        let err = parse("mysql://app@db/app?ssl-mode=required_tls").unwrap_err();
        assert!(err.to_string().contains("VERIFY_IDENTITY"), "{err}");
        assert!(parse("mysql://app@db/app?ssl-mode=required").is_ok());
        assert!(parse("postgres://app@db/app?sslmode=VERIFY-FULL&options[search_path]=x").is_ok());
    }

    #[test]
    fn misspelt_or_malformed_parameters_are_refused() {
        let err = parse("postgres://app@db/app?sslmod=require").unwrap_err();
        assert!(
            matches!(&err, TargetError::UnknownParameter { parameter, .. } if parameter == "sslmod"),
            "{err}"
        );
        assert!(err.to_string().contains("sslmode"), "{err}");
        let err = parse("postgres://app@db/app?hostaddr=db.internal").unwrap_err();
        assert!(err.to_string().contains("IPv4 or IPv6"), "{err}");
        let err = parse("postgres://app@db/app?port=70000").unwrap_err();
        assert!(err.to_string().contains("0 to 65535"), "{err}");
        // The password parameter is accepted and never echoed.
        assert!(parse("postgres://app@db/app?password=s3cret").is_ok());
    }

    #[test]
    fn postgres_defaults_port_and_database_to_user() {
        let spec = parse("postgresql://auditor@localhost").unwrap();
        assert_eq!(spec.id(), "postgres://localhost:5432/auditor");
        assert_eq!(spec.kind(), Kind::Postgres);
    }

    #[test]
    fn mysql_and_mariadb_share_a_kind() {
        let spec = parse("mariadb://root:pw@127.0.0.1/app").unwrap();
        assert_eq!(spec.id(), "mysql://127.0.0.1:3306/app");
    }

    #[test]
    fn unknown_scheme_is_named_without_the_password() {
        let err = parse("oracle://scott:tiger@host/db").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("oracle://"), "{message}");
        assert!(!message.contains("tiger"), "{message}");
    }

    #[test]
    fn not_a_uri_is_refused() {
        assert!(matches!(
            parse("localhost:5432"),
            Err(TargetError::NotAUri { .. })
        ));
    }

    #[test]
    fn missing_host_is_refused_with_an_example() {
        let err = parse("postgres:///app").unwrap_err();
        assert!(err.to_string().contains("postgres://USER@HOST:5432/DB"));
    }

    #[test]
    fn rds_region_instance_and_cluster() {
        let spec = parse("rds://us-east-1").unwrap();
        assert_eq!(spec.id(), "rds://us-east-1");
        assert_eq!(spec.kind(), Kind::Rds);
        let TargetSpec::Rds(one) = parse("rds://eu-west-2/db/Orders-DB").unwrap() else {
            panic!("not an rds spec")
        };
        assert_eq!(one.region, "eu-west-2");
        assert_eq!(one.scope, RdsScope::Instance("orders-db".into()));
        assert_eq!(one.id(), "rds://eu-west-2/db/orders-db");
        let cluster = parse("RDS://us-gov-west-1/cluster/aurora-pg/").unwrap();
        assert_eq!(cluster.id(), "rds://us-gov-west-1/cluster/aurora-pg");
    }

    #[test]
    fn rds_star_is_every_enabled_region_and_aws_org_points_to_the_config() {
        let TargetSpec::Rds(every) = parse("rds://*").unwrap() else {
            panic!("not an rds spec")
        };
        assert!(every.every_region());
        assert_eq!(every.scope, RdsScope::Region);
        assert_eq!(every.id(), "rds://*");
        assert!(!parse("rds://us-east-1").is_ok_and(|spec| match spec {
            TargetSpec::Rds(spec) => spec.every_region(),
            _ => true,
        }));
        let err = parse("rds://*/db/orders").unwrap_err().to_string();
        assert!(err.contains("rds://REGION/db/ID"), "{err}");
        let TargetSpec::Rds(qualified) = parse("rds://111122223333@eu-west-1/db/Orders").unwrap()
        else {
            panic!("not an rds spec")
        };
        assert_eq!(qualified.id(), "rds://111122223333@eu-west-1/db/orders");
        assert_eq!(qualified.account.as_deref(), Some("111122223333"));
        assert_eq!(qualified.region, "eu-west-1");
        let err = parse("aws-org://").unwrap_err().to_string();
        assert!(
            err.contains("role_name") && err.contains("sqlready.toml"),
            "{err}"
        );
    }

    #[test]
    fn rds_refuses_what_is_not_a_region_or_identifier() {
        for bad in [
            "rds://",
            "rds://useast1",
            "rds://us-east-1/orders",
            "rds://us-east-1/db/",
            "rds://us-east-1/db/1orders",
            "rds://us-east-1/db/a--b",
            "rds://us-east-1/instance/orders",
            "rds://us-east-1/db/orders/extra",
            "rds://key:secret@us-east-1",
            "rds://12345678901@us-east-1",
            "rds://123456789012@*",
            "rds://123456789012@us-east-1?x=1",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }

    #[test]
    fn cloudsql_project_and_instance() {
        let spec = parse("cloudsql://acme-prod").unwrap();
        assert_eq!(spec.id(), "cloudsql://acme-prod");
        assert_eq!(spec.kind(), Kind::Cloudsql);
        let TargetSpec::CloudSql(one) = parse("cloudsql://acme-prod/orders-db").unwrap() else {
            panic!("not a Cloud SQL spec");
        };
        assert_eq!(
            (one.project.as_str(), one.instance.as_deref()),
            ("acme-prod", Some("orders-db"))
        );
        assert_eq!(one.id(), "cloudsql://acme-prod/orders-db");
        assert_eq!(
            parse("cloudsql://acme-prod/").unwrap().id(),
            "cloudsql://acme-prod"
        );
        assert_eq!(
            parse("CloudSQL://example.com:acme").unwrap().id(),
            "cloudsql://example.com:acme"
        );
    }

    #[test]
    fn cloudsql_refuses_what_is_not_a_project_or_instance() {
        for bad in [
            "cloudsql://",
            "cloudsql:///orders",
            "cloudsql://acme/orders/extra",
            "cloudsql://acme:us-central1:orders",
            "cloudsql://Acme",
            "cloudsql://acme/Orders",
            "cloudsql://acme/1db",
            "cloudsql://acme?filter=x",
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
        let err = parse("cloudsql://acme:us-central1:orders")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cloudsql://PROJECT/INSTANCE"), "{err}");
    }

    #[test]
    fn redaction_keeps_host_and_path_only() {
        assert_eq!(
            redact_uri("mysql://u:p@w@h:1/db?password=x"),
            "mysql://h:1/db"
        );
    }

    #[test]
    fn ipv6_literals_keep_brackets_in_the_id_and_lose_them_to_connect() {
        let spec = parse("postgres://auditor:pw@[::1]:6543/app").unwrap();
        assert_eq!(spec.id(), "postgres://[::1]:6543/app");
        let TargetSpec::Database { url, .. } = &spec else {
            panic!("a database target")
        };
        assert_eq!(connect_host(url).as_deref(), Some("::1"));
        let spec = parse("mysql://root@[fe80::1]/").unwrap();
        assert_eq!(spec.id(), "mysql://[fe80::1]:3306/");
        let url = Url::parse("mysql://db.internal:3306/").unwrap();
        assert_eq!(connect_host(&url).as_deref(), Some("db.internal"));
    }
}

/// One `--resolve HOST:PORT:ADDR` rule (curl's form): a connection to
/// HOST:PORT goes to ADDR instead, for proxies, tunnels (Cloud SQL Auth Proxy,
/// SSM port forwarding) and tests. ADDR may carry its own port
/// (`127.0.0.1:6543`, `[::1]:6543`) when the tunnel listens elsewhere, as
/// curl's `--connect-to` allows; HOST `*` matches every host on PORT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    pub host: String,
    pub port: u16,
    pub addr: String,
    /// The port to connect to instead of PORT, when ADDR names one.
    pub addr_port: Option<u16>,
}

impl Resolve {
    /// Parses `HOST:PORT:ADDR[:PORT2]`; the error says what is wrong and shows the form.
    pub fn parse(text: &str) -> Result<Resolve, String> {
        let bad = |why: &str| {
            format!(
                "--resolve '{text}': {why}; write HOST:PORT:ADDR, e.g. db-1.abc.eu-west-1.rds.amazonaws.com:5432:127.0.0.1 (ADDR may carry a port: 127.0.0.1:6543)"
            )
        };
        let (host, rest) = match text.strip_prefix('[') {
            Some(v6) => {
                let (host, rest) = v6.split_once(']').ok_or_else(|| bad("'[' without ']'"))?;
                (host, rest.strip_prefix(':').ok_or_else(|| bad("no PORT"))?)
            }
            None => text.split_once(':').ok_or_else(|| bad("no PORT"))?,
        };
        if host.is_empty() {
            return Err(bad("HOST is empty"));
        }
        let (port, addr) = rest.split_once(':').ok_or_else(|| bad("no ADDR"))?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(&format!("PORT '{port}' is not a port number")))?;
        if addr.contains(',') {
            return Err(bad("only one ADDR per rule is supported"));
        }
        let (addr, addr_port) = split_addr(addr).map_err(|why| bad(&why))?;
        if addr.is_empty() {
            return Err(bad("ADDR is empty"));
        }
        Ok(Resolve {
            host: host.to_ascii_lowercase(),
            port,
            addr,
            addr_port,
        })
    }

    /// Where a connection to `host:port` goes under `rules`: the first rule
    /// naming the host exactly, else the first `*` rule for the port.
    pub fn apply(rules: &[Resolve], host: &str, port: u16) -> Option<(String, u16)> {
        let host = host.to_ascii_lowercase();
        rules
            .iter()
            .find(|r| r.port == port && r.host == host)
            .or_else(|| rules.iter().find(|r| r.port == port && r.host == "*"))
            .map(|r| (r.addr.clone(), r.addr_port.unwrap_or(port)))
    }
}

/// ADDR, or ADDR:PORT; IPv6 addresses bare (`::1`) or bracketed (`[::1]:6543`).
fn split_addr(addr: &str) -> Result<(String, Option<u16>), String> {
    let port_of = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("'{p}' after ADDR is not a port number"))
    };
    if let Some(v6) = addr.strip_prefix('[') {
        let (ip, rest) = v6.split_once(']').ok_or("'[' without ']' in ADDR")?;
        return match rest.strip_prefix(':') {
            Some(p) => Ok((ip.to_string(), Some(port_of(p)?))),
            None if rest.is_empty() => Ok((ip.to_string(), None)),
            None => Err(format!("'{rest}' after ']' in ADDR")),
        };
    }
    match addr.matches(':').count() {
        0 => Ok((addr.to_string(), None)),
        1 => {
            let (ip, p) = addr.split_once(':').unwrap_or((addr, ""));
            Ok((ip.to_string(), Some(port_of(p)?)))
        }
        // A bare IPv6 address.
        _ => Ok((addr.to_string(), None)),
    }
}

#[cfg(test)]
mod resolve_tests {
    use super::Resolve;

    #[test]
    fn curls_form_and_an_address_with_its_own_port_parse() {
        let rule = Resolve::parse("DB.example.com:5432:127.0.0.1").unwrap();
        assert_eq!(
            (
                rule.host.as_str(),
                rule.port,
                rule.addr.as_str(),
                rule.addr_port
            ),
            ("db.example.com", 5432, "127.0.0.1", None)
        );
        let rule = Resolve::parse("db:3306:127.0.0.1:40001").unwrap();
        assert_eq!(
            (rule.addr.as_str(), rule.addr_port),
            ("127.0.0.1", Some(40001))
        );
        let rule = Resolve::parse("db:3306:[::1]:40001").unwrap();
        assert_eq!((rule.addr.as_str(), rule.addr_port), ("::1", Some(40001)));
        let rule = Resolve::parse("db:3306:::1").unwrap();
        assert_eq!((rule.addr.as_str(), rule.addr_port), ("::1", None));
    }

    #[test]
    fn bad_rules_say_what_is_wrong_and_the_form() {
        for (text, why) in [
            ("db", "no PORT"),
            ("db:http:1.2.3.4", "not a port number"),
            ("db:5432", "no ADDR"),
            ("db:5432:", "ADDR is empty"),
            ("db:5432:1.2.3.4,5.6.7.8", "one ADDR"),
            ("db:5432:1.2.3.4:x", "not a port number"),
        ] {
            let err = Resolve::parse(text).unwrap_err();
            assert!(
                err.contains(why) && err.contains("HOST:PORT:ADDR"),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn exact_host_wins_over_the_wildcard_and_the_port_must_match() {
        let rules = [
            Resolve::parse("*:5432:10.0.0.9").unwrap(),
            Resolve::parse("a.example:5432:127.0.0.1:7000").unwrap(),
        ];
        assert_eq!(
            Resolve::apply(&rules, "A.example", 5432),
            Some(("127.0.0.1".to_string(), 7000))
        );
        assert_eq!(
            Resolve::apply(&rules, "b.example", 5432),
            Some(("10.0.0.9".to_string(), 5432))
        );
        assert_eq!(Resolve::apply(&rules, "a.example", 3306), None);
    }
}
