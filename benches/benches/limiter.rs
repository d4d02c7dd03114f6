//! Memory rate-limiter decisions on one core (target ≥ 5 M/s, i.e. ≤ 200 ns each).
//!
//! `cargo bench -p agentic-benches --bench limiter`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use agentic_core::limit::{LimitCheck, LimitScope, Quota};
use agentic_store_memory::MemoryRateLimiter;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let limiter = MemoryRateLimiter::new();
    // 1,000 principals with a quota they never exhaust, so every decision does the full read-decide-write.
    let checks: Vec<LimitCheck> = (0..1_000)
        .map(|i| LimitCheck {
            key: format!("p:u:{i:08}"),
            quota: Quota::per_hour(u32::MAX),
            scope: LimitScope::Principal,
        })
        .collect();
    let mut group = c.benchmark_group("memory_limiter");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("one_limit", |b| {
        b.iter(|| {
            i = (i + 1) % checks.len();
            black_box(limiter.check_now(std::slice::from_ref(&checks[i])));
        })
    });
    let tenant = LimitCheck { key: "t:tenant".into(), quota: Quota::per_hour(u32::MAX), scope: LimitScope::Tenant };
    let mut j = 0;
    group.bench_function("tenant_and_principal", |b| {
        b.iter(|| {
            j = (j + 1) % checks.len();
            black_box(limiter.check_now(&[tenant.clone(), checks[j].clone()]));
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
