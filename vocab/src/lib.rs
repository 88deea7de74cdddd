//! Interlink's one vocabulary, shared by routing, the decision core, the connectors and
//! the event schemas: the status of a payment, the ISO 20022 reason for a refusal, and
//! money (currency exponents, decimal amount text, FX conversion).
//!
//! Pure code with no I/O, so every other crate can depend on it.

pub mod money;
mod reason;
mod status;

pub use money::{AmountError, AmountSyntax, MoneyError};
pub use reason::{InvalidReasonCode, IsoReason};
pub use status::{Finality, PaymentStatus, UnknownStatus};
