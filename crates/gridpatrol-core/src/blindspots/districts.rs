//! Commercial districts (商圈) whose works are not brought under management
//! (未纳管). Shop fit-outs start there every week, mostly socially funded,
//! so a district where no social work was filed, where works found on patrol
//! stay unfiled, or whose cells patrols do not reach is flagged, each time
//! with the reason in words and the threshold it broke. A district is
//! unmanaged by the state of its works and patrols: lacking a one-stop
//! registration plan (一揽子纳管计划) flags it only on request
//! (`require_one_stop_plan`); the plan is a practice the evaluation scores
//! under 管理创新.

use chrono::{DateTime, Utc};
use geo::{BoundingRect, Centroid, Contains, Intersects};
use serde::Serialize;

use super::{Coverage, CoverageSummary, Dataset, Reason, Window, pct};
use crate::domain::{Funding, Invalid, ProjectStatus};

/// The thresholds of the flags; every one is a request parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// Flag when fewer socially funded works were filed in the window.
    pub min_social_filed: u32,
    /// Flag when more works found on patrol are still unfiled.
    pub max_unfiled: u32,
    /// Flag when a smaller share of the district's cells was patrolled.
    pub min_coverage: f64,
    /// Flag when the last patrol is older than this many days.
    pub max_days_since_patrol: u32,
    /// Also flag districts without a one-stop registration plan (off by
    /// default: a plan is a praised practice, not a condition of management).
    pub require_one_stop_plan: bool,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            min_social_filed: 1,
            max_unfiled: 0,
            min_coverage: 0.6,
            max_days_since_patrol: 7,
            require_one_stop_plan: false,
        }
    }
}

impl Thresholds {
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(0.0..=1.0).contains(&self.min_coverage) {
            return Err(Invalid::new("min_coverage", "must be a share from 0 to 1"));
        }
        if self.max_days_since_patrol > 365 {
            return Err(Invalid::new("max_days_since_patrol", "must be at most 365"));
        }
        Ok(())
    }
}

/// Works by funding source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ByFunding {
    pub government: usize,
    pub collective: usize,
    pub social: usize,
}

impl ByFunding {
    pub fn add(&mut self, f: Funding) {
        match f {
            Funding::Government => self.government += 1,
            Funding::Collective => self.collective += 1,
            Funding::Social => self.social += 1,
        }
    }

    #[must_use]
    pub fn total(&self) -> usize {
        self.government + self.collective + self.social
    }
}

/// One commercial district and how its works are managed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DistrictRow {
    pub district_id: i64,
    pub code: String,
    pub name: String,
    /// The town holding the district's centre.
    pub town: Option<String>,
    /// The centre `[lon, lat]`, for the map.
    pub center: Option<[f64; 2]>,
    pub one_stop_plan: bool,
    /// Works inside the district, whatever their status.
    pub works: usize,
    /// Works filed (started) in the window, by funding source.
    pub filed_in_window: ByFunding,
    /// Works found on patrol and never filed.
    pub discovered_unfiled: usize,
    pub unfiled_project_ids: Vec<i64>,
    /// The district's H3 cells (resolution 10).
    pub cells: usize,
    pub patrolled_cells: Option<usize>,
    /// The share of its cells patrolled in the window; `null` when no
    /// coverage is at hand.
    pub patrol_coverage: Option<f64>,
    pub overdue_cells: Option<usize>,
    pub last_patrolled: Option<DateTime<Utc>>,
    pub days_since_last_patrol: Option<i64>,
    pub flagged: bool,
    pub reasons: Vec<Reason>,
}

