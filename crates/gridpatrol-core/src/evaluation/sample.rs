//! The on-site evaluation's draw of projects (现场抽取项目): stratified by
//! funding and category, proportional with at least one work from every
//! stratum the size allows, and reproducible: the same candidates, size
//! and seed give the same draw on any machine (a fixed `SplitMix64`
//! generator, not a library's whose stream may change between versions).

use serde::{Deserialize, Serialize};

use crate::domain::{Category, Funding};

/// A work that may be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    pub project_id: i64,
    pub funding: Funding,
    pub category: Category,
}

/// One stratum: its population and how many were drawn from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stratum {
    pub funding: Funding,
    pub category: Category,
    pub population: usize,
    pub drawn: usize,
}

/// A recorded draw: enough to redraw it and check it is the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Draw {
    /// The seed (below 2^53, so a browser reads it exactly).
    pub seed: u64,
    pub size: usize,
    /// Every candidate, as drawn from.
    pub candidates: Vec<Candidate>,
    pub strata: Vec<Stratum>,
    /// The drawn works, by stratum then draw order.
    pub picks: Vec<Candidate>,
}

/// The largest seed kept (2^53 − 1).
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// `SplitMix64` (Steele, Lea, Flood 2014): small, fast, and its stream is
/// fixed by its definition.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by rejection so no value is favoured.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let v = self.next();
            if v < zone {
                return v % n;
            }
        }
    }
}

/// How many to draw from each stratum: one from each while the size
/// allows, the rest in proportion to what is left (largest remainders,
/// ties to the earlier stratum).
fn allocate(pops: &[usize], size: usize) -> Vec<usize> {
    let total: usize = pops.iter().sum();
    if size >= total {
        return pops.to_vec();
    }
    let mut out = vec![0; pops.len()];
    let mut left = size;
    let mut order: Vec<usize> = (0..pops.len()).collect();
    order.sort_by(|a, b| pops[*b].cmp(&pops[*a]).then(a.cmp(b)));
    for &i in &order {
        if left == 0 {
            break;
        }
        if pops[i] > 0 {
            out[i] = 1;
            left -= 1;
        }
    }
    let rest: Vec<usize> = pops.iter().zip(&out).map(|(p, o)| p - o).collect();
    let rest_total: usize = rest.iter().sum();
    if left == 0 || rest_total == 0 {
        return out;
    }
    let mut given = 0;
    let mut fractions = Vec::with_capacity(pops.len());
    for (i, r) in rest.iter().enumerate() {
        let exact = left * r;
        out[i] += exact / rest_total;
        given += exact / rest_total;
        fractions.push((exact % rest_total, i));
    }
    fractions.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in fractions.into_iter().take(left - given) {
        out[i] += 1;
    }
    out
}

/// Draws `size` works from the candidates with `seed`.
#[must_use]
pub fn draw(candidates: &[Candidate], size: usize, seed: u64) -> Draw {
    let mut sorted = candidates.to_vec();
    sorted.sort_by_key(|c| (c.funding, c.category, c.project_id));
    sorted.dedup_by_key(|c| c.project_id);
    let mut strata: Vec<(Funding, Category, Vec<Candidate>)> = Vec::new();
    for c in &sorted {
        match strata.last_mut() {
            Some((f, k, v)) if *f == c.funding && *k == c.category => v.push(*c),
            _ => strata.push((c.funding, c.category, vec![*c])),
        }
    }
    let pops: Vec<usize> = strata.iter().map(|s| s.2.len()).collect();
    let counts = allocate(&pops, size);
    let mut rng = SplitMix64(seed);
    let mut picks = Vec::with_capacity(size);
    let mut out = Vec::with_capacity(strata.len());
    for ((funding, category, mut members), n) in strata.into_iter().zip(counts) {
        // a partial Fisher–Yates shuffle: the first n are the draw
        for i in 0..n {
            let j = i + usize::try_from(rng.below((members.len() - i) as u64)).unwrap_or(0);
            members.swap(i, j);
        }
        picks.extend_from_slice(&members[..n]);
        out.push(Stratum {
            funding,
            category,
            population: members.len(),
            drawn: n,
        });
    }
    Draw {
        seed,
        size,
        candidates: sorted,
        strata: out,
        picks,
    }
}

impl Draw {
    /// Whether drawing again from the recorded candidates, size and seed
    /// gives this draw.
    #[must_use]
    pub fn redraws(&self) -> bool {
        draw(&self.candidates, self.size, self.seed) == *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates() -> Vec<Candidate> {
        let mut out = Vec::new();
        let mut id = 1;
        for (funding, category, n) in [
            (Funding::Government, Category::Municipal, 10),
            (Funding::Government, Category::Repair, 5),
            (Funding::Collective, Category::Repair, 3),
            (Funding::Social, Category::FitOut, 30),
            (Funding::Social, Category::Alteration, 2),
        ] {
            for _ in 0..n {
                out.push(Candidate {
                    project_id: id,
                    funding,
                    category,
                });
                id += 1;
            }
        }
        out
    }

    #[test]
    fn the_same_seed_draws_the_same_works_and_another_seed_others() {
        let c = candidates();
        let a = draw(&c, 10, 20_260_701);
        let mut shuffled = c.clone();
        shuffled.reverse();
        let b = draw(&shuffled, 10, 20_260_701);
        assert_eq!(a, b, "the candidates' order does not matter");
        assert!(a.redraws());
        let other = draw(&c, 10, 7);
        assert_ne!(a.picks, other.picks);
        let mut tampered = a.clone();
        tampered.picks[0] = c
            .iter()
            .find(|x| !a.picks.contains(x))
            .copied()
            .expect("one left");
        assert!(!tampered.redraws());
    }

    #[test]
    fn every_stratum_is_drawn_from_and_the_rest_in_proportion() {
        let c = candidates();
        let d = draw(&c, 10, 1);
        assert_eq!(d.picks.len(), 10);
        assert_eq!(d.strata.len(), 5);
        assert!(
            d.strata
                .iter()
                .all(|s| s.drawn >= 1 && s.drawn <= s.population)
        );
        // 5 left after one each, shared in proportion to the 4, 9, 2, 1, 29
        // left: the social fit-outs take 3 (3.2), municipal 1 (1.0), and
        // the largest remainder (government repairs, 0.44) the last
        let fit = d
            .strata
            .iter()
            .find(|s| s.category == Category::FitOut)
            .expect("fit-out");
        assert_eq!(fit.drawn, 4);
        for p in &d.picks {
            let s = d
                .strata
                .iter()
                .find(|s| s.funding == p.funding && s.category == p.category);
            assert!(s.is_some());
        }
        let mut ids: Vec<i64> = d.picks.iter().map(|p| p.project_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 10, "no work twice");
        // more than there are: all; fewer than strata: the largest first
        assert_eq!(draw(&c, 100, 1).picks.len(), c.len());
        let small = draw(&c, 2, 1);
        let drawn: Vec<Category> = small
            .strata
            .iter()
            .filter(|s| s.drawn > 0)
            .map(|s| s.category)
            .collect();
        assert_eq!(drawn, vec![Category::Municipal, Category::FitOut]);
    }

    #[test]
    fn the_generator_is_uniform_enough() {
        let mut rng = SplitMix64(42);
        let mut counts = [0usize; 6];
        for _ in 0..60_000 {
            counts[usize::try_from(rng.below(6)).expect("small")] += 1;
        }
        assert!(
            counts.iter().all(|c| (9_000..11_000).contains(c)),
            "{counts:?}"
        );
    }
}
