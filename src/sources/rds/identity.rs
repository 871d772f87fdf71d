//! Who the audit ran as on AWS: `sts:GetCallerIdentity`, once per run.
//!
//! The answer goes into every RDS target's `principal` (the evidence bundle's
//! "who ran it") together with the raw response. GetCallerIdentity needs no IAM
//! permission — AWS allows it even under an explicit deny — so it cannot make
//! a least-privilege auditor role fail; if it fails anyway (an STS endpoint
//! blocked by a VPC policy, a network error) the audit goes on without a
//! principal and the evidence says why.

use super::facts::SOURCE;
use crate::facts::RawEvidence;
use aws_sdk_sts::error::ProvideErrorMetadata;
use serde_json::json;

/// The caller as STS describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallerIdentity {
    pub account: Option<String>,
    pub arn: Option<String>,
    pub user_id: Option<String>,
}

/// What the run learned about its caller: the identity, or why it is not known.
pub type IdentityAnswer = Result<CallerIdentity, String>;

impl CallerIdentity {
    pub fn from_response(
        output: &aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput,
    ) -> Self {
        CallerIdentity {
            account: output.account().map(str::to_string),
            arn: output.arn().map(str::to_string),
            user_id: output.user_id().map(str::to_string),
        }
    }
}

/// Why the look-up failed, in AWS's words when it answered.
pub fn failure<E, R>(err: &aws_sdk_sts::error::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let detail = match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => super::errors::chain(err),
    };
    format!("sts:GetCallerIdentity failed ({detail})")
}

/// The principal recorded on targets: the caller's ARN.
pub fn principal(answer: &IdentityAnswer) -> Option<String> {
    answer
        .as_ref()
        .ok()
        .and_then(|identity| identity.arn.clone())
}

/// The raw evidence of the look-up: the response in the API's own field
/// names, or the error.
pub fn evidence(answer: &IdentityAnswer) -> RawEvidence {
    let response = match answer {
        Ok(identity) => json!({
            "Account": identity.account,
            "Arn": identity.arn,
            "UserId": identity.user_id,
        }),
        Err(reason) => json!({ "error": reason }),
    };
    RawEvidence {
        source: SOURCE.into(),
        name: "GetCallerIdentity".into(),
        request: "sts:GetCallerIdentity".into(),
        response,
    }
}

/// Adds the caller to a collected RDS target.
pub fn stamp(target: &mut crate::facts::snapshot::TargetFacts, answer: &IdentityAnswer) {
    target.principal = principal(answer);
    target.evidence.push(evidence(answer));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moto_like() -> CallerIdentity {
        CallerIdentity {
            account: Some("123456789012".into()),
            arn: Some("arn:aws:sts::123456789012:assumed-role/sqlready-auditor/ci".into()),
            user_id: Some("AROAEXAMPLE:ci".into()),
        }
    }

    #[test]
    fn the_principal_is_the_caller_arn() {
        assert_eq!(
            principal(&Ok(moto_like())).as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/sqlready-auditor/ci")
        );
        assert_eq!(principal(&Err("denied".into())), None);
    }

    #[test]
    fn evidence_keeps_the_api_field_names_or_the_error() {
        let ok = evidence(&Ok(moto_like()));
        assert_eq!(ok.response["Account"], "123456789012");
        assert_eq!(ok.response["UserId"], "AROAEXAMPLE:ci");
        assert_eq!(ok.request, "sts:GetCallerIdentity");
        let failed = evidence(&Err("sts:GetCallerIdentity failed: timeout".into()));
        assert_eq!(
            failed.response["error"],
            "sts:GetCallerIdentity failed: timeout"
        );
        assert!(failed.response.get("Arn").is_none());
    }
}
