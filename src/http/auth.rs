//! Authentication: every `/api/` request but the OpenAPI document carries
//! `Authorization: Bearer <token>`; the middleware checks it, applies the
//! per-token rate limit and puts a [`Caller`] in the request, which
//! handlers take as an extractor. Health and the map-ui stay open.
//!
//! The caller's scope is resolved from the user's grants (zones and grids
//! need the grid table) and kept for [`SCOPE_TTL`], so a re-imported grid
//! reaches its managers within that time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::ApiError;
use super::limits::{Limits, RateLimiter};
use super::shared_rate::SharedRate;
use crate::auth::{Caller, Denied, Role, Scope, ScopeView, token};
use crate::service::queries;
use crate::store::{DynStore, StoreError};

/// How long a resolved scope is reused.
pub const SCOPE_TTL: Duration = Duration::from_secs(30);

/// The per-process state of access control: limits, rate buckets and the
/// resolved scopes.
#[derive(Debug)]
pub struct Guard {
    pub limits: Limits,
    rate: RateLimiter,
    /// The limit shared with other instances, when configured.
    shared: Option<SharedRate>,
    scopes: Mutex<HashMap<ScopeKey, (Instant, Arc<Scope>)>>,
}

/// A user's id and grants: a resolved scope is reused for both unchanged.
type ScopeKey = (i64, String);

impl Guard {
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Self {
            rate: RateLimiter::new(limits.rate_per_second, limits.rate_burst),
            shared: None,
            limits,
            scopes: Mutex::new(HashMap::new()),
        }
    }

    /// The same limits with the rate shared through Redis.
    #[must_use]
    pub fn with_shared_rate(mut self, shared: SharedRate) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Takes one request from the token's budget (shared when configured).
    async fn check_rate(&self, token_id: &str) -> Result<(), u64> {
        if self.limits.rate_per_second <= 0.0 {
            return Ok(());
        }
        match &self.shared {
            Some(shared) => shared.check(token_id).await,
            None => self.rate.check(token_id, Instant::now()),
        }
    }

    async fn scope(
        &self,
        store: &DynStore,
        user: &crate::store::access::User,
    ) -> Result<Arc<Scope>, StoreError> {
        let key = (user.id, user.grants.to_string());
        let now = Instant::now();
        {
            let cache = self
                .scopes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((at, s)) = cache.get(&key)
                && now.duration_since(*at) < SCOPE_TTL
            {
                return Ok(s.clone());
            }
        }
        let scope = Arc::new(queries::scope_of(store, &user.grants).await?);
        let mut cache = self
            .scopes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.retain(|_, (at, _)| now.duration_since(*at) < SCOPE_TTL);
        cache.insert(key, (now, scope.clone()));
        Ok(scope)
    }
}

impl Default for Guard {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

/// Whether a path needs a token: the API but its OpenAPI document.
#[must_use]
pub fn needs_token(path: &str) -> bool {
    path.starts_with("/api/") && path != "/api/v1/openapi.json"
}

/// A 401 with the RFC 6750 challenge.
fn unauthorized(detail: &str) -> Response {
    let mut res = ApiError::unauthorized(detail).into_response();
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"gridpatrol\""),
    );
    res
}

/// Why a request was not authenticated.
enum Refused {
    Missing,
    Invalid,
    Expired,
    Revoked,
    Store(StoreError),
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

async fn identify(st: &AppState, headers: &HeaderMap) -> Result<(Caller, String), Refused> {
    let presented = match bearer(headers) {
        None if headers.contains_key(header::AUTHORIZATION) => return Err(Refused::Invalid),
        None => return Err(Refused::Missing),
        Some(t) => token::parse(t).map_err(|_| Refused::Invalid)?,
    };
    let grant = queries::token(&st.store, &presented.id)
        .await
        .map_err(Refused::Store)?
        .ok_or(Refused::Invalid)?;
    if !presented.matches(&grant.hash) {
        return Err(Refused::Invalid);
    }
    if grant.revoked_at.is_some() {
        return Err(Refused::Revoked);
    }
    if !grant.is_live(chrono::Utc::now()) {
        return Err(Refused::Expired);
    }
    let scope = st
        .guard
        .scope(&st.store, &grant.user)
        .await
        .map_err(Refused::Store)?;
    Ok((
        Caller {
            user_id: grant.user.id,
            user: grant.user.name,
            role: grant.user.role,
            scope,
        },
        presented.id,
    ))
}

/// The authentication middleware (see the module docs).
pub async fn authenticate(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    if !needs_token(req.uri().path()) {
        return next.run(req).await;
    }
    let (caller, token_id) = match identify(&st, req.headers()).await {
        Ok(c) => c,
        Err(Refused::Missing) => {
            return unauthorized("an Authorization: Bearer token is required");
        }
        Err(Refused::Invalid) => return unauthorized("the token is not valid"),
        Err(Refused::Expired) => return unauthorized("the token has expired"),
        Err(Refused::Revoked) => return unauthorized("the token has been revoked"),
        Err(Refused::Store(e)) => return ApiError::from(e).into_response(),
    };
    tracing::Span::current().record("user", caller.user.as_str());
    if let Err(retry_after) = st.guard.check_rate(&token_id).await {
        tracing::info!(user = %caller.user, "rate limited");
        return ApiError::too_many_requests(retry_after).into_response();
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("an Authorization: Bearer token is required"))
    }
}

impl From<Denied> for ApiError {
    fn from(e: Denied) -> Self {
        Self::forbidden(e.0)
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

/// Who the token belongs to.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    user: String,
    role: Role,
    scope: ScopeView,
}

/// The caller: user, role and scope (the map-ui's sign-in check).
#[utoipa::path(get, path = "/api/v1/me", operation_id = "getMe", tag = "access",
    responses((status = 200, description = "the caller", body = Me),
              (status = 401, description = "no valid token", body = super::error::Problem)))]
pub async fn me(caller: Caller) -> (StatusCode, Json<Me>) {
    (
        StatusCode::OK,
        Json(Me {
            user: caller.user,
            role: caller.role,
            scope: caller.scope.view(),
        }),
    )
}
