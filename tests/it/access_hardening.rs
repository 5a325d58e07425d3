//! The hardened service: body limits (413), the per-token rate limit (429
//! with Retry-After), timeouts (408), CORS off unless configured, an access
//! log without tokens, graceful shutdown that finishes a request in flight,
//! and one clear line when the database is unreachable at start-up.

use crate::common;

use std::time::Duration;

use crate::common::{TestApp, assert_problem};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gridpatrol::http::limits::Limits;
use gridpatrol::http::{AppState, serve};
use gridpatrol::store::DynStore;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn work(name: &str) -> String {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.2262, 31.0104]},
           "properties": {"name": name, "category": "fit_out", "funding": "social",
                          "investment_cny": 90_000, "status": "discovered"}})
    .to_string()
}

async fn towns_store() -> DynStore {
    let store = common::sqlite_store().await;
    gridpatrol::service::import_file(
        &store,
        gridpatrol::service::ImportKind::Towns,
        &common::fixtures().join("towns.geojson"),
        gridpatrol::spatial::Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect("towns");
    store
}

#[tokio::test]
async fn bodies_above_the_limit_are_refused_with_413() {
    let store = towns_store().await;
    let token = common::admin_token(&store).await;
    let st = TestApp::with_limits(
        &store,
        Limits {
            max_body_bytes: 1024,
            ..Limits::default()
        },
    );
    let post = |body: Body, length: Option<usize>| {
        let mut r = Request::builder()
            .method("POST")
            .uri("/api/v1/projects")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/geo+json");
        if let Some(n) = length {
            r = r.header(header::CONTENT_LENGTH, n);
        }
        r.body(body).expect("request")
    };
    let small = work("小店装修");
    assert!(small.len() < 1024);
    let a = st
        .send(post(Body::from(small.clone()), Some(small.len())))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());

    let big = work(&"大".repeat(600));
    assert!(big.len() > 1024);
    let a = st
        .send(post(Body::from(big.clone()), Some(big.len())))
        .await;
    assert_problem(&a, StatusCode::PAYLOAD_TOO_LARGE, None);
    assert!(
        a.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("1024"))
    );
    // the default allows 20 MiB uploads, well above axum's own 2 MB default
    assert_eq!(Limits::default().max_body_bytes, 20 * 1024 * 1024);
    let st = TestApp::new(&store);
    let mut p = serde_json::from_str::<Value>(&work("大文件")).expect("json");
    p["properties"]["address"] = json!("x".repeat(3 * 1024 * 1024));
    let body = p.to_string();
    let a = st
        .send(post(Body::from(body.clone()), Some(body.len())))
        .await;
    assert_ne!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "3 MB is accepted");
}

