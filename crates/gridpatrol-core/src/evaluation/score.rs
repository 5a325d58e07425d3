//! Scoring a town against the table: each measure's points from its
//! measured value or the town's declaration, each item's sum; and the
//! town's self-assessment (自评) beside it, with every claim that stands
//! above what the records measure flagged.

use serde::{Deserialize, Serialize};

use super::measures::{Measured, TownMeasures};
use super::table::{ItemCode, MeasureDef, Rule, Table};
use crate::domain::Invalid;

/// The district's check of a declared measure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Review {
    #[default]
    Pending,
    Confirmed,
    Rejected,
}

impl Review {
    #[must_use]
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Pending => "待核实",
            Self::Confirmed => "已核实",
            Self::Rejected => "核实不通过",
        }
    }
}

/// A document that backs a declaration or a claim (a 文件, 记录, 照片).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The document's title, e.g. 关于成立小微工程管理工作领导小组的通知.
    pub title: String,
    /// Its number (文号), if it has one.
    #[serde(default)]
    pub number: String,
}

/// A town's declaration of a measure the records cannot show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// A declared measure key of the table, e.g. `leading_group`.
    pub key: String,
    pub declared: bool,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// Set by the district only.
    #[serde(default)]
    pub review: Review,
    #[serde(default)]
    pub review_note: String,
}

/// A town's claim on one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub item: ItemCode,
    /// The score the town gives itself.
    pub score: f64,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// 存在问题.
    #[serde(default)]
    pub problems: String,
    /// 计划安排.
    #[serde(default)]
    pub plan: String,
    /// 改进措施.
    #[serde(default)]
    pub measures: String,
}

/// A town's self-assessment (自评) for a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SelfAssessment {
    #[serde(default)]
    pub claims: Vec<Claim>,
    #[serde(default)]
    pub declarations: Vec<Declaration>,
    /// The town's summary of its work (工作汇报).
    #[serde(default)]
    pub summary: String,
}

const MAX_TEXT: usize = 2000;

/// A free text of at most `max` characters without control characters.
fn check_text(field: &str, text: &str, max: usize) -> Result<(), Invalid> {
    if text.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    crate::domain::check_text(field, text)
}

impl SelfAssessment {
    /// Checks the claims and declarations against the table.
    pub fn validate(&self, table: &Table) -> Result<(), Invalid> {
        check_text("summary", &self.summary, MAX_TEXT * 2)?;
        let mut seen = Vec::new();
        for (i, c) in self.claims.iter().enumerate() {
            let f = |n: &str| format!("claims[{i}].{n}");
            let Some(item) = table.item(c.item) else {
                return Err(Invalid::new(f("item"), "is not an item of the table"));
            };
            if seen.contains(&c.item) {
                return Err(Invalid::new(f("item"), "is claimed twice"));
            }
            seen.push(c.item);
            if !c.score.is_finite() || c.score < 0.0 || c.score > item.points() {
                return Err(Invalid::new(
                    f("score"),
                    format!("must be from 0 to {} (the item's points)", item.points()),
                ));
            }
            check_text(&f("problems"), &c.problems, MAX_TEXT)?;
            check_text(&f("plan"), &c.plan, MAX_TEXT)?;
            check_text(&f("measures"), &c.measures, MAX_TEXT)?;
            check_evidence(&f("evidence"), &c.evidence)?;
        }
        let mut keys = Vec::new();
        for (i, d) in self.declarations.iter().enumerate() {
            let f = |n: &str| format!("declarations[{i}].{n}");
            match table.measure(&d.key) {
                Some((_, m)) if m.rule == Rule::Declared => {}
                _ => {
                    return Err(Invalid::new(
                        f("key"),
                        "is not a declared measure of the table",
                    ));
                }
            }
            if keys.contains(&d.key.as_str()) {
                return Err(Invalid::new(f("key"), "is declared twice"));
            }
            keys.push(&d.key);
            check_evidence(&f("evidence"), &d.evidence)?;
            check_text(&f("review_note"), &d.review_note, MAX_TEXT)?;
        }
        Ok(())
    }

    #[must_use]
    pub fn declaration(&self, key: &str) -> Option<&Declaration> {
        self.declarations.iter().find(|d| d.key == key)
    }

    #[must_use]
    pub fn claim(&self, item: ItemCode) -> Option<&Claim> {
        self.claims.iter().find(|c| c.item == item)
    }

