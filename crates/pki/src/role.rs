//! Roles carried in certificates (subject OU), see ADR 0010.

use std::fmt;
use std::str::FromStr;

/// What an end-entity certificate's holder may do in the consortium. Encoded as the subject's
/// organizationalUnitName (OU), in the lowercase names of [`Role::name`]; CA certificates carry
/// [`CA_UNIT`] instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A consensus node that votes.
    Validator,
    /// A node that follows the chain without voting.
    Observer,
    /// An application client (submits transactions, queries).
    Client,
    /// An organisation's administrator.
    OrgAdmin,
    /// A read-only auditor.
    Auditor,
    /// A governance committee member.
    Committee,
}

/// The OU of CA certificates (root and organisation CAs).
pub const CA_UNIT: &str = "ca";

impl Role {
    /// Every role, in a fixed order.
    pub const ALL: [Role; 6] = [
        Role::Validator,
        Role::Observer,
        Role::Client,
        Role::OrgAdmin,
        Role::Auditor,
        Role::Committee,
    ];

    /// The name written into the OU.
    pub fn name(self) -> &'static str {
        match self {
            Role::Validator => "validator",
            Role::Observer => "observer",
            Role::Client => "client",
            Role::OrgAdmin => "org-admin",
            Role::Auditor => "auditor",
            Role::Committee => "committee",
        }
    }

    /// Whether the role may hold a node link (validator or observer).
    pub fn is_node(self) -> bool {
        matches!(self, Role::Validator | Role::Observer)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role {0:?}; expected validator, observer, client, org-admin, auditor or committee"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}
