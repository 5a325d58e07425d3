//! OGC API - Features at `/api/v1`: the landing page, the conformance
//! classes, the collections (`catalog.rs`: every layer, tracks, routes,
//! hazards and the analyses), their queryables and items as GeoJSON.
//!
//! Claimed and tested (`tests/it/ogc_*.rs`, GDAL's OAPIF driver as the
//! client): Part 1 Core and GeoJSON, Part 2 CRS by reference (CRS84,
//! EPSG:4326, EPSG:4490), Part 3 Filtering with CQL2 text (basic CQL2 and
//! the basic spatial functions, `S_INTERSECTS`). Not claimed: OpenAPI 3.0
//! (the document is OpenAPI 3.1) and HTML.
//!
//! Paging is by `offset` in the `next`/`prev` links; the items answer
//! `numberMatched` and `numberReturned`. Every read goes through the
//! service's scoped queries: a feature outside the caller's scope is absent
//! from the list and a 404 by id.

pub mod analyses;
pub mod catalog;
pub mod cql;
pub mod crs;
pub mod filter;
pub mod query;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::catalog::{Ask, COLLECTIONS, Collection};
use self::crs::{OgcCrs, SUPPORTED};
use self::query::{ItemsQuery, Raw, geometry_bbox};
use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Query;
use crate::auth::Caller;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(landing))
        .routes(routes!(conformance))
        .routes(routes!(collections))
        .routes(routes!(collection))
        .routes(routes!(queryables))
        .routes(routes!(items))
        .routes(routes!(item))
}

/// The conformance classes this service claims, each tested.
pub const CONFORMANCE: [&str; 9] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
];

const JSON: &str = "application/json";
const GEO_JSON: &str = "application/geo+json";

/// `http://host` of the request (links are absolute, as GDAL follows them).
fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()));
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    host.map_or_else(String::new, |h| format!("{proto}://{h}"))
}

fn link(href: impl Into<String>, rel: &str, kind: &str, title: &str) -> Value {
    json!({"href": href.into(), "rel": rel, "type": kind, "title": title})
}

fn json_answer(v: &Value, content_type: &'static str) -> Response {
    let mut res = axum::Json(v).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

fn only_format(q: &Raw) -> Result<(), ApiError> {
    query::refuse_unknown(q, &["f"])?;
    query::check_format(q)
}

fn found(id: &str) -> Result<&'static Collection, ApiError> {
    catalog::find(id).ok_or_else(|| ApiError::not_found(format!("collection {id}")))
}

/// The landing page of the features service.
#[utoipa::path(get, path = "/api/v1", tag = "features", operation_id = "getLandingPage",
    params(("f" = Option<String>, Query, description = "json (the only format)")),
    responses((status = 200, description = "the landing page: links to the API definition, the conformance classes and the collections", body = Object),
              (status = 400, description = "invalid parameter", body = super::error::Problem)))]
pub async fn landing(
    headers: HeaderMap,
    _caller: Caller,
    Query(q): Query<Raw>,
) -> ApiResult<Response> {
    only_format(&q)?;
    let b = base(&headers);
    let page = json!({
        "title": "gridpatrol 小微工程巡查",
        "description": "Patrol coverage, works, hazards and blind spots of the district as OGC API - Features (GeoJSON).",
        "links": [
            link(format!("{b}/api/v1"), "self", JSON, "this document"),
            link(format!("{b}/api/v1/openapi.json"), "service-desc", "application/vnd.oai.openapi+json;version=3.1", "the API definition (OpenAPI 3.1)"),
            link(format!("{b}/api/v1/conformance"), "conformance", JSON, "the conformance classes"),
            link(format!("{b}/api/v1/collections"), "data", JSON, "the collections"),
        ],
    });
    Ok(json_answer(&page, JSON))
}

/// The conformance classes the service implements.
#[utoipa::path(get, path = "/api/v1/conformance", tag = "features", operation_id = "getConformance",
    params(("f" = Option<String>, Query, description = "json (the only format)")),
    responses((status = 200, description = "`conformsTo`: the URIs of the conformance classes", body = Object),
              (status = 400, description = "invalid parameter", body = super::error::Problem)))]
pub async fn conformance(_caller: Caller, Query(q): Query<Raw>) -> ApiResult<Response> {
    only_format(&q)?;
    Ok(json_answer(&json!({ "conformsTo": CONFORMANCE }), JSON))
}

fn describe(c: &Collection, b: &str) -> Value {
    let at = format!("{b}/api/v1/collections/{}", c.id);
    json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": SUPPORTED.map(OgcCrs::uri),
        "storageCrs": OgcCrs::Crs84.uri(),
        "links": [
            link(at.clone(), "self", JSON, c.title),
            link(format!("{at}/items"), "items", GEO_JSON, c.title),
            link(format!("{at}/queryables"), "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json", "the properties a filter may name"),
        ],
    })
}

