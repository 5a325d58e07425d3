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

#![expect(
    clippy::cast_precision_loss,
    reason = "rates and sizes of counts far below 2^52"
)]

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
    cpu_of("/proc/self/stat")
}

/// CPU time of this thread (the kernel's scheduler statistics, in ns).
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns: u64 = text
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// User + system CPU time of a process from its `stat` file.
fn cpu_of(stat_path: &str) -> Duration {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
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

/// CPU time of this process's threads named `prefix…`, by thread id (the
/// SQLite connections' worker threads are `sqlx-sqlite-worker-N`).
fn threads_cpu(prefix: &str) -> std::collections::HashMap<String, Duration> {
    let mut out = std::collections::HashMap::new();
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let dir = task.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.starts_with(prefix) {
            let tid = task.file_name().to_string_lossy().into_owned();
            out.insert(tid, cpu_of(&dir.join("stat").to_string_lossy()));
        }
    }
    out
}

/// Bytes this process has written through system calls (`wchar` of
/// `/proc/self/io`): the WAL and the database file, for SQLite.
fn bytes_written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("wchar: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time of the PostgreSQL backends serving database `name` (the server
/// runs on this machine), read while they are still connected.
async fn backends_cpu(admin: &mut sqlx::PgConnection, name: &str) -> Duration {
    let pids: Vec<i32> = sqlx::query_scalar("select pid from pg_stat_activity where datname = $1")
        .bind(name)
        .fetch_all(admin)
        .await
        .unwrap_or_default();
    pids.iter()
        .map(|pid| cpu_of(&format!("/proc/{pid}/stat")))
        .sum()
}

/// Parse, clean and tile, each step timed in CPU time of this thread:
/// what the upload does before the store.
fn engine(csv: &[u8], fixes: usize) -> Duration {
    let params = CleanParams::new(Some(
        Extent::from_outline(district(), MARGIN_M).expect("an extent"),
    ));
    let coverage = UploadOptions::default().coverage;
    let cpu0 = process_cpu();
    let t0 = thread_cpu();
    let tracks = parse_csv(csv).expect("parses");
    let t1 = thread_cpu();
    let cleaned: Vec<_> = tracks
        .iter()
        .filter_map(|t| clean(t, Crs::Wgs84, &params).ok())
        .map(|c| {
            let fp = c.fingerprint();
            let len = c.length_m();
            (c, fp, len)
        })
        .collect();
    let t2 = thread_cpu();
    // as the upload does it: one tiler for the file
    let mut tiler = TrackTiler::new(&coverage);
    let visits: usize = cleaned
        .iter()
        .map(|(c, _, _)| visits_with(&mut tiler, &c.segments).len())
        .sum();
    let t3 = thread_cpu();
    let cpu = process_cpu().saturating_sub(cpu0);
    // the baseline: a fresh tiler per track, as before it was kept
    let fresh: usize = cleaned
        .iter()
        .map(|(c, _, _)| visits_of(&c.segments, &coverage).len())
        .sum();
    let t4 = thread_cpu();
    assert_eq!(fresh, visits, "a kept tiler finds the same visits");
    // the baseline of the tiling table: indexing every fix, on the same fixes
    let res = coverage.resolution();
    let indexed = cleaned
        .iter()
        .flat_map(|(c, _, _)| c.points())
        .filter_map(|p| h3o::LatLng::new(p.lat, p.lon).ok())
        .fold(0_u64, |acc, ll| {
            acc.wrapping_add(u64::from(ll.to_cell(res)))
        });
    std::hint::black_box(indexed);
    let t5 = thread_cpu();
    let kept: usize = cleaned.iter().map(|(c, _, _)| c.report.kept).sum();
    eprintln!(
        "  engine: parse {} | clean {} | tile {} (a fresh tiler per track: {}; to_cell per fix: \
         {}) → {} tracks, {kept} fixes kept, {visits} visits; CPU {:.2} s",
        rate(fixes, t1.saturating_sub(t0)),
        rate(fixes, t2.saturating_sub(t1)),
        rate(fixes, t3.saturating_sub(t2)),
        rate(fixes, t4.saturating_sub(t3)),
        rate(fixes, t5.saturating_sub(t4)),
        cleaned.len(),
        cpu.as_secs_f64()
    );
    t3.saturating_sub(t0)
}

/// Where the database's own CPU time is read: the admin connection and
/// the database's name (PostGIS only).
type Server<'a> = Option<(&'a mut sqlx::PgConnection, &'a str)>;

/// One upload of the file into `store` (with the towns imported), timed:
/// the wall clock, and the CPU time of this process plus, on PostGIS, of
/// the server's backends.
async fn end_to_end(
    store: &DynStore,
    csv: &[u8],
    fixes: usize,
    mut server: Server<'_>,
) -> (Duration, Duration) {
    service::import_file(store, ImportKind::Towns, &towns_path(), Crs::Wgs84, &|_| {})
        .await
        .expect("towns import");
    let server0 = match server.as_mut() {
        Some((admin, name)) => backends_cpu(admin, name).await,
        None => Duration::ZERO,
    };
    let sqlite0 = threads_cpu("sqlx-sqlite");
    let written0 = bytes_written();
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
    let written = bytes_written().saturating_sub(written0);
    let sqlite_cpu: Duration = threads_cpu("sqlx-sqlite")
        .into_iter()
        .map(|(tid, t)| t.saturating_sub(sqlite0.get(&tid).copied().unwrap_or_default()))
        .sum();
    let server_cpu = match server.as_mut() {
        Some((admin, name)) => Some(backends_cpu(admin, name).await.saturating_sub(server0)),
        None => None,
    };
    let points: usize = outcome.stored.iter().map(|t| t.points).sum();
    let cells: usize = outcome.stored.iter().map(|t| t.cells).sum();
    assert!(outcome.refused.is_empty(), "{:?}", outcome.refused.first());
    assert!(outcome.stored.iter().all(|t| t.created));
    let sqlite_note = if sqlite_cpu.is_zero() {
        String::new()
    } else {
        format!(
            "; SQLite's threads {:.2} s, {:.0} MB written",
            sqlite_cpu.as_secs_f64(),
            written as f64 / 1e6
        )
    };
    let server_note = server_cpu.map_or(String::new(), |s| {
        format!(
            " + the server's backends {:.2} s = {}",
            s.as_secs_f64(),
            rate(fixes, cpu + s)
        )
    });
    eprintln!(
        "  stored {} tracks, {points} fixes, {cells} visits: {}; this process's CPU {:.2} s ({}){sqlite_note}{server_note}",
        outcome.stored.len(),
        rate(fixes, took),
        cpu.as_secs_f64(),
        rate(fixes, cpu)
    );
    (took, cpu + server_cpu.unwrap_or_default())
}

async fn sqlite_run(csv: &[u8], fixes: usize) -> (Duration, Duration) {
    let dir = std::env::temp_dir().join(format!("gridpatrol-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("ingest.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = store::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("SQLite store");
    let took = end_to_end(&store, csv, fixes, None).await;
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    took
}

/// A fresh database next to `DATABASE_URL`'s, dropped after the run.
async fn postgis_run(url: &str, csv: &[u8], fixes: usize, run: usize) -> (Duration, Duration) {
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
    let took = end_to_end(&store, csv, fixes, Some((&mut admin, &name))).await;
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
    // the least wall clock and the least CPU time, each over the runs
    let best2 = |ds: Vec<(Duration, Duration)>| {
        let (wall, cpu): (Vec<_>, Vec<_>) = ds.into_iter().unzip();
        (best(wall), best(cpu))
    };

    eprintln!("engine only (parse + clean + tile):");
    let engine_best = best((0..runs).map(|_| engine(csv.as_bytes(), fixes)).collect());
    eprintln!("SQLite (temporary file):");
    let sqlite_best = best2(
        (0..runs)
            .map(|_| rt.block_on(sqlite_run(csv.as_bytes(), fixes)))
            .collect(),
    );
    let postgis_best = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            eprintln!("PostGIS (fresh database):");
            Some(best2(
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
    eprintln!("\nbest of {runs}, {fixes} fixes (wall clock | CPU time):");
    eprintln!(
        "  engine only (parse + clean + tile) {} (CPU time)",
        rate(fixes, engine_best)
    );
    eprintln!(
        "  end to end, SQLite                 {} | {} (this process)",
        rate(fixes, sqlite_best.0),
        rate(fixes, sqlite_best.1)
    );
    if let Some((wall, cpu)) = postgis_best {
        eprintln!(
            "  end to end, PostGIS                {} | {} (this process and the server's backends)",
            rate(fixes, wall),
            rate(fixes, cpu)
        );
    }
}
