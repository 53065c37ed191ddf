//! The SIP protocol core: transactions (RFC 3261 §17, RFC 6026), dialogs,
//! registration and INVITE sessions as sans-IO state machines, plus the tokio driver
//! `SipClient` behind the `tokio` feature. It is empty until the client-core issue lands.

#![forbid(unsafe_code)]
