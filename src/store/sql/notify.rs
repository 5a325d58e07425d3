//! [`NotifyStore`] on every SQL backend: items with their chains and
//! outbox rows written in one transaction, deliveries claimed by lease
//! (`for update skip locked` on PostgreSQL, where several instances may
//! claim at once; SQLite has one writer), and per-user preferences.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Arg, Dialect, Qb, RowReader, SqlBackend, bind_list, qb};
use crate::notify::{EventKind, Level, Subject};
use crate::store::notify::{
    ChainStep, Delivery, ItemQuery, Mark, NewDelivery, NewItem, NotifyStore, Prefs, StoredItem,
};
use crate::store::{Backend, StoreError};

const ITEM_COLUMNS: &str = "id, key, kind, owner, level, title_zh, title_en, body_zh, body_en, \
     project_id, hazard_id, grid_code, route_id, town_code, due_on, status, created_ms, read_ms, closed_ms";
const DELIVERY_COLUMNS: &str = "id, item_id, recipient, channel, address, idem_key, payload, \
     state, attempts, next_ms, last_error, created_ms, delivered_ms";

fn ms(t: DateTime<Utc>) -> Arg {
    Arg::I64(Some(t.timestamp_millis()))
}

fn time(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("time {ms}")))
}

fn opt_time(ms: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    ms.map(time).transpose()
}

fn item<D: Dialect>(row: &D::Row) -> Result<StoredItem, StoreError> {
    let r = RowReader::<D>(row);
    let kind: EventKind = r
        .text("kind")?
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("notify_item.kind: {e}")))?;
    let due = r.text("due_on")?;
    Ok(StoredItem {
        id: r.i64("id")?,
        key: r.text("key")?,
        kind,
        owner: r.text("owner")?,
        level: r.i64("level")?,
        title_zh: r.text("title_zh")?,
        title_en: r.text("title_en")?,
        body_zh: r.text("body_zh")?,
        body_en: r.text("body_en")?,
        subject: Subject {
            project_id: r.opt_i64("project_id")?,
            hazard_id: r.opt_i64("hazard_id")?,
            grid_code: r.opt_text("grid_code")?,
            route_id: r.opt_i64("route_id")?,
            town_code: r.opt_text("town_code")?,
            zone_code: None,
        },
        due_on: due
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("notify_item.due_on: {due:?}")))?,
        status: r.text("status")?,
        created_at: time(r.i64("created_ms")?)?,
        read_at: opt_time(r.opt_i64("read_ms")?)?,
        closed_at: opt_time(r.opt_i64("closed_ms")?)?,
        chain: Vec::new(),
    })
}

fn delivery<D: Dialect>(row: &D::Row) -> Result<Delivery, StoreError> {
    let r = RowReader::<D>(row);
    let payload = r.text("payload")?;
    Ok(Delivery {
        id: r.i64("id")?,
        item_id: r.i64("item_id")?,
        recipient: r.text("recipient")?,
        channel: r.text("channel")?.parse()?,
        address: r.text("address")?,
        idem_key: r.text("idem_key")?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| StoreError::Corrupt(format!("notify_outbox.payload: {e}")))?,
        state: r.text("state")?,
        attempts: r.i64("attempts")?,
        next_at: time(r.i64("next_ms")?)?,
        last_error: r.opt_text("last_error")?,
        created_at: time(r.i64("created_ms")?)?,
        delivered_at: opt_time(r.opt_i64("delivered_ms")?)?,
    })
}

/// Inserts the outbox rows of an item (a repeated key is left alone).
async fn insert_deliveries<D: Dialect>(
    conn: &mut D::Connection,
    item_id: i64,
    at: DateTime<Utc>,
    deliveries: &[NewDelivery],
) -> Result<(), StoreError> {
    for d in deliveries {
        let mut b = qb::<D>(
            "insert into notify_outbox (item_id, recipient, channel, address, idem_key, payload, \
             next_ms, created_ms) values (",
        );
        bind_list(
            &mut b,
            [
                Arg::I64(Some(item_id)),
                Arg::text(&d.recipient),
                Arg::text(d.channel.as_str()),
                Arg::text(&d.address),
                Arg::text(&d.idem_key),
                Arg::text(d.payload.to_string()),
                ms(d.next_at),
                ms(at),
            ],
        );
        b.push(") on conflict (idem_key) do nothing");
        D::execute(conn, &mut b).await?;
    }
    Ok(())
}

