//! Block lists, checked on a routed payment: its debtor's and creditor's institutions
//! and accounts, and the QR merchant it pays. The lists are rules of the routing table
//! ([`interlink_routing::Block`]), so every worker applies the same ones at one version.

use crate::qr_gateway::QrMerchant;
use crate::risk::RiskRefusal;
use interlink_routing::{Block, BlockKind, Route, RoutingTable};
use interlink_schemas::{AuthorizationRequest, RiskControl};
use interlink_screening::Screener;
use interlink_vocab::IsoReason;

/// The first block that a routed payment meets, if any: debtor institution, creditor
/// institution, debtor account, creditor account, QR merchant.
pub fn check_route(
    table: &RoutingTable,
    route: &Route<'_>,
    request: &AuthorizationRequest,
    creditor_account: Option<&str>,
    merchant: Option<&QrMerchant>,
) -> Option<RiskRefusal> {
    let (debtor, creditor) = (route.debtor, route.creditor);
    let merchant_account = merchant.and_then(|m| m.account.as_deref().map(|a| (m.creditor.network.as_str(), a)));
    let candidates = [
        (BlockKind::Institution, "debtor institution", Some((debtor.network.as_str(), debtor.institution_id.as_str()))),
        (
            BlockKind::Institution,
            "creditor institution",
            Some((creditor.network.as_str(), creditor.institution_id.as_str())),
        ),
        (BlockKind::Account, "debtor account", Some((debtor.network.as_str(), request.debtor_account.as_str()))),
        (BlockKind::Account, "creditor account", creditor_account.map(|a| (creditor.network.as_str(), a))),
        (BlockKind::QrMerchant, "QR merchant", merchant_account),
    ];
    candidates.into_iter().find_map(|(kind, role, named)| {
        let (network, value) = named?;
        table.blocked(kind, network, value).map(|b| refusal(b, role, table.version()))
    })
}

/// A sanctions hit on the debtor's or the creditor's name (where the request carries
/// them): the reason and a text naming the list entry, the listed name it matched, the
/// score and the threshold (not the payer's name, which the debtor's bank knows).
pub fn check_names(screener: &Screener, request: &AuthorizationRequest) -> Option<RiskRefusal> {
    let names = [("debtor", request.debtor_name.as_deref()), ("creditor", request.creditor_name.as_deref())];
    names.into_iter().find_map(|(role, name)| {
        let hit = screener.best(name?)?;
        Some(RiskRefusal::new(
            RiskControl::Sanctions,
            hit.entry_id.to_string(),
            IsoReason::RR04,
            format!(
                "the {role}'s name matches sanctions list entry {} ({:?}, listed as {:?}) with score {:.2} (threshold {:.2})",
                hit.entry_id, hit.kind, hit.matched_name, hit.score, hit.threshold
            ),
        ))
    })
}

/// The block on a creditor alias (`SCHEME:value`) in the network that resolves it.
pub fn check_alias(table: &RoutingTable, scheme: &str, value: &str) -> Option<RiskRefusal> {
    let network = table.alias_network(scheme, value)?;
    let alias = format!("{scheme}:{value}");
    table.blocked(BlockKind::Alias, &network.network, &alias).map(|b| refusal(b, "creditor alias", table.version()))
}

fn refusal(block: &Block, role: &str, version: i64) -> RiskRefusal {
    // Institution ids are public; accounts, aliases and merchant ids are shown by their
    // last four characters only.
    let shown = match block.target {
        BlockKind::Institution => block.value.clone(),
        _ => mask(&block.value),
    };
    RiskRefusal::new(
        RiskControl::Block,
        format!("block/{}/{}/{shown}", block.target, block.network),
        block.target.reason(),
        format!(
            "{role} {}/{shown} is blocked (routing v{version}, block/{}): {}",
            block.network, block.target, block.reason
        ),
    )
}

