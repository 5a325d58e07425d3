//! The request bodies of the routes API, typed: a route or sweep to plan
//! ([`RouteRequest`]) and an assignment ([`RoutePatch`]), with their
//! checks into the service's inputs. Serde refuses unknown fields and
//! values of the wrong type (see [`super::extract::Json`]); the rest is
//! checked here, each problem naming its field.

use chrono::{NaiveDate, NaiveTime, Utc};
use h3o::CellIndex;
use serde::{Deserialize, Deserializer};

use super::error::ApiError;
use crate::routing::TravelMode;
use crate::service::routes::{self as svc, Area, DEFAULT_START_TIME, PlanInput, SweepInput};
use crate::spatial::{Crs, LonLat};

/// The default minutes at a work.
const DEFAULT_SERVICE_MINUTES: f64 = 20.0;

/// A route to plan (the request body).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteRequest {
    /// The grid to patrol (or give `zone_id`).
    grid_id: Option<i64>,
    /// A whole zone (or give `grid_id`).
    zone_id: Option<i64>,
    /// Where the shift starts, `[lon, lat]` (WGS-84 unless `crs` says otherwise).
    #[schema(required)]
    start: Option<[f64; 2]>,
    /// Where it ends; at the last stop when absent.
    end: Option<[f64; 2]>,
    /// The shift's length in minutes: travel plus time at the stops
    /// (required for a patrol; for a sweep, to say whether it fits);
    /// above 0, at most a day.
    #[schema(exclusive_minimum = 0, maximum = 1440)]
    shift_minutes: Option<f64>,
    /// `walk` (default) or `ebike`.
    mode: Option<String>,
    /// Minutes spent at each work (default 20).
    #[schema(minimum = 0, maximum = 1440)]
    service_minutes: Option<f64>,
    /// The shift's date, `YYYY-MM-DD` (default tomorrow, China Standard Time).
    #[schema(format = Date)]
    date: Option<String>,
    /// When the shift starts, `HH:MM` China Standard Time (default 09:00).
    #[schema(pattern = r"^\s*\d{1,2}:\d{2}\s*$")]
    start_time: Option<String>,
    /// The officer it is assigned to.
    #[schema(min_length = 1, max_length = 64)]
    officer: Option<String>,
    /// `patrol` (default) or `sweep` (扫街: every street of the cells, back to the start).
    mode_kind: Option<String>,
    /// Sweep only: the cells to sweep, H3 hex (default every cell of the area).
    cells: Option<Vec<String>>,
    /// `wgs84` (default), `gcj02` or `bd09`: the CRS of `start` and `end`.
    crs: Option<String>,
}

/// What a route request asks for.
pub enum Planned {
    Patrol(PlanInput),
    Sweep(SweepInput),
}

impl RouteRequest {
    /// `mode_kind`, `patrol` when absent.
    fn kind(&self) -> &str {
        self.mode_kind.as_deref().map_or("patrol", str::trim)
    }

    /// The patrol or sweep this request asks for.
    pub fn planned(self) -> Result<Planned, ApiError> {
        match self.kind() {
            "patrol" => self.plan_input().map(Planned::Patrol),
            "sweep" => self.sweep_input().map(Planned::Sweep),
            other => Err(ApiError::invalid(
                "mode_kind",
                format!("{other:?} is not patrol or sweep"),
            )),
        }
    }

    /// The sweep asked at `/routes/sweep`, where `mode_kind` may only say so.
    pub fn sweep(self) -> Result<SweepInput, ApiError> {
        if self.mode_kind.is_some() && self.kind() != "sweep" {
            return Err(ApiError::invalid(
                "mode_kind",
                "must be sweep here, or left out",
            ));
        }
        self.sweep_input()
    }

    fn area(&self) -> Result<Area, ApiError> {
        match (self.grid_id, self.zone_id) {
            (Some(g), None) => Ok(Area::Grid(g)),
            (None, Some(z)) => Ok(Area::Zone(z)),
            (Some(_), Some(_)) => Err(ApiError::invalid(
                "zone_id",
                "give grid_id or zone_id, not both",
            )),
            (None, None) => Err(ApiError::invalid(
                "grid_id",
                "is required (or zone_id for a whole zone)",
            )),
        }
    }

