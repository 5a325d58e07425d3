//! The inbox (待办) over HTTP: `GET /api/v1/inbox` lists the caller's open
//! items (owned, or escalated to them), newest first, with links to the
//! work, hazard or grid and the chain of escalation (督办); `POST
//! .../{id}/read` and `.../{id}/done` mark one; `GET`/`PUT
//! /api/v1/inbox/preferences` are the caller's channels and quiet hours;
//! admins read the dead letters at `GET /api/v1/notifications/dead`.

use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::audit::Audited;
use super::error::{ApiError, ApiResult};
use super::extract::{Id, Json};
use crate::auth::{Action, Caller};
use crate::notify::{EventKind, Level};
use crate::store::notify::{ChainStep, Delivery, Mark, Prefs, StoredItem};
use crate::time::beijing_text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(mark_read))
        .routes(routes!(mark_done))
        .routes(routes!(get_prefs, put_prefs))
        .routes(routes!(dead_letters))
}

/// Where an item points.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemLinks {
    /// The work's case file.
    work: Option<String>,
    hazard: Option<String>,
    grid: Option<String>,
    route: Option<String>,
}

/// One item of the inbox.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InboxItem {
    id: i64,
    kind: EventKind,
    /// 事项类型, e.g. 隐患逾期未整改.
    kind_zh: &'static str,
    kind_en: &'static str,
    title_zh: String,
    title_en: String,
    body_zh: String,
    body_en: String,
    /// The user who owns it.
    owner: String,
    /// The owner's name for people, when the user has one.
    owner_name: Option<String>,
    /// How far it has climbed: 0 the owner, 1 the town lead, 2 the district.
    level: i64,
    level_zh: &'static str,
    /// The Beijing day it fell due.
    due_on: NaiveDate,
    created_at: DateTime<Utc>,
    /// Beijing time, `YYYY-MM-DD HH:MM`.
    created_at_beijing: String,
    read: bool,
    project_id: Option<i64>,
    hazard_id: Option<i64>,
    grid_code: Option<String>,
    town_code: Option<String>,
    links: ItemLinks,
    /// The chain of escalation (督办), lowest first.
    chain: Vec<ChainStep>,
}

impl InboxItem {
    fn new(mut i: StoredItem, names: &crate::service::users::Names) -> Self {
        crate::service::supervision::name_chain(&mut i.chain, names);
        let s = i.subject;
        Self {
            id: i.id,
            kind: i.kind,
            kind_zh: i.kind.label_zh(),
            kind_en: i.kind.label_en(),
            title_zh: i.title_zh,
            title_en: i.title_en,
            body_zh: i.body_zh,
            body_en: i.body_en,
            owner_name: names.get(&i.owner).cloned(),
            owner: i.owner,
            level: i.level,
            level_zh: Level::from_index(i.level).label_zh(),
            due_on: i.due_on,
            created_at_beijing: beijing_text(i.created_at),
            created_at: i.created_at,
            read: i.read_at.is_some(),
            links: ItemLinks {
                work: s
                    .project_id
                    .map(|p| format!("/api/v1/projects/{p}/casefile")),
                hazard: s.hazard_id.map(|h| format!("/api/v1/hazards/{h}")),
                grid: s
                    .grid_code
                    .as_ref()
                    .map(|g| format!("/api/v1/grids?code={g}")),
                route: s.route_id.map(|r| format!("/api/v1/routes/{r}")),
            },
            project_id: s.project_id,
            hazard_id: s.hazard_id,
            grid_code: s.grid_code,
            town_code: s.town_code,
            chain: i.chain,
        }
    }
}

/// The caller's open items.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Inbox {
    /// Open items not read yet (the badge).
    unread: usize,
    total: usize,
    items: Vec<InboxItem>,
}

/// The caller's open items, newest first.
#[utoipa::path(get, path = "/api/v1/inbox", operation_id = "listInbox", tag = "inbox",
    responses((status = 200, description = "the caller's open items (owned, or escalated to them), newest first", body = Inbox)))]
pub async fn list(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<Inbox>> {
    let stored = st.store.inbox(&caller.user).await?;
    let names = if stored.is_empty() {
        std::collections::HashMap::new()
    } else {
        crate::service::users::display_names(&st.store).await?
    };
    let items: Vec<InboxItem> = stored
        .into_iter()
        .map(|i| InboxItem::new(i, &names))
        .collect();
    Ok(Json(Inbox {
        unread: items.iter().filter(|i| !i.read).count(),
        total: items.len(),
        items,
    }))
}

/// An item's mark, as stored.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Marked {
    id: i64,
    /// `read` or `done`.
    mark: &'static str,
}

async fn mark(st: &AppState, caller: &Caller, id: i64, m: Mark) -> ApiResult<Json<Marked>> {
    if st.store.mark_item(id, &caller.user, m, Utc::now()).await? {
        let mark = if matches!(m, Mark::Done) {
            "done"
        } else {
            "read"
        };
        Ok(Json(Marked { id, mark }))
    } else {
        Err(ApiError::not_found(format!("inbox item {id}")))
    }
}

/// Marks an item read.
#[utoipa::path(post, path = "/api/v1/inbox/{id}/read", operation_id = "markInboxItemRead", tag = "inbox",
    params(("id" = i64, Path)),
    responses((status = 200, description = "marked read", body = Marked),
              (status = 404, description = "no such item of the caller's", body = super::error::Problem)))]
