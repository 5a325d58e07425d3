//! An embedded database made before migration 0006, when SQLite kept the
//! times of access control and inspections as RFC 3339 text, upgrades in
//! place: every value reads back identical through the store API (times to
//! the millisecond), the audit trail stays append-only and a token still
//! opens the API. One made before 0007, when the layer tables kept
//! `created_at`/`updated_at` as text, upgrades in place too: the times
//! become the same milliseconds, the rows and their references stay. Tracks
//! kept as text (GeoJSON lines, JSON times) read back as blobs do.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, NaiveDate, Utc};
use gridpatrol::auth::token;
use gridpatrol::domain::{Category, Funding, Project, ProjectStatus};
use gridpatrol::http::{AppState, app};
use gridpatrol::inspection::{HazardStatus, Severity};
use gridpatrol::store::access::AuditQuery;
use gridpatrol::store::sqlite::SqliteStore;
use gridpatrol::store::{DynStore, InspectionQuery, typed};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tower::ServiceExt;

/// An event's id, hazard, move, time and author.
type EventRow<'a> = (
    i64,
    i64,
    Option<HazardStatus>,
    HazardStatus,
    DateTime<Utc>,
    &'a str,
);

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("a time")
        .with_timezone(&Utc)
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gridpatrol-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("migrations")).expect("scratch dir");
    dir
}

/// Creates `db` with the migrations before `before` only (`"0006"`: 0001
/// to 0005), as a release without `before` left it.
async fn old_schema(dir: &Path, db: &Path, before: &str) -> sqlx::SqlitePool {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut copied = 0;
    for entry in std::fs::read_dir(&source).expect("migrations") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if name.as_str() < before {
            std::fs::copy(&path, dir.join("migrations").join(&name)).expect("copy");
            copied += 1;
        }
    }
    let expected: usize = before.parse::<usize>().expect("a migration number") - 1;
    assert_eq!(copied, expected, "the migrations before {before}");
    let opts = SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .expect("old database");
    Migrator::new(dir.join("migrations"))
        .await
        .expect("migrator")
        .run(&pool)
        .await
        .expect("the old migrations");
    pool
}

async fn exec(pool: &sqlx::SqlitePool, sql: &str) {
    sqlx::query(sql).execute(pool).await.expect(sql);
}

