//! Users, token hashes and the audit trail: the [`AccessStore`] half of
//! every backend, implemented once in [`super::sql::access`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Page, StoreError};
use crate::auth::token::TokenHash;
use crate::auth::{Grants, Role};

/// A user of the API.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    /// The login.
    pub name: String,
    /// What people call them (an officer's 姓名); empty when not given.
    pub display_name: String,
    pub role: Role,
    pub grants: Grants,
    pub created_at: DateTime<Utc>,
}

/// A user with the state of their tokens, for `user list`.
#[derive(Debug, Clone)]
pub struct UserSummary {
    pub user: User,
    /// Tokens neither revoked nor expired.
    pub active_tokens: u64,
    /// The latest expiry of an active token (`None`: none, or one never expires).
    pub expires_at: Option<DateTime<Utc>>,
}

impl User {
    /// The name people read: the display name, or the login without one.
    #[must_use]
    pub fn shown_name(&self) -> &str {
        if self.display_name.is_empty() {
            &self.name
        } else {
            &self.display_name
        }
    }
}

/// A stored token with its user.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub user: User,
    pub hash: TokenHash,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenGrant {
    /// Whether the token may be used at `now`.
    #[must_use]
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// One write, as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    /// Assigned by the store; 0 before.
    pub id: i64,
    pub at: DateTime<Utc>,
    #[serde(skip)]
    pub user_id: Option<i64>,
    pub user: String,
    pub role: String,
    pub method: String,
    pub path: String,
    /// What was written, e.g. `project`, `user`.
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The value before the change; `None` for a creation.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
}

/// Filters and paging of the audit trail, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub user: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// The access-control operations every backend provides.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Creates a user; a taken name is a [`StoreError::Conflict`].
    async fn create_user(
        &self,
        name: &str,
        role: Role,
        grants: &Grants,
    ) -> Result<User, StoreError>;

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError>;

    async fn users(&self) -> Result<Vec<UserSummary>, StoreError>;

    /// Sets the name people read for a user; `false` for an unknown login.
    async fn set_display_name(&self, name: &str, display_name: &str) -> Result<bool, StoreError>;

    /// Stores a token's hash for a user.
    async fn add_token(
        &self,
        user_id: i64,
        token: &TokenHash,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;

    /// A token by its public id, with its user.
    async fn token(&self, id: &str) -> Result<Option<TokenGrant>, StoreError>;

    /// Revokes every live token of a user; returns how many.
    async fn revoke_tokens(&self, user_id: i64) -> Result<u64, StoreError>;

    /// Appends to the audit trail; returns the event's id.
    async fn record_audit(&self, event: &AuditEvent) -> Result<i64, StoreError>;

    async fn audit(&self, query: &AuditQuery) -> Result<Page<AuditEvent>, StoreError>;
}

/// Reads a stored role and scope back.
pub(super) fn user_from_row(
    id: i64,
    (name, display_name): (String, String),
    role: &str,
    scope: &str,
    created_at: DateTime<Utc>,
) -> Result<User, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("app_user {name}: {e}"));
    let role: Role = role.parse().map_err(|e| corrupt(&e))?;
    let grants = Grants::parse_list(scope)
        .and_then(|g| Grants::for_role(role, g))
        .map_err(|e| corrupt(&e))?;
    Ok(User {
        id,
        name,
        display_name,
        role,
        grants,
        created_at,
    })
}
