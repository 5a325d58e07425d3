//! Vector tiles: `GET /api/v1/tiles/{layer}/{z}/{x}/{y}.mvt` (Mapbox Vector
//! Tile 2.1, Web Mercator, extent 4096) and a `TileJSON` 3.0 per layer at
//! `/api/v1/tiles/{layer}`. Layers: `coverage` (the resolution-10 cells with
//! their patrol state over `from`/`to`), `works`, `venues`, `districts`,
//! `grids` and `tracks` (`from`/`to` select them by time).
//!
//! The features come from the OGC collections (`ogc::catalog`), so a tile
//! holds what the caller's scope holds. The encoder is geozero's MVT
//! writer. A tile's `ETag` is the SHA-256 of its bytes: a new track
//! changes the tiles whose cells or lines it changed and no other; a
//! matching `If-None-Match` is a 304. The compression layer gzips tiles.
//!
//! The coverage layer is the district's patrol state, computed whole: the
//! cells of a question (window, caller's access, data version) are computed
//! once with their boxes and kept ([`TileCells`]), so that the twenty
//! tiles of a view filter them instead of computing the district twenty
//! times; each encoded tile is kept in the answer cache under the same
//! question, so a revalidation or another look at it costs a lookup.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use geo::MapCoords;
use geozero::ToMvt;
use geozero::mvt::{Message, TagsBuilder, Tile, TileValue, tile};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Query;
use super::ogc::catalog::{self, Ask, Kind};
use super::ogc::query::{Interval, Raw, geometry_bbox};
use super::read_cache::{ReadClock, access};
use crate::auth::Caller;
use crate::service::cache::{self, Answer, AnswerKey, Lookup, Question};
use crate::spatial::Bbox;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tilejson))
        .routes(routes!(tile))
}

/// The MVT media type.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";
/// Tile coordinates per side.
const EXTENT: u32 = 4096;
/// The deepest zoom served.
pub const MAX_ZOOM: u8 = 20;
/// Half the Web Mercator world, metres.
const HALF_WORLD: f64 = 20_037_508.342_789_244;

/// The tile layers and the collection each draws.
const LAYERS: [(&str, Kind, &str); 6] = [
    (
        "coverage",
        Kind::CoverageCells,
        "巡查覆盖 H3 cells with patrolled, visits, last_patrolled, overdue",
    ),
    ("works", Kind::Works, "小微工程 small works"),
    ("venues", Kind::Venues, "人员密集场所 crowded venues"),
    ("districts", Kind::Districts, "商圈 commercial districts"),
    ("grids", Kind::Grids, "巡查网格 patrol grids"),
    ("tracks", Kind::Tracks, "巡查轨迹 patrol tracks"),
];

fn layer(name: &str) -> Result<(&'static str, Kind), ApiError> {
    LAYERS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, k, _)| (*n, *k))
        .ok_or_else(|| ApiError::not_found(format!("tile layer {name}")))
}

/// The coverage cells of one question, each with its box, ready for tiles.
#[derive(Debug)]
struct CellSet(Vec<(Bbox, Prepared)>);

type CellSlot = Arc<tokio::sync::OnceCell<Arc<CellSet>>>;

/// How many questions' cells are kept (a view asks one window at a time).
const KEPT_CELL_SETS: usize = 4;

/// The coverage cells of the latest questions, shared by the tiles of a
/// view; concurrent tiles of a question wait for one computation.
#[derive(Debug, Default)]
pub struct TileCells {
    recent: Mutex<VecDeque<(AnswerKey, CellSlot)>>,
}

impl TileCells {
    fn slot(&self, key: AnswerKey) -> CellSlot {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, slot)) = recent.iter().find(|(k, _)| *k == key) {
            return slot.clone();
        }
        let slot = CellSlot::default();
        recent.push_front((key, slot.clone()));
        recent.truncate(KEPT_CELL_SETS);
        slot
    }
}

