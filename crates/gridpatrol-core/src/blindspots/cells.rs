//! Blind cells: how risky a cell is that was not patrolled in a window or
//! is overdue, and why, in words a supervisor reads.
//!
//! The risk adds up:
//!
//! - never patrolled: 2; overdue: how late, in patrol intervals, at most 3;
//! - 2 per active work inside (not completed), 2 more per work with hot
//!   work or insulation materials, 1 more per work discovered and not filed;
//! - 2 within about 100 m (the k = 1 ring) of a crowded venue;
//! - 1.5 inside a commercial district.
//!
//! It is rounded to hundredths.

use std::collections::HashMap;

use geo::{Centroid, Contains, Point};
use h3o::{CellIndex, LatLng, Resolution};

use super::Reason;
use crate::domain::{District, Project, ProjectStatus, Stored, Venue};

const DAY_MS: i64 = 86_400_000;

/// The context that makes a blind cell risky: works, crowded venues and
/// commercial districts, indexed by cell.
#[derive(Debug, Clone, Default)]
pub struct RiskContext {
    /// cell → active works inside (not completed): (hot work or
    /// insulation, discovered and not filed)
    projects: HashMap<CellIndex, Vec<(bool, bool)>>,
    /// cells within about 100 m (the k=1 ring at res 10) of a crowded venue → venue names
    venues: HashMap<CellIndex, Vec<String>>,
    districts: Vec<(String, geo::MultiPolygon<f64>)>,
}

/// A cell's patrol state, as a blind cell is judged by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatrolState {
    pub cell: CellIndex,
    /// The last time the cell was seen, ms since the epoch.
    pub last_patrolled_ms: Option<i64>,
    pub overdue: bool,
    pub interval_days: u32,
}

/// Why a blind cell matters.
#[derive(Debug, Clone, PartialEq)]
pub struct CellRisk {
    pub risk: f64,
    /// Active works inside.
    pub projects: usize,
    /// Crowded venues within about 100 m.
    pub venues_near: usize,
    /// The commercial district the cell's centre lies in.
    pub in_commercial_district: Option<String>,
    pub reasons: Vec<Reason>,
}

impl RiskContext {
    /// Indexes works, venues and commercial districts at resolution `res`
    /// (the cells' resolution).
    #[must_use]
    pub fn new(
        res: Resolution,
        projects: &[Stored<Project>],
        venues: &[Stored<Venue>],
        districts: &[Stored<District>],
    ) -> Self {
        let point_cell = |g: &geo::Geometry<f64>| {
            let c = g.centroid()?;
            LatLng::new(c.y(), c.x()).ok().map(|ll| ll.to_cell(res))
        };
        let mut by_cell: HashMap<CellIndex, Vec<(bool, bool)>> = HashMap::new();
        for p in projects
            .iter()
            .filter(|p| p.value.status != ProjectStatus::Completed)
        {
            if let Some(c) = point_cell(&p.value.geometry) {
                by_cell.entry(c).or_default().push((
                    p.value.hot_work || p.value.insulation,
                    p.value.status == ProjectStatus::Discovered,
                ));
            }
        }
        let mut near: HashMap<CellIndex, Vec<String>> = HashMap::new();
        for v in venues {
            if let Some(c) = point_cell(&v.value.geometry) {
                for n in c.grid_disk::<Vec<_>>(1) {
                    near.entry(n).or_default().push(v.value.name.clone());
                }
            }
        }
        Self {
            projects: by_cell,
            venues: near,
            districts: districts
                .iter()
                .map(|d| (d.value.name.clone(), d.value.geometry.clone()))
                .collect(),
        }
    }

