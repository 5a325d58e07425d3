//! Roles and what each may do. A role decides the kinds of writes; the
//! [`Scope`](super::Scope) decides where.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// The role of a user, one per user. On the command line and in the API as
/// `admin`, `town`, `grid_manager`, `officer`, `viewer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// District administrator (区建管委): everything, everywhere.
    Admin,
    /// Town staff (街镇): the works, inspections, tracks and routes of their towns.
    Town,
    /// Grid manager (网格长): reads their zones and grids, records inspections there.
    GridManager,
    /// Patrol officer (安全员): uploads their own tracks and inspections.
    Officer,
    /// Read-only, within a scope.
    Viewer,
}

impl Role {
    pub const ALL: [Self; 5] = [
        Self::Admin,
        Self::Town,
        Self::GridManager,
        Self::Officer,
        Self::Viewer,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Town => "town",
            Self::GridManager => "grid_manager",
            Self::Officer => "officer",
            Self::Viewer => "viewer",
        }
    }

    /// Whether the role may take an action at all; where it may is the
    /// scope's question, and "own" rules are [`Caller::is_self`](super::Caller::is_self)'s.
    #[must_use]
    pub fn may(self, action: Action) -> bool {
        use Action::{
            Evaluate, ManageUsers, ReadAudit, RegisterDiscovered, SelfAssess, WriteCaseFile,
            WriteHazard, WriteInspection, WriteLayer, WriteProject, WriteRoute, WriteTrack,
        };
        match self {
            Self::Admin => true,
            Self::Town => matches!(
                action,
                WriteProject
                    | RegisterDiscovered
                    | WriteCaseFile
                    | WriteInspection
                    | WriteHazard
                    | WriteTrack
                    | WriteRoute
                    | SelfAssess
            ),
            Self::GridManager => matches!(
                action,
                WriteInspection | WriteHazard | RegisterDiscovered | WriteCaseFile
            ),
            // officers write only their own tracks and inspections, and
            // register the works they find on patrol
            Self::Officer => matches!(action, WriteTrack | WriteInspection | RegisterDiscovered),
            Self::Viewer => match action {
                WriteProject | RegisterDiscovered | WriteCaseFile | WriteInspection
                | WriteHazard | WriteTrack | WriteRoute | WriteLayer | ReadAudit | ManageUsers
                | SelfAssess | Evaluate => false,
            },
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected admin, town, grid_manager, officer or viewer")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// A kind of write (or a privileged read). Reads of the data are open to
/// every role within its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Create or change works (小微工程).
    WriteProject,
    /// Register a work found on patrol (status `discovered`) in the scope.
    RegisterDiscovered,
    /// Add records to a work's case file (备案, 告知承诺, 查处, 移送, …),
    /// register parties and upload attachments.
    WriteCaseFile,
    /// Record inspections (检查记录) and their findings.
    WriteInspection,
    /// Move hazards (隐患) along the closed loop.
    WriteHazard,
    /// Upload patrol tracks.
    WriteTrack,
    /// Plan and assign patrol routes.
    WriteRoute,
    /// Import or change towns, zones, grids, districts and venues.
    WriteLayer,
    /// Read the audit trail.
    ReadAudit,
    /// Create and revoke users and tokens.
    ManageUsers,
    /// Fill in and submit the town's self-assessment (自评).
    SelfAssess,
    /// Run the district's evaluation: open a period, pick the towns, draw
    /// works on site, record findings, check declarations.
    Evaluate,
}

impl Action {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WriteProject => "write projects",
            Self::RegisterDiscovered => "register works found on patrol",
            Self::WriteCaseFile => "write case-file records",
            Self::WriteInspection => "record inspections",
            Self::WriteHazard => "change hazards",
            Self::WriteTrack => "upload tracks",
            Self::WriteRoute => "plan routes",
            Self::WriteLayer => "change towns, zones, grids, districts or venues",
            Self::ReadAudit => "read the audit trail",
            Self::ManageUsers => "manage users",
            Self::SelfAssess => "fill in the self-assessment",
            Self::Evaluate => "run the evaluation",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn viewers_write_nothing_and_admins_everything() {
        for a in [
            Action::WriteProject,
            Action::WriteInspection,
            Action::WriteHazard,
            Action::WriteTrack,
            Action::WriteRoute,
            Action::WriteLayer,
            Action::ReadAudit,
            Action::ManageUsers,
            Action::SelfAssess,
            Action::Evaluate,
        ] {
            assert!(!Role::Viewer.may(a));
            assert!(Role::Admin.may(a));
        }
        assert!(Role::GridManager.may(Action::WriteInspection));
        assert!(!Role::GridManager.may(Action::WriteProject));
        assert!(Role::Officer.may(Action::WriteTrack));
        assert!(!Role::Officer.may(Action::WriteProject));
        assert!(Role::Town.may(Action::WriteProject));
        assert!(!Role::Town.may(Action::ReadAudit));
    }
}
