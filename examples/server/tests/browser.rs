//! The server's pages in a real browser: headless Chromium (Debian's `chromium`) driven by PyPI playwright, both
//! installed by `scripts/browser-tools`. Python scripts under `tests/browser/` drive a page and report what they
//! saw as JSON; the checks are here. Each saves a screenshot under the target folder's `screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{root, server, stop, wait_for_listen_line};
use serde_json::{Value, json};

/// The venv's Python with playwright, or `None` (skipped, unless backends are required).
fn browser_python() -> Option<PathBuf> {
    let venv = std::env::var("AGENTIC_BROWSER_VENV").unwrap_or_else(|_| "/var/tmp/agentic-browser-venv".into());
    let python = Path::new(&venv).join("bin/python");
    let ready = Path::new("/usr/bin/chromium").exists()
        && Command::new(&python).args(["-c", "import playwright"]).output().is_ok_and(|o| o.status.success());
    if ready {
        return Some(python);
    }
    assert_ne!(
        std::env::var("AGENTIC_REQUIRE_BACKENDS").as_deref(),
        Ok("1"),
        "chromium or playwright is missing but AGENTIC_REQUIRE_BACKENDS=1 (scripts/browser-tools installs them)"
    );
    eprintln!("skipping: chromium or playwright is missing (scripts/browser-tools)");
    None
}

/// Runs `tests/browser/<script>` against `base` with a screenshot path; returns its report.
fn drive(python: &Path, script: &str, base: &str, screenshot: &str) -> Value {
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join(screenshot);
    let output = Command::new(python)
        .arg(root().join("examples/server/tests/browser").join(script))
        .args([base, shot.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed:\n{stderr}");
    assert!(shot.exists(), "{script} saved no screenshot");
    eprintln!("screenshot: {}", shot.display());
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{script} printed no report ({e}):\n{stderr}"))
}

/// `/docs` works offline and under its Content-Security-Policy: the page renders every operation, loads nothing
/// from anywhere but the server, and the browser refuses nothing.
#[test]
fn the_api_docs_render_in_a_browser_with_nothing_from_elsewhere() {
    let Some(python) = browser_python() else { return };
    let mut child = server().env("AGENTIC_BIND", "127.0.0.1:0").spawn().unwrap();
    let (addr, _) = wait_for_listen_line(&mut child);
    let report = drive(&python, "docs_page.py", &format!("http://{addr}"), "api-docs.png");
    stop(&mut child);
    eprintln!("{report}");
    assert!(report["title"].as_str().unwrap().contains("agentic platform API"), "{report}");
    assert!(report["operations"].as_u64().unwrap() >= 50, "{report}");
    assert_eq!(report["foreign_requests"], json!([]), "{report}");
    assert_eq!(report["csp_violations"], json!([]), "{report}");
    assert_eq!(report["errors"], json!([]), "{report}");
}
