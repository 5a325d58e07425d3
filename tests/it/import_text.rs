//! The command line's imports hold text to the rules of the API: control
//! characters (NUL, escapes), over-long officer, device and track names,
//! and layers outside the district are refused with a readable line and a
//! non-zero exit, and nothing is stored.

use crate::common;
use crate::write_text::{CSV, GPX, NUL, fill};

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridpatrol"))
        .args(args)
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

/// A refused import: non-zero exit, one readable line on stderr naming
/// `what`.
fn refused(out: &Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(lines[0].contains(what), "{what} in {err}");
    assert!(!err.contains('\u{0}'), "no NUL echoed: {err:?}");
}

/// Rows of a table of the embedded store.
fn count(db: &Path, table: &str) -> i64 {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("the store opens");
        sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}"))
            .fetch_one(&pool)
            .await
            .expect("a count")
    })
}

#[test]
fn imports_refuse_control_characters_and_places_outside_the_district() {
    let dir = std::env::temp_dir().join(format!("gridpatrol-nul-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("gp.db");
    let towns = common::fixtures().join("towns.geojson");
    let out = run(&db, &["import", "towns", towns.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let venue = |name: &str, lon: f64, lat: f64| {
        json!({"type": "FeatureCollection", "features": [{"type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"code": "V-1", "kind": "mall", "name": name, "source": "survey"}}]})
        .to_string()
    };
    let file = dir.join("venues.geojson");
    for (text, what) in [
        (
            venue("王府井百货", 116.4109, 39.9139),
            "outside the district",
        ),
        (venue(NUL, 121.2249, 31.0135), "control characters"),
        (
            venue("万达广场", 121.2249, 31.0135).replace("survey", "su\\u001bvey"),
            "control characters",
        ),
    ] {
        std::fs::write(&file, text).expect("file");
        refused(
            &run(&db, &["import", "venues", file.to_str().expect("path")]),
            what,
        );
        assert_eq!(count(&db, "venue"), 0, "nothing stored");
    }

    let csv = dir.join("projects.csv");
    std::fs::write(
        &csv,
        format!(
            "工程编号,工程名称,工程类别,资金来源,投资额,地址,经度,纬度\n\
             SJ-1,岳阳工程,装饰装修,社会投资,288000,荣乐东路{NUL}1号,121.2249,31.0135\n"
        ),
    )
    .expect("file");
    refused(
        &run(&db, &["import", "projects", csv.to_str().expect("path")]),
        "control characters",
    );
    assert_eq!(count(&db, "project"), 0, "nothing stored");

    // a file of tracks names each refused track and why, then fails; a
    // control character in GPX is no XML and its parser names it
    let gpx = dir.join("track.gpx");
    let csv = dir.join("track.csv");
    for (file, template, field, text, what) in [
        (&gpx, GPX, "name", "长".repeat(201), "at most 200"),
        (&gpx, GPX, "officer", "长".repeat(65), "at most 64"),
        (&gpx, GPX, "device", "长".repeat(65), "at most 64"),
        (&gpx, GPX, "name", NUL.to_owned(), "U+0000"),
        (&csv, CSV, "name", NUL.to_owned(), "control characters"),
        (
            &csv,
            CSV,
            "officer",
            "甲\u{1b}乙".to_owned(),
            "control characters",
        ),
        (&csv, CSV, "device", NUL.to_owned(), "control characters"),
    ] {
        std::fs::write(file, fill(template, field, &text)).expect("file");
        let out = run(&db, &["import", "tracks", file.to_str().expect("path")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{field} accepted: {err}");
        assert!(err.contains(what), "{field}: {what} in {err}");
        assert!(!err.contains(['\u{0}', '\u{1b}']), "{err:?}");
    }
    // the officer given on the command line is held to the same rule
    std::fs::write(&csv, fill(CSV, "", "")).expect("file");
    let out = run(
        &db,
        &[
            "import",
            "tracks",
            "--officer",
            "甲\u{1b}乙",
            csv.to_str().expect("path"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("control characters"), "{err}");
    assert_eq!(count(&db, "track"), 0, "nothing stored");
    // and the same file with a plain officer is stored
    let out = run(&db, &["import", "tracks", csv.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&db, "track"), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
