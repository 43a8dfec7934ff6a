//! Noise XX handshake bound to the consortium identity.
//!
//! 1. `-> e`, `<- e, ee, s, es`, `-> s, se` (`Noise_XX_25519_ChaChaPoly_SHA256`, empty
//!    payloads, prologue `PROLOGUE_DOMAIN ‖ network_id`), each message `u16 BE len ‖ bytes`.
//! 2. Both sides then send, as their first transport message, an identity message
//!    `AUTH_VERSION ‖ scheme ‖ pk_len ‖ pk ‖ sig_len ‖ sig` where `sig` is the identity key's
//!    signature over `AUTH_DOMAIN ‖ role ‖ h`: `role` is `b'I'` (initiator) or `b'R'`
//!    (responder) and `h` the final Noise handshake hash. `h` commits to both ephemeral and
//!    both static X25519 keys, so a signature cannot be replayed on another session and a man
//!    in the middle (who must run two sessions with different `h`) cannot splice.
//! 3. The receiver checks the encoding strictly, verifies the signature, derives the address
//!    with `address_of(scheme, pk, suite.hash())` and requires it to be in the allow-set (and,
//!    when dialing, to be the address dialed).
//! 4. With certificate admission (`NetworkConfig::pki`), the identity message is version
//!    [`AUTH_VERSION_CERTS`]: the version-1 fields followed by `count: u8 ‖ (len: u16 BE ‖
//!    der)*`, the node certificate first. The receiver then also requires that chain to verify
//!    to a configured root (unexpired, unrevoked, role validator or observer) for exactly the
//!    key that signed step 2. The chain itself needs no signature: it is public, travels
//!    inside the session bound to `h`, and only vouches for the key that signed `h`.

use std::sync::{Arc, PoisonError, RwLock};

use keel_crypto::{KeyPair, Scheme, Suite};
use keel_types::{Address, OpPolicy};
use snow::HandshakeState;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::admission::{PeerCert, PkiState, decode_certs, encode_certs};
use crate::config::{
    AUTH_WITH_CERTS_MAX_BYTES, HANDSHAKE_MESSAGE_MAX_BYTES, NOISE_MAX_MESSAGE_BYTES,
};
use crate::error::LinkError;
use crate::table::PeerTable;
use crate::wire::{NoiseReader, NoiseWriter, read_prefixed, write_prefixed};

/// The Noise protocol name.
pub const NOISE_PARAMS: &str = "Noise_XX_25519_ChaChaPoly_SHA256";
/// Prefix of the Noise prologue (followed by `NetworkConfig::network_id`).
pub const PROLOGUE_DOMAIN: &[u8] = b"KEEL/NET/v1\0";
/// Domain separator of the identity signature.
pub const AUTH_DOMAIN: &[u8] = b"KEEL/NET/AUTH/v1\0";
/// Version byte of the identity message.
pub const AUTH_VERSION: u8 = 1;
/// Version byte of the identity message that carries a certificate chain.
pub const AUTH_VERSION_CERTS: u8 = 2;
/// Role byte signed by the initiator.
pub const ROLE_INITIATOR: u8 = b'I';
/// Role byte signed by the responder.
pub const ROLE_RESPONDER: u8 = b'R';
/// The one-byte transport message each side sends once it has installed the link (after the
/// identity messages); frames flow only after both were received.
pub const LINK_READY: u8 = 0x52;

/// Who we are and whom we accept.
pub(crate) struct HandshakeCtx<'a> {
    pub(crate) identity: &'a KeyPair,
    pub(crate) local: Address,
    pub(crate) suite: Suite,
    pub(crate) noise_private: &'a [u8],
    pub(crate) prologue: &'a [u8],
    pub(crate) allowed: &'a PeerTable,
    /// Governance's node list: a peer it excludes is refused even with a valid certificate.
    pub(crate) node_policy: &'a RwLock<OpPolicy>,
    pub(crate) pki: Option<&'a PkiState>,
}

/// An authenticated link, ready for frames.
pub(crate) struct Established {
    pub(crate) peer: Address,
    /// The peer's verified certificate, with certificate admission.
    pub(crate) cert: Option<PeerCert>,
    pub(crate) reader: NoiseReader<OwnedReadHalf>,
    pub(crate) writer: NoiseWriter<OwnedWriteHalf>,
}

/// The message signed by the identity key of the side playing `role`.
pub fn auth_signing_message(role: u8, handshake_hash: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(AUTH_DOMAIN.len() + 1 + handshake_hash.len());
    msg.extend_from_slice(AUTH_DOMAIN);
    msg.push(role);
    msg.extend_from_slice(handshake_hash);
    msg
}

