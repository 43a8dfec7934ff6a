//! did:keel (issue 15; `docs/did.md`): the `Payload::Did` operations and their field limits.
//!
//! A DID is `did:keel:<chain id>:<32 hex digits>`; its 16-byte id is chosen by the creator or,
//! when omitted, the first 16 bytes of the creating transaction's hash (which covers chain id,
//! sender and nonce, so it never repeats). Its document (controllers, verification methods,
//! services) lives in chain state; every update names the document's current version and is
//! sent by one of its controllers.

use crate::tx::{GAS_PER_STORED_BYTE, Signer};
use crate::{Address, codec};
use borsh::{BorshDeserialize, BorshSerialize};

/// Most verification methods in a document.
pub const MAX_DID_METHODS: usize = 16;
/// Most services in a document.
pub const MAX_DID_SERVICES: usize = 16;
/// Most controllers of a document.
pub const MAX_DID_CONTROLLERS: usize = 8;
/// Most changes in one update.
pub const MAX_DID_CHANGES: usize = 16;
/// Longest fragment (`key-1` in `did:keel:…#key-1`): 1 to 32 of `A-Z a-z 0-9 . _ -`.
pub const MAX_DID_FRAGMENT_BYTES: usize = 32;
/// Longest service type, bytes (1 to 64 printable ASCII, no spaces).
pub const MAX_DID_SERVICE_TYPE_BYTES: usize = 64;
/// Longest service endpoint, bytes (1 to 256 printable ASCII, no spaces).
pub const MAX_DID_ENDPOINT_BYTES: usize = 256;
/// Base gas of a create, plus 16 per encoded byte of the operation.
pub const GAS_DID_CREATE: u64 = 50_000;
/// Base gas of an update or deactivation, plus 16 per encoded byte of the operation.
pub const GAS_DID_OP: u64 = 30_000;

/// The 16-byte id of a did:keel DID.
pub type DidId = [u8; 16];

/// A verification method: a key (scheme and public key, as a transaction signer names it),
/// the fragment naming it in the document, and what it may be used for.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DidMethod {
    /// Fragment (`key-1`), unique among the document's methods.
    pub fragment: String,
    /// Scheme and encoded public key.
    pub key: Signer,
    /// Listed under `authentication`.
    pub authentication: bool,
    /// Listed under `assertionMethod` (issues credentials).
    pub assertion: bool,
}

/// A service endpoint.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DidService {
    /// Fragment, unique among the document's services.
    pub fragment: String,
    /// Service type, e.g. `LinkedDomains`.
    pub kind: String,
    /// Endpoint URI.
    pub endpoint: String,
}

/// One change of an update.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum DidChange {
    /// Add a verification method (its fragment must be new).
    AddMethod(DidMethod),
    /// Remove the verification method with this fragment.
    RemoveMethod(String),
    /// Add a controller.
    AddController(Address),
    /// Remove a controller (the last one cannot be removed).
    RemoveController(Address),
    /// Add a service (its fragment must be new).
    AddService(DidService),
    /// Remove the service with this fragment.
    RemoveService(String),
}

/// A did:keel operation.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum DidOp {
    /// Create a document; the sender is its first controller.
    Create {
        /// Chosen id; `None`: the first 16 bytes of the transaction hash.
        id: Option<DidId>,
        /// Verification methods.
        methods: Vec<DidMethod>,
        /// Further controllers (besides the sender).
        controllers: Vec<Address>,
        /// Services.
        services: Vec<DidService>,
    },
    /// A controller changes the document; applied in order, all or nothing.
    Update {
        /// DID id.
        id: DidId,
        /// The document version the change was made against (refused if stale).
        version: u64,
        /// Changes.
        changes: Vec<DidChange>,
    },
    /// A controller deactivates the DID for good.
    Deactivate {
        /// DID id.
        id: DidId,
    },
}

