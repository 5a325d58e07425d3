//! The fast read path over HTTP: the coverage, summary and blind-spot
//! answers ([`CACHED`]) go through [`serve`], a middleware that names each
//! request's answer ([`AnswerKey`]: operation, query, the caller's scope,
//! data version, the clock minute, encoding), answers `304 Not Modified`
//! when the client's `If-None-Match` already names it, serves the stored
//! bytes when the [`AnswerCache`](crate::service::cache::AnswerCache) holds
//! them, and otherwise runs the handler once (concurrent requests for the
//! same answer wait for it) and keeps its 200.
//!
//! "Now" (the end of a window without `to`) is the next whole minute, the
//! same for the key and the handler ([`ReadClock`]), so that an answer
//! stays valid for the minute it stands for.
//!
//! Answers depend on the token's scope: `Cache-Control: private,
//! no-cache` (a shared cache must not keep them; a browser revalidates
//! with its `ETag`), and `Vary: Authorization, Accept-Encoding`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::auth::Caller;
use crate::service::cache::{self, Answer, AnswerKey, Encoding, Lookup, Question};

/// The operations whose answers are cached.
pub const CACHED: [&str; 6] = [
    "/api/v1/coverage",
    "/api/v1/coverage/summary",
    "/api/v1/blindspots/cells",
    "/api/v1/blindspots/districts",
    "/api/v1/blindspots/near-venues",
    "/api/v1/blindspots/works",
];

/// The `Cache-Control` of a cached answer.
const CACHE_CONTROL: &str = "private, no-cache";
/// The `Vary` of a cached answer.
const VARY: &str = "authorization, accept-encoding";
/// The largest answer read back from a handler (a district at street level
/// is tens of megabytes; beyond this it is answered but not kept).
const MAX_KEPT_BYTES: usize = 256 * 1024 * 1024;

/// "Now" for a read answer: the next whole minute (UTC milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadClock(pub i64);

impl ReadClock {
    /// The next whole minute after the current time (or the current time
    /// when it is one).
    #[must_use]
    pub fn now() -> Self {
        let ms = chrono::Utc::now().timestamp_millis();
        Self(ms.div_euclid(60_000) * 60_000 + if ms % 60_000 == 0 { 0 } else { 60_000 })
    }

    #[must_use]
    pub fn ms(self) -> i64 {
        self.0
    }

    #[must_use]
    pub fn time(self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ReadClock {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Self>()
            .copied()
            .unwrap_or_else(Self::now))
    }
}

/// Whether the client takes gzip (`Accept-Encoding`, without `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// The access a caller's answers depend on: role and scope.
pub(super) fn access(caller: &Caller) -> String {
    let view = caller.scope.view();
    format!(
        "{}|{}|{}|{}|{}",
        caller.role,
        view.kind,
        view.towns.join(","),
        view.zones.join(","),
        view.grids.join(",")
    )
}

/// The query parameters, decoded and sorted.
fn params(query: Option<&str>) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    p.sort();
    p
}

fn with_headers(mut res: Response, etag: &str) -> Response {
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(header::VARY, HeaderValue::from_static(VARY));
    res
}

async fn respond(answer: &Answer, encoding: Encoding, etag: &str) -> Response {
    let body = match answer.body(encoding).await {
        Ok(b) => b,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut res = Response::new(Body::from(body));
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&answer.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if encoding == Encoding::Gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    with_headers(res, etag)
}

/// The middleware (see the module docs). It runs inside authentication:
/// the [`Caller`] is known.
pub async fn serve(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() != Method::GET || !CACHED.contains(&path) {
        return next.run(req).await;
    }
    let Some(caller) = req.extensions().get::<Caller>() else {
        return next.run(req).await;
    };
    let version = match cache::data_version(&st.store).await {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let params = params(req.uri().query());
    let clock = ReadClock::now();
    let key = AnswerKey::new(&Question {
        operation: path,
        // a window without `to` (or with an empty one) ends now
        now_ms: (!params
            .iter()
            .any(|(k, v)| k == "to" && !v.trim().is_empty()))
        .then_some(clock.ms()),
        params,
        access: access(caller),
        data_version: version,
    });
    let encoding = if accepts_gzip(req.headers()) {
        Encoding::Gzip
    } else {
        Encoding::Identity
    };
    let etag = key.etag(encoding);
    let fresh = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| key.matches(v));
    if fresh {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        *res.body_mut() = Body::empty();
        return with_headers(res, &etag);
    }
    req.extensions_mut().insert(clock);
    let loading = match st.answers.lookup(&key).await {
        Lookup::Hit(answer) => return respond(&answer, encoding, &etag).await,
        Lookup::Miss(loading) => loading,
    };
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        // errors are not kept: the guard is dropped and a waiting request
        // computes its own answer
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_KEPT_BYTES).await else {
        return ApiError::internal().into_response();
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let answer = Arc::new(Answer::new(content_type, bytes));
    if let Some(loading) = loading {
        loading.fill(answer.clone());
    }
    respond(&answer, encoding, &etag).await
}
