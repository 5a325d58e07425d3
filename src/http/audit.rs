//! The audit trail: every write through the API (`POST`, `PUT`, `PATCH`,
//! `DELETE` under `/api/`) is recorded with who, when, method, path and
//! status, and, when the handler says so with an [`Audited`] response part,
//! the entity, its id and its value before the change. Admins read it at
//! `GET /api/v1/audit`.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponseParts, Response, ResponseParts};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::needs_token;
use super::error::{ApiError, ApiResult};
use super::extract::Query;
use super::params::Params;
use super::params::{DEFAULT_LIMIT, MAX_LIMIT, opt};
use crate::auth::{Action, Caller};
use crate::service::queries;
use crate::store::access::{AuditEvent, AuditQuery};

/// What a write changed, for the audit trail: a response part
/// (`(StatusCode::CREATED, Audited::created("project", id), Json(..))`).
#[derive(Debug, Clone)]
pub struct Audited {
    pub entity: String,
    pub id: String,
    /// The value before the change (e.g. the GeoJSON Feature); `None` for
    /// a creation.
    pub before: Option<serde_json::Value>,
}

impl Audited {
    #[must_use]
    pub fn created(entity: &str, id: i64) -> Self {
        Self {
            entity: entity.to_owned(),
            id: id.to_string(),
            before: None,
        }
    }

    pub fn changed(entity: &str, id: i64, before: impl Serialize) -> Self {
        Self {
            entity: entity.to_owned(),
            id: id.to_string(),
            before: serde_json::to_value(before).ok(),
        }
    }
}

impl IntoResponseParts for Audited {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.extensions_mut().insert(self);
        Ok(res)
    }
}

/// `POST`, `PUT`, `PATCH` and `DELETE`: the methods that write.
pub(super) fn is_write(m: &Method) -> bool {
    matches!(
        *m,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// The audit middleware (inside authentication, which provides the caller).
pub async fn record(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if !is_write(req.method()) || !needs_token(&path) {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    let caller = req.extensions().get::<Caller>().cloned();
    let res = next.run(req).await;
    let Some(caller) = caller else {
        return res;
    };
    let audited = res.extensions().get::<Audited>().cloned();
    let (entity, entity_id, before) = match audited {
        Some(a) => (Some(a.entity), Some(a.id), a.before),
        None => (None, None, None),
    };
    let event = AuditEvent {
        id: 0,
        at: chrono::Utc::now(),
        user_id: Some(caller.user_id),
        user: caller.user,
        role: caller.role.to_string(),
        method,
        path,
        entity,
        entity_id,
        status: res.status().as_u16(),
        before,
    };
    if let Err(e) = queries::record_audit(&st.store, &event).await {
        // the write is done; losing its trail must be loud
        tracing::error!(error = ?e, path = %event.path, user = %event.user, "audit event not recorded");
    }
    res
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// A page of the audit trail, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    #[serde(rename = "numberMatched")]
    number_matched: u64,
    #[serde(rename = "numberReturned")]
    number_returned: usize,
    items: Vec<AuditEvent>,
}

crate::query_params! {
    /// The filters and page of the audit trail.
    pub struct AuditParams {
        /// A user name.
        user: String,
        /// e.g. project, user.
        entity: String,
        entity_id: String,
        /// Page size, default 1000.
        #[param(minimum = 1, maximum = 10_000)]
        limit: u32,
        offset: u32,
    }
}

/// The audit trail, for admins.
#[utoipa::path(get, path = "/api/v1/audit", operation_id = "listAuditEvents", tag = "access",
    params(AuditParams),
    responses((status = 200, description = "newest first", body = AuditPage),
              (status = 403, description = "not an admin", body = super::error::Problem)))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    caller.require(Action::ReadAudit)?;
    let limit = opt::<u32>(&q, "limit", "a whole number")?.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::invalid(
            "limit",
            format!("must be from 1 to {MAX_LIMIT}"),
        ));
    }
    let text = |k: &str| {
        q.get(k)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let query = AuditQuery {
        user: text("user"),
        entity: text("entity"),
        entity_id: text("entity_id"),
        limit,
        offset: opt::<u32>(&q, "offset", "a whole number")?.unwrap_or(0),
    };
    let page = queries::audit_page(&st.store, &query).await?;
    Ok(Json(AuditPage {
        number_matched: page.total,
        number_returned: page.items.len(),
        items: page.items,
    }))
}
