//! Interlink's load tester: scenarios (steady, ramp, spike, scale-out, crash) that run
//! worker processes against a real broker, the pass-through baseline, reports and
//! charts, the routing scale test and the keyed-state restore test. The generator,
//! verifier and simulators it drives live in `interlink-testkit`, which the switch's
//! own tests share.

pub mod faults;
pub mod fleet;
pub mod passthrough;
pub mod report;
pub mod routes_scale;
pub mod scenario;
pub mod state_restore;
