//! The caller of a request: who, in which role, with which scope.

use std::sync::Arc;

use super::{Action, Role, Scope};

/// An authenticated caller. The HTTP layer puts one in every `/api/`
/// request; handlers take it as an extractor.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    /// The user name, e.g. `officer01` (for officers, the officer code
    /// their tracks and inspections carry).
    pub user: String,
    pub role: Role,
    pub scope: Arc<Scope>,
}

/// A write the caller's role or scope does not allow (403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

impl Caller {
    /// A caller with the whole district, for the command line and tests.
    #[must_use]
    pub fn system(user: &str) -> Self {
        Self {
            user_id: 0,
            user: user.to_owned(),
            role: Role::Admin,
            scope: Arc::new(Scope::district()),
        }
    }

    /// Refuses an action the role never allows.
    pub fn require(&self, action: Action) -> Result<(), Denied> {
        if self.role.may(action) {
            Ok(())
        } else {
            Err(Denied(format!(
                "the {} role may not {}",
                self.role,
                action.as_str()
            )))
        }
    }

    /// Refuses unless `allowed` (the scope's answer for the written value).
    pub fn require_in_scope(&self, allowed: bool, what: &str) -> Result<(), Denied> {
        if allowed {
            Ok(())
        } else {
            Err(Denied(format!("{what} lies outside {}'s scope", self.user)))
        }
    }

    /// Whether `officer` (a track's or inspection's officer code) is the
    /// caller: officers write only their own.
    #[must_use]
    pub fn is_self(&self, officer: &str) -> bool {
        self.user == officer
    }

    /// For officers, refuses writes in someone else's name; other roles
    /// with the action may write for any officer in their scope.
    pub fn require_own(&self, officer: &str) -> Result<(), Denied> {
        if self.role != Role::Officer || self.is_self(officer) {
            Ok(())
        } else {
            Err(Denied(format!(
                "officers write only their own records, not {officer:?}'s"
            )))
        }
    }
}
