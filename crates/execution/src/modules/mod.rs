//! The native modules. Each owns its payloads, its state records and their keys; the executor
//! charges the fee and hands the payload to one of them through [`Call`], in the transaction's
//! overlay. A module returns [`Applied`] (events, output) or a [`TxError`]; on a refusal the
//! executor drops everything the module wrote.

pub mod assets;
pub mod did;
pub(crate) mod evidence;
pub mod face;
pub mod governance;
pub mod nft;
pub(crate) mod token;

use crate::ExecutionError;
use crate::context::BlockContext;
use keel_crypto::HashAlgorithm;
use keel_types::{Address, Event, ExecErrorCode, Hash};

/// The transaction a module executes: who sent it, its hash, the block and the state hash.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    /// Suite hash (state keys).
    pub alg: HashAlgorithm,
    /// The block.
    pub ctx: BlockContext,
    /// The verified sender.
    pub sender: Address,
    /// The transaction hash (ids of records it creates).
    pub tx_hash: Hash,
}

/// What a payload that took effect yields for its receipt.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// Events, in order.
    pub events: Vec<Event>,
    /// Module output (e.g. the id of a created record).
    pub output: Vec<u8>,
}

impl Applied {
    /// Just events.
    pub fn events(events: Vec<Event>) -> Applied {
        Applied {
            events,
            output: vec![],
        }
    }
}

/// Why a payload did not take effect.
#[derive(Debug)]
pub(crate) enum TxError {
    /// The transaction is refused: failed receipt with this code; its writes are dropped.
    Refused(ExecErrorCode, String),
    /// Execution cannot go on (state read failed, corrupt value).
    Fatal(ExecutionError),
}

impl From<ExecutionError> for TxError {
    fn from(e: ExecutionError) -> Self {
        TxError::Fatal(e)
    }
}

impl From<Result<governance::Refusal, ExecutionError>> for TxError {
    fn from(e: Result<governance::Refusal, ExecutionError>) -> Self {
        match e {
            Ok((code, msg)) => TxError::Refused(code, msg),
            Err(e) => TxError::Fatal(e),
        }
    }
}

/// Result of a module operation.
pub(crate) type ModResult<T> = Result<T, TxError>;

/// A refusal.
pub(crate) fn refuse<T>(code: ExecErrorCode, msg: impl Into<String>) -> ModResult<T> {
    Err(TxError::Refused(code, msg.into()))
}

/// An event of `module` with attributes in order.
pub(crate) fn event(module: &str, name: &str, attrs: Vec<(&str, String)>) -> Event {
    Event {
        module: module.into(),
        name: name.into(),
        attributes: attrs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
    }
}
