//! Planned resources, whichever way they were read (`.tf` files or
//! `terraform show -json`), in one shape: Terraform's own JSON shape, where a
//! nested block is a list of objects (`settings: [{ backup_configuration: [{…}] }]`).
//!
//! A value Terraform knows only when it plans (a resource's attribute, a
//! function call, a variable without a value) is *unresolved*: the attribute
//! is recorded with the expression that sets it, never guessed.

use serde_json::Value as Json;
use std::collections::BTreeMap;

/// One resource of the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// `google_sql_database_instance.main`, `module.db.aws_db_instance.this[0]`.
    pub address: String,
    /// `google_sql_database_instance`.
    pub kind: String,
    /// The file it was read from.
    pub file: String,
    /// The line of its `resource` block, when read from a `.tf` file.
    pub line: Option<usize>,
    /// Attributes and nested blocks (blocks as lists of objects).
    pub values: Json,
    /// Attribute path (`settings.ip_configuration.private_network`) → the
    /// expression that sets it, for values unknown until Terraform plans.
    pub unresolved: BTreeMap<String, String>,
    /// Attribute path → the variable default it was taken from
    /// (`var.multi_az`, default in `modules/rds/variables.tf`): a caller may
    /// set it otherwise, so the fact's origin says so.
    pub defaults: BTreeMap<String, String>,
    /// For a resource declared in a module: attribute path → the module's
    /// variable its expression reads (`monitoring_interval` → `monitoring_interval`),
    /// so a fix can name the input a module user sets instead of the attribute.
    pub inputs: BTreeMap<String, String>,
}

/// What the configuration says about one attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr<'a> {
    /// Written in the configuration (or planned).
    Set(&'a Json),
    /// Not written: the provider's default applies.
    Unset,
    /// Set by an expression Terraform evaluates only when it plans.
    Unresolved(&'a str),
}

impl Resource {
    /// The attribute at a dotted path; a nested block is entered at its first
    /// occurrence (the blocks read here appear at most once).
    pub fn attr(&self, path: &str) -> Attr<'_> {
        let mut prefix = String::new();
        for part in path.split('.') {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(part);
            if let Some(expression) = self.unresolved.get(&prefix) {
                return Attr::Unresolved(expression);
            }
        }
        let mut node = &self.values;
        for part in path.split('.') {
            if let Json::Array(items) = node {
                match items.first() {
                    Some(first) => node = first,
                    None => return Attr::Unset,
                }
            }
            match node.get(part) {
                Some(Json::Null) | None => return Attr::Unset,
                Some(next) => node = next,
            }
        }
        Attr::Set(node)
    }

    /// For an origin: the root variable default the attribute at `path` was
    /// taken from, if it was (a module folder audited on its own is judged on
    /// such defaults; its callers or tfvars may set them otherwise).
    pub fn default_note(&self, path: &str) -> String {
        match self.defaults.get(path) {
            Some(default) => {
                format!(" (from the default of {default}: tfvars or a caller may set it otherwise)")
            }
            None => String::new(),
        }
    }

    /// The attribute as a string, when it is written as one.
    pub fn string(&self, path: &str) -> Option<&str> {
        match self.attr(path) {
            Attr::Set(value) => value.as_str(),
            _ => None,
        }
    }

    /// The number of occurrences of a nested block (0 when absent).
    pub fn blocks(&self, path: &str) -> usize {
        match self.attr(path) {
            Attr::Set(Json::Array(items)) => items.len(),
            Attr::Set(Json::Object(_)) => 1,
            _ => 0,
        }
    }
}

/// Everything read from one target argument.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Configuration {
    pub resources: Vec<Resource>,
    /// What was read, for the evidence: file names, or the plan's format version.
    pub read: Vec<String>,
    /// Module calls whose module could not be read (not downloaded, not on disk).
    pub skipped: Vec<Skipped>,
    /// A plan's resources: where each is declared (the `.tf` file beside the
    /// plan, or the plan file itself), by address. `.tf` resources carry their own.
    pub locations: BTreeMap<String, crate::facts::snapshot::Location>,
}

/// A module call that was not read, and why (with the command that fixes it).
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// `module.db`, `module.app.module.db`.
    pub address: String,
    pub reason: String,
}

impl Configuration {
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.iter().filter(move |r| r.kind == kind)
    }

    /// The resource an expression such as `aws_db_instance.main.id` refers to.
    pub fn referenced(&self, expression: &str) -> Option<&Resource> {
        let expression = expression.trim();
        self.resources
            .iter()
            .filter(|r| {
                expression
                    .strip_prefix(&r.address)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            })
            .max_by_key(|r| r.address.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource() -> Resource {
        Resource {
            address: "google_sql_database_instance.main".into(),
            kind: "google_sql_database_instance".into(),
            file: "main.tf".into(),
            line: Some(1),
            values: json!({
                "database_version": "POSTGRES_15",
                "settings": [{
                    "tier": "db-custom-2-7680",
                    "backup_configuration": [{"enabled": true, "location": null}],
                    "ip_configuration": [{"ipv4_enabled": false}],
                    "database_flags": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]
                }]
            }),
            unresolved: BTreeMap::from([(
                "settings.ip_configuration.private_network".to_string(),
                "var.vpc_id".to_string(),
            )]),
            defaults: BTreeMap::new(),
            inputs: BTreeMap::new(),
        }
    }

    #[test]
    fn blocks_are_entered_at_their_first_occurrence() {
        let r = resource();
        assert_eq!(
            r.attr("settings.backup_configuration.enabled"),
            Attr::Set(&json!(true))
        );
        assert_eq!(r.string("database_version"), Some("POSTGRES_15"));
        assert_eq!(r.blocks("settings.database_flags"), 2);
        assert_eq!(r.blocks("settings.insights_config"), 0);
    }

    #[test]
    fn absent_and_null_are_unset_and_expressions_are_unresolved() {
        let r = resource();
        assert_eq!(
            r.attr("settings.backup_configuration.location"),
            Attr::Unset
        );
        assert_eq!(r.attr("settings.availability_type"), Attr::Unset);
        assert_eq!(r.attr("deletion_protection"), Attr::Unset);
        assert_eq!(
            r.attr("settings.ip_configuration.private_network"),
            Attr::Unresolved("var.vpc_id")
        );
    }

    #[test]
    fn a_reference_names_the_longest_matching_address() {
        let mut other = resource();
        other.address = "google_sql_database_instance.main_replica".into();
        let config = Configuration {
            resources: vec![resource(), other],
            ..Default::default()
        };
        let found = config
            .referenced("google_sql_database_instance.main_replica.name")
            .unwrap();
        assert_eq!(found.address, "google_sql_database_instance.main_replica");
        assert_eq!(
            config
                .referenced("google_sql_database_instance.main.name")
                .unwrap()
                .address,
            "google_sql_database_instance.main"
        );
        assert!(config.referenced("var.primary").is_none());
    }
}
