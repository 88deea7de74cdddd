//! Interlink's load generator and exactly-once verifier.
//!
//! [`generator`] builds a realistic mix of authorization requests from a routing
//! table file, each with the outcome the switch must give it; [`verifier`] reads
//! every output with `read_committed` and proves that each request got exactly
//! that outcome, once.

pub mod fleet;
pub mod generator;
pub mod kafka;
pub mod passthrough;
pub mod report;
pub mod routes_scale;
pub mod run;
pub mod scenario;
pub mod simulator;
pub mod verifier;

pub use generator::{Expected, Generator, Mix, NetworkLegs, Planned};
pub use run::{run, run_with, Load, Phase, Progress, RunError, RunOptions};
pub use verifier::{OutcomeCheck, OutputKind, SecondStats, Summary, Verifier};
