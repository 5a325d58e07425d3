//! The rate limit every instance shares: with `serve --redis URL` each
//! token's budget lives in Redis, so two instances behind a balancer allow
//! the configured rate once, not once each. The limit is a GCRA (the token
//! bucket as one timestamp per key) evaluated atomically by a Lua script on
//! Redis's own clock, so instances never disagree about time. When Redis
//! cannot be reached the process falls back to its own buckets (and says so
//! in the log) rather than refusing every request.

use std::time::Instant;

use redis::aio::ConnectionManager;

use super::limits::RateLimiter;

/// GCRA: `KEYS[1]` holds the theoretical arrival time (ms). `ARGV[1]` is
/// the emission interval (ms per request), `ARGV[2]` the burst tolerance
/// (ms). Answers 0 when the request may pass, else the ms to wait.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if now < tat - tolerance then
  return tat - tolerance - now
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil(next_tat - now) + 1000)
return 0
";

/// A per-token rate limit held in Redis.
pub struct SharedRate {
    conn: ConnectionManager,
    script: redis::Script,
    interval_ms: f64,
    tolerance_ms: f64,
    /// Used while Redis does not answer.
    fallback: RateLimiter,
}

impl std::fmt::Debug for SharedRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedRate")
            .field("interval_ms", &self.interval_ms)
            .field("tolerance_ms", &self.tolerance_ms)
            .finish_non_exhaustive()
    }
}

impl SharedRate {
    /// Connects to Redis at `url`; `rate_per_second` and `burst` as for the
    /// per-process limit (a rate of 0 is refused by the caller beforehand).
    pub async fn connect(
        url: &str,
        rate_per_second: f64,
        burst: u32,
    ) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        let interval_ms = 1000.0 / rate_per_second.max(f64::MIN_POSITIVE);
        Ok(Self {
            conn,
            script: redis::Script::new(GCRA),
            interval_ms,
            tolerance_ms: interval_ms * f64::from(burst.max(1) - 1),
            fallback: RateLimiter::new(rate_per_second, burst),
        })
    }

    /// Takes one request from `key`'s budget; when it is spent, the whole
    /// seconds to wait.
    pub async fn check(&self, key: &str) -> Result<(), u64> {
        let mut conn = self.conn.clone();
        let answer: Result<f64, _> = self
            .script
            .key(format!("gridpatrol:rate:{key}"))
            .arg(self.interval_ms)
            .arg(self.tolerance_ms)
            .invoke_async(&mut conn)
            .await;
        match answer {
            Ok(wait_ms) if wait_ms <= 0.0 => Ok(()),
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a positive wait in ms, rounded up to whole seconds"
            )]
            Ok(wait_ms) => Err((wait_ms / 1000.0).ceil().max(1.0) as u64),
            Err(e) => {
                tracing::warn!(error = %e, "Redis does not answer; rate limit per process");
                self.fallback.check(key, Instant::now())
            }
        }
    }
}