    /// Whether the town wrote down problems and a plan (the notice names
    /// the towns whose report "明确了存在问题，且制定了计划安排和改进措施").
    #[must_use]
    pub fn has_problems_and_plan(&self) -> bool {
        let written = |t: &str| !t.trim().is_empty();
        self.claims
            .iter()
            .any(|c| written(&c.problems) && (written(&c.plan) || written(&c.measures)))
    }
}

fn check_evidence(field: &str, ev: &[Evidence]) -> Result<(), Invalid> {
    if ev.len() > 50 {
        return Err(Invalid::new(field, "at most 50 documents"));
    }
    for (i, e) in ev.iter().enumerate() {
        if e.title.trim().is_empty() {
            return Err(Invalid::new(
                format!("{field}[{i}].title"),
                "must not be empty",
            ));
        }
        check_text(&format!("{field}[{i}].title"), &e.title, 200)?;
        check_text(&format!("{field}[{i}].number"), &e.number, 100)?;
    }
    Ok(())
}

/// One measure's points.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureScore {
    pub key: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub unit: &'static str,
    pub value: Option<f64>,
    pub numerator: Option<usize>,
    pub denominator: Option<usize>,
    /// For a declared measure: declared with evidence, and the check.
    pub declared: Option<bool>,
    pub review: Option<Review>,
    pub points: f64,
    pub score: f64,
}

/// One item's points.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemScore {
    pub item: ItemCode,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub bonus: bool,
    pub points: f64,
    pub score: f64,
    pub measures: Vec<MeasureScore>,
}

/// A town's scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TownScore {
    pub town: String,
    pub town_name: String,
    pub items: Vec<ItemScore>,
    /// The six items' sum, out of 100.
    pub total: f64,
    /// The bonus item's points.
    pub bonus: f64,
}

