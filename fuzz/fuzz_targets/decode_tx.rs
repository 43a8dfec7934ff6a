#![no_main]
//! Any bytes: decoding a transaction never panics, and whatever decodes re-encodes to the same
//! bytes (canonical encoding).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = keel_types::SignedTransaction::decode(data) {
        assert_eq!(tx.encode(), data);
        let _ = tx.check_stateless(1, keel_types::Suite::Gm);
        let _ = tx.sender(keel_types::Suite::Intl);
    }
});
