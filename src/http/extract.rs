//! Extractors whose rejections are problem+json like every other error:
//! a path id, a typed JSON body ([`Json`]) and typed query parameters
//! ([`Query`]). A body that is not JSON is a 400 naming `body`; a value of
//! the wrong type, a missing field or an unknown one is a 422 naming the
//! field (`findings[0].deadline`), so a client can point at it.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A path parameter; a malformed one (e.g. a non-numeric id) is a 404 for
/// ids, since no such resource can exist.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<i64>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Self(id)),
            Err(_) => Err(ApiError::not_found(format!(
                "resource {}",
                parts.uri.path()
            ))),
        }
    }
}

/// A JSON body read into `T` (any Content-Type is accepted), or a JSON
/// answer: `T` is serialised with `application/json`.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request("body", e.body_text()))?;
        json_body(&bytes).map(Self)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Parses a JSON body into `T`: malformed JSON (or a body that is not the
/// object `T` is) is a 400 naming `body`; a bad field a 422 naming it.
/// A string with a control character (other than tab, newline, CR) is a
/// 422 naming it, before anything is read or written.
pub fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        refuse_control_chars(&v, "")?;
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if !inner.is_data() {
                return Err(ApiError::bad_request(
                    "body",
                    format!("malformed JSON: {inner}"),
                ));
            }
            let message = inner.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_owned();
            Err(data_error(&path, &message, true))
        }
    }
}

/// Refuses a JSON request body that is not read as a typed one (a track
/// file, a batch of points) when one of its strings or keys holds a
/// control character other than tab, newline and CR, naming it. Other text
/// (GPX, CSV) is left to its parser and to the checks of what is stored.
pub fn refuse_control_chars_in_json(bytes: &[u8]) -> Result<(), ApiError> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v) => refuse_control_chars(&v, ""),
        Err(_) => Ok(()),
    }
}

/// Whether a text holds a control character other than tab, newline, CR.
#[must_use]
pub fn has_control_chars(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Refuses any key or string in a JSON value holding a control character,
/// naming it by its path (`properties.name`, `findings[0].note`).
fn refuse_control_chars(v: &serde_json::Value, path: &str) -> Result<(), ApiError> {
    let refuse = |at: &str| {
        let field = if at.is_empty() { "body" } else { at };
        Err(ApiError::invalid(
            field.to_owned(),
            "must not contain control characters (NUL, …)",
        ))
    };
    match v {
        serde_json::Value::String(s) if has_control_chars(s) => refuse(path),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| refuse_control_chars(item, &format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().try_for_each(|(k, item)| {
            let at = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if has_control_chars(k) {
                return refuse(&at);
            }
            refuse_control_chars(item, &at)
        }),
        _ => Ok(()),
    }
}

/// Query parameters read into `T` (declare it `deny_unknown_fields`).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(raw));
        serde_path_to_error::deserialize(de)
            .map(Self)
            .map_err(|e| data_error(&e.path().to_string(), &e.into_inner().to_string(), false))
    }
}

fn form_urlencoded_parse(raw: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(raw.as_bytes())
}

/// A value serde refused: the field it concerns and a readable reason.
fn data_error(path: &str, message: &str, body: bool) -> ApiError {
    let prefix = if path == "." || path.is_empty() {
        String::new()
    } else {
        format!("{path}.")
    };
    let named = |what: &str| {
        message
            .strip_prefix(what)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    if let Some(name) = named("unknown field `") {
        let expected = message
            .split_once(", expected ")
            .map_or(String::new(), |(_, e)| format!(" (expected {e})"));
        let what = if body { "a field" } else { "a parameter" };
        // serde names the unknown key itself as the last path segment
        let field = if path.ends_with(&name) {
            path.to_owned()
        } else {
            format!("{prefix}{name}")
        };
        return ApiError::invalid(field, format!("is not {what} of this request{expected}"));
    }
    if let Some(name) = named("missing field `") {
        return ApiError::invalid(format!("{prefix}{name}"), "is required");
    }
    if let Some(name) = named("duplicate field `") {
        return ApiError::invalid(format!("{prefix}{name}"), "is given more than once");
    }
    if prefix.is_empty() {
        return if body {
            ApiError::bad_request("body", format!("must be a JSON object: {message}"))
        } else {
            ApiError::invalid("query", message.to_owned())
        };
    }
    ApiError::invalid(path.to_owned(), message.to_owned())
}
