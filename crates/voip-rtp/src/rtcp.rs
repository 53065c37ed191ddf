//! RTCP (RFC 3550 §6): the packets a phone sends and reads, sender reports (SR),
//! receiver reports (RR), source descriptions (SDES, the CNAME every compound packet
//! carries) and BYE, parsed from and written into compound packets. Other packet
//! types (APP, XR, feedback) are recognised and skipped.

use bytes::{BufMut, Bytes, BytesMut};

/// Why bytes are not an RTCP compound packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtcpError {
    /// Fewer bytes than a header or a length field says there are.
    #[error("RTCP packet truncated at byte {at}")]
    Truncated {
        /// Where the missing bytes start.
        at: usize,
    },
    /// The version is not 2.
    #[error("RTCP version {0}, not 2")]
    Version(u8),
    /// The first packet of a compound is not SR or RR (§6.1).
    #[error("RTCP compound starts with packet type {0}, not SR or RR")]
    NotReportFirst(u8),
}

/// One reception report block (§6.4.1): what we heard from one source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source reported on.
    pub ssrc: u32,
    /// The fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Packets lost since the start (24-bit signed: duplicates can make it negative).
    pub cumulative_lost: i32,
    /// The highest sequence number received, with the wrap count above it.
    pub extended_highest_sequence: u32,
    /// The interarrival jitter, in timestamp units.
    pub jitter: u32,
    /// The middle 32 bits of the NTP time of the last SR from that source (0: none).
    pub last_sr: u32,
    /// The delay since that SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

/// A sender report's sender information (§6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderInfo {
    /// The wall-clock time of the report, NTP format (seconds since 1900 << 32 | fraction).
    pub ntp_time: u64,
    /// The RTP timestamp matching `ntp_time`.
    pub rtp_time: u32,
    /// Packets sent since the start.
    pub packet_count: u32,
    /// Payload octets sent since the start.
    pub octet_count: u32,
}

/// One packet of a compound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtcpPacket {
    /// A sender report (PT 200).
    SenderReport {
        /// The sender.
        ssrc: u32,
        /// What it sent.
        info: SenderInfo,
        /// What it received.
        reports: Vec<ReportBlock>,
    },
    /// A receiver report (PT 201).
    ReceiverReport {
        /// The sender of the report.
        ssrc: u32,
        /// What it received.
        reports: Vec<ReportBlock>,
    },
    /// A source description (PT 202): the CNAME of each source that has one.
    SourceDescription {
        /// (source, CNAME) pairs.
        cnames: Vec<(u32, Bytes)>,
    },
    /// Sources leaving (PT 203), with the optional reason.
    Bye {
        /// The sources.
        ssrcs: Vec<u32>,
        /// Why, if said.
        reason: Option<Bytes>,
    },
    /// A packet type this crate does not read (APP, XR, feedback).
    Other {
        /// Its packet type.
        packet_type: u8,
    },
}

/// Packet types.
const SR: u8 = 200;
const RR: u8 = 201;
const SDES: u8 = 202;
const BYE: u8 = 203;
/// The SDES item type of CNAME.
const CNAME: u8 = 1;
/// The most report blocks one SR or RR holds (a 5-bit count).
const MAX_BLOCKS: usize = 31;

fn be32(b: &[u8], at: usize) -> Result<u32, RtcpError> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(RtcpError::Truncated { at })
}

/// Whether a datagram on a multiplexed port is RTCP rather than RTP (RFC 5761 §4:
/// the second byte is 192 to 223).
pub fn is_rtcp(datagram: &[u8]) -> bool {
    matches!(datagram.get(1), Some(192..=223))
}

