//! GeoJSON layers (RFC 7946): towns, zones, grids, commercial districts,
//! venues and projects, each a `FeatureCollection` (or a single `Feature`) with
//! the properties the fixtures and README document.

use std::str::FromStr;

use chrono::NaiveDate;
use geo::{Geometry, MapCoords, MultiPolygon};
use geojson::{Feature, GeoJson};
use h3o::{CellIndex, Resolution};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use super::IngestError;
use crate::domain::{
    Category, District, Funding, Grid, Invalid, PATROL_INTERVAL_DAYS, Project, ProjectStatus, Town,
    TownKind, Venue, VenueKind, Zone, check_code, check_name, is_site_geometry,
};
use crate::spatial::{Crs, LonLat};

/// Parses GeoJSON text into its features (a `FeatureCollection` or one `Feature`).
pub fn read_features(text: &str) -> Result<Vec<Feature>, IngestError> {
    let gj: GeoJson = text.parse().map_err(|e: geojson::Error| {
        IngestError::new(None, "body", format!("malformed GeoJSON: {e}"))
    })?;
    let features = match gj {
        GeoJson::FeatureCollection(fc) => fc.features,
        GeoJson::Feature(f) => vec![f],
        GeoJson::Geometry(_) => {
            return Err(IngestError::new(
                None,
                "body",
                "expected a Feature or FeatureCollection, got a bare geometry",
            ));
        }
    };
    for (i, f) in features.iter().enumerate() {
        for (k, v) in f.properties.iter().flatten() {
            check_json_text(&format!("properties.{k}"), v)
                .map_err(|e| IngestError::at(format!("record {}", i + 1), e))?;
        }
    }
    Ok(features)
}

/// Refuses control characters (NUL, escapes; tab and newlines are text) in
/// every string and key of a property value, naming where.
fn check_json_text(field: &str, v: &Json) -> Result<(), Invalid> {
    match v {
        Json::String(s) => crate::domain::check_text(field, s),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_json_text(&format!("{field}[{i}]"), item)),
        Json::Object(map) => map.iter().try_for_each(|(k, item)| {
            let at = format!("{field}.{k}");
            crate::domain::check_text(&at, k)?;
            check_json_text(&at, item)
        }),
        _ => Ok(()),
    }
}

/// Validates every coordinate of a geometry in `crs` and converts it to WGS-84.
pub fn convert_geometry(g: &Geometry<f64>, crs: Crs) -> Result<Geometry<f64>, Invalid> {
    g.try_map_coords(|c| {
        let p =
            LonLat::from_crs(crs, c.x, c.y).map_err(|e| Invalid::new("geometry", e.to_string()))?;
        Ok(geo::Coord {
            x: p.lon(),
            y: p.lat(),
        })
    })
}

/// The properties of one feature, with typed getters that name the field.
pub struct Props<'a> {
    map: &'a Map<String, Json>,
}

static EMPTY: std::sync::LazyLock<Map<String, Json>> = std::sync::LazyLock::new(Map::new);

impl<'a> Props<'a> {
    #[must_use]
    pub fn of(f: &'a Feature) -> Self {
        Self {
            map: f.properties.as_ref().unwrap_or(&EMPTY),
        }
    }

    #[must_use]
    pub fn from_map(map: &'a Map<String, Json>) -> Self {
        Self { map }
    }

    fn get(&self, name: &str) -> Option<&'a Json> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<String>, Invalid> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
            Some(Json::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(Invalid::new(name, "must be a string")),
        }
    }

    pub fn str(&self, name: &str) -> Result<String, Invalid> {
        self.opt_str(name)?
            .ok_or_else(|| Invalid::new(name, "is required"))
    }

    pub fn str_or_default(&self, name: &str) -> Result<String, Invalid> {
        Ok(self.opt_str(name)?.unwrap_or_default())
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, Invalid> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(Json::String(s)) => parse_bool(s)
                .map(Some)
                .ok_or_else(|| Invalid::new(name, "must be true or false")),
            Some(_) => Err(Invalid::new(name, "must be true or false")),
        }
    }

    pub fn bool(&self, name: &str) -> Result<bool, Invalid> {
        Ok(self.opt_bool(name)?.unwrap_or(false))
    }

    pub fn opt_f64(&self, name: &str) -> Result<Option<f64>, Invalid> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::Number(n)) => n
                .as_f64()
                .map(Some)
                .ok_or_else(|| Invalid::new(name, "must be a number")),
            Some(Json::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Json::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Invalid::new(name, format!("{s:?} is not a number"))),
            Some(_) => Err(Invalid::new(name, "must be a number")),
        }
    }

    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, Invalid> {
        match self.opt_f64(name)? {
            None => Ok(None),
            Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 =>
            {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "checked to be a whole number in range"
                )]
                Ok(Some(x as i64))
            }
            Some(x) => Err(Invalid::new(name, format!("{x} is not a whole number"))),
        }
    }

    pub fn opt_date(&self, name: &str) -> Result<Option<NaiveDate>, Invalid> {
        self.opt_str(name)?
            .map(|s| parse_date(name, &s))
            .transpose()
    }

    pub fn parse<T: FromStr<Err = Invalid>>(&self, name: &str) -> Result<T, Invalid> {
        self.str(name)?.parse()
    }

    pub fn opt_parse<T: FromStr<Err = Invalid>>(&self, name: &str) -> Result<Option<T>, Invalid> {
        self.opt_str(name)?.map(|s| s.parse()).transpose()
    }

    #[must_use]
    pub fn raw(&self) -> &'a Map<String, Json> {
        self.map
    }
}

