//! GDAL as the client of the OGC API - Features service, as the district's
//! GIS staff use it: `ogrinfo OAPIF:` lists every collection, `ogr2ogr`
//! copies each into a `GeoPackage` with as many features as the API matches,
//! and a CQL2 filter and a `datetime` window read through GDAL return what
//! the store query returns. Needs `gdal-bin` (`scripts/test.sh` installs it).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use gridpatrol::auth::{Caller, Role};
use gridpatrol::domain::Project;
use gridpatrol::http::limits::Limits;
use gridpatrol::http::{AppState, serve};
use gridpatrol::service::queries;
use gridpatrol::service::scope::TrackScope;
use gridpatrol::store::tracks::TrackQuery;
use gridpatrol::store::{DynStore, ListQuery};

use super::ogc_api::demo_store;

const YUEYANG: &str = "310117001";

/// Runs a GDAL program with the bearer token; its standard output.
async fn gdal(program: &'static str, token: &str, args: Vec<String>) -> String {
    let header = format!("Authorization: Bearer {token}");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(program)
            .args(["--config", "GDAL_HTTP_HEADERS", &header])
            .args(["--config", "GDAL_HTTP_TIMEOUT", "120"])
            .args(&args)
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .output()
    })
    .await
    .expect("joined")
    .unwrap_or_else(|e| panic!("{program} runs (apt-get install gdal-bin): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `Layer name:` → `Feature Count:` of an `ogrinfo -so -al` listing.
fn counts(listing: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut layer = None;
    for line in listing.lines() {
        if let Some(name) = line.strip_prefix("Layer name: ") {
            layer = Some(name.trim().to_owned());
        }
        if let Some(n) = line.strip_prefix("Feature Count: ")
            && let Some(l) = layer.take()
        {
            out.insert(l, n.trim().parse().expect("a count"));
        }
    }
    out
}

async fn api_matched(app: &common::TestApp, token: &str, uri: &str) -> u64 {
    let a = app.get_as(token, uri).await;
    assert_eq!(a.status, axum::http::StatusCode::OK, "{uri}: {}", a.text());
    a.json()["numberMatched"].as_u64().expect("numberMatched")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one server, one GDAL session, read in order"
)]
async fn gdal_reads_every_collection() {
    let store: DynStore = demo_store().await;
    let scope = format!("town:{YUEYANG}");
    let token = common::token_for(&store, "gdal-yueyang", Role::Town, &[scope.as_str()]).await;
    let limits = Limits {
        rate_per_second: 0.0,
        ..Limits::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let addr = listener.local_addr().expect("addr");
    let state = AppState::new(store.clone()).with_limits(limits.clone());
    let server = tokio::spawn(serve(listener, state, std::future::pending()));
    let root = format!("http://{addr}/api/v1");
    let oapif = format!("OAPIF:{root}");

    // ogrinfo lists every collection
    let listing = gdal(
        "ogrinfo",
        &token,
        vec!["-ro".into(), "-q".into(), oapif.clone()],
    )
    .await;
    let ids = [
        "towns",
        "zones",
        "grids",
        "districts",
        "venues",
        "works",
        "tracks",
        "routes",
        "hazards",
        "coverage-cells",
        "blind-cells",
        "blindspot-works",
        "blindspot-districts",
    ];
    for id in ids {
        assert!(
            listing
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(id)),
            "{id} in {listing}"
        );
    }

    // ogr2ogr copies each to a GeoPackage with the API's count
    let dir = std::env::temp_dir().join(format!("gridpatrol-gdal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let gpkg = dir.join("copy.gpkg");
    let _ = std::fs::remove_file(&gpkg);
    gdal(
        "ogr2ogr",
        &token,
        vec![
            "-f".into(),
            "GPKG".into(),
            gpkg.display().to_string(),
            oapif.clone(),
            "-oo".into(),
            "PAGE_SIZE=1000".into(),
        ],
    )
    .await;
    let listing = gdal(
        "ogrinfo",
        &token,
        vec![
            "-ro".into(),
            "-so".into(),
            "-al".into(),
            gpkg.display().to_string(),
        ],
    )
    .await;
    let copied = counts(&listing);
    let app = common::TestApp::with_limits(&store, limits);
    for id in ids {
        let matched = api_matched(
            &app,
            &token,
            &format!("/api/v1/collections/{id}/items?limit=1"),
        )
        .await;
        // GDAL writes no layer for a collection without features
        assert_eq!(
            copied.get(id).copied().unwrap_or(0),
            matched,
            "{id}: {copied:?} {listing}"
        );
    }
    assert!(copied.get("works").copied().unwrap_or(0) > 0);
    assert!(copied.get("coverage-cells").copied().unwrap_or(0) > 0);

    // a CQL2 filter read by GDAL equals the store's own filter
    let mut scope_of = Caller::system("test");
    scope_of.role = Role::Town;
    scope_of.scope = std::sync::Arc::new(gridpatrol::auth::Scope::towns([YUEYANG]));
    let filed = queries::layer_page::<Project>(
        &store,
        &scope_of.scope,
        ListQuery {
            eq: vec![("status", "filed".to_owned())],
            ..ListQuery::all()
        },
    )
    .await
    .expect("store query")
    .total;
    assert!(filed > 0);
    let url = format!("{root}/collections/works/items?limit=10000&filter=status%3D%27filed%27");
    let read = counts(
        &gdal(
            "ogrinfo",
            &token,
            vec!["-ro".into(), "-so".into(), "-al".into(), url],
        )
        .await,
    );
    assert_eq!(read.values().next().copied(), Some(filed), "{read:?}");

    // a datetime window read by GDAL equals the store's track query
    let (from, to) = ("2026-10-27T00:00:00Z", "2026-10-30T00:00:00Z");
    let tracks = queries::track_page(
        &store,
        &TrackScope::of(&store, &scope_of).await.expect("scope"),
        None,
        TrackQuery {
            officer: None,
            from_ms: gridpatrol::time::parse_time_ms(from),
            to_ms: gridpatrol::time::parse_time_ms(to).map(|t| t + 1),
            bbox: None,
            limit: u32::MAX,
            offset: 0,
        },
    )
    .await
    .expect("store query")
    .total;
    assert!(tracks > 0);
    let url = format!("{root}/collections/tracks/items?limit=10000&datetime={from}/{to}");
    let read = counts(
        &gdal(
            "ogrinfo",
            &token,
            vec!["-ro".into(), "-so".into(), "-al".into(), url],
        )
        .await,
    );
    assert_eq!(read.values().next().copied(), Some(tracks), "{read:?}");

    server.abort();
    remove(&dir);
}

fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}
