//! G.711 against the reference implementation's tables (`tests/data/`, made with
//! CPython's `audioop`): every code byte's decoded sample, and every 16-bit sample's
//! code byte, µ-law and A-law.

use voip_rtp::codec::{Codec, Pcma, Pcmu, alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};

fn samples(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

#[test]
fn every_code_decodes_as_the_reference_does() {
    let ulaw = samples(include_bytes!("data/ulaw_decode.bin"));
    let alaw = samples(include_bytes!("data/alaw_decode.bin"));
    for code in 0..=255u8 {
        assert_eq!(
            ulaw_decode(code),
            ulaw[usize::from(code)],
            "µ-law {code:#04x}"
        );
        assert_eq!(
            alaw_decode(code),
            alaw[usize::from(code)],
            "A-law {code:#04x}"
        );
    }
    // A few values G.711's tables state: µ-law 0x00 is the most negative, 0xFF and
    // 0x7F are zero; A-law 0xD5 and 0x55 are the smallest magnitudes.
    assert_eq!(ulaw_decode(0x00), -32124);
    assert_eq!(ulaw_decode(0x80), 32124);
    assert_eq!((ulaw_decode(0xFF), ulaw_decode(0x7F)), (0, 0));
    assert_eq!((alaw_decode(0xD5), alaw_decode(0x55)), (8, -8));
    assert_eq!((alaw_decode(0xAA), alaw_decode(0x2A)), (32256, -32256));
}

#[test]
fn every_sample_encodes_as_the_reference_does() {
    let ulaw = include_bytes!("data/ulaw_encode.bin");
    let alaw = include_bytes!("data/alaw_encode.bin");
    for (i, s) in (i16::MIN..=i16::MAX).enumerate() {
        assert_eq!(ulaw_encode(s), ulaw[i], "µ-law of {s}");
        assert_eq!(alaw_encode(s), alaw[i], "A-law of {s}");
    }
}

#[test]
fn the_codecs_encode_and_decode_frames() {
    let pcm: Vec<i16> = (0..160)
        .map(|i| ((i as f64 / 8.0).sin() * 12000.0) as i16)
        .collect();
    for codec in [&mut Pcmu as &mut dyn Codec, &mut Pcma] {
        let mut payload = Vec::new();
        codec.encode(&pcm, &mut payload);
        assert_eq!(payload.len(), 160);
        let mut back = Vec::new();
        codec.decode(&payload, &mut back);
        assert_eq!(back.len(), 160);
        for (a, b) in pcm.iter().zip(&back) {
            // G.711 keeps about 12 bits near this level: within 3% of the signal.
            assert!(
                (i32::from(*a) - i32::from(*b)).abs() <= 400,
                "{} {a} {b}",
                codec.name()
            );
        }
    }
}
