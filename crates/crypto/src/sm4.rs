//! SM4 (GB/T 32907) with a 16-byte key: raw block, CBC (PKCS#7 or no padding), CTR and GCM.

use ::sm4::Sm4;
use ::sm4::cipher::block_padding::{NoPadding, Pkcs7};
use ::sm4::cipher::{
    Array, BlockCipherEncrypt as _, BlockModeDecrypt as _, BlockModeEncrypt as _, KeyInit as _,
    KeyIvInit as _, StreamCipher as _,
};
use aes_gcm::AesGcm;
use aes_gcm::aead::Aead as _;
use aes_gcm::aead::consts::U12;

use crate::CryptoError;

const BLOCK_LEN: usize = 16;
/// GCM with SM4 (RFC 8998): 96-bit nonce, 128-bit tag.
type Sm4Gcm = AesGcm<Sm4, U12>;

/// Encrypts one 16-byte block in place (ECB on a single block).
pub fn encrypt_block(key: &[u8; 16], block: &mut [u8; 16]) {
    let cipher = Sm4::new(&Array::from(*key));
    let mut buffer = Array::from(*block);
    cipher.encrypt_block(&mut buffer);
    block.copy_from_slice(&buffer);
}

/// CBC encryption with PKCS#7 padding (output is 1–16 bytes longer than `pt`).
pub fn cbc_encrypt(key: &[u8; 16], iv: &[u8; 16], pt: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<Sm4>::new(&Array::from(*key), &Array::from(*iv))
        .encrypt_padded_vec::<Pkcs7>(pt)
}

/// CBC decryption with PKCS#7 padding. Not authenticated: use GCM where integrity matters.
pub fn cbc_decrypt(key: &[u8; 16], iv: &[u8; 16], ct: &[u8]) -> Result<Vec<u8>, CryptoError> {
    check_block_multiple("SM4-CBC ciphertext", ct)?;
    if ct.is_empty() {
        return Err(CryptoError::InvalidLength {
            what: "SM4-CBC ciphertext",
            len: 0,
        });
    }
    cbc::Decryptor::<Sm4>::new(&Array::from(*key), &Array::from(*iv))
        .decrypt_padded_vec::<Pkcs7>(ct)
        .map_err(|_| CryptoError::DecryptionFailed)
}

/// CBC encryption without padding; `pt.len()` must be a multiple of 16.
pub fn cbc_encrypt_nopad(key: &[u8; 16], iv: &[u8; 16], pt: &[u8]) -> Result<Vec<u8>, CryptoError> {
    check_block_multiple("SM4-CBC plaintext", pt)?;
    Ok(
        cbc::Encryptor::<Sm4>::new(&Array::from(*key), &Array::from(*iv))
            .encrypt_padded_vec::<NoPadding>(pt),
    )
}

/// CBC decryption without padding; `ct.len()` must be a multiple of 16.
pub fn cbc_decrypt_nopad(key: &[u8; 16], iv: &[u8; 16], ct: &[u8]) -> Result<Vec<u8>, CryptoError> {
    check_block_multiple("SM4-CBC ciphertext", ct)?;
    cbc::Decryptor::<Sm4>::new(&Array::from(*key), &Array::from(*iv))
        .decrypt_padded_vec::<NoPadding>(ct)
        .map_err(|_| CryptoError::DecryptionFailed)
}

/// CTR mode with a 128-bit big-endian counter block starting at `iv`; encrypts and decrypts in
/// place. The counter wraps modulo 2^128.
pub fn ctr_apply(key: &[u8; 16], iv: &[u8; 16], data: &mut [u8]) {
    ctr::Ctr128BE::<Sm4>::new(&Array::from(*key), &Array::from(*iv)).apply_keystream(data);
}

/// SM4-GCM (RFC 8998) seal: returns `ciphertext ‖ tag` (16-byte tag).
///
/// # Panics
/// If `pt` exceeds GCM's limit of 2^36 - 32 bytes (64 GiB), which no caller can hold in memory
/// on the machines Keel targets.
pub fn gcm_seal(key: &[u8; 16], nonce: &[u8; 12], aad: &[u8], pt: &[u8]) -> Vec<u8> {
    Sm4Gcm::new(&Array::from(*key))
        .encrypt(
            &Array::from(*nonce),
            aes_gcm::aead::Payload { msg: pt, aad },
        )
        .expect("plaintext below GCM's 64 GiB limit")
}

/// SM4-GCM (RFC 8998) open of `ciphertext ‖ tag`; fails if the tag does not match.
pub fn gcm_open(
    key: &[u8; 16],
    nonce: &[u8; 12],
    aad: &[u8],
    ct_and_tag: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    Sm4Gcm::new(&Array::from(*key))
        .decrypt(
            &Array::from(*nonce),
            aes_gcm::aead::Payload {
                msg: ct_and_tag,
                aad,
            },
        )
        .map_err(|_| CryptoError::AuthenticationFailed)
}

fn check_block_multiple(what: &'static str, data: &[u8]) -> Result<(), CryptoError> {
    if data.len().is_multiple_of(BLOCK_LEN) {
        Ok(())
    } else {
        Err(CryptoError::InvalidLength {
            what,
            len: data.len(),
        })
    }
}
