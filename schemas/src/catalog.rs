//! Which schema id frames each version this build writes, and which writer schemas are
//! known by id.
//!
//! Two ways to number schemas:
//! - **Registry** ids: a Schema Registry assigns them when the schemas are registered
//!   (the edge does that at start, [`SchemaCatalog::assign`]), and writer schemas of
//!   other producers are fetched by id on first sight ([`SchemaCatalog::learn`]).
//! - **Fixed ids**, for the smallest setups without a registry: the ids compiled into
//!   [`crate::registry`], and no other writer schema.
//!
//! The catalog is pure: it never talks to a registry itself.

use crate::codec::CodecError;
use crate::registry::{self, SchemaVersion};
use apache_avro::Schema;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

/// How this process numbers its schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdMode {
    /// The ids a Schema Registry assigned.
    Registry,
    /// The ids compiled into this build (no registry).
    FixedIds,
}

/// A writer schema known by its id.
#[derive(Debug, Clone, Copy)]
pub struct WriterSchema {
    /// The record's unqualified name (`AuthorizationRequest`, ...).
    pub record: &'static str,
    pub schema: &'static Schema,
}

/// The ids of this build's schema versions and the writer schemas known by id.
#[derive(Debug)]
pub struct SchemaCatalog {
    mode: IdMode,
    /// Built-in id of a version -> the id that frames it here.
    assigned: RwLock<HashMap<u32, u32>>,
    writers: RwLock<HashMap<u32, WriterSchema>>,
}

static FIXED: LazyLock<Arc<SchemaCatalog>> = LazyLock::new(|| {
    let catalog = SchemaCatalog::empty(IdMode::FixedIds);
    for version in registry::ALL {
        catalog.assign(version, version.id);
    }
    Arc::new(catalog)
});

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

impl SchemaCatalog {
    /// The fixed-ids catalog (no registry): every built-in version under its built-in id.
    pub fn fixed() -> Arc<Self> {
        FIXED.clone()
    }

    /// An empty catalog for ids a registry assigns.
    pub fn registry() -> Self {
        Self::empty(IdMode::Registry)
    }

    fn empty(mode: IdMode) -> Self {
        Self { mode, assigned: RwLock::new(HashMap::new()), writers: RwLock::new(HashMap::new()) }
    }

    pub fn mode(&self) -> IdMode {
        self.mode
    }

    /// Records that `version` is framed with `id` (the id its subject's registration
    /// answered).
    pub fn assign(&self, version: &'static SchemaVersion, id: u32) {
        write(&self.assigned).insert(version.id, id);
        write(&self.writers).insert(id, WriterSchema { record: version.record, schema: &version.schema });
    }

    /// The id that frames `version` here, once assigned.
    pub fn id_of(&self, version: &SchemaVersion) -> Option<u32> {
        read(&self.assigned).get(&version.id).copied()
    }

    /// Whether records framed with `id` can be read here without asking a registry.
    pub fn knows(&self, id: u32) -> bool {
        read(&self.writers).contains_key(&id)
    }

    pub fn writer(&self, id: u32) -> Option<WriterSchema> {
        read(&self.writers).get(&id).copied()
    }

    /// Adds the writer schema a registry gave for `id`. Kept for the life of the process
    /// (a registry's ids are never reused); only ids the registry knows get here, so
    /// records with made-up ids cannot grow it.
    pub fn learn(&self, id: u32, text: &str) -> Result<WriterSchema, CodecError> {
        if let Some(known) = self.writer(id) {
            return Ok(known);
        }
        let schema = Schema::parse_str(text)?;
        let Schema::Record(record) = &schema else {
            return Err(CodecError::NotARecord { id });
        };
        let name = record.name.name();
        let name: &'static str = match registry::ALL.iter().find(|v| v.record == name) {
            Some(v) => v.record,
            None => Box::leak(name.to_string().into_boxed_str()),
        };
        let writer = WriterSchema { record: name, schema: Box::leak(Box::new(schema)) };
        write(&self.writers).insert(id, writer);
        Ok(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_ids_know_every_built_in_version() {
        let fixed = SchemaCatalog::fixed();
        assert_eq!(fixed.mode(), IdMode::FixedIds);
        for v in registry::ALL {
            assert_eq!(fixed.id_of(v), Some(v.id));
            assert_eq!(fixed.writer(v.id).map(|w| w.record), Some(v.record));
        }
        assert!(!fixed.knows(7));
    }

    #[test]
    fn registry_ids_are_assigned_and_others_learned_once() {
        let catalog = SchemaCatalog::registry();
        assert_eq!(catalog.id_of(&registry::NOTIFICATION_V2), None);
        catalog.assign(&registry::NOTIFICATION_V2, 17);
        assert_eq!(catalog.id_of(&registry::NOTIFICATION_V2), Some(17));
        assert!(catalog.knows(17) && !catalog.knows(302), "registry ids only");
        let learned = catalog.learn(40, registry::AUTHORIZATION_REQUEST_V1.text).unwrap();
        assert_eq!(learned.record, "AuthorizationRequest");
        assert!(catalog.knows(40));
        assert!(matches!(catalog.learn(41, r#""string""#), Err(CodecError::NotARecord { id: 41 })));
        assert!(matches!(catalog.learn(42, "{not json"), Err(CodecError::Avro(_))));
        assert!(!catalog.knows(41) && !catalog.knows(42));
    }
}
