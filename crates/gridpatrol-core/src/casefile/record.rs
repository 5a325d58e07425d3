//! The records of a work's case file, each kept as written: 备案 (start and
//! completion filings), 告知承诺 (a notice served on named recipients),
//! 查处 (violations and measures), 移送 (hand-overs), 安全生产责任保险
//! policies, 动火作业 permits, 保温材料 filings, and the marking of a work as
//! outside the 小微工程 scope. Records are never edited: a correction is a
//! new record of the same kind that names the one it corrects.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{DATE_RANGE, Invalid, check_name, check_text, vocabulary};
use crate::time::local_day;

vocabulary! {
    /// A filing's kind: at the start (开工备案) or at completion (竣工备案).
    FilingKind, "filing" {
        Start = "start" ["开工备案", "开工"],
        Completion = "completion" ["竣工备案", "竣工"],
    }
}

vocabulary! {
    /// What was done about a violation (查处措施).
    Measure, "measures" {
        RectifyByDeadline = "rectify_by_deadline" ["责令限期整改"],
        StopWork = "stop_work" ["责令停工", "责令停止施工"],
        Warning = "warning" ["警告", "约谈"],
        Fine = "fine" ["罚款"],
        Other = "other" ["其他"],
    }
}

vocabulary! {
    /// Why a work was handed over (移送).
    HandoverReason, "reason" {
        AboveLimit = "above_limit" ["限额以上工程", "超限额工程"],
        Unpermitted = "unpermitted" ["应报建未报建"],
        IllegalBuilding = "illegal_building" ["违法建设"],
        Other = "other" ["其他"],
    }
}

vocabulary! {
    /// The fire rating of an insulation material (GB 8624).
    FireRating, "fire_rating" {
        A = "a" ["A级", "A"],
        B1 = "b1" ["B1级", "B1"],
        B2 = "b2" ["B2级", "B2"],
        B3 = "b3" ["B3级", "B3"],
    }
}

vocabulary! {
    /// The kind of a case-file record.
    RecordKind, "kind" {
        Filing = "filing" ["备案"],
        Notice = "notice" ["告知承诺"],
        Enforcement = "enforcement" ["查处"],
        Handover = "handover" ["移送"],
        Policy = "policy" ["安全生产责任保险"],
        HotWorkPermit = "hot_work_permit" ["动火审批"],
        InsulationFiling = "insulation_filing" ["保温材料备案"],
        OutOfScope = "out_of_scope" ["不属于小微工程"],
    }
}

/// 开工（竣工）备案.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Filing {
    pub filing: FilingKind,
    /// The filing number (备案编号).
    pub number: String,
    pub date: NaiveDate,
}

/// 告知承诺: a written notice served on named recipients; the signed
/// commitment (承诺书) comes back as an attachment, in a correction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// Who it was served on (the builder's and the contractor's people).
    pub recipients: Vec<String>,
    pub served_on: NaiveDate,
    /// The signed 承诺书 (an attachment id), once it is back.
    #[serde(default)]
    pub commitment: Option<i64>,
}

/// 违法违规行为查处.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Enforcement {
    /// The violations found (违法违规行为).
    pub violations: String,
    pub measures: Vec<Measure>,
    /// The document number (文书编号), e.g. 松建安整〔2025〕12号.
    pub doc_number: String,
    pub date: NaiveDate,
    /// The hazards it concerns (ids).
    #[serde(default)]
    pub hazards: Vec<i64>,
}

/// 移送: a hand-over to a named body and, when it comes back, its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Handover {
    /// The body it was handed to (执法队, 区建管委, …).
    pub to: String,
    pub reason: HandoverReason,
    pub doc_number: String,
    pub date: NaiveDate,
    #[serde(default)]
    pub outcome: Option<String>,
}

/// 安全生产责任保险.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub insurer: String,
    pub number: String,
    /// First and last day covered (Beijing days, inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The sum insured in CNY.
    pub amount_cny: i64,
}

/// 动火作业审批.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HotWorkPermit {
    pub number: String,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Where on site (动火部位).
    pub place: String,
    /// The certified welder (持证焊工) and the certificate number.
    pub welder: String,
    pub welder_certificate: String,
    /// The fire watch (监护人).
    pub guardian: String,
    /// Whether the hot work falls inside the venue's opening hours (the
    /// "八条硬措施" forbid it there).
    pub in_opening_hours: bool,
}

/// 保温材料备案.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InsulationFiling {
    pub material: String,
    pub fire_rating: FireRating,
    /// The quantity with its unit, as written (e.g. "120 m²").
    pub quantity: String,
    pub date: NaiveDate,
}

/// The work is outside the 小微工程 scope (residential repair, a villager's
/// own house, …) and leaves the counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OutOfScope {
    pub reason: String,
}

/// What a record says, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    Filing(Filing),
    Notice(Notice),
    Enforcement(Enforcement),
    Handover(Handover),
    Policy(Policy),
    HotWorkPermit(HotWorkPermit),
    InsulationFiling(InsulationFiling),
    OutOfScope(OutOfScope),
}

/// The longest text a field of a record may hold.
const MAX_TEXT: usize = 500;

