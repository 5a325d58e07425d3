//! `gridpatrol import tracks FILE` on a CSV of many officers' tracks,
//! through the real binary and an embedded store: the good tracks are
//! stored and the bad one named on stderr; `--strict` stores nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridpatrol"))
        .args(args)
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gridpatrol-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Three officers walking in 广富林 (Songjiang) and one "patrol" in Beijing.
fn batch_csv() -> String {
    let mut csv = String::from("officer,time,lon,lat\n");
    let places = [
        ("王伟", 121.21, 31.05),
        ("李娜", 121.22, 31.04),
        ("张强", 121.20, 31.06),
        ("赵敏", 116.40, 39.90),
    ];
    for (officer, lon, lat) in places {
        for i in 0..60 {
            let t = 1_608_001_200 + 5 * i;
            let lat = lat + f64::from(i) * 0.000_06;
            writeln!(csv, "{officer},{t},{lon},{lat:.6}").expect("a String takes it");
        }
    }
    csv
}

#[test]
fn a_batch_stores_the_good_tracks_and_names_the_bad_one() {
    let dir = temp_dir("batch-tracks");
    let db = dir.join("gridpatrol.db");
    let towns = common::fixtures().join("towns.geojson");
    let out = run(&db, &["import", "towns", towns.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = dir.join("patrols.csv");
    std::fs::write(&file, batch_csv()).expect("write");
    let file = file.to_str().expect("path");

    // --strict: the Beijing track refuses the whole file.
    let strict = run(&db, &["import", "tracks", "--strict", file]);
    let said = stderr(&strict);
    assert!(!strict.status.success(), "{said}");
    assert!(said.contains("赵敏") && said.contains("refused"), "{said}");
    assert!(said.contains("0 tracks stored"), "{said}");

    // Without it: three stored (none was stored before), one refused.
    let out = run(&db, &["import", "tracks", file]);
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    let refusals: Vec<&str> = said.lines().filter(|l| l.contains(" refused: ")).collect();
    assert_eq!(refusals.len(), 1, "{said}");
    assert!(refusals[0].contains("officer 赵敏"), "{said}");
    assert!(refusals[0].contains("usable points"), "{said}");
    assert!(said.contains("3 tracks stored"), "{said}");
    assert!(said.contains("0 already known"), "{said}");

    // Again: the three are known, and the run still succeeds.
    let again = run(&db, &["import", "tracks", file]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("3 already known"),
        "{}",
        stderr(&again)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The AMM vehicle traces of the shared data, unedited: the CSV of raw
/// fixes and the GeoJSON of lines with start and end times import with
/// flags only, and the progress is counted in fixes.
#[test]
fn the_amm_files_import_as_they_come() {
    let dir = temp_dir("amm-tracks");
    let db = dir.join("gridpatrol.db");
    let towns = common::fixtures().join("towns.geojson");
    let out = run(&db, &["import", "towns", towns.to_str().expect("path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tracks");
    let csv = data.join("amm_songjiang_points.csv");
    let csv = csv.to_str().expect("path");
    let json = data.join("amm_songjiang_wgs84.geojson");
    let json = json.to_str().expect("path");

    // the columns named explicitly, the officer from the order number
    let out = run(
        &db,
        &[
            "import",
            "tracks",
            "--mode",
            "vehicle",
            "--time-column",
            "locatetime_ms",
            "--lon-column",
            "lon",
            "--lat-column",
            "lat",
            "--track-column",
            "track_id",
            "--officer-column",
            "order_no",
            csv,
        ],
    );
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("3 tracks stored"), "{said}");
    assert!(said.contains("0 refused"), "{said}");

    // the GeoJSON: three raw traces timed from t_start_ms and t_end_ms
    // (one evenly sampled, so already known from the CSV); the three
    // map-matched lines have no times and are named refused
    let out = run(&db, &["import", "tracks", "--officer", "执法车01", json]);
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("2 tracks stored"), "{said}");
    assert!(said.contains("1 already known, 3 refused"), "{said}");
    assert_eq!(said.matches("no point has a time").count(), 3, "{said}");

    // with a start time and interval, they are stored too
    let out = run(
        &db,
        &[
            "import",
            "tracks",
            "--officer",
            "执法车01",
            "--start",
            "2020-12-15T08:00:00+08:00",
            "--interval-s",
            "2",
            json,
        ],
    );
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("3 tracks stored") && said.contains("3 already known"),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
