//! Inspections (检查记录) and hazards (隐患): the closed loop
//! 发现 → 查处 → 整改 → 销项 (find → investigate → rectify → close out).
//!
//! An inspection is a visit by an inspector to a work that records findings;
//! each finding becomes a hazard with a kind, a severity, a rectification
//! deadline and a status that moves only along [`HazardStatus::can_move_to`].
//! Every move is kept as a [`HazardEvent`] with who and when, which is the
//! inspection ledger (检查台账). Pure data and rules: no I/O.
//!
//! A patrol track passing a work is a visit, not an inspection: inspections
//! only come from inspectors' records.

pub mod checklist;
pub mod ledger;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::{DATE_RANGE, Invalid, check_name, vocabulary};

vocabulary! {
    /// What was wrong on site: the hazards the committee's evaluation found,
    /// with the labels inspectors write in their ledgers.
    HazardKind, "kind" {
        ScaffoldGuardrailMissing = "scaffold_guardrail_missing" ["移动脚手架无防护栏杆", "脚手架无防护栏杆", "脚手架无护栏"],
        ScaffoldPoleSpacing = "scaffold_pole_spacing" ["脚手架立杆间距过大", "立杆间距不符合要求"],
        LadderAtHeight = "ladder_at_height" ["使用人字梯登高作业", "登高作业使用梯子"],
        NoSwitchBox = "no_switch_box" ["未设置开关箱", "无开关箱"],
        PowerFromSecondaryBox = "power_from_secondary_box" ["从二级箱直接取电", "二级箱直接取电"],
        ExtensionBoard = "extension_board" ["使用移动插线板", "使用插线板"],
        NoSafetyBriefing = "no_safety_briefing" ["无安全技术交底记录", "无安全交底记录"],
        MissingPlan = "missing_plan" ["无施工方案", "未编制施工方案"],
        SteelMezzanine = "steel_mezzanine" ["违规搭建钢结构夹层", "加建钢结构夹层"],
        UnpermittedAboveLimit = "unpermitted_above_limit" ["应报建未报建", "超限额未报建"],
        HotWorkWithoutPermit = "hot_work_without_permit" ["无动火审批动火作业", "动火作业未审批"],
        InsulationMaterial = "insulation_material" ["保温材料防火措施不到位", "保温材料"],
        Other = "other" ["其他", "其他隐患"],
    }
}

vocabulary! {
    /// How serious a hazard is (一般 / 较大 / 重大隐患).
    Severity, "severity" {
        General = "general" ["一般隐患", "一般"],
        Serious = "serious" ["较大隐患", "较大"],
        Major = "major" ["重大隐患", "重大"],
    }
}

vocabulary! {
    /// Where a hazard is in the closed loop.
    HazardStatus, "status" {
        Open = "open" ["待整改", "未整改"],
        Rectifying = "rectifying" ["整改中"],
        Verified = "verified" ["已复查", "复查合格"],
        Closed = "closed" ["已销项", "销项"],
    }
}

impl HazardStatus {
    /// The legal moves of the closed loop:
    ///
    /// - open → rectifying: the site starts rectifying (整改);
    /// - rectifying → verified: an inspector checks the rectification (复查);
    /// - verified → closed: the hazard is closed out (销项);
    /// - verified → rectifying: the check failed, rectify again.
    ///
    /// Nothing skips a step, nothing leaves `closed`, and staying in the same
    /// status is not a move.
    #[must_use]
    pub fn can_move_to(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Open | Self::Verified, Self::Rectifying)
                | (Self::Rectifying, Self::Verified)
                | (Self::Verified, Self::Closed)
        )
    }

    /// The statuses a hazard in this status may move to.
    #[must_use]
    pub fn next(self) -> Vec<Self> {
        Self::ALL
            .iter()
            .copied()
            .filter(|t| self.can_move_to(*t))
            .collect()
    }

    /// Checks a move.
    pub fn move_to(self, to: Self) -> Result<Self, IllegalTransition> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(IllegalTransition {
                from: self,
                to,
                allowed: self.next(),
            })
        }
    }

    /// Whether the site still has to act (the deadline applies).
    #[must_use]
    pub fn awaits_rectification(self) -> bool {
        matches!(self, Self::Open | Self::Rectifying)
    }
}

