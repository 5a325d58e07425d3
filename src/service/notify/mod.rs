//! The notifier: computes the late facts of the records ([`crate::notify`]),
//! keeps one inbox item per fact with its chain of escalation, and delivers
//! the outbox through the configured [`channels`] with retries and
//! exponential backoff, dead-lettering after a limit.
//!
//! It runs in the server ([`Notifier::run`]): on a schedule, and soon after
//! every write that moves the data version (hazards, inspections, case
//! records, works — from any instance). It keeps no state of its own: items
//! and deliveries live in the store, a delivery is claimed by lease, and a
//! worker that dies mid-delivery leaves it to be claimed again when the
//! lease ends — the receiver drops the repeat by its idempotency key.

pub mod channels;
mod facts;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Timelike, Utc};
use sha2::{Digest, Sha256};

use crate::notify::{Directory, Event, Level, Rules, Thresholds, compute, events::Facts};
use crate::store::notify::{Delivery, NewDelivery, NewItem, Prefs, StoredItem};
use crate::store::{DynStore, StoreError};
use crate::time::{beijing, beijing_text, iso};
use channels::Channel;

pub use facts::directory;

/// Where the time comes from: the system clock, or a test's.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told (tests, replays).
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    #[must_use]
    pub fn new(t: DateTime<Utc>) -> Self {
        Self(Mutex::new(t))
    }

    pub fn set(&self, t: DateTime<Utc>) {
        if let Ok(mut g) = self.0.lock() {
            *g = t;
        }
    }

    pub fn advance(&self, d: Duration) {
        if let Ok(mut g) = self.0.lock() {
            *g += d;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map_or_else(|_| Utc::now(), |g| *g)
    }
}

/// How the notifier works.
#[derive(Clone)]
pub struct Settings {
    pub rules: Rules,
    pub thresholds: Thresholds,
    /// How long a claimed delivery is held before another worker may take it.
    pub lease: Duration,
    /// Failed attempts before a delivery is dead-lettered.
    pub max_attempts: i64,
    /// The wait after the first failure; doubled after each.
    pub backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// How often the facts are computed without a write.
    pub tick: StdDuration,
    /// How often the data version and the outbox are looked at.
    pub poll: StdDuration,
    /// The public base URL of the service, for links in messages.
    pub base_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            rules: Rules::default(),
            thresholds: Thresholds::default(),
            lease: Duration::seconds(60),
            max_attempts: 5,
            backoff: Duration::seconds(30),
            max_backoff: Duration::hours(6),
            tick: StdDuration::from_secs(300),
            poll: StdDuration::from_secs(2),
            base_url: String::new(),
        }
    }
}

/// What one pass of [`Notifier::sync`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    pub created: u64,
    pub escalated: u64,
    pub resolved: u64,
}

/// What one pass of [`Notifier::deliver_due`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub delivered: u64,
    pub failed: u64,
    pub dead: u64,
}

/// The notifier of one process.
#[derive(Clone)]
pub struct Notifier {
    pub store: DynStore,
    pub settings: Settings,
    pub channels: Arc<Vec<Box<dyn Channel>>>,
    pub clock: Arc<dyn Clock>,
}

