//! What the field records at an inspection beyond its time and note: the
//! checklist of the committee's four areas (安全生产, 消防安全, 文明施工,
//! 工程质量) whose items are the hazards the notice found, photos, the
//! parties present, and the inspector's position with its distance to the
//! work (an inspection recorded 3 km from the site is worth a question).

use serde::{Deserialize, Serialize};

use crate::domain::{Invalid, check_text, vocabulary};

vocabulary! {
    /// An area of the checklist.
    CheckArea, "area" {
        Safety = "safety" ["安全生产"],
        Fire = "fire" ["消防安全"],
        Civilised = "civilised" ["文明施工"],
        Quality = "quality" ["工程质量"],
    }
}

vocabulary! {
    /// The result of one checklist item.
    CheckResult, "result" {
        Pass = "pass" ["符合", "合格"],
        Fail = "fail" ["不符合", "不合格"],
        NotApplicable = "not_applicable" ["不涉及", "不适用"],
    }
}

/// The checklist items: the notice's hazard list (四、抽查项目情况) and the
/// fire-risk requirements (五、5), by area, each with its code and label.
pub const ITEMS: &[(CheckArea, &str, &str)] = &[
    (
        CheckArea::Safety,
        "scaffold_guardrail",
        "移动操作脚手架设置安全防护栏杆",
    ),
    (
        CheckArea::Safety,
        "scaffold_pole_spacing",
        "操作脚手架立杆间距符合要求",
    ),
    (
        CheckArea::Safety,
        "no_ladder_at_height",
        "未使用扶梯进行高处作业",
    ),
    (CheckArea::Safety, "switch_box", "施工现场配备开关箱"),
    (
        CheckArea::Safety,
        "no_power_from_secondary_box",
        "未从二级箱直接引出用电",
    ),
    (CheckArea::Safety, "no_extension_board", "未使用拖线板"),
    (
        CheckArea::Safety,
        "safety_briefing",
        "工人安全教育交底记录齐全",
    ),
    (
        CheckArea::Safety,
        "construction_plan",
        "施工组织设计、专项方案等资料齐全",
    ),
    (CheckArea::Safety, "key_posts", "关键岗位人员到岗履职"),
    (
        CheckArea::Fire,
        "hot_work_permit",
        "动火作业经审批，持证焊工作业，设监护人",
    ),
    (
        CheckArea::Fire,
        "insulation_filed",
        "保温材料已备案，燃烧性能符合要求",
    ),
    (
        CheckArea::Fire,
        "extinguishers",
        "配备灭火器材，消防通道畅通",
    ),
    (CheckArea::Civilised, "hoarding", "施工围挡、标牌设置规范"),
    (CheckArea::Civilised, "tidy_site", "材料堆放整齐，场地整洁"),
    (
        CheckArea::Quality,
        "no_steel_mezzanine",
        "未擅自增设钢结构夹层",
    ),
    (CheckArea::Quality, "permitted", "无应报建未报建情形"),
    (CheckArea::Quality, "materials", "主要材料、构配件质量合格"),
];

/// The label of a checklist item, if it is one.
#[must_use]
pub fn item_label(code: &str) -> Option<(CheckArea, &'static str)> {
    ITEMS
        .iter()
        .find(|(_, c, _)| *c == code)
        .map(|(a, _, l)| (*a, *l))
}

/// One answered checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckItem {
    /// An item code of [`ITEMS`], e.g. `switch_box`.
    pub item: String,
    pub result: CheckResult,
    #[serde(default)]
    pub note: String,
}

/// The inspector's position (WGS-84 degrees).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub lon: f64,
    pub lat: f64,
}

/// What an inspection records beyond time, inspector and note.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InspectionDetail {
    #[serde(default)]
    pub checklist: Vec<CheckItem>,
    /// Photos (attachment ids of the work).
    #[serde(default)]
    pub photos: Vec<i64>,
    /// The parties present (names, e.g. 施工单位 项目负责人 李强).
    #[serde(default)]
    pub parties_present: Vec<String>,
    /// Where the inspector was.
    #[serde(default)]
    pub position: Option<Position>,
    /// Geodesic metres from the position to the work (computed, not sent).
    #[serde(default)]
    pub distance_m: Option<f64>,
}

impl InspectionDetail {
    /// Whether nothing beyond the basics was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.checklist.is_empty()
            && self.photos.is_empty()
            && self.parties_present.is_empty()
            && self.position.is_none()
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        if self.checklist.len() > ITEMS.len() {
            return Err(Invalid::new("checklist", "at most one answer per item"));
        }
        for (i, c) in self.checklist.iter().enumerate() {
            if item_label(&c.item).is_none() {
                let codes: Vec<&str> = ITEMS.iter().map(|(_, c, _)| *c).collect();
                return Err(Invalid::new(
                    format!("checklist[{i}].item"),
                    format!(
                        "unknown item {:?}; expected one of {}",
                        c.item,
                        codes.join(", ")
                    ),
                ));
            }
            if self.checklist[..i].iter().any(|p| p.item == c.item) {
                return Err(Invalid::new(
                    format!("checklist[{i}].item"),
                    format!("{} is answered twice", c.item),
                ));
            }
            check_text(&format!("checklist[{i}].note"), &c.note)?;
            if c.note.chars().count() > 500 {
                return Err(Invalid::new(
                    format!("checklist[{i}].note"),
                    "must be at most 500 characters",
                ));
            }
        }
        if self.photos.len() > 50 {
            return Err(Invalid::new("photos", "at most 50 photos"));
        }
        if self.parties_present.len() > 20 {
            return Err(Invalid::new("parties_present", "at most 20 names"));
        }
        for (i, p) in self.parties_present.iter().enumerate() {
            crate::domain::check_name(&format!("parties_present[{i}]"), p)?;
        }
        if let Some(p) = self.position
            && !(p.lon.is_finite()
                && p.lat.is_finite()
                && (-180.0..=180.0).contains(&p.lon)
                && (-90.0..=90.0).contains(&p.lat))
        {
            return Err(Invalid::new(
                "position",
                "must be WGS-84 lon from -180 to 180 and lat from -90 to 90",
            ));
        }
        Ok(())
    }
}