/// A refused field: its name and why.
pub type FieldError = (&'static str, String);

impl DidOp {
    /// Stable lower-case name.
    pub fn name(&self) -> &'static str {
        match self {
            DidOp::Create { .. } => "create",
            DidOp::Update { .. } => "update",
            DidOp::Deactivate { .. } => "deactivate",
        }
    }

    /// Gas the operation uses: a base plus 16 per encoded byte.
    pub fn gas(&self) -> u64 {
        let base = match self {
            DidOp::Create { .. } => GAS_DID_CREATE,
            _ => GAS_DID_OP,
        };
        base + GAS_PER_STORED_BYTE * codec::encode(self).len() as u64
    }

    /// Field limits, checked at admission, in block validation and again in execution.
    pub fn check(&self) -> Result<(), FieldError> {
        match self {
            DidOp::Create {
                methods,
                controllers,
                services,
                ..
            } => {
                bound("methods", methods.len(), MAX_DID_METHODS)?;
                bound("services", services.len(), MAX_DID_SERVICES)?;
                bound("controllers", controllers.len(), MAX_DID_CONTROLLERS)?;
                methods.iter().try_for_each(check_method)?;
                services.iter().try_for_each(check_service)
            }
            DidOp::Update { changes, .. } => {
                if changes.is_empty() {
                    return Err(("changes", "an update changes something".into()));
                }
                bound("changes", changes.len(), MAX_DID_CHANGES)?;
                changes.iter().try_for_each(check_change)
            }
            DidOp::Deactivate { .. } => Ok(()),
        }
    }
}

fn bound(field: &'static str, n: usize, max: usize) -> Result<(), FieldError> {
    if n > max {
        return Err((field, format!("{n} is over the {max} allowed")));
    }
    Ok(())
}

fn check_change(c: &DidChange) -> Result<(), FieldError> {
    match c {
        DidChange::AddMethod(m) => check_method(m),
        DidChange::AddService(s) => check_service(s),
        DidChange::RemoveMethod(f) | DidChange::RemoveService(f) => check_fragment(f),
        DidChange::AddController(_) | DidChange::RemoveController(_) => Ok(()),
    }
}

/// A fragment is 1 to [`MAX_DID_FRAGMENT_BYTES`] of `A-Z a-z 0-9 . _ -`.
pub fn check_fragment(f: &str) -> Result<(), FieldError> {
    let ok = f
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if f.is_empty() || f.len() > MAX_DID_FRAGMENT_BYTES || !ok {
        return Err((
            "fragment",
            format!("must be 1 to {MAX_DID_FRAGMENT_BYTES} of A-Z a-z 0-9 . _ -"),
        ));
    }
    Ok(())
}

fn check_method(m: &DidMethod) -> Result<(), FieldError> {
    check_fragment(&m.fragment)?;
    let (scheme, pk) = (m.key.scheme, &m.key.public_key);
    if pk.len() != scheme.public_key_len() {
        return Err((
            "public_key",
            format!(
                "{} bytes, {scheme} keys are {}",
                pk.len(),
                scheme.public_key_len()
            ),
        ));
    }
    // Reject keys that do not decode (a point off the curve), whatever the hash.
    keel_crypto::address_of(scheme, pk, keel_crypto::HashAlgorithm::Sha256)
        .map_err(|e| ("public_key", e.to_string()))?;
    Ok(())
}

fn printable(field: &'static str, s: &str, max: usize) -> Result<(), FieldError> {
    let ok = s.bytes().all(|b| b.is_ascii_graphic());
    if s.is_empty() || s.len() > max || !ok {
        return Err((
            field,
            format!("must be 1 to {max} printable ASCII, no spaces"),
        ));
    }
    Ok(())
}

fn check_service(s: &DidService) -> Result<(), FieldError> {
    check_fragment(&s.fragment)?;
    printable("service.type", &s.kind, MAX_DID_SERVICE_TYPE_BYTES)?;
    printable("service.endpoint", &s.endpoint, MAX_DID_ENDPOINT_BYTES)
}
