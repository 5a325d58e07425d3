//! `Idempotency-Key` on every write: a client that may send a write again
//! (a phone whose connection dropped before the answer came, the field
//! app's offline queue) names it with a key of its own; the same key with
//! the same request within a day is answered with the first answer and
//! writes nothing again (`Idempotent-Replayed: true`).
//!
//! - The key is 1–255 visible ASCII characters and belongs to the caller.
//! - The same key with another request (method, path and query, content
//!   type or body) is refused with 422; while the first request with a key
//!   is still running, a second one gets 409 with `Retry-After: 1`.
//! - Answers that say what the request did are kept: 2xx, and the client
//!   errors that a repeat would meet again (400, 404, 409, 413, 415, 422).
//!   Others (401, 403, 429, 5xx: nothing was written, or the caller may
//!   since have been granted more) free the key for a retry.
//! - The key is reserved before the write and the answer kept after it. A
//!   process killed between the two leaves a reservation that is taken
//!   over once older than the request timeout: a write that committed just
//!   before such a crash may then run again; the field app's records carry
//!   their own ids besides, so that a repeat is recognised by the data too.

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;
use super::auth::needs_token;
use super::error::ApiError;
use crate::auth::Caller;
use crate::store::idempotency::{KeptAnswer, KeyClock, Reservation};

/// The request header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer given again.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// How long a key is remembered.
pub const KEY_LIFETIME_MS: i64 = 24 * 3_600_000;
/// The longest key.
pub const MAX_KEY_LEN: usize = 255;

/// Why a key is not usable, for the problem's reason.
fn check_key(value: &HeaderValue) -> Result<&str, &'static str> {
    let key = value
        .to_str()
        .map_err(|_| "must be visible ASCII characters")?;
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err("must be 1 to 255 characters long");
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be visible ASCII characters, without spaces");
    }
    Ok(key)
}

/// What identifies a request besides its key.
fn fingerprint(
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Vec<u8> {
    let mut h = Sha256::new();
    for part in [
        method.as_str().as_bytes(),
        uri.path_and_query().map_or("", |p| p.as_str()).as_bytes(),
        headers
            .get(header::CONTENT_TYPE)
            .map_or(&b""[..], HeaderValue::as_bytes),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.update(body);
    h.finalize().to_vec()
}

/// Whether an answer says what the request did, so that a repeat gets it.
fn kept(status: StatusCode) -> bool {
    status.is_success()
        || matches!(
            status,
            StatusCode::BAD_REQUEST
                | StatusCode::NOT_FOUND
                | StatusCode::CONFLICT
                | StatusCode::PAYLOAD_TOO_LARGE
                | StatusCode::UNSUPPORTED_MEDIA_TYPE
                | StatusCode::UNPROCESSABLE_ENTITY
        )
}

fn replay(answer: KeptAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut res = (status, Body::from(answer.body)).into_response();
    let headers = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, answer.content_type),
        (header::LOCATION, answer.location),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, v);
        }
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    res
}

fn header_text(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The middleware (inside authentication, which provides the caller, and
/// outside the audit trail, so a replay is not recorded as a second write).
pub async fn honour(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let is_write = super::audit::is_write(req.method());
    let Some(value) = req.headers().get(&IDEMPOTENCY_KEY).cloned() else {
        return next.run(req).await;
    };
    if !is_write || !needs_token(req.uri().path()) {
        return next.run(req).await;
    }
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return next.run(req).await;
    };
    let key = match check_key(&value) {
        Ok(k) => k.to_owned(),
        Err(reason) => return ApiError::bad_request("Idempotency-Key", reason).into_response(),
    };
    let max_body = st.guard.limits.max_body_bytes;
    let (parts, body) = req.into_parts();
    let Ok(bytes): Result<Bytes, _> = to_bytes(body, max_body).await else {
        return ApiError::payload_too_large(max_body).into_response();
    };
    let print = fingerprint(&parts.method, &parts.uri, &parts.headers, &bytes);
    let now_ms = chrono::Utc::now().timestamp_millis();
    let timeout_ms = i64::try_from(st.guard.limits.request_timeout.as_millis()).unwrap_or(i64::MAX);
    let clock = KeyClock {
        now_ms,
        expired_before_ms: now_ms.saturating_sub(KEY_LIFETIME_MS),
        stale_before_ms: now_ms.saturating_sub(timeout_ms.saturating_add(5_000)),
    };
    match st
        .store
        .reserve_key(caller.user_id, &key, &print, clock)
        .await
    {
        Err(e) => return ApiError::from(e).into_response(),
        Ok(Reservation::Answered(answer)) => return replay(answer),
        Ok(Reservation::Mismatch) => {
            return ApiError::invalid(
                "Idempotency-Key",
                "this key was used for a different request; use a new key for a new request",
            )
            .into_response();
        }
        Ok(Reservation::Running) => {
            return ApiError::conflict_for(
                "a request with this Idempotency-Key is still being processed",
                1,
            )
            .into_response();
        }
        Ok(Reservation::Reserved) => {}
    }
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = res.status();
    if !kept(status) {
        if let Err(e) = st.store.release_key(caller.user_id, &key).await {
            tracing::warn!(error = ?e, user = %caller.user, "idempotency key not released");
        }
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        // the handler's body failed while streaming: nothing to keep
        return ApiError::internal().into_response();
    };
    let answer = KeptAnswer {
        status: status.as_u16(),
        content_type: header_text(&parts.headers, &header::CONTENT_TYPE),
        location: header_text(&parts.headers, &header::LOCATION),
        body: body.to_vec(),
    };
    if let Err(e) = st.store.complete_key(caller.user_id, &key, &answer).await {
        // the write is done; its answer is still the client's
        tracing::error!(error = ?e, user = %caller.user, "idempotent answer not kept");
    }
    Response::from_parts(parts, Body::from(body))
}
