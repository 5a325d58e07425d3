//! What a work's case file says once its corrections are applied: the
//! records in force, the status that follows from them, and the answers
//! the blind-spot analyses ask (notified in time? handed over? a valid
//! hot-work permit now? insulation filed? insured for its period?).

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};

use super::record::{
    CaseRecord, Entry, FilingKind, Handover, HandoverReason, HotWorkPermit, Policy, RecordKind,
};
use crate::domain::ProjectStatus;

/// A work's case file: its records in force (a corrected record gives way
/// to its correction), oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFile {
    pub records: Vec<CaseRecord>,
}

impl CaseFile {
    /// The records in force among every record of one work.
    #[must_use]
    pub fn new(mut all: Vec<CaseRecord>) -> Self {
        let corrected: HashSet<i64> = all.iter().filter_map(|r| r.body.corrects).collect();
        all.retain(|r| !corrected.contains(&r.id));
        all.sort_by_key(|r| (r.recorded_at, r.id));
        Self { records: all }
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.records.iter().map(|r| &r.body.entry)
    }

    /// The filing of a kind in force, the earliest.
    #[must_use]
    pub fn filing(&self, kind: FilingKind) -> Option<NaiveDate> {
        self.entries()
            .filter_map(|e| match e {
                Entry::Filing(f) if f.filing == kind => Some(f.date),
                _ => None,
            })
            .min()
    }

    /// The day work starts: the work's own start date (`started_on`), else
    /// its start filing's date.
    #[must_use]
    pub fn start_day(&self, started_on: Option<NaiveDate>) -> Option<NaiveDate> {
        started_on.or_else(|| self.filing(FilingKind::Start))
    }

    /// Whether a written notice was served before work started ("notified"
    /// in the evaluation's sense: 开工前书面告知). A notice served on or
    /// after the start day does not count; nor does any while the start day
    /// is unknown.
    #[must_use]
    pub fn notified(&self, started_on: Option<NaiveDate>) -> bool {
        let Some(start) = self.start_day(started_on) else {
            return false;
        };
        self.entries()
            .any(|e| matches!(e, Entry::Notice(n) if n.served_on < start))
    }

    /// The hand-overs in force.
    pub fn handovers(&self) -> impl Iterator<Item = &Handover> {
        self.entries().filter_map(|e| match e {
            Entry::Handover(h) => Some(h),
            _ => None,
        })
    }

    /// The hand-over that answers for an above-limit work, if any (any
    /// hand-over of the work does: the body it went to decides).
    #[must_use]
    pub fn above_limit_handover(&self) -> Option<&Handover> {
        self.handovers().min_by_key(|h| {
            (
                !matches!(
                    h.reason,
                    HandoverReason::AboveLimit | HandoverReason::Unpermitted
                ),
                h.date,
            )
        })
    }

    /// The reason the work is outside the 小微工程 scope, if marked.
    #[must_use]
    pub fn out_of_scope(&self) -> Option<&str> {
        self.entries().find_map(|e| match e {
            Entry::OutOfScope(o) => Some(o.reason.as_str()),
            _ => None,
        })
    }

    /// The hot-work permits in force.
    pub fn permits(&self) -> impl Iterator<Item = &HotWorkPermit> {
        self.entries().filter_map(|e| match e {
            Entry::HotWorkPermit(p) => Some(p),
            _ => None,
        })
    }

    /// A permit valid at `t` (within its period), if any.
    #[must_use]
    pub fn permit_at(&self, t: DateTime<Utc>) -> Option<&HotWorkPermit> {
        self.permits().find(|p| p.from <= t && t <= p.until)
    }

    /// Whether an insulation filing is in force.
    #[must_use]
    pub fn insulation_filed(&self) -> bool {
        self.entries()
            .any(|e| matches!(e, Entry::InsulationFiling(_)))
    }

    /// The policies in force.
    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        self.entries().filter_map(|e| match e {
            Entry::Policy(p) => Some(p),
            _ => None,
        })
    }

    /// Whether one policy covers every day from `from` to `to`.
    #[must_use]
    pub fn insured(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.policies().any(|p| p.from <= from && to <= p.to)
    }

    /// Whether any record of a kind is in force.
    #[must_use]
    pub fn has(&self, kind: RecordKind) -> bool {
        self.records.iter().any(|r| r.kind() == kind)
    }

    /// The status that follows from the records: a completion filing makes
    /// a work `completed`; a start filing makes it `filed`, or `notified`
    /// when a notice was served before the start. Records only move a work
    /// forward: a work already `in_progress` (it started) stays there until
    /// its completion filing, and a status no record explains (an imported
    /// ledger's) is kept.
    #[must_use]
    pub fn status(&self, current: ProjectStatus, started_on: Option<NaiveDate>) -> ProjectStatus {
        if self.filing(FilingKind::Completion).is_some() {
            return ProjectStatus::Completed;
        }
        if self.filing(FilingKind::Start).is_none() {
            return current;
        }
        match current {
            ProjectStatus::Discovered | ProjectStatus::Filed | ProjectStatus::Notified => {
                if self.notified(started_on) {
                    ProjectStatus::Notified
                } else {
                    ProjectStatus::Filed
                }
            }
            s @ (ProjectStatus::InProgress | ProjectStatus::Completed) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::casefile::record::{Filing, Notice, RecordBody};

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn rec(id: i64, entry: Entry, corrects: Option<i64>) -> CaseRecord {
        CaseRecord {
            id,
            project_id: 1,
            body: RecordBody {
                entry,
                corrects,
                documents: Vec::new(),
                note: String::new(),
            },
            recorded_by: "t".into(),
            recorded_at: DateTime::from_timestamp(1_700_000_000 + id, 0).expect("t"),
        }
    }

    fn filing(kind: FilingKind, d: &str) -> Entry {
        Entry::Filing(Filing {
            filing: kind,
            number: "B1".into(),
            date: day(d),
        })
    }

    fn notice(d: &str) -> Entry {
        Entry::Notice(Notice {
            recipients: vec!["张三".into()],
            served_on: day(d),
            commitment: None,
        })
    }

    #[test]
    fn status_follows_the_filings_and_the_notice_before_the_start() {
        let w = Some(day("2025-03-10"));
        let d = ProjectStatus::Discovered;
        let f = CaseFile::new(vec![rec(1, filing(FilingKind::Start, "2025-03-01"), None)]);
        assert_eq!(f.status(d, w), ProjectStatus::Filed);
        let late = CaseFile::new(vec![
            rec(1, filing(FilingKind::Start, "2025-03-01"), None),
            rec(2, notice("2025-03-12"), None),
        ]);
        assert!(!late.notified(w), "served after the start");
        assert_eq!(late.status(d, w), ProjectStatus::Filed);
        let on_time = CaseFile::new(vec![
            rec(1, filing(FilingKind::Start, "2025-03-01"), None),
            rec(2, notice("2025-03-12"), None),
            rec(3, notice("2025-03-05"), Some(2)),
        ]);
        assert!(on_time.notified(w), "the correction stands");
        assert_eq!(on_time.status(d, w), ProjectStatus::Notified);
        let done = CaseFile::new(vec![
            rec(1, filing(FilingKind::Start, "2025-03-01"), None),
            rec(4, filing(FilingKind::Completion, "2025-04-01"), None),
        ]);
        assert_eq!(done.status(d, w), ProjectStatus::Completed);
        assert_eq!(CaseFile::default().status(d, w), ProjectStatus::Discovered);
    }
}
