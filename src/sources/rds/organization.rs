//! `aws-org://`: every active account of the AWS Organization, every enabled
//! region of each (docs/organization.md).
//!
//! One paginated `organizations:ListAccounts` for the run; per member account
//! one `sts:AssumeRole` of the configured read-only role (session name
//! `sqlready`, the external id when configured) and one `ec2:DescribeRegions`
//! (unless the entry names its regions); then each (account, region) is the
//! regional discovery of `rds://REGION`, all pairs a bounded number at a time
//! (the run's API concurrency), retried with backoff on throttling by the
//! clients' retry configuration. The account the run's own credentials belong
//! to (normally the management account) is read with those credentials,
//! unless `assume_role_in_caller_account = true`.
//!
//! Target ids carry the account (`rds://ACCOUNT@REGION/db/ID`,
//! `rds://ACCOUNT@REGION/cluster/ID`). An account whose role cannot be assumed
//! is one warning and one not-audited entry `rds://ACCOUNT@*` with the reason;
//! a region that cannot be listed is `rds://ACCOUNT@REGION`.

use super::{CountCalls, RetryAfter, Session, errors, regions};
use crate::facts::snapshot::{Collected, TargetFailure};
use crate::target::{Kind, OrgScope};
use aws_config::{Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_sts::error::ProvideErrorMetadata;
use futures::stream::{self, StreamExt};
use std::sync::Arc;

/// `rds://REGION/…` as an organization run reports it: `rds://ACCOUNT@REGION/…`.
pub fn qualify(id: &str, account: &str) -> String {
    match id.strip_prefix("rds://") {
        Some(rest) if !rest.contains('@') => format!("rds://{account}@{rest}"),
        _ => id.to_string(),
    }
}

/// Qualifies every target and failure id of an account's discovery.
pub fn qualify_all(outcomes: &mut [Collected], account: &str) {
    for outcome in outcomes {
        match outcome {
            Ok(target) => target.id = qualify(&target.id, account),
            Err(failure) => failure.id = qualify(&failure.id, account),
        }
    }
}

/// One member account as ListAccounts describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: String,
    pub name: Option<String>,
}

/// Whether ListAccounts calls an account active (`State`, or the older `Status`).
fn active(account: &aws_sdk_organizations::types::Account) -> bool {
    use aws_sdk_organizations::types::{AccountState, AccountStatus};
    match account.state() {
        Some(state) => *state == AccountState::Active,
        None => account.status() == Some(&AccountStatus::Active),
    }
}

/// The id of a not-audited account: `rds://ACCOUNT@*`.
pub fn account_id(account: &str) -> String {
    format!("rds://{account}@*")
}

/// A member account reached: its session and the regions to read.
type Reached = (Arc<Session>, Vec<String>);

