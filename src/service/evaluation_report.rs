//! The draft 通报 in the structure of the committee's own notice
//! (一、组织情况 二、自评情况 三、实地评价情况 四、抽查项目情况
//! 五、下一步工作要求) with the facts and figures filled in from the data, as
//! Word (.docx) or a printable page, ready for the staff to edit; the
//! workbook is [`super::evaluation_workbook`].

use std::collections::BTreeMap;

use super::docx::Block;
use super::evaluation::{Overview, TownEvaluation};
use crate::evaluation::{ItemCode, PROBLEMS, Review, site::problem_label};
use crate::time::{beijing_text, local_day};

pub(crate) fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

pub(crate) fn score_text(v: f64) -> String {
    let t = format!("{v:.1}");
    t.strip_suffix(".0").map_or(t.clone(), str::to_owned)
}

fn names<'a>(towns: impl Iterator<Item = &'a TownEvaluation>) -> String {
    towns
        .map(|t| t.town_name.as_str())
        .collect::<Vec<_>>()
        .join("、")
}

fn value(t: &TownEvaluation, key: &str) -> Option<f64> {
    t.measured
        .items
        .iter()
        .flat_map(|i| &i.measures)
        .find(|m| m.key == key)
        .and_then(|m| m.value)
}

fn count(t: &TownEvaluation, key: &str) -> (usize, usize) {
    t.measured
        .items
        .iter()
        .flat_map(|i| &i.measures)
        .find(|m| m.key == key)
        .map_or((0, 0), |m| {
            (m.numerator.unwrap_or(0), m.denominator.unwrap_or(0))
        })
}

/// The title of the draft.
#[must_use]
pub fn title(o: &Overview) -> String {
    format!(
        "关于{}松江区小微工程管理专项评价的情况通报（草稿）",
        o.evaluation.period_zh
    )
}

fn organisation(o: &Overview, out: &mut Vec<Block>) {
    out.push(Block::Heading("一、组织情况".into()));
    let n = o.towns.len();
    let done = names(o.towns.iter().filter(|t| submitted(t)));
    let missing: Vec<&TownEvaluation> = o.towns.iter().filter(|t| !submitted(t)).collect();
    let site: Vec<&TownEvaluation> = o.towns.iter().filter(|t| t.on_site).collect();
    let drawn: usize = site
        .iter()
        .filter_map(|t| t.draw.as_ref())
        .map(|d| d.works.len())
        .sum();
    let (mut works, mut social) = (0, 0);
    for t in &o.towns {
        works += count(t, "filing_rate").1;
        social += count(t, "social_managed").1;
    }
    out.push(Block::para(format!(
        "本次专项评价分为属地自评与实地评价两个阶段，评价期为{}至{}，评价对象为{}个街镇（经开区）辖区内投资额在100万元以下的工程，以及投资额在100万元以下且建筑面积在300平方米以下的既有建筑装饰装修工程等小微工程，评价期内共有在管及排摸发现的小微工程{}项，其中社会投资项目{}项。",
        local_day(o.evaluation.from),
        local_day(o.evaluation.to),
        n,
        works,
        social
    )));
    let missing_text = if missing.is_empty() {
        "各街镇（经开区）均按期提交了自评报告".to_owned()
    } else {
        format!(
            "{}个街镇（经开区）提交了自评报告，{}尚未提交",
            n - missing.len(),
            names(missing.into_iter())
        )
    };
    out.push(Block::para(format!(
        "属地自评阶段，各街镇（经开区）对照评价表（{}）开展自评，{}{}。",
        o.table.title,
        missing_text,
        if done.is_empty() {
            String::new()
        } else {
            format!("（已提交：{done}）")
        }
    )));
    if site.is_empty() {
        out.push(Block::para("实地评价阶段尚未确定评价单位。"));
    } else {
        out.push(Block::para(format!(
            "在实地评价阶段，评价工作组通过听取工作汇报、查看工作台账、现场抽取项目等方式，对{} {} 家单位的小微工程属地管理情况进行了实地评价，现场按投资性质和工程类别分层随机抽取项目{}项（抽取种子与名单已留存，可复核）。",
            names(site.iter().copied()),
            site.len(),
            drawn
        )));
    }
}

fn submitted(t: &TownEvaluation) -> bool {
    t.self_assessment
        .as_ref()
        .is_some_and(|a| a.status == "submitted")
}

