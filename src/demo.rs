//! The Songjiang demo: loads the committed fixtures (`fixtures/songjiang/`)
//! into an empty store, in dependency order.

use std::path::{Path, PathBuf};

use crate::domain::ImportSummary;
use crate::service::{self, ImportKind, ServiceError};
use crate::spatial::Crs;
use crate::store::{DynStore, Layer, ListQuery};

/// The fixture directory: `fixtures/songjiang` in the source tree, or in
/// the working directory.
#[must_use]
pub fn default_fixtures_dir() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/songjiang");
    if built.is_dir() {
        built
    } else {
        PathBuf::from("fixtures/songjiang")
    }
}

/// The layer files, in the order their references need.
pub const LAYER_FILES: [(ImportKind, &str); 6] = [
    (ImportKind::Towns, "towns.geojson"),
    (ImportKind::Zones, "zones.geojson"),
    (ImportKind::Grids, "grids.geojson"),
    (ImportKind::Districts, "districts.geojson"),
    (ImportKind::Venues, "venues.geojson"),
    (ImportKind::Projects, "projects.csv"),
];

/// Whether the store holds no towns yet.
pub async fn is_empty(store: &DynStore) -> Result<bool, ServiceError> {
    let q = ListQuery {
        limit: 1,
        ..ListQuery::default()
    };
    Ok(store.list(Layer::Town, &q).await?.total == 0)
}

/// The track files of a directory (GPX, CSV, GeoJSON), sorted by name.
pub fn track_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let ext = p
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // the GCJ-02 copy of a walk is a test fixture, not another patrol
            ["gpx", "csv", "geojson"].contains(&ext.as_str()) && !name.contains("gcj02")
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Uploads every demo track; returns how many tracks were stored.
pub async fn load_tracks(store: &DynStore, dir: &Path) -> Result<usize, ServiceError> {
    let files = track_files(dir).map_err(|source| ServiceError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let opts = crate::service::tracks::UploadOptions::default();
    let mut stored = 0;
    for f in &files {
        let bytes = tokio::fs::read(f)
            .await
            .map_err(|source| ServiceError::Io {
                path: f.display().to_string(),
                source,
            })?;
        let name = f.file_name().and_then(|n| n.to_str());
        let up = crate::service::tracks::upload(store, &bytes, None, name, &opts)
            .await
            .map_err(|e| match e {
                ServiceError::Ingest(i) => ServiceError::Ingest(crate::ingest::IngestError::new(
                    Some(f.display().to_string()),
                    i.field,
                    i.reason,
                )),
                other => other,
            })?;
        stored += up.iter().filter(|t| t.created).count();
    }
    tracing::info!(files = files.len(), tracks = stored, "demo tracks loaded");
    Ok(stored)
}

/// Loads every layer file of `dir`; returns what each import did.
pub async fn load(
    store: &DynStore,
    dir: &Path,
) -> Result<Vec<(ImportKind, ImportSummary)>, ServiceError> {
    let mut done = Vec::new();
    for (kind, file) in LAYER_FILES {
        let (_, summary) =
            service::import_file(store, kind, &dir.join(file), Crs::Wgs84, &|_| {}).await?;
        tracing::info!(?kind, inserted = summary.inserted, "demo layer loaded");
        done.push((kind, summary));
    }
    load_roads(store, dir).await?;
    load_places(store, dir).await?;
    load_officers(store, dir).await?;
    load_inspections(store, dir).await?;
    crate::demo_casefile::load_case_files(store).await?;
    let tracks = dir.join("tracks");
    if tracks.is_dir() {
        load_tracks(store, &tracks).await?;
    }
    Ok(done)
}

/// The demo's named places (bus stops), relative to the fixture directory.
pub const PLACES_FILE: &str = "stops.geojson";

/// Stores the demo's named places when the store has none yet (and the
/// fixture is there); `true` when they were stored.
pub async fn load_places(store: &DynStore, dir: &Path) -> Result<bool, ServiceError> {
    let file = dir.join(PLACES_FILE);
    if !file.is_file() || !store.places(None).await?.is_empty() {
        return Ok(false);
    }
    let n = service::places::import_places_file(store, &file).await?;
    tracing::info!(places = n, "demo named places loaded");
    Ok(true)
}

/// The demo's officers (login, 姓名, areas), relative to the fixture directory.
pub const OFFICERS_FILE: &str = "officers.csv";

/// Makes a user of each demo officer who is not one yet (role `officer`,
/// scoped to the towns among their areas, or the district) and gives every
/// one their name, so that lists, routes and exports show 夏卫国, not
/// `officer01`; how many were named.
pub async fn load_officers(store: &DynStore, dir: &Path) -> Result<usize, ServiceError> {
    use crate::auth::{Grant, Grants, Role};
    let path = dir.join(OFFICERS_FILE);
    let Ok(text) = tokio::fs::read_to_string(&path).await else {
        return Ok(0);
    };
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut named = 0;
    for row in reader.records() {
        let row = row.map_err(|e| ServiceError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        let (Some(login), Some(name)) = (row.get(0), row.get(1)) else {
            continue;
        };
        if store.user(login).await?.is_none() {
            let mut towns: Vec<Grant> = row
                .get(2)
                .unwrap_or_default()
                .split_whitespace()
                .filter(|a| a.starts_with("town:"))
                .filter_map(|a| a.parse().ok())
                .collect();
            if towns.is_empty() {
                towns.push(Grant::District);
            }
            let grants = Grants::for_role(Role::Officer, towns)
                .map_err(|e| crate::domain::Invalid::new("scope", e.to_string()))?;
            store.create_user(login, Role::Officer, &grants).await?;
        }
        named += usize::from(store.set_display_name(login, name).await?);
    }
    tracing::info!(officers = named, "demo officers named");
    Ok(named)
}

/// The demo inspection ledger, relative to the fixture directory.
pub const INSPECTIONS_FILE: &str = "inspections.json";

/// Imports the demo inspection ledger when the store has no inspections
/// yet (and the fixture is there); `true` when it was imported.
pub async fn load_inspections(store: &DynStore, dir: &Path) -> Result<bool, ServiceError> {
    let file = dir.join(INSPECTIONS_FILE);
    let any = crate::store::InspectionQuery::default();
    if !file.is_file() || !store.inspections(&any).await?.is_empty() {
        return Ok(false);
    }
    let text = tokio::fs::read_to_string(&file)
        .await
        .map_err(|source| ServiceError::Io {
            path: file.display().to_string(),
            source,
        })?;
    let (inspections, hazards) = service::inspections::import_ledger(store, &text).await?;
    tracing::info!(inspections, hazards, "demo inspection ledger loaded");
    Ok(true)
}

/// The demo road network, relative to the fixture directory.
pub const ROADS_FILE: &str = "roads/songjiang_roads.geojson";

/// Imports the demo road network when the store has none yet (and the
/// fixture is there); `true` when it was imported.
pub async fn load_roads(store: &DynStore, dir: &Path) -> Result<bool, ServiceError> {
    let file = dir.join(ROADS_FILE);
    if !file.is_file() || store.road_network().await?.is_some() {
        return Ok(false);
    }
    let done = service::routes::import_roads_file(store, &file).await?;
    tracing::info!(
        nodes = done.nodes,
        edges = done.edges,
        "demo road network loaded"
    );
    Ok(true)
}
