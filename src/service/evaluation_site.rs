//! The on-site evaluation (实地评价) as use cases: the district picks the
//! towns, draws works in each — stratified by funding and category from a
//! recorded seed, so anyone can redraw it — and records the section-四
//! problems found on each drawn work, compared with what the town had
//! recorded about it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ServiceError;
use super::evaluation::{DEFAULT_DRAW_SIZE, EvaluationView, conflict, period_of};
use crate::auth::{Action, Caller};
use crate::blindspots::Dataset;
use crate::domain::{Category, Funding, Invalid, Town};
use crate::evaluation::{
    self, Candidate, SiteFinding, Stratum, TownComparison, WorkComparison, sample,
};
use crate::store::evaluation::{DrawRow, EvaluationRow, FindingRow};
use crate::store::{DynStore, typed};

/// A drawn work with the town's records beside the evaluators' findings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrawnWork {
    pub project_id: i64,
    pub code: String,
    pub name: String,
    pub address: String,
    pub funding: Funding,
    pub funding_zh: &'static str,
    pub category: Category,
    pub category_zh: &'static str,
    pub comparison: WorkComparison,
    pub finding: Option<SiteFinding>,
    pub recorded_by: Option<String>,
    pub recorded_at: Option<DateTime<Utc>>,
}

/// A town's on-site draw.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrawView {
    pub seed: u64,
    pub size: usize,
    pub candidates: usize,
    pub strata: Vec<Stratum>,
    /// Drawing again from the recorded candidates and seed gives this draw.
    pub redraws: bool,
    pub drawn_by: String,
    pub drawn_at: DateTime<Utc>,
    pub works: Vec<DrawnWork>,
    pub summary: TownComparison,
}

pub(crate) fn draw_view(
    d: &DrawRow,
    data: &Dataset,
    findings: &HashMap<i64, FindingRow>,
    now: DateTime<Utc>,
) -> DrawView {
    let mut works = Vec::with_capacity(d.draw.picks.len());
    for pick in &d.draw.picks {
        let Some(p) = data.projects.iter().find(|p| p.id == pick.project_id) else {
            continue;
        };
        let file = data.case_files.as_ref().and_then(|f| f.get(&p.id));
        let inspections: Vec<DateTime<Utc>> = data
            .inspections
            .iter()
            .filter(|i| i.project_id == p.id)
            .map(|i| i.inspected_at)
            .collect();
        let hazards: Vec<&crate::inspection::Hazard> = data
            .hazards
            .iter()
            .filter(|h| h.project_id == p.id)
            .collect();
        let f = findings.get(&p.id);
        let at = f.map_or(now, |f| f.recorded_at);
        works.push(DrawnWork {
            project_id: p.id,
            code: p.value.code.clone(),
            name: p.value.name.clone(),
            address: p.value.address.clone(),
            funding: p.value.funding,
            funding_zh: p.value.funding.label_zh(),
            category: p.value.category,
            category_zh: p.value.category.label_zh(),
            comparison: evaluation::compare(
                p.id,
                &p.value,
                file,
                &inspections,
                &hazards,
                f.map(|f| &f.finding),
                at,
            ),
            finding: f.map(|f| f.finding.clone()),
            recorded_by: f.map(|f| f.recorded_by.clone()),
            recorded_at: f.map(|f| f.recorded_at),
        });
    }
    let comparisons: Vec<WorkComparison> = works.iter().map(|w| w.comparison.clone()).collect();
    DrawView {
        seed: d.draw.seed,
        size: d.draw.size,
        candidates: d.draw.candidates.len(),
        strata: d.draw.strata.clone(),
        redraws: d.draw.redraws(),
        drawn_by: d.drawn_by.clone(),
        drawn_at: d.drawn_at,
        summary: evaluation::summarise(&comparisons),
        works,
    }
}

/// Picks the towns of the on-site evaluation; the period as it now stands.
pub async fn set_site_towns(
    store: &DynStore,
    caller: &Caller,
    row: &EvaluationRow,
    towns: &[String],
) -> Result<EvaluationView, ServiceError> {
    caller.require(Action::Evaluate)?;
    let known: HashSet<String> = typed::all::<Town>(store)
        .await?
        .into_iter()
        .map(|t| t.value.code)
        .collect();
    let mut list: Vec<String> = Vec::with_capacity(towns.len());
    for (i, t) in towns.iter().enumerate() {
        if !known.contains(t) {
            return Err(Invalid::new(format!("towns[{i}]"), format!("no town {t}")).into());
        }
        if !list.contains(t) {
            list.push(t.clone());
        }
    }
    store.set_site_towns(row.id, &list).await?;
    let updated = EvaluationRow {
        site_towns: list,
        ..row.clone()
    };
    super::evaluation::view(&updated, Utc::now())
}

/// Draws works of a town picked for the on-site evaluation: its works
/// active in the half-year (found ones too), stratified by funding and
/// category. Without a seed one is made from the time and recorded.
pub async fn draw(
    store: &DynStore,
    caller: &Caller,
    row: &EvaluationRow,
    town: &str,
    size: Option<usize>,
    seed: Option<u64>,
    now: DateTime<Utc>,
) -> Result<DrawView, ServiceError> {
    caller.require(Action::Evaluate)?;
    if !row.site_towns.iter().any(|t| t == town) {
        return Err(Invalid::new(
            "town",
            format!("{town} is not picked for the on-site evaluation"),
        )
        .into());
    }
    let size = size.unwrap_or(DEFAULT_DRAW_SIZE);
    if !(1..=50).contains(&size) {
        return Err(Invalid::new("size", "must be from 1 to 50").into());
    }
    if seed.is_some_and(|s| s > sample::MAX_SEED) {
        return Err(Invalid::new("seed", "must be below 2^53").into());
    }
    let seed = seed.unwrap_or_else(|| {
        u64::try_from(now.timestamp_micros()).unwrap_or_default() & sample::MAX_SEED
    });
    let window = period_of(row)?.window(now);
    // the works, their case files and records; no coverage is needed here
    let data = super::blindspots::restrict(super::blindspots::load(store).await?, &caller.scope);
    let candidates: Vec<Candidate> = data
        .projects
        .iter()
        .filter(|p| p.value.town.as_deref() == Some(town) && p.value.active_in(&window))
        .map(|p| Candidate {
            project_id: p.id,
            funding: p.value.funding,
            category: p.value.category,
        })
        .collect();
    if candidates.is_empty() {
        return Err(Invalid::new("town", format!("{town} has no works in {}", row.period)).into());
    }
    let d = evaluation::draw(&candidates, size, seed);
    let saved = store
        .put_draw(row.id, town, &d, &caller.user, now)
        .await
        .map_err(conflict)?;
    Ok(draw_view(&saved, &data, &HashMap::new(), now))
}

/// Records what the evaluators found on a drawn work.
pub async fn record_finding(
    store: &DynStore,
    caller: &Caller,
    row: &EvaluationRow,
    project_id: i64,
    finding: &SiteFinding,
    now: DateTime<Utc>,
) -> Result<FindingRow, ServiceError> {
    caller.require(Action::Evaluate)?;
    finding.validate()?;
    let drawn = store
        .draws(row.id)
        .await?
        .into_iter()
        .find(|d| d.draw.picks.iter().any(|p| p.project_id == project_id))
        .ok_or_else(|| Invalid::new("project_id", "is not a drawn work of this evaluation"))?;
    Ok(store
        .put_finding(row.id, project_id, &drawn.town, finding, &caller.user, now)
        .await?)
}
