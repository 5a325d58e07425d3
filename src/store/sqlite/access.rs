//! [`AccessStore`] on the embedded SQLite store. Times are bound from Rust
//! (RFC 3339, UTC) and compared in Rust, so both backends agree.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::SqliteStore;
use crate::auth::token::TokenHash;
use crate::auth::{Grants, Role};
use crate::store::access::{
    AccessStore, AuditEvent, AuditQuery, TokenGrant, User, UserSummary, user_from_row,
};
use crate::store::{Page, StoreError};

const USER_COLUMNS: &str = "u.id, u.name, u.role, u.scope, u.created_at";

fn read_user(row: &SqliteRow) -> Result<User, StoreError> {
    user_from_row(
        row.try_get("id")?,
        row.try_get("name")?,
        row.try_get::<&str, _>("role")?,
        row.try_get::<&str, _>("scope")?,
        row.try_get("created_at")?,
    )
}

fn push_audit_filters(qb: &mut QueryBuilder<'_, Sqlite>, q: &AuditQuery) {
    qb.push(" where 1");
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
impl AccessStore for SqliteStore {
    async fn create_user(
        &self,
        name: &str,
        role: Role,
        grants: &Grants,
    ) -> Result<User, StoreError> {
        let row = sqlx::query(
            "insert into app_user (name, role, scope, created_at) values (?, ?, ?, ?) \
             returning id, name, role, scope, created_at",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(grants.to_string())
        .bind(Utc::now())
        .fetch_one(self.pool())
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
        let row = sqlx::query(&format!(
            "select {USER_COLUMNS} from app_user u where u.name = ?"
        ))
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(read_user).transpose()
    }

    async fn users(&self) -> Result<Vec<UserSummary>, StoreError> {
        let users = sqlx::query(&format!(
            "select {USER_COLUMNS} from app_user u order by u.name"
        ))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(read_user)
        .collect::<Result<Vec<_>, _>>()?;
        let now = Utc::now();
        let mut live: HashMap<i64, (u64, Option<DateTime<Utc>>, bool)> = HashMap::new();
        for r in sqlx::query("select user_id, expires_at from api_token where revoked_at is null")
            .fetch_all(self.pool())
            .await?
        {
            let user_id: i64 = r.try_get("user_id")?;
            let expires: Option<DateTime<Utc>> = r.try_get("expires_at")?;
            if expires.is_some_and(|e| e <= now) {
                continue;
            }
            let e = live.entry(user_id).or_default();
            e.0 += 1;
            e.1 = e.1.max(expires);
            e.2 |= expires.is_none();
        }
        Ok(users
            .into_iter()
            .map(|user| {
                let (active_tokens, latest, forever) =
                    live.get(&user.id).copied().unwrap_or_default();
                UserSummary {
                    user,
                    active_tokens,
                    expires_at: if forever { None } else { latest },
                }
            })
            .collect())
    }

    async fn add_token(
        &self,
        user_id: i64,
        token: &TokenHash,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "insert into api_token (id, user_id, salt, hash, created_at, expires_at) values (?, ?, ?, ?, ?, ?)",
        )
        .bind(&token.id)
        .bind(user_id)
        .bind(&token.salt)
        .bind(&token.hash)
        .bind(Utc::now())
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn token(&self, id: &str) -> Result<Option<TokenGrant>, StoreError> {
        let row = sqlx::query(&format!(
            "select {USER_COLUMNS}, t.id as token_id, t.salt, t.hash, t.expires_at, t.revoked_at \
             from api_token t join app_user u on u.id = t.user_id where t.id = ?"
        ))
        .bind(id)
        .fetch_optional(self.pool())
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
        let n = sqlx::query(
            "update api_token set revoked_at = ? where user_id = ? and revoked_at is null",
        )
        .bind(Utc::now())
        .bind(user_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n)
    }

    async fn record_audit(&self, e: &AuditEvent) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar(
            "insert into audit_event (at, user_id, user_name, role, method, path, entity, entity_id, status, before) \
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id",
        )
        .bind(e.at)
        .bind(e.user_id.filter(|id| *id > 0))
        .bind(&e.user)
        .bind(&e.role)
        .bind(&e.method)
        .bind(&e.path)
        .bind(&e.entity)
        .bind(&e.entity_id)
        .bind(i64::from(e.status))
        .bind(e.before.as_ref().map(ToString::to_string))
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }

    async fn audit(&self, q: &AuditQuery) -> Result<Page<AuditEvent>, StoreError> {
        let mut count = QueryBuilder::<Sqlite>::new("select count(*) from audit_event");
        push_audit_filters(&mut count, q);
        let total: i64 = count.build_query_scalar().fetch_one(self.pool()).await?;
        let mut qb = QueryBuilder::<Sqlite>::new(
            "select id, at, user_id, user_name, role, method, path, entity, entity_id, status, before \
             from audit_event",
        );
        push_audit_filters(&mut qb, q);
        qb.push(" order by id desc limit ");
        qb.push_bind(i64::from(q.limit));
        qb.push(" offset ");
        qb.push_bind(i64::from(q.offset));
        let rows = qb.build().fetch_all(self.pool()).await?;
        let items = rows
            .iter()
            .map(|r| {
                let status: i64 = r.try_get("status")?;
                let before: Option<String> = r.try_get("before")?;
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
                    before: before
                        .map(|s| serde_json::from_str(&s))
                        .transpose()
                        .map_err(|e| StoreError::Corrupt(format!("audit_event: {e}")))?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page {
            total: u64::try_from(total).unwrap_or(0),
            items,
        })
    }
}
