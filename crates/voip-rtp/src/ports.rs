//! RTP port allocation: an even port for RTP and the next for RTCP (RFC 3550 §11),
//! both bound, within the range the application allows (pyVoIP's `rtp_port_low` and
//! `rtp_port_high`, and its `NoPortsAvailableError`).

use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU16, Ordering};

use tokio::net::UdpSocket;

/// Why no sockets could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PortError {
    /// Every even port of the range (with its odd neighbour) is in use.
    #[error("no RTP port pair free in {low}..={high} on {ip}")]
    NoPortsAvailable {
        /// The address bound to.
        ip: IpAddr,
        /// The range's first port.
        low: u16,
        /// The range's last port.
        high: u16,
    },
    /// The range holds no even port with a neighbour.
    #[error("the RTP port range {low}..={high} holds no pair")]
    EmptyRange {
        /// The range's first port.
        low: u16,
        /// The range's last port.
        high: u16,
    },
}

/// The two bound sockets of one media stream.
#[derive(Debug)]
pub struct MediaSockets {
    /// RTP, on the even port.
    pub rtp: UdpSocket,
    /// RTCP, on the next.
    pub rtcp: UdpSocket,
}

impl MediaSockets {
    /// The RTP socket's address (what goes into SDP).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.rtp.local_addr()
    }
}

/// Hands out port pairs from a range, round robin, so consecutive calls do not reuse
/// the port a peer may still be sending to.
#[derive(Debug)]
pub struct PortAllocator {
    ip: IpAddr,
    low: u16,
    high: u16,
    next: AtomicU16,
}

impl PortAllocator {
    /// Pairs on `ip` within `range` (pyVoIP's default is 10000..=20000).
    pub fn new(ip: IpAddr, range: RangeInclusive<u16>) -> Result<PortAllocator, PortError> {
        let (low, high) = (*range.start(), *range.end());
        // The first even port and the last even port with room for its neighbour.
        let first = low.saturating_add(low % 2);
        if first >= high {
            return Err(PortError::EmptyRange { low, high });
        }
        Ok(PortAllocator {
            ip,
            low: first,
            high,
            next: AtomicU16::new(first),
        })
    }

    /// How many pairs the range holds.
    pub fn capacity(&self) -> usize {
        usize::from((self.high - self.low).div_ceil(2))
    }

    /// Binds the next free pair.
    pub async fn allocate(&self) -> Result<MediaSockets, PortError> {
        let pairs = self.capacity() as u32;
        for _ in 0..pairs {
            let port = self.take();
            let Ok(rtp) = UdpSocket::bind(SocketAddr::new(self.ip, port)).await else {
                continue;
            };
            let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(self.ip, port + 1)).await else {
                continue;
            };
            return Ok(MediaSockets { rtp, rtcp });
        }
        Err(PortError::NoPortsAvailable {
            ip: self.ip,
            low: self.low,
            high: self.high,
        })
    }

    /// The next even port of the range, wrapping.
    fn take(&self) -> u16 {
        let mut current = self.next.load(Ordering::Relaxed);
        loop {
            let after = if current.saturating_add(3) > self.high {
                self.low
            } else {
                current + 2
            };
            match self.next.compare_exchange_weak(
                current,
                after,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return current,
                Err(seen) => current = seen,
            }
        }
    }
}
