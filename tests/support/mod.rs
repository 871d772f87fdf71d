//! Shared support code for the integration tests (`mod support;` in a test file).

pub mod cli;
pub mod lab;
pub mod mylab;
pub mod pglab;
pub mod wire;
