//! Idempotency keys: the answer of a write kept for a day under the key the
//! client chose, so that the same request sent again is answered, not done
//! again. The rules (which answers are kept, what a key may look like) live
//! in `http::idempotency`; the store keeps rows and decides races.

use async_trait::async_trait;

use super::StoreError;

/// A kept answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// What a key holds when a request comes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key was free (or its reservation stale): it is now reserved for
    /// this request, which should run and then complete or release it.
    Reserved,
    /// The same request was answered before: give this answer again.
    Answered(KeptAnswer),
    /// The same key is reserved by a request still running.
    Running,
    /// The key was used for a different request.
    Mismatch,
}

/// Times that bound a reservation, in ms since the epoch.
#[derive(Debug, Clone, Copy)]
pub struct KeyClock {
    pub now_ms: i64,
    /// Keys created before this are forgotten.
    pub expired_before_ms: i64,
    /// Reservations without an answer created before this are left over
    /// from a request that never finished: they may be taken over.
    pub stale_before_ms: i64,
}

/// The idempotency keys of every backend, implemented once in
/// [`super::sql::idempotency`].
#[async_trait]
pub trait IdempotencyStore {
    /// Reserves `key` of `user_id` for a request with `fingerprint`, or
    /// says what the key already holds.
    async fn reserve_key(
        &self,
        user_id: i64,
        key: &str,
        fingerprint: &[u8],
        clock: KeyClock,
    ) -> Result<Reservation, StoreError>;

    /// Keeps the answer of the request that reserved `key`.
    async fn complete_key(
        &self,
        user_id: i64,
        key: &str,
        answer: &KeptAnswer,
    ) -> Result<(), StoreError>;

    /// Frees a reservation whose request wrote nothing (an answer that is
    /// not kept, e.g. 503): the same key may be sent again.
    async fn release_key(&self, user_id: i64, key: &str) -> Result<(), StoreError>;
}
