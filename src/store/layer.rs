//! The layers of the store: each table's columns, described once, and the
//! conversion of each domain type to and from a generic [`Record`].

use std::str::FromStr;

use geo::{Geometry, MultiPolygon};
use h3o::{CellIndex, Resolution};
use sha2::{Digest, Sha256};

use super::{Record, StoreError, Value};
use crate::domain::{District, Grid, Project, Stored, Town, Venue, Zone};

/// The type of a column, which decides how each backend binds and reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Text,
    OptText,
    Int,
    OptReal,
    Bool,
    Date,
    Json,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColType,
}

const fn col(name: &'static str, ty: ColType) -> Column {
    Column { name, ty }
}

/// What geometry a layer has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomKind {
    /// Always a MultiPolygon.
    MultiPolygon,
    /// A MultiPolygon or nothing.
    OptMultiPolygon,
    /// A Point, Polygon or MultiPolygon.
    Site,
}

/// The stored layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    Town,
    Zone,
    Grid,
    District,
    Venue,
    Project,
}

use ColType::{Bool, Date, Int, Json, OptReal, OptText, Text};

const TOWN: &[Column] = &[
    col("code", Text),
    col("name", Text),
    col("name_en", Text),
    col("kind", Text),
    col("approximate", Bool),
    col("note", Text),
];
const ZONE: &[Column] = &[
    col("code", Text),
    col("name", Text),
    col("town_code", Text),
    col("manager", Text),
];
const GRID: &[Column] = &[
    col("code", Text),
    col("name", Text),
    col("zone_code", Text),
    col("town_code", Text),
    col("manager", Text),
    col("patrol_interval_days", Int),
    col("resolution", Int),
    col("cells_hash", Text),
];
const DISTRICT: &[Column] = &[
    col("code", Text),
    col("name", Text),
    col("one_stop_plan", Bool),
    col("properties", Json),
];
const VENUE: &[Column] = &[
    col("code", Text),
    col("name", Text),
    col("kind", Text),
    col("proxy", Bool),
    col("source", Text),
];
const PROJECT: &[Column] = &[
    col("code", Text),
    col("name", Text),
    col("category", Text),
    col("funding", Text),
    col("investment_cny", Int),
    col("floor_area_m2", OptReal),
    col("status", Text),
    col("started_on", Date),
    col("completed_on", Date),
    col("hot_work", Bool),
    col("insulation", Bool),
    col("steel_mezzanine", Bool),
    col("insured", Bool),
    col("address", Text),
    col("town_code", OptText),
];

impl Layer {
    pub const ALL: [Self; 6] = [
        Self::Town,
        Self::Zone,
        Self::Grid,
        Self::District,
        Self::Venue,
        Self::Project,
    ];

    #[must_use]
    pub fn table(self) -> &'static str {
        match self {
            Self::Town => "town",
            Self::Zone => "zone",
            Self::Grid => "grid",
            Self::District => "district",
            Self::Venue => "venue",
            Self::Project => "project",
        }
    }

    /// The columns, natural key (`code`) first.
    #[must_use]
    pub fn columns(self) -> &'static [Column] {
        match self {
            Self::Town => TOWN,
            Self::Zone => ZONE,
            Self::Grid => GRID,
            Self::District => DISTRICT,
            Self::Venue => VENUE,
            Self::Project => PROJECT,
        }
    }

    #[must_use]
    pub fn geom_kind(self) -> GeomKind {
        match self {
            Self::Town | Self::District => GeomKind::MultiPolygon,
            Self::Zone | Self::Grid => GeomKind::OptMultiPolygon,
            Self::Venue | Self::Project => GeomKind::Site,
        }
    }

    /// The column holding the town code, if the layer has one; layers
    /// without are filtered by town spatially.
    #[must_use]
    pub fn town_column(self) -> Option<&'static str> {
        match self {
            Self::Town => Some("code"),
            Self::Zone | Self::Grid | Self::Project => Some("town_code"),
            Self::District | Self::Venue => None,
        }
    }

    /// Whether the layer has an H3 cell set (grids).
    #[must_use]
    pub fn has_cells(self) -> bool {
        self == Self::Grid
    }

    /// Whether the layer keeps `updated_at` (rows users edit).
    #[must_use]
    pub fn has_updated_at(self) -> bool {
        self == Self::Project
    }

    /// Whether `name` is one of the layer's columns, for `eq` filters.
    #[must_use]
    pub fn has_column(self, name: &str) -> bool {
        self.columns().iter().any(|c| c.name == name)
    }
}

