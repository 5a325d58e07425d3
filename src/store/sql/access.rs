//! [`AccessStore`] on every SQL backend. A connection is acquired
//! explicitly so that a database that refuses connections is
//! [`StoreError::Unavailable`] (503), whatever the database's reason.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;

use super::{Arg, Dialect, Qb, RowReader, SqlBackend, bind_list, fetch_one, qb};
use crate::auth::token::TokenHash;
use crate::auth::{Grants, Role};
use crate::store::access::{
    AccessStore, AuditEvent, AuditQuery, TokenGrant, User, UserSummary, user_from_row,
};
use crate::store::{Page, StoreError};

const USER_COLUMNS: [&str; 6] = [
    "u.id",
    "u.name",
    "u.display_name",
    "u.role",
    "u.scope",
    "u.created_at",
];
const AUDIT_COLUMNS: [&str; 11] = [
    "id",
    "at",
    "user_id",
    "user_name",
    "role",
    "method",
    "path",
    "entity",
    "entity_id",
    "cast(status as bigint) as status",
    "before",
];

fn read_user<D: Dialect>(row: &D::Row) -> Result<User, StoreError> {
    let r = RowReader::<D>(row);
    user_from_row(
        r.i64("id")?,
        (r.text("name")?, r.text("display_name")?),
        &r.text("role")?,
        &r.text("scope")?,
        r.time("created_at")?,
    )
}

fn read_audit<D: Dialect>(row: &D::Row) -> Result<AuditEvent, StoreError> {
    let r = RowReader::<D>(row);
    Ok(AuditEvent {
        id: r.i64("id")?,
        at: r.time("at")?,
        user_id: r.opt_i64("user_id")?,
        user: r.text("user_name")?,
        role: r.text("role")?,
        method: r.text("method")?,
        path: r.text("path")?,
        entity: r.opt_text("entity")?,
        entity_id: r.opt_text("entity_id")?,
        status: u16::try_from(r.i64("status")?).unwrap_or(0),
        before: D::get_json(row, "before")?,
    })
}

fn push_audit_filters<D: Dialect>(qb: &mut Qb<'_, D>, q: &AuditQuery) {
    qb.push(format!(" where {}", D::WHERE_ALL));
    for (col, v) in [
        ("user_name", &q.user),
        ("entity", &q.entity),
        ("entity_id", &q.entity_id),
    ] {
        if let Some(v) = v {
            qb.push(format!(" and {col} = "));
            D::bind_text(qb, Some(v.clone()));
        }
    }
}

async fn conn<S: SqlBackend>(s: &S) -> Result<PoolConnection<S::Db>, StoreError> {
    s.sql_pool()
        .acquire()
        .await
        .map_err(StoreError::Unavailable)
}

