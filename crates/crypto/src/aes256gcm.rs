//! AES-256-GCM, the `intl` suite's AEAD: 32-byte key, 12-byte nonce, 16-byte tag.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::array::Array;
use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};

use crate::CryptoError;

/// Seals `pt`, returning `ciphertext ‖ tag`.
///
/// # Panics
/// If `pt` exceeds GCM's limit of 2^36 - 32 bytes (64 GiB).
pub fn seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], pt: &[u8]) -> Vec<u8> {
    Aes256Gcm::new(&Array::from(*key))
        .encrypt(&Array::from(*nonce), Payload { msg: pt, aad })
        .expect("plaintext below GCM's 64 GiB limit")
}

/// Opens `ciphertext ‖ tag`; fails if the tag does not match.
pub fn open(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    ct_and_tag: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    Aes256Gcm::new(&Array::from(*key))
        .decrypt(
            &Array::from(*nonce),
            Payload {
                msg: ct_and_tag,
                aad,
            },
        )
        .map_err(|_| CryptoError::AuthenticationFailed)
}
