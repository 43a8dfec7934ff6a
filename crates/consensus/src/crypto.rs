//! The signing/verification capability injected into the state machine.

use std::collections::BTreeMap;
use std::fmt;

use keel_crypto::{HashAlgorithm, KeyPair, Scheme};
use keel_types::Address;

use crate::error::ConsensusError;

/// What consensus needs from cryptography. Implementations must be deterministic: `verify`
/// returns true only for signatures made by `signer`'s key over exactly `msg`.
pub trait Crypto {
    /// This node's validator address.
    fn me(&self) -> Address;
    /// Signs `msg` with this node's key.
    fn sign(&self, msg: &[u8]) -> Vec<u8>;
    /// Whether `sig` is `signer`'s signature over `msg`. Unknown signers verify as false.
    fn verify(&self, signer: &Address, msg: &[u8], sig: &[u8]) -> bool;
}

/// [`Crypto`] over Keel's real signature schemes (SM2 for `gm`, Ed25519 for `intl`).
#[derive(Clone)]
pub struct KeelCrypto {
    keypair: KeyPair,
    me: Address,
    scheme: Scheme,
    public_keys: BTreeMap<Address, Vec<u8>>,
}

impl fmt::Debug for KeelCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeelCrypto")
            .field("me", &self.me)
            .field("scheme", &self.scheme)
            .field("validators", &self.public_keys.len())
            .finish()
    }
}

impl KeelCrypto {
    /// `keypair` is this node's key; `validator_keys` the encoded public keys of every
    /// validator (addresses are derived with `keel_crypto::address_of` and `suite_hash`).
    pub fn new(
        keypair: KeyPair,
        suite_hash: HashAlgorithm,
        validator_keys: &[Vec<u8>],
    ) -> Result<KeelCrypto, ConsensusError> {
        let scheme = keypair.scheme();
        let address = |key: &[u8]| {
            keel_crypto::address_of(scheme, key, suite_hash)
                .map(Address)
                .map_err(|e| ConsensusError::InvalidPublicKey {
                    reason: e.to_string(),
                })
        };
        let me = address(&keypair.public_key())?;
        let mut public_keys = BTreeMap::new();
        for key in validator_keys {
            public_keys.insert(address(key)?, key.clone());
        }
        Ok(KeelCrypto {
            keypair,
            me,
            scheme,
            public_keys,
        })
    }
}

impl Crypto for KeelCrypto {
    fn me(&self) -> Address {
        self.me
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.keypair.sign(msg)
    }

    fn verify(&self, signer: &Address, msg: &[u8], sig: &[u8]) -> bool {
        self.public_keys
            .get(signer)
            .is_some_and(|key| keel_crypto::verify(self.scheme, key, msg, sig).is_ok())
    }
}
