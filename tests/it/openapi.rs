//! The OpenAPI document is the contract: a snapshot of the whole document
//! (every change is reviewed and blessed), and its rules — unique operation
//! ids, a schema or content for every success, `application/problem+json`
//! for every error. It is also written to `target/openapi.json` for
//! `openapi-spec-validator` (scripts/test.sh) and must equal the committed
//! `map-ui/openapi.json` that map-ui's types are generated from.

use std::collections::HashSet;

use gridpatrol::http::openapi::document;
use serde_json::Value;

fn doc() -> Value {
    serde_json::to_value(document()).expect("the document serialises")
}

/// Every operation as (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[test]
fn the_document_matches_its_snapshot() {
    let doc = doc();
    let pretty = serde_json::to_string_pretty(&doc).expect("json") + "\n";
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target");
    std::fs::create_dir_all(&target).expect("target dir");
    std::fs::write(target.join("openapi.json"), &pretty).expect("write target/openapi.json");
    insta::assert_json_snapshot!("openapi", doc);
    let committed = root.join("map-ui/openapi.json");
    if std::env::var_os("GRIDPATROL_WRITE_OPENAPI").is_some() {
        std::fs::write(&committed, &pretty).expect("write map-ui/openapi.json");
    }
    let on_disk = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        on_disk == pretty,
        "map-ui/openapi.json is not the served document: run \
         `GRIDPATROL_WRITE_OPENAPI=1 cargo test --test it openapi` then \
         `npm run gen:api` in map-ui"
    );
}

#[test]
fn operation_ids_are_unique_and_present() {
    let doc = doc();
    let mut seen = HashSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(seen.insert(id.to_owned()), "operationId {id} is used twice");
    }
    assert!(seen.len() >= 40, "{} operations", seen.len());
}

#[test]
fn every_answer_is_described() {
    let doc = doc();
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().expect("responses");
        for (status, r) in responses {
            let content = r["content"].as_object();
            if status.starts_with('2') {
                let content =
                    content.unwrap_or_else(|| panic!("{method} {path} {status} has no content"));
                for (media, c) in content {
                    let schema = &c["schema"];
                    assert!(
                        schema.is_object() && schema != &serde_json::json!({}),
                        "{method} {path} {status} {media} has no schema"
                    );
                }
            } else if status == "304" {
                // Not Modified has no body (RFC 9110 15.4.5)
                assert!(content.is_none(), "{method} {path} 304 has content");
            } else if path != "/health" {
                let content =
                    content.unwrap_or_else(|| panic!("{method} {path} {status} has no content"));
                let media: Vec<&String> = content.keys().collect();
                assert_eq!(
                    media,
                    ["application/problem+json"],
                    "{method} {path} {status}"
                );
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
        if path.starts_with("/api/") && path != "/api/v1/openapi.json" {
            for status in ["401", "429", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lacks {status}"
                );
            }
        }
    }
}

#[test]
fn geometries_say_type_and_coordinates() {
    let doc = doc();
    let geometry = &doc["components"]["schemas"]["Geometry"];
    let shapes = geometry["oneOf"].as_array().expect("oneOf");
    assert!(shapes.len() >= 6);
    for s in shapes {
        assert!(s["properties"]["type"]["enum"].is_array(), "{s}");
        assert_eq!(s["properties"]["coordinates"]["type"], "array", "{s}");
    }
}

#[tokio::test]
async fn the_served_document_is_this_one() {
    {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let store = crate::common::sqlite_store().await;
        let app = gridpatrol::http::app(gridpatrol::http::AppState::new(store));
        let res = app
            .oneshot(
                axum::http::Request::get("/api/v1/openapi.json")
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await
            .expect("answer");
        assert_eq!(res.status(), 200);
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let served: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(served, doc());
    }
}
