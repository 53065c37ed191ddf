//! What `voip call` and `voip listen` do with a call's audio: `--play FILE.wav`,
//! `--record FILE.wav`, `--dtmf DIGITS` (sent once the media runs), `--echo`; and
//! the digits received, printed as they come.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use clap::Args;
use sip_client::CallControl;
use sip_message::Method;
use tokio::task::JoinHandle;
use voip_facade::{CallMedia, MediaConfig};

/// Media arguments shared by `voip call` and `voip listen`.
#[derive(Args, Debug, Clone)]
pub(crate) struct MediaArgs {
    /// Play this WAV file into the call (any rate or channels; sent as 8 kHz mono).
    #[arg(long)]
    play: Option<PathBuf>,
    /// Record what the call brings to this WAV file (8 kHz mono 16-bit).
    #[arg(long)]
    record: Option<PathBuf>,
    /// Send these DTMF digits once the call is up, after --play's file (RFC 4733,
    /// else SIP INFO).
    #[arg(long)]
    dtmf: Option<String>,
    /// Send back what arrives.
    #[arg(long)]
    echo: bool,
    /// The RTP port range, LOW-HIGH.
    #[arg(long, default_value = "10000-20000")]
    rtp_ports: String,
}

/// The media part of a command: its configuration and the audio to play.
pub(crate) struct MediaPlan {
    args: MediaArgs,
    play: Option<Arc<Vec<i16>>>,
}

impl MediaArgs {
    /// Reads the file to play (so a bad file fails before any call) and checks the
    /// digits and the port range.
    pub(crate) fn plan(&self) -> Result<MediaPlan, String> {
        let play = match &self.play {
            Some(p) => Some(Arc::new(
                voip_facade::wav::read(p).map_err(|e| e.to_string())?,
            )),
            None => None,
        };
        if let Some(d) = &self.dtmf {
            for c in d.chars() {
                voip_rtp::dtmf::event_of(c).map_err(|e| format!("--dtmf: {e}"))?;
            }
        }
        self.ports()?;
        Ok(MediaPlan {
            args: self.clone(),
            play,
        })
    }

    fn ports(&self) -> Result<std::ops::RangeInclusive<u16>, String> {
        let bad = || format!("--rtp-ports: {:?} is not LOW-HIGH", self.rtp_ports);
        let (lo, hi) = self.rtp_ports.split_once('-').ok_or_else(bad)?;
        let lo: u16 = lo.trim().parse().map_err(|_| bad())?;
        let hi: u16 = hi.trim().parse().map_err(|_| bad())?;
        Ok(lo..=hi)
    }
}

/// What the media tasks of one call leave behind.
pub(crate) struct MediaRun {
    tasks: Vec<JoinHandle<()>>,
    recorder: Option<JoinHandle<Vec<i16>>>,
    digits: JoinHandle<String>,
    record: Option<PathBuf>,
}

impl MediaPlan {
    /// The media configuration for a client at `ip` whose user is `user`.
    pub(crate) fn config(
        &self,
        ip: std::net::IpAddr,
        user: &str,
    ) -> Result<Arc<MediaConfig>, String> {
        let host = if ip.is_ipv6() {
            format!("[{ip}]")
        } else {
            ip.to_string()
        };
        let config = MediaConfig::new(ip, self.args.ports()?, ip, &format!("{user}@{host}"))
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(config))
    }

    /// Starts what the arguments ask for on `media`, as soon as it runs. `label`
    /// starts the lines printed (`call 3:`).
    pub(crate) fn start(
        &self,
        media: &Arc<CallMedia>,
        control: CallControl,
        label: &str,
    ) -> MediaRun {
        let mut tasks = Vec::new();
        // The file first, then the digits: an event replaces the voice of its packets.
        let (play, digits) = (self.play.clone(), self.args.dtmf.clone());
        if play.is_some() || digits.is_some() {
            let media = media.clone();
            tasks.push(tokio::spawn(async move {
                let Some(h) = media.running().await else {
                    return;
                };
                if let Some(samples) = play
                    && (h.write_audio(&samples).await.is_err() || h.drain().await.is_err())
                {
                    return;
                }
                let Some(digits) = digits else {
                    return;
                };
                if media.has_events() {
                    let _ = h.send_dtmf(&digits).await;
                } else {
                    for d in digits.chars() {
                        let body = Bytes::from(format!("Signal={d}\r\nDuration=160\r\n"));
                        let _ = control
                            .send_request(Method::Info, Some("application/dtmf-relay"), body)
                            .await;
                    }
                }
            }));
        }
        let (echo, record) = (self.args.echo, self.args.record.is_some());
        let recorder = (echo || record).then(|| {
            let media = media.clone();
            tokio::spawn(async move {
                let mut kept = Vec::new();
                let Some(h) = media.running().await else {
                    return kept;
                };
                loop {
                    let frame = h.read_audio(160).await;
                    if echo && !frame.is_empty() && h.write_audio(&frame).await.is_err() {
                        break;
                    }
                    let done = frame.len() < 160;
                    if record {
                        kept.extend(frame);
                    }
                    if done {
                        break;
                    }
                }
                kept
            })
        });
        let digits = {
            let media = media.clone();
            let label = label.to_string();
            tokio::spawn(async move {
                let mut all = String::new();
                while let Some(d) = media.next_digit().await {
                    println!("{label}dtmf {d}");
                    all.push(d);
                }
                all
            })
        };
        MediaRun {
            tasks,
            recorder,
            digits,
            record: self.args.record.clone(),
        }
    }
}

impl MediaRun {
    /// Once the call ended and its media closed: saves the recording, and returns the
    /// digits received.
    pub(crate) async fn finish(self) -> Result<String, String> {
        for t in self.tasks {
            t.abort();
        }
        if let (Some(r), Some(path)) = (self.recorder, self.record) {
            let samples = r.await.unwrap_or_default();
            voip_facade::wav::write(&path, &samples).map_err(|e| e.to_string())?;
        }
        Ok(self.digits.await.unwrap_or_default())
    }
}
