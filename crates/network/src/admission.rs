//! Certificate-based admission of node links (ADR 0010): the certificate section of the
//! identity message, the check of a peer's chain, and the revocation state shared by the
//! handshakes and `NetworkHandle::set_revoked`.

use std::sync::{PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use keel_crypto::Scheme;
use std::collections::HashSet;

use keel_pki::{Certificate, PkiError, RevokedSet, Role, Serial};
use keel_types::{Address, Hash};
use std::collections::BTreeSet;

use crate::config::{AUTH_MAX_CERTS, PkiConfig};
use crate::error::{LinkError, NetworkError};

/// What a peer's verified certificate says; shown in `PeerStatus::certificate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerCert {
    /// Its role (validator or observer).
    pub role: Role,
    /// Its organisation (subject O).
    pub organization: String,
    /// Serials of the node certificate and of the CAs below the root (a revocation of any
    /// of them drops the link).
    pub serials: Vec<Serial>,
    /// Fingerprints of the same certificates ([`Certificate::fingerprint_digest`]): a
    /// revocation voted on chain names one of them.
    pub fingerprints: Vec<Hash>,
    /// The earliest notAfter on its chain, Unix seconds: the link is closed once the clock
    /// passes it (`NetworkHandle::sweep_expired`).
    pub not_after: u64,
}

/// Admission state of a running network.
#[derive(Debug)]
pub(crate) struct PkiState {
    roots: Vec<Certificate>,
    /// The dialed peers (`NetworkConfig::peers`, the validators): their certificates must
    /// have the validator role; inbound-only peers may be validators or observers.
    validators: RwLock<HashSet<Address>>,
    pub(crate) own_chain_der: Vec<Vec<u8>>,
    revoked: RwLock<RevokedSet>,
    /// Fingerprints revoked on chain (governance), merged with the CRL's serials.
    revoked_fingerprints: RwLock<BTreeSet<Hash>>,
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl PkiState {
    /// Checks our own chain the way peers will (fail at start, not at every handshake).
    pub(crate) fn new(
        config: &PkiConfig,
        validators: HashSet<Address>,
        scheme: Scheme,
        public_key: &[u8],
    ) -> Result<PkiState, NetworkError> {
        keel_pki::verify_node_chain(
            &config.chain,
            &config.roots,
            now_secs(),
            &config.revoked,
            scheme,
            public_key,
        )
        .map_err(|e| NetworkError::InvalidConfig {
            field: "pki.chain",
            reason: format!("this node's own certificate chain is refused: {e}"),
        })?;
        Ok(PkiState {
            roots: config.roots.clone(),
            validators: RwLock::new(validators),
            own_chain_der: config.chain.iter().map(|c| c.der().to_vec()).collect(),
            revoked: RwLock::new(config.revoked.clone()),
            revoked_fingerprints: RwLock::default(),
        })
    }

    pub(crate) fn set_revoked(&self, revoked: RevokedSet) {
        *self.revoked.write().unwrap_or_else(PoisonError::into_inner) = revoked;
    }

    pub(crate) fn revoked_set(&self) -> RevokedSet {
        self.revoked
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `address` joined as a validator: its certificate must have the validator role.
    pub(crate) fn add_validator(&self, address: Address) {
        self.validators
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(address);
    }

    /// Replaces the fingerprints revoked on chain.
    pub(crate) fn set_revoked_fingerprints(&self, revoked: BTreeSet<Hash>) {
        *self
            .revoked_fingerprints
            .write()
            .unwrap_or_else(PoisonError::into_inner) = revoked;
    }

    /// Whether a certificate of `cert`'s chain is revoked, by the CRL or on chain.
    pub(crate) fn is_revoked(&self, cert: &PeerCert) -> bool {
        let set = self.revoked.read().unwrap_or_else(PoisonError::into_inner);
        if cert
            .serials
            .iter()
            .any(|s| keel_pki::RevocationSource::is_revoked(&*set, s))
        {
            return true;
        }
        let fps = self
            .revoked_fingerprints
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        cert.fingerprints.iter().any(|f| fps.contains(f))
    }

    /// The admission check of a peer that proved possession of `(scheme, public_key)`.
    pub(crate) fn check(
        &self,
        address: Address,
        certs: &[&[u8]],
        scheme: Scheme,
        public_key: &[u8],
    ) -> Result<PeerCert, LinkError> {
        let refused = |e: PkiError| LinkError::Certificate {
            address,
            code: e.code(),
            reason: e.to_string(),
        };
        if certs.is_empty() {
            return Err(LinkError::Certificate {
                address,
                code: "missing",
                reason: "no certificate chain presented".into(),
            });
        }
        let chain = certs
            .iter()
            .map(|der| Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(refused)?;
        let revoked = self
            .revoked
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let (verified, role) = keel_pki::verify_node_chain(
            &chain,
            &self.roots,
            now_secs(),
            &revoked,
            scheme,
            public_key,
        )
        .map_err(refused)?;
        let must_validate = self
            .validators
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&address);
        if role != Role::Validator && must_validate {
            return Err(LinkError::Certificate {
                address,
                code: "wrong_usage",
                reason: format!("a validator's certificate has role {role}"),
            });
        }
        let below_root = verified.below_anchor();
        let cert = PeerCert {
            role,
            organization: verified.leaf().organization().unwrap_or_default(),
            serials: below_root.iter().map(Certificate::serial).collect(),
            fingerprints: below_root
                .iter()
                .map(|c| Hash(c.fingerprint_digest()))
                .collect(),
            not_after: verified.not_after(),
        };
        if self.is_revoked(&cert) {
            return Err(LinkError::Certificate {
                address,
                code: "revoked",
                reason: "a certificate of the chain was revoked on chain by governance".into(),
            });
        }
        Ok(cert)
    }
}

/// Appends the certificate section: `count: u8 ‖ (len: u16 BE ‖ der)*`.
pub(crate) fn encode_certs(out: &mut Vec<u8>, chain: &[Vec<u8>]) {
    out.push(u8::try_from(chain.len()).unwrap_or(u8::MAX));
    for der in chain {
        out.extend_from_slice(&u16::try_from(der.len()).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(der);
    }
}

/// Decodes the certificate section strictly (count ≤ [`AUTH_MAX_CERTS`], exact lengths, no
/// trailing bytes).
pub(crate) fn decode_certs(mut rest: &[u8]) -> Result<Vec<&[u8]>, LinkError> {
    let malformed = |reason| LinkError::MalformedAuth { reason };
    let (&count, tail) = rest
        .split_first()
        .ok_or(malformed("no certificate count"))?;
    rest = tail;
    if usize::from(count) > AUTH_MAX_CERTS {
        return Err(malformed("too many certificates"));
    }
    let mut certs = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let (len, tail) = rest
            .split_at_checked(2)
            .ok_or(malformed("truncated certificate length"))?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let (der, tail) = tail
            .split_at_checked(len)
            .ok_or(malformed("truncated certificate"))?;
        certs.push(der);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(malformed("trailing bytes"));
    }
    Ok(certs)
}
