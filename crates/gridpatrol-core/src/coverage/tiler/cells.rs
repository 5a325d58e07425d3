//! What the tiler keeps per cell: the cell's hexagon and neighbours
//! (worked out once and kept across the tracks of a file), its visit so
//! far, its safe disc, and the exact test of a segment against it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use h3o::CellIndex;

use super::{SAFE_EPS_M, Tiler};
use crate::coverage::geometry::CellGeom;
use crate::spatial::TrackPoint;

/// A cheap hash for cell indexes: the low bits of an H3 index are mostly
/// unused digits (all ones), so they are folded in from the high bits.
#[derive(Default)]
pub(super) struct CellHasher(u64);

impl Hasher for CellHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let h = (self.0 ^ n ^ (n >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = h ^ (h >> 32);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) type CellMap<V> = HashMap<CellIndex, V, BuildHasherDefault<CellHasher>>;

/// Everything the tiler knows about one cell during one track.
pub(super) struct Slot {
    pub(super) cell: CellIndex,
    pub(super) geom: CellGeom,
    /// The visit so far; empty while `first > last`.
    pub(super) first: i64,
    pub(super) last: i64,
}

/// Slots of a cell's neighbouring cells, filled on first use: kept apart
/// from the bulky [`Slot`] because every flood fill reads them.
#[derive(Clone, Copy)]
pub(super) struct Links {
    pub(super) nb: [u32; 6],
    /// How many of `nb` are neighbours; [`Links::UNKNOWN`] until filled.
    pub(super) k: u8,
}

impl Links {
    pub(super) const UNKNOWN: u8 = u8::MAX;
}

/// What the per-fix checks and the flood fills read of a cell, kept apart
/// from the bulky [`Slot`]: they touch many cells and little of each, and
/// this way stay in cache.
pub(super) struct Hot {
    pub(super) lon0: f64,
    pub(super) lat0: f64,
    pub(super) kx: f64,
    pub(super) ky: f64,
    pub(super) r_out: f64,
    /// Stamp of the rebuild that brought `safe` up to date with the fix
    /// being processed.
    pub(super) fresh: u32,
    pub(super) safe: SafeDisc,
}

/// A cell's state (in range or not) holds while fixes stay within `m`
/// metres, in the cell's own metric, of the anchor fix where it was found.
#[derive(Clone, Copy)]
pub(super) struct SafeDisc {
    pub(super) a_lon: f64,
    pub(super) a_lat: f64,
    pub(super) m: f64,
    pub(super) m2: f64,
    pub(super) inside: bool,
}

impl Hot {
    #[inline]
    pub(super) fn holds(&self, p: &TrackPoint) -> bool {
        let dx = (p.lon - self.safe.a_lon) * self.kx;
        let dy = (p.lat - self.safe.a_lat) * self.ky;
        dx * dx + dy * dy < self.safe.m2
    }

    /// What is left of the safe disc's radius seen from `p`.
    #[inline]
    pub(super) fn slack_at(&self, p: &TrackPoint) -> f64 {
        let dx = (p.lon - self.safe.a_lon) * self.kx;
        let dy = (p.lat - self.safe.a_lat) * self.ky;
        self.safe.m - (dx * dx + dy * dy).sqrt()
    }
}

impl Tiler {
    pub(super) fn slot_of(&mut self, cell: CellIndex) -> u32 {
        if let Some(&i) = self.index.get(&cell) {
            return i;
        }
        let i = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        let geom = CellGeom::new(cell);
        self.seen.push(0);
        self.hot.push(Hot {
            lon0: geom.frame.lon0(),
            lat0: geom.frame.lat0(),
            kx: geom.frame.kx(),
            ky: geom.frame.ky(),
            r_out: geom.r_out,
            fresh: 0,
            safe: SafeDisc {
                a_lon: 0.0,
                a_lat: 0.0,
                m: 0.0,
                m2: 0.0,
                inside: false,
            },
        });
        self.slots.push(Slot {
            cell,
            geom,
            first: i64::MAX,
            last: i64::MIN,
        });
        self.links.push(Links {
            nb: [i; 6],
            k: Links::UNKNOWN,
        });
        self.index.insert(cell, i);
        i
    }

    pub(super) fn neighbours(&mut self, i: u32) -> Links {
        let links = self.links[i as usize];
        if links.k != Links::UNKNOWN {
            return links;
        }
        let cell = self.slots[i as usize].cell;
        // the fast walk gives up near pentagons; the general one does not
        let fast: Option<Vec<CellIndex>> = cell.grid_disk_fast(1).collect();
        let ring = fast.unwrap_or_else(|| cell.grid_disk(1));
        let mut out = Links { nb: [i; 6], k: 0 };
        for c in ring {
            if c != cell && usize::from(out.k) < out.nb.len() {
                out.nb[usize::from(out.k)] = self.slot_of(c);
                out.k += 1;
            }
        }
        self.links[i as usize] = out;
        out
    }

    pub(super) fn next_stamp(&mut self) -> u32 {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            // After four billion flood fills, old stamps could collide.
            for h in &mut self.hot {
                h.fresh = 0;
            }
            self.seen.fill(0);
            self.stamp = 1;
        }
        self.stamp
    }

    /// Tests segment `q`–`p` exactly against cell `i`, records the visit and
    /// returns whether `p` is in range.
    ///
    /// The segment is evaluated from its lexicographically smaller end so
    /// that a reversed track gives bit-identical parameters, and times are
    /// offsets rounded away from that end, which mirrors exactly under time
    /// reversal.
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        reason = "segment durations are far below 2^53 ms, offsets are bounded by them"
    )]
    pub(super) fn eval(&mut self, i: u32, q: &TrackPoint, p: &TrackPoint) -> bool {
        let p_last = (q.lon, q.lat) <= (p.lon, p.lat);
        let (c0, c1) = if p_last { (q, p) } else { (p, q) };
        let slot = &mut self.slots[i as usize];
        let g = &slot.geom;
        let (ax, ay) = g.project(c0.lon, c0.lat);
        let (bx, by) = g.project(c1.lon, c1.lat);
        let Some((lo, hi)) = g.segment_range(ax, ay, bx, by, self.s) else {
            return false;
        };
        let dt = c1.t_ms.saturating_sub(c0.t_ms) as f64;
        let (d_lo, d_hi) = (lo * dt, hi * dt);
        let first = c0.t_ms.saturating_add(d_lo.min(d_hi).floor() as i64);
        let last = c0.t_ms.saturating_add(d_lo.max(d_hi).ceil() as i64);
        if slot.first > slot.last {
            self.touched.push(i);
        }
        slot.first = slot.first.min(first);
        slot.last = slot.last.max(last);
        if p_last { hi >= 1.0 } else { lo <= 0.0 }
    }

    /// Anchors cell `i`'s safe disc at `p`, where its state is `inside`.
    pub(super) fn anchor(&mut self, i: u32, p: &TrackPoint, inside: bool) {
        let geom = &self.slots[i as usize].geom;
        let (x, y) = geom.project(p.lon, p.lat);
        let m = (geom.margin(x, y, self.s) - SAFE_EPS_M).max(0.0);
        self.hot[i as usize].safe = SafeDisc {
            a_lon: p.lon,
            a_lat: p.lat,
            m,
            m2: m * m,
            inside,
        };
    }

    /// Takes cell `i`, whose safe disc holds `q` but not `p`, along the
    /// segment `q`–`p` and anchors it at `p`. The exact segment test runs
    /// only when the state may change on the way: a cell in range at both
    /// ends stays in range between them (the buffered hexagon is convex,
    /// and its visit already started), and one out of range at both ends
    /// whose distances from them add up to more than the segment's length
    /// cannot be reached in between (distance is 1-Lipschitz). Both are
    /// decided with a margin of [`SAFE_EPS_M`], so rounding never skips a
    /// test that could matter.
    pub(super) fn settle(&mut self, i: u32, q: &TrackPoint, p: &TrackPoint) {
        let hot = &self.hot[i as usize];
        let was_inside = hot.safe.inside;
        let geom = &self.slots[i as usize].geom;
        let (x, y) = geom.project(p.lon, p.lat);
        let v = geom.signed_margin(x, y, self.s);
        let skip = if was_inside {
            v < -SAFE_EPS_M
        } else if v > SAFE_EPS_M {
            let (qx, qy) = geom.project(q.lon, q.lat);
            let len = ((x - qx) * (x - qx) + (y - qy) * (y - qy)).sqrt();
            hot.slack_at(q) + v - len > 2.0 * SAFE_EPS_M
        } else {
            false
        };
        let inside = if skip { was_inside } else { self.eval(i, q, p) };
        let m = (v.abs() - SAFE_EPS_M).max(0.0);
        self.hot[i as usize].safe = SafeDisc {
            a_lon: p.lon,
            a_lat: p.lat,
            m,
            m2: m * m,
            inside,
        };
    }
}
