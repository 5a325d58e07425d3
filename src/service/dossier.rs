//! 一工地一档: one work's whole file as one document — the work, its
//! parties, and in time order its filings, notices, inspections (with their
//! checklist and photos), hazards with their history, enforcement,
//! hand-overs, policies and permits — as a printable A4 HTML page (photos
//! embedded, so the page needs no token to show them) and as .docx; and the
//! 告知书 (the written notice of 告知承诺) generated from the work's data.

use std::collections::HashMap;
use std::fmt::Write as _;

use base64::Engine as _;
use chrono::{DateTime, Utc};

use super::ServiceError;
use super::casefile::{CaseFileView, case_file_named};
use super::docx::Block;
use super::users::Names;
use crate::auth::Scope;
use crate::casefile::{CaseRecord, Entry, PartyRole};
use crate::domain::{Project, Stored, Town};
use crate::inspection::checklist::{InspectionDetail, item_label};
use crate::inspection::{Hazard, HazardEvent, Inspection};
use crate::store::casefile::RecordQuery;
use crate::store::{DynStore, InspectionQuery, typed};
use crate::time::local_text;

/// A user as people read them: their name, else their login.
fn person(names: &Names, login: &str) -> String {
    names
        .get(login)
        .cloned()
        .unwrap_or_else(|| login.to_owned())
}

/// One entry of the file's time line.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: DateTime<Utc>,
    /// 备案, 告知承诺, 检查, 隐患, 查处, 移送, …
    pub kind: &'static str,
    pub title: String,
    pub lines: Vec<String>,
    /// Photos (attachment ids) shown with it.
    pub photos: Vec<i64>,
    /// Corrected by a later entry (shown struck through).
    pub corrected: bool,
}

/// Everything the dossier shows.
#[derive(Debug, Clone)]
pub struct Dossier {
    pub work: Stored<Project>,
    pub town_name: String,
    pub file: CaseFileView,
    pub events: Vec<Event>,
    /// The photos' bytes and types, by attachment id.
    pub photos: HashMap<i64, (String, Vec<u8>)>,
    /// Users' names for people, by login.
    pub names: Names,
}

