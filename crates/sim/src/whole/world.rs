//! The seeded scheduler: one event queue over simulated time, driving every node's real
//! [`keel_node::driver::Driver`] through [`Step`]s and turning its sends into deliveries.

use std::collections::BTreeMap;

use keel_network::InboundMessage;
use keel_node::driver::{STATUS_PUBLISH_MS, Step};
use keel_types::Address;

use super::attack::Attacker;
use super::check::{Checker, WholeViolation};
use super::cluster::{Consortium, Role, SimClock};
use super::config::WholeConfig;
use super::govern::GovPlan;
use super::net::Envelope;
use super::report::{WholeReport, fold};
use super::traffic::Client;
use crate::rng::SimRng;

/// Gossip flush and sync check periods of [`super::cluster`]'s driver config.
const GOSSIP_MS: u64 = 20;
const SYNC_MS: u64 = 200;
/// How often the end condition is evaluated, ms of simulated time.
const DONE_CHECK_MS: u64 = 50;
/// Largest one-way delay after GST, ms.
const DELAY_AFTER_GST_MS: u64 = 10;

#[derive(Clone, Copy, Debug)]
pub(super) enum Tick {
    Gossip,
    Sync,
    Status,
}

#[derive(Debug)]
pub(super) enum Event {
    Deliver {
        to: usize,
        incarnation: u64,
        from: Address,
        channel: u8,
        payload: Vec<u8>,
    },
    Tick {
        node: usize,
        incarnation: u64,
        tick: Tick,
    },
    Deadline {
        node: usize,
        incarnation: u64,
    },
    Submit {
        client: usize,
    },
    Crash {
        node: usize,
        lose_tail: bool,
    },
    Restart {
        node: usize,
    },
    Partition {
        side: Vec<bool>,
        until_ms: u64,
    },
    Attack {
        node: usize,
    },
    Govern,
}

/// One whole-node run.
pub(crate) struct World {
    pub(super) cfg: WholeConfig,
    pub(super) rng: SimRng,
    clock: SimClock,
    pub(super) now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Event>,
    pub(super) c: Consortium,
    attackers: Vec<Option<Attacker>>,
    pub(super) clients: Vec<Client>,
    partition: Option<(Vec<bool>, u64)>,
    /// Per directed link, the latest scheduled delivery: links are FIFO, as a TCP stream is
    /// (a delay spike holds back what follows on the same link).
    link_clock: Vec<u64>,
    pub(super) gov: GovPlan,
    check: Checker,
    pub report: WholeReport,
}

impl World {
    pub fn new(cfg: WholeConfig) -> Result<World, WholeViolation> {
        let clients = if cfg.transactions == 0 { 0 } else { 4 };
        let c = Consortium::new(
            cfg.seed,
            cfg.validators,
            cfg.attackers,
            cfg.observer,
            clients,
        )
        .map_err(WholeViolation::Setup)?;
        let attackers = c
            .members
            .iter()
            .map(|m| (m.role == Role::Attacker).then(|| Attacker::new(cfg.attacks.clone())))
            .collect();
        let honest: Vec<usize> = (0..cfg.validators)
            .filter(|i| c.members[*i].honest())
            .collect();
        let clients = c
            .clients
            .iter()
            .enumerate()
            .map(|(i, k)| Client {
                key: k.clone(),
                home: honest[i % honest.len()],
                nonce: 0,
                tainted: false,
                acknowledged: Vec::new(),
            })
            .collect();
        let n = c.members.len();
        let report = WholeReport {
            seed: cfg.seed,
            validators: cfg.validators,
            attackers: cfg.attackers,
            trace: 0xcbf2_9ce4_8422_2325,
            ..WholeReport::default()
        };
        Ok(World {
            rng: SimRng::new(cfg.seed),
            clock: SimClock::new(),
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            c,
            attackers,
            clients,
            partition: None,
            link_clock: vec![0; n * n],
            gov: GovPlan::default(),
            check: Checker::default(),
            report,
            cfg,
        })
    }

    pub(super) fn at(&mut self, ms: u64, e: Event) {
        self.seq += 1;
        self.queue.insert((ms, self.seq), e);
    }

    /// Run to the end condition or the first violation.
    pub fn run(&mut self) -> Result<(), WholeViolation> {
        self.start()?;
        let mut next_done_check = self.cfg.gst_ms;
        while let Some(((t, _), event)) = self.queue.pop_first() {
            if t > self.cfg.deadline_ms {
                return Err(self.no_progress());
            }
            self.now = t;
            self.report.events += 1;
            self.handle(event)?;
            if t >= next_done_check {
                next_done_check = t + DONE_CHECK_MS;
                if self.done() {
                    return self.finish();
                }
            }
        }
        Err(self.no_progress())
    }