fn self_assessment(o: &Overview, out: &mut Vec<Block>) {
    out.push(Block::Heading("二、自评情况".into()));
    let with_plan = names(o.towns.iter().filter(|t| {
        submitted(t)
            && t.self_assessment
                .as_ref()
                .is_some_and(|a| a.has_problems_and_plan)
    }));
    out.push(Block::para(format!(
        "经各街镇（经开区）自评，对机构设置、开工（竣工）备案、告知承诺、全面纳管、监督检查和项目管理等情况的工作要求进行了自评。{}",
        if with_plan.is_empty() {
            "各单位自查报告均未明确存在问题及改进计划。".to_owned()
        } else {
            format!("其中，{with_plan}等单位的自查报告有对照评价，明确了存在问题，且制定了计划安排和改进措施。")
        }
    )));
    let flagged: Vec<&TownEvaluation> = o
        .towns
        .iter()
        .filter(|t| !t.disagreements.is_empty())
        .collect();
    if !flagged.is_empty() {
        let lines: Vec<String> = flagged
            .iter()
            .map(|t| {
                let d: Vec<&str> = t.disagreements.iter().map(|d| d.text_zh.as_str()).collect();
                format!("{}（{}）", t.town_name, d.join("；"))
            })
            .collect();
        out.push(Block::para(format!(
            "经与台账数据核对，以下单位的自评得分高于数据测得：{}。",
            lines.join("；")
        )));
    }
    let mut rows = vec![vec![
        "街镇".to_owned(),
        "自评状态".into(),
        "自评得分".into(),
        "数据测得".into(),
        "差异项".into(),
    ]];
    for t in &o.towns {
        let sa = t.self_assessment.as_ref();
        rows.push(vec![
            t.town_name.clone(),
            sa.map_or("未填报", |a| a.status_zh).to_owned(),
            sa.map_or_else(|| "—".to_owned(), |a| score_text(a.claimed_total)),
            score_text(t.measured.total),
            t.disagreements
                .iter()
                .map(|d| d.label_zh)
                .collect::<Vec<_>>()
                .join("、"),
        ]);
    }
    out.push(Block::Table(rows));
}

fn on_site(o: &Overview, out: &mut Vec<Block>) {
    out.push(Block::Heading("三、实地评价情况".into()));
    let site: Vec<&TownEvaluation> = o.towns.iter().filter(|t| t.on_site).collect();
    let pool: Vec<&TownEvaluation> = if site.is_empty() {
        o.towns.iter().collect()
    } else {
        site
    };
    let good: Vec<&TownEvaluation> = pool
        .iter()
        .copied()
        .filter(|t| t.measured.total >= 85.0)
        .collect();
    if !good.is_empty() {
        out.push(Block::para(format!(
            "{}严格按照市区两级关于小微工程管理的要求，对辖区范围内的小微工程全面纳管、落实日常监管（评价得分均在85分以上），切实履行了小微工程属地监管职责。",
            names(good.iter().copied())
        )));
    }
    let mut praised = Vec::new();
    for t in &pool {
        let practices: Vec<&str> = t
            .measured
            .item(ItemCode::Innovation)
            .map(|i| {
                i.measures
                    .iter()
                    .filter(|m| m.score > 0.0 && m.review == Some(Review::Confirmed))
                    .map(|m| m.label_zh)
                    .collect()
            })
            .unwrap_or_default();
        if !practices.is_empty() {
            praised.push(format!("{}{}", t.town_name, practices.join("、")));
        }
    }
    if !praised.is_empty() {
        out.push(Block::Para {
            text: format!("管理创新方面：{}。", praised.join("；")),
            bold: false,
        });
    }
    problem_classes(&pool, out);
    out.push(score_table(o, &pool));
}

