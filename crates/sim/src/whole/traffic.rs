//! Client traffic: funded accounts send transfers, each to its home validator (a wallet
//! talks to one node). A transaction is acknowledged when its node admits it; it must then be
//! committed unless that node crashes (taking its mempool) before the run ends.

use keel_crypto::KeyPair;
use keel_types::{Address, Hash, Payload, Signer, Transaction};

use super::cluster::{CHAIN, SUITE};

/// One client account.
#[derive(Debug)]
pub(crate) struct Client {
    pub key: KeyPair,
    /// Index of the member it submits to.
    pub home: usize,
    /// Next nonce.
    pub nonce: u64,
    /// Its home crashed: its pooled transactions may be gone (and later nonces stuck).
    pub tainted: bool,
    /// Acknowledged transactions.
    pub acknowledged: Vec<Hash>,
}

impl Client {
    /// The next transfer, encoded, and its hash.
    pub fn next_transfer(&self) -> (Vec<u8>, Hash) {
        let signed = Transaction {
            chain_id: CHAIN,
            nonce: self.nonce,
            expires_at_height: 50_000,
            gas_limit: 21_000,
            signer: Signer {
                scheme: self.key.scheme(),
                public_key: self.key.public_key(),
            },
            payload: Payload::Transfer {
                to: Address([9; 20]),
                amount: 1,
            },
        }
        .sign(&self.key);
        (signed.encode(), signed.hash(SUITE.hash()))
    }
}