fn text(field: &str, s: &str, required: bool) -> Result<(), Invalid> {
    if required {
        check_name(field, s)?;
    } else {
        check_text(field, s)?;
    }
    if s.chars().count() > MAX_TEXT {
        return Err(Invalid::new(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    Ok(())
}

fn date(field: &str, d: NaiveDate) -> Result<(), Invalid> {
    if (DATE_RANGE.0..=DATE_RANGE.1).contains(&d) {
        Ok(())
    } else {
        Err(Invalid::new(
            field,
            "must lie between 2000-01-01 and 2100-12-31",
        ))
    }
}

impl Entry {
    #[must_use]
    pub fn kind(&self) -> RecordKind {
        match self {
            Self::Filing(_) => RecordKind::Filing,
            Self::Notice(_) => RecordKind::Notice,
            Self::Enforcement(_) => RecordKind::Enforcement,
            Self::Handover(_) => RecordKind::Handover,
            Self::Policy(_) => RecordKind::Policy,
            Self::HotWorkPermit(_) => RecordKind::HotWorkPermit,
            Self::InsulationFiling(_) => RecordKind::InsulationFiling,
            Self::OutOfScope(_) => RecordKind::OutOfScope,
        }
    }

    /// The day the record is about (the ledger's windows go by it); a
    /// mark of scope goes by the day it was recorded.
    #[must_use]
    pub fn day(&self, recorded_at: DateTime<Utc>) -> NaiveDate {
        match self {
            Self::Filing(f) => f.date,
            Self::Notice(n) => n.served_on,
            Self::Enforcement(e) => e.date,
            Self::Handover(h) => h.date,
            Self::Policy(p) => p.from,
            Self::HotWorkPermit(p) => local_day(p.from),
            Self::InsulationFiling(f) => f.date,
            Self::OutOfScope(_) => local_day(recorded_at),
        }
    }

    /// The document or filing number, where the record has one.
    #[must_use]
    pub fn number(&self) -> Option<&str> {
        match self {
            Self::Filing(f) => Some(&f.number),
            Self::Enforcement(e) => Some(&e.doc_number),
            Self::Handover(h) => Some(&h.doc_number),
            Self::Policy(p) => Some(&p.number),
            Self::HotWorkPermit(p) => Some(&p.number),
            Self::Notice(_) | Self::InsulationFiling(_) | Self::OutOfScope(_) => None,
        }
    }

    /// Checks the fields; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), Invalid> {
        match self {
            Self::Filing(f) => {
                text("number", &f.number, true)?;
                date("date", f.date)
            }
            Self::Notice(n) => {
                if n.recipients.is_empty() || n.recipients.len() > 20 {
                    return Err(Invalid::new("recipients", "must name 1 to 20 recipients"));
                }
                for (i, r) in n.recipients.iter().enumerate() {
                    text(&format!("recipients[{i}]"), r, true)?;
                }
                date("served_on", n.served_on)
            }
            Self::Enforcement(e) => {
                text("violations", &e.violations, true)?;
                if e.measures.is_empty() {
                    return Err(Invalid::new("measures", "must name at least one measure"));
                }
                text("doc_number", &e.doc_number, true)?;
                date("date", e.date)?;
                if e.hazards.len() > 100 {
                    return Err(Invalid::new("hazards", "at most 100 hazards"));
                }
                Ok(())
            }
            Self::Handover(h) => {
                text("to", &h.to, true)?;
                text("doc_number", &h.doc_number, true)?;
                date("date", h.date)?;
                if let Some(o) = &h.outcome {
                    text("outcome", o, true)?;
                }
                Ok(())
            }
            Self::Policy(p) => {
                text("insurer", &p.insurer, true)?;
                text("number", &p.number, true)?;
                date("from", p.from)?;
                date("to", p.to)?;
                if p.to < p.from {
                    return Err(Invalid::new("to", "is before from"));
                }
                if !(0..=10_000_000_000).contains(&p.amount_cny) {
                    return Err(Invalid::new(
                        "amount_cny",
                        "must be from 0 to 10000000000 CNY",
                    ));
                }
                Ok(())
            }
            Self::HotWorkPermit(p) => {
                text("number", &p.number, true)?;
                text("place", &p.place, true)?;
                text("welder", &p.welder, true)?;
                text("welder_certificate", &p.welder_certificate, true)?;
                text("guardian", &p.guardian, true)?;
                date("from", local_day(p.from))?;
                date("until", local_day(p.until))?;
                if p.until <= p.from {
                    return Err(Invalid::new("until", "must be after from"));
                }
                if p.until - p.from > chrono::Duration::days(31) {
                    return Err(Invalid::new("until", "a permit covers at most 31 days"));
                }
                Ok(())
            }
            Self::InsulationFiling(f) => {
                text("material", &f.material, true)?;
                text("quantity", &f.quantity, true)?;
                date("date", f.date)
            }
            Self::OutOfScope(o) => text("reason", &o.reason, true),
        }
    }
}

/// A new record on a work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordBody {
    pub entry: Entry,
    /// The record this one corrects (same work, same kind); it then stands
    /// in its place.
    #[serde(default)]
    pub corrects: Option<i64>,
    /// Attachment ids (scans, photos, the signed 承诺书).
    #[serde(default)]
    pub documents: Vec<i64>,
    #[serde(default)]
    pub note: String,
}

impl RecordBody {
    pub fn validate(&self) -> Result<(), Invalid> {
        self.entry.validate().map_err(|e| Invalid {
            field: format!("entry.{}", e.field),
            reason: e.reason,
        })?;
        if self.documents.len() > 50 {
            return Err(Invalid::new("documents", "at most 50 attachments"));
        }
        text("note", &self.note, false)
    }
}

/// A stored record, with who recorded it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseRecord {
    pub id: i64,
    pub project_id: i64,
    #[serde(flatten)]
    pub body: RecordBody,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

impl CaseRecord {
    #[must_use]
    pub fn kind(&self) -> RecordKind {
        self.body.entry.kind()
    }

    /// The day it is about.
    #[must_use]
    pub fn day(&self) -> NaiveDate {
        self.body.entry.day(self.recorded_at)
    }
}
