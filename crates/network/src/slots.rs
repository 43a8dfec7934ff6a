//! Pre-authentication handshake slots: at most `max_inbound_handshakes` inbound handshakes
//! run at once, and at most `max_inbound_handshakes_per_ip` of them from one address, so one
//! unauthenticated host cannot keep every slot busy (each for up to `handshake_timeout_ms`)
//! and starve the inbound links of the others.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// IPv6 hosts are counted per /64 (what one subscriber usually holds), not per address.
const IPV6_HOST_PREFIX_BITS: u32 = 64;

/// Which limit refused a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotRefused {
    /// Every slot is taken.
    Global,
    /// The remote address already holds its share.
    PerAddress,
}

type Counts = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// The slot table of a running network.
#[derive(Debug)]
pub(crate) struct HandshakeSlots {
    global: Arc<Semaphore>,
    /// Slots held per remote host; an entry exists only while it holds one, so the map holds
    /// at most `max_inbound_handshakes` entries.
    per_ip: Counts,
    per_ip_max: usize,
}

/// A held slot; released on drop.
#[derive(Debug)]
pub(crate) struct HandshakeSlot {
    _global: OwnedSemaphorePermit,
    host: IpAddr,
    per_ip: Counts,
}

fn lock(m: &Mutex<HashMap<IpAddr, usize>>) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
    // Every update is a single await-free step: a poisoned map is still consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The key a remote address is counted under.
fn host_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mask = u128::MAX << (128 - IPV6_HOST_PREFIX_BITS);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
        v4 => v4,
    }
}

impl HandshakeSlots {
    pub(crate) fn new(global_max: usize, per_ip_max: usize) -> HandshakeSlots {
        HandshakeSlots {
            global: Arc::new(Semaphore::new(global_max)),
            per_ip: Arc::default(),
            per_ip_max,
        }
    }

    /// Takes a slot for a socket from `remote`, or says which limit refuses it.
    pub(crate) fn try_acquire(&self, remote: IpAddr) -> Result<HandshakeSlot, SlotRefused> {
        let host = host_of(remote);
        let mut counts = lock(&self.per_ip);
        let held = counts.get(&host).copied().unwrap_or(0);
        if held >= self.per_ip_max {
            return Err(SlotRefused::PerAddress);
        }
        let permit = Arc::clone(&self.global)
            .try_acquire_owned()
            .map_err(|_| SlotRefused::Global)?;
        counts.insert(host, held + 1);
        Ok(HandshakeSlot {
            _global: permit,
            host,
            per_ip: Arc::clone(&self.per_ip),
        })
    }
}

impl Drop for HandshakeSlot {
    fn drop(&mut self) {
        let mut counts = lock(&self.per_ip);
        match counts.get_mut(&self.host) {
            Some(n) if *n > 1 => *n -= 1,
            _ => {
                counts.remove(&self.host);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn one_host_gets_its_share_and_the_others_the_rest() {
        let slots = HandshakeSlots::new(3, 2);
        let a1 = slots.try_acquire(ip("10.0.0.1")).expect("first");
        let _a2 = slots.try_acquire(ip("10.0.0.1")).expect("second");
        assert_eq!(
            slots.try_acquire(ip("10.0.0.1")).unwrap_err(),
            SlotRefused::PerAddress
        );
        // The same host as an IPv4-mapped IPv6 address is the same host.
        assert_eq!(
            slots.try_acquire(ip("::ffff:10.0.0.1")).unwrap_err(),
            SlotRefused::PerAddress
        );
        let _b1 = slots.try_acquire(ip("10.0.0.2")).expect("another host");
        assert_eq!(
            slots.try_acquire(ip("10.0.0.3")).unwrap_err(),
            SlotRefused::Global
        );
        drop(a1);
        let _a3 = slots.try_acquire(ip("10.0.0.1")).expect("released");
        assert_eq!(lock(&slots.per_ip).len(), 2);
    }

    #[test]
    fn ipv6_hosts_are_counted_per_64_and_entries_are_removed_when_free() {
        let slots = HandshakeSlots::new(8, 1);
        let a = slots.try_acquire(ip("2001:db8:1:2::1")).expect("first");
        assert_eq!(
            slots.try_acquire(ip("2001:db8:1:2::ffff")).unwrap_err(),
            SlotRefused::PerAddress
        );
        let b = slots
            .try_acquire(ip("2001:db8:1:3::1"))
            .expect("another /64");
        drop((a, b));
        assert!(lock(&slots.per_ip).is_empty());
    }
}
