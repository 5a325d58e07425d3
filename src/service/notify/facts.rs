//! Reads what the rules of [`crate::notify`] need from the store: works,
//! hazards, inspections, case files, where each work lies (its grid by H3
//! cell), works near crowded venues, when each grid was last patrolled, and
//! the users as the chain sees them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use geo::Centroid;
use h3o::{CellIndex, LatLng, Resolution};

use crate::auth::Role;
use crate::blindspots::near_venues::{self, Site};
use crate::casefile::CaseFile;
use crate::domain::{Grid, Project, Stored, Venue};
use crate::inspection::{Hazard, Inspection};
use crate::notify::events::Place;
use crate::notify::{AssignedRoute, Directory, Person, PersonRole};
use crate::store::casefile::RecordQuery;
use crate::store::routes::RouteQuery;
use crate::store::{DynStore, InspectionQuery, StoreError, typed};

/// Everything the rules read, owned.
pub struct Loaded {
    pub works: Vec<Stored<Project>>,
    pub hazards: Vec<Hazard>,
    pub inspections: Vec<Inspection>,
    pub files: HashMap<i64, CaseFile>,
    pub places: HashMap<i64, Place>,
    pub near_venue: Vec<i64>,
    pub grids: Vec<(Grid, Option<DateTime<Utc>>)>,
    pub routes: Vec<AssignedRoute>,
}

/// The grid (code, zone) each compacted cell belongs to.
struct GridCells(HashMap<CellIndex, (String, String)>);

impl GridCells {
    fn new(grids: &[Stored<Grid>]) -> Self {
        let mut m = HashMap::new();
        for g in grids {
            for c in &g.value.cells {
                m.insert(*c, (g.value.code.clone(), g.value.zone.clone()));
            }
        }
        Self(m)
    }

    /// The grid holding `cell` or one of its parents.
    fn of(&self, cell: CellIndex) -> Option<&(String, String)> {
        let res = u8::from(cell.resolution());
        (0..=res).rev().find_map(|r| {
            let parent = cell.parent(Resolution::try_from(r).ok()?)?;
            self.0.get(&parent)
        })
    }
}

fn cell_of(p: &Project, res: Resolution) -> Option<CellIndex> {
    let c = p.geometry.centroid()?;
    Some(LatLng::new(c.y(), c.x()).ok()?.to_cell(res))
}

/// Reads the records at `now`.
pub async fn load(store: &DynStore, now: DateTime<Utc>) -> Result<Loaded, StoreError> {
    let works = typed::all::<Project>(store).await?;
    let all = InspectionQuery::default();
    let hazards = store.hazards(&all).await?;
    let inspections = store.inspections(&all).await?;
    let mut by_work: HashMap<i64, Vec<_>> = HashMap::new();
    for r in store.records(&RecordQuery::default()).await? {
        by_work.entry(r.project_id).or_default().push(r);
    }
    let files = by_work
        .into_iter()
        .map(|(id, rs)| (id, CaseFile::new(rs)))
        .collect();
    let grids = typed::all::<Grid>(store).await?;
    let cells = GridCells::new(&grids);
    let res = grids
        .first()
        .map_or(Resolution::Ten, |g| g.value.resolution);
    let places = works
        .iter()
        .map(|w| {
            let place = cell_of(&w.value, res)
                .and_then(|c| cells.of(c))
                .map(|(g, z)| Place {
                    grid: Some(g.clone()),
                    zone: Some(z.clone()),
                })
                .unwrap_or_default();
            (w.id, place)
        })
        .collect();
    let venues = typed::all::<Venue>(store).await?;
    let work_sites: Vec<Site<'_>> = works
        .iter()
        .filter(|w| w.value.hot_work)
        .map(|w| Site {
            id: w.id,
            geometry: &w.value.geometry,
        })
        .collect();
    let venue_sites: Vec<Site<'_>> = venues
        .iter()
        .map(|v| Site {
            id: v.id,
            geometry: &v.value.geometry,
        })
        .collect();
    let mut near_venue: Vec<i64> =
        near_venues::pairs(&work_sites, &venue_sites, near_venues::DEFAULT_DISTANCE_M)
            .into_iter()
            .map(|p| p.0)
            .collect();
    near_venue.dedup();
    let mut last: HashMap<String, i64> = HashMap::new();
    for (cell, ms) in store.last_seen(None, now.timestamp_millis()).await? {
        let Ok(cell) = CellIndex::try_from(cell) else {
            continue;
        };
        if let Some((g, _)) = cells.of(cell) {
            let e = last.entry(g.clone()).or_insert(ms);
            *e = (*e).max(ms);
        }
    }
    let grids = grids
        .into_iter()
        .map(|g| {
            let seen = last
                .get(&g.value.code)
                .and_then(|ms| DateTime::from_timestamp_millis(*ms));
            (g.value, seen)
        })
        .collect();
    let routes = assigned_routes(store, crate::time::local_day(now)).await?;
    Ok(Loaded {
        works,
        hazards,
        inspections,
        files,
        places,
        near_venue,
        grids,
        routes,
    })
}

/// The routes of today and later that are assigned to an officer.
async fn assigned_routes(
    store: &DynStore,
    today: chrono::NaiveDate,
) -> Result<Vec<AssignedRoute>, StoreError> {
    let mut out = Vec::new();
    let mut q = RouteQuery {
        from: Some(today),
        limit: 1_000,
        ..RouteQuery::default()
    };
    loop {
        let page = store.list_routes(&q).await?;
        let n = page.items.len();
        out.extend(page.items.into_iter().filter_map(|r| {
            let route = r.route;
            let place = route
                .details
                .get("area_name")
                .and_then(serde_json::Value::as_str)
                .map_or_else(
                    || {
                        route
                            .grid_code
                            .clone()
                            .unwrap_or_else(|| route.zone_code.clone())
                    },
                    str::to_owned,
                );
            Some(AssignedRoute {
                id: r.id,
                assigned_ms: r.assigned_ms.unwrap_or_default(),
                officer: route.officer?,
                date: route.date,
                starts_at: route.starts_at,
                place,
                stops: route.stops.len(),
                distance_m: route.distance_m,
                town_code: route.town_code,
                grid_code: route.grid_code,
                zone_code: route.zone_code,
            })
        }));
        if n < q.limit as usize {
            return Ok(out);
        }
        q.offset += q.limit;
    }
}

/// The users with a live token, as the chain sees them.
pub async fn directory(store: &DynStore) -> Result<Directory, StoreError> {
    let people = store
        .users()
        .await?
        .into_iter()
        .filter(|u| u.active_tokens > 0)
        .map(|u| {
            let g = &u.user.grants;
            Person {
                name: u.user.name.clone(),
                role: match u.user.role {
                    Role::Admin => PersonRole::District,
                    Role::Town => PersonRole::Town,
                    Role::GridManager => PersonRole::GridManager,
                    Role::Officer => PersonRole::Officer,
                    Role::Viewer => PersonRole::Viewer,
                },
                towns: g.towns().map(str::to_owned).collect(),
                zones: g.zones().map(str::to_owned).collect(),
                grids: g.grids().map(str::to_owned).collect(),
                district: g.is_district(),
            }
        })
        .collect();
    Ok(Directory(people))
}
