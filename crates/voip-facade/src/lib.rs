//! A thin phone API in the shape of pyVoIP's `VoIPPhone` and `VoIPCall`, composed of
//! sip-client and voip-rtp with no protocol logic of its own. It is empty until the
//! calls issue lands.

#![forbid(unsafe_code)]
