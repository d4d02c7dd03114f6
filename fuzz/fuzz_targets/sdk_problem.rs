//! A failed response as the SDK reads it: any status and body become a typed error, never a panic; a problem
//! document's type decides the variant, and the problem is kept for the caller to read.
#![no_main]

use agentic_sdk::Error;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((status, body)) = data.split_first_chunk::<2>() else { return };
    let status = 400 + u16::from_le_bytes(*status) % 200;
    let error = Error::from_response(status, None, body);
    let is_problem = serde_json::from_slice::<agentic_sdk::api::Problem>(body).is_ok();
    assert_eq!(error.problem().is_some(), is_problem, "{error:?}");
    // Every error explains itself.
    assert!(!error.to_string().is_empty());
});
