//! Check evaluation speed: the whole built-in catalog against one target's
//! facts (target: under 1 ms per target). Run with `cargo bench`.

use sqlready::checks::Catalog;
use sqlready::checks::thresholds::Thresholds;
use sqlready::facts::snapshot::Snapshot;
use sqlready::report;
use std::time::Instant;

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/postgres-good.json");
    let snapshot = Snapshot::load(std::path::Path::new(path)).expect("example snapshot");
    let target = snapshot.targets.first().expect("a target").clone();
    let catalog = Catalog::load(None).expect("built-in catalog");
    let thresholds = Thresholds::default();
    for _ in 0..50 {
        std::hint::black_box(report::judge(&catalog, &target, &thresholds));
    }
    let rounds = 2_000;
    let start = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(report::judge(&catalog, &target, &thresholds));
    }
    let per_target = start.elapsed() / rounds;
    println!(
        "evaluate: {} checks per target, {:.1} µs per target ({:.2} µs per check), {} rounds",
        catalog.checks.len(),
        per_target.as_secs_f64() * 1e6,
        per_target.as_secs_f64() * 1e6 / catalog.checks.len() as f64,
        rounds
    );
    let start = Instant::now();
    let loaded = Catalog::load(None).expect("built-in catalog");
    println!(
        "catalog load (parse, lint, examples, compile): {:.1} ms for {} checks",
        start.elapsed().as_secs_f64() * 1e3,
        loaded.checks.len()
    );
}
