//! The measured values of the evaluation table, per town and window, from
//! the case files, inspections, hazards and the blind-spot analyses. Each
//! value keeps its numerator and denominator so a reader can check it
//! ("12 / 15"), and a measure with nothing to measure has no value.
//!
//! Finding works counts for a town (排摸发现工程数); leaving found works
//! unmanaged counts against it (发现工程纳管率, 社会投资项目纳管率): a town
//! that sweeps harder and files what it finds scores higher, never lower.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::blindspots::scorecard::ScoreRow;
use crate::blindspots::works::WorkGap;
use crate::blindspots::{Dataset, Report, Window, local_day};
use crate::casefile::{CaseFile, FilingKind, PartyRole};
use crate::domain::{Funding, Project, ProjectStatus};
use crate::inspection::median;

/// One measured value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Measured {
    pub key: &'static str,
    /// `None`: nothing to measure (no works of the kind).
    pub value: Option<f64>,
    pub numerator: Option<usize>,
    pub denominator: Option<usize>,
}

/// A town's measured values, by measure key.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TownMeasures {
    pub town: String,
    pub town_name: String,
    pub values: Vec<Measured>,
}

impl TownMeasures {
    /// The value of a measure.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Measured> {
        self.values.iter().find(|m| m.key == key)
    }
}

/// An item of 督办 that climbed past its owner (to the town lead or the
/// district): the town it lies in, the day it fell due, and whether it is
/// closed (its fact no longer holds, or its owner marked it handled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalated {
    pub town: String,
    pub due_on: chrono::NaiveDate,
    pub closed: bool,
}

/// The roles named on each work's case file.
pub type Roles = HashMap<i64, HashSet<PartyRole>>;

#[expect(clippy::cast_precision_loss, reason = "counts are small")]
fn ratio(key: &'static str, num: usize, den: usize) -> Measured {
    Measured {
        key,
        value: (den > 0).then(|| num as f64 / den as f64),
        numerator: Some(num),
        denominator: Some(den),
    }
}

#[expect(clippy::cast_precision_loss, reason = "counts are small")]
fn count(key: &'static str, n: usize) -> Measured {
    Measured {
        key,
        value: Some(n as f64),
        numerator: Some(n),
        denominator: None,
    }
}

fn value(key: &'static str, v: Option<f64>) -> Measured {
    Measured {
        key,
        value: v,
        numerator: None,
        denominator: None,
    }
}

/// Counts the works of `of` for which `yes` holds.
fn tally<'a>(
    of: impl Iterator<Item = &'a Work<'a>>,
    yes: impl Fn(&Work<'a>) -> bool,
) -> (usize, usize) {
    of.fold((0, 0), |(n, d), w| (n + usize::from(yes(w)), d + 1))
}

/// A work with what the measures read about it.
struct Work<'a> {
    id: i64,
    p: &'a Project,
    file: Option<&'a CaseFile>,
    gaps: &'a [WorkGap],
}

impl Work<'_> {
    fn filed(&self) -> bool {
        self.p.status != ProjectStatus::Discovered
    }
    fn gap(&self, g: WorkGap) -> bool {
        self.gaps.contains(&g)
    }
    /// Under management: filed, and an above-limit work handed over.
    fn managed(&self) -> bool {
        self.filed() && !self.gap(WorkGap::AboveLimit)
    }
    fn start_filing(&self) -> Option<chrono::NaiveDate> {
        self.file.and_then(|f| f.filing(FilingKind::Start))
    }
    /// Found in operation: never filed, or filed only after it started.
    fn found(&self) -> bool {
        !self.filed()
            || matches!((self.start_filing(), self.p.started_on), (Some(f), Some(s)) if f > s)
    }
}

