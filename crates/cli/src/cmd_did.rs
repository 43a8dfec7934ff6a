//! `keel did create|update|deactivate|resolve` (did:keel, `docs/did.md`).

use crate::CliError;
use crate::client::{Client, build_tx, load_key};
use crate::cmd_query::RpcArg;
use clap::{Args, Subcommand};
use keel_types::{
    Address, DidChange, DidId, DidMethod, DidOp, DidService, Payload, Scheme, Signer,
};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// A controller's key file and the node.
#[derive(Args)]
pub(crate) struct Sender {
    /// Controller's key file (signs the transaction).
    #[arg(long)]
    key: PathBuf,
    #[command(flatten)]
    rpc: RpcArg,
}

#[derive(Subcommand)]
pub(crate) enum DidCmd {
    /// Create a DID; the key's account is its first controller. Prints the DID.
    Create {
        /// 16-byte id as 32 hex digits (default: derived from the transaction hash).
        #[arg(long)]
        id: Option<String>,
        /// Verification method `FRAGMENT:SCHEME:PUBKEYHEX[:auth|:assert]` (scheme sm2,
        /// ed25519 or secp256k1; default both authentication and assertion). Repeatable.
        #[arg(long = "method")]
        methods: Vec<String>,
        /// Further controller address. Repeatable.
        #[arg(long = "controller")]
        controllers: Vec<Address>,
        /// Service `FRAGMENT:TYPE:ENDPOINT`. Repeatable.
        #[arg(long = "service")]
        services: Vec<String>,
        #[command(flatten)]
        from: Sender,
    },
    /// Change a DID (against its current version, read from the node first).
    Update {
        /// The DID (`did:keel:<chain>:<id>`).
        did: String,
        /// Add a verification method (as for `create`). Repeatable.
        #[arg(long)]
        add_method: Vec<String>,
        /// Remove the verification method with this fragment. Repeatable.
        #[arg(long)]
        remove_method: Vec<String>,
        /// Add a controller. Repeatable.
        #[arg(long)]
        add_controller: Vec<Address>,
        /// Remove a controller. Repeatable.
        #[arg(long)]
        remove_controller: Vec<Address>,
        /// Add a service (as for `create`). Repeatable.
        #[arg(long)]
        add_service: Vec<String>,
        /// Remove the service with this fragment. Repeatable.
        #[arg(long)]
        remove_service: Vec<String>,
        #[command(flatten)]
        from: Sender,
    },
    /// Deactivate a DID for good.
    Deactivate {
        /// The DID.
        did: String,
        #[command(flatten)]
        from: Sender,
    },
    /// Print a DID's W3C DID Resolution result.
    Resolve {
        /// The DID.
        did: String,
        #[command(flatten)]
        rpc: RpcArg,
    },
}

/// Run a `keel did` command.
pub(crate) fn run(c: DidCmd) -> Result<(), CliError> {
    match c {
        DidCmd::Create {
            id,
            methods,
            controllers,
            services,
            from,
        } => {
            let op = DidOp::Create {
                id: id.as_deref().map(parse_id).transpose()?,
                methods: methods
                    .iter()
                    .map(|m| parse_method(m))
                    .collect::<Result<_, _>>()?,
                controllers,
                services: services
                    .iter()
                    .map(|s| parse_service(s))
                    .collect::<Result<_, _>>()?,
            };
            let (r, chain_id) = send(&from, op)?;
            let id = r["output"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches("0x");
            println!("did:keel:{chain_id}:{id}");
            Ok(())
        }
        DidCmd::Update {
            did,
            add_method,
            remove_method,
            add_controller,
            remove_controller,
            add_service,
            remove_service,
            from,
        } => {
            let mut changes = Vec::new();
            for m in &add_method {
                changes.push(DidChange::AddMethod(parse_method(m)?));
            }
            changes.extend(remove_method.into_iter().map(DidChange::RemoveMethod));
            changes.extend(add_controller.into_iter().map(DidChange::AddController));
            changes.extend(
                remove_controller
                    .into_iter()
                    .map(DidChange::RemoveController),
            );
            for s in &add_service {
                changes.push(DidChange::AddService(parse_service(s)?));
            }
            changes.extend(remove_service.into_iter().map(DidChange::RemoveService));
            let r = resolve(&from.rpc.rpc, &did)?;
            let version = r["didDocumentMetadata"]["versionId"]
                .as_str()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| CliError::Usage("the node reported no document version".into()))?;
            let op = DidOp::Update {
                id: did_id(&did)?,
                version,
                changes,
            };
            send(&from, op)?;
            println!("updated {did} (version {})", version + 1);
            Ok(())
        }
        DidCmd::Deactivate { did, from } => {
            send(&from, DidOp::Deactivate { id: did_id(&did)? })?;
            println!("deactivated {did}");
            Ok(())
        }
        DidCmd::Resolve { did, rpc } => {
            let r = resolve(&rpc.rpc, &did)?;
            println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            Ok(())
        }
    }
}