/// `true`/`false`, `yes`/`no`, `1`/`0`, `是`/`否`.
#[must_use]
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "是" | "有" => Some(true),
        "false" | "no" | "n" | "0" | "否" | "无" | "" => Some(false),
        _ => None,
    }
}

/// `YYYY-MM-DD` or `YYYY/MM/DD`.
pub fn parse_date(field: &str, s: &str) -> Result<NaiveDate, Invalid> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
        .map_err(|_| Invalid::new(field, format!("{s:?} is not a date (YYYY-MM-DD)")))
}

fn feature_geometry(f: &Feature, crs: Crs) -> Result<Option<Geometry<f64>>, Invalid> {
    let Some(g) = &f.geometry else {
        return Ok(None);
    };
    let g =
        Geometry::<f64>::try_from(&g.value).map_err(|e| Invalid::new("geometry", e.to_string()))?;
    convert_geometry(&g, crs).map(Some)
}

fn multi_polygon(g: Option<Geometry<f64>>) -> Result<Option<MultiPolygon<f64>>, Invalid> {
    match g {
        None => Ok(None),
        Some(Geometry::Polygon(p)) => Ok(Some(MultiPolygon::new(vec![p]))),
        Some(Geometry::MultiPolygon(m)) => Ok(Some(m)),
        Some(_) => Err(Invalid::new(
            "geometry",
            "must be a Polygon or MultiPolygon",
        )),
    }
}

fn required_area(g: Option<Geometry<f64>>) -> Result<MultiPolygon<f64>, Invalid> {
    multi_polygon(g)?.ok_or_else(|| Invalid::new("geometry", "is required"))
}

/// Reads every feature with `read`, naming the feature in errors.
fn each<T>(
    features: &[Feature],
    mut read: impl FnMut(&Feature) -> Result<T, Invalid>,
) -> Result<Vec<T>, IngestError> {
    features
        .iter()
        .enumerate()
        .map(|(i, f)| read(f).map_err(|e| IngestError::at(format!("feature {}", i + 1), e)))
        .collect()
}

pub fn towns(features: &[Feature], crs: Crs) -> Result<Vec<Town>, IngestError> {
    each(features, |f| {
        let p = Props::of(f);
        let town = Town {
            code: p.str("code")?,
            name: p.str("name")?,
            name_en: p.str_or_default("name_en")?,
            kind: p.opt_parse::<TownKind>("kind")?.unwrap_or(TownKind::Town),
            approximate: p.bool("approximate")?,
            note: p.str_or_default("note")?,
            geometry: required_area(feature_geometry(f, crs)?)?,
        };
        check_code("code", &town.code)?;
        check_name("name", &town.name)?;
        Ok(town)
    })
}

pub fn zones(features: &[Feature], crs: Crs) -> Result<Vec<Zone>, IngestError> {
    each(features, |f| {
        let p = Props::of(f);
        let zone = Zone {
            code: p.str("code")?,
            name: p.str("name")?,
            town: p.str("town")?,
            manager: p.str_or_default("manager")?,
            geometry: multi_polygon(feature_geometry(f, crs)?)?,
        };
        check_code("code", &zone.code)?;
        check_name("name", &zone.name)?;
        Ok(zone)
    })
}