impl TownScore {
    #[must_use]
    pub fn item(&self, code: ItemCode) -> Option<&ItemScore> {
        self.items.iter().find(|i| i.item == code)
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The points of one measure.
#[must_use]
pub fn points(def: &MeasureDef, value: Option<f64>, declaration: Option<&Declaration>) -> f64 {
    let part = match def.rule {
        Rule::Info => 0.0,
        Rule::Declared => match declaration {
            Some(d) if d.declared && !d.evidence.is_empty() && d.review != Review::Rejected => 1.0,
            _ => 0.0,
        },
        Rule::AtLeast { target } => value.map_or(1.0, |v| (v.max(0.0) / target).min(1.0)),
        Rule::AtMost { good, bad } => value.map_or(1.0, |v| {
            if v <= good {
                1.0
            } else if v >= bad {
                0.0
            } else {
                (bad - v) / (bad - good)
            }
        }),
    };
    def.points * part
}

/// Scores a town's measures, with its declarations where it has them.
#[must_use]
pub fn score(table: &Table, m: &TownMeasures, sa: Option<&SelfAssessment>) -> TownScore {
    let mut items = Vec::with_capacity(table.items.len());
    for item in table.items {
        let measures: Vec<MeasureScore> = item
            .measures
            .iter()
            .map(|def| {
                let found = m.get(def.key).cloned().unwrap_or(Measured {
                    key: def.key,
                    value: None,
                    numerator: None,
                    denominator: None,
                });
                let decl = sa.and_then(|s| s.declaration(def.key));
                let declared = (def.rule == Rule::Declared)
                    .then(|| decl.is_some_and(|d| d.declared && !d.evidence.is_empty()));
                MeasureScore {
                    key: def.key,
                    label_zh: def.label_zh,
                    label_en: def.label_en,
                    unit: def.unit,
                    value: found.value,
                    numerator: found.numerator,
                    denominator: found.denominator,
                    declared,
                    review: (def.rule == Rule::Declared)
                        .then(|| decl.map(|d| d.review).unwrap_or_default()),
                    points: def.points,
                    score: round1(points(def, found.value, decl)),
                }
            })
            .collect();
        items.push(ItemScore {
            item: item.code,
            label_zh: item.label_zh,
            label_en: item.label_en,
            bonus: item.bonus,
            points: item.points(),
            score: round1(measures.iter().map(|x| x.score).sum()),
            measures,
        });
    }
    let total = round1(items.iter().filter(|i| !i.bonus).map(|i| i.score).sum());
    let bonus = round1(items.iter().filter(|i| i.bonus).map(|i| i.score).sum());
    TownScore {
        town: m.town.clone(),
        town_name: m.town_name.clone(),
        items,
        total,
        bonus,
    }
}

/// A claim that stands above what the records measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Disagreement {
    pub item: ItemCode,
    pub label_zh: &'static str,
    pub claimed: f64,
    pub measured: f64,
    pub text_zh: String,
    pub text: String,
}

/// The claims above the measured score by more than a tenth of the item's
/// points (at least one point).
#[must_use]
pub fn disagreements(sa: &SelfAssessment, measured: &TownScore) -> Vec<Disagreement> {
    sa.claims
        .iter()
        .filter_map(|c| {
            let item = measured.item(c.item)?;
            let slack = (item.points / 10.0).max(1.0);
            (c.score > item.score + slack).then(|| Disagreement {
                item: c.item,
                label_zh: item.label_zh,
                claimed: c.score,
                measured: item.score,
                text_zh: format!(
                    "{}：自评{}分，数据测得{}分（满分{}分）",
                    item.label_zh, c.score, item.score, item.points
                ),
                text: format!(
                    "{}: claimed {}, measured {} (of {})",
                    item.label_en, c.score, item.score, item.points
                ),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::table::SONGJIANG_2025;

    fn measured(values: &[(&'static str, Option<f64>)]) -> TownMeasures {
        TownMeasures {
            town: "t".into(),
            town_name: "镇".into(),
            values: values
                .iter()
                .map(|(k, v)| Measured {
                    key: k,
                    value: *v,
                    numerator: None,
                    denominator: None,
                })
                .collect(),
        }
    }

    #[test]
    fn rules_give_points_as_defined() {
        let t = &SONGJIANG_2025;
        let (_, filing) = t.measure("filing_rate").expect("m");
        assert!((points(filing, Some(0.5), None) - 4.0).abs() < 1e-9);
        assert!((points(filing, Some(1.2), None) - 8.0).abs() < 1e-9);
        assert!((points(filing, None, None) - 8.0).abs() < 1e-9);
        let (_, days) = t.measure("median_days_to_close").expect("m");
        assert!((points(days, Some(7.0), None) - 2.0).abs() < 1e-9);
        assert!((points(days, Some(18.5), None) - 1.0).abs() < 1e-9);
        assert!(points(days, Some(40.0), None).abs() < 1e-9);
        let (_, group) = t.measure("leading_group").expect("m");
        let mut d = Declaration {
            key: "leading_group".into(),
            declared: true,
            evidence: vec![],
            review: Review::Pending,
            review_note: String::new(),
        };
        assert!(
            points(group, None, Some(&d)).abs() < 1e-9,
            "no evidence, no points"
        );
        d.evidence.push(Evidence {
            title: "关于成立领导小组的通知".into(),
            number: String::new(),
        });
        assert!((points(group, None, Some(&d)) - 4.0).abs() < 1e-9);
        d.review = Review::Rejected;
        assert!(points(group, None, Some(&d)).abs() < 1e-9);
    }

    #[test]
    fn a_claim_above_the_measure_is_flagged() {
        let t = &SONGJIANG_2025;
        let m = measured(&[("notified_before_start", Some(0.5))]);
        let s = score(t, &m, None);
        assert!((s.item(ItemCode::Notice).expect("i").score - 7.5).abs() < 1e-9);
        let sa = SelfAssessment {
            claims: vec![
                Claim {
                    item: ItemCode::Notice,
                    score: 15.0,
                    evidence: vec![],
                    problems: String::new(),
                    plan: String::new(),
                    measures: String::new(),
                },
                Claim {
                    item: ItemCode::Filing,
                    score: 15.0,
                    evidence: vec![],
                    problems: String::new(),
                    plan: String::new(),
                    measures: String::new(),
                },
            ],
            ..SelfAssessment::default()
        };
        sa.validate(t).expect("valid");
        let flags = disagreements(&sa, &s);
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!(flags[0].item, ItemCode::Notice);
        assert!(
            flags[0].text_zh.contains("自评15分"),
            "{}",
            flags[0].text_zh
        );
        let mut over = sa.clone();
        over.claims[0].score = 16.0;
        assert_eq!(
            over.validate(t).expect_err("too high").field,
            "claims[0].score"
        );
    }
}
