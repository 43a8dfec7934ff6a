//! `intl` key wrap: ephemeral-static X25519 (RFC 7748), HKDF-SHA256 (RFC 5869), AES-256-GCM.
//!
//! Wrapped key, 81 bytes: `version (u8 = 1) ‖ ephemeral public key (32) ‖ AES-256-GCM
//! ciphertext of the 32-byte data key (32) ‖ tag (16)`.
//!
//! ```text
//! shared = X25519(ephemeral secret, grantee public)       refused if all zero (low order)
//! kek    = HKDF-SHA256(salt = ephemeral public ‖ grantee public,
//!                      ikm  = shared,
//!                      info = "keel-filestore/v1/wrap-x25519" ‖ manifest address multihash)
//! sealed = AES-256-GCM(kek, nonce = 12 zero bytes, aad = version ‖ ephemeral public, data key)
//! ```
//!
//! The info string binds the wrap to one file: unwrapping it under another manifest address
//! derives another key and fails authentication. The salt binds both public keys. Every wrap
//! has a fresh ephemeral key, so each `kek` seals exactly one message and the fixed nonce never
//! repeats under a key.

use hkdf::Hkdf;
use sha2::Sha256;
use x25519_dalek::{PublicKey, SharedSecret, StaticSecret};
use zeroize::Zeroizing;

use crate::cipher::TAG_LEN_BYTES;
use crate::{DataKey, FileStoreError, ShardAddress};

const VERSION: u8 = 1;
const INFO_DOMAIN: &[u8] = b"keel-filestore/v1/wrap-x25519";
const NONCE: [u8; 12] = [0; 12];
const HEADER_LEN_BYTES: usize = 1 + 32;
/// Length of a wrapped key.
pub const WRAPPED_KEY_X25519_LEN_BYTES: usize = HEADER_LEN_BYTES + 32 + TAG_LEN_BYTES;

/// A grantee's X25519 secret key (zeroized on drop).
pub struct X25519SecretKey(StaticSecret);

impl std::fmt::Debug for X25519SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("X25519SecretKey(..)")
    }
}

impl X25519SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn random() -> Result<X25519SecretKey, FileStoreError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|_| FileStoreError::Entropy)?;
        Ok(X25519SecretKey::from_bytes(*bytes))
    }

    /// A key from its 32 bytes (clamped when used, as RFC 7748 says).
    pub fn from_bytes(bytes: [u8; 32]) -> X25519SecretKey {
        X25519SecretKey(StaticSecret::from(bytes))
    }

    /// The public key, `X25519(secret, 9)`, to publish for grantors.
    pub fn public_key(&self) -> [u8; 32] {
        PublicKey::from(&self.0).to_bytes()
    }
}

/// Encrypts `key` to the grantee's X25519 public key (32 bytes), bound to the file whose
/// manifest has address `file`.
pub fn wrap_key_x25519(
    grantee_public_key: &[u8],
    file: &ShardAddress,
    key: &DataKey,
) -> Result<Vec<u8>, FileStoreError> {
    wrap_with(&X25519SecretKey::random()?, grantee_public_key, file, key)
}

/// Decrypts a key wrapped by [`wrap_key_x25519`] for this grantee and this file.
pub fn unwrap_key_x25519(
    grantee: &X25519SecretKey,
    file: &ShardAddress,
    wrapped: &[u8],
) -> Result<DataKey, FileStoreError> {
    let malformed = |what| FileStoreError::WrappedKeyMalformed { what };
    if wrapped.len() != WRAPPED_KEY_X25519_LEN_BYTES {
        return Err(malformed("wrong length"));
    }
    let (header, sealed) = wrapped.split_at(HEADER_LEN_BYTES);
    if header[0] != VERSION {
        return Err(malformed("unknown version"));
    }
    let ephemeral: [u8; 32] = header[1..].try_into().expect("header is 1 + 32 bytes");
    let shared = grantee.0.diffie_hellman(&PublicKey::from(ephemeral));
    if !shared.was_contributory() {
        return Err(malformed("ephemeral key of low order"));
    }
    let kek = kek(&shared, &ephemeral, &grantee.public_key(), file);
    let opened = keel_crypto::aes256gcm::open(&kek, &NONCE, header, sealed)
        .map(Zeroizing::new)
        .map_err(|_| FileStoreError::UnwrapFailed)?;
    let bytes: [u8; 32] = opened
        .as_slice()
        .try_into()
        .map_err(|_| FileStoreError::UnwrapFailed)?;
    Ok(DataKey::from_bytes(bytes))
}

/// The wrap with a given ephemeral key (fixed in the format test below).
fn wrap_with(
    ephemeral: &X25519SecretKey,
    grantee_public_key: &[u8],
    file: &ShardAddress,
    key: &DataKey,
) -> Result<Vec<u8>, FileStoreError> {
    let grantee: [u8; 32] =
        grantee_public_key
            .try_into()
            .map_err(|_| FileStoreError::GranteeKeyInvalid {
                what: "not 32 bytes",
            })?;
    let shared = ephemeral.0.diffie_hellman(&PublicKey::from(grantee));
    if !shared.was_contributory() {
        return Err(FileStoreError::GranteeKeyInvalid {
            what: "a point of low order",
        });
    }
    let ephemeral_public = ephemeral.public_key();
    let kek = kek(&shared, &ephemeral_public, &grantee, file);
    let mut out = Vec::with_capacity(WRAPPED_KEY_X25519_LEN_BYTES);
    out.push(VERSION);
    out.extend_from_slice(&ephemeral_public);
    let sealed = keel_crypto::aes256gcm::seal(&kek, &NONCE, &out, key.as_bytes());
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The key-encryption key: HKDF-SHA256 over the shared secret, bound to both keys and the file.
fn kek(
    shared: &SharedSecret,
    ephemeral_public: &[u8; 32],
    grantee_public: &[u8; 32],
    file: &ShardAddress,
) -> Zeroizing<[u8; 32]> {
    let salt = [&ephemeral_public[..], &grantee_public[..]].concat();
    let info = [INFO_DOMAIN, &file.to_multihash()].concat();
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(&salt), shared.as_bytes())
        .expand(&info, okm.as_mut())
        .expect("32 bytes is within HKDF-SHA256's output limit");
    okm
}

#[cfg(test)]
mod tests;
