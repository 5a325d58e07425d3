//! [`IdempotencyStore`] on every SQL backend: a reservation is an insert
//! that a concurrent one for the same key cannot also win (the primary
//! key), in a write transaction that first forgets expired keys.

use async_trait::async_trait;

use super::{Arg, Dialect, RowReader, SqlBackend, bind_list, qb};
use crate::store::StoreError;
use crate::store::idempotency::{IdempotencyStore, KeptAnswer, KeyClock, Reservation};

fn where_key<D: Dialect>(q: &mut super::Qb<'_, D>, user_id: i64, key: &str) {
    q.push(" where user_id = ");
    D::bind_i64(q, Some(user_id));
    q.push(" and key = ");
    D::bind_text(q, Some(key.to_owned()));
}

#[async_trait]
impl<S: SqlBackend> IdempotencyStore for S {
    async fn reserve_key(
        &self,
        user_id: i64,
        key: &str,
        fingerprint: &[u8],
        clock: KeyClock,
    ) -> Result<Reservation, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut q = qb::<S::Db>("delete from idempotency_key where created_ms < ");
        S::Db::bind_i64(&mut q, Some(clock.expired_before_ms));
        S::Db::execute(&mut tx, &mut q).await?;

        let mut q = qb::<S::Db>(
            "insert into idempotency_key (user_id, key, fingerprint, created_ms, body) values (",
        );
        bind_list(
            &mut q,
            [
                Arg::I64(Some(user_id)),
                Arg::text(key),
                Arg::Bytes(fingerprint.to_vec()),
                Arg::I64(Some(clock.now_ms)),
                Arg::Bytes(Vec::new()),
            ],
        );
        q.push(") on conflict (user_id, key) do nothing");
        let reservation = if S::Db::execute(&mut tx, &mut q).await? == 1 {
            Reservation::Reserved
        } else {
            let mut q = qb::<S::Db>(
                "select fingerprint, created_ms, status, content_type, location, body \
                 from idempotency_key",
            );
            where_key(&mut q, user_id, key);
            let Some(row) = S::Db::fetch_optional(&mut tx, &mut q).await? else {
                // deleted between the insert and the read: cannot happen
                // inside one transaction, but never answer for it
                return Err(StoreError::Busy(format!("idempotency key {key:?}")));
            };
            let r = RowReader::<S::Db>(&row);
            let same = S::Db::get_bytes(&row, "fingerprint")? == fingerprint;
            match r.opt_i64("status")? {
                _ if !same => Reservation::Mismatch,
                Some(status) => Reservation::Answered(KeptAnswer {
                    status: u16::try_from(status).unwrap_or(500),
                    content_type: r.opt_text("content_type")?,
                    location: r.opt_text("location")?,
                    body: S::Db::get_bytes(&row, "body")?,
                }),
                None if r.i64("created_ms")? < clock.stale_before_ms => {
                    let mut q = qb::<S::Db>("update idempotency_key set created_ms = ");
                    S::Db::bind_i64(&mut q, Some(clock.now_ms));
                    where_key(&mut q, user_id, key);
                    S::Db::execute(&mut tx, &mut q).await?;
                    Reservation::Reserved
                }
                None => Reservation::Running,
            }
        };
        tx.commit().await?;
        Ok(reservation)
    }

    async fn complete_key(
        &self,
        user_id: i64,
        key: &str,
        answer: &KeptAnswer,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut q = qb::<S::Db>("update idempotency_key set status = ");
        S::Db::bind_i64(&mut q, Some(i64::from(answer.status)));
        q.push(", content_type = ");
        S::Db::bind_text(&mut q, answer.content_type.clone());
        q.push(", location = ");
        S::Db::bind_text(&mut q, answer.location.clone());
        q.push(", body = ");
        S::Db::bind_bytes(&mut q, answer.body.clone());
        where_key(&mut q, user_id, key);
        S::Db::execute(&mut tx, &mut q).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn release_key(&self, user_id: i64, key: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut q = qb::<S::Db>("delete from idempotency_key");
        where_key(&mut q, user_id, key);
        q.push(" and status is null");
        S::Db::execute(&mut tx, &mut q).await?;
        tx.commit().await?;
        Ok(())
    }
}
