//! `keel gov`: on-chain governance (ADR 0011) — members, proposals, votes, permissions.

use crate::CliError;
use crate::client::{Client, build_tx, load_key};
use crate::cmd_query::RpcArg;
use clap::{Args, Subcommand};
use keel_crypto::Scheme;
use keel_node::KeyFile;
use keel_types::{
    Address, ChainParam, GovAction, GovPayload, Hash, OpPolicy, Operation, Payload, Role, Signer,
    ValidatorInfo,
};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

fn print(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).expect("JSON prints"));
}

#[derive(Subcommand)]
pub(crate) enum GovCmd {
    /// Show the committee, the validators of the current epoch and which are online.
    Members {
        #[command(flatten)]
        rpc: RpcArg,
    },
    /// List open and recently closed proposals.
    List {
        #[command(flatten)]
        rpc: RpcArg,
    },
    /// Show one proposal.
    Show {
        /// Proposal id (0x…).
        id: Hash,
        #[command(flatten)]
        rpc: RpcArg,
    },
    /// Show an account's role, freeze state and whether it may send.
    Perms {
        /// Account address.
        address: Address,
        #[command(flatten)]
        rpc: RpcArg,
    },
    /// Open a proposal (committee members only); your yes vote is counted.
    Propose(ProposeArgs),
    /// Vote on an open proposal (committee members only).
    Vote(VoteArgs),
    /// Revoke a certificate of your own organisation without a vote: --key must be an
    /// org_admin account admitted with its certificate (`propose admit --cert`), and the
    /// certificate's organisation (subject O) must be yours. Every node then drops its links.
    RevokeMember {
        /// The certificate to revoke (PEM or DER; the first certificate of a chain).
        #[arg(long)]
        cert: PathBuf,
        #[command(flatten)]
        send: SendOpts,
    },
}

#[derive(Args)]
pub(crate) struct SendOpts {
    /// Member key file that signs.
    #[arg(long)]
    key: PathBuf,
    /// Return right after admission instead of waiting for the receipt.
    #[arg(long)]
    no_wait: bool,
    #[command(flatten)]
    rpc: RpcArg,
}

#[derive(Args)]
pub(crate) struct ProposeArgs {
    #[command(subcommand)]
    action: ActionCmd,
    /// Lifetime in blocks (0 = the chain default).
    #[arg(long, default_value_t = 0, global = true)]
    ttl: u64,
}

