//! The data version of a PostgreSQL database without a round trip per
//! read: a listener (`LISTEN gridpatrol_data`) learns every new version the
//! triggers announce (`pg_notify` at commit, from any instance or the
//! command line), so cached answers of every instance are invalidated by
//! the next write anywhere. The version is read from the table whenever
//! the listener is not known to be current: before it listens, after its
//! connection was lost (notifications sent meanwhile are gone), and after
//! this process commits a write (its own notification may still be on the
//! way). A version never goes back.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;

/// The channel the data-version triggers notify on.
pub const CHANNEL: &str = "gridpatrol_data";

/// Unknown: the version must be read from the table.
const UNKNOWN: i64 = -1;

/// The data version as last announced, or unknown.
#[derive(Debug)]
pub struct VersionWatch {
    known: AtomicI64,
}

impl VersionWatch {
    /// Starts listening on `pool`'s database in a task of its own.
    #[must_use]
    pub fn spawn(pool: PgPool) -> Arc<Self> {
        let watch = Arc::new(Self {
            known: AtomicI64::new(UNKNOWN),
        });
        tokio::spawn(Arc::clone(&watch).listen(pool));
        watch
    }

    /// The version, when the listener knows it to be current.
    #[must_use]
    pub fn get(&self) -> Option<i64> {
        let v = self.known.load(Ordering::Acquire);
        (v != UNKNOWN).then_some(v)
    }

    /// A version read from the table: current when it was read.
    pub fn read(&self, v: i64) {
        let _ = self
            .known
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |k| Some(k.max(v)));
    }

    /// A version announced: taken only while the known one is current
    /// (an announcement that arrives after this process's own commit may
    /// be of an older one).
    fn announced(&self, v: i64) {
        let _ = self
            .known
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |k| {
                (k != UNKNOWN && v > k).then_some(v)
            });
    }

    /// This process committed a write: read the version again until its
    /// announcement arrives.
    pub fn forget(&self) {
        self.known.store(UNKNOWN, Ordering::Release);
    }

    async fn listen(self: Arc<Self>, pool: PgPool) {
        loop {
            if let Err(e) = self.follow(&pool).await {
                tracing::warn!(error = %e, "data version listener lost; reading versions from the table");
            }
            self.forget();
            if pool.is_closed() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Listens until the connection is lost.
    async fn follow(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        // listening first: no version committed from here on is missed
        let v: i64 = sqlx::query_scalar("select version from data_version where id = 1")
            .fetch_one(pool)
            .await?;
        self.read(v);
        while let Some(n) = listener.try_recv().await? {
            if let Ok(v) = n.payload().parse::<i64>() {
                self.announced(v);
            } else {
                tracing::warn!(payload = n.payload(), "a data version that is no number");
            }
        }
        Ok(())
    }
}
