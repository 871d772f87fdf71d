//! Reading attributes.

use super::super::model::{Attr, Configuration, Resource};
use super::super::{PLAN_FIX, Writer};
use super::AFTER_APPLY;
use serde_json::Value as Json;

/// A value read from the configuration, or why it cannot be.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Read<T> {
    /// The value and where it came from (attribute, default).
    Known(T, String),
    /// Why it is unknown, and what would resolve it.
    Unknown(String, Option<String>),
}

impl<T> Read<T> {
    pub(super) fn unresolved(path: &str, expression: &str) -> Self {
        let (reason, fix) = unresolved_reason(path, expression);
        Read::Unknown(reason, Some(fix))
    }

    pub(super) fn value(&self) -> Option<&T> {
        match self {
            Read::Known(value, _) => Some(value),
            Read::Unknown(..) => None,
        }
    }

    /// Another value computed from this one, its origin extended by `note`.
    pub(super) fn derive<U>(&self, f: impl FnOnce(&T) -> U, note: &str) -> Read<U> {
        match self {
            Read::Known(value, origin) => Read::Known(f(value), format!("{origin}{note}")),
            Read::Unknown(reason, fix) => Read::Unknown(reason.clone(), fix.clone()),
        }
    }
}

/// Why an attribute set by `expression` is unknown, and what resolves it.
pub(super) fn unresolved_reason(path: &str, expression: &str) -> (String, String) {
    if expression == AFTER_APPLY {
        (
            format!(
                "{path} is known only after apply (the plan leaves it to AWS or to another resource)"
            ),
            format!("set {path} explicitly in the configuration"),
        )
    } else {
        (
            format!("{path} is set by `{expression}`, known only when Terraform plans"),
            PLAN_FIX.to_string(),
        )
    }
}

/// The attribute, an empty string or list counting as not written (plans
/// and states write unset optional attributes that way).
pub(super) fn attr<'a>(resource: &'a Resource, path: &str) -> Attr<'a> {
    match resource.attr(path) {
        Attr::Set(Json::String(s)) if s.is_empty() => Attr::Unset,
        Attr::Set(Json::Array(items)) if items.is_empty() => Attr::Unset,
        other => other,
    }
}

/// An attribute through `parse`; `default` (value, why) when it is not written.
pub(super) fn read<T>(
    resource: &Resource,
    path: &str,
    default: Option<(T, &str)>,
    parse: impl Fn(&Json) -> Option<T>,
) -> Read<T> {
    match attr(resource, path) {
        Attr::Set(value) => match parse(value) {
            Some(parsed) => Read::Known(
                parsed,
                format!("{path} = {value}{}", resource.default_note(path)),
            ),
            None => Read::Unknown(
                format!("{path} = {value} is not a value sqlready reads"),
                None,
            ),
        },
        Attr::Unset => match default {
            Some((value, why)) => Read::Known(value, format!("{path} not set ({why})")),
            None => Read::Unknown(format!("{path} is not set"), None),
        },
        Attr::Unresolved(expression) => Read::unresolved(path, expression),
    }
}

pub(super) fn as_bool(value: &Json) -> Option<bool> {
    match value {
        Json::Bool(b) => Some(*b),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn as_int(value: &Json) -> Option<i64> {
    match value {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn as_text(value: &Json) -> Option<String> {
    match value {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn as_strings(value: &Json) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_string))
        .collect()
}

/// Records a read value as `fact`.
pub(super) fn put<T: Clone + Into<Json>>(w: &mut Writer<'_>, fact: &str, read: &Read<T>) {
    match read {
        Read::Known(value, origin) => w.known(fact, origin.clone(), value.clone()),
        Read::Unknown(reason, fix) => {
            let reason = format!("{}: {reason}", w.resource.address);
            w.sink.unknown(fact, reason, fix.as_deref());
        }
    }
}

/// How many instances a resource plans: `count`, the size of `for_each`, or 1.
pub(super) fn multiplicity(resource: &Resource) -> Result<i64, String> {
    match resource.attr("count") {
        Attr::Unresolved(expression) => return Err(format!("count = {expression}")),
        Attr::Set(value) => return as_int(value).ok_or_else(|| format!("count = {value}")),
        Attr::Unset => {}
    }
    match resource.attr("for_each") {
        Attr::Unresolved(expression) => Err(format!("for_each = {expression}")),
        Attr::Set(Json::Object(items)) => Ok(items.len() as i64),
        Attr::Set(Json::Array(items)) => Ok(items.len() as i64),
        Attr::Set(value) => Err(format!("for_each = {value}")),
        Attr::Unset => Ok(1),
    }
}

/// `snapshot_identifier` or `restore_to_point_in_time`, when the resource is restored.
pub(super) fn restored_from(resource: &Resource) -> Option<&'static str> {
    ["snapshot_identifier", "restore_to_point_in_time"]
        .into_iter()
        .find(|path| !matches!(attr(resource, path), Attr::Unset))
}

/// Whether `id` (an identifier or an ARN) names the DB instance `identifier`.
pub(super) fn names_instance(id: &str, identifier: &str) -> bool {
    id == identifier || id.ends_with(&format!(":db:{identifier}"))
}

/// Whether `reference` (an attribute of another resource) points at `target`,
/// by reference or by `target`'s literal identifier (`identifier_path`); `None`
/// when an expression names nothing in this configuration.
pub(super) fn refers_to(
    config: &Configuration,
    reference: Attr<'_>,
    target: &Resource,
    identifier_path: &str,
    names: impl Fn(&str, &str) -> bool,
) -> Option<bool> {
    match reference {
        Attr::Set(Json::String(id)) => Some(
            target
                .string(identifier_path)
                .is_some_and(|identifier| !identifier.is_empty() && names(id, identifier)),
        ),
        Attr::Unresolved(expression) => config
            .referenced(expression)
            .map(|found| found.address == target.address),
        _ => Some(false),
    }
}
