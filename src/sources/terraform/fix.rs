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

/// For a resource declared in a module, `fix` followed by how a module user
/// makes it: for each attribute the fix sets on this resource type, the
/// module input that feeds it (read from the module's own expressions), or
/// that the module does not expose it. A root resource's fix is unchanged.
pub fn with_module_inputs(fix: &str, facts: &crate::facts::snapshot::TargetFacts) -> String {
    let Some(address) = facts.resource.as_deref() else {
        return fix.to_string();
    };
    let Some(kind) = address.rsplit('.').nth(1) else {
        return fix.to_string();
    };
    let Some(call) = address
        .rfind(&format!(".{kind}."))
        .map(|at| &address[..at])
        .filter(|call| call.starts_with("module."))
    else {
        return fix.to_string();
    };
    let attributes = fix_attributes(fix, kind);
    if attributes.is_empty() {
        return fix.to_string();
    }
    let inputs = facts
        .evidence
        .iter()
        .find(|e| e.name == address)
        .and_then(|e| e.response.get("inputs"))
        .and_then(serde_json::Value::as_object);
    let mut text = fix.trim_end().to_string();
    text.push_str(&format!(
        "\n# {kind} is declared in {call}: set it through the module call's inputs, not on the resource:"
    ));
    for attribute in attributes {
        match inputs
            .and_then(|i| i.get(attribute))
            .and_then(serde_json::Value::as_str)
        {
            Some(input) => text.push_str(&format!(
                "\n#   {attribute}: the module's input \"{input}\" feeds it"
            )),
            None => text.push_str(&format!(
                "\n#   {attribute}: {call} has no input for it (the module writes it itself or leaves the provider's default): change the module"
            )),
        }
    }
    text.push('\n');
    text
}

/// The attributes a fix sets on a resource of `kind`: at the top of a
/// `resource "KIND"` block, or of a section headed `# KIND …`. A block that
/// declares a replica (`replicate_source_db`, `master_instance_name`) is a
/// new resource, not a change to this one: its attributes do not count.
fn fix_attributes<'a>(fix: &'a str, kind: &str) -> Vec<&'a str> {
    let mut found: Vec<&str> = Vec::new();
    let mut block_attributes: Vec<&str> = Vec::new();
    let mut depth = 0usize;
    let mut in_block = false;
    let mut in_section = false;
    for line in fix.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.starts_with("//") {
            if depth == 0 && header_type(trimmed).is_some() {
                in_section = trimmed
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|word| word == kind);
            }
            continue;
        }
        if depth == 0
            && let Some(block) = block_type(trimmed)
        {
            in_block = block == kind;
        }
        let key = trimmed
            .split_once('=')
            .map(|(key, _)| key.trim())
            .filter(|key| {
                !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            });
        if let Some(key) = key {
            if depth == 1 && in_block {
                block_attributes.push(key);
            } else if depth == 0 && in_section && !found.contains(&key) {
                found.push(key);
            }
        }
        let code = trimmed.split('#').next().unwrap_or_default();
        depth += code.matches('{').count();
        depth = depth.saturating_sub(code.matches('}').count());
        if depth == 0 && code.contains('}') {
            in_block = false;
            let replica = block_attributes
                .iter()
                .any(|a| matches!(*a, "replicate_source_db" | "master_instance_name"));
            for key in block_attributes.drain(..) {
                if !replica && !found.contains(&key) {
                    found.push(key);
                }
            }
        }
    }
    found
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
    fn a_fix_for_a_module_resource_names_the_inputs_that_feed_its_attributes() {
        use crate::facts::RawEvidence;
        use crate::facts::snapshot::TargetFacts;
        let address = "module.db.module.db_instance.aws_db_instance.this[0]";
        let facts = TargetFacts {
            tags: Default::default(),
            id: format!("terraform://x#{address}"),
            resource: Some(address.into()),
            kind: crate::target::Kind::Terraform,
            role: crate::target::Role::Primary,
            engine: "postgres".into(),
            version: "16".into(),
            collected_at: "2026-12-01T00:00:00Z".parse().unwrap(),
            facts: Default::default(),
            evidence: vec![RawEvidence {
                source: "terraform".into(),
                name: address.into(),
                request: "main.tf".into(),
                response: serde_json::json!({"inputs": {"monitoring_interval": "monitoring_interval"}}),
            }],
            principal: None,
            sources: Vec::new(),
            location: None,
            warnings: Vec::new(),
        };
        let fix = "# aws_db_instance / aws_rds_cluster_instance\nmonitoring_interval = 60\nmonitoring_role_arn = aws_iam_role.x.arn\n";
        let text = with_module_inputs(fix, &facts);
        assert!(text.starts_with(fix.trim_end()), "{text}");
        assert!(
            text.contains("declared in module.db.module.db_instance"),
            "{text}"
        );
        assert!(
            text.contains(
                "monitoring_interval: the module's input \"monitoring_interval\" feeds it"
            ),
            "{text}"
        );
        assert!(
            text.contains("monitoring_role_arn: module.db.module.db_instance has no input for it"),
            "{text}"
        );
        // A root resource's fix, or one for another type, is unchanged.
        let mut root = facts.clone();
        root.resource = Some("aws_db_instance.main".into());
        assert_eq!(with_module_inputs(fix, &root), fix);
        let block = "resource \"aws_db_parameter_group\" \"x\" {\n  family = \"postgres16\"\n}\n";
        assert_eq!(with_module_inputs(block, &facts), block);
        // A replica is a new resource, not a change to this one.
        let replica = "resource \"aws_db_instance\" \"replica\" {\n  replicate_source_db = aws_db_instance.primary.identifier\n  instance_class = \"db.r6g.large\"\n}\n";
        assert_eq!(with_module_inputs(replica, &facts), replica);
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
