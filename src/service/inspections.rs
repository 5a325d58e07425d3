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
use crate::blindspots::geodesic::point_to_site_m;
use crate::domain::{Project, Stored};
use crate::inspection::checklist::InspectionDetail;
use crate::inspection::ledger::{self, LedgerRow, WorkRef};
use crate::inspection::{
    Hazard, HazardEvent, HazardStatus, IllegalTransition, Inspection, NewInspection, StatusChange,
};
use crate::store::casefile::RecordQuery;
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
///
/// Its photos must be attachments of the work; the inspector's position is
/// kept with its geodesic distance to the work. Findings fixed on the spot
/// (当场整改) are stored closed.
pub async fn record(
    store: &DynStore,
    caller: &Caller,
    mut new: NewInspection,
    now: DateTime<Utc>,
) -> Result<(Inspection, Vec<Hazard>, InspectionDetail), ServiceError> {
    caller.require(Action::WriteInspection)?;
    new.inspected_at = ms(new.inspected_at);
    new.recorded_by.clone_from(&caller.user);
    new.validate(now)?;
    let work = work_in_scope(store, &caller.scope, new.project_id).await?;
    caller.require_own(&new.inspector)?;
    if !new.detail.photos.is_empty() {
        let own: HashSet<i64> = store
            .attachments(&RecordQuery {
                project: Some(new.project_id),
                towns: None,
            })
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect();
        if let Some(bad) = new.detail.photos.iter().find(|id| !own.contains(id)) {
            return Err(crate::domain::Invalid::new(
                "photos",
                format!(
                    "attachment {bad} is not an attachment of work {}",
                    new.project_id
                ),
            )
            .into());
        }
    }
    new.detail.distance_m = new.detail.position.map(|p| {
        let d = point_to_site_m(geo::Point::new(p.lon, p.lat), &work.value.geometry);
        (d * 10.0).round() / 10.0
    });
    let (i, h) = store.record_inspection(&new, ms(now)).await?;
    Ok((i, h, new.detail))
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

/// One hazard move of an imported ledger.
#[derive(Debug, serde::Deserialize)]
struct MoveIn {
    to: HazardStatus,
    at: DateTime<Utc>,
    by: String,
    #[serde(default)]
    note: String,
}

/// One finding of an imported ledger, with the moves it went through.
#[derive(Debug, serde::Deserialize)]
struct FindingIn {
    kind: crate::inspection::HazardKind,
    severity: crate::inspection::Severity,
    deadline: chrono::NaiveDate,
    #[serde(default)]
    note: String,
    #[serde(default)]
    moves: Vec<MoveIn>,
}

/// One inspection of an imported ledger, naming its work by code.
#[derive(Debug, serde::Deserialize)]
struct InspectionIn {
    project: String,
    inspected_at: DateTime<Utc>,
    inspector: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    findings: Vec<FindingIn>,
}

#[derive(Debug, serde::Deserialize)]
struct LedgerIn {
    inspections: Vec<InspectionIn>,
}

/// Imports a ledger kept elsewhere (the demo's, or a town's own): each
/// inspection of a work named by its code, recorded an hour after the
/// visit by its inspector, and each hazard's moves replayed through the
/// closed loop. The whole ledger is checked first (works, fields, every
/// move legal from the one before), so a bad ledger writes nothing.
/// Returns the inspections and hazards stored.
pub async fn import_ledger(store: &DynStore, json: &str) -> Result<(usize, usize), ServiceError> {
    use crate::ingest::IngestError;
    use crate::inspection::Finding;
    let ledger: LedgerIn = serde_json::from_str(json)
        .map_err(|e| IngestError::new(None, "body", format!("not an inspection ledger: {e}")))?;
    let codes: HashMap<String, i64> =
        scoped::list::<Project>(store, ListQuery::all(), &Scope::district())
            .await?
            .items
            .into_iter()
            .map(|p| (p.value.code, p.id))
            .collect();
    // check everything before writing anything
    let mut checked = Vec::with_capacity(ledger.inspections.len());
    for (i, e) in ledger.inspections.into_iter().enumerate() {
        let here = format!("inspection {}", i + 1);
        let project_id = *codes.get(&e.project).ok_or_else(|| {
            IngestError::new(
                Some(here.clone()),
                "project",
                format!("no work with code {:?}", e.project),
            )
        })?;
        let recorded_at = ms(e.inspected_at + chrono::Duration::hours(1));
        let (findings, moves): (Vec<Finding>, Vec<Vec<StatusChange>>) = e
            .findings
            .into_iter()
            .map(|f| {
                let finding = Finding {
                    kind: f.kind,
                    severity: f.severity,
                    deadline: f.deadline,
                    note: f.note,
                    fixed_on_spot: false,
                };
                let changes = f
                    .moves
                    .into_iter()
                    .map(|m| StatusChange {
                        to: m.to,
                        note: m.note,
                        by: m.by,
                        at: ms(m.at),
                    })
                    .collect();
                (finding, changes)
            })
            .unzip();
        let new = NewInspection {
            project_id,
            inspected_at: ms(e.inspected_at),
            recorded_by: e.inspector.clone(),
            inspector: e.inspector,
            note: e.note,
            findings,
            detail: InspectionDetail::default(),
        };
        new.validate(recorded_at)
            .map_err(|v| IngestError::at(here.clone(), v))?;
        for (k, changes) in moves.iter().enumerate() {
            let mut status = HazardStatus::Open;
            for c in changes {
                c.validate()
                    .map_err(|v| IngestError::at(format!("{here}, finding {}", k + 1), v))?;
                status = status.move_to(c.to).map_err(|x| {
                    IngestError::new(
                        Some(format!("{here}, finding {}", k + 1)),
                        "moves",
                        x.to_string(),
                    )
                })?;
            }
        }
        checked.push((new, recorded_at, moves));
    }
    let (mut inspections, mut hazards) = (0, 0);
    for (new, recorded_at, moves) in checked {
        let (_, stored) = store.record_inspection(&new, recorded_at).await?;
        inspections += 1;
        for (h, changes) in stored.into_iter().zip(moves) {
            hazards += 1;
            let mut status = h.status;
            for c in changes {
                match store.move_hazard(h.id, status, &c).await? {
                    Moved::Done(_) => status = c.to,
                    Moved::Stale | Moved::Missing => {
                        return Err(ServiceError::Conflict(format!(
                            "hazard {} changed during the import",
                            h.id
                        )));
                    }
                }
            }
        }
    }
    Ok((inspections, hazards))
}
