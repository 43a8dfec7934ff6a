//! Chain verification: path building to a trusted root, signatures, CA constraints, dates,
//! revocation; then the use checks (role, key usage, key equality).

use crate::{Certificate, PkiError, RevocationSource, Role};

/// Most certificates in a presented chain (leaf and intermediates, a root copy included).
pub const MAX_CHAIN_CERTS: usize = 4;

/// A chain that verified: the path from the leaf up to and including the trusted root.
#[derive(Clone, Debug)]
pub struct VerifiedChain {
    /// Leaf first, the trusted root last; never empty (only `verify_chain` builds it).
    path: Vec<Certificate>,
}

impl VerifiedChain {
    /// The path: leaf first, the trusted root last (at least one certificate).
    pub fn path(&self) -> &[Certificate] {
        &self.path
    }

    /// The end-entity certificate.
    pub fn leaf(&self) -> &Certificate {
        // `verify_chain` never builds an empty path.
        &self.path[0]
    }

    /// The trusted root (or anchor) the path ends at.
    pub fn anchor(&self) -> &Certificate {
        &self.path[self.path.len() - 1]
    }

    /// Every certificate below the anchor (those whose revocation matters).
    pub fn below_anchor(&self) -> &[Certificate] {
        &self.path[..self.path.len() - 1]
    }

    /// The earliest notAfter on the path (when the chain as a whole stops verifying).
    pub fn not_after(&self) -> u64 {
        self.path
            .iter()
            .map(Certificate::not_after)
            .min()
            .unwrap_or(0)
    }
}

/// Verifies `chain` (leaf first, then its issuers in any order; a copy of the root may be
/// included) against the trusted `roots` at time `now` (Unix seconds):
///
/// 1. a path is built by issuer name, each link's signature verifying under the next key,
///    ending at a certificate of `roots` (whose self-signature is checked too);
/// 2. every issuing certificate is a CA (basicConstraints), may sign certificates (keyUsage
///    keyCertSign if keyUsage is present) and its pathLenConstraint holds;
/// 3. every certificate on the path is valid at `now` (notBefore ≤ now ≤ notAfter);
/// 4. no certificate below the root is revoked according to `revocation`;
/// 5. a leaf with a Keel role names the same organisation (O) as the CA that issued it, when
///    that CA is not the root.
pub fn verify_chain(
    chain: &[Certificate],
    roots: &[Certificate],
    now: u64,
    revocation: &dyn RevocationSource,
) -> Result<VerifiedChain, PkiError> {
    if chain.is_empty() || chain.len() > MAX_CHAIN_CERTS {
        return Err(PkiError::ChainLength {
            len: chain.len(),
            max: MAX_CHAIN_CERTS,
        });
    }
    let path = build_path(chain, roots)?;
    check_ca_constraints(&path)?;
    for cert in &path {
        if now < cert.not_before() {
            return Err(PkiError::NotYetValid {
                subject: cert.subject(),
                not_before: cert.not_before(),
                now,
            });
        }
        if now > cert.not_after() {
            return Err(PkiError::Expired {
                subject: cert.subject(),
                not_after: cert.not_after(),
                now,
            });
        }
    }
    for cert in &path[..path.len() - 1] {
        if revocation.is_revoked(&cert.serial()) {
            return Err(PkiError::Revoked {
                subject: cert.subject(),
                serial: cert.serial(),
            });
        }
    }
    let leaf = &path[0];
    if leaf.role().is_some() && path.len() >= 3 {
        let leaf_org = leaf.organization().unwrap_or_default();
        let ca_org = path[1].organization().unwrap_or_default();
        if leaf_org != ca_org {
            return Err(PkiError::OrgMismatch {
                subject: leaf.subject(),
                leaf_org,
                ca_org,
            });
        }
    }
    Ok(VerifiedChain { path })
}