pub async fn mark_read(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<(Audited, Json<Marked>)> {
    let s = mark(&st, &caller, id, Mark::Read).await?;
    Ok((
        Audited::changed("inbox_item", id, serde_json::json!({"mark": "read"})),
        s,
    ))
}

/// Marks an item done: it leaves the inbox, and the same fact never comes back as a new item.
#[utoipa::path(post, path = "/api/v1/inbox/{id}/done", operation_id = "markInboxItemDone", tag = "inbox",
    params(("id" = i64, Path)),
    responses((status = 200, description = "marked done", body = Marked),
              (status = 404, description = "no such item of the caller's", body = super::error::Problem)))]
pub async fn mark_done(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<(Audited, Json<Marked>)> {
    let s = mark(&st, &caller, id, Mark::Done).await?;
    Ok((
        Audited::changed("inbox_item", id, serde_json::json!({"mark": "done"})),
        s,
    ))
}

/// The caller's channels and quiet hours.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrefsIn {
    /// E-mail address for reminders.
    email: Option<String>,
    /// Mobile number for SMS (digits, optionally `+86`).
    phone: Option<String>,
    #[serde(default = "yes")]
    webhook: bool,
    #[serde(default = "yes")]
    email_on: bool,
    #[serde(default = "yes")]
    sms_on: bool,
    /// Quiet hours from, `HH:MM` Beijing time: e-mail and SMS wait until they end.
    quiet_from: Option<String>,
    /// Quiet hours to, `HH:MM` Beijing time.
    quiet_to: Option<String>,
}

fn yes() -> bool {
    true
}

fn minutes(field: &str, v: Option<&str>) -> Result<Option<u16>, ApiError> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = || ApiError::invalid(field, "must be a time HH:MM (00:00 to 23:59)");
    let (h, m) = v.split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(Some(h * 60 + m))
}

fn hhmm(m: Option<u16>) -> Option<String> {
    m.map(|m| format!("{:02}:{:02}", m / 60, m % 60))
}

impl PrefsIn {
    fn into_prefs(self, user: &str) -> Result<Prefs, ApiError> {
        let email = self
            .email
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty());
        if let Some(e) = &email {
            let ok = e.len() <= 254
                && e.split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
                && !e.chars().any(char::is_whitespace);
            if !ok {
                return Err(ApiError::invalid(
                    "email",
                    "must be an e-mail address like name@example.cn",
                ));
            }
        }
        let phone = self
            .phone
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty());
        if let Some(p) = &phone {
            let digits = p.strip_prefix('+').unwrap_or(p);
            if !(6..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(ApiError::invalid(
                    "phone",
                    "must be a phone number of 6 to 15 digits, optionally with a leading +",
                ));
            }
        }
        let quiet_from = minutes("quiet_from", self.quiet_from.as_deref())?;
        let quiet_to = minutes("quiet_to", self.quiet_to.as_deref())?;
        if quiet_from.is_some() != quiet_to.is_some() {
            return Err(ApiError::invalid(
                "quiet_to",
                "quiet hours need both quiet_from and quiet_to",
            ));
        }
        Ok(Prefs {
            user: user.to_owned(),
            email,
            phone,
            webhook: self.webhook,
            email_on: self.email_on,
            sms_on: self.sms_on,
            quiet_from,
            quiet_to,
        })
    }

    fn from_prefs(p: Prefs) -> Self {
        Self {
            email: p.email,
            phone: p.phone,
            webhook: p.webhook,
            email_on: p.email_on,
            sms_on: p.sms_on,
            quiet_from: hhmm(p.quiet_from),
            quiet_to: hhmm(p.quiet_to),
        }
    }
}

/// The caller's channels and quiet hours.
#[utoipa::path(get, path = "/api/v1/inbox/preferences", operation_id = "getInboxPreferences", tag = "inbox",
    responses((status = 200, description = "the caller's channels and quiet hours (defaults when never set)", body = PrefsIn)))]
pub async fn get_prefs(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<PrefsIn>> {
    let p = st
        .store
        .prefs(std::slice::from_ref(&caller.user))
        .await?
        .remove(&caller.user)
        .unwrap_or_else(|| Prefs::default_for(&caller.user));
    Ok(Json(PrefsIn::from_prefs(p)))
}

/// Sets the caller's channels and quiet hours.
#[utoipa::path(put, path = "/api/v1/inbox/preferences", operation_id = "putInboxPreferences", tag = "inbox",
    request_body = PrefsIn,
    responses((status = 200, description = "stored", body = PrefsIn),
              (status = 422, description = "an invalid address, number or time", body = super::error::Problem)))]
pub async fn put_prefs(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<PrefsIn>,
) -> ApiResult<Json<PrefsIn>> {
    let p = body.into_prefs(&caller.user)?;
    st.store.set_prefs(&p).await?;
    Ok(Json(PrefsIn::from_prefs(p)))
}

/// Deliveries that failed too often.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeadLetters {
    total: usize,
    items: Vec<Delivery>,
}

/// The dead letters: deliveries given up after the last retry, for admins.
#[utoipa::path(get, path = "/api/v1/notifications/dead", operation_id = "listDeadLetters", tag = "inbox",
    responses((status = 200, description = "dead-lettered deliveries by id, with their last error", body = DeadLetters),
              (status = 403, description = "not an admin", body = super::error::Problem)))]
pub async fn dead_letters(
    State(st): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<DeadLetters>> {
    caller.require(Action::ReadAudit)?;
    let items = st.store.deliveries(None, Some("dead")).await?;
    Ok(Json(DeadLetters {
        total: items.len(),
        items,
    }))
}
