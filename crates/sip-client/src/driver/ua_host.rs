//! What [`super::SipClient`] adds to the loop around its [`Endpoint`]: it carries
//! out the API's commands, hands each event to whoever waits for it (a caller of
//! `register`, a request's or a call's handle, the event stream), and stops
//! gracefully (deregistering first, for at most five seconds).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sip_transport::TransportError;
use tokio::sync::mpsc;

use super::Host;
use super::api::{CallCommand, CallParts, ClientError, Command, Registered, Reply, ResponseItem};
use super::handles::{CallHandle, ClientEvent, IncomingCall};
use super::now;
use crate::call::{CallEvent, EndReason};
use crate::context::{AccountId, CallId, RequestId};
use crate::endpoint::{Endpoint, Event};
use crate::registration::RegistrationEvent;

/// How long a stop waits for deregistrations.
const STOP_GRACE: Duration = Duration::from_secs(5);

pub(super) struct UaHost {
    waiting_register: HashMap<AccountId, Vec<Reply<Result<Registered, ClientError>>>>,
    waiting_deregister: HashMap<AccountId, Vec<Reply<Result<(), ClientError>>>>,
    requests: HashMap<RequestId, mpsc::UnboundedSender<ResponseItem>>,
    calls: HashMap<CallId, mpsc::UnboundedSender<CallEvent>>,
    events: mpsc::UnboundedSender<ClientEvent>,
    /// For the handles of incoming calls; weak, so the loop sees when the
    /// application dropped every sender.
    commands: mpsc::WeakSender<Command>,
    last_transport_error: Option<Arc<TransportError>>,
    stopping: Option<(Option<Reply<()>>, tokio::time::Instant)>,
}

impl UaHost {
    pub(super) fn new(
        events: mpsc::UnboundedSender<ClientEvent>,
        commands: mpsc::WeakSender<Command>,
    ) -> UaHost {
        UaHost {
            waiting_register: HashMap::new(),
            waiting_deregister: HashMap::new(),
            requests: HashMap::new(),
            calls: HashMap::new(),
            events,
            commands,
            last_transport_error: None,
            stopping: None,
        }
    }

    /// The events of call `id` go to the receiver from now on.
    fn call_parts(&mut self, id: CallId) -> CallParts {
        let (tx, rx) = mpsc::unbounded_channel();
        self.calls.insert(id, tx);
        (id, rx)
    }

    /// A handle for an incoming call `id`.
    fn call_handle(&mut self, id: CallId) -> Option<CallHandle> {
        let commands = self.commands.upgrade()?;
        let (id, events) = self.call_parts(id);
        Some(CallHandle::new(id, commands, events))
    }

    /// Deregisters every registered account and gives the deregistrations a grace
    /// period.
    fn begin_stop(&mut self, ep: &mut Endpoint, reply: Option<Reply<()>>) {
        let ids: Vec<AccountId> = ep.accounts().map(|(id, _)| id).collect();
        let now = now();
        for id in ids {
            if ep.account(id).is_some_and(|r| r.granted().is_some()) {
                self.waiting_deregister.entry(id).or_default();
                ep.unregister(id, now);
            }
        }
        self.stopping = Some((reply, tokio::time::Instant::now() + STOP_GRACE));
    }

    fn call_command(
        ep: &mut Endpoint,
        id: CallId,
        c: CallCommand,
    ) -> Result<(), crate::call::CallError> {
        let now = now();
        match c {
            CallCommand::Ring(status, media) => ep.ring(id, status, media, now),
            CallCommand::Answer(media) => ep.answer(id, media, now),
            CallCommand::Reject(status) => ep.reject(id, status, now),
            CallCommand::Cancel => ep.cancel(id, now),
            CallCommand::Hangup => ep.hangup(id, now),
            CallCommand::Hold(on) => ep.hold(id, on, now),
            CallCommand::Reoffer(method, media) => ep.reoffer(id, method, media, now),
            CallCommand::Refer(target) => ep.refer(id, &target, now),
            CallCommand::NotifyTransfer(status, last) => ep.notify_transfer(id, status, last, now),
            CallCommand::Send(method, ct, body) => {
                ep.send_in_call(id, method, ct, body, Vec::new(), now)
            }
        }
    }

    fn on_registration(&mut self, ep: &Endpoint, account: AccountId, event: &RegistrationEvent) {
        match event {
            RegistrationEvent::Registered {
                expires,
                contact,
                bindings,
                ..
            } => {
                let aor = ep
                    .account(account)
                    .map(|r| r.config().aor.clone())
                    .unwrap_or_default();
                for w in self.waiting_register.remove(&account).unwrap_or_default() {
                    let _ = w.send(Ok(Registered {
                        aor: aor.clone(),
                        expires: *expires,
                        contact: contact.clone(),
                        bindings: bindings.clone(),
                    }));
                }
            }
            RegistrationEvent::Failed { error, .. } => {
                for w in self.waiting_register.remove(&account).unwrap_or_default() {
                    let _ = w.send(Err(ClientError::from_registration(
                        error.clone(),
                        self.last_transport_error.clone(),
                    )));
                }
            }
            RegistrationEvent::Unregistered { error } => {
                for w in self.waiting_deregister.remove(&account).unwrap_or_default() {
                    let _ = w.send(match error {
                        None => Ok(()),
                        Some(e) => Err(ClientError::from_registration(
                            e.clone(),
                            self.last_transport_error.clone(),
                        )),
                    });
                }
            }
            RegistrationEvent::PublicAddress { .. } => {}
        }
    }

