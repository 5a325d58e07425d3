//! The track tiler: from a track to the cells it covered, fast.
//!
//! The answer is defined segment by segment (see `geometry`): a cell is
//! covered when some segment comes within the sighting distance `s` of its
//! hexagon, and its first/last times are the earliest entry and latest exit
//! over those segments. Testing every segment against every nearby cell
//! would be exact but slow; the tiler gets the same answer while looking at
//! most fixes only through a few multiplications:
//!
//! - It keeps a *neighbourhood*: a disc of radius `rho` around a recent fix
//!   `g` and every cell that could come within `s` of it. A segment with
//!   both ends in the disc cannot reach any other cell.
//! - Each neighbourhood cell carries a *safe disc*: an anchor fix where its
//!   state (in range or not) is known and a radius within which that state
//!   cannot change, the distance to the edge of the buffered hexagon (the
//!   signed distance is 1-Lipschitz). While consecutive fixes stay in that
//!   disc, so do the segments between them (discs are convex), and the cell
//!   needs no work. Cells whose safe disc holds the whole neighbourhood are
//!   not even checked.
//! - Only when a fix leaves a cell's safe disc is the segment tested exactly
//!   against that cell, and only when a fix leaves the neighbourhood is the
//!   neighbourhood rebuilt (a flood fill over H3 neighbours). A segment
//!   longer than `rho` (a gap in the fixes) is flood-filled on its own.
//!
//! The result equals testing every segment against every cell, except for
//! cells whose distance to the line is within float rounding (~1e-9 m) of
//! `s`: safe discs are shrunk by 1e-7 m so skipping never decides such a
//! tie; the exact segment test does.

#![expect(
    clippy::many_single_char_names,
    reason = "fixes p and q, cells i and j, as in the geometry they stand for"
)]

use std::borrow::Cow;

use h3o::{LatLng, Resolution};

mod cells;

use super::{CellVisit, CoverageParams};
use crate::spatial::TrackPoint;
use crate::spatial::frame::metres_per_degree;
use cells::{CellMap, Hot, Links, Slot};

/// Safe discs are shrunk by this much so that rounding in the distance
/// computations can never let a skipped segment cross a boundary.
const SAFE_EPS_M: f64 = 1e-7;
/// Bound on the ratio between the metric of the neighbourhood centre and
/// that of any cell within a few km of it (`tan(lat) * dlat` stays under
/// 1e-3 up to 85° latitude).
const KAPPA: f64 = 1.01;
/// Extra reach for flood fills, so that the float-level gaps between
/// neighbouring hexagons can never disconnect them.
const SLACK_M: f64 = 0.5;

/// The cells that a track covered, sorted by cell, with the earliest and
/// latest time the officer was within `params.sighting_m()` of each.
///
/// `points` should be cleaned WGS-84 fixes sorted by time; fixes with a
/// non-finite or out-of-range coordinate are ignored, and an unsorted slice
/// is sorted by time (stably) first. A single fix, or a track that never
/// moves, covers the cells within sighting distance of that spot. Tracks
/// that cross the antimeridian are not supported.
///
/// The line between consecutive fixes is straight in `(lon, lat)`, and the
/// officer moves along it at constant speed, so times are interpolated along
/// segments; `first_ms` is rounded down and `last_ms` up to whole ms.
#[must_use]
pub fn cover_track(points: &[TrackPoint], params: &CoverageParams) -> Vec<CellVisit> {
    TrackTiler::new(params).cover(points)
}

/// [`cover_track`] for many tracks: the cells' geometry and neighbours,
/// which depend on the cell alone, are worked out once and kept from one
/// track to the next, so that tracks over the same streets (a district's
/// patrols) mostly find them ready. The answers are those of
/// [`cover_track`], track by track.
pub struct TrackTiler {
    tiler: Tiler,
}

impl TrackTiler {
    /// Cells kept between tracks (under 1 KB each) before the cache is
    /// started afresh: a whole district at resolution 10 fits.
    const MAX_KEPT_CELLS: usize = 1 << 16;

