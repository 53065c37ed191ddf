//! What the endpoint lends the machines it owns (registrations, plain requests,
//! calls) while one of them handles an input: the transaction layer, randomness,
//! the digest client and credentials, the configuration. It is passed as an
//! argument; a machine keeps none of it. Transactions a machine starts through it
//! are recorded as that machine's, so the endpoint routes their events back.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sip_auth::{
    AuthError, AuthSession, AuthorizationValue, CredentialsManager, DigestClient, RequestTarget,
};
use sip_message::{Random, Request, Response};

use crate::config::EndpointConfig;
use crate::peer::Peer;
use crate::transaction::{TransactionLayer, TxError, TxId};

/// Identifies an account (one registration) in an [`crate::Endpoint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub u32);

/// Identifies a request the application sent outside any call, for its responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Identifies a call (one INVITE session, placed or received) in an
/// [`crate::Endpoint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// Who we are in requests sent for an account: what its registration knows.
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub(crate) account: AccountId,
    /// The AOR as a From value, without tag.
    pub(crate) from: String,
    /// Our Contact URI.
    pub(crate) contact: String,
    /// The address Via advertises.
    pub(crate) via_addr: std::net::SocketAddr,
    /// The server name credentials are looked up under.
    pub(crate) server: String,
    /// The user name credentials are looked up under.
    pub(crate) auth_user: String,
    /// The outbound proxy (the registrar).
    pub(crate) peer: Peer,
}

/// Who a transaction belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    Registration(AccountId),
    Request(RequestId),
    Call(CallId),
}

/// The endpoint's parts a machine works with during one input.
pub(crate) struct Ctx<'a> {
    pub(crate) tx: &'a mut TransactionLayer,
    owners: &'a mut HashMap<TxId, Owner>,
    owner: Owner,
    pub(crate) rng: &'a mut dyn Random,
    pub(crate) digest: &'a mut DigestClient,
    pub(crate) creds: &'a CredentialsManager,
    pub(crate) config: &'a EndpointConfig,
}

impl<'a> Ctx<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        tx: &'a mut TransactionLayer,
        owners: &'a mut HashMap<TxId, Owner>,
        owner: Owner,
        rng: &'a mut dyn Random,
        digest: &'a mut DigestClient,
        creds: &'a CredentialsManager,
        config: &'a EndpointConfig,
    ) -> Ctx<'a> {
        Ctx {
            tx,
            owners,
            owner,
            rng,
            digest,
            creds,
            config,
        }
    }

    /// Starts a client transaction owned by this machine.
    pub(crate) fn send_request(
        &mut self,
        request: Request,
        peer: Peer,
        now: Instant,
    ) -> Result<TxId, TxError> {
        let id = self.tx.send_request(request, peer, now)?;
        self.owners.insert(id, self.owner);
        Ok(id)
    }

    /// Starts a client INVITE transaction owned by this machine, which waits for its
    /// final response as long as `limit` says (`None`: until the machine ends it).
    pub(crate) fn send_invite(
        &mut self,
        request: Request,
        peer: Peer,
        limit: Option<Duration>,
        now: Instant,
    ) -> Result<TxId, TxError> {
        let id = self.tx.send_invite(request, peer, limit, now)?;
        self.owners.insert(id, self.owner);
        Ok(id)
    }

    /// Makes a server transaction this machine's.
    pub(crate) fn adopt(&mut self, id: TxId) {
        self.owners.insert(id, self.owner);
    }

    /// Forgets a transaction the machine no longer cares about (its later events go
    /// nowhere).
    pub(crate) fn release(&mut self, id: TxId) {
        if self.owners.get(&id) == Some(&self.owner) {
            self.owners.remove(&id);
        }
    }

    /// Answers a 401/407 to a request described by `target`, with `session` holding
    /// what this request already answered.
    pub(crate) fn answer_challenge(
        &mut self,
        session: &mut AuthSession,
        response: &Response,
        target: &RequestTarget<'_>,
    ) -> Result<Vec<AuthorizationValue>, AuthError> {
        self.digest
            .respond(session, response, target, self.creds, self.rng)
    }
}