/// Parses a compound packet. Stops at the first malformed packet with an error; a
/// compound must start with SR or RR.
pub fn parse_compound(bytes: &Bytes) -> Result<Vec<RtcpPacket>, RtcpError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let header = bytes.get(at..at + 4).ok_or(RtcpError::Truncated { at })?;
        let version = header[0] >> 6;
        if version != 2 {
            return Err(RtcpError::Version(version));
        }
        let padding = header[0] & 0x20 != 0;
        let count = usize::from(header[0] & 0x1F);
        let packet_type = header[1];
        let words = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let end = at + 4 + words * 4;
        if end > bytes.len() {
            return Err(RtcpError::Truncated { at: bytes.len() });
        }
        if out.is_empty() && packet_type != SR && packet_type != RR {
            return Err(RtcpError::NotReportFirst(packet_type));
        }
        // Padding (only allowed on the last packet) is counted in the length.
        let mut body_end = end;
        if padding {
            let pad = usize::from(bytes[end - 1]);
            if pad == 0 || at + 4 + pad > end {
                return Err(RtcpError::Truncated { at: end });
            }
            body_end = end - pad;
        }
        let body = bytes.slice(at + 4..body_end);
        out.push(parse_one(packet_type, count, &body, at + 4)?);
        at = end;
    }
    Ok(out)
}

fn parse_blocks(
    body: &[u8],
    from: usize,
    count: usize,
    base: usize,
) -> Result<Vec<ReportBlock>, RtcpError> {
    let mut reports = Vec::with_capacity(count);
    for i in 0..count {
        let o = from + i * 24;
        let lost = be32(body, o + 4).map_err(|_| RtcpError::Truncated { at: base + o + 4 })?;
        // The low 24 bits, sign-extended.
        let cumulative = ((lost << 8) as i32) >> 8;
        reports.push(ReportBlock {
            ssrc: be32(body, o).map_err(|_| RtcpError::Truncated { at: base + o })?,
            fraction_lost: (lost >> 24) as u8,
            cumulative_lost: cumulative,
            extended_highest_sequence: be32(body, o + 8)
                .map_err(|_| RtcpError::Truncated { at: base + o + 8 })?,
            jitter: be32(body, o + 12).map_err(|_| RtcpError::Truncated { at: base + o + 12 })?,
            last_sr: be32(body, o + 16).map_err(|_| RtcpError::Truncated { at: base + o + 16 })?,
            delay_since_last_sr: be32(body, o + 20)
                .map_err(|_| RtcpError::Truncated { at: base + o + 20 })?,
        });
    }
    Ok(reports)
}

fn parse_one(
    packet_type: u8,
    count: usize,
    body: &Bytes,
    base: usize,
) -> Result<RtcpPacket, RtcpError> {
    let at = |o: usize| RtcpError::Truncated { at: base + o };
    Ok(match packet_type {
        SR => {
            let ssrc = be32(body, 0).map_err(|_| at(0))?;
            let hi = be32(body, 4).map_err(|_| at(4))?;
            let lo = be32(body, 8).map_err(|_| at(8))?;
            let info = SenderInfo {
                ntp_time: (u64::from(hi) << 32) | u64::from(lo),
                rtp_time: be32(body, 12).map_err(|_| at(12))?,
                packet_count: be32(body, 16).map_err(|_| at(16))?,
                octet_count: be32(body, 20).map_err(|_| at(20))?,
            };
            let reports = parse_blocks(body, 24, count, base)?;
            RtcpPacket::SenderReport {
                ssrc,
                info,
                reports,
            }
        }
        RR => {
            let ssrc = be32(body, 0).map_err(|_| at(0))?;
            let reports = parse_blocks(body, 4, count, base)?;
            RtcpPacket::ReceiverReport { ssrc, reports }
        }
        SDES => RtcpPacket::SourceDescription {
            cnames: parse_sdes(body, count, base)?,
        },
        BYE => {
            let mut ssrcs = Vec::with_capacity(count);
            for i in 0..count {
                ssrcs.push(be32(body, i * 4).map_err(|_| at(i * 4))?);
            }
            let o = count * 4;
            let reason = match body.get(o) {
                Some(&len) => {
                    let len = usize::from(len);
                    if o + 1 + len > body.len() {
                        return Err(at(o + 1));
                    }
                    Some(body.slice(o + 1..o + 1 + len))
                }
                None => None,
            };
            RtcpPacket::Bye { ssrcs, reason }
        }
        other => RtcpPacket::Other { packet_type: other },
    })
}

