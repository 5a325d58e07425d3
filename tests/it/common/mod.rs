//! Shared test helpers: stores on both backends, small slices of the
//! Songjiang fixtures, tokens, and (in `app`) the one way to call the router.

#![allow(dead_code, reason = "each test binary uses a different subset")]

mod app;

pub use app::{Answer, TestApp, assert_problem, assert_problem_in};

use std::path::PathBuf;
use std::sync::Arc;

use gridpatrol::store::sqlite::SqliteStore;
use gridpatrol::store::{DynStore, postgis::PostgisStore};

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/songjiang")
}

pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).expect("fixture readable")
}

/// A GeoJSON FeatureCollection with the first `n` features of a fixture
/// (all when `n` is `None`), optionally filtered by a property.
pub fn fixture_slice(
    name: &str,
    n: Option<usize>,
    keep: impl Fn(&serde_json::Value) -> bool,
) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&fixture_text(name)).expect("fixture is JSON");
    let features = v["features"].as_array_mut().expect("a FeatureCollection");
    features.retain(|f| keep(&f["properties"]));
    if let Some(n) = n {
        features.truncate(n);
    }
    v.to_string()
}

pub async fn sqlite_store() -> DynStore {
    Arc::new(
        SqliteStore::open(":memory:")
            .await
            .expect("in-memory sqlite"),
    )
}

pub async fn postgis_store(pool: sqlx::PgPool) -> DynStore {
    Arc::new(
        PostgisStore::from_pool(pool)
            .await
            .expect("postgis migrations"),
    )
}

/// Generates one test per backend from an async fn taking a `DynStore`:
/// `<name>_sqlite` on an in-memory database and `<name>_postgis` on a
/// fresh PostGIS database (from `DATABASE_URL`, via `#[sqlx::test]`).
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite_backend {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::common::sqlite_store().await).await;
                }
            )+
        }
        mod postgis_backend {
            $(
                #[sqlx::test(migrations = false)]
                async fn $name(pool: sqlx::PgPool) {
                    super::$name(super::common::postgis_store(pool).await).await;
                }
            )+
        }
    };
}

/// A token of a user created on the spot (`name` must be new in `store`).
pub async fn token_for(
    store: &DynStore,
    name: &str,
    role: gridpatrol::auth::Role,
    scope: &[&str],
) -> String {
    let grants = scope.iter().map(|s| s.parse().expect("a scope")).collect();
    gridpatrol::service::users::add_user(
        store,
        &gridpatrol::auth::Caller::system("test"),
        name,
        role,
        grants,
        1,
    )
    .await
    .expect("user created")
    .1
}

/// A token of the store's admin `test-admin`, created on first use.
pub async fn admin_token(store: &DynStore) -> String {
    use gridpatrol::service::users;
    let system = gridpatrol::auth::Caller::system("test");
    match store.user("test-admin").await.expect("store answers") {
        Some(u) => users::issue_token(store, &system, &u, 1)
            .await
            .expect("token"),
        None => token_for(store, "test-admin", gridpatrol::auth::Role::Admin, &[]).await,
    }
}

/// Runs the `gridpatrol` binary with `args` on the SQLite file `db`,
/// logging warnings only; its output.
pub fn gridpatrol_on(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gridpatrol"))
        .args(args)
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

/// Writes `bytes` to a scratch file of its own, with extension `ext`. Both
/// stores' tests run at once and often write the same bytes, so the name is
/// a counter, not the content (one test removed the file the other read).
pub fn scratch(bytes: &[u8], ext: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!("gp-scratch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("{n}.{ext}"));
    std::fs::write(&path, bytes).expect("written");
    path
}

/// Runs a Python script of the test venv (`target/xlsx-venv`, where
/// scripts/test.sh installs openpyxl and python-docx) on `bytes` written to
/// a scratch file with extension `ext` (its path is `sys.argv[1]`); its
/// standard output.
pub fn python_on_file(script: &str, bytes: &[u8], ext: &str) -> Vec<u8> {
    let py = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/xlsx-venv/bin/python");
    assert!(
        py.exists(),
        "{} is missing: python3 -m venv target/xlsx-venv && target/xlsx-venv/bin/pip install openpyxl python-docx (scripts/test.sh does)",
        py.display()
    );
    let path = scratch(bytes, ext);
    let out = std::process::Command::new(py)
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python runs");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
