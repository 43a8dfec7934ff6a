//! A fast deterministic stand-in for real signatures.
//!
//! `sig = SHA-256(secret_of(signer) ‖ msg)`. Verification recomputes it from the sim's table
//! of secrets. Within the simulation this is unforgeable in the way that matters: Byzantine
//! nodes are handed only their own [`SimCrypto`], so they can sign only as themselves.

use std::collections::BTreeMap;
use std::rc::Rc;

use keel_consensus::Crypto;
use keel_crypto::HashAlgorithm;
use keel_types::Address;

/// One node's signer plus the shared verification table.
#[derive(Clone, Debug)]
pub struct SimCrypto {
    me: Address,
    secrets: Rc<BTreeMap<Address, [u8; 32]>>,
}

impl SimCrypto {
    /// Keys for `nodes` validators derived from `seed`; returns one crypto per node, in node
    /// index order, and the node addresses.
    pub fn for_nodes(seed: u64, nodes: usize) -> Vec<SimCrypto> {
        let mut table = BTreeMap::new();
        let mut addresses = Vec::new();
        for i in 0..nodes {
            let secret = HashAlgorithm::Sha256.digest_parts(&[
                b"keel-sim/secret",
                &seed.to_be_bytes(),
                &(i as u64).to_be_bytes(),
            ]);
            let digest = HashAlgorithm::Sha256.digest_parts(&[b"keel-sim/address", &secret]);
            let address = Address::from_slice(&digest[..20]).expect("20 bytes");
            table.insert(address, secret);
            addresses.push(address);
        }
        let secrets = Rc::new(table);
        addresses
            .into_iter()
            .map(|me| SimCrypto {
                me,
                secrets: Rc::clone(&secrets),
            })
            .collect()
    }

    fn mac(secret: &[u8; 32], msg: &[u8]) -> Vec<u8> {
        HashAlgorithm::Sha256.digest_parts(&[secret, msg]).to_vec()
    }
}

impl Crypto for SimCrypto {
    fn me(&self) -> Address {
        self.me
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let secret = self
            .secrets
            .get(&self.me)
            .expect("every sim node has a secret");
        SimCrypto::mac(secret, msg)
    }

    fn verify(&self, signer: &Address, msg: &[u8], sig: &[u8]) -> bool {
        self.secrets
            .get(signer)
            .is_some_and(|secret| SimCrypto::mac(secret, msg) == sig)
    }
}
