#[path = "../tests/support/synthetic.rs"]
mod synthetic;
use interlink_screening::Screener;
use std::time::Instant;
fn main() {
    let list = synthetic::list(20_000, 1);
    let s = Screener::new(&list);
    let given = ["Wei", "Mei Ling", "Ka Ming", "Siu Fong", "Budi", "Siti", "Somchai", "Nattaya", "Wei Jie", "Hui Min", "Ananya", "Rahul", "Ana", "Joao", "Maria", "James", "Sarah", "Kenji"];
    let fam = ["CHAN", "WONG", "LEE", "ZHANG", "WANG", "LIU", "SANTOSO", "WIJAYA", "SRISUK", "TAN", "LIM", "NG", "SHARMA", "PATEL", "SILVA", "SOUZA", "SMITH", "TANAKA"];
    let mut names = vec![];
    for f in fam { for g in given { names.push(format!("{f} {g}")); } }
    let payment = synthetic::payment_names(&list, 20_000, 7);
    for (label, set) in [("party", &names), ("payment_names", &payment)] {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let mut hits = 0;
            for _ in 0..(20_000 / set.len()).max(1) { for n in set.iter() { hits += s.best(n).is_some() as usize; } }
            let calls = (20_000 / set.len()).max(1) * set.len();
            best = best.min(t.elapsed().as_secs_f64() * 1e6 / calls as f64);
            std::hint::black_box(hits);
        }
        println!("{label}: best mean {best:.2} µs");
    }
}
