//! The registrar as a node of `sip_client::simnet`, for tests that drive it and
//! clients over a simulated lossy network.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use sip_client::Peer;
use sip_client::simnet::Node;

use crate::core::Registrar;

impl Node for Registrar {
    fn addr(&self) -> SocketAddr {
        self.config()
            .listen
            .first()
            .map(|(_, a)| *a)
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    fn on_packet(&mut self, bytes: Bytes, from: Peer, now: Instant) {
        self.handle_bytes(bytes, from, now);
    }

    fn poll_transmit(&mut self) -> Option<(Peer, Bytes)> {
        self.poll_transmit().map(|t| (t.peer, t.bytes))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Registrar::poll_timeout(self)
    }

    fn on_timeout(&mut self, now: Instant) {
        self.handle_timeout(now);
    }
}
