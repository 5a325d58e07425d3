//! The map UI: the files of `map-ui/dist`, embedded at build time by
//! `build.rs`, served at `/` with their content types, and the officers'
//! field app at `/field/` (an installable page with a service worker). The
//! pages' own routes ([`UI_ROUTES`], and every path under `/field/`) answer
//! their `index.html`; any other path is a plain 404 (`/collections` and
//! `/conformance` redirect to the OGC API at `/api/v1`); `/api/...` paths
//! that no route matched stay problem+json 404s.
//!
//! The page asks `/ui-config.json` for its base map: a tile URL template and
//! whether that source uses GCJ-02 (the page then shifts our WGS-84 data for
//! display). Set it with [`configure`], or with the environment variables
//! `GRIDPATROL_TILES`, `GRIDPATROL_TILES_CRS` (`wgs84` or `gcj02`),
//! `GRIDPATROL_TILES_ATTRIBUTION` and `GRIDPATROL_TILES_MAX_ZOOM`. Without
//! a tile source the page draws every layer on a plain background.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One embedded file.
pub(crate) struct Asset {
    pub(crate) path: &'static str,
    pub(crate) content_type: &'static str,
    pub(crate) body: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// The base map the page uses.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UiConfig {
    /// A Leaflet URL template (`{z}/{x}/{y}`, optional `{s}`); `None` draws
    /// the layers on a plain background.
    pub tiles: Option<String>,
    /// The tile source is in GCJ-02 (Amap, Tencent, Google China).
    pub gcj02: bool,
    pub attribution: Option<String>,
    pub max_zoom: u8,
    /// False when the binary was built without npm and serves the fallback page.
    pub ui_built: bool,
}

impl UiConfig {
    /// Reads the `GRIDPATROL_TILES*` environment variables.
    #[must_use]
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Self {
            tiles: var("GRIDPATROL_TILES"),
            gcj02: var("GRIDPATROL_TILES_CRS").is_some_and(|v| v.eq_ignore_ascii_case("gcj02")),
            attribution: var("GRIDPATROL_TILES_ATTRIBUTION"),
            max_zoom: var("GRIDPATROL_TILES_MAX_ZOOM")
                .and_then(|v| v.parse().ok())
                .unwrap_or(18),
            ui_built: UI_BUILT,
        }
    }
}

static CONFIG: OnceLock<UiConfig> = OnceLock::new();

/// Sets the base map once, before serving (e.g. from `serve --tiles`).
/// Returns false when it was already set; the first value stays.
pub fn configure(mut config: UiConfig) -> bool {
    config.ui_built = UI_BUILT;
    CONFIG.set(config).is_ok()
}

fn config() -> &'static UiConfig {
    CONFIG.get_or_init(UiConfig::from_env)
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// The page loads nothing but its own files (and tiles, when configured).
fn content_security_policy(cfg: &UiConfig) -> String {
    let tiles = if cfg.tiles.is_some() {
        " https: http:"
    } else {
        ""
    };
    format!(
        "default-src 'self'; img-src 'self' data: blob:{tiles}; style-src 'self' 'unsafe-inline'; \
         script-src 'self'; connect-src 'self'; font-src 'self' data:; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'"
    )
}