/// Collects an `aws-org://` entry.
pub async fn collect(session: &Arc<Session>, org: &OrgScope, home: &str) -> Vec<Collected> {
    let accounts = match session.list_accounts(home).await {
        Ok(accounts) => accounts,
        Err(error) => {
            tracing::warn!("aws-org://: {error}");
            return vec![Err(TargetFailure {
                id: "aws-org://".into(),
                kind: Kind::Rds,
                error,
            })];
        }
    };
    let caller = session.caller_identity(home).await;
    let caller_account = caller.as_ref().ok().and_then(|c| c.account.clone());
    let partition = caller
        .as_ref()
        .ok()
        .and_then(|c| c.arn.as_deref())
        .and_then(|arn| arn.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
        .to_string();
    tracing::info!(
        "aws-org://: {} active account(s); role {} assumed in each{}",
        accounts.len(),
        org.role_name,
        match (&caller_account, org.assume_role_in_caller_account) {
            (Some(own), false) => format!(" but {own} (the run's own account)"),
            _ => String::new(),
        }
    );

    // Per account: its session (the role, or the run's credentials) and its regions.
    let width = session.concurrency.max(1);
    let reached: Vec<Result<Reached, TargetFailure>> = stream::iter(&accounts)
        .map(|account| {
            let own = caller_account.as_deref() == Some(account.id.as_str())
                && !org.assume_role_in_caller_account;
            let partition = partition.as_str();
            async move {
                let config = if own {
                    session.config.clone()
                } else {
                    session
                        .assume(home, partition, &account.id, org)
                        .await
                        .map_err(|error| {
                            tracing::warn!(
                                "account {}{} was not audited: {error}",
                                account.id,
                                account
                                    .name
                                    .as_deref()
                                    .map(|n| format!(" ({n})"))
                                    .unwrap_or_default()
                            );
                            TargetFailure {
                                id: account_id(&account.id),
                                kind: Kind::Rds,
                                error,
                            }
                        })?
                };
                let member = Arc::new(session.member(config, &account.id));
                let regions = if org.regions.is_empty() {
                    member.enabled_regions(home).await.map_err(|err| {
                        let failure = regions::not_listed(&account_id(&account.id), &err);
                        tracing::warn!("account {} was not audited: {}", account.id, failure.error);
                        failure
                    })?
                } else {
                    org.regions.clone()
                };
                Ok((member, regions))
            }
        })
        .buffered(width)
        .collect()
        .await;

    let mut outcomes: Vec<Collected> = Vec::new();
    let mut pairs: Vec<(Arc<Session>, String)> = Vec::new();
    for account in reached {
        match account {
            Ok((member, regions)) => {
                pairs.extend(regions.into_iter().map(|region| (member.clone(), region)))
            }
            Err(failure) => outcomes.push(Err(failure)),
        }
    }
    // Every (account, region) pair, a bounded number at a time.
    let found = stream::iter(pairs)
        .map(|(member, region)| async move {
            let spec = crate::target::RdsSpec::new(&region, crate::target::RdsScope::Region);
            member.collect_stamped(&spec).await
        })
        .buffered(width)
        .collect::<Vec<Vec<Collected>>>()
        .await;
    outcomes.extend(found.into_iter().flatten());
    outcomes
}

/// `rds://ACCOUNT@REGION[/…]` named on its own (an id copied from an
/// organization report): audited with the run's credentials, which must be
/// in that account; the ids stay account-qualified.
pub async fn collect_in_account(
    session: &Arc<Session>,
    spec: &crate::target::RdsSpec,
    account: &str,
) -> Vec<Collected> {
    let caller = session.caller_identity(&spec.region).await;
    let own = caller.as_ref().ok().and_then(|c| c.account.as_deref());
    if own == Some(account) {
        let member = session.member(session.config.clone(), account);
        let plain = crate::target::RdsSpec::new(&spec.region, spec.scope.clone());
        return member.collect_stamped(&plain).await;
    }
    let error = match own {
        Some(own) => format!(
            "{} names account {account}, but the run's credentials are in account {own}: run with credentials of account {account} (e.g. AWS_PROFILE), or audit the Organization with an aws-org:// entry (docs/organization.md)",
            spec.id()
        ),
        None => format!(
            "{} names account {account}, but the run's own account is unknown (sts:GetCallerIdentity failed): check the credentials, or write the id without the account",
            spec.id()
        ),
    };
    vec![Err(TargetFailure {
        id: spec.id().to_string(),
        kind: Kind::Rds,
        error,
    })]
}

impl Session {
    /// A session for one member account on `config` (the role's
    /// credentials), sharing this run's call count and shard.
    fn member(&self, config: SdkConfig, account: &str) -> Session {
        let mut member = Session::with_config(config, self.concurrency, self.max_attempts);
        member.calls = self.calls.clone();
        member.shard = self.shard.clone();
        member.page_size = self.page_size;
        member.account = Some(account.to_string());
        member
    }

    /// The Organization's active accounts (ListAccounts, every page), by id.
    pub async fn list_accounts(&self, home: &str) -> Result<Vec<Account>, String> {
        let conf = aws_sdk_organizations::config::Builder::from(&self.config)
            .region(Region::new(home.to_string()))
            .interceptor(CountCalls(self.calls.clone()))
            .interceptor(super::CapAnswers)
            .retry_classifier(RetryAfter)
            .build();
        let listed: Result<Vec<_>, _> = aws_sdk_organizations::Client::from_conf(conf)
            .list_accounts()
            .into_paginator()
            .send()
            .try_collect()
            .await;
        let listed = listed.map_err(|err| {
            let code = err.code().unwrap_or_default().to_string();
            let fix = match code.as_str() {
                "AWSOrganizationsNotInUseException" => {
                    "the run's account is not in an AWS Organization: audit its regions with rds://* instead"
                }
                "AccessDeniedException" | "AccessDenied" => {
                    "run from the management account or a delegated administrator, with organizations:ListAccounts allowed"
                }
                _ => "check the credentials and organizations:ListAccounts",
            };
            format!(
                "organizations:ListAccounts failed ({}): {fix}",
                errors::classify(&err, "organizations:ListAccounts", home, self.max_attempts)
            )
        })?;
        let mut accounts: Vec<Account> = listed
            .iter()
            .flat_map(|page| page.accounts())
            .filter(|account| active(account))
            .filter_map(|account| {
                Some(Account {
                    id: account.id()?.to_string(),
                    name: account.name().map(str::to_string),
                })
            })
            .collect();
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        accounts.dedup_by(|a, b| a.id == b.id);
        Ok(accounts)
    }

    /// The configuration of a member account: `sts:AssumeRole` of the
    /// entry's role there, or why it failed (with the fix). The role is
    /// assumed once here, so a missing role is found before any audit, and
    /// again whenever those credentials expire ([`AssumedRole`]).
    async fn assume(
        &self,
        home: &str,
        partition: &str,
        account: &str,
        org: &OrgScope,
    ) -> Result<SdkConfig, String> {
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .region(Region::new(home.to_string()))
            .interceptor(CountCalls(self.calls.clone()))
            .interceptor(super::CapAnswers)
            .retry_classifier(RetryAfter)
            .build();
        let request = RoleRequest {
            sts: aws_sdk_sts::Client::from_conf(conf),
            role_arn: format!("arn:{partition}:iam::{account}:role/{}", org.role_name),
            role_name: org.role_name.clone(),
            account: account.to_string(),
            external_id: org.external_id.clone(),
        };
        let first = request.assume().await?;
        let refresh = Arc::new(request);
        let provider = AssumedRole::new(first, move || {
            let request = refresh.clone();
            Box::pin(async move { request.assume().await })
        });
        Ok(self
            .config
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build())
    }
}

/// One `sts:AssumeRole` of a member account's role, as often as needed.
struct RoleRequest {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    role_name: String,
    account: String,
    external_id: Option<String>,
}

impl RoleRequest {
    async fn assume(&self) -> Result<Credentials, String> {
        let role_arn = &self.role_arn;
        let answer = self
            .sts
            .assume_role()
            .role_arn(role_arn)
            .role_session_name("sqlready")
            .set_external_id(self.external_id.clone())
            .send()
            .await
            .map_err(|err| {
                let detail = match (err.code(), err.message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => code.to_string(),
                    _ => match err.raw_response().map(|r| r.status().as_u16()) {
                        Some(403) => "HTTP 403: access denied".to_string(),
                        Some(status) => format!("HTTP {status}: {}", errors::chain(&err)),
                        None => errors::chain(&err),
                    },
                };
                format!(
                    "sts:AssumeRole of {role_arn} failed ({detail}): create the role {} in account {} with the read-only policy of docs/organization.md and a trust policy that lets the auditor assume it{}",
                    self.role_name,
                    self.account,
                    if self.external_id.is_some() {
                        " with this external_id"
                    } else {
                        ""
                    }
                )
            })?;
        let Some(credentials) = answer.credentials() else {
            return Err(format!(
                "sts:AssumeRole of {role_arn} answered without credentials: retry, or check the role"
            ));
        };
        let expiry = std::time::SystemTime::try_from(*credentials.expiration()).ok();
        Ok(Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_string()),
            expiry,
            "sqlready-assume-role",
        ))
    }
}

