//! Certificate expiry (ADR 0010): the `keel_cert_expiry_seconds` gauge and the
//! `keel_status` lines, from the certificates the node published at start.

use std::fmt::Write as _;

use keel_node::Node;
use keel_node::metrics::{CertStatus, seconds_left};
use serde_json::{Value, json};

fn now_secs() -> u64 {
    keel_node::producer::now_ms() / 1_000
}

/// Appends the certificate families (headers always; samples only with `[pki]`): the expiry
/// gauge per certificate in use and the admission counters.
pub(crate) fn render(o: &mut String, node: &Node) {
    let _ = writeln!(
        o,
        "# HELP keel_cert_expiry_seconds Seconds until a certificate in use expires (negative once expired), by certificate: node, org_ca, root."
    );
    let _ = writeln!(o, "# TYPE keel_cert_expiry_seconds gauge");
    let status = node.counters.certificates();
    let now = now_secs();
    for c in status.iter().flat_map(|s| &s.certs) {
        let _ = writeln!(
            o,
            "keel_cert_expiry_seconds{{cert=\"{}\",serial=\"{}\"}} {}",
            c.cert,
            c.serial,
            seconds_left(c.not_after_secs, now)
        );
    }
    let counters = [
        (
            "keel_p2p_cert_rejections_total",
            "Peer handshakes refused by certificate admission (no, invalid, expired, revoked or wrong-role chain).",
            status.as_ref().map(|s| s.links_refused),
        ),
        (
            "keel_p2p_revoked_disconnects_total",
            "Live peer links closed because the peer's certificate was revoked.",
            status.as_ref().map(|s| s.revoked_disconnects),
        ),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(o, "# HELP {name} {help}");
        let _ = writeln!(o, "# TYPE {name} counter");
        if let Some(v) = value {
            let _ = writeln!(o, "{name} {v}");
        }
    }
}

/// The `certificates` field of `keel_status` and its diagnosis lines.
pub(crate) fn status(node: &Node, diagnosis: &mut Vec<String>) -> Value {
    let Some(status) = node.counters.certificates() else {
        return Value::Null;
    };
    let now = now_secs();
    diagnosis.extend(warnings(&status, now));
    Value::Array(
        status
            .certs
            .iter()
            .map(|c| {
                json!({
                    "cert": c.cert,
                    "subject": c.subject,
                    "serial": c.serial,
                    "notAfter": c.not_after_secs,
                    "expiresInSeconds": seconds_left(c.not_after_secs, now),
                })
            })
            .collect(),
    )
}

/// One line per certificate expiring within the warning window (or expired).
pub fn warnings(status: &CertStatus, now_secs: u64) -> Vec<String> {
    status
        .expiring(now_secs)
        .into_iter()
        .map(|(c, left)| {
            if left < 0 {
                format!(
                    "certificate {} ({}, serial {}) has EXPIRED: peers refuse links that depend on it; issue a new one with `keel ca issue`",
                    c.cert, c.subject, c.serial
                )
            } else {
                format!(
                    "certificate {} ({}, serial {}) expires in {} day(s); renew it with `keel ca issue` before then",
                    c.cert,
                    c.subject,
                    c.serial,
                    left / 86_400
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_node::metrics::CertExpiry;

    #[test]
    fn warns_inside_the_window_and_for_expired_only() {
        let day = 86_400;
        let now = 1_800_000_000;
        let cert = |name: &str, left: i64| CertExpiry {
            cert: name.into(),
            subject: format!("CN={name}"),
            serial: "01".into(),
            not_after_secs: (now as i64 + left) as u64,
        };
        let status = CertStatus {
            certs: vec![
                cert("root", 900 * day),
                cert("org_ca", 29 * day),
                cert("node", -day),
            ],
            warning_days: 30,
            ..CertStatus::default()
        };
        let lines = warnings(&status, now);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].contains("org_ca") && lines[0].contains("expires in 29 day(s)"),
            "{lines:?}"
        );
        assert!(
            lines[1].contains("node") && lines[1].contains("EXPIRED"),
            "{lines:?}"
        );
        let quiet = CertStatus {
            warning_days: 10,
            ..status
        };
        assert_eq!(warnings(&quiet, now).len(), 1);
    }
}
