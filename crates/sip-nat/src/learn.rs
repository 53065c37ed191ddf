//! Learning our public address from `received` and `rport` (RFC 3581).
//!
//! Every request we send carries `;rport`; the server fills in the source address and
//! port it saw. When that differs from what our Contact says, a NAT is rewriting our
//! address and the registration must be refreshed with the public one.

use std::net::{IpAddr, SocketAddr};

use sip_message::headers::{Rport, Via};

/// What a response's top Via told us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observation {
    /// Nothing new: the server saw what we advertise, or said nothing.
    Unchanged,
    /// The server sees us at another address: refresh Contact with this one.
    Changed {
        /// The address the server saw.
        public: SocketAddr,
    },
}

/// Tracks the address we advertise and the one servers see.
#[derive(Clone, Debug)]
pub struct AddressLearner {
    advertised: SocketAddr,
    public: Option<SocketAddr>,
}

impl AddressLearner {
    /// Starts from the address our Via and Contact advertise.
    pub fn new(advertised: SocketAddr) -> AddressLearner {
        AddressLearner {
            advertised,
            public: None,
        }
    }

    /// The address we advertise now.
    pub fn advertised(&self) -> SocketAddr {
        self.advertised
    }

    /// The public address last seen by a server, if any.
    pub fn public(&self) -> Option<SocketAddr> {
        self.public
    }

    /// Reads the top Via of a response to one of our requests. `received` gives the
    /// address (the sent-by host when absent), `rport` the port (the sent-by port when
    /// absent or not filled in).
    pub fn observe(&mut self, top_via: &Via<'_>) -> Observation {
        let received: Option<IpAddr> = top_via.received_ip();
        let rport = match top_via.rport() {
            Some(Rport::Port(p)) => Some(p),
            _ => None,
        };
        if received.is_none() && rport.is_none() {
            return Observation::Unchanged;
        }
        let ip = received.unwrap_or(self.advertised.ip());
        let port = rport.unwrap_or(self.advertised.port());
        let seen = SocketAddr::new(ip, port);
        if seen == self.advertised || Some(seen) == self.public {
            self.public = Some(seen);
            return Observation::Unchanged;
        }
        self.public = Some(seen);
        Observation::Changed { public: seen }
    }

    /// Adopts the public address as the advertised one (after refreshing Contact).
    pub fn adopt(&mut self, addr: SocketAddr) {
        self.advertised = addr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip_message::headers::TypedHeader;

    fn via(s: &str) -> Via<'_> {
        Via::parse(s).unwrap()
    }

    #[test]
    fn learns_from_received_and_rport() {
        let mut l = AddressLearner::new("192.168.1.5:5060".parse().unwrap());
        assert_eq!(
            l.observe(&via("SIP/2.0/UDP 192.168.1.5:5060;branch=z9hG4bK1;rport")),
            Observation::Unchanged
        );
        assert_eq!(
            l.observe(&via(
                "SIP/2.0/UDP 192.168.1.5:5060;branch=z9hG4bK1;rport=5060;received=192.168.1.5"
            )),
            Observation::Unchanged
        );
        let changed = l.observe(&via(
            "SIP/2.0/UDP 192.168.1.5:5060;branch=z9hG4bK1;rport=41000;received=203.0.113.7",
        ));
        assert_eq!(
            changed,
            Observation::Changed {
                public: "203.0.113.7:41000".parse().unwrap()
            }
        );
        // Reported once, not on every response.
        assert_eq!(
            l.observe(&via(
                "SIP/2.0/UDP 192.168.1.5:5060;branch=z9hG4bK2;rport=41000;received=203.0.113.7"
            )),
            Observation::Unchanged
        );
        l.adopt("203.0.113.7:41000".parse().unwrap());
        assert_eq!(l.advertised().port(), 41000);
        // A NAT rebinding changes the port again.
        let again = l.observe(&via(
            "SIP/2.0/UDP 203.0.113.7:41000;branch=z9hG4bK3;rport=41022;received=203.0.113.7",
        ));
        assert_eq!(
            again,
            Observation::Changed {
                public: "203.0.113.7:41022".parse().unwrap()
            }
        );
    }

    #[test]
    fn received_alone_and_ipv6() {
        let mut l = AddressLearner::new("[2001:db8::5]:5060".parse().unwrap());
        let seen = l.observe(&via(
            "SIP/2.0/UDP [2001:db8::5]:5060;branch=z9hG4bK1;received=[2001:db8::99]",
        ));
        assert_eq!(
            seen,
            Observation::Changed {
                public: "[2001:db8::99]:5060".parse().unwrap()
            }
        );
    }
}