/// How [`AssumedRole`] gets new credentials.
type Refresh =
    Box<dyn Fn() -> futures::future::BoxFuture<'static, Result<Credentials, String>> + Send + Sync>;

/// A member account's credentials: the ones assumed up front, then a new
/// `sts:AssumeRole` each time the SDK's identity cache finds them expired.
/// Static credentials would end the run after the role session's hour — an
/// organization run with `--connect` can last longer.
struct AssumedRole {
    first: std::sync::Mutex<Option<Credentials>>,
    refresh: Refresh,
}

impl AssumedRole {
    fn new(
        first: Credentials,
        refresh: impl Fn() -> futures::future::BoxFuture<'static, Result<Credentials, String>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self {
            first: std::sync::Mutex::new(Some(first)),
            refresh: Box::new(refresh),
        }
    }

    /// The up-front credentials while they are still valid (once), else new ones.
    async fn credentials(&self) -> Result<Credentials, String> {
        let first = self
            .first
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let now = std::time::SystemTime::now();
        match first {
            Some(first) if first.expiry().is_none_or(|expiry| expiry > now) => Ok(first),
            _ => (self.refresh)().await,
        }
    }
}

impl std::fmt::Debug for AssumedRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AssumedRole")
    }
}

impl aws_credential_types::provider::ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            self.credentials()
                .await
                .map_err(aws_credential_types::provider::error::CredentialsError::provider_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_the_account_once() {
        assert_eq!(
            qualify("rds://eu-west-1/db/orders", "111122223333"),
            "rds://111122223333@eu-west-1/db/orders"
        );
        assert_eq!(
            qualify("rds://eu-west-1", "111122223333"),
            "rds://111122223333@eu-west-1"
        );
        assert_eq!(
            qualify("rds://111122223333@eu-west-1/cluster/a", "444455556666"),
            "rds://111122223333@eu-west-1/cluster/a"
        );
        assert_eq!(account_id("111122223333"), "rds://111122223333@*");
    }

    fn credentials(key: &str, expiry: std::time::SystemTime) -> Credentials {
        Credentials::new(key, "secret", Some("token".into()), Some(expiry), "test")
    }

    /// The up-front credentials serve while valid; expired ones (the SDK's
    /// cache asks again near expiry) are replaced by a new AssumeRole.
    #[tokio::test]
    async fn an_assumed_role_is_assumed_again_when_its_credentials_expire() {
        use aws_credential_types::provider::ProvideCredentials;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hour = std::time::Duration::from_secs(3600);
        let now = std::time::SystemTime::now();
        let calls = Arc::new(AtomicUsize::new(0));
        let provider = |first: Credentials| {
            let calls = calls.clone();
            AssumedRole::new(first, move || {
                let calls = calls.clone();
                Box::pin(async move {
                    let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                    Ok(credentials(&format!("renewed-{n}"), now + hour))
                })
            })
        };
        let fresh = provider(credentials("first", now + hour));
        let got = fresh.provide_credentials().await.unwrap();
        assert_eq!(got.access_key_id(), "first");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        let got = fresh.provide_credentials().await.unwrap();
        assert_eq!(got.access_key_id(), "renewed-1");

        let expired = provider(credentials("first", now - hour));
        let got = expired.provide_credentials().await.unwrap();
        assert_eq!(got.access_key_id(), "renewed-2");
    }

    #[tokio::test]
    async fn a_refused_renewal_is_a_credentials_error_with_the_reason() {
        use aws_credential_types::provider::ProvideCredentials;
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        let provider = AssumedRole::new(credentials("first", past), || {
            Box::pin(async { Err("sts:AssumeRole of arn:aws:iam::1:role/r failed".to_string()) })
        });
        let err = provider.provide_credentials().await.unwrap_err();
        assert!(
            format!("{err:?}").contains("sts:AssumeRole of arn:aws:iam::1:role/r failed"),
            "{err:?}"
        );
    }
}
