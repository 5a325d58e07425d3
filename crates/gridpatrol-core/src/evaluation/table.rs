//! The evaluation table (评价表) as data: the committee's six items
//! (机构设置, 开工（竣工）备案, 告知承诺, 全面纳管, 监督检查, 项目管理) and the
//! bonus item 管理创新, each with the measures the records support and the
//! points they carry. The table is versioned: an evaluation records the
//! version it was scored against, and a new table is a new constant.
//!
//! A measure is either *measured* from the case files, inspections,
//! hazards and patrols, or *declared* by the town with evidence and checked
//! by the district (领导小组, 专门部门, 专人, 培训, and the practices the
//! notice praises).

use serde::Serialize;

/// How a measure's value becomes points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// Full points at `target` or above, linear below it (shares, rates,
    /// counts). No value (nothing to measure) is full points: nothing was
    /// left undone.
    AtLeast { target: f64 },
    /// Full points at `good` or below, none at `bad` or above, linear
    /// between (days to close). No value is full points.
    AtMost { good: f64, bad: f64 },
    /// Declared by the town with evidence; full points unless the district
    /// rejected the declaration.
    Declared,
    /// Shown for information; no points.
    Info,
}

/// One measure of an item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureDef {
    pub key: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    /// What the value is: `share` (0–1), `rate`, `count` or `days`.
    pub unit: &'static str,
    pub rule: Rule,
    pub points: f64,
}

/// The items of the table.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ItemCode {
    Organisation,
    Filing,
    Notice,
    FullManagement,
    Supervision,
    ProjectManagement,
    Innovation,
}

impl ItemCode {
    pub const ALL: [Self; 7] = [
        Self::Organisation,
        Self::Filing,
        Self::Notice,
        Self::FullManagement,
        Self::Supervision,
        Self::ProjectManagement,
        Self::Innovation,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organisation => "organisation",
            Self::Filing => "filing",
            Self::Notice => "notice",
            Self::FullManagement => "full_management",
            Self::Supervision => "supervision",
            Self::ProjectManagement => "project_management",
            Self::Innovation => "innovation",
        }
    }

    #[must_use]
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Organisation => "机构设置",
            Self::Filing => "开工（竣工）备案",
            Self::Notice => "告知承诺",
            Self::FullManagement => "全面纳管",
            Self::Supervision => "监督检查",
            Self::ProjectManagement => "项目管理",
            Self::Innovation => "管理创新",
        }
    }

    #[must_use]
    pub fn label_en(self) -> &'static str {
        match self {
            Self::Organisation => "Organisation",
            Self::Filing => "Start and completion filing",
            Self::Notice => "Written notice",
            Self::FullManagement => "Full management",
            Self::Supervision => "Supervision",
            Self::ProjectManagement => "Project management",
            Self::Innovation => "Management innovation",
        }
    }
}

impl std::str::FromStr for ItemCode {
    type Err = crate::domain::Invalid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|i| i.as_str() == t || i.label_zh() == t)
            .ok_or_else(|| {
                crate::domain::Invalid::new(
                    "item",
                    format!(
                        "unknown item {t:?}; expected one of {}",
                        Self::ALL.map(Self::as_str).join(", ")
                    ),
                )
            })
    }
}

/// One item of the table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemDef {
    pub code: ItemCode,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    /// A bonus item adds to the total above 100.
    pub bonus: bool,
    pub measures: &'static [MeasureDef],
}

impl ItemDef {
    /// The most points the item can give.
    #[must_use]
    pub fn points(&self) -> f64 {
        self.measures.iter().map(|m| m.points).sum()
    }
}

/// A versioned evaluation table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Table {
    pub version: &'static str,
    pub title: &'static str,
    pub items: &'static [ItemDef],
}

impl Table {
    /// The item of a code.
    #[must_use]
    pub fn item(&self, code: ItemCode) -> Option<&ItemDef> {
        self.items.iter().find(|i| i.code == code)
    }

