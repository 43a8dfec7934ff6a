//! Wrapping a file's data key for a grantee: one module per suite.
//!
//! `gm`: SM2 public-key encryption (`sm2.rs`). `intl`: ephemeral-static X25519, HKDF-SHA256 and
//! AES-256-GCM, bound to the file's manifest address (`x25519.rs`).

mod sm2;
mod x25519;

pub use self::sm2::{unwrap_key_sm2, wrap_key_sm2};
pub use self::x25519::{
    WRAPPED_KEY_X25519_LEN_BYTES, X25519SecretKey, unwrap_key_x25519, wrap_key_x25519,
};
