//! RTP packets (RFC 3550 §5.1): the fixed header, CSRCs, one header extension
//! (§5.3.1), padding, and the payload, read without copying from one `Bytes` and
//! written into a `BytesMut`.

use bytes::{BufMut, Bytes, BytesMut};

/// Why bytes are not an RTP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// Fewer bytes than the header says there are.
    #[error("RTP packet truncated: {needed} bytes needed, {got} given")]
    Truncated {
        /// How many the header needs.
        needed: usize,
        /// How many there are.
        got: usize,
    },
    /// The version is not 2.
    #[error("RTP version {0}, not 2")]
    Version(u8),
    /// The padding count is zero or longer than the payload.
    #[error("bad RTP padding count {0}")]
    Padding(u8),
    /// An RTCP packet (payload type 72 to 76 with the marker: RFC 5761) on the RTP
    /// port.
    #[error("an RTCP packet, not RTP")]
    Rtcp,
}

/// A header extension (§5.3.1): the profile's 16 bits and the data (a multiple of
/// four bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    /// Defined by the profile (0xBEDE for RFC 8285 one-byte headers).
    pub profile: u16,
    /// The extension's words.
    pub data: Bytes,
}

/// One RTP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpPacket {
    /// The marker bit (the start of a talkspurt, the first packet of a DTMF event).
    pub marker: bool,
    /// The payload type (0..=127).
    pub payload_type: u8,
    /// The sequence number.
    pub sequence: u16,
    /// The media timestamp.
    pub timestamp: u32,
    /// The synchronization source.
    pub ssrc: u32,
    /// The contributing sources.
    pub csrcs: Vec<u32>,
    /// The header extension, if any.
    pub extension: Option<Extension>,
    /// The payload, padding removed.
    pub payload: Bytes,
    /// Padding bytes to add when written (the count byte included); 0 for none.
    pub padding: u8,
}

impl RtpPacket {
    /// A packet with no CSRC, extension or padding.
    pub fn new(payload_type: u8, sequence: u16, timestamp: u32, ssrc: u32, payload: Bytes) -> Self {
        RtpPacket {
            marker: false,
            payload_type,
            sequence,
            timestamp,
            ssrc,
            csrcs: Vec::new(),
            extension: None,
            payload,
            padding: 0,
        }
    }

    /// Reads a packet; the payload and extension share `bytes`.
    pub fn parse(bytes: Bytes) -> Result<RtpPacket, PacketError> {
        let b = &bytes[..];
        let need = |needed: usize| {
            if b.len() < needed {
                Err(PacketError::Truncated {
                    needed,
                    got: b.len(),
                })
            } else {
                Ok(())
            }
        };
        need(12)?;
        let version = b[0] >> 6;
        if version != 2 {
            return Err(PacketError::Version(version));
        }
        if (200..=204).contains(&b[1]) {
            return Err(PacketError::Rtcp);
        }
        let has_padding = b[0] & 0x20 != 0;
        let has_extension = b[0] & 0x10 != 0;
        let csrc_count = usize::from(b[0] & 0x0f);
        let marker = b[1] & 0x80 != 0;
        let payload_type = b[1] & 0x7f;
        let sequence = u16::from_be_bytes([b[2], b[3]]);
        let timestamp = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        let ssrc = u32::from_be_bytes([b[8], b[9], b[10], b[11]]);
        let mut at = 12;
        need(at + 4 * csrc_count)?;
        let csrcs = (0..csrc_count)
            .map(|i| {
                let p = at + 4 * i;
                u32::from_be_bytes([b[p], b[p + 1], b[p + 2], b[p + 3]])
            })
            .collect();
        at += 4 * csrc_count;
        let extension = if has_extension {
            need(at + 4)?;
            let profile = u16::from_be_bytes([b[at], b[at + 1]]);
            let words = usize::from(u16::from_be_bytes([b[at + 2], b[at + 3]]));
            need(at + 4 + 4 * words)?;
            let data = bytes.slice(at + 4..at + 4 + 4 * words);
            at += 4 + 4 * words;
            Some(Extension { profile, data })
        } else {
            None
        };
        let mut end = b.len();
        let mut padding = 0;
        if has_padding {
            let count = *b.last().unwrap_or(&0);
            if count == 0 || usize::from(count) > end - at {
                return Err(PacketError::Padding(count));
            }
            padding = count;
            end -= usize::from(count);
        }
        Ok(RtpPacket {
            marker,
            payload_type,
            sequence,
            timestamp,
            ssrc,
            csrcs,
            extension,
            payload: bytes.slice(at..end),
            padding,
        })
    }

