//! The on-site evaluation's field checklist (the notice's section 四:
//! scaffolds, ladders, switch boxes, extension boards, briefing records,
//! missing documents, key posts, steel mezzanines, 应报建未报建) and the
//! comparison of what the evaluators found on a drawn work with what the
//! town had recorded about it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::casefile::{CaseFile, HandoverReason};
use crate::domain::{Invalid, Project, ProjectStatus};
use crate::inspection::{Hazard, HazardKind};

/// The problems of section 四, each with the hazard kind a town's
/// inspection records it under (none for key posts).
pub const PROBLEMS: &[(&str, &str, Option<HazardKind>)] = &[
    (
        "scaffold_guardrail",
        "移动操作脚手架缺失安全防护栏",
        Some(HazardKind::ScaffoldGuardrailMissing),
    ),
    (
        "scaffold_pole_spacing",
        "操作脚手架立杆间距过大",
        Some(HazardKind::ScaffoldPoleSpacing),
    ),
    (
        "ladder_at_height",
        "使用扶梯高处作业",
        Some(HazardKind::LadderAtHeight),
    ),
    (
        "no_switch_box",
        "施工现场未配备开关箱",
        Some(HazardKind::NoSwitchBox),
    ),
    (
        "power_from_secondary_box",
        "用电直接从二级箱引出",
        Some(HazardKind::PowerFromSecondaryBox),
    ),
    (
        "extension_board",
        "使用拖线板",
        Some(HazardKind::ExtensionBoard),
    ),
    (
        "no_safety_briefing",
        "未见工人教育交底记录",
        Some(HazardKind::NoSafetyBriefing),
    ),
    (
        "missing_documents",
        "施工组织设计、专项方案等纸质资料缺失",
        Some(HazardKind::MissingPlan),
    ),
    ("key_posts", "关键岗位履职不到位", None),
    (
        "steel_mezzanine",
        "涉嫌增设钢结构夹层",
        Some(HazardKind::SteelMezzanine),
    ),
    (
        "unpermitted",
        "应报建未报建",
        Some(HazardKind::UnpermittedAboveLimit),
    ),
];

/// The label of a problem code.
#[must_use]
pub fn problem_label(code: &str) -> Option<&'static str> {
    PROBLEMS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, l, _)| *l)
}

/// What the evaluators recorded on one drawn work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SiteFinding {
    /// The problem codes found (of [`PROBLEMS`]); empty: nothing wrong.
    #[serde(default)]
    pub problems: Vec<String>,
    #[serde(default)]
    pub note: String,
    /// Whether the work was found at all (closed, finished, not there).
    #[serde(default = "yes")]
    pub visited: bool,
}

fn yes() -> bool {
    true
}

impl SiteFinding {
    pub fn validate(&self) -> Result<(), Invalid> {
        for (i, p) in self.problems.iter().enumerate() {
            if problem_label(p).is_none() {
                return Err(Invalid::new(
                    format!("problems[{i}]"),
                    format!(
                        "unknown problem {p:?}; expected one of {}",
                        PROBLEMS.iter().map(|x| x.0).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        if self.note.chars().count() > 2000 {
            return Err(Invalid::new("note", "must be at most 2000 characters"));
        }
        crate::domain::check_text("note", &self.note)?;
        if !self.visited && !self.problems.is_empty() {
            return Err(Invalid::new(
                "problems",
                "a work not visited has no problems found",
            ));
        }
        Ok(())
    }
}

/// One drawn work: the town's records beside the evaluators' findings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkComparison {
    pub project_id: i64,
    /// Filed by the town (not only found).
    pub filed: bool,
    /// The town's inspections of the work before the visit.
    pub inspections: usize,
    /// The problems the town had recorded (as hazards, or a hand-over for
    /// 应报建未报建) before the visit.
    pub recorded: Vec<String>,
    /// What the evaluators found; `None` before the visit.
    pub found: Option<Vec<String>>,
    /// Found on site but not in the town's records.
    pub missed: Vec<String>,
}

/// Compares a drawn work's records with the finding, as of `at` (the
/// finding's time; now before the visit).
#[must_use]
pub fn compare(
    project_id: i64,
    project: &Project,
    file: Option<&CaseFile>,
    inspections: &[DateTime<Utc>],
    hazards: &[&Hazard],
    finding: Option<&SiteFinding>,
    at: DateTime<Utc>,
) -> WorkComparison {
    let recorded: Vec<String> = PROBLEMS
        .iter()
        .filter(|(code, _, kind)| {
            let as_hazard =
                kind.is_some_and(|k| hazards.iter().any(|h| h.kind == k && h.found_at <= at));
            let handed_over = *code == "unpermitted"
                && file.is_some_and(|f| {
                    f.handovers().any(|h| {
                        matches!(
                            h.reason,
                            HandoverReason::Unpermitted | HandoverReason::AboveLimit
                        )
                    })
                });
            as_hazard || handed_over
        })
        .map(|(c, _, _)| (*c).to_owned())
        .collect();
    let found = finding.filter(|f| f.visited).map(|f| f.problems.clone());
    let missed = found
        .iter()
        .flatten()
        .filter(|p| !recorded.contains(p))
        .cloned()
        .collect();
    WorkComparison {
        project_id,
        filed: project.status != ProjectStatus::Discovered,
        inspections: inspections.iter().filter(|t| **t <= at).count(),
        recorded,
        found,
        missed,
    }
}

/// A town's drawn works, compared.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TownComparison {
    pub drawn: usize,
    pub visited: usize,
    /// Visited works with a problem found.
    pub with_problems: usize,
    pub problems_found: usize,
    /// Of the problems found, those the town had recorded.
    pub problems_recorded: usize,
    /// Drawn works the town had not filed.
    pub unfiled: usize,
    /// Drawn works the town had never inspected.
    pub never_inspected: usize,
}

/// Adds up a town's comparisons.
#[must_use]
pub fn summarise(works: &[WorkComparison]) -> TownComparison {
    let mut t = TownComparison {
        drawn: works.len(),
        ..TownComparison::default()
    };
    for w in works {
        t.unfiled += usize::from(!w.filed);
        t.never_inspected += usize::from(w.inspections == 0);
        if let Some(found) = &w.found {
            t.visited += 1;
            t.with_problems += usize::from(!found.is_empty());
            t.problems_found += found.len();
            t.problems_recorded += found.len() - w.missed.len();
        }
    }
    t
}