    /// The measure of a key, with its item.
    #[must_use]
    pub fn measure(&self, key: &str) -> Option<(&ItemDef, &MeasureDef)> {
        self.items
            .iter()
            .find_map(|i| i.measures.iter().find(|m| m.key == key).map(|m| (i, m)))
    }

    /// The table of a version.
    #[must_use]
    pub fn of_version(version: &str) -> Option<&'static Self> {
        [&SONGJIANG_2025].into_iter().find(|t| t.version == version)
    }
}

const fn m(
    key: &'static str,
    label_zh: &'static str,
    label_en: &'static str,
    unit: &'static str,
    rule: Rule,
    points: f64,
) -> MeasureDef {
    MeasureDef {
        key,
        label_zh,
        label_en,
        unit,
        rule,
        points,
    }
}

const SHARE: Rule = Rule::AtLeast { target: 1.0 };

const fn item(code: ItemCode, bonus: bool, measures: &'static [MeasureDef]) -> ItemDef {
    let (label_zh, label_en) = match code {
        ItemCode::Organisation => ("机构设置", "Organisation"),
        ItemCode::Filing => ("开工（竣工）备案", "Start and completion filing"),
        ItemCode::Notice => ("告知承诺", "Written notice"),
        ItemCode::FullManagement => ("全面纳管", "Full management"),
        ItemCode::Supervision => ("监督检查", "Supervision"),
        ItemCode::ProjectManagement => ("项目管理", "Project management"),
        ItemCode::Innovation => ("管理创新", "Management innovation"),
    };
    ItemDef {
        code,
        label_zh,
        label_en,
        bonus,
        measures,
    }
}

