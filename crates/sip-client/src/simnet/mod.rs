//! A simulated network for driving sans-IO cores against each other with no sockets
//! and no sleeping: a simulated clock, and per-packet seeded loss, delay (hence
//! reordering) and duplication on unreliable transports. Stream transports deliver
//! everything, in order, after a fixed delay.
//!
//! A test owns its nodes and hands them to [`SimNet::step`] each turn; the network
//! moves the clock to the next packet arrival or node timer, whichever is first.

mod calls;

pub use calls::{CallPlan, Incomplete, whole_call};

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_message::{Random, SeededRandom};

use crate::endpoint::Endpoint;
use crate::machine::{Input, Machine, Output};
use crate::peer::Peer;

/// Something the network can drive.
pub trait Node {
    /// The address packets for this node are sent to.
    fn addr(&self) -> SocketAddr;
    /// A packet arrived from `from`.
    fn on_packet(&mut self, bytes: Bytes, from: Peer, now: Instant);
    /// The next packet to send.
    fn poll_transmit(&mut self) -> Option<(Peer, Bytes)>;
    /// The node's next deadline.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Time reached a deadline.
    fn on_timeout(&mut self, now: Instant);
}

/// How the network misbehaves on unreliable transports.
#[derive(Clone, Copy, Debug)]
pub struct NetConditions {
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
    /// The shortest one-way delay.
    pub min_delay: Duration,
    /// The longest one-way delay (delays are uniform between; different delays
    /// reorder packets).
    pub max_delay: Duration,
}

impl NetConditions {
    /// A perfect network with a 10 ms delay.
    pub fn perfect() -> NetConditions {
        NetConditions {
            loss: 0.0,
            duplicate: 0.0,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(10),
        }
    }

    /// `loss` probability of loss, 2% duplication, 5 to 150 ms delay.
    pub fn lossy(loss: f64) -> NetConditions {
        NetConditions {
            loss,
            duplicate: 0.02,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(150),
        }
    }
}

/// One packet in flight, ordered by arrival time, then by sending order.
#[derive(Debug)]
struct InFlight {
    at: Instant,
    seq: u64,
    to: SocketAddr,
    from: SocketAddr,
    mode: sip_message::TransportMode,
    bytes: Bytes,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for InFlight {}

impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Counters of what the network did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Packets handed to the network.
    pub sent: u64,
    /// Packets dropped.
    pub lost: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
    /// Packets delivered.
    pub delivered: u64,
}

/// The network.
#[derive(Debug)]
pub struct SimNet {
    now: Instant,
    start: Instant,
    rng: SeededRandom,
    conditions: NetConditions,
    /// Conditions of the links of particular nodes (a phone on lossy Wi-Fi), which
    /// apply to every datagram to or from that address.
    links: std::collections::HashMap<SocketAddr, NetConditions>,
    queue: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    /// The last delivery time per stream direction, so streams stay in order.
    stream_tail: std::collections::HashMap<(SocketAddr, SocketAddr), Instant>,
    stats: NetStats,
}

impl SimNet {
    /// A network seeded with `seed`, starting at `start`.
    pub fn new(seed: u64, conditions: NetConditions, start: Instant) -> SimNet {
        SimNet {
            now: start,
            start,
            rng: SeededRandom::new(seed),
            conditions,
            links: Default::default(),
            queue: BinaryHeap::new(),
            seq: 0,
            stream_tail: Default::default(),
            stats: NetStats::default(),
        }
    }

    /// The simulated time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// What the network did.
    pub fn stats(&self) -> NetStats {
        self.stats
    }

    /// Changes the conditions from now on.
    pub fn set_conditions(&mut self, c: NetConditions) {
        self.conditions = c;
    }

    /// Gives the node at `addr` a link of its own: datagrams to or from it meet
    /// these conditions instead of the network's.
    pub fn set_link(&mut self, addr: SocketAddr, c: NetConditions) {
        self.links.insert(addr, c);
    }

    fn conditions_between(&self, a: SocketAddr, b: SocketAddr) -> NetConditions {
        self.links
            .get(&a)
            .or_else(|| self.links.get(&b))
            .copied()
            .unwrap_or(self.conditions)
    }

    fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        let x = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }

    fn delay(&mut self, c: &NetConditions) -> Duration {
        let (lo, hi) = (c.min_delay, c.max_delay);
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo).as_micros() as u64;
        lo + Duration::from_micros(self.rng.next_u64() % (span + 1))
    }

    /// Hands a packet from `from` to the network.
    pub fn send(&mut self, from: SocketAddr, to: &Peer, bytes: Bytes) {
        self.stats.sent += 1;
        let c = self.conditions_between(from, to.addr);
        if to.mode.is_stream() {
            let d = c.min_delay;
            let tail = self
                .stream_tail
                .get(&(from, to.addr))
                .copied()
                .unwrap_or(self.now);
            let at = (self.now + d).max(tail);
            self.stream_tail.insert((from, to.addr), at);
            self.push(at, from, to, bytes);
            return;
        }
        if self.chance(c.loss) {
            self.stats.lost += 1;
            return;
        }
        let d = self.delay(&c);
        self.push(self.now + d, from, to, bytes.clone());
        if self.chance(c.duplicate) {
            self.stats.duplicated += 1;
            let d = self.delay(&c);
            self.push(self.now + d, from, to, bytes);
        }
    }

    fn push(&mut self, at: Instant, from: SocketAddr, to: &Peer, bytes: Bytes) {
        self.seq += 1;
        self.queue.push(Reverse(InFlight {
            at,
            seq: self.seq,
            to: to.addr,
            from,
            mode: to.mode,
            bytes,
        }));
    }

    /// Collects what every node wants to send.
    fn collect(&mut self, nodes: &mut [&mut dyn Node]) {
        for n in nodes.iter_mut() {
            let from = n.addr();
            while let Some((peer, bytes)) = n.poll_transmit() {
                self.send(from, &peer, bytes);
            }
        }
    }

    /// Runs one point in time: the earliest packet arrival or node deadline, but not
    /// past `limit`. Returns false when nothing is left to do before `limit` (the
    /// clock is then at `limit`).
    pub fn step(&mut self, nodes: &mut [&mut dyn Node], limit: Instant) -> bool {
        self.collect(nodes);
        let next_packet = self.queue.peek().map(|Reverse(p)| p.at);
        let next_timer = nodes.iter().filter_map(|n| n.poll_timeout()).min();
        let next = [next_packet, next_timer].into_iter().flatten().min();
        let Some(next) = next.filter(|t| *t <= limit) else {
            self.now = self.now.max(limit);
            return false;
        };
        self.now = self.now.max(next);
        let now = self.now;
        while self.queue.peek().is_some_and(|Reverse(p)| p.at <= now) {
            let Some(Reverse(p)) = self.queue.pop() else {
                break;
            };
            if let Some(n) = nodes.iter_mut().find(|n| n.addr() == p.to) {
                self.stats.delivered += 1;
                n.on_packet(p.bytes, Peer::new(p.mode, p.from), now);
            }
        }
        for n in nodes.iter_mut() {
            if n.poll_timeout().is_some_and(|t| t <= now) {
                n.on_timeout(now);
            }
        }
        self.collect(nodes);
        true
    }

    /// Steps until `done` holds or `limit` is reached; returns whether `done` held.
    pub fn run_until(
        &mut self,
        nodes: &mut [&mut dyn Node],
        limit: Instant,
        mut done: impl FnMut(&mut [&mut dyn Node]) -> bool,
    ) -> bool {
        loop {
            if done(nodes) {
                return true;
            }
            if !self.step(nodes, limit) {
                return done(nodes);
            }
        }
    }
}

/// A machine on the simulated network (an [`Endpoint`], a registrar...), keeping its
/// events for the test.
pub struct SimNode<M: Machine> {
    /// The machine.
    pub machine: M,
    /// Its address.
    pub addr: SocketAddr,
    /// Events not yet taken by the test.
    pub events: Vec<M::Event>,
}

/// An [`Endpoint`] on the simulated network.
pub type SimUa = SimNode<Endpoint>;

impl<M: Machine> SimNode<M> {
    /// A machine at `addr`.
    pub fn new(machine: M, addr: SocketAddr) -> SimNode<M> {
        SimNode {
            machine,
            addr,
            events: Vec::new(),
        }
    }

    /// Takes the events so far.
    pub fn take_events(&mut self) -> Vec<M::Event> {
        std::mem::take(&mut self.events)
    }
}

impl<M: Machine> std::fmt::Debug for SimNode<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimNode")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl<M: Machine<Input = Input>> Node for SimNode<M> {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn on_packet(&mut self, bytes: Bytes, from: Peer, now: Instant) {
        self.machine
            .handle_input(Input::Bytes { bytes, peer: from }, now);
    }

    fn poll_transmit(&mut self) -> Option<(Peer, Bytes)> {
        while let Some(o) = self.machine.poll_output() {
            match o {
                Output::Transmit(t) => return Some((t.peer, t.bytes)),
                Output::Event(e) => self.events.push(e),
            }
        }
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.machine.poll_timeout()
    }

    fn on_timeout(&mut self, now: Instant) {
        self.machine.handle_timeout(now);
    }
}
