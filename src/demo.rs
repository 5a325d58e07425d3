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
    Ok(done)
}
