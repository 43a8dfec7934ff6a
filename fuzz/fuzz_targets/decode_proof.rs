#![no_main]
//! Any bytes: decoding and verifying a state proof never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = keel_state::StateProof::from_bytes(data) {
        let _ = p.verify(keel_state::StateHash::Sm3, &[0u8; 32], &[1u8; 32], Some(b"v"));
    }
});