/// A status move that the closed loop does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a hazard cannot move from {from} to {to}; {}", allowed_text(.allowed))]
pub struct IllegalTransition {
    pub from: HazardStatus,
    pub to: HazardStatus,
    pub allowed: Vec<HazardStatus>,
}

fn allowed_text(allowed: &[HazardStatus]) -> String {
    if allowed.is_empty() {
        "it is closed (销项) and final".to_owned()
    } else {
        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        format!("from here it may move to {}", names.join(" or "))
    }
}

/// A finding of an inspection, before it is stored as a hazard.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: HazardKind,
    pub severity: Severity,
    /// The rectification deadline (整改期限).
    pub deadline: NaiveDate,
    pub note: String,
    /// Fixed on the spot (当场整改): stored closed at once, its moves
    /// through the loop recorded at the inspection time.
    pub fixed_on_spot: bool,
}

/// A new inspection of a work with its findings.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInspection {
    pub project_id: i64,
    pub inspected_at: DateTime<Utc>,
    pub inspector: String,
    pub note: String,
    pub findings: Vec<Finding>,
    /// Who recorded it (the caller), for the ledger.
    pub recorded_by: String,
    /// The checklist, photos, parties present and position.
    pub detail: checklist::InspectionDetail,
}

/// The most findings one inspection may record.
pub const MAX_FINDINGS: usize = 100;

fn check_note(field: &str, note: &str) -> Result<(), Invalid> {
    if note.chars().count() > 2000 {
        return Err(Invalid::new(field, "must be at most 2000 characters"));
    }
    Ok(())
}

impl NewInspection {
    /// Checks the inspection against the rules of the ledger; `now` bounds
    /// the inspection time (no inspections in the future).
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), Invalid> {
        check_name("inspector", &self.inspector)?;
        check_note("note", &self.note)?;
        // a phone's clock may run a little ahead
        if self.inspected_at > now + chrono::Duration::minutes(10) {
            return Err(Invalid::new("inspected_at", "lies in the future"));
        }
        if self.inspected_at.date_naive() < DATE_RANGE.0 {
            return Err(Invalid::new("inspected_at", "lies before the year 2000"));
        }
        if self.findings.len() > MAX_FINDINGS {
            return Err(Invalid::new(
                "findings",
                format!("at most {MAX_FINDINGS} findings per inspection"),
            ));
        }
        self.detail.validate()?;
        let day = self.inspected_at.date_naive();
        for (i, f) in self.findings.iter().enumerate() {
            if f.deadline > DATE_RANGE.1 {
                return Err(Invalid::new(
                    format!("findings[{i}].deadline"),
                    "must be at most 2100-12-31",
                ));
            }
            if f.deadline < day {
                return Err(Invalid::new(
                    format!("findings[{i}].deadline"),
                    format!("{} is before the inspection day {day}", f.deadline),
                ));
            }
            check_note(&format!("findings[{i}].note"), &f.note)?;
        }
        Ok(())
    }
}

/// A stored inspection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    pub id: i64,
    pub project_id: i64,
    pub inspected_at: DateTime<Utc>,
    pub inspector: String,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A stored hazard.
#[derive(Debug, Clone, PartialEq)]
pub struct Hazard {
    pub id: i64,
    pub inspection_id: i64,
    pub project_id: i64,
    pub kind: HazardKind,
    pub severity: Severity,
    pub deadline: NaiveDate,
    pub status: HazardStatus,
    pub note: String,
    /// When it was found: the inspection time.
    pub found_at: DateTime<Utc>,
    /// When it was closed out, if it was.
    pub closed_at: Option<DateTime<Utc>>,
    /// The last status change.
    pub updated_at: DateTime<Utc>,
}

