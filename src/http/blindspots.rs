//! Blind spots over HTTP: `GET /api/v1/blindspots/districts` (commercial
//! districts not under management), `/near-venues` (works near crowded
//! venues) and `/works` (works outside management). Every flagged row
//! carries its reasons; thresholds are parameters. The cells list,
//! `/blindspots/cells`, belongs to the coverage API.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Query;
use super::params::Params;
use super::params::opt;
use super::read_cache::ReadClock;
use crate::auth::Caller;
use crate::blindspots::districts::{DistrictRow, Thresholds};
use crate::blindspots::near_venues::{self, NearVenue};
use crate::blindspots::works::{self, WorkGap, WorkRow};
use crate::blindspots::{Window, parse_time};
use crate::service::blindspots::{self as svc, AnalysisError};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(districts))
        .routes(routes!(near_venues))
        .routes(routes!(works))
}

/// The default analysis window: a quarter, as the evaluation looks back.
pub const DEFAULT_WINDOW_DAYS: u32 = 90;

/// `from` and `to` (default: the `DEFAULT_WINDOW_DAYS` up to now).
pub(crate) fn window(q: &impl Params) -> Result<Window, ApiError> {
    window_at(q, Utc::now())
}

/// [`window`] with "now" given (the read path's clock minute).
pub(crate) fn window_at(q: &impl Params, now: DateTime<Utc>) -> Result<Window, ApiError> {
    Ok(Window::parse(
        q.get("from").map(String::as_str),
        q.get("to").map(String::as_str),
        DEFAULT_WINDOW_DAYS,
        now,
    )?)
}

/// `from` and `to` when either is given; no window otherwise.
pub(crate) fn optional_window(q: &impl Params) -> Result<Option<Window>, ApiError> {
    let from = parse_time("from", q.get("from").map(String::as_str), false)?;
    let to = parse_time("to", q.get("to").map(String::as_str), true)?;
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    let from = from.unwrap_or(DateTime::<Utc>::MIN_UTC);
    Window::new(from, to.unwrap_or_else(Utc::now))
        .map(Some)
        .map_err(ApiError::from)
}

/// `town=CODE[,CODE]`.
pub(crate) fn towns_param(q: &impl Params) -> Option<Vec<String>> {
    q.get("town")
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|t| !t.is_empty())
}

fn keep_town(towns: Option<&Vec<String>>, town: Option<&str>) -> bool {
    towns.is_none_or(|t| town.is_some_and(|c| t.iter().any(|x| x == c)))
}

impl From<AnalysisError> for ApiError {
    fn from(e: AnalysisError) -> Self {
        match e {
            AnalysisError::Service(s) => s.into(),
            AnalysisError::Task(_) => {
                tracing::error!(error = ?e, "analysis failed");
                ApiError::internal()
            }
        }
    }
}

/// A blind-spot list: the rows, their count, how many are flagged and the
/// parameters in force.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BlindList<T: utoipa::ToSchema> {
    count: usize,
    flagged: usize,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// Whether patrol coverage was at hand (otherwise coverage measures are null).
    coverage_known: bool,
    params: serde_json::Value,
    items: Vec<T>,
}

crate::query_params! {
    /// The window, towns and thresholds of the districts' blind spots.
    pub struct DistrictParams {
        /// RFC 3339 or YYYY-MM-DD; default 90 days before `to`.
        from: String,
        /// Default now (the next whole minute).
        to: String,
        /// Town code(s) of the districts' centres.
        town: String,
        /// Flag with fewer socially funded works filed in the window (default 1).
        min_social_filed: u32,
        /// Flag with more works found on patrol and unfiled (default 0).
        max_unfiled: u32,
        /// Flag below this share of cells patrolled (default 0.6).
        #[param(minimum = 0, maximum = 1)]
        min_coverage: f64,
        /// Flag when the last patrol is older (default 7).
        #[param(maximum = 365)]
        max_days_since_patrol: u32,
        /// Flag districts without a one-stop registration plan (default true).
        require_one_stop_plan: bool,
        /// Only flagged districts.
        flagged: bool,
    }
}

