//! The answer cache of the read path: coverage, summaries and blind spots
//! are computed once per question and data version, kept as the bytes that
//! were answered, and served again as they are.
//!
//! A question is named by an [`AnswerKey`]: a SHA-256 of everything the
//! answer depends on — the operation, its query parameters, the caller's
//! access scope and role, the clock minute when the window ends "now", the
//! representation (identity or gzip) and the data version. The data
//! version is a counter in the database that triggers move on every write
//! that changes these answers (see the `data_version` migrations), read
//! per request by primary key, so a write by any process — this server,
//! another instance, the CLI importing into the same database — is seen by
//! the next request. Old versions are never looked up again and age out.
//!
//! The cache is bounded by the bytes it holds (`quick_cache`, S3-FIFO
//! eviction) and loads each key once: concurrent requests for an answer
//! being computed wait for it instead of computing it again.

use std::sync::Arc;

use bytes::Bytes;
use quick_cache::Weighter;
use quick_cache::sync::{Cache, DefaultLifecycle, PlaceholderGuard};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ServiceError;
use crate::store::DynStore;

/// The default bound of the cache, in bytes of answers held.
pub const DEFAULT_CAPACITY_BYTES: u64 = 64 * 1024 * 1024;

/// The current data version (one primary-key read).
pub async fn data_version(store: &DynStore) -> Result<i64, ServiceError> {
    Ok(store.data_version().await?)
}

/// How an answer is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Identity,
    Gzip,
}

/// What an answer depends on, hashed into an [`AnswerKey`].
#[derive(Debug, Serialize)]
pub struct Question<'a> {
    /// The operation (the request path).
    pub operation: &'a str,
    /// The query parameters, decoded and sorted.
    pub params: Vec<(String, String)>,
    /// The caller's access scope and role, as text.
    pub access: String,
    /// The minute "now" stands for when the window ends now (`to` absent).
    pub now_ms: Option<i64>,
    pub data_version: i64,
}

/// The name of one answer: a SHA-256 of its [`Question`] (without the
/// encoding, which [`AnswerKey::etag`] adds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnswerKey([u8; 32]);

impl AnswerKey {
    #[must_use]
    pub fn new(q: &Question<'_>) -> Self {
        // serde_json of owned strings and numbers cannot fail
        let text = serde_json::to_vec(q).unwrap_or_default();
        Self(Sha256::digest(&text).into())
    }

    /// The entity tag of the answer in an encoding: the same for every
    /// process and instance, so a tag from one is valid at another.
    #[must_use]
    pub fn etag(&self, encoding: Encoding) -> String {
        use std::fmt::Write as _;
        let mut s = String::with_capacity(40);
        s.push('"');
        for b in &self.0[..16] {
            let _ = write!(s, "{b:02x}");
        }
        if encoding == Encoding::Gzip {
            s.push_str("-gz");
        }
        s.push('"');
        s
    }

    /// Whether an `If-None-Match` value names this answer (in either
    /// encoding: both are the same content), with weak comparison.
    #[must_use]
    pub fn matches(&self, if_none_match: &str) -> bool {
        let identity = self.etag(Encoding::Identity);
        let gzip = self.etag(Encoding::Gzip);
        if_none_match.split(',').map(str::trim).any(|t| {
            let t = t.strip_prefix("W/").unwrap_or(t);
            t == "*" || t == identity || t == gzip
        })
    }
}

/// One answer as it was served: its media type and bytes, and the gzip of
/// the bytes once a client asked for it.
#[derive(Debug)]
pub struct Answer {
    pub content_type: String,
    pub body: Bytes,
    gzip: tokio::sync::OnceCell<Bytes>,
}

impl Answer {
    #[must_use]
    pub fn new(content_type: String, body: Bytes) -> Self {
        Self {
            content_type,
            body,
            gzip: tokio::sync::OnceCell::new(),
        }
    }

