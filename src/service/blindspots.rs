//! The blind-spot analyses and the scorecard as use cases: load the district
//! once, ask the coverage engine about the cells that matter, and run the
//! pure analyses of [`crate::blindspots`] on a blocking thread so the async
//! workers keep serving.

use std::sync::Arc;

use super::ServiceError;
use crate::blindspots::{
    self, Coverage, Dataset, Report, ReportParams, Window, districts, near_venues, scorecard,
    works,
};
use crate::domain::{District, Grid, Project, Town, Venue};
use crate::store::{DynStore, InspectionQuery, typed};

/// Why an analysis failed.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The analysis task died (a bug): logged, answered as an internal error.
    #[error("analysis task failed")]
    Task(#[source] tokio::task::JoinError),
}

impl From<crate::store::StoreError> for AnalysisError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Service(e.into())
    }
}

/// Runs CPU work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AnalysisError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(AnalysisError::Task)
}

/// Loads everything the analyses read: the whole district, since distances
/// and districts cross town lines; answers are filtered afterwards.
pub async fn load(store: &DynStore) -> Result<Dataset, ServiceError> {
    let all = InspectionQuery::default();
    Ok(Dataset {
        towns: typed::all::<Town>(store).await?,
        grids: typed::all::<Grid>(store).await?,
        districts: typed::all::<District>(store).await?,
        venues: typed::all::<Venue>(store).await?,
        projects: typed::all::<Project>(store).await?,
        inspections: store.inspections(&all).await?,
        hazards: store.hazards(&all).await?,
    })
}

/// The patrol coverage in the window of the cells the analyses need
/// (commercial districts and every grid). Coverage comes from the coverage
/// engine's cell visits; until a store holds any, it is unknown.
pub async fn coverage(
    _store: &DynStore,
    _data: &Arc<Dataset>,
    _window: &Window,
) -> Result<Coverage, AnalysisError> {
    Ok(Coverage::Unknown)
}

/// Commercial districts with their measures, flags and reasons, and
/// whether patrol coverage was known.
pub async fn districts(
    store: &DynStore,
    window: Window,
    thresholds: districts::Thresholds,
) -> Result<(Vec<districts::DistrictRow>, bool), AnalysisError> {
    let data = Arc::new(load(store).await?);
    let cov = coverage(store, &data, &window).await?;
    let known = !matches!(cov, Coverage::Unknown);
    let rows = blocking(move || districts::analyse(&data, &cov, &window, &thresholds)).await?;
    Ok((rows, known))
}

/// Works near crowded venues.
pub async fn near_venues(
    store: &DynStore,
    params: near_venues::Params,
) -> Result<Vec<near_venues::NearVenue>, AnalysisError> {
    let data = load(store).await?;
    blocking(move || near_venues::analyse(&data, &params)).await
}

/// Works outside management of the given kinds (all when empty).
pub async fn works(
    store: &DynStore,
    window: Window,
    params: works::Params,
    kinds: Vec<works::WorkGap>,
) -> Result<Vec<works::WorkRow>, AnalysisError> {
    let data = load(store).await?;
    blocking(move || works::analyse(&data, &window, &params, &kinds)).await
}

/// The whole report: every list and the scorecard.
pub async fn report(store: &DynStore, params: ReportParams) -> Result<Report, AnalysisError> {
    let data = Arc::new(load(store).await?);
    let cov = coverage(store, &data, &params.window).await?;
    blocking(move || blindspots::report(&data, &cov, &params)).await
}

/// The town scorecard for a window, with the default blind-spot thresholds,
/// and whether patrol coverage was known.
pub async fn scorecard(
    store: &DynStore,
    window: Window,
) -> Result<(Vec<scorecard::ScoreRow>, bool), AnalysisError> {
    let params = ReportParams {
        window,
        districts: districts::Thresholds::default(),
        near_venues: near_venues::Params {
            distance_m: near_venues::DEFAULT_DISTANCE_M,
            inspection_days: near_venues::DEFAULT_INSPECTION_DAYS,
            as_of: window.to(),
        },
        works: works::Params::default(),
    };
    let data = Arc::new(load(store).await?);
    let cov = coverage(store, &data, &params.window).await?;
    let known = !matches!(cov, Coverage::Unknown);
    let rows = blocking(move || blindspots::report(&data, &cov, &params).scorecard).await?;
    Ok((rows, known))
}
