//! sqlready: audits production SQL databases against the production-readiness
//! checklist. Sources read facts; checks (data, CEL) judge them; reports render.

pub mod audit;
pub mod checks;
pub mod cli;
pub mod config;
pub mod connect;
pub mod eol;
pub mod facts;
pub mod fleet;
pub mod org_config;
pub mod output;
pub mod progress;
pub mod report;
pub mod shard;
pub mod sources;
pub mod storage;
pub mod target;
