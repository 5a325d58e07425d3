//! The closed loop as use cases: recording an inspection with its findings,
//! moving a hazard through its statuses, and reading the ledger (检查台账)
//! of a work, a town or the district.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};

use super::ServiceError;
use crate::blindspots::Window;
use crate::domain::Project;
use crate::inspection::ledger::{self, LedgerRow, WorkRef};
use crate::inspection::{
    Hazard, HazardEvent, HazardStatus, IllegalTransition, Inspection, NewInspection, StatusChange,
};
use crate::store::inspection::Moved;
use crate::store::{DynStore, InspectionQuery, ListQuery, typed};

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

/// Records an inspection of an existing work with its findings as open
/// hazards; `now` is the recording time.
pub async fn record(
    store: &DynStore,
    mut new: NewInspection,
    now: DateTime<Utc>,
) -> Result<(Inspection, Vec<Hazard>), ServiceError> {
    new.inspected_at = ms(new.inspected_at);
    new.validate(now)?;
    if typed::get::<Project>(store, new.project_id).await?.is_none() {
        return Err(ServiceError::NotFound(format!("project {}", new.project_id)));
    }
    Ok(store.record_inspection(&new, ms(now)).await?)
}

/// One hazard.
pub async fn hazard(store: &DynStore, id: i64) -> Result<Option<Hazard>, ServiceError> {
    let q = InspectionQuery {
        hazard: Some(id),
        ..InspectionQuery::default()
    };
    Ok(store.hazards(&q).await?.into_iter().next())
}

/// The history of one hazard, oldest first.
pub async fn history(store: &DynStore, id: i64) -> Result<Vec<HazardEvent>, ServiceError> {
    let q = InspectionQuery {
        hazard: Some(id),
        ..InspectionQuery::default()
    };
    Ok(store.hazard_events(&q).await?)
}

/// Moves a hazard to `change.to` if the closed loop allows it from its
/// current status, recording who and when.
pub async fn move_hazard(
    store: &DynStore,
    id: i64,
    mut change: StatusChange,
) -> Result<Hazard, MoveError> {
    change.validate().map_err(ServiceError::from)?;
    change.at = ms(change.at);
    let current = hazard(store, id)
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

/// The statuses a hazard may move to next.
#[must_use]
pub fn next_statuses(h: &Hazard) -> Vec<HazardStatus> {
    h.status.next()
}

/// The works the ledger rows name, by id.
async fn work_refs(
    store: &DynStore,
    towns: Option<Vec<String>>,
) -> Result<HashMap<i64, WorkRef>, ServiceError> {
    let q = ListQuery {
        towns,
        ..ListQuery::all()
    };
    Ok(typed::list::<Project>(store, &q)
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

/// The ledger of the works a query selects, every change in time order;
/// with a window, only the changes within it.
pub async fn ledger(
    store: &DynStore,
    q: &InspectionQuery,
    window: Option<Window>,
) -> Result<Vec<LedgerRow>, ServiceError> {
    let inspections = store.inspections(q).await?;
    let hazards = store.hazards(q).await?;
    let events = store.hazard_events(q).await?;
    let works = work_refs(store, q.towns.clone()).await?;
    let mut rows = ledger::rows(&works, &inspections, &hazards, &events);
    if let Some(w) = window {
        rows.retain(|r| w.contains(r.at));
    }
    Ok(rows)
}
