//! pyVoIP's `VoIPPhone`: start (register), place calls, receive them as a stream or
//! through a callback, send messages, hear about voicemail, stop.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::call::{Direction, VoipCall};
use crate::call_task::{NewCall, start};
use crate::error::PhoneError;
use crate::media::{CallMedia, MediaConfig, lock};
use crate::params::VoipPhoneParameter;
use sip_client::registration::{RegistrationError, RegistrationEvent};
use sip_client::{
    CallSpec, ClientError, ClientEvent, IncomingCall, MessageSummary, OutgoingRequest, SipClient,
};
use sip_message::{Method, StatusCode};
use tokio::sync::{Mutex as AsyncMutex, mpsc, watch};

/// Why a phone is in [`PhoneStatus::Failed`].
#[derive(Clone, Debug)]
pub enum FailReason {
    /// It could not start (bind, resolve, the first registration).
    Start(Arc<ClientError>),
    /// The registration gave up later.
    Registration(RegistrationError),
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::Start(e) => write!(f, "{e}"),
            FailReason::Registration(e) => write!(f, "{e}"),
        }
    }
}

/// Where a phone stands (pyVoIP's `PhoneStatus`).
#[derive(Clone, Debug)]
pub enum PhoneStatus {
    /// Not started, or stopped.
    Inactive,
    /// Starting: the first REGISTER is out.
    Registering,
    /// Registered (or started without registering) and taking calls.
    Registered,
    /// Stopping: the binding is being removed.
    Deregistering,
    /// Failed, and why.
    Failed(FailReason),
}

/// What a phone reports besides incoming calls.
#[derive(Debug)]
#[non_exhaustive]
pub enum PhoneEvent {
    /// A MESSAGE arrived (it was answered 200).
    Message {
        /// The sender (From).
        from: String,
        /// Its content type.
        content_type: Option<String>,
        /// The text.
        body: bytes::Bytes,
    },
    /// The voicemail server says messages wait (RFC 3842).
    MessageSummary(MessageSummary),
    /// A call of ours was transferred (REFER): this is the new call, placed to the
    /// transfer target.
    Transferred {
        /// The new call.
        call: VoipCall,
    },
    /// The registration changed.
    Status(PhoneStatus),
}

/// `"Alice" <sip:alice@example.com>`, or the URI alone when there is no display name.
fn party(from: &sip_message::headers::NameAddr<'_>) -> String {
    match from.display_name() {
        Some(name) if !name.is_empty() => format!("\"{name}\" <{}>", from.uri().as_str()),
        _ => from.uri().as_str().to_string(),
    }
}

/// The most incoming calls and events waiting for the application.
const QUEUE: usize = 64;

struct Running {
    client: Arc<SipClient>,
    account: sip_client::AccountId,
    media: Arc<MediaConfig>,
}

struct PhoneShared {
    params: VoipPhoneParameter,
    status: watch::Sender<PhoneStatus>,
    running: Mutex<Option<Arc<Running>>>,
    calls: AsyncMutex<mpsc::Receiver<VoipCall>>,
    calls_tx: mpsc::Sender<VoipCall>,
    events: AsyncMutex<mpsc::Receiver<PhoneEvent>>,
    events_tx: mpsc::Sender<PhoneEvent>,
}

/// A phone. Cloning shares it.
#[derive(Clone)]
pub struct VoipPhone {
    shared: Arc<PhoneShared>,
}

impl fmt::Debug for VoipPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VoipPhone")
            .field("params", &self.shared.params)
            .field("status", &self.status())
            .finish()
    }
}

impl VoipPhone {
    /// A phone with these parameters, not started.
    pub fn new(params: VoipPhoneParameter) -> VoipPhone {
        let (calls_tx, calls) = mpsc::channel(QUEUE);
        let (events_tx, events) = mpsc::channel(QUEUE);
        VoipPhone {
            shared: Arc::new(PhoneShared {
                params,
                status: watch::Sender::new(PhoneStatus::Inactive),
                running: Mutex::new(None),
                calls: AsyncMutex::new(calls),
                calls_tx,
                events: AsyncMutex::new(events),
                events_tx,
            }),
        }
    }

    /// Where the phone stands.
    pub fn status(&self) -> PhoneStatus {
        self.shared.status.borrow().clone()
    }

    fn set_status(&self, s: PhoneStatus) {
        self.shared.status.send_replace(s.clone());
        let _ = self.shared.events_tx.try_send(PhoneEvent::Status(s));
    }

    fn running(&self) -> Result<Arc<Running>, PhoneError> {
        lock(&self.shared.running)
            .clone()
            .ok_or(PhoneError::NotRunning)
    }

    /// Binds, registers (unless the parameters say not to) and starts taking calls.
    pub async fn start(&self) -> Result<(), PhoneError> {
        if self.running().is_ok() {
            return Ok(());
        }
        let p = &self.shared.params;
        self.set_status(PhoneStatus::Registering);
        let mut client = match SipClient::start(p.client_config()).await {
            Ok(c) => c,
            Err(e) => {
                let e = Arc::new(e);
                self.set_status(PhoneStatus::Failed(FailReason::Start(e.clone())));
                return Err(PhoneError::Start(e));
            }
        };
        let local_ip = client.local_addr().ip();
        let bind_ip = if p.bind_ip.is_unspecified() {
            p.bind_ip
        } else {
            local_ip
        };
        let host = match local_ip {
            IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        let media = MediaConfig::new(
            bind_ip,
            p.rtp_port_low..=p.rtp_port_high,
            local_ip,
            &format!("{}@{host}", p.user),
        )?
        .with_codecs(p.codecs.clone())
        .with_jitter_delay(p.jitter_delay);
        let events = client.take_events();
        let running = Arc::new(Running {
            account: client.account(),
            client: Arc::new(client),
            media: Arc::new(media),
        });
        *lock(&self.shared.running) = Some(running.clone());
        if let Some(events) = events {
            tokio::spawn(self.clone().dispatch(running, events));
        }
        self.set_status(PhoneStatus::Registered);
        Ok(())
    }

    /// Hangs up nothing by itself: deregisters and closes the transport (calls still
    /// up lose their signalling; hang them up first).
    pub async fn stop(&self) {
        let Some(running) = lock(&self.shared.running).take() else {
            return;
        };
        self.set_status(PhoneStatus::Deregistering);
        running.client.shutdown().await;
        self.set_status(PhoneStatus::Inactive);
    }

    /// The address other parties reach our SIP at.
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.running().ok().map(|r| r.client.local_addr())
    }

