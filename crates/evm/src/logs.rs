//! EVM logs in Keel receipts, and the Ethereum logs bloom.
//!
//! A log is stored as a receipt [`Event`] with module `evm`, name `Log` and the attributes
//! `address` (0x + 40 hex), `topics` (comma-separated 0x + 64 hex) and `data` (0x + hex), so the
//! receipt format (and its hash) is shared with native modules.

use alloy_primitives::{Address as EthAddress, B256, Bloom, Bytes, Log};
use keel_types::Event;

/// Module name of EVM log events.
pub const LOG_MODULE: &str = "evm";
/// Event name of EVM logs.
pub const LOG_NAME: &str = "Log";

/// Receipt event for an EVM log.
pub fn to_event(log: &Log) -> Event {
    let topics: Vec<String> = log
        .topics()
        .iter()
        .map(|t| format!("0x{}", hex::encode(t)))
        .collect();
    Event {
        module: LOG_MODULE.into(),
        name: LOG_NAME.into(),
        attributes: vec![
            ("address".into(), format!("0x{}", hex::encode(log.address))),
            ("topics".into(), topics.join(",")),
            ("data".into(), format!("0x{}", hex::encode(&log.data.data))),
        ],
    }
}

/// An EVM log decoded from a receipt event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EthLog {
    /// Emitting contract.
    pub address: EthAddress,
    /// Topics.
    pub topics: Vec<B256>,
    /// Data.
    pub data: Bytes,
}

fn attr<'a>(e: &'a Event, name: &str) -> Option<&'a str> {
    e.attributes
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.strip_prefix("0x")?).ok()
}

/// Decode an event back into a log (`None` if it is not an EVM log).
pub fn from_event(e: &Event) -> Option<EthLog> {
    if e.module != LOG_MODULE || e.name != LOG_NAME {
        return None;
    }
    let address = EthAddress::try_from(unhex(attr(e, "address")?)?.as_slice()).ok()?;
    let topics_s = attr(e, "topics")?;
    let mut topics = Vec::new();
    if !topics_s.is_empty() {
        for t in topics_s.split(',') {
            topics.push(B256::try_from(unhex(t)?.as_slice()).ok()?);
        }
    }
    let data = Bytes::from(unhex(attr(e, "data")?)?);
    Some(EthLog {
        address,
        topics,
        data,
    })
}

/// Logs bloom (Ethereum's 2048-bit filter) over `logs`.
pub fn bloom<'a>(logs: impl IntoIterator<Item = &'a EthLog>) -> Bloom {
    let mut b = Bloom::default();
    for l in logs {
        b.accrue_raw_log(l.address, &l.topics);
    }
    b
}
