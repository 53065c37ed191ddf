//! Test tones: a sine generator, and the frequency and level of received audio (how
//! the demo and the tests check that sound got through, rather than assuming it).

/// A sine of `freq` Hz at `level_dbfs` (0 = full scale) at `rate`, continuing from
/// sample `offset` (so consecutive frames join without a click).
pub fn sine(freq: f64, level_dbfs: f64, rate: u32, offset: u64, len: usize) -> Vec<i16> {
    let amplitude = 32767.0 * 10f64.powf(level_dbfs / 20.0);
    (0..len as u64)
        .map(|i| {
            let t = (offset + i) as f64 / f64::from(rate);
            (amplitude * (2.0 * std::f64::consts::PI * freq * t).sin()).round() as i16
        })
        .collect()
}

/// What [`measure`] found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    /// The frequency from the rising zero crossings, Hz (0 when none).
    pub freq_hz: f64,
    /// The RMS level relative to a full-scale sine, dBFS (-inf for silence).
    pub level_dbfs: f64,
}

/// Windows quieter than this are silence (or concealment) and not measured.
const SILENCE_DBFS: f64 = -60.0;

/// The frequency and level of `samples` at `rate`, so that gaps of silence (lost
/// packets, pauses) bend neither: the frequency from the periods between rising zero
/// crossings (placed by linear interpolation), leaving out those that span a gap;
/// the level as the median over the 20 ms windows that are not silent.
pub fn measure(samples: &[i16], rate: u32) -> Measured {
    let mut crossings = Vec::new();
    for (i, w) in samples.windows(2).enumerate() {
        let (a, b) = (f64::from(w[0]), f64::from(w[1]));
        if a < 0.0 && b >= 0.0 {
            crossings.push(i as f64 + (-a) / (b - a));
        }
    }
    let mut periods: Vec<f64> = crossings.windows(2).map(|c| c[1] - c[0]).collect();
    let typical = median(&mut periods.clone()).unwrap_or(0.0);
    periods.retain(|p| *p < typical * 1.5);
    let freq_hz = if periods.is_empty() {
        0.0
    } else {
        f64::from(rate) * periods.len() as f64 / periods.iter().sum::<f64>()
    };
    let window = (rate as usize / 50).max(1);
    let mut levels: Vec<f64> = samples
        .chunks(window)
        .map(level_dbfs)
        .filter(|l| *l > SILENCE_DBFS)
        .collect();
    Measured {
        freq_hz,
        level_dbfs: median(&mut levels).unwrap_or(f64::NEG_INFINITY),
    }
}

fn median(v: &mut [f64]) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// The RMS level of `samples` relative to a full-scale sine, dBFS.
fn level_dbfs(samples: &[i16]) -> f64 {
    let power =
        samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / samples.len().max(1) as f64;
    // A full-scale sine has an RMS of 32767 / sqrt(2).
    let full = 32767.0 / std::f64::consts::SQRT_2;
    20.0 * (power.sqrt() / full).log10()
}

/// `samples` without the silence (below `threshold` in magnitude) at both ends.
pub fn trim_silence(samples: &[i16], threshold: i16) -> &[i16] {
    let loud = |s: &i16| s.unsigned_abs() > threshold.unsigned_abs();
    let start = samples.iter().position(loud).unwrap_or(samples.len());
    let end = samples.iter().rposition(loud).map_or(start, |e| e + 1);
    &samples[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_what_it_generates() {
        for (freq, level) in [(1000.0, -6.0), (440.0, -20.0), (2600.0, -3.0)] {
            let mut s = vec![0i16; 400];
            s.extend(sine(freq, level, 8000, 0, 8000));
            s.extend(vec![0i16; 400]);
            let m = measure(&s, 8000);
            assert!(
                (m.freq_hz - freq).abs() < 1.0,
                "{freq} Hz measured as {}",
                m.freq_hz
            );
            assert!(
                (m.level_dbfs - level).abs() < 0.2,
                "{level} dBFS measured as {}",
                m.level_dbfs
            );
        }
        let m = measure(&[0; 100], 8000);
        assert_eq!(m.freq_hz, 0.0);
        assert!(m.level_dbfs.is_infinite());
        assert!(trim_silence(&[0; 10], 5).is_empty());
        // Gaps of silence inside the tone change neither figure.
        let mut gappy = sine(1000.0, -6.0, 8000, 0, 8000);
        for gap in gappy.chunks_mut(800) {
            gap[..160].fill(0);
        }
        let m = measure(&gappy, 8000);
        assert!(
            (m.freq_hz - 1000.0).abs() < 1.0 && (m.level_dbfs + 6.0).abs() < 0.2,
            "{m:?}"
        );
    }

    #[test]
    fn frames_join_without_a_click() {
        let whole = sine(1000.0, -6.0, 8000, 0, 320);
        let mut parts = sine(1000.0, -6.0, 8000, 0, 160);
        parts.extend(sine(1000.0, -6.0, 8000, 160, 160));
        assert_eq!(whole, parts);
    }
}
