//! Access-token verification. The first byte picks what the rest is:
//! - a whole token, as a client might send anything;
//! - the claims of a token signed with the right key (so the checks after the signature are reached);
//! - the header of such a token, with valid claims (algorithm and key confusion).
//!
//! Never a panic; a token is accepted only when its header names our key and algorithm and its claims our issuer,
//! audience and a window containing now.
#![no_main]

use agentic_core::auth::jwt::{JwtCodec, JwtSettings, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzzing-secret-of-at-least-32-bytes!";
const NOW: i64 = 1_780_000_000;

fn signed(header: &[u8], claims: &[u8]) -> String {
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET).expect("any key length");
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn valid_claims() -> String {
    serde_json::json!({
        "iss": "agentic", "aud": "agentic-api", "sub": "01a248df-1562-7747-b712-9e43873dea71",
        "tid": "01a248df-1562-7747-b712-9e43873dea72", "roles": ["viewer"], "iat": NOW - 10, "nbf": NOW - 10,
        "exp": NOW + 600, "jti": "fuzz"
    })
    .to_string()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let codec = JwtCodec::new(JwtSettings::default(), KeyPair::hs256("k1", SECRET).expect("a long secret"), Vec::new())
        .expect("one key");
    let now = Utc.timestamp_opt(NOW, 0).single().expect("a valid instant");
    let header = br#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#;
    let (token, header_is_ours) = match mode % 3 {
        0 => (String::from_utf8_lossy(rest).into_owned(), None),
        1 => (signed(header, rest), Some(true)),
        _ => {
            let ours = serde_json::from_slice::<serde_json::Value>(rest)
                .is_ok_and(|h| h["alg"] == "HS256" && h["kid"] == "k1");
            (signed(rest, valid_claims().as_bytes()), Some(ours))
        }
    };
    if let Ok(claims) = codec.verify(&token, now) {
        assert_ne!(header_is_ours, Some(false), "a header naming another key or algorithm was accepted");
        assert_eq!((claims.iss.as_str(), claims.aud.as_str()), ("agentic", "agentic-api"));
        let leeway = 10;
        assert!(claims.nbf - leeway <= NOW && NOW <= claims.exp + leeway, "accepted outside its window");
    }
});