/// The resolution result; an error if resolution failed.
fn resolve(rpc: &str, did: &str) -> Result<Value, CliError> {
    let r = Client::new(rpc).call("keel_resolveDid", json!([did]))?;
    if let Some(e) = r["didResolutionMetadata"]["error"].as_str() {
        return Err(CliError::Usage(format!("cannot resolve {did}: {e}")));
    }
    Ok(r)
}

/// Send `op` signed by the sender's key; the successful receipt and the chain id.
fn send(from: &Sender, op: DidOp) -> Result<(Value, u64), CliError> {
    let c = Client::new(&from.rpc.rpc);
    let chain = c.chain()?;
    let (kf, key) = load_key(&from.key, &chain)?;
    let nonce = c.nonce(&kf.address)?;
    let hash = c.send(&build_tx(&key, &chain, nonce, Payload::Did(op)))?;
    let r = c.wait_receipt(&hash, Duration::from_secs(60))?;
    if r["status"] != "success" {
        return Err(CliError::Usage(format!(
            "DID operation failed: {} {}",
            r["error"]["name"], r["error"]["message"]
        )));
    }
    Ok((r, chain.chain_id))
}

fn parse_id(s: &str) -> Result<DidId, CliError> {
    let mut id = [0u8; 16];
    hex::decode_to_slice(s.trim_start_matches("0x"), &mut id)
        .map_err(|_| CliError::Usage(format!("{s}: a DID id is 32 hex digits")))?;
    Ok(id)
}

/// The 16-byte id of `did:keel:<chain>:<id>`.
fn did_id(did: &str) -> Result<DidId, CliError> {
    let id = did
        .strip_prefix("did:keel:")
        .and_then(|r| r.split_once(':'))
        .map(|(_, id)| id)
        .ok_or_else(|| CliError::Usage(format!("{did} is not a did:keel DID")))?;
    parse_id(id)
}

/// `FRAGMENT:SCHEME:PUBKEYHEX[:auth|:assert]`.
fn parse_method(s: &str) -> Result<DidMethod, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "{s}: expected FRAGMENT:SCHEME:PUBKEYHEX[:auth|:assert]"
        ))
    };
    let parts: Vec<&str> = s.split(':').collect();
    let (fragment, scheme, key, purpose) = match parts.as_slice() {
        [f, sc, k] => (*f, *sc, *k, None),
        [f, sc, k, p] => (*f, *sc, *k, Some(*p)),
        _ => return Err(bad()),
    };
    let scheme = Scheme::ALL
        .into_iter()
        .find(|x| x.name() == scheme)
        .ok_or_else(bad)?;
    let public_key = hex::decode(key.trim_start_matches("0x")).map_err(|_| bad())?;
    let (authentication, assertion) = match purpose {
        None => (true, true),
        Some("auth") => (true, false),
        Some("assert") => (false, true),
        Some(_) => return Err(bad()),
    };
    Ok(DidMethod {
        fragment: fragment.into(),
        key: Signer { scheme, public_key },
        authentication,
        assertion,
    })
}

/// `FRAGMENT:TYPE:ENDPOINT` (the endpoint may contain `:`).
fn parse_service(s: &str) -> Result<DidService, CliError> {
    let mut it = s.splitn(3, ':');
    match (it.next(), it.next(), it.next()) {
        (Some(f), Some(k), Some(e)) if !f.is_empty() && !k.is_empty() && !e.is_empty() => {
            Ok(DidService {
                fragment: f.into(),
                kind: k.into(),
                endpoint: e.into(),
            })
        }
        _ => Err(CliError::Usage(format!(
            "{s}: expected FRAGMENT:TYPE:ENDPOINT"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_and_service_specs_parse_and_bad_ones_are_refused() {
        let m = parse_method("key-1:ed25519:0xaabb:auth").map_err(|e| e.to_string());
        let m = m.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (m.fragment.as_str(), m.key.scheme),
            ("key-1", Scheme::Ed25519)
        );
        assert_eq!(
            (m.key.public_key, m.authentication, m.assertion),
            (vec![0xaa, 0xbb], true, false)
        );
        for bad in ["k:rsa:aa", "k:sm2:zz", "k:sm2", "k:sm2:aa:sign"] {
            assert!(parse_method(bad).is_err(), "{bad}");
        }
        let s = parse_service("hub:LinkedDomains:https://x.org:8443/a").map_err(|e| e.to_string());
        assert_eq!(
            s.map(|s| s.endpoint),
            Ok("https://x.org:8443/a".to_string())
        );
        assert!(parse_service("hub:LinkedDomains").is_err());
        let id = did_id("did:keel:7:00112233445566778899aabbccddeeff").map_err(|e| e.to_string());
        assert_eq!(id.map(|i| i[15]), Ok(0xff));
        assert!(did_id("did:web:example.org").is_err());
    }
}