    /// The body in an encoding; the gzip is made once, on a blocking thread.
    pub async fn body(&self, encoding: Encoding) -> Result<Bytes, ServiceError> {
        if encoding == Encoding::Identity {
            return Ok(self.body.clone());
        }
        let body = self.body.clone();
        self.gzip
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || gzip(&body))
                    .await
                    .map_err(super::task_failed("answer compression"))
            })
            .await
            .cloned()
    }
}

fn gzip(body: &[u8]) -> Bytes {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 8),
        flate2::Compression::fast(),
    );
    // writing into a Vec cannot fail
    let _ = enc.write_all(body);
    Bytes::from(enc.finish().unwrap_or_default())
}

/// Weighs an answer by its bytes (and a third more for its gzip).
#[derive(Debug, Clone, Copy)]
struct ByBytes;

impl Weighter<AnswerKey, Arc<Answer>> for ByBytes {
    fn weight(&self, _key: &AnswerKey, a: &Arc<Answer>) -> u64 {
        let n = a.body.len() as u64;
        n + n / 3 + 256
    }
}

type Answers = Cache<AnswerKey, Arc<Answer>, ByBytes>;

/// The cache of answers; a capacity of 0 turns it off (every question is
/// computed, as the benchmark's baseline does).
pub struct AnswerCache {
    answers: Option<Answers>,
}

impl std::fmt::Debug for AnswerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerCache")
            .field("capacity", &self.capacity())
            .field("held", &self.held())
            .finish()
    }
}

/// A place to put an answer being computed; other requests for the same
/// key wait until it is filled or dropped (then one of them computes).
pub struct Loading<'a>(
    PlaceholderGuard<
        'a,
        AnswerKey,
        Arc<Answer>,
        ByBytes,
        quick_cache::DefaultHashBuilder,
        DefaultLifecycle<AnswerKey, Arc<Answer>>,
    >,
);

impl Loading<'_> {
    /// Stores a computed answer for the requests waiting on it and the next ones.
    pub fn fill(self, answer: Arc<Answer>) {
        // a failed insert (the key was replaced meanwhile) only loses an entry
        let _ = self.0.insert(answer);
    }
}

/// What a lookup found.
pub enum Lookup<'a> {
    Hit(Arc<Answer>),
    /// Not there: compute it, then [`Loading::fill`] (no place when the
    /// cache is off).
    Miss(Option<Loading<'a>>),
}

impl Default for AnswerCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY_BYTES)
    }
}

impl AnswerCache {
    /// A cache holding answers up to `capacity_bytes` in all.
    #[must_use]
    pub fn new(capacity_bytes: u64) -> Self {
        if capacity_bytes == 0 {
            return Self { answers: None };
        }
        // one shard, so that one answer may take most of the capacity (a
        // district's cells at street level are tens of megabytes); lookups
        // are a hash probe under a read lock
        let options = quick_cache::OptionsBuilder::new()
            .shards(1)
            .estimated_items_capacity(256)
            .weight_capacity(capacity_bytes)
            .build();
        Self {
            answers: options.ok().map(|o| {
                Cache::with_options(
                    o,
                    ByBytes,
                    quick_cache::DefaultHashBuilder::default(),
                    DefaultLifecycle::default(),
                )
            }),
        }
    }

    /// The bound, in bytes (0 when off).
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.answers.as_ref().map_or(0, Cache::capacity)
    }

    /// The weight held now, in bytes.
    #[must_use]
    pub fn held(&self) -> u64 {
        self.answers.as_ref().map_or(0, Cache::weight)
    }

    /// The answer of `key`, or a guard to compute it under; waits while
    /// another request computes the same key.
    pub async fn lookup(&self, key: &AnswerKey) -> Lookup<'_> {
        let Some(answers) = &self.answers else {
            return Lookup::Miss(None);
        };
        match answers.get_value_or_guard_async(key).await {
            Ok(a) => Lookup::Hit(a),
            Err(guard) => Lookup::Miss(Some(Loading(guard))),
        }
    }
}
