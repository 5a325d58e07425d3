//! The collections of the OGC API - Features service and how each is read:
//! the layers through [`queries::layer_page`], tracks through
//! [`queries::track_page`], routes and hazards through their services, and
//! the analyses (`analyses.rs`) through the coverage and blind-spot
//! operations themselves. Every read takes the caller's scope there, so a
//! collection answers exactly what the matching `/api/v1/...` list answers.

use serde_json::Value;
use utoipa::PartialSchema;

use super::analyses;
use super::query::Interval;
use crate::auth::Caller;
use crate::domain::{District, Grid, Project, Stored, Town, Venue, Zone};
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::features::{ToFeature, feature};
use crate::service::queries;
use crate::service::scope::TrackScope;
use crate::spatial::Bbox;
use crate::store::layer::LayerItem;
use crate::store::routes::RouteQuery;
use crate::store::tracks::TrackQuery;
use crate::store::{InspectionQuery, ListQuery};

/// What a collection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Towns,
    Zones,
    Grids,
    Districts,
    Venues,
    Works,
    Tracks,
    Routes,
    Hazards,
    CoverageCells,
    BlindCells,
    BlindspotWorks,
    BlindspotDistricts,
}

/// One collection: its id in the URL, its titles and what it holds.
#[derive(Debug)]
pub struct Collection {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub kind: Kind,
}

/// Every collection, in the order the landing page lists them.
pub const COLLECTIONS: [Collection; 13] = [
    Collection {
        id: "towns",
        title: "镇/街道 Towns",
        description: "Towns and subdistricts with their boundaries.",
        kind: Kind::Towns,
    },
    Collection {
        id: "zones",
        title: "管理片区 Zones",
        description: "Management zones.",
        kind: Kind::Zones,
    },
    Collection {
        id: "grids",
        title: "巡查网格 Grids",
        description: "Patrol grids (compacted H3 cells) with their outline.",
        kind: Kind::Grids,
    },
    Collection {
        id: "districts",
        title: "商圈 Commercial districts",
        description: "Commercial districts.",
        kind: Kind::Districts,
    },
    Collection {
        id: "venues",
        title: "人员密集场所 Crowded venues",
        description: "Schools, hospitals, markets and other crowded venues.",
        kind: Kind::Venues,
    },
    Collection {
        id: "works",
        title: "小微工程 Small works",
        description: "Small construction works of the ledger.",
        kind: Kind::Works,
    },
    Collection {
        id: "tracks",
        title: "巡查轨迹 Patrol tracks",
        description: "Patrol tracks; datetime selects the tracks whose time span meets it.",
        kind: Kind::Tracks,
    },
    Collection {
        id: "routes",
        title: "巡查路线 Planned routes",
        description: "Saved patrol routes and street sweeps; datetime selects by the route's day (Beijing time).",
        kind: Kind::Routes,
    },
    Collection {
        id: "hazards",
        title: "隐患 Hazards",
        description: "Hazards found on inspection, at the position of their work; datetime selects by the time found.",
        kind: Kind::Hazards,
    },
    Collection {
        id: "coverage-cells",
        title: "巡查覆盖 Coverage cells",
        description: "Every H3 resolution-10 cell of the caller's scope with its patrol state over a window (datetime; default the last 28 days).",
        kind: Kind::CoverageCells,
    },
    Collection {
        id: "blind-cells",
        title: "盲区格 Blind cells",
        description: "Cells never patrolled or overdue in the window, ranked by risk, with their reasons.",
        kind: Kind::BlindCells,
    },
    Collection {
        id: "blindspot-works",
        title: "监管盲区工程 Works outside management",
        description: "Works with a management gap (above the limit, outside any grid, unfiled, uninspected, overdue hazard, no completion filing) and their reasons.",
        kind: Kind::BlindspotWorks,
    },
    Collection {
        id: "blindspot-districts",
        title: "盲区商圈 Commercial districts' blind spots",
        description: "Every commercial district with its filing and patrol measures, flagged with reasons.",
        kind: Kind::BlindspotDistricts,
    },
];