    /// How many bytes [`RtpPacket::write`] writes.
    pub fn len(&self) -> usize {
        12 + 4 * self.csrcs.len().min(15)
            + self
                .extension
                .as_ref()
                .map_or(0, |e| 4 + e.data.len() / 4 * 4)
            + self.payload.len()
            + usize::from(self.padding)
    }

    /// Whether the packet has no payload.
    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }

    /// Writes the packet (at most 15 CSRCs; an extension's data cut to whole words).
    pub fn write(&self, out: &mut BytesMut) {
        out.reserve(self.len());
        let csrcs = &self.csrcs[..self.csrcs.len().min(15)];
        let mut first = 0x80 | csrcs.len() as u8;
        if self.padding > 0 {
            first |= 0x20;
        }
        if self.extension.is_some() {
            first |= 0x10;
        }
        out.put_u8(first);
        out.put_u8(u8::from(self.marker) << 7 | (self.payload_type & 0x7f));
        out.put_u16(self.sequence);
        out.put_u32(self.timestamp);
        out.put_u32(self.ssrc);
        for c in csrcs {
            out.put_u32(*c);
        }
        if let Some(e) = &self.extension {
            let words = (e.data.len() / 4).min(usize::from(u16::MAX));
            out.put_u16(e.profile);
            out.put_u16(words as u16);
            out.put_slice(&e.data[..words * 4]);
        }
        out.put_slice(&self.payload);
        if self.padding > 0 {
            out.put_bytes(0, usize::from(self.padding) - 1);
            out.put_u8(self.padding);
        }
    }

    /// The packet as bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.len());
        self.write(&mut out);
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packet_with_everything_round_trips() {
        let p = RtpPacket {
            marker: true,
            payload_type: 101,
            sequence: 0xfffe,
            timestamp: 0xffff_ff00,
            ssrc: 0x1234_5678,
            csrcs: vec![1, 2],
            extension: Some(Extension {
                profile: 0xbede,
                data: Bytes::from_static(&[1, 2, 3, 4]),
            }),
            payload: Bytes::from_static(b"abc"),
            padding: 5,
        };
        let bytes = p.to_bytes();
        assert_eq!(bytes.len(), p.len());
        assert_eq!(bytes.len(), 12 + 8 + 8 + 3 + 5);
        assert_eq!(RtpPacket::parse(bytes).unwrap(), p);
    }

    #[test]
    fn bad_packets_are_errors() {
        assert_eq!(
            RtpPacket::parse(Bytes::from_static(&[0x80, 0])),
            Err(PacketError::Truncated { needed: 12, got: 2 })
        );
        let mut v1 = RtpPacket::new(0, 1, 2, 3, Bytes::new()).to_bytes().to_vec();
        v1[0] = 0x40;
        assert_eq!(RtpPacket::parse(v1.into()), Err(PacketError::Version(1)));
        let mut pad = RtpPacket::new(0, 1, 2, 3, Bytes::from_static(b"x"))
            .to_bytes()
            .to_vec();
        pad[0] |= 0x20;
        *pad.last_mut().unwrap() = 9;
        assert_eq!(RtpPacket::parse(pad.into()), Err(PacketError::Padding(9)));
        let mut csrc = RtpPacket::new(0, 1, 2, 3, Bytes::new()).to_bytes().to_vec();
        csrc[0] |= 2;
        assert_eq!(
            RtpPacket::parse(csrc.into()),
            Err(PacketError::Truncated {
                needed: 20,
                got: 12
            })
        );
        let mut rtcp = RtpPacket::new(0, 1, 2, 3, Bytes::new()).to_bytes().to_vec();
        rtcp[1] = 200;
        assert_eq!(RtpPacket::parse(rtcp.into()), Err(PacketError::Rtcp));
    }
}