/// The three classes of problems of the notice's section 三, with the towns and figures.
fn problem_classes(pool: &[&TownEvaluation], out: &mut Vec<Block>) {
    let weak = |f: &dyn Fn(&TownEvaluation) -> bool| {
        pool.iter().copied().filter(|t| f(t)).collect::<Vec<_>>()
    };
    let org = weak(&|t| {
        t.measured
            .item(ItemCode::Organisation)
            .is_some_and(|i| i.score < i.points)
    });
    let social = weak(&|t| value(t, "social_managed").is_some_and(|v| v < 1.0));
    let loose = weak(&|t| {
        value(t, "inspected_after_filing").is_some_and(|v| v < 1.0)
            || value(t, "hazards_closed_in_time").is_some_and(|v| v < 1.0)
            || value(t, "escalated_closed").is_some_and(|v| v < 1.0)
    });
    out.push(Block::para(
        "其余街镇在小微工程管理体制机制、全面纳管、动态监管等方面还存在如下问题：",
    ));
    out.push(Block::Para {
        text: "（一）管理体制机制存在短板".into(),
        bold: true,
    });
    out.push(Block::para(if org.is_empty() {
        "各单位机构设置项均已申报并提供佐证。".to_owned()
    } else {
        format!(
            "{}的领导小组、专门部门、专人负责或业务培训未申报、缺少佐证或核实不通过，在定期排摸、巡查发现、落实日常监督管理等方面的制度有待完善。",
            names(org.into_iter())
        )
    }));
    out.push(Block::Para {
        text: "（二）属地监管范围理解认识不足".into(),
        bold: true,
    });
    out.push(Block::para(if social.is_empty() {
        "各单位社会投资小微工程均已纳入属地管理。".to_owned()
    } else {
        let parts: Vec<String> = social
            .iter()
            .map(|t| {
                let (n, d) = count(t, "social_managed");
                format!(
                    "{}社会投资项目纳管{}/{}项（{}）",
                    t.town_name,
                    n,
                    d,
                    pct(value(t, "social_managed"))
                )
            })
            .collect();
        format!(
            "未将社会投资的小微工程全部纳入属地管理范围：{}。",
            parts.join("；")
        )
    }));
    out.push(Block::Para {
        text: "（三）检查力度需进一步强化".into(),
        bold: true,
    });
    out.push(Block::para(if loose.is_empty() {
        "各单位备案项目均有检查记录，隐患均按期整改。".to_owned()
    } else {
        let parts: Vec<String> = loose
            .iter()
            .map(|t| {
                let (n, d) = count(t, "inspected_after_filing");
                let (hn, hd) = count(t, "hazards_closed_in_time");
                let (en, ed) = count(t, "escalated_closed");
                let escalated = if ed > 0 {
                    format!("，逾期督办事项办结{en}/{ed}项")
                } else {
                    String::new()
                };
                format!(
                    "{}备案后检查{}/{}项，隐患按期整改{}/{}项{escalated}",
                    t.town_name, n, d, hn, hd
                )
            })
            .collect();
        format!(
            "部分项目只进行开工（竣工）备案登记，未落实施工过程中的监督管理，部分问题未及时跟进督促整改，未形成闭环管理：{}。",
            parts.join("；")
        )
    }));
}

/// Every town's points per item.
fn score_table(o: &Overview, pool: &[&TownEvaluation]) -> Block {
    let mut rows = vec![{
        let mut h = vec!["街镇".to_owned()];
        h.extend(
            o.table
                .items
                .iter()
                .map(|i| format!("{}（{}）", i.label_zh, score_text(i.points()))),
        );
        h.push("合计".into());
        h
    }];
    for t in pool {
        let mut r = vec![t.town_name.clone()];
        r.extend(t.measured.items.iter().map(|i| score_text(i.score)));
        r.push(score_text(t.measured.total + t.measured.bonus));
        rows.push(r);
    }
    Block::Table(rows)
}

fn sampled(o: &Overview, out: &mut Vec<Block>) {
    out.push(Block::Heading("四、抽查项目情况".into()));
    let draws: Vec<(&TownEvaluation, &super::evaluation_site::DrawView)> = o
        .towns
        .iter()
        .filter_map(|t| t.draw.as_ref().map(|d| (t, d)))
        .collect();
    if draws.is_empty() {
        out.push(Block::para("本期尚未现场抽取项目。"));
        return;
    }
    let mut by_problem: BTreeMap<usize, usize> = BTreeMap::new();
    let (mut visited, mut with_problems, mut missed, mut unfiled) = (0, 0, 0, 0);
    for (_, d) in &draws {
        visited += d.summary.visited;
        with_problems += d.summary.with_problems;
        missed += d.summary.problems_found - d.summary.problems_recorded;
        unfiled += d.summary.unfiled;
        for w in &d.works {
            for p in w.comparison.found.iter().flatten() {
                if let Some(i) = PROBLEMS.iter().position(|x| x.0 == p) {
                    *by_problem.entry(i).or_default() += 1;
                }
            }
        }
    }
    let classes: Vec<String> = by_problem
        .iter()
        .map(|(i, n)| format!("{}（{}项）", PROBLEMS[*i].1, n))
        .collect();
    out.push(Block::para(format!(
        "现场核查抽取项目{}项，其中{}项存在问题{}。抽查发现的问题中有{}项未见于街镇检查台账；抽取项目中有{}项街镇未办理备案。",
        visited,
        with_problems,
        if classes.is_empty() { String::new() } else { format!("，主要为：{}", classes.join("、")) },
        missed,
        unfiled
    )));
    let mut rows = vec![vec![
        "街镇".to_owned(),
        "工程名称".into(),
        "投资性质".into(),
        "现场发现问题".into(),
        "街镇台账未记录".into(),
        "备案".into(),
    ]];
    for (t, d) in &draws {
        for w in &d.works {
            let label = |v: &[String]| {
                v.iter()
                    .filter_map(|p| problem_label(p))
                    .collect::<Vec<_>>()
                    .join("、")
            };
            rows.push(vec![
                t.town_name.clone(),
                w.name.clone(),
                w.funding_zh.to_owned(),
                w.comparison.found.as_deref().map_or_else(
                    || "未核查".to_owned(),
                    |f| {
                        if f.is_empty() {
                            "无".to_owned()
                        } else {
                            label(f)
                        }
                    },
                ),
                label(&w.comparison.missed),
                if w.comparison.filed {
                    "已备案"
                } else {
                    "未备案"
                }
                .to_owned(),
            ]);
        }
    }
    out.push(Block::Table(rows));
}

