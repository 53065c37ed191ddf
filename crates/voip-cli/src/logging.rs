//! What `voip` says besides its own lines: the crates' `tracing` events (and rustls's
//! `log` records) on standard error, filtered by `RUST_LOG` or `-v`/`-q`; and with
//! `--trace`, every SIP message sent and received, whole, with the time, the
//! direction, the transport and the peer's address (`--trace-file F` writes it there
//! instead of standard output).

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use sip_client::{Tap, Wire};

/// Options every command takes.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct LogArgs {
    /// More diagnostics on standard error (-v info, -vv debug, -vvv trace);
    /// RUST_LOG, when set, decides instead.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Errors only on standard error.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print every SIP message sent and received, whole.
    #[arg(long, global = true)]
    trace: bool,
    /// Write the --trace output to this file instead of standard output.
    #[arg(long, global = true, value_name = "FILE")]
    trace_file: Option<PathBuf>,
}

impl LogArgs {
    /// Installs the subscriber (once, at start).
    pub(crate) fn init(&self) {
        let level = if self.quiet {
            "error"
        } else {
            match self.verbose {
                0 => "warn",
                1 => "info",
                2 => "debug",
                _ => "trace",
            }
        };
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
        // A second init (tests calling twice) keeps the first.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .try_init();
    }

    /// The tap that prints the trace, when asked for.
    pub(crate) fn tap(&self) -> Result<Option<Tap>, String> {
        if !self.trace && self.trace_file.is_none() {
            return Ok(None);
        }
        let out: Box<dyn Write + Send> = match &self.trace_file {
            Some(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("--trace-file {}: {e}", path.display()))?,
            ),
            None => Box::new(std::io::stdout()),
        };
        let out = Mutex::new(out);
        Ok(Some(Arc::new(move |w: Wire<'_>| {
            let text = render(&w, SystemTime::now());
            let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        })))
    }
}

/// Both taps, in order (either may be absent).
pub(crate) fn both(a: Option<Tap>, b: Option<Tap>) -> Option<Tap> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Arc::new(move |w: Wire<'_>| {
            a(w);
            b(w);
        })),
        (a, None) => a,
        (None, b) => b,
    }
}

/// `HH:MM:SS.mmm` (UTC) of `t`.
fn clock(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let s = d.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_millis()
    )
}

/// One message of the trace: a header line, the message, a blank line.
fn render(w: &Wire<'_>, at: SystemTime) -> String {
    let (arrow, peer, text) = match w {
        Wire::Sent { peer, bytes } => (
            "sent to",
            *peer,
            String::from_utf8_lossy(bytes).into_owned(),
        ),
        Wire::Received { peer, message } => (
            "received from",
            *peer,
            String::from_utf8_lossy(&message.to_bytes()).into_owned(),
        ),
    };
    let body = text.trim_end_matches(['\r', '\n']).replace("\r\n", "\n");
    format!(
        "---- {} UTC {arrow} {} ({} bytes)\n{body}\n\n",
        clock(at),
        peer,
        text.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn renders_a_message_with_time_direction_and_peer() {
        let peer = sip_client::Peer::new(
            sip_message::TransportMode::Udp,
            "192.0.2.7:5060".parse().unwrap(),
        );
        let bytes = bytes::Bytes::from_static(b"OPTIONS sip:x SIP/2.0\r\nCall-ID: a\r\n\r\n");
        let at = UNIX_EPOCH + Duration::from_millis(86_400_000 * 3 + 3_723_045);
        let text = render(
            &Wire::Sent {
                peer: &peer,
                bytes: &bytes,
            },
            at,
        );
        assert!(text.starts_with("---- 01:02:03.045 UTC sent to UDP 192.0.2.7:5060 (37 bytes)\nOPTIONS sip:x SIP/2.0\nCall-ID: a\n\n"), "{text}");
    }
}
