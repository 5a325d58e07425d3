//! Tokens: only a valid, live token opens the API (401 problem+json
//! otherwise); the database never holds a token in plain text; the command
//! line prints a new token alone on stdout; the demo admin's token file.

use crate::common::{self, Answer, TestApp, assert_problem_in};

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gridpatrol::auth::{Caller, Role, token};
use gridpatrol::service::users;
use gridpatrol::store::postgis::PostgisStore;
use gridpatrol::store::sqlite::SqliteStore;
use gridpatrol::store::{DynStore, typed};

use sqlx::Row;

/// A `GET` with the `Authorization` header given verbatim (or none).
async fn get(store: &DynStore, uri: &str, authorization: Option<&str>) -> Answer {
    let mut req = Request::builder().uri(uri);
    if let Some(a) = authorization {
        req = req.header(header::AUTHORIZATION, a);
    }
    TestApp::new(store)
        .send(req.body(Body::empty()).expect("request"))
        .await
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

fn assert_401(a: &Answer, detail: &str, ctx: &str) {
    assert_problem_in(a, StatusCode::UNAUTHORIZED, None, ctx);
    assert_eq!(
        a.header(header::WWW_AUTHENTICATE),
        Some("Bearer realm=\"gridpatrol\""),
        "{ctx}"
    );
    assert!(
        a.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains(detail)),
        "{ctx}: {}",
        a.json()
    );
}

/// Wrong, malformed, unknown, expired and revoked tokens are refused; the
/// open paths stay open.
#[expect(
    clippy::too_many_lines,
    reason = "every way a token can fail, in one place"
)]
async fn only_live_tokens_open_the_api(store: DynStore) {
    let good = common::token_for(&store, "viewer", Role::Viewer, &["district"]).await;
    let ok = get(&store, "/api/v1/me", Some(&bearer(&good))).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json()["role"], "viewer");
    assert_eq!(ok.json()["scope"]["kind"], "district");
    // the scheme is case-insensitive (RFC 7235)
    let lower = get(&store, "/api/v1/towns", Some(&format!("bearer {good}"))).await;
    assert_eq!(lower.status, StatusCode::OK);

    assert_401(
        &get(&store, "/api/v1/towns", None).await,
        "required",
        "no token",
    );
    let p = token::parse(&good).expect("well formed");
    let (_, other) = token::generate().expect("random");
    // the same id, the last hex digit of the secret changed
    let last = if good.ends_with('0') { "1" } else { "0" };
    let wrong_secret = format!("{}{last}", &good[..good.len() - 1]);
    assert!(wrong_secret.starts_with(&format!("gp_{}_", p.id)));
    for (auth, ctx) in [
        (bearer("nonsense"), "malformed"),
        (bearer(""), "empty"),
        (format!("Basic {good}"), "another scheme"),
        (good.clone(), "no scheme"),
        (bearer(&wrong_secret), "right id, wrong secret"),
        (
            bearer(&format!("gp_{}_{}", other.id, "ab".repeat(32))),
            "unknown id",
        ),
    ] {
        assert_401(
            &get(&store, "/api/v1/towns", Some(&auth)).await,
            "not valid",
            ctx,
        );
    }
    // unknown API paths are answered 401 too, so they reveal nothing
    assert_401(
        &get(&store, "/api/v1/no-such-thing", None).await,
        "required",
        "unknown path",
    );

    // expired
    let user = store.user("viewer").await.expect("store").expect("user");
    let (expired, hash) = token::generate().expect("random");
    store
        .add_token(
            user.id,
            &hash,
            Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .await
        .expect("stored");
    assert_401(
        &get(&store, "/api/v1/towns", Some(&bearer(&expired))).await,
        "expired",
        "expired",
    );

    // revoked: every token of the user at once
    let system = Caller::system("test");
    assert_eq!(
        users::revoke_user(&store, &system, "viewer")
            .await
            .expect("revoked"),
        2,
        "both tokens, the expired one included"
    );
    assert_401(
        &get(&store, "/api/v1/towns", Some(&bearer(&good))).await,
        "revoked",
        "revoked",
    );
    // a new token works again
    let fresh = users::issue_token(&store, &system, &user, 1)
        .await
        .expect("token");
    assert_eq!(
        get(&store, "/api/v1/me", Some(&bearer(&fresh)))
            .await
            .status,
        StatusCode::OK
    );

    // health, the OpenAPI document and the map stay open
    assert_eq!(get(&store, "/health", None).await.status, StatusCode::OK);
    let doc = get(&store, "/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(
        doc.json()["components"]["securitySchemes"]["bearer"].is_object(),
        "{}",
        doc.json()["components"]
    );
    assert_ne!(
        get(&store, "/", None).await.status,
        StatusCode::UNAUTHORIZED
    );

    // the trail holds the user changes
    let admin = common::admin_token(&store).await;
    let trail = get(
        &store,
        "/api/v1/audit?entity=user&entity_id=viewer",
        Some(&bearer(&admin)),
    )
    .await;
    let paths: Vec<&str> = trail.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "user token viewer",
            "user revoke viewer",
            "user token viewer",
            "user add viewer"
        ]
    );
}

