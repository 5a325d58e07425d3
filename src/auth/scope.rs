//! Where a user may look and write: the grants given on the command line
//! (`district`, `town:CODE`, `zone:CODE`, `grid:CODE`) and the [`Scope`]
//! they resolve to once the grids are known.
//!
//! A scope is one of three shapes, never a mix, so that every list can be
//! answered by one query: the whole district; a set of whole towns
//! (filtered by town code); or a set of zones and grids (filtered by grid
//! and zone code, and spatially by the grids' outlines for the layers that
//! have no grid column: works, venues and commercial districts).

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::str::FromStr;

use geo::{Geometry, Intersects, MultiPolygon, Point};
use h3o::{CellIndex, LatLng, Resolution};
use serde::Serialize;

use super::Role;

/// Why a scope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("{0:?} is not a scope: expected district, town:CODE, zone:CODE or grid:CODE")]
    Syntax(String),
    #[error("{0}")]
    Role(String),
}

/// One grant of a scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grant {
    /// The whole district.
    District,
    /// A town (街镇) by its code, e.g. `town:310117001`.
    Town(String),
    /// A zone (片区) by its code, e.g. `zone:310117001-Z1`.
    Zone(String),
    /// A grid (网格) by its code, e.g. `grid:310117001-G01`.
    Grid(String),
}

/// Codes are at most 64 printable characters without spaces or commas, so
/// that a list of grants can be written on one line.
fn check_code(s: &str, code: &str) -> Result<String, ScopeError> {
    if code.is_empty()
        || code.chars().count() > 64
        || code
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == ',')
    {
        return Err(ScopeError::Syntax(s.to_owned()));
    }
    Ok(code.to_owned())
}

impl FromStr for Grant {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t == "district" {
            return Ok(Self::District);
        }
        let (kind, code) = t
            .split_once(':')
            .ok_or_else(|| ScopeError::Syntax(s.to_owned()))?;
        let code = check_code(s, code.trim())?;
        match kind.trim() {
            "town" => Ok(Self::Town(code)),
            "zone" => Ok(Self::Zone(code)),
            "grid" => Ok(Self::Grid(code)),
            _ => Err(ScopeError::Syntax(s.to_owned())),
        }
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::District => f.write_str("district"),
            Self::Town(c) => write!(f, "town:{c}"),
            Self::Zone(c) => write!(f, "zone:{c}"),
            Self::Grid(c) => write!(f, "grid:{c}"),
        }
    }
}

/// The checked, sorted grants of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grants(Vec<Grant>);

impl Grants {
    /// Parses grants separated by spaces or commas (the stored form).
    pub fn parse_list(s: &str) -> Result<Vec<Grant>, ScopeError> {
        s.split(|c: char| c.is_whitespace() || c == ',')
            .filter(|p| !p.is_empty())
            .map(str::parse)
            .collect()
    }

    /// Checks that grants suit a role: admins have the district (given or
    /// not); town staff have towns; grid managers have zones or grids;
    /// officers and viewers have the district, towns, or zones and grids.
    pub fn for_role(role: Role, grants: Vec<Grant>) -> Result<Self, ScopeError> {
        let mut g = grants;
        g.sort();
        g.dedup();
        let has = |f: fn(&Grant) -> bool| g.iter().any(f);
        let district = has(|x| matches!(x, Grant::District));
        let towns = has(|x| matches!(x, Grant::Town(_)));
        let grids = has(|x| matches!(x, Grant::Zone(_) | Grant::Grid(_)));
        let refuse = |m: &str| Err(ScopeError::Role(format!("{role}: {m}")));
        match role {
            Role::Admin => {
                if towns || grids {
                    return refuse("an admin's scope is the whole district");
                }
                return Ok(Self(vec![Grant::District]));
            }
            Role::Town if district || grids || !towns => {
                return refuse("town staff need town:CODE scopes only");
            }
            Role::GridManager if district || towns || !grids => {
                return refuse("grid managers need zone:CODE or grid:CODE scopes only");
            }
            _ => {}
        }
        if g.is_empty() {
            return refuse("a scope is required (district, town:CODE, zone:CODE or grid:CODE)");
        }
        if district && g.len() > 1 {
            return refuse("district covers everything; give it alone");
        }
        if towns && grids {
            return refuse("a scope is either towns, or zones and grids; not both");
        }
        Ok(Self(g))
    }

