//! A client for the Confluent Schema Registry REST API (Confluent's registry, or
//! Apicurio's `/apis/ccompat/v7`), and how Interlink's processes use it:
//!
//! - at start, each process registers the schema versions it writes under their
//!   subjects (`<topic>-value`, Confluent's TopicNameStrategy) and frames its records
//!   with the ids the registry answers ([`register_writers`]);
//! - a record framed with an id this process does not know has its writer schema
//!   fetched once, by id, and kept ([`SchemaResolver::ensure_known`]): no registry
//!   round trip per record, and a registry that is briefly down stops nothing that
//!   already knows its ids.
//!
//! Plain HTTP only for now.

use interlink_schemas::registry::SchemaVersion;
use interlink_schemas::{SchemaCatalog, TopicsConfig};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Not answering, or answering 5xx: worth trying again later.
    #[error("schema registry at {url} unavailable: {reason}")]
    Unavailable { url: String, reason: String },
    #[error("schema registry has no {what}")]
    NotFound { what: String },
    #[error("schema registry refuses the schema for {subject} as incompatible: {message}")]
    Incompatible { subject: String, message: String },
    #[error("schema registry refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("schema registry answered something unreadable: {0}")]
    BadAnswer(String),
    #[error("no subject for record {0}: it is not written to an Interlink topic")]
    NoSubject(&'static str),
    #[error("the registry's schema {id} cannot be used: {reason}")]
    Unusable { id: u32, reason: String },
    #[error("{0:?} is not a schema registry URL (http://host:port/...)")]
    BadUrl(String),
}

impl RegistryError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// What the registry says of a candidate schema against a subject's latest version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compatibility {
    pub compatible: bool,
    /// The registry's reasons, when it gives any.
    pub messages: Vec<String>,
}

/// One registered version of a subject.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SubjectVersion {
    pub subject: String,
    pub version: u32,
    pub id: u32,
    pub schema: String,
}

#[derive(Deserialize)]
struct IdAnswer {
    id: u32,
}

#[derive(Deserialize)]
struct SchemaAnswer {
    schema: String,
}

#[derive(Deserialize)]
struct CompatibilityAnswer {
    is_compatible: bool,
    #[serde(default)]
    messages: Vec<String>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    message: String,
}

/// A blocking client of one registry (`http://host:port/apis/ccompat/v7`, or a
/// Confluent registry's root URL).
#[derive(Clone)]
pub struct RegistryClient {
    base: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient").field("base", &self.base).finish()
    }
}

/// The `{"schema": ...}` body of a registration or compatibility check.
fn schema_body(text: &str) -> serde_json::Value {
    serde_json::json!({ "schema": text })
}

