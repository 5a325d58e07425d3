//! Tours on a matrix of travel costs: the orienteering solver behind the
//! patrol planner, and classic travelling-salesman baselines to compare it
//! with.
//!
//! The solver picks and orders stops to collect the most priority within a
//! budget (a prize-collecting, or orienteering, problem). Up to
//! [`EXACT_LIMIT`] candidate stops it is exact (dynamic programming over
//! subsets, Held–Karp style). Above that it is a deterministic local search:
//!
//! 1. greedy insertion: repeatedly insert the stop with the best ratio of
//!    priority to extra time at its cheapest position, while it fits;
//! 2. 2-opt and Or-opt (moving runs of 1–3 stops, either way round) to
//!    shorten the order;
//! 3. add moves (insert whatever fits now) and swap moves (drop a stop to
//!    make room for one of higher priority), then back to 2, until nothing
//!    improves.
//!
//! Costs must be symmetric (the road graph is undirected); the end may be
//! left open, in which case the tour ends at its last stop.

use super::error::RoutingError;

/// Up to this many candidates the solver enumerates subsets exactly.
pub const EXACT_LIMIT: usize = 12;

const EPS: f64 = 1e-9;

/// A square matrix of travel costs between points `0..n` (metres or
/// seconds), row-major; `f64::INFINITY` marks a pair with no path.
#[derive(Debug, Clone, PartialEq)]
pub struct CostMatrix {
    n: usize,
    costs: Vec<f64>,
}

impl CostMatrix {
    /// A matrix from `n × n` row-major costs, each ≥ 0 or infinite.
    pub fn new(n: usize, costs: Vec<f64>) -> Result<Self, RoutingError> {
        if costs.len() != n * n {
            return Err(RoutingError::invalid(
                "cost matrix",
                format!("{} costs for {n} points", costs.len()),
            ));
        }
        if costs.iter().any(|c| c.is_nan() || *c < 0.0) {
            return Err(RoutingError::invalid("cost matrix", "costs must be ≥ 0"));
        }
        Ok(Self { n, costs })
    }

    /// A matrix with `cost(i, j)` for every pair.
    pub fn from_fn(n: usize, cost: impl Fn(usize, usize) -> f64) -> Self {
        let mut costs = Vec::with_capacity(n * n);
        for i in 0..n {
            for j in 0..n {
                costs.push(cost(i, j));
            }
        }
        Self { n, costs }
    }

    /// The number of points.
    #[must_use]
    pub fn len(&self) -> usize {
        self.n
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The cost from `i` to `j`.
    #[must_use]
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.costs[i * self.n + j]
    }
}

/// The cost of the closed tour visiting `tour` in order and returning to
/// its first point.
#[must_use]
pub fn tour_cost(m: &CostMatrix, tour: &[usize]) -> f64 {
    match tour {
        [] | [_] => 0.0,
        _ => {
            tour.windows(2).map(|w| m.get(w[0], w[1])).sum::<f64>()
                + m.get(tour[tour.len() - 1], tour[0])
        }
    }
}

/// Nearest-neighbour tour from `depot` over all points: always go to the
/// closest unvisited point.
#[must_use]
pub fn nearest_neighbour_tour(m: &CostMatrix, depot: usize) -> Vec<usize> {
    let mut visited = vec![false; m.len()];
    let mut tour = vec![depot];
    visited[depot] = true;
    let mut cur = depot;
    for _ in 1..m.len() {
        let mut best: Option<usize> = None;
        for (j, _) in visited.iter().enumerate().filter(|(_, seen)| !**seen) {
            if best.is_none_or(|b| m.get(cur, j) < m.get(cur, b)) {
                best = Some(j);
            }
        }
        let Some(next) = best else { break };
        visited[next] = true;
        tour.push(next);
        cur = next;
    }
    tour
}