fn next_steps(o: &Overview, out: &mut Vec<Block>) {
    out.push(Block::Heading("五、下一步工作要求".into()));
    let total = |key: &str| {
        o.towns.iter().fold((0, 0), |(n, d), t| {
            let (a, b) = count(t, key);
            (n + a, d + b)
        })
    };
    let (sn, sd) = total("social_managed");
    let (fn_, fd) = total("found_managed");
    let (checked_n, checked_d) = total("inspected_after_filing");
    let (hn, hd) = total("hazards_closed_in_time");
    let (en, ed) = total("escalated_closed");
    let (hot_n, hot_d) = total("hot_work_permitted");
    let (foam_n, foam_d) = total("insulation_filed");
    let (pol_n, pol_d) = total("insured");
    let lines = [
        "1、切实提高认识、压实安全责任。各街镇（经开区）要严格落实小微工程属地安全生产监管责任，坚决防范安全事故的发生。".to_owned(),
        "2、充分完善制度、规范日常监督。建立“片区化 + 网格化”管理体系，实行“定期巡查 + 专项督导”制度，建立健全“发现、查处、整改、销项”全链条闭环管理机制。".to_owned(),
        format!("3、强化全面纳管、不留管理盲区。本期社会投资项目纳管{sn}/{sd}项，排摸发现工程纳管{fn_}/{fd}项；要加大排摸力度，做到“底数清、情况明、数字准、动态实”，限额以上工程及时登记并移交。"),
        format!("4、加大监督检查、消除安全隐患。本期备案后检查{checked_n}/{checked_d}项，隐患按期整改{hn}/{hd}项，逾期升级督办事项办结{en}/{ed}项；要当场督促整改并全程跟踪督办，规范完善检查台账。"),
        format!("5、重点排查整治、强化风险防范。本期人员密集场所动火作业审批{hot_n}/{hot_d}项，保温材料备案{foam_n}/{foam_d}项；要对人员密集场所小微工程全覆盖监管。"),
        format!("6、加强管理创新、提升管理效能。本期安全生产责任保险投保{pol_n}/{pol_d}项；要充分利用数字化手段，定期开展业务培训。"),
    ];
    out.extend(lines.into_iter().map(Block::para));
}

/// The draft 通报 as blocks.
#[must_use]
pub fn notice(o: &Overview, now: chrono::DateTime<chrono::Utc>) -> Vec<Block> {
    let mut out = vec![
        Block::Title(title(o)),
        Block::para("各街镇（经开区）、各相关单位："),
        Block::para(format!(
            "为进一步规范我区小微工程管理，区建管委组织开展{}松江区小微工程管理专项评价工作，现将相关情况通报如下：",
            o.evaluation.period_zh
        )),
    ];
    organisation(o, &mut out);
    self_assessment(o, &mut out);
    on_site(o, &mut out);
    sampled(o, &mut out);
    next_steps(o, &mut out);
    out.push(Block::Right("上海市松江区建设和管理委员会".into()));
    out.push(Block::Right(format!(
        "{}（草稿，生成于{}）",
        local_day(now).format("%Y年%-m月%-d日"),
        beijing_text(now)
    )));
    out
}
