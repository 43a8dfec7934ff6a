//! Client commands talking to a node over JSON-RPC.

use crate::CliError;
use crate::client::{Client, DEFAULT_RPC, build_tx, load_key};
use clap::{Args, Subcommand};
use keel_ledger::ProofResponse;
use keel_types::{Address, ContentHashAlg, EvidencePut, Hash, Payload};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Clone)]
pub(crate) struct RpcArg {
    /// Node JSON-RPC endpoint.
    #[arg(long, env = "KEEL_RPC", default_value = DEFAULT_RPC)]
    pub rpc: String,
}

fn print(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).expect("JSON prints"));
}

#[derive(Args)]
pub(crate) struct TransferArgs {
    /// Sender key file.
    #[arg(long)]
    key: PathBuf,
    /// Recipient address (0x…).
    #[arg(long)]
    to: Address,
    /// Amount in the smallest unit.
    #[arg(long)]
    amount: u128,
    /// Return right after admission instead of waiting for the receipt.
    #[arg(long)]
    no_wait: bool,
    #[command(flatten)]
    rpc: RpcArg,
}

pub(crate) fn transfer(a: TransferArgs) -> Result<(), CliError> {
    let c = Client::new(&a.rpc.rpc);
    let chain = c.chain()?;
    let (kf, key) = load_key(&a.key, &chain)?;
    let nonce = c.nonce(&kf.address)?;
    let tx = build_tx(
        &key,
        &chain,
        nonce,
        Payload::Transfer {
            to: a.to,
            amount: a.amount,
        },
    );
    let hash = c.send(&tx)?;
    println!("submitted {hash}");
    if !a.no_wait {
        let r = c.wait_receipt(&hash, Duration::from_secs(60))?;
        print(&r);
        if r["status"] != "success" {
            return Err(CliError::Usage(format!(
                "transaction failed: {}",
                r["error"]["message"]
            )));
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub(crate) enum EvidenceCmd {
    /// Record FILE's hash (the file itself never leaves this machine).
    Put {
        /// The file.
        file: PathBuf,
        /// Owner's key file.
        #[arg(long)]
        key: PathBuf,
        /// Media type.
        #[arg(long, default_value = "application/octet-stream")]
        media_type: String,
        /// Free-form metadata (e.g. JSON), up to 4 KiB.
        #[arg(long, default_value = "")]
        metadata: String,
        #[command(flatten)]
        rpc: RpcArg,
    },
    /// Re-hash FILE, find its record, show who/when/height and verify the Merkle proof.
    Verify {
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        rpc: RpcArg,
    },
    /// Show a record by id.
    Get {
        /// Record id (0x…).
        id: Hash,
        #[command(flatten)]
        rpc: RpcArg,
    },
    /// List an owner's records.
    List {
        /// Owner address.
        owner: Address,
        /// Skip this many.
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// At most this many (≤ 100).
        #[arg(long, default_value_t = 100)]
        limit: u64,
        #[command(flatten)]
        rpc: RpcArg,
    },
}

fn hash_file(path: &PathBuf, alg: ContentHashAlg) -> Result<(Hash, u64), CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
    Ok((Hash(alg.algorithm().digest(&bytes)), bytes.len() as u64))
}

fn content_alg(suite: keel_crypto::Suite) -> ContentHashAlg {
    match suite {
        keel_crypto::Suite::Gm => ContentHashAlg::Sm3,
        keel_crypto::Suite::Intl => ContentHashAlg::Sha256,
    }
}

pub(crate) fn evidence(c: EvidenceCmd) -> Result<(), CliError> {
    match c {
        EvidenceCmd::Put {
            file,
            key,
            media_type,
            metadata,
            rpc,
        } => {
            let c = Client::new(&rpc.rpc);
            let chain = c.chain()?;
            let (kf, key) = load_key(&key, &chain)?;
            let alg = content_alg(chain.suite);
            let (content_hash, size) = hash_file(&file, alg)?;
            let nonce = c.nonce(&kf.address)?;
            let payload = Payload::EvidencePut(EvidencePut {
                content_hash,
                hash_alg: alg,
                size,
                media_type,
                metadata,
            });
            let tx = build_tx(&key, &chain, nonce, payload);
            let hash = c.send(&tx)?;
            let r = c.wait_receipt(&hash, Duration::from_secs(60))?;
            if r["status"] != "success" {
                return Err(CliError::Usage(format!(
                    "evidence not recorded: {}",
                    r["error"]["message"]
                )));
            }
            println!(
                "recorded {} ({}: {content_hash}, {size} bytes)",
                file.display(),
                alg.name()
            );
            println!("  record id  {hash}");
            println!("  height     {}", r["blockHeight"]);
            println!("  owner      {}", kf.address);
            Ok(())
        }
        EvidenceCmd::Verify { file, rpc } => verify_file(&file, &rpc.rpc),
        EvidenceCmd::Get { id, rpc } => {
            let v = Client::new(&rpc.rpc).call("keel_getEvidence", json!([id]))?;
            if v.is_null() {
                return Err(CliError::Usage(format!("no evidence record {id}")));
            }
            print(&v);
            Ok(())
        }
        EvidenceCmd::List {
            owner,
            offset,
            limit,
            rpc,
        } => {
            print(&Client::new(&rpc.rpc).call("keel_listEvidence", json!([owner, offset, limit]))?);
            Ok(())
        }
    }
}

fn verify_file(file: &PathBuf, rpc: &str) -> Result<(), CliError> {
    let c = Client::new(rpc);
    let chain = c.chain()?;
    let alg = content_alg(chain.suite);
    let (content_hash, size) = hash_file(file, alg)?;
    println!("file      {} ({size} bytes)", file.display());
    println!("{:<9} {content_hash}", alg.name());
    let rec = c.call("keel_getEvidence", json!([content_hash, alg.name()]))?;
    if rec.is_null() {
        return Err(CliError::Verify(format!(
            "no evidence record for this file's {} hash on chain {} — the file is not recorded, or it was modified",
            alg.name(),
            chain.chain_id
        )));
    }
    println!("record    {}", rec["id"].as_str().unwrap_or(""));
    println!("owner     {}", rec["owner"].as_str().unwrap_or(""));
    println!("height    {}", rec["height"]);
    println!("time      {} (ms since epoch)", rec["timestampMs"]);
    if rec["size"].as_u64() != Some(size) {
        return Err(CliError::Verify(format!(
            "recorded size {} differs from the file's {size}",
            rec["size"]
        )));
    }
    let proof_json = c.call(
        "keel_getProof",
        json!([{ "contentHash": content_hash, "hashAlg": alg.name() }]),
    )?;
    let proof: ProofResponse = serde_json::from_value(proof_json)
        .map_err(|e| CliError::Verify(format!("node returned a malformed proof: {e}")))?;
    let (header, value) = proof
        .verify()
        .map_err(|e| CliError::Verify(e.to_string()))?;
    let id_hex = rec["id"]
        .as_str()
        .unwrap_or("")
        .trim_start_matches("0x")
        .to_string();
    if value.as_deref().map(hex::encode) != Some(id_hex) {
        return Err(CliError::Verify(
            "the proven index entry does not name this record".into(),
        ));
    }
    println!(
        "proof     OK: content-hash index entry is included in state root {} of block {} ({})",
        header.state_root, header.height, proof.header_hash
    );
    Ok(())
}

#[derive(Args)]
pub(crate) struct BlockArgs {
    /// Height, 0x block hash, `latest` or `earliest`.
    #[arg(default_value = "latest")]
    which: String,
    /// Include full transactions.
    #[arg(long)]
    full: bool,
    #[command(flatten)]
    rpc: RpcArg,
}

pub(crate) fn block(a: BlockArgs) -> Result<(), CliError> {
    let which = match a.which.parse::<u64>() {
        Ok(h) => json!(h),
        Err(_) => json!(a.which),
    };
    let v = Client::new(&a.rpc.rpc).call("keel_getBlock", json!([which, a.full]))?;
    if v.is_null() {
        return Err(CliError::Usage(format!("no block {}", a.which)));
    }
    print(&v);
    Ok(())
}

#[derive(Args)]
pub(crate) struct TxArgs {
    /// Transaction hash.
    hash: Hash,
    #[command(flatten)]
    rpc: RpcArg,
}

pub(crate) fn tx(a: TxArgs) -> Result<(), CliError> {
    let c = Client::new(&a.rpc.rpc);
    let t = c.call("keel_getTransaction", json!([a.hash]))?;
    if t.is_null() {
        return Err(CliError::Usage(format!(
            "transaction {} is not committed (it may still be pending)",
            a.hash
        )));
    }
    let r = c.call("keel_getReceipt", json!([a.hash]))?;
    print(&json!({ "transaction": t, "receipt": r }));
    Ok(())
}

#[derive(Args)]
pub(crate) struct AccountArgs {
    /// Address.
    address: Address,
    #[command(flatten)]
    rpc: RpcArg,
}

pub(crate) fn account(a: AccountArgs) -> Result<(), CliError> {
    print(&Client::new(&a.rpc.rpc).call("keel_getAccount", json!([a.address]))?);
    Ok(())
}

#[derive(Subcommand)]
pub(crate) enum ProofCmd {
    /// Fetch a proof bundle (header + Merkle proof) for offline verification.
    Get {
        /// Prove an account.
        #[arg(long, conflicts_with = "evidence")]
        account: Option<Address>,
        /// Prove an evidence record (by id).
        #[arg(long)]
        evidence: Option<Hash>,
        /// Prove a DID document (`did:keel:<chain>:<id>`, docs/did.md).
        #[arg(long, conflicts_with_all = ["account", "evidence"])]
        did: Option<String>,
        /// Block height (default: latest).
        #[arg(long)]
        height: Option<u64>,
        /// Write the bundle here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        rpc: RpcArg,
    },
    /// Verify a proof bundle offline (no node needed).
    Verify {
        /// Bundle file from `keel proof get`.
        file: PathBuf,
        /// Trusted header hash, e.g. obtained from another node; checked if given.
        #[arg(long)]
        header_hash: Option<Hash>,
    },
}

pub(crate) fn proof(c: ProofCmd) -> Result<(), CliError> {
    match c {
        ProofCmd::Get {
            account,
            evidence,
            did,
            height,
            out,
            rpc,
        } => {
            let spec = match (account, evidence, did) {
                (Some(a), None, None) => json!({ "account": a }),
                (None, Some(id), None) => json!({ "evidence": id }),
                (None, None, Some(d)) => json!({ "did": d }),
                _ => {
                    return Err(CliError::Usage(
                        "give exactly one of --account, --evidence or --did".into(),
                    ));
                }
            };
            let v = Client::new(&rpc.rpc).call("keel_getProof", json!([spec, height]))?;
            let text = serde_json::to_string_pretty(&v).expect("JSON prints");
            match out {
                Some(p) => {
                    std::fs::write(&p, text + "\n").map_err(|e| CliError::io(&p, e))?;
                    println!(
                        "proof for height {} written to {}",
                        v["height"],
                        p.display()
                    );
                }
                None => println!("{text}"),
            }
            Ok(())
        }
        ProofCmd::Verify { file, header_hash } => {
            let text = std::fs::read_to_string(&file).map_err(|e| CliError::io(&file, e))?;
            let bundle: ProofResponse = serde_json::from_str(&text).map_err(|e| {
                CliError::Usage(format!("{} is not a proof bundle: {e}", file.display()))
            })?;
            if let Some(h) = header_hash
                && h != bundle.header_hash
            {
                return Err(CliError::Verify(format!(
                    "bundle is for header {}, not the trusted {h}",
                    bundle.header_hash
                )));
            }
            let (header, value) = bundle
                .verify()
                .map_err(|e| CliError::Verify(e.to_string()))?;
            let what = if value.is_some() {
                "inclusion"
            } else {
                "non-inclusion"
            };
            println!(
                "OK: {what} proof of key 0x{} against state root {} of block {} (header {})",
                bundle.key.trim_start_matches("0x"),
                header.state_root,
                header.height,
                bundle.header_hash
            );
            if header_hash.is_none() {
                println!(
                    "note: pass --header-hash with a hash from a source you trust to pin the header"
                );
            }
            Ok(())
        }
    }
}
