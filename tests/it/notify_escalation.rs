//! 督办 on an injected clock, on SQLite and on PostGIS: an overdue hazard
//! left open climbs its chain on the configured days — the officer who
//! found it, the town's safety officer after three days, the district after
//! seven — each step recorded on the item and told on the configured
//! channels, shown with names in the work's case file and counted for the
//! evaluation; a fact that no longer holds leaves every inbox. A route
//! assigned to an officer is their item until its day.

use std::sync::Arc;

use chrono::Duration;
use gridpatrol::inspection::{HazardStatus, StatusChange};
use gridpatrol::notify::{EventKind, Level, Rules};
use gridpatrol::service::notify::{ManualClock, Notifier, Settings};
use gridpatrol::service::supervision;
use gridpatrol::store::DynStore;
use gridpatrol::store::notify::ItemQuery;
use gridpatrol::store::routes::NewRoute;

use crate::common;
use crate::notify_delivery::{at, webhook, world};
use crate::notify_receivers::{HttpReceiver, Mode};

#[expect(
    clippy::too_many_lines,
    reason = "the chain climbed day by day, in order"
)]
async fn an_open_item_climbs_the_chain_on_its_days(store: DynStore) {
    let hazard = world(&store).await;
    let hook = HttpReceiver::start(Mode::Accept).await;
    // due 2026-11-26 (the day after the deadline)
    let clock = Arc::new(ManualClock::new(at("2026-11-26T02:00:00Z")));
    let n = Notifier::new(store.clone(), Settings::default(), vec![webhook(&hook)])
        .with_clock(clock.clone());
    assert_eq!(n.sync().await.expect("sync").created, 1);
    let levels = |items: &[gridpatrol::store::notify::StoredItem]| {
        items.iter().map(|i| i.level).collect::<Vec<_>>()
    };
    assert_eq!(
        levels(&store.inbox("officer01").await.expect("inbox")),
        vec![0]
    );
    assert!(
        store
            .inbox("yueyang-safety")
            .await
            .expect("inbox")
            .is_empty()
    );

    // two days late: still the owner's
    clock.advance(Duration::days(2));
    assert_eq!(n.sync().await.expect("sync").escalated, 0);
    assert!(
        store
            .inbox("yueyang-safety")
            .await
            .expect("inbox")
            .is_empty()
    );

    // three days late: the town
    clock.advance(Duration::days(1));
    assert_eq!(n.sync().await.expect("sync").escalated, 1);
    let town = store.inbox("yueyang-safety").await.expect("inbox");
    assert_eq!(levels(&town), vec![1]);
    let chain: Vec<(i64, &str)> = town[0]
        .chain
        .iter()
        .map(|s| (s.level, s.recipient.as_str()))
        .collect();
    assert_eq!(chain, vec![(0, "officer01"), (1, "yueyang-safety")]);
    assert_eq!(town[0].chain[1].level_zh, "街镇督办");
    assert!(store.inbox("test-admin").await.expect("inbox").is_empty());
    // the same day again climbs nothing
    assert_eq!(n.sync().await.expect("sync").escalated, 0);

    // seven days late: the district; the owner still has it
    clock.advance(Duration::days(4));
    assert_eq!(n.sync().await.expect("sync").escalated, 1);
    let district = store.inbox("test-admin").await.expect("inbox");
    assert_eq!(district.len(), 1);
    assert_eq!(district[0].chain.len(), 3);
    assert_eq!(district[0].chain[2].recipient, "test-admin");
    assert_eq!(store.inbox("officer01").await.expect("inbox").len(), 1);
    // every step told on the webhook, each under its own key
    n.deliver_due().await.expect("deliver");
    // delivered at once, so in any order
    let mut recipients: Vec<String> = hook
        .requests("/hook")
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
            format!(
                "{}:{}",
                v["level"],
                v["recipient"].as_str().unwrap_or_default()
            )
        })
        .collect();
    recipients.sort();
    assert_eq!(
        recipients,
        vec!["0:officer01", "1:yueyang-safety", "2:test-admin"]
    );
    assert_eq!(hook.processed().len(), 3);

    // the chain as the case file and the evaluation read it, people named
    store
        .set_display_name("officer01", "夏卫国")
        .await
        .expect("name");
    let names = gridpatrol::service::users::display_names(&store)
        .await
        .expect("names");
    let escalated = store
        .items(&ItemQuery {
            project_id: None,
            min_level: 1,
        })
        .await
        .expect("items");
    assert_eq!(escalated.len(), 1);
    let work = escalated[0].subject.project_id.expect("a work's item");
    let file = supervision::of_work(&store, work, &names)
        .await
        .expect("supervision");
    assert_eq!(file.len(), 1);
    assert_eq!(file[0].status, "open");
    assert_eq!(file[0].owner_name.as_deref(), Some("夏卫国"));
    let chain: Vec<(&str, Option<&str>)> = file[0]
        .chain
        .iter()
        .map(|s| (s.level_zh, s.recipient_name.as_deref()))
        .collect();
    assert_eq!(
        chain,
        vec![
            ("责任人", Some("夏卫国")),
            ("街镇督办", None),
            ("区级督办", None)
        ]
    );
    let counted = supervision::escalated(&store).await.expect("escalated");
    assert_eq!(counted.len(), 1);
    assert_eq!(counted[0].town, "310117001");
    assert_eq!(counted[0].due_on.to_string(), "2026-11-26");
    assert!(!counted[0].closed);

    // rectified: the fact no longer holds, the item leaves every inbox
    let moved = store
        .move_hazard(
            hazard,
            HazardStatus::Open,
            &StatusChange {
                to: HazardStatus::Rectifying,
                note: String::new(),
                by: "officer01".into(),
                at: at("2026-12-03T03:00:00Z"),
            },
        )
        .await
        .expect("move");
    assert!(matches!(
        moved,
        gridpatrol::store::inspection::Moved::Done(_)
    ));
    // rectifying still awaits the check: still late
    assert_eq!(n.sync().await.expect("sync").resolved, 0);
    store
        .move_hazard(
            hazard,
            HazardStatus::Rectifying,
            &StatusChange {
                to: HazardStatus::Verified,
                note: "复查合格".into(),
                by: "officer01".into(),
                at: at("2026-12-03T04:00:00Z"),
            },
        )
        .await
        .expect("move");
    assert_eq!(n.sync().await.expect("sync").resolved, 1);
    for user in ["officer01", "yueyang-safety", "test-admin"] {
        assert!(store.inbox(user).await.expect("inbox").is_empty(), "{user}");
    }
    // closed, and so counted by the evaluation; the case file keeps it
    let counted = supervision::escalated(&store).await.expect("escalated");
    assert!(counted[0].closed);
    let file = supervision::of_work(&store, work, &names)
        .await
        .expect("supervision");
    assert_eq!(file[0].status, "resolved");
    assert_eq!(file[0].status_zh, "已办结（事项已消除）");
}

