//! `/health`: whether the service runs and its database takes reads and
//! writes. A committed write to a probe row finds a read-only or locked
//! database; a write that failed for want of room (or of a writable file)
//! in the last minutes is remembered from the answers themselves, so a
//! disk that fills up shows here before the probe's few bytes fail.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use crate::store::{Condition, StoreError};

/// How long a failed write keeps `/health` degraded without a later
/// successful one.
const REMEMBERED: Duration = Duration::from_secs(300);

/// The last write the database could not take, until a write succeeds.
#[derive(Debug, Default)]
pub struct WriteHealth(Mutex<Option<(Instant, Condition)>>);

impl WriteHealth {
    fn set(&self, v: Option<(Instant, Condition)>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = v;
    }

    /// The condition of a recent failed write, if no write succeeded since.
    #[must_use]
    pub fn recent(&self) -> Option<Condition> {
        let last = *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        last.filter(|(at, _)| at.elapsed() < REMEMBERED)
            .map(|(_, c)| c)
    }
}

/// Notes every answer that met a database condition, and every successful
/// write, for `/health`.
pub async fn watch_writes(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let res = next.run(req).await;
    // a lock is passing; room and a writable file are what to watch
    if let Some(c) = res
        .extensions()
        .get::<Condition>()
        .filter(|c| **c != Condition::Locked)
    {
        st.writes.set(Some((Instant::now(), *c)));
    } else if write && res.status().is_success() {
        st.writes.set(None);
    }
    res
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when the database cannot take writes or reads.
    status: &'static str,
    /// `ok`, `unreachable`, `full`, `read_only`, `locked` or `io`.
    database: &'static str,
    /// What is wrong, for the operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

/// Liveness, and whether the database takes reads and writes.
#[utoipa::path(get, path = "/health", tag = "service", operation_id = "getHealth",
    responses((status = 200, description = "up", body = Health),
        (status = 503, description = "the database is unreachable or takes no writes", body = Health,
            headers(("Retry-After" = u64, description = "seconds before asking again")))))]
pub async fn health(State(st): State<AppState>) -> Response {
    let (database, detail) = match crate::service::queries::ping(&st.store).await {
        Ok(()) => match st.writes.recent() {
            None => {
                return Json(Health {
                    status: "ok",
                    database: "ok",
                    detail: None,
                })
                .into_response();
            }
            Some(c) => (c.code(), format!("{} (a recent write)", c.describe())),
        },
        Err(StoreError::Degraded(c, e)) => {
            tracing::warn!(error = %e, condition = %c, "health: database degraded");
            (c.code(), c.describe().to_owned())
        }
        Err(StoreError::Busy(what)) => ("locked", what),
        Err(e) => ("unreachable", e.to_string()),
    };
    let mut r = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(Health {
            status: "degraded",
            database,
            detail: Some(detail),
        }),
    )
        .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}
