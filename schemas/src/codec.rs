//! Confluent-framed Avro encoding with writers and readers built once per type.

use crate::catalog::SchemaCatalog;
use crate::registry::{self, SchemaVersion};
use crate::types::{
    AuthorizationRequest, ClearingRecord, DeadLetter, Notification, PaymentReturn, RiskAlert, SettlementRecord,
};
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use serde::{de::DeserializeOwned, Serialize};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock};

const MAGIC: u8 = 0;

/// The most one Avro string, bytes or collection in a record may claim. A record is at
/// most Kafka's `message.max.bytes` (1 MiB by default), so a claim above this is a lie
/// in a hostile or corrupt record; apache-avro's default (512 MiB) would allocate it
/// before finding out.
pub const MAX_AVRO_ALLOCATION_BYTES: usize = 2 * 1024 * 1024;
const HEADER_LEN: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("record is {0} bytes, shorter than the 5-byte Confluent header")]
    TooShort(usize),
    #[error("magic byte is {0:#04x}, expected 0x00 (Confluent wire format)")]
    BadMagic(u8),
    #[error("schema id {0} is unknown (not registered in the schema registry, or not an Interlink schema)")]
    UnknownSchemaId(u32),
    #[error("schema id {found} is a {found_record}, expected a {expected}")]
    WrongRecord { expected: &'static str, found: u32, found_record: &'static str },
    #[error("schema id {id} is not an Avro record schema")]
    NotARecord { id: u32 },
    #[error("no schema id for {record} yet: register it with the schema registry first")]
    Unassigned { record: &'static str },
    #[error("{trailing} bytes left after the Avro datum")]
    TrailingBytes { trailing: usize },
    #[error("avro: {0}")]
    Avro(String),
}

impl From<apache_avro::Error> for CodecError {
    fn from(e: apache_avro::Error) -> Self {
        CodecError::Avro(e.to_string())
    }
}

/// A record type with a schema in the registry.
pub trait Event: Serialize + DeserializeOwned {
    /// The version this build writes.
    const SCHEMA: &'static SchemaVersion;
}

impl Event for AuthorizationRequest {
    const SCHEMA: &'static SchemaVersion = &registry::AUTHORIZATION_REQUEST_V3;
}
impl Event for ClearingRecord {
    const SCHEMA: &'static SchemaVersion = &registry::CLEARING_RECORD_V3;
}
impl Event for Notification {
    const SCHEMA: &'static SchemaVersion = &registry::NOTIFICATION_V2;
}
impl Event for DeadLetter {
    const SCHEMA: &'static SchemaVersion = &registry::DEAD_LETTER_V1;
}
impl Event for PaymentReturn {
    const SCHEMA: &'static SchemaVersion = &registry::PAYMENT_RETURN_V1;
}
impl Event for RiskAlert {
    const SCHEMA: &'static SchemaVersion = &registry::RISK_ALERT_V2;
}
impl Event for SettlementRecord {
    const SCHEMA: &'static SchemaVersion = &registry::SETTLEMENT_RECORD_V1;
}

/// The Confluent header of a framed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed<'a> {
    pub schema_id: u32,
    pub datum: &'a [u8],
}

impl<'a> Framed<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self, CodecError> {
        if bytes.len() < HEADER_LEN {
            return Err(CodecError::TooShort(bytes.len()));
        }
        if bytes[0] != MAGIC {
            return Err(CodecError::BadMagic(bytes[0]));
        }
        let schema_id = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
        Ok(Self { schema_id, datum: &bytes[HEADER_LEN..] })
    }
}

/// Encoder and decoder for one record type. Build once, reuse for every record:
/// resolving a schema is far more expensive than encoding a datum.
pub struct Codec<T: Event> {
    writer: GenericDatumWriter<'static>,
    /// The id this process frames `T` with (a registry's, or the built-in one).
    id: u32,
    reader: GenericDatumReader<'static>,
    catalog: Arc<SchemaCatalog>,
    /// Readers for other writer versions of the same record, resolving into this one,
    /// built on first sight of their id.
    resolved: RwLock<HashMap<u32, GenericDatumReader<'static>>>,
    _type: PhantomData<fn() -> T>,
}