crate::query_params! {
    /// The distance and inspection rule of works near venues.
    pub struct NearVenueParams {
        /// Geodesic metres, default 100; inside a venue polygon is 0 m.
        #[param(minimum = 0, maximum = 5_000)]
        distance_m: f64,
        /// A work must have been inspected within this many days (default 30).
        #[param(minimum = 1, maximum = 365)]
        inspection_days: u32,
        /// Only the window's `to` matters: "now" for the inspection check.
        from: String,
        /// "now" for the inspection check; default now (the next whole minute).
        to: String,
        /// Town code(s) of the works.
        town: String,
        /// Only works without a recent inspection.
        flagged: bool,
    }
}

crate::query_params! {
    /// The kinds and rules of works outside management.
    pub struct WorkGapParams {
        /// `above_limit`, `outside_grid`, `unfiled`, `uninspected`, `overdue_hazard`, `no_completion_filing`, `hot_work_unpermitted`, `insulation_unfiled`, `uninsured`; comma separated; all when absent.
        kind: String,
        /// RFC 3339 or YYYY-MM-DD; default 90 days before `to`.
        from: String,
        /// "now" for deadlines and ages; default now (the next whole minute).
        to: String,
        /// Town code(s) of the works.
        town: String,
        /// A filed work must be inspected within this many days (default 30).
        #[param(minimum = 1, maximum = 365)]
        inspection_days: u32,
        /// In progress longer than this counts as finished without completion filing (default 180).
        #[param(minimum = 1, maximum = 3_650)]
        max_in_progress_days: u32,
    }
}