    #[must_use]
    pub fn as_slice(&self) -> &[Grant] {
        &self.0
    }

    #[must_use]
    pub fn is_district(&self) -> bool {
        self.0 == [Grant::District]
    }

    /// The granted zone codes.
    pub fn zones(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|g| match g {
            Grant::Zone(c) => Some(c.as_str()),
            _ => None,
        })
    }

    /// The granted grid codes.
    pub fn grids(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|g| match g {
            Grant::Grid(c) => Some(c.as_str()),
            _ => None,
        })
    }

    /// The granted town codes.
    pub fn towns(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|g| match g {
            Grant::Town(c) => Some(c.as_str()),
            _ => None,
        })
    }

    /// Whether resolving needs the grids (zone or grid grants).
    #[must_use]
    pub fn needs_grids(&self) -> bool {
        self.0
            .iter()
            .any(|g| matches!(g, Grant::Zone(_) | Grant::Grid(_)))
    }
}

impl fmt::Display for Grants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, g) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{g}")?;
        }
        Ok(())
    }
}

/// A grid as a scope needs it: its codes, cells and outline.
#[derive(Debug, Clone, PartialEq)]
pub struct GridExtent {
    pub code: String,
    pub zone: String,
    pub town: String,
    /// Compacted H3 cells.
    pub cells: Vec<CellIndex>,
    pub outline: Option<MultiPolygon<f64>>,
}

#[derive(Debug, Clone)]
struct GridScope {
    zones: BTreeSet<String>,
    grids: BTreeSet<String>,
    towns: BTreeSet<String>,
    cells: HashSet<CellIndex>,
    resolutions: Vec<Resolution>,
    outlines: Vec<MultiPolygon<f64>>,
}

#[derive(Debug, Clone)]
enum Kind {
    District,
    Towns(BTreeSet<String>),
    Grids(GridScope),
}

/// What a caller may see and where they may write: the district, some
/// towns, or some zones and grids. See the module docs of [`crate::auth`].
#[derive(Debug, Clone)]
pub struct Scope {
    kind: Kind,
}

/// A scope as the API shows it (`GET /api/v1/me`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScopeView {
    /// `district`, `towns` or `grids`.
    pub kind: &'static str,
    pub towns: Vec<String>,
    pub zones: Vec<String>,
    pub grids: Vec<String>,
}

fn intersect(requested: Option<Vec<String>>, allowed: &BTreeSet<String>) -> Vec<String> {
    match requested {
        None => allowed.iter().cloned().collect(),
        Some(r) => r.into_iter().filter(|t| allowed.contains(t)).collect(),
    }
}

impl Scope {
    /// The whole district.
    #[must_use]
    pub fn district() -> Self {
        Self {
            kind: Kind::District,
        }
    }

    /// Whole towns by code.
    pub fn towns<S: Into<String>>(codes: impl IntoIterator<Item = S>) -> Self {
        Self {
            kind: Kind::Towns(codes.into_iter().map(Into::into).collect()),
        }
    }

    /// Nothing at all (e.g. a grid scope whose grids are gone).
    #[must_use]
    pub fn nothing() -> Self {
        Self::towns(Vec::<String>::new())
    }

