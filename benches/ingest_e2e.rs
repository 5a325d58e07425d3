//! Track ingest end to end, as `gridpatrol import tracks` does it: from
//! the bytes of one CSV (a day of district patrols: 1,000 tracks × 2,900
//! fixes at 5 s, walks and e-bike rides inside Songjiang) to committed
//! tracks and cell visits, on SQLite (a temporary file) and on PostGIS (a
//! fresh database on `DATABASE_URL`; skipped when it is unset), with the
//! engine-only rate (parse + clean + tile, nothing stored) of the same run
//! beside them, and a breakdown of where the time goes.
//!
//! The client side runs on one thread (a current-thread runtime; the
//! cleaning and tiling task runs on one blocking thread, one group at a
//! time); the database does its own work (SQLite on its connection's
//! thread, PostgreSQL in its server process).
//!
//! `cargo bench --bench ingest_e2e`; `GRIDPATROL_BENCH_TRACKS` and
//! `GRIDPATROL_BENCH_RUNS` (best of, default 3) change the size and the
//! repetitions. A bench binary, not criterion: one run takes seconds and
//! needs a fresh database.

#![expect(clippy::cast_precision_loss, reason = "rates of counts far below 2^52")]

#[path = "common/patrols.rs"]
mod patrols;

use std::time::{Duration, Instant};

use gridpatrol::coverage::TrackTiler;
use gridpatrol::ingest::track::{CleanParams, Extent, clean, parse_csv};
use gridpatrol::service::tracks::{UploadOptions, upload_each, visits_of, visits_with};
use gridpatrol::service::{self, ImportKind};
use gridpatrol::spatial::Crs;
use gridpatrol::store::{self, DynStore};

const FIXES: usize = 2_900;
const MARGIN_M: f64 = 2_000.0;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn towns_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/songjiang/towns.geojson")
}

/// The towns of the fixtures as one outline, as the service builds it.
fn district() -> geo::MultiPolygon<f64> {
    let text = std::fs::read_to_string(towns_path()).expect("towns fixture");
    let fc: geojson::FeatureCollection = text.parse().expect("towns GeoJSON");
    let mut parts = Vec::new();
    for f in fc.features {
        let g: geo::Geometry<f64> = f.geometry.expect("geometry").try_into().expect("geo");
        match g {
            geo::Geometry::Polygon(p) => parts.push(p),
            geo::Geometry::MultiPolygon(m) => parts.extend(m),
            _ => {}
        }
    }
    geo::MultiPolygon::new(parts)
}

fn rate(fixes: usize, d: Duration) -> String {
    let per_s = fixes as f64 / d.as_secs_f64();
    format!("{:>9.0} fixes/s ({:.2} s)", per_s, d.as_secs_f64())
}

/// CPU time (user + system) of this process, all threads (`/proc/self/stat`,
/// in clock ticks of 10 ms): on a shared machine the wall time also counts
/// what other processes took.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // the fields after the command name, which is in parentheses
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Parse, clean and tile, each step timed: what the upload does before
/// the store, on this thread.
fn engine(csv: &[u8], fixes: usize) -> Duration {
    let params = CleanParams::new(Some(
        Extent::from_outline(district(), MARGIN_M).expect("an extent"),
    ));
    let coverage = UploadOptions::default().coverage;
    let cpu0 = process_cpu();
    let t0 = Instant::now();
    let tracks = parse_csv(csv).expect("parses");
    let t1 = Instant::now();
    let cleaned: Vec<_> = tracks
        .iter()
        .filter_map(|t| clean(t, Crs::Wgs84, &params).ok())
        .map(|c| {
            let fp = c.fingerprint();
            let len = c.length_m();
            (c, fp, len)
        })
        .collect();
    let t2 = Instant::now();
    // as the upload does it: one tiler for the file
    let mut tiler = TrackTiler::new(&coverage);
    let visits: usize = cleaned
        .iter()
        .map(|(c, _, _)| visits_with(&mut tiler, &c.segments).len())
        .sum();
    let t3 = Instant::now();
    let cpu = process_cpu().saturating_sub(cpu0);
    // the baseline: a fresh tiler per track, as before it was kept
    let fresh: usize = cleaned
        .iter()
        .map(|(c, _, _)| visits_of(&c.segments, &coverage).len())
        .sum();
    let t4 = Instant::now();
    assert_eq!(fresh, visits, "a kept tiler finds the same visits");
    let kept: usize = cleaned.iter().map(|(c, _, _)| c.report.kept).sum();
    eprintln!(
        "  engine: parse {} | clean {} | tile {} (a fresh tiler per track: {}) → {} tracks, \
         {kept} fixes kept, {visits} visits; CPU {:.2} s",
        rate(fixes, t1 - t0),
        rate(fixes, t2 - t1),
        rate(fixes, t3 - t2),
        rate(fixes, t4 - t3),
        cleaned.len(),
        cpu.as_secs_f64()
    );
    t3 - t0
}