#[expect(
    clippy::too_many_lines,
    reason = "one arm per kind of record, each its own lines"
)]
fn record_event(r: &CaseRecord, corrected: bool, names: &Names) -> Event {
    let (kind, title, mut lines) = match &r.body.entry {
        Entry::Filing(f) => (
            "备案",
            format!("{}（{}）", f.filing.label_zh(), f.number),
            vec![format!("备案日期：{}", f.date)],
        ),
        Entry::Notice(n) => (
            "告知承诺",
            "书面告知".to_owned(),
            vec![
                format!("送达对象：{}", n.recipients.join("、")),
                format!("送达日期：{}", n.served_on),
                format!(
                    "承诺书：{}",
                    if n.commitment.is_some() {
                        "已签回"
                    } else {
                        "未签回"
                    }
                ),
            ],
        ),
        Entry::Enforcement(e) => (
            "查处",
            format!("违法违规行为查处（{}）", e.doc_number),
            vec![
                format!("违法违规行为：{}", e.violations),
                format!(
                    "查处措施：{}",
                    e.measures
                        .iter()
                        .map(|m| m.label_zh())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
                format!("日期：{}", e.date),
            ],
        ),
        Entry::Handover(h) => (
            "移送",
            format!("移送{}（{}）", h.to, h.doc_number),
            vec![
                format!("移送原因：{}", h.reason.label_zh()),
                format!("移送日期：{}", h.date),
                format!("处理结果：{}", h.outcome.as_deref().unwrap_or("待反馈")),
            ],
        ),
        Entry::Policy(p) => (
            "保险",
            format!("安全生产责任保险（{}）", p.number),
            vec![
                format!("保险公司：{}", p.insurer),
                format!("保险期间：{} 至 {}", p.from, p.to),
                format!("保险金额：{} 元", p.amount_cny),
            ],
        ),
        Entry::HotWorkPermit(p) => (
            "动火审批",
            format!("动火作业审批（{}）", p.number),
            vec![
                format!(
                    "动火期间：{} 至 {}",
                    local_text(p.from),
                    local_text(p.until)
                ),
                format!("动火部位：{}", p.place),
                format!(
                    "焊工：{}（证号 {}）；监护人：{}",
                    p.welder, p.welder_certificate, p.guardian
                ),
                format!(
                    "营业时间内：{}",
                    if p.in_opening_hours { "是" } else { "否" }
                ),
            ],
        ),
        Entry::InsulationFiling(f) => (
            "保温材料备案",
            format!("保温材料备案（{}）", f.material),
            vec![
                format!(
                    "燃烧性能：{}；数量：{}",
                    f.fire_rating.label_zh(),
                    f.quantity
                ),
                format!("备案日期：{}", f.date),
            ],
        ),
        Entry::OutOfScope(o) => (
            "不属于小微工程",
            "标记为不属于小微工程".to_owned(),
            vec![format!("理由：{}", o.reason)],
        ),
    };
    if let Some(c) = r.body.corrects {
        lines.push(format!("更正记录 #{c}"));
    }
    if !r.body.note.is_empty() {
        lines.push(format!("备注：{}", r.body.note));
    }
    lines.push(format!(
        "记录人：{}（{}）",
        person(names, &r.recorded_by),
        local_text(r.recorded_at)
    ));
    Event {
        at: r.recorded_at,
        kind,
        title,
        lines,
        photos: Vec::new(),
        corrected,
    }
}

fn inspection_event(
    i: &Inspection,
    detail: Option<&InspectionDetail>,
    hazards: &[&Hazard],
    names: &Names,
) -> Event {
    let mut lines = vec![format!("检查人：{}", person(names, &i.inspector))];
    if !i.note.is_empty() {
        lines.push(format!("检查情况：{}", i.note));
    }
    let mut photos = Vec::new();
    if let Some(d) = detail {
        if !d.parties_present.is_empty() {
            lines.push(format!("在场人员：{}", d.parties_present.join("、")));
        }
        if let (Some(p), Some(m)) = (d.position, d.distance_m) {
            lines.push(format!(
                "检查位置：{:.5}, {:.5}（距工程 {m:.0} 米）",
                p.lon, p.lat
            ));
        }
        for c in &d.checklist {
            let (area, label) = item_label(&c.item)
                .unwrap_or((crate::inspection::checklist::CheckArea::Safety, "?"));
            let note = if c.note.is_empty() {
                String::new()
            } else {
                format!("（{}）", c.note)
            };
            lines.push(format!(
                "【{}】{}：{}{note}",
                area.label_zh(),
                label,
                c.result.label_zh()
            ));
        }
        photos.clone_from(&d.photos);
    }
    for h in hazards {
        lines.push(format!(
            "发现隐患 #{}：{}（{}），整改期限 {}",
            h.id,
            h.kind.label_zh(),
            h.severity.label_zh(),
            h.deadline
        ));
    }
    Event {
        at: i.inspected_at,
        kind: "检查",
        title: format!("日常检查（{}）", local_text(i.inspected_at)),
        lines,
        photos,
        corrected: false,
    }
}

fn hazard_events(h: &Hazard, events: &[HazardEvent], names: &Names) -> Vec<Event> {
    events
        .iter()
        .filter(|e| e.hazard_id == h.id && e.from.is_some())
        .map(|e| Event {
            at: e.at,
            kind: "隐患整改",
            title: format!("隐患 #{} {}：{}", h.id, h.kind.label_zh(), e.to.label_zh()),
            lines: [
                (!e.note.is_empty()).then(|| format!("说明：{}", e.note)),
                Some(format!("经办人：{}", person(names, &e.by))),
            ]
            .into_iter()
            .flatten()
            .collect(),
            photos: Vec::new(),
            corrected: false,
        })
        .collect()
}

/// Gathers a work's dossier (the work must be in the scope).
pub async fn dossier(store: &DynStore, scope: &Scope, id: i64) -> Result<Dossier, ServiceError> {
    let names = super::users::display_names(store).await?;
    let file = case_file_named(store, scope, id, &names).await?;
    let work = super::inspections::work_in_scope(store, scope, id).await?;
    let town_name = match &work.value.town {
        Some(code) => typed::all::<Town>(store)
            .await?
            .into_iter()
            .find(|t| &t.value.code == code)
            .map_or_else(|| code.clone(), |t| t.value.name),
        None => String::new(),
    };
    let q = InspectionQuery {
        project: Some(id),
        ..InspectionQuery::default()
    };
    let inspections = store.inspections(&q).await?;
    let hazards = store.hazards(&q).await?;
    let history = store.hazard_events(&q).await?;
    let details = store
        .inspection_details(&RecordQuery {
            project: Some(id),
            towns: None,
        })
        .await?;
    let mut events: Vec<Event> = file
        .records
        .iter()
        .map(|r| record_event(r, file.corrected.contains(&r.id), &names))
        .collect();
    for i in &inspections {
        let mine: Vec<&Hazard> = hazards.iter().filter(|h| h.inspection_id == i.id).collect();
        events.push(inspection_event(i, details.get(&i.id), &mine, &names));
    }
    for h in &hazards {
        events.extend(hazard_events(h, &history, &names));
    }
    events.sort_by_key(|e| e.at);
    let mut photos = HashMap::new();
    for id in events.iter().flat_map(|e| e.photos.iter()) {
        if let Some((meta, bytes)) = store.attachment(*id).await?
            && meta.project_id == work.id
        {
            photos.insert(*id, (meta.media_type, bytes));
        }
    }
    Ok(Dossier {
        work,
        town_name,
        file,
        events,
        photos,
        names,
    })
}

fn html_esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The work's facts as label/value pairs.
fn facts(d: &Dossier) -> Vec<(&'static str, String)> {
    let w = &d.work.value;
    let party = |role: PartyRole| {
        d.file.parties.iter().find(|p| p.role == role).map_or_else(
            || "—".to_owned(),
            |p| format!("{}（{}）", p.party.party.name, p.party.party.uscc),
        )
    };
    vec![
        ("工程编号", w.code.clone()),
        ("工程名称", w.name.clone()),
        ("街镇", d.town_name.clone()),
        ("工程地址", w.address.clone()),
        ("工程类别", w.category.label_zh().to_owned()),
        ("投资性质", w.funding.label_zh().to_owned()),
        ("投资额", format!("{} 元", w.investment_cny)),
        (
            "建筑面积",
            w.floor_area_m2
                .map(|a| format!("{a:.0} 平方米"))
                .unwrap_or_default(),
        ),
        ("状态", w.status.label_zh().to_owned()),
        (
            "开工日期",
            w.started_on.map(|d| d.to_string()).unwrap_or_default(),
        ),
        (
            "竣工日期",
            w.completed_on.map(|d| d.to_string()).unwrap_or_default(),
        ),
        (
            "开工前书面告知",
            if d.file.notified { "是" } else { "否" }.to_owned(),
        ),
        ("建设单位", party(PartyRole::Builder)),
        ("施工单位", party(PartyRole::Contractor)),
        ("第三方安全技术服务", party(PartyRole::SafetyService)),
    ]
}

/// The dossier as a printable A4 HTML page.
#[must_use]
pub fn to_html(d: &Dossier) -> String {
    let w = &d.work.value;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>一工地一档：{}</title>\
<style>@page{{size:A4;margin:18mm}}body{{font-family:'Noto Serif CJK SC','SimSun',serif;font-size:11pt;color:#111;max-width:180mm;margin:auto}}\
h1{{text-align:center;font-size:18pt}}h2{{font-size:13pt;border-bottom:1px solid #444;margin-top:1.2em}}\
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #666;padding:3px 6px;text-align:left;vertical-align:top}}th{{background:#eee;width:28%}}\
.ev{{page-break-inside:avoid;margin:.5em 0;padding:.3em .5em;border-left:3px solid #36c}}.ev.corrected{{opacity:.6;text-decoration:line-through}}\
.ev .k{{font-weight:bold;margin-right:.6em}}.ev img{{max-width:80mm;max-height:60mm;margin:4px}}.t{{color:#555}}</style></head><body>",
        html_esc(&w.name)
    );
    let _ = write!(h, "<h1>一工地一档</h1><h2>工程基本信息</h2><table>");
    for (k, v) in facts(d) {
        let _ = write!(h, "<tr><th>{k}</th><td>{}</td></tr>", html_esc(&v));
    }
    h.push_str("</table><h2>档案记录（按时间）</h2>");
    if d.events.is_empty() {
        h.push_str("<p>暂无记录。</p>");
    }
    for e in &d.events {
        let _ = write!(
            h,
            "<div class=\"ev{}\"><div><span class=\"k\">{}</span>{} <span class=\"t\">{}</span></div>",
            if e.corrected { " corrected" } else { "" },
            e.kind,
            html_esc(&e.title),
            local_text(e.at)
        );
        for l in &e.lines {
            let _ = write!(h, "<div>{}</div>", html_esc(l));
        }
        for id in &e.photos {
            if let Some((mime, bytes)) = d.photos.get(id) {
                let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
                let _ = write!(
                    h,
                    "<img alt=\"现场照片 {id}\" src=\"data:{mime};base64,{b64}\">"
                );
            }
        }
        h.push_str("</div>");
    }
    if !d.file.supervision.is_empty() {
        h.push_str("<h2>督办记录</h2><table>");
        for (i, row) in super::supervision::table(&d.file.supervision)
            .iter()
            .enumerate()
        {
            let cell = if i == 0 { "th" } else { "td" };
            h.push_str("<tr>");
            for c in row {
                let _ = write!(h, "<{cell}>{}</{cell}>", html_esc(c));
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
    }
    if !d.file.attachments.is_empty() {
        h.push_str("<h2>附件</h2><table><tr><th>附件</th><td>类型、上传人、时间</td></tr>");
        for a in &d.file.attachments {
            let _ = write!(
                h,
                "<tr><th>#{} {}</th><td>{}，{}，{}</td></tr>",
                a.id,
                html_esc(&a.file_name),
                html_esc(&a.media_type),
                html_esc(&person(&d.names, &a.uploaded_by)),
                local_text(a.uploaded_at)
            );
        }
        h.push_str("</table>");
    }
    let _ = write!(
        h,
        "<p class=\"t\">生成时间：{}（北京时间）</p></body></html>",
        local_text(Utc::now())
    );
    h
}

/// The dossier as .docx blocks.
#[must_use]
pub fn to_blocks(d: &Dossier) -> Vec<Block> {
    let mut b = vec![
        Block::Title(format!("一工地一档：{}", d.work.value.name)),
        Block::Heading("工程基本信息".to_owned()),
    ];
    let mut rows = vec![vec!["项目".to_owned(), "内容".to_owned()]];
    rows.extend(facts(d).into_iter().map(|(k, v)| vec![k.to_owned(), v]));
    b.push(Block::Table(rows));
    b.push(Block::Heading("档案记录（按时间）".to_owned()));
    for e in &d.events {
        b.push(Block::Para {
            text: format!(
                "{} {}【{}】{}{}",
                local_text(e.at),
                e.kind,
                e.title,
                if e.corrected { "（已更正）" } else { "" },
                if e.photos.is_empty() {
                    String::new()
                } else {
                    format!("（现场照片 {} 张）", e.photos.len())
                }
            ),
            bold: true,
        });
        b.push(Block::para(e.lines.join("\n")));
    }
    if !d.file.supervision.is_empty() {
        b.push(Block::Heading("督办记录".to_owned()));
        b.push(Block::Table(super::supervision::table(&d.file.supervision)));
    }
    b.push(Block::Right(format!(
        "生成时间：{}",
        local_text(Utc::now())
    )));
    b
}

/// The 告知书 of a work: the committee's written notice of the builder's and
/// the contractor's safety duties, filled from the work's data, with the
/// commitment (承诺书) below for signing.
#[must_use]
pub fn notice_blocks(d: &Dossier) -> Vec<Block> {
    let w = &d.work.value;
    let party = |role: PartyRole| {
        d.file.parties.iter().find(|p| p.role == role).map_or_else(
            || "＿＿＿＿＿＿＿＿".to_owned(),
            |p| p.party.party.name.clone(),
        )
    };
    let (builder, contractor) = (party(PartyRole::Builder), party(PartyRole::Contractor));
    let town = if d.town_name.is_empty() {
        "＿＿＿＿".to_owned()
    } else {
        d.town_name.clone()
    };
    vec![
        Block::Title("小微工程安全生产告知书".to_owned()),
        Block::para(format!("{builder}（建设单位）、{contractor}（施工单位）：")),
        Block::para(format!(
            "你单位实施的“{}”（工程编号 {}，地址：{}，工程类别：{}，投资额 {} 元{}）属于本街镇（{town}）属地管理的小微工程。依据《上海市住房和城乡建设管理委员会关于进一步做好全市限额以下建设工程安全生产工作的通知》（沪建质安〔2021〕526号）和《松江区小微工程管理导则（修订版）》（沪松建管〔2023〕156号），现将安全生产有关事项书面告知如下：",
            w.name,
            w.code,
            if w.address.is_empty() {
                "—"
            } else {
                &w.address
            },
            w.category.label_zh(),
            w.investment_cny,
            w.floor_area_m2
                .map(|a| format!("，建筑面积 {a:.0} 平方米"))
                .unwrap_or_default(),
        )),
        Block::para(
            "一、建设单位对工程安全生产负首要责任，施工单位对施工现场安全生产负主体责任，应当在开工前办理开工备案，竣工后办理竣工备案。",
        ),
        Block::para(
            "二、施工单位应配备项目负责人和安全管理人员，对作业人员进行安全教育和安全技术交底，并保存记录；施工组织设计、专项方案等资料应齐全。",
        ),
        Block::para(
            "三、移动操作脚手架应设置安全防护栏杆，立杆间距应符合要求，严禁使用扶梯进行高处作业；施工用电应设置开关箱，严禁从二级箱直接引出用电、严禁使用拖线板。",
        ),
        Block::para(format!(
            "四、动火作业应事先办理动火审批，由持证焊工作业并设专人监护{}；涉及保温材料的，应办理保温材料备案，材料燃烧性能应符合要求。",
            if w.hot_work {
                "（本工程涉及动火作业）"
            } else {
                ""
            }
        )),
        Block::para(
            "五、严禁擅自增设钢结构夹层等违法建设行为；超出小微工程限额的，应依法报建，应报建未报建的将依法移送处理。",
        ),
        Block::para(
            "六、应投保安全生产责任保险，并配合街镇及第三方安全技术服务机构的监督检查，对检查发现的隐患按期整改、销项。",
        ),
        Block::Right(format!("{town}（盖章）")),
        Block::Right("告知日期：＿＿＿＿年＿＿月＿＿日".to_owned()),
        Block::Heading("承诺书".to_owned()),
        Block::para(
            "我单位已收到上述告知，知悉并承诺严格遵守建设工程安全生产法律法规和技术标准，落实安全生产主体责任，接受属地监督管理。",
        ),
        Block::Table(vec![
            vec![
                "单位".to_owned(),
                "签收人（签字）".to_owned(),
                "日期".to_owned(),
            ],
            vec![format!("建设单位：{builder}"), String::new(), String::new()],
            vec![
                format!("施工单位：{contractor}"),
                String::new(),
                String::new(),
            ],
        ]),
    ]
}