    /// Resolves grants with the grids they name: `grids` must hold at least
    /// the grids of the granted zones and the granted grids; others are
    /// ignored, and grants naming nothing cover nothing.
    #[must_use]
    pub fn resolve(grants: &Grants, grids: Vec<GridExtent>) -> Self {
        if grants.is_district() {
            return Self::district();
        }
        if !grants.needs_grids() {
            return Self::towns(grants.towns().map(str::to_owned));
        }
        let zones: BTreeSet<String> = grants.zones().map(str::to_owned).collect();
        let granted: BTreeSet<&str> = grants.grids().collect();
        let mut s = GridScope {
            zones,
            grids: BTreeSet::new(),
            towns: BTreeSet::new(),
            cells: HashSet::new(),
            resolutions: Vec::new(),
            outlines: Vec::new(),
        };
        for g in grids {
            if !(granted.contains(g.code.as_str()) || s.zones.contains(&g.zone)) {
                continue;
            }
            s.towns.insert(g.town);
            s.grids.insert(g.code);
            for c in g.cells {
                if !s.resolutions.contains(&c.resolution()) {
                    s.resolutions.push(c.resolution());
                }
                s.cells.insert(c);
            }
            if let Some(o) = g.outline {
                s.outlines.push(o);
            }
        }
        s.resolutions.sort_unstable();
        Self {
            kind: Kind::Grids(s),
        }
    }

    /// Whether the scope is the whole district.
    #[must_use]
    pub fn is_district(&self) -> bool {
        matches!(self.kind, Kind::District)
    }

    /// The `ListQuery.towns` filter for a request that asked for
    /// `requested` towns (`town=` parameter): the asked towns within the
    /// scope; `None` (no filter) only for the district scope. Grid scopes
    /// answer the towns their grids lie in, a prefilter to refine by
    /// [`Self::spatial_grids`].
    #[must_use]
    pub fn list_query_towns(&self, requested: Option<Vec<String>>) -> Option<Vec<String>> {
        match &self.kind {
            Kind::District => requested,
            Kind::Towns(t) => Some(intersect(requested, t)),
            Kind::Grids(g) => Some(intersect(requested, &g.towns)),
        }
    }

    /// Grid codes a grid list is limited to; `None` when grids are filtered
    /// by town only (district and town scopes).
    #[must_use]
    pub fn grid_codes(&self) -> Option<Vec<String>> {
        match &self.kind {
            Kind::Grids(g) => Some(g.grids.iter().cloned().collect()),
            _ => None,
        }
    }

    /// Zone codes a zone list is limited to (whole zones granted); `None`
    /// when zones are filtered by town only.
    #[must_use]
    pub fn zone_codes(&self) -> Option<Vec<String>> {
        match &self.kind {
            Kind::Grids(g) => Some(g.zones.iter().cloned().collect()),
            _ => None,
        }
    }

    /// For grid scopes, the grids whose outlines a feature without a grid
    /// column (works, venues, commercial districts) must intersect.
    #[must_use]
    pub fn spatial_grids(&self) -> Option<Vec<String>> {
        self.grid_codes()
    }

    /// Whether the scope covers a whole town.
    #[must_use]
    pub fn allows_town(&self, code: &str) -> bool {
        match &self.kind {
            Kind::District => true,
            Kind::Towns(t) => t.contains(code),
            Kind::Grids(_) => false,
        }
    }

    /// Whether the scope reaches into a town at all (a grid scope reaches
    /// the towns of its grids).
    #[must_use]
    pub fn touches_town(&self, code: &str) -> bool {
        match &self.kind {
            Kind::District => true,
            Kind::Towns(t) => t.contains(code),
            Kind::Grids(g) => g.towns.contains(code),
        }
    }

    /// Whether the scope covers a whole zone of a town.
    #[must_use]
    pub fn allows_zone(&self, code: &str, town: &str) -> bool {
        match &self.kind {
            Kind::District => true,
            Kind::Towns(t) => t.contains(town),
            Kind::Grids(g) => g.zones.contains(code),
        }
    }

    /// Whether the scope covers a grid of a zone of a town.
    #[must_use]
    pub fn allows_grid(&self, code: &str, zone: &str, town: &str) -> bool {
        match &self.kind {
            Kind::District => true,
            Kind::Towns(t) => t.contains(town),
            Kind::Grids(g) => g.grids.contains(code) || g.zones.contains(zone),
        }
    }

