//! Property tests: the parsers of user input in query strings and headers
//! (bbox, limit/offset, town, crs, times, flags, scope grants, roles,
//! tokens) never panic on arbitrary input and only accept valid values; and
//! arbitrary query strings sent to every read endpoint are answered 2xx or
//! a 4xx problem, never a 5xx.

use crate::common::{self, TestApp};

use std::collections::HashMap;

use gridpatrol::auth::{Grant, Grants, Role, token};
use gridpatrol::http::params::{
    MAX_LIMIT, RawQuery, crs, flag, list_query, parse_time_ms, time_ms, window_ms,
};
use gridpatrol::spatial::Bbox;
use proptest::prelude::*;

/// Text that looks like what a query string carries: numbers, commas,
/// signs, letters, codes, and anything else now and then.
fn param_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-+0-9.,eE ]{0,40}",
        "[a-z_:0-9,-]{0,24}",
        "(-?[0-9]{1,3}(\\.[0-9]{1,8})?,){3}-?[0-9]{1,3}(\\.[0-9]{1,8})?",
        "(NaN|inf|-inf|1e308|-0|0x10|\u{0}|%00|１２３|三),?.{0,8}",
        ".{0,64}",
    ]
}

fn param_names() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("bbox".to_owned()),
        Just("town".to_owned()),
        Just("limit".to_owned()),
        Just("offset".to_owned()),
        Just("crs".to_owned()),
        Just("status".to_owned()),
        Just("from".to_owned()),
        Just("to".to_owned()),
        Just("scope".to_owned()),
        Just("res".to_owned()),
        Just("level".to_owned()),
        Just("kind".to_owned()),
        Just("distance_m".to_owned()),
        Just("overdue".to_owned()),
        "[a-z_]{1,10}",
    ]
}

fn query() -> impl Strategy<Value = RawQuery> {
    proptest::collection::hash_map(param_names(), param_text(), 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn bbox_parses_only_valid_boxes(s in param_text()) {
        if let Ok(b) = s.parse::<Bbox>() {
            prop_assert!(b.min_lon() <= b.max_lon() && b.min_lat() <= b.max_lat());
            prop_assert!((-180.0..=180.0).contains(&b.min_lon()) && (-180.0..=180.0).contains(&b.max_lon()));
            prop_assert!((-90.0..=90.0).contains(&b.min_lat()) && (-90.0..=90.0).contains(&b.max_lat()));
        }
    }

    #[test]
    fn list_parameters_never_panic(q in query()) {
        if let Ok(lq) = list_query(&q, &["status", "kind"]) {
            prop_assert!(lq.limit >= 1 && lq.limit <= MAX_LIMIT);
            if let Some(towns) = &lq.towns {
                prop_assert!(towns.iter().all(|t| !t.trim().is_empty()));
            }
        }
        let _ = crs(&q);
        let _ = time_ms(&q, "from");
        let _ = flag(&q, "overdue");
        if let Ok((from, to)) = window_ms(&q, 30) {
            prop_assert!(from < to);
        }
    }

    #[test]
    fn times_never_panic(s in param_text()) {
        let _ = parse_time_ms(&s);
    }

    #[test]
    fn scope_grants_never_panic_and_round_trip(s in prop_oneof![
        "((district|town|zone|grid|city)(:[0-9A-Za-z-]{0,12})?[ ,]{0,2}){0,5}",
        ".{0,40}",
    ]) {
        let _ = s.parse::<Grant>();
        if let Ok(list) = Grants::parse_list(&s) {
            for role in Role::ALL {
                if let Ok(g) = Grants::for_role(role, list.clone()) {
                    let again = Grants::parse_list(&g.to_string()).expect("printed grants parse");
                    prop_assert_eq!(Grants::for_role(role, again).expect("valid"), g);
                }
            }
        }
    }

    #[test]
    fn roles_and_tokens_never_panic(s in prop_oneof![
        "gp_[0-9a-fA-F]{0,18}_[0-9a-fA-F]{0,66}",
        ".{0,90}",
    ]) {
        let _ = s.parse::<Role>();
        if let Ok(p) = token::parse(&s) {
            prop_assert_eq!(p.id.len(), 16);
        }
    }
}

#[test]
fn generated_tokens_always_parse() {
    for _ in 0..1000 {
        let (plain, stored) = token::generate().expect("random");
        let p = token::parse(&plain).expect("well formed");
        assert!(p.matches(&stored));
    }
}

/// The read endpoints, with a small store behind them.
const ENDPOINTS: [&str; 20] = [
    "/api/v1/towns",
    "/api/v1/zones",
    "/api/v1/grids",
    "/api/v1/districts",
    "/api/v1/venues",
    "/api/v1/projects",
    "/api/v1/projects/1",
    "/api/v1/towns/1",
    "/api/v1/hazards",
    "/api/v1/ledger",
    "/api/v1/blindspots/works",
    "/api/v1/blindspots/near-venues",
    "/api/v1/blindspots/districts",
    "/api/v1/blindspots/cells",
    "/api/v1/scorecard",
    "/api/v1/coverage",
    "/api/v1/coverage/summary",
    "/api/v1/tracks",
    "/api/v1/audit",
    "/api/v1/me",
];

fn encode(q: &HashMap<String, String>) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    q.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[test]
fn arbitrary_query_strings_never_cause_a_server_error() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (state, tokens) = rt.block_on(async {
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
        let admin = common::admin_token(&store).await;
        let town = common::token_for(&store, "t", Role::Town, &["town:310117001"]).await;
        (TestApp::unlimited(&store), [admin, town])
    });
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(300));
    let strategy = (0..ENDPOINTS.len(), 0..2usize, query());
    runner
        .run(&strategy, |(e, t, q)| {
            let uri = format!("{}?{}", ENDPOINTS[e], encode(&q));
            let a = rt.block_on(state.get_as(&tokens[t], &uri));
            prop_assert!(
                !a.status.is_server_error(),
                "{uri}: {} {}",
                a.status,
                a.text()
            );
            if a.status.is_client_error() {
                prop_assert_eq!(a.content_type(), "application/problem+json", "{}", uri);
            }
            Ok(())
        })
        .expect("no server error");
}