    #[must_use]
    pub fn new(params: &CoverageParams) -> Self {
        Self {
            tiler: Tiler::new(params),
        }
    }

    /// The parameters the tracks are covered with.
    #[must_use]
    pub fn params(&self) -> CoverageParams {
        self.tiler.params
    }

    /// How many cells' geometry and neighbours are kept for the next track.
    #[must_use]
    pub fn kept_cells(&self) -> usize {
        self.tiler.slots.len()
    }

    /// What [`cover_track`] answers for `points`.
    #[must_use]
    pub fn cover(&mut self, points: &[TrackPoint]) -> Vec<CellVisit> {
        let points = clean(points);
        let Some((&p0, rest)) = points.split_first() else {
            return Vec::new();
        };
        if self.tiler.slots.len() > Self::MAX_KEPT_CELLS {
            self.tiler = Tiler::new(&self.tiler.params);
        }
        let tiler = &mut self.tiler;
        tiler.rebuild(p0, None);
        let mut q = p0;
        for &p in rest {
            tiler.step(q, p);
            q = p;
        }
        tiler.finish(q)
    }
}

fn valid(p: &TrackPoint) -> bool {
    p.lon.is_finite()
        && p.lat.is_finite()
        && (-180.0..=180.0).contains(&p.lon)
        && (-90.0..=90.0).contains(&p.lat)
}

/// The fixes to use, borrowing in the common case where nothing needs
/// fixing.
fn clean(points: &[TrackPoint]) -> Cow<'_, [TrackPoint]> {
    let all_valid = points.iter().all(valid);
    let sorted = points.windows(2).all(|w| w[0].t_ms <= w[1].t_ms);
    if all_valid && sorted {
        return Cow::Borrowed(points);
    }
    let mut owned: Vec<TrackPoint> = points.iter().copied().filter(valid).collect();
    owned.sort_by_key(|p| p.t_ms);
    Cow::Owned(owned)
}

struct Tiler {
    params: CoverageParams,
    res: Resolution,
    s: f64,
    rho: f64,
    rho2: f64,
    /// How far from the neighbourhood centre a cell may be and still matter.
    reach: f64,
    slots: Vec<Slot>,
    /// Per slot: flood-fill stamps, and the hot part of each cell.
    seen: Vec<u32>,
    hot: Vec<Hot>,
    links: Vec<Links>,
    index: CellMap<u32>,
    /// Slots with a visit in the current track.
    touched: Vec<u32>,
    /// Neighbourhood cells whose safe disc does not hold the whole
    /// neighbourhood: checked at every fix.
    watched: Vec<u32>,
    /// Neighbourhood cells whose state cannot change inside it.
    stable: Vec<u32>,
    next_watched: Vec<u32>,
    next_stable: Vec<u32>,
    queue: Vec<u32>,
    stamp: u32,
    g_lon: f64,
    g_lat: f64,
    gkx: f64,
    gky: f64,
}

/// What a rebuild knows about the segment that led to the new centre.
#[derive(Clone, Copy)]
enum Arrival {
    /// The first fix of the track.
    Start,
    /// A segment no longer than `rho`.
    Short(TrackPoint),
    /// A longer segment, already flood-filled: cells it did not reach are
    /// out of range at its end.
    Long,
}

impl Tiler {
    fn new(params: &CoverageParams) -> Self {
        let s = params.sighting_m();
        let res = params.resolution();
        // Half an edge keeps the neighbourhood to a cell and its ring while
        // a walker still takes dozens of fixes to cross it (measured best
        // among 0.5, 0.75, 1 and 1.5 edges on walking and e-bike tracks);
        // a wide sighting distance puts many cells near the buffer's edge,
        // so there the disc grows with it.
        let rho = (0.5 * res.edge_length_m()).max(0.1 * s);
        Self {
            params: *params,
            res,
            s,
            rho,
            rho2: rho * rho,
            reach: s + rho * KAPPA + SLACK_M,
            slots: Vec::new(),
            seen: Vec::new(),
            hot: Vec::new(),
            links: Vec::new(),
            index: CellMap::default(),
            touched: Vec::new(),
            watched: Vec::new(),
            stable: Vec::new(),
            next_watched: Vec::new(),
            next_stable: Vec::new(),
            queue: Vec::new(),
            stamp: 0,
            g_lon: 0.0,
            g_lat: 0.0,
            gkx: 0.0,
            gky: 0.0,
        }
    }

