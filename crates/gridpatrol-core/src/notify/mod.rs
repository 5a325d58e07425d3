//! Reminders and 督办 (escalation), pure: which facts of the records are
//! late ([`events`]), who owns each and who hears of it as it climbs the
//! chain ([`escalation`]). No I/O and no clock: the caller hands in the
//! records and "today"; the server's worker stores the items and delivers
//! them (`gridpatrol::service::notify`).
//!
//! Every [`Event`] carries a dedupe key naming the fact (the kind, the
//! subject and what makes it that fact, e.g. a hazard's deadline), so that
//! computing the events again — on a schedule and after every write — never
//! makes a second item for the same fact, and a changed deadline is a new one.

pub mod assigned;
pub mod escalation;
pub mod events;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use assigned::AssignedRoute;
pub use escalation::{Chain, Directory, Level, Person, PersonRole, Rules, Step};
pub use events::{Facts, Thresholds, compute};

crate::domain::vocabulary! {
    /// What an inbox item is about.
    EventKind, "kind" {
        HazardDeadlineNear = "hazard_deadline_near" ["隐患整改期限将至"],
        HazardOverdue = "hazard_overdue" ["隐患逾期未整改"],
        InspectionDue = "inspection_due" ["工程应检未检"],
        DiscoveredNotFiled = "discovered_not_filed" ["发现工程逾期未备案"],
        AboveLimitNotHandedOver = "above_limit_not_handed_over" ["超限额工程未移送"],
        NoticeNotServed = "notice_not_served" ["开工前未告知承诺"],
        HotWorkPermitLapsing = "hot_work_permit_lapsing" ["人员密集场所动火审批将到期"],
        GridOverdue = "grid_overdue" ["网格逾期未巡查"],
        RouteAssigned = "route_assigned" ["巡查路线已指派"],
    }
}

impl EventKind {
    /// The English name, for the second line of every text.
    #[must_use]
    pub fn label_en(self) -> &'static str {
        match self {
            Self::HazardDeadlineNear => "hazard deadline near",
            Self::HazardOverdue => "hazard past its deadline",
            Self::InspectionDue => "inspection due",
            Self::DiscoveredNotFiled => "discovered work not filed",
            Self::AboveLimitNotHandedOver => "above-limit work not handed over",
            Self::NoticeNotServed => "notice not served before the start",
            Self::HotWorkPermitLapsing => "hot-work permit lapsing near a crowded venue",
            Self::GridOverdue => "grid not patrolled in time",
            Self::RouteAssigned => "patrol route assigned",
        }
    }
}

/// What an event is about, for the links of an inbox item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub project_id: Option<i64>,
    pub hazard_id: Option<i64>,
    pub grid_code: Option<String>,
    pub route_id: Option<i64>,
    /// The town (code) it lies in, for the town lead of the chain.
    pub town_code: Option<String>,
    /// The zone (code) of its grid, for grid managers granted a zone.
    pub zone_code: Option<String>,
}

/// A late (or soon late) fact, with its texts in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// Names the fact: the same fact computed again has the same key.
    pub key: String,
    pub subject: Subject,
    /// The officer it is assigned to (an inspection's inspector), if any.
    pub officer: Option<String>,
    /// The Beijing day the fact fell (or falls) due; the chain counts from it.
    pub due_on: NaiveDate,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
}
