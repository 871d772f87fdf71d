//! The Terraform fix of a check, cut to the target at hand: a check's
//! `fix.terraform` holds snippets for every provider (a
//! `google_sql_database_instance` block and an `aws_db_instance` block); an
//! AWS target gets only the `aws_*` blocks, a Cloud SQL target only the
//! `google_*` ones. Blocks of other providers (`random_password`) and text
//! outside blocks are kept; a comment right above a block goes with it.

/// The provider prefix of a resource address's type (`aws_`, `google_`), if known.
fn provider(address: &str) -> Option<&'static str> {
    let kind = address
        .rsplit('.')
        .nth(1)
        .unwrap_or_default()
        .trim_start_matches("data.");
    ["aws_", "google_"]
        .into_iter()
        .find(|p| kind.starts_with(p))
}

/// The type of a top-level `resource "TYPE"` / `data "TYPE"` line.
fn block_type(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("resource \"")
        .or_else(|| line.strip_prefix("data \""))?;
    rest.split('"').next()
}

/// The first type of a section header comment (`# aws_db_instance / aws_rds_cluster: …`).
fn header_type(line: &str) -> Option<&str> {
    let word = line.strip_prefix('#')?.split_whitespace().next()?;
    let word = word.trim_end_matches([':', ',']);
    (word.starts_with("aws_") || word.starts_with("google_")).then_some(word)
}

/// `fix` keeping only the blocks for the provider of `address`.
pub fn for_resource(fix: &str, address: &str) -> String {
    let Some(wanted) = provider(address) else {
        return fix.to_string();
    };
    let foreign = |kind: &str| {
        ["aws_", "google_"]
            .iter()
            .any(|p| kind.starts_with(p) && *p != wanted)
    };
    let mut out: Vec<&str> = Vec::new();
    let mut pending: Vec<&str> = Vec::new();
    let mut skipping = false;
    // Inside a section headed `# google_sql_database_instance …` of another provider.
    let mut foreign_section = false;
    for line in fix.lines() {
        if skipping {
            if line.starts_with('}') {
                skipping = false;
            }
            continue;
        }
        if let Some(kind) = header_type(line) {
            pending.clear();
            foreign_section = foreign(kind);
            if !foreign_section {
                out.push(line);
            }
            continue;
        }
        if let Some(kind) = block_type(line) {
            foreign_section = false;
            if foreign(kind) {
                pending.clear();
                skipping = !line.trim_end().ends_with('}');
                continue;
            }
            out.append(&mut pending);
            out.push(line);
            continue;
        }
        if foreign_section {
            continue;
        }
        if line.trim_start().starts_with('#') || line.trim_start().starts_with("//") {
            pending.push(line);
        } else {
            out.append(&mut pending);
            out.push(line);
        }
    }
    out.append(&mut pending);
    // Blank lines left where a block was cut collapse to one.
    let mut text = String::new();
    let mut blank = true;
    for line in out {
        if line.trim().is_empty() {
            if blank {
                continue;
            }
            blank = true;
        } else {
            blank = false;
        }
        text.push_str(line);
        text.push('\n');
    }
    text.trim_end().to_string() + if fix.ends_with('\n') { "\n" } else { "" }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIX: &str = r#"# Cloud SQL: a read replica
resource "google_sql_database_instance" "replica" {
  master_instance_name = google_sql_database_instance.primary.name
  settings {
    tier = "db-custom-2-7680"
  }
}

# RDS: a read replica
resource "aws_db_instance" "replica" {
  replicate_source_db = aws_db_instance.primary.identifier
}

resource "random_id" "x" {}
"#;

    #[test]
    fn an_aws_target_gets_no_google_block_and_the_reverse() {
        let aws = for_resource(FIX, "module.db.module.db_instance.aws_db_instance.this[0]");
        assert!(!aws.contains("google_"), "{aws}");
        assert!(
            !aws.contains("Cloud SQL"),
            "its comment goes with it: {aws}"
        );
        assert!(aws.contains("# RDS: a read replica\nresource \"aws_db_instance\""));
        assert!(aws.contains("random_id"));
        let google = for_resource(FIX, "google_sql_database_instance.main");
        assert!(!google.contains("aws_"), "{google}");
        assert!(google.contains("tier = \"db-custom-2-7680\""));
        assert!(google.starts_with("# Cloud SQL"));
    }

    #[test]
    fn sections_headed_by_a_resource_type_are_kept_for_their_provider_only() {
        let fix = "# google_sql_database_instance: both guards\ndeletion_protection = true\nsettings {\n  deletion_protection_enabled = true\n}\n\n# aws_db_instance / aws_rds_cluster\ndeletion_protection = true\n";
        let aws = for_resource(fix, "module.aurora.aws_rds_cluster.this[0]");
        assert_eq!(
            aws,
            "# aws_db_instance / aws_rds_cluster\ndeletion_protection = true\n"
        );
        let google = for_resource(fix, "google_sql_database_instance.main");
        assert!(
            google.contains("deletion_protection_enabled") && !google.contains("aws_"),
            "{google}"
        );
    }

    #[test]
    fn a_fix_without_typed_blocks_or_an_unknown_type_is_kept_whole() {
        assert_eq!(
            for_resource("set deletion_protection = true", "aws_db_instance.a"),
            "set deletion_protection = true"
        );
        assert_eq!(for_resource(FIX, "azurerm_mssql_server.a"), FIX);
    }
}