#[async_trait]
impl<S: SqlBackend> AccessStore for S {
    async fn create_user(
        &self,
        name: &str,
        role: Role,
        grants: &Grants,
    ) -> Result<User, StoreError> {
        let mut c = conn(self).await?;
        let mut q = qb::<S::Db>(format!(
            "insert into app_user ({}) values (",
            S::Db::columns(&["name", "role", "scope", "created_at"], false)
        ));
        bind_list(
            &mut q,
            [
                Arg::text(name),
                Arg::text(role.as_str()),
                Arg::text(grants.to_string()),
                Arg::time(Utc::now()),
            ],
        );
        q.push(format!(
            ") returning {}",
            S::Db::columns(
                &["id", "name", "display_name", "role", "scope", "created_at"],
                true
            )
        ));
        let row = fetch_one::<S::Db>(&mut c, &mut q)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Conflict(format!("user {name:?}"))
                }
                _ => StoreError::from(e),
            })?;
        read_user::<S::Db>(&row)
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let mut c = conn(self).await?;
        let mut q = qb::<S::Db>(format!(
            "select {} from app_user u where u.name = ",
            S::Db::columns(&USER_COLUMNS, true)
        ));
        S::Db::bind_text(&mut q, Some(name.to_owned()));
        let row = S::Db::fetch_optional(&mut c, &mut q).await?;
        row.as_ref().map(read_user::<S::Db>).transpose()
    }

    async fn users(&self) -> Result<Vec<UserSummary>, StoreError> {
        let mut c = conn(self).await?;
        let expires = S::Db::time_col("t.expires_at");
        let mut q = qb::<S::Db>(format!(
            "select {}, count(t.id) as active, \
               cast(max(case when t.id is not null and {expires} is null then 1 else 0 end) as bigint) as forever, \
               max({expires}) as expires \
             from app_user u \
             left join api_token t on t.user_id = u.id and {} is null \
               and ({expires} is null or {expires} > ",
            S::Db::columns(&USER_COLUMNS, true),
            S::Db::time_col("t.revoked_at"),
        ));
        S::Db::bind_time(&mut q, Some(Utc::now()));
        q.push(") group by u.id order by u.name");
        S::Db::fetch_all(&mut c, &mut q)
            .await?
            .iter()
            .map(|row| {
                let r = RowReader::<S::Db>(row);
                Ok(UserSummary {
                    user: read_user::<S::Db>(row)?,
                    active_tokens: u64::try_from(r.i64("active")?).unwrap_or(0),
                    expires_at: if r.opt_i64("forever")? == Some(1) {
                        None
                    } else {
                        r.opt_time("expires")?
                    },
                })
            })
            .collect()
    }

    async fn set_display_name(&self, name: &str, display_name: &str) -> Result<bool, StoreError> {
        let mut c = conn(self).await?;
        let mut q = qb::<S::Db>("update app_user set display_name = ");
        S::Db::bind_text(&mut q, Some(display_name.to_owned()));
        q.push(" where name = ");
        S::Db::bind_text(&mut q, Some(name.to_owned()));
        Ok(S::Db::execute(&mut c, &mut q).await? > 0)
    }

    async fn add_token(
        &self,
        user_id: i64,
        token: &TokenHash,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut c = conn(self).await?;
        let mut q = qb::<S::Db>(format!(
            "insert into api_token ({}) values (",
            S::Db::columns(
                &["id", "user_id", "salt", "hash", "created_at", "expires_at"],
                false
            )
        ));
        bind_list(
            &mut q,
            [
                Arg::text(&token.id),
                Arg::I64(Some(user_id)),
                Arg::Bytes(token.salt.clone()),
                Arg::Bytes(token.hash.clone()),
                Arg::time(Utc::now()),
                Arg::Time(expires_at),
            ],
        );
        q.push(")");
        S::Db::execute(&mut c, &mut q).await?;
        Ok(())
    }

    async fn token(&self, id: &str) -> Result<Option<TokenGrant>, StoreError> {
        let mut c = conn(self).await?;
        let mut q = qb::<S::Db>(format!(
            "select {}, {} from api_token t join app_user u on u.id = t.user_id where t.id = ",
            S::Db::columns(&USER_COLUMNS, true),
            S::Db::columns(
                &[
                    "t.id as token_id",
                    "t.salt",
                    "t.hash",
                    "t.expires_at",
                    "t.revoked_at"
                ],
                true
            ),
        ));
        S::Db::bind_text(&mut q, Some(id.to_owned()));
        let row = S::Db::fetch_optional(&mut c, &mut q).await?;
        row.map(|row| {
            let r = RowReader::<S::Db>(&row);
            Ok(TokenGrant {
                user: read_user::<S::Db>(&row)?,
                hash: TokenHash {
                    id: r.text("token_id")?,
                    salt: S::Db::get_bytes(&row, "salt")?,
                    hash: S::Db::get_bytes(&row, "hash")?,
                },
                expires_at: r.opt_time("expires_at")?,
                revoked_at: r.opt_time("revoked_at")?,
            })
        })
        .transpose()
    }

    async fn revoke_tokens(&self, user_id: i64) -> Result<u64, StoreError> {
        let mut c = conn(self).await?;
        let revoked = S::Db::time_col("revoked_at");
        let mut q = qb::<S::Db>(format!("update api_token set {revoked} = "));
        S::Db::bind_time(&mut q, Some(Utc::now()));
        q.push(" where user_id = ");
        S::Db::bind_i64(&mut q, Some(user_id));
        q.push(format!(" and {revoked} is null"));
        Ok(S::Db::execute(&mut c, &mut q).await?)
    }

    async fn record_audit(&self, e: &AuditEvent) -> Result<i64, StoreError> {
        let mut c = conn(self).await?;
        let mut q = qb::<S::Db>(format!(
            "insert into audit_event ({}) values (",
            S::Db::columns(&AUDIT_COLUMNS[1..], false)
                .replace("cast(status as bigint) as status", "status")
        ));
        bind_list(
            &mut q,
            [
                Arg::time(e.at),
                Arg::I64(e.user_id.filter(|id| *id > 0)),
                Arg::text(&e.user),
                Arg::text(&e.role),
                Arg::text(&e.method),
                Arg::text(&e.path),
                Arg::Text(e.entity.clone()),
                Arg::Text(e.entity_id.clone()),
                Arg::I64(Some(i64::from(e.status))),
                Arg::Json(e.before.clone()),
            ],
        );
        q.push(") returning id");
        let row = fetch_one::<S::Db>(&mut c, &mut q).await?;
        RowReader::<S::Db>(&row).i64("id")
    }

    async fn audit(&self, q: &AuditQuery) -> Result<Page<AuditEvent>, StoreError> {
        let mut c = conn(self).await?;
        let mut count = qb::<S::Db>("select count(*) as n from audit_event");
        push_audit_filters(&mut count, q);
        let total = RowReader::<S::Db>(&fetch_one::<S::Db>(&mut c, &mut count).await?).i64("n")?;
        let mut b = qb::<S::Db>(format!(
            "select {} from audit_event",
            S::Db::columns(&AUDIT_COLUMNS, true)
        ));
        push_audit_filters(&mut b, q);
        b.push(" order by id desc limit ");
        S::Db::bind_i64(&mut b, Some(i64::from(q.limit)));
        b.push(" offset ");
        S::Db::bind_i64(&mut b, Some(i64::from(q.offset)));
        let items = S::Db::fetch_all(&mut c, &mut b)
            .await?
            .iter()
            .map(read_audit::<S::Db>)
            .collect::<Result<_, _>>()?;
        Ok(Page {
            total: u64::try_from(total).unwrap_or(0),
            items,
        })
    }
}
