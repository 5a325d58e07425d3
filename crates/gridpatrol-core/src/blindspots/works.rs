//! Works outside management (脱管工程), one kind of gap per reason: above
//! the 小微工程 limit (to be handed over), outside every grid (no manager
//! responsible), found on patrol but never filed, filed but not inspected,
//! hazards past their deadline, finished without a completion filing, hot
//! work in or near a crowded venue without a valid permit, insulation
//! without a filing, and works under way without a policy covering their
//! period. An above-limit work that was handed over (移送) is no longer
//! outside management, and a work marked outside the 小微工程 scope is not
//! counted at all; both go by the work's case file.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use h3o::{CellIndex, Resolution};
use serde::Serialize;

use super::near_venues::{DEFAULT_DISTANCE_M, Site, pairs};
use super::{Dataset, Reason, Window, site_cell, site_point};
use crate::casefile::CaseFile;
use crate::domain::{
    Category, FIT_OUT_AREA_LIMIT_M2, Funding, INVESTMENT_LIMIT_CNY, Invalid, Project,
    ProjectStatus, vocabulary,
};
use crate::inspection::Hazard;

vocabulary! {
    /// A way in which a work escapes management.
    WorkGap, "kind" {
        AboveLimit = "above_limit" ["超限额工程", "应报建未报建"],
        OutsideGrid = "outside_grid" ["网格外工程"],
        Unfiled = "unfiled" ["巡查发现未备案", "未备案"],
        Uninspected = "uninspected" ["备案后未检查", "未检查"],
        OverdueHazard = "overdue_hazard" ["隐患逾期未整改"],
        NoCompletionFiling = "no_completion_filing" ["完工未竣工备案"],
        HotWorkUnpermitted = "hot_work_unpermitted" ["人员密集场所动火未审批"],
        InsulationUnfiled = "insulation_unfiled" ["保温材料未备案"],
        Uninsured = "uninsured" ["未投保安全生产责任保险"],
    }
}

/// The thresholds of the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// A filed work must be inspected within this many days.
    pub inspection_days: u32,
    /// A work still in progress after this many days is taken as finished
    /// without its completion filing (小微工程 take weeks, not half a year).
    pub max_in_progress_days: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            inspection_days: 30,
            max_in_progress_days: 180,
        }
    }
}

impl Params {
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(1..=365).contains(&self.inspection_days) {
            return Err(Invalid::new("inspection_days", "must be from 1 to 365"));
        }
        if !(1..=3650).contains(&self.max_in_progress_days) {
            return Err(Invalid::new(
                "max_in_progress_days",
                "must be from 1 to 3650",
            ));
        }
        Ok(())
    }
}

/// One work with every gap found in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkRow {
    pub project_id: i64,
    pub code: String,
    pub name: String,
    pub town: Option<String>,
    pub category: Category,
    pub funding: Funding,
    pub status: ProjectStatus,
    /// The work's position (a polygon's centroid), for the map.
    pub lon: f64,
    pub lat: f64,
    pub kinds: Vec<WorkGap>,
    pub reasons: Vec<Reason>,
}

fn cny(v: i64) -> String {
    let s = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn above_limit(p: &Project) -> Vec<Reason> {
    let mut r = Vec::new();
    #[expect(
        clippy::cast_precision_loss,
        reason = "money fits a double exactly here"
    )]
    if p.investment_cny >= INVESTMENT_LIMIT_CNY {
        r.push(
            Reason::new(
                "above_limit_investment",
                format!(
                    "investment {} CNY ≥ {} CNY: above the small-works limit, to be registered and handed over (应报建未报建)",
                    cny(p.investment_cny),
                    cny(INVESTMENT_LIMIT_CNY)
                ),
                format!(
                    "投资额 {} 元 ≥ {} 元，超出小微工程限额，应报建并移交",
                    cny(p.investment_cny),
                    cny(INVESTMENT_LIMIT_CNY)
                ),
            )
            .measured(p.investment_cny as f64, INVESTMENT_LIMIT_CNY as f64),
        );
    }
    if p.category == Category::FitOut
        && let Some(a) = p.floor_area_m2.filter(|a| *a >= FIT_OUT_AREA_LIMIT_M2)
    {
        r.push(
                Reason::new(
                    "above_limit_area",
                    format!(
                        "fit-out of {a:.0} m² ≥ {FIT_OUT_AREA_LIMIT_M2:.0} m²: above the small-works limit, to be registered and handed over (应报建未报建)"
                    ),
                    format!(
                        "装饰装修面积 {a:.0} 平方米 ≥ {FIT_OUT_AREA_LIMIT_M2:.0} 平方米，超出小微工程限额，应报建并移交"
                    ),
                )
                .measured(a, FIT_OUT_AREA_LIMIT_M2),
            );
    }
    r
}