#[derive(Subcommand)]
enum ActionCmd {
    /// Add a committee member.
    AddMember {
        /// Member account.
        #[arg(long)]
        address: Address,
        /// Voting weight.
        #[arg(long, default_value_t = 1)]
        weight: u64,
        /// Organisation.
        #[arg(long, default_value = "")]
        org: String,
        #[command(flatten)]
        send: SendOpts,
    },
    /// Remove a committee member (never the last).
    RemoveMember {
        /// Member account.
        #[arg(long)]
        address: Address,
        #[command(flatten)]
        send: SendOpts,
    },
    /// Add a validator at the next epoch boundary.
    AddValidator {
        /// Human name.
        #[arg(long)]
        name: String,
        /// The validator's node key file (only its public part is read).
        #[arg(long)]
        node_key: PathBuf,
        /// Its P2P address (host:port).
        #[arg(long, default_value = "")]
        p2p: String,
        #[command(flatten)]
        send: SendOpts,
    },
    /// Remove a validator at the next epoch boundary.
    RemoveValidator {
        /// Validator address.
        #[arg(long)]
        address: Address,
        #[command(flatten)]
        send: SendOpts,
    },
    /// Admit an account with a role (client, auditor, observer, org_admin).
    Admit {
        /// Account.
        #[arg(long)]
        address: Address,
        /// Role.
        #[arg(long, default_value = "client")]
        role: String,
        /// Organisation.
        #[arg(long, default_value = "")]
        org: String,
        /// Certificate fingerprint to bind (0x…), optional: once governance revokes that
        /// certificate, the account's transactions are refused (`CERTIFICATE_REVOKED`).
        #[arg(long, conflicts_with = "cert")]
        cert_fingerprint: Option<Hash>,
        /// Admit the account with its client certificate (PEM or DER; the first certificate):
        /// its role and organisation are the certificate's (--role and --org are ignored), and
        /// the account is refused once the certificate expires or is revoked on chain. Check
        /// the chain first: `keel cert verify FILE --root root.crt --role client`.
        #[arg(long)]
        cert: Option<PathBuf>,
        #[command(flatten)]
        send: SendOpts,
    },
    /// Revoke an account's admission.
    RemoveAccount {
        /// Account.
        #[arg(long)]
        address: Address,
        #[command(flatten)]
        send: SendOpts,
    },
    /// Freeze an account.
    Freeze {
        /// Account.
        #[arg(long)]
        address: Address,
        #[command(flatten)]
        send: SendOpts,
    },
    /// Unfreeze an account.
    Unfreeze {
        /// Account.
        #[arg(long)]
        address: Address,
        #[command(flatten)]
        send: SendOpts,
    },
    /// Revoke a certificate on chain: once accepted, every node closes the links of a node
    /// holding it (or holding a certificate it issued, for an organisation CA), ignores its
    /// relayed votes, and refuses transactions of accounts bound to it.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["fingerprint", "cert"])))]
    RevokeCert {
        /// Fingerprint (0x…; `keel cert show` prints it).
        #[arg(long)]
        fingerprint: Option<Hash>,
        /// The certificate file (PEM or DER; the first certificate of a chain).
        #[arg(long)]
        cert: Option<PathBuf>,
        #[command(flatten)]
        send: SendOpts,
    },
    /// Restrict an operation (transfer, evidence_put, deploy_contract, call_contract,
    /// asset_issue) to an allow list, forbid it to a deny list, or reopen it.
    OpPolicy {
        /// Operation name.
        #[arg(long)]
        op: String,
        /// Only these accounts may perform it (comma-separated).
        #[arg(long, value_delimiter = ',', conflicts_with_all = ["deny", "open"])]
        allow: Vec<Address>,
        /// These accounts may not perform it (comma-separated).
        #[arg(long, value_delimiter = ',', conflicts_with = "open")]
        deny: Vec<Address>,
        /// Remove any restriction.
        #[arg(long)]
        open: bool,
        #[command(flatten)]
        send: SendOpts,
    },
    /// The node list (the same model as op-policy, for nodes): a deny list keeps those nodes
    /// from linking and voting even with a valid certificate; an allow list admits only its
    /// nodes; --open removes the restriction. Addresses are node-key addresses. Refused if
    /// the validators left able to link would not form a quorum.
    NodePolicy {
        /// Only these nodes may link (comma-separated).
        #[arg(long, value_delimiter = ',', conflicts_with_all = ["deny", "open"])]
        allow: Vec<Address>,
        /// These nodes may not link (comma-separated).
        #[arg(long, value_delimiter = ',', conflicts_with = "open")]
        deny: Vec<Address>,
        /// Remove any restriction.
        #[arg(long)]
        open: bool,
        #[command(flatten)]
        send: SendOpts,
    },
    /// Change a chain parameter: gas_price, max_block_txs, block_interval_ms,
    /// proposal_ttl_blocks, max_block_gas, require_account_certificates (0 or 1).
    SetParam {
        /// Parameter name.
        #[arg(long)]
        name: String,
        /// New value.
        #[arg(long)]
        value: u128,
        #[command(flatten)]
        send: SendOpts,
    },
}

#[derive(Args)]
pub(crate) struct VoteArgs {
    /// Proposal id (0x…).
    id: Hash,
    /// Vote no (default: yes).
    #[arg(long)]
    no: bool,
    #[command(flatten)]
    send: SendOpts,
}

fn param(name: &str, value: u128) -> Result<ChainParam, CliError> {
    let small = |what: &str| {
        u64::try_from(value).map_err(|_| CliError::Usage(format!("{what} is too large")))
    };
    Ok(match name {
        "gas_price" => ChainParam::GasPrice(value),
        "max_block_txs" => ChainParam::MaxBlockTxs(
            u32::try_from(value)
                .map_err(|_| CliError::Usage("max_block_txs is too large".into()))?,
        ),
        "block_interval_ms" => ChainParam::BlockIntervalMs(small(name)?),
        "proposal_ttl_blocks" => ChainParam::ProposalTtlBlocks(small(name)?),
        "max_block_gas" => ChainParam::MaxBlockGas(small(name)?),
        "require_account_certificates" => ChainParam::RequireAccountCertificates(match value {
            0 => false,
            1 => true,
            _ => {
                return Err(CliError::Usage(
                    "require_account_certificates is 0 or 1".into(),
                ));
            }
        }),
        other => {
            return Err(CliError::Usage(format!(
                "unknown parameter {other:?}; one of gas_price, max_block_txs, block_interval_ms, proposal_ttl_blocks, max_block_gas, require_account_certificates"
            )));
        }
    })
}

