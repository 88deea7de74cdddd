//! EMVCo merchant-presented QR: decoding a typical QRIS code (what the QR gateway does per
//! scan) and encoding it back.
//!
//! `cargo bench -p interlink-connectors --bench emvco`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use interlink_connectors::emvco::{decode, seal};

/// A dynamic QRIS code: acquirer template (26), national QRIS template (51), amount, postal
/// code and a terminal label; 229 characters.
fn qris() -> String {
    seal(concat!(
        "000201",
        "010212",
        "26640011ID.DANA.WWW011993600915300000123450215ID10200123456780303UMI",
        "51440014ID.CO.QRIS.WWW0215ID10200123456780303UMI",
        "52045812",
        "5303360",
        "540575000",
        "5802ID",
        "5922WARUNG MAKAN SEDERHANA",
        "6013JAKARTA PUSAT",
        "610510110",
        "62070703A01",
    ))
}

fn emvco(c: &mut Criterion) {
    let payload = qris();
    let qr = decode(&payload).expect("the sample is valid");

    let mut group = c.benchmark_group("emvco");
    group.throughput(Throughput::Bytes(payload.len() as u64));
    group.bench_function("decode/qris", |b| b.iter(|| decode(black_box(&payload)).unwrap()));
    group.bench_function("encode/qris", |b| b.iter(|| black_box(&qr).encode()));
    group.bench_function("validate/qris", |b| b.iter(|| black_box(&qr).validate().unwrap()));
    group.finish();
}

criterion_group!(benches, emvco);
criterion_main!(benches);