/// Encodes the identity message (see the module docs).
pub fn encode_auth(scheme: Scheme, public_key: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + public_key.len() + signature.len());
    out.push(AUTH_VERSION);
    out.push(scheme as u8);
    out.push(u8::try_from(public_key.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(public_key);
    out.push(u8::try_from(signature.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(signature);
    out
}

/// Encodes the identity message with a certificate chain (version [`AUTH_VERSION_CERTS`]).
pub fn encode_auth_with_certs(
    scheme: Scheme,
    public_key: &[u8],
    signature: &[u8],
    chain: &[Vec<u8>],
) -> Vec<u8> {
    let mut out = encode_auth(scheme, public_key, signature);
    out[0] = AUTH_VERSION_CERTS;
    encode_certs(&mut out, chain);
    out
}

/// A decoded identity message.
type Auth<'a> = (Scheme, &'a [u8], &'a [u8], Vec<&'a [u8]>);

/// Decodes an identity message strictly: known version and scheme, exact key and signature
/// lengths for the scheme, a well-formed certificate section in version 2, no trailing bytes.
fn decode_auth(bytes: &[u8]) -> Result<Auth<'_>, LinkError> {
    let malformed = |reason| LinkError::MalformedAuth { reason };
    let (&version, rest) = bytes.split_first().ok_or(malformed("empty"))?;
    if version != AUTH_VERSION && version != AUTH_VERSION_CERTS {
        return Err(malformed("unknown version"));
    }
    let (&scheme, rest) = rest.split_first().ok_or(malformed("no scheme"))?;
    let scheme = Scheme::from_u8(scheme).ok_or(malformed("unknown scheme"))?;
    let (&pk_len, rest) = rest.split_first().ok_or(malformed("no key length"))?;
    if usize::from(pk_len) != scheme.public_key_len() {
        return Err(malformed("wrong key length"));
    }
    let (pk, rest) = rest
        .split_at_checked(usize::from(pk_len))
        .ok_or(malformed("truncated key"))?;
    let (&sig_len, rest) = rest.split_first().ok_or(malformed("no signature length"))?;
    if usize::from(sig_len) != scheme.signature_len() {
        return Err(malformed("wrong signature length"));
    }
    let (sig, rest) = rest
        .split_at_checked(usize::from(sig_len))
        .ok_or(malformed("wrong signature length"))?;
    let certs = if version == AUTH_VERSION_CERTS {
        decode_certs(rest)?
    } else if rest.is_empty() {
        Vec::new()
    } else {
        return Err(malformed("wrong signature length"));
    };
    Ok((scheme, pk, sig, certs))
}

fn build(ctx: &HandshakeCtx<'_>, initiator: bool) -> Result<HandshakeState, LinkError> {
    let params = NOISE_PARAMS.parse()?;
    let builder = snow::Builder::new(params)
        .local_private_key(ctx.noise_private)?
        .prologue(ctx.prologue)?;
    Ok(if initiator {
        builder.build_initiator()?
    } else {
        builder.build_responder()?
    })
}

/// Runs the Noise XX messages; returns the transport and the final handshake hash.
async fn noise_xx(
    stream: &mut TcpStream,
    ctx: &HandshakeCtx<'_>,
    initiator: bool,
) -> Result<(snow::StatelessTransportState, Vec<u8>), LinkError> {
    let mut hs = build(ctx, initiator)?;
    let mut msg = [0u8; HANDSHAKE_MESSAGE_MAX_BYTES];
    let mut payload = [0u8; HANDSHAKE_MESSAGE_MAX_BYTES];
    // XX has exactly three messages; the loop is bounded by that.
    for _ in 0..3 {
        if hs.is_handshake_finished() {
            break;
        }
        if hs.is_my_turn() {
            let n = hs.write_message(&[], &mut msg)?;
            write_prefixed(stream, msg.get(..n).unwrap_or_default()).await?;
        } else {
            let n = read_prefixed(stream, &mut msg, HANDSHAKE_MESSAGE_MAX_BYTES).await?;
            hs.read_message(msg.get(..n).unwrap_or_default(), &mut payload)?;
        }
    }
    if !hs.is_handshake_finished() {
        return Err(LinkError::MalformedAuth {
            reason: "noise handshake did not finish",
        });
    }
    let hash = hs.get_handshake_hash().to_vec();
    Ok((hs.into_stateless_transport_mode()?, hash))
}

/// Runs the whole handshake on `stream` (no timeout here: the caller bounds it). `expected`
/// is the address dialed, if we are the initiator.
pub(crate) async fn handshake(
    mut stream: TcpStream,
    ctx: &HandshakeCtx<'_>,
    expected: Option<Address>,
) -> Result<Established, LinkError> {
    let initiator = expected.is_some();
    let (transport, hash) = noise_xx(&mut stream, ctx, initiator).await?;
    let transport = Arc::new(transport);
    let (read_half, write_half) = stream.into_split();
    let mut reader = NoiseReader::new(read_half, Arc::clone(&transport));
    let mut writer = NoiseWriter::new(write_half, transport);

    let (own_role, peer_role) = if initiator {
        (ROLE_INITIATOR, ROLE_RESPONDER)
    } else {
        (ROLE_RESPONDER, ROLE_INITIATOR)
    };
    let signature = ctx.identity.sign(&auth_signing_message(own_role, &hash));
    let auth = match ctx.pki {
        Some(pki) => encode_auth_with_certs(
            ctx.identity.scheme(),
            &ctx.identity.public_key(),
            &signature,
            &pki.own_chain_der,
        ),
        None => encode_auth(
            ctx.identity.scheme(),
            &ctx.identity.public_key(),
            &signature,
        ),
    };
    writer.write_message(&auth).await?;

    // Version-2 messages (with certificates) are accepted from any peer; the bound is set by
    // the larger kind.
    let peer_auth = reader
        .read_message(AUTH_WITH_CERTS_MAX_BYTES.min(NOISE_MAX_MESSAGE_BYTES))
        .await?;
    let signed = auth_signing_message(peer_role, &hash);
    let (peer, cert) = check_auth(ctx, peer_auth, &signed, expected)?;
    Ok(Established {
        peer,
        cert,
        reader,
        writer,
    })
}

/// Verifies the peer's identity message against `signed`, the address dialed (if any), the
/// allow-set and, with certificate admission, its certificate chain.
fn check_auth(
    ctx: &HandshakeCtx<'_>,
    auth: &[u8],
    signed: &[u8],
    expected: Option<Address>,
) -> Result<(Address, Option<PeerCert>), LinkError> {
    let (scheme, pk, sig, certs) = decode_auth(auth)?;
    let address = keel_crypto::address_of(scheme, pk, ctx.suite.hash())
        .map(Address)
        .map_err(|_| LinkError::MalformedAuth {
            reason: "invalid public key",
        })?;
    keel_crypto::verify(scheme, pk, signed, sig)
        .map_err(|_| LinkError::BadSignature { address })?;
    if let Some(expected) = expected
        && expected != address
    {
        return Err(LinkError::UnexpectedPeer {
            expected,
            got: address,
        });
    }
    if address == ctx.local {
        return Err(LinkError::SelfConnection);
    }
    if !ctx.allowed.contains(&address) {
        return Err(LinkError::UnknownPeer { address });
    }
    if !ctx
        .node_policy
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .permits(&address)
    {
        return Err(LinkError::NotListed { address });
    }
    let cert = match ctx.pki {
        Some(pki) => Some(pki.check(address, &certs, scheme, pk)?),
        None => None,
    };
    Ok((address, cert))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn auth_round_trip_and_strictness() {
        let kp = KeyPair::from_seed(Scheme::Ed25519, &[7; 32]);
        let sig = kp.sign(b"x");
        let enc = encode_auth(kp.scheme(), &kp.public_key(), &sig);
        let (scheme, pk, s, certs) = decode_auth(&enc).unwrap();
        assert_eq!(
            (scheme, pk, s),
            (Scheme::Ed25519, &kp.public_key()[..], &sig[..])
        );
        assert!(certs.is_empty());
        let chain = vec![vec![1u8; 300], vec![2u8; 5]];
        let with = encode_auth_with_certs(kp.scheme(), &kp.public_key(), &sig, &chain);
        let (_, _, s2, certs) = decode_auth(&with).unwrap();
        assert_eq!(s2, &sig[..]);
        assert_eq!(certs, vec![&chain[0][..], &chain[1][..]]);
        for cut in 0..with.len() {
            assert!(decode_auth(&with[..cut]).is_err(), "prefix {cut} accepted");
        }
        let mut trailing = with.clone();
        trailing.push(0);
        assert!(decode_auth(&trailing).is_err());
        let mut trailing = enc.clone();
        trailing.push(0);
        assert!(decode_auth(&trailing).is_err());
        for cut in 0..enc.len() {
            assert!(decode_auth(&enc[..cut]).is_err(), "prefix {cut} accepted");
        }
        let mut bad_version = enc.clone();
        bad_version[0] = 9;
        assert!(decode_auth(&bad_version).is_err());
        let mut bad_scheme = enc;
        bad_scheme[1] = 0;
        assert!(decode_auth(&bad_scheme).is_err());
    }
}