/// The measured values of every town of the data (declared measures carry
/// what the records can say about them, e.g. the share of commercial
/// districts with a one-stop plan).
#[must_use]
pub fn measure(
    data: &Dataset,
    report: &Report,
    roles: &Roles,
    escalated: &[Escalated],
    window: &Window,
) -> Vec<TownMeasures> {
    let gaps: HashMap<i64, &[WorkGap]> = report
        .works
        .iter()
        .map(|w| (w.project_id, w.kinds.as_slice()))
        .collect();
    let files = data.case_files.as_ref();
    let mut works: HashMap<&str, Vec<Work<'_>>> = HashMap::new();
    for p in &data.projects {
        let Some(town) = p.value.town.as_deref() else {
            continue;
        };
        if !p.value.active_in(window) {
            continue;
        }
        works.entry(town).or_default().push(Work {
            id: p.id,
            p: &p.value,
            file: files.and_then(|f| f.get(&p.id)),
            gaps: gaps.get(&p.id).copied().unwrap_or(&[]),
        });
    }
    let rows: HashMap<&str, &ScoreRow> = report
        .scorecard
        .iter()
        .map(|r| (r.town.as_str(), r))
        .collect();
    data.towns
        .iter()
        .map(|t| {
            let code = t.value.code.as_str();
            let empty = Vec::new();
            let ws = works.get(code).unwrap_or(&empty);
            let mut values = Vec::with_capacity(24);
            filing(&mut values, ws, roles);
            notice(&mut values, ws, window);
            full_management(&mut values, ws);
            supervision(&mut values, ws, data, window, rows.get(code).copied());
            escalation(&mut values, escalated, code, window);
            project_management(&mut values, ws, report, code);
            innovation(
                &mut values,
                ws,
                report,
                roles,
                code,
                rows.get(code).copied(),
            );
            TownMeasures {
                town: code.to_owned(),
                town_name: t.value.name.clone(),
                values,
            }
        })
        .collect()
}

fn filing(out: &mut Vec<Measured>, ws: &[Work<'_>], roles: &Roles) {
    let (n, d) = tally(ws.iter(), Work::filed);
    out.push(ratio("filing_rate", n, d));
    let complete = |w: &Work<'_>| {
        let named = roles
            .get(&w.id)
            .is_some_and(|r| r.contains(&PartyRole::Builder) && r.contains(&PartyRole::Contractor));
        let completion = w.p.completed_on.is_none()
            || w.file
                .and_then(|f| f.filing(FilingKind::Completion))
                .is_some();
        w.start_filing().is_some() && named && completion
    };
    let (n, d) = tally(ws.iter().filter(|w| w.filed()), complete);
    out.push(ratio("filing_complete", n, d));
}

fn notice(out: &mut Vec<Measured>, ws: &[Work<'_>], window: &Window) {
    let started = |w: &&Work<'_>| {
        w.filed()
            && w.file
                .and_then(|f| f.start_day(w.p.started_on))
                .or(w.p.started_on)
                .is_some_and(|d| window.contains_day(d))
    };
    let (n, d) = tally(ws.iter().filter(started), |w| {
        w.file.is_some_and(|f| f.notified(w.p.started_on))
    });
    out.push(ratio("notified_before_start", n, d));
}

fn full_management(out: &mut Vec<Measured>, ws: &[Work<'_>]) {
    let (n, d) = tally(
        ws.iter().filter(|w| w.p.funding == Funding::Social),
        Work::managed,
    );
    out.push(ratio("social_managed", n, d));
    let found: Vec<&Work<'_>> = ws.iter().filter(|w| w.found()).collect();
    out.push(count("found_works", found.len()));
    let (n, d) = tally(found.iter().copied(), Work::managed);
    out.push(ratio("found_managed", n, d));
    let above: Vec<&Work<'_>> = ws.iter().filter(|w| w.p.above_limit()).collect();
    let handover = |w: &Work<'_>| {
        w.file
            .and_then(CaseFile::above_limit_handover)
            .map(|h| (h.date, w.p.started_on))
    };
    let (n, d) = tally(above.iter().copied(), |w| handover(w).is_some());
    out.push(ratio("handed_over", n, d));
    #[expect(clippy::cast_precision_loss, reason = "days are small")]
    let days: Vec<f64> = above
        .iter()
        .filter_map(|w| handover(w))
        .filter_map(|(h, s)| s.map(|s| (h - s).num_days().max(0) as f64))
        .collect();
    out.push(value("days_to_handover", median(days)));
}

