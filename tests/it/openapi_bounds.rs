//! The OpenAPI document states the bounds the handlers and the domain
//! check: text lengths, money and areas, findings per inspection, page
//! sizes, resolutions, distances and days.

use serde_json::{Value, json};

fn document() -> Value {
    serde_json::to_value(gridpatrol::http::openapi::document()).expect("the document")
}

/// The schema of a component, by name.
fn component<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

#[test]
fn the_document_states_the_bounds() {
    let doc = document();
    let project = component(&doc, "ProjectInput");
    for (field, key, bound) in [
        ("code", "maxLength", json!(64)),
        ("name", "maxLength", json!(200)),
        ("address", "maxLength", json!(300)),
        ("investment_cny", "maximum", json!(10_000_000_000_i64)),
        ("investment_cny", "minimum", json!(0)),
        ("floor_area_m2", "maximum", json!(10_000_000)),
    ] {
        assert_eq!(project["properties"][field][key], bound, "{field} {key}");
    }
    let inspection = component(&doc, "InspectionIn");
    assert_eq!(inspection["properties"]["note"]["maxLength"], 2000);
    assert_eq!(inspection["properties"]["inspector"]["maxLength"], 200);
    assert_eq!(inspection["properties"]["findings"]["maxItems"], 100);
    assert_eq!(
        component(&doc, "FindingIn")["properties"]["note"]["maxLength"],
        2000
    );
    let route = component(&doc, "RouteRequest");
    assert_eq!(route["properties"]["shift_minutes"]["maximum"], 1440);
    assert_eq!(route["properties"]["officer"]["maxLength"], 64);

    // every page size, and the numbers the handlers check
    let mut limits = 0;
    for item in doc["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("item").values() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let (name, schema) = (p["name"].as_str().unwrap_or(""), &p["schema"]);
                match name {
                    // the ranked blind cells may all be asked for
                    "limit" if op["operationId"] != "listBlindCells" => {
                        assert_eq!(schema["maximum"], 10_000, "{}", op["operationId"]);
                        assert_eq!(schema["minimum"], 1, "{}", op["operationId"]);
                        limits += 1;
                    }
                    "res" => assert!(schema["maximum"].is_number(), "{}", op["operationId"]),
                    "sighting_m" => assert_eq!(schema["maximum"], 500),
                    "min_coverage" => assert_eq!(schema["maximum"], 1),
                    "inspection_days" => assert_eq!(schema["maximum"], 365),
                    "distance_m" => assert_eq!(schema["maximum"], 5_000),
                    "officer" if op["operationId"] == "uploadTrack" => {
                        assert_eq!(schema["maxLength"], 64);
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(limits >= 8, "{limits} page sizes");
}
