//! Vector tiles: a coverage tile decodes (geozero's MVT reader) into the
//! cells and states of the coverage answer for its area; a new track
//! changes the `ETag` of the tiles it crossed and of no other tile; tiles are
//! gzipped; the `TileJSON` names the tile URL.

use crate::common::{self, Answer, TestApp};

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use geozero::mvt::{Message, Tile};
use gridpatrol::auth::Role;
use gridpatrol::demo::LAYER_FILES;
use gridpatrol::service::{self, ImportKind};
use gridpatrol::spatial::{Bbox, Crs};
use gridpatrol::store::DynStore;
use serde_json::Value;

/// 方松街道, where officer01 walks on 28 and 29 October.
const FANGSONG: &str = "310117003";
const FIRST: &str = "2026-10-28_officer01_am.gpx";
const SECOND: &str = "2026-10-29_officer01_am.gpx";
const WINDOW: &str = "from=2026-10-27&to=2026-11-03";
const Z: u8 = 14;

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

async fn get(app: &TestApp, token: &str, uri: &str, gzip: bool) -> Answer {
    let mut req = Request::get(uri).header(header::AUTHORIZATION, format!("Bearer {token}"));
    if gzip {
        req = req.header(header::ACCEPT_ENCODING, "gzip");
    }
    app.send(req.body(Body::empty()).expect("a request")).await
}

fn tile_of(lon: f64, lat: f64) -> (u32, u32) {
    let n = f64::from(1u32 << Z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "tile indices at zoom 14"
    )]
    (x as u32, y as u32)
}

fn tile_box(x: u32, y: u32) -> Bbox {
    let n = f64::from(1u32 << Z);
    let lon = |x: f64| x / n * 360.0 - 180.0;
    let lat = |y: f64| {
        (std::f64::consts::PI * (1.0 - 2.0 * y / n))
            .sinh()
            .atan()
            .to_degrees()
    };
    Bbox::new(
        lon(f64::from(x)),
        lat(f64::from(y) + 1.0),
        lon(f64::from(x) + 1.0),
        lat(f64::from(y)),
    )
    .expect("a box")
}

fn hexagon_box(f: &Value) -> Bbox {
    let ring = f["geometry"]["coordinates"][0].as_array().expect("a ring");
    let xs: Vec<f64> = ring.iter().filter_map(|p| p[0].as_f64()).collect();
    let ys: Vec<f64> = ring.iter().filter_map(|p| p[1].as_f64()).collect();
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Bbox::new(min(&xs), min(&ys), max(&xs), max(&ys)).expect("a box")
}

