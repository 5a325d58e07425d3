//! The read path's answer cache: an answer changes after a write (through
//! the API, through the store, and by another process such as the CLI), a
//! matching `If-None-Match` is a 304 and a write gives a new `ETag`, callers
//! of different scopes never share an answer, and the cache stays within
//! its bound.

use crate::common::{self, Answer, TestApp};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gridpatrol::auth::Role;
use gridpatrol::demo::LAYER_FILES;
use gridpatrol::http::AppState;
use gridpatrol::service::cache::{Answer as Kept, AnswerCache, AnswerKey, Lookup, Question};
use gridpatrol::service::{self, ImportKind};
use gridpatrol::spatial::Crs;
use gridpatrol::store::DynStore;
use serde_json::Value;

/// 方松街道, where the morning walk of 2026-10-28 starts.
const FANGSONG: &str = "310117003";
const WALK: &str = "2026-10-28_officer01_am.gpx";
const WINDOW: &str = "from=2026-10-27&to=2026-11-03";

/// Towns, zones and grids: what coverage needs.
async fn grids_only(store: &DynStore) {
    for (kind, file) in LAYER_FILES {
        if matches!(
            kind,
            ImportKind::Towns | ImportKind::Zones | ImportKind::Grids
        ) {
            service::import_file(
                store,
                kind,
                &common::fixtures().join(file),
                Crs::Wgs84,
                &|_| {},
            )
            .await
            .expect("layer loads");
        }
    }
}

fn walk() -> Vec<u8> {
    std::fs::read(common::fixtures().join("tracks").join(WALK)).expect("track fixture")
}

/// `GET` with a token, an optional `If-None-Match` and `Accept-Encoding`.
async fn get(
    app: &TestApp,
    token: &str,
    uri: &str,
    if_none_match: Option<&str>,
    gzip: bool,
) -> Answer {
    let mut req = Request::get(uri).header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(tag) = if_none_match {
        req = req.header(header::IF_NONE_MATCH, tag);
    }
    if gzip {
        req = req.header(header::ACCEPT_ENCODING, "gzip");
    }
    app.send(req.body(Body::empty()).expect("a request")).await
}

fn etag(a: &Answer) -> String {
    a.header(header::ETAG)
        .unwrap_or_else(|| panic!("an ETag: {a}"))
        .to_owned()
}

fn patrolled(a: &Answer) -> usize {
    a.json()["features"]
        .as_array()
        .unwrap_or_else(|| panic!("cells: {a}"))
        .iter()
        .filter(|f| f["properties"]["patrolled"] == true)
        .count()
}

/// The summary row of a town.
fn town_row<'a>(a: &'a Answer, code: &str) -> Option<&'a Value> {
    a.json()["areas"]
        .as_array()
        .unwrap_or_else(|| panic!("areas: {a}"))
        .iter()
        .find(|r| r["area"] == code)
}