    /// Processes the segment `q`–`p`, `q` having been processed already.
    fn step(&mut self, q: TrackPoint, p: TrackPoint) {
        let dx = (p.lon - self.g_lon) * self.gkx;
        let dy = (p.lat - self.g_lat) * self.gky;
        if dx * dx + dy * dy > self.rho2 {
            self.rebuild(p, Some(q));
            return;
        }
        for k in 0..self.watched.len() {
            let i = self.watched[k];
            if !self.hot[i as usize].holds(&p) {
                self.settle(i, &q, &p);
            }
        }
    }

    /// Moves the neighbourhood to `p`, processing the segment from `q`
    /// (if any) on the way.
    fn rebuild(&mut self, p: TrackPoint, q: Option<TrackPoint>) {
        let fresh = self.next_stamp();
        let (gkx, gky) = metres_per_degree(p.lat);
        let arrival = match q {
            None => Arrival::Start,
            Some(q) => {
                let dx = (p.lon - q.lon) * gkx;
                let dy = (p.lat - q.lat) * gky;
                if dx * dx + dy * dy <= self.rho2 {
                    Arrival::Short(q)
                } else {
                    self.fill_segment(&q, &p, fresh);
                    Arrival::Long
                }
            }
        };
        if let Arrival::Short(q) = arrival {
            // The whole segment lies within `rho` of `p`, so only cells of
            // the old or the new neighbourhood can see it. Old cells first:
            // their safe discs may spare the exact test.
            for k in 0..self.watched.len() + self.stable.len() {
                let i = if k < self.watched.len() {
                    self.watched[k]
                } else {
                    self.stable[k - self.watched.len()]
                };
                if !self.hot[i as usize].holds(&p) {
                    self.settle(i, &q, &p);
                }
                self.hot[i as usize].fresh = fresh;
            }
        }

        // Flood-fill the cells that could come within `s` of the new disc.
        let seen = self.next_stamp();
        let Some(start) = self.seed_near(&p) else {
            return;
        };
        self.seen[start as usize] = seen;
        self.queue.clear();
        self.queue.push(start);
        let keep = self.rho * KAPPA + SAFE_EPS_M;
        while let Some(i) = self.queue.pop() {
            let probe = &self.hot[i as usize];
            let x = (p.lon - probe.lon0) * probe.kx;
            let y = (p.lat - probe.lat0) * probe.ky;
            let r = self.reach + probe.r_out;
            if i != start && x * x + y * y > r * r {
                continue;
            }
            if self.hot[i as usize].fresh != fresh {
                let inside = match arrival {
                    Arrival::Start => self.eval(i, &p, &p),
                    Arrival::Short(q) => self.eval(i, &q, &p),
                    // Not reached by the segment's own flood fill, so the
                    // segment (and `p` on it) never came within range.
                    Arrival::Long => false,
                };
                self.anchor(i, &p, inside);
            }
            if self.hot[i as usize].slack_at(&p) >= keep {
                self.next_stable.push(i);
            } else {
                self.next_watched.push(i);
            }
            let links = self.neighbours(i);
            for &j in &links.nb[..usize::from(links.k)] {
                let s = &mut self.seen[j as usize];
                if *s != seen {
                    *s = seen;
                    self.queue.push(j);
                }
            }
        }
        std::mem::swap(&mut self.watched, &mut self.next_watched);
        std::mem::swap(&mut self.stable, &mut self.next_stable);
        self.next_watched.clear();
        self.next_stable.clear();
        self.g_lon = p.lon;
        self.g_lat = p.lat;
        self.gkx = gkx;
        self.gky = gky;
    }