/// The reasons a district is flagged, each against its threshold.
fn reasons(
    filed: &ByFunding,
    unfiled: usize,
    summary: Option<CoverageSummary>,
    days_since: Option<i64>,
    one_stop_plan: bool,
    window_days: f64,
    t: &Thresholds,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    #[expect(clippy::cast_precision_loss, reason = "counts are small")]
    if (filed.social as u64) < u64::from(t.min_social_filed) {
        reasons.push(
            if filed.social == 0 {
                Reason::new(
                    "no_social_filing",
                    format!("no socially funded work filed in {window_days} days"),
                    format!("近 {window_days} 天无社会投资工程开工备案"),
                )
            } else {
                Reason::new(
                    "few_social_filings",
                    format!(
                        "{} socially funded works filed in {window_days} days < {}",
                        filed.social, t.min_social_filed
                    ),
                    format!(
                        "近 {window_days} 天社会投资工程开工备案 {} 项，少于 {} 项",
                        filed.social, t.min_social_filed
                    ),
                )
            }
            .measured(filed.social as f64, f64::from(t.min_social_filed)),
        );
    }
    #[expect(clippy::cast_precision_loss, reason = "counts are small")]
    if unfiled as u64 > u64::from(t.max_unfiled) {
        reasons.push(
            Reason::new(
                "discovered_unfiled",
                format!(
                    "{} works discovered on patrol but not filed (more than {})",
                    unfiled, t.max_unfiled
                ),
                format!(
                    "巡查发现 {} 项工程未备案（超过 {} 项）",
                    unfiled, t.max_unfiled
                ),
            )
            .measured(unfiled as f64, f64::from(t.max_unfiled)),
        );
    }
    if let Some(s) = summary {
        if s.ratio < t.min_coverage {
            reasons.push(
                Reason::new(
                    "low_patrol_coverage",
                    format!(
                        "patrol coverage {} < {} ({} of {} cells patrolled)",
                        pct(s.ratio),
                        pct(t.min_coverage),
                        s.patrolled_cells,
                        s.cells
                    ),
                    format!(
                        "巡查覆盖率 {} < {}（{} 个单元中巡查 {} 个）",
                        pct(s.ratio),
                        pct(t.min_coverage),
                        s.cells,
                        s.patrolled_cells
                    ),
                )
                .measured(s.ratio, t.min_coverage),
            );
        }
        match days_since {
            None => reasons.push(Reason::new(
                "not_patrolled",
                format!("not patrolled in {window_days} days"),
                format!("近 {window_days} 天未巡查"),
            )),
            Some(days) if days > i64::from(t.max_days_since_patrol) => {
                #[expect(clippy::cast_precision_loss, reason = "days are small")]
                reasons.push(
                    Reason::new(
                        "stale_patrol",
                        format!(
                            "last patrol {days} days ago > {} days",
                            t.max_days_since_patrol
                        ),
                        format!("距上次巡查 {days} 天，超过 {} 天", t.max_days_since_patrol),
                    )
                    .measured(days as f64, f64::from(t.max_days_since_patrol)),
                );
            }
            Some(_) => {}
        }
    }
    if t.require_one_stop_plan && !one_stop_plan {
        reasons.push(Reason::new(
            "no_one_stop_plan",
            "no one-stop registration plan (一揽子纳管)".to_owned(),
            "未制定一揽子纳管计划".to_owned(),
        ));
    }
    reasons
}

/// Every commercial district with its measures and flags, by name.
#[must_use]
pub fn analyse(
    data: &Dataset,
    coverage: &Coverage,
    window: &Window,
    t: &Thresholds,
) -> Vec<DistrictRow> {
    let cells = data.district_cells();
    let window_days = window.days().round();
    let mut rows = Vec::with_capacity(data.districts.len());
    for d in &data.districts {
        let area = &d.value.geometry;
        let Some(bbox) = area.bounding_rect() else {
            continue;
        };
        let centre = area.centroid();
        let town = centre.and_then(|c| {
            data.towns
                .iter()
                .find(|t| t.value.geometry.contains(&c))
                .map(|t| t.value.code.clone())
        });
        let mut works = 0;
        let mut filed = ByFunding::default();
        let mut unfiled = Vec::new();
        for p in &data.projects {
            let g = &p.value.geometry;
            if !(bbox.intersects(g) && area.intersects(g)) {
                continue;
            }
            works += 1;
            if p.value.status == ProjectStatus::Discovered {
                unfiled.push(p.id);
            } else if p.value.started_on.is_some_and(|s| window.contains_day(s)) {
                filed.add(p.value.funding);
            }
        }
        let my_cells = cells.get(&d.id).map_or(&[][..], Vec::as_slice);
        let summary = coverage.summarize(my_cells);
        let days_since = summary
            .and_then(|s| s.last_patrolled)
            .map(|l| (window.to() - l).num_days());

        let reasons = reasons(
            &filed,
            unfiled.len(),
            summary,
            days_since,
            d.value.one_stop_plan,
            window_days,
            t,
        );
        rows.push(DistrictRow {
            district_id: d.id,
            code: d.value.code.clone(),
            name: d.value.name.clone(),
            town,
            center: centre.map(|c| [c.x(), c.y()]),
            one_stop_plan: d.value.one_stop_plan,
            works,
            filed_in_window: filed,
            discovered_unfiled: unfiled.len(),
            unfiled_project_ids: unfiled,
            cells: my_cells.len(),
            patrolled_cells: summary.map(|s| s.patrolled_cells),
            patrol_coverage: summary.map(|s| s.ratio),
            overdue_cells: summary.map(|s| s.overdue_cells),
            last_patrolled: summary.and_then(|s| s.last_patrolled),
            days_since_last_patrol: days_since,
            flagged: !reasons.is_empty(),
            reasons,
        });
    }
    rows.sort_by(|a, b| (!a.flagged, &a.name).cmp(&(!b.flagged, &b.name)));
    rows
}