    /// Boot every member and plan the seed's transactions and faults.
    pub(super) fn start(&mut self) -> Result<(), WholeViolation> {
        for i in 0..self.c.members.len() {
            self.boot(i)?;
        }
        self.plan_faults();
        Ok(())
    }

    /// Process the events up to simulated time `until_ms` (every check still applies).
    pub(super) fn run_until(&mut self, until_ms: u64) -> Result<(), WholeViolation> {
        while let Some((&(t, _), _)) = self.queue.first_key_value() {
            if t > until_ms {
                break;
            }
            let Some((_, event)) = self.queue.pop_first() else {
                break;
            };
            self.now = t;
            self.report.events += 1;
            self.handle(event)?;
        }
        self.now = self.now.max(until_ms);
        Ok(())
    }

    /// Start member `i` (at boot or after a crash) and schedule its periodic steps.
    fn boot(&mut self, i: usize) -> Result<(), WholeViolation> {
        let now = self.clock.at(self.now);
        let m = &mut self.c.members[i];
        m.start(&self.c.genesis, now, self.cfg.idle_heartbeat_ms)
            .map_err(WholeViolation::Setup)?;
        m.kick(now);
        let inc = m.incarnation;
        for (tick, period) in [
            (Tick::Gossip, GOSSIP_MS),
            (Tick::Sync, SYNC_MS),
            (Tick::Status, STATUS_PUBLISH_MS),
        ] {
            let phase = self.rng.range(1, period);
            self.at(
                self.now + phase,
                Event::Tick {
                    node: i,
                    incarnation: inc,
                    tick,
                },
            );
        }
        if self.attackers[i].is_some() {
            let t = self.now + self.rng.range(5, 50);
            self.at(t, Event::Attack { node: i });
        }
        self.after_step(i)
    }

    fn plan_faults(&mut self) {
        let gst = self.cfg.gst_ms;
        for n in 0..self.cfg.transactions {
            let t = self.rng.range(1, gst);
            let client = n % self.clients.len().max(1);
            self.at(t, Event::Submit { client });
        }
        let faults = self.cfg.faults.clone();
        if faults.crashes {
            let honest: Vec<usize> = (0..self.c.members.len())
                .filter(|i| self.c.members[*i].honest())
                .collect();
            for _ in 0..self.rng.range(1, 3) {
                let node = honest[self.rng.index(honest.len())];
                let t = self.rng.range(1, gst.saturating_sub(1).max(1));
                let lose_tail = self.rng.chance(500);
                self.at(t, Event::Crash { node, lose_tail });
                let back = (t + self.rng.range(20, 800)).min(gst);
                self.at(back, Event::Restart { node });
            }
        }
        if let Some(change) = self.cfg.epoch_change {
            self.plan_epoch_change(change);
        }
        if faults.partitions {
            for _ in 0..self.rng.range(1, 2) {
                let t = self.rng.range(1, gst);
                let side = (0..self.c.members.len())
                    .map(|_| self.rng.chance(500))
                    .collect();
                let until_ms = (t + self.rng.range(50, 1_000)).min(gst);
                self.at(t, Event::Partition { side, until_ms });
            }
        }
    }

    fn handle(&mut self, event: Event) -> Result<(), WholeViolation> {
        match event {
            Event::Deliver {
                to,
                incarnation,
                from,
                channel,
                payload,
            } => self.deliver(to, incarnation, from, channel, payload),
            Event::Tick {
                node,
                incarnation,
                tick,
            } => self.tick(node, incarnation, tick),
            Event::Deadline { node, incarnation } => {
                if self.c.members[node].incarnation != incarnation {
                    return Ok(());
                }
                self.c.members[node].deadline_at = None;
                self.step(node, Step::Timer)?;
                self.step(node, Step::ProposeDue)
            }
            Event::Submit { client } => self.submit(client),
            Event::Crash { node, lose_tail } => self.crash(node, lose_tail),
            Event::Restart { node } => {
                if self.c.members[node].live.is_none() {
                    self.boot(node)?;
                }
                Ok(())
            }
            Event::Partition { side, until_ms } => {
                self.partition = Some((side, until_ms));
                Ok(())
            }
            Event::Attack { node } => self.attack(node),
            Event::Govern => self.govern(),
        }
    }

    fn deliver(
        &mut self,
        to: usize,
        incarnation: u64,
        from: Address,
        channel: u8,
        payload: Vec<u8>,
    ) -> Result<(), WholeViolation> {
        let m = &self.c.members[to];
        if m.incarnation != incarnation || m.live.is_none() {
            self.report.dropped += 1;
            return Ok(());
        }
        if m.net.refuses(&from) {
            // Revoked on chain or excluded by the node list: the link is closed.
            self.report.refused += 1;
            return Ok(());
        }
        self.report.delivered += 1;
        self.report.trace = fold(self.report.trace, &self.now.to_le_bytes());
        self.report.trace = fold(self.report.trace, &[to as u8, channel]);
        self.report.trace = fold(self.report.trace, &payload);
        if let Some(a) = self.attackers[to].as_mut() {
            a.hear(channel, &payload);
        }
        let msg = InboundMessage {
            from,
            channel,
            payload,
        };
        self.step(to, Step::Inbound(msg))
    }

