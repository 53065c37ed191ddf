//! WAV files for calls (through `hound`): read any PCM or float WAV as 8 kHz mono
//! 16-bit (channels mixed down, other rates resampled), write 8 kHz mono 16-bit.

use std::path::Path;

/// The sample rate of G.711 calls.
pub const CALL_RATE: u32 = 8000;

/// Why a WAV file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WavError {
    /// Reading or writing the file failed, or it is not a WAV file.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// What `hound` said.
        source: hound::Error,
    },
    /// A sample format this reader does not take.
    #[error(
        "{path}: {bits}-bit {format} samples are not supported (use 8, 16, 24 or 32-bit PCM, or 32-bit float)"
    )]
    Format {
        /// The file.
        path: String,
        /// Bits per sample.
        bits: u16,
        /// `PCM` or `float`.
        format: &'static str,
    },
}

/// The samples of `path` as 8 kHz mono 16-bit.
pub fn read(path: &Path) -> Result<Vec<i16>, WavError> {
    let name = path.display().to_string();
    let file_err = |source| WavError::File {
        path: name.clone(),
        source,
    };
    let mut reader = hound::WavReader::open(path).map_err(file_err)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let raw: Vec<f64> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            // hound gives 8-bit samples centred on zero already.
            let scale = f64::from(1u32 << (bits - 1));
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| f64::from(v) / scale))
                .collect::<Result<_, _>>()
                .map_err(file_err)?
        }
        (hound::SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .map(|s| s.map(f64::from))
            .collect::<Result<_, _>>()
            .map_err(file_err)?,
        (format, bits) => {
            return Err(WavError::Format {
                path: name,
                bits,
                format: if format == hound::SampleFormat::Float {
                    "float"
                } else {
                    "PCM"
                },
            });
        }
    };
    let mono: Vec<f64> = raw
        .chunks(channels)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    let resampled = resample(&mono, spec.sample_rate, CALL_RATE);
    Ok(resampled
        .iter()
        .map(|v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect())
}

/// Writes `samples` (8 kHz mono 16-bit) to `path`.
pub fn write(path: &Path, samples: &[i16]) -> Result<(), WavError> {
    let name = path.display().to_string();
    let file_err = |source| WavError::File {
        path: name.clone(),
        source,
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: CALL_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(file_err)?;
    for s in samples {
        w.write_sample(*s).map_err(file_err)?;
    }
    w.finalize().map_err(file_err)
}

/// `samples` at `from` Hz as `to` Hz: averaged over the source samples each output
/// sample spans when going down (a box low-pass against aliasing), linear
/// interpolation when going up.
pub fn resample(samples: &[f64], from: u32, to: u32) -> Vec<f64> {
    if from == to || samples.is_empty() || from == 0 {
        return samples.to_vec();
    }
    let ratio = f64::from(from) / f64::from(to);
    let len = (samples.len() as f64 / ratio).floor() as usize;
    (0..len)
        .map(|i| {
            let pos = i as f64 * ratio;
            if ratio > 1.0 {
                let start = pos.floor() as usize;
                let end = ((pos + ratio).ceil() as usize)
                    .min(samples.len())
                    .max(start + 1);
                samples[start..end].iter().sum::<f64>() / (end - start) as f64
            } else {
                let j = pos.floor() as usize;
                let frac = pos - j as f64;
                let next = samples.get(j + 1).copied().unwrap_or(samples[j]);
                samples[j] * (1.0 - frac) + next * frac
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use voip_rtp::tone::{measure, sine};

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("voip-facade-{}-{name}", std::process::id()))
    }

    #[test]
    fn writes_and_reads_back_8_khz() {
        let path = temp("round.wav");
        let tone = sine(1000.0, -6.0, 8000, 0, 8000);
        write(&path, &tone).unwrap();
        assert_eq!(read(&path).unwrap(), tone);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn a_44_1_khz_stereo_file_comes_out_8_khz_mono() {
        let path = temp("cd.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for s in sine(440.0, -6.0, 44_100, 0, 44_100) {
            w.write_sample(s).unwrap();
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        let got = read(&path).unwrap();
        assert!(
            (got.len() as i64 - 8000).abs() <= 1,
            "{} samples",
            got.len()
        );
        let m = measure(&got, 8000);
        assert!(
            (m.freq_hz - 440.0).abs() < 2.0 && (m.level_dbfs + 6.0).abs() < 0.5,
            "{m:?}"
        );
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let path = temp("missing.wav");
        assert!(matches!(read(&path), Err(WavError::File { .. })));
        let path = temp("f64.wav");
        std::fs::write(&path, b"RIFF\0\0\0\0WAVE").unwrap();
        assert!(read(&path).is_err());
        let _ = std::fs::remove_file(path);
    }
}
