//! One way to call the router in tests: [`TestApp`] holds the application
//! router built from a store (and optionally limits) and sends requests
//! through it without a socket; every call returns one [`Answer`] (status,
//! headers, body bytes). [`assert_problem`] checks an RFC 9457 answer.

use std::sync::OnceLock;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use gridpatrol::http::limits::Limits;
use gridpatrol::http::{AppState, app};
use gridpatrol::store::DynStore;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// The application router over one store.
#[derive(Clone)]
pub struct TestApp {
    pub state: AppState,
    router: Router,
}

impl TestApp {
    /// The router with the default limits (rate limit included).
    pub fn new(store: &DynStore) -> Self {
        Self::from_state(AppState::new(store.clone()))
    }

    /// The router with the given limits.
    pub fn with_limits(store: &DynStore, limits: Limits) -> Self {
        Self::from_state(AppState::new(store.clone()).with_limits(limits))
    }

    /// The router without the per-token rate limit, for tests that send
    /// many requests.
    pub fn unlimited(store: &DynStore) -> Self {
        Self::with_limits(
            store,
            Limits {
                rate_per_second: 0.0,
                ..Limits::default()
            },
        )
    }

    pub fn from_state(state: AppState) -> Self {
        Self {
            router: app(state.clone()),
            state,
        }
    }

    pub fn store(&self) -> &DynStore {
        &self.state.store
    }

    /// Sends a request built by the caller.
    pub async fn send(&self, req: Request<Body>) -> Answer {
        let request = format!("{} {}", req.method(), req.uri());
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("the router answers");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res
            .into_body()
            .collect()
            .await
            .expect("the body is read")
            .to_bytes();
        Answer {
            request,
            status,
            headers,
            body,
            json: OnceLock::new(),
        }
    }

    /// A request with an optional bearer token and an optional body of the
    /// given content type.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some((content_type, bytes)) => {
                req = req.header(header::CONTENT_TYPE, content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        self.send(req.body(body).expect("a valid request")).await
    }

    /// Any method with a bearer token and an optional JSON body (sent as
    /// `application/json`).
    pub async fn call(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Answer {
        let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
        self.request(method, path, Some(token), body).await
    }

    /// `GET` without a token.
    pub async fn get(&self, path: &str) -> Answer {
        self.request("GET", path, None, None).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Answer {
        self.request("GET", path, Some(token), None).await
    }

    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> Answer {
        self.call(token, "POST", path, Some(body.clone())).await
    }

    pub async fn post_bytes(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        bytes: impl Into<Vec<u8>>,
    ) -> Answer {
        self.request(
            "POST",
            path,
            Some(token),
            Some((content_type, bytes.into())),
        )
        .await
    }

    pub async fn patch_json(&self, token: &str, path: &str, body: &Value) -> Answer {
        self.call(token, "PATCH", path, Some(body.clone())).await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Answer {
        self.request("DELETE", path, Some(token), None).await
    }
}

/// One answer of the router.
pub struct Answer {
    /// `METHOD path`, for assertion messages.
    pub request: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    json: OnceLock<Value>,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON), parsed once.
    pub fn json(&self) -> &Value {
        self.json
            .get_or_init(|| serde_json::from_slice(&self.body).unwrap_or(Value::Null))
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header as text, `None` when absent or not visible ASCII.
    pub fn header(&self, name: impl header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The content type, `""` when absent.
    pub fn content_type(&self) -> &str {
        self.header(header::CONTENT_TYPE).unwrap_or("")
    }
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} → {} {}", self.request, self.status, self.text())
    }
}

/// The fields named in a problem's `errors`.
pub fn problem_fields(a: &Answer) -> Vec<&str> {
    a.json()["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
        .unwrap_or_default()
}

/// An RFC 9457 answer: the status, `application/problem+json`, the status
/// repeated in the body, the field named in `errors` when given, and no
/// database internals in the text.
pub fn assert_problem(a: &Answer, status: StatusCode, field: Option<&str>) {
    assert_problem_in(a, status, field, "");
}

/// [`assert_problem`] with a context for the messages.
pub fn assert_problem_in(a: &Answer, status: StatusCode, field: Option<&str>, ctx: &str) {
    assert_eq!(a.status, status, "{ctx}: {a}");
    assert_eq!(a.content_type(), "application/problem+json", "{ctx}: {a}");
    assert_eq!(a.json()["status"], status.as_u16(), "{ctx}: {a}");
    if let Some(field) = field {
        assert!(
            problem_fields(a).contains(&field),
            "{ctx}: expected field {field:?} in {a}"
        );
    }
    let text = a.text().to_lowercase();
    for sql in ["select ", "insert ", "sqlx", "syntax error", "constraint"] {
        assert!(
            !text.contains(sql),
            "{ctx}: the problem leaks internals: {a}"
        );
    }
}