/// The cells of every grid, by resolution, for the outside-grid test.
fn grid_cells(data: &Dataset) -> HashMap<Resolution, HashSet<CellIndex>> {
    let mut out: HashMap<Resolution, HashSet<CellIndex>> = HashMap::new();
    for g in &data.grids {
        out.entry(g.value.resolution)
            .or_default()
            .extend(g.value.expanded_cells());
    }
    out
}

fn hazard_label(h: &Hazard) -> String {
    h.kind.as_str().replace('_', " ")
}

fn outside_grid(w: &Project, grids: &HashMap<Resolution, HashSet<CellIndex>>) -> Option<Reason> {
    let inside = grids
        .iter()
        .any(|(res, cells)| site_cell(&w.geometry, *res).is_some_and(|c| cells.contains(&c)));
    (!inside).then(|| {
        Reason::new(
            "outside_grid",
            "outside every grid: no grid manager is responsible for it".to_owned(),
            "不在任何网格内：无网格长负责".to_owned(),
        )
    })
}

fn unfiled() -> Reason {
    Reason::new(
        "discovered_unfiled",
        "discovered on patrol and never filed: to be brought under management (开工备案)"
            .to_owned(),
        "巡查发现未备案：应督促开工备案、纳入管理".to_owned(),
    )
}

/// A filed work under way that is due an inspection and had none recently.
#[expect(clippy::cast_precision_loss, reason = "days are small")]
fn uninspected(
    w: &Project,
    last: Option<DateTime<Utc>>,
    window: &Window,
    p: &Params,
) -> Option<Reason> {
    let active_filed = matches!(
        w.status,
        ProjectStatus::Filed | ProjectStatus::Notified | ProjectStatus::InProgress
    );
    if !active_filed {
        return None;
    }
    let n = i64::from(p.inspection_days);
    let filed_days = w.started_on.map(|d| (window.today() - d).num_days());
    let due = filed_days.is_none_or(|d| d > n);
    let recent = last.is_some_and(|t| (window.to() - t).num_days() <= n);
    if !due || recent {
        return None;
    }
    Some(match (last, w.started_on, filed_days) {
        (Some(t), _, _) => {
            let ago = (window.to() - t).num_days();
            Reason::new(
                "not_inspected_recently",
                format!("last inspected {ago} days ago > {n} days"),
                format!("距上次检查 {ago} 天，超过 {n} 天"),
            )
            .measured(ago as f64, n as f64)
        }
        (None, Some(d), Some(days)) => Reason::new(
            "never_inspected",
            format!("filed (started {d}) {days} days ago and never inspected (> {n} days)"),
            format!("{d} 开工备案，{days} 天未检查（超过 {n} 天）"),
        )
        .measured(days as f64, n as f64),
        _ => Reason::new(
            "never_inspected",
            "filed and never inspected".to_owned(),
            "已备案，从未检查".to_owned(),
        ),
    })
}

#[expect(clippy::cast_precision_loss, reason = "days are small")]
fn overdue(h: &Hazard, today: NaiveDate) -> Reason {
    let days = h.days_overdue(today);
    Reason::new(
        "hazard_overdue",
        format!(
            "hazard #{} {} ({}), due {}, {days} days overdue, still {}",
            h.id,
            hazard_label(h),
            h.severity,
            h.deadline,
            h.status
        ),
        format!(
            "隐患 #{} {}（{}），整改期限 {}，已逾期 {days} 天，状态：{}",
            h.id,
            h.kind.label_zh(),
            h.severity.label_zh(),
            h.deadline,
            h.status.label_zh()
        ),
    )
    .measured(days as f64, 0.0)
}

