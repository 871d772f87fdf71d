//! Schemas: test databases and migration tables.

use super::*;

pub(super) fn schema_facts(
    sink: &mut FactSink<'_>,
    identity: &Identity,
    schemata: Option<&Answer>,
    tables: Option<&Answer>,
) -> Option<Vec<String>> {
    let mut known_test = None;
    match schemata {
        Some(Answer::Rows(rows)) => {
            let test: Vec<String> = rows
                .iter()
                .filter_map(|r| text(r, "SCHEMA_NAME"))
                .filter(|name| *name == "test" || name.starts_with("test_"))
                .map(str::to_string)
                .collect();
            if identity.sees_all_schemas() || !test.is_empty() {
                known_test = Some(test.clone());
                sink.known("mysql.test_databases", "information_schema.SCHEMATA", test);
            } else {
                sink.unknown(
                    "mysql.test_databases",
                    format!(
                        "account {} sees only the schemas it has privileges on",
                        identity.account
                    ),
                    Some(&identity.grant("SHOW DATABASES")),
                );
            }
        }
        other => sink.unknown(
            "mysql.test_databases",
            failure(other, "information_schema.SCHEMATA"),
            None,
        ),
    }
    let fix = match identity.version.flavour {
        Flavour::Mariadb => format!(
            "GRANT SHOW VIEW ON *.* TO {0};  (shows every table's name without its data; or GRANT SELECT ON *.* TO {0};)",
            identity.account
        ),
        Flavour::Mysql => identity.grant("SELECT"),
    };
    match tables {
        Some(Answer::Rows(rows)) => {
            let found: Vec<Json> = rows
                .iter()
                .filter_map(|r| {
                    let schema = text(r, "TABLE_SCHEMA")?;
                    let table = text(r, "TABLE_NAME")?;
                    let tool = migrations::tool_for(table)?;
                    Some(
                        json!({"database": schema, "schema": schema, "table": table, "tool": tool}),
                    )
                })
                .collect();
            let origin = "information_schema.TABLES in every visible schema";
            if identity.sees_all_tables() {
                sink.known("migrations.tables", origin, found);
                sink.known(
                    "migrations.unreadable_databases",
                    "global SELECT: every schema is visible",
                    Vec::<String>::new(),
                );
            } else {
                let reason = format!(
                    "information_schema.TABLES silently lists only the tables account {} has privileges on",
                    identity.account
                );
                if found.is_empty() {
                    sink.unknown(
                        "migrations.tables",
                        format!("no migration table found, but {reason}"),
                        Some(&fix),
                    );
                } else {
                    sink.known("migrations.tables", origin, found);
                }
                sink.unknown("migrations.unreadable_databases", reason, Some(&fix));
            }
        }
        other => {
            let reason = failure(other, "information_schema.TABLES");
            sink.unknown("migrations.tables", reason.clone(), None);
            sink.unknown("migrations.unreadable_databases", reason, None);
        }
    }
    known_test
}
