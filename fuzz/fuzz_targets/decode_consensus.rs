#![no_main]
//! Any bytes from a peer: decoding a consensus message never panics and is canonical.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = keel_consensus::ConsensusMessage::decode(data) {
        assert_eq!(m.encode(), data);
    }
});