/// Every collection.
#[utoipa::path(get, path = "/api/v1/collections", tag = "features", operation_id = "getCollections",
    params(("f" = Option<String>, Query, description = "json (the only format)")),
    responses((status = 200, description = "the collections with their CRSs and links", body = Object),
              (status = 400, description = "invalid parameter", body = super::error::Problem)))]
pub async fn collections(
    headers: HeaderMap,
    _caller: Caller,
    Query(q): Query<Raw>,
) -> ApiResult<Response> {
    only_format(&q)?;
    let b = base(&headers);
    let all: Vec<Value> = COLLECTIONS.iter().map(|c| describe(c, &b)).collect();
    let body = json!({
        "links": [link(format!("{b}/api/v1/collections"), "self", JSON, "the collections")],
        "crs": SUPPORTED.map(OgcCrs::uri),
        "collections": all,
    });
    Ok(json_answer(&body, JSON))
}

/// One collection.
#[utoipa::path(get, path = "/api/v1/collections/{collectionId}", tag = "features", operation_id = "describeCollection",
    params(("collectionId" = String, Path, description = "the collection's id"), ("f" = Option<String>, Query, description = "json (the only format)")),
    responses((status = 200, description = "the collection with its CRSs and links", body = Object),
              (status = 400, description = "invalid parameter", body = super::error::Problem),
              (status = 404, description = "unknown collection", body = super::error::Problem)))]
pub async fn collection(
    headers: HeaderMap,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<Raw>,
) -> ApiResult<Response> {
    only_format(&q)?;
    let c = found(&id)?;
    Ok(json_answer(&describe(c, &base(&headers)), JSON))
}

/// The properties of a collection a filter may name (a JSON Schema).
#[utoipa::path(get, path = "/api/v1/collections/{collectionId}/queryables", tag = "features", operation_id = "getQueryables",
    params(("collectionId" = String, Path, description = "the collection's id"), ("f" = Option<String>, Query, description = "json (the only format)")),
    responses((status = 200, description = "a JSON Schema of the queryables", body = Object, content_type = "application/schema+json"),
              (status = 400, description = "invalid parameter", body = super::error::Problem),
              (status = 404, description = "unknown collection", body = super::error::Problem)))]
pub async fn queryables(
    headers: HeaderMap,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<Raw>,
) -> ApiResult<Response> {
    only_format(&q)?;
    let c = found(&id)?;
    let mut props = c.kind.queryables();
    props.insert(
        "geometry".into(),
        json!({"title": "geometry", "format": c.kind.geometry_type(), "x-ogc-role": "primary-geometry"}),
    );
    let body = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{}/api/v1/collections/{}/queryables", base(&headers), c.id),
        "type": "object",
        "title": c.title,
        "properties": props,
        "additionalProperties": false,
    });
    Ok(json_answer(&body, "application/schema+json"))
}

/// Parameters of the items (for the OpenAPI document; read by [`query::items_query`]).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the parameters; the handler reads them by name"
)]
pub struct ItemsParams {
    /// minLon,minLat,maxLon,maxLat in `bbox-crs` (CRS84 by default).
    bbox: Option<String>,
    /// The CRS of `bbox`: CRS84, EPSG:4326 or EPSG:4490 (URI).
    #[param(rename = "bbox-crs")]
    bbox_crs: Option<String>,
    /// An instant, or `start/end` with `..` for an open end (RFC 3339 or YYYY-MM-DD).
    datetime: Option<String>,
    /// Page size, default 100; above the maximum 10000 is served as 10000 (not refused).
    #[param(minimum = 1, maximum = 10_000, default = 100)]
    limit: Option<u32>,
    /// Items to skip (the `next` link carries it).
    offset: Option<u32>,
    /// The CRS of the answer: CRS84 (default), EPSG:4326 or EPSG:4490 (URI).
    crs: Option<String>,
    /// A CQL2 text filter: property comparisons, AND/OR/NOT, `S_INTERSECTS(geometry, …)`.
    filter: Option<String>,
    /// cql2-text (the only language).
    #[param(rename = "filter-lang")]
    filter_lang: Option<String>,
    /// The CRS of the filter's geometries: CRS84 only.
    #[param(rename = "filter-crs")]
    filter_crs: Option<String>,
    /// json (the only format).
    f: Option<String>,
}

/// Keeps what the store did not select: the exact bbox, the filter, the page.
fn select(mut features: Vec<Value>, q: &ItemsQuery) -> (Vec<Value>, u64) {
    if let Some(b) = q.bbox {
        features.retain(|f| geometry_bbox(&f["geometry"]).is_some_and(|g| g.intersects(&b)));
    }
    if let Some(expr) = &q.filter {
        features = filter::apply(expr, features);
    }
    let matched = features.len() as u64;
    let page = features
        .into_iter()
        .skip(q.offset as usize)
        .take(q.limit as usize)
        .collect();
    (page, matched)
}