/// A domain type stored in a layer.
pub trait LayerItem: Sized {
    const LAYER: Layer;
    fn to_record(&self, id: i64) -> Record;
    fn from_record(r: Record) -> Result<Stored<Self>, StoreError>;
}

/// Reads the values of a record in column order.
struct Reader {
    layer: Layer,
    values: std::vec::IntoIter<Value>,
}

impl Reader {
    fn new(layer: Layer, values: Vec<Value>) -> Self {
        Self {
            layer,
            values: values.into_iter(),
        }
    }

    fn corrupt(&self, what: &str) -> StoreError {
        StoreError::Corrupt(format!("{}: {what}", self.layer.table()))
    }

    fn next(&mut self) -> Result<Value, StoreError> {
        self.values
            .next()
            .ok_or_else(|| self.corrupt("missing column"))
    }

    fn text(&mut self) -> Result<String, StoreError> {
        match self.next()? {
            Value::Text(s) => Ok(s),
            _ => Err(self.corrupt("expected text")),
        }
    }

    fn opt_text(&mut self) -> Result<Option<String>, StoreError> {
        match self.next()? {
            Value::OptText(s) => Ok(s),
            _ => Err(self.corrupt("expected optional text")),
        }
    }

    fn int(&mut self) -> Result<i64, StoreError> {
        match self.next()? {
            Value::Int(i) => Ok(i),
            _ => Err(self.corrupt("expected integer")),
        }
    }

    fn opt_real(&mut self) -> Result<Option<f64>, StoreError> {
        match self.next()? {
            Value::OptReal(r) => Ok(r),
            _ => Err(self.corrupt("expected real")),
        }
    }

    fn bool(&mut self) -> Result<bool, StoreError> {
        match self.next()? {
            Value::Bool(b) => Ok(b),
            _ => Err(self.corrupt("expected boolean")),
        }
    }

    fn date(&mut self) -> Result<Option<chrono::NaiveDate>, StoreError> {
        match self.next()? {
            Value::Date(d) => Ok(d),
            _ => Err(self.corrupt("expected date")),
        }
    }

    fn json(&mut self) -> Result<serde_json::Value, StoreError> {
        match self.next()? {
            Value::Json(j) => Ok(j),
            _ => Err(self.corrupt("expected json")),
        }
    }

    fn parse<T: FromStr>(&mut self) -> Result<T, StoreError> {
        let s = self.text()?;
        s.parse()
            .map_err(|_| self.corrupt(&format!("unexpected value {s:?}")))
    }
}

fn multi_polygon(
    layer: Layer,
    g: Option<Geometry<f64>>,
) -> Result<Option<MultiPolygon<f64>>, StoreError> {
    match g {
        None => Ok(None),
        Some(Geometry::MultiPolygon(m)) => Ok(Some(m)),
        Some(Geometry::Polygon(p)) => Ok(Some(MultiPolygon::new(vec![p]))),
        Some(_) => Err(StoreError::Corrupt(format!(
            "{}: geometry is not a multipolygon",
            layer.table()
        ))),
    }
}

fn required<T>(layer: Layer, v: Option<T>) -> Result<T, StoreError> {
    v.ok_or_else(|| StoreError::Corrupt(format!("{}: missing geometry", layer.table())))
}

