//! Judging across the targets of one run: which environment each target is
//! in ([`environments`]) and whether each production database has a
//! non-production counterpart ([`staging`]). Runs after every target is
//! collected, like the MySQL replica join in [`crate::connect::join`].

pub mod environments;
pub mod merge;
pub mod staging;

pub use environments::{Environments, RawEnvironments};
pub use staging::staging;
