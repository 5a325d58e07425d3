//! 督办 on an injected clock, on SQLite and on PostGIS: an overdue hazard
//! left open climbs its chain on the configured days — the officer who
//! found it, the town's safety officer after three days, the district after
//! seven — each step recorded on the item and told on the configured
//! channels; a fact that no longer holds leaves every inbox.

use std::sync::Arc;

use chrono::Duration;
use gridpatrol::inspection::{HazardStatus, StatusChange};
use gridpatrol::notify::{Level, Rules};
use gridpatrol::service::notify::{ManualClock, Notifier, Settings};
use gridpatrol::store::DynStore;

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

store_tests!(an_open_item_climbs_the_chain_on_its_days);