/// An upload through the API changes the cached coverage and summary: a
/// repeated question is the same bytes under the same `ETag`, a matching
/// `If-None-Match` a bodiless 304, and after the write the same question is a
/// 200 with a new `ETag` and the patrol in it.
async fn an_upload_changes_the_cached_answers(store: DynStore) {
    grids_only(&store).await;
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let cells = format!("/api/v1/coverage?scope=town:{FANGSONG}&{WINDOW}");
    let summary = format!("/api/v1/coverage/summary?level=town&{WINDOW}");

    let first = get(&app, &admin, &cells, None, false).await;
    assert_eq!(first.status, StatusCode::OK, "{first}");
    assert_eq!(patrolled(&first), 0);
    assert_eq!(
        first.header(header::CACHE_CONTROL),
        Some("private, no-cache")
    );
    let tag = etag(&first);
    let again = get(&app, &admin, &cells, None, false).await;
    assert_eq!(etag(&again), tag, "the same question, the same answer");
    assert_eq!(again.body, first.body);
    let before = get(&app, &admin, &summary, None, false).await;
    assert_eq!(
        town_row(&before, FANGSONG).expect("the town")["patrolled_cells"],
        0
    );

    let not_modified = get(&app, &admin, &cells, Some(&tag), false).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert!(not_modified.body.is_empty());
    assert_eq!(etag(&not_modified), tag);
    let weak = get(
        &app,
        &admin,
        &cells,
        Some(&format!("\"x\", W/{tag}")),
        false,
    )
    .await;
    assert_eq!(weak.status, StatusCode::NOT_MODIFIED, "weak comparison");

    let up = app
        .post_bytes(&admin, "/api/v1/tracks", "application/gpx+xml", walk())
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{up}");

    let after = get(&app, &admin, &cells, Some(&tag), false).await;
    assert_eq!(after.status, StatusCode::OK, "the write made the tag stale");
    assert_ne!(etag(&after), tag);
    assert!(patrolled(&after) > 0, "the walk is in the answer");
    let summary_after = get(&app, &admin, &summary, None, false).await;
    assert_ne!(etag(&summary_after), etag(&before));
    assert!(
        town_row(&summary_after, FANGSONG).expect("the town")["patrolled_cells"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
    let revalidated = get(&app, &admin, &cells, Some(&etag(&after)), false).await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
}

/// A write through the store itself (no HTTP request, as an import does)
/// is seen by the next question: the version lives in the database.
async fn a_write_through_the_store_is_seen(store: DynStore) {
    grids_only(&store).await;
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let cells = format!("/api/v1/coverage?scope=town:{FANGSONG}&{WINDOW}");
    let first = get(&app, &admin, &cells, None, false).await;
    assert_eq!(patrolled(&first), 0, "{first}");
    let version = store.data_version().await.expect("a version");
    service::tracks::upload(
        &store,
        &walk(),
        None,
        Some(WALK),
        &service::tracks::UploadOptions::default(),
    )
    .await
    .expect("stored");
    assert!(store.data_version().await.expect("a version") > version);
    let after = get(&app, &admin, &cells, Some(&etag(&first)), false).await;
    assert_eq!(after.status, StatusCode::OK, "{after}");
    assert!(patrolled(&after) > 0);
}

/// A grid changed in the store reaches the next answer: the grids are
/// shared per data version, and the version moved.
async fn a_grid_change_reaches_the_answers(store: DynStore) {
    grids_only(&store).await;
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let cells = format!("/api/v1/coverage?scope=town:{FANGSONG}&{WINDOW}");
    let first = get(&app, &admin, &cells, None, false).await;
    let intervals = |a: &Answer| -> Vec<u64> {
        a.json()["features"]
            .as_array()
            .expect("cells")
            .iter()
            .filter_map(|f| f["properties"]["interval_days"].as_u64())
            .collect()
    };
    assert!(!intervals(&first).contains(&45), "{first}");
    let mut grid = gridpatrol::store::typed::all::<gridpatrol::domain::Grid>(&store)
        .await
        .expect("grids")
        .into_iter()
        .find(|g| g.value.town == FANGSONG)
        .expect("a grid of the town");
    grid.value.patrol_interval_days = 45;
    assert!(
        gridpatrol::store::typed::update(&store, grid.id, &grid.value)
            .await
            .expect("updated")
    );
    let after = get(&app, &admin, &cells, Some(&etag(&first)), false).await;
    assert_eq!(after.status, StatusCode::OK, "{after}");
    assert!(intervals(&after).contains(&45));
}

/// Every table whose rows change these answers moves the version; the
/// visits of a track ride on their track.
async fn every_answer_table_moves_the_version(store: DynStore) {
    let mut version = store.data_version().await.expect("a version");
    for (kind, file) in LAYER_FILES {
        service::import_file(
            &store,
            kind,
            &common::fixtures().join(file),
            Crs::Wgs84,
            &|_| {},
        )
        .await
        .expect("layer loads");
        let now = store.data_version().await.expect("a version");
        assert!(now > version, "importing {file} moves the version");
        version = now;
        // the same file again changes nothing, and nothing moves
        service::import_file(
            &store,
            kind,
            &common::fixtures().join(file),
            Crs::Wgs84,
            &|_| {},
        )
        .await
        .expect("layer loads");
        assert_eq!(
            store.data_version().await.expect("a version"),
            version,
            "re-importing {file} unchanged"
        );
    }
    gridpatrol::demo::load_inspections(&store, &common::fixtures())
        .await
        .expect("ledger loads");
    let now = store.data_version().await.expect("a version");
    assert!(now > version, "inspections and hazards move the version");
}

/// Two callers of different scopes never get each other's answer, however
/// the cache was filled: a town's staff asking what the admin asked get
/// their town only, and a town outside their scope stays not found.
async fn scopes_never_share_answers(store: DynStore) {
    grids_only(&store).await;
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let fangsong = format!("town:{FANGSONG}");
    let staff = common::token_for(&store, "fangsong-staff", Role::Town, &[&fangsong]).await;
    let other = common::token_for(&store, "yueyang-staff", Role::Town, &["town:310117001"]).await;
    let summary = format!("/api/v1/coverage/summary?level=town&{WINDOW}");
    let cells = format!("/api/v1/coverage?scope=town:{FANGSONG}&{WINDOW}");

    let all = get(&app, &admin, &summary, None, false).await;
    assert_eq!(all.json()["areas"].as_array().map(Vec::len), Some(18));
    let mine = get(&app, &staff, &summary, None, false).await;
    let areas = mine.json()["areas"].as_array().expect("areas");
    assert_eq!(areas.len(), 1, "{mine}");
    assert_eq!(areas[0]["area"], FANGSONG);
    assert_ne!(etag(&mine), etag(&all));
    // the town's staff may not revalidate the admin's answer
    let borrowed = get(&app, &staff, &summary, Some(&etag(&all)), false).await;
    assert_eq!(borrowed.status, StatusCode::OK);
    assert_eq!(borrowed.body, mine.body);

    // the other way round: the town asked first
    let theirs = get(&app, &staff, &cells, None, false).await;
    assert_eq!(theirs.status, StatusCode::OK, "{theirs}");
    let admins = get(&app, &admin, &cells, None, false).await;
    assert_eq!(admins.status, StatusCode::OK);
    assert_ne!(etag(&admins), etag(&theirs));
    let outside = get(&app, &other, &cells, None, false).await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND, "{outside}");
    let outside = get(&app, &other, &cells, Some(&etag(&admins)), false).await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND, "{outside}");
}