impl Notifier {
    #[must_use]
    pub fn new(store: DynStore, settings: Settings, channels: Vec<Box<dyn Channel>>) -> Self {
        Self {
            store,
            settings,
            channels: Arc::new(channels),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same notifier on another clock.
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// Computes the facts now: creates an item for each new one (with its
    /// deliveries), climbs the chains that are due, and resolves the items
    /// whose fact no longer holds.
    pub async fn sync(&self) -> Result<Synced, StoreError> {
        let now = self.clock.now();
        let loaded = facts::load(&self.store, now).await?;
        let events = compute(
            &Facts {
                now,
                works: &loaded.works,
                hazards: &loaded.hazards,
                inspections: &loaded.inspections,
                files: &loaded.files,
                places: &loaded.places,
                near_venue: &loaded.near_venue,
                grids: &loaded.grids,
                routes: &loaded.routes,
            },
            &self.settings.thresholds,
        );
        let dir = facts::directory(&self.store).await?;
        let names: Vec<String> = dir.0.iter().map(|p| p.name.clone()).collect();
        let prefs = self.store.prefs(&names).await?;
        let open: HashMap<String, StoredItem> = self
            .store
            .open_items()
            .await?
            .into_iter()
            .map(|i| (i.key.clone(), i))
            .collect();
        let today = crate::time::local_day(now);
        let mut out = Synced::default();
        for e in &events {
            let target = self.settings.rules.chain(e.kind).level_on(e.due_on, today);
            match open.get(&e.key) {
                None => {
                    let Some((level, owner)) = dir.resolve(e, Level::Owner) else {
                        tracing::warn!(key = %e.key, "nobody to tell of a late fact; no user owns its place");
                        continue;
                    };
                    let item = NewItem {
                        key: e.key.clone(),
                        kind: e.kind,
                        owner: owner.clone(),
                        level: level.index(),
                        title_zh: e.title_zh.clone(),
                        title_en: e.title_en.clone(),
                        body_zh: e.body_zh.clone(),
                        body_en: e.body_en.clone(),
                        subject: e.subject.clone(),
                        due_on: e.due_on,
                        at: now,
                    };
                    let ds = self.plan(&item, level, &owner, &prefs, now);
                    if let Some(id) = self.store.create_item(&item, &ds).await? {
                        out.created += 1;
                        out.escalated +=
                            self.climb(id, e, level, target, &dir, &prefs, now).await?;
                    }
                }
                Some(i) => {
                    let from = Level::from_index(i.level);
                    out.escalated += self.climb(i.id, e, from, target, &dir, &prefs, now).await?;
                }
            }
        }
        let live: std::collections::HashSet<&str> = events.iter().map(|e| e.key.as_str()).collect();
        let gone: Vec<i64> = open
            .values()
            .filter(|i| !live.contains(i.key.as_str()))
            .map(|i| i.id)
            .collect();
        out.resolved = self.store.resolve_items(&gone, now).await?;
        Ok(out)
    }

    /// Climbs an item from `from` to `target`, one step at a time.
    #[expect(clippy::too_many_arguments, reason = "one step of the sync loop")]
    async fn climb(
        &self,
        id: i64,
        e: &Event,
        from: Level,
        target: Level,
        dir: &Directory,
        prefs: &HashMap<String, Prefs>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut n = 0;
        for level in [Level::Town, Level::District] {
            if level <= from || level > target {
                continue;
            }
            let Some((at, who)) = dir.resolve(e, level) else {
                continue;
            };
            if at != level {
                continue;
            }
            let item = NewItem {
                key: e.key.clone(),
                kind: e.kind,
                owner: who.clone(),
                level: level.index(),
                title_zh: format!("【{}】{}", level.label_zh(), e.title_zh),
                title_en: format!("[{}] {}", level.label_en(), e.title_en),
                body_zh: e.body_zh.clone(),
                body_en: e.body_en.clone(),
                subject: e.subject.clone(),
                due_on: e.due_on,
                at: now,
            };
            let mut ds = self.plan(&item, level, &who, prefs, now);
            for d in &mut ds {
                d.payload["item_id"] = id.into();
            }
            if self
                .store
                .escalate(id, level.index(), &who, now, &ds)
                .await?
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The deliveries of an item (or a step of its chain) to `who`: one per
    /// configured channel the user takes, personal ones after quiet hours.
    fn plan(
        &self,
        item: &NewItem,
        level: Level,
        who: &str,
        prefs: &HashMap<String, Prefs>,
        now: DateTime<Utc>,
    ) -> Vec<NewDelivery> {
        let p = prefs
            .get(who)
            .cloned()
            .unwrap_or_else(|| Prefs::default_for(who));
        let payload = self.payload(item, level, who);
        self.channels
            .iter()
            .filter_map(|c| {
                let kind = c.kind();
                let on = match kind {
                    crate::store::notify::ChannelKind::Webhook => p.webhook,
                    crate::store::notify::ChannelKind::Email => p.email_on,
                    crate::store::notify::ChannelKind::Sms => p.sms_on,
                };
                if !on {
                    return None;
                }
                let address = c.address_for(p.email.as_deref(), p.phone.as_deref())?;
                let personal = kind != crate::store::notify::ChannelKind::Webhook;
                let next_at = if personal { after_quiet(&p, now) } else { now };
                Some(NewDelivery {
                    recipient: who.to_owned(),
                    channel: kind,
                    address,
                    idem_key: idem_key(&item.key, level, who, kind.as_str()),
                    payload: payload.clone(),
                    next_at,
                })
            })
            .collect()
    }

    fn payload(&self, item: &NewItem, level: Level, who: &str) -> serde_json::Value {
        let s = &item.subject;
        let base = self.settings.base_url.trim_end_matches('/');
        let link = if let Some(h) = s.hazard_id {
            format!("{base}/api/v1/hazards/{h}")
        } else if let Some(p) = s.project_id {
            format!("{base}/api/v1/projects/{p}/casefile")
        } else if let Some(r) = s.route_id {
            format!("{base}/api/v1/routes/{r}")
        } else if let Some(g) = &s.grid_code {
            format!("{base}/api/v1/grids?code={g}")
        } else {
            format!("{base}/api/v1/inbox")
        };
        serde_json::json!({
            "event": item.kind.as_str(),
            "event_zh": item.kind.label_zh(),
            "key": item.key,
            "level": level.index(),
            "level_zh": level.label_zh(),
            "recipient": who,
            "title_zh": item.title_zh,
            "title_en": item.title_en,
            "body_zh": item.body_zh,
            "body_en": item.body_en,
            "due_on": item.due_on.to_string(),
            "project_id": s.project_id,
            "hazard_id": s.hazard_id,
            "grid_code": s.grid_code,
            "route_id": s.route_id,
            "town_code": s.town_code,
            "link": link,
            "created_at": iso(item.at),
            "created_at_beijing": beijing_text(item.at),
        })
    }

    /// Claims the deliveries due now and attempts them at once; each ends
    /// delivered, scheduled again with backoff, or dead.
    pub async fn deliver_due(&self) -> Result<Delivered, StoreError> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_deliveries(now, now + self.settings.lease, 50)
            .await?;
        let mut set = tokio::task::JoinSet::new();
        for d in claimed {
            let this = self.clone();
            set.spawn(async move { this.attempt(d).await });
        }
        let mut out = Delivered::default();
        while let Some(r) = set.join_next().await {
            match r {
                Ok(Ok(Outcome::Delivered)) => out.delivered += 1,
                Ok(Ok(Outcome::Retry)) => out.failed += 1,
                Ok(Ok(Outcome::Dead)) => out.dead += 1,
                Ok(Err(e)) => return Err(e),
                Err(e) => tracing::error!(error = %e, "a delivery task failed"),
            }
        }
        Ok(out)
    }

    async fn attempt(&self, d: Delivery) -> Result<Outcome, StoreError> {
        let Some(channel) = self.channels.iter().find(|c| c.kind() == d.channel) else {
            self.store
                .delivery_failed(d.id, "channel no longer configured", None)
                .await?;
            return Ok(Outcome::Dead);
        };
        let result = channel.deliver(&d, self.clock.now()).await;
        let now = self.clock.now();
        match result {
            Ok(()) => {
                self.store.delivered(d.id, now).await?;
                Ok(Outcome::Delivered)
            }
            Err(e) => {
                let attempts = d.attempts + 1;
                let retry = (attempts < self.settings.max_attempts).then(|| {
                    let shift = u32::try_from(attempts - 1).unwrap_or(0).min(20);
                    let wait = self.settings.backoff * (1_i32 << shift);
                    now + wait.min(self.settings.max_backoff)
                });
                tracing::warn!(delivery = d.id, channel = d.channel.as_str(), attempts, error = %e, dead = retry.is_none(), "delivery failed");
                self.store.delivery_failed(d.id, &e.0, retry).await?;
                Ok(if retry.is_some() {
                    Outcome::Retry
                } else {
                    Outcome::Dead
                })
            }
        }
    }

    /// Runs until `shutdown`: delivers what is due every poll, and computes
    /// the facts every tick and whenever the data version moved.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        let mut version = None;
        let mut last_sync: Option<tokio::time::Instant> = None;
        loop {
            let v = self.store.data_version().await.ok();
            let due = last_sync.is_none_or(|t| t.elapsed() >= self.settings.tick);
            if due || v != version {
                match self.sync().await {
                    Ok(s) if s != Synced::default() => tracing::info!(
                        created = s.created,
                        escalated = s.escalated,
                        resolved = s.resolved,
                        "inbox updated"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "inbox not updated"),
                }
                version = v;
                last_sync = Some(tokio::time::Instant::now());
            }
            if let Err(e) = self.deliver_due().await {
                tracing::warn!(error = %e, "outbox not delivered");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.settings.poll) => {}
            }
        }
    }
}

enum Outcome {
    Delivered,
    Retry,
    Dead,
}

/// The idempotency key of one delivery: the fact, the step, the person and
/// the channel, hashed (so that it fits a header and says nothing).
#[must_use]
pub fn idem_key(key: &str, level: Level, who: &str, channel: &str) -> String {
    let mut h = Sha256::new();
    for part in [key, &level.index().to_string(), who, channel] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("gp-{}", &hex::encode(h.finalize())[..32])
}

/// `now`, or the end of the user's quiet hours when `now` lies in them.
fn after_quiet(p: &Prefs, now: DateTime<Utc>) -> DateTime<Utc> {
    let (Some(from), Some(to)) = (p.quiet_from, p.quiet_to) else {
        return now;
    };
    let local = now.with_timezone(&beijing());
    let m = u16::try_from(local.hour() * 60 + local.minute()).unwrap_or(0);
    let quiet = if from <= to {
        m >= from && m < to
    } else {
        m >= from || m < to
    };
    if !quiet {
        return now;
    }
    let wait = (i64::from(to) - i64::from(m)).rem_euclid(24 * 60);
    let end = now + Duration::minutes(wait);
    end.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_defer_to_their_end() {
        let mut p = Prefs::default_for("a");
        p.quiet_from = Some(22 * 60);
        p.quiet_to = Some(7 * 60);
        // 23:30 Beijing = 15:30 UTC
        let t: DateTime<Utc> = "2026-12-01T15:30:00Z".parse().expect("time");
        assert_eq!(
            after_quiet(&p, t),
            "2026-12-01T23:00:00Z"
                .parse::<DateTime<Utc>>()
                .expect("time")
        );
        let day: DateTime<Utc> = "2026-12-01T04:00:00Z".parse().expect("time");
        assert_eq!(after_quiet(&p, day), day);
    }
}