/// A body sent in chunks, without a length, is cut at the limit too.
#[tokio::test]
async fn a_chunked_upload_is_cut_at_the_limit() {
    let store = towns_store().await;
    let token = common::admin_token(&store).await;
    let st = AppState::new(store).with_limits(Limits {
        max_body_bytes: 1024,
        ..Limits::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(serve(listener, st, std::future::pending()));
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req: Vec<u8> = format!(
        "POST /api/v1/projects HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/geo+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    let big = work(&"大".repeat(600));
    for c in big.as_bytes().chunks(100) {
        req.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        req.extend_from_slice(c);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    // the server may answer before reading it all
    let _ = conn.write_all(&req).await;
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    server.abort();
}

#[tokio::test]
async fn each_token_has_its_own_rate_limit() {
    let store = common::sqlite_store().await;
    let a_token = common::admin_token(&store).await;
    let b_token = common::admin_token(&store).await;
    let st = TestApp::with_limits(
        &store,
        Limits {
            rate_per_second: 0.5,
            rate_burst: 3,
            ..Limits::default()
        },
    );
    for _ in 0..3 {
        assert_eq!(
            st.get_as(&a_token, "/api/v1/towns").await.status,
            StatusCode::OK
        );
    }
    let a = st.get_as(&a_token, "/api/v1/towns").await;
    assert_problem(&a, StatusCode::TOO_MANY_REQUESTS, None);
    let retry: u64 = a
        .header(header::RETRY_AFTER)
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(
        st.get_as(&b_token, "/api/v1/towns").await.status,
        StatusCode::OK,
        "another token is not slowed down"
    );
    // health is not rate limited
    for _ in 0..5 {
        assert_eq!(st.get("/health").await.status, StatusCode::OK);
    }
}

/// A client that stops sending its upload is cut off at the timeout.
#[tokio::test]
async fn slow_requests_time_out_with_a_problem() {
    let store = towns_store().await;
    let token = common::admin_token(&store).await;
    let st = AppState::new(store).with_limits(Limits {
        request_timeout: Duration::from_millis(300),
        ..Limits::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(serve(listener, st, std::future::pending()));
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    conn.write_all(
        format!(
            "POST /api/v1/projects HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/geo+json\r\nContent-Length: 500\r\n\r\n{{\"type\":"
        )
        .as_bytes(),
    )
    .await
    .expect("send");
    let mut answer = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut answer))
        .await
        .expect("answered before the client gives up")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    server.abort();
}

#[tokio::test]
async fn cors_is_off_unless_an_origin_is_configured() {
    let store = common::sqlite_store().await;
    let token = common::admin_token(&store).await;
    let with_origin = |origin: &str| {
        Request::builder()
            .uri("/api/v1/towns")
            .header(header::ORIGIN, origin)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request")
    };
    let off = TestApp::new(&store);
    let a = off.send(with_origin("http://elsewhere.example")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    let on = TestApp::with_limits(
        &store,
        Limits {
            cors_origins: vec!["http://gis.songjiang.example".parse().expect("origin")],
            ..Limits::default()
        },
    );
    let a = on.send(with_origin("http://gis.songjiang.example")).await;
    assert_eq!(
        a.header(header::ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("http://gis.songjiang.example")
    );
    let a = on.send(with_origin("http://elsewhere.example")).await;
    assert!(a.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    // a preflight needs no token
    let pre = Request::builder()
        .method("OPTIONS")
        .uri("/api/v1/projects")
        .header(header::ORIGIN, "http://gis.songjiang.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
        .body(Body::empty())
        .expect("request");
    let a = on.send(pre).await;
    assert!(a.status.is_success(), "{}", a.status);
    assert!(
        a.headers
            .get(header::ACCESS_CONTROL_ALLOW_METHODS)
            .is_some()
    );
}

/// The running binary's access log, read from its standard error: it names
/// the user, path and status of each request, never a token (taken or
/// refused) nor the query string. The binary logs through its own global
/// subscriber, as in production, so no other test's logging can hide a line.
#[test]
fn the_access_log_names_the_user_never_the_token() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("gridpatrol-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("log.db");
    let _ = std::fs::remove_file(&db);
    let url = format!("sqlite://{}", db.display());
    let bin = env!("CARGO_BIN_EXE_gridpatrol");
    let out = common::gridpatrol_on(
        &db,
        &[
            "user",
            "add",
            "officer07",
            "--role",
            "officer",
            "--scope",
            "district",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();

    let mut server = Command::new(bin)
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
        .env("RUST_LOG", "info,sqlx=warn")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut stderr = BufReader::new(server.stderr.take().expect("stderr"));
    let mut log = String::new();
    let addr = loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).expect("log line");
        assert!(n > 0, "the server stopped before listening: {log}");
        log.push_str(&line);
        if let Some(at) = line.find("open http://") {
            let rest = &line[at + "open http://".len()..];
            break rest[..rest.find('/').expect("url")].to_owned();
        }
    };
    let get = |path: &str, token: &str| -> String {
        use std::io::{Read, Write};
        let mut conn = std::net::TcpStream::connect(&addr).expect("connect");
        write!(
            conn,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut answer = String::new();
        conn.read_to_string(&mut answer).expect("answer");
        answer
    };
    let a = get("/api/v1/towns?town=310117001", &token);
    assert!(a.starts_with("HTTP/1.1 200"), "{a}");
    let a = get("/api/v1/towns", "gp_0123456789abcdef_00");
    assert!(a.starts_with("HTTP/1.1 401"), "{a}");
    // each response is logged before it is sent; stop the server and read
    // what it wrote
    server.kill().expect("stop");
    server.wait().expect("stopped");
    for line in stderr.lines() {
        log.push_str(&line.expect("log line"));
        log.push('\n');
    }
    let _ = std::fs::remove_dir_all(&dir);
    let requests: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("/api/v1/towns"))
        .collect();
    assert!(
        requests
            .iter()
            .any(|l| l.contains("officer07") && l.contains("status=200")),
        "{log}"
    );
    assert!(requests.iter().any(|l| l.contains("status=401")), "{log}");
    assert!(!log.contains(&token), "the token is never logged");
    assert!(!log.contains(&token[token.len() - 64..]));
    assert!(!log.contains("gp_0123456789abcdef"), "nor a refused one");
    assert!(!log.contains("310117001"), "nor the query string");
}

#[tokio::test]
async fn graceful_shutdown_finishes_a_request_in_flight() {
    let store = towns_store().await;
    let token = common::admin_token(&store).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, AppState::new(store.clone()), async {
        let _ = stopped.await;
    }));
    let body = work("停机时的上传");
    let (head, tail) = body.split_at(body.len() / 2);
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    conn.write_all(
        format!(
            "POST /api/v1/projects HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/geo+json\r\nContent-Length: {}\r\n\r\n{head}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .expect("send head");
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).expect("shutdown signalled");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!server.is_finished(), "the server waits for the upload");
    conn.write_all(tail.as_bytes()).await.expect("send tail");
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.expect("answer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops once the request is done")
        .expect("task")
        .expect("serve");
    // and the work was stored
    let q = gridpatrol::store::ListQuery {
        limit: 10,
        ..Default::default()
    };
    let page = store
        .list(gridpatrol::store::Layer::Project, &q)
        .await
        .expect("list");
    assert_eq!(page.total, 1);
}

#[test]
fn an_unreachable_database_at_start_up_is_one_clear_line() {
    let started = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gridpatrol"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/gridpatrol",
        ])
        .env("RUST_LOG", "off")
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with(
            "error: cannot open the database at postgres://***@127.0.0.1:1/gridpatrol: "
        ),
        "{err}"
    );
    assert!(
        lines[0].to_lowercase().contains("connection refused"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no waiting for a pool"
    );
}
