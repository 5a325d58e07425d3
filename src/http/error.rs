//! The one HTTP error type: every failure becomes an RFC 9457
//! `application/problem+json` answer naming the field and the reason.
//! Internal errors are logged with their cause and answered without it:
//! a client never sees SQL.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::Invalid;
use crate::ingest::IngestError;
use crate::service::ServiceError;
use crate::store::StoreError;

/// One offending field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error answered as problem+json.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    retry_after: Option<u64>,
    /// The database condition behind a 503, for `/health`.
    condition: Option<crate::store::Condition>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            condition: None,
        }
    }

    /// A field that failed validation (422).
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::field(StatusCode::UNPROCESSABLE_ENTITY, None, field, reason)
    }

    /// A request that could not be read at all (400), e.g. malformed JSON.
    pub fn bad_request(field: impl Into<String>, reason: impl Into<String>) -> Self {
        let mut e = Self::field(StatusCode::BAD_REQUEST, None, field, reason);
        e.kind = "urn:gridpatrol:problem:bad-request";
        e.title = "The request could not be read";
        e
    }

    fn field(
        status: StatusCode,
        location: Option<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        let (field, reason) = (field.into(), reason.into());
        let detail = match &location {
            Some(l) => format!("{l}: {field}: {reason}"),
            None => format!("{field}: {reason}"),
        };
        let mut e = Self::new(
            status,
            "urn:gridpatrol:problem:invalid-input",
            "Invalid input",
            detail,
        );
        e.errors.push(FieldError {
            field,
            reason,
            location,
        });
        e
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "urn:gridpatrol:problem:not-found",
            "Not found",
            format!("{} not found", what.into()),
        )
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "urn:gridpatrol:problem:conflict",
            "Conflict",
            detail,
        )
    }

    /// A conflict that goes away by itself: retry after `retry_after` s.
    #[must_use]
    pub fn conflict_for(detail: impl Into<String>, retry_after: u64) -> Self {
        let mut e = Self::conflict(detail);
        e.retry_after = Some(retry_after);
        e
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "urn:gridpatrol:problem:unauthorized",
            "Unauthorized",
            detail,
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "urn:gridpatrol:problem:forbidden",
            "Forbidden",
            detail,
        )
    }

    #[must_use]
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "urn:gridpatrol:problem:rate-limited",
            "Too many requests",
            format!("rate limit reached; retry after {retry_after} s"),
        );
        e.retry_after = Some(retry_after);
        e
    }

    #[must_use]
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "urn:gridpatrol:problem:too-large",
            "Payload too large",
            format!("the request body exceeds {limit} bytes"),
        )
    }

    /// A body whose content is not a kind the resource keeps (415).
    pub fn unsupported_media(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "urn:gridpatrol:problem:unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    #[must_use]
    pub fn unavailable() -> Self {
        Self::unavailable_for("the database is unreachable; retry shortly", 5)
    }

    /// A 503 saying why, with the seconds to wait in `Retry-After`.
    fn unavailable_for(detail: impl Into<String>, retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "urn:gridpatrol:problem:unavailable",
            "Service unavailable",
            detail,
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// The request took longer than the service allows.
    #[must_use]
    pub fn timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "urn:gridpatrol:problem:timeout",
            "Request timeout",
            "the request took too long and was abandoned",
        )
    }

    #[must_use]
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "urn:gridpatrol:problem:internal",
            "Internal error",
            "an internal error occurred; it has been logged",
        )
    }

    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        Self::invalid(e.field, e.reason)
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        let status = if e.field == "body" {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        Self::field(status, e.location, e.field, e.reason)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Self::conflict(format!("{what} already exists")),
            StoreError::Invalid(i) => i.into(),
            StoreError::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                Self::unavailable()
            }
            StoreError::Degraded(condition, source) => {
                tracing::warn!(error = %source, %condition, "database cannot take the request");
                let mut e = Self::unavailable_for(
                    format!("{}; nothing was written, retry later", condition.describe()),
                    condition.retry_after(),
                );
                e.condition = Some(condition);
                e
            }
            StoreError::Busy(what) => {
                Self::unavailable_for(format!("{what}; nothing was written, retry shortly"), 1)
            }
            StoreError::Database(ref source) if is_connection_error(source) => {
                tracing::warn!(error = %source, "database connection lost");
                Self::unavailable()
            }
            other => {
                tracing::error!(error = ?other, "store error");
                Self::internal()
            }
        }
    }
}

/// Errors that mean the database went away rather than that a query was wrong.
fn is_connection_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now,
            // 3D000 invalid_catalog_name (database dropped or renamed), 08xxx
            // connection exceptions, 53300 too_many_connections, 55000 (the
            // database does not accept connections: ALLOW_CONNECTIONS false)
            db.code().is_some_and(|c| {
                c.starts_with("57P")
                    || c.starts_with("08")
                    || matches!(c.as_ref(), "3D000" | "53300" | "55000")
            })
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Protocol(_) => true,
        _ => false,
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Ingest(i) => i.into(),
            ServiceError::Store(s) => s.into(),
            ServiceError::NotFound(what) => Self::not_found(what),
            ServiceError::Forbidden(denied) => denied.into(),
            ServiceError::Conflict(what) => Self::conflict(what),
            ServiceError::Io { .. } => {
                tracing::error!(error = ?e, "i/o error");
                Self::internal()
            }
            ServiceError::TaskFailed { .. } => {
                tracing::error!(error = ?e, "blocking task failed");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: self.kind.to_owned(),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
        };
        let mut res = (self.status, Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if let Some(c) = self.condition {
            res.extensions_mut().insert(c);
        }
        res
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