/// The CNAMEs of an SDES packet: chunks of a source and items, each chunk ended by a
/// zero byte and padded to four bytes.
fn parse_sdes(body: &Bytes, count: usize, base: usize) -> Result<Vec<(u32, Bytes)>, RtcpError> {
    let mut cnames = Vec::new();
    let mut o = 0usize;
    for _ in 0..count {
        let ssrc = be32(body, o).map_err(|_| RtcpError::Truncated { at: base + o })?;
        o += 4;
        loop {
            let kind = *body.get(o).ok_or(RtcpError::Truncated { at: base + o })?;
            if kind == 0 {
                // The end of the chunk: skip to the next four-byte boundary.
                o = (o + 4) & !3;
                break;
            }
            let len = usize::from(
                *body
                    .get(o + 1)
                    .ok_or(RtcpError::Truncated { at: base + o + 1 })?,
            );
            let text = body
                .get(o + 2..o + 2 + len)
                .ok_or(RtcpError::Truncated { at: base + o + 2 })?;
            if kind == CNAME {
                cnames.push((ssrc, body.slice_ref(text)));
            }
            o += 2 + len;
        }
    }
    Ok(cnames)
}

/// Writes one packet's common header; `words` is the length after it in 32-bit words.
fn put_header(out: &mut BytesMut, count: usize, packet_type: u8, words: usize) {
    out.put_u8(0x80 | (count as u8 & 0x1F));
    out.put_u8(packet_type);
    out.put_u16(words as u16);
}

fn put_blocks(out: &mut BytesMut, reports: &[ReportBlock]) {
    for r in reports {
        out.put_u32(r.ssrc);
        let lost = (r.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32) & 0x00FF_FFFF;
        out.put_u32((u32::from(r.fraction_lost) << 24) | lost);
        out.put_u32(r.extended_highest_sequence);
        out.put_u32(r.jitter);
        out.put_u32(r.last_sr);
        out.put_u32(r.delay_since_last_sr);
    }
}

impl RtcpPacket {
    /// Appends the packet (at most 31 report blocks or BYE sources are written).
    pub fn write(&self, out: &mut BytesMut) {
        match self {
            RtcpPacket::SenderReport {
                ssrc,
                info,
                reports,
            } => {
                let reports = &reports[..reports.len().min(MAX_BLOCKS)];
                put_header(out, reports.len(), SR, 6 + 6 * reports.len());
                out.put_u32(*ssrc);
                out.put_u64(info.ntp_time);
                out.put_u32(info.rtp_time);
                out.put_u32(info.packet_count);
                out.put_u32(info.octet_count);
                put_blocks(out, reports);
            }
            RtcpPacket::ReceiverReport { ssrc, reports } => {
                let reports = &reports[..reports.len().min(MAX_BLOCKS)];
                put_header(out, reports.len(), RR, 1 + 6 * reports.len());
                out.put_u32(*ssrc);
                put_blocks(out, reports);
            }
            RtcpPacket::SourceDescription { cnames } => {
                let cnames = &cnames[..cnames.len().min(MAX_BLOCKS)];
                // Each chunk: source, CNAME item, then 1 to 4 zero bytes to the boundary.
                let chunk_len = |c: &Bytes| (4 + 2 + c.len().min(255) + 4) & !3;
                let words: usize = cnames.iter().map(|(_, c)| chunk_len(c) / 4).sum();
                put_header(out, cnames.len(), SDES, words);
                for (ssrc, cname) in cnames {
                    let text = &cname[..cname.len().min(255)];
                    out.put_u32(*ssrc);
                    out.put_u8(CNAME);
                    out.put_u8(text.len() as u8);
                    out.put_slice(text);
                    let zeros = chunk_len(cname) - 4 - 2 - text.len();
                    out.put_bytes(0, zeros);
                }
            }
            RtcpPacket::Bye { ssrcs, reason } => {
                let ssrcs = &ssrcs[..ssrcs.len().min(MAX_BLOCKS)];
                let reason_len = reason
                    .as_ref()
                    .map_or(0, |r| (1 + r.len().min(255) + 3) & !3);
                put_header(out, ssrcs.len(), BYE, ssrcs.len() + reason_len / 4);
                for s in ssrcs {
                    out.put_u32(*s);
                }
                if let Some(r) = reason {
                    let text = &r[..r.len().min(255)];
                    out.put_u8(text.len() as u8);
                    out.put_slice(text);
                    out.put_bytes(0, reason_len - 1 - text.len());
                }
            }
            // Nothing of ours to write for a type we do not read.
            RtcpPacket::Other { .. } => {}
        }
    }
}

