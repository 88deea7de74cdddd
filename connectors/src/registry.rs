//! The registered connectors: the single source of truth for which networks Interlink speaks
//! to. Adding a network is one folder under `networks/` and one line here (plus its goldens
//! and two doc lines; docs/connectors.md, "Registry: adding a network").

use crate::connector::Connector;
use crate::networks::{
    br_pix, cn_ibps, eu_sctinst, hk_fps, id_bifast, in_upi, my_duitnow, sg_paynow, th_promptpay, us_fednow,
};

pub(crate) static CONNECTORS: &[&'static dyn Connector] = &[
    &cn_ibps::CN_IBPS,
    &hk_fps::HK_FPS,
    &id_bifast::ID_BIFAST,
    &th_promptpay::TH_PROMPTPAY,
    &sg_paynow::SG_PAYNOW,
    &my_duitnow::MY_DUITNOW,
    &in_upi::InUpi,
    &br_pix::BR_PIX,
    &eu_sctinst::EU_SCTINST,
    &us_fednow::US_FEDNOW,
];

/// The connector of a network, by Interlink network id (`HK_FPS`).
pub fn connector(network: &str) -> Option<&'static dyn Connector> {
    CONNECTORS.iter().copied().find(|c| c.profile().id == network)
}

/// Every registered connector, in registry order.
pub fn connectors() -> impl ExactSizeIterator<Item = &'static dyn Connector> + Clone {
    CONNECTORS.iter().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_found() {
        for c in connectors() {
            assert_eq!(connectors().filter(|o| o.profile().id == c.profile().id).count(), 1);
            assert!(std::ptr::eq(connector(c.profile().id).unwrap().profile(), c.profile()));
        }
        assert!(connector("XX_NOPE").is_none());
    }

    /// Each folder under `src/networks/` is one network: exactly one line of `CONNECTORS`
    /// names it, and its connector's id is the folder name in upper case. No line names
    /// anything else.
    #[test]
    fn every_network_folder_has_exactly_one_registry_line() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/networks");
        let folders: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap())
            .filter(|entry| entry.file_type().unwrap().is_dir())
            .map(|entry| entry.file_name().into_string().unwrap())
            .collect();
        let source = include_str!("registry.rs");
        let start = source.find("static CONNECTORS").unwrap();
        let list = &source[start..start + source[start..].find("];").unwrap()];
        let lines: Vec<&str> = list.lines().skip(1).map(str::trim).filter(|l| !l.is_empty()).collect();
        for folder in &folders {
            let naming: Vec<_> = lines.iter().filter(|l| l.starts_with(&format!("&{folder}::"))).collect();
            assert_eq!(naming.len(), 1, "registry lines naming networks/{folder}/: {naming:?}");
            assert!(connector(&folder.to_uppercase()).is_some(), "networks/{folder}/ has no connector with its id");
        }
        assert_eq!(lines.len(), folders.len(), "CONNECTORS lines: {lines:?}, folders: {folders:?}");
        assert_eq!(connectors().len(), folders.len());
    }
}