    fn tick(&mut self, node: usize, incarnation: u64, tick: Tick) -> Result<(), WholeViolation> {
        if self.c.members[node].incarnation != incarnation {
            return Ok(());
        }
        let (step, period) = match tick {
            Tick::Gossip => (Step::GossipFlush, GOSSIP_MS),
            Tick::Sync => (Step::SyncCheck, SYNC_MS),
            Tick::Status => (Step::StatusTick, STATUS_PUBLISH_MS),
        };
        self.at(
            self.now + period,
            Event::Tick {
                node,
                incarnation,
                tick,
            },
        );
        self.step(node, step)
    }

    /// Perform one step on member `i`'s driver, then route what it sent and check it.
    fn step(&mut self, i: usize, step: Step) -> Result<(), WholeViolation> {
        let now = self.clock.at(self.now);
        let Some(live) = self.c.members[i].live.as_mut() else {
            return Ok(());
        };
        live.driver.step(step, now);
        live.driver.drain_admitted();
        self.after_step(i)
    }

    pub(super) fn after_step(&mut self, i: usize) -> Result<(), WholeViolation> {
        let out = self.c.members[i].net.drain();
        let synced = self.cfg.faults.crashes && out.iter().any(Envelope::signs_round);
        let out = match (self.attackers[i].as_mut(), self.c.members[i].live.as_ref()) {
            (Some(a), Some(live)) => a.rewrite(&mut self.rng, &live.node, out),
            _ => out,
        };
        for e in out {
            self.send(i, e);
        }
        let m = &mut self.c.members[i];
        let Some(live) = m.live.as_ref() else {
            return Ok(());
        };
        if let Some(at) = live.driver.next_deadline() {
            let ms = self.clock.ms_of(at).max(self.now);
            if m.deadline_at.is_none_or(|d| ms < d) {
                m.deadline_at = Some(ms);
                let incarnation = m.incarnation;
                self.at(
                    ms,
                    Event::Deadline {
                        node: i,
                        incarnation,
                    },
                );
            }
        }
        let m = &mut self.c.members[i];
        let Some(live) = m.live.as_ref() else {
            return Ok(());
        };
        if !m.honest() {
            return Ok(());
        }
        if let Some(reason) = live.node.halted() {
            return Err(WholeViolation::Halted {
                node: m.address.to_string(),
                reason,
            });
        }
        let before = m.seen_height;
        let seen = self.check.on_commits(&live.node, m.seen_height)?;
        if seen > before {
            let head = live.node.head().hash;
            self.report.trace = fold(self.report.trace, head.as_bytes());
        }
        m.seen_height = seen;
        if synced || (self.cfg.faults.crashes && seen > before) {
            m.mark_durable();
        }
        Ok(())
    }

    /// Schedule the delivery of one frame from member `from` with the seed's faults.
    fn send(&mut self, from: usize, e: Envelope) {
        let Some(to) = self.c.members.iter().position(|m| m.address == e.to) else {
            return;
        };
        let before_gst = self.now < self.cfg.gst_ms;
        if let Some((side, until)) = &self.partition
            && self.now < *until
            && side[from] != side[to]
        {
            self.report.dropped += 1;
            return;
        }
        let faults = self.cfg.faults.clone();
        let mut copies = 1;
        if before_gst {
            if self.rng.chance(faults.loss_permille) {
                self.report.dropped += 1;
                return;
            }
            if self.rng.chance(faults.duplicate_permille) {
                copies = 2;
            }
        }
        for _ in 0..copies {
            let mut delay = if before_gst {
                self.rng.range(1, self.cfg.delay_ms_max.max(1))
            } else {
                self.rng.range(1, DELAY_AFTER_GST_MS)
            };
            if before_gst && self.rng.chance(faults.spike_permille) {
                delay += self.rng.range(1, faults.spike_delay_ms_max);
            }
            let link = from * self.c.members.len() + to;
            let mut when = self.now + delay;
            if self.cfg.fifo_links {
                when = when.max(self.link_clock[link]);
                self.link_clock[link] = when;
            }
            let incarnation = self.c.members[to].incarnation;
            let from_addr = self.c.members[from].address;
            self.at(
                when,
                Event::Deliver {
                    to,
                    incarnation,
                    from: from_addr,
                    channel: e.channel,
                    payload: e.payload.clone(),
                },
            );
        }
    }