impl Hazard {
    /// Past its deadline and still not rectified, on day `today`.
    #[must_use]
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status.awaits_rectification() && self.deadline < today
    }

    /// Days past the deadline on `today` (0 when not overdue).
    #[must_use]
    pub fn days_overdue(&self, today: NaiveDate) -> i64 {
        if self.is_overdue(today) {
            (today - self.deadline).num_days()
        } else {
            0
        }
    }

    /// Days from finding to closing out, for closed hazards.
    #[must_use]
    pub fn days_to_close(&self) -> Option<f64> {
        #[expect(
            clippy::cast_precision_loss,
            reason = "durations in seconds are far below 2^52"
        )]
        self.closed_at
            .map(|c| (c - self.found_at).num_seconds() as f64 / 86_400.0)
    }
}

/// One change of a hazard: its finding (`from` is `None`) or a status move.
#[derive(Debug, Clone, PartialEq)]
pub struct HazardEvent {
    pub id: i64,
    pub hazard_id: i64,
    pub from: Option<HazardStatus>,
    pub to: HazardStatus,
    pub at: DateTime<Utc>,
    pub by: String,
    pub note: String,
}

/// A requested status move of a hazard.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub to: HazardStatus,
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl StatusChange {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_note("note", &self.note)?;
        check_name("by", &self.by)
    }
}

/// The median of some values (the mean of the middle two for an even count).
#[must_use]
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        f64::midpoint(values[n / 2 - 1], values[n / 2])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_has_exactly_four_legal_moves() {
        let mut legal = Vec::new();
        for &from in HazardStatus::ALL {
            for &to in HazardStatus::ALL {
                if from.can_move_to(to) {
                    legal.push((from.as_str(), to.as_str()));
                    assert_eq!(from.move_to(to), Ok(to));
                } else {
                    let e = from.move_to(to).expect_err("illegal");
                    assert_eq!((e.from, e.to), (from, to));
                }
            }
        }
        assert_eq!(
            legal,
            [
                ("open", "rectifying"),
                ("rectifying", "verified"),
                ("verified", "rectifying"),
                ("verified", "closed"),
            ]
        );
    }

    #[test]
    fn closed_is_final_and_says_so() {
        let e = HazardStatus::Closed
            .move_to(HazardStatus::Open)
            .expect_err("final");
        assert!(e.to_string().contains("final"), "{e}");
        let e = HazardStatus::Open
            .move_to(HazardStatus::Closed)
            .expect_err("skips steps");
        assert!(e.to_string().contains("rectifying"), "{e}");
    }

    #[test]
    fn kinds_parse_from_api_names_and_ledger_labels() {
        assert_eq!(HazardKind::ALL.len(), 13);
        for k in HazardKind::ALL {
            assert_eq!(k.as_str().parse::<HazardKind>(), Ok(*k));
            assert_eq!(k.label_zh().parse::<HazardKind>(), Ok(*k));
        }
        assert_eq!(
            "应报建未报建".parse(),
            Ok(HazardKind::UnpermittedAboveLimit)
        );
        assert!("unknown".parse::<HazardKind>().is_err());
    }

    #[test]
    fn overdue_only_while_awaiting_rectification() {
        let t = DateTime::parse_from_rfc3339("2026-11-02T09:00:00+08:00")
            .expect("time")
            .with_timezone(&Utc);
        let mut h = Hazard {
            id: 1,
            inspection_id: 1,
            project_id: 1,
            kind: HazardKind::NoSwitchBox,
            severity: Severity::General,
            deadline: NaiveDate::from_ymd_opt(2026, 11, 9).expect("date"),
            status: HazardStatus::Open,
            note: String::new(),
            found_at: t,
            closed_at: None,
            updated_at: t,
        };
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).expect("date");
        assert!(!h.is_overdue(day(9)));
        assert!(h.is_overdue(day(10)));
        assert_eq!(h.days_overdue(day(12)), 3);
        h.status = HazardStatus::Verified;
        assert!(!h.is_overdue(day(12)));
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
