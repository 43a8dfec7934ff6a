//! Canonical encoding: borsh with a size bound checked *before* decoding.

use borsh::{BorshDeserialize, BorshSerialize};

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The input is larger than the type allows.
    #[error("{what} is {len} bytes, over the limit of {max} bytes")]
    TooLarge {
        /// What was being decoded.
        what: &'static str,
        /// Input length.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// The bytes are not a valid encoding (truncated, trailing bytes, bad tag...).
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's explanation.
        reason: String,
    },
}

/// Encode a value canonically.
pub fn encode<T: BorshSerialize>(value: &T) -> Vec<u8> {
    borsh::to_vec(value).expect("borsh serialization into a Vec cannot fail")
}

/// Decode `bytes` as a `T`, refusing input over `max_len` bytes and trailing bytes.
pub fn decode<T: BorshDeserialize>(
    what: &'static str,
    bytes: &[u8],
    max_len: usize,
) -> Result<T, CodecError> {
    if bytes.len() > max_len {
        return Err(CodecError::TooLarge {
            what,
            len: bytes.len(),
            max: max_len,
        });
    }
    borsh::from_slice(bytes).map_err(|e| CodecError::Malformed {
        what,
        reason: e.to_string(),
    })
}