/// `****` and the last four characters.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use interlink_connectors::emvco::{MerchantAccount, MerchantQr};
    use interlink_routing::parse_routes_file;
    use interlink_schemas::Channel;

    /// The sample table and these blocks.
    fn table(blocks: &str) -> RoutingTable {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap();
        RoutingTable::compile(9, &parse_routes_file("sample", &format!("{text}\n{blocks}")).unwrap()).unwrap()
    }

    fn block(kind: &str, network: &str, value: &str) -> String {
        format!(
            "[[blocks]]\ntarget = \"{kind}\"\nnetwork = \"{network}\"\nvalue = \"{value}\"\nreason = \"case 1\"\n\n"
        )
    }

    fn qris_payment() -> (AuthorizationRequest, String) {
        let mut qr = MerchantQr::new("5812", "360", "ID", "TOKO MAKMUR", "JAKARTA");
        qr = qr.with_account(MerchantAccount::new(51, "ID.CO.QRIS.WWW").with_field(2, "ID1020000000001"));
        let payload = qr.encode();
        let request = AuthorizationRequest {
            debtor_account: "6222020200112233445".into(),
            creditor_agent: None,
            creditor_account: None,
            qr_payload: Some(payload.clone()),
            channel: Channel::Qr,
            ..crate::memory::sample_request()
        };
        (request, payload)
    }

    fn check(t: &RoutingTable) -> Option<RiskRefusal> {
        let (request, payload) = qris_payment();
        let merchant = crate::qr_gateway::find_merchant(t, &payload).unwrap();
        let route = t.resolve(&request.debtor_agent, &merchant.creditor, &request.amount, 0).unwrap();
        check_route(t, &route, &request, merchant.account.as_deref(), Some(&merchant))
    }

    #[test]
    fn each_party_of_a_routed_payment_is_checked_with_its_reason() {
        assert_eq!(check(&table("")), None);
        let merchant = check(&table(&block("qr_merchant", "ID_BIFAST", "ID1020000000001"))).unwrap();
        assert_eq!(merchant.reason, IsoReason::AC06);
        assert_eq!(merchant.text, "QR merchant ID_BIFAST/****0001 is blocked (routing v9, block/qr_merchant): case 1");
        let bank = check(&table(&block("institution", "CN_IBPS", "102100099996"))).unwrap();
        assert_eq!(bank.reason, IsoReason::RR04);
        assert!(bank.text.starts_with("debtor institution CN_IBPS/102100099996 is blocked"), "{}", bank.text);
        let account = check(&table(&block("account", "CN_IBPS", "6222020200112233445"))).unwrap();
        assert!(account.text.starts_with("debtor account CN_IBPS/****3445"), "{}", account.text);
        // The same account number in another network is another account.
        assert_eq!(check(&table(&block("account", "HK_FPS", "6222020200112233445"))), None);
    }

    #[test]
    fn a_name_on_a_sanctions_list_is_found_and_explained_and_a_clean_one_passes() {
        let sdn = "1001,\"TARKAZI, Muhammad Yusuf\",\"individual\",\"SYN-A\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n";
        let screener = Screener::new(&interlink_screening::ofac::parse_sdn(sdn.as_bytes()).unwrap());
        let (mut request, _) = qris_payment();
        assert_eq!(check_names(&screener, &request), None, "no names, nothing to screen");
        request.debtor_name = Some("CHAN Tai Man".into());
        assert_eq!(check_names(&screener, &request), None);
        request.creditor_name = Some("Mohammed Yousef Tarkazi".into());
        let hit = check_names(&screener, &request).unwrap();
        assert_eq!(hit.reason, IsoReason::RR04);
        assert!(hit.text.starts_with("the creditor's name matches sanctions list entry OFAC-1001"), "{}", hit.text);
        assert!(hit.text.contains("\"TARKAZI, Muhammad Yusuf\"") && !hit.text.contains("Yousef"), "{}", hit.text);
    }

    #[test]
    fn a_creditor_alias_is_checked_in_the_network_that_resolves_it() {
        let t = table(&block("alias", "HK_FPS", "MOBILE:+85291234567"));
        let alias = check_alias(&t, "MOBILE", "+85291234567").unwrap();
        assert_eq!(alias.reason, IsoReason::AC06);
        assert!(alias.text.contains("HK_FPS/****4567"), "{}", alias.text);
        assert_eq!(check_alias(&t, "MOBILE", "+85291234568"), None);
    }

    #[test]
    fn masks_keep_only_the_last_four_characters() {
        assert_eq!(mask("6222020200112233445"), "****3445");
        assert_eq!(mask("ab"), "****ab");
        assert_eq!(mask("账户一二三四五"), "****二三四五");
    }
}
