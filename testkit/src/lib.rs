//! Interlink's test kit, shared by the switch's integration tests and the load tester:
//! a [`generator`] of authorization requests that knows the outcome each must get, a
//! [`verifier`] that reads every output with `read_committed` and proves each request
//! got exactly that outcome, once, network [`simulator`]s that answer the switch's
//! payments as a connected network would, and synthetic routing tables ([`routes`]).

pub mod broker;
pub mod generator;
pub mod kafka;
pub mod routes;
pub mod run;
pub mod schema_registry;
pub mod simulator;
pub mod verifier;

pub use generator::{Expected, Generator, Mix, NetworkLegs, Planned};
pub use run::{run, run_with, Load, Phase, Progress, RunError, RunOptions};
pub use verifier::{OutcomeCheck, OutputKind, SecondStats, Summary, Verifier};
