//! The offer/answer state of one call (RFC 3264, RFC 6337): which offer is waiting
//! for its answer, our `o=` line's session id and version, what the last exchange
//! settled, and the m-lines it had (a later offer keeps their number and order,
//! §8).

use bytes::Bytes;
use sip_message::offer_answer::{
    LocalMedia, Negotiated, OfferAnswerError, accept_answer, answer, offer,
};
use sip_message::sdp::{Direction, MediaDescription, SessionDescription};

/// The offer/answer state.
#[derive(Debug)]
pub(crate) struct MediaState {
    local: LocalMedia,
    session_id: u64,
    version: u64,
    /// The last session description we sent (offer or answer), to reuse its version
    /// when nothing changed.
    last_sent: Option<SessionDescription>,
    /// An offer we sent that has no answer yet.
    our_offer: Option<SessionDescription>,
    /// An offer we received that we have not answered yet.
    their_offer: Option<SessionDescription>,
    negotiated: Option<Negotiated>,
}

/// The result of an exchange that just completed.
#[derive(Clone, Debug)]
pub(crate) struct Completed {
    pub(crate) negotiated: Negotiated,
    pub(crate) remote_sdp: Bytes,
}

fn parse(body: &[u8]) -> Result<SessionDescription, OfferAnswerError> {
    SessionDescription::parse_bytes(body).map_err(OfferAnswerError::Sdp)
}

impl MediaState {
    pub(crate) fn new(local: LocalMedia, session_id: u64) -> MediaState {
        MediaState {
            local,
            session_id,
            version: 0,
            last_sent: None,
            our_offer: None,
            their_offer: None,
            negotiated: None,
        }
    }

    pub(crate) fn local(&self) -> &LocalMedia {
        &self.local
    }

    pub(crate) fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// Replaces our media (the callee learns its RTP port when it answers).
    pub(crate) fn set_local(&mut self, local: LocalMedia) {
        self.local = local;
    }

    /// Changes the direction we want (hold: sendonly; unhold: sendrecv).
    pub(crate) fn set_direction(&mut self, d: Direction) {
        self.local.direction = d;
    }

    /// Whether an offer of ours waits for its answer.
    pub(crate) fn offer_pending(&self) -> bool {
        self.our_offer.is_some()
    }

    /// Whether the peer's offer waits for our answer.
    pub(crate) fn answer_due(&self) -> bool {
        self.their_offer.is_some()
    }

    /// Numbers a description we are about to send: the same version as the last
    /// one when only the version would differ, else the next (RFC 3264 §8).
    fn stamp(&mut self, mut sd: SessionDescription) -> Bytes {
        let unchanged = self.last_sent.as_ref().is_some_and(|last| {
            let mut l = last.clone();
            l.origin.session_version = sd.origin.session_version;
            l == sd
        });
        if !unchanged && self.last_sent.is_some() {
            self.version += 1;
        }
        sd.origin.session_version = self.version;
        let bytes = Bytes::from(sd.to_string());
        self.last_sent = Some(sd);
        bytes
    }

