//! Screening against a 20,000-entry synthetic list with aliases (tests/support/synthetic.rs,
//! the same list every run): one clean name, one respelled listed name, a mixed batch of
//! 1,000 payment names, and building the index. Tail latencies: examples/screen_latency.rs.
//!
//! `cargo bench -p interlink-screening --bench screen`

#[path = "../tests/support/synthetic.rs"]
mod synthetic;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use interlink_screening::{ofac, Screener};

fn screen(c: &mut Criterion) {
    let list = synthetic::list(20_000, 1);
    let screener = Screener::new(&list);
    let listed = {
        let e = &list.entries[123];
        let mut parts: Vec<String> = e.names[0].replace(',', "").split(' ').map(str::to_string).collect();
        parts.reverse();
        parts.join(" ")
    };
    assert!(screener.best(&listed).is_some(), "{listed} should be a hit");
    let batch = synthetic::payment_names(&list, 1_000, 7);

    let mut g = c.benchmark_group("screen_20k");
    g.bench_function("clean_name", |b| b.iter(|| screener.screen(black_box("Jennifer Martinez Lopez"))));
    g.bench_function("listed_name_reordered", |b| b.iter(|| screener.screen(black_box(&listed))));
    g.bench_function("common_tokens_only", |b| b.iter(|| screener.screen(black_box("Muhammad Ali Hassan"))));
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function("payment_names_x1000", |b| {
        b.iter(|| {
            for n in &batch {
                black_box(screener.screen(n));
            }
        })
    });
    g.finish();

    let (sdn, alt) = synthetic::to_ofac_csv(&list);
    let mut g = c.benchmark_group("build_20k");
    g.sample_size(10);
    g.bench_function("load_ofac_csv", |b| b.iter(|| ofac::parse(black_box(sdn.as_bytes()), alt.as_bytes()).unwrap()));
    g.bench_function("index", |b| b.iter_batched(|| list.clone(), |l| Screener::new(&l), BatchSize::LargeInput));
    g.finish();
}

criterion_group!(benches, screen);
criterion_main!(benches);
