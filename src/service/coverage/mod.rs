//! Coverage answers: which cells of a scope (a grid, a zone, a town or the
//! whole district) were patrolled in a window, how often, when last, and
//! which are overdue against their grid's patrol interval; summaries per
//! area with a weekly trend; and the ranked blind-spot cells (`blind`).
//!
//! The store gives the raw cell visits of the window and each cell's last
//! sighting; the engine (`coverage::analysis`) computes the rest, on a
//! blocking thread ([`report`] and friends are pure).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use h3o::{CellIndex, Resolution};
use serde::Serialize;

mod blind;

use super::ServiceError;
pub use crate::blindspots::cells::RiskContext;
use crate::coverage::CoverageError;
use crate::coverage::analysis::{self, CoverageReport, PatrolIntervals, TimeWindow, VisitRow};
use crate::domain::{Grid, Stored, Zone};
use crate::ingest::IngestError;
use crate::store::{DynStore, ListQuery, StoreError, typed};
pub use blind::{BlindCell, blind_cells, ranked_blind_cells};

/// Which cells a question is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AreaScope {
    Grid(i64),
    Zone(i64),
    Town(String),
    District,
}

impl std::str::FromStr for AreaScope {
    type Err = IngestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            IngestError::new(
                None,
                "scope",
                format!("{s:?} is not grid:ID, zone:ID, town:CODE or district"),
            )
        };
        let s = s.trim();
        if s == "district" || s.is_empty() {
            return Ok(Self::District);
        }
        let (kind, value) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "grid" => value.parse().map(Self::Grid).map_err(|_| bad()),
            "zone" => value.parse().map(Self::Zone).map_err(|_| bad()),
            "town" if !value.is_empty() => Ok(Self::Town(value.to_owned())),
            _ => Err(bad()),
        }
    }
}

/// The grids of the district, loaded once per question.
#[derive(Debug, Clone)]
pub struct GridSet {
    pub grids: Vec<Stored<Grid>>,
    pub zones: Vec<Stored<Zone>>,
}

/// The district's grids and zones as of one data version, shared by the
/// questions asked until the next write: loading them parses every grid's
/// outline, which was most of the work of an uncached coverage answer. One
/// slot, for one store (the [`Weak`] keeps its allocation, so another store
/// can never be mistaken for it).
struct GridMemo {
    store: Weak<dyn crate::store::Store>,
    version: i64,
    grids: Arc<GridSet>,
}

static GRID_MEMO: Mutex<Option<GridMemo>> = Mutex::new(None);

impl GridSet {
    /// The whole district's grids and zones at the current data version,
    /// loaded once per version.
    pub async fn district(store: &DynStore) -> Result<Arc<Self>, StoreError> {
        // the version is read before the grids: grids newer than their
        // version are at worst loaded again, never older ones kept
        let version = store.data_version().await?;
        let same =
            |m: &GridMemo| m.version == version && Weak::ptr_eq(&m.store, &Arc::downgrade(store));
        {
            let memo = GRID_MEMO.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(m) = memo.as_ref().filter(|m| same(m)) {
                return Ok(m.grids.clone());
            }
        }
        let grids = Arc::new(Self::load(store, None).await?);
        *GRID_MEMO.lock().unwrap_or_else(PoisonError::into_inner) = Some(GridMemo {
            store: Arc::downgrade(store),
            version,
            grids: grids.clone(),
        });
        Ok(grids)
    }

    /// The grids and zones of some towns (all when `None`), as
    /// [`GridSet::load`] with the same towns answers.
    #[must_use]
    pub fn of_towns(&self, towns: Option<&[String]>) -> Self {
        let Some(towns) = towns else {
            return self.clone();
        };
        let keep = |t: &String| towns.contains(t);
        Self {
            grids: self
                .grids
                .iter()
                .filter(|g| keep(&g.value.town))
                .cloned()
                .collect(),
            zones: self
                .zones
                .iter()
                .filter(|z| keep(&z.value.town))
                .cloned()
                .collect(),
        }
    }

