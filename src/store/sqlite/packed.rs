//! A track's times and lines packed for SQLite: each value as the
//! difference from the one before, zigzag-encoded in LEB128 varints, and
//! coordinates as whole 1e-7 degrees. A fix every 5 s some 27 m on takes
//! about 6 bytes instead of 24 (8 for its time, 16 for its position), so a
//! day of patrols writes a quarter of the bytes to the WAL and again to the
//! database at the checkpoint.
//!
//! Nothing is rounded: lines with a coordinate that is not a whole 1e-7
//! degree (a reprojected fix, say) are kept as WKB instead, and every
//! packed value reads back bit for bit. The blobs carry a header that the
//! earlier forms cannot start with, so all of them are still read: WKB
//! starts with its byte order (0 or 1), and 8-byte little-endian times
//! (epoch milliseconds, far below 2^47 in size) end their first value in
//! `00 00` or `ff ff`.

use crate::store::StoreError;

/// Header of packed times; its bytes 6 and 7 are neither `00 00` nor `ff ff`.
const TIMES_MAGIC: &[u8; 8] = b"gpT1\xa5\x5a\xa5\x5a";
/// Header of packed lines; WKB starts with 0 or 1.
const LINES_MAGIC: &[u8; 4] = b"gpL1";
/// Units of a packed coordinate per degree.
const SCALE: f64 = 1e7;
/// Largest whole number of units kept: exactly representable as an `f64`.
const MAX_UNITS: f64 = 9_007_199_254_740_992.0;

const LINE_STRING: u8 = 2;
const MULTI_LINE_STRING: u8 = 5;

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(u8::try_from(v & 0x7f).unwrap_or(0) | 0x80);
        v >>= 7;
    }
    out.push(u8::try_from(v).unwrap_or(0));
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)).cast_unsigned()
}

fn unzigzag(v: u64) -> i64 {
    (v >> 1).cast_signed() ^ -((v & 1).cast_signed())
}

fn push_delta(out: &mut Vec<u8>, prev: &mut i64, v: i64) {
    push_varint(out, zigzag(v.wrapping_sub(*prev)));
    *prev = v;
}

/// Times packed: the header, their count, then each one's difference from
/// the one before.
#[must_use]
pub fn times_blob(v: &[i64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + 3 * v.len());
    out.extend_from_slice(TIMES_MAGIC);
    push_varint(&mut out, v.len() as u64);
    let mut prev = 0;
    for &t in v {
        push_delta(&mut out, &mut prev, t);
    }
    out
}

/// The coordinate in whole units, when it is one exactly.
fn units(x: f64) -> Option<i64> {
    let n = (x * SCALE).round();
    // NaN and the infinities fail here too
    if n.is_nan() || n.abs() > MAX_UNITS {
        return None;
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "n is a whole number of at most 2^53 in size"
    )]
    let units = n as i64;
    // read back as it will be: -0.0, say, would come back as 0.0
    (degrees(units).to_bits() == x.to_bits()).then_some(units)
}

/// A line or lines packed; `None` for other geometries and for lines with a
/// coordinate that is not a whole 1e-7 degree.
#[must_use]
pub fn lines_blob(g: &geo::Geometry<f64>) -> Option<Vec<u8>> {
    let (kind, lines): (u8, &[geo::LineString<f64>]) = match g {
        geo::Geometry::LineString(l) => (LINE_STRING, std::slice::from_ref(l)),
        geo::Geometry::MultiLineString(m) => (MULTI_LINE_STRING, &m.0),
        _ => return None,
    };
    let points: usize = lines.iter().map(|l| l.0.len()).sum();
    let mut out = Vec::with_capacity(16 + 2 * lines.len() + 5 * points);
    out.extend_from_slice(LINES_MAGIC);
    out.push(kind);
    push_varint(&mut out, lines.len() as u64);
    let (mut px, mut py) = (0, 0);
    for l in lines {
        push_varint(&mut out, l.0.len() as u64);
        for c in &l.0 {
            push_delta(&mut out, &mut px, units(c.x)?);
            push_delta(&mut out, &mut py, units(c.y)?);
        }
    }
    Some(out)
}

/// A reader of varints with the error of the column it reads.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader of what follows `magic`; `None` when `bytes` does not
    /// start with it.
    fn after(bytes: &'a [u8], magic: &[u8], what: &'static str) -> Option<Self> {
        Some(Self {
            bytes: bytes.strip_prefix(magic)?,
            at: 0,
            what,
        })
    }

    fn corrupt(&self, why: &str) -> StoreError {
        StoreError::Corrupt(format!("packed {}: {why}", self.what))
    }

    fn varint(&mut self) -> Result<u64, StoreError> {
        let mut v = 0_u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.bytes.get(self.at) else {
                return Err(self.corrupt("ends inside a number"));
            };
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.corrupt("a number longer than 64 bits"))
    }

    fn delta(&mut self, prev: &mut i64) -> Result<i64, StoreError> {
        *prev = prev.wrapping_add(unzigzag(self.varint()?));
        Ok(*prev)
    }

    /// A count of items of at least `min_bytes` each, checked against the
    /// bytes left (a corrupt count never allocates beyond them).
    fn count(&mut self, min_bytes: usize) -> Result<usize, StoreError> {
        let n = usize::try_from(self.varint()?).unwrap_or(usize::MAX);
        if n > (self.bytes.len() - self.at) / min_bytes {
            return Err(self.corrupt("a count beyond its bytes"));
        }
        Ok(n)
    }

    fn end(&self) -> Result<(), StoreError> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(self.corrupt("bytes after the values"))
        }
    }
}