/// What a tile of a layer depends on besides its place: the window, the
/// caller's access, "now" when the window is open and the data version.
fn question_key(version: i64, caller: &Caller, operation: &str, q: &Raw) -> AnswerKey {
    let mut params: Vec<(String, String)> = ["from", "to"]
        .iter()
        .filter_map(|k| q.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    params.sort();
    let open = !params
        .iter()
        .any(|(k, v)| k == "to" && !v.trim().is_empty());
    AnswerKey::new(&Question {
        operation,
        params,
        access: access(caller),
        now_ms: open.then(|| ReadClock::now().ms()),
        data_version: version,
    })
}

/// The features of a layer for a tile; the coverage cells from the
/// question's kept set (computed once, whole).
async fn source(
    st: &AppState,
    caller: &Caller,
    kind: Kind,
    ask: &Ask,
    cells: Option<AnswerKey>,
) -> Result<Source, ApiError> {
    let Some(key) = cells else {
        return Ok(Source::Fetched(
            catalog::fetch(st, caller, kind, ask).await?.features,
        ));
    };
    let set = st
        .tiles
        .slot(key)
        .get_or_try_init(|| async {
            let whole = Ask {
                bbox: None,
                datetime: ask.datetime,
                page: None,
            };
            let got = catalog::fetch(st, caller, kind, &whole).await?;
            let cells = tokio::task::spawn_blocking(move || {
                CellSet(got.features.iter().filter_map(prepare).collect())
            })
            .await
            .map_err(|_| ApiError::internal())?;
            Ok::<_, ApiError>(Arc::new(cells))
        })
        .await?
        .clone();
    Ok(Source::Kept(set))
}

/// The WGS-84 box of tile `z/x/y`.
fn tile_bbox(z: u8, x: u32, y: u32) -> Option<Bbox> {
    let n = f64::from(1u32 << z);
    let lon = |x: f64| x / n * 360.0 - 180.0;
    let lat = |y: f64| {
        (std::f64::consts::PI * (1.0 - 2.0 * y / n))
            .sinh()
            .atan()
            .to_degrees()
    };
    let (x, y) = (f64::from(x), f64::from(y));
    Bbox::new(lon(x), lat(y + 1.0), lon(x + 1.0), lat(y)).ok()
}

/// Web Mercator metres of a WGS-84 position.
fn mercator(c: geo::Coord<f64>) -> geo::Coord<f64> {
    let lat = c.y.clamp(-85.051_128_78, 85.051_128_78).to_radians();
    geo::Coord {
        x: c.x.to_radians() * 6_378_137.0,
        y: (std::f64::consts::FRAC_PI_4 + lat / 2.0).tan().ln() * 6_378_137.0,
    }
}

fn tile_value(v: &Value) -> Option<TileValue> {
    match v {
        Value::String(s) => Some(TileValue::Str(s.clone())),
        Value::Bool(b) => Some(TileValue::Bool(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(TileValue::Sint)
            .or_else(|| n.as_f64().map(TileValue::Double)),
        _ => None,
    }
}

/// A feature made ready for any tile: its geometry in Web Mercator metres,
/// its id and its properties as tile values.
#[derive(Debug)]
struct Prepared {
    id: Option<u64>,
    geometry: geo::Geometry<f64>,
    tags: Vec<(String, TileValue)>,
}

/// A GeoJSON feature (WGS-84) with its box, ready for tiles; `None` without a geometry.
fn prepare(f: &Value) -> Option<(Bbox, Prepared)> {
    let bbox = geometry_bbox(&f["geometry"])?;
    let g = serde_json::from_value::<geojson::Geometry>(f["geometry"].clone()).ok()?;
    let g = geo::Geometry::<f64>::try_from(g).ok()?;
    let mut tags: Vec<(String, TileValue)> = f["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| tile_value(v).map(|tv| (k.clone(), tv)))
        .collect();
    if let Some(cell) = f["id"].as_str() {
        tags.push(("id".to_owned(), TileValue::Str(cell.to_owned())));
    }
    Some((
        bbox,
        Prepared {
            id: f["id"].as_u64(),
            geometry: g.map_coords(mercator),
            tags,
        },
    ))
}

/// Encodes prepared features as one MVT layer of tile `z/x/y`.
fn encode(name: &str, features: &[&Prepared], z: u8, x: u32, y: u32) -> Result<Vec<u8>, ApiError> {
    let size = 2.0 * HALF_WORLD / f64::from(1u32 << z);
    let left = -HALF_WORLD + f64::from(x) * size;
    let top = HALF_WORLD - f64::from(y) * size;
    let mut tags = TagsBuilder::<String>::new();
    let mut out = Vec::with_capacity(features.len());
    for f in features {
        let mut feature = f
            .geometry
            .to_mvt(EXTENT, left, top - size, left + size, top)
            .map_err(|e| {
                tracing::error!(error = %e, "a tile could not be encoded");
                ApiError::internal()
            })?;
        feature.id = f.id;
        for (k, v) in &f.tags {
            let (ki, vi) = tags.insert(k.clone(), v.clone());
            feature.tags.extend([ki, vi]);
        }
        out.push(feature);
    }
    let (keys, values) = tags.into_tags();
    let layer = tile::Layer {
        version: 2,
        name: name.to_owned(),
        features: out,
        keys,
        values: values.into_iter().map(Into::into).collect(),
        extent: Some(EXTENT),
    };
    let t = Tile {
        layers: vec![layer],
    };
    Ok(t.encode_to_vec())
}

/// The features of a tile: the coverage cells from a question's kept set,
/// or a layer's features as the catalog answered them.
enum Source {
    Kept(Arc<CellSet>),
    Fetched(Vec<Value>),
}

impl Source {
    /// Encodes the features whose box meets `bbox` as tile `z/x/y`.
    fn encode(&self, name: &str, bbox: &Bbox, z: u8, x: u32, y: u32) -> Result<Vec<u8>, ApiError> {
        match self {
            Self::Kept(set) => {
                let features: Vec<&Prepared> = set
                    .0
                    .iter()
                    .filter(|(b, _)| b.intersects(bbox))
                    .map(|(_, f)| f)
                    .collect();
                encode(name, &features, z, x, y)
            }
            Self::Fetched(values) => {
                let prepared: Vec<Prepared> = values
                    .iter()
                    .filter_map(prepare)
                    .filter(|(b, _)| b.intersects(bbox))
                    .map(|(_, f)| f)
                    .collect();
                encode(name, &prepared.iter().collect::<Vec<_>>(), z, x, y)
            }
        }
    }
}

fn window(q: &Raw) -> Result<Option<Interval>, ApiError> {
    super::ogc::query::refuse_unknown(q, &["from", "to"])?;
    let t = |k: &str| super::params::time_ms(&q.0, k);
    let (from, to) = (t("from")?, t("to")?);
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(ApiError::invalid("from", "must be before to"));
    }
    Ok((from.is_some() || to.is_some()).then_some(Interval {
        from_ms: from,
        to_ms: to,
    }))
}

fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::from("\"");
    for b in &digest[..16] {
        let _ = write!(s, "{b:02x}");
    }
    s.push('"');
    s
}

/// A `TileJSON` 3.0 document of a layer.
#[utoipa::path(get, path = "/api/v1/tiles/{layer}", tag = "features", operation_id = "getTileJson",
    params(("layer" = String, Path, description = "coverage, works, venues, districts, grids or tracks"),
           ("from" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD (coverage, tracks)"),
           ("to" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD (coverage, tracks)")),
    responses((status = 200, description = "TileJSON 3.0.0", body = Object),
              (status = 400, description = "unknown parameter", body = super::error::Problem),
              (status = 404, description = "unknown layer", body = super::error::Problem)))]
pub async fn tilejson(
    headers: HeaderMap,
    _caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<Raw>,
) -> ApiResult<axum::Json<Value>> {
    let (name, _) = layer(&name)?;
    window(&q)?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(String::new, |h| format!("http://{h}"));
    let mut query = form_urlencoded::Serializer::new(String::new());
    for k in ["from", "to"] {
        if let Some(v) = q.get(k) {
            query.append_pair(k, v);
        }
    }
    let query = query.finish();
    let suffix = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    let description = LAYERS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or("", |(_, _, d)| d);
    Ok(axum::Json(json!({
        "tilejson": "3.0.0",
        "name": name,
        "description": description,
        "scheme": "xyz",
        "tiles": [format!("{host}/api/v1/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt{suffix}")],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "vector_layers": [{"id": name, "description": description}],
    })))
}

/// One vector tile of a layer.
#[utoipa::path(get, path = "/api/v1/tiles/{layer}/{z}/{x}/{y}", tag = "features", operation_id = "getTile",
    params(("layer" = String, Path, description = "coverage, works, venues, districts, grids or tracks"),
           ("z" = String, Path, description = "zoom, 0 to 20"), ("x" = String, Path, description = "the column"), ("y" = String, Path, description = "the row, `Y.mvt`"),
           ("from" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD (coverage, tracks)"),
           ("to" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD (coverage, tracks)"),
           ("If-None-Match" = Option<String>, Header, description = "an earlier ETag: 304 while the tile is the same")),
    responses((status = 200, description = "a Mapbox Vector Tile", content_type = "application/vnd.mapbox-vector-tile", body = Vec<u8>,
                headers(("ETag" = String, description = "the tile's content hash"))),
              (status = 304, description = "not modified"),
              (status = 400, description = "unknown parameter", body = super::error::Problem),
              (status = 404, description = "unknown layer or tile", body = super::error::Problem),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
#[expect(
    clippy::many_single_char_names,
    reason = "coordinates and tokens read best as x, y, c"
)]
pub async fn tile(
    State(st): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    Path((name, z, x, y)): Path<(String, String, String, String)>,
    Query(q): Query<Raw>,
) -> ApiResult<Response> {
    let (name, kind) = layer(&name)?;
    let not_found = || ApiError::not_found(format!("tile {name}/{z}/{x}/{y}"));
    let y: u32 = y
        .strip_suffix(".mvt")
        .and_then(|y| y.parse().ok())
        .ok_or_else(not_found)?;
    let z: u8 = z.parse().map_err(|_| not_found())?;
    let x: u32 = x.parse().map_err(|_| not_found())?;
    if z > MAX_ZOOM || x >= 1u32 << z || y >= 1u32 << z {
        return Err(not_found());
    }
    let bbox = tile_bbox(z, x, y).ok_or_else(not_found)?;
    let ask = Ask {
        bbox: Some(bbox),
        datetime: window(&q)?,
        page: None,
    };
    // The coverage cells and their tiles are kept per question.
    let kept = if kind == Kind::CoverageCells {
        let version = cache::data_version(&st.store).await?;
        let cells = question_key(version, &caller, "/api/v1/tiles/coverage", &q);
        let tile = question_key(
            version,
            &caller,
            &format!("/api/v1/tiles/{name}/{z}/{x}/{y}"),
            &q,
        );
        Some((cells, tile))
    } else {
        None
    };
    let lookup = match kept {
        Some((_, tile)) => Some(st.answers.lookup(&tile).await),
        None => None,
    };
    let bytes = if let Some(Lookup::Hit(answer)) = &lookup {
        answer.body.clone()
    } else {
        let source = source(&st, &caller, kind, &ask, kept.map(|(c, _)| c)).await?;
        let bytes = tokio::task::spawn_blocking(move || source.encode(name, &bbox, z, x, y))
            .await
            .map_err(|_| ApiError::internal())??;
        let bytes = bytes::Bytes::from(bytes);
        if let Some(Lookup::Miss(Some(loading))) = lookup {
            loading.fill(Arc::new(Answer::new(MVT.to_owned(), bytes.clone())));
        }
        bytes
    };
    let tag = etag(&bytes);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        bytes.into_response()
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_boxes_follow_the_xyz_scheme() {
        let world = tile_bbox(0, 0, 0).expect("a box");
        assert!(
            (world.min_lon() + 180.0).abs() < 1e-9
                && (world.max_lat() - 85.051_128_78).abs() < 1e-6
        );
        // Songjiang at zoom 12
        let b = tile_bbox(12, 3427, 1676).expect("a box");
        assert!(
            b.min_lon() < 121.25
                && b.max_lon() > 121.25
                && b.min_lat() < 31.0
                && b.max_lat() > 31.0
        );
    }

    #[test]
    fn a_question_keeps_one_cell_set_and_few_are_kept() {
        let cells = TileCells::default();
        let key = |v: i64| {
            AnswerKey::new(&Question {
                operation: "/api/v1/tiles/coverage",
                params: vec![],
                access: "admin".to_owned(),
                now_ms: None,
                data_version: v,
            })
        };
        let first = cells.slot(key(1));
        assert!(Arc::ptr_eq(&first, &cells.slot(key(1))));
        // a new data version is a new set; the oldest go
        assert!(!Arc::ptr_eq(&first, &cells.slot(key(2))));
        for v in 3..=6 {
            cells.slot(key(v));
        }
        assert!(!Arc::ptr_eq(&first, &cells.slot(key(1))));
        assert!(cells.recent.lock().expect("a lock").len() <= KEPT_CELL_SETS);
    }

    #[test]
    fn a_point_lands_in_its_tile() {
        let f = json!({"type": "Feature", "id": 7, "geometry": {"type": "Point", "coordinates": [121.25, 31.0]},
                       "properties": {"name": "工地", "n": 3, "ok": true}});
        let (_, prepared) = prepare(&f).expect("a geometry");
        let bytes = encode("works", &[&prepared], 12, 3427, 1676).expect("encodes");
        let t = Tile::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(t.layers[0].name, "works");
        assert_eq!(t.layers[0].features.len(), 1);
        assert_eq!(t.layers[0].features[0].id, Some(7));
        assert_eq!(t.layers[0].keys, ["n", "name", "ok"]);
    }
}
