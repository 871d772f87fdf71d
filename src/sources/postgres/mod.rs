//! PostgreSQL, audited from inside (placeholder until the source lands).

use crate::facts::snapshot::TargetFacts;
use super::CollectOptions;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("not implemented")]
    Todo,
}

pub async fn collect(_id: &str, _url: &Url, _options: &CollectOptions) -> Result<TargetFacts, PgError> {
    Err(PgError::Todo)
}