/// The collection of an id.
#[must_use]
pub fn find(id: &str) -> Option<&'static Collection> {
    COLLECTIONS.iter().find(|c| c.id == id)
}

impl Kind {
    /// Whether the store query applies `bbox` itself.
    #[must_use]
    pub fn store_bbox(self) -> bool {
        matches!(
            self,
            Self::Towns
                | Self::Zones
                | Self::Grids
                | Self::Districts
                | Self::Venues
                | Self::Works
                | Self::Tracks
        )
    }

    /// Whether the items have a time (and `datetime` selects them).
    #[must_use]
    pub fn temporal(self) -> bool {
        matches!(
            self,
            Self::Tracks
                | Self::Routes
                | Self::Hazards
                | Self::CoverageCells
                | Self::BlindCells
                | Self::BlindspotWorks
                | Self::BlindspotDistricts
        )
    }

    /// The geometry type GDAL and QGIS are told.
    #[must_use]
    pub fn geometry_type(self) -> &'static str {
        match self {
            Self::Venues => "geometry-any",
            Self::Works | Self::Hazards | Self::BlindspotWorks => "geometry-point",
            Self::Tracks => "geometry-multilinestring",
            Self::Routes => "geometry-linestring",
            Self::CoverageCells | Self::BlindCells => "geometry-polygon",
            _ => "geometry-multipolygon",
        }
    }

    /// The JSON schema of the items' properties (from the API's types).
    fn properties_schema(self) -> Value {
        use crate::http::{coverage, features, inspections, routes_answer, tracks};
        let s = match self {
            Self::Towns => features::TownProperties::schema(),
            Self::Zones => features::ZoneProperties::schema(),
            Self::Grids => features::GridProperties::schema(),
            Self::Districts => features::DistrictProperties::schema(),
            Self::Venues => features::VenueProperties::schema(),
            Self::Works => features::ProjectProperties::schema(),
            Self::Tracks => tracks::TrackProperties::schema(),
            Self::Routes => routes_answer::RouteProperties::schema(),
            Self::Hazards => inspections::HazardOut::schema(),
            Self::CoverageCells => coverage::CoverageCellProperties::schema(),
            Self::BlindCells => coverage::BlindCellProperties::schema(),
            Self::BlindspotWorks => crate::blindspots::works::WorkRow::schema(),
            Self::BlindspotDistricts => crate::blindspots::districts::DistrictRow::schema(),
        };
        serde_json::to_value(s).unwrap_or(Value::Null)
    }

    /// The properties a filter may name, with their JSON types.
    #[must_use]
    pub fn queryables(self) -> serde_json::Map<String, Value> {
        let schema = self.properties_schema();
        let mut out = serde_json::Map::new();
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (name, p) in props {
                let mut q = serde_json::Map::new();
                q.insert("title".into(), Value::from(name.as_str()));
                for k in ["type", "format", "description", "enum"] {
                    if let Some(v) = p.get(k) {
                        q.insert(k.into(), v.clone());
                    }
                }
                out.insert(name.clone(), Value::Object(q));
            }
        }
        if self == Self::Hazards {
            for extra in ["project_code", "project_name"] {
                out.insert(
                    extra.into(),
                    serde_json::json!({"title": extra, "type": "string"}),
                );
            }
        }
        out
    }

    /// The names of [`Kind::queryables`].
    #[must_use]
    pub fn queryable_names(self) -> Vec<String> {
        self.queryables().keys().cloned().collect()
    }
}

/// What the generic items code asks a collection for.
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    pub bbox: Option<Bbox>,
    pub datetime: Option<Interval>,
    /// `(limit, offset)`, or `None` for every item (the caller filters and pages).
    pub page: Option<(u32, u32)>,
}

/// The features a collection answered.
#[derive(Debug, Default)]
pub struct Got {
    pub features: Vec<Value>,
    /// The matches in all pages when the store paged; `None`: `features` is
    /// every match of the datetime (and of the bbox when the store applied it).
    pub matched: Option<u64>,
}