/// Reads a grid from its properties: `cells` is an array of H3 cell strings
/// (any mix of resolutions up to the grid's), compacted on the way in.
pub fn grid_from_props(
    p: &Props<'_>,
    geometry: Option<MultiPolygon<f64>>,
) -> Result<Grid, Invalid> {
    let res = p.opt_i64("resolution")?.unwrap_or(10);
    let resolution = u8::try_from(res)
        .ok()
        .filter(|r| (7..=12).contains(r))
        .and_then(|r| Resolution::try_from(r).ok())
        .ok_or_else(|| {
            Invalid::new(
                "resolution",
                format!("{res} is not a resolution from 7 to 12"),
            )
        })?;
    let interval = p.opt_i64("patrol_interval_days")?.unwrap_or(14);
    let patrol_interval_days = u32::try_from(interval)
        .ok()
        .filter(|d| PATROL_INTERVAL_DAYS.contains(d))
        .ok_or_else(|| {
            Invalid::new(
                "patrol_interval_days",
                format!("{interval} is not a number of days from 1 to 90"),
            )
        })?;
    let cells = match p.raw().get("cells") {
        Some(Json::Array(a)) => a
            .iter()
            .map(|c| {
                c.as_str()
                    .and_then(|s| s.parse::<CellIndex>().ok())
                    .ok_or_else(|| Invalid::new("cells", format!("{c} is not an H3 cell index")))
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err(Invalid::new("cells", "must be an array of H3 cell indexes")),
    };
    let grid = Grid {
        code: p.str("code")?,
        name: p.str("name")?,
        zone: p.str("zone")?,
        town: p.str("town")?,
        manager: p.str_or_default("manager")?,
        patrol_interval_days,
        resolution,
        cells: Grid::compact_cells(resolution, cells)?,
        geometry,
    };
    check_code("code", &grid.code)?;
    check_name("name", &grid.name)?;
    Ok(grid)
}

pub fn grids(features: &[Feature], crs: Crs) -> Result<Vec<Grid>, IngestError> {
    each(features, |f| {
        grid_from_props(&Props::of(f), multi_polygon(feature_geometry(f, crs)?)?)
    })
}

pub fn districts(features: &[Feature], crs: Crs) -> Result<Vec<District>, IngestError> {
    each(features, |f| {
        let p = Props::of(f);
        let mut properties = p.raw().clone();
        for k in ["code", "name", "one_stop_plan"] {
            properties.remove(k);
        }
        let d = District {
            code: p.str("code")?,
            name: p.str("name")?,
            one_stop_plan: p.bool("one_stop_plan")?,
            properties,
            geometry: required_area(feature_geometry(f, crs)?)?,
        };
        check_code("code", &d.code)?;
        check_name("name", &d.name)?;
        Ok(d)
    })
}

fn site(g: Option<Geometry<f64>>) -> Result<Geometry<f64>, Invalid> {
    let g = g.ok_or_else(|| Invalid::new("geometry", "is required"))?;
    if is_site_geometry(&g) {
        Ok(g)
    } else {
        Err(Invalid::new(
            "geometry",
            "must be a Point, Polygon or MultiPolygon",
        ))
    }
}

pub fn venues(features: &[Feature], crs: Crs) -> Result<Vec<Venue>, IngestError> {
    each(features, |f| {
        let p = Props::of(f);
        let v = Venue {
            code: p.str("code")?,
            name: p.str("name")?,
            kind: p.parse::<VenueKind>("kind")?,
            proxy: p.bool("proxy")?,
            source: p.str_or_default("source")?,
            geometry: site(feature_geometry(f, crs)?)?,
        };
        check_code("code", &v.code)?;
        check_name("name", &v.name)?;
        Ok(v)
    })
}

/// A code for a work that has no ledger number yet (e.g. found on patrol):
/// stable for the same name and position, so a repeated import matches it.
#[must_use]
pub fn derived_project_code(name: &str, geometry: &Geometry<f64>) -> String {
    let mut h = Sha256::new();
    h.update(name.trim().as_bytes());
    h.update(crate::spatial::geometry_to_geojson(geometry).as_bytes());
    h.finalize()
        .iter()
        .take(6)
        .fold(String::from("P-"), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Reads a project from a feature's properties and its geometry (already
/// converted to WGS-84). The town is left as given; see `service`.
pub fn project_from_props(
    p: &Props<'_>,
    geometry: Option<Geometry<f64>>,
) -> Result<Project, Invalid> {
    let geometry = site(geometry)?;
    let name = p.str("name")?;
    let code = match p.opt_str("code")? {
        Some(c) => c,
        None => derived_project_code(&name, &geometry),
    };
    let project = Project {
        code,
        name,
        category: p.parse::<Category>("category")?,
        funding: p.parse::<Funding>("funding")?,
        investment_cny: p.opt_i64("investment_cny")?.unwrap_or(0),
        floor_area_m2: p.opt_f64("floor_area_m2")?,
        status: p
            .opt_parse::<ProjectStatus>("status")?
            .unwrap_or(ProjectStatus::Discovered),
        started_on: p.opt_date("started_on")?,
        completed_on: p.opt_date("completed_on")?,
        hot_work: p.bool("hot_work")?,
        insulation: p.bool("insulation")?,
        steel_mezzanine: p.bool("steel_mezzanine")?,
        insured: p.bool("insured")?,
        address: p.str_or_default("address")?,
        town: p.opt_str("town")?,
        geometry,
    };
    project.validate()?;
    Ok(project)
}

pub fn project_from_feature(f: &Feature, crs: Crs) -> Result<Project, Invalid> {
    project_from_props(&Props::of(f), feature_geometry(f, crs)?)
}

pub fn projects(features: &[Feature], crs: Crs) -> Result<Vec<Project>, IngestError> {
    each(features, |f| project_from_feature(f, crs))
}
