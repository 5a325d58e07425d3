//! [`AccessStore`] on PostGIS. A connection is acquired explicitly so that a
//! database that refuses connections is [`StoreError::Unavailable`] (503),
//! whatever PostgreSQL's reason.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::PostgisStore;
use crate::auth::token::TokenHash;
use crate::auth::{Grants, Role};
use crate::store::access::{
    AccessStore, AuditEvent, AuditQuery, TokenGrant, User, UserSummary, user_from_row,
};
use crate::store::{Page, StoreError};

const USER_COLUMNS: &str = "u.id, u.name, u.role, u.scope, u.created_at";

fn read_user(row: &PgRow) -> Result<User, StoreError> {
    user_from_row(
        row.try_get("id")?,
        row.try_get("name")?,
        row.try_get::<&str, _>("role")?,
        row.try_get::<&str, _>("scope")?,
        row.try_get("created_at")?,
    )
}

impl PostgisStore {
    async fn conn(&self) -> Result<PoolConnection<Postgres>, StoreError> {
        self.pool().acquire().await.map_err(StoreError::Unavailable)
    }
}

fn push_audit_filters(qb: &mut QueryBuilder<'_, Postgres>, q: &AuditQuery) {
    qb.push(" where true");
    for (col, v) in [
        ("user_name", &q.user),
        ("entity", &q.entity),
        ("entity_id", &q.entity_id),
    ] {
        if let Some(v) = v {
            qb.push(format!(" and {col} = "));
            qb.push_bind(v.clone());
        }
    }
}

#[async_trait]
impl AccessStore for PostgisStore {
    async fn create_user(
        &self,
        name: &str,
        role: Role,
        grants: &Grants,
    ) -> Result<User, StoreError> {
        let mut c = self.conn().await?;
        let row = sqlx::query(
            "insert into app_user as u (name, role, scope) values ($1, $2, $3) \
             returning u.id, u.name, u.role, u.scope, u.created_at",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(grants.to_string())
        .fetch_one(&mut *c)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(format!("user {name:?}"))
            }
            _ => StoreError::from(e),
        })?;
        read_user(&row)
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let mut c = self.conn().await?;
        let row = sqlx::query(&format!(
            "select {USER_COLUMNS} from app_user u where u.name = $1"
        ))
        .bind(name)
        .fetch_optional(&mut *c)
        .await?;
        row.as_ref().map(read_user).transpose()
    }

    async fn users(&self) -> Result<Vec<UserSummary>, StoreError> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(&format!(
            "select {USER_COLUMNS}, \
               count(t.id) filter (where t.id is not null) as active, \
               bool_or(t.id is not null and t.expires_at is null) as forever, \
               max(t.expires_at) as expires \
             from app_user u \
             left join api_token t on t.user_id = u.id and t.revoked_at is null \
               and (t.expires_at is null or t.expires_at > now()) \
             group by u.id order by u.name"
        ))
        .fetch_all(&mut *c)
        .await?;
        rows.iter()
            .map(|r| {
                let active: i64 = r.try_get("active")?;
                let forever: Option<bool> = r.try_get("forever")?;
                Ok(UserSummary {
                    user: read_user(r)?,
                    active_tokens: u64::try_from(active).unwrap_or(0),
                    expires_at: if forever == Some(true) {
                        None
                    } else {
                        r.try_get("expires")?
                    },
                })
            })
            .collect()
    }

    async fn add_token(
        &self,
        user_id: i64,
        token: &TokenHash,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        sqlx::query(
            "insert into api_token (id, user_id, salt, hash, expires_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&token.id)
        .bind(user_id)
        .bind(&token.salt)
        .bind(&token.hash)
        .bind(expires_at)
        .execute(&mut *c)
        .await?;
        Ok(())
    }

    async fn token(&self, id: &str) -> Result<Option<TokenGrant>, StoreError> {
        let mut c = self.conn().await?;
        let row = sqlx::query(&format!(
            "select {USER_COLUMNS}, t.id as token_id, t.salt, t.hash, t.expires_at, t.revoked_at \
             from api_token t join app_user u on u.id = t.user_id where t.id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
        row.map(|r| {
            Ok(TokenGrant {
                user: read_user(&r)?,
                hash: TokenHash {
                    id: r.try_get("token_id")?,
                    salt: r.try_get("salt")?,
                    hash: r.try_get("hash")?,
                },
                expires_at: r.try_get("expires_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        })
        .transpose()
    }

    async fn revoke_tokens(&self, user_id: i64) -> Result<u64, StoreError> {
        let mut c = self.conn().await?;
        let n = sqlx::query(
            "update api_token set revoked_at = now() where user_id = $1 and revoked_at is null",
        )
        .bind(user_id)
        .execute(&mut *c)
        .await?
        .rows_affected();
        Ok(n)
    }

    async fn record_audit(&self, e: &AuditEvent) -> Result<i64, StoreError> {
        let mut c = self.conn().await?;
        let id = sqlx::query_scalar(
            "insert into audit_event (at, user_id, user_name, role, method, path, entity, entity_id, status, before) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id",
        )
        .bind(e.at)
        .bind(e.user_id.filter(|id| *id > 0))
        .bind(&e.user)
        .bind(&e.role)
        .bind(&e.method)
        .bind(&e.path)
        .bind(&e.entity)
        .bind(&e.entity_id)
        .bind(i16::try_from(e.status).unwrap_or(i16::MAX))
        .bind(&e.before)
        .fetch_one(&mut *c)
        .await?;
        Ok(id)
    }

    async fn audit(&self, q: &AuditQuery) -> Result<Page<AuditEvent>, StoreError> {
        let mut c = self.conn().await?;
        let mut count = QueryBuilder::<Postgres>::new("select count(*) from audit_event");
        push_audit_filters(&mut count, q);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *c).await?;
        let mut qb = QueryBuilder::<Postgres>::new(
            "select id, at, user_id, user_name, role, method, path, entity, entity_id, \
             status::integer as status, before from audit_event",
        );
        push_audit_filters(&mut qb, q);
        qb.push(" order by id desc limit ");
        qb.push_bind(i64::from(q.limit));
        qb.push(" offset ");
        qb.push_bind(i64::from(q.offset));
        let rows = qb.build().fetch_all(&mut *c).await?;
        let items = rows
            .iter()
            .map(|r| {
                let status: i32 = r.try_get("status")?;
                Ok(AuditEvent {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    user_id: r.try_get("user_id")?,
                    user: r.try_get("user_name")?,
                    role: r.try_get("role")?,
                    method: r.try_get("method")?,
                    path: r.try_get("path")?,
                    entity: r.try_get("entity")?,
                    entity_id: r.try_get("entity_id")?,
                    status: u16::try_from(status).unwrap_or(0),
                    before: r.try_get("before")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page {
            total: u64::try_from(total).unwrap_or(0),
            items,
        })
    }
}
