//! What every example shares: a phone from the command line.
//!
//! `--server HOST[:PORT] --user USER [--password P] [--domain D] [--transport udp|tcp|tls]
//! [--ca FILE] [--bind IP]`, the password from `VOIP_PASSWORD` when not given; the
//! example's own options are returned with their values.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;

use voip_facade::{VoipPhone, VoipPhoneParameter};

/// The options given (`--name value`), and the phone they describe.
pub struct Setup {
    pub phone: VoipPhone,
    pub options: HashMap<String, String>,
}

fn usage(example: &str, extra: &str) -> ! {
    eprintln!(
        "usage: cargo run -p voip-facade --example {example} -- --server HOST[:PORT] --user USER \
         [--password P | VOIP_PASSWORD=P] [--domain D] [--transport udp|tcp|tls] [--ca FILE] [--bind IP] {extra}"
    );
    std::process::exit(2)
}

/// Reads the command line; exits with the usage on a mistake.
pub fn setup(example: &str, extra: &str) -> Setup {
    let mut options = HashMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let Some(name) = a.strip_prefix("--") else {
            usage(example, extra)
        };
        let Some(value) = args.next() else {
            usage(example, extra)
        };
        options.insert(name.to_string(), value);
    }
    let (Some(server), Some(user)) = (options.get("server"), options.get("user")) else {
        usage(example, extra)
    };
    let password = options
        .get("password")
        .cloned()
        .or_else(|| std::env::var("VOIP_PASSWORD").ok())
        .unwrap_or_default();
    let (host, port) = match server.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_string(), p.parse().ok()),
        _ => (server.clone(), None),
    };
    let mut p = VoipPhoneParameter::new(&host, user, &password);
    p.port = port;
    p.domain = options.get("domain").cloned();
    p.transport_mode = match options.get("transport").map(String::as_str) {
        Some("tcp") => sip_message::TransportMode::Tcp,
        Some("tls") => sip_message::TransportMode::Tls,
        Some("udp") | None => sip_message::TransportMode::Udp,
        Some(_) => usage(example, extra),
    };
    if let Some(ca) = options.get("ca") {
        p.ca_files = vec![ca.into()];
    }
    if let Some(ip) = options.get("bind").and_then(|b| b.parse().ok()) {
        p.bind_ip = ip;
    }
    Setup {
        phone: VoipPhone::new(p),
        options,
    }
}
