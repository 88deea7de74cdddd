//! Where the switch's schema ids come from: the Schema Registry, or (fixed-ids mode)
//! the ids compiled into this build.

use interlink_schema_registry::{register_writers, RegistryClient, RegistryError, SchemaResolver};
use interlink_schemas::registry::{self, SchemaVersion};
use interlink_schemas::{SchemaCatalog, TopicsConfig};
use std::sync::Arc;
use std::time::Duration;

/// The versions the switch writes: requests (payments networks originate), clearing
/// records, notifications, dead letters, returns, risk alerts and settlement records.
pub const SWITCH_WRITES: [&SchemaVersion; 7] = [
    &registry::AUTHORIZATION_REQUEST_V3,
    &registry::CLEARING_RECORD_V3,
    &registry::NOTIFICATION_V2,
    &registry::DEAD_LETTER_V1,
    &registry::PAYMENT_RETURN_V1,
    &registry::RISK_ALERT_V2,
    &registry::SETTLEMENT_RECORD_V1,
];

/// How long one registry request may take.
pub const REGISTRY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a starting process waits for the registry to answer.
pub const REGISTRY_PATIENCE: Duration = Duration::from_secs(120);

/// The ids a process frames its records with, and (with a registry) how it learns the
/// writer schemas of other producers.
pub struct Schemas {
    pub catalog: Arc<SchemaCatalog>,
    pub resolver: Option<SchemaResolver>,
}

impl Schemas {
    /// Registers `writes` with the registry at `registry_url` (or takes the fixed ids
    /// when there is none).
    pub fn connect(
        registry_url: Option<&str>,
        topics: &TopicsConfig,
        writes: &[&'static SchemaVersion],
    ) -> Result<Self, RegistryError> {
        let Some(url) = registry_url else {
            tracing::info!("schemas: fixed ids (no registry)");
            return Ok(Self { catalog: SchemaCatalog::fixed(), resolver: None });
        };
        let client = RegistryClient::new(url, REGISTRY_TIMEOUT)?;
        let catalog = register_writers(&client, topics, writes, REGISTRY_PATIENCE)?;
        tracing::info!(registry = url, "schemas: ids from the registry");
        Ok(Self { catalog: catalog.clone(), resolver: Some(SchemaResolver::new(client, catalog)) })
    }
}
