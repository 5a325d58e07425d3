//! Persistence of the inbox (待办), its chains of escalation (督办) and the
//! durable outbox that delivers them, a part of the [`Store`](super::Store)
//! trait that both backends implement through [`super::sql::notify`].
//!
//! An item is written with its outbox rows in one transaction, and so is
//! every step up its chain: a message is never lost between the item and
//! its delivery. Deliveries are claimed by lease (a worker that died holding
//! one loses it when the lease ends) and carry an idempotency key that the
//! receiver sees on every attempt.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::notify::{EventKind, Subject};

/// A delivery channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Webhook,
    Email,
    Sms,
}

impl ChannelKind {
    pub const ALL: [Self; 3] = [Self::Webhook, Self::Email, Self::Sms];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }

    #[must_use]
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Webhook => "推送接口",
            Self::Email => "电子邮件",
            Self::Sms => "短信",
        }
    }
}

impl std::str::FromStr for ChannelKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| StoreError::Corrupt(format!("notify_outbox.channel: {s:?}")))
    }
}

/// An item to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewItem {
    pub key: String,
    pub kind: EventKind,
    pub owner: String,
    pub level: i64,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub subject: Subject,
    pub due_on: NaiveDate,
    pub at: DateTime<Utc>,
}

/// A delivery to write with an item or a step of its chain.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub recipient: String,
    pub channel: ChannelKind,
    pub address: String,
    /// Unique; the receiver drops a repeat of it.
    pub idem_key: String,
    pub payload: serde_json::Value,
    /// Not before (quiet hours defer a personal channel).
    pub next_at: DateTime<Utc>,
}

/// One step of an item's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChainStep {
    /// 0 the owner, 1 the town lead, 2 the district.
    pub level: i64,
    pub level_zh: &'static str,
    pub recipient: String,
    /// The recipient's name for people, when the user has one.
    pub recipient_name: Option<String>,
    pub at: DateTime<Utc>,
}

/// A stored item.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub id: i64,
    pub key: String,
    pub kind: EventKind,
    pub owner: String,
    pub level: i64,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub subject: Subject,
    pub due_on: NaiveDate,
    /// `open`, `done` or `resolved`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub chain: Vec<ChainStep>,
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub item_id: i64,
    pub recipient: String,
    pub channel: ChannelKind,
    pub address: String,
    pub idem_key: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub next_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A user's channels and quiet hours.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Prefs {
    pub user: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub webhook: bool,
    pub email_on: bool,
    pub sms_on: bool,
    /// Quiet hours, Beijing time, minutes after midnight (`from` > `to`
    /// spans midnight); personal channels wait until they end.
    pub quiet_from: Option<u16>,
    pub quiet_to: Option<u16>,
}

impl Prefs {
    /// Everything on, no addresses: a user who set nothing.
    #[must_use]
    pub fn default_for(user: &str) -> Self {
        Self {
            user: user.to_owned(),
            webhook: true,
            email_on: true,
            sms_on: true,
            ..Self::default()
        }
    }
}

/// A mark a user puts on an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Read,
    Done,
}

/// Which items [`NotifyStore::items`] reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ItemQuery {
    /// Items about this work.
    pub project_id: Option<i64>,
    /// Items that climbed at least this far (1: past the owner).
    pub min_level: i64,
}

#[async_trait]
pub trait NotifyStore {
    /// Creates an item with its first chain step (the owner) and its
    /// deliveries, in one transaction; `None` when an item of that key
    /// exists (the fact is known already).
    async fn create_item(
        &self,
        item: &NewItem,
        deliveries: &[NewDelivery],
    ) -> Result<Option<i64>, StoreError>;

    /// Items still open (neither done nor resolved), by id.
    async fn open_items(&self) -> Result<Vec<StoredItem>, StoreError>;

    /// Climbs an item's chain to `level` (told `recipient`) with its
    /// deliveries, in one transaction; `false` when it is there already.
    async fn escalate(
        &self,
        item_id: i64,
        level: i64,
        recipient: &str,
        at: DateTime<Utc>,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError>;

    /// Closes items whose fact no longer holds.
    async fn resolve_items(&self, ids: &[i64], at: DateTime<Utc>) -> Result<u64, StoreError>;

    /// A user's open items (owned, or escalated to them), newest first.
    async fn inbox(&self, user: &str) -> Result<Vec<StoredItem>, StoreError>;

    /// Items in any state (open, done, resolved) by [`ItemQuery`], oldest
    /// first, with their chains: a work's 督办 for its case file, the
    /// escalated items for the evaluation.
    async fn items(&self, q: &ItemQuery) -> Result<Vec<StoredItem>, StoreError>;

    /// Marks an item of `user`'s (owned or escalated to them); `false`
    /// when it is not theirs or does not exist.
    async fn mark_item(
        &self,
        id: i64,
        user: &str,
        mark: Mark,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Claims up to `limit` deliveries due at `now` until `lease_until`.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// A delivery went through.
    async fn delivered(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// A delivery failed: try again at `retry_at`, or dead-letter it when `None`.
    async fn delivery_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;

    /// Deliveries in a state (`pending`, `delivered`, `dead`; all when
    /// `None`), of one item or all, by id.
    async fn deliveries(
        &self,
        item: Option<i64>,
        state: Option<&str>,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// The stored preferences of these users (absent: none stored).
    async fn prefs(&self, users: &[String]) -> Result<HashMap<String, Prefs>, StoreError>;

    /// Stores a user's preferences.
    async fn set_prefs(&self, prefs: &Prefs) -> Result<(), StoreError>;
}
