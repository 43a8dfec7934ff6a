//! A small blocking JSON-RPC client and transaction helpers for the CLI.

use crate::CliError;
use keel_crypto::{KeyPair, Suite};
use keel_node::KeyFile;
use keel_types::{Hash, Payload, SignedTransaction, Signer, Transaction};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Default RPC endpoint.
pub const DEFAULT_RPC: &str = "http://127.0.0.1:8545";

/// JSON-RPC client.
pub struct Client {
    url: String,
    agent: ureq::Agent,
}

impl Client {
    /// Client for `url`.
    pub fn new(url: &str) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Client {
            url: url.to_string(),
            agent,
        }
    }

    /// Call a method; RPC errors become `CliError::Rpc`.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, CliError> {
        let req = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let mut resp =
            self.agent
                .post(&self.url)
                .send_json(&req)
                .map_err(|e| CliError::Connect {
                    url: self.url.clone(),
                    reason: e.to_string(),
                })?;
        let v: Value = resp
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_json()
            .map_err(|e| CliError::Connect {
                url: self.url.clone(),
                reason: format!("bad response: {e}"),
            })?;
        if let Some(err) = v.get("error") {
            return Err(CliError::Rpc {
                code: err["code"].as_i64().unwrap_or(0),
                name: err["data"]["name"].as_str().unwrap_or("").to_string(),
                message: err["message"].as_str().unwrap_or("").to_string(),
            });
        }
        Ok(v.get("result").cloned().unwrap_or(Value::Null))
    }

    /// `keel_chainInfo` essentials.
    pub fn chain(&self) -> Result<ChainFacts, CliError> {
        let info = self.call("keel_chainInfo", json!([]))?;
        let suite: Suite = info["suite"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| CliError::Usage("node reported an unknown suite".into()))?;
        Ok(ChainFacts {
            chain_id: info["chainId"].as_u64().unwrap_or(0),
            suite,
            height: info["height"].as_u64().unwrap_or(0),
        })
    }

    /// Account nonce.
    pub fn nonce(&self, address: &keel_types::Address) -> Result<u64, CliError> {
        let a = self.call("keel_getAccount", json!([address]))?;
        Ok(a["nonce"].as_u64().unwrap_or(0))
    }

    /// Submit one signed transaction.
    pub fn send(&self, tx: &SignedTransaction) -> Result<Hash, CliError> {
        let r = self.call(
            "keel_sendTransaction",
            json!([format!("0x{}", hex::encode(tx.encode()))]),
        )?;
        r["hash"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| CliError::Usage("node returned no transaction hash".into()))
    }

    /// Poll for a receipt until `timeout`.
    pub fn wait_receipt(&self, hash: &Hash, timeout: Duration) -> Result<Value, CliError> {
        let start = Instant::now();
        loop {
            let r = self.call("keel_getReceipt", json!([hash]))?;
            if !r.is_null() {
                return Ok(r);
            }
            if start.elapsed() > timeout {
                return Err(CliError::Timeout(format!(
                    "transaction {hash} not committed within {}s (check `keel tx {hash}` later)",
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// What a client needs to know to build a transaction.
#[derive(Clone, Copy, Debug)]
pub struct ChainFacts {
    /// Chain id.
    pub chain_id: u64,
    /// Suite.
    pub suite: Suite,
    /// Current height.
    pub height: u64,
}

/// How many blocks a CLI transaction stays valid.
pub const DEFAULT_EXPIRY_BLOCKS: u64 = 1_000;

/// Build and sign a transaction.
pub fn build_tx(
    key: &KeyPair,
    chain: &ChainFacts,
    nonce: u64,
    payload: Payload,
) -> SignedTransaction {
    let mut tx = Transaction {
        chain_id: chain.chain_id,
        nonce,
        expires_at_height: chain.height + DEFAULT_EXPIRY_BLOCKS,
        gas_limit: 0,
        signer: Signer {
            scheme: key.scheme(),
            public_key: key.public_key(),
        },
        payload,
    };
    tx.gas_limit = tx.intrinsic_gas();
    tx.sign(key)
}

/// Load a key file and check it is usable on this chain.
pub fn load_key(
    path: &std::path::Path,
    chain: &ChainFacts,
) -> Result<(KeyFile, KeyPair), CliError> {
    let (kf, key) = KeyFile::load(path)?;
    if !chain.suite.allows(key.scheme()) {
        return Err(CliError::Usage(format!(
            "{} is a {} key, which a {} chain does not accept; create one with `keel keys new --scheme {}`",
            path.display(),
            key.scheme(),
            chain.suite,
            chain.suite.signature_scheme()
        )));
    }
    Ok((kf, key))
}
