//! Fixed-size byte types with `0x`-hex text forms.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Error for a malformed hex string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected 0x-prefixed hex of {expected_bytes} bytes, got {got:?}")]
pub struct ParseHexError {
    /// Byte length the type requires.
    pub expected_bytes: usize,
    /// The offending input (truncated to 80 chars).
    pub got: String,
}

fn parse_fixed<const N: usize>(s: &str) -> Result<[u8; N], ParseHexError> {
    let err = || ParseHexError {
        expected_bytes: N,
        got: s.chars().take(80).collect(),
    };
    let body = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if body.len() != N * 2 {
        return Err(err());
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(body, &mut out).map_err(|_| err())?;
    Ok(out)
}

macro_rules! fixed_bytes {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, BorshSerialize, BorshDeserialize,
        )]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;
            /// All-zero value.
            pub const ZERO: $name = $name([0u8; $len]);
            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
            /// Build from a slice of exactly `LEN` bytes.
            pub fn from_slice(b: &[u8]) -> Option<$name> {
                <[u8; $len]>::try_from(b).ok().map($name)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "0x{}", hex::encode(self.0))
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(0x{})", stringify!($name), hex::encode(self.0))
            }
        }
        impl FromStr for $name {
            type Err = ParseHexError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_fixed::<$len>(s).map($name)
            }
        }
        impl From<[u8; $len]> for $name {
            fn from(b: [u8; $len]) -> Self {
                $name(b)
            }
        }
        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_string())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

fixed_bytes!(
    /// A 32-byte digest made with the chain's suite hash (SM3 or SHA-256) unless stated otherwise.
    Hash,
    32
);
fixed_bytes!(
    /// A 20-byte account address (see `keel_crypto::address_of` for the derivation rule).
    Address,
    20
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors() {
        let h = Hash([0xab; 32]);
        let s = h.to_string();
        assert_eq!(s.len(), 66);
        assert_eq!(s.parse::<Hash>().unwrap(), h);
        assert!("0x12".parse::<Hash>().is_err());
        assert!(format!("0x{}", "zz".repeat(32)).parse::<Hash>().is_err());
        let a: Address = "0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f"
            .parse()
            .unwrap();
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            "\"0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f\""
        );
        let back: Address =
            serde_json::from_str("\"0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f\"").unwrap();
        assert_eq!(back, a);
    }
}
