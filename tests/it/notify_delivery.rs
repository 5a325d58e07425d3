//! Reminders delivered to real local receivers, on SQLite and on PostGIS:
//! a hazard past its deadline makes exactly one inbox item and one
//! delivery per configured channel (a webhook with a valid HMAC-SHA256
//! signature, an e-mail through an SMTP sink, an SMS through an HTTP
//! provider); a worker stopped mid-delivery delivers after a restart, once
//! by idempotency key; a receiver failing five times dead-letters the
//! delivery, which admins see.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use geo::Point;
use gridpatrol::auth::Role;
use gridpatrol::domain::{Category, Funding, Project, ProjectStatus};
use gridpatrol::inspection::{Finding, HazardKind, NewInspection, Severity};
use gridpatrol::service::notify::channels::{Channel, HttpSms, Sms, Smtp, SmtpTls, Tls, Webhook};
use gridpatrol::service::notify::{Clock, ManualClock, Notifier, Settings};
use gridpatrol::service::{self, FileFormat, ImportKind};
use gridpatrol::spatial::Crs;
use gridpatrol::store::notify::Prefs;
use gridpatrol::store::{DynStore, typed};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::common::{self, TestApp};
use crate::notify_receivers::{HttpReceiver, Mode, SmtpSink};

pub const YUEYANG: &str = "310117001";
pub const SECRET: &str = "a-shared-secret-of-the-town";

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a time")
}

