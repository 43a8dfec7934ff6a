#![no_main]
//! Any bytes: parsing a certificate, a PEM chain or a CRL never panics, and a parsed
//! certificate's signature check against itself never panics either.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = keel_pki::Certificate::from_der(data) {
        assert_eq!(c.der(), data);
        let _ = c.verify_signed_by(&c);
        let _ = (c.role(), c.organization(), c.is_ca(), c.key_usage(), c.fingerprint());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = keel_pki::Certificate::from_pem_chain(text);
        let _ = keel_pki::RevocationList::from_pem(text);
    }
    let _ = keel_pki::RevocationList::from_der(data);
});
