//! The HTTP API (axum): GeoJSON in and out, RFC 9457 problems, an OpenAPI
//! document. `app` builds the router from a state; `serve` runs it until a
//! shutdown signal. Handlers stay thin: validation and rules live in the
//! domain and service layers, SQL in the store.

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod basemap;
pub mod blindspots;
pub mod casefile;
pub mod coverage;
pub mod dossier;
pub mod error;
pub mod evaluation;
pub mod export;
pub mod extract;
pub mod features;
pub mod geojson_types;
pub mod health;
pub mod hexagons;
pub mod idempotency;
pub mod inbox;
pub mod inspections;
pub mod layers;
pub mod limits;
pub mod ogc;
pub mod openapi;
pub mod params;
pub mod projects;
pub mod read_cache;
pub mod routes;
pub mod routes_answer;
pub mod routes_request;
pub mod scorecard;
pub mod shared_rate;
pub mod tiles;
pub mod tracks;
pub mod ui;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::store::DynStore;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    /// Limits, rate buckets and resolved scopes.
    pub guard: Arc<auth::Guard>,
    /// The road graph the route planner uses, reloaded when the stored
    /// network changes.
    pub roads: Arc<crate::service::routes::RoadGraphCache>,
    /// The last time a write found the database unable to take it.
    pub writes: Arc<health::WriteHealth>,
    /// The answers of the read path (coverage, summaries, blind spots).
    pub answers: Arc<crate::service::cache::AnswerCache>,
    /// The coverage cells the vector tiles of a view share.
    pub tiles: Arc<tiles::TileCells>,
}

impl AppState {
    /// A state with the default [`limits::Limits`].
    #[must_use]
    pub fn new(store: DynStore) -> Self {
        Self {
            store,
            guard: Arc::new(auth::Guard::default()),
            roads: Arc::default(),
            writes: Arc::default(),
            answers: Arc::default(),
            tiles: Arc::default(),
        }
    }

    /// The same state with an answer cache of `capacity_bytes` (0: off).
    #[must_use]
    pub fn with_answer_cache(self, capacity_bytes: u64) -> Self {
        Self {
            answers: Arc::new(crate::service::cache::AnswerCache::new(capacity_bytes)),
            ..self
        }
    }

    /// The same store with other limits (the answer cache's size included).
    #[must_use]
    pub fn with_limits(self, limits: limits::Limits) -> Self {
        Self {
            answers: Arc::new(crate::service::cache::AnswerCache::new(
                limits.answer_cache_bytes,
            )),
            guard: Arc::new(auth::Guard::new(limits)),
            ..self
        }
    }

    /// The same store and limits, the rate shared with other instances.
    #[must_use]
    pub fn with_shared_rate(self, limits: limits::Limits, shared: shared_rate::SharedRate) -> Self {
        Self {
            guard: Arc::new(auth::Guard::new(limits).with_shared_rate(shared)),
            ..self
        }
    }
}

#[expect(clippy::unused_async, reason = "axum fallbacks are async handlers")]
async fn not_found() -> error::ApiError {
    error::ApiError::not_found("resource")
}

/// Every documented route: the handlers with their OpenAPI operations.
#[must_use]
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<openapi::ApiDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(health::health))
        .routes(routes!(openapi::openapi_json))
        .merge(layers::router())
        .merge(tracks::router())
        .merge(coverage::router())
        .merge(inspections::router())
        .merge(blindspots::router())
        .merge(scorecard::router())
        .merge(routes::router())
        .merge(basemap::router())
        .merge(auth::router())
        .merge(audit::router())
        .merge(casefile::router())
        .merge(attachments::router())
        .merge(dossier::router())
        .merge(evaluation::router())
        .merge(ogc::router())
        .merge(tiles::router())
        .merge(inbox::router())
}

/// The whole application router.
pub fn app(state: AppState) -> Router {
    let (router, _) = api().split_for_parts();
    harden(router.fallback(ui::fallback), state)
}

/// The layers around every route, innermost first: the answer cache of the
/// read path, body limits, the audit trail, idempotency keys,
/// authentication and the rate limit, the timeout, problem+json for
/// the layers' own errors, CORS when configured, gzip, and the access log.
fn harden(router: Router<AppState>, state: AppState) -> Router {
    let limits = state.guard.limits.clone();
    let max_body = limits.max_body_bytes;
    let router = router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            read_cache::serve,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            export::convert,
        ))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(state.clone(), audit::record))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::honour,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            health::watch_writes,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(middleware::from_fn(move |req, next| {
            limits::problem_errors(max_body, req, next)
        }));
    let router = match limits.cors() {
        Some(cors) => router.layer(cors),
        None => router,
    };
    // the district's coverage at street level is megabytes of GeoJSON: gzip
    // it for clients that accept it
    router
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
        .layer(access_log())
        .with_state(state)
}

/// The access log: method, path, route, user and status; never headers
/// (the token) nor the query string.
fn access_log() -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    fn(&Request) -> tracing::Span,
> {
    fn span(req: &Request) -> tracing::Span {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            route,
            user = tracing::field::Empty,
        )
    }
    TraceLayer::new_for_http()
        .make_span_with(span as fn(&Request) -> tracing::Span)
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
}

/// Serves the app on a bound listener until `shutdown` completes, letting
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