async fn insert_step<D: Dialect>(
    conn: &mut D::Connection,
    item_id: i64,
    level: i64,
    recipient: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut b =
        qb::<D>("insert into notify_escalation (item_id, level, recipient, at_ms) values (");
    bind_list(
        &mut b,
        [
            Arg::I64(Some(item_id)),
            Arg::I64(Some(level)),
            Arg::text(recipient),
            ms(at),
        ],
    );
    b.push(") on conflict (item_id, level) do nothing");
    Ok(D::execute(conn, &mut b).await? == 1)
}

/// ` and (owner = USER or the item was escalated to USER)`.
fn push_mine<D: Dialect>(b: &mut Qb<'_, D>, user: &str) {
    b.push(" and (owner = ");
    D::bind_text(b, Some(user.to_owned()));
    b.push(" or id in (select item_id from notify_escalation where recipient = ");
    D::bind_text(b, Some(user.to_owned()));
    b.push("))");
}

async fn with_chains<S: SqlBackend>(
    s: &S,
    mut items: Vec<StoredItem>,
) -> Result<Vec<StoredItem>, StoreError> {
    if items.is_empty() {
        return Ok(items);
    }
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let mut b = qb::<S::Db>(format!(
        "select item_id, level, recipient, at_ms from notify_escalation where {}",
        S::Db::WHERE_ALL
    ));
    S::Db::push_id_in(&mut b, "item_id", &ids);
    b.push(" order by item_id, level");
    let mut conn = s.sql_pool().acquire().await?;
    let mut chains: HashMap<i64, Vec<ChainStep>> = HashMap::new();
    for row in S::Db::fetch_all(&mut conn, &mut b).await? {
        let r = RowReader::<S::Db>(&row);
        let level = r.i64("level")?;
        chains
            .entry(r.i64("item_id")?)
            .or_default()
            .push(ChainStep {
                level,
                level_zh: Level::from_index(level).label_zh(),
                recipient: r.text("recipient")?,
                recipient_name: None,
                at: time(r.i64("at_ms")?)?,
            });
    }
    for i in &mut items {
        i.chain = chains.remove(&i.id).unwrap_or_default();
    }
    Ok(items)
}

