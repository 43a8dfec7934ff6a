//! Ledger-side support for the EVM and the Ethereum JSON-RPC (ADR 0009): read-only state views
//! at a committed height, the executor's chain parameters, Ethereum transaction submission.

use crate::{Ledger, LedgerError};
use keel_execution::{BlockContext, ChainParams, ExecutionError, StateView, keys::StateKey};
use keel_mempool::{AdmitError, Admitted};
use keel_types::Address;

/// Reads of the pending nonce before it settles for the account nonce (each retry means a block
/// committed during the read).
const PENDING_NONCE_ATTEMPTS: usize = 8;

/// The committed state at one height, as an execution [`StateView`].
#[derive(Debug)]
pub struct HeightView<'a> {
    node: &'a Ledger,
    height: u64,
}

impl StateView for HeightView<'_> {
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ExecutionError> {
        self.node
            .state
            .get(key, self.height)
            .map_err(|e| ExecutionError::State(e.to_string()))
    }
}

impl Ledger {
    /// Read-only view of the committed state at `height` (≤ head).
    pub fn state_at(&self, height: u64) -> HeightView<'_> {
        HeightView { node: self, height }
    }

    /// Chain parameters in force for the block after `height` (≤ head): the gas price is the
    /// one governance set in the state at `height`, exactly what execution charges
    /// ([`keel_execution::Executor::params_on`]).
    pub fn chain_params_at(&self, height: u64) -> Result<ChainParams, LedgerError> {
        Ok(self.executor.params_on(&self.state_at(height))?)
    }

    /// Chain parameters in force for the next block (on the committed head): what admission,
    /// `eth_gasPrice` and `keel_chainInfo` report.
    pub fn chain_params(&self) -> Result<ChainParams, LedgerError> {
        self.chain_params_at(self.head().height)
    }

    /// The gas price block `height` was executed with (the price in force on its parent).
    pub fn gas_price_of_block(&self, height: u64) -> Result<u128, LedgerError> {
        Ok(self.chain_params_at(height.saturating_sub(1))?.gas_price)
    }

    /// Ethereum's `pending` transaction count of `addr`: its account nonce at the head plus its
    /// consecutive transactions in the pool. `commit_block` publishes the head before it prunes
    /// the pool, so if the head did not move while the pool was read, the nonce and the pool
    /// belong to one view; otherwise read again (bounded: a reader racing a commit on every
    /// attempt gets the account nonce at the last head it read).
    pub fn pending_nonce(&self, addr: &Address) -> Result<u64, LedgerError> {
        let alg = self.suite.hash();
        let mut nonce = 0;
        for _ in 0..PENDING_NONCE_ATTEMPTS {
            let head = self.head().height;
            nonce = keel_evm::db::read_account(&self.state_at(head), alg, addr)?
                .unwrap_or_default()
                .nonce;
            let pending = self.mempool.pending_nonce(addr, nonce);
            if self.head().height == head {
                return Ok(pending);
            }
        }
        Ok(nonce)
    }

    /// Block context for a read-only call on top of `height` (the next block's number, the
    /// head's timestamp).
    pub fn call_context(&self, height: u64) -> BlockContext {
        let ts = self
            .chain
            .header(height)
            .ok()
            .flatten()
            .map_or(0, |h| h.timestamp_ms);
        BlockContext {
            height: height + 1,
            timestamp_ms: ts,
        }
    }

    /// Admit a raw signed Ethereum transaction (EIP-2718 bytes) through the same pipeline as
    /// native transactions (`eth_sendRawTransaction`).
    pub fn submit_ethereum(&self, raw: &[u8]) -> Result<Admitted, AdmitError> {
        let stx = keel_evm::ethtx::envelope(raw, self.genesis.chain_id).map_err(|e| match e {
            keel_evm::ethtx::EthTxError::WrongChainId { expected, got } => {
                AdmitError::WrongChainId { expected, got }
            }
            keel_evm::ethtx::EthTxError::BadSignature(_) => AdmitError::BadSignature {
                scheme: keel_crypto::Scheme::Secp256k1,
            },
            keel_evm::ethtx::EthTxError::TooLarge(len) => AdmitError::TooLarge {
                len,
                max: keel_evm::ethtx::MAX_RAW_BYTES,
            },
            other => AdmitError::Malformed {
                reason: other.to_string(),
            },
        })?;
        self.submit(&[stx.encode()])
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(AdmitError::State("no admission result".into())))
    }
}
