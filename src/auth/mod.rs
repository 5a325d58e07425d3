//! Access control, pure: roles, scopes, tokens and the caller. No I/O here;
//! the store keeps users, token hashes and the audit trail
//! ([`crate::store::access`]), the HTTP layer authenticates
//! ([`crate::http::auth`]).
//!
//! # How an endpoint stays in scope
//!
//! Every `/api/` request except `GET /api/v1/openapi.json` passes the
//! authentication middleware, which answers 401 without a valid
//! `Authorization: Bearer` token and otherwise puts a [`Caller`] in the
//! request. A handler takes it as an extractor (`caller: Caller`) and:
//!
//! **Lists and reads** filter in the query, never after paging:
//! - stored layers: `query.in_scope(Layer::Project, &caller.scope)` on the
//!   [`ListQuery`](crate::store::ListQuery), and
//!   `store::scoped::get::<T>(&store, id, &caller.scope)` for one id, which
//!   answers `None` for an id outside the scope (→ 404, as if it did not exist);
//! - other tables: [`Scope::list_query_towns`] turns the `town=` parameter
//!   into the towns to filter on (`None` = no filter, district scope only);
//!   grid scopes add [`Scope::grid_codes`] / [`Scope::zone_codes`] for rows
//!   with a grid or zone column and [`Scope::spatial_grids`] (intersects the
//!   grids' outlines) for rows with a geometry only;
//! - in-engine answers (coverage, blind spots, scorecard, routes) keep a
//!   row when [`Scope::allows_grid`], [`Scope::allows_cell`],
//!   [`Scope::allows_geometry`] / [`Scope::allows_point`] or
//!   [`Scope::touches_town`] says so; a request for an area outside the scope
//!   (`scope=town:X`, `grid_id=`) is a 404 like an unknown id. Coverage does
//!   it once for all: `GridSet::load(..).within(&caller.scope)` keeps the
//!   caller's grids, so the district means theirs and another grid is unknown;
//! - patrol tracks: [`crate::service::scope::TrackScope`] (officers see their
//!   own, others the tracks touching their towns or grids).
//!
//! **Writes** check the role, then the place, then ownership, and answer 403:
//! ```ignore
//! caller.require(Action::WriteInspection)?;                 // role
//! caller.require_in_scope(caller.scope.allows_geometry(project.town.as_deref(), &project.geometry), "the work")?;
//! caller.require_own(&inspection.inspector)?;              // officers: their own only
//! ```
//! Service functions that write take the `&Scope` and check the written
//! value after deriving what it depends on (e.g. a work's town), as
//! [`crate::service::create_project`] does. `Denied` converts to a 403
//! problem; a record outside the scope found while writing is a 404.
//!
//! **Audit**: a successful write returns an
//! [`Audited`](crate::http::audit::Audited) part with the entity, its id and
//! its value before the change (`None` for a creation); the audit layer
//! records it with who, when, method and path.
//!
//! Roles: `admin` (everything), `town` (works, inspections, hazards,
//! tracks and routes of their towns), `grid_manager` (reads their zones and
//! grids; inspections and hazards there), `officer` (their own tracks and
//! inspections in their scope), `viewer` (reads only). See [`Role::may`].
//!
//! Scope shapes ([`Scope`]): the district; whole towns; or zones and grids,
//! where works, venues and commercial districts are in scope when they
//! intersect a grid's outline (the union of its H3 cells), and towns when
//! one of the grids lies in them.

mod caller;
mod role;
mod scope;
pub mod token;

pub use caller::{Caller, Denied};
pub use role::{Action, Role, UnknownRole};
pub use scope::{Grant, Grants, GridExtent, Scope, ScopeError, ScopeView};
