//! The inspection ledger (检查台账): every inspection and every change of
//! every hazard, one row each, with who and when, in time order; exported as
//! JSON or as CSV that Excel opens with the Chinese labels intact.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{Hazard, HazardEvent, HazardKind, HazardStatus, Inspection, Severity};

/// What a ledger row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LedgerEntry {
    /// An inspection was recorded (with or without findings).
    Inspection,
    /// A hazard was found at an inspection.
    HazardFound,
    /// A hazard moved in the closed loop.
    StatusChanged,
}

/// The work a row belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkRef {
    pub code: String,
    pub name: String,
    pub town: Option<String>,
}

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerRow {
    /// When the change happened.
    pub at: DateTime<Utc>,
    pub entry: LedgerEntry,
    /// Who recorded the change.
    pub by: String,
    pub town: Option<String>,
    pub project_id: i64,
    pub project_code: String,
    pub project_name: String,
    pub inspection_id: i64,
    pub inspected_at: DateTime<Utc>,
    pub inspector: String,
    pub hazard_id: Option<i64>,
    pub kind: Option<HazardKind>,
    pub kind_zh: Option<&'static str>,
    pub severity: Option<Severity>,
    pub deadline: Option<NaiveDate>,
    pub from_status: Option<HazardStatus>,
    pub to_status: Option<HazardStatus>,
    pub note: String,
}

/// Builds the ledger rows of some inspections, their hazards and the hazards'
/// events; rows of works missing from `works` are kept with empty names.
#[must_use]
pub fn rows<S: std::hash::BuildHasher>(
    works: &HashMap<i64, WorkRef, S>,
    inspections: &[Inspection],
    hazards: &[Hazard],
    events: &[HazardEvent],
) -> Vec<LedgerRow> {
    let by_id: HashMap<i64, &Inspection> = inspections.iter().map(|i| (i.id, i)).collect();
    let hazard_by_id: HashMap<i64, &Hazard> = hazards.iter().map(|h| (h.id, h)).collect();
    let unknown = WorkRef {
        code: String::new(),
        name: String::new(),
        town: None,
    };
    let mut out = Vec::with_capacity(inspections.len() + events.len());
    for i in inspections {
        let w = works.get(&i.project_id).unwrap_or(&unknown);
        out.push((
            (i.recorded_at, 0, i.id),
            LedgerRow {
                at: i.recorded_at,
                entry: LedgerEntry::Inspection,
                by: i.recorded_by.clone(),
                town: w.town.clone(),
                project_id: i.project_id,
                project_code: w.code.clone(),
                project_name: w.name.clone(),
                inspection_id: i.id,
                inspected_at: i.inspected_at,
                inspector: i.inspector.clone(),
                hazard_id: None,
                kind: None,
                kind_zh: None,
                severity: None,
                deadline: None,
                from_status: None,
                to_status: None,
                note: i.note.clone(),
            },
        ));
    }
    for e in events {
        let Some(h) = hazard_by_id.get(&e.hazard_id) else {
            continue;
        };
        let Some(i) = by_id.get(&h.inspection_id) else {
            continue;
        };
        let w = works.get(&h.project_id).unwrap_or(&unknown);
        out.push((
            (e.at, 1, e.id),
            LedgerRow {
                at: e.at,
                entry: if e.from.is_none() {
                    LedgerEntry::HazardFound
                } else {
                    LedgerEntry::StatusChanged
                },
                by: e.by.clone(),
                town: w.town.clone(),
                project_id: h.project_id,
                project_code: w.code.clone(),
                project_name: w.name.clone(),
                inspection_id: i.id,
                inspected_at: i.inspected_at,
                inspector: i.inspector.clone(),
                hazard_id: Some(h.id),
                kind: Some(h.kind),
                kind_zh: Some(h.kind.label_zh()),
                severity: Some(h.severity),
                deadline: Some(h.deadline),
                from_status: e.from,
                to_status: Some(e.to),
                note: e.note.clone(),
            },
        ));
    }
    out.sort_by_key(|r| r.0);
    out.into_iter().map(|(_, r)| r).collect()
}