pub(super) fn to_feature_value<T: ToFeature>(s: &Stored<T>) -> Value {
    serde_json::to_value(feature(s)).unwrap_or(Value::Null)
}

fn paged(features: Vec<Value>, total: u64, ask: &Ask) -> Got {
    Got {
        matched: ask.page.map(|_| total),
        features,
    }
}

async fn layer<T: LayerItem + ToFeature>(
    st: &AppState,
    caller: &Caller,
    ask: &Ask,
) -> ApiResult<Got> {
    let (limit, offset) = ask.page.unwrap_or((u32::MAX, 0));
    let q = ListQuery {
        bbox: ask.bbox,
        limit,
        offset,
        ..ListQuery::default()
    };
    let page = queries::layer_page::<T>(&st.store, &caller.scope, q).await?;
    let features = page.items.iter().map(to_feature_value).collect();
    Ok(paged(features, page.total, ask))
}

async fn tracks(st: &AppState, caller: &Caller, ask: &Ask) -> ApiResult<Got> {
    let scope = TrackScope::of(&st.store, caller).await?;
    let (limit, offset) = ask.page.unwrap_or((u32::MAX, 0));
    let dt = ask.datetime.unwrap_or_default();
    let q = TrackQuery {
        officer: None,
        from_ms: dt.from_ms,
        // the store's end is exclusive, the interval's inclusive
        to_ms: dt.to_ms.map(|t| t + 1),
        bbox: ask.bbox,
        limit,
        offset,
    };
    let page = queries::track_page(&st.store, &scope, None, q).await?;
    let names = crate::service::users::display_names(&st.store).await?;
    let features = page
        .items
        .iter()
        .map(|t| {
            serde_json::to_value(crate::http::tracks::track_feature(t, false, &names))
                .unwrap_or(Value::Null)
        })
        .collect();
    Ok(paged(features, page.total, ask))
}

fn day(ms: i64) -> Option<chrono::NaiveDate> {
    chrono::DateTime::from_timestamp_millis(ms).map(crate::time::local_day)
}

async fn routes(st: &AppState, caller: &Caller, ask: &Ask) -> ApiResult<Got> {
    let (limit, offset) = ask.page.unwrap_or((u32::MAX, 0));
    let dt = ask.datetime.unwrap_or_default();
    let q = RouteQuery {
        from: dt.from_ms.and_then(day),
        to: dt.to_ms.and_then(day),
        limit,
        offset,
        ..RouteQuery::default()
    };
    let page = crate::service::routes::list(&st.store, &caller.scope, q).await?;
    let names = crate::service::users::display_names(&st.store).await?;
    let features = page
        .items
        .iter()
        .map(|r| {
            serde_json::to_value(crate::http::routes_answer::feature(r, &names))
                .unwrap_or(Value::Null)
        })
        .collect();
    Ok(paged(features, page.total, ask))
}

async fn hazards(st: &AppState, caller: &Caller, ask: &Ask) -> ApiResult<Got> {
    let dt = ask.datetime.unwrap_or_default();
    let found: Vec<_> =
        crate::service::inspections::hazards(&st.store, &caller.scope, InspectionQuery::default())
            .await?
            .into_iter()
            .filter(|h| {
                let t = h.found_at.timestamp_millis();
                dt.overlaps(t, t)
            })
            .collect();
    let features = analyses::hazard_features(st, caller, found).await?;
    Ok(Got {
        features,
        matched: None,
    })
}

