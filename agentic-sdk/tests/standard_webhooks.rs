//! Our signatures against the official Standard Webhooks library (PyPI `standardwebhooks`, installed into a venv
//! under /var/tmp on first use): it accepts ours, we accept its, and both refuse tampering and stale timestamps.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use agentic_core::ExposeSecret;
use agentic_sdk::webhooks::{DEFAULT_TOLERANCE, SignatureError, SigningSecret, WebhookHeaders, verify};

const VENV: &str = "/var/tmp/agentic-webhooks-venv";

/// The venv's python with `standardwebhooks`, made on first use; `None` (skip, reason printed) when it cannot be
/// made, which fails instead under `AGENTIC_REQUIRE_BACKENDS=1`.
fn python() -> Option<PathBuf> {
    let python = PathBuf::from(VENV).join("bin/python");
    let ready = |python: &PathBuf| {
        Command::new(python).args(["-c", "import standardwebhooks"]).output().is_ok_and(|o| o.status.success())
    };
    if !ready(&python) {
        let made = Command::new("python3").args(["-m", "venv", VENV]).status().is_ok_and(|s| s.success())
            && Command::new(PathBuf::from(VENV).join("bin/pip"))
                .args(["install", "-q", "standardwebhooks"])
                .status()
                .is_ok_and(|s| s.success());
        if !made || !ready(&python) {
            assert_ne!(std::env::var("AGENTIC_REQUIRE_BACKENDS").as_deref(), Ok("1"), "standardwebhooks is required");
            eprintln!("skipped: cannot install the standardwebhooks Python package into {VENV}");
            return None;
        }
    }
    Some(python)
}

const SCRIPT: &str = r#"
import sys, datetime
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
mode, secret, msg_id, timestamp, body = sys.argv[1:6]
wh = Webhook(secret)
if mode == "sign":
    at = datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.timezone.utc)
    print(wh.sign(msg_id, at, body))
else:
    headers = {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": sys.argv[6]}
    try:
        wh.verify(body, headers)
        print("valid")
    except WebhookVerificationError as error:
        print("invalid: " + str(error))
"#;

fn run(python: &PathBuf, args: &[&str]) -> String {
    let output = Command::new(python).arg("-c").arg(SCRIPT).args(args).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn the_official_library_and_ours_agree() {
    let Some(python) = python() else { return };
    let secret = SigningSecret::generate().unwrap();
    let secret_text = secret.to_text();
    let secret_text = secret_text.expose_secret();
    let body = r#"{"type":"agent.completed","data":{"agent":"qa_tester","cost":"0.01"}}"#;
    let at = now();
    let ts = at.to_string();

    // Ours, verified by the library; a changed body, id or timestamp is not.
    let ours = secret.sign("evt_1", at, body.as_bytes());
    assert_eq!(run(&python, &["verify", secret_text, "evt_1", &ts, body, &ours]), "valid");
    let changed = body.replace("0.01", "9.99");
    assert!(run(&python, &["verify", secret_text, "evt_1", &ts, &changed, &ours]).starts_with("invalid"));
    assert!(run(&python, &["verify", secret_text, "evt_2", &ts, body, &ours]).starts_with("invalid"));
    let later = (at + 1).to_string();
    assert!(run(&python, &["verify", secret_text, "evt_1", &later, body, &ours]).starts_with("invalid"));

    // The library's, verified by us; tampering and stale timestamps are refused.
    let theirs = run(&python, &["sign", secret_text, "evt_3", &ts, body]);
    assert_eq!(theirs, secret.sign("evt_3", at, body.as_bytes()), "the same bytes sign the same");
    let headers = WebhookHeaders { id: "evt_3", timestamp: &ts, signature: &theirs };
    assert_eq!(verify(&secret, &headers, body.as_bytes(), now(), DEFAULT_TOLERANCE), Ok(()));
    let tampered = body.replace("qa_tester", "developer");
    assert_eq!(
        verify(&secret, &headers, tampered.as_bytes(), now(), DEFAULT_TOLERANCE),
        Err(SignatureError::NoMatchingSignature)
    );
    let other_id = WebhookHeaders { id: "evt_4", ..headers };
    assert!(verify(&secret, &other_id, body.as_bytes(), now(), DEFAULT_TOLERANCE).is_err());
    let old_ts = (at - 600).to_string();
    let stale_sig = run(&python, &["sign", secret_text, "evt_5", &old_ts, body]);
    let stale = WebhookHeaders { id: "evt_5", timestamp: &old_ts, signature: &stale_sig };
    assert!(matches!(
        verify(&secret, &stale, body.as_bytes(), now(), DEFAULT_TOLERANCE),
        Err(SignatureError::OutsideTolerance(_))
    ));
    // ...which the library refuses too.
    assert!(run(&python, &["verify", secret_text, "evt_5", &old_ts, body, &stale_sig]).starts_with("invalid"));
}