    /// A new offer from our media; it waits for an answer. After an exchange with
    /// several m-lines it has as many, in the same order (RFC 3264 §8): our audio
    /// where the session's audio was, the others refused with port 0.
    pub(crate) fn make_offer(&mut self) -> Bytes {
        let mut sd = offer(&self.local, self.session_id, self.version);
        if let Some(last) = self.last_sent.as_ref().filter(|l| l.media.len() > 1)
            && let Some(ours) = sd.media.pop()
        {
            let audio = |m: &MediaDescription| m.media.eq_ignore_ascii_case("audio");
            let active = last
                .media
                .iter()
                .position(|m| m.port != 0 && audio(m))
                .or_else(|| last.media.iter().position(audio))
                .unwrap_or(0);
            sd.media = last
                .media
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    if i == active {
                        ours.clone()
                    } else {
                        let mut refused = MediaDescription::new(&m.media, 0, &m.proto, &[]);
                        refused.formats = m.formats.clone();
                        refused
                    }
                })
                .collect();
        }
        let bytes = self.stamp(sd.clone());
        self.our_offer = self.last_sent.clone().or(Some(sd));
        bytes
    }

    /// Our offer was refused (a failure response to the request that carried it):
    /// the last agreed media stays.
    pub(crate) fn offer_refused(&mut self) {
        self.our_offer = None;
    }

    /// The peer's offer. It is checked now (a UAS answers 488 at once when no codec
    /// matches) and answered by [`MediaState::make_answer`].
    pub(crate) fn take_offer(&mut self, body: &[u8]) -> Result<(), OfferAnswerError> {
        let sd = parse(body)?;
        answer(&self.local, &sd, self.session_id, self.version)?;
        self.their_offer = Some(sd);
        Ok(())
    }

    /// Our answer to the peer's pending offer: the exchange completes. When our
    /// media cannot answer it, the offer stays pending (a later answer with other
    /// media may).
    pub(crate) fn make_answer(&mut self) -> Result<(Bytes, Completed), OfferAnswerError> {
        let their = self
            .their_offer
            .as_ref()
            .ok_or(OfferAnswerError::NoCommonCodec)?;
        let (sd, negotiated) = answer(&self.local, their, self.session_id, self.version)?;
        let Some(their) = self.their_offer.take() else {
            return Err(OfferAnswerError::NoCommonCodec);
        };
        let bytes = self.stamp(sd);
        self.negotiated = Some(negotiated.clone());
        Ok((
            bytes,
            Completed {
                negotiated,
                remote_sdp: Bytes::from(their.to_string()),
            },
        ))
    }

    /// The answer to our pending offer: the exchange completes.
    pub(crate) fn take_answer(&mut self, body: &[u8]) -> Result<Completed, OfferAnswerError> {
        let ours = self
            .our_offer
            .take()
            .ok_or(OfferAnswerError::NoCommonCodec)?;
        let sd = parse(body)?;
        let negotiated = accept_answer(&ours, &sd, &self.local)?;
        self.negotiated = Some(negotiated.clone());
        Ok(Completed {
            negotiated,
            remote_sdp: Bytes::copy_from_slice(body),
        })
    }

    /// An answer to our pending offer in a provisional response of one fork (early
    /// media): used now, but the offer stays pending, since the 2xx may come from
    /// another fork with its own answer.
    pub(crate) fn peek_answer(&mut self, body: &[u8]) -> Result<Completed, OfferAnswerError> {
        let ours = self
            .our_offer
            .as_ref()
            .ok_or(OfferAnswerError::NoCommonCodec)?;
        let sd = parse(body)?;
        let negotiated = accept_answer(ours, &sd, &self.local)?;
        self.negotiated = Some(negotiated.clone());
        Ok(Completed {
            negotiated,
            remote_sdp: Bytes::copy_from_slice(body),
        })
    }

    /// The 2xx came from the fork whose early exchange gave `negotiated`: that is
    /// the session's, and our offer is answered.
    pub(crate) fn settle(&mut self, negotiated: Negotiated) {
        self.our_offer = None;
        self.negotiated = Some(negotiated);
    }

    /// An answer already given in a reliable or early response (183 with SDP) must
    /// be repeated in the 2xx (RFC 3261 §13.2.1): the last description we sent.
    pub(crate) fn last_sent(&self) -> Option<Bytes> {
        self.last_sent
            .as_ref()
            .map(|sd| Bytes::from(sd.to_string()))
    }
}

/// Whether a message body is a session description.
pub(crate) fn is_sdp(
    content_type: Option<sip_message::headers::MediaType<'_>>,
    body: &[u8],
) -> bool {
    !body.is_empty() && content_type.is_some_and(|t| t.is_sdp())
}