async fn items_where<S: SqlBackend>(
    s: &S,
    filter: impl FnOnce(&mut Qb<'_, S::Db>),
    order: &str,
) -> Result<Vec<StoredItem>, StoreError> {
    let mut b = qb::<S::Db>(format!(
        "select {ITEM_COLUMNS} from notify_item where {}",
        S::Db::WHERE_ALL
    ));
    filter(&mut b);
    b.push(order);
    let mut conn = s.sql_pool().acquire().await?;
    let items = S::Db::fetch_all(&mut conn, &mut b)
        .await?
        .iter()
        .map(item::<S::Db>)
        .collect::<Result<Vec<_>, _>>()?;
    drop(conn);
    with_chains(s, items).await
}

#[async_trait]
impl<S: SqlBackend> NotifyStore for S {
    async fn create_item(
        &self,
        i: &NewItem,
        deliveries: &[NewDelivery],
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>(
            "insert into notify_item (key, kind, owner, level, title_zh, title_en, body_zh, \
             body_en, project_id, hazard_id, grid_code, route_id, town_code, due_on, created_ms) values (",
        );
        let s = &i.subject;
        bind_list(
            &mut b,
            [
                Arg::text(&i.key),
                Arg::text(i.kind.as_str()),
                Arg::text(&i.owner),
                Arg::I64(Some(i.level)),
                Arg::text(&i.title_zh),
                Arg::text(&i.title_en),
                Arg::text(&i.body_zh),
                Arg::text(&i.body_en),
                Arg::I64(s.project_id),
                Arg::I64(s.hazard_id),
                Arg::Text(s.grid_code.clone()),
                Arg::I64(s.route_id),
                Arg::Text(s.town_code.clone()),
                Arg::text(i.due_on.to_string()),
                ms(i.at),
            ],
        );
        b.push(") on conflict (key) do nothing returning id");
        let Some(row) = S::Db::fetch_optional(&mut tx, &mut b).await? else {
            return Ok(None);
        };
        let id = RowReader::<S::Db>(&row).i64("id")?;
        insert_step::<S::Db>(&mut tx, id, i.level, &i.owner, i.at).await?;
        insert_deliveries::<S::Db>(&mut tx, id, i.at, deliveries).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn open_items(&self) -> Result<Vec<StoredItem>, StoreError> {
        items_where(
            self,
            |b| {
                b.push(" and status = 'open'");
            },
            " order by id",
        )
        .await
    }

    async fn escalate(
        &self,
        item_id: i64,
        level: i64,
        recipient: &str,
        at: DateTime<Utc>,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>("update notify_item set level = ");
        S::Db::bind_i64(&mut b, Some(level));
        b.push(" where status = 'open' and level < ");
        S::Db::bind_i64(&mut b, Some(level));
        b.push(" and id = ");
        S::Db::bind_i64(&mut b, Some(item_id));
        if S::Db::execute(&mut tx, &mut b).await? == 0 {
            return Ok(false);
        }
        if !insert_step::<S::Db>(&mut tx, item_id, level, recipient, at).await? {
            return Ok(false);
        }
        insert_deliveries::<S::Db>(&mut tx, item_id, at, deliveries).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn resolve_items(&self, ids: &[i64], at: DateTime<Utc>) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>("update notify_item set status = 'resolved', closed_ms = ");
        bind_list(&mut b, [ms(at)]);
        b.push(" where status = 'open'");
        S::Db::push_id_in(&mut b, "id", ids);
        let n = S::Db::execute(&mut tx, &mut b).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn inbox(&self, user: &str) -> Result<Vec<StoredItem>, StoreError> {
        items_where(
            self,
            |b| {
                b.push(" and status = 'open'");
                push_mine(b, user);
            },
            " order by created_ms desc, id desc",
        )
        .await
    }

    async fn items(&self, q: &ItemQuery) -> Result<Vec<StoredItem>, StoreError> {
        let q = *q;
        items_where(
            self,
            |b| {
                if let Some(p) = q.project_id {
                    b.push(" and project_id = ");
                    S::Db::bind_i64(b, Some(p));
                }
                if q.min_level > 0 {
                    b.push(" and level >= ");
                    S::Db::bind_i64(b, Some(q.min_level));
                }
            },
            " order by created_ms, id",
        )
        .await
    }

    async fn mark_item(
        &self,
        id: i64,
        user: &str,
        mark: Mark,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>(match mark {
            Mark::Read => "update notify_item set read_ms = coalesce(read_ms, ",
            Mark::Done => "update notify_item set status = 'done', read_ms = coalesce(read_ms, ",
        });
        bind_list(&mut b, [ms(at)]);
        b.push(")");
        if mark == Mark::Done {
            b.push(", closed_ms = ");
            bind_list(&mut b, [ms(at)]);
        }
        b.push(" where id = ");
        S::Db::bind_i64(&mut b, Some(id));
        push_mine(&mut b, user);
        let n = S::Db::execute(&mut tx, &mut b).await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>("update notify_outbox set lease_ms = ");
        bind_list(&mut b, [ms(lease_until)]);
        b.push(
            " where id in (select id from notify_outbox where state = 'pending' and next_ms <= ",
        );
        bind_list(&mut b, [ms(now)]);
        b.push(" and (lease_ms is null or lease_ms <= ");
        bind_list(&mut b, [ms(now)]);
        b.push(") order by next_ms, id limit ");
        S::Db::bind_i64(&mut b, Some(i64::from(limit)));
        if S::Db::BACKEND == Backend::Postgis {
            // another instance's claim is skipped, not waited for
            b.push(" for update skip locked");
        }
        b.push(format!(") returning {DELIVERY_COLUMNS}"));
        let mut out = S::Db::fetch_all(&mut tx, &mut b)
            .await?
            .iter()
            .map(delivery::<S::Db>)
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await?;
        out.sort_by_key(|d| (d.next_at, d.id));
        Ok(out)
    }

    async fn delivered(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>(
            "update notify_outbox set state = 'delivered', lease_ms = null, delivered_ms = ",
        );
        bind_list(&mut b, [ms(at)]);
        b.push(" where state = 'pending' and id = ");
        S::Db::bind_i64(&mut b, Some(id));
        S::Db::execute(&mut tx, &mut b).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delivery_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>(
            "update notify_outbox set attempts = attempts + 1, lease_ms = null, last_error = ",
        );
        bind_list(
            &mut b,
            [Arg::text(error.chars().take(500).collect::<String>())],
        );
        match retry_at {
            Some(t) => {
                b.push(", next_ms = ");
                bind_list(&mut b, [ms(t)]);
            }
            None => {
                b.push(", state = 'dead'");
            }
        }
        b.push(" where state = 'pending' and id = ");
        S::Db::bind_i64(&mut b, Some(id));
        S::Db::execute(&mut tx, &mut b).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn deliveries(
        &self,
        item: Option<i64>,
        state: Option<&str>,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut b = qb::<S::Db>(format!(
            "select {DELIVERY_COLUMNS} from notify_outbox where {}",
            S::Db::WHERE_ALL
        ));
        if let Some(i) = item {
            b.push(" and item_id = ");
            S::Db::bind_i64(&mut b, Some(i));
        }
        if let Some(s) = state {
            b.push(" and state = ");
            S::Db::bind_text(&mut b, Some(s.to_owned()));
        }
        b.push(" order by id");
        let mut conn = self.sql_pool().acquire().await?;
        S::Db::fetch_all(&mut conn, &mut b)
            .await?
            .iter()
            .map(delivery::<S::Db>)
            .collect()
    }

    async fn prefs(&self, users: &[String]) -> Result<HashMap<String, Prefs>, StoreError> {
        let mut b = qb::<S::Db>(format!(
            "select user_name, email, phone, webhook, email_on, sms_on, quiet_from, quiet_to \
             from notify_pref where {}",
            S::Db::WHERE_ALL
        ));
        S::Db::push_text_in(&mut b, "user_name", users);
        let mut conn = self.sql_pool().acquire().await?;
        let rows = S::Db::fetch_all(&mut conn, &mut b).await?;
        let minutes = |v: Option<i64>| v.and_then(|m| u16::try_from(m).ok());
        rows.iter()
            .map(|row| {
                let r = RowReader::<S::Db>(row);
                let p = Prefs {
                    user: r.text("user_name")?,
                    email: r.opt_text("email")?,
                    phone: r.opt_text("phone")?,
                    webhook: r.bool("webhook")?,
                    email_on: r.bool("email_on")?,
                    sms_on: r.bool("sms_on")?,
                    quiet_from: minutes(r.opt_i64("quiet_from")?),
                    quiet_to: minutes(r.opt_i64("quiet_to")?),
                };
                Ok((p.user.clone(), p))
            })
            .collect()
    }

    async fn set_prefs(&self, p: &Prefs) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>(
            "insert into notify_pref (user_name, email, phone, webhook, email_on, sms_on, \
             quiet_from, quiet_to) values (",
        );
        bind_list(
            &mut b,
            [
                Arg::text(&p.user),
                Arg::Text(p.email.clone()),
                Arg::Text(p.phone.clone()),
                Arg::Bool(Some(p.webhook)),
                Arg::Bool(Some(p.email_on)),
                Arg::Bool(Some(p.sms_on)),
                Arg::I64(p.quiet_from.map(i64::from)),
                Arg::I64(p.quiet_to.map(i64::from)),
            ],
        );
        b.push(
            ") on conflict (user_name) do update set email = excluded.email, phone = excluded.phone, \
             webhook = excluded.webhook, email_on = excluded.email_on, sms_on = excluded.sms_on, \
             quiet_from = excluded.quiet_from, quiet_to = excluded.quiet_to",
        );
        S::Db::execute(&mut tx, &mut b).await?;
        tx.commit().await?;
        Ok(())
    }
}
