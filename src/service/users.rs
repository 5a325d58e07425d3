//! Users and tokens, for the command line: create a user with a role and a
//! scope and issue their token (shown once), issue another, revoke them,
//! list them; and the demo admin of `serve --demo`. Each change is recorded
//! in the audit trail.

use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};

use super::ServiceError;
use crate::auth::{Caller, Grant, Grants, Role, token};
use crate::domain::Invalid;
use crate::store::access::{AuditEvent, User, UserSummary};
use crate::store::{DynStore, Layer, ListQuery, StoreError};

/// The demo admin's name and the file its token is written to.
pub const DEMO_ADMIN: &str = "demo-admin";
pub const DEMO_TOKEN_FILE: &str = "demo-admin.token";

/// How long a token lives without `--expires-days`.
pub const DEFAULT_EXPIRY_DAYS: u32 = 90;

fn check_name(name: &str) -> Result<(), Invalid> {
    if name.is_empty()
        || name.chars().count() > 64
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(Invalid::new(
            "name",
            "must be 1 to 64 characters without spaces",
        ));
    }
    Ok(())
}

/// Checks that every town, zone and grid a scope names exists.
async fn check_grants_exist(store: &DynStore, grants: &Grants) -> Result<(), ServiceError> {
    for g in grants.as_slice() {
        let (layer, code) = match g {
            Grant::District => continue,
            Grant::Town(c) => (Layer::Town, c),
            Grant::Zone(c) => (Layer::Zone, c),
            Grant::Grid(c) => (Layer::Grid, c),
        };
        let q = ListQuery {
            codes: Some(vec![code.clone()]),
            limit: 1,
            ..ListQuery::default()
        };
        if store.list(layer, &q).await?.total == 0 {
            return Err(Invalid::new("scope", format!("{g}: no such {}", layer.table())).into());
        }
    }
    Ok(())
}

async fn audit(store: &DynStore, actor: &Caller, what: &str, user: &str, status: u16) {
    let event = AuditEvent {
        id: 0,
        at: Utc::now(),
        user_id: Some(actor.user_id),
        user: actor.user.clone(),
        role: actor.role.to_string(),
        method: "CLI".into(),
        path: format!("user {what} {user}"),
        entity: Some("user".into()),
        entity_id: Some(user.to_owned()),
        status,
        before: None,
    };
    if let Err(e) = store.record_audit(&event).await {
        tracing::error!(error = ?e, "audit event not recorded");
    }
}

fn expiry(days: u32) -> Option<chrono::DateTime<Utc>> {
    (days > 0).then(|| Utc::now() + Duration::days(i64::from(days)))
}

/// Issues a token for a user; returns the plaintext, which is not kept.
pub async fn issue_token(
    store: &DynStore,
    actor: &Caller,
    user: &User,
    expires_days: u32,
) -> Result<String, ServiceError> {
    let (plain, hash) = token::generate().map_err(|e| ServiceError::Io {
        path: "the system random source".into(),
        source: std::io::Error::other(e),
    })?;
    store
        .add_token(user.id, &hash, expiry(expires_days))
        .await?;
    audit(store, actor, "token", &user.name, 201).await;
    Ok(plain)
}

/// Sets the name people read for a user (an officer's 姓名): at most 64
/// printable characters; `NotFound` for an unknown login.
pub async fn set_display_name(
    store: &DynStore,
    actor: &Caller,
    name: &str,
    display_name: &str,
) -> Result<(), ServiceError> {
    let shown = display_name.trim();
    if shown.chars().count() > 64 || shown.chars().any(char::is_control) {
        return Err(Invalid::new("name", "at most 64 printable characters").into());
    }
    if !store.set_display_name(name, shown).await? {
        return Err(ServiceError::NotFound(format!("user {name}")));
    }
    audit(store, actor, "name", name, 200).await;
    Ok(())
}

/// Users' names as people read them, by login.
pub type Names = std::collections::HashMap<String, String>;

/// Every user's name as people read it, by login (logins without a
/// display name are left out).
pub async fn display_names(store: &DynStore) -> Result<Names, ServiceError> {
    Ok(store
        .users()
        .await?
        .into_iter()
        .filter(|s| !s.user.display_name.is_empty())
        .map(|s| (s.user.name, s.user.display_name))
        .collect())
}

/// Creates a user and their first token (`expires_days` 0: never expires).
pub async fn add_user(
    store: &DynStore,
    actor: &Caller,
    name: &str,
    role: Role,
    grants: Vec<Grant>,
    expires_days: u32,
) -> Result<(User, String), ServiceError> {
    check_name(name)?;
    let grants =
        Grants::for_role(role, grants).map_err(|e| Invalid::new("scope", e.to_string()))?;
    check_grants_exist(store, &grants).await?;
    let user = store
        .create_user(name, role, &grants)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(what) => ServiceError::Conflict(format!(
                "{what} exists; revoke or issue a token with `user token`"
            )),
            other => other.into(),
        })?;
    audit(store, actor, "add", name, 201).await;
    let token = issue_token(store, actor, &user, expires_days).await?;
    Ok((user, token))
}

/// A user by name, or not found.
pub async fn find_user(store: &DynStore, name: &str) -> Result<User, ServiceError> {
    store
        .user(name)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("user {name:?}")))
}

/// Revokes every token of a user; returns how many were live.
pub async fn revoke_user(
    store: &DynStore,
    actor: &Caller,
    name: &str,
) -> Result<u64, ServiceError> {
    let user = find_user(store, name).await?;
    let n = store.revoke_tokens(user.id).await?;
    audit(store, actor, "revoke", name, 200).await;
    Ok(n)
}

pub async fn list_users(store: &DynStore) -> Result<Vec<UserSummary>, ServiceError> {
    Ok(store.users().await?)
}

/// Whether `path` holds a live token of the demo admin.
async fn demo_token_is_live(store: &DynStore, path: &Path) -> Result<bool, ServiceError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(false);
    };
    let Ok(presented) = token::parse(text.trim()) else {
        return Ok(false);
    };
    Ok(store.token(&presented.id).await?.is_some_and(|g| {
        g.user.name == DEMO_ADMIN && presented.matches(&g.hash) && g.is_live(Utc::now())
    }))
}

/// Writes a token to a file readable by its owner only.
fn write_secret(path: &Path, token: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(token.as_bytes())?;
    f.write_all(b"\n")
}

/// Makes sure the demo admin exists and `dir/demo-admin.token` holds a live
/// token of theirs, issuing one (30 days) when it does not. Returns the
/// file's path; the token itself is never logged.
pub async fn ensure_demo_admin(store: &DynStore, dir: &Path) -> Result<PathBuf, ServiceError> {
    let path = dir.join(DEMO_TOKEN_FILE);
    if demo_token_is_live(store, &path).await? {
        return Ok(path);
    }
    let actor = Caller::system("serve --demo");
    let token = match store.user(DEMO_ADMIN).await? {
        Some(user) => issue_token(store, &actor, &user, 30).await?,
        None => {
            add_user(
                store,
                &actor,
                DEMO_ADMIN,
                Role::Admin,
                vec![Grant::District],
                30,
            )
            .await?
            .1
        }
    };
    write_secret(&path, &token).map_err(|source| ServiceError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(path)
}
