//! The sanctions lists a worker screens names against, loaded from the files the
//! operator configures (`[risk]`), once, at start.

use crate::config::RiskConfig;
use interlink_screening::{eu, ofac, Config, ConfigError, LoadError, SanctionsList, Screener};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum ScreeningError {
    #[error("sanctions list {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("sanctions list {path}: {source}")]
    Load { path: PathBuf, source: LoadError },
    #[error("risk.ofac_alt is set without risk.ofac_sdn: aliases need their entries")]
    AliasesWithoutList,
    #[error("risk.screening_threshold: {0}")]
    Config(#[from] ConfigError),
}

/// The screener over every configured list, or `None` when none is configured.
pub fn load(risk: &RiskConfig) -> Result<Option<Screener>, ScreeningError> {
    let path = |p: &str| (!p.trim().is_empty()).then(|| PathBuf::from(p.trim()));
    let (sdn, alt, eu_xml) = (path(&risk.ofac_sdn), path(&risk.ofac_alt), path(&risk.eu_xml));
    if sdn.is_none() && alt.is_some() {
        return Err(ScreeningError::AliasesWithoutList);
    }
    if sdn.is_none() && eu_xml.is_none() {
        return Ok(None);
    }
    let started = Instant::now();
    let read = |p: &PathBuf| std::fs::read(p).map_err(|source| ScreeningError::Read { path: p.clone(), source });
    let loaded = |p: &PathBuf, r: Result<SanctionsList, LoadError>| {
        r.map_err(|source| ScreeningError::Load { path: p.clone(), source })
    };
    let mut list = SanctionsList::default();
    if let Some(sdn) = &sdn {
        let sdn_bytes = read(sdn)?;
        let parsed = match &alt {
            Some(alt) => loaded(alt, ofac::parse(&sdn_bytes[..], &read(alt)?[..]))?,
            None => loaded(sdn, ofac::parse_sdn(&sdn_bytes[..]))?,
        };
        list.merge(parsed);
    }
    if let Some(xml) = &eu_xml {
        list.merge(loaded(xml, eu::parse(&read(xml)?[..]))?);
    }
    let config = Config { threshold: risk.screening_threshold, ..Config::default() };
    let screener = Screener::with_config(&list, config)?.remembering(risk.screening_cache_names);
    tracing::info!(entries = screener.len(), took_ms = started.elapsed().as_millis() as u64, "sanctions lists loaded");
    Ok(Some(screener))
}
