//! Decoding the switch's Avro event records in `interlinkctl`, with or without a Schema
//! Registry (settlement reports, the risk alerts export).

use super::Failure;
use anyhow::Context;
use interlink_schemas::registry::SchemaVersion;
use interlink_schemas::Codec;
use interlink_switch::config::TopicsConfig;

/// Reads the switch's event records: framed with the ids built into this build, or,
/// with a Schema Registry, with the ids the registry gave their writers (learnt from
/// it on first sight, as the workers do).
pub struct EventReader {
    catalog: std::sync::Arc<interlink_schemas::SchemaCatalog>,
    resolver: Option<interlink_schema_registry::SchemaResolver>,
}

impl EventReader {
    /// `reads`: the versions this command decodes into (with a registry, they are looked
    /// up there: the switch registered them; registering the same text again changes
    /// nothing).
    pub fn connect(
        registry: Option<&str>,
        topics: &TopicsConfig,
        reads: &[&'static SchemaVersion],
    ) -> Result<Self, Failure> {
        use interlink_schema_registry::{register_writers, RegistryClient, SchemaResolver};
        let Some(url) = registry.filter(|u| !u.trim().is_empty()) else {
            return Ok(Self { catalog: interlink_schemas::SchemaCatalog::fixed(), resolver: None });
        };
        let client = || RegistryClient::new(url, std::time::Duration::from_secs(5)).context("the schema registry");
        let catalog = register_writers(&client()?, topics, reads, std::time::Duration::from_secs(30))
            .context("the schema registry's ids")?;
        Ok(Self { catalog: catalog.clone(), resolver: Some(SchemaResolver::new(client()?, catalog)) })
    }

    pub fn codec<T: interlink_schemas::Event>(&self) -> Result<Codec<T>, Failure> {
        Ok(Codec::with_catalog(&self.catalog)?)
    }

    /// Decodes one record, learning its writer's schema from the registry if need be.
    pub fn decode<T: interlink_schemas::Event>(&self, codec: &Codec<T>, bytes: &[u8]) -> anyhow::Result<T> {
        if let (Some(resolver), Ok(framed)) = (&self.resolver, interlink_schemas::Framed::parse(bytes)) {
            resolver.ensure_known(framed.schema_id)?;
        }
        Ok(codec.decode(bytes)?)
    }
}
