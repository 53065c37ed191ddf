//! Audio codecs: a trait so more can plug in, and G.711 µ-law (PCMU) and A-law (PCMA)
//! as ITU-T G.711 defines them (the segment encoding of the reference
//! implementation). Samples are 16-bit signed linear PCM at the codec's clock rate.

/// Turns 16-bit linear samples into a payload and back.
pub trait Codec: Send + std::fmt::Debug {
    /// The encoding name in SDP (`PCMU`).
    fn name(&self) -> &'static str;

    /// The RTP clock rate, Hz.
    fn clock_rate(&self) -> u32;

    /// Appends the payload for `pcm` to `out`.
    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>);

    /// Appends the samples of `payload` to `out`.
    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>);

    /// A new instance of the same codec with no state (a session keeps one for each
    /// direction).
    fn fresh(&self) -> Box<dyn Codec>;
}

/// A codec for an SDP encoding name, if we have one.
pub fn codec_for(encoding: &str) -> Option<Box<dyn Codec>> {
    if encoding.eq_ignore_ascii_case("PCMU") {
        Some(Box::new(Pcmu))
    } else if encoding.eq_ignore_ascii_case("PCMA") {
        Some(Box::new(Pcma))
    } else {
        None
    }
}

/// G.711 µ-law.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pcmu;

/// G.711 A-law.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pcma;

/// The segment of a magnitude: the first end it does not exceed (8 when above all).
fn segment(value: i32, ends: &[i32; 8]) -> i32 {
    ends.iter().position(|e| value <= *e).unwrap_or(8) as i32
}

const ULAW_ENDS: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const ALAW_ENDS: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// One sample to µ-law.
pub fn ulaw_encode(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 8159;
    let mut v = i32::from(sample) >> 2;
    let mask = if v < 0 {
        v = -v;
        0x7F
    } else {
        0xFF
    };
    let v = v.min(CLIP) + (BIAS >> 2);
    let seg = segment(v, &ULAW_ENDS);
    let code = if seg >= 8 {
        0x7F
    } else {
        (seg << 4) | ((v >> (seg + 1)) & 0x0F)
    };
    (code ^ mask) as u8
}

/// One µ-law byte to a sample.
pub fn ulaw_decode(code: u8) -> i16 {
    const BIAS: i32 = 0x84;
    let u = i32::from(!code);
    let t = (((u & 0x0F) << 3) + BIAS) << ((u & 0x70) >> 4);
    (if u & 0x80 != 0 { BIAS - t } else { t - BIAS }) as i16
}

/// One sample to A-law.
pub fn alaw_encode(sample: i16) -> u8 {
    let mut v = i32::from(sample) >> 3;
    let mask = if v >= 0 {
        0xD5
    } else {
        v = -v - 1;
        0x55
    };
    let seg = segment(v, &ALAW_ENDS);
    let code = if seg >= 8 {
        0x7F
    } else if seg < 2 {
        (seg << 4) | ((v >> 1) & 0x0F)
    } else {
        (seg << 4) | ((v >> seg) & 0x0F)
    };
    (code ^ mask) as u8
}

/// One A-law byte to a sample.
pub fn alaw_decode(code: u8) -> i16 {
    let a = i32::from(code ^ 0x55);
    let mut t = (a & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

impl Codec for Pcmu {
    fn name(&self) -> &'static str {
        "PCMU"
    }

    fn clock_rate(&self) -> u32 {
        8000
    }

    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) {
        out.extend(pcm.iter().map(|s| ulaw_encode(*s)));
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) {
        out.extend(payload.iter().map(|c| ulaw_decode(*c)));
    }

    fn fresh(&self) -> Box<dyn Codec> {
        Box::new(Pcmu)
    }
}

impl Codec for Pcma {
    fn name(&self) -> &'static str {
        "PCMA"
    }

    fn clock_rate(&self) -> u32 {
        8000
    }

    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) {
        out.extend(pcm.iter().map(|s| alaw_encode(*s)));
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) {
        out.extend(payload.iter().map(|c| alaw_decode(*c)));
    }

    fn fresh(&self) -> Box<dyn Codec> {
        Box::new(Pcma)
    }
}

/// pyVoIP's 8-bit unsigned samples from ours (its `read_audio` format).
pub fn to_u8(pcm: &[i16]) -> Vec<u8> {
    pcm.iter().map(|s| ((*s >> 8) + 128) as u8).collect()
}

/// Ours from pyVoIP's 8-bit unsigned samples (its `write_audio` format).
pub fn from_u8(samples: &[u8]) -> Vec<i16> {
    samples.iter().map(|s| (i16::from(*s) - 128) << 8).collect()
}
