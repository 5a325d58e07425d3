//! Reads limited to a caller's [`Scope`], in the query itself so that
//! paging and totals count only what the caller may see. See the module
//! docs of [`crate::auth`] for how endpoints use it.

use geo::BoundingRect;

use super::{DynStore, Layer, LayerItem, ListQuery, Page, StoreError, typed};
use crate::auth::{Grants, GridExtent, Scope};
use crate::domain::{Grid, Stored};

/// Keeps the values of `asked` found in `allowed` (all of `allowed` when
/// nothing was asked).
fn narrow<T: PartialEq>(asked: Option<Vec<T>>, allowed: Vec<T>) -> Vec<T> {
    match asked {
        None => allowed,
        Some(a) => a.into_iter().filter(|x| allowed.contains(x)).collect(),
    }
}

impl ListQuery {
    /// Restricts the query to what `scope` covers in `layer`: by town for
    /// every layer; for grid scopes also by zone or grid code (zones,
    /// grids) or by intersection with the grids' outlines (works, venues,
    /// commercial districts).
    #[must_use]
    pub fn in_scope(mut self, layer: Layer, scope: &Scope) -> Self {
        self.towns = scope.list_query_towns(self.towns.take());
        let codes = match layer {
            Layer::Zone => scope.zone_codes(),
            Layer::Grid => scope.grid_codes(),
            _ => None,
        };
        if let Some(c) = codes {
            self.codes = Some(narrow(self.codes.take(), c));
        }
        if matches!(layer, Layer::Project | Layer::Venue | Layer::District)
            && let Some(g) = scope.spatial_grids()
        {
            self.grids = Some(narrow(self.grids.take(), g));
        }
        self
    }
}

/// A page of a layer within a scope.
pub async fn list<T: LayerItem>(
    store: &DynStore,
    query: ListQuery,
    scope: &Scope,
) -> Result<Page<Stored<T>>, StoreError> {
    typed::list::<T>(store, &query.in_scope(T::LAYER, scope)).await
}

/// One item by id if the scope covers it; `None` for an unknown id and for
/// one outside the scope alike.
pub async fn get<T: LayerItem>(
    store: &DynStore,
    id: i64,
    scope: &Scope,
) -> Result<Option<Stored<T>>, StoreError> {
    if scope.is_district() {
        return typed::get::<T>(store, id).await;
    }
    let q = ListQuery {
        ids: Some(vec![id]),
        limit: 1,
        ..ListQuery::default()
    };
    Ok(list::<T>(store, q, scope).await?.items.into_iter().next())
}

/// Resolves a user's grants to a scope, loading the grids they name.
pub async fn load_access_scope(store: &DynStore, grants: &Grants) -> Result<Scope, StoreError> {
    if !grants.needs_grids() {
        return Ok(Scope::resolve(grants, Vec::new()));
    }
    let mut grids: Vec<Stored<Grid>> = Vec::new();
    let codes: Vec<String> = grants.grids().map(str::to_owned).collect();
    if !codes.is_empty() {
        let q = ListQuery {
            codes: Some(codes),
            ..ListQuery::all()
        };
        grids.extend(typed::list::<Grid>(store, &q).await?.items);
    }
    for zone in grants.zones() {
        let q = ListQuery {
            eq: vec![("zone_code", zone.to_owned())],
            ..ListQuery::all()
        };
        grids.extend(typed::list::<Grid>(store, &q).await?.items);
    }
    grids.sort_by_key(|g| g.id);
    grids.dedup_by_key(|g| g.id);
    let extents = grids
        .into_iter()
        .map(|g| GridExtent {
            code: g.value.code,
            zone: g.value.zone,
            town: g.value.town,
            cells: g.value.cells,
            outline: g.value.geometry.filter(|m| m.bounding_rect().is_some()),
        })
        .collect();
    Ok(Scope::resolve(grants, extents))
}
