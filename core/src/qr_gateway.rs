//! The cross-border QR gateway, as pure code: from an EMVCo merchant-presented code
//! to the merchant's home network, its receiving participant and the amounts.
//!
//! Which network: the code's known GUID with the lowest `priority` in the routing
//! table's `[[qr_schemes]]` (ties: the lower template tag). Which participant: the
//! template's sub-tag 01 when it is a participant id of that network (FPS codes carry
//! the clearing code there), else the acquirer the QR scheme entry names.

use interlink_connectors::emvco::{self, MerchantQr, QrError};
use interlink_routing::{Route, RoutingTable};
use interlink_schemas::Agent;
use interlink_vocab::money::currency_exponent;
use interlink_vocab::IsoReason;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// Why a QR payment cannot go ahead, with the ISO 20022 reason for the payer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrRejection {
    /// The code itself is invalid: bad input, dead-lettered.
    #[error("invalid QR code: {0}")]
    Malformed(QrError),
    #[error("no network accepts any GUID of this code ({0})")]
    UnknownGuid(String),
    #[error("QR GUID {guid} routes to {network}, but the code names no participant and no acquirer is configured")]
    NoAcquirer { guid: String, network: String },
    #[error("QR currency {0} is not an ISO 4217 currency")]
    UnknownCurrency(String),
    #[error("the merchant is paid in {qr}, but the corridor delivers {corridor}")]
    CurrencyMismatch { qr: String, corridor: String },
    #[error("the code asks for {credit} {currency} minor units, which costs {expected_debit} at this rate; the request debits {requested}")]
    AmountMismatch { credit: i64, currency: String, expected_debit: i64, requested: i64 },
}

impl QrRejection {
    /// ISO 20022 ExternalStatusReason1Code given to the payer.
    pub fn reason(&self) -> IsoReason {
        match self {
            Self::Malformed(_) => IsoReason::FF01,
            Self::UnknownGuid(_) | Self::NoAcquirer { .. } => IsoReason::RC01,
            Self::UnknownCurrency(_) | Self::CurrencyMismatch { .. } => IsoReason::AM03,
            Self::AmountMismatch { .. } => IsoReason::AM09,
        }
    }
}

/// The merchant a code pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMerchant {
    pub qr: MerchantQr,
    /// The receiving participant in the merchant's network.
    pub creditor: Agent,
    pub guid: String,
    /// ISO 4217 alphabetic currency of the code.
    pub currency: String,
    /// The amount a dynamic code asks for, in minor units of `currency`.
    pub amount_minor_units: Option<i64>,
    /// The merchant's account as the code gives it (sub-tag 02 of the scheme's merchant
    /// account template, the merchant identifier in QRIS and most national profiles):
    /// the creditor account of a payment that goes out to the merchant's network.
    pub account: Option<String>,
}

/// Decodes a code and finds the merchant's network and receiving participant.
pub fn find_merchant(table: &RoutingTable, payload: &str) -> Result<QrMerchant, QrRejection> {
    let qr = emvco::decode(payload).map_err(QrRejection::Malformed)?;
    let scheme = table.qr_network(qr.guids()).ok_or_else(|| {
        QrRejection::UnknownGuid(qr.guids().map(|(tag, guid)| format!("{tag}:{guid}")).collect::<Vec<_>>().join(", "))
    })?;
    let template = qr.account_by_guid(&scheme.guid);
    let account = template.and_then(|a| a.field(2)).map(str::to_string);
    let from_code =
        template.and_then(|a| a.field(1)).filter(|id| table.find_participant(&scheme.network, id).is_some());
    let institution = from_code
        .or(scheme.institution_id.as_deref())
        .ok_or_else(|| QrRejection::NoAcquirer { guid: scheme.guid.clone(), network: scheme.network.clone() })?;
    let numeric: u16 = qr.currency.parse().map_err(|_| QrRejection::UnknownCurrency(qr.currency.clone()))?;
    let currency = iso_currency::Currency::from_numeric(numeric)
        .ok_or_else(|| QrRejection::UnknownCurrency(qr.currency.clone()))?
        .code()
        .to_string();
    let exponent = currency_exponent(&currency).map_err(|_| QrRejection::UnknownCurrency(currency.clone()))?;
    let amount_minor_units = qr.amount_minor_units(exponent).transpose().map_err(QrRejection::Malformed)?;
    Ok(QrMerchant {
        creditor: Agent::new(&scheme.network, institution),
        guid: scheme.guid.clone(),
        currency,
        amount_minor_units,
        account,
        qr,
    })
}

