//! Media for SIP calls: RTP and RTCP packets, symmetric RTP, G.711 mu-law and A-law,
//! RFC 4733 telephone events and a jitter buffer, as a sans-IO session with a small
//! tokio socket driver. It is empty until the media issue lands.

#![forbid(unsafe_code)]