fn segment(s: &str) -> String {
    // Subjects are topic names plus "-value": letters, digits, '.', '_', '-'.
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl RegistryClient {
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, RegistryError> {
        let base = base_url.trim().trim_end_matches('/');
        let host = base.strip_prefix("http://").or_else(|| base.strip_prefix("https://"));
        if host.is_none_or(|h| h.is_empty() || h.starts_with('/')) {
            return Err(RegistryError::BadUrl(base_url.to_string()));
        }
        let agent = ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build();
        Ok(Self { base: base.to_string(), agent: agent.into() })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    fn unavailable(&self, reason: impl std::fmt::Display) -> RegistryError {
        RegistryError::Unavailable { url: self.base.clone(), reason: reason.to_string() }
    }

    /// Sends a request and reads a JSON answer, sorting failures into [`RegistryError`].
    fn exchange<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
        what: impl FnOnce() -> String,
    ) -> Result<T, RegistryError> {
        let url = format!("{}{path}", self.base);
        let sent = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Accept", CONTENT_TYPE).call(),
            ("PUT", Some(b)) => self.agent.put(&url).header("Content-Type", CONTENT_TYPE).send_json(b),
            (_, Some(b)) => self.agent.post(&url).header("Content-Type", CONTENT_TYPE).send_json(b),
            (_, None) => self.agent.post(&url).header("Content-Type", CONTENT_TYPE).send_empty(),
        };
        let mut response = sent.map_err(|e| self.unavailable(e))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().map_err(|e| self.unavailable(e))?;
        let message = || serde_json::from_str::<ErrorAnswer>(&text).map(|e| e.message).unwrap_or_else(|_| text.clone());
        match status {
            200..=299 => {
                serde_json::from_str(&text).map_err(|e| RegistryError::BadAnswer(format!("{path}: {e}: {text}")))
            }
            404 => Err(RegistryError::NotFound { what: what() }),
            409 => Err(RegistryError::Incompatible { subject: what(), message: message() }),
            500..=599 => Err(self.unavailable(format!("{status}: {}", message()))),
            _ => Err(RegistryError::Refused { status, message: message() }),
        }
    }

    /// Registers `schema` under `subject` (or finds it registered) and answers its id.
    pub fn register(&self, subject: &str, schema: &str) -> Result<u32, RegistryError> {
        let path = format!("/subjects/{}/versions", segment(subject));
        let answer: IdAnswer = self.exchange("POST", &path, Some(schema_body(schema)), || subject.to_string())?;
        Ok(answer.id)
    }

    /// The schema registered under `id`.
    pub fn schema_by_id(&self, id: u32) -> Result<String, RegistryError> {
        let answer: SchemaAnswer =
            self.exchange("GET", &format!("/schemas/ids/{id}"), None, || format!("schema with id {id}"))?;
        Ok(answer.schema)
    }

    /// Checks `schema` against `subject`'s latest version under the subject's
    /// compatibility rule. A subject with no version yet accepts anything.
    pub fn check(&self, subject: &str, schema: &str) -> Result<Compatibility, RegistryError> {
        let path = format!("/compatibility/subjects/{}/versions/latest?verbose=true", segment(subject));
        match self.exchange::<CompatibilityAnswer>("POST", &path, Some(schema_body(schema)), || subject.to_string()) {
            Ok(a) => Ok(Compatibility { compatible: a.is_compatible, messages: a.messages }),
            Err(RegistryError::NotFound { .. }) => Ok(Compatibility { compatible: true, messages: Vec::new() }),
            Err(e) => Err(e),
        }
    }

    pub fn subjects(&self) -> Result<Vec<String>, RegistryError> {
        self.exchange("GET", "/subjects", None, || "subjects".into())
    }

    pub fn versions(&self, subject: &str) -> Result<Vec<u32>, RegistryError> {
        self.exchange("GET", &format!("/subjects/{}/versions", segment(subject)), None, || subject.to_string())
    }

    pub fn version(&self, subject: &str, version: u32) -> Result<SubjectVersion, RegistryError> {
        let path = format!("/subjects/{}/versions/{version}", segment(subject));
        self.exchange("GET", &path, None, || format!("version {version} of {subject}"))
    }

    /// Sets the compatibility rule of `subject`, or the registry's default.
    pub fn set_compatibility(&self, subject: Option<&str>, level: &str) -> Result<(), RegistryError> {
        let path = match subject {
            Some(s) => format!("/config/{}", segment(s)),
            None => "/config".to_string(),
        };
        let body = serde_json::json!({ "compatibility": level });
        self.exchange::<serde_json::Value>("PUT", &path, Some(body), || path.clone()).map(|_| ())
    }
}

/// The subject `version` is registered under: its topic's `-value` subject.
pub fn subject_of(topics: &TopicsConfig, version: &SchemaVersion) -> Result<String, RegistryError> {
    let topic = topics.topic_of(version.record).ok_or(RegistryError::NoSubject(version.record))?;
    Ok(TopicsConfig::value_subject(topic))
}