fn asset_response(asset: &'static Asset, head: bool) -> Response {
    // Vite names the files under /assets/ by their hash: they never change.
    let cache = if asset.path.starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let body = if head {
        Body::empty()
    } else {
        Body::from(asset.body)
    };
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if asset.content_type.starts_with("text/html")
        && let Ok(v) = HeaderValue::from_str(&content_security_policy(config()))
    {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

/// A request of the page asking whether an endpoint exists (for endpoints
/// its OpenAPI document does not list yet).
const PROBE_HEADER: &str = "x-gridpatrol-probe";
/// The answer to a probe of a path no route serves.
const MISSING_HEADER: &str = "x-gridpatrol-missing";

/// The router's fallback: the API's 404 for `/api` paths, otherwise the UI.
///
/// A probe of the page for a path that no route serves is answered 204 with
/// `x-gridpatrol-missing: 1` instead, so that the browser logs no error for
/// an endpoint that does not exist yet.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") || path == "/health" {
        if headers.contains_key(PROBE_HEADER) {
            return (StatusCode::NO_CONTENT, [(MISSING_HEADER, "1")]).into_response();
        }
        return super::not_found().await.into_response();
    }
    let head = method == Method::HEAD;
    if method != Method::GET && !head {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    if path == "/ui-config.json" {
        let mut res = axum::Json(config()).into_response();
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return res;
    }
    if let Some(asset) = find(path) {
        return asset_response(asset, head);
    }
    // OGC API clients given the server's root look for these two here
    if path == "/collections" || path == "/conformance" {
        let to = match uri.query() {
            Some(q) => format!("/api/v1{path}?{q}"),
            None => format!("/api/v1{path}"),
        };
        return (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, to)]).into_response();
    }
    // the field app's scope is `/field/`: its service worker controls that
    if path == "/field" {
        return (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, "/field/")],
        )
            .into_response();
    }
    // The pages' own routes load their page; any other path is a plain 404.
    let page = if path.starts_with("/field/") {
        "/field/index.html"
    } else if UI_ROUTES.contains(&path.trim_end_matches('/')) || path == "/" {
        "/index.html"
    } else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    match find(page) {
        Some(index) => asset_response(index, head),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The paths of the page's views (it navigates by `#view`; these load it too).
const UI_ROUTES: [&str; 5] = ["/map", "/coverage", "/blindspots", "/routes", "/scorecard"];

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::to_bytes;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(path: &str) -> Response {
        let app: Router = Router::new().fallback(fallback);
        let req = Request::get(path).body(Body::empty()).expect("request");
        app.oneshot(req).await.expect("infallible")
    }

    fn content_type(res: &Response) -> &str {
        res.headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn index_is_html_with_a_strict_policy() {
        let res = get("/").await;
        // `/` is no file of its own: it falls back to index.html.
        assert_eq!(res.status(), StatusCode::OK);
        assert!(content_type(&res).starts_with("text/html"));
        let csp = res
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("default-src 'self'"));
    }

    #[tokio::test]
    async fn ui_routes_fall_back_to_index() {
        let res = get("/blindspots").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(content_type(&res).starts_with("text/html"));
    }

    #[tokio::test]
    async fn unknown_api_paths_stay_problem_json() {
        for path in ["/api/v1/nothing-here", "/api", "/health"] {
            let res = get(path).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
            assert_eq!(content_type(&res), "application/problem+json", "{path}");
        }
    }

    #[tokio::test]
    async fn probes_of_missing_endpoints_are_204() {
        let app: Router = Router::new().fallback(fallback);
        let req = Request::get("/api/v1/not-yet")
            .header(PROBE_HEADER, "1")
            .body(Body::empty())
            .expect("request");
        let res = app.oneshot(req).await.expect("infallible");
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            res.headers()
                .get(MISSING_HEADER)
                .and_then(|v| v.to_str().ok()),
            Some("1")
        );
    }

    #[tokio::test]
    async fn other_paths_are_404_not_the_page() {
        for path in ["/nothing-here", "/admin", "/collections/towns", "/api-docs"] {
            let res = get(path).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
            assert!(!content_type(&res).starts_with("text/html"), "{path}");
        }
    }

    #[tokio::test]
    async fn ogc_paths_at_the_root_redirect_to_the_api() {
        let res = get("/collections?f=json").await;
        assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            res.headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some("/api/v1/collections?f=json")
        );
        let res = get("/conformance").await;
        assert_eq!(
            res.headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some("/api/v1/conformance")
        );
    }

    #[tokio::test]
    async fn missing_files_are_404() {
        let res = get("/assets/nothing-here.js").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn every_embedded_file_is_served_with_its_type() {
        for asset in ASSETS {
            let res = get(asset.path).await;
            assert_eq!(res.status(), StatusCode::OK, "{}", asset.path);
            assert_eq!(content_type(&res), asset.content_type, "{}", asset.path);
            let body = to_bytes(res.into_body(), usize::MAX).await.expect("body");
            assert_eq!(body.len(), asset.body.len(), "{}", asset.path);
        }
    }

    #[test]
    fn tiles_widen_only_the_image_sources() {
        let mut cfg = UiConfig {
            tiles: None,
            gcj02: false,
            attribution: None,
            max_zoom: 18,
            ui_built: UI_BUILT,
        };
        let closed = content_security_policy(&cfg);
        assert!(closed.contains("img-src 'self' data: blob:;"));
        cfg.tiles = Some("https://tiles.example/{z}/{x}/{y}.png".into());
        let open = content_security_policy(&cfg);
        assert!(open.contains("img-src 'self' data: blob: https: http:;"));
        assert!(open.contains("connect-src 'self';"));
        assert!(open.contains("script-src 'self';"));
    }

    #[tokio::test]
    async fn config_is_json() {
        let res = get("/ui-config.json").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(content_type(&res).starts_with("application/json"));
        let body = to_bytes(res.into_body(), usize::MAX).await.expect("body");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert!(v.get("gcj02").is_some_and(serde_json::Value::is_boolean));
        assert_eq!(v.get("ui_built"), Some(&serde_json::Value::Bool(UI_BUILT)));
    }
}