/// The times of a [`times_blob`]; `None` when `bytes` is not one.
pub fn times_from(bytes: &[u8]) -> Option<Result<Vec<i64>, StoreError>> {
    let mut r = Reader::after(bytes, TIMES_MAGIC, "times")?;
    let mut read = || {
        let n = r.count(1)?;
        let mut out = Vec::with_capacity(n);
        let mut prev = 0;
        for _ in 0..n {
            out.push(r.delta(&mut prev)?);
        }
        r.end()?;
        Ok(out)
    };
    Some(read())
}

#[expect(
    clippy::cast_precision_loss,
    reason = "packed units are at most 2^53 in size"
)]
fn degrees(units: i64) -> f64 {
    units as f64 / SCALE
}

/// The lines of a [`lines_blob`]; `None` when `bytes` is not one.
pub fn lines_from(bytes: &[u8]) -> Option<Result<geo::Geometry<f64>, StoreError>> {
    let mut r = Reader::after(bytes, LINES_MAGIC, "track geometry")?;
    let mut read = || {
        let Some(&kind) = r.bytes.first() else {
            return Err(r.corrupt("no geometry type"));
        };
        r.at = 1;
        let n = r.count(1)?;
        if kind == LINE_STRING && n != 1 {
            return Err(r.corrupt("a LineString of other than one line"));
        }
        let (mut px, mut py) = (0, 0);
        let mut lines = Vec::with_capacity(n);
        for _ in 0..n {
            let points = r.count(2)?;
            let mut line = Vec::with_capacity(points);
            for _ in 0..points {
                let x = degrees(r.delta(&mut px)?);
                let y = degrees(r.delta(&mut py)?);
                line.push(geo::coord! {x: x, y: y});
            }
            lines.push(geo::LineString(line));
        }
        r.end()?;
        match kind {
            LINE_STRING => Ok(geo::Geometry::LineString(lines.remove(0))),
            MULTI_LINE_STRING => Ok(geo::Geometry::MultiLineString(geo::MultiLineString::new(
                lines,
            ))),
            other => Err(r.corrupt(&format!("geometry type {other} is not lines"))),
        }
    };
    Some(read())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_back_and_are_small() {
        let day: Vec<i64> = (0..2_900).map(|i| 1_780_000_000_000 + 5_000 * i).collect();
        for v in [
            day.clone(),
            vec![],
            vec![i64::MIN, i64::MAX, 0, -1, 1, i64::MIN],
        ] {
            let blob = times_blob(&v);
            assert_eq!(times_from(&blob).expect("packed").expect("reads"), v);
        }
        // a time of 5 s steps is two bytes, not eight
        assert!(times_blob(&day).len() < 2 * day.len() + 16);
    }

    #[test]
    fn earlier_forms_are_not_taken_for_packed() {
        // 8-byte little-endian times of any date in ±4,000 years
        for t in [
            0_i64,
            1_780_000_000_000,
            -62_000_000_000_000,
            126_000_000_000_000,
        ] {
            assert!(times_from(&t.to_le_bytes()).is_none(), "{t}");
        }
        let g = geo::Geometry::LineString(geo::LineString::from(vec![(121.25, 31.0)]));
        let wkb = crate::store::sql::wkb::lines_wkb(&g).expect("WKB");
        assert!(lines_from(&wkb).is_none());
    }

    #[test]
    fn lines_read_back_bit_for_bit() {
        let multi = geo::Geometry::MultiLineString(geo::MultiLineString::new(vec![
            geo::LineString::from(vec![(121.234_567_8, 31.0), (121.234_5, 30.987_654_3)]),
            geo::LineString::new(vec![]),
            geo::LineString::from(vec![(-179.999_999_9, -89.5), (180.0, 90.0)]),
        ]));
        let one = geo::Geometry::LineString(geo::LineString::from(vec![(121.5, 31.25)]));
        for g in [multi, one] {
            let blob = lines_blob(&g).expect("packs");
            let back = lines_from(&blob).expect("packed").expect("reads");
            assert_eq!(
                crate::store::sql::wkb::lines_wkb(&back),
                crate::store::sql::wkb::lines_wkb(&g),
                "bit for bit"
            );
        }
    }

    #[test]
    fn lines_finer_than_the_unit_are_not_packed() {
        for x in [121.234_567_89, 0.1 + 0.2, -0.0, f64::NAN, 1e300] {
            let g = geo::Geometry::LineString(geo::LineString::from(vec![(x, 31.0)]));
            assert!(lines_blob(&g).is_none(), "{x}");
        }
        assert!(lines_blob(&geo::Geometry::Point(geo::Point::new(0.0, 0.0))).is_none());
    }

    #[test]
    fn corrupt_blobs_are_errors() {
        let g =
            geo::Geometry::MultiLineString(geo::MultiLineString::new(vec![geo::LineString::from(
                vec![(121.25, 31.0), (121.3, 31.1)],
            )]));
        let blob = lines_blob(&g).expect("packs");
        for cut in LINES_MAGIC.len()..blob.len() {
            assert!(lines_from(&blob[..cut]).expect("packed").is_err(), "{cut}");
        }
        let mut longer = blob.clone();
        longer.push(0);
        assert!(lines_from(&longer).expect("packed").is_err());
        let mut huge = LINES_MAGIC.to_vec();
        huge.push(MULTI_LINE_STRING);
        huge.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(lines_from(&huge).expect("packed").is_err());
        let times = times_blob(&[1, 2, 3]);
        for cut in TIMES_MAGIC.len()..times.len() {
            assert!(times_from(&times[..cut]).expect("packed").is_err(), "{cut}");
        }
        let mut endless = TIMES_MAGIC.to_vec();
        endless.extend_from_slice(&[1; 12]);
        endless[8] = 0x81;
        assert!(times_from(&endless).expect("packed").is_err());
    }
}
