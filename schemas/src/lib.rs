//! Interlink's canonical events: the Avro schemas in `schemas/*.avsc`, typed Rust
//! structs for them, and a codec that frames every record in the Confluent wire
//! format (magic byte `0`, big-endian `u32` schema id, Avro datum).
//!
//! Schema evolution rule: a new version may only add fields that carry a default
//! (and may add enum symbols when the enum has a default). Every version ever
//! written keeps its schema id and stays in [`registry`], so records written by an
//! older producer are read through Avro schema resolution.

mod catalog;
mod codec;
pub mod registry;
mod topics;
mod types;

pub use catalog::{IdMode, SchemaCatalog, WriterSchema};
pub use codec::{Codec, CodecError, Event, Framed, MAX_AVRO_ALLOCATION_BYTES};
pub use topics::TopicsConfig;
pub use types::*;

/// Microseconds since the Unix epoch, the unit of every `timestamp-micros` field.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or_default()
}