    fn on_call_event(&mut self, call: CallId, event: CallEvent) {
        if let CallEvent::Incoming { request, peer } = event {
            match self.call_handle(call) {
                Some(handle) => {
                    let _ = self.events.send(ClientEvent::IncomingCall(IncomingCall {
                        call: handle,
                        request,
                        peer,
                    }));
                }
                None => tracing::debug!(?call, "an incoming call while stopping"),
            }
            return;
        }
        let ended = matches!(event, CallEvent::Ended { .. });
        if let Some(h) = self.calls.get(&call) {
            let _ = h.send(event);
        }
        if ended {
            self.calls.remove(&call);
        }
    }
}

impl Host<Endpoint> for UaHost {
    type Command = Command;

    fn on_command(&mut self, ep: &mut Endpoint, c: Command) -> bool {
        let now = now();
        match c {
            Command::Register(id, reply) => {
                if ep.account(id).is_none() {
                    let _ = reply.send(Err(ClientError::Request(
                        crate::requests::RequestError::NoAccount,
                    )));
                } else {
                    self.waiting_register.entry(id).or_default().push(reply);
                    ep.register(id, now);
                }
            }
            Command::Deregister(id, reply) => {
                self.waiting_deregister.entry(id).or_default().push(reply);
                ep.unregister(id, now);
            }
            Command::AddAccount(cfg, reply) => {
                let _ = reply.send(ep.add_account(*cfg));
            }
            Command::Send(account, req, reply) => {
                let r = ep.send(account, *req, now).map(|id| {
                    let (tx, rx) = mpsc::unbounded_channel();
                    self.requests.insert(id, tx);
                    (id, rx)
                });
                let _ = reply.send(r.map_err(ClientError::from));
            }
            Command::Reply(tx, request, status, reply) => {
                let r = ep.reply(tx, &request, status, now);
                let _ = reply.send(r.map_err(ClientError::from));
            }
            Command::Respond(tx, bytes, reply) => {
                let r = ep.respond(tx, bytes, now);
                let _ = reply.send(r.map_err(ClientError::from));
            }
            Command::Call(account, spec, reply) => {
                let r = match ep.call(account, *spec, now) {
                    Ok(id) => Ok(self.call_parts(id)),
                    Err(e) => Err(ClientError::Call(e)),
                };
                let _ = reply.send(r);
            }
            Command::FollowTransfer(id, spec, reply) => {
                let r = match ep.follow_transfer(id, *spec, now) {
                    Ok(new) => Ok(self.call_parts(new)),
                    Err(e) => Err(ClientError::Call(e)),
                };
                let _ = reply.send(r);
            }
            Command::OnCall(id, c, reply) => {
                let _ = reply.send(Self::call_command(ep, id, c));
            }
            Command::Stop(reply) => {
                self.begin_stop(ep, Some(reply));
                return false;
            }
        }
        true
    }

    fn on_closed(&mut self, ep: &mut Endpoint) {
        // Every handle is gone: deregister and stop.
        self.begin_stop(ep, None);
    }

    fn on_event(&mut self, ep: &mut Endpoint, e: Event) {
        match e {
            Event::Response { id, response } => {
                let last = response.status().as_u16() >= 200;
                if let Some(h) = self.requests.get(&id) {
                    let _ = h.send(Ok(response));
                }
                if last {
                    self.requests.remove(&id);
                }
            }
            Event::RequestFailed { id, error } => {
                if let Some(h) = self.requests.remove(&id) {
                    let _ = h.send(Err(error));
                }
            }
            Event::Registration { account, event } => {
                self.on_registration(ep, account, &event);
                let _ = self
                    .events
                    .send(ClientEvent::Registration { account, event });
            }
            Event::Call { call, event } => self.on_call_event(call, event),
            Event::MessageSummary { account, summary } => {
                let _ = self
                    .events
                    .send(ClientEvent::MessageSummary { account, summary });
            }
            Event::IncomingRequest { tx, request, peer } => {
                let _ = self
                    .events
                    .send(ClientEvent::IncomingRequest { tx, request, peer });
            }
        }
    }

    fn on_send_failure(&mut self, error: TransportError) {
        self.last_transport_error = Some(Arc::new(error));
    }

    fn finished(&self, ep: &Endpoint) -> bool {
        let Some((_, until)) = &self.stopping else {
            return false;
        };
        (ep.registered_count() == 0 && self.waiting_deregister.is_empty())
            || tokio::time::Instant::now() >= *until
    }

    fn deadline(&self) -> Option<tokio::time::Instant> {
        self.stopping.as_ref().map(|(_, u)| *u)
    }

    fn on_stopped(&mut self) {
        for (_, h) in self.calls.drain() {
            let _ = h.send(CallEvent::Ended {
                reason: EndReason::Transport,
            });
        }
        if let Some((Some(reply), _)) = self.stopping.take() {
            let _ = reply.send(());
        }
    }
}
