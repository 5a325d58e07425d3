//! PostgreSQL goes away under a running service: every call is answered
//! 503 problem+json (never 500), and the service recovers by itself when the
//! database comes back, without a restart. Two ways of going away: the
//! database refuses connections (`ALLOW_CONNECTIONS false` and its sessions
//! terminated), and the database is gone (renamed away).

use crate::common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gridpatrol::auth::Role;
use gridpatrol::http::{AppState, serve};
use gridpatrol::store::DynStore;
use gridpatrol::store::postgis::PostgisStore;
use sqlx::{Connection, Executor, PgConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A plain HTTP/1.1 call: the status, the headers and the body.
async fn http(addr: SocketAddr, method: &str, path: &str, token: &str) -> (u16, String, String) {
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    conn.write_all(req.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), conn.read_to_end(&mut raw))
        .await
        .expect("an answer within 30 s")
        .expect("read");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    (status, head.to_lowercase(), body.to_owned())
}

fn base_url() -> String {
    std::env::var("DATABASE_URL").expect("DATABASE_URL names the PostgreSQL server")
}

/// The server's URL with another database.
fn url_of(db: &str) -> String {
    let base = base_url();
    let cut = base.rfind('/').expect("a database in DATABASE_URL");
    format!("{}/{db}", &base[..cut])
}

async fn admin() -> PgConnection {
    PgConnection::connect(&base_url())
        .await
        .expect("the server answers")
}

async fn terminate(admin: &mut PgConnection, db: &str) {
    sqlx::query(
        "select pg_terminate_backend(pid) from pg_stat_activity \
         where datname = $1 and pid <> pg_backend_pid()",
    )
    .bind(db)
    .execute(&mut *admin)
    .await
    .expect("sessions terminated");
}

/// Every probe answers 503 problem+json with Retry-After (health: 503 JSON).
async fn assert_unavailable(addr: SocketAddr, token: &str, ctx: &str) {
    for (method, path) in [
        ("GET", "/api/v1/towns"),
        ("GET", "/api/v1/projects/1"),
        ("GET", "/api/v1/me"),
        ("PATCH", "/api/v1/projects/1"),
    ] {
        let (status, head, body) = http(addr, method, path, token).await;
        assert_eq!(status, 503, "{ctx}: {method} {path}: {body}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{ctx}: {head}"
        );
        assert!(head.contains("retry-after: "), "{ctx}: {head}");
        assert!(
            !body.to_lowercase().contains("sqlx"),
            "{ctx}: no internals: {body}"
        );
    }
    let (status, _, body) = http(addr, "GET", "/health", token).await;
    assert_eq!(status, 503, "{ctx}: health: {body}");
    assert!(body.contains("unreachable"), "{body}");
}

/// The service answers 200 again within a few seconds, by itself.
async fn assert_recovers(addr: SocketAddr, token: &str, ctx: &str) {
    let mut last = (0, String::new(), String::new());
    for _ in 0..50 {
        last = http(addr, "GET", "/api/v1/towns", token).await;
        if last.0 == 200 {
            assert_eq!(http(addr, "GET", "/health", token).await.0, 200);
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{ctx}: no recovery: {} {}", last.0, last.2);
}

#[sqlx::test(migrations = false)]
async fn postgresql_going_away_is_503_and_the_service_recovers(pool: sqlx::PgPool) {
    let db: String = sqlx::query_scalar("select current_database()::text")
        .fetch_one(&pool)
        .await
        .expect("the test database");
    pool.close().await;
    // the service's own pool, as `serve` opens it
    let pg = PostgisStore::connect(&url_of(&db))
        .await
        .expect("the service connects");
    let store: DynStore = Arc::new(pg.clone());
    let token = common::token_for(&store, "admin", Role::Admin, &[]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(serve(
        listener,
        AppState::new(store.clone()),
        std::future::pending(),
    ));
    assert_eq!(http(addr, "GET", "/api/v1/towns", &token).await.0, 200);

    let mut admin = admin().await;
    let quoted = format!("\"{db}\"");

    // 1. the database refuses connections and its sessions are cut
    admin
        .execute(format!("alter database {quoted} allow_connections false").as_str())
        .await
        .expect("connections refused");
    terminate(&mut admin, &db).await;
    assert_unavailable(addr, &token, "refusing connections").await;
    admin
        .execute(format!("alter database {quoted} allow_connections true").as_str())
        .await
        .expect("connections allowed");
    assert_recovers(addr, &token, "connections allowed again").await;

    // 2. the database is gone (renamed away), then back
    // identifiers stop at 63 bytes, so the test database's name has no room for a suffix
    let away = format!(
        "\"gridpatrol_away_{}_{}\"",
        std::process::id(),
        db.len() + db.bytes().map(usize::from).sum::<usize>()
    );
    admin
        .execute(format!("alter database {quoted} allow_connections false").as_str())
        .await
        .expect("connections refused");
    terminate(&mut admin, &db).await;
    admin
        .execute(format!("alter database {quoted} rename to {away}").as_str())
        .await
        .expect("renamed away");
    admin
        .execute(format!("alter database {away} allow_connections true").as_str())
        .await
        .expect("allowed");
    assert_unavailable(addr, &token, "database gone").await;
    admin
        .execute(format!("alter database {away} rename to {quoted}").as_str())
        .await
        .expect("renamed back");
    assert_recovers(addr, &token, "database back").await;

    server.abort();
    pg.pool().close().await;
}
