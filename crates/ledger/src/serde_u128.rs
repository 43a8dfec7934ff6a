//! Serialize `u128` amounts as decimal strings in JSON (JavaScript numbers lose precision).

use serde::{Deserialize, Deserializer, Serializer};

/// Serialize as a decimal string.
pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// Accept a decimal string or a JSON number.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        S(String),
        N(u64),
    }
    match Either::deserialize(d)? {
        Either::S(s) => s.trim().parse().map_err(serde::de::Error::custom),
        Either::N(n) => Ok(u128::from(n)),
    }
}
