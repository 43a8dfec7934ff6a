//! revm's `Database` over Keel's authenticated state (read-only; writes come back as a change
//! set that [`crate::exec`] turns into state writes).
//!
//! Layout (keys in `keel_execution::keys`): the account (`nonce`, `balance`) is the native
//! account, so an Ethereum address and a native secp256k1 key share one balance; code under
//! `keys::code`, storage slots under `keys::storage`. Code hashes are `keccak256(code)`,
//! computed on load.

use crate::face::FaceSlots;
use alloy_primitives::{Address as EthAddress, B256, KECCAK256_EMPTY, U256, keccak256};
use keel_crypto::HashAlgorithm;
use keel_execution::{Account, ExecutionError, StateView, keys};
use keel_types::Address;
use revm::bytecode::Bytecode;
use revm::database_interface::{DBErrorMarker, Database};
use revm::state::AccountInfo;
use std::collections::HashMap;

/// A state read failed or a stored value is corrupt.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DbError(pub String);

impl DBErrorMarker for DbError {}

impl From<ExecutionError> for DbError {
    fn from(e: ExecutionError) -> Self {
        DbError(e.to_string())
    }
}

/// Keel address from an EVM address.
pub fn keel_addr(a: &EthAddress) -> Address {
    Address(a.0.0)
}

/// EVM address from a Keel address.
pub fn eth_addr(a: &Address) -> EthAddress {
    EthAddress::from(a.0)
}

/// Read the native account at `addr`.
pub fn read_account(
    view: &dyn StateView,
    alg: HashAlgorithm,
    addr: &Address,
) -> Result<Option<Account>, ExecutionError> {
    let key = keys::account(alg, addr);
    view.get(&key)?
        .map(|b| Account::decode(&key, &b))
        .transpose()
}

/// Read the code at `addr` (empty if none).
pub fn read_code(
    view: &dyn StateView,
    alg: HashAlgorithm,
    addr: &Address,
) -> Result<Vec<u8>, ExecutionError> {
    Ok(view.get(&keys::code(alg, addr))?.unwrap_or_default())
}

/// Read a storage slot (zero if unset).
pub fn read_storage(
    view: &dyn StateView,
    alg: HashAlgorithm,
    addr: &Address,
    slot: &[u8; 32],
) -> Result<[u8; 32], ExecutionError> {
    let key = keys::storage(alg, addr, slot);
    match view.get(&key)? {
        None => Ok([0u8; 32]),
        Some(b) => <[u8; 32]>::try_from(b.as_slice()).map_err(|_| ExecutionError::Corrupt {
            what: "storage slot",
            key: hex::encode(key),
            reason: format!("{} bytes, expected 32", b.len()),
        }),
    }
}

/// The revm database: a read-only view plus a code cache.
pub struct KeelDb<'a> {
    view: &'a dyn StateView,
    alg: HashAlgorithm,
    codes: HashMap<B256, Bytecode>,
    faces: FaceSlots,
}

impl std::fmt::Debug for KeelDb<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeelDb").field("alg", &self.alg).finish()
    }
}

impl<'a> KeelDb<'a> {
    /// Database over `view` with the suite hash `alg` (for the state key layout).
    pub fn new(view: &'a dyn StateView, alg: HashAlgorithm) -> Self {
        Self::with_faces(view, alg, FaceSlots::default())
    }

    /// Database whose asset-face slots ([`crate::face`]) load the native records `faces`
    /// names.
    pub fn with_faces(view: &'a dyn StateView, alg: HashAlgorithm, faces: FaceSlots) -> Self {
        KeelDb {
            view,
            alg,
            codes: HashMap::new(),
            faces,
        }
    }
}

impl Database for KeelDb<'_> {
    type Error = DbError;

    fn basic(&mut self, address: EthAddress) -> Result<Option<AccountInfo>, DbError> {
        let addr = keel_addr(&address);
        let acct = read_account(self.view, self.alg, &addr)?;
        let code = read_code(self.view, self.alg, &addr)?;
        if acct.is_none() && code.is_empty() {
            return Ok(None);
        }
        let acct = acct.unwrap_or_default();
        let mut info = AccountInfo {
            balance: U256::from(acct.balance),
            nonce: acct.nonce,
            code_hash: KECCAK256_EMPTY,
            ..Default::default()
        };
        if !code.is_empty() {
            let hash = keccak256(&code);
            let bytecode = Bytecode::new_raw(code.into());
            self.codes.insert(hash, bytecode.clone());
            info.code_hash = hash;
            info.code = Some(bytecode);
        }
        Ok(Some(info))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, DbError> {
        if code_hash == KECCAK256_EMPTY || code_hash == B256::ZERO {
            return Ok(Bytecode::default());
        }
        self.codes
            .get(&code_hash)
            .cloned()
            .ok_or_else(|| DbError(format!("code {code_hash} not loaded")))
    }

    fn storage(&mut self, address: EthAddress, index: U256) -> Result<U256, DbError> {
        if let Some(kind) = self.faces.kind(address, index) {
            return crate::face::load(self.view, index, kind);
        }
        let v = read_storage(
            self.view,
            self.alg,
            &keel_addr(&address),
            &index.to_be_bytes::<32>(),
        )?;
        Ok(U256::from_be_bytes(v))
    }

    fn block_hash(&mut self, _number: u64) -> Result<B256, DbError> {
        // BLOCKHASH is not wired to the chain store yet (ADR 0009, known gaps): zero.
        Ok(B256::ZERO)
    }
}