fn page_link(b: &str, id: &str, q: &ItemsQuery, offset: u64, rel: &str) -> Value {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &q.kept {
        s.append_pair(k, v);
    }
    s.append_pair("offset", &offset.to_string());
    link(
        format!("{b}/api/v1/collections/{id}/items?{}", s.finish()),
        rel,
        GEO_JSON,
        rel,
    )
}

fn with_crs(mut res: Response, crs: OgcCrs) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", crs.uri())) {
        res.headers_mut().insert("content-crs", v);
    }
    res
}

/// The features of a collection, a page at a time.
#[utoipa::path(get, path = "/api/v1/collections/{collectionId}/items", tag = "features", operation_id = "getFeatures",
    params(("collectionId" = String, Path, description = "the collection's id"), ItemsParams),
    responses((status = 200, description = "a GeoJSON FeatureCollection with numberMatched, numberReturned and next/prev links", body = Object, content_type = "application/geo+json",
                headers(("Content-Crs" = String, description = "the CRS of the coordinates"))),
              (status = 400, description = "invalid parameter", body = super::error::Problem),
              (status = 404, description = "unknown collection", body = super::error::Problem)))]
pub async fn items(
    State(st): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    Path(id): Path<String>,
    Query(raw): Query<Raw>,
) -> ApiResult<Response> {
    let c = found(&id)?;
    let q = query::items_query(&raw)?;
    if let Some(expr) = &q.filter {
        filter::check(expr, &c.kind.queryable_names())?;
    }
    let store_pages = q.filter.is_none() && (q.bbox.is_none() || c.kind.store_bbox());
    let ask = Ask {
        bbox: q.bbox,
        datetime: if c.kind.temporal() { q.datetime } else { None },
        page: store_pages.then_some((q.limit, q.offset)),
    };
    let got = catalog::fetch(&st, &caller, c.kind, &ask).await?;
    let (mut features, matched) = match got.matched {
        Some(m) => (got.features, m),
        None => select(got.features, &q),
    };
    for f in &mut features {
        if let Some(g) = f.get_mut("geometry") {
            q.crs.transform_geometry(g);
        }
    }
    let b = base(&headers);
    let returned = features.len() as u64;
    let offset = u64::from(q.offset);
    let mut links = vec![
        page_link(&b, c.id, &q, offset, "self"),
        link(
            format!("{b}/api/v1/collections/{}", c.id),
            "collection",
            JSON,
            c.title,
        ),
    ];
    if offset + returned < matched {
        links.push(page_link(&b, c.id, &q, offset + returned, "next"));
    }
    if offset > 0 {
        links.push(page_link(
            &b,
            c.id,
            &q,
            offset.saturating_sub(u64::from(q.limit)),
            "prev",
        ));
    }
    let body = json!({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": crate::time::iso(chrono::Utc::now()),
        "links": links,
        "features": features,
    });
    Ok(with_crs(json_answer(&body, GEO_JSON), q.crs))
}

/// One feature of a collection.
#[utoipa::path(get, path = "/api/v1/collections/{collectionId}/items/{featureId}", tag = "features", operation_id = "getFeature",
    params(("collectionId" = String, Path, description = "the collection's id"),
           ("featureId" = String, Path, description = "the feature's id (an H3 cell for the cell collections)"),
           ("crs" = Option<String>, Query, description = "CRS84 (default), EPSG:4326 or EPSG:4490 (URI)"),
           ("f" = Option<String>, Query, description = "json (the only format)")),
    responses((status = 200, description = "a GeoJSON Feature", body = Object, content_type = "application/geo+json",
                headers(("Content-Crs" = String, description = "the CRS of the coordinates"))),
              (status = 400, description = "invalid parameter", body = super::error::Problem),
              (status = 404, description = "unknown collection or feature, or outside the caller's scope", body = super::error::Problem)))]
pub async fn item(
    State(st): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    Path((id, fid)): Path<(String, String)>,
    Query(raw): Query<Raw>,
) -> ApiResult<Response> {
    query::refuse_unknown(&raw, &["crs", "f"])?;
    query::check_format(&raw)?;
    let crs = match raw.get("crs") {
        None => OgcCrs::default(),
        Some(s) => OgcCrs::parse(s).map_err(|e| ApiError::bad_request("crs", e))?,
    };
    let c = found(&id)?;
    let mut f = catalog::one(&st, &caller, c.kind, &fid)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{} {fid}", c.id)))?;
    if let Some(g) = f.get_mut("geometry") {
        crs.transform_geometry(g);
    }
    let b = base(&headers);
    if let Some(m) = f.as_object_mut() {
        m.insert(
            "links".into(),
            json!([
                link(
                    format!("{b}/api/v1/collections/{}/items/{fid}", c.id),
                    "self",
                    GEO_JSON,
                    "this feature"
                ),
                link(
                    format!("{b}/api/v1/collections/{}", c.id),
                    "collection",
                    JSON,
                    c.title
                ),
            ]),
        );
    }
    Ok(with_crs(json_answer(&f, GEO_JSON), crs))
}
