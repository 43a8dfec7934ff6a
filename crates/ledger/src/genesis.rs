//! Genesis: the chain's identity and initial state, fixed forever at height 0.

use crate::LedgerError;
use crate::chain::ChainStore;
use keel_crypto::{Scheme, Suite};
use keel_state::StateTree;
use keel_storage::Durability;
use keel_types::Block;
use keel_types::{Address, CommitCertificate, Hash, Header, merkle};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A validator named in genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisValidator {
    /// Human name (e.g. organisation and node).
    pub name: String,
    /// Signature scheme of its key.
    pub scheme: String,
    /// Public key, hex.
    pub public_key: String,
    /// Address derived from the key.
    pub address: Address,
}

/// An initial allocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAccount {
    /// Account.
    pub address: Address,
    /// Balance (decimal string).
    #[serde(with = "crate::serde_u128")]
    pub balance: u128,
}

/// `genesis.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Chain id (replay protection).
    pub chain_id: u64,
    /// Human chain name.
    pub chain_name: String,
    /// `gm` or `intl`.
    pub suite: String,
    /// Genesis timestamp, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Gas price in the smallest unit (decimal string; zero allowed).
    #[serde(with = "crate::serde_u128")]
    pub gas_price: u128,
    /// Validators.
    pub validators: Vec<GenesisValidator>,
    /// Initial balances.
    pub alloc: Vec<GenesisAccount>,
    /// Observer nodes: they follow the chain (block sync) and serve RPC but never vote.
    /// Validators admit their network links. Same shape as validators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observers: Vec<GenesisValidator>,
    /// Governance (ADR 0011): committee, permissioned mode, admitted accounts. Absent: the
    /// validators' node keys form the committee with weight 1 each, not permissioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governance: Option<crate::gov::GenesisGovernance>,
}

impl Genesis {
    /// Load and validate.
    pub fn load(path: &Path) -> Result<Genesis, LedgerError> {
        let text = std::fs::read_to_string(path).map_err(|e| LedgerError::io(path, e))?;
        let g: Genesis = serde_json::from_str(&text).map_err(|e| LedgerError::Config {
            what: "genesis",
            path: path.into(),
            reason: e.to_string(),
        })?;
        g.validate().map_err(|reason| LedgerError::Config {
            what: "genesis",
            path: path.into(),
            reason,
        })?;
        Ok(g)
    }

    /// Write as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), LedgerError> {
        let text = serde_json::to_string_pretty(self).expect("genesis serializes");
        std::fs::write(path, text + "\n").map_err(|e| LedgerError::io(path, e))
    }

    /// The suite.
    pub fn suite(&self) -> Result<Suite, String> {
        self.suite
            .parse()
            .map_err(|_| format!("suite {:?} is not one of: gm, intl", self.suite))
    }

    /// Check internal consistency: suite, keys match addresses, no duplicate validators.
    pub fn validate(&self) -> Result<(), String> {
        let suite = self.suite()?;
        if self.validators.is_empty() {
            return Err("at least one validator is required".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, v) in self.validators.iter().chain(&self.observers).enumerate() {
            let role = if i < self.validators.len() {
                "validator"
            } else {
                "observer"
            };
            let scheme: Scheme = v
                .scheme
                .parse()
                .map_err(|_| format!("{role} {}: unknown scheme {:?}", v.name, v.scheme))?;
            let pk = hex::decode(v.public_key.trim_start_matches("0x"))
                .map_err(|_| format!("{role} {}: public_key is not hex", v.name))?;
            let addr = keel_crypto::address_of(scheme, &pk, suite.hash())
                .map_err(|e| format!("{role} {}: {e}", v.name))?;
            if Address(addr) != v.address {
                return Err(format!(
                    "{role} {}: address {} does not match its key (expected {})",
                    v.name,
                    v.address,
                    Address(addr)
                ));
            }
            if !seen.insert(v.address) {
                return Err(format!(
                    "{role} {} is listed twice (validators and observers must differ)",
                    v.address
                ));
            }
        }
        Ok(())
    }

    /// Validator public keys by address.
    pub fn validator_keys(&self) -> Vec<(Address, Scheme, Vec<u8>)> {
        Self::keys_of(&self.validators)
    }

    /// Observer addresses.
    pub fn observer_addresses(&self) -> Vec<Address> {
        self.observers.iter().map(|o| o.address).collect()
    }

    fn keys_of(list: &[GenesisValidator]) -> Vec<(Address, Scheme, Vec<u8>)> {
        list.iter()
            .filter_map(|v| {
                let scheme = v.scheme.parse().ok()?;
                let pk = hex::decode(v.public_key.trim_start_matches("0x")).ok()?;
                Some((v.address, scheme, pk))
            })
            .collect()
    }

    /// Allocations as pairs.
    pub fn alloc_pairs(&self) -> Vec<(Address, u128)> {
        self.alloc.iter().map(|a| (a.address, a.balance)).collect()
    }

    /// The genesis header for a given state root.
    pub fn header(&self, suite: Suite, state_root: Hash) -> Header {
        let alg = suite.hash();
        let empty: [Hash; 0] = [];
        Header {
            chain_id: self.chain_id,
            height: 0,
            parent_hash: Hash(alg.digest_parts(&[b"keel/genesis/v1", self.chain_name.as_bytes()])),
            timestamp_ms: self.timestamp_ms,
            tx_root: merkle::root(alg, &empty),
            receipts_root: merkle::root(alg, &empty),
            state_root,
            proposer: Address::ZERO,
            tx_count: 0,
            gas_used: 0,
        }
    }

    /// Empty certificate for genesis.
    pub fn certificate() -> CommitCertificate {
        CommitCertificate::default()
    }
}

/// Write the genesis block into an empty database (no-op if it has blocks) and return the hash
/// of the genesis configuration, which the database remembers so a node never runs on a
/// foreign database.
pub(crate) fn initialise(
    genesis: &Genesis,
    suite: Suite,
    chain: &ChainStore,
    state: &StateTree,
    data_dir: &Path,
) -> Result<Hash, LedgerError> {
    let alg = suite.hash();
    let config_hash = Hash(alg.digest(&serde_json::to_vec(&genesis).expect("genesis serializes")));
    if chain.head_height()?.is_none() {
        let mut batch = chain.store().batch();
        let gov = genesis
            .gov_genesis()
            .map_err(|reason| LedgerError::Config {
                what: "genesis",
                path: data_dir.into(),
                reason,
            })?;
        let mut changes = keel_execution::genesis_changes(alg, &genesis.alloc_pairs());
        changes.extend(keel_execution::governance::genesis_changes(alg, &gov));
        changes.sort_by_key(|a| a.0);
        let root = state.apply(0, &changes, &mut batch)?;
        let header = genesis.header(suite, Hash(root));
        let hash = header.hash(alg);
        let block = Block {
            header,
            transactions: vec![],
            certificate: Genesis::certificate(),
        };
        chain.put_block(&mut batch, &block, &hash, &[], &[], &[]);
        chain.put_genesis_config_hash(&mut batch, &config_hash);
        batch.commit(Durability::Sync)?;
        tracing::info!(%hash, "initialised chain from genesis");
    }
    Ok(config_hash)
}
