//! `gcp-org://ORG_ID` and `gcp-org://folders/FOLDER_ID`: every Cloud SQL
//! instance of a Google Cloud organization or folder, found with one Cloud
//! Asset Inventory search (docs/organization.md). Parsing only, so that the
//! target is understood in every build; the discovery is
//! `sources::cloudsql::asset_inventory`.

use crate::target::{CloudSqlSpec, TargetError, TargetSpec};

const FORMS: &str = "gcp-org://ORG_ID (a numeric organization ID) or gcp-org://folders/FOLDER_ID";

/// `rest` is what follows `gcp-org://`.
pub fn parse(rest: &str, shown: String) -> Result<TargetSpec, TargetError> {
    let invalid = |reason: String| TargetError::Invalid {
        shown: shown.clone(),
        reason,
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() {
        return Err(invalid(format!(
            "name the organization: write {FORMS} (`gcloud organizations list` shows the IDs); for every project the credentials can see, write cloudsql://*"
        )));
    }
    let (kind, number) = match rest.split_once('/') {
        None => ("organizations", rest),
        Some(("organizations", number)) => ("organizations", number),
        Some(("folders", number)) => ("folders", number),
        Some(_) => {
            return Err(invalid(format!(
                "'{rest}' is not an organization or folder: write {FORMS}"
            )));
        }
    };
    if number.is_empty() || number.len() > 32 || !number.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid(format!(
            "'{number}' is not a numeric {} ID: write {FORMS} (the number, not the display name)",
            if kind == "folders" {
                "folder"
            } else {
                "organization"
            }
        )));
    }
    Ok(TargetSpec::CloudSql(CloudSqlSpec::fleet(&format!(
        "{kind}/{number}"
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(rest: &str) -> Result<String, String> {
        parse(rest, format!("gcp-org://{rest}"))
            .map(|spec| spec.id().to_string())
            .map_err(|err| err.to_string())
    }

    #[test]
    fn organizations_and_folders_are_scopes() {
        assert_eq!(id("123456789").unwrap(), "gcp-org://123456789");
        assert_eq!(id("organizations/42/").unwrap(), "gcp-org://42");
        assert_eq!(id("folders/777").unwrap(), "gcp-org://folders/777");
        let Ok(TargetSpec::CloudSql(spec)) = parse("folders/777", String::new()) else {
            panic!("not a Cloud SQL spec")
        };
        assert_eq!(spec.fleet.as_deref(), Some("folders/777"));
        assert_eq!(spec.instance, None);
    }

    #[test]
    fn cloudsql_star_is_every_visible_project() {
        let Ok(TargetSpec::CloudSql(spec)) = crate::target::parse("cloudsql://*") else {
            panic!("cloudsql://* is not a Cloud SQL spec")
        };
        assert_eq!(spec.id(), "cloudsql://*");
        assert_eq!(spec.fleet.as_deref(), Some("*"));
        let err = crate::target::parse("cloudsql://*/orders")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cloudsql://PROJECT/INSTANCE"), "{err}");
        let Ok(TargetSpec::CloudSql(org)) = crate::target::parse("GCP-ORG://42") else {
            panic!("gcp-org:// is not a Cloud SQL spec")
        };
        assert_eq!(org.id(), "gcp-org://42");
    }

    #[test]
    fn what_is_not_a_scope_is_refused_with_the_forms() {
        for bad in [
            "",
            "acme.com",
            "projects/p",
            "folders/",
            "folders/x1",
            "1/2",
        ] {
            let err = id(bad).unwrap_err();
            assert!(err.contains("gcp-org://"), "{bad}: {err}");
        }
    }
}