/// The Songjiang table after 沪松建管〔2023〕156号 and the 2025 notice:
/// 100 points in six items and up to 10 bonus points.
pub const SONGJIANG_2025: Table = Table {
    version: "songjiang-2025.1",
    title: "松江区小微工程管理专项评价表（2025版）",
    items: &[
        item(
            ItemCode::Organisation,
            false,
            &[
                m(
                    "leading_group",
                    "成立小微工程管理工作领导小组",
                    "Leading group set up",
                    "declared",
                    Rule::Declared,
                    4.0,
                ),
                m(
                    "department",
                    "设立专门管理部门",
                    "Dedicated department",
                    "declared",
                    Rule::Declared,
                    4.0,
                ),
                m(
                    "staff",
                    "安排专人负责",
                    "Designated staff",
                    "declared",
                    Rule::Declared,
                    4.0,
                ),
                m(
                    "training",
                    "开展业务培训",
                    "Training held",
                    "declared",
                    Rule::Declared,
                    3.0,
                ),
            ],
        ),
        item(
            ItemCode::Filing,
            false,
            &[
                m(
                    "filing_rate",
                    "开工备案率",
                    "Share of works filed at start",
                    "share",
                    SHARE,
                    8.0,
                ),
                m(
                    "filing_complete",
                    "备案资料完整率",
                    "Share of filings complete",
                    "share",
                    SHARE,
                    7.0,
                ),
            ],
        ),
        item(
            ItemCode::Notice,
            false,
            &[m(
                "notified_before_start",
                "开工前书面告知率",
                "Share notified before the start",
                "share",
                SHARE,
                15.0,
            )],
        ),
        item(
            ItemCode::FullManagement,
            false,
            &[
                m(
                    "social_managed",
                    "社会投资项目纳管率",
                    "Share of socially funded works under management",
                    "share",
                    SHARE,
                    8.0,
                ),
                m(
                    "found_works",
                    "排摸发现工程数",
                    "Works found by sweeping",
                    "count",
                    Rule::AtLeast { target: 5.0 },
                    4.0,
                ),
                m(
                    "found_managed",
                    "发现工程纳管率",
                    "Share of found works brought under management",
                    "share",
                    SHARE,
                    4.0,
                ),
                m(
                    "handed_over",
                    "限额以上工程移交率",
                    "Share of above-limit works handed over",
                    "share",
                    SHARE,
                    4.0,
                ),
                m(
                    "days_to_handover",
                    "移交天数（中位数）",
                    "Median days to hand over",
                    "days",
                    Rule::Info,
                    0.0,
                ),
            ],
        ),
        item(
            ItemCode::Supervision,
            false,
            &[
                m(
                    "inspected_after_filing",
                    "备案后检查率",
                    "Share of filed works inspected",
                    "share",
                    SHARE,
                    8.0,
                ),
                m(
                    "inspections_per_work_month",
                    "每项目每月检查次数",
                    "Inspections per work per month",
                    "rate",
                    Rule::AtLeast { target: 2.0 },
                    4.0,
                ),
                m(
                    "hazards_closed_in_time",
                    "隐患按期整改率",
                    "Share of hazards closed by their deadline",
                    "share",
                    SHARE,
                    4.0,
                ),
                m(
                    "median_days_to_close",
                    "隐患整改天数（中位数）",
                    "Median days to close a hazard",
                    "days",
                    Rule::AtMost {
                        good: 7.0,
                        bad: 30.0,
                    },
                    2.0,
                ),
                m(
                    "escalated_items",
                    "督办事项数（逾期升级）",
                    "Overdue items escalated past their owner",
                    "count",
                    Rule::Info,
                    0.0,
                ),
                m(
                    "escalated_closed",
                    "督办事项办结率",
                    "Share of escalated items closed",
                    "share",
                    SHARE,
                    2.0,
                ),
            ],
        ),
        item(
            ItemCode::ProjectManagement,
            false,
            &[
                m(
                    "insured",
                    "安全生产责任保险投保率",
                    "Share of works insured",
                    "share",
                    SHARE,
                    5.0,
                ),
                m(
                    "hot_work_permitted",
                    "人员密集场所动火审批率",
                    "Share of hot work near crowded venues permitted",
                    "share",
                    SHARE,
                    5.0,
                ),
                m(
                    "insulation_filed",
                    "保温材料备案率",
                    "Share of insulation filed",
                    "share",
                    SHARE,
                    3.0,
                ),
                m(
                    "completion_filed",
                    "竣工备案率",
                    "Share of finished works with a completion filing",
                    "share",
                    SHARE,
                    2.0,
                ),
            ],
        ),
        item(
            ItemCode::Innovation,
            true,
            &[
                m(
                    "one_stop_plan",
                    "商圈小微工程“一揽子纳管计划”",
                    "One-stop plan for commercial districts",
                    "declared",
                    Rule::Declared,
                    2.0,
                ),
                m(
                    "shop_notice",
                    "“开店一件事”商户告知",
                    "Notice at shop opening",
                    "declared",
                    Rule::Declared,
                    2.0,
                ),
                m(
                    "third_party",
                    "引入第三方安全技术服务",
                    "Third-party safety services",
                    "declared",
                    Rule::Declared,
                    2.0,
                ),
                m(
                    "street_sweep",
                    "安全员“扫街式”巡查",
                    "Street sweeps by safety officers",
                    "declared",
                    Rule::Declared,
                    2.0,
                ),
                m(
                    "digital_platform",
                    "信息化管理平台",
                    "Digital management platform",
                    "declared",
                    Rule::Declared,
                    2.0,
                ),
            ],
        ),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_items_make_a_hundred_and_the_bonus_ten() {
        let t = &SONGJIANG_2025;
        let base: f64 = t
            .items
            .iter()
            .filter(|i| !i.bonus)
            .map(ItemDef::points)
            .sum();
        let bonus: f64 = t
            .items
            .iter()
            .filter(|i| i.bonus)
            .map(ItemDef::points)
            .sum();
        assert!((base - 100.0).abs() < 1e-9, "{base}");
        assert!((bonus - 10.0).abs() < 1e-9, "{bonus}");
        assert_eq!(t.items.iter().filter(|i| !i.bonus).count(), 6);
        for i in t.items {
            assert_eq!(i.label_zh, i.code.label_zh());
        }
        let mut keys: Vec<&str> = t
            .items
            .iter()
            .flat_map(|i| i.measures.iter().map(|m| m.key))
            .collect();
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n, "measure keys are unique");
        assert_eq!(Table::of_version("songjiang-2025.1"), Some(&SONGJIANG_2025));
    }
}
