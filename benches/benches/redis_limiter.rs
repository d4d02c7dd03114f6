//! Redis limiter decisions/s from one process (64 concurrent callers multiplexed over one connection, so
//! requests pipeline), beside `redis-benchmark` running the same EVALSHA with the same concurrency and
//! pipelining. Target: ≥ 0.8 of redis-benchmark.
//!
//! `REDIS_URL=redis://127.0.0.1:6379 cargo bench -p agentic-benches --bench redis_limiter`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use agentic_core::limit::{LimitCheck, LimitScope, Quota, RateLimiter};
use agentic_store_redis::{RedisLimiterOptions, RedisRateLimiter};

const CALLERS: usize = 64;
const SECONDS: u64 = 5;

fn main() {
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("redis_limiter: skipped (set REDIS_URL)");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (ours, sha) = runtime.block_on(async {
        let options = RedisLimiterOptions { prefix: "agentic-bench:".into(), timeout: Duration::from_secs(5) };
        let limiter = Arc::new(RedisRateLimiter::connect(&url, options).await.unwrap());
        let done = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(SECONDS);
        let started = Instant::now();
        let tasks: Vec<_> = (0..CALLERS)
            .map(|caller| {
                let (limiter, done) = (Arc::clone(&limiter), Arc::clone(&done));
                tokio::spawn(async move {
                    let mut n = 0_u64;
                    while Instant::now() < deadline {
                        let key = format!("p:{}", (caller as u64 * 7919 + n) % 1000);
                        let check = LimitCheck { key, quota: Quota::per_hour(u32::MAX), scope: LimitScope::Principal };
                        assert!(limiter.check(&[check]).await.unwrap().allowed);
                        n += 1;
                    }
                    done.fetch_add(n, Ordering::Relaxed);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
        (rate, limiter.script_hash().to_owned())
    });
    println!("redis_limiter: ours {ours:.0} decisions/s ({CALLERS} callers, one multiplexed connection)");

    // The same script, keys and arguments through redis-benchmark: 64 clients, pipeline 16.
    let (host, port) = host_port(&url);
    let interval = Quota::per_hour(u32::MAX).interval_micros().to_string();
    let limit = u32::MAX.to_string();
    let args = [
        "-h",
        &host,
        "-p",
        &port,
        "-n",
        "400000",
        "-c",
        "64",
        "-P",
        "16",
        "-r",
        "1000",
        "-q",
        "EVALSHA",
        &sha,
        "1",
        "agentic-bench:p:__rand_int__",
        &limit,
        &interval,
    ];
    match std::process::Command::new("redis-benchmark").args(args).output() {
        Ok(output) => {
            let text = String::from_utf8_lossy(&output.stdout);
            let reference = text
                .split_whitespace()
                .collect::<Vec<_>>()
                .windows(3)
                .find(|w| w[1] == "requests" && w[2] == "per")
                .and_then(|w| w[0].parse::<f64>().ok());
            match reference {
                Some(reference) => println!(
                    "redis_limiter: redis-benchmark {reference:.0} EVALSHA/s (-c 64 -P 16); ours / reference = {:.2}",
                    ours / reference
                ),
                None => println!("redis_limiter: could not read redis-benchmark's output: {text}"),
            }
        }
        Err(e) => println!("redis_limiter: redis-benchmark not run: {e}"),
    }
}

fn host_port(url: &str) -> (String, String) {
    let rest = url.trim_start_matches("redis://");
    let rest = rest.rsplit('@').next().unwrap_or(rest);
    let hostport = rest.split('/').next().unwrap_or("127.0.0.1:6379");
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "6379"));
    (host.to_owned(), port.to_owned())
}