fn validator_from_key(
    name: String,
    path: &PathBuf,
    p2p: String,
) -> Result<ValidatorInfo, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
    let kf: KeyFile = serde_json::from_str(&text)
        .map_err(|e| CliError::Usage(format!("{}: not a key file: {e}", path.display())))?;
    let scheme: Scheme = kf.scheme.parse().map_err(|_| {
        CliError::Usage(format!(
            "{}: unknown scheme {:?}",
            path.display(),
            kf.scheme
        ))
    })?;
    let public_key = hex::decode(kf.public_key.trim_start_matches("0x"))
        .map_err(|_| CliError::Usage(format!("{}: public_key is not hex", path.display())))?;
    Ok(ValidatorInfo {
        name,
        key: Signer { scheme, public_key },
        p2p_addr: p2p,
    })
}

fn action_of(cmd: ActionCmd) -> Result<(GovAction, SendOpts), CliError> {
    Ok(match cmd {
        ActionCmd::AddMember {
            address,
            weight,
            org,
            send,
        } => (
            GovAction::AddMember {
                address,
                weight,
                org,
            },
            send,
        ),
        ActionCmd::RemoveMember { address, send } => (GovAction::RemoveMember { address }, send),
        ActionCmd::AddValidator {
            name,
            node_key,
            p2p,
            send,
        } => (
            GovAction::AddValidator(validator_from_key(name, &node_key, p2p)?),
            send,
        ),
        ActionCmd::RemoveValidator { address, send } => {
            (GovAction::RemoveValidator { address }, send)
        }
        ActionCmd::Admit {
            address,
            role,
            org,
            cert_fingerprint,
            cert,
            send,
        } => {
            if let Some(path) = cert {
                return Ok((account_certificate(address, &path)?, send));
            }
            let role = Role::from_name(&role).ok_or_else(|| {
                CliError::Usage(format!(
                    "unknown role {role:?}; one of client, auditor, observer, org_admin"
                ))
            })?;
            (
                GovAction::SetAccount {
                    address,
                    role,
                    org,
                    cert_fingerprint,
                },
                send,
            )
        }
        ActionCmd::RemoveAccount { address, send } => (GovAction::RemoveAccount { address }, send),
        ActionCmd::Freeze { address, send } => (GovAction::Freeze { address }, send),
        ActionCmd::Unfreeze { address, send } => (GovAction::Unfreeze { address }, send),
        ActionCmd::RevokeCert {
            fingerprint,
            cert,
            send,
        } => {
            let fingerprint = match (fingerprint, cert) {
                (Some(f), _) => f,
                (None, Some(path)) => fingerprint_of(&path)?,
                (None, None) => {
                    return Err(CliError::Usage("give --fingerprint or --cert".into()));
                }
            };
            (GovAction::RevokeCertificate { fingerprint }, send)
        }
        ActionCmd::OpPolicy {
            op,
            allow,
            deny,
            open,
            send,
        } => {
            let op = Operation::from_name(&op).ok_or_else(|| {
                CliError::Usage(format!(
                    "unknown operation {op:?}; one of transfer, evidence_put, deploy_contract, call_contract, asset_issue"
                ))
            })?;
            let policy = list_policy(open, allow, deny)?;
            (GovAction::SetOperationPolicy { op, policy }, send)
        }
        ActionCmd::NodePolicy {
            allow,
            deny,
            open,
            send,
        } => {
            let policy = list_policy(open, allow, deny)?;
            (GovAction::SetNodePolicy { policy }, send)
        }
        ActionCmd::SetParam { name, value, send } => {
            (GovAction::SetParam(param(&name, value)?), send)
        }
    })
}