/// Registers the versions this process writes under their subjects and answers a
/// catalog that frames them with the registry's ids. Retries while the registry is
/// unavailable, up to `patience` (a registry starting next to the process).
pub fn register_writers(
    client: &RegistryClient,
    topics: &TopicsConfig,
    writes: &[&'static SchemaVersion],
    patience: Duration,
) -> Result<Arc<SchemaCatalog>, RegistryError> {
    let catalog = SchemaCatalog::registry();
    let give_up = Instant::now() + patience;
    for version in writes {
        let subject = subject_of(topics, version)?;
        let mut wait = Duration::from_millis(200);
        let id = loop {
            match client.register(&subject, version.text) {
                Err(e) if e.is_transient() && Instant::now() + wait < give_up => {
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "schema registry not ready");
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                other => break other?,
            }
        };
        tracing::info!(%subject, id, record = version.record, "schema registered");
        catalog.assign(version, id);
    }
    Ok(Arc::new(catalog))
}

/// How long an id the registry did not know is not asked about again: a stream of
/// records with made-up ids costs one request per id and minute, not one per record.
const FORGET_UNKNOWN_AFTER: Duration = Duration::from_secs(60);

/// Makes the writer schemas of ids seen in records known to a catalog, asking the
/// registry once per new id.
#[derive(Debug)]
pub struct SchemaResolver {
    client: RegistryClient,
    catalog: Arc<SchemaCatalog>,
    unknown: Mutex<HashMap<u32, Instant>>,
}

/// What became of an id [`SchemaResolver::ensure_known`] was asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Already known, or fetched now: records framed with it can be read.
    Known,
    /// The registry has no schema under this id (or it was asked within the last
    /// minute and had none): such records are refused as unknown.
    Unregistered,
}

impl SchemaResolver {
    pub fn new(client: RegistryClient, catalog: Arc<SchemaCatalog>) -> Self {
        Self { client, catalog, unknown: Mutex::new(HashMap::new()) }
    }

    pub fn catalog(&self) -> &Arc<SchemaCatalog> {
        &self.catalog
    }

    /// Learns `id`'s writer schema unless it is known. Only an unavailable registry is
    /// an error: the record waits for it rather than being refused.
    pub fn ensure_known(&self, id: u32) -> Result<Resolution, RegistryError> {
        if self.catalog.knows(id) {
            return Ok(Resolution::Known);
        }
        let mut unknown = self.unknown.lock().unwrap_or_else(|p| p.into_inner());
        if unknown.get(&id).is_some_and(|asked| asked.elapsed() < FORGET_UNKNOWN_AFTER) {
            return Ok(Resolution::Unregistered);
        }
        match self.client.schema_by_id(id) {
            Ok(text) => {
                self.catalog.learn(id, &text).map_err(|e| RegistryError::Unusable { id, reason: e.to_string() })?;
                unknown.remove(&id);
                tracing::info!(id, "writer schema fetched from the registry");
                Ok(Resolution::Known)
            }
            Err(RegistryError::NotFound { .. }) => {
                unknown.insert(id, Instant::now());
                Ok(Resolution::Unregistered)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_the_topic_name_strategy() {
        let topics = TopicsConfig::default();
        let subject = subject_of(&topics, &interlink_schemas::registry::NOTIFICATION_V2).unwrap();
        assert_eq!(subject, "interlink.notifications-value");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn a_registry_url_must_name_a_host() {
        for bad in ["", "  ", "127.0.0.1:8081", "http://", "http:///x", "ftp://h/x"] {
            assert!(
                matches!(RegistryClient::new(bad, Duration::from_secs(1)), Err(RegistryError::BadUrl(_))),
                "{bad:?}"
            );
        }
        let ok = RegistryClient::new(" http://127.0.0.1:8081/apis/ccompat/v7/ ", Duration::from_secs(1)).unwrap();
        assert_eq!(ok.url(), "http://127.0.0.1:8081/apis/ccompat/v7");
    }

    #[test]
    fn an_unreachable_registry_is_transient() {
        // Nothing listens on port 9 of the loopback interface.
        let client = RegistryClient::new("http://127.0.0.1:9/apis/ccompat/v7", Duration::from_millis(500)).unwrap();
        let e = client.schema_by_id(1).unwrap_err();
        assert!(e.is_transient(), "{e}");
        let resolver = SchemaResolver::new(client, Arc::new(SchemaCatalog::registry()));
        assert!(resolver.ensure_known(5).unwrap_err().is_transient());
    }
}