/// The features of a collection for `ask`, in the caller's scope.
pub async fn fetch(st: &AppState, caller: &Caller, kind: Kind, ask: &Ask) -> ApiResult<Got> {
    match kind {
        Kind::Towns => layer::<Town>(st, caller, ask).await,
        Kind::Zones => layer::<Zone>(st, caller, ask).await,
        Kind::Grids => layer::<Grid>(st, caller, ask).await,
        Kind::Districts => layer::<District>(st, caller, ask).await,
        Kind::Venues => layer::<Venue>(st, caller, ask).await,
        Kind::Works => layer::<Project>(st, caller, ask).await,
        Kind::Tracks => tracks(st, caller, ask).await,
        Kind::Routes => routes(st, caller, ask).await,
        Kind::Hazards => hazards(st, caller, ask).await,
        Kind::CoverageCells => analyses::coverage_cells(st, caller, ask).await,
        Kind::BlindCells => analyses::blind_cells(st, caller, ask).await,
        Kind::BlindspotWorks => analyses::blindspot_works(st, caller, ask).await,
        Kind::BlindspotDistricts => analyses::blindspot_districts(st, caller, ask).await,
    }
}

async fn layer_one<T: LayerItem + ToFeature>(
    st: &AppState,
    caller: &Caller,
    id: i64,
) -> ApiResult<Option<Value>> {
    Ok(queries::layer_item::<T>(&st.store, &caller.scope, id)
        .await?
        .map(|s| to_feature_value(&s)))
}

/// One feature by its id, if the caller's scope covers it.
pub async fn one(
    st: &AppState,
    caller: &Caller,
    kind: Kind,
    fid: &str,
) -> ApiResult<Option<Value>> {
    let id = fid.parse::<i64>().ok();
    match (kind, id) {
        (Kind::Towns, Some(id)) => layer_one::<Town>(st, caller, id).await,
        (Kind::Zones, Some(id)) => layer_one::<Zone>(st, caller, id).await,
        (Kind::Grids, Some(id)) => layer_one::<Grid>(st, caller, id).await,
        (Kind::Districts, Some(id)) => layer_one::<District>(st, caller, id).await,
        (Kind::Venues, Some(id)) => layer_one::<Venue>(st, caller, id).await,
        (Kind::Works, Some(id)) => layer_one::<Project>(st, caller, id).await,
        (Kind::Tracks, Some(id)) => {
            let scope = TrackScope::of(&st.store, caller).await?;
            match queries::visible_track(&st.store, &scope, id).await {
                Ok(t) => {
                    let names = crate::service::users::display_names(&st.store).await?;
                    let f = crate::http::tracks::track_feature(&t, false, &names);
                    Ok(serde_json::to_value(f).ok())
                }
                Err(crate::service::ServiceError::NotFound(_)) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
        (Kind::Routes, Some(id)) => {
            match crate::service::routes::get(&st.store, &caller.scope, id).await {
                Ok(r) => {
                    let names = crate::service::users::display_names(&st.store).await?;
                    let f = crate::http::routes_answer::feature(&r, &names);
                    Ok(serde_json::to_value(f).ok())
                }
                Err(crate::service::ServiceError::NotFound(_)) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
        (Kind::Hazards, Some(id)) => {
            let Some(h) = crate::service::inspections::hazard(&st.store, &caller.scope, id).await?
            else {
                return Ok(None);
            };
            Ok(analyses::hazard_features(st, caller, vec![h]).await?.pop())
        }
        (
            Kind::Towns
            | Kind::Zones
            | Kind::Grids
            | Kind::Districts
            | Kind::Venues
            | Kind::Works
            | Kind::Tracks
            | Kind::Routes
            | Kind::Hazards,
            None,
        ) => Ok(None),
        // the analyses: the feature of the default window with that id
        (
            Kind::CoverageCells
            | Kind::BlindCells
            | Kind::BlindspotWorks
            | Kind::BlindspotDistricts,
            _,
        ) => {
            let ask = Ask {
                bbox: None,
                datetime: None,
                page: None,
            };
            let all = fetch(st, caller, kind, &ask).await?;
            Ok(all.features.into_iter().find(|f| match &f["id"] {
                Value::String(s) => s == fid,
                other => other.as_i64().is_some() && other.as_i64() == fid.parse::<i64>().ok(),
            }))
        }
    }
}
