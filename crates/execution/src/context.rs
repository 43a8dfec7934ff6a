//! What every module sees: the chain parameters, the block being executed, the transaction
//! being executed, and the decoder for stored values.

use crate::ExecutionError;
use crate::keys::StateKey;
use crate::overlay::StateView;
use borsh::BorshDeserialize;
use keel_crypto::Suite;
use keel_types::{Address, Hash, SignedTransaction};

/// Chain-wide parameters the executor needs (from genesis; the gas price as governance last set
/// it, see [`crate::Executor::params_on`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainParams {
    /// Chain id.
    pub chain_id: u64,
    /// Crypto suite.
    pub suite: Suite,
    /// Price of one gas unit in the smallest token unit (zero allowed).
    pub gas_price: u128,
}

/// Facts about the block being executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockContext {
    /// Height of the block.
    pub height: u64,
    /// Block timestamp, ms since the Unix epoch.
    pub timestamp_ms: u64,
}

/// One transaction to execute, with what admission already established (hash, sender whose
/// signature was verified).
#[derive(Clone, Copy, Debug)]
pub struct TxInput<'a> {
    /// The transaction.
    pub tx: &'a SignedTransaction,
    /// Its hash.
    pub hash: Hash,
    /// Its verified sender.
    pub sender: Address,
}

/// Read and decode the state value at `key`, if any (see [`decode_value`]).
pub(crate) fn read_value<T: BorshDeserialize>(
    view: &dyn StateView,
    what: &'static str,
    key: &StateKey,
) -> Result<Option<T>, ExecutionError> {
    match view.get(key)? {
        None => Ok(None),
        Some(b) => decode_value(what, key, &b).map(Some),
    }
}

/// Decode a stored state value, mapping failure to [`ExecutionError::Corrupt`].
pub(crate) fn decode_value<T: BorshDeserialize>(
    what: &'static str,
    key: &StateKey,
    bytes: &[u8],
) -> Result<T, ExecutionError> {
    borsh::from_slice(bytes).map_err(|e| ExecutionError::Corrupt {
        what,
        key: hex::encode(key),
        reason: e.to_string(),
    })
}
