//! A deterministic day of district patrols for the ingest benchmarks: one
//! CSV of many officers' tracks inside Songjiang, one fix every 5 s, even
//! tracks on foot (~1.3 m/s), odd ones on e-bikes (~5 m/s).

use std::fmt::Write as _;

/// `SplitMix64`: tiny, seeded, good enough for synthetic tracks.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[expect(clippy::cast_precision_loss, reason = "53 random bits")]
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The box the walkers stay in, well inside the district: lon, lat.
const BOX: [f64; 4] = [121.15, 30.98, 121.30, 31.10];

/// `tracks` patrols of `fixes` fixes each as one CSV (`officer,time,lon,lat`,
/// epoch seconds): a random walk of headings from a random start, turned
/// back at the edges of [`BOX`]; the day starts at 08:00 Beijing time and
/// officers start a minute apart.
pub fn day_csv(tracks: usize, fixes: usize) -> String {
    let mut rng = Rng(20_201_215);
    let mut csv = String::with_capacity(tracks * fixes * 40 + 32);
    csv.push_str("officer,time,lon,lat\n");
    for track in 0..tracks {
        let speed = if track % 2 == 0 { 1.3 } else { 5.0 };
        let (mut lon, mut lat) = (
            BOX[0] + (BOX[2] - BOX[0]) * rng.unit(),
            BOX[1] + (BOX[3] - BOX[1]) * rng.unit(),
        );
        let mut heading = rng.unit() * std::f64::consts::TAU;
        let start = 1_608_076_800 + 60 * track;
        for i in 0..fixes {
            heading += (rng.unit() - 0.5) * 0.6;
            let step = speed * 5.0 * (0.8 + 0.4 * rng.unit());
            let (dx, dy) = (heading.cos(), heading.sin());
            if !(BOX[0]..=BOX[2]).contains(&(lon + dx * step / 95_500.0))
                || !(BOX[1]..=BOX[3]).contains(&(lat + dy * step / 110_900.0))
            {
                heading += std::f64::consts::PI;
            }
            lon += step * heading.cos() / 95_500.0;
            lat += step * heading.sin() / 110_900.0;
            let t = start + 5 * i;
            writeln!(csv, "officer{track:04},{t},{lon:.6},{lat:.6}").expect("a String takes it");
        }
    }
    csv
}
