//! Databases a configuration plans that sqlready does not audit: other
//! clouds' services (Azure SQL, AlloyDB, …) and engines it does not judge
//! (SQL Server, Oracle, Db2). Each is listed as a target with
//! `terraform.not_audited` saying why, so a mixed configuration shows every
//! database it plans; the report marks it `not audited` (every item `n/a`,
//! no score) and it is not an error, so exit codes keep their meaning.

use super::model::Resource;
use super::{SOURCE, shell};
use crate::facts::FactSink;
use crate::facts::snapshot::TargetFacts;
use crate::report::NOT_AUDITED;
use crate::target::{Role, TerraformSpec};
use chrono::{DateTime, Utc};

/// Resource types that plan a SQL database sqlready does not audit, and what they are.
const SERVICES: &[(&str, &str, &str)] = &[
    // (type prefix or exact type, engine, what it is)
    (
        "azurerm_postgresql_flexible_server",
        "postgres",
        "Azure Database for PostgreSQL",
    ),
    (
        "azurerm_postgresql_server",
        "postgres",
        "Azure Database for PostgreSQL",
    ),
    (
        "azurerm_mysql_flexible_server",
        "mysql",
        "Azure Database for MySQL",
    ),
    ("azurerm_mysql_server", "mysql", "Azure Database for MySQL"),
    (
        "azurerm_mariadb_server",
        "mariadb",
        "Azure Database for MariaDB",
    ),
    ("azurerm_mssql_server", "sqlserver", "Azure SQL"),
    ("azurerm_mssql_database", "sqlserver", "Azure SQL"),
    ("azurerm_mssql_managed_instance", "sqlserver", "Azure SQL"),
    ("azurerm_sql_server", "sqlserver", "Azure SQL"),
    ("azurerm_sql_database", "sqlserver", "Azure SQL"),
    ("azurerm_sql_managed_instance", "sqlserver", "Azure SQL"),
    (
        "azurerm_cosmosdb_postgresql_cluster",
        "postgres",
        "Azure Cosmos DB for PostgreSQL",
    ),
    (
        "google_alloydb_cluster",
        "postgres",
        "AlloyDB for PostgreSQL",
    ),
    (
        "google_alloydb_instance",
        "postgres",
        "AlloyDB for PostgreSQL",
    ),
    ("google_spanner_instance", "spanner", "Cloud Spanner"),
    ("aws_redshift_cluster", "redshift", "Amazon Redshift"),
    ("aws_docdb_cluster", "docdb", "Amazon DocumentDB"),
    ("aws_neptune_cluster", "neptune", "Amazon Neptune"),
];

/// What sqlready audits, for the reason a resource is not.
const AUDITED: &str = "sqlready audits Cloud SQL (google_sql_database_instance) and RDS/Aurora (aws_db_instance, aws_rds_cluster) for PostgreSQL, MySQL and MariaDB";

/// Why a resource of this type is not audited, and its engine, when it plans
/// a database of another service.
pub fn service(kind: &str) -> Option<(&'static str, String)> {
    let (_, engine, what) = SERVICES.iter().find(|(k, _, _)| *k == kind)?;
    Some((
        engine,
        format!("{kind} plans {what}, which sqlready does not audit ({AUDITED})"),
    ))
}

/// Why an RDS or Cloud SQL database of an engine sqlready does not judge is not audited.
pub fn engine_reason(kind: &str, engine: &str) -> String {
    format!("{kind} with engine {engine}: {AUDITED}; this engine is not judged")
}

/// The target of a database listed but not audited.
pub fn target(
    spec: &TerraformSpec,
    resource: &Resource,
    engine: &str,
    version: &str,
    why: String,
    now: DateTime<Utc>,
) -> TargetFacts {
    tracing::info!(resource = %resource.address, "not audited: {why}");
    let mut target = shell(spec, resource, Role::Primary, engine, version, now);
    let mut sink = FactSink::new(SOURCE);
    sink.known(NOT_AUDITED, resource.address.clone(), why);
    target.facts = sink.finish();
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_clouds_databases_are_named_and_the_rest_is_not_a_database() {
        let (engine, why) = service("azurerm_mssql_server").unwrap();
        assert_eq!(engine, "sqlserver");
        assert!(why.contains("Azure SQL"), "{why}");
        assert!(service("azurerm_resource_group").is_none());
        assert!(service("aws_db_parameter_group").is_none());
    }
}
