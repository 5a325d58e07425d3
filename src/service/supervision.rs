//! 督办 as the records show it: the items of a work with their chains, for
//! its case file (一工地一档), and the escalated items of every town, for
//! the evaluation (逾期事项督办办结率). People are named by their names.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::ServiceError;
use super::users::Names;
use crate::evaluation::Escalated;
use crate::notify::{EventKind, Level};
use crate::store::DynStore;
use crate::store::notify::{ChainStep, ItemQuery, StoredItem};
use crate::time::beijing_text;

/// An item of 督办 about a work, as its case file shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupervisionItem {
    pub id: i64,
    pub kind: EventKind,
    /// 事项类型, e.g. 隐患逾期未整改.
    pub kind_zh: &'static str,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    /// `open`, `done` (its owner marked it handled) or `resolved` (the
    /// fact no longer holds: the hazard was verified, the work filed).
    pub status: String,
    pub status_zh: &'static str,
    /// How far it climbed: 0 the owner, 1 the town lead, 2 the district.
    pub level: i64,
    pub level_zh: &'static str,
    pub owner: String,
    /// The owner's name for people, when the user has one.
    pub owner_name: Option<String>,
    /// The Beijing day it fell due.
    pub due_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    /// Beijing time, `YYYY-MM-DD HH:MM`.
    pub created_at_beijing: String,
    pub closed_at: Option<DateTime<Utc>>,
    /// The chain, lowest first, each step with who was told and when.
    pub chain: Vec<ChainStep>,
}

/// What a status is called.
#[must_use]
pub fn status_zh(status: &str) -> &'static str {
    match status {
        "open" => "办理中",
        "done" => "已办结（责任人确认）",
        "resolved" => "已办结（事项已消除）",
        _ => "未知",
    }
}

/// The chain's recipients named for people.
pub fn name_chain(chain: &mut [ChainStep], names: &Names) {
    for s in chain {
        s.recipient_name = names.get(&s.recipient).cloned();
    }
}

impl SupervisionItem {
    #[must_use]
    pub fn new(mut i: StoredItem, names: &Names) -> Self {
        name_chain(&mut i.chain, names);
        Self {
            id: i.id,
            kind: i.kind,
            kind_zh: i.kind.label_zh(),
            title_zh: i.title_zh,
            title_en: i.title_en,
            body_zh: i.body_zh,
            status_zh: status_zh(&i.status),
            status: i.status,
            level: i.level,
            level_zh: Level::from_index(i.level).label_zh(),
            owner_name: names.get(&i.owner).cloned(),
            owner: i.owner,
            due_on: i.due_on,
            created_at_beijing: beijing_text(i.created_at),
            created_at: i.created_at,
            closed_at: i.closed_at,
            chain: i.chain,
        }
    }
}

/// The items as the printed case file lists them: 事项, 期限, 状态 and the
/// chain ("责任人 夏卫国（2026-11-26 10:00）→ 街镇督办 …"), a header first.
#[must_use]
pub fn table(items: &[SupervisionItem]) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "督办事项".to_owned(),
        "期限".to_owned(),
        "状态".to_owned(),
        "督办链".to_owned(),
    ]];
    rows.extend(items.iter().map(|i| {
        let chain = i
            .chain
            .iter()
            .map(|s| {
                format!(
                    "{} {}（{}）",
                    s.level_zh,
                    s.recipient_name.as_deref().unwrap_or(&s.recipient),
                    beijing_text(s.at)
                )
            })
            .collect::<Vec<_>>()
            .join(" → ");
        vec![
            i.title_zh.clone(),
            i.due_on.to_string(),
            i.status_zh.to_owned(),
            chain,
        ]
    }));
    rows
}

/// The 督办 items of a work, oldest first, named with `names`.
pub async fn of_work(
    store: &DynStore,
    project_id: i64,
    names: &Names,
) -> Result<Vec<SupervisionItem>, ServiceError> {
    Ok(store
        .items(&ItemQuery {
            project_id: Some(project_id),
            min_level: 0,
        })
        .await?
        .into_iter()
        .map(|i| SupervisionItem::new(i, names))
        .collect())
}

/// Every item that climbed past its owner, as the evaluation counts them.
pub async fn escalated(store: &DynStore) -> Result<Vec<Escalated>, ServiceError> {
    Ok(store
        .items(&ItemQuery {
            project_id: None,
            min_level: 1,
        })
        .await?
        .into_iter()
        .filter_map(|i| {
            Some(Escalated {
                town: i.subject.town_code?,
                due_on: i.due_on,
                closed: i.status != "open",
            })
        })
        .collect())
}