#[utoipa::path(get, path = "/api/v1/blindspots/districts", operation_id = "listDistrictBlindSpots", tag = "blindspots",
    params(DistrictParams, ("If-None-Match" = Option<String>, Header, description = "an ETag of an earlier answer: 304 when it is still current")),
    responses((status = 200, description = "every commercial district with its measures, `flagged` and `reasons`", body = BlindList<DistrictRow>,
                headers(("ETag" = String, description = "names this answer (query, scope, data version, encoding)"), ("Cache-Control" = String, description = "private, no-cache"))),
              (status = 304, description = "not modified: the ETag in If-None-Match names the current answer"),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn districts(
    State(st): State<AppState>,
    caller: Caller,
    clock: ReadClock,
    Query(q): Query<DistrictParams>,
) -> ApiResult<Json<BlindList<DistrictRow>>> {
    let w = window_at(&q, clock.time())?;
    let d = Thresholds::default();
    let t = Thresholds {
        min_social_filed: opt(&q, "min_social_filed", "a whole number")?
            .unwrap_or(d.min_social_filed),
        max_unfiled: opt(&q, "max_unfiled", "a whole number")?.unwrap_or(d.max_unfiled),
        min_coverage: opt(&q, "min_coverage", "a share from 0 to 1")?.unwrap_or(d.min_coverage),
        max_days_since_patrol: opt(&q, "max_days_since_patrol", "a whole number")?
            .unwrap_or(d.max_days_since_patrol),
        require_one_stop_plan: opt(&q, "require_one_stop_plan", "true or false")?
            .unwrap_or(d.require_one_stop_plan),
    };
    t.validate()?;
    let only_flagged = opt::<bool>(&q, "flagged", "true or false")?.unwrap_or(false);
    let towns = towns_param(&q);
    let params = serde_json::json!({
        "min_social_filed": t.min_social_filed, "max_unfiled": t.max_unfiled,
        "min_coverage": t.min_coverage, "max_days_since_patrol": t.max_days_since_patrol,
        "require_one_stop_plan": t.require_one_stop_plan,
    });
    let (rows, coverage_known) = svc::districts(&st.store, &caller.scope, w, t).await?;
    let items: Vec<DistrictRow> = rows
        .into_iter()
        .filter(|r| keep_town(towns.as_ref(), r.town.as_deref()))
        .filter(|r| !only_flagged || r.flagged)
        .collect();
    Ok(Json(BlindList {
        count: items.len(),
        flagged: items.iter().filter(|r| r.flagged).count(),
        from: w.from(),
        to: w.to(),
        coverage_known,
        params,
        items,
    }))
}

#[utoipa::path(get, path = "/api/v1/blindspots/near-venues", operation_id = "listWorksNearVenues", tag = "blindspots",
    params(NearVenueParams, ("If-None-Match" = Option<String>, Header, description = "an ETag of an earlier answer: 304 when it is still current")),
    responses((status = 200, description = "one row per work and venue, hot work and insulation first, then by distance", body = BlindList<NearVenue>,
                headers(("ETag" = String, description = "names this answer (query, scope, data version, encoding)"), ("Cache-Control" = String, description = "private, no-cache"))),
              (status = 304, description = "not modified: the ETag in If-None-Match names the current answer"),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn near_venues(
    State(st): State<AppState>,
    caller: Caller,
    clock: ReadClock,
    Query(q): Query<NearVenueParams>,
) -> ApiResult<Json<BlindList<NearVenue>>> {
    let w = window_at(&q, clock.time())?;
    let distance_m =
        opt(&q, "distance_m", "a number of metres")?.unwrap_or(near_venues::DEFAULT_DISTANCE_M);
    let inspection_days = opt(&q, "inspection_days", "a whole number of days")?
        .unwrap_or(near_venues::DEFAULT_INSPECTION_DAYS);
    let p = near_venues::Params::new(distance_m, inspection_days, w.to())?;
    let only_flagged = opt::<bool>(&q, "flagged", "true or false")?.unwrap_or(false);
    let towns = towns_param(&q);
    let rows = svc::near_venues(&st.store, &caller.scope, p).await?;
    let items: Vec<NearVenue> = rows
        .into_iter()
        .filter(|r| keep_town(towns.as_ref(), r.town.as_deref()))
        .filter(|r| !only_flagged || r.flagged)
        .collect();
    Ok(Json(BlindList {
        count: items.len(),
        flagged: items.iter().filter(|r| r.flagged).count(),
        from: w.to() - Duration::days(i64::from(inspection_days)),
        to: w.to(),
        coverage_known: false,
        params: serde_json::json!({ "distance_m": distance_m, "inspection_days": inspection_days }),
        items,
    }))
}

#[utoipa::path(get, path = "/api/v1/blindspots/works", operation_id = "listWorkGaps", tag = "blindspots",
    params(WorkGapParams, ("If-None-Match" = Option<String>, Header, description = "an ETag of an earlier answer: 304 when it is still current")),
    responses((status = 200, description = "every work with a gap of the kinds asked, with `kinds` and `reasons`", body = BlindList<WorkRow>,
                headers(("ETag" = String, description = "names this answer (query, scope, data version, encoding)"), ("Cache-Control" = String, description = "private, no-cache"))),
              (status = 304, description = "not modified: the ETag in If-None-Match names the current answer"),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn works(
    State(st): State<AppState>,
    caller: Caller,
    clock: ReadClock,
    Query(q): Query<WorkGapParams>,
) -> ApiResult<Json<BlindList<WorkRow>>> {
    let w = window_at(&q, clock.time())?;
    let kinds = match q.get("kind").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(s) => s
            .split(',')
            .map(str::parse::<WorkGap>)
            .collect::<Result<Vec<_>, _>>()?,
    };
    let d = works::Params::default();
    let p = works::Params {
        inspection_days: opt(&q, "inspection_days", "a whole number of days")?
            .unwrap_or(d.inspection_days),
        max_in_progress_days: opt(&q, "max_in_progress_days", "a whole number of days")?
            .unwrap_or(d.max_in_progress_days),
    };
    p.validate()?;
    let towns = towns_param(&q);
    let params = serde_json::json!({
        "kind": kinds, "inspection_days": p.inspection_days,
        "max_in_progress_days": p.max_in_progress_days,
    });
    let rows = svc::works(&st.store, &caller.scope, w, p, kinds).await?;
    let items: Vec<WorkRow> = rows
        .into_iter()
        .filter(|r| keep_town(towns.as_ref(), r.town.as_deref()))
        .collect();
    Ok(Json(BlindList {
        count: items.len(),
        flagged: items.len(),
        from: w.from(),
        to: w.to(),
        coverage_known: false,
        params,
        items,
    }))
}