    /// Whether a geometry lies in the scope: for town scopes by the town it
    /// was assigned to (`town`, e.g. a work's `town_code`); for grid scopes
    /// when it intersects one of the grids' outlines (or, for a grid
    /// without an outline, when its first point lies in the grid's cells).
    #[must_use]
    pub fn allows_geometry(&self, town: Option<&str>, geometry: &Geometry<f64>) -> bool {
        match &self.kind {
            Kind::District => true,
            Kind::Towns(t) => town.is_some_and(|c| t.contains(c)),
            Kind::Grids(g) => {
                g.outlines.iter().any(|o| o.intersects(geometry))
                    || first_point(geometry).is_some_and(|p| self.point_in_cells(g, p))
            }
        }
    }

    /// Whether a WGS-84 point (lon, lat in degrees) in `town` lies in the scope.
    #[must_use]
    pub fn allows_point(&self, town: Option<&str>, lon: f64, lat: f64) -> bool {
        self.allows_geometry(town, &Geometry::Point(Point::new(lon, lat)))
    }

    /// Whether an H3 cell lies in the scope: for grid scopes when it is
    /// one of the grids' cells or inside one; for town scopes by the town of
    /// the grid holding it (`town`).
    #[must_use]
    pub fn allows_cell(&self, cell: CellIndex, town: Option<&str>) -> bool {
        match &self.kind {
            Kind::District => true,
            Kind::Towns(t) => town.is_some_and(|c| t.contains(c)),
            Kind::Grids(g) => g
                .resolutions
                .iter()
                .filter(|r| **r <= cell.resolution())
                .any(|r| cell.parent(*r).is_some_and(|p| g.cells.contains(&p))),
        }
    }

    /// The outlines of a grid scope's grids; empty for other scopes.
    #[must_use]
    pub fn grid_outlines(&self) -> &[MultiPolygon<f64>] {
        match &self.kind {
            Kind::Grids(g) => &g.outlines,
            _ => &[],
        }
    }

    /// The compacted cells of a grid scope; `None` for other scopes.
    #[must_use]
    pub fn cells(&self) -> Option<&HashSet<CellIndex>> {
        match &self.kind {
            Kind::Grids(g) => Some(&g.cells),
            _ => None,
        }
    }

    fn point_in_cells(&self, g: &GridScope, p: Point<f64>) -> bool {
        let Some(finest) = g.resolutions.last() else {
            return false;
        };
        LatLng::new(p.y(), p.x())
            .ok()
            .is_some_and(|ll| self.allows_cell(ll.to_cell(*finest), None))
    }

    /// The scope as the API shows it.
    #[must_use]
    pub fn view(&self) -> ScopeView {
        let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>();
        match &self.kind {
            Kind::District => ScopeView {
                kind: "district",
                towns: Vec::new(),
                zones: Vec::new(),
                grids: Vec::new(),
            },
            Kind::Towns(t) => ScopeView {
                kind: "towns",
                towns: list(t),
                zones: Vec::new(),
                grids: Vec::new(),
            },
            Kind::Grids(g) => ScopeView {
                kind: "grids",
                towns: list(&g.towns),
                zones: list(&g.zones),
                grids: list(&g.grids),
            },
        }
    }
}

fn first_point(g: &Geometry<f64>) -> Option<Point<f64>> {
    use geo::CoordsIter;
    g.coords_iter().next().map(Point::from)
}

#[cfg(test)]
mod tests {
    use geo::{LineString, Polygon};

    use super::*;

    fn grants(role: Role, s: &str) -> Result<Grants, ScopeError> {
        Grants::for_role(role, Grants::parse_list(s)?)
    }

