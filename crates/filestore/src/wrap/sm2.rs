//! `gm` key wrap: SM2 public-key encryption (GB/T 32918.4, C1C3C2) through `keel-crypto`.
//!
//! TODO(#16): unlike the X25519 wrap, this one is not bound to the file: SM2 encryption has no
//! associated data, so binding would need the manifest address inside the plaintext.

use keel_crypto::KeyPair;

use crate::{DataKey, FileStoreError};

/// Encrypts `key` to the grantee's SM2 public key (SEC1, 33 or 65 bytes).
pub fn wrap_key_sm2(grantee_public_key: &[u8], key: &DataKey) -> Result<Vec<u8>, FileStoreError> {
    let mut entropy = [0u8; 32];
    getrandom::fill(&mut entropy).map_err(|_| FileStoreError::Entropy)?;
    keel_crypto::sm2::encrypt(grantee_public_key, key.as_bytes(), &entropy)
        .map_err(FileStoreError::WrapFailed)
}

/// Decrypts a wrapped key with the grantee's SM2 key pair.
pub fn unwrap_key_sm2(grantee: &KeyPair, wrapped: &[u8]) -> Result<DataKey, FileStoreError> {
    let bytes =
        keel_crypto::sm2::decrypt(grantee, wrapped).map_err(|_| FileStoreError::UnwrapFailed)?;
    let bytes: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| FileStoreError::UnwrapFailed)?;
    Ok(DataKey::from_bytes(bytes))
}
