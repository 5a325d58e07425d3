//! Nothing acknowledged is lost: parallel appends to one live track keep
//! every point, uploads of one track at once answer with one id, a hundred
//! uploads at once on SQLite all commit, and a database that cannot take
//! writes (a file that cannot grow, a read-only file) answers 503 with a
//! `Retry-After`, says so in `/health`, and keeps every track it
//! acknowledged, under ids that are never given again.

use crate::common::{self, Answer, TestApp, assert_problem};

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::StatusCode;
use gridpatrol::store::DynStore;
use gridpatrol::store::sqlite::SqliteStore;
use serde_json::{Value, json};
use tokio::task::JoinSet;

/// A scratch directory of its own for one test.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("gridpatrol-durable-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

async fn file_store(path: &Path, max_pages: Option<u32>) -> DynStore {
    Arc::new(
        SqliteStore::open_with(path.to_str().expect("utf-8 path"), max_pages)
            .await
            .expect("sqlite file store"),
    )
}

/// A walk of `n` fixes, ten seconds and about ten metres apart, that no
/// other walk of another `k` repeats.
fn walk_csv(officer: &str, k: u32, n: u32) -> String {
    let mut csv = String::from("officer,time,lon,lat\n");
    for i in 0..n {
        let t = chrono::DateTime::from_timestamp(
            1_793_000_000 + i64::from(k) * 86_400 + i64::from(i) * 10,
            0,
        )
        .expect("time");
        let lon = 121.2200 + f64::from(i) * 0.0001;
        let lat = 31.0300 + f64::from(k % 50) * 0.0005;
        let _ = writeln!(csv, "{officer},{},{lon:.6},{lat:.6}", t.to_rfc3339());
    }
    csv
}

async fn upload(app: &TestApp, token: &str, uri: &str, csv: String) -> Answer {
    app.request(
        "POST",
        uri,
        Some(token),
        Some(("text/csv", csv.into_bytes())),
    )
    .await
}

fn track_id(a: &Answer) -> i64 {
    a.json()["tracks"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("an id in {a}"))
}

async fn appends_keep_every_point(store: DynStore) {
    let app = TestApp::unlimited(&store);
    let token = common::admin_token(&store).await;
    let first = upload(
        &app,
        &token,
        "/api/v1/tracks?open=true",
        walk_csv("officer07", 0, 50),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{first}");
    let id = track_id(&first);
    let mut batches = JoinSet::new();
    for b in 0..10_u32 {
        let (app, token) = (app.clone(), token.clone());
        batches.spawn(async move {
            let points: Vec<Value> = (0..10_u32)
                .map(|j| {
                    let i = 50 + b * 10 + j;
                    let t = chrono::DateTime::from_timestamp(1_793_000_000 + i64::from(i) * 10, 0)
                        .expect("time");
                    json!({"lon": 121.2200 + f64::from(i) * 0.0001, "lat": 31.0300, "time": t.to_rfc3339()})
                })
                .collect();
            app.post_json(&token, &format!("/api/v1/tracks/{id}/points"), &json!({"points": points}))
                .await
        });
    }
    while let Some(a) = batches.join_next().await {
        let a = a.expect("append task");
        assert_eq!(a.status, StatusCode::OK, "{a}");
    }
    let track = app.get_as(&token, &format!("/api/v1/tracks/{id}")).await;
    assert_eq!(track.status, StatusCode::OK, "{track}");
    assert_eq!(
        track.json()["properties"]["point_count"],
        150,
        "every acknowledged point kept: {track}"
    );
}

async fn one_track_uploaded_at_once_has_one_id(store: DynStore) {
    let app = TestApp::unlimited(&store);
    let token = common::admin_token(&store).await;
    let mut uploads = JoinSet::new();
    for _ in 0..8 {
        let (app, token) = (app.clone(), token.clone());
        uploads.spawn(async move {
            upload(&app, &token, "/api/v1/tracks", walk_csv("officer08", 1, 40)).await
        });
    }
    let mut ids = Vec::new();
    let mut created = 0;
    while let Some(a) = uploads.join_next().await {
        let a = a.expect("upload task");
        assert!(a.status.is_success(), "{a}");
        ids.push(track_id(&a));
        created += usize::from(a.json()["tracks"][0]["created"] == true);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one id for one track: {ids:?}");
    assert_eq!(created, 1, "stored once");
}

/// One test per backend: SQLite on a file of its own (a pool of several
/// connections, unlike the in-memory store of `store_tests!`) and a fresh
/// PostGIS database.
macro_rules! file_and_postgis_tests {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite_file {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = super::scratch(stringify!($name));
                    super::$name(super::file_store(&dir.join("g.db"), None).await).await;
                }
            )+
        }
        mod on_postgis {
            $(
                #[sqlx::test(migrations = false)]
                async fn $name(pool: sqlx::PgPool) {
                    super::$name(super::common::postgis_store(pool).await).await;
                }
            )+
        }
    };
}