/// The minimum-spanning-tree doubling 2-approximation (the heuristic of
/// pgRouting's former `pgr_TSP`): Prim's tree from `depot`, visited in
/// depth-first preorder with shortcuts.
#[must_use]
pub fn mst_doubling_tour(m: &CostMatrix, depot: usize) -> Vec<usize> {
    let n = m.len();
    let mut in_tree = vec![false; n];
    let mut key = vec![f64::INFINITY; n];
    let mut parent = vec![usize::MAX; n];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    key[depot] = 0.0;
    for _ in 0..n {
        let mut u: Option<usize> = None;
        for v in 0..n {
            if !in_tree[v] && u.is_none_or(|b| key[v] < key[b]) {
                u = Some(v);
            }
        }
        let Some(u) = u else { break };
        in_tree[u] = true;
        if parent[u] != usize::MAX {
            children[parent[u]].push(u);
        }
        for v in 0..n {
            let c = m.get(u, v).min(m.get(v, u));
            if !in_tree[v] && c < key[v] {
                key[v] = c;
                parent[v] = u;
            }
        }
    }
    let mut tour = Vec::with_capacity(n);
    let mut stack = vec![depot];
    while let Some(u) = stack.pop() {
        tour.push(u);
        stack.extend(children[u].iter().rev());
    }
    tour
}

/// A short closed tour from `depot` over all points with the planner's
/// solver (exact up to [`EXACT_LIMIT`] other points, local search above).
/// Costs must be symmetric.
#[must_use]
pub fn best_tour(m: &CostMatrix, depot: usize) -> Vec<usize> {
    let candidates: Vec<usize> = (0..m.len()).filter(|&i| i != depot).collect();
    let service = vec![0.0; m.len()];
    let prize = vec![1.0; m.len()];
    let problem = Orienteering {
        travel: m,
        start: depot,
        end: Some(depot),
        service: &service,
        prize: &prize,
        candidates: &candidates,
        budget: f64::INFINITY,
    };
    let mut tour = vec![depot];
    tour.extend(problem.solve());
    tour
}

/// The same local search without the exact small-instance solver, to
/// measure the heuristic itself.
#[must_use]
pub fn heuristic_tour(m: &CostMatrix, depot: usize) -> Vec<usize> {
    let candidates: Vec<usize> = (0..m.len()).filter(|&i| i != depot).collect();
    let service = vec![0.0; m.len()];
    let prize = vec![1.0; m.len()];
    let problem = Orienteering {
        travel: m,
        start: depot,
        end: Some(depot),
        service: &service,
        prize: &prize,
        candidates: &candidates,
        budget: f64::INFINITY,
    };
    let mut tour = vec![depot];
    tour.extend(problem.local_search());
    tour
}

/// The end of a route: a fixed point, or wherever the last stop is.
const END: usize = usize::MAX;

/// A prize-collecting path from `start` to `end` (or open) through some of
/// `candidates`, all indices into `travel`, `service` and `prize`.
pub(crate) struct Orienteering<'a> {
    pub(crate) travel: &'a CostMatrix,
    pub(crate) start: usize,
    pub(crate) end: Option<usize>,
    pub(crate) service: &'a [f64],
    pub(crate) prize: &'a [f64],
    pub(crate) candidates: &'a [usize],
    pub(crate) budget: f64,
}

