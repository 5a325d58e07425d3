//! Hardening: request body limits, timeouts, a per-token rate limit and
//! CORS, configured once in [`Limits`]. Errors raised by these layers
//! (413, 408) are answered as problem+json like every other error.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::ApiError;

/// The service's limits; [`Default`] is what `serve` uses without flags.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest request body (uploads of tracks, layers, ledgers).
    pub max_body_bytes: usize,
    /// How long one request may take, body included.
    pub request_timeout: Duration,
    /// Sustained requests per second per token; 0 turns the limit off.
    pub rate_per_second: f64,
    /// Requests a token may make at once before the rate applies.
    pub rate_burst: u32,
    /// Origins allowed to call the API from a browser; empty: no CORS
    /// headers at all (same-origin only, the map-ui's case).
    pub cors_origins: Vec<HeaderValue>,
    /// The bytes of answers the read path's cache may hold (coverage,
    /// summaries, blind spots); 0 turns the cache off.
    pub answer_cache_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 20 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            rate_per_second: 20.0,
            rate_burst: 100,
            cors_origins: Vec::new(),
            answer_cache_bytes: crate::service::cache::DEFAULT_CAPACITY_BYTES,
        }
    }
}

impl Limits {
    /// The CORS layer, only when origins are configured.
    #[must_use]
    pub fn cors(&self) -> Option<CorsLayer> {
        if self.cors_origins.is_empty() {
            return None;
        }
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(self.cors_origins.clone()))
                .allow_methods([
                    Method::GET,
                    Method::POST,
                    Method::PUT,
                    Method::PATCH,
                    Method::DELETE,
                ])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .expose_headers([header::LOCATION, header::RETRY_AFTER])
                .max_age(Duration::from_secs(600)),
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per key (the API token's id): `burst` requests at once,
/// refilled at `rate` per second. Per process: several instances behind a
/// balancer each allow the rate.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Buckets kept before idle (full) ones are dropped.
const MAX_BUCKETS: usize = 10_000;

impl RateLimiter {
    #[must_use]
    pub fn new(rate_per_second: f64, burst: u32) -> Self {
        Self {
            rate: rate_per_second.max(0.0),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket at `now`; when it is empty,
    /// the whole seconds to wait for the next one.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < burst
            });
        }
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - b.tokens) / self.rate;
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a positive wait of at most 1/rate seconds, rounded up"
            )]
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

/// Answers the plain-text errors of tower layers (body too large, timed
/// out) as problem+json.
pub async fn problem_errors(limit: usize, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return res;
    }
    match res.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(limit).into_response(),
        StatusCode::REQUEST_TIMEOUT => ApiError::timeout().into_response(),
        _ => res,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_the_rate() {
        let l = RateLimiter::new(2.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check("a", t0), Ok(()));
        }
        assert_eq!(l.check("a", t0), Err(1));
        assert_eq!(l.check("b", t0), Ok(()), "buckets are per key");
        assert_eq!(l.check("a", t0 + Duration::from_millis(500)), Ok(()));
        assert!(l.check("a", t0 + Duration::from_millis(600)).is_err());
        assert_eq!(l.check("a", t0 + Duration::from_secs(10)), Ok(()));
    }

    #[test]
    fn a_zero_rate_is_no_limit() {
        let l = RateLimiter::new(0.0, 1);
        for _ in 0..100 {
            assert_eq!(l.check("a", Instant::now()), Ok(()));
        }
    }
}
