//! Which Kafka the integration tests use, and skipping them when there is none.
//!
//! `make test` starts a broker and sets `INTERLINK_TEST_BROKERS`; then every
//! integration test runs, and a broker that is not there fails them. A bare
//! `cargo test` without that variable uses a broker on 127.0.0.1:9092 if one answers,
//! and otherwise skips the integration tests, saying once how to run them.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Once;
use std::time::Duration;

/// The variable `make test` sets to the broker it started.
pub const BROKERS_VAR: &str = "INTERLINK_TEST_BROKERS";
const DEFAULT_BROKER: &str = "127.0.0.1:9092";

/// The brokers to test against, or `None` (after one line on stderr) when no broker
/// was named and none answers on the default address.
pub fn test_brokers() -> Option<String> {
    if let Ok(brokers) = std::env::var(BROKERS_VAR) {
        return Some(brokers);
    }
    let address: SocketAddr = DEFAULT_BROKER.parse().expect("a socket address");
    if TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_ok() {
        return Some(DEFAULT_BROKER.to_string());
    }
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        // Straight to stderr: the test harness captures `eprintln!` of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: integration tests need Kafka; none on {DEFAULT_BROKER} and {BROKERS_VAR} is unset. \
             Run `make test`, which starts a broker and runs them all."
        );
    });
    None
}

/// Returns from the calling test when there is no broker to test against; otherwise
/// evaluates to the brokers.
#[macro_export]
macro_rules! require_broker {
    () => {
        match $crate::broker::test_brokers() {
            Some(brokers) => brokers,
            None => return,
        }
    };
}