    /// Calls `uri` (`sip:bob@example.com`, or a bare number or user at the server's
    /// domain) and returns the call in [`CallState::Dialing`](crate::CallState::Dialing).
    pub async fn call(&self, uri: &str) -> Result<VoipCall, PhoneError> {
        let running = self.running()?;
        let target = self.target_uri(uri);
        let media = CallMedia::reserve(&running.media).await?;
        let handle = running
            .client
            .call(
                running.account,
                CallSpec::new(&target, media.local().clone()),
            )
            .await?;
        Ok(start(NewCall {
            handle,
            direction: Direction::Outgoing,
            remote: target,
            media,
            media_config: running.media.clone(),
            phone_events: self.shared.events_tx.clone(),
        }))
    }

    /// `sip:` URIs as they are; anything else is a user at our domain.
    fn target_uri(&self, uri: &str) -> String {
        if uri.starts_with("sip:") || uri.starts_with("sips:") || uri.starts_with("tel:") {
            return uri.to_string();
        }
        let p = &self.shared.params;
        let domain = p.domain.as_deref().unwrap_or(&p.server);
        format!("sip:{uri}@{domain}")
    }

    /// The next incoming call, ringing; `None` once the phone stopped.
    pub async fn next_call(&self) -> Option<VoipCall> {
        self.shared.calls.lock().await.recv().await
    }

    /// Runs `callback` for every incoming call, each in its own task (pyVoIP's
    /// `callCallback`). Calls then no longer come through [`VoipPhone::next_call`].
    pub fn on_call<F, Fut>(&self, callback: F)
    where
        F: Fn(VoipCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let phone = self.clone();
        tokio::spawn(async move {
            while let Some(call) = phone.next_call().await {
                tokio::spawn(callback(call));
            }
        });
    }

    /// The next event (messages, voicemail, transfers, registration changes).
    pub async fn next_event(&self) -> Option<PhoneEvent> {
        self.shared.events.lock().await.recv().await
    }

    /// Sends a text MESSAGE (RFC 3428) and waits for its answer.
    pub async fn message(&self, uri: &str, text: &str) -> Result<(), PhoneError> {
        let running = self.running()?;
        let mut req = OutgoingRequest::new(Method::Message, &self.target_uri(uri));
        req.content_type = Some("text/plain".to_string());
        req.body = bytes::Bytes::copy_from_slice(text.as_bytes());
        let mut handle = running.client.send(running.account, req).await?;
        let resp = handle
            .final_response()
            .await
            .map_err(ClientError::Request)?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(PhoneError::Refused {
                status,
                reason: resp.reason().to_string(),
            })
        }
    }

    /// Reads the client's events for as long as it runs.
    async fn dispatch(
        self,
        running: Arc<Running>,
        mut events: mpsc::UnboundedReceiver<ClientEvent>,
    ) {
        while let Some(event) = events.recv().await {
            match event {
                ClientEvent::IncomingCall(incoming) => self.incoming(&running, incoming).await,
                ClientEvent::Registration { event, .. } => match event {
                    RegistrationEvent::Registered { .. } => {
                        self.set_status(PhoneStatus::Registered)
                    }
                    RegistrationEvent::Failed {
                        error, fatal: true, ..
                    } => self.set_status(PhoneStatus::Failed(FailReason::Registration(error))),
                    _ => {}
                },
                ClientEvent::MessageSummary { summary, .. } => {
                    let _ = self
                        .shared
                        .events_tx
                        .try_send(PhoneEvent::MessageSummary(summary));
                }
                ClientEvent::IncomingRequest { tx, request, .. } => {
                    let status = if request.method() == &Method::Message {
                        let _ = self.shared.events_tx.try_send(PhoneEvent::Message {
                            from: party(&request.from()),
                            content_type: request
                                .content_type()
                                .map(|t| format!("{}/{}", t.top, t.sub)),
                            body: request.body().clone(),
                        });
                        StatusCode::OK
                    } else {
                        StatusCode::NOT_IMPLEMENTED
                    };
                    let _ = running.client.reply(tx, request, status).await;
                }
            }
        }
    }

    /// An incoming call: ports for it, then to the application (busy when the
    /// application has not taken the last 64 calls; 503 when no ports are free).
    async fn incoming(&self, running: &Arc<Running>, incoming: IncomingCall) {
        let IncomingCall { call, request, .. } = incoming;
        let media = match CallMedia::reserve(&running.media).await {
            Ok(m) => m,
            Err(_) => {
                let _ = call.reject(StatusCode::SERVICE_UNAVAILABLE).await;
                return;
            }
        };
        let control = call.control();
        let voip_call = start(NewCall {
            handle: call,
            direction: Direction::Incoming,
            remote: party(&request.from()),
            media,
            media_config: running.media.clone(),
            phone_events: self.shared.events_tx.clone(),
        });
        if self.shared.calls_tx.try_send(voip_call).is_err() {
            let _ = control.reject(StatusCode::BUSY_HERE).await;
        }
    }
}