/// A work that is finished (by its dates) without its completion filing.
#[expect(clippy::cast_precision_loss, reason = "days are small")]
fn no_completion_filing(w: &Project, today: NaiveDate, p: &Params) -> Option<Reason> {
    if w.status == ProjectStatus::Completed {
        return None;
    }
    if let Some(done) = w.completed_on.filter(|d| *d <= today) {
        return Some(Reason::new(
            "completed_unfiled",
            format!("completed on {done} but no completion filing (竣工备案)"),
            format!("{done} 已完工，未办理竣工备案"),
        ));
    }
    let (ProjectStatus::InProgress, Some(start)) = (w.status, w.started_on) else {
        return None;
    };
    let days = (today - start).num_days();
    let max = i64::from(p.max_in_progress_days);
    (days > max).then(|| {
        Reason::new(
            "in_progress_too_long",
            format!(
                "in progress since {start}, {days} days > {max}: finished works must file completion (竣工备案)"
            ),
            format!("{start} 开工，在建 {days} 天，超过 {max} 天：完工应办理竣工备案"),
        )
        .measured(days as f64, max as f64)
    })
}

/// Whether a work is under way (filed and not completed).
fn under_way(w: &Project) -> bool {
    matches!(
        w.status,
        ProjectStatus::Filed | ProjectStatus::Notified | ProjectStatus::InProgress
    )
}

/// The nearest crowded venue (name, metres) of every work with hot work
/// that is not completed, within [`DEFAULT_DISTANCE_M`] (0 m inside one).
fn hot_work_near_venues(data: &Dataset) -> HashMap<i64, (String, f64)> {
    let works: Vec<Site<'_>> = data
        .projects
        .iter()
        .filter(|p| p.value.hot_work && p.value.status != ProjectStatus::Completed)
        .map(|p| Site {
            id: p.id,
            geometry: &p.value.geometry,
        })
        .collect();
    let venues: Vec<Site<'_>> = data
        .venues
        .iter()
        .map(|v| Site {
            id: v.id,
            geometry: &v.value.geometry,
        })
        .collect();
    let names: HashMap<i64, &str> = data
        .venues
        .iter()
        .map(|v| (v.id, v.value.name.as_str()))
        .collect();
    let mut out: HashMap<i64, (String, f64)> = HashMap::new();
    for (work, venue, d) in pairs(&works, &venues, DEFAULT_DISTANCE_M) {
        let name = names.get(&venue).copied().unwrap_or_default();
        let e = out.entry(work).or_insert_with(|| (name.to_owned(), d));
        if d < e.1 {
            *e = (name.to_owned(), d);
        }
    }
    out
}

fn hot_work_unpermitted(venue: &str, d: f64) -> Reason {
    Reason::new(
        "hot_work_without_permit",
        format!(
            "hot work {d:.0} m from the crowded venue {venue} without a valid permit (动火审批)"
        ),
        format!("距人员密集场所「{venue}」{d:.0} 米动火作业，无有效动火审批"),
    )
    .measured(d, DEFAULT_DISTANCE_M)
}

fn insulation_unfiled() -> Reason {
    Reason::new(
        "insulation_unfiled",
        "insulation materials on site without a filing (保温材料备案)".to_owned(),
        "涉及保温材料，未办理保温材料备案".to_owned(),
    )
}

/// A work under way whose period (start to completion, or to today) no
/// policy covers.
fn uninsured(w: &Project, file: &CaseFile, today: NaiveDate) -> Option<Reason> {
    if !under_way(w) {
        return None;
    }
    let from = file.start_day(w.started_on).unwrap_or(today);
    let to = w.completed_on.unwrap_or(today).max(from);
    (!file.insured(from, to)).then(|| {
        Reason::new(
            "uninsured",
            format!("no safety liability policy covers {from} to {to}"),
            format!("{from} 至 {to} 无安全生产责任保险保单覆盖"),
        )
    })
}