    pub(super) fn submit(&mut self, client: usize) -> Result<(), WholeViolation> {
        let Some(c) = self.clients.get(client) else {
            return Ok(());
        };
        let home = c.home;
        if c.tainted {
            return Ok(());
        }
        let Some(live) = self.c.members[home].live.as_ref() else {
            return Ok(());
        };
        let (raw, hash) = c.next_transfer();
        let accepted = live.node.submit(&[raw]).iter().all(|r| r.is_ok());
        if accepted {
            let c = &mut self.clients[client];
            c.nonce += 1;
            c.acknowledged.push(hash);
            self.report.acknowledged += 1;
        }
        if let Some(live) = self.c.members[home].live.as_mut() {
            live.driver.drain_admitted();
        }
        self.after_step(home)
    }

    fn crash(&mut self, node: usize, lose_tail: bool) -> Result<(), WholeViolation> {
        // One honest node down at a time.
        if self
            .c
            .members
            .iter()
            .any(|m| m.honest() && m.live.is_none())
            || self.c.members[node].live.is_none()
        {
            return Ok(());
        }
        self.c.members[node]
            .crash(lose_tail)
            .map_err(WholeViolation::Setup)?;
        self.report.crashes += 1;
        if lose_tail {
            self.report.power_losses += 1;
        }
        for c in self.clients.iter_mut().filter(|c| c.home == node) {
            c.tainted = true;
        }
        // It will come back at GST at the latest.
        let t = self.cfg.gst_ms.max(self.now + 1);
        self.at(t, Event::Restart { node });
        Ok(())
    }

    fn attack(&mut self, node: usize) -> Result<(), WholeViolation> {
        let t = self.now + self.rng.range(20, 120);
        self.at(t, Event::Attack { node });
        let m = &self.c.members[node];
        let (Some(a), Some(live)) = (self.attackers[node].as_mut(), m.live.as_ref()) else {
            return Ok(());
        };
        let peers: Vec<Address> = self
            .c
            .members
            .iter()
            .filter(|p| p.address != m.address)
            .map(|p| p.address)
            .collect();
        let frames = a.inject(&mut self.rng, &live.node, live.driver.epoch(), &peers);
        self.report.hostile += frames.len() as u64;
        for e in frames {
            self.send(node, e);
        }
        Ok(())
    }

    /// Every honest node is up, at the target height, and has committed every transaction
    /// acknowledged by a node that never crashed.
    fn done(&self) -> bool {
        let mut honest = self.c.members.iter().filter(|m| m.honest());
        honest.all(|m| match &m.live {
            Some(l) => {
                m.seen_height >= self.cfg.target_height
                    && self.required().all(|tx| Checker::has(&l.node, tx))
            }
            None => false,
        })
    }

    fn required(&self) -> impl Iterator<Item = &keel_types::Hash> {
        self.clients
            .iter()
            .filter(|c| !c.tainted)
            .flat_map(|c| c.acknowledged.iter())
    }

    fn no_progress(&self) -> WholeViolation {
        if std::env::var("KEEL_SIM_DEBUG").is_ok() {
            for tx in self.required() {
                let pools: Vec<(bool, bool)> = self
                    .c
                    .members
                    .iter()
                    .map(|m| {
                        m.live.as_ref().map_or((false, false), |l| {
                            (l.node.mempool().contains(tx), Checker::has(&l.node, tx))
                        })
                    })
                    .collect();
                eprintln!("tx {tx}: (in pool, committed) per member {pools:?}");
            }
        }
        let honest = self.c.members.iter().filter(|m| m.honest());
        let heights = honest.clone().map(|m| m.seen_height).collect();
        let missing_txs = self
            .required()
            .filter(|tx| {
                honest
                    .clone()
                    .any(|m| m.live.as_ref().is_none_or(|l| !Checker::has(&l.node, tx)))
            })
            .count();
        WholeViolation::NoProgress {
            heights,
            missing_txs,
        }
    }

    fn finish(&mut self) -> Result<(), WholeViolation> {
        let mut lowest = u64::MAX;
        // Every block was checked on every honest node as it committed; the whole-chain
        // verification from genesis runs on one of them, chosen by the seed.
        let honest = self.c.members.iter().filter(|m| m.honest()).count();
        let verify = self.rng.index(honest);
        for (i, m) in self.c.members.iter().filter(|m| m.honest()).enumerate() {
            if let Some(l) = &m.live {
                self.check.finish(&l.node, i == verify)?;
                lowest = lowest.min(m.seen_height);
            }
        }
        self.report.height = lowest;
        self.report.epoch = self
            .c
            .members
            .iter()
            .filter(|m| m.honest())
            .filter_map(|m| m.live.as_ref().map(|l| l.driver.epoch()))
            .max()
            .unwrap_or(0);
        self.report.sim_ms = self.now;
        Ok(())
    }
}