    #[test]
    fn grants_parse_and_print() {
        let g = grants(
            Role::Viewer,
            "town:310117002, town:310117001 town:310117001",
        )
        .expect("valid");
        assert_eq!(g.to_string(), "town:310117001 town:310117002");
        assert_eq!("district".parse::<Grant>(), Ok(Grant::District));
        for bad in ["town:", "town", "city:1", "zone: a b", ":x", "grid:a,b"] {
            assert!(bad.parse::<Grant>().is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_get_the_shapes_they_need() {
        assert!(grants(Role::Admin, "").expect("admin").is_district());
        assert!(grants(Role::Admin, "town:1").is_err());
        assert!(grants(Role::Town, "zone:Z").is_err());
        assert!(grants(Role::Town, "").is_err());
        assert!(grants(Role::GridManager, "town:1").is_err());
        assert!(grants(Role::GridManager, "zone:Z grid:G").is_ok());
        assert!(grants(Role::Viewer, "town:1 grid:G").is_err());
        assert!(grants(Role::Viewer, "district town:1").is_err());
        assert!(grants(Role::Officer, "").is_err());
        assert!(grants(Role::Viewer, "district").is_ok());
    }

    fn square(x: f64, y: f64, d: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![Polygon::new(
            LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]),
            vec![],
        )])
    }

    #[test]
    fn grid_scopes_cover_their_grids_only() {
        let cell = LatLng::new(31.01, 121.22)
            .expect("valid")
            .to_cell(Resolution::Nine);
        let g = grants(Role::GridManager, "grid:G1 zone:Z2").expect("valid");
        let scope = Scope::resolve(
            &g,
            vec![
                GridExtent {
                    code: "G1".into(),
                    zone: "Z1".into(),
                    town: "T1".into(),
                    cells: vec![cell],
                    outline: Some(square(121.2, 31.0, 0.01)),
                },
                GridExtent {
                    code: "G5".into(),
                    zone: "Z2".into(),
                    town: "T2".into(),
                    cells: Vec::new(),
                    outline: Some(square(121.3, 31.0, 0.01)),
                },
                GridExtent {
                    code: "G9".into(),
                    zone: "Z9".into(),
                    town: "T9".into(),
                    cells: Vec::new(),
                    outline: Some(square(121.4, 31.0, 0.01)),
                },
            ],
        );
        assert_eq!(scope.grid_codes(), Some(vec!["G1".into(), "G5".into()]));
        assert_eq!(scope.zone_codes(), Some(vec!["Z2".into()]));
        assert_eq!(
            scope.list_query_towns(Some(vec!["T1".into(), "T9".into()])),
            Some(vec!["T1".into()])
        );
        assert!(scope.allows_point(None, 121.205, 31.005));
        assert!(scope.allows_point(None, 121.305, 31.005));
        assert!(!scope.allows_point(Some("T9"), 121.405, 31.005));
        assert!(!scope.allows_town("T1"));
        assert!(scope.touches_town("T1"));
        assert!(
            scope.allows_grid("G7", "Z2", "T2"),
            "zone grant covers its grids"
        );
        assert!(!scope.allows_grid("G9", "Z9", "T9"));
        for child in cell.children(Resolution::Eleven) {
            assert!(scope.allows_cell(child, None));
        }
        assert!(!scope.allows_cell(cell.parent(Resolution::Eight).expect("parent"), None));
    }

    #[test]
    fn town_scopes_go_by_town_code() {
        let s = Scope::towns(["T1"]);
        assert_eq!(s.list_query_towns(None), Some(vec!["T1".into()]));
        assert_eq!(
            s.list_query_towns(Some(vec!["T2".into()])),
            Some(Vec::new())
        );
        assert!(s.allows_point(Some("T1"), 0.0, 0.0));
        assert!(!s.allows_point(None, 0.0, 0.0));
        assert!(s.allows_zone("Z", "T1"));
        assert!(Scope::district().allows_point(None, 0.0, 0.0));
        assert_eq!(Scope::district().list_query_towns(None), None);
    }
}
