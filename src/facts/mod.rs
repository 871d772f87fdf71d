//! The normalized facts model: what sources found out about a target.
//!
//! Every fact is addressed by a dotted path from [`schema`] and is either
//! known (with its value, the source and the raw field or query it came from)
//! or unknown (with the reason and what access would resolve it). Checks only
//! ever see this model, never raw provider output.

pub mod merge;
pub mod recorded;
pub mod schema;
pub mod snapshot;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One fact: known with provenance, or unknown with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    #[serde(flatten)]
    pub state: FactState,
    /// Which source said so: `postgres`, `mysql`, `rds`, `cloudsql`, `terraform`.
    pub source: String,
    /// The raw field, setting or query the fact came from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub origin: String,
    /// What other sources of the same target said when they disagreed with
    /// this fact (see [`merge`]); this fact's own value is the one checks use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disagreements: Vec<merge::Reading>,
}

/// Whether a fact's value is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FactState {
    Known {
        value: Value,
    },
    Unknown {
        /// Why the source could not tell.
        unknown: String,
        /// What access or source would resolve it (a grant, an IAM role, a source).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolve: Option<String>,
    },
}

impl Fact {
    pub fn known(source: &str, origin: impl Into<String>, value: impl Into<Value>) -> Self {
        Fact {
            state: FactState::Known {
                value: value.into(),
            },
            source: source.to_string(),
            origin: origin.into(),
            disagreements: Vec::new(),
        }
    }

    pub fn unknown(source: &str, reason: impl Into<String>, resolve: Option<String>) -> Self {
        Fact {
            state: FactState::Unknown {
                unknown: reason.into(),
                resolve,
            },
            source: source.to_string(),
            origin: String::new(),
            disagreements: Vec::new(),
        }
    }

    pub fn value(&self) -> Option<&Value> {
        match &self.state {
            FactState::Known { value } => Some(value),
            FactState::Unknown { .. } => None,
        }
    }
}

/// The facts of one target, by dotted path.
pub type Facts = BTreeMap<String, Fact>;

/// Collects facts for one source, so source code reads as a list of findings.
#[derive(Debug)]
pub struct FactSink<'a> {
    source: &'a str,
    facts: Facts,
}

impl<'a> FactSink<'a> {
    pub fn new(source: &'a str) -> Self {
        FactSink {
            source,
            facts: Facts::new(),
        }
    }

    pub fn known(&mut self, path: &str, origin: impl Into<String>, value: impl Into<Value>) {
        self.facts
            .insert(path.to_string(), Fact::known(self.source, origin, value));
    }

    pub fn unknown(&mut self, path: &str, reason: impl Into<String>, resolve: Option<&str>) {
        self.facts.insert(
            path.to_string(),
            Fact::unknown(self.source, reason, resolve.map(str::to_string)),
        );
    }

    /// Records `value` when present, else an unknown fact with `reason`.
    pub fn maybe(
        &mut self,
        path: &str,
        origin: &str,
        value: Option<impl Into<Value>>,
        reason: &str,
        resolve: Option<&str>,
    ) {
        match value {
            Some(value) => self.known(path, origin, value),
            None => self.unknown(path, reason, resolve),
        }
    }

    pub fn finish(self) -> Facts {
        self.facts
    }
}

/// Raw material a source read: kept as evidence, never judged directly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawEvidence {
    pub source: String,
    /// What was read: a query's name, an API method.
    pub name: String,
    /// The statement or request, with secrets removed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub request: String,
    /// The rows or response body, with secrets removed.
    pub response: Value,
}
