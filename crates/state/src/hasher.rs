//! Adapters from the RustCrypto hashes to jmt's `SimpleHasher`.
//!
//! jmt implements `SimpleHasher` for `digest` 0.10 types; `sm3` 0.5 / `sha2` 0.11 use `digest`
//! 0.11, so we wrap them in local newtypes instead of relying on that blanket impl.

use sha2::Digest as _;

/// SM3 (GB/T 32905), for the Chinese national-algorithm suite.
pub(crate) struct Sm3Hasher(sm3::Sm3);

impl jmt::SimpleHasher for Sm3Hasher {
    fn new() -> Self {
        Sm3Hasher(sm3::Sm3::new())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finalize(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// SHA-256 (FIPS 180-4), for the international suite.
pub(crate) struct Sha256Hasher(sha2::Sha256);

impl jmt::SimpleHasher for Sha256Hasher {
    fn new() -> Self {
        Sha256Hasher(sha2::Sha256::new())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finalize(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jmt::SimpleHasher;

    /// Standard vectors for "abc": GB/T 32905 appendix A.1 and FIPS 180-2 B.1.
    #[test]
    fn adapters_match_standard_abc_vectors() {
        let hex = |b: [u8; 32]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(Sm3Hasher::hash(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            hex(Sha256Hasher::hash(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