/// cell → patrolled, of one decoded coverage tile.
fn decoded(body: &[u8]) -> BTreeMap<String, bool> {
    let tile = Tile::decode(body).expect("an MVT tile");
    let layer = &tile.layers[0];
    assert_eq!(layer.name, "coverage");
    let key = |k: &str| layer.keys.iter().position(|x| x == k).expect("a key");
    let (id_k, patrolled_k) = (key("id"), key("patrolled"));
    layer
        .features
        .iter()
        .map(|f| {
            let tag = |k: usize| {
                f.tags
                    .chunks(2)
                    .find(|t| t[0] as usize == k)
                    .map(|t| &layer.values[t[1] as usize])
                    .expect("a tag")
            };
            let id = tag(id_k).string_value.clone().expect("a cell id");
            (id, tag(patrolled_k).bool_value.expect("a state"))
        })
        .collect()
}

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one store, the tiles before and after a track"
)]
async fn coverage_tiles_agree_and_change_only_where_a_track_went() {
    let store = common::sqlite_store().await;
    grids_only(&store).await;
    let admin = common::admin_token(&store).await;
    let scope = format!("town:{FANGSONG}");
    let town = common::token_for(&store, "tiles-fangsong", Role::Town, &[scope.as_str()]).await;
    let app = TestApp::unlimited(&store);
    let upload = |file: &str| {
        std::fs::read(common::fixtures().join("tracks").join(file)).expect("track fixture")
    };
    let a = app
        .post_bytes(
            &admin,
            "/api/v1/tracks",
            "application/gpx+xml",
            upload(FIRST),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a}");

    // the coverage answer and the tiles over the town's cells
    let coverage = app
        .get_as(&town, &format!("/api/v1/coverage?{WINDOW}"))
        .await;
    assert_eq!(coverage.status, StatusCode::OK, "{coverage}");
    let cells: Vec<Value> = coverage.json()["features"]
        .as_array()
        .expect("cells")
        .clone();
    let tiles: BTreeSet<(u32, u32)> = cells
        .iter()
        .map(|f| {
            let b = hexagon_box(f);
            tile_of(b.min_lon(), b.max_lat())
        })
        .collect();
    assert!(tiles.len() > 4, "{} tiles", tiles.len());
    let mut before = BTreeMap::new();
    let mut checked = 0;
    for &(x, y) in &tiles {
        let t = get(
            &app,
            &town,
            &format!("/api/v1/tiles/coverage/{Z}/{x}/{y}.mvt?{WINDOW}"),
            false,
        )
        .await;
        assert_eq!(t.status, StatusCode::OK, "{t}");
        assert_eq!(t.content_type(), "application/vnd.mapbox-vector-tile");
        let got = decoded(&t.body);
        let area = tile_box(x, y);
        let want: BTreeMap<String, bool> = cells
            .iter()
            .filter(|f| hexagon_box(f).intersects(&area))
            .map(|f| {
                (
                    f["id"].as_str().expect("id").to_owned(),
                    f["properties"]["patrolled"] == true,
                )
            })
            .collect();
        assert_eq!(got, want, "tile {x}/{y}");
        checked += usize::from(got.values().any(|p| *p));
        before.insert((x, y), t.header(header::ETAG).expect("an ETag").to_owned());
    }
    assert!(checked > 0, "some tile holds patrolled cells");

    // a 304 for the same tile, gzip when asked
    let (&(x, y), tag) = before.iter().next().expect("a tile");
    let mut req = Request::get(format!("/api/v1/tiles/coverage/{Z}/{x}/{y}.mvt?{WINDOW}"))
        .header(header::AUTHORIZATION, format!("Bearer {town}"));
    req = req.header(header::IF_NONE_MATCH, tag.as_str());
    let same = app.send(req.body(Body::empty()).expect("a request")).await;
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);
    let zipped = get(
        &app,
        &town,
        &format!("/api/v1/tiles/coverage/{Z}/{x}/{y}.mvt?{WINDOW}"),
        true,
    )
    .await;
    assert_eq!(zipped.header(header::CONTENT_ENCODING), Some("gzip"));

    // a second track: the tiles of the cells it visited change, no other
    let a = app
        .post_bytes(
            &admin,
            "/api/v1/tracks",
            "application/gpx+xml",
            upload(SECOND),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a}");
    let id = a.json()["tracks"][0]["id"].as_i64().expect("a track id");
    let visited: BTreeSet<String> = app
        .get_as(&admin, &format!("/api/v1/tracks/{id}/cells"))
        .await
        .json()["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .filter_map(|c| c["cell"].as_str().map(str::to_owned))
        .collect();
    let expected: BTreeSet<(u32, u32)> = tiles
        .iter()
        .copied()
        .filter(|&(x, y)| {
            let area = tile_box(x, y);
            cells.iter().any(|f| {
                visited.contains(f["id"].as_str().unwrap_or_default())
                    && hexagon_box(f).intersects(&area)
            })
        })
        .collect();
    assert!(!expected.is_empty(), "the second track crosses the town");
    assert!(expected.len() < tiles.len(), "and not every tile");
    let mut changed = BTreeSet::new();
    for &(x, y) in &tiles {
        let t = get(
            &app,
            &town,
            &format!("/api/v1/tiles/coverage/{Z}/{x}/{y}.mvt?{WINDOW}"),
            false,
        )
        .await;
        if t.header(header::ETAG) != before.get(&(x, y)).map(String::as_str) {
            changed.insert((x, y));
        }
    }
    assert_eq!(changed, expected);

    // the TileJSON and the other layers
    let tj = app
        .get_as(&town, &format!("/api/v1/tiles/coverage?{WINDOW}"))
        .await;
    assert_eq!(tj.status, StatusCode::OK);
    assert!(
        tj.json()["tiles"][0]
            .as_str()
            .expect("a URL")
            .contains("/api/v1/tiles/coverage/{z}/{x}/{y}.mvt?from=")
    );
    for layer in ["works", "venues", "districts", "grids", "tracks"] {
        let t = get(
            &app,
            &town,
            &format!("/api/v1/tiles/{layer}/{Z}/{x}/{y}.mvt"),
            false,
        )
        .await;
        assert_eq!(t.status, StatusCode::OK, "{layer}");
        assert_eq!(
            Tile::decode(&t.body[..]).expect("a tile").layers[0].name,
            layer
        );
    }
    let t = get(&app, &town, "/api/v1/tiles/coverage/3/99/0.mvt", false).await;
    assert_eq!(t.status, StatusCode::NOT_FOUND);
    let t = get(&app, &town, "/api/v1/tiles/roads/3/0/0.mvt", false).await;
    assert_eq!(t.status, StatusCode::NOT_FOUND);
}
