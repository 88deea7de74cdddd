//! Interlink's decision core: what the switch decides for one input record, as pure
//! code. Decode, [`validate`], resolve a QR code to its merchant ([`qr_gateway`]),
//! route against an immutable table snapshot, and build the output records, including
//! the messages of the two legs through a connected network ([`legs`]).
//!
//! No Kafka, no async, no I/O: the edge (`interlink-switch`) hands records in and
//! writes the outputs; anything the core needs from outside (payments in flight) is
//! brought up to date by the edge before a record is decided.

pub mod legs;
pub mod memory;
pub mod pipeline;
pub mod qr_gateway;
pub mod validate;

pub use pipeline::{
    Context, InFlight, InFlightLookup, InputRecord, InputSource, NothingInFlight, Outcome, OutputEncodeError,
    OutputRecord, OutputTopic, Processor, Undecided,
};
