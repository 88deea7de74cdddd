use criterion::{criterion_group, criterion_main, Criterion};
use interlink_schemas::*;
use std::hint::black_box;

fn request() -> AuthorizationRequest {
    AuthorizationRequest {
        transaction_id: "0193a1b2-7c4d-7e2f-9a10-3b4c5d6e7f80".into(),
        end_to_end_id: "E2E20261128CN0000000001".into(),
        created_at: 1_764_000_000_000_000,
        debtor_agent: Agent::new("CN_IBPS", "102100099996"),
        debtor_account: "6222020200112233445".into(),
        creditor_agent: Some(Agent::new("HK_FPS", "004")),
        creditor_account: Some("004123456789001".into()),
        qr_payload: None,
        creditor_alias: None,
        amount: Amount::new(12_345, "CNY"),
        channel: Channel::Mobile,
        purpose: None,
        debtor_name: None,
        debtor_id: None,
        creditor_name: None,
        device_id: None,
    }
}

fn codec(c: &mut Criterion) {
    let codec = Codec::<AuthorizationRequest>::new().unwrap();
    let req = request();
    let bytes = codec.encode(&req).unwrap();
    let mut buf = Vec::with_capacity(512);
    c.bench_function("authorization_request/encode", |b| {
        b.iter(|| {
            buf.clear();
            codec.encode_into(black_box(&req), &mut buf).unwrap();
        })
    });
    c.bench_function("authorization_request/decode", |b| b.iter(|| codec.decode(black_box(&bytes)).unwrap()));
}

criterion_group!(benches, codec);
criterion_main!(benches);
