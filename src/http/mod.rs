//! The HTTP API (axum): GeoJSON in and out, RFC 9457 problems, an OpenAPI
//! document. `app` builds the router from a state; `serve` runs it until a
//! shutdown signal. Handlers stay thin: validation and rules live in the
//! domain and service layers, SQL in the store.

pub mod error;
pub mod extract;
pub mod features;
pub mod layers;
pub mod openapi;
pub mod params;
pub mod projects;
pub mod ui;

use std::future::Future;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Serialize;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::store::DynStore;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
}

impl AppState {
    #[must_use]
    pub fn new(store: DynStore) -> Self {
        Self { store }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
    database: &'static str,
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/health", tag = "service",
    responses((status = 200, description = "up", body = Health), (status = 503, description = "database unreachable", body = Health)))]
pub async fn health(State(st): State<AppState>) -> (StatusCode, Json<Health>) {
    match st.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database: "ok",
            }),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "degraded",
                database: "unreachable",
            }),
        ),
    }
}

async fn not_found() -> error::ApiError {
    error::ApiError::not_found("resource")
}

/// The whole application router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/openapi.json", get(openapi::document))
        .merge(layers::router())
        .fallback(ui::fallback)
        .layer(TraceLayer::new_for_http())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .with_state(state)
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
