//! The store test suite: every test runs on the embedded SQLite store and on
//! PostGIS, with the same assertions.

use crate::common;

use geo::Geometry;
use gridpatrol::auth::Scope;
use gridpatrol::domain::{
    Category, District, Funding, Grid, ImportSummary, Project, ProjectStatus, Town, Venue,
};
use gridpatrol::service::{self, FileFormat, ImportKind};
use gridpatrol::spatial::{Bbox, Crs};
use gridpatrol::store::tracks::Replaced;
use gridpatrol::store::{DynStore, Layer, ListQuery, StoreError, typed};

/// Towns, zones and grids of two towns, the districts, venues and the projects.
async fn load_songjiang(store: &DynStore, grid_towns: &[&str]) {
    let towns = common::fixture_text("towns.geojson");
    service::import_bytes(
        store,
        ImportKind::Towns,
        towns.as_bytes(),
        FileFormat::GeoJson,
        Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect("towns");
    let keep = |p: &serde_json::Value| grid_towns.contains(&p["town"].as_str().unwrap_or(""));
    for (kind, file) in [
        (ImportKind::Zones, "zones.geojson"),
        (ImportKind::Grids, "grids.geojson"),
    ] {
        let text = common::fixture_slice(file, None, keep);
        service::import_bytes(
            store,
            kind,
            text.as_bytes(),
            FileFormat::GeoJson,
            Crs::Wgs84,
            &|_| {},
        )
        .await
        .expect("zones/grids");
    }
    for (kind, file) in [
        (ImportKind::Districts, "districts.geojson"),
        (ImportKind::Venues, "venues.geojson"),
    ] {
        let text = common::fixture_text(file);
        service::import_bytes(
            store,
            kind,
            text.as_bytes(),
            FileFormat::GeoJson,
            Crs::Wgs84,
            &|_| {},
        )
        .await
        .expect("districts/venues");
    }
    let csv = std::fs::read(common::fixtures().join("projects.csv")).expect("projects.csv");
    service::import_bytes(
        store,
        ImportKind::Projects,
        &csv,
        FileFormat::Csv,
        Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect("projects");
}

const YUEYANG: &str = "310117001";
const SIJING: &str = "310117102";

async fn import_is_idempotent(store: DynStore) {
    load_songjiang(&store, &[YUEYANG]).await;
    let towns = common::fixture_text("towns.geojson");
    let (n, again) = service::import_bytes(
        &store,
        ImportKind::Towns,
        towns.as_bytes(),
        FileFormat::GeoJson,
        Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect("re-import");
    assert_eq!(n, 18);
    assert_eq!(
        again,
        ImportSummary {
            inserted: 0,
            updated: 0,
            unchanged: 18
        }
    );
    let csv = std::fs::read(common::fixtures().join("projects.csv")).expect("projects.csv");
    let (n, again) = service::import_bytes(
        &store,
        ImportKind::Projects,
        &csv,
        FileFormat::Csv,
        Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect("re-import projects");
    assert!(n >= 400, "the ledger has about 500 works, got {n}");
    assert_eq!(again.unchanged, n as u64, "{again:?}");
    let grids = common::fixture_slice("grids.geojson", None, |p| p["town"] == YUEYANG);
    let (_, again) = service::import_bytes(
        &store,
        ImportKind::Grids,
        grids.as_bytes(),
        FileFormat::GeoJson,
        Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect("re-import grids");
    assert_eq!((again.inserted, again.updated), (0, 0));
}

async fn towns_round_trip(store: DynStore) {
    load_songjiang(&store, &[]).await;
    let towns = typed::all::<Town>(&store).await.expect("list");
    assert_eq!(towns.len(), 18);
    let yueyang = towns
        .iter()
        .find(|t| t.value.code == YUEYANG)
        .expect("岳阳街道");
    assert_eq!(yueyang.value.name, "岳阳街道");
    let again = typed::get::<Town>(&store, yueyang.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(again, *yueyang, "a town reads back exactly as stored");
    assert!(
        typed::get::<Town>(&store, 999_999)
            .await
            .expect("get")
            .is_none()
    );
}

async fn grids_keep_their_cells(store: DynStore) {
    load_songjiang(&store, &[YUEYANG]).await;
    let text = common::fixture_slice("grids.geojson", Some(1), |p| p["town"] == YUEYANG);
    let features = gridpatrol::ingest::features::read_features(&text).expect("features");
    let expected: Grid = gridpatrol::ingest::features::grids(&features, Crs::Wgs84)
        .expect("grid")
        .remove(0);
    let q = ListQuery {
        eq: vec![("zone_code", expected.zone.clone())],
        ..ListQuery::all()
    };
    let page = typed::list::<Grid>(&store, &q).await.expect("list");
    let got = page
        .items
        .iter()
        .find(|g| g.value.code == expected.code)
        .expect("grid stored");
    assert_eq!(got.value.cells, expected.cells);
    assert!(
        got.value.expanded_cells().count() > 50,
        "a grid is 1-3 km² of res-10 cells"
    );

    // changing the cells is an update that replaces them
    let mut changed = got.value.clone();
    changed.cells.truncate(1);
    let s = typed::import(&store, &[changed.clone()], &|_| {})
        .await
        .expect("update");
    assert_eq!(s.updated, 1);
    let back = typed::get::<Grid>(&store, got.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(back.value.cells, changed.cells);
}

async fn filters_and_paging(store: DynStore) {
    load_songjiang(&store, &[YUEYANG, SIJING]).await;
    let all = typed::list::<Project>(
        &store,
        &ListQuery {
            limit: 10,
            ..ListQuery::default()
        },
    )
    .await
    .expect("page");
    assert_eq!(all.items.len(), 10);
    assert!(all.total >= 400);
    let second = typed::list::<Project>(
        &store,
        &ListQuery {
            limit: 10,
            offset: 10,
            ..ListQuery::default()
        },
    )
    .await
    .expect("page 2");
    assert!(
        second
            .items
            .iter()
            .all(|p| all.items.iter().all(|q| q.id != p.id)),
        "pages do not overlap"
    );

    let in_town = ListQuery {
        towns: Some(vec![SIJING.into()]),
        ..ListQuery::all()
    };
    let sijing = typed::list::<Project>(&store, &in_town)
        .await
        .expect("town filter");
    assert!(sijing.total > 0);
    assert!(
        sijing
            .items
            .iter()
            .all(|p| p.value.town.as_deref() == Some(SIJING))
    );

    let social = ListQuery {
        eq: vec![("funding", "social".into())],
        ..ListQuery::all()
    };
    let s = typed::list::<Project>(&store, &social)
        .await
        .expect("eq filter");
    assert!(s.total > 0 && s.items.iter().all(|p| p.value.funding == Funding::Social));

    // a box around 泗泾 holds only works whose position is inside it
    let bbox = Bbox::new(121.24, 31.10, 121.30, 31.14).expect("bbox");
    let boxed = typed::list::<Project>(
        &store,
        &ListQuery {
            bbox: Some(bbox),
            ..ListQuery::all()
        },
    )
    .await
    .expect("bbox");
    assert!(boxed.total > 0);
    for p in &boxed.items {
        let Geometry::Point(pt) = p.value.geometry else {
            continue;
        };
        assert!((121.24..=121.30).contains(&pt.x()) && (31.10..=31.14).contains(&pt.y()));
    }

    // venues have no town column: the town filter is spatial
    let venues = typed::list::<Venue>(&store, &in_town)
        .await
        .expect("venues in town");
    let all_venues = typed::all::<Venue>(&store).await.expect("venues");
    assert!(venues.total > 0 && usize::try_from(venues.total).expect("fits") < all_venues.len());
    let districts = typed::list::<District>(&store, &in_town)
        .await
        .expect("districts in town");
    assert!(
        districts
            .items
            .iter()
            .any(|d| d.value.name.contains("泗泾"))
    );

    let grids = typed::list::<Grid>(&store, &in_town)
        .await
        .expect("grids in town");
    assert!(grids.total > 0 && grids.items.iter().all(|g| g.value.town == SIJING));
}

fn sample_project(code: &str) -> Project {
    Project {
        code: code.into(),
        name: "中山中路88号商铺装修".into(),
        category: Category::FitOut,
        funding: Funding::Social,
        investment_cny: 180_000,
        floor_area_m2: Some(120.5),
        status: ProjectStatus::Filed,
        started_on: chrono::NaiveDate::from_ymd_opt(2026, 10, 12),
        completed_on: None,
        hot_work: true,
        insulation: false,
        steel_mezzanine: false,
        insured: true,
        address: "中山中路88号".into(),
        town: None,
        geometry: Geometry::Point(geo::Point::new(121.2277, 31.0119)),
    }
}

async fn projects_crud(store: DynStore) {
    load_songjiang(&store, &[]).await;
    let created = service::create_project(&store, &Scope::district(), sample_project("T-1"))
        .await
        .expect("create");
    assert!(
        created.value.town.is_some(),
        "town derived from the geometry"
    );
    let got = typed::get::<Project>(&store, created.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.value, created.value);

    let dup = service::create_project(&store, &Scope::district(), sample_project("T-1")).await;
    assert!(
        matches!(
            dup,
            Err(service::ServiceError::Store(StoreError::Conflict(_)))
        ),
        "{dup:?}"
    );

    let mut moved = created.value.clone();
    moved.status = ProjectStatus::Completed;
    moved.completed_on = chrono::NaiveDate::from_ymd_opt(2026, 11, 20);
    service::update_project(&store, &Scope::district(), created.id, moved.clone())
        .await
        .expect("update");
    let got = typed::get::<Project>(&store, created.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.value.status, ProjectStatus::Completed);
    assert_eq!(got.value.completed_on, moved.completed_on);

    let missing = service::update_project(&store, &Scope::district(), 999_999, moved).await;
    assert!(matches!(missing, Err(service::ServiceError::NotFound(_))));

    // a work in Beijing is outside the district and is not stored
    let before = store
        .list(Layer::Project, &ListQuery::all())
        .await
        .expect("count")
        .total;
    let mut far = sample_project("T-2");
    far.geometry = Geometry::Point(geo::Point::new(116.404, 39.915));
    assert!(
        service::create_project(&store, &Scope::district(), far)
            .await
            .is_err()
    );
    let after = store
        .list(Layer::Project, &ListQuery::all())
        .await
        .expect("count")
        .total;
    assert_eq!(before, after);
}

async fn failed_import_writes_nothing(store: DynStore) {
    load_songjiang(&store, &[]).await;
    let before = store
        .list(Layer::Project, &ListQuery::all())
        .await
        .expect("count")
        .total;
    // the last row refers to an unknown town: the whole file is refused
    let csv = "工程编号,工程名称,工程类别,资金来源,投资额,经度,纬度,街镇\n\
               X-1,甲路1号装修,装饰装修,社会投资,50000,121.2277,31.0119,\n\
               X-2,乙路2号装修,装饰装修,社会投资,50000,121.2280,31.0121,不存在镇\n";
    let err = service::import_bytes(
        &store,
        ImportKind::Projects,
        csv.as_bytes(),
        FileFormat::Csv,
        Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect_err("unknown town");
    assert!(err.to_string().contains("town"), "{err}");
    let after = store
        .list(Layer::Project, &ListQuery::all())
        .await
        .expect("count")
        .total;
    assert_eq!(before, after, "nothing of the file was written");

    // a zone of an unknown town is refused by the store's reference check
    let zone = r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null,
        "properties":{"code":"Z-X","name":"无主片区","town":"999999999"}}]}"#;
    let err = service::import_bytes(
        &store,
        ImportKind::Zones,
        zone.as_bytes(),
        FileFormat::GeoJson,
        Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect_err("unknown town");
    assert!(err.to_string().contains("reference"), "{err}");
}

async fn gcj02_import_lands_on_wgs84(store: DynStore) {
    load_songjiang(&store, &[]).await;
    // the same work given in GCJ-02 lands within a metre of its WGS-84 position
    let (lon, lat) = (121.2277, 31.0119);
    let (glon, glat) = gridpatrol::spatial::crs::wgs84_to_gcj02(lon, lat);
    let csv = format!(
        "工程名称,工程类别,资金来源,投资额,经度,纬度\n丙路3号装修,装饰装修,社会投资,80000,{glon},{glat}\n"
    );
    service::import_bytes(
        &store,
        ImportKind::Projects,
        csv.as_bytes(),
        FileFormat::Csv,
        Crs::Gcj02,
        &|_| {},
    )
    .await
    .expect("import");
    let q = ListQuery {
        bbox: Some(Bbox::new(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001).expect("bbox")),
        ..ListQuery::all()
    };
    let found = typed::list::<Project>(&store, &q).await.expect("list");
    let p = found
        .items
        .iter()
        .find(|p| p.value.name == "丙路3号装修")
        .expect("stored");
    let Geometry::Point(pt) = p.value.geometry else {
        panic!("a point")
    };
    let d = gridpatrol::spatial::LonLat::new(pt.x(), pt.y())
        .expect("valid")
        .distance_m(gridpatrol::spatial::LonLat::new(lon, lat).expect("valid"));
    assert!(d < 1.0, "{d} m off");
}

pub(crate) fn walk(officer: &str, start_ms: i64, lon0: f64) -> gridpatrol::store::tracks::NewTrack {
    let segments = vec![
        (0..20)
            .map(|i| gridpatrol::spatial::TrackPoint {
                lon: lon0 + f64::from(i) * 0.0002,
                lat: 31.03,
                t_ms: start_ms + i64::from(i) * 10_000,
            })
            .collect(),
        vec![gridpatrol::spatial::TrackPoint {
            lon: lon0,
            lat: 31.04,
            t_ms: start_ms + 600_000,
        }],
    ];
    gridpatrol::store::tracks::NewTrack {
        officer: officer.into(),
        device: "phone-7".into(),
        name: "晨巡".into(),
        fingerprint: format!("{officer}-{start_ms}"),
        segments,
        length_m: 380.0,
        resolution: 10,
        sighting_m: 25.0,
        open: false,
        report: serde_json::json!({"received": 21, "kept": 21}),
    }
}

#[expect(clippy::too_many_lines, reason = "one store round trip, step by step")]
async fn tracks_and_visits(store: DynStore) {
    use gridpatrol::store::tracks::{StoredVisit, TrackQuery};
    let day = 1_793_000_000_000_i64;
    let visits = |cells: &[(u64, i64, i64)]| -> Vec<StoredVisit> {
        cells
            .iter()
            .map(|&(cell, first_ms, last_ms)| StoredVisit {
                track_id: 0,
                cell,
                first_ms,
                last_ms,
            })
            .collect()
    };
    let (c1, c2, c3) = (
        0x08a3_09a4_ae6b_7fff_u64,
        0x08a3_09a4_ae68_7fff_u64,
        0x08a3_09a4_ae69_7fff_u64,
    );
    let a = walk("officer01", day, 121.22);
    let b = walk("officer02", day + 86_400_000, 121.23);
    let ins = store
        .insert_tracks(vec![
            (
                a.clone(),
                visits(&[(c1, day, day + 50_000), (c2, day + 60_000, day + 190_000)]),
            ),
            (
                b.clone(),
                visits(&[
                    (c2, day + 86_400_000, day + 86_500_000),
                    (c3, day + 86_400_000, day + 86_400_000),
                ]),
            ),
        ])
        .await
        .expect("insert");
    assert!(ins.iter().all(|i| i.created));
    // the same track again is recognised, not stored twice
    let again = store
        .insert_tracks(vec![(a.clone(), visits(&[(c1, day, day)]))])
        .await
        .expect("insert again");
    assert_eq!((again[0].id, again[0].created), (ins[0].id, false));

    let got = store
        .get_track(ins[0].id)
        .await
        .expect("get")
        .expect("exists");
    // positions read back to 1e-9 degrees (0.1 mm), times and the rest exactly
    let mut rounded = got.track.clone();
    for (s, e) in rounded.segments.iter_mut().zip(&a.segments) {
        assert_eq!(s.len(), e.len(), "one-point segment included");
        for (p, q) in s.iter_mut().zip(e) {
            assert!((p.lon - q.lon).abs() < 1e-9 && (p.lat - q.lat).abs() < 1e-9);
            *p = *q;
        }
    }
    assert_eq!(rounded, a);
    assert_eq!(
        (got.started_ms, got.ended_ms, got.point_count),
        (day, day + 600_000, 21)
    );

    let all = store
        .list_tracks(&TrackQuery {
            limit: 10,
            ..TrackQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(all.total, 2);
    let second_day = TrackQuery {
        from_ms: Some(day + 3_600_000),
        limit: 10,
        ..TrackQuery::default()
    };
    let page = store.list_tracks(&second_day).await.expect("list");
    assert_eq!(
        page.items
            .iter()
            .map(|t| t.track.officer.as_str())
            .collect::<Vec<_>>(),
        ["officer02"]
    );
    let mine = TrackQuery {
        officer: Some("officer01".into()),
        limit: 10,
        ..TrackQuery::default()
    };
    assert_eq!(store.list_tracks(&mine).await.expect("list").total, 1);

    let v = store.track_visits(ins[0].id).await.expect("visits");
    assert_eq!(v.iter().map(|v| v.cell).collect::<Vec<_>>(), {
        let mut e = vec![c1, c2];
        e.sort_unstable();
        e
    });
    // window: the first day only
    let w = store
        .visits_between(None, day, day + 86_400_000)
        .await
        .expect("window");
    assert_eq!(w.len(), 2);
    let only_c2 = store
        .visits_between(Some(&[c2]), day, day + 2 * 86_400_000)
        .await
        .expect("window");
    assert_eq!(only_c2.len(), 2, "c2 was seen by both tracks");
    let mut last = store
        .last_seen(None, day + 86_400_000 + 1)
        .await
        .expect("last seen");
    last.sort_unstable();
    let mut expect = vec![
        (c1, day + 50_000),
        (c2, day + 86_400_000),
        (c3, day + 86_400_000),
    ];
    expect.sort_unstable();
    assert_eq!(last, expect, "seen at most up to the end of the window");

    // a live track's points are replaced and its visits merged
    let mut open = walk("officer03", day, 121.24);
    open.open = true;
    let id = store
        .insert_tracks(vec![(open.clone(), visits(&[(c3, day + 5, day + 10)]))])
        .await
        .expect("open")[0]
        .id;
    open.segments[1].push(gridpatrol::spatial::TrackPoint {
        lon: 121.25,
        lat: 31.05,
        t_ms: day + 700_000,
    });
    let replace = |revision| {
        store.replace_track(
            id,
            revision,
            open.clone(),
            visits(&[(c3, day, day + 700_000)]),
        )
    };
    assert_eq!(replace(0).await.expect("replace"), Replaced::Done);
    // a writer that read revision 0 is too late now: it must read again
    assert_eq!(replace(0).await.expect("stale"), Replaced::Stale);
    let got = store.get_track(id).await.expect("get").expect("exists");
    assert_eq!((got.point_count, got.revision), (22, 1));
    let v = store.track_visits(id).await.expect("visits");
    assert_eq!((v[0].first_ms, v[0].last_ms), (day, day + 700_000));
    assert_eq!(
        store
            .replace_track(999_999, 0, open, Vec::new())
            .await
            .expect("missing"),
        Replaced::Missing
    );
}

store_tests!(
    tracks_and_visits,
    import_is_idempotent,
    towns_round_trip,
    grids_keep_their_cells,
    filters_and_paging,
    projects_crud,
    failed_import_writes_nothing,
    gcj02_import_lands_on_wgs84,
);