fn supervision(
    out: &mut Vec<Measured>,
    ws: &[Work<'_>],
    data: &Dataset,
    window: &Window,
    row: Option<&ScoreRow>,
) {
    let mut inspected: HashMap<i64, Vec<chrono::NaiveDate>> = HashMap::new();
    for i in data
        .inspections
        .iter()
        .filter(|i| window.contains(i.inspected_at))
    {
        inspected
            .entry(i.project_id)
            .or_default()
            .push(local_day(i.inspected_at));
    }
    let (n, d) = tally(ws.iter().filter(|w| w.filed()), |w| {
        let since = w.start_filing();
        inspected
            .get(&w.id)
            .is_some_and(|days| days.iter().any(|d| since.is_none_or(|s| *d >= s)))
    });
    out.push(ratio("inspected_after_filing", n, d));
    out.push(value(
        "inspections_per_work_month",
        row.filter(|r| r.active_works > 0)
            .map(|r| (r.inspections_per_work_month * 100.0).round() / 100.0),
    ));
    let ids: HashSet<i64> = ws.iter().map(|w| w.id).collect();
    let (from, today) = (local_day(window.from()), window.today());
    let due = data
        .hazards
        .iter()
        .filter(|h| ids.contains(&h.project_id) && h.deadline >= from && h.deadline <= today);
    let (n, d) = due.fold((0, 0), |(n, d), h| {
        let in_time = h.closed_at.is_some_and(|c| local_day(c) <= h.deadline);
        (n + usize::from(in_time), d + 1)
    });
    out.push(ratio("hazards_closed_in_time", n, d));
    out.push(value(
        "median_days_to_close",
        row.and_then(|r| r.median_days_to_close),
    ));
}

/// The items of 督办 of the town that fell due in the window and climbed
/// past their owner, and the share of them closed.
fn escalation(out: &mut Vec<Measured>, escalated: &[Escalated], town: &str, window: &Window) {
    let (from, today) = (local_day(window.from()), window.today());
    let (n, d) = escalated
        .iter()
        .filter(|e| e.town == town && e.due_on >= from && e.due_on <= today)
        .fold((0, 0), |(n, d), e| (n + usize::from(e.closed), d + 1));
    out.push(count("escalated_items", d));
    out.push(ratio("escalated_closed", n, d));
}

fn project_management(out: &mut Vec<Measured>, ws: &[Work<'_>], report: &Report, town: &str) {
    let (n, d) = tally(ws.iter().filter(|w| w.filed()), |w| {
        !w.gap(WorkGap::Uninsured)
    });
    out.push(ratio("insured", n, d));
    let hot: HashSet<i64> = report
        .near_venues
        .iter()
        .filter(|v| v.hot_work && v.town.as_deref() == Some(town))
        .map(|v| v.project_id)
        .collect();
    let (n, d) = tally(ws.iter().filter(|w| hot.contains(&w.id)), |w| {
        !w.gap(WorkGap::HotWorkUnpermitted)
    });
    out.push(ratio("hot_work_permitted", n, d));
    let (n, d) = tally(ws.iter().filter(|w| w.p.insulation), |w| {
        !w.gap(WorkGap::InsulationUnfiled)
    });
    out.push(ratio("insulation_filed", n, d));
    let finished = |w: &&Work<'_>| {
        w.p.status == ProjectStatus::Completed || w.gap(WorkGap::NoCompletionFiling)
    };
    let (n, d) = tally(ws.iter().filter(finished), |w| {
        !w.gap(WorkGap::NoCompletionFiling)
    });
    out.push(ratio("completion_filed", n, d));
}

/// What the records say about the declared practices: the share of the
/// town's commercial districts with a one-stop plan, the works with a
/// third-party safety service, the patrol coverage of the town's cells.
fn innovation(
    out: &mut Vec<Measured>,
    ws: &[Work<'_>],
    report: &Report,
    roles: &Roles,
    town: &str,
    row: Option<&ScoreRow>,
) {
    let districts = report
        .districts
        .iter()
        .filter(|d| d.town.as_deref() == Some(town));
    let (n, d) = districts.fold((0, 0), |(n, d), x| {
        (n + usize::from(x.one_stop_plan), d + 1)
    });
    out.push(ratio("one_stop_plan", n, d));
    let third = ws
        .iter()
        .filter(|w| {
            roles
                .get(&w.id)
                .is_some_and(|r| r.contains(&PartyRole::SafetyService))
        })
        .count();
    out.push(count("third_party", third));
    out.push(value("street_sweep", row.and_then(|r| r.patrol_coverage)));
    for key in ["shop_notice", "digital_platform"] {
        out.push(value(key, None));
    }
}