fn secrets(tokens: &[String]) -> Vec<String> {
    tokens
        .iter()
        .flat_map(|t| {
            let secret = t.rsplit('_').next().expect("secret").to_owned();
            [t.clone(), secret.clone(), secret.to_uppercase()]
        })
        .collect()
}

/// Issues tokens and uses them, so that every table a token could reach
/// (users, tokens, audit trail) has been written.
async fn use_tokens(store: &DynStore) -> Vec<String> {
    let admin = common::admin_token(store).await;
    let viewer = common::token_for(store, "v", Role::Viewer, &["district"]).await;
    for t in [&admin, &viewer] {
        assert_eq!(
            get(store, "/api/v1/me", Some(&bearer(t))).await.status,
            StatusCode::OK
        );
    }
    users::revoke_user(store, &Caller::system("test"), "v")
        .await
        .expect("revoked");
    vec![admin, viewer]
}

#[tokio::test]
async fn the_embedded_database_holds_no_plaintext_token() {
    let dir = std::env::temp_dir().join(format!("gridpatrol-tokens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("store.db");
    let sqlite = SqliteStore::open(path.to_str().expect("utf-8"))
        .await
        .expect("store");
    let store: DynStore = Arc::new(sqlite.clone());
    let tokens = use_tokens(&store).await;
    let stored: Vec<(String, Vec<u8>, Vec<u8>)> =
        sqlx::query_as("select id, salt, hash from api_token")
            .fetch_all(sqlite.pool())
            .await
            .expect("tokens");
    assert_eq!(stored.len(), 2);
    for (id, salt, hash) in &stored {
        assert_eq!((salt.len(), hash.len()), (16, 32), "{id}");
    }
    sqlite.pool().close().await;
    drop(store);
    // every byte of the database and its journal
    for entry in std::fs::read_dir(&dir).expect("dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("file");
        let text = String::from_utf8_lossy(&bytes);
        for s in secrets(&tokens) {
            assert!(
                !text.contains(&s),
                "a token's secret is stored in plain text"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[sqlx::test(migrations = false)]
async fn postgis_holds_no_plaintext_token(pool: sqlx::PgPool) {
    let pg = PostgisStore::from_pool(pool.clone()).await.expect("store");
    let store: DynStore = Arc::new(pg);
    let tokens = use_tokens(&store).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables \
         where table_schema = 'public' and table_type = 'BASE TABLE'",
    )
    .fetch_all(&pool)
    .await
    .expect("tables");
    assert!(tables.contains(&"api_token".to_owned()));
    for t in tables {
        let rows = sqlx::query(&format!("select x::text as row from {t} x"))
            .fetch_all(&pool)
            .await
            .expect("rows");
        for r in rows {
            let row: String = r.get("row");
            for s in secrets(&tokens) {
                assert!(!row.contains(&s), "table {t} holds a token in plain text");
            }
        }
    }
}

/// `user add` prints the token alone on stdout; it works until `user revoke`.
#[tokio::test]
async fn the_command_line_issues_lists_and_revokes_tokens() {
    let dir = std::env::temp_dir().join(format!("gridpatrol-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("cli.db");
    let towns = common::fixtures().join("towns.geojson");
    let out = common::gridpatrol_on(&db, &["import", "towns", towns.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = common::gridpatrol_on(
        &db,
        &[
            "user",
            "add",
            "yy-staff",
            "--role",
            "town",
            "--scope",
            "town:310117001",
            "--expires-days",
            "7",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "the token alone on stdout: {stdout:?}");
    let tok = lines[0];
    assert!(token::parse(tok).is_ok(), "{tok}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(tok),
        "the token is not logged"
    );

    // refused: an unknown town, a scope unfit for the role, a taken name
    for args in [
        &["user", "add", "x", "--role", "town", "--scope", "town:999"][..],
        &[
            "user",
            "add",
            "x",
            "--role",
            "grid_manager",
            "--scope",
            "town:310117001",
        ][..],
        &["user", "add", "x", "--role", "root", "--scope", "district"][..],
        &[
            "user", "add", "yy-staff", "--role", "viewer", "--scope", "district",
        ][..],
    ] {
        let out = common::gridpatrol_on(&db, args);
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.lines().any(|l| l.starts_with("error: ")),
            "{args:?}: {err}"
        );
    }

    let store: DynStore = Arc::new(
        SqliteStore::open(db.to_str().expect("utf-8"))
            .await
            .expect("store"),
    );
    let me = get(&store, "/api/v1/me", Some(&bearer(tok))).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["user"], "yy-staff");
    assert_eq!(me.json()["role"], "town");
    assert_eq!(
        me.json()["scope"]["towns"],
        serde_json::json!(["310117001"])
    );
    let towns = get(&store, "/api/v1/towns", Some(&bearer(tok))).await;
    assert_eq!(towns.json()["numberMatched"], 1);

    let out = common::gridpatrol_on(&db, &["user", "list"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "the list goes to stderr");
    let list = String::from_utf8_lossy(&out.stderr);
    assert!(
        list.contains("yy-staff\ttown\ttown:310117001\t1 live token(s), until "),
        "{list}"
    );

    let out = common::gridpatrol_on(&db, &["user", "revoke", "yy-staff"]);
    assert!(out.status.success());
    assert_401(
        &get(&store, "/api/v1/me", Some(&bearer(tok))).await,
        "revoked",
        "after user revoke",
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `serve --demo` keeps a live admin token in `demo-admin.token`, readable
/// by its owner only, and reuses it on the next start.
#[tokio::test]
async fn the_demo_admin_token_file() {
    let store = common::sqlite_store().await;
    typed::all::<gridpatrol::domain::Town>(&store)
        .await
        .expect("store answers");
    let dir = std::env::temp_dir().join(format!("gridpatrol-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = users::ensure_demo_admin(&store, &dir)
        .await
        .expect("demo admin");
    assert_eq!(path, dir.join(users::DEMO_TOKEN_FILE));
    let first = std::fs::read_to_string(&path).expect("token file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o077, 0, "only the owner reads the token file");
    }
    let me = get(&store, "/api/v1/me", Some(&bearer(first.trim()))).await;
    assert_eq!(me.json()["role"], "admin");
    users::ensure_demo_admin(&store, &dir).await.expect("again");
    assert_eq!(
        std::fs::read_to_string(&path).expect("token file"),
        first,
        "a live token is kept"
    );
    users::revoke_user(&store, &Caller::system("test"), users::DEMO_ADMIN)
        .await
        .expect("revoked");
    users::ensure_demo_admin(&store, &dir)
        .await
        .expect("renewed");
    let renewed = std::fs::read_to_string(&path).expect("token file");
    assert_ne!(renewed, first, "a revoked token is replaced");
    let me = get(&store, "/api/v1/me", Some(&bearer(renewed.trim()))).await;
    assert_eq!(me.status, StatusCode::OK);
    std::fs::remove_dir_all(&dir).ok();
}

store_tests!(only_live_tokens_open_the_api);