    /// A cell that is surely within `reach` of `p`, to start a flood fill
    /// from: one of the current neighbourhood's if one will do (indexing a
    /// point costs more than the rest of a rebuild), else the cell of `p`.
    fn seed_near(&mut self, p: &TrackPoint) -> Option<u32> {
        for &i in self.watched.iter().chain(self.stable.iter()) {
            let g = &self.slots[i as usize].geom;
            let (x, y) = g.project(p.lon, p.lat);
            // The hexagon holds the disc of radius `r_in`, so this bounds the
            // distance from above.
            let r = self.reach + g.r_in;
            if x * x + y * y <= r * r {
                return Some(i);
            }
        }
        let cell = LatLng::new(p.lat, p.lon).ok()?.to_cell(self.res);
        Some(self.slot_of(cell))
    }

    /// A cell to start a segment's flood fill from: one whose centre lies
    /// within `near + r_in` of `q` (so the fill would not prune it, and the
    /// cells it reaches are connected to it), from the neighbourhood if one
    /// will do, else the cell of `q`.
    fn seed_segment(&mut self, q: &TrackPoint, near: f64) -> Option<u32> {
        for &i in self.watched.iter().chain(self.stable.iter()) {
            let g = &self.slots[i as usize].geom;
            let (x, y) = g.project(q.lon, q.lat);
            let r = near + g.r_in;
            if x * x + y * y <= r * r {
                return Some(i);
            }
        }
        let cell = LatLng::new(q.lat, q.lon).ok()?.to_cell(self.res);
        Some(self.slot_of(cell))
    }

    /// Tests a long segment against every cell it may reach, found by a
    /// flood fill from the cell of `q`, and anchors each at `p`.
    fn fill_segment(&mut self, q: &TrackPoint, p: &TrackPoint, fresh: u32) {
        let seen = self.next_stamp();
        let near = self.s + SLACK_M;
        let Some(start) = self.seed_segment(q, near) else {
            return;
        };
        self.seen[start as usize] = seen;
        self.queue.clear();
        self.queue.push(start);
        while let Some(i) = self.queue.pop() {
            let g = &self.slots[i as usize].geom;
            let (ax, ay) = g.project(q.lon, q.lat);
            let (bx, by) = g.project(p.lon, p.lat);
            if i != start && g.segment_lower_bound(ax, ay, bx, by) > near {
                continue;
            }
            let inside = self.eval(i, q, p);
            self.anchor(i, p, inside);
            self.hot[i as usize].fresh = fresh;
            let links = self.neighbours(i);
            for &j in &links.nb[..usize::from(links.k)] {
                let s = &mut self.seen[j as usize];
                if *s != seen {
                    *s = seen;
                    self.queue.push(j);
                }
            }
        }
    }

    /// Cells still in range at the last fix stay in range until its time.
    /// The visits are taken out of the slots, which are left ready for the
    /// next track.
    fn finish(&mut self, last: TrackPoint) -> Vec<CellVisit> {
        for k in 0..self.watched.len() + self.stable.len() {
            let i = if k < self.watched.len() {
                self.watched[k]
            } else {
                self.stable[k - self.watched.len()]
            };
            let slot = &mut self.slots[i as usize];
            if self.hot[i as usize].safe.inside {
                if slot.first > slot.last {
                    self.touched.push(i);
                }
                slot.first = slot.first.min(last.t_ms);
                slot.last = slot.last.max(last.t_ms);
            }
        }
        self.watched.clear();
        self.stable.clear();
        let mut out: Vec<CellVisit> = self
            .touched
            .drain(..)
            .map(|i| {
                let s = &mut self.slots[i as usize];
                let visit = CellVisit {
                    cell: s.cell,
                    first_ms: s.first,
                    last_ms: s.last,
                };
                s.first = i64::MAX;
                s.last = i64::MIN;
                visit
            })
            .collect();
        out.sort_unstable_by_key(|v| v.cell);
        out
    }
}

#[cfg(test)]
mod tests;
