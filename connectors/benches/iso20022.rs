//! Translation cost per connector: encode the network's payment message (pacs.008, or UPI
//! ReqPay) from a canonical payment, and decode its status message (pacs.002, or RespPay).
//! Inputs are the golden files under tests/golden.
//!
//! cargo bench -p interlink-connectors --bench iso20022 -- --warm-up-time 1 --measurement-time 2

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use interlink_connectors::{connectors, CanonicalPayment, CanonicalStatus, Connector};

fn golden(network: &str, file: &str) -> Vec<u8> {
    let path = format!("{}/tests/golden/{network}/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn inputs(c: &dyn Connector) -> (CanonicalPayment, CanonicalStatus, Vec<u8>, Vec<u8>) {
    let id = c.profile().id;
    let payment: CanonicalPayment = serde_json::from_slice(&golden(id, "payment.json")).unwrap();
    let status: CanonicalStatus = serde_json::from_slice(&golden(id, "status.json")).unwrap();
    let encoded_status = c.encode_status(&status).unwrap();
    (payment, status, golden(id, "payment.xml"), encoded_status)
}

fn bench(cr: &mut Criterion) {
    let mut g = cr.benchmark_group("encode_payment");
    for c in connectors() {
        let (payment, ..) = inputs(c);
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::from_parameter(c.profile().id), &payment, |b, p| {
            b.iter(|| c.encode_payment(black_box(p)).unwrap())
        });
    }
    g.finish();

    let mut g = cr.benchmark_group("decode_status");
    for c in connectors() {
        let (_, _, _, status) = inputs(c);
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::from_parameter(c.profile().id), &status, |b, s| {
            b.iter(|| c.decode_status(black_box(s)).unwrap())
        });
    }
    g.finish();

    let mut g = cr.benchmark_group("decode_payment");
    for c in connectors() {
        let (_, _, payment_xml, _) = inputs(c);
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::from_parameter(c.profile().id), &payment_xml, |b, x| {
            b.iter(|| c.decode_payment(black_box(x)).unwrap())
        });
    }
    g.finish();

    let mut g = cr.benchmark_group("encode_status");
    for c in connectors() {
        let (_, status, ..) = inputs(c);
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::from_parameter(c.profile().id), &status, |b, s| {
            b.iter(|| c.encode_status(black_box(s)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