impl<T: Event> Codec<T> {
    /// With the fixed ids compiled into this build (no registry).
    pub fn new() -> Result<Self, CodecError> {
        Self::with_catalog(&SchemaCatalog::fixed())
    }

    /// With the ids of `catalog`, which must have an id for `T`'s version.
    pub fn with_catalog(catalog: &Arc<SchemaCatalog>) -> Result<Self, CodecError> {
        // Process-wide and set once: the first codec built sets it.
        apache_avro::util::max_allocation_bytes(MAX_AVRO_ALLOCATION_BYTES);
        let id = catalog.id_of(T::SCHEMA).ok_or(CodecError::Unassigned { record: T::SCHEMA.record })?;
        let current: &'static apache_avro::Schema = &T::SCHEMA.schema;
        let writer = GenericDatumWriter::builder(current).build()?;
        let reader = GenericDatumReader::builder(current).build()?;
        Ok(Self {
            writer,
            id,
            reader,
            catalog: catalog.clone(),
            resolved: RwLock::new(HashMap::new()),
            _type: PhantomData,
        })
    }

    /// The schema id this codec frames its records with.
    pub fn schema_id(&self) -> u32 {
        self.id
    }

    /// Appends the framed record to `out`.
    pub fn encode_into(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.push(MAGIC);
        out.extend_from_slice(&self.id.to_be_bytes());
        self.writer.write_ser(out, value)?;
        Ok(())
    }

    pub fn encode(&self, value: &T) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(256);
        self.encode_into(value, &mut out)?;
        Ok(out)
    }

    pub fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        let framed = Framed::parse(bytes)?;
        let mut datum = framed.datum;
        let value = if framed.schema_id == self.id {
            self.reader.read_deser::<T>(&mut datum)?
        } else {
            self.read_other(framed.schema_id, &mut datum)?
        };
        if !datum.is_empty() {
            return Err(CodecError::TrailingBytes { trailing: datum.len() });
        }
        Ok(value)
    }

    /// Frames `value` as a producer built for the `older` version of `T` writes it
    /// (under `older`'s fixed id, without the fields added since): for tests and load
    /// runs that mix old and new producers.
    pub fn encode_as(&self, value: &T, older: &'static SchemaVersion) -> Result<Vec<u8>, CodecError> {
        if older.record != T::SCHEMA.record {
            return Err(CodecError::WrongRecord {
                expected: T::SCHEMA.record,
                found: older.id,
                found_record: older.record,
            });
        }
        let apache_avro::types::Value::Record(fields) = apache_avro::to_value(value)? else {
            return Err(CodecError::NotARecord { id: older.id });
        };
        let apache_avro::Schema::Record(schema) = &*older.schema else {
            return Err(CodecError::NotARecord { id: older.id });
        };
        let kept = fields.into_iter().filter(|(name, _)| schema.lookup.contains_key(name)).collect();
        let datum = apache_avro::types::Value::Record(kept).resolve(&older.schema)?;
        let mut out = vec![MAGIC];
        out.extend_from_slice(&older.id.to_be_bytes());
        #[allow(deprecated)]
        out.extend_from_slice(&apache_avro::to_avro_datum(&older.schema, datum)?);
        Ok(out)
    }

    /// Reads a datum another writer version framed, through Avro schema resolution.
    fn read_other(&self, id: u32, datum: &mut &[u8]) -> Result<T, CodecError> {
        if let Some(reader) = self.resolved.read().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(apache_avro::from_value::<T>(&reader.read_value(datum)?)?);
        }
        let writer = self.catalog.writer(id).ok_or(CodecError::UnknownSchemaId(id))?;
        if writer.record != T::SCHEMA.record {
            return Err(CodecError::WrongRecord { expected: T::SCHEMA.record, found: id, found_record: writer.record });
        }
        let reader = GenericDatumReader::builder(writer.schema).reader_schema(&T::SCHEMA.schema).build()?;
        let value = apache_avro::from_value::<T>(&reader.read_value(datum)?)?;
        self.resolved.write().unwrap_or_else(|p| p.into_inner()).insert(id, reader);
        Ok(value)
    }
}