impl Orienteering<'_> {
    /// Travel from `a` to `b`, where `b` may be [`END`].
    #[inline]
    fn d(&self, a: usize, b: usize) -> f64 {
        match (a, b) {
            (END, _) | (_, END) => {
                let other = if a == END { b } else { a };
                self.end.map_or(0.0, |e| self.travel.get(other, e))
            }
            _ => self.travel.get(a, b),
        }
    }

    /// Total time of a route: travel plus service at each stop.
    pub(crate) fn route_time(&self, route: &[usize]) -> f64 {
        let mut t = 0.0;
        let mut prev = self.start;
        for &s in route {
            t += self.d(prev, s) + self.service[s];
            prev = s;
        }
        t + self.d(prev, END)
    }

    fn route_prize(&self, route: &[usize]) -> f64 {
        route.iter().map(|&s| self.prize[s]).sum()
    }

    /// The chosen stops in visiting order (exact for few candidates).
    pub(crate) fn solve(&self) -> Vec<usize> {
        if self.candidates.len() <= EXACT_LIMIT {
            self.exact()
        } else {
            self.local_search()
        }
    }

    /// Dynamic programming over subsets: for each subset and last stop the
    /// quickest path from the start; then the feasible subset with the most
    /// prize (ties: less time, then the lower subset mask).
    fn exact(&self) -> Vec<usize> {
        let k = self.candidates.len();
        let c = self.candidates;
        let full = 1usize << k;
        let mut dp = vec![f64::INFINITY; full * k];
        let mut from = vec![usize::MAX; full * k];
        for j in 0..k {
            dp[(1 << j) * k + j] = self.d(self.start, c[j]) + self.service[c[j]];
        }
        for mask in 1..full {
            for j in 0..k {
                let cur = dp[mask * k + j];
                if mask & (1 << j) == 0 || !cur.is_finite() || cur > self.budget + EPS {
                    continue;
                }
                for l in 0..k {
                    if mask & (1 << l) != 0 {
                        continue;
                    }
                    let next = mask | (1 << l);
                    let t = cur + self.d(c[j], c[l]) + self.service[c[l]];
                    if t < dp[next * k + l] {
                        dp[next * k + l] = t;
                        from[next * k + l] = j;
                    }
                }
            }
        }
        let mut best: (f64, f64, usize, usize) = (0.0, self.d(self.start, END), 0, usize::MAX);
        for mask in 1..full {
            let prize: f64 = (0..k)
                .filter(|j| mask & (1 << j) != 0)
                .map(|j| self.prize[c[j]])
                .sum();
            for j in 0..k {
                let t = dp[mask * k + j] + self.d(c[j], END);
                if !t.is_finite() || t > self.budget + EPS {
                    continue;
                }
                let better =
                    prize > best.0 + EPS || ((prize - best.0).abs() <= EPS && t < best.1 - EPS);
                if better {
                    best = (prize, t, mask, j);
                }
            }
        }
        let (_, _, mut mask, mut j) = best;
        let mut route = Vec::new();
        while j != usize::MAX {
            route.push(c[j]);
            let prev = from[mask * k + j];
            mask &= !(1 << j);
            j = prev;
        }
        route.reverse();
        route
    }

    /// The extra time of inserting `u` between `a` and `b`.
    #[inline]
    fn insertion(&self, a: usize, u: usize, b: usize) -> f64 {
        self.d(a, u) + self.service[u] + self.d(u, b) - self.d(a, b)
    }

    /// The cheapest place for `u`: (extra time, index to insert at).
    fn best_insertion(&self, route: &[usize], u: usize) -> (f64, usize) {
        let mut best = (f64::INFINITY, 0);
        let mut prev = self.start;
        for i in 0..=route.len() {
            let next = route.get(i).copied().unwrap_or(END);
            let extra = self.insertion(prev, u, next);
            if extra < best.0 {
                best = (extra, i);
            }
            prev = next;
        }
        best
    }

    pub(crate) fn local_search(&self) -> Vec<usize> {
        let mut route = Vec::new();
        let reachable: Vec<usize> = self
            .candidates
            .iter()
            .copied()
            .filter(|&u| self.d(self.start, u).is_finite() && self.d(u, END).is_finite())
            .collect();
        let mut routed = vec![false; self.travel.len()];
        self.greedy_insert(&mut route, &reachable, &mut routed);
        // Every round either shortens the route or raises its prize, so it
        // ends; the cap only guards against float noise.
        for _ in 0..1000 {
            self.improve_order(&mut route);
            let before = (self.route_prize(&route), self.route_time(&route));
            self.greedy_insert(&mut route, &reachable, &mut routed);
            self.swap(&mut route, &reachable, &mut routed);
            let after = (self.route_prize(&route), self.route_time(&route));
            if after.0 <= before.0 + EPS && after.1 >= before.1 - EPS {
                break;
            }
        }
        self.improve_order(&mut route);
        route
    }

    /// Greedy insertion by priority per extra second, with each stop's
    /// cheapest position cached and refreshed only where the route changed.
    fn greedy_insert(&self, route: &mut Vec<usize>, pool: &[usize], routed: &mut [bool]) {
        let mut time = self.route_time(route);
        // (extra, previous stop, next stop) of each candidate's best slot.
        let mut cache: Vec<(f64, usize, usize)> = pool
            .iter()
            .map(|&u| {
                let (extra, i) = self.best_insertion(route, u);
                let prev = if i == 0 { self.start } else { route[i - 1] };
                (extra, prev, route.get(i).copied().unwrap_or(END))
            })
            .collect();
        loop {
            let mut pick: Option<(f64, usize)> = None;
            for (k, &u) in pool.iter().enumerate() {
                if routed[u] {
                    continue;
                }
                let extra = cache[k].0;
                if time + extra > self.budget + EPS {
                    continue;
                }
                let ratio = self.prize[u] / extra.max(EPS);
                if pick.is_none_or(|(r, _)| ratio > r) {
                    pick = Some((ratio, k));
                }
            }
            let Some((_, k)) = pick else { break };
            let u = pool[k];
            let (extra, prev, next) = cache[k];
            let at = if prev == self.start {
                0
            } else {
                route
                    .iter()
                    .position(|&stop| stop == prev)
                    .map_or(0, |i| i + 1)
            };
            route.insert(at, u);
            routed[u] = true;
            time += extra;
            for (k2, &v) in pool.iter().enumerate() {
                if routed[v] {
                    continue;
                }
                let (_, slot_prev, slot_next) = cache[k2];
                if (slot_prev, slot_next) == (prev, next) {
                    let (extra, at) = self.best_insertion(route, v);
                    let before = if at == 0 { self.start } else { route[at - 1] };
                    cache[k2] = (extra, before, route.get(at).copied().unwrap_or(END));
                } else {
                    let e1 = self.insertion(prev, v, u);
                    if e1 < cache[k2].0 {
                        cache[k2] = (e1, prev, u);
                    }
                    let e2 = self.insertion(u, v, next);
                    if e2 < cache[k2].0 {
                        cache[k2] = (e2, u, next);
                    }
                }
            }
        }
    }

    /// 2-opt and Or-opt until neither shortens the route.
    fn improve_order(&self, route: &mut Vec<usize>) {
        for _ in 0..10_000 {
            let a = self.two_opt(route);
            let b = self.or_opt(route);
            if !a && !b {
                break;
            }
        }
    }

    #[expect(
        clippy::many_single_char_names,
        reason = "the textbook names of a 2-opt exchange"
    )]
    fn two_opt(&self, route: &mut [usize]) -> bool {
        let n = route.len();
        let mut improved = false;
        let at = |r: &[usize], i: usize| {
            if i == 0 {
                self.start
            } else if i > n {
                END
            } else {
                r[i - 1]
            }
        };
        // Positions 1..=n in [start, route..., END].
        for i in 1..n {
            for j in (i + 1)..=n {
                let (a, b, c, d) = (
                    at(route, i - 1),
                    at(route, i),
                    at(route, j),
                    at(route, j + 1),
                );
                let delta = self.d(a, c) + self.d(b, d) - self.d(a, b) - self.d(c, d);
                if delta < -EPS {
                    route[i - 1..j].reverse();
                    improved = true;
                }
            }
        }
        improved
    }

    fn or_opt(&self, route: &mut Vec<usize>) -> bool {
        let mut improved = false;
        for len in 1..=3usize {
            let mut i = 0;
            while i + len <= route.len() {
                if self.move_run(route, i, len) {
                    improved = true;
                } else {
                    i += 1;
                }
            }
        }
        improved
    }

    /// Tries to move `route[i..i + len]` elsewhere (either way round);
    /// applies the best improving move.
    fn move_run(&self, route: &mut Vec<usize>, i: usize, len: usize) -> bool {
        let n = route.len();
        let before = if i == 0 { self.start } else { route[i - 1] };
        let after = route.get(i + len).copied().unwrap_or(END);
        let (first, last) = (route[i], route[i + len - 1]);
        let removed = self.d(before, after) - self.d(before, first) - self.d(last, after);
        let mut best: Option<(f64, usize, bool)> = None;
        // Insert between rest[j - 1] and rest[j] of the route without the run.
        let rest_at = |j: usize| -> usize {
            if j == 0 {
                self.start
            } else {
                let k = j - 1;
                let idx = if k < i { k } else { k + len };
                route.get(idx).copied().unwrap_or(END)
            }
        };
        for j in 1..=(n - len + 1) {
            let (a, b) = (rest_at(j - 1), rest_at(j));
            if j == i {
                continue; // the place it came from
            }
            let base = self.d(a, b);
            let fwd = removed + self.d(a, first) + self.d(last, b) - base;
            let rev = removed + self.d(a, last) + self.d(first, b) - base;
            for (delta, reversed) in [(fwd, false), (rev, true)] {
                if delta < -EPS && best.is_none_or(|(d, _, _)| delta < d) {
                    best = Some((delta, j, reversed));
                }
            }
        }
        let Some((_, j, reversed)) = best else {
            return false;
        };
        let mut run: Vec<usize> = route.drain(i..i + len).collect();
        if reversed {
            run.reverse();
        }
        let at = j - 1;
        route.splice(at..at, run);
        true
    }

    /// Swap moves: for each left-out stop, by priority, drop the routed stop
    /// of lower priority whose removal lets it fit best. Returns whether the
    /// route changed.
    fn swap(&self, route: &mut Vec<usize>, pool: &[usize], routed: &mut [bool]) -> bool {
        let mut out: Vec<usize> = pool.iter().copied().filter(|&u| !routed[u]).collect();
        out.sort_by(|&a, &b| self.prize[b].total_cmp(&self.prize[a]).then(a.cmp(&b)));
        let mut changed = false;
        for u in out {
            let time = self.route_time(route);
            let mut best: Option<(f64, f64, usize, usize)> = None;
            for r in 0..route.len() {
                let v = route[r];
                let gain = self.prize[u] - self.prize[v];
                if gain <= EPS {
                    continue;
                }
                let prev = if r == 0 { self.start } else { route[r - 1] };
                let next = route.get(r + 1).copied().unwrap_or(END);
                let saved = self.insertion(prev, v, next);
                let mut without = route.clone();
                without.remove(r);
                let (extra, at) = self.best_insertion(&without, u);
                let t = time - saved + extra;
                if t <= self.budget + EPS
                    && best.is_none_or(|(g, bt, _, _)| {
                        gain > g + EPS || ((gain - g).abs() <= EPS && t < bt)
                    })
                {
                    best = Some((gain, t, r, at));
                }
            }
            if let Some((_, _, r, at)) = best {
                let v = route.remove(r);
                routed[v] = false;
                route.insert(at, u);
                routed[u] = true;
                changed = true;
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(points: &[(f64, f64)]) -> CostMatrix {
        CostMatrix::from_fn(points.len(), |i, j| {
            (points[i].0 - points[j].0).hypot(points[i].1 - points[j].1)
        })
    }

    #[test]
    fn baselines_visit_every_point_once() {
        let pts: Vec<(f64, f64)> = (0..30)
            .map(|i| (f64::from(i * 7 % 11), f64::from(i * 5 % 13)))
            .collect();
        let m = grid(&pts);
        for tour in [
            nearest_neighbour_tour(&m, 0),
            mst_doubling_tour(&m, 0),
            best_tour(&m, 0),
        ] {
            let mut sorted = tour.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..30).collect::<Vec<_>>());
            assert_eq!(tour[0], 0);
        }
        assert!(
            tour_cost(&m, &best_tour(&m, 0))
                <= tour_cost(&m, &nearest_neighbour_tour(&m, 0)) + 1e-9
        );
    }

    #[test]
    fn exact_picks_the_most_prize_that_fits() {
        // Start at 0 on a line; stops at 1, 2, 10 with prizes 1, 1, 5.
        let pts = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (10.0, 0.0)];
        let m = grid(&pts);
        let prize = [0.0, 1.0, 1.0, 5.0];
        let service = [0.0; 4];
        let p = Orienteering {
            travel: &m,
            start: 0,
            end: Some(0),
            service: &service,
            prize: &prize,
            candidates: &[1, 2, 3],
            budget: 20.0,
        };
        let route = p.solve();
        assert!((p.route_prize(&route) - 7.0).abs() < 1e-12);
        let tight = Orienteering { budget: 19.0, ..p };
        for mut route in [tight.solve(), tight.local_search()] {
            route.sort_unstable();
            assert_eq!(route, vec![1, 2]);
        }
    }
}