/// One upload of the file into `store` (with the towns imported), timed.
async fn end_to_end(store: &DynStore, csv: &[u8], fixes: usize) -> Duration {
    service::import_file(store, ImportKind::Towns, &towns_path(), Crs::Wgs84, &|_| {})
        .await
        .expect("towns import");
    let cpu0 = process_cpu();
    let t0 = Instant::now();
    let outcome = upload_each(
        store,
        csv,
        Some("patrol_day.csv"),
        &UploadOptions::default(),
        false,
        &|_, _| {},
    )
    .await
    .expect("upload");
    let took = t0.elapsed();
    let cpu = process_cpu().saturating_sub(cpu0);
    let points: usize = outcome.stored.iter().map(|t| t.points).sum();
    let cells: usize = outcome.stored.iter().map(|t| t.cells).sum();
    assert!(outcome.refused.is_empty(), "{:?}", outcome.refused.first());
    assert!(outcome.stored.iter().all(|t| t.created));
    eprintln!(
        "  stored {} tracks, {points} fixes, {cells} visits: {}; this process's CPU {:.2} s",
        outcome.stored.len(),
        rate(fixes, took),
        cpu.as_secs_f64()
    );
    took
}

async fn sqlite_run(csv: &[u8], fixes: usize) -> Duration {
    let dir = std::env::temp_dir().join(format!("gridpatrol-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("ingest.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = store::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("SQLite store");
    let took = end_to_end(&store, csv, fixes).await;
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    took
}

/// A fresh database next to `DATABASE_URL`'s, dropped after the run.
async fn postgis_run(url: &str, csv: &[u8], fixes: usize, run: usize) -> Duration {
    use sqlx::Connection as _;
    let name = format!("gp_bench_ingest_{}_{run}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(url).await.expect("PostgreSQL");
    sqlx::query(&format!("drop database if exists {name}"))
        .execute(&mut admin)
        .await
        .expect("drop database");
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    let (base, _) = url.rsplit_once('/').expect("a database URL");
    let store = store::open(&format!("{base}/{name}"))
        .await
        .expect("PostGIS store");
    let took = end_to_end(&store, csv, fixes).await;
    drop(store);
    sqlx::query(&format!("drop database if exists {name} with (force)"))
        .execute(&mut admin)
        .await
        .expect("drop database");
    took
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let tracks = env_usize("GRIDPATROL_BENCH_TRACKS", 1_000);
    let runs = env_usize("GRIDPATROL_BENCH_RUNS", 3).max(1);
    let csv = patrols::day_csv(tracks, FIXES);
    let fixes = tracks * FIXES;
    eprintln!(
        "ingest end to end: {tracks} tracks, {fixes} fixes, CSV of {:.0} MB, best of {runs}",
        csv.len() as f64 / 1e6
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let best = |ds: Vec<Duration>| ds.into_iter().min().unwrap_or_default();

    eprintln!("engine only (parse + clean + tile):");
    let engine_best = best((0..runs).map(|_| engine(csv.as_bytes(), fixes)).collect());
    eprintln!("SQLite (temporary file):");
    let sqlite_best = best(
        (0..runs)
            .map(|_| rt.block_on(sqlite_run(csv.as_bytes(), fixes)))
            .collect(),
    );
    let postgis_best = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            eprintln!("PostGIS (fresh database):");
            Some(best(
                (0..runs)
                    .map(|run| rt.block_on(postgis_run(&url, csv.as_bytes(), fixes, run)))
                    .collect(),
            ))
        }
        _ => {
            eprintln!("PostGIS: skipped (DATABASE_URL is not a postgres:// URL)");
            None
        }
    };
    eprintln!("\nbest of {runs}, {fixes} fixes:");
    eprintln!(
        "  engine only (parse + clean + tile) {}",
        rate(fixes, engine_best)
    );
    eprintln!(
        "  end to end, SQLite                 {}",
        rate(fixes, sqlite_best)
    );
    if let Some(d) = postgis_best {
        eprintln!("  end to end, PostGIS                {}", rate(fixes, d));
    }
}
