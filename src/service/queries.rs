//! The read use cases the HTTP handlers need beside the other service
//! modules: layers in the caller's scope, tracks as the caller sees them,
//! a work's inspections, the road network, the audit trail, tokens and
//! the database's health. Each takes the caller's scope where there is
//! one, so answers are scoped here and in the query, never only in the
//! handler.

use crate::auth::{Grants, Scope};
use crate::domain::Stored;
use crate::inspection::{Hazard, Inspection};
use crate::store::access::{AuditEvent, AuditQuery, TokenGrant};
use crate::store::layer::LayerItem;
use crate::store::routes::RoadNetworkInfo;
use crate::store::tracks::{StoredVisit, TrackQuery, TrackRecord};
use crate::store::{DynStore, InspectionQuery, ListQuery, Page, StoreError, scoped};

use super::ServiceError;
use super::scope::TrackScope;

/// Whether the database answers.
pub async fn ping(store: &DynStore) -> Result<(), StoreError> {
    store.ping().await
}

/// A page of a layer in the caller's scope.
pub async fn layer_page<T: LayerItem>(
    store: &DynStore,
    scope: &Scope,
    query: ListQuery,
) -> Result<Page<Stored<T>>, ServiceError> {
    Ok(scoped::list::<T>(store, query, scope).await?)
}

/// One item of a layer, if the caller's scope covers it.
pub async fn layer_item<T: LayerItem>(
    store: &DynStore,
    scope: &Scope,
    id: i64,
) -> Result<Option<Stored<T>>, ServiceError> {
    Ok(scoped::get::<T>(store, id, scope).await?)
}

/// A track the caller sees, or not found.
pub async fn visible_track(
    store: &DynStore,
    scope: &TrackScope,
    id: i64,
) -> Result<TrackRecord, ServiceError> {
    store
        .get_track(id)
        .await?
        .filter(|t| scope.sees(t))
        .ok_or_else(|| ServiceError::NotFound(format!("track {id}")))
}

/// The cells a visible track covered.
pub async fn track_visits(
    store: &DynStore,
    scope: &TrackScope,
    id: i64,
) -> Result<(TrackRecord, Vec<StoredVisit>), ServiceError> {
    let t = visible_track(store, scope, id).await?;
    let visits = store.track_visits(id).await?;
    Ok((t, visits))
}

/// A page of the tracks the caller sees. `asked` is the officer the
/// caller asked for: an officer asking for another's tracks finds none.
pub async fn track_page(
    store: &DynStore,
    scope: &TrackScope,
    asked: Option<String>,
    mut query: TrackQuery,
) -> Result<Page<TrackRecord>, ServiceError> {
    let others = scope
        .officer()
        .is_some_and(|me| asked.as_deref().is_some_and(|a| a != me));
    if others {
        return Ok(Page {
            total: 0,
            items: Vec::new(),
        });
    }
    query.officer = scope.officer().map(str::to_owned).or(asked);
    query.bbox = query.bbox.or_else(|| scope.bbox());
    if scope.is_everything() || scope.officer().is_some() {
        return Ok(store.list_tracks(&query).await?);
    }
    // the exact area test is done here, before paging
    let (limit, offset) = (query.limit as usize, query.offset as usize);
    query.limit = u32::MAX;
    query.offset = 0;
    let all: Vec<TrackRecord> = store
        .list_tracks(&query)
        .await?
        .items
        .into_iter()
        .filter(|t| scope.sees(t))
        .collect();
    Ok(Page {
        total: all.len() as u64,
        items: all.into_iter().skip(offset).take(limit).collect(),
    })
}

/// A work's inspections and their hazards, if the work is in scope.
pub async fn work_inspections(
    store: &DynStore,
    scope: &Scope,
    project_id: i64,
) -> Result<(Vec<Inspection>, Vec<Hazard>), ServiceError> {
    super::inspections::work_in_scope(store, scope, project_id).await?;
    let q = InspectionQuery {
        project: Some(project_id),
        ..InspectionQuery::default()
    };
    let inspections = store.inspections(&q).await?;
    let hazards = store.hazards(&q).await?;
    Ok((inspections, hazards))
}

/// The imported road network, if any.
pub async fn road_network(store: &DynStore) -> Result<Option<RoadNetworkInfo>, ServiceError> {
    Ok(store.road_network().await?)
}

/// A page of the audit trail (the caller's role is checked by the caller).
pub async fn audit_page(
    store: &DynStore,
    query: &AuditQuery,
) -> Result<Page<AuditEvent>, ServiceError> {
    Ok(store.audit(query).await?)
}

/// Records one audited write.
pub async fn record_audit(store: &DynStore, event: &AuditEvent) -> Result<i64, StoreError> {
    store.record_audit(event).await
}

/// A token by its public id.
pub async fn token(store: &DynStore, id: &str) -> Result<Option<TokenGrant>, StoreError> {
    store.token(id).await
}

/// The scope a user's grants give.
pub async fn scope_of(store: &DynStore, grants: &Grants) -> Result<Scope, StoreError> {
    scoped::load_access_scope(store, grants).await
}