fn route(officer: Option<&str>) -> NewRoute {
    NewRoute {
        kind: "patrol".into(),
        grid_id: None,
        zone_id: None,
        grid_code: None,
        zone_code: "Z-YY-1".into(),
        town_code: "310117001".into(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date"),
        starts_at: at("2026-11-27T00:30:00Z"),
        officer: officer.map(str::to_owned),
        mode: "walk".into(),
        shift_minutes: 240.0,
        service_minutes: 10.0,
        distance_m: 6_400.0,
        duration_s: 9_000.0,
        new_cells: 12,
        road_network: false,
        details: serde_json::json!({ "area_name": "岳阳街道 第1片区" }),
        created_by: "test-admin".into(),
        geometry: geo::LineString::from(vec![(121.2287, 31.0159), (121.2300, 31.0170)]),
        stops: Vec::new(),
    }
}

/// A route assigned to an officer is their item (told, never escalated)
/// from the assignment, which moves the data version so the notifier hears
/// of it at once, until the route's day has passed; taking the route back
/// resolves it.
async fn an_assigned_route_is_the_officers_item_until_its_day(store: DynStore) {
    world(&store).await;
    let clock = Arc::new(ManualClock::new(at("2026-11-22T02:00:00Z")));
    let n = Notifier::new(store.clone(), Settings::default(), Vec::new()).with_clock(clock.clone());
    let id = store.insert_route(&route(None)).await.expect("route");
    n.sync().await.expect("sync");
    let routes = |items: Vec<gridpatrol::store::notify::StoredItem>| {
        items
            .into_iter()
            .filter(|i| i.kind == EventKind::RouteAssigned)
            .collect::<Vec<_>>()
    };
    assert!(routes(store.inbox("officer01").await.expect("inbox")).is_empty());

    let before = store.data_version().await.expect("version");
    assert!(
        store
            .assign_route(id, Some("officer01"))
            .await
            .expect("assign")
    );
    assert!(store.data_version().await.expect("version") > before);
    n.sync().await.expect("sync");
    let mine = routes(store.inbox("officer01").await.expect("inbox"));
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].subject.route_id, Some(id));
    assert_eq!(
        mine[0].title_zh,
        "巡查路线已指派：2026-11-27 岳阳街道 第1片区"
    );
    assert!(
        mine[0].body_zh.contains("约6.4公里，2026-11-27 08:30出发"),
        "{}",
        mine[0].body_zh
    );
    // told, never climbing: a week on, still the officer's alone
    clock.advance(Duration::days(5));
    n.sync().await.expect("sync");
    assert!(routes(store.inbox("yueyang-safety").await.expect("inbox")).is_empty());
    assert_eq!(
        routes(store.inbox("officer01").await.expect("inbox")).len(),
        1
    );
    // the day after the route's day: resolved
    clock.advance(Duration::days(1));
    assert!(n.sync().await.expect("sync").resolved >= 1);
    assert!(routes(store.inbox("officer01").await.expect("inbox")).is_empty());

    // a route taken back is resolved at once
    clock.set(at("2026-11-22T02:00:00Z"));
    let other = store
        .insert_route(&route(Some("officer01")))
        .await
        .expect("route");
    n.sync().await.expect("sync");
    assert_eq!(
        routes(store.inbox("officer01").await.expect("inbox")).len(),
        1
    );
    assert!(store.assign_route(other, None).await.expect("unassign"));
    assert!(n.sync().await.expect("sync").resolved >= 1);
    assert!(routes(store.inbox("officer01").await.expect("inbox")).is_empty());
    // given back to the same officer: a new assignment, told again
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert!(
        store
            .assign_route(other, Some("officer01"))
            .await
            .expect("assign")
    );
    assert!(n.sync().await.expect("sync").created >= 1);
    assert_eq!(
        routes(store.inbox("officer01").await.expect("inbox")).len(),
        1
    );
}

#[test]
fn configured_days_make_the_chain() {
    let rules = Rules::with_days(2, 5);
    let chain = rules.chain(gridpatrol::notify::EventKind::InspectionDue);
    let due = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let on = |d: u32| {
        chain.level_on(
            due,
            chrono::NaiveDate::from_ymd_opt(2026, 12, d).expect("date"),
        )
    };
    assert_eq!(
        [on(2), on(3), on(5), on(6)],
        [Level::Owner, Level::Town, Level::Town, Level::District]
    );
}

store_tests!(
    an_open_item_climbs_the_chain_on_its_days,
    an_assigned_route_is_the_officers_item_until_its_day
);