    pub async fn load(store: &DynStore, towns: Option<Vec<String>>) -> Result<Self, StoreError> {
        let q = ListQuery {
            towns,
            ..ListQuery::all()
        };
        Ok(Self {
            grids: typed::list::<Grid>(store, &q).await?.items,
            zones: typed::list::<Zone>(store, &q).await?.items,
        })
    }

    /// Keeps the grids a caller's scope covers, so that an area outside
    /// it is answered like an unknown one and the district means theirs.
    #[must_use]
    pub fn within(mut self, access: &crate::auth::Scope) -> Self {
        if !access.is_district() {
            self.grids
                .retain(|g| access.allows_grid(&g.value.code, &g.value.zone, &g.value.town));
        }
        self
    }

    /// The grids a scope covers; an unknown grid or zone id is `NotFound`.
    pub fn select(&self, scope: &AreaScope) -> Result<Vec<&Stored<Grid>>, ServiceError> {
        let picked: Vec<&Stored<Grid>> = match scope {
            AreaScope::District => self.grids.iter().collect(),
            AreaScope::Town(code) => self
                .grids
                .iter()
                .filter(|g| &g.value.town == code)
                .collect(),
            AreaScope::Grid(id) => self.grids.iter().filter(|g| g.id == *id).collect(),
            AreaScope::Zone(id) => {
                let zone = self
                    .zones
                    .iter()
                    .find(|z| z.id == *id)
                    .ok_or_else(|| ServiceError::NotFound(format!("zone {id}")))?;
                self.grids
                    .iter()
                    .filter(|g| g.value.zone == zone.value.code)
                    .collect()
            }
        };
        if picked.is_empty() {
            return Err(ServiceError::NotFound(match scope {
                AreaScope::Grid(id) => format!("grid {id}"),
                AreaScope::Zone(id) => format!("grids of zone {id}"),
                AreaScope::Town(code) => format!("grids of town {code}"),
                AreaScope::District => "any grid".into(),
            }));
        }
        Ok(picked)
    }
}

/// A cell of a scope with its patrol interval and where it belongs.
#[derive(Debug, Clone)]
pub struct ScopeCell {
    pub cell: CellIndex,
    pub interval_days: u32,
    pub grid: i64,
    pub zone: String,
    pub town: String,
}

/// The scope's cells at the coverage resolution.
#[must_use]
pub fn scope_cells(grids: &[&Stored<Grid>]) -> Vec<ScopeCell> {
    let mut out = Vec::new();
    for g in grids {
        for cell in g.value.expanded_cells() {
            out.push(ScopeCell {
                cell,
                interval_days: g.value.patrol_interval_days,
                grid: g.id,
                zone: g.value.zone.clone(),
                town: g.value.town.clone(),
            });
        }
    }
    out
}

/// The state of one cell in a window.
#[derive(Debug, Clone, PartialEq)]
pub struct CellStatus {
    pub cell: CellIndex,
    pub patrolled: bool,
    /// Distinct tracks that covered the cell in the window.
    pub visits: u32,
    /// The last time the cell was seen before the window's end.
    pub last_patrolled_ms: Option<i64>,
    pub overdue: bool,
    pub interval_days: u32,
    /// For cells aggregated to a coarser resolution: the share of children patrolled.
    pub patrolled_share: f64,
    pub overdue_share: f64,
}

