//! `import`: layers, tracks (each track of a file on its own, or `--strict`)
//! and the road network.

use super::redact;
use crate::ingest::track::{CsvColumns, ParseOptions, TravelMode};
use crate::service::{self, ImportKind};
use crate::spatial::Crs;
use crate::store::{self};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

/// What `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CliImportKind {
    Towns,
    Zones,
    Grids,
    Districts,
    Venues,
    Projects,
    Tracks,
    /// The road network the route planner uses.
    Roads,
    /// Named places (bus stops) that name cells and label the map: a
    /// GeoJSON file of points with `name`; it replaces the stored set.
    Places,
}

impl CliImportKind {
    pub(super) fn layer(self) -> Option<ImportKind> {
        match self {
            Self::Towns => Some(ImportKind::Towns),
            Self::Zones => Some(ImportKind::Zones),
            Self::Grids => Some(ImportKind::Grids),
            Self::Districts => Some(ImportKind::Districts),
            Self::Venues => Some(ImportKind::Venues),
            Self::Projects => Some(ImportKind::Projects),
            Self::Tracks | Self::Roads | Self::Places => None,
        }
    }
}

pub(super) async fn import_roads(url: &str, files: Vec<PathBuf>) -> anyhow::Result<()> {
    let [file] = files.as_slice() else {
        anyhow::bail!("import roads takes one file: the network replaces the stored one");
    };
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let done = service::routes::import_roads_file(&store, file)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    eprintln!(
        "{}: road network stored: {} nodes, {} edges, {} km{}",
        file.display(),
        done.nodes,
        done.edges,
        done.length_km,
        if done.dropped_edges > 0 {
            format!(
                " ({} edges not connected to the rest left out)",
                done.dropped_edges
            )
        } else {
            String::new()
        }
    );
    Ok(())
}

pub(super) async fn import_places(url: &str, files: Vec<PathBuf>) -> anyhow::Result<()> {
    let [file] = files.as_slice() else {
        anyhow::bail!("import places takes one file: its places replace the stored ones");
    };
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let n = service::places::import_places_file(&store, file)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    eprintln!("{}: {n} named places stored", file.display());
    Ok(())
}

/// How track files are read, beyond what they say themselves.
#[derive(Debug, Clone, clap::Args)]
pub struct TrackArgs {
    /// Tracks: how they were recorded, which bounds a plausible speed: foot,
    /// ebike, vehicle, or auto (chosen per track from its own speeds).
    #[arg(long, default_value = "auto")]
    mode: TravelMode,
    /// Tracks, CSV: the time column of a header the reader does not know.
    #[arg(long, value_name = "COLUMN")]
    time_column: Option<String>,
    /// Tracks, CSV: the longitude column.
    #[arg(long, value_name = "COLUMN")]
    lon_column: Option<String>,
    /// Tracks, CSV: the latitude column.
    #[arg(long, value_name = "COLUMN")]
    lat_column: Option<String>,
    /// Tracks, CSV: the column that names the officer.
    #[arg(long, value_name = "COLUMN")]
    officer_column: Option<String>,
    /// Tracks, CSV: the column that tells tracks apart.
    #[arg(long, value_name = "COLUMN")]
    track_column: Option<String>,
    /// Tracks without times: the time of their first point (RFC 3339, or a
    /// date for midnight Beijing time).
    #[arg(long, value_name = "TIME")]
    start: Option<String>,
    /// Tracks without times: seconds between their points (default 1).
    #[arg(long, value_name = "SECONDS")]
    interval_s: Option<f64>,
}

impl TrackArgs {
    pub(super) fn upload_options(
        self,
        officer: Option<String>,
        crs: Crs,
    ) -> anyhow::Result<service::tracks::UploadOptions> {
        let fallback_start = match &self.start {
            None => None,
            Some(s) => Some(
                crate::time::parse_time_ms(s)
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .with_context(|| {
                        format!("--start {s:?} is not a time (RFC 3339) or a date (YYYY-MM-DD)")
                    })?,
            ),
        };
        let untimed_interval = match self.interval_s {
            None => None,
            Some(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => {
                #[expect(clippy::cast_possible_truncation, reason = "bounded above")]
                let ms = (s * 1000.0).round() as i64;
                Some(chrono::TimeDelta::milliseconds(ms))
            }
            Some(s) => anyhow::bail!("--interval-s {s} must be above 0 and at most 86400"),
        };
        Ok(service::tracks::UploadOptions {
            officer,
            crs,
            mode: self.mode,
            fallback_start,
            untimed_interval,
            parse: ParseOptions {
                columns: CsvColumns {
                    time: self.time_column,
                    lon: self.lon_column,
                    lat: self.lat_column,
                    officer: self.officer_column,
                    track: self.track_column,
                },
            },
            ..service::tracks::UploadOptions::default()
        })
    }
}

/// Imports track files, each track on its own: every refused track is
/// named on stderr with its reason; the command fails when nothing could be
/// stored, or, with `strict`, when any track of a file was refused (that
/// file is then not stored at all).
pub(super) async fn import_tracks(
    url: &str,
    files: Vec<PathBuf>,
    opts: service::tracks::UploadOptions,
    strict: bool,
) -> anyhow::Result<()> {
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    // the bar counts fixes: a file of a day of patrols is most of the work
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {human_pos}/{human_len} fixes ({per_sec}) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut created, mut repeated, mut points, mut refused) = (0usize, 0usize, 0usize, 0usize);
    for file in &files {
        bar.set_message(file.display().to_string());
        let bytes = tokio::fs::read(file)
            .await
            .with_context(|| format!("cannot read {}", file.display()))?;
        let name = file.file_name().and_then(|n| n.to_str());
        let (before, known) = (bar.position(), bar.length().unwrap_or(0));
        let tick = bar.clone();
        let progress = move |done: usize, total: usize| {
            tick.set_length(known + total as u64);
            tick.set_position(before + done as u64);
        };
        let outcome = service::tracks::upload_each(&store, &bytes, name, &opts, strict, &progress)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        for r in &outcome.refused {
            bar.suspend(|| eprintln!("{}: {} refused: {}", file.display(), r.track, r.reason));
        }
        refused += outcome.refused.len();
        for t in &outcome.stored {
            if t.created {
                created += 1;
                points += t.points;
            } else {
                repeated += 1;
            }
        }
    }
    bar.finish_and_clear();
    eprintln!(
        "{} files: {created} tracks stored ({points} points), {repeated} already known, \
         {refused} refused",
        files.len()
    );
    if strict && refused > 0 {
        anyhow::bail!("--strict: {refused} tracks refused, their files were not stored");
    }
    if created + repeated == 0 {
        anyhow::bail!("no track could be stored");
    }
    Ok(())
}

pub(super) async fn import(
    url: &str,
    kind: ImportKind,
    file: PathBuf,
    crs: Crs,
) -> anyhow::Result<()> {
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} records ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(format!("importing {}", file.display()));
    let tick = bar.clone();
    let (count, summary) =
        service::import_file(&store, kind, &file, crs, &move |n| tick.set_position(n))
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    bar.finish_and_clear();
    tracing::info!(
        records = count,
        inserted = summary.inserted,
        updated = summary.updated,
        unchanged = summary.unchanged,
        "imported"
    );
    eprintln!(
        "{}: {count} records: {} inserted, {} updated, {} unchanged",
        file.display(),
        summary.inserted,
        summary.updated,
        summary.unchanged
    );
    Ok(())
}