/// Sign, send and (unless `--no-wait`) wait for the receipt; a failed receipt is an error.
fn submit(send: &SendOpts, payload: GovPayload) -> Result<Hash, CliError> {
    let c = Client::new(&send.rpc.rpc);
    let chain = c.chain()?;
    let (kf, key) = load_key(&send.key, &chain)?;
    let nonce = c.nonce(&kf.address)?;
    let tx = build_tx(&key, &chain, nonce, Payload::Gov(payload));
    let hash = c.send(&tx)?;
    println!("submitted {hash}");
    if !send.no_wait {
        let r = c.wait_receipt(&hash, Duration::from_secs(60))?;
        print(&r);
        if r["status"] != "success" {
            return Err(CliError::Usage(format!(
                "transaction failed: {} {}",
                r["error"]["name"], r["error"]["message"]
            )));
        }
    }
    Ok(hash)
}

/// Run `keel gov …`.
pub(crate) fn run(cmd: GovCmd) -> Result<(), CliError> {
    match cmd {
        GovCmd::Members { rpc } => {
            print(&Client::new(&rpc.rpc).call("keel_getMembers", json!([]))?)
        }
        GovCmd::List { rpc } => {
            print(&Client::new(&rpc.rpc).call("keel_listProposals", json!([]))?)
        }
        GovCmd::Show { id, rpc } => {
            print(&Client::new(&rpc.rpc).call("keel_getProposal", json!([id]))?)
        }
        GovCmd::Perms { address, rpc } => {
            print(&Client::new(&rpc.rpc).call("keel_getPermissions", json!([address]))?)
        }
        GovCmd::Propose(a) => {
            let (action, send) = action_of(a.action)?;
            let id = submit(
                &send,
                GovPayload::Propose {
                    action,
                    ttl_blocks: a.ttl,
                },
            )?;
            println!("proposal {id}");
        }
        GovCmd::Vote(v) => {
            submit(
                &v.send,
                GovPayload::Vote {
                    proposal: v.id,
                    approve: !v.no,
                },
            )?;
        }
        GovCmd::RevokeMember { cert, send } => {
            let certificate = crate::cmd_ca::load_cert(&cert)?.der().to_vec();
            submit(&send, GovPayload::RevokeMemberCertificate { certificate })?;
        }
    }
    Ok(())
}

/// The fingerprint governance uses for the first certificate of a file.
fn fingerprint_of(path: &std::path::Path) -> Result<Hash, CliError> {
    Ok(Hash(crate::cmd_ca::load_cert(path)?.fingerprint_digest()))
}

/// `--open`, `--allow ADDRS` or `--deny ADDRS` as a policy.
fn list_policy(open: bool, allow: Vec<Address>, deny: Vec<Address>) -> Result<OpPolicy, CliError> {
    Ok(match (open, allow.is_empty(), deny.is_empty()) {
        (true, _, _) => OpPolicy::Open,
        (false, false, _) => OpPolicy::AllowList(allow),
        (false, true, false) => OpPolicy::DenyList(deny),
        (false, true, true) => {
            return Err(CliError::Usage(
                "give --allow ADDRS, --deny ADDRS or --open".into(),
            ));
        }
    })
}

/// `SetAccountCertificate` from a client certificate file: role, organisation, fingerprint and
/// notAfter are the certificate's.
fn account_certificate(address: Address, path: &std::path::Path) -> Result<GovAction, CliError> {
    let cert = crate::cmd_ca::load_cert(path)?;
    let bad = |why: String| CliError::Usage(format!("{}: {why}", path.display()));
    let role = match cert.role() {
        Some(keel_pki::Role::Client) => Role::Client,
        Some(keel_pki::Role::Auditor) => Role::Auditor,
        Some(keel_pki::Role::OrgAdmin) => Role::OrgAdmin,
        Some(keel_pki::Role::Observer) => Role::Observer,
        other => {
            return Err(bad(format!(
                "role {other:?} is not an account role (client, auditor, org-admin, observer)"
            )));
        }
    };
    let org = cert
        .organization()
        .ok_or_else(|| bad("the certificate names no single organisation".into()))?;
    Ok(GovAction::SetAccountCertificate {
        address,
        fingerprint: Hash(cert.fingerprint_digest()),
        role,
        org,
        not_after_secs: cert.not_after(),
    })
}