/// The store's answers for a set of cells and a window, as the engine's
/// visit rows: the visits overlapping the window, plus each cell's last
/// sighting before it as a visit of no track, so that `last_patrolled`
/// and `overdue` look back past the window's start.
pub struct VisitData {
    pub visits: Vec<VisitRow>,
    /// The window the visits were loaded for.
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The track id of the synthetic "last seen before the window" visits.
const EARLIER: i64 = -1;

pub async fn load_visits(
    store: &DynStore,
    cells: &[ScopeCell],
    from_ms: i64,
    to_ms: i64,
    whole: bool,
) -> Result<VisitData, StoreError> {
    let ids: Vec<u64> = cells.iter().map(|c| u64::from(c.cell)).collect();
    let filter = if whole { None } else { Some(ids.as_slice()) };
    let row = |cell: u64, track_id: i64, first_ms: i64, last_ms: i64| {
        CellIndex::try_from(cell).ok().map(|cell| VisitRow {
            cell,
            track_id,
            first_ms,
            last_ms,
        })
    };
    let mut visits: Vec<VisitRow> = store
        .visits_between(filter, from_ms, to_ms)
        .await?
        .into_iter()
        .filter_map(|v| row(v.cell, v.track_id, v.first_ms, v.last_ms))
        .collect();
    visits.extend(
        store
            .last_seen(filter, from_ms)
            .await?
            .into_iter()
            .filter_map(|(cell, t)| row(cell, EARLIER, t, t)),
    );
    Ok(VisitData {
        visits,
        from_ms,
        to_ms,
    })
}

fn intervals(cells: &[ScopeCell]) -> PatrolIntervals {
    let mut iv =
        PatrolIntervals::new(14).unwrap_or_else(|_| unreachable!("14 days is a valid interval"));
    for c in cells {
        // no clone per cell: a district has tens of thousands of cells
        iv = match iv.with_cell(c.cell, c.interval_days.max(1)) {
            Ok(next) => next,
            Err(_) => unreachable!("a positive interval is valid"),
        };
    }
    iv
}

/// The engine's report for the scope cells over `[from_ms, to_ms)`.
pub fn report(
    cells: &[ScopeCell],
    data: &VisitData,
    from_ms: i64,
    to_ms: i64,
) -> Result<CoverageReport, CoverageError> {
    let scope: Vec<CellIndex> = cells.iter().map(|c| c.cell).collect();
    Ok(analysis::analyse(
        &scope,
        &data.visits,
        TimeWindow::new(from_ms, to_ms)?,
        &intervals(cells),
    ))
}

/// Each scope cell's status at `to_ms`, over the window the data was
/// loaded for (`to_ms` may end it earlier).
#[must_use]
pub fn compute(cells: &[ScopeCell], data: &VisitData, to_ms: i64) -> Vec<CellStatus> {
    let to = to_ms.min(data.to_ms).max(data.from_ms + 1);
    report(cells, data, data.from_ms, to)
        .map(|r| statuses(cells, &r))
        .unwrap_or_default()
}

/// Each scope cell's status, in the order of `cells`.
#[must_use]
pub fn statuses(cells: &[ScopeCell], report: &CoverageReport) -> Vec<CellStatus> {
    cells
        .iter()
        .filter_map(|c| {
            let r = report.cell(c.cell)?;
            Some(CellStatus {
                cell: c.cell,
                patrolled: r.patrolled,
                visits: r.visits,
                last_patrolled_ms: r.last_patrolled_ms,
                overdue: r.overdue,
                interval_days: c.interval_days,
                patrolled_share: if r.patrolled { 1.0 } else { 0.0 },
                overdue_share: if r.overdue { 1.0 } else { 0.0 },
            })
        })
        .collect()
}

/// The report gathered into coarser cells: a parent is patrolled when any
/// child is, overdue when every child is, with the shares of each.
pub fn coarse_statuses(
    report: &CoverageReport,
    res: Resolution,
) -> Result<Vec<CellStatus>, CoverageError> {
    Ok(analysis::coarsen(report, res)?
        .into_iter()
        .map(|c| {
            #[expect(clippy::cast_precision_loss, reason = "cell counts are far below 2^52")]
            let share = |k: usize| {
                if c.cells == 0 {
                    0.0
                } else {
                    k as f64 / c.cells as f64
                }
            };
            CellStatus {
                cell: c.cell,
                patrolled: c.patrolled,
                visits: 0,
                last_patrolled_ms: c.last_patrolled_ms,
                overdue: c.overdue_cells == c.cells,
                interval_days: 0,
                patrolled_share: share(c.patrolled_cells),
                overdue_share: share(c.overdue_cells),
            }
        })
        .collect())
}

/// One area's coverage in a window.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AreaSummary {
    pub area: String,
    pub name: String,
    pub cells: usize,
    pub patrolled_cells: usize,
    pub ratio: f64,
    pub overdue_cells: usize,
    /// Per calendar week (Monday, China Standard Time) the share of the area's cells patrolled that week.
    pub trend: Vec<WeekShare>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WeekShare {
    pub iso_week: String,
    pub week_start: String,
    pub ratio: f64,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Summaries per area; `area_of` names each cell's area (town code, zone
/// code or grid id). The weekly trend is the engine's report of each area's
/// own cells, so it is counted exactly as the totals are.
pub fn summarize(
    cells: &[ScopeCell],
    data: &VisitData,
    from_ms: i64,
    to_ms: i64,
    area_of: impl Fn(&ScopeCell) -> String,
    name_of: impl Fn(&str) -> String,
) -> Result<Vec<AreaSummary>, CoverageError> {
    let mut groups: BTreeMap<String, Vec<ScopeCell>> = BTreeMap::new();
    for c in cells {
        groups.entry(area_of(c)).or_default().push(c.clone());
    }
    groups
        .into_iter()
        .map(|(area, cells)| {
            let r = report(&cells, data, from_ms, to_ms)?;
            let trend = r
                .weeks
                .iter()
                .map(|w| WeekShare {
                    iso_week: format!("{}-W{:02}", w.iso_year, w.iso_week),
                    week_start: chrono::DateTime::from_timestamp_millis(w.from_ms)
                        .unwrap_or_default()
                        .date_naive()
                        .to_string(),
                    ratio: round3(w.ratio),
                })
                .collect();
            Ok(AreaSummary {
                name: name_of(&area),
                area,
                cells: r.cells.len(),
                patrolled_cells: r.patrolled_cells,
                ratio: round3(r.ratio),
                overdue_cells: r.overdue_cells,
                trend,
            })
        })
        .collect()
}

/// The level of [`area_summaries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    Town,
    Zone,
    Grid,
}

impl std::str::FromStr for Level {
    type Err = IngestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "town" => Ok(Self::Town),
            "zone" => Ok(Self::Zone),
            "grid" => Ok(Self::Grid),
            _ => Err(IngestError::new(
                None,
                "level",
                "must be town, zone or grid",
            )),
        }
    }
}