    fn crs(&self) -> Result<Crs, ApiError> {
        self.crs.as_deref().map_or(Ok(Crs::Wgs84), |s| {
            s.parse().map_err(|e: crate::spatial::crs::UnknownCrs| {
                ApiError::invalid("crs", e.to_string())
            })
        })
    }

    fn date(&self) -> Result<NaiveDate, ApiError> {
        match self.date.as_deref() {
            None => Ok(crate::blindspots::local_day(Utc::now()) + chrono::Days::new(1)),
            Some(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| ApiError::invalid("date", format!("{s:?} is not a date YYYY-MM-DD"))),
        }
    }

    fn start_time(&self) -> Result<NaiveTime, ApiError> {
        let s = self.start_time.as_deref().unwrap_or(DEFAULT_START_TIME);
        NaiveTime::parse_from_str(s.trim(), "%H:%M")
            .map_err(|_| ApiError::invalid("start_time", format!("{s:?} is not a time HH:MM")))
    }

    fn mode(&self) -> Result<TravelMode, ApiError> {
        Ok(svc::parse_mode(self.mode.as_deref().unwrap_or("walk"))?)
    }

    fn start(&self, crs: Crs) -> Result<LonLat, ApiError> {
        point("start", self.start, crs)?
            .ok_or_else(|| ApiError::invalid("start", "is required: [lon, lat]"))
    }

    fn plan_input(self) -> Result<PlanInput, ApiError> {
        let crs = self.crs()?;
        if self.cells.is_some() {
            return Err(ApiError::invalid(
                "cells",
                "is for sweeps (\"mode_kind\": \"sweep\")",
            ));
        }
        Ok(PlanInput {
            area: self.area()?,
            start: self.start(crs)?,
            end: point("end", self.end, crs)?,
            shift_minutes: self
                .shift_minutes
                .ok_or_else(|| ApiError::invalid("shift_minutes", "is required"))?,
            mode: self.mode()?,
            service_minutes: self.service_minutes.unwrap_or(DEFAULT_SERVICE_MINUTES),
            date: self.date()?,
            start_time: self.start_time()?,
            officer: self.officer,
        })
    }

    fn sweep_input(self) -> Result<SweepInput, ApiError> {
        let crs = self.crs()?;
        if self.end.is_some() {
            return Err(ApiError::invalid(
                "end",
                "a sweep returns to its start; leave end out",
            ));
        }
        let cells = match &self.cells {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|s| s.parse::<CellIndex>().ok())
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        ApiError::invalid("cells", "must be a list of H3 cells (hex)")
                    })?,
            ),
        };
        Ok(SweepInput {
            area: self.area()?,
            cells,
            start: self.start(crs)?,
            shift_minutes: self.shift_minutes,
            mode: self.mode()?,
            date: self.date()?,
            start_time: self.start_time()?,
            officer: self.officer,
        })
    }
}

/// A `[lon, lat]` in `crs`, checked.
fn point(field: &str, p: Option<[f64; 2]>, crs: Crs) -> Result<Option<LonLat>, ApiError> {
    p.map(|[lon, lat]| {
        LonLat::from_crs(crs, lon, lat).map_err(|e| ApiError::invalid(field, e.to_string()))
    })
    .transpose()
}

/// The change of a route (the request body).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[expect(
    clippy::option_option,
    reason = "absent (refused), null (unassign) and a name are three answers"
)]
pub struct RoutePatch {
    /// The officer to assign the route to; `null` unassigns it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, required, min_length = 1, max_length = 64)]
    officer: Option<Option<String>>,
}

/// A field that is present, `null` included (`Some(None)`).
#[expect(clippy::option_option, reason = "see RoutePatch")]
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl RoutePatch {
    /// The officer to assign (`None` unassigns).
    pub fn officer(self) -> Result<Option<String>, ApiError> {
        self.officer
            .ok_or_else(|| ApiError::invalid("officer", "is required (null unassigns)"))
    }
}
