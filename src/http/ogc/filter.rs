//! OGC API - Features Part 3 filtering: a CQL2 text `filter` (`cql.rs`)
//! evaluated on each GeoJSON feature (properties by name, `geometry` for
//! `S_INTERSECTS`, in CRS84). A filter naming a property the collection
//! does not have is refused (400), so a typo is not an empty answer.

use serde_json::Value;

use super::cql::{self, Expr};
use crate::http::error::ApiError;

/// Parses a CQL2 text filter.
pub fn parse(text: &str) -> Result<Expr, ApiError> {
    cql::parse(text).map_err(|e| ApiError::bad_request("filter", format!("not CQL2 text: {e}")))
}

/// Refuses a filter on a property the collection does not have.
pub fn check(expr: &Expr, queryables: &[String]) -> Result<(), ApiError> {
    for p in expr.properties() {
        if p != "geometry" && p != "id" && !queryables.contains(&p) {
            return Err(ApiError::bad_request(
                "filter",
                format!("{p:?} is not a queryable of this collection (see its /queryables)"),
            ));
        }
    }
    Ok(())
}

/// Keeps the features the filter is true of (null and unknown are not a match).
#[must_use]
pub fn apply(expr: &Expr, mut features: Vec<Value>) -> Vec<Value> {
    features.retain(|f| expr.eval(f) == Some(true));
    features
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn feature(status: &str, lon: f64) -> Value {
        json!({"type": "Feature", "id": 1, "geometry": {"type": "Point", "coordinates": [lon, 31.0]},
               "properties": {"status": status, "investment_cny": 500_000}})
    }

    #[test]
    fn comparisons_and_s_intersects_select_features() {
        let all = vec![feature("filed", 121.2), feature("unfiled", 121.5)];
        let e = parse("status = 'filed' AND investment_cny >= 100000").expect("parses");
        assert_eq!(apply(&e, all.clone()).len(), 1);
        let e = parse("S_INTERSECTS(geometry, POLYGON((121.4 30.9, 121.6 30.9, 121.6 31.1, 121.4 31.1, 121.4 30.9)))")
            .expect("parses");
        let kept = apply(&e, all);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["properties"]["status"], "unfiled");
    }

    #[test]
    fn unknown_properties_and_bad_text_are_refused() {
        let e = parse("colour = 'red'").expect("parses");
        assert!(check(&e, &["status".to_owned()]).is_err());
        assert!(check(&e, &["colour".to_owned()]).is_ok());
        assert!(parse("status = ").is_err());
    }
}