/// The analysis refuses only its window: that is the caller's input.
fn analysis_failed(e: &impl std::fmt::Display) -> ServiceError {
    crate::domain::Invalid::new("from", e.to_string()).into()
}

/// The grids the caller may see, the cells of `scope` among them and their
/// visits over `[from_ms, to_ms)`: what every coverage question starts from.
pub async fn load_area(
    store: &DynStore,
    access: &crate::auth::Scope,
    scope: &AreaScope,
    from_ms: i64,
    to_ms: i64,
) -> Result<(GridSet, Vec<ScopeCell>, VisitData), ServiceError> {
    let grids = GridSet::district(store)
        .await?
        .of_towns(access.list_query_towns(None).as_deref())
        .within(access);
    let cells = scope_cells(&grids.select(scope)?);
    // the whole district needs no cell filter in the store's query
    let whole = *scope == AreaScope::District && access.is_district();
    let data = load_visits(store, &cells, from_ms, to_ms, whole).await?;
    Ok((grids, cells, data))
}

/// Coverage per town, zone or grid over `[from_ms, to_ms)`, computed on a
/// blocking thread.
pub async fn area_summaries(
    store: &DynStore,
    access: &crate::auth::Scope,
    level: Level,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<AreaSummary>, ServiceError> {
    let (grids, cells, data) =
        load_area(store, access, &AreaScope::District, from_ms, to_ms).await?;
    let mut names: HashMap<String, String> = typed::all::<crate::domain::Town>(store)
        .await?
        .into_iter()
        .map(|t| (t.value.code, t.value.name))
        .collect();
    for z in &grids.zones {
        names.insert(z.value.code.clone(), z.value.name.clone());
    }
    for g in &grids.grids {
        names.insert(g.id.to_string(), g.value.name.clone());
    }
    tokio::task::spawn_blocking(move || {
        let area_of = |c: &ScopeCell| match level {
            Level::Zone => c.zone.clone(),
            Level::Grid => c.grid.to_string(),
            Level::Town => c.town.clone(),
        };
        summarize(&cells, &data, from_ms, to_ms, area_of, |a| {
            names.get(a).cloned().unwrap_or_default()
        })
    })
    .await
    .map_err(super::task_failed("coverage analysis"))?
    .map_err(|e| analysis_failed(&e))
}
