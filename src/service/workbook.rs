//! The 台账 as the evaluators read it: one workbook (xlsx) of a town (or
//! the caller's scope) and a window, with the sheets the committee's notice
//! names — 工程基本信息, 日常检查记录, 违法违规行为查处情况, 安全事故隐患清单及
//! 整改跟踪督办结果 — and the case file's 备案, 告知承诺, 移送, 保险 and
//! 动火与保温. Chinese headers, Beijing time, names rather than codes, a
//! frozen header row and columns as wide as their text.
//!
//! The sheets are built as rows of text first ([`Sheet`]), so what each
//! holds is decided in one place and the writer only lays them out.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::ServiceError;
use super::casefile::parties_in_force;
use crate::auth::Scope;
use crate::casefile::{CaseFile, Entry, FilingKind, PartyRole};
use crate::domain::{Project, Stored, Town};
use crate::inspection::{Hazard, HazardEvent, Inspection};
use crate::store::casefile::{RecordQuery, WorkParty};
use crate::store::{DynStore, InspectionQuery, ListQuery, scoped, typed};
use crate::time::{Window, local_day, local_text};

/// One sheet: its name, headers and rows of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub name: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// What the workbook is made of, loaded for a scope, towns and window.
struct Data {
    town_names: HashMap<String, String>,
    works: Vec<Stored<Project>>,
    files: HashMap<i64, CaseFile>,
    parties: Vec<WorkParty>,
    inspections: Vec<Inspection>,
    hazards: Vec<Hazard>,
    events: Vec<HazardEvent>,
}

fn yes(b: bool) -> String {
    if b { "是" } else { "否" }.to_owned()
}

