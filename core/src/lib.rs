//! Interlink's decision core: what the switch decides for one input record, as pure
//! code. Decode, [`validate`], resolve a QR code to its merchant ([`qr_gateway`]),
//! route against an immutable table snapshot, and build the output records, including
//! the messages of the two legs through a connected network ([`legs`]).
//!
//! No Kafka, no async, no I/O: the edge (`interlink-switch`) hands records in and
//! writes the outputs; what the core needs to remember (requests, payments in flight) it
//! reads through [`memory::Memory`], the state of the input record's partition, which
//! the edge keeps and restores.

pub mod anomaly;
pub mod blocks;
pub mod legs;
pub mod limits;
pub mod memory;
pub mod party_watch;
pub mod pipeline;
pub mod qr_gateway;
pub mod review;
pub mod risk;
pub mod settlement;
pub mod validate;

pub use pipeline::{
    Context, Expiry, InputRecord, InputSource, Outcome, OutputEncodeError, OutputRecord, OutputTopic, Processor,
    Undecided,
};
