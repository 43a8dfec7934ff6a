//! Shared fixtures of the ledger tests: addresses and a one-validator genesis.

#![allow(dead_code)]

use keel_crypto::{KeyPair, Suite};
use keel_ledger::{Genesis, GenesisAccount, GenesisValidator};
use keel_types::Address;

/// Chain id of every ledger test chain.
pub const CHAIN: u64 = 9;

/// The address of `k` on a `suite` chain.
pub fn address(suite: Suite, k: &KeyPair) -> Address {
    Address(keel_crypto::address_of(k.scheme(), &k.public_key(), suite.hash()).expect("address"))
}

/// One validator `v`, one account `funded` with `balance`, no governance section.
pub fn genesis(
    suite: Suite,
    name: &str,
    gas_price: u128,
    (v, funded, balance): (&KeyPair, &KeyPair, u128),
) -> Genesis {
    Genesis {
        governance: None,
        chain_id: CHAIN,
        chain_name: name.into(),
        suite: suite.name().into(),
        timestamp_ms: 1_000,
        gas_price,
        validators: vec![GenesisValidator {
            name: "v".into(),
            scheme: v.scheme().name().into(),
            public_key: hex::encode(v.public_key()),
            address: address(suite, v),
        }],
        alloc: vec![GenesisAccount {
            address: address(suite, funded),
            balance,
        }],
        observers: vec![],
    }
}
