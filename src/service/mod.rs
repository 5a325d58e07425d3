//! Application services: the use cases that combine the domain rules, the
//! readers and the store, shared by the HTTP API and the CLI so that both
//! behave the same (validation, town assignment, one transaction per file).

pub mod attachments;
pub mod basemap;
pub mod blindspots;
pub mod cache;
pub mod casefile;
pub mod coverage;
pub mod docx;
pub mod dossier;
pub mod evaluation;
pub mod evaluation_report;
pub mod evaluation_site;
pub mod evaluation_workbook;
pub mod inspections;
pub mod notify;
pub mod places;
pub mod queries;
pub mod routes;
pub mod scope;
pub mod supervision;
pub mod towns;
pub mod tracks;
pub mod users;
pub mod workbook;

use std::path::Path;

use crate::auth::{Denied, Scope};
use crate::domain::{ImportSummary, Invalid, Project, Stored};
use crate::ingest::{IngestError, features, projects_csv};
use crate::spatial::Crs;
use crate::store::{DynStore, Progress, StoreError, scoped, typed};

pub use towns::TownIndex;

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0} not found")]
    NotFound(String),
    /// A write outside the caller's scope or role.
    #[error(transparent)]
    Forbidden(#[from] crate::auth::Denied),
    #[error("{0}")]
    Conflict(String),
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A task on the blocking pool died (a bug, or a panic in pure code):
    /// logged, answered as an internal error.
    #[error("the {what} task failed")]
    TaskFailed {
        what: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },
}

/// Maps a failed blocking task (`spawn_blocking(..).await`) to
/// [`ServiceError::TaskFailed`], naming what it was doing.
pub(crate) fn task_failed(
    what: &'static str,
) -> impl FnOnce(tokio::task::JoinError) -> ServiceError {
    move |source| ServiceError::TaskFailed { what, source }
}

impl From<Invalid> for ServiceError {
    fn from(e: Invalid) -> Self {
        Self::Ingest(IngestError::new(None, e.field, e.reason))
    }
}

/// What can be imported from a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportKind {
    Towns,
    Zones,
    Grids,
    Districts,
    Venues,
    Projects,
}

/// The format of a layer file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    GeoJson,
    Csv,
}

impl FileFormat {
    /// From a file name's extension; GeoJSON unless it ends in `.csv`.
    #[must_use]
    pub fn from_path(path: &Path) -> Self {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Self::Csv,
            _ => Self::GeoJson,
        }
    }
}

/// Imports one file of one kind in one transaction.
pub async fn import_bytes(
    store: &DynStore,
    kind: ImportKind,
    bytes: &[u8],
    format: FileFormat,
    crs: Crs,
    progress: Progress<'_>,
) -> Result<(usize, ImportSummary), ServiceError> {
    if format == FileFormat::Csv && kind != ImportKind::Projects {
        return Err(
            IngestError::new(None, "format", "CSV is only read for projects; use GeoJSON").into(),
        );
    }
    let text = || {
        std::str::from_utf8(bytes).map_err(|_| IngestError::new(None, "body", "is not UTF-8 text"))
    };
    let summary = match kind {
        ImportKind::Towns => {
            let items = features::towns(&features::read_features(text()?)?, crs)?;
            (items.len(), typed::import(store, &items, progress).await?)
        }
        ImportKind::Zones => {
            let items = features::zones(&features::read_features(text()?)?, crs)?;
            in_district(
                store,
                items.iter().map(|z| z.geometry.clone().map(Into::into)),
            )
            .await?;
            (items.len(), typed::import(store, &items, progress).await?)
        }
        ImportKind::Grids => {
            let items = features::grids(&features::read_features(text()?)?, crs)?;
            in_district(
                store,
                items.iter().map(|g| g.geometry.clone().map(Into::into)),
            )
            .await?;
            (items.len(), typed::import(store, &items, progress).await?)
        }
        ImportKind::Districts => {
            let items = features::districts(&features::read_features(text()?)?, crs)?;
            in_district(store, items.iter().map(|d| Some(d.geometry.clone().into()))).await?;
            (items.len(), typed::import(store, &items, progress).await?)
        }
        ImportKind::Venues => {
            let items = features::venues(&features::read_features(text()?)?, crs)?;
            in_district(store, items.iter().map(|v| Some(v.geometry.clone()))).await?;
            (items.len(), typed::import(store, &items, progress).await?)
        }
        ImportKind::Projects => {
            let mut items = match format {
                FileFormat::Csv => projects_csv::read(bytes, crs)?,
                FileFormat::GeoJson => features::projects(&features::read_features(text()?)?, crs)?,
            };
            let towns = TownIndex::load(store).await?;
            for (i, p) in items.iter_mut().enumerate() {
                towns
                    .assign(p)
                    .map_err(|e| IngestError::at(format!("record {}", i + 1), e))?;
            }
            (items.len(), typed::import(store, &items, progress).await?)
        }
    };
    Ok(summary)
}

/// Refuses a layer whose records lie wholly outside the district (a venue
/// in Beijing), naming the first such record; nothing is checked before
/// the towns are loaded.
async fn in_district(
    store: &DynStore,
    geometries: impl Iterator<Item = Option<geo::Geometry<f64>>>,
) -> Result<(), ServiceError> {
    let towns = TownIndex::load(store).await?;
    if towns.is_empty() {
        return Ok(());
    }
    for (i, g) in geometries.enumerate() {
        if let Some(g) = g
            && !towns.touches_district(&g)
        {
            return Err(IngestError::at(
                format!("record {}", i + 1),
                Invalid::new("geometry", "lies outside the district"),
            )
            .into());
        }
    }
    Ok(())
}

/// Imports a file from disk.
pub async fn import_file(
    store: &DynStore,
    kind: ImportKind,
    path: &Path,
    crs: Crs,
    progress: Progress<'_>,
) -> Result<(usize, ImportSummary), ServiceError> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|source| ServiceError::Io {
            path: path.display().to_string(),
            source,
        })?;
    import_bytes(
        store,
        kind,
        &bytes,
        FileFormat::from_path(path),
        crs,
        progress,
    )
    .await
}

/// Creates a project after validating it and assigning its town; a work
/// outside `scope` is refused.
pub async fn create_project(
    store: &DynStore,
    scope: &Scope,
    mut project: Project,
) -> Result<Stored<Project>, ServiceError> {
    project.validate()?;
    TownIndex::load(store).await?.assign(&mut project)?;
    check_in_scope(scope, &project)?;
    let id = typed::insert(store, &project).await?;
    Ok(Stored { id, value: project })
}

/// Replaces a project after validating it and assigning its town; the
/// project must be in `scope` (else not found) and stay in it.
pub async fn update_project(
    store: &DynStore,
    scope: &Scope,
    id: i64,
    mut project: Project,
) -> Result<Stored<Project>, ServiceError> {
    project.validate()?;
    if scoped::get::<Project>(store, id, scope).await?.is_none() {
        return Err(ServiceError::NotFound(format!("project {id}")));
    }
    TownIndex::load(store).await?.assign(&mut project)?;
    check_in_scope(scope, &project)?;
    if !typed::update(store, id, &project).await? {
        return Err(ServiceError::NotFound(format!("project {id}")));
    }
    Ok(Stored { id, value: project })
}

/// Refuses a work that lies outside a scope (by its town, or for grid
/// scopes by its geometry).
fn check_in_scope(scope: &Scope, project: &Project) -> Result<(), Denied> {
    if scope.allows_geometry(project.town.as_deref(), &project.geometry) {
        Ok(())
    } else {
        Err(Denied("the work lies outside the caller's scope".into()))
    }
}
