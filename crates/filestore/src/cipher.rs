//! Per-chunk authenticated encryption under the file's data key.
//!
//! The nonce of chunk `i` is `0u32 ‖ i as u64` (big-endian): unique per chunk, and the key is
//! fresh per file, so no nonce repeats under one key. The associated data binds the chunk's
//! index and the file's chunk count, so chunks cannot be reordered, dropped or truncated.

use keel_crypto::Suite;

use crate::FileStoreError;

/// Tag length of both AEADs, in bytes.
pub(crate) const TAG_LEN_BYTES: usize = 16;
const AAD_DOMAIN: &[u8] = b"keel-filestore/v1/chunk";

/// A file's data key: 32 random bytes. AES-256-GCM uses all of them; SM4-GCM (128-bit key)
/// uses the first 16.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// A fresh key from the operating system's random source.
    pub fn random() -> Result<DataKey, FileStoreError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| FileStoreError::Entropy)?;
        Ok(DataKey(bytes))
    }

    /// A key from its bytes (unwrapped from a grant, or fixed in tests).
    pub fn from_bytes(bytes: [u8; 32]) -> DataKey {
        DataKey(bytes)
    }

    /// The key's bytes, for wrapping.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn sm4_key(&self) -> [u8; 16] {
        let mut k = [0u8; 16];
        k.copy_from_slice(&self.0[..16]);
        k
    }
}

fn nonce(index: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&index.to_be_bytes());
    n
}

fn aad(index: u64, count: u64) -> Vec<u8> {
    [AAD_DOMAIN, &index.to_be_bytes(), &count.to_be_bytes()].concat()
}

/// Seals chunk `index` of `count`; returns `ciphertext ‖ tag`.
pub(crate) fn seal_chunk(
    suite: Suite,
    key: &DataKey,
    index: u64,
    count: u64,
    pt: &[u8],
) -> Vec<u8> {
    let (n, a) = (nonce(index), aad(index, count));
    match suite {
        Suite::Gm => keel_crypto::sm4::gcm_seal(&key.sm4_key(), &n, &a, pt),
        Suite::Intl => keel_crypto::aes256gcm::seal(&key.0, &n, &a, pt),
    }
}

/// Opens chunk `index` of `count`.
pub(crate) fn open_chunk(
    suite: Suite,
    key: &DataKey,
    index: u64,
    count: u64,
    ct: &[u8],
) -> Result<Vec<u8>, FileStoreError> {
    let (n, a) = (nonce(index), aad(index, count));
    let opened = match suite {
        Suite::Gm => keel_crypto::sm4::gcm_open(&key.sm4_key(), &n, &a, ct),
        Suite::Intl => keel_crypto::aes256gcm::open(&key.0, &n, &a, ct),
    };
    opened.map_err(|_| FileStoreError::DecryptFailed { stripe: index })
}