/// Every work with at least one gap of the `kinds` asked for (all when
/// empty), with one reason per gap; ordered by town then code.
#[must_use]
pub fn analyse(data: &Dataset, window: &Window, p: &Params, kinds: &[WorkGap]) -> Vec<WorkRow> {
    let want = |k: WorkGap| kinds.is_empty() || kinds.contains(&k);
    let today = window.today();
    let grids = if want(WorkGap::OutsideGrid) {
        grid_cells(data)
    } else {
        HashMap::new()
    };
    let last = data.last_inspections(window.to());
    let mut hazards: HashMap<i64, Vec<&Hazard>> = HashMap::new();
    for h in data
        .hazards
        .iter()
        .filter(|h| h.found_at <= window.to() && h.is_overdue(today))
    {
        hazards.entry(h.project_id).or_default().push(h);
    }
    let files = data.case_files.as_ref();
    let near = if want(WorkGap::HotWorkUnpermitted) && files.is_some() {
        hot_work_near_venues(data)
    } else {
        HashMap::new()
    };
    let empty = CaseFile::default();
    let mut rows = Vec::new();
    for s in &data.projects {
        let w = &s.value;
        let file = files.and_then(|f| f.get(&s.id)).unwrap_or(&empty);
        if file.out_of_scope().is_some() {
            continue;
        }
        let mut gaps: Vec<(WorkGap, Reason)> = Vec::new();
        if want(WorkGap::AboveLimit) && file.above_limit_handover().is_none() {
            gaps.extend(above_limit(w).into_iter().map(|r| (WorkGap::AboveLimit, r)));
        }
        if want(WorkGap::OutsideGrid) && !grids.is_empty() {
            gaps.extend(outside_grid(w, &grids).map(|r| (WorkGap::OutsideGrid, r)));
        }
        if want(WorkGap::Unfiled) && w.status == ProjectStatus::Discovered {
            gaps.push((WorkGap::Unfiled, unfiled()));
        }
        if want(WorkGap::Uninspected) {
            let r = uninspected(w, last.get(&s.id).copied(), window, p);
            gaps.extend(r.map(|r| (WorkGap::Uninspected, r)));
        }
        if want(WorkGap::OverdueHazard) {
            for h in hazards.get(&s.id).into_iter().flatten() {
                gaps.push((WorkGap::OverdueHazard, overdue(h, today)));
            }
        }
        if want(WorkGap::NoCompletionFiling) {
            let r = no_completion_filing(w, today, p);
            gaps.extend(r.map(|r| (WorkGap::NoCompletionFiling, r)));
        }
        if let Some((venue, d)) = near.get(&s.id)
            && file.permit_at(window.to()).is_none()
        {
            gaps.push((WorkGap::HotWorkUnpermitted, hot_work_unpermitted(venue, *d)));
        }
        let known = files.is_some();
        if want(WorkGap::InsulationUnfiled) && known && w.insulation && !file.insulation_filed() {
            gaps.push((WorkGap::InsulationUnfiled, insulation_unfiled()));
        }
        if want(WorkGap::Uninsured) && known {
            gaps.extend(uninsured(w, file, today).map(|r| (WorkGap::Uninsured, r)));
        }
        if gaps.is_empty() {
            continue;
        }
        let mut kinds_of: Vec<WorkGap> = gaps.iter().map(|g| g.0).collect();
        kinds_of.dedup();
        let pt = site_point(&w.geometry).unwrap_or_else(|| geo::Point::new(0.0, 0.0));
        rows.push(WorkRow {
            project_id: s.id,
            code: w.code.clone(),
            name: w.name.clone(),
            town: w.town.clone(),
            category: w.category,
            funding: w.funding,
            status: w.status,
            lon: pt.x(),
            lat: pt.y(),
            kinds: kinds_of,
            reasons: gaps.into_iter().map(|g| g.1).collect(),
        });
    }
    rows.sort_by(|a, b| (&a.town, &a.code).cmp(&(&b.town, &b.code)));
    rows
}

#[cfg(test)]
mod tests {
    use super::cny;

    #[test]
    fn money_has_thousands_separators() {
        assert_eq!(cny(1_000_000), "1,000,000");
        assert_eq!(cny(999), "999");
        assert_eq!(cny(12_345), "12,345");
    }
}