/// A client that takes gzip gets the same answer compressed, under its own
/// `ETag`; either tag revalidates.
async fn gzip_is_kept_beside_the_answer(store: DynStore) {
    grids_only(&store).await;
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let cells = format!("/api/v1/coverage?scope=town:{FANGSONG}&{WINDOW}");
    let plain = get(&app, &admin, &cells, None, false).await;
    for _ in 0..2 {
        let zipped = get(&app, &admin, &cells, None, true).await;
        assert_eq!(zipped.status, StatusCode::OK);
        assert_eq!(zipped.header(header::CONTENT_ENCODING), Some("gzip"));
        assert_ne!(etag(&zipped), etag(&plain));
        let mut text = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&zipped.body[..]),
            &mut text,
        )
        .expect("gzip");
        assert_eq!(text, plain.body);
        let again = get(&app, &admin, &cells, Some(&etag(&plain)), true).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    }
}

store_tests!(
    an_upload_changes_the_cached_answers,
    a_write_through_the_store_is_seen,
    a_grid_change_reaches_the_answers,
    every_answer_table_moves_the_version,
    scopes_never_share_answers,
    gzip_is_kept_beside_the_answer,
);

/// The CLI importing a track into the database a server reads: the next
/// answer has it.
async fn another_process_writes(store: DynStore, url: &str) {
    grids_only(&store).await;
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let cells = format!("/api/v1/coverage?scope=town:{FANGSONG}&{WINDOW}");
    let first = get(&app, &admin, &cells, None, false).await;
    assert_eq!(patrolled(&first), 0, "{first}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gridpatrol"))
        .args(["import", "tracks", "--database-url", url])
        .arg(common::fixtures().join("tracks").join(WALK))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = get(&app, &admin, &cells, Some(&etag(&first)), false).await;
    assert_eq!(after.status, StatusCode::OK, "{after}");
    assert!(patrolled(&after) > 0);
}

#[tokio::test]
async fn the_cli_writing_is_seen_by_a_server_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("gridpatrol-read-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("shared.db");
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let store = gridpatrol::store::open(&url).await.expect("sqlite file");
    another_process_writes(store, &url).await;
}

#[sqlx::test(migrations = false)]
async fn the_cli_writing_is_seen_by_a_server_on_postgis(pool: sqlx::PgPool) {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL names the PostgreSQL server");
    let cut = base.rfind('/').expect("a database in DATABASE_URL");
    let db = pool
        .connect_options()
        .get_database()
        .expect("a test database")
        .to_owned();
    let url = format!("{}/{db}", &base[..cut]);
    another_process_writes(common::postgis_store(pool).await, &url).await;
}

fn kept(bytes: usize) -> std::sync::Arc<Kept> {
    std::sync::Arc::new(Kept::new(
        "application/json".into(),
        vec![b' '; bytes].into(),
    ))
}

/// The cache holds at most its capacity, however many answers pass.
#[tokio::test]
async fn the_cache_stays_within_its_bound() {
    const CAPACITY: u64 = 1024 * 1024;
    let cache = AnswerCache::new(CAPACITY);
    for i in 0..200 {
        let key = AnswerKey::new(&Question {
            operation: "/api/v1/coverage",
            params: vec![("to".into(), i.to_string())],
            access: "admin".into(),
            now_ms: None,
            data_version: 1,
        });
        match cache.lookup(&key).await {
            Lookup::Miss(Some(loading)) => loading.fill(kept(50_000)),
            _ => panic!("a new key is a miss with a place to fill"),
        }
        assert!(cache.held() <= CAPACITY, "{} held", cache.held());
    }
    assert!(cache.held() > CAPACITY / 2, "the cache is used");

    // through the router: a small cache and many windows
    let store = common::sqlite_store().await;
    grids_only(&store).await;
    let app = TestApp::from_state(AppState::new(store.clone()).with_answer_cache(CAPACITY));
    let admin = common::admin_token(&store).await;
    for day in 1..=12 {
        let uri = format!("/api/v1/coverage?scope=town:{FANGSONG}&to=2026-11-{day:02}");
        let a = get(&app, &admin, &uri, None, false).await;
        assert_eq!(a.status, StatusCode::OK, "{a}");
        assert!(app.state.answers.held() <= CAPACITY);
    }
}
