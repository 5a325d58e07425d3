//! Several instances on one database: the rate limit is shared through
//! Redis (the machine's own, on 127.0.0.1:6379), so two instances behind a
//! balancer allow a token its budget once, not once each.

use crate::common::{self, TestApp};

use axum::http::StatusCode;
use gridpatrol::http::AppState;
use gridpatrol::http::limits::Limits;
use gridpatrol::http::shared_rate::SharedRate;

const REDIS: &str = "redis://127.0.0.1:6379";

fn limits() -> Limits {
    Limits {
        rate_per_second: 0.2,
        rate_burst: 6,
        ..Limits::default()
    }
}

/// Requests that passed out of `n`, sent in turn to each instance.
async fn passed(instances: &[TestApp], token: &str, n: usize) -> usize {
    let mut ok = 0;
    for i in 0..n {
        let a = instances[i % instances.len()]
            .get_as(token, "/api/v1/towns")
            .await;
        match a.status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(a.header("retry-after").is_some(), "{a}");
            }
            _ => panic!("{a}"),
        }
    }
    ok
}

#[tokio::test]
async fn two_instances_share_one_rate_limit_through_redis() {
    let store = common::sqlite_store().await;
    let token = common::admin_token(&store).await;
    let mut shared = Vec::new();
    for _ in 0..2 {
        let rate = SharedRate::connect(REDIS, limits().rate_per_second, limits().rate_burst)
            .await
            .expect("Redis on 127.0.0.1:6379");
        shared.push(TestApp::from_state(
            AppState::new(store.clone()).with_shared_rate(limits(), rate),
        ));
    }
    // the burst of 6, once for both (a refill of 0.2/s may add one)
    let n = passed(&shared, &token, 14).await;
    assert!((6..=7).contains(&n), "{n} of 14 passed");

    // each instance on its own allows the burst each
    let store = common::sqlite_store().await;
    let token = common::admin_token(&store).await;
    let alone: Vec<TestApp> = (0..2)
        .map(|_| TestApp::from_state(AppState::new(store.clone()).with_limits(limits())))
        .collect();
    let n = passed(&alone, &token, 14).await;
    assert!((12..=14).contains(&n), "{n} of 14 passed");
}
