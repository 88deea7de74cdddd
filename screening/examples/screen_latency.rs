//! Latency of screening one name, as percentiles over many names, and the time to load and
//! index a list. Criterion (benches/screen.rs) reports means; a payment switch cares about
//! the tail, so this times every call with `Instant` and sorts.
//!
//! `cargo run --release -p interlink-screening --example screen_latency [entries] [names]`
//! (defaults: 20,000 entries, 100,000 names).

#[path = "../tests/support/synthetic.rs"]
mod synthetic;

use std::hint::black_box;
use std::time::{Duration, Instant};

use interlink_screening::{ofac, Screener};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a number"));
    let entries = args.next().unwrap_or(20_000);
    let count = args.next().unwrap_or(100_000);

    let generated = synthetic::list(entries, 1);
    let names_in_list: usize = generated.entries.iter().map(|e| e.names.len()).sum();
    let (sdn, alt) = synthetic::to_ofac_csv(&generated);

    let t = Instant::now();
    let list = ofac::parse(sdn.as_bytes(), alt.as_bytes()).expect("synthetic list loads");
    let load = t.elapsed();
    let t = Instant::now();
    let screener = Screener::new(&list);
    let index = t.elapsed();
    println!(
        "list: {} entries, {names_in_list} names ({} KiB of CSV); load {:.1} ms, index {:.1} ms, total {:.1} ms",
        list.len(),
        (sdn.len() + alt.len()) / 1024,
        ms(load),
        ms(index),
        ms(load + index)
    );

    let names = synthetic::payment_names(&list, count, 7);
    // Warm up caches and the allocator.
    for n in names.iter().take(2_000) {
        black_box(screener.screen(n));
    }
    let mut times = Vec::with_capacity(names.len());
    let mut flagged = 0;
    let all = Instant::now();
    for n in &names {
        let t = Instant::now();
        let hits = screener.screen(black_box(n));
        times.push(t.elapsed());
        flagged += usize::from(!hits.is_empty());
    }
    let wall = all.elapsed();
    times.sort_unstable();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "screened {} names ({flagged} flagged; ~10% are respelled listed names): mean {:.2} µs, p50 {:.2} µs, p90 {:.2} µs, p99 {:.2} µs, p99.9 {:.2} µs, max {:.2} µs",
        times.len(),
        us(wall) / times.len() as f64,
        us(pct(0.50)),
        us(pct(0.90)),
        us(pct(0.99)),
        us(pct(0.999)),
        us(*times.last().unwrap())
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
