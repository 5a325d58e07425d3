//! The closed loop as use cases: recording an inspection with its findings,
//! moving a hazard through its statuses, and reading the ledger (检查台账)
//! of a work, a town or the district. Every use case takes the caller:
//! writes check the role, the place and (for officers) the name; reads see
//! only the works in the caller's scope, and a hazard or work outside it is
//! not found.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};

use super::ServiceError;
use crate::auth::{Action, Caller, Scope};
use crate::blindspots::Window;
use crate::domain::{Project, Stored};
use crate::inspection::ledger::{self, LedgerRow, WorkRef};
use crate::inspection::{
    Hazard, HazardEvent, HazardStatus, IllegalTransition, Inspection, NewInspection, StatusChange,
};
use crate::store::inspection::Moved;
use crate::store::{DynStore, InspectionQuery, ListQuery, scoped};

/// Why a hazard could not move.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The closed loop does not allow the move.
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    /// Someone else moved the hazard between our read and our write.
    #[error("hazard {id} was changed meanwhile; read it again")]
    Stale { id: i64 },
}

/// Stored times keep milliseconds, the precision both backends hold.
fn ms(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}

/// A work in the caller's scope; `NotFound` for an unknown id and for one
/// outside the scope alike.
pub async fn work_in_scope(
    store: &DynStore,
    scope: &Scope,
    id: i64,
) -> Result<Stored<Project>, ServiceError> {
    scoped::get::<Project>(store, id, scope)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("project {id}")))
}

/// The ids of the works in a scope; `None` for the whole district.
pub async fn works_in_scope(
    store: &DynStore,
    scope: &Scope,
) -> Result<Option<HashSet<i64>>, ServiceError> {
    if scope.is_district() {
        return Ok(None);
    }
    let page = scoped::list::<Project>(store, ListQuery::all(), scope).await?;
    Ok(Some(page.items.into_iter().map(|p| p.id).collect()))
}

/// Records an inspection of a work in the caller's scope with its findings
/// as open hazards, under the caller's name; officers record only their
/// own inspections. `now` is the recording time.
pub async fn record(
    store: &DynStore,
    caller: &Caller,
    mut new: NewInspection,
    now: DateTime<Utc>,
) -> Result<(Inspection, Vec<Hazard>), ServiceError> {
    caller.require(Action::WriteInspection)?;
    new.inspected_at = ms(new.inspected_at);
    new.recorded_by.clone_from(&caller.user);
    new.validate(now)?;
    work_in_scope(store, &caller.scope, new.project_id).await?;
    caller.require_own(&new.inspector)?;
    Ok(store.record_inspection(&new, ms(now)).await?)
}

/// One hazard of a work in the scope.
pub async fn hazard(
    store: &DynStore,
    scope: &Scope,
    id: i64,
) -> Result<Option<Hazard>, ServiceError> {
    let q = InspectionQuery {
        hazard: Some(id),
        ..InspectionQuery::default()
    };
    let Some(h) = store.hazards(&q).await?.into_iter().next() else {
        return Ok(None);
    };
    if !scope.is_district()
        && scoped::get::<Project>(store, h.project_id, scope)
            .await?
            .is_none()
    {
        return Ok(None);
    }
    Ok(Some(h))
}

/// The history of one hazard, oldest first (the caller has read it).
pub async fn history(store: &DynStore, id: i64) -> Result<Vec<HazardEvent>, ServiceError> {
    let q = InspectionQuery {
        hazard: Some(id),
        ..InspectionQuery::default()
    };
    Ok(store.hazard_events(&q).await?)
}

/// Moves a hazard of a work in the caller's scope to `to` if the closed
/// loop allows it from its current status, recording the caller and `now`.
pub async fn move_hazard(
    store: &DynStore,
    caller: &Caller,
    id: i64,
    to: HazardStatus,
    note: String,
    now: DateTime<Utc>,
) -> Result<Hazard, MoveError> {
    caller
        .require(Action::WriteHazard)
        .map_err(ServiceError::from)?;
    let change = StatusChange {
        to,
        note,
        by: caller.user.clone(),
        at: ms(now),
    };
    change.validate().map_err(ServiceError::from)?;
    let current = hazard(store, &caller.scope, id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("hazard {id}")))?;
    current.status.move_to(change.to)?;
    match store
        .move_hazard(id, current.status, &change)
        .await
        .map_err(ServiceError::from)?
    {
        Moved::Done(h) => Ok(h),
        Moved::Stale => Err(MoveError::Stale { id }),
        Moved::Missing => Err(ServiceError::NotFound(format!("hazard {id}")).into()),
    }
}

/// The hazards a query selects, within the scope.
pub async fn hazards(
    store: &DynStore,
    scope: &Scope,
    mut q: InspectionQuery,
) -> Result<Vec<Hazard>, ServiceError> {
    q.towns = scope.list_query_towns(q.towns.take());
    let mut out = store.hazards(&q).await?;
    if let Some(ids) = works_in_scope(store, scope).await? {
        out.retain(|h| ids.contains(&h.project_id));
    }
    Ok(out)
}

/// The works the ledger rows name, by id, within the scope.
async fn work_refs(
    store: &DynStore,
    scope: &Scope,
    towns: Option<Vec<String>>,
) -> Result<HashMap<i64, WorkRef>, ServiceError> {
    let q = ListQuery {
        towns,
        ..ListQuery::all()
    };
    Ok(scoped::list::<Project>(store, q, scope)
        .await?
        .items
        .into_iter()
        .map(|p| {
            (
                p.id,
                WorkRef {
                    code: p.value.code,
                    name: p.value.name,
                    town: p.value.town,
                },
            )
        })
        .collect())
}

/// The ledger of the works a query selects within the scope, every change
/// in time order; with a window, only the changes within it.
pub async fn ledger(
    store: &DynStore,
    scope: &Scope,
    q: &InspectionQuery,
    window: Option<Window>,
) -> Result<Vec<LedgerRow>, ServiceError> {
    let mut q = q.clone();
    q.towns = scope.list_query_towns(q.towns.take());
    let works = work_refs(store, scope, q.towns.clone()).await?;
    let inspections = store.inspections(&q).await?;
    let hazards = store.hazards(&q).await?;
    let events = store.hazard_events(&q).await?;
    let mut rows = ledger::rows(&works, &inspections, &hazards, &events);
    // works outside the scope are missing from `works`: drop their rows
    rows.retain(|r| works.contains_key(&r.project_id));
    if let Some(w) = window {
        rows.retain(|r| w.contains(r.at));
    }
    Ok(rows)
}