file_and_postgis_tests!(
    appends_keep_every_point,
    one_track_uploaded_at_once_has_one_id
);

#[tokio::test]
async fn a_hundred_uploads_at_once_all_commit_on_sqlite() {
    let dir = scratch("hundred");
    let store = file_store(&dir.join("g.db"), None).await;
    let app = TestApp::unlimited(&store);
    let token = common::admin_token(&store).await;
    let mut uploads = JoinSet::new();
    for k in 0..100 {
        let (app, token) = (app.clone(), token.clone());
        uploads.spawn(async move {
            upload(
                &app,
                &token,
                "/api/v1/tracks",
                walk_csv(&format!("officer{k:03}"), k, 30),
            )
            .await
        });
    }
    let mut ids = std::collections::BTreeSet::new();
    while let Some(a) = uploads.join_next().await {
        let a = a.expect("upload task");
        assert_eq!(a.status, StatusCode::CREATED, "{a}");
        ids.insert(track_id(&a));
    }
    assert_eq!(ids.len(), 100);
    let page = app.get_as(&token, "/api/v1/tracks?limit=1").await;
    assert_eq!(page.json()["numberMatched"], 100, "{page}");
}

/// Tracks the store still lists, read `times` over (other pooled
/// connections answer each time).
async fn listed(app: &TestApp, token: &str, times: usize) -> u64 {
    let mut seen = None;
    for _ in 0..times {
        let a = app.get_as(token, "/api/v1/tracks?limit=1").await;
        assert_eq!(a.status, StatusCode::OK, "{a}");
        let n = a.json()["numberMatched"].as_u64().expect("count");
        assert!(
            seen.is_none_or(|s| s == n),
            "the count changed between reads: {seen:?} then {n}"
        );
        seen = Some(n);
    }
    seen.unwrap_or_default()
}

