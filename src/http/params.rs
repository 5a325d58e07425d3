//! Query parameters, validated into typed values; a bad one is a 422 naming
//! the parameter. Each operation declares its parameters once, with
//! [`query_params!`](crate::query_params): a struct that documents them in
//! the OpenAPI document (`IntoParams`), refuses unknown ones and is what the
//! handler reads (through [`Params`]), so the two cannot drift.

use std::collections::HashMap;
use std::str::FromStr;

use super::error::ApiError;
use crate::spatial::{Bbox, Crs};
use crate::store::ListQuery;

/// The raw query string as name → value.
pub type RawQuery = HashMap<String, String>;

/// Query parameters by name: a [`RawQuery`] or an operation's declared
/// parameters.
pub trait Params {
    fn get(&self, name: &str) -> Option<&String>;
}

impl Params for RawQuery {
    fn get(&self, name: &str) -> Option<&String> {
        HashMap::get(self, name)
    }
}

/// Declares an operation's query parameters: each is text, read and
/// checked by the functions of this module (so a bad value is a 422 naming
/// it), documented with the type it must parse as. Unknown ones are refused.
#[macro_export]
macro_rules! query_params {
    ($(#[$m:meta])* pub struct $name:ident { $( $(#[$fm:meta])* $field:ident : $ty:ty ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            $( $(#[$fm])* #[param(value_type = Option<$ty>)] pub $field: Option<String>, )*
        }

        impl $crate::http::params::Params for $name {
            fn get(&self, name: &str) -> Option<&String> {
                match name {
                    $( stringify!($field) => self.$field.as_ref(), )*
                    _ => None,
                }
            }
        }
    };
}

/// The default and largest page sizes.
pub const DEFAULT_LIMIT: u32 = 1000;
pub const MAX_LIMIT: u32 = 10_000;

/// Reads an optional parameter with `FromStr`.
pub fn opt<T: FromStr>(q: &impl Params, name: &str, what: &str) -> Result<Option<T>, ApiError> {
    match q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(name, format!("{s:?} is not {what}"))),
    }
}

/// The `crs` parameter, WGS-84 by default.
pub fn crs(q: &impl Params) -> Result<Crs, ApiError> {
    match q.get("crs") {
        None => Ok(Crs::Wgs84),
        Some(s) => s
            .parse()
            .map_err(|e: crate::spatial::crs::UnknownCrs| ApiError::invalid("crs", e.to_string())),
    }
}

/// `bbox`, `town`, `limit`, `offset` and the layer's equality filters.
pub fn list_query(q: &impl Params, filters: &[&'static str]) -> Result<ListQuery, ApiError> {
    let bbox = match q.get("bbox") {
        None => None,
        Some(s) => Some(s.parse::<Bbox>().map_err(|e| {
            ApiError::invalid(
                "bbox",
                format!("{e} (minLon,minLat,maxLon,maxLat in WGS-84 degrees)"),
            )
        })?),
    };
    let limit = opt::<u32>(q, "limit", "a whole number")?.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::invalid(
            "limit",
            format!("must be from 1 to {MAX_LIMIT}"),
        ));
    }
    let offset = opt::<u32>(q, "offset", "a whole number")?.unwrap_or(0);
    let towns = q.get("town").map(|t| {
        t.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
    });
    let mut eq = Vec::new();
    for f in filters {
        if let Some(v) = q.get(f) {
            eq.push((*f, v.trim().to_owned()));
        }
    }
    Ok(ListQuery {
        bbox,
        towns,
        eq,
        limit,
        offset,
        ..ListQuery::default()
    })
}

pub use crate::time::parse_time_ms;

/// An optional time parameter (RFC 3339 or `YYYY-MM-DD`).
pub fn time_ms(q: &impl Params, name: &str) -> Result<Option<i64>, ApiError> {
    match q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_time_ms(s).map(Some).ok_or_else(|| {
            ApiError::invalid(
                name,
                format!("{s:?} is not a time (RFC 3339) or a date (YYYY-MM-DD)"),
            )
        }),
    }
}

/// A time window `[from, to)`: `to` defaults to now, `from` to `default_days` before `to`.
pub fn window_ms(q: &impl Params, default_days: i64) -> Result<(i64, i64), ApiError> {
    window_ms_at(q, default_days, chrono::Utc::now().timestamp_millis())
}

/// [`window_ms`] with "now" given (the read path's clock minute).
pub fn window_ms_at(
    q: &impl Params,
    default_days: i64,
    now_ms: i64,
) -> Result<(i64, i64), ApiError> {
    let to = time_ms(q, "to")?.unwrap_or(now_ms);
    let from = time_ms(q, "from")?.unwrap_or(to - default_days * 86_400_000);
    if from >= to {
        return Err(ApiError::invalid("from", "must be before to"));
    }
    Ok((from, to))
}

/// An optional boolean parameter.
pub fn flag(q: &impl Params, name: &str) -> Result<bool, ApiError> {
    match q.get(name).map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(s) if s.is_empty() || s == "true" || s == "1" || s == "yes" => Ok(true),
        Some(s) if s == "false" || s == "0" || s == "no" => Ok(false),
        Some(s) => Err(ApiError::invalid(
            name,
            format!("{s:?} is not true or false"),
        )),
    }
}
