//! An agent specification in YAML: parsed and validated, or refused with an error naming where; never a panic,
//! and never work out of proportion to the input (size, depth and aliases are refused before parsing).
#![no_main]

use agentic_core::agents::{AgentSpec, KnownNames};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(error) = AgentSpec::from_yaml(text, &KnownNames::any()) {
        // A refusal always says what is wrong.
        assert!(!error.to_string().is_empty());
    }
});
