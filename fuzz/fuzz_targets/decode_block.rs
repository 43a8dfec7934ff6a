#![no_main]
//! Any bytes: decoding a block or header never panics and is canonical.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = keel_types::Block::decode(data) {
        assert_eq!(b.encode(), data);
    }
    if let Ok(h) = keel_types::Header::decode(data) {
        assert_eq!(h.encode(), data);
    }
});
