//! The evaluation as a workbook: one row per town and item (measured and
//! claimed), every measure with its numerator and denominator, the
//! self-assessments' claims, and the drawn works with what was found on
//! site beside the town's records. Chinese headers, Beijing time.

use super::evaluation::{Overview, TownEvaluation};
use super::evaluation_report::{pct, score_text};
use super::workbook::Sheet;
use crate::evaluation::site::problem_label;
use crate::time::beijing_text;

fn sheet(name: &'static str, headers: &[&'static str]) -> Sheet {
    Sheet {
        name,
        headers: headers.to_vec(),
        rows: Vec::new(),
    }
}

/// The items' points and every measure of a town.
fn scores(t: &TownEvaluation, scores: &mut Sheet, measures: &mut Sheet) {
    let sa = t.self_assessment.as_ref();
    for i in &t.measured.items {
        let claim = sa.and_then(|a| a.body.claim(i.item));
        scores.rows.push(vec![
            t.town_name.clone(),
            i.label_zh.to_owned(),
            score_text(i.points),
            score_text(i.score),
            claim.map(|c| score_text(c.score)).unwrap_or_default(),
            if i.bonus { "是" } else { "否" }.to_owned(),
        ]);
        for m in &i.measures {
            let v = match (m.unit, m.value) {
                ("share", Some(v)) => pct(Some(v)),
                (_, Some(v)) => score_text((v * 100.0).round() / 100.0),
                (_, None) => "—".to_owned(),
            };
            measures.rows.push(vec![
                t.town_name.clone(),
                i.label_zh.to_owned(),
                m.label_zh.to_owned(),
                v,
                m.numerator.map(|n| n.to_string()).unwrap_or_default(),
                m.denominator.map(|n| n.to_string()).unwrap_or_default(),
                m.declared
                    .map(|d| if d { "已申报" } else { "未申报" }.to_owned())
                    .unwrap_or_default(),
                m.review
                    .map(|r| r.label_zh().to_owned())
                    .unwrap_or_default(),
                score_text(m.points),
                score_text(m.score),
            ]);
        }
    }
}

/// A town's claims.
fn claims(t: &TownEvaluation, out: &mut Sheet) {
    let Some(a) = &t.self_assessment else { return };
    for c in &a.body.claims {
        out.rows.push(vec![
            t.town_name.clone(),
            a.status_zh.to_owned(),
            a.submitted_by.clone().unwrap_or_default(),
            a.submitted_at.map(beijing_text).unwrap_or_default(),
            c.item.label_zh().to_owned(),
            score_text(c.score),
            c.problems.clone(),
            c.plan.clone(),
            c.measures.clone(),
            c.evidence
                .iter()
                .map(|e| e.title.clone())
                .collect::<Vec<_>>()
                .join("；"),
        ]);
    }
}

/// A town's drawn works, found on site beside its records.
fn drawn(t: &TownEvaluation, out: &mut Sheet) {
    let label = |v: &[String]| {
        v.iter()
            .filter_map(|p| problem_label(p))
            .collect::<Vec<_>>()
            .join("、")
    };
    for w in t.draw.iter().flat_map(|d| &d.works) {
        let c = &w.comparison;
        let recorded: Vec<String> = c
            .found
            .iter()
            .flatten()
            .filter(|p| !c.missed.contains(p))
            .cloned()
            .collect();
        out.rows.push(vec![
            t.town_name.clone(),
            w.code.clone(),
            w.name.clone(),
            w.funding_zh.to_owned(),
            w.category_zh.to_owned(),
            if c.filed { "是" } else { "否" }.to_owned(),
            c.inspections.to_string(),
            c.found
                .as_deref()
                .map_or_else(|| "未核查".to_owned(), label),
            label(&recorded),
            label(&c.missed),
            w.recorded_by.clone().unwrap_or_default(),
            w.recorded_at.map(beijing_text).unwrap_or_default(),
        ]);
    }
}

/// The evaluation as workbook sheets.
#[must_use]
pub fn sheets(o: &Overview) -> Vec<Sheet> {
    let mut points = sheet(
        "评价得分",
        &[
            "街镇",
            "评价项目",
            "满分",
            "数据测得",
            "自评得分",
            "是否加分项",
        ],
    );
    let mut measures = sheet(
        "评价指标",
        &[
            "街镇",
            "评价项目",
            "指标",
            "数值",
            "分子",
            "分母",
            "申报",
            "核实",
            "分值",
            "得分",
        ],
    );
    let mut claimed = sheet(
        "自评",
        &[
            "街镇",
            "状态",
            "提交人",
            "提交时间",
            "评价项目",
            "自评得分",
            "存在问题",
            "计划安排",
            "改进措施",
            "佐证材料",
        ],
    );
    let mut found = sheet(
        "现场抽查",
        &[
            "街镇",
            "工程编号",
            "工程名称",
            "投资性质",
            "工程类别",
            "已备案",
            "检查次数",
            "现场发现问题",
            "街镇台账已记录",
            "街镇台账未记录",
            "核查人",
            "核查时间",
        ],
    );
    for t in &o.towns {
        scores(t, &mut points, &mut measures);
        claims(t, &mut claimed);
        drawn(t, &mut found);
    }
    vec![points, measures, claimed, found]
}