    /// The risk of a blind cell at `to_ms` (the end of the window), with
    /// its reasons (see the module documentation).
    #[must_use]
    pub fn score(&self, s: &PatrolState, to_ms: i64) -> CellRisk {
        let mut reasons = Vec::new();
        let mut risk = 0.0;
        match s.last_patrolled_ms {
            None => {
                reasons.push(Reason::new(
                    "never_patrolled",
                    "never patrolled".to_owned(),
                    "从未巡查".to_owned(),
                ));
                risk += 2.0;
            }
            Some(l) if s.overdue => {
                let days = (to_ms - l) / DAY_MS;
                #[expect(clippy::cast_precision_loss, reason = "day counts are small")]
                let measured = days as f64;
                reasons.push(
                    Reason::new(
                        "overdue",
                        format!(
                            "last patrolled {days} days ago, interval {} days",
                            s.interval_days
                        ),
                        format!("{days} 天前最后巡查，巡查周期 {} 天", s.interval_days),
                    )
                    .measured(measured, f64::from(s.interval_days)),
                );
                let late = measured / f64::from(s.interval_days.max(1));
                risk += late.min(3.0);
            }
            Some(_) => reasons.push(Reason::new(
                "not_in_window",
                "not patrolled in the window".to_owned(),
                "统计期内未巡查".to_owned(),
            )),
        }
        let works = self.projects.get(&s.cell).map_or(&[][..], Vec::as_slice);
        if !works.is_empty() {
            reasons.push(Reason::new(
                "active_works",
                format!("{} active works inside", works.len()),
                format!("单元格内有 {} 个在管工程", works.len()),
            ));
            #[expect(clippy::cast_precision_loss, reason = "small counts")]
            let n = works.len() as f64;
            risk += 2.0 * n;
        }
        let fire = works.iter().filter(|(f, _)| *f).count();
        if fire > 0 {
            reasons.push(Reason::new(
                "fire_risk_works",
                format!("{fire} with hot work or insulation"),
                format!("其中 {fire} 个有动火作业或保温材料"),
            ));
            #[expect(clippy::cast_precision_loss, reason = "small counts")]
            let n = fire as f64;
            risk += 2.0 * n;
        }
        let unfiled = works.iter().filter(|(_, u)| *u).count();
        if unfiled > 0 {
            reasons.push(Reason::new(
                "unfiled_works",
                format!("{unfiled} discovered but not filed"),
                format!("{unfiled} 个巡查发现未备案"),
            ));
            #[expect(clippy::cast_precision_loss, reason = "small counts")]
            let n = unfiled as f64;
            risk += n;
        }
        let venues = self.venues.get(&s.cell).map_or(&[][..], Vec::as_slice);
        if !venues.is_empty() {
            reasons.push(Reason::new(
                "near_venue",
                format!("near crowded venue {}", venues[0]),
                format!("临近人员密集场所{}", venues[0]),
            ));
            risk += 2.0;
        }
        let centre = LatLng::from(s.cell);
        let p = Point::new(centre.lng(), centre.lat());
        let district = self
            .districts
            .iter()
            .find(|(_, g)| g.contains(&p))
            .map(|(n, _)| n.clone());
        if let Some(d) = &district {
            reasons.push(Reason::new(
                "in_district",
                format!("in commercial district {d}"),
                format!("位于{d}商圈内"),
            ));
            risk += 1.5;
        }
        CellRisk {
            risk: (risk * 100.0_f64).round() / 100.0,
            projects: works.len(),
            venues_near: venues.len(),
            in_commercial_district: district,
            reasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell() -> CellIndex {
        LatLng::new(31.03, 121.23)
            .expect("valid")
            .to_cell(Resolution::Ten)
    }

    #[test]
    fn a_never_patrolled_empty_cell_scores_two() {
        let r = RiskContext::default().score(
            &PatrolState {
                cell: cell(),
                last_patrolled_ms: None,
                overdue: true,
                interval_days: 7,
            },
            0,
        );
        assert!((r.risk - 2.0).abs() < f64::EPSILON);
        let codes: Vec<&str> = r.reasons.iter().map(|x| x.code).collect();
        assert_eq!(codes, ["never_patrolled"]);
        assert_eq!(r.reasons[0].text, "never patrolled");
        assert_eq!(r.reasons[0].text_zh, "从未巡查");
    }

    #[test]
    fn lateness_counts_in_intervals_up_to_three() {
        let score = |days: i64| {
            RiskContext::default()
                .score(
                    &PatrolState {
                        cell: cell(),
                        last_patrolled_ms: Some(0),
                        overdue: true,
                        interval_days: 7,
                    },
                    days * DAY_MS,
                )
                .risk
        };
        assert!((score(14) - 2.0).abs() < f64::EPSILON);
        assert!((score(10) - 1.43).abs() < f64::EPSILON);
        assert!((score(70) - 3.0).abs() < f64::EPSILON);
    }
}