#[tokio::test]
async fn a_full_disk_refuses_writes_and_loses_nothing_acknowledged() {
    let dir = scratch("full");
    let db = dir.join("g.db");
    // the schema alone, then a file that may grow by a few tracks only
    let pages = {
        let store = SqliteStore::open(db.to_str().expect("path"))
            .await
            .expect("store");
        common::admin_token(&(Arc::new(store.clone()) as DynStore)).await;
        let n: i64 = sqlx::query_scalar("pragma page_count")
            .fetch_one(store.pool())
            .await
            .expect("page count");
        store.pool().close().await;
        u32::try_from(n).expect("pages") + 24
    };
    let sqlite = SqliteStore::open_with(db.to_str().expect("path"), Some(pages))
        .await
        .expect("limited store");
    let store: DynStore = Arc::new(sqlite.clone());
    let app = TestApp::unlimited(&store);
    let token = common::admin_token(&store).await;
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for k in 0..40 {
        let a = upload(
            &app,
            &token,
            "/api/v1/tracks",
            walk_csv("officer09", k, 200),
        )
        .await;
        if a.status == StatusCode::CREATED {
            acknowledged.push((track_id(&a), a.json()["tracks"][0]["points"].clone()));
        } else {
            assert_problem(&a, StatusCode::SERVICE_UNAVAILABLE, None);
            let retry: u64 = a
                .header("retry-after")
                .expect("Retry-After")
                .parse()
                .expect("seconds");
            assert!(retry >= 1, "{a}");
            refused += 1;
        }
    }
    assert!(
        !acknowledged.is_empty() && refused > 0,
        "{} stored, {refused} refused",
        acknowledged.len()
    );
    let health = app.get("/health").await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert_eq!(health.json()["status"], "degraded");
    assert_eq!(health.json()["database"], "full", "{health}");
    // no pooled connection holds a write that was refused
    assert_eq!(listed(&app, &token, 12).await, acknowledged.len() as u64);
    drop(app);
    drop(store);
    sqlite.pool().close().await;

    // restarted with room: every acknowledged track is there, whole
    let store = file_store(&db, None).await;
    let app = TestApp::unlimited(&store);
    assert_eq!(listed(&app, &token, 4).await, acknowledged.len() as u64);
    for (id, points) in &acknowledged {
        let a = app.get_as(&token, &format!("/api/v1/tracks/{id}")).await;
        assert_eq!(a.status, StatusCode::OK, "{a}");
        assert_eq!(&a.json()["properties"]["point_count"], points, "{a}");
    }
    assert_eq!(app.get("/health").await.status, StatusCode::OK);
    // and an id once given is never given again
    let next = upload(
        &app,
        &token,
        "/api/v1/tracks",
        walk_csv("officer10", 99, 20),
    )
    .await;
    assert_eq!(next.status, StatusCode::CREATED, "{next}");
    let max = acknowledged
        .iter()
        .map(|(id, _)| *id)
        .max()
        .unwrap_or_default();
    assert!(track_id(&next) > max, "{} after {max}", track_id(&next));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_append_that_keeps_no_point_is_refused() {
    let store = common::sqlite_store().await;
    let app = TestApp::unlimited(&store);
    let token = common::admin_token(&store).await;
    let first = upload(
        &app,
        &token,
        "/api/v1/tracks?open=true",
        walk_csv("officer11", 2, 20),
    )
    .await;
    let id = track_id(&first);
    let batch = json!({"points": [
        {"lon": 121.2230, "lat": 31.0310, "time": "2026-11-03T01:04:00Z"},
        {"lon": 121.2236, "lat": 31.0312, "time": "2026-11-03T01:05:00Z"},
    ]});
    let uri = format!("/api/v1/tracks/{id}/points");
    let a = app.post_json(&token, &uri, &batch).await;
    assert_eq!(a.status, StatusCode::OK, "{a}");
    // the same batch again adds nothing: refused, and said why
    let again = app.post_json(&token, &uri, &batch).await;
    assert_problem(&again, StatusCode::UNPROCESSABLE_ENTITY, Some("points"));
    assert!(again.text().contains("2 repeated"), "{again}");
    let track = app.get_as(&token, &format!("/api/v1/tracks/{id}")).await;
    assert_eq!(track.json()["properties"]["point_count"], 22, "{track}");
}

/// Takes the immutable attribute off a file when dropped, so the scratch
/// directory can go even when the test fails.
struct Immutable<'a>(&'a Path);

impl Immutable<'_> {
    fn set(path: &Path, on: bool) {
        let status = std::process::Command::new("chattr")
            .arg(if on { "+i" } else { "-i" })
            .arg(path)
            .status()
            .expect("chattr runs");
        assert!(status.success(), "chattr on {}", path.display());
    }
}

impl Drop for Immutable<'_> {
    fn drop(&mut self) {
        Self::set(self.0, false);
    }
}

#[tokio::test]
async fn a_read_only_database_serves_reads_refuses_writes_and_says_so() {
    let dir = scratch("readonly");
    let made = dir.join("made.db");
    let (token, id) = {
        let sqlite = SqliteStore::open(made.to_str().expect("path"))
            .await
            .expect("store");
        let store: DynStore = Arc::new(sqlite.clone());
        let app = TestApp::unlimited(&store);
        let token = common::admin_token(&store).await;
        let a = upload(&app, &token, "/api/v1/tracks", walk_csv("officer12", 3, 20)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{a}");
        sqlx::query("pragma wal_checkpoint(TRUNCATE)")
            .execute(sqlite.pool())
            .await
            .expect("checkpoint");
        sqlite.pool().close().await;
        (token, track_id(&a))
    };
    // a copy (a file no connection of this process ever opened) that can
    // no longer be written, not even by root
    let db = dir.join("g.db");
    std::fs::copy(&made, &db).expect("copy");
    Immutable::set(&db, true);
    let _undo = Immutable(&db);
    let store = file_store(&db, None).await;
    let app = TestApp::unlimited(&store);
    let read = app.get_as(&token, &format!("/api/v1/tracks/{id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{read}");
    let write = upload(&app, &token, "/api/v1/tracks", walk_csv("officer12", 4, 20)).await;
    assert_problem(&write, StatusCode::SERVICE_UNAVAILABLE, None);
    assert!(write.header("retry-after").is_some(), "{write}");
    let health = app.get("/health").await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert_eq!(health.json()["database"], "read_only", "{health}");
}
