//! The cross-border QR gateway through the real broker: a mainland wallet pays an
//! Indonesian QRIS merchant, with the FX in the clearing record.

mod common;

use common::{encode, request, wait_ready, Fixture};
use interlink_connectors::emvco::{Initiation, MerchantAccount, MerchantQr};
use interlink_schemas::{Amount, ClearingRecord, Codec, DeadLetter, ErrorKind, Notification, Party, PaymentStatus};
use std::collections::HashMap;
use std::time::Duration;

fn qris(amount: Option<&str>) -> String {
    let mut qr = MerchantQr::new("5812", "360", "ID", "WARUNG SARI", "DENPASAR")
        .with_account(MerchantAccount::new(26, "ID.DANA.WWW").with_field(1, "936009150000000001"))
        .with_account(MerchantAccount::new(51, "ID.CO.QRIS.WWW").with_field(2, "ID1020000000001").with_field(3, "UMI"));
    qr.initiation = Some(Initiation::Static);
    if let Some(a) = amount {
        qr = qr.with_amount(a);
        qr.initiation = Some(Initiation::Dynamic);
    }
    qr.encode()
}

fn qr_request(tx: &str, payload: String, minor: i64) -> Vec<u8> {
    let mut r = request(tx, "004", minor);
    r.creditor_agent = None;
    r.creditor_account = None;
    r.qr_payload = Some(payload);
    encode(&r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mainland_wallet_pays_qris_merchants_with_fx_and_bad_codes_are_refused() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(1).await;
    let switch = interlink_switch::start(fx.switch_config("w-qr")).await.unwrap();
    wait_ready(&switch).await;

    let mut bad_crc = qris(None);
    bad_crc.replace_range(bad_crc.len() - 4.., "ABCD");
    let unknown_guid = {
        let qr = MerchantQr::new("5812", "360", "ID", "X", "Y").with_account(MerchantAccount::new(26, "XX.NOBODY.WWW"));
        qr.encode()
    };
    fx.produce(
        &[
            ("qr-static", qr_request("qr-static", qris(None), 10_000)),
            // 50,000.00 IDR at 2276.78 less 50 bps costs 22.08 CNY.
            ("qr-dynamic", qr_request("qr-dynamic", qris(Some("50000.00")), 2_208)),
            ("qr-wrong-amount", qr_request("qr-wrong-amount", qris(Some("50000.00")), 2_000)),
            ("qr-bad-crc", qr_request("qr-bad-crc", bad_crc, 10_000)),
            ("qr-unknown", qr_request("qr-unknown", unknown_guid, 10_000)),
        ],
        None,
    );

    let clearing: HashMap<String, ClearingRecord> = fx
        .read(&fx.topics.clearing, 2, Duration::from_secs(30))
        .iter()
        .map(|(_, v)| Codec::<ClearingRecord>::new().unwrap().decode(v).unwrap())
        .map(|c| (c.transaction_id.clone(), c))
        .collect();
    assert_eq!(clearing.len(), 2, "{clearing:?}");
    let s = &clearing["qr-static"];
    assert_eq!(s.debit_amount, Amount::new(10_000, "CNY"));
    assert_eq!(s.credit_amount, Amount::new(22_653_961, "IDR"));
    assert_eq!(s.fx_rate, "2265.3961");
    assert_eq!(s.quote_id, "CN_IBPS>ID_BIFAST:CNY-IDR@cny-idr@v1");
    assert_eq!(
        (s.creditor_agent.network.as_str(), s.creditor_agent.institution_id.as_str()),
        ("ID_BIFAST", "CENAIDJA")
    );
    let d = &clearing["qr-dynamic"];
    assert_eq!((d.debit_amount.minor_units, d.credit_amount.minor_units), (2_208, 5_000_000));

    let notes: HashMap<String, Notification> = fx
        .read(&fx.topics.notifications, 7, Duration::from_secs(30))
        .iter()
        .map(|(_, v)| Codec::<Notification>::new().unwrap().decode(v).unwrap())
        .filter(|n| n.party == Party::Debtor)
        .map(|n| (n.transaction_id.clone(), n))
        .collect();
    let status = |tx: &str| (notes[tx].status, notes[tx].reason_code.clone());
    assert_eq!(status("qr-static"), (PaymentStatus::ACCC, None));
    assert_eq!(status("qr-wrong-amount"), (PaymentStatus::RJCT, Some("AM09".into())));
    assert_eq!(status("qr-bad-crc"), (PaymentStatus::RJCT, Some("FF01".into())));
    assert!(notes["qr-bad-crc"].reason_text.as_deref().unwrap().contains("CRC"), "{:?}", notes["qr-bad-crc"]);
    assert_eq!(status("qr-unknown"), (PaymentStatus::RJCT, Some("RC01".into())));
    assert!(notes["qr-unknown"].reason_text.as_deref().unwrap().contains("XX.NOBODY.WWW"));

    let dead = fx.read(&fx.topics.dead_letters, 1, Duration::from_secs(10));
    assert_eq!(dead.len(), 1, "only the unreadable code is dead-lettered");
    let dl = Codec::<DeadLetter>::new().unwrap().decode(&dead[0].1).unwrap();
    assert_eq!((dl.error_kind, dl.transaction_id.as_deref()), (ErrorKind::Validation, Some("qr-bad-crc")));
    switch.stop().await.unwrap();
    fx.cleanup().await;
}
