//! Cell visits keep no foreign key to their track (migrations PostGIS 0017,
//! SQLite 0019): a trigger removes a track's visits with the track, and a
//! time window's visits are found through its tracks' time index. On both
//! stores: deleting one track leaves the other's visits whole and findable,
//! in any window, the widest included.

use gridpatrol::store::DynStore;
use gridpatrol::store::postgis::PostgisStore;
use gridpatrol::store::sqlite::SqliteStore;
use gridpatrol::store::tracks::StoredVisit;
use sqlx::PgPool;

use crate::store_suite::walk;

const DAY_MS: i64 = 1_793_000_000_000;
const CELLS: [u64; 2] = [0x08a3_09a4_ae6b_7fff, 0x08a3_09a4_ae68_7fff];

fn visits(from_ms: i64) -> Vec<StoredVisit> {
    CELLS
        .iter()
        .zip([from_ms, from_ms + 10_000])
        .map(|(&cell, first_ms)| StoredVisit {
            track_id: 0,
            cell,
            first_ms,
            last_ms: first_ms + 5_000,
        })
        .collect()
}

/// Two tracks a day apart with visits of the same cells; `delete` removes
/// the first by plain SQL, as an administrator would.
async fn check<F, Fut>(store: &DynStore, delete: F)
where
    F: FnOnce(i64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let next_day = DAY_MS + 86_400_000;
    let ids = store
        .insert_tracks(vec![
            (walk("officer01", DAY_MS, 121.22), visits(DAY_MS)),
            (walk("officer02", next_day, 121.23), visits(next_day)),
        ])
        .await
        .expect("insert");
    let (a, b) = (ids[0].id, ids[1].id);
    // each day's window finds its own track's visits, with or without cells
    for (id, from) in [(a, DAY_MS), (b, next_day)] {
        for cells in [None, Some(&CELLS[..1])] {
            let found = store
                .visits_between(cells, from, from + 86_400_000)
                .await
                .expect("visits");
            assert!(
                !found.is_empty() && found.iter().all(|v| v.track_id == id),
                "{found:?}"
            );
        }
    }
    // a visit outside the window is not found even though its track is
    let late = store
        .visits_between(None, DAY_MS + 15_001, DAY_MS + 16_000)
        .await
        .expect("visits");
    assert!(late.is_empty(), "{late:?}");

    delete(a).await;
    assert!(store.track_visits(a).await.expect("visits").is_empty());
    assert_eq!(
        store.track_visits(b).await.expect("visits").len(),
        CELLS.len()
    );
    let all = store
        .visits_between(None, i64::MIN, i64::MAX)
        .await
        .expect("visits");
    assert_eq!(all.len(), CELLS.len());
    assert!(all.iter().all(|v| v.track_id == b));
}

#[tokio::test]
async fn deleting_a_track_removes_its_visits_on_sqlite() {
    let sqlite = SqliteStore::open(":memory:").await.expect("store");
    let store: DynStore = std::sync::Arc::new(sqlite.clone());
    check(&store, |id| async move {
        sqlx::query("delete from track where id = ?")
            .bind(id)
            .execute(sqlite.pool())
            .await
            .expect("delete");
    })
    .await;
}

#[sqlx::test(migrations = false)]
async fn deleting_a_track_removes_its_visits_on_postgis(pool: PgPool) {
    let postgis = PostgisStore::from_pool(pool).await.expect("store");
    let store: DynStore = std::sync::Arc::new(postgis.clone());
    check(&store, |id| async move {
        sqlx::query("delete from track where id = $1")
            .bind(id)
            .execute(postgis.pool())
            .await
            .expect("delete");
    })
    .await;
}
