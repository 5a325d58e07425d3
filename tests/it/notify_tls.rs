//! Delivery over TLS to real local receivers on 127.0.0.1 with a
//! certificate of a test CA: a signed webhook and an SMS API at
//! `https://`, and e-mail over SMTPS, each delivered once when the CA is
//! trusted (`--notify-ca-file`); an endpoint whose certificate nobody
//! trusts is a failed attempt, retried later, never a silent success.

use std::sync::Arc;

use gridpatrol::service::notify::ManualClock;
use gridpatrol::service::notify::channels::{Channel, HttpSms, Sms, Smtp, SmtpTls, Tls, Webhook};

use crate::common;
use crate::notify_delivery::{SECRET, at, notifier, world};
use crate::notify_receivers::{HttpReceiver, Mode, SmtpSink, TestCa};

#[tokio::test]
async fn webhook_sms_and_mail_go_over_tls_to_a_trusted_ca_only() {
    let store = common::sqlite_store().await;
    world(&store).await;
    let ca = TestCa::new();
    let hook = HttpReceiver::start_tls(Mode::Accept, ca.acceptor.clone()).await;
    let sink = SmtpSink::start_tls(ca.acceptor.clone()).await;
    assert!(hook.url.starts_with("https://127.0.0.1:"), "{}", hook.url);
    let trusted = Tls::new(Some(ca.ca_pem.as_bytes())).expect("the test CA");
    let channels = |tls: &Tls| -> Vec<Box<dyn Channel>> {
        vec![
            Box::new(Webhook {
                url: format!("{}/hook", hook.url),
                secret: SECRET.into(),
                tls: tls.clone(),
            }),
            Box::new(Smtp {
                host: "127.0.0.1".into(),
                port: sink.port,
                from: "巡查督办 <notify@songjiang.example.cn>".into(),
                credentials: None,
                security: SmtpTls::Tls,
                tls: tls.clone(),
            }),
            Box::new(Sms(Box::new(HttpSms {
                url: format!("{}/sms", hook.url),
                key: "sms-key".into(),
                sign_name: "巡查督办".into(),
                template: "SMS_1".into(),
                tls: tls.clone(),
            }))),
        ]
    };

    // the public roots alone do not vouch for the test CA: every attempt fails, nothing arrives
    let clock = Arc::new(ManualClock::new(at("2026-11-27T02:00:00Z")));
    let public = Tls::new(None).expect("public roots");
    let n = notifier(&store, &clock, channels(&public));
    assert_eq!(n.sync().await.expect("sync").created, 1);
    let done = n.deliver_due().await.expect("deliver");
    assert_eq!((done.delivered, done.failed), (0, 3), "{done:?}");
    assert!(hook.requests("/hook").is_empty() && hook.requests("/sms").is_empty());
    assert!(sink.mails().is_empty());
    let failed = store
        .deliveries(None, Some("pending"))
        .await
        .expect("outbox");
    assert_eq!(failed.len(), 3);
    assert!(
        failed.iter().all(|d| d
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("invalid peer certificate"))),
        "{failed:?}"
    );

    // with the CA trusted, the retries go through, each once
    let n = notifier(&store, &clock, channels(&trusted));
    clock.advance(chrono::Duration::hours(1));
    let done = n.deliver_due().await.expect("deliver");
    assert_eq!(done.delivered, 3, "{done:?}");
    let hooks = hook.requests("/hook");
    assert_eq!(hooks.len(), 1);
    assert!(hooks[0].headers.contains_key("x-gridpatrol-signature"));
    assert_eq!(hook.requests("/sms").len(), 1);
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].data.contains("Subject:"), "{}", mails[0].data);
    assert_eq!(n.deliver_due().await.expect("again").delivered, 0);
}

#[test]
fn a_ca_file_without_a_certificate_is_refused() {
    assert!(Tls::new(Some(b"not a certificate")).is_err());
}
