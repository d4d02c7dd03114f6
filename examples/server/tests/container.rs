//! The container image (`Dockerfile`, `.dockerignore`), checked without a container engine: our own
//! `dockerfile_optimizer` finds nothing in it, every file it copies from the context exists and is not ignored,
//! the final stage runs the built binary as an unprivileged user, and its health check (`agentic-server
//! healthcheck`, the binary itself, for an image without a shell) passes on a serving server and fails without one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{free_port, root, server, stop, wait_for_listen_line};

/// The instructions of a Dockerfile, continuation lines joined and comments dropped: `(keyword, arguments)`.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .filter_map(|line| line.split_once(' ').map(|(k, a)| (k.to_ascii_uppercase(), a.trim().to_owned())))
        .collect()
}

#[test]
fn the_dockerfile_passes_our_own_linter_and_copies_only_what_exists() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let findings = agentic_tools::DockerfileOptimizer.lint(&dockerfile);
    assert!(findings.is_empty(), "dockerfile_optimizer finds: {findings:#?}");

    let ignored: Vec<String> = std::fs::read_to_string(root().join(".dockerignore"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let all = instructions(&dockerfile);
    let stages = all.iter().filter(|(k, _)| k == "FROM").count();
    assert!(stages >= 2, "a multi-stage build");
    for (keyword, args) in &all {
        if keyword != "COPY" || args.contains("--from=") {
            continue;
        }
        let words: Vec<&str> = args.split_whitespace().filter(|w| !w.starts_with("--")).collect();
        for source in &words[..words.len() - 1] {
            let source = source.trim_start_matches("./");
            if source == "." || source.is_empty() {
                // The whole context: what the build needs must not be ignored.
                for needed in ["Cargo.toml", "Cargo.lock", "examples/server", "agentic-store-postgres/migrations"] {
                    assert!(root().join(needed).exists(), "{needed}");
                    assert!(!ignored.iter().any(|i| needed.starts_with(i.as_str())), "{needed} is in .dockerignore");
                }
                continue;
            }
            assert!(root().join(source).exists(), "COPY {source}: no such file in the context");
            assert!(!ignored.iter().any(|i| source.starts_with(i.as_str())), "COPY {source}: it is in .dockerignore");
        }
    }
    // The last stage: the binary the builder made, as an unprivileged user, checked by the binary itself.
    let last_from = all.iter().rposition(|(k, _)| k == "FROM").unwrap();
    let runtime = &all[last_from..];
    let find = |keyword: &str| runtime.iter().find(|(k, _)| k == keyword).map(|(_, a)| a.as_str()).unwrap_or("");
    assert!(find("COPY").contains("--from=builder") && find("COPY").ends_with("/usr/local/bin/agentic-server"));
    assert!(!matches!(find("USER").split(':').next(), Some("root" | "0" | "")), "USER {}", find("USER"));
    assert!(find("HEALTHCHECK").contains(r#"["/usr/local/bin/agentic-server", "healthcheck"]"#));
    assert_eq!(find("ENTRYPOINT"), r#"["/usr/local/bin/agentic-server"]"#);
    let builder = &all[..last_from];
    assert!(builder.iter().any(|(k, a)| k == "RUN" && a.contains("cargo build --release --locked -p agentic-server")));
}

#[test]
fn the_health_check_passes_on_a_serving_server_and_fails_without_one() {
    let port = free_port();
    let mut child = server().env("AGENTIC_BIND", format!("0.0.0.0:{port}")).spawn().unwrap();
    wait_for_listen_line(&mut child);
    let check = |bind: String| server().arg("healthcheck").env("AGENTIC_BIND", bind).output().unwrap();
    let healthy = check(format!("0.0.0.0:{port}"));
    assert!(healthy.status.success(), "{}", String::from_utf8_lossy(&healthy.stderr));
    stop(&mut child);
    let unhealthy = check(format!("127.0.0.1:{port}"));
    assert_eq!(unhealthy.status.code(), Some(1), "{}", String::from_utf8_lossy(&unhealthy.stderr));
}
