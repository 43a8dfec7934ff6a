//! `[pki]` in node.toml at `keel node start`: loads the root, the node's chain and the CRL
//! for certificate admission, publishes the certificates for expiry metrics and
//! `keel_status`, logs expiry warnings, and re-reads the CRL while the node runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use keel_node::metrics::{CertExpiry, CertStatus};
use keel_node::{CertConfig, Node};
use keel_pki::{Certificate, RevokedSet};

use crate::CliError;
use crate::cmd_ca::{load_certs, load_crl, now_secs};

/// How often the CRL file is checked for changes.
pub(crate) const CRL_POLL_INTERVAL_MS: u64 = 5_000;
/// How often expiry warnings are logged again while a certificate is inside the window.
pub(crate) const EXPIRY_LOG_INTERVAL_MS: u64 = 3_600_000;

/// Loaded `[pki]` files.
pub(crate) struct NodePki {
    pub(crate) network: keel_network::PkiConfig,
    crl_file: Option<PathBuf>,
    status: CertStatus,
}

fn bad(path: &Path, reason: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("[pki] {}: {reason}", path.display()))
}

/// Reads and checks the `[pki]` files (the chain itself is checked by `Network::start`).
pub(crate) fn load(cfg: &CertConfig) -> Result<NodePki, CliError> {
    let roots = load_certs(&cfg.root_cert)?;
    let chain = load_certs(&cfg.cert_chain)?;
    if chain.len() > keel_network::AUTH_MAX_CERTS {
        return Err(bad(
            &cfg.cert_chain,
            format!("more than {} certificates", keel_network::AUTH_MAX_CERTS),
        ));
    }
    let revoked = match &cfg.crl_file {
        Some(p) => load_crl(p, &roots)?.revoked(),
        None => RevokedSet::new(),
    };
    let mut certs: Vec<CertExpiry> = Vec::new();
    let mut push = |name: String, c: &Certificate| {
        certs.push(CertExpiry {
            cert: name,
            subject: c.subject(),
            serial: c.serial().to_string(),
            not_after_secs: c.not_after(),
        });
    };
    for (i, c) in chain.iter().enumerate() {
        let name = match i {
            0 => "node".to_string(),
            1 => "org_ca".to_string(),
            n => format!("ca_{n}"),
        };
        push(name, c);
    }
    for (i, c) in roots.iter().enumerate() {
        push(
            if i == 0 {
                "root".into()
            } else {
                format!("root_{i}")
            },
            c,
        );
    }
    Ok(NodePki {
        network: keel_network::PkiConfig {
            roots,
            chain,
            revoked,
        },
        crl_file: cfg.crl_file.clone(),
        status: CertStatus {
            certs,
            warning_days: cfg.expiry_warning_days,
            ..CertStatus::default()
        },
    })
}

impl NodePki {
    /// Publishes the certificates to the node (metrics, `keel_status`) and logs warnings.
    pub(crate) fn publish(&self, node: &Node) {
        node.counters.set_certificates(self.status.clone());
        log_expiry(&self.status);
    }

    /// Re-reads the CRL when it changes, refreshes the admission counters in the node's
    /// certificate status and re-logs expiry warnings hourly, until `stop`.
    pub(crate) fn spawn_watch(
        &self,
        node: Arc<Node>,
        net: keel_network::NetworkHandle,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let crl_file = self.crl_file.clone();
        let roots = Arc::new(self.network.roots.clone());
        let mut status = self.status.clone();
        let mut last = crl_file.as_deref().and_then(|p| std::fs::read(p).ok());
        tokio::spawn(async move {
            let mut since_log_ms = 0u64;
            loop {
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return,
                    () = tokio::time::sleep(Duration::from_millis(CRL_POLL_INTERVAL_MS)) => {}
                }
                let m = net.metrics();
                status.links_refused = m.rejected_certificate;
                status.revoked_disconnects = m.revoked_disconnects;
                node.counters.set_certificates(status.clone());
                since_log_ms += CRL_POLL_INTERVAL_MS;
                if since_log_ms >= EXPIRY_LOG_INTERVAL_MS {
                    since_log_ms = 0;
                    log_expiry(&status);
                }
                let Some(path) = &crl_file else { continue };
                let Ok(bytes) = std::fs::read(path) else {
                    tracing::warn!(path = %path.display(), "cannot read the CRL file; keeping the previous revocations");
                    continue;
                };
                if last.as_deref() == Some(&bytes[..]) {
                    continue;
                }
                match load_crl(path, &roots) {
                    Ok(crl) => {
                        let closed = net.set_revoked(crl.revoked());
                        tracing::info!(path = %path.display(), revoked = crl.entries().len(), closed, "revocation list reloaded");
                        last = Some(bytes);
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "new CRL refused; keeping the previous revocations");
                    }
                }
            }
        })
    }
}

fn log_expiry(status: &CertStatus) {
    for (c, left) in status.expiring(now_secs()) {
        if left < 0 {
            tracing::error!(cert = %c.cert, subject = %c.subject, serial = %c.serial, "certificate has EXPIRED");
        } else {
            tracing::warn!(cert = %c.cert, subject = %c.subject, serial = %c.serial, days_left = left / 86_400, "certificate expires soon; renew it");
        }
    }
}
