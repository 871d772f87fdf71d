//! Fingerprints of schema migration tools: the tables they keep their history in.

/// (table name, tool). Names are matched case-sensitively first, then
/// case-insensitively (MySQL with lower_case_table_names, Liquibase upper-case).
pub const TABLES: &[(&str, &str)] = &[
    ("_sqlx_migrations", "sqlx"),
    ("schema_migrations", "Rails / golang-migrate / dbmate"),
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
    ("migrations", "Laravel / TypeORM"),
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
    }
}
