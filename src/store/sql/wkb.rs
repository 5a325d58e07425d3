//! Lines as little-endian WKB (ISO 2D): how a track's lines are written to
//! PostGIS (which reads WKB without parsing text), and kept in SQLite when
//! a coordinate is finer than its packed form (`sqlite::packed`).

use crate::store::StoreError;

/// WKB geometry type codes.
const LINE_STRING: u32 = 2;
const MULTI_LINE_STRING: u32 = 5;

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn push_line(out: &mut Vec<u8>, l: &geo::LineString<f64>) {
    out.push(1);
    out.extend_from_slice(&LINE_STRING.to_le_bytes());
    out.extend_from_slice(&count(l.0.len()).to_le_bytes());
    for c in &l.0 {
        out.extend_from_slice(&c.x.to_le_bytes());
        out.extend_from_slice(&c.y.to_le_bytes());
    }
}

/// A line or lines as little-endian WKB; `None` for other geometries.
#[must_use]
pub fn lines_wkb(g: &geo::Geometry<f64>) -> Option<Vec<u8>> {
    match g {
        geo::Geometry::LineString(l) => {
            let mut out = Vec::with_capacity(9 + 16 * l.0.len());
            push_line(&mut out, l);
            Some(out)
        }
        geo::Geometry::MultiLineString(m) => {
            let points: usize = m.0.iter().map(|l| l.0.len()).sum();
            let mut out = Vec::with_capacity(9 + 9 * m.0.len() + 16 * points);
            out.push(1);
            out.extend_from_slice(&MULTI_LINE_STRING.to_le_bytes());
            out.extend_from_slice(&count(m.0.len()).to_le_bytes());
            for l in &m.0 {
                push_line(&mut out, l);
            }
            Some(out)
        }
        _ => None,
    }
}

/// A reader over WKB bytes of either byte order.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    little: bool,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("track geometry WKB: {what}"))
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        let end = self.at.checked_add(N).ok_or_else(|| corrupt("too long"))?;
        let b = self
            .bytes
            .get(self.at..end)
            .and_then(|s| <[u8; N]>::try_from(s).ok())
            .ok_or_else(|| corrupt("cut short"))?;
        self.at = end;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32, StoreError> {
        let b = self.take::<4>()?;
        Ok(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn f64(&mut self) -> Result<f64, StoreError> {
        let b = self.take::<8>()?;
        Ok(if self.little {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    /// A geometry's byte order and type.
    fn header(&mut self) -> Result<u32, StoreError> {
        let [order] = self.take::<1>()?;
        self.little = match order {
            0 => false,
            1 => true,
            _ => return Err(corrupt("unknown byte order")),
        };
        self.u32()
    }

    /// A count of items of at least `min_bytes` each: never more than the
    /// bytes left can hold, so a corrupt count cannot ask for huge memory.
    fn count(&mut self, min_bytes: usize) -> Result<usize, StoreError> {
        let n = usize::try_from(self.u32()?).map_err(|_| corrupt("count"))?;
        if n.saturating_mul(min_bytes) > self.bytes.len() - self.at {
            return Err(corrupt("count beyond the end"));
        }
        Ok(n)
    }

    fn line_body(&mut self) -> Result<geo::LineString<f64>, StoreError> {
        let n = self.count(16)?;
        let mut coords = Vec::with_capacity(n);
        for _ in 0..n {
            let x = self.f64()?;
            let y = self.f64()?;
            coords.push(geo::Coord { x, y });
        }
        Ok(geo::LineString::new(coords))
    }
}

/// Reads what [`lines_wkb`] wrote (either byte order): a `LineString` or a
/// `MultiLineString`.
pub fn lines_from_wkb(bytes: &[u8]) -> Result<geo::Geometry<f64>, StoreError> {
    let mut r = Reader {
        bytes,
        at: 0,
        little: true,
    };
    let g = match r.header()? {
        LINE_STRING => geo::Geometry::LineString(r.line_body()?),
        MULTI_LINE_STRING => {
            let n = r.count(9)?;
            let mut lines = Vec::with_capacity(n);
            for _ in 0..n {
                if r.header()? != LINE_STRING {
                    return Err(corrupt("a part is not a LineString"));
                }
                lines.push(r.line_body()?);
            }
            geo::Geometry::MultiLineString(geo::MultiLineString::new(lines))
        }
        other => return Err(corrupt(&format!("geometry type {other} is not lines"))),
    };
    if r.at != bytes.len() {
        return Err(corrupt("bytes after the geometry"));
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_back_bit_for_bit() {
        let multi = geo::Geometry::MultiLineString(geo::MultiLineString::new(vec![
            geo::LineString::from(vec![(121.25, 31.0), (121.250_001_5, 31.000_02)]),
            geo::LineString::from(vec![(121.0, 30.5), (121.0, 30.5)]),
            geo::LineString::new(vec![]),
        ]));
        let one = geo::Geometry::LineString(geo::LineString::from(vec![(-0.1, 1e-300)]));
        for g in [multi, one] {
            let wkb = lines_wkb(&g).expect("lines");
            assert_eq!(lines_from_wkb(&wkb).expect("reads"), g);
        }
    }

    #[test]
    fn corrupt_bytes_are_errors() {
        let g = geo::Geometry::LineString(geo::LineString::from(vec![(1.0, 2.0), (3.0, 4.0)]));
        let wkb = lines_wkb(&g).expect("lines");
        for cut in 0..wkb.len() {
            assert!(lines_from_wkb(&wkb[..cut]).is_err(), "{cut}");
        }
        let mut longer = wkb.clone();
        longer.push(0);
        assert!(lines_from_wkb(&longer).is_err());
        // a point (type 1) is not lines
        let mut point = vec![1];
        point.extend_from_slice(&1_u32.to_le_bytes());
        point.extend_from_slice(&[0; 16]);
        assert!(lines_from_wkb(&point).is_err());
        // a count far beyond the bytes
        let mut huge = vec![1];
        huge.extend_from_slice(&2_u32.to_le_bytes());
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(lines_from_wkb(&huge).is_err());
        assert!(lines_from_wkb(&[]).is_err());
        assert!(lines_wkb(&geo::Geometry::Point(geo::Point::new(0.0, 0.0))).is_none());
    }

    #[test]
    fn big_endian_reads_too() {
        let mut be = vec![0];
        be.extend_from_slice(&LINE_STRING.to_be_bytes());
        be.extend_from_slice(&1_u32.to_be_bytes());
        be.extend_from_slice(&121.5_f64.to_be_bytes());
        be.extend_from_slice(&31.25_f64.to_be_bytes());
        assert_eq!(
            lines_from_wkb(&be).expect("reads"),
            geo::Geometry::LineString(geo::LineString::from(vec![(121.5, 31.25)]))
        );
    }
}
