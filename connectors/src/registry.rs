//! The registered connectors: the single source of truth for which networks Interlink speaks
//! to. Adding a network is one folder under `networks/` and one line here.

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
        assert_eq!(connectors().len(), 10);
    }
}
