//! Panics. The decision core is pure and must not panic; if it does on some record,
//! that record is a poison pill: the batch it was in is rolled back (never committed
//! half-built), and on the next attempt the record is dead-lettered without being
//! decided again, so the partition keeps flowing. A panic anywhere else leaves the
//! worker in a state nobody has reasoned about: the binary aborts the process (no
//! drop code runs, nothing commits) and a fresh worker takes over.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    /// Set while this thread runs decision code under [`decide_guarded`].
    static DECIDING: Cell<bool> = const { Cell::new(false) };
}

/// The decision code panicked; the message says where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the decision code panicked: {0}")]
pub struct DecisionPanicked(pub String);

/// Runs decision code, turning a panic in it into an error.
pub fn decide_guarded<T>(decide: impl FnOnce() -> T) -> Result<T, DecisionPanicked> {
    DECIDING.with(|d| d.set(true));
    let result = catch_unwind(AssertUnwindSafe(decide));
    DECIDING.with(|d| d.set(false));
    result.map_err(|payload| {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        DecisionPanicked(text)
    })
}

/// Makes every panic outside [`decide_guarded`] abort the process after it is
/// reported. For binaries: a test harness must keep its own panics.
pub fn abort_on_panic_outside_decisions() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        if !DECIDING.with(Cell::get) {
            eprintln!("interlink: a panic outside the decision code; aborting so that nothing half-done commits");
            std::process::abort();
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_decision_becomes_an_error_and_the_flag_is_cleared() {
        assert_eq!(decide_guarded(|| 7), Ok(7));
        let err = decide_guarded(|| -> u8 { panic!("poison {}", 42) }).unwrap_err();
        assert_eq!(err, DecisionPanicked("poison 42".into()));
        assert!(!DECIDING.with(Cell::get));
    }
}