#[tokio::test]
#[allow(clippy::too_many_lines)]
async fn text_times_become_milliseconds_in_place() {
    let dir = scratch("upgrade");
    let db = dir.join("old.db");
    let pool = old_schema(&dir, &db, "0006").await;

    // access control as the old code wrote it: sqlx's RFC 3339 with offset
    let (plain, live) = token::generate().expect("token");
    let (_, revoked) = token::generate().expect("token");
    exec(
        &pool,
        "insert into app_user (id, name, role, scope, created_at) values \
        (1, 'alice', 'admin', '', '2024-03-05T08:09:10.123+00:00')",
    )
    .await;
    for (hash, created, expires, revoked_at) in [
        (
            &live,
            "2024-03-05T08:09:11.250400+00:00",
            Some("2099-01-01T00:00:00.500+00:00"),
            None,
        ),
        (
            &revoked,
            "2024-03-05T08:09:11.001+00:00",
            None,
            Some("2024-03-06T10:00:00.042+00:00"),
        ),
    ] {
        sqlx::query(
            "insert into api_token (id, user_id, salt, hash, created_at, expires_at, revoked_at) \
             values (?, 1, ?, ?, ?, ?, ?)",
        )
        .bind(&hash.id)
        .bind(&hash.salt)
        .bind(&hash.hash)
        .bind(created)
        .bind(expires)
        .bind(revoked_at)
        .execute(&pool)
        .await
        .expect("token row");
    }
    exec(&pool, "insert into audit_event (at, user_id, user_name, role, method, path, entity, entity_id, status, before) \
        values ('2024-03-05T08:09:12.345+00:00', 1, 'alice', 'admin', 'PUT', '/api/v1/works/7', 'project', '7', 200, '{\"name\":\"old\"}')").await;

    // inspections as the old code wrote them: '%Y-%m-%dT%H:%M:%fZ'
    exec(&pool, "insert into project (id, code, name, category, funding, investment_cny, status, geom, \
        min_lon, min_lat, max_lon, max_lat) values (7, 'P7', 'works', 'repair', 'social', 10000, 'in_progress', \
        '{\"type\":\"Point\",\"coordinates\":[121.2,31.0]}', 121.2, 31.0, 121.2, 31.0)").await;
    exec(&pool, "insert into inspection (id, project_id, inspected_at, inspector, note, recorded_by, recorded_at) \
        values (3, 7, '2024-03-04T09:00:00.000Z', 'wang', 'first visit', 'alice', '2024-03-05T09:30:00.999Z')").await;
    exec(&pool, "insert into hazard (id, inspection_id, project_id, kind, severity, deadline, status, note, found_at, closed_at, updated_at) values \
        (11, 3, 7, 'ladder_at_height', 'serious', '2024-03-11', 'open', 'ladder', '2024-03-04T09:00:00.000Z', null, '2024-03-05T09:30:00.999Z'), \
        (12, 3, 7, 'extension_board', 'general', '2024-03-08', 'closed', 'board', '2024-03-04T09:00:00.000Z', '2024-03-07T16:45:30.007Z', '2024-03-07T16:45:30.007Z')").await;
    exec(&pool, "insert into hazard_event (id, hazard_id, from_status, to_status, changed_at, changed_by, note) values \
        (21, 11, null, 'open', '2024-03-05T09:30:00.999Z', 'alice', 'ladder'), \
        (22, 12, null, 'open', '2024-03-05T09:30:00.999Z', 'alice', 'board'), \
        (23, 12, 'open', 'closed', '2024-03-07T16:45:30.007Z', 'wang', 'removed')").await;
    pool.close().await;

    // the release with 0006 opens it
    let sqlite = SqliteStore::open(db.to_str().expect("path"))
        .await
        .expect("upgraded");
    let store: DynStore = Arc::new(sqlite.clone());

    let alice = store.user("alice").await.expect("user").expect("alice");
    assert_eq!(alice.id, 1);
    assert_eq!(alice.created_at, at("2024-03-05T08:09:10.123Z"));
    assert_eq!(alice.role.as_str(), "admin");

    let grant = store.token(&live.id).await.expect("token").expect("live");
    assert_eq!(grant.expires_at, Some(at("2099-01-01T00:00:00.500Z")));
    assert_eq!(grant.revoked_at, None);
    assert_eq!(
        (grant.hash.salt.clone(), grant.hash.hash.clone()),
        (live.salt.clone(), live.hash.clone())
    );
    assert!(token::parse(&plain).expect("parses").matches(&grant.hash));
    assert!(grant.is_live(Utc::now()));
    let gone = store
        .token(&revoked.id)
        .await
        .expect("token")
        .expect("revoked");
    assert_eq!(gone.expires_at, None);
    assert_eq!(gone.revoked_at, Some(at("2024-03-06T10:00:00.042Z")));
    let users = store.users().await.expect("users");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].active_tokens, 1);
    assert_eq!(users[0].expires_at, Some(at("2099-01-01T00:00:00.500Z")));
    let created: Vec<i64> =
        sqlx::query_scalar("select created_ms from api_token order by created_ms")
            .fetch_all(sqlite.pool())
            .await
            .expect("created_ms");
    assert_eq!(
        created,
        [
            at("2024-03-05T08:09:11.001Z").timestamp_millis(),
            at("2024-03-05T08:09:11.250Z").timestamp_millis()
        ]
    );

    let audit = store
        .audit(&AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .expect("audit");
    assert_eq!(audit.total, 1);
    let e = &audit.items[0];
    assert_eq!(e.at, at("2024-03-05T08:09:12.345Z"));
    assert_eq!(
        (e.user_id, e.user.as_str(), e.method.as_str(), e.status),
        (Some(1), "alice", "PUT", 200)
    );
    assert_eq!(
        (e.entity.as_deref(), e.entity_id.as_deref()),
        (Some("project"), Some("7"))
    );
    assert_eq!(e.before, Some(serde_json::json!({"name": "old"})));

    let all = InspectionQuery::default();
    let inspections = store.inspections(&all).await.expect("inspections");
    assert_eq!(inspections.len(), 1);
    let i = &inspections[0];
    assert_eq!(
        (i.id, i.project_id, i.inspector.as_str(), i.note.as_str()),
        (3, 7, "wang", "first visit")
    );
    assert_eq!(i.inspected_at, at("2024-03-04T09:00:00Z"));
    assert_eq!(i.recorded_at, at("2024-03-05T09:30:00.999Z"));
    let hazards = store.hazards(&all).await.expect("hazards");
    assert_eq!(hazards.len(), 2);
    assert_eq!(
        (hazards[0].id, hazards[0].status, hazards[0].severity),
        (11, HazardStatus::Open, Severity::Serious)
    );
    assert_eq!(
        hazards[0].deadline,
        NaiveDate::from_ymd_opt(2024, 3, 11).expect("date")
    );
    assert_eq!(hazards[0].found_at, at("2024-03-04T09:00:00Z"));
    assert_eq!(hazards[0].closed_at, None);
    assert_eq!(hazards[0].updated_at, at("2024-03-05T09:30:00.999Z"));
    assert_eq!(
        (hazards[1].id, hazards[1].status),
        (12, HazardStatus::Closed)
    );
    assert_eq!(hazards[1].closed_at, Some(at("2024-03-07T16:45:30.007Z")));
    assert_eq!(hazards[1].updated_at, at("2024-03-07T16:45:30.007Z"));
    let events = store.hazard_events(&all).await.expect("events");
    let seen: Vec<EventRow> = events
        .iter()
        .map(|e| (e.id, e.hazard_id, e.from, e.to, e.at, e.by.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                21,
                11,
                None,
                HazardStatus::Open,
                at("2024-03-05T09:30:00.999Z"),
                "alice"
            ),
            (
                22,
                12,
                None,
                HazardStatus::Open,
                at("2024-03-05T09:30:00.999Z"),
                "alice"
            ),
            (
                23,
                12,
                Some(HazardStatus::Open),
                HazardStatus::Closed,
                at("2024-03-07T16:45:30.007Z"),
                "wang"
            ),
        ]
    );

    // the audit trail is still append-only
    for sql in [
        "update audit_event set user_name = 'nobody'",
        "delete from audit_event",
    ] {
        let e = sqlx::query(sql).execute(sqlite.pool()).await;
        assert!(
            e.is_err_and(|e| e.to_string().contains("append-only")),
            "{sql}"
        );
    }
    // the foreign keys hold and point to the rebuilt tables
    let dangling: Vec<(String,)> = sqlx::query_as("select \"table\" from pragma_foreign_key_check")
        .fetch_all(sqlite.pool())
        .await
        .expect("fk check");
    assert!(dangling.is_empty(), "{dangling:?}");
    let bad = sqlx::query("insert into hazard_event (hazard_id, to_status, changed_ms, changed_by) values (999, 'open', 0, 'x')")
        .execute(sqlite.pool())
        .await;
    assert!(bad.is_err_and(|e| e.to_string().contains("FOREIGN KEY")));

    // and the old token still opens the API
    let res = app(AppState::new(store.clone()))
        .oneshot(
            Request::builder()
                .uri("/api/v1/audit")
                .header(header::AUTHORIZATION, format!("Bearer {plain}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::OK);

    sqlite.pool().close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `created_ms`/`updated_ms` of a project.
async fn project_times(pool: &sqlx::SqlitePool, id: i64) -> (i64, i64) {
    sqlx::query_as("select created_ms, updated_ms from project where id = ?")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("project times")
}

#[tokio::test]
#[allow(clippy::too_many_lines)]
async fn layer_text_times_become_milliseconds_in_place() {
    let dir = scratch("upgrade-layers");
    let db = dir.join("old.db");
    let pool = old_schema(&dir, &db, "0007").await;

    // a work with the times the old code and defaults wrote, one with the
    // defaults of the old schema, and the inspection records that refer to
    // the first (already in milliseconds since 0006)
    exec(&pool, "insert into project (id, code, name, category, funding, investment_cny, floor_area_m2, status, \
        started_on, hot_work, address, created_at, updated_at, geom, min_lon, min_lat, max_lon, max_lat) values \
        (7, 'P7', 'works', 'repair', 'social', 10000, 80.5, 'in_progress', '2024-02-01', 1, 'No. 7', \
        '2024-03-05T08:09:10.123Z', '2024-03-06T11:00:00.456Z', \
        '{\"type\":\"Point\",\"coordinates\":[121.2,31.0]}', 121.2, 31.0, 121.2, 31.0)").await;
    let before_ms = Utc::now().timestamp_millis() - 1_000;
    exec(&pool, "insert into project (id, code, name, category, funding, investment_cny, status, geom, \
        min_lon, min_lat, max_lon, max_lat) values (9, 'P9', 'defaults', 'fit_out', 'government', 5, 'filed', \
        '{\"type\":\"Point\",\"coordinates\":[121.3,31.1]}', 121.3, 31.1, 121.3, 31.1)").await;
    exec(&pool, "insert into inspection (id, project_id, inspected_ms, inspector, note, recorded_by, recorded_ms) \
        values (3, 7, 1709542800000, 'wang', 'first visit', 'alice', 1709631000999)").await;
    exec(&pool, "insert into hazard (id, inspection_id, project_id, kind, severity, deadline, status, note, found_ms, closed_ms, updated_ms) values \
        (11, 3, 7, 'ladder_at_height', 'serious', '2024-03-11', 'open', 'ladder', 1709542800000, null, 1709631000999)").await;
    exec(&pool, "insert into hazard_event (id, hazard_id, from_status, to_status, changed_ms, changed_by, note) values \
        (21, 11, null, 'open', 1709631000999, 'alice', 'ladder')").await;
    pool.close().await;

    // the release with 0007 opens it
    let sqlite = SqliteStore::open(db.to_str().expect("path"))
        .await
        .expect("upgraded");
    let store: DynStore = Arc::new(sqlite.clone());
    let after_ms = Utc::now().timestamp_millis() + 1_000;

    // no text time is left; the times are the same instants
    let text_times: i64 = sqlx::query_scalar(
        "select count(*) from pragma_table_info('project') where name in ('created_at', 'updated_at')",
    )
    .fetch_one(sqlite.pool())
    .await
    .expect("columns");
    assert_eq!(text_times, 0);
    assert_eq!(
        project_times(sqlite.pool(), 7).await,
        (
            at("2024-03-05T08:09:10.123Z").timestamp_millis(),
            at("2024-03-06T11:00:00.456Z").timestamp_millis()
        )
    );
    let (created9, updated9) = project_times(sqlite.pool(), 9).await;
    assert!((before_ms..=after_ms).contains(&created9), "{created9}");
    assert_eq!(created9, updated9);

    // the rows read back the same through the store
    let works = typed::all::<Project>(&store).await.expect("projects");
    let ids: Vec<i64> = works.iter().map(|w| w.id).collect();
    assert_eq!(ids, [7, 9]);
    let p = &works[0].value;
    assert_eq!(
        (p.code.as_str(), p.name.as_str(), p.address.as_str()),
        ("P7", "works", "No. 7")
    );
    assert_eq!(
        (p.category, p.funding, p.status),
        (Category::Repair, Funding::Social, ProjectStatus::InProgress)
    );
    assert_eq!((p.investment_cny, p.floor_area_m2), (10_000, Some(80.5)));
    assert_eq!(p.started_on, NaiveDate::from_ymd_opt(2024, 2, 1));
    assert!(p.hot_work && !p.insulation);
    assert_eq!(
        p.geometry,
        geo::Geometry::Point(geo::Point::new(121.2, 31.0))
    );
    let all = InspectionQuery::default();
    let inspections = store.inspections(&all).await.expect("inspections");
    assert_eq!(
        inspections
            .iter()
            .map(|i| (i.id, i.project_id, i.inspected_at))
            .collect::<Vec<_>>(),
        [(3, 7, at("2024-03-04T09:00:00Z"))]
    );
    let hazards = store.hazards(&all).await.expect("hazards");
    assert_eq!(
        hazards
            .iter()
            .map(|h| (h.id, h.project_id, h.updated_at))
            .collect::<Vec<_>>(),
        [(11, 7, at("2024-03-05T09:30:00.999Z"))]
    );
    let events = store.hazard_events(&all).await.expect("events");
    assert_eq!(
        events
            .iter()
            .map(|e| (e.id, e.hazard_id))
            .collect::<Vec<_>>(),
        [(21, 11)]
    );

    // the foreign keys hold and point to the rebuilt tables
    let dangling: Vec<(String,)> = sqlx::query_as("select \"table\" from pragma_foreign_key_check")
        .fetch_all(sqlite.pool())
        .await
        .expect("fk check");
    assert!(dangling.is_empty(), "{dangling:?}");
    let bad = sqlx::query("insert into inspection (project_id, inspected_ms, inspector, recorded_by, recorded_ms) values (999, 0, 'x', 'x', 0)")
        .execute(sqlite.pool())
        .await;
    assert!(bad.is_err_and(|e| e.to_string().contains("FOREIGN KEY")));
    let gone = sqlx::query("delete from project where id = 7")
        .execute(sqlite.pool())
        .await;
    assert!(gone.is_err_and(|e| e.to_string().contains("FOREIGN KEY")));
    // and the indexes are there again
    let indexes: Vec<String> = sqlx::query_scalar(
        "select name from sqlite_master where type = 'index' and name not like 'sqlite_%' \
         and tbl_name in ('project', 'inspection', 'hazard', 'hazard_event') order by name",
    )
    .fetch_all(sqlite.pool())
    .await
    .expect("indexes");
    assert_eq!(
        indexes,
        [
            "hazard_event_hazard_idx",
            "hazard_inspection_idx",
            "hazard_open_deadline_idx",
            "hazard_project_idx",
            "inspection_project_idx",
            "inspection_time_idx",
            "project_bbox_idx",
            "project_town_idx",
        ]
    );

    // an edit keeps the creation time and stamps the update in milliseconds
    let mut edited = p.clone();
    edited.name = "works, edited".into();
    assert!(typed::update(&store, 7, &edited).await.expect("update"));
    let (created7, updated7) = project_times(sqlite.pool(), 7).await;
    assert_eq!(created7, at("2024-03-05T08:09:10.123Z").timestamp_millis());
    let now = Utc::now().timestamp_millis();
    assert!(
        (now - 5_000..=now + 1_000).contains(&updated7),
        "{updated7}"
    );
    // and a new work is stamped in milliseconds
    let mut fresh = p.clone();
    fresh.code = "P10".into();
    let id = typed::insert(&store, &fresh).await.expect("insert");
    let (created, updated) = project_times(sqlite.pool(), id).await;
    assert!((now - 5_000..=now + 5_000).contains(&created), "{created}");
    assert_eq!(created, updated);

    sqlite.pool().close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A track stored by a release that kept its lines as GeoJSON text and its
/// times as a JSON array still reads back the same as one stored now (lines
/// as WKB, times as packed integers), and so does a one-point segment.
#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "a track stored, rewritten in the old text form and read back, in order"
)]
async fn tracks_kept_as_text_read_back() {
    use gridpatrol::spatial::TrackPoint;
    use gridpatrol::store::tracks::{NewTrack, StoredVisit};
    let dir = scratch("track-text");
    let store = SqliteStore::open(&dir.join("t.db").display().to_string())
        .await
        .expect("store");
    let point = |i: i32, t_ms: i64| TrackPoint {
        lon: 121.2 + f64::from(i) * 1.3e-4 + 1e-12,
        lat: 31.03 - f64::from(i) * 7e-5,
        t_ms,
    };
    let track = NewTrack {
        officer: "巡查员甲".into(),
        device: "dev-1".into(),
        name: "早班".into(),
        fingerprint: "fp-text-1".into(),
        segments: vec![
            (0..30)
                .map(|i| point(i, 1_700_000_000_000 + i64::from(i) * 5_000))
                .collect(),
            vec![point(40, 1_700_000_400_000)],
        ],
        length_m: 123.5,
        resolution: 10,
        sighting_m: 25.0,
        open: false,
        report: serde_json::json!({"received": 31, "kept": 31}),
    };
    let visit = StoredVisit {
        track_id: 0,
        cell: 0x08a3_09a4_ae6b_7fff,
        first_ms: 1_700_000_000_000,
        last_ms: 1_700_000_100_000,
    };
    let id = gridpatrol::store::tracks::TrackStore::insert_tracks(
        &store,
        vec![(track.clone(), vec![visit])],
    )
    .await
    .expect("insert")[0]
        .id;
    let types: (String, String) =
        sqlx::query_as("select typeof(geom), typeof(times_ms) from track where id = ?")
            .bind(id)
            .fetch_one(store.pool())
            .await
            .expect("types");
    assert_eq!(types, ("blob".to_owned(), "blob".to_owned()));
    let now = gridpatrol::store::tracks::TrackStore::get_track(&store, id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(now.track, track, "WKB and packed times read back exactly");

    // as the earlier release wrote it: GeoJSON text (shortest round-trip
    // numbers) and a JSON array
    let coords = |s: &[TrackPoint]| -> Vec<[f64; 2]> {
        let mut c: Vec<[f64; 2]> = s.iter().map(|p| [p.lon, p.lat]).collect();
        if c.len() == 1 {
            c.push(c[0]);
        }
        c
    };
    let geojson = serde_json::json!({
        "type": "MultiLineString",
        "coordinates": track.segments.iter().map(|s| coords(s)).collect::<Vec<_>>(),
    });
    let mut times: Vec<i64> = track.segments[0].iter().map(|p| p.t_ms).collect();
    times.extend([track.segments[1][0].t_ms; 2]);
    sqlx::query("update track set geom = ?, times_ms = ? where id = ?")
        .bind(geojson.to_string())
        .bind(serde_json::Value::from(times).to_string())
        .bind(id)
        .execute(store.pool())
        .await
        .expect("old encoding");
    let old = gridpatrol::store::tracks::TrackStore::get_track(&store, id)
        .await
        .expect("get")
        .expect("stored");
    // GeoJSON text numbers read back to the last bit or so (as before)
    let mut rounded = old.track.clone();
    for (s, e) in rounded.segments.iter_mut().zip(&track.segments) {
        assert_eq!(s.len(), e.len(), "one-point segment included");
        for (p, q) in s.iter_mut().zip(e) {
            assert!((p.lon - q.lon).abs() < 1e-12 && (p.lat - q.lat).abs() < 1e-12);
            assert_eq!(p.t_ms, q.t_ms);
            *p = *q;
        }
    }
    assert_eq!(rounded, track, "text rows read back the same");
    assert_eq!(
        (old.started_ms, old.ended_ms),
        (now.started_ms, now.ended_ms)
    );

    // a blob cut short is a corrupt row, not a panic or a wrong answer
    sqlx::query("update track set times_ms = ? where id = ?")
        .bind(vec![0_u8; 12])
        .bind(id)
        .execute(store.pool())
        .await
        .expect("cut");
    assert!(
        gridpatrol::store::tracks::TrackStore::get_track(&store, id)
            .await
            .is_err()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