/// Writes a compound packet.
pub fn write_compound(packets: &[RtcpPacket]) -> Bytes {
    let mut out = BytesMut::with_capacity(128);
    for p in packets {
        p.write(&mut out);
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(ssrc: u32, lost: i32) -> ReportBlock {
        ReportBlock {
            ssrc,
            fraction_lost: 25,
            cumulative_lost: lost,
            extended_highest_sequence: 0x0001_0005,
            jitter: 17,
            last_sr: 0xDEAD_BEEF,
            delay_since_last_sr: 65536,
        }
    }

    #[test]
    fn sender_report_sdes_bye_round_trip() {
        let packets = vec![
            RtcpPacket::SenderReport {
                ssrc: 0x1234_5678,
                info: SenderInfo {
                    ntp_time: 0xE5A0_0000_8000_0000,
                    rtp_time: 160,
                    packet_count: 50,
                    octet_count: 8000,
                },
                reports: vec![block(9, -3), block(10, 0x7F_FFFF)],
            },
            RtcpPacket::SourceDescription {
                cnames: vec![(0x1234_5678, Bytes::from_static(b"alice@host"))],
            },
            RtcpPacket::Bye {
                ssrcs: vec![0x1234_5678],
                reason: Some(Bytes::from_static(b"hangup")),
            },
        ];
        let bytes = write_compound(&packets);
        assert_eq!(bytes.len() % 4, 0);
        assert!(is_rtcp(&bytes));
        assert_eq!(parse_compound(&bytes).unwrap(), packets);
    }

    #[test]
    fn receiver_report_with_a_cname_of_every_padding_length() {
        for len in 0..8 {
            let cname = Bytes::from(vec![b'x'; len]);
            let packets = vec![
                RtcpPacket::ReceiverReport {
                    ssrc: 7,
                    reports: vec![block(8, 4)],
                },
                RtcpPacket::SourceDescription {
                    cnames: vec![(7, cname)],
                },
            ];
            assert_eq!(
                parse_compound(&write_compound(&packets)).unwrap(),
                packets,
                "cname length {len}"
            );
        }
    }

    #[test]
    fn reads_a_receiver_report_written_by_hand() {
        // RR with one block from source 1 about source 2, then SDES with CNAME "a@b".
        let bytes = Bytes::from_static(&[
            0x81, 0xC9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x81, 0xCA, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x01, 0x03,
            b'a', b'@', b'b', 0x00, 0x00, 0x00,
        ]);
        let packets = parse_compound(&bytes).unwrap();
        assert_eq!(packets.len(), 2);
        match &packets[0] {
            RtcpPacket::ReceiverReport { ssrc: 1, reports } => {
                assert_eq!(reports[0].ssrc, 2);
                assert_eq!(reports[0].extended_highest_sequence, 256);
                assert_eq!(reports[0].jitter, 5);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            packets[1],
            RtcpPacket::SourceDescription {
                cnames: vec![(1, Bytes::from_static(b"a@b"))]
            }
        );
    }

    #[test]
    fn rejects_what_is_not_rtcp() {
        assert_eq!(
            parse_compound(&Bytes::from_static(&[0x80, 0xC8, 0x00])),
            Err(RtcpError::Truncated { at: 0 })
        );
        assert_eq!(
            parse_compound(&Bytes::from_static(&[0x80, 0xC8, 0x00, 0x06, 0, 0, 0, 0])),
            Err(RtcpError::Truncated { at: 8 })
        );
        assert_eq!(
            parse_compound(&Bytes::from_static(&[0x40, 0xC8, 0x00, 0x00])),
            Err(RtcpError::Version(1))
        );
        assert_eq!(
            parse_compound(&Bytes::from_static(&[0x80, 0xCB, 0x00, 0x00])),
            Err(RtcpError::NotReportFirst(BYE))
        );
        // An RR that claims a report block it does not have.
        assert!(matches!(
            parse_compound(&Bytes::from_static(&[0x81, 0xC9, 0x00, 0x01, 0, 0, 0, 1])),
            Err(RtcpError::Truncated { .. })
        ));
        assert!(!is_rtcp(&[0x80, 0x00]));
        assert!(!is_rtcp(&[0x80]));
    }
}
