//! A small construction work (小微工程) and the rules of its attributes.

use chrono::NaiveDate;
use geo::{Geometry, Validation};

use super::{Category, Funding, Invalid, ProjectStatus, check_code, check_name, is_site_geometry};

/// Works at or above this investment are outside the 小微工程 scope and must
/// be registered and handed over (应报建未报建).
pub const INVESTMENT_LIMIT_CNY: i64 = 1_000_000;
/// Fit-outs at or above this floor area are outside the scope as well.
pub const FIT_OUT_AREA_LIMIT_M2: f64 = 300.0;
/// The largest plausible investment (1e10 CNY); more is a typing error.
pub const MAX_INVESTMENT_CNY: i64 = 10_000_000_000;
/// The largest plausible floor area (1e7 m²).
pub const MAX_FLOOR_AREA_M2: f64 = 1.0e7;
/// The plausible dates of a work: 2000-01-01 to 2100-12-31.
pub const DATE_RANGE: (NaiveDate, NaiveDate) = (
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date"),
    NaiveDate::from_ymd_opt(2100, 12, 31).expect("a date"),
);

/// A small construction work.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "the ledger's yes/no columns, each its own fact"
)]
pub struct Project {
    /// The ledger number (工程编号), the natural key.
    pub code: String,
    pub name: String,
    pub category: Category,
    pub funding: Funding,
    /// Investment in CNY (元).
    pub investment_cny: i64,
    /// Floor area in m², where the category has one.
    pub floor_area_m2: Option<f64>,
    pub status: ProjectStatus,
    pub started_on: Option<NaiveDate>,
    /// The completion filing date (竣工备案).
    pub completed_on: Option<NaiveDate>,
    /// Hot work (动火作业) on site.
    pub hot_work: bool,
    /// Insulation materials (保温材料) on site.
    pub insulation: bool,
    /// A steel mezzanine (钢结构夹层) was added.
    pub steel_mezzanine: bool,
    /// The work is insured.
    pub insured: bool,
    pub address: String,
    /// The town code; derived from the geometry when absent.
    pub town: Option<String>,
    /// A Point or a Polygon, WGS-84.
    pub geometry: Geometry<f64>,
}

impl Project {
    /// Checks the attribute rules; the first broken one is returned.
    pub fn validate(&self) -> Result<(), Invalid> {
        check_code("code", &self.code)?;
        check_name("name", &self.name)?;
        if self.investment_cny < 0 {
            return Err(Invalid::new("investment_cny", "must not be negative"));
        }
        if self.investment_cny > MAX_INVESTMENT_CNY {
            return Err(Invalid::new(
                "investment_cny",
                "must be at most 10000000000 (1e10 CNY)",
            ));
        }
        if let Some(a) = self.floor_area_m2
            && (!a.is_finite() || a < 0.0)
        {
            return Err(Invalid::new(
                "floor_area_m2",
                "must be a non-negative number",
            ));
        }
        if let Some(a) = self.floor_area_m2
            && a > MAX_FLOOR_AREA_M2
        {
            return Err(Invalid::new(
                "floor_area_m2",
                "must be at most 10000000 m² (1e7)",
            ));
        }
        for (field, date) in [
            ("started_on", self.started_on),
            ("completed_on", self.completed_on),
        ] {
            if let Some(d) = date
                && !(DATE_RANGE.0..=DATE_RANGE.1).contains(&d)
            {
                return Err(Invalid::new(
                    field,
                    "must lie between 2000-01-01 and 2100-12-31",
                ));
            }
        }
        if let (Some(s), Some(c)) = (self.started_on, self.completed_on)
            && c < s
        {
            return Err(Invalid::new("completed_on", "is before started_on"));
        }
        if self.address.chars().count() > 300 {
            return Err(Invalid::new("address", "must be at most 300 characters"));
        }
        super::check_text("address", &self.address)?;
        if !is_site_geometry(&self.geometry) {
            return Err(Invalid::new(
                "geometry",
                "must be a Point, Polygon or MultiPolygon",
            ));
        }
        check_polygon(&self.geometry)
    }

    /// Whether the work is above the 小微工程 limit and must be handed over.
    #[must_use]
    pub fn above_limit(&self) -> bool {
        self.investment_cny >= INVESTMENT_LIMIT_CNY
            || (self.category == Category::FitOut
                && self
                    .floor_area_m2
                    .is_some_and(|a| a >= FIT_OUT_AREA_LIMIT_M2))
    }

    /// Whether the work was under way at some time of the window (started
    /// by its last day, not completed before its first; a work without
    /// dates counts).
    #[must_use]
    pub fn active_in(&self, w: &crate::time::Window) -> bool {
        let (from, to) = (crate::time::local_day(w.from()), w.today());
        self.started_on.is_none_or(|s| s <= to) && self.completed_on.is_none_or(|c| c >= from)
    }
}

/// Refuses a polygon that is not valid (OGC rules): a self-intersecting
/// ring (a "bow-tie"), a hole outside its shell, a ring of too few points.
fn check_polygon(g: &Geometry<f64>) -> Result<(), Invalid> {
    let problem = match g {
        Geometry::Polygon(p) => p.check_validation().err().map(|e| e.to_string()),
        Geometry::MultiPolygon(m) => m.check_validation().err().map(|e| e.to_string()),
        _ => None,
    };
    match problem {
        None => Ok(()),
        Some(e) if e.contains("self-intersection") => Err(Invalid::new(
            "geometry",
            format!("is self-intersecting ({e})"),
        )),
        Some(e) => Err(Invalid::new(
            "geometry",
            format!("is not a valid polygon: {e}"),
        )),
    }
}