/// The towns, one filed work in 岳阳街道 with an inspection by officer01
/// (2026-11-20) that found a hazard due by 2026-11-25; officer01, the
/// town's safety officer and an admin. Returns the hazard's id.
pub async fn world(store: &DynStore) -> i64 {
    let towns = common::fixture_text("towns.geojson");
    service::import_bytes(
        store,
        ImportKind::Towns,
        towns.as_bytes(),
        FileFormat::GeoJson,
        Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect("towns");
    let work = Project {
        code: "NT-0001".into(),
        name: "岳阳街道 奶茶店装修".into(),
        category: Category::FitOut,
        funding: Funding::Social,
        investment_cny: 180_000,
        floor_area_m2: Some(90.0),
        status: ProjectStatus::Filed,
        started_on: None,
        completed_on: None,
        hot_work: false,
        insulation: false,
        steel_mezzanine: false,
        insured: true,
        address: "岳阳街道 人民北路".into(),
        town: Some(YUEYANG.into()),
        geometry: Point::new(121.2287, 31.0159).into(),
    };
    let id = typed::insert(store, &work).await.expect("work");
    let (_, hazards) = store
        .record_inspection(
            &NewInspection {
                project_id: id,
                inspected_at: at("2026-11-20T02:00:00Z"),
                inspector: "officer01".into(),
                note: String::new(),
                findings: vec![Finding {
                    kind: HazardKind::NoSwitchBox,
                    severity: Severity::Serious,
                    deadline: NaiveDate::from_ymd_opt(2026, 11, 25).expect("date"),
                    note: "二层配电".into(),
                    fixed_on_spot: false,
                }],
                recorded_by: "officer01".into(),
                detail: gridpatrol::inspection::checklist::InspectionDetail::default(),
            },
            at("2026-11-20T02:05:00Z"),
        )
        .await
        .expect("inspection");
    common::token_for(store, "officer01", Role::Officer, &["town:310117001"]).await;
    common::token_for(store, "yueyang-safety", Role::Town, &["town:310117001"]).await;
    common::admin_token(store).await;
    store
        .set_prefs(&Prefs {
            email: Some("officer01@yueyang.example.cn".into()),
            phone: Some("13800000001".into()),
            ..Prefs::default_for("officer01")
        })
        .await
        .expect("prefs");
    hazards[0].id
}

pub fn notifier(
    store: &DynStore,
    clock: &Arc<ManualClock>,
    channels: Vec<Box<dyn Channel>>,
) -> Notifier {
    Notifier::new(store.clone(), Settings::default(), channels).with_clock(clock.clone())
}

pub fn webhook(r: &HttpReceiver) -> Box<dyn Channel> {
    Box::new(Webhook {
        url: format!("{}/hook", r.url),
        secret: SECRET.into(),
        tls: Tls::new(None).expect("public roots"),
    })
}

fn valid_signature(r: &crate::notify_receivers::Received) -> bool {
    let h = |k: &str| {
        r.headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(format!("{}.", h("x-gridpatrol-timestamp")).as_bytes());
    mac.update(&r.body);
    let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    h("x-gridpatrol-signature") == want
}

#[expect(
    clippy::too_many_lines,
    reason = "one hazard from its deadline to every channel, in order"
)]
async fn overdue_hazard_is_told_once_on_every_channel(store: DynStore) {
    let hazard = world(&store).await;
    let hook = HttpReceiver::start(Mode::Accept).await;
    let sink = SmtpSink::start().await;
    let channels: Vec<Box<dyn Channel>> = vec![
        webhook(&hook),
        Box::new(Smtp {
            host: "127.0.0.1".into(),
            port: sink.port,
            from: "巡查督办 <notify@songjiang.example.cn>".into(),
            credentials: None,
            security: SmtpTls::None,
            tls: Tls::new(None).expect("public roots"),
        }),
        Box::new(Sms(Box::new(HttpSms {
            url: format!("{}/sms", hook.url),
            key: "sms-key".into(),
            sign_name: "巡查督办".into(),
            template: "SMS_1".into(),
            tls: Tls::new(None).expect("public roots"),
        }))),
    ];
    // 2026-11-27 10:00 Beijing: two days past the deadline
    let clock = Arc::new(ManualClock::new(at("2026-11-27T02:00:00Z")));
    let n = notifier(&store, &clock, channels);
    let first = n.sync().await.expect("sync");
    assert_eq!(first.created, 1, "{first:?}");
    // computed again (a tick, a write): the same fact is not a new item
    clock.advance(Duration::hours(1));
    assert_eq!(n.sync().await.expect("sync").created, 0);
    let inbox = store.inbox("officer01").await.expect("inbox");
    assert_eq!(inbox.len(), 1);
    let item = &inbox[0];
    assert_eq!(item.kind.as_str(), "hazard_overdue");
    assert_eq!(item.subject.hazard_id, Some(hazard));
    assert!(
        item.title_zh.contains("隐患逾期未整改"),
        "{}",
        item.title_zh
    );
    assert!(item.body_zh.contains("已逾期"), "{}", item.body_zh);
    let outbox = store.deliveries(Some(item.id), None).await.expect("outbox");
    assert_eq!(outbox.len(), 3, "one per channel: {outbox:?}");

    let done = n.deliver_due().await.expect("deliver");
    assert_eq!(done.delivered, 3, "{done:?}");
    assert_eq!(n.deliver_due().await.expect("again").delivered, 0);

    let hooks = hook.requests("/hook");
    assert_eq!(hooks.len(), 1);
    assert!(
        valid_signature(&hooks[0]),
        "signature of {:?}",
        hooks[0].headers
    );
    let body: serde_json::Value = serde_json::from_slice(&hooks[0].body).expect("JSON");
    assert_eq!(body["event"], "hazard_overdue");
    assert_eq!(body["hazard_id"], hazard);
    assert_eq!(body["recipient"], "officer01");
    assert!(
        body["link"]
            .as_str()
            .expect("link")
            .ends_with(&format!("/api/v1/hazards/{hazard}"))
    );
    // a tampered body fails the check
    let mut forged = hooks[0].clone();
    forged.body = axum::body::Bytes::from(hooks[0].body.iter().rev().copied().collect::<Vec<u8>>());
    assert!(!valid_signature(&forged));

    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    // MAIL FROM:<address> (parameters may follow)
    assert!(
        mails[0].from.starts_with("<notify@songjiang.example.cn>"),
        "{}",
        mails[0].from
    );
    assert_eq!(
        mails[0].to,
        vec!["<officer01@yueyang.example.cn>".to_owned()]
    );
    let key = &outbox
        .iter()
        .find(|d| d.channel.as_str() == "email")
        .expect("email")
        .idem_key;
    assert!(
        mails[0].data.contains(&format!("<{key}@gridpatrol>")),
        "{}",
        mails[0].data
    );

    let sms = hook.requests("/sms");
    assert_eq!(sms.len(), 1);
    let text: serde_json::Value = serde_json::from_slice(&sms[0].body).expect("JSON");
    assert_eq!(text["PhoneNumbers"], "13800000001");
    assert!(
        text["TemplateParam"]
            .as_str()
            .expect("param")
            .contains("隐患逾期未整改")
    );

    // the owner reads it over HTTP, with a link to the hazard
    let app = TestApp::unlimited(&store);
    let officer = common::token_for(
        &store,
        "officer01-phone",
        Role::Officer,
        &["town:310117001"],
    )
    .await;
    let other = app.get_as(&officer, "/api/v1/inbox").await;
    assert_eq!(
        other.json()["total"],
        0,
        "another officer's inbox: {}",
        other.json()
    );
    let token = {
        let u = store.user("officer01").await.expect("store").expect("user");
        service::users::issue_token(&store, &gridpatrol::auth::Caller::system("test"), &u, 1)
            .await
            .expect("token")
    };
    let a = app.get_as(&token, "/api/v1/inbox").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    assert_eq!(a.json()["unread"], 1);
    let got = &a.json()["items"][0];
    assert_eq!(got["links"]["hazard"], format!("/api/v1/hazards/{hazard}"));
    assert_eq!(got["kind_zh"], "隐患逾期未整改");
    let id = got["id"].as_i64().expect("id");
    let r = app
        .post_json(
            &officer,
            &format!("/api/v1/inbox/{id}/read"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "not theirs");
    let r = app
        .post_json(
            &token,
            &format!("/api/v1/inbox/{id}/done"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["mark"], "done");
    assert_eq!(app.get_as(&token, "/api/v1/inbox").await.json()["total"], 0);
    // done is done: the same fact does not come back
    clock.advance(Duration::days(1));
    assert_eq!(n.sync().await.expect("sync").created, 0);
}

async fn a_worker_stopped_mid_delivery_delivers_after_restart_once(store: DynStore) {
    world(&store).await;
    let hook = HttpReceiver::start(Mode::HangFirst).await;
    let clock = Arc::new(ManualClock::new(at("2026-11-27T02:00:00Z")));
    let n = notifier(&store, &clock, vec![webhook(&hook)]);
    assert_eq!(n.sync().await.expect("sync").created, 1);
    // the receiver takes the request and the worker dies before the answer
    let worker = tokio::spawn({
        let n = n.clone();
        async move { n.deliver_due().await }
    });
    for _ in 0..200 {
        if !hook.requests("/hook").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(hook.requests("/hook").len(), 1, "the first attempt arrived");
    worker.abort();
    let _ = worker.await;
    let pending = store
        .deliveries(None, Some("pending"))
        .await
        .expect("outbox");
    assert_eq!(pending.len(), 1, "not marked delivered");
    // a restarted worker leaves the claim alone while its lease runs ...
    let restarted = notifier(&store, &clock, vec![webhook(&hook)]);
    assert_eq!(restarted.deliver_due().await.expect("deliver").delivered, 0);
    // ... and delivers once it has ended
    clock.advance(Duration::seconds(61));
    assert_eq!(restarted.deliver_due().await.expect("deliver").delivered, 1);
    let got = hook.requests("/hook");
    assert_eq!(got.len(), 2, "sent twice");
    let keys: Vec<&str> = got
        .iter()
        .map(|r| r.headers["idempotency-key"].to_str().expect("key"))
        .collect();
    assert_eq!(keys[0], keys[1], "with one idempotency key");
    assert_eq!(hook.processed().len(), 1, "acted on once");
    assert!(
        store
            .deliveries(None, Some("pending"))
            .await
            .expect("outbox")
            .is_empty()
    );
    assert_eq!(
        store
            .deliveries(None, Some("delivered"))
            .await
            .expect("outbox")
            .len(),
        1
    );
}

async fn a_receiver_failing_five_times_dead_letters(store: DynStore) {
    world(&store).await;
    let hook = HttpReceiver::start(Mode::Fail).await;
    let clock = Arc::new(ManualClock::new(at("2026-11-27T02:00:00Z")));
    let n = notifier(&store, &clock, vec![webhook(&hook)]);
    n.sync().await.expect("sync");
    let mut waits = Vec::new();
    for attempt in 1..=5 {
        let before = clock.now();
        let r = n.deliver_due().await.expect("deliver");
        assert_eq!(r.failed + r.dead, 1, "attempt {attempt}: {r:?}");
        assert_eq!(r.dead, u64::from(attempt == 5), "attempt {attempt}");
        if let Some(d) = store
            .deliveries(None, Some("pending"))
            .await
            .expect("outbox")
            .first()
        {
            waits.push((d.next_at - before).num_seconds());
            // not retried before its time
            assert_eq!(n.deliver_due().await.expect("early").failed, 0);
            clock.set(d.next_at);
        }
    }
    assert_eq!(waits, vec![30, 60, 120, 240], "exponential backoff");
    assert_eq!(hook.requests("/hook").len(), 5);
    let dead = store.deliveries(None, Some("dead")).await.expect("outbox");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 5);
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("HTTP 500")
    );
    clock.advance(Duration::days(1));
    assert_eq!(
        n.deliver_due().await.expect("after").failed,
        0,
        "dead stays dead"
    );

    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let a = app.get_as(&admin, "/api/v1/notifications/dead").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    assert_eq!(a.json()["total"], 1);
    assert_eq!(a.json()["items"][0]["attempts"], 5);
    let town = common::token_for(&store, "yueyang-2", Role::Town, &["town:310117001"]).await;
    let denied = app.get_as(&town, "/api/v1/notifications/dead").await;
    common::assert_problem(&denied, StatusCode::FORBIDDEN, None);
}

store_tests!(
    overdue_hazard_is_told_once_on_every_channel,
    a_worker_stopped_mid_delivery_delivers_after_restart_once,
    a_receiver_failing_five_times_dead_letters,
);
