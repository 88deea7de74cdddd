//! Which Schema Registry the integration tests use, and skipping them when there is
//! none (like [`crate::broker`]).
//!
//! `make test` starts one (`scripts/registry up`) and sets `INTERLINK_TEST_REGISTRY`;
//! then the registry tests run, and a registry that is not there fails them. Without
//! the variable a registry answering on 127.0.0.1:8081 is used, else they are skipped.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Once;
use std::time::Duration;

/// The variable `make test` sets to the registry's Confluent-compatible API.
pub const REGISTRY_VAR: &str = "INTERLINK_TEST_REGISTRY";
const DEFAULT_ADDRESS: &str = "127.0.0.1:8081";
const DEFAULT_URL: &str = "http://127.0.0.1:8081/apis/ccompat/v7";

/// The registry to test against, or `None` (after one line on stderr).
pub fn test_registry() -> Option<String> {
    if let Ok(url) = std::env::var(REGISTRY_VAR) {
        return Some(url);
    }
    let address: SocketAddr = DEFAULT_ADDRESS.parse().expect("a socket address");
    if TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_ok() {
        return Some(DEFAULT_URL.to_string());
    }
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: schema registry tests need a registry; none on {DEFAULT_ADDRESS} and {REGISTRY_VAR} is unset. \
             Run `make test`, which starts one."
        );
    });
    None
}

/// Returns from the calling test when there is no registry; otherwise evaluates to its URL.
#[macro_export]
macro_rules! require_registry {
    () => {
        match $crate::schema_registry::test_registry() {
            Some(url) => url,
            None => return,
        }
    };
}

/// The variable `make test` sets to the Python that has Confluent's client installed
/// (`.venv/bin/python`, from `tests/python/requirements.txt`).
pub const PYTHON_VAR: &str = "INTERLINK_TEST_PYTHON";

/// The Python with Confluent's client, or `None` (after one line on stderr): the
/// variable, else the repository's `.venv`.
pub fn test_python() -> Option<std::path::PathBuf> {
    if let Ok(python) = std::env::var(PYTHON_VAR) {
        return Some(python.into());
    }
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    if venv.exists() {
        return Some(venv);
    }
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the independent-client test needs Confluent's Python client; {PYTHON_VAR} is unset and there is no .venv. \
             Run `make test`, which installs it."
        );
    });
    None
}