/// Checks the merchant's currency against the route, and settles the amounts: a
/// static code credits the converted debit; a dynamic code credits exactly its own
/// amount, and the request must debit what that costs at the corridor's rate (rounded
/// up to the payer currency's minor unit), as the wallet's quote said.
pub fn credit_amount(merchant: &QrMerchant, route: &Route<'_>, debit_minor_units: i64) -> Result<i64, QrRejection> {
    let rule = &route.corridor.rule;
    if merchant.currency != rule.destination_currency {
        return Err(QrRejection::CurrencyMismatch {
            qr: merchant.currency.clone(),
            corridor: rule.destination_currency.clone(),
        });
    }
    let Some(credit) = merchant.amount_minor_units else { return Ok(route.credit_minor_units) };
    let expected_debit =
        debit_for(credit, &rule.source_currency, &rule.destination_currency, route.corridor.effective_rate);
    if expected_debit != Some(debit_minor_units) {
        return Err(QrRejection::AmountMismatch {
            credit,
            currency: merchant.currency.clone(),
            expected_debit: expected_debit.unwrap_or(-1),
            requested: debit_minor_units,
        });
    }
    Ok(credit)
}

/// The debit, in `from` minor units, that buys `credit` minor units of `to` at `rate`
/// (to per from), rounded up so the merchant is always paid in full.
pub fn debit_for(credit: i64, from: &str, to: &str, rate: Decimal) -> Option<i64> {
    let (from_exp, to_exp) = (currency_exponent(from).ok()?, currency_exponent(to).ok()?);
    let credit_major = Decimal::from_i128_with_scale(credit as i128, to_exp);
    let debit_major = credit_major.checked_div(rate)?.round_dp_with_strategy(from_exp, RoundingStrategy::AwayFromZero);
    (debit_major * Decimal::from(10i64.pow(from_exp))).trunc().to_i64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use interlink_connectors::emvco::{Initiation, MerchantAccount};
    use interlink_routing::parse_routes_file;
    use interlink_schemas::Amount;

    fn table() -> RoutingTable {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../routes/sample.toml")).unwrap();
        RoutingTable::compile(4, &parse_routes_file("sample", &text).unwrap()).unwrap()
    }

    fn code(accounts: Vec<MerchantAccount>, currency: &str, country: &str, amount: Option<&str>) -> String {
        let mut qr = MerchantQr::new("5812", currency, country, "TOKO MAKMUR", "JAKARTA");
        qr.initiation = Some(if amount.is_some() { Initiation::Dynamic } else { Initiation::Static });
        for a in accounts {
            qr = qr.with_account(a);
        }
        if let Some(a) = amount {
            qr = qr.with_amount(a);
        }
        qr.encode()
    }

    fn qris(amount: Option<&str>) -> String {
        code(
            vec![
                MerchantAccount::new(26, "ID.DANA.WWW").with_field(1, "936009150000000001"),
                MerchantAccount::new(51, "ID.CO.QRIS.WWW").with_field(2, "ID1020000000001").with_field(3, "UMI"),
            ],
            "360",
            "ID",
            amount,
        )
    }

    #[test]
    fn a_qris_code_with_two_schemes_goes_to_the_lower_priority_acquirer() {
        let m = find_merchant(&table(), &qris(None)).unwrap();
        // ID.CO.QRIS.WWW has priority 10, ID.DANA.WWW 20.
        assert_eq!((m.guid.as_str(), m.creditor.clone()), ("ID.CO.QRIS.WWW", Agent::new("ID_BIFAST", "CENAIDJA")));
        assert_eq!((m.currency.as_str(), m.amount_minor_units), ("IDR", None));
        // The merchant identifier of the chosen scheme's template is the creditor account.
        assert_eq!(m.account.as_deref(), Some("ID1020000000001"));
    }

    #[test]
    fn an_fps_code_names_its_own_participant() {
        let fps = code(
            vec![MerchantAccount::new(26, "hk.com.hkicl").with_field(1, "012").with_field(2, "1234567")],
            "344",
            "HK",
            None,
        );
        let m = find_merchant(&table(), &fps).unwrap();
        assert_eq!(m.creditor, Agent::new("HK_FPS", "012"));
        assert_eq!(m.account.as_deref(), Some("1234567"));
        // An FPS code naming a bank that is not a participant, with no acquirer: refused.
        let unknown = code(vec![MerchantAccount::new(26, "hk.com.hkicl").with_field(1, "999")], "344", "HK", None);
        assert_eq!(find_merchant(&table(), &unknown).unwrap_err().reason(), IsoReason::RC01);
    }

    #[test]
    fn a_promptpay_code_goes_to_its_acquirer_in_baht() {
        let t = table();
        let promptpay =
            code(vec![MerchantAccount::new(29, "A000000677010111").with_field(1, "0066812345678")], "764", "TH", None);
        let m = find_merchant(&t, &promptpay).unwrap();
        assert_eq!((m.creditor.clone(), m.currency.as_str()), (Agent::new("TH_PROMPTPAY", "002"), "THB"));
        let route =
            t.resolve(&Agent::new("CN_IBPS", "102100099996"), &m.creditor, &Amount::new(10_000, "CNY"), 0).unwrap();
        // 100.00 CNY at 4.92 -> 492.00 THB.
        assert_eq!(credit_amount(&m, &route, 10_000).unwrap(), 49_200);
    }

    #[test]
    fn static_codes_convert_and_dynamic_codes_pay_their_own_amount() {
        let t = table();
        let debtor = Agent::new("CN_IBPS", "102100099996");
        // Static: 100.00 CNY at 2276.78 less 50 bps = 2265.3961 -> 226,539.61 IDR.
        let m = find_merchant(&t, &qris(None)).unwrap();
        let route = t.resolve(&debtor, &m.creditor, &Amount::new(10_000, "CNY"), 0).unwrap();
        assert_eq!(credit_amount(&m, &route, 10_000).unwrap(), 22_653_961);
        // Dynamic: the code asks for 50,000.00 IDR; at 2265.3961 that costs 22.08 CNY (rounded up).
        let m = find_merchant(&t, &qris(Some("50000.00"))).unwrap();
        assert_eq!(m.amount_minor_units, Some(5_000_000));
        let expected = debit_for(5_000_000, "CNY", "IDR", "2265.3961".parse().unwrap()).unwrap();
        assert_eq!(expected, 2_208);
        let route = t.resolve(&debtor, &m.creditor, &Amount::new(expected, "CNY"), 0).unwrap();
        assert_eq!(credit_amount(&m, &route, expected).unwrap(), 5_000_000);
        let wrong = credit_amount(&m, &route, expected - 1).unwrap_err();
        assert_eq!(wrong.reason(), IsoReason::AM09);
    }

    #[test]
    fn bad_codes_have_specific_reasons() {
        let t = table();
        let mut bad_crc = qris(None);
        bad_crc.replace_range(bad_crc.len() - 4.., "0000");
        let e = find_merchant(&t, &bad_crc).unwrap_err();
        assert!(matches!(e, QrRejection::Malformed(_)) && e.reason() == IsoReason::FF01, "{e}");
        let unknown = code(vec![MerchantAccount::new(26, "XX.UNKNOWN.PAY")], "360", "ID", None);
        let e = find_merchant(&t, &unknown).unwrap_err();
        assert_eq!(e, QrRejection::UnknownGuid("26:XX.UNKNOWN.PAY".into()));
        // A code in THB routed through the CN->ID corridor.
        let promptpay_in_idr =
            code(vec![MerchantAccount::new(29, "A000000677010111").with_field(1, "0066812345678")], "360", "TH", None);
        let m = find_merchant(&t, &promptpay_in_idr).unwrap();
        let route =
            t.resolve(&Agent::new("CN_IBPS", "102100099996"), &m.creditor, &Amount::new(100, "CNY"), 0).unwrap();
        assert_eq!(credit_amount(&m, &route, 100).unwrap_err().reason(), IsoReason::AM03);
    }
}