/// The CSV columns, in order: Chinese, as the towns' ledgers head them.
pub const CSV_HEADER: [&str; 18] = [
    "时间",
    "记录类型",
    "记录人",
    "街镇",
    "工程ID",
    "工程编号",
    "工程名称",
    "检查ID",
    "检查时间",
    "检查人",
    "隐患ID",
    "隐患类别代码",
    "隐患类别",
    "隐患等级",
    "整改期限",
    "原状态",
    "新状态",
    "备注",
];

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The ledger as CSV: a UTF-8 byte-order mark (so Excel reads the Chinese
/// text as UTF-8), a Chinese header and one line per row, times in Beijing
/// time (`2026-11-02 09:30`), vocabularies by their Chinese labels.
pub fn to_csv(rows: &[LedgerRow]) -> Result<Vec<u8>, csv::Error> {
    use crate::time::local_text;
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(CSV_HEADER)?;
    for r in rows {
        let entry = match r.entry {
            LedgerEntry::Inspection => "检查",
            LedgerEntry::HazardFound => "发现隐患",
            LedgerEntry::StatusChanged => "状态变更",
        };
        w.write_record([
            local_text(r.at),
            entry.to_owned(),
            r.by.clone(),
            r.town.clone().unwrap_or_default(),
            r.project_id.to_string(),
            r.project_code.clone(),
            r.project_name.clone(),
            r.inspection_id.to_string(),
            local_text(r.inspected_at),
            r.inspector.clone(),
            opt(r.hazard_id),
            opt(r.kind),
            opt(r.kind_zh),
            opt(r.severity.map(Severity::label_zh)),
            opt(r.deadline),
            opt(r.from_status.map(HazardStatus::label_zh)),
            opt(r.to_status.map(HazardStatus::label_zh)),
            r.note.clone(),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn one_row_per_inspection_and_per_change_in_time_order() {
        let works = HashMap::from([(
            7,
            WorkRef {
                code: "SJ-2026-0007".into(),
                name: "荣乐东路餐饮店装修".into(),
                town: Some("310117001".into()),
            },
        )]);
        let insp = Inspection {
            id: 1,
            project_id: 7,
            inspected_at: t("2026-11-02T09:00:00Z"),
            inspector: "王建国".into(),
            note: String::new(),
            recorded_by: "wang".into(),
            recorded_at: t("2026-11-02T10:00:00Z"),
        };
        let h = Hazard {
            id: 3,
            inspection_id: 1,
            project_id: 7,
            kind: HazardKind::NoSwitchBox,
            severity: Severity::General,
            deadline: NaiveDate::from_ymd_opt(2026, 11, 9).expect("date"),
            status: HazardStatus::Rectifying,
            note: String::new(),
            found_at: insp.inspected_at,
            closed_at: None,
            updated_at: t("2026-11-03T10:00:00Z"),
        };
        let ev = |id, from, to, at: &str| HazardEvent {
            id,
            hazard_id: 3,
            from,
            to,
            at: t(at),
            by: "li".into(),
            note: "，含逗号".into(),
        };
        let events = [
            ev(
                2,
                Some(HazardStatus::Open),
                HazardStatus::Rectifying,
                "2026-11-03T10:00:00Z",
            ),
            ev(1, None, HazardStatus::Open, "2026-11-02T10:00:00Z"),
        ];
        let rows = rows(&works, &[insp], &[h], &events);
        let entries: Vec<_> = rows.iter().map(|r| r.entry).collect();
        assert_eq!(
            entries,
            [
                LedgerEntry::Inspection,
                LedgerEntry::HazardFound,
                LedgerEntry::StatusChanged
            ]
        );
        let csv = String::from_utf8(to_csv(&rows).expect("csv")).expect("utf-8");
        let csv = csv.trim_start_matches('\u{feff}');
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        let recs: Vec<csv::StringRecord> = r.records().collect::<Result<_, _>>().expect("reads");
        assert_eq!(recs.len(), 3);
        assert_eq!(&recs[2][12], "未设置开关箱");
        assert_eq!(&recs[2][15], "待整改");
        assert_eq!(&recs[2][16], "整改中");
        assert_eq!(&recs[0][0], "2026-11-02 18:00", "Beijing time");
        assert_eq!(&recs[2][17], "，含逗号");
    }
}
