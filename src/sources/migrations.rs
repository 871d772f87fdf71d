//! Fingerprints of schema migration tools: the tables they keep their history in.

/// (table name, tool). Names are matched case-sensitively first, then
/// case-insensitively (MySQL with lower_case_table_names, Liquibase upper-case).
pub const TABLES: &[(&str, &str)] = &[
    ("_sqlx_migrations", "sqlx"),
    (
        "schema_migrations",
        "Rails / Ecto / golang-migrate / dbmate",
    ),
    ("flyway_schema_history", "Flyway"),
    ("databasechangelog", "Liquibase"),
    ("alembic_version", "Alembic"),
    ("django_migrations", "Django"),
    ("_prisma_migrations", "Prisma"),
    ("knex_migrations", "Knex"),
    ("__diesel_schema_migrations", "Diesel"),
    ("goose_db_version", "goose"),
    ("__EFMigrationsHistory", "Entity Framework"),
    ("seaql_migrations", "SeaORM"),
    ("refinery_schema_history", "refinery"),
    ("atlas_schema_revisions", "Atlas"),
    ("SequelizeMeta", "Sequelize"),
    ("mikro_orm_migrations", "MikroORM"),
    ("__drizzle_migrations", "Drizzle"),
    ("gorp_migrations", "sql-migrate"),
    // Flyway before 5.0 (and tern) kept their history here.
    ("schema_version", "Flyway (before 5) / tern"),
    ("doctrine_migration_versions", "Doctrine Migrations"),
    // Doctrine Migrations before 3.0.
    ("migration_versions", "Doctrine Migrations (before 3)"),
    ("phinxlog", "Phinx / CakePHP"),
    ("migration", "Yii"),
    ("pgmigrations", "node-pg-migrate"),
    ("kysely_migration", "Kysely"),
    ("_yoyo_migration", "yoyo-migrations"),
    ("play_evolutions", "Play Evolutions"),
    ("__MigrationHistory", "Entity Framework 6"),
    ("SchemaVersions", "DbUp"),
    (
        "migrations",
        "Laravel / TypeORM / db-migrate / Graphile Migrate",
    ),
];

/// Every table name to look for, as SQL wants it (one list, both cases).
pub fn table_names() -> Vec<String> {
    let mut names: Vec<String> = TABLES.iter().map(|(t, _)| t.to_string()).collect();
    names.extend(TABLES.iter().map(|(t, _)| t.to_ascii_uppercase()));
    names.extend(TABLES.iter().map(|(t, _)| t.to_ascii_lowercase()));
    names.sort();
    names.dedup();
    names
}

/// The tool that keeps its history in `table`, if any.
pub fn tool_for(table: &str) -> Option<&'static str> {
    TABLES
        .iter()
        .find(|(t, _)| *t == table)
        .or_else(|| TABLES.iter().find(|(t, _)| t.eq_ignore_ascii_case(table)))
        .map(|(_, tool)| *tool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_are_found_by_exact_and_folded_names() {
        assert_eq!(tool_for("_sqlx_migrations"), Some("sqlx"));
        assert_eq!(tool_for("DATABASECHANGELOG"), Some("Liquibase"));
        assert_eq!(tool_for("__efmigrationshistory"), Some("Entity Framework"));
        assert_eq!(tool_for("orders"), None);
        assert!(table_names().contains(&"DATABASECHANGELOG".to_string()));
        // Tools beyond the first list: PHP, Node, Python, Scala, .NET.
        assert_eq!(
            tool_for("doctrine_migration_versions"),
            Some("Doctrine Migrations")
        );
        assert_eq!(tool_for("phinxlog"), Some("Phinx / CakePHP"));
        assert_eq!(tool_for("pgmigrations"), Some("node-pg-migrate"));
        assert_eq!(tool_for("kysely_migration"), Some("Kysely"));
        assert_eq!(tool_for("_yoyo_migration"), Some("yoyo-migrations"));
        assert_eq!(tool_for("__MigrationHistory"), Some("Entity Framework 6"));
        assert_eq!(tool_for("schemaversions"), Some("DbUp"));
        assert_eq!(
            tool_for("schema_migrations"),
            Some("Rails / Ecto / golang-migrate / dbmate")
        );
    }
}