/// Leaf first, trusted root last; every signature checked.
fn build_path(chain: &[Certificate], roots: &[Certificate]) -> Result<Vec<Certificate>, PkiError> {
    let mut path = vec![chain[0].clone()];
    // Each step adds one certificate; a path longer than the chain plus a root cannot be
    // built without repeating one, so the loop is bounded.
    for _ in 0..=MAX_CHAIN_CERTS {
        let current = &path[path.len() - 1];
        if let Some(root) = roots.iter().find(|r| *r == current) {
            // A self-signed anchor's signature is checked too (a corrupted root file); an
            // anchor issued by someone else is trusted as configured.
            if root.is_self_issued() {
                root.verify_signed_by(root)?;
            }
            return Ok(path);
        }
        let issuer_name = current.issuer();
        let trusted = roots.iter().find(|r| r.subject() == issuer_name);
        let next = match trusted {
            Some(root) => root.clone(),
            None => {
                let Some(found) = chain
                    .iter()
                    .find(|c| c.subject() == issuer_name && !path.contains(c))
                else {
                    if current.is_self_issued() {
                        return Err(PkiError::UntrustedRoot {
                            subject: chain[0].subject(),
                        });
                    }
                    return Err(PkiError::UnknownIssuer {
                        subject: current.subject(),
                        issuer: issuer_name,
                    });
                };
                found.clone()
            }
        };
        current.verify_signed_by(&next)?;
        path.push(next);
    }
    Err(PkiError::UntrustedRoot {
        subject: chain[0].subject(),
    })
}

fn check_ca_constraints(path: &[Certificate]) -> Result<(), PkiError> {
    for (i, ca) in path.iter().enumerate().skip(1) {
        let Some(path_len) = ca.ca_constraints() else {
            return Err(PkiError::NotACa {
                subject: ca.subject(),
                reason: "basicConstraints CA is not set",
            });
        };
        if ca.key_usage().is_some_and(|ku| !ku.key_cert_sign()) {
            return Err(PkiError::NotACa {
                subject: ca.subject(),
                reason: "keyUsage lacks keyCertSign",
            });
        }
        // CAs strictly between this one and the leaf.
        let below = i - 1;
        if path_len.is_some_and(|max| below > usize::from(max)) {
            return Err(PkiError::NotACa {
                subject: ca.subject(),
                reason: "pathLenConstraint exceeded",
            });
        }
    }
    Ok(())
}

/// Checks that a verified leaf may be used for a purpose: an end entity (not a CA), keyUsage
/// digitalSignature (if keyUsage is present), and a role among `roles`.
pub fn check_usage(chain: &VerifiedChain, roles: &[Role]) -> Result<Role, PkiError> {
    let leaf = chain.leaf();
    let wrong = |reason: String| PkiError::WrongUsage {
        subject: leaf.subject(),
        reason,
    };
    if leaf.is_ca() {
        return Err(wrong(
            "a CA certificate cannot be used as an end entity".into(),
        ));
    }
    if leaf.key_usage().is_some_and(|ku| !ku.digital_signature()) {
        return Err(wrong("keyUsage lacks digitalSignature".into()));
    }
    let role = leaf
        .role()
        .ok_or_else(|| wrong("no Keel role in the subject OU".into()))?;
    if !roles.contains(&role) {
        let names: Vec<&str> = roles.iter().map(|r| r.name()).collect();
        return Err(wrong(format!(
            "role {role} is not one of {}",
            names.join(", ")
        )));
    }
    Ok(role)
}

/// The node-link admission check: `chain` verifies to `roots` at `now`, nothing on it is
/// revoked, the leaf is a validator or observer, and its key is `(scheme, public_key)`.
pub fn verify_node_chain(
    chain: &[Certificate],
    roots: &[Certificate],
    now: u64,
    revocation: &dyn RevocationSource,
    scheme: keel_crypto::Scheme,
    public_key: &[u8],
) -> Result<(VerifiedChain, Role), PkiError> {
    let verified = verify_chain(chain, roots, now, revocation)?;
    let role = check_usage(&verified, &[Role::Validator, Role::Observer])?;
    let leaf = verified.leaf();
    if leaf.scheme() != scheme || leaf.public_key() != public_key {
        return Err(PkiError::KeyMismatch {
            subject: leaf.subject(),
        });
    }
    Ok((verified, role))
}