/// The sha-256 of a compacted cell list, hex.
#[must_use]
pub fn cells_hash(cells: &[CellIndex]) -> String {
    let mut h = Sha256::new();
    for c in cells {
        h.update(u64::from(*c).to_le_bytes());
    }
    h.finalize()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl LayerItem for Town {
    const LAYER: Layer = Layer::Town;

    fn to_record(&self, id: i64) -> Record {
        Record {
            id,
            values: vec![
                Value::Text(self.code.clone()),
                Value::Text(self.name.clone()),
                Value::Text(self.name_en.clone()),
                Value::Text(self.kind.as_str().to_owned()),
                Value::Bool(self.approximate),
                Value::Text(self.note.clone()),
            ],
            geometry: Some(Geometry::MultiPolygon(self.geometry.clone())),
            cells: Vec::new(),
        }
    }

    fn from_record(r: Record) -> Result<Stored<Self>, StoreError> {
        let mut v = Reader::new(Self::LAYER, r.values);
        Ok(Stored {
            id: r.id,
            value: Self {
                code: v.text()?,
                name: v.text()?,
                name_en: v.text()?,
                kind: v.parse()?,
                approximate: v.bool()?,
                note: v.text()?,
                geometry: required(Self::LAYER, multi_polygon(Self::LAYER, r.geometry)?)?,
            },
        })
    }
}

impl LayerItem for Zone {
    const LAYER: Layer = Layer::Zone;

    fn to_record(&self, id: i64) -> Record {
        Record {
            id,
            values: vec![
                Value::Text(self.code.clone()),
                Value::Text(self.name.clone()),
                Value::Text(self.town.clone()),
                Value::Text(self.manager.clone()),
            ],
            geometry: self.geometry.clone().map(Geometry::MultiPolygon),
            cells: Vec::new(),
        }
    }

    fn from_record(r: Record) -> Result<Stored<Self>, StoreError> {
        let mut v = Reader::new(Self::LAYER, r.values);
        Ok(Stored {
            id: r.id,
            value: Self {
                code: v.text()?,
                name: v.text()?,
                town: v.text()?,
                manager: v.text()?,
                geometry: multi_polygon(Self::LAYER, r.geometry)?,
            },
        })
    }
}

impl LayerItem for Grid {
    const LAYER: Layer = Layer::Grid;

    fn to_record(&self, id: i64) -> Record {
        Record {
            id,
            values: vec![
                Value::Text(self.code.clone()),
                Value::Text(self.name.clone()),
                Value::Text(self.zone.clone()),
                Value::Text(self.town.clone()),
                Value::Text(self.manager.clone()),
                Value::Int(i64::from(self.patrol_interval_days)),
                Value::Int(i64::from(u8::from(self.resolution))),
                Value::Text(cells_hash(&self.cells)),
            ],
            geometry: self.geometry.clone().map(Geometry::MultiPolygon),
            cells: self.cells.iter().map(|c| u64::from(*c)).collect(),
        }
    }

    fn from_record(r: Record) -> Result<Stored<Self>, StoreError> {
        let layer = Self::LAYER;
        let mut v = Reader::new(layer, r.values);
        let code = v.text()?;
        let name = v.text()?;
        let zone = v.text()?;
        let town = v.text()?;
        let manager = v.text()?;
        let interval = v.int()?;
        let res = v.int()?;
        let corrupt = |what: &str| StoreError::Corrupt(format!("grid {code}: {what}"));
        let patrol_interval_days = u32::try_from(interval).map_err(|_| corrupt("bad interval"))?;
        let resolution = u8::try_from(res)
            .ok()
            .and_then(|r| Resolution::try_from(r).ok())
            .ok_or_else(|| corrupt("bad resolution"))?;
        let mut cells = r
            .cells
            .iter()
            .map(|c| CellIndex::try_from(*c).map_err(|_| corrupt("bad cell")))
            .collect::<Result<Vec<_>, _>>()?;
        cells.sort_unstable();
        Ok(Stored {
            id: r.id,
            value: Self {
                code,
                name,
                zone,
                town,
                manager,
                patrol_interval_days,
                resolution,
                cells,
                geometry: multi_polygon(layer, r.geometry)?,
            },
        })
    }
}

impl LayerItem for District {
    const LAYER: Layer = Layer::District;

    fn to_record(&self, id: i64) -> Record {
        Record {
            id,
            values: vec![
                Value::Text(self.code.clone()),
                Value::Text(self.name.clone()),
                Value::Bool(self.one_stop_plan),
                Value::Json(serde_json::Value::Object(self.properties.clone())),
            ],
            geometry: Some(Geometry::MultiPolygon(self.geometry.clone())),
            cells: Vec::new(),
        }
    }

    fn from_record(r: Record) -> Result<Stored<Self>, StoreError> {
        let mut v = Reader::new(Self::LAYER, r.values);
        let code = v.text()?;
        let name = v.text()?;
        let one_stop_plan = v.bool()?;
        let properties = match v.json()? {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        Ok(Stored {
            id: r.id,
            value: Self {
                code,
                name,
                one_stop_plan,
                properties,
                geometry: required(Self::LAYER, multi_polygon(Self::LAYER, r.geometry)?)?,
            },
        })
    }
}

impl LayerItem for Venue {
    const LAYER: Layer = Layer::Venue;

    fn to_record(&self, id: i64) -> Record {
        Record {
            id,
            values: vec![
                Value::Text(self.code.clone()),
                Value::Text(self.name.clone()),
                Value::Text(self.kind.as_str().to_owned()),
                Value::Bool(self.proxy),
                Value::Text(self.source.clone()),
            ],
            geometry: Some(self.geometry.clone()),
            cells: Vec::new(),
        }
    }

    fn from_record(r: Record) -> Result<Stored<Self>, StoreError> {
        let mut v = Reader::new(Self::LAYER, r.values);
        Ok(Stored {
            id: r.id,
            value: Self {
                code: v.text()?,
                name: v.text()?,
                kind: v.parse()?,
                proxy: v.bool()?,
                source: v.text()?,
                geometry: required(Self::LAYER, r.geometry)?,
            },
        })
    }
}

impl LayerItem for Project {
    const LAYER: Layer = Layer::Project;

    fn to_record(&self, id: i64) -> Record {
        Record {
            id,
            values: vec![
                Value::Text(self.code.clone()),
                Value::Text(self.name.clone()),
                Value::Text(self.category.as_str().to_owned()),
                Value::Text(self.funding.as_str().to_owned()),
                Value::Int(self.investment_cny),
                Value::OptReal(self.floor_area_m2),
                Value::Text(self.status.as_str().to_owned()),
                Value::Date(self.started_on),
                Value::Date(self.completed_on),
                Value::Bool(self.hot_work),
                Value::Bool(self.insulation),
                Value::Bool(self.steel_mezzanine),
                Value::Bool(self.insured),
                Value::Text(self.address.clone()),
                Value::OptText(self.town.clone()),
            ],
            geometry: Some(self.geometry.clone()),
            cells: Vec::new(),
        }
    }

    fn from_record(r: Record) -> Result<Stored<Self>, StoreError> {
        let mut v = Reader::new(Self::LAYER, r.values);
        Ok(Stored {
            id: r.id,
            value: Self {
                code: v.text()?,
                name: v.text()?,
                category: v.parse()?,
                funding: v.parse()?,
                investment_cny: v.int()?,
                floor_area_m2: v.opt_real()?,
                status: v.parse()?,
                started_on: v.date()?,
                completed_on: v.date()?,
                hot_work: v.bool()?,
                insulation: v.bool()?,
                steel_mezzanine: v.bool()?,
                insured: v.bool()?,
                address: v.text()?,
                town: v.opt_text()?,
                geometry: required(Self::LAYER, r.geometry)?,
            },
        })
    }
}