fn day(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

impl Data {
    fn work(&self, id: i64) -> Option<&Stored<Project>> {
        self.works.iter().find(|w| w.id == id)
    }

    /// 街镇, 工程编号, 工程名称 of a work.
    fn work_cols(&self, id: i64) -> Vec<String> {
        let Some(w) = self.work(id) else {
            return vec![String::new(), String::new(), String::new()];
        };
        let town = w
            .value
            .town
            .as_ref()
            .map(|c| self.town_names.get(c).cloned().unwrap_or_else(|| c.clone()))
            .unwrap_or_default();
        vec![town, w.value.code.clone(), w.value.name.clone()]
    }

    fn party(&self, id: i64, role: PartyRole) -> String {
        self.parties
            .iter()
            .find(|p| p.project_id == id && p.role == role)
            .map(|p| p.party.party.name.clone())
            .unwrap_or_default()
    }
}

async fn load(
    store: &DynStore,
    scope: &Scope,
    towns: Option<Vec<String>>,
    window: &Window,
) -> Result<Data, ServiceError> {
    let towns = scope.list_query_towns(towns);
    let town_names = typed::all::<Town>(store)
        .await?
        .into_iter()
        .map(|t| (t.value.code, t.value.name))
        .collect();
    let q = ListQuery {
        towns: towns.clone(),
        ..ListQuery::all()
    };
    let mut works = scoped::list::<Project>(store, q, scope).await?.items;
    works.sort_by(|a, b| (&a.value.town, &a.value.code).cmp(&(&b.value.town, &b.value.code)));
    let ids: std::collections::HashSet<i64> = works.iter().map(|w| w.id).collect();
    let iq = InspectionQuery {
        towns: towns.clone(),
        ..InspectionQuery::default()
    };
    let rq = RecordQuery {
        project: None,
        towns,
    };
    let mut by: HashMap<i64, Vec<_>> = HashMap::new();
    for r in store.records(&rq).await? {
        if ids.contains(&r.project_id) {
            by.entry(r.project_id).or_default().push(r);
        }
    }
    let files = by
        .into_iter()
        .map(|(id, rs)| (id, CaseFile::new(rs)))
        .collect();
    let mut parties = parties_in_force(store.work_parties(&rq).await?);
    parties.retain(|p| ids.contains(&p.project_id));
    let mut inspections = store.inspections(&iq).await?;
    inspections.retain(|i| ids.contains(&i.project_id) && window.contains(i.inspected_at));
    let mut hazards = store.hazards(&iq).await?;
    hazards.retain(|h| ids.contains(&h.project_id) && window.contains(h.found_at));
    let events = store.hazard_events(&iq).await?;
    works.retain(|w| w.value.active_in(window));
    Ok(Data {
        town_names,
        works,
        files,
        parties,
        inspections,
        hazards,
        events,
    })
}

fn works_sheet(d: &Data) -> Sheet {
    let empty = CaseFile::default();
    let rows = d
        .works
        .iter()
        .map(|s| {
            let w = &s.value;
            let f = d.files.get(&s.id).unwrap_or(&empty);
            let mut row = d.work_cols(s.id);
            row.extend([
                w.category.label_zh().to_owned(),
                w.funding.label_zh().to_owned(),
                w.investment_cny.to_string(),
                w.floor_area_m2
                    .map(|a| format!("{a:.0}"))
                    .unwrap_or_default(),
                w.address.clone(),
                w.status.label_zh().to_owned(),
                day(w.started_on),
                day(w.completed_on),
                d.party(s.id, PartyRole::Builder),
                d.party(s.id, PartyRole::Contractor),
                d.party(s.id, PartyRole::SafetyService),
                day(f.filing(FilingKind::Start)),
                yes(f.notified(w.started_on)),
                yes(w.hot_work),
                yes(w.insulation),
                yes(w.above_limit()),
                f.above_limit_handover()
                    .map(|h| h.to.clone())
                    .unwrap_or_default(),
                f.out_of_scope().unwrap_or_default().to_owned(),
            ]);
            row
        })
        .collect();
    Sheet {
        name: "工程基本信息",
        headers: vec![
            "街镇",
            "工程编号",
            "工程名称",
            "工程类别",
            "投资性质",
            "投资额（元）",
            "建筑面积（㎡）",
            "工程地址",
            "状态",
            "开工日期",
            "竣工日期",
            "建设单位",
            "施工单位",
            "第三方安全技术服务",
            "开工备案日期",
            "开工前书面告知",
            "动火作业",
            "保温材料",
            "限额以上",
            "移送单位",
            "不属于小微工程",
        ],
        rows,
    }
}

fn inspections_sheet(d: &Data) -> Sheet {
    let rows = d
        .inspections
        .iter()
        .map(|i| {
            let found = d.hazards.iter().filter(|h| h.inspection_id == i.id).count();
            let mut row = d.work_cols(i.project_id);
            row.extend([
                local_text(i.inspected_at),
                i.inspector.clone(),
                found.to_string(),
                i.note.clone(),
                i.recorded_by.clone(),
                local_text(i.recorded_at),
            ]);
            row
        })
        .collect();
    Sheet {
        name: "日常检查记录",
        headers: vec![
            "街镇",
            "工程编号",
            "工程名称",
            "检查时间",
            "检查人",
            "发现隐患（项）",
            "检查情况",
            "记录人",
            "记录时间",
        ],
        rows,
    }
}

fn hazards_sheet(d: &Data) -> Sheet {
    let today = crate::time::local_day(chrono::Utc::now());
    let rows = d
        .hazards
        .iter()
        .map(|h| {
            let trail: Vec<String> = d
                .events
                .iter()
                .filter(|e| e.hazard_id == h.id)
                .map(|e| format!("{} {} {}", local_text(e.at), e.to.label_zh(), e.by))
                .collect();
            let mut row = vec![h.id.to_string()];
            row.extend(d.work_cols(h.project_id));
            row.extend([
                h.kind.label_zh().to_owned(),
                h.severity.label_zh().to_owned(),
                local_text(h.found_at),
                h.deadline.to_string(),
                h.status.label_zh().to_owned(),
                h.closed_at.map(local_text).unwrap_or_default(),
                yes(h.is_overdue(today)),
                h.note.clone(),
                trail.join("；"),
            ]);
            row
        })
        .collect();
    Sheet {
        name: "安全事故隐患清单及整改跟踪督办结果",
        headers: vec![
            "隐患编号",
            "街镇",
            "工程编号",
            "工程名称",
            "隐患类别",
            "隐患等级",
            "发现时间",
            "整改期限",
            "整改状态",
            "销项时间",
            "是否逾期",
            "隐患描述",
            "整改跟踪督办记录",
        ],
        rows,
    }
}

/// The rows of the records in force of some kinds, within the window (by
/// the day each is about), each row the work's columns, then `cols`, then
/// who recorded it and when.
fn record_rows(
    d: &Data,
    window: &Window,
    cols: impl Fn(&Entry) -> Option<Vec<String>>,
) -> Vec<Vec<String>> {
    let (from, to) = (local_day(window.from()), window.today());
    let mut out: Vec<(String, i64, Vec<String>)> = Vec::new();
    for (id, f) in &d.files {
        for r in &f.records {
            let day = r.day();
            if day < from || day > to {
                continue;
            }
            let Some(c) = cols(&r.body.entry) else {
                continue;
            };
            let mut row = d.work_cols(*id);
            row.extend(c);
            row.extend([
                r.body.note.clone(),
                r.recorded_by.clone(),
                local_text(r.recorded_at),
            ]);
            out.push((day.to_string(), r.id, row));
        }
    }
    out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    out.into_iter().map(|(_, _, r)| r).collect()
}

fn headers(middle: &[&'static str]) -> Vec<&'static str> {
    let mut h = vec!["街镇", "工程编号", "工程名称"];
    h.extend_from_slice(middle);
    h.extend(["备注", "记录人", "记录时间"]);
    h
}

#[expect(
    clippy::too_many_lines,
    reason = "one sheet after another, each its own columns"
)]
fn record_sheets(d: &Data, window: &Window) -> Vec<Sheet> {
    let starts: HashMap<i64, Option<NaiveDate>> = d
        .works
        .iter()
        .map(|w| {
            let f = d.files.get(&w.id);
            (
                w.id,
                f.and_then(|f| f.start_day(w.value.started_on))
                    .or(w.value.started_on),
            )
        })
        .collect();
    let enforcement = Sheet {
        name: "违法违规行为查处情况",
        headers: headers(&[
            "违法违规行为",
            "查处措施",
            "文书编号",
            "查处日期",
            "涉及隐患",
        ]),
        rows: record_rows(d, window, |e| match e {
            Entry::Enforcement(x) => Some(vec![
                x.violations.clone(),
                x.measures
                    .iter()
                    .map(|m| m.label_zh())
                    .collect::<Vec<_>>()
                    .join("、"),
                x.doc_number.clone(),
                x.date.to_string(),
                x.hazards
                    .iter()
                    .map(|h| format!("#{h}"))
                    .collect::<Vec<_>>()
                    .join("、"),
            ]),
            _ => None,
        }),
    };
    let filings = Sheet {
        name: "备案",
        headers: headers(&["备案类型", "备案编号", "备案日期"]),
        rows: record_rows(d, window, |e| match e {
            Entry::Filing(x) => Some(vec![
                x.filing.label_zh().to_owned(),
                x.number.clone(),
                x.date.to_string(),
            ]),
            _ => None,
        }),
    };
    // 告知承诺 needs the work's start day: rows are built per work
    let mut notice_rows: Vec<(NaiveDate, i64, Vec<String>)> = Vec::new();
    let (from, to) = (local_day(window.from()), window.today());
    for (id, f) in &d.files {
        for r in &f.records {
            let Entry::Notice(n) = &r.body.entry else {
                continue;
            };
            if n.served_on < from || n.served_on > to {
                continue;
            }
            let start = starts.get(id).copied().flatten();
            let mut row = d.work_cols(*id);
            row.extend([
                n.recipients.join("、"),
                n.served_on.to_string(),
                day(start),
                yes(start.is_some_and(|s| n.served_on < s)),
                yes(n.commitment.is_some()),
                r.body.note.clone(),
                r.recorded_by.clone(),
                local_text(r.recorded_at),
            ]);
            notice_rows.push((n.served_on, r.id, row));
        }
    }
    notice_rows.sort_by_key(|r| (r.0, r.1));
    let notices = Sheet {
        name: "告知承诺",
        headers: headers(&[
            "送达对象",
            "送达日期",
            "开工日期",
            "开工前送达",
            "承诺书已签回",
        ]),
        rows: notice_rows.into_iter().map(|r| r.2).collect(),
    };
    let handovers = Sheet {
        name: "移送",
        headers: headers(&["移送原因", "移送单位", "文书编号", "移送日期", "处理结果"]),
        rows: record_rows(d, window, |e| match e {
            Entry::Handover(x) => Some(vec![
                x.reason.label_zh().to_owned(),
                x.to.clone(),
                x.doc_number.clone(),
                x.date.to_string(),
                x.outcome.clone().unwrap_or_else(|| "待反馈".to_owned()),
            ]),
            _ => None,
        }),
    };
    let policies = Sheet {
        name: "保险",
        headers: headers(&[
            "保险公司",
            "保单号",
            "保险起期",
            "保险止期",
            "保险金额（元）",
        ]),
        rows: record_rows(d, window, |e| match e {
            Entry::Policy(x) => Some(vec![
                x.insurer.clone(),
                x.number.clone(),
                x.from.to_string(),
                x.to.to_string(),
                x.amount_cny.to_string(),
            ]),
            _ => None,
        }),
    };
    let fire = Sheet {
        name: "动火与保温",
        headers: headers(&[
            "类型",
            "编号",
            "开始",
            "结束",
            "部位或材料",
            "焊工或燃烧性能",
            "焊工证号或数量",
            "监护人",
            "营业时间内",
        ]),
        rows: record_rows(d, window, |e| match e {
            Entry::HotWorkPermit(x) => Some(vec![
                "动火审批".to_owned(),
                x.number.clone(),
                local_text(x.from),
                local_text(x.until),
                x.place.clone(),
                x.welder.clone(),
                x.welder_certificate.clone(),
                x.guardian.clone(),
                yes(x.in_opening_hours),
            ]),
            Entry::InsulationFiling(x) => Some(vec![
                "保温材料备案".to_owned(),
                String::new(),
                x.date.to_string(),
                String::new(),
                x.material.clone(),
                x.fire_rating.label_zh().to_owned(),
                x.quantity.clone(),
                String::new(),
                String::new(),
            ]),
            _ => None,
        }),
    };
    vec![enforcement, filings, notices, handovers, policies, fire]
}

/// Every sheet of the workbook, in the order the evaluators read them.
pub async fn sheets(
    store: &DynStore,
    scope: &Scope,
    towns: Option<Vec<String>>,
    window: &Window,
) -> Result<Vec<Sheet>, ServiceError> {
    let d = load(store, scope, towns, window).await?;
    let mut records = record_sheets(&d, window).into_iter();
    let mut out = vec![works_sheet(&d), inspections_sheet(&d)];
    out.extend(records.next());
    out.push(hazards_sheet(&d));
    out.extend(records);
    Ok(out)
}

/// A text's width in Excel's character units: CJK and other wide
/// characters count two.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) < 0x1100 { 1 } else { 2 })
        .sum()
}

/// Lays the sheets out as an xlsx workbook.
pub fn write_xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let head = Format::new().set_bold().set_background_color("D9E1F2");
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(s.name)?;
        let mut widths: Vec<usize> = s.headers.iter().map(|h| width(h)).collect();
        for (c, h) in s.headers.iter().enumerate() {
            ws.write_string_with_format(0, u16::try_from(c).unwrap_or(u16::MAX), *h, &head)?;
        }
        for (r, row) in s.rows.iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r, u16::try_from(c).unwrap_or(u16::MAX), v)?;
                if let Some(w) = widths.get_mut(c) {
                    *w = (*w).max(width(v));
                }
            }
        }
        for (c, w) in widths.iter().enumerate() {
            #[expect(clippy::cast_precision_loss, reason = "widths are small")]
            let w = (*w).clamp(6, 60) as f64 + 2.0;
            ws.set_column_width(u16::try_from(c).unwrap_or(u16::MAX), w)?;
        }
        ws.set_freeze_panes(1, 0)?;
    }
    wb.save_to_buffer()
}
