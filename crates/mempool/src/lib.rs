//! Transaction admission and the pending pool.
//!
//! Admission ([`Mempool::admit`]) runs, for a batch of raw transactions:
//! 1. bounded decode and stateless checks (chain id, scheme allowed by the suite, field limits),
//!    expiry window, de-duplication against the pool — all before any signature work;
//! 2. signature verification **once per node**, in parallel across cores, each signature on its
//!    own with its scheme's strict rule (the same rule proposal validation and sync use; Ed25519
//!    batch verification is not used, see [`verify_parallel`]);
//! 3. stateful checks under the pool lock: nonce window against the account nonce and the
//!    sender's pending transactions, balance against the maximum cost, capacity limits.
//!
//! Every rejection is an [`AdmitError`] with a stable numeric code. The pool is bounded in total
//! transactions ([`MempoolConfig::max_txs`]) and per sender; a full pool answers `POOL_FULL`.
//! Block building ([`Mempool::select_within`]) takes, per sender, the consecutive nonces starting
//! at the account's next nonce, in arrival order across senders, within a [`BlockBudget`] of
//! transactions, bytes and EVM gas.

mod error;
mod evm;
mod pool;

pub use error::AdmitError;
pub use pool::{
    AccountSource, Admitted, BlockBudget, Mempool, MempoolConfig, PooledTx, REGOSSIP_PER_SENDER,
    evm_gas_of, verify_parallel,
};
