//! The late facts of the records, as [`Event`]s: hazards near or past their
//! deadline, works due an inspection (per category), discovered works not
//! filed, above-limit works not handed over, notices not served before the
//! start, hot-work permits about to lapse near a crowded venue, grids not
//! patrolled within their interval, and routes assigned to an officer.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::assigned::{AssignedRoute, route_event};
use super::{Event, EventKind, Subject};
use crate::casefile::CaseFile;
use crate::domain::{Category, Grid, Project, ProjectStatus, Stored};
use crate::inspection::{Hazard, Inspection};
use crate::time::{beijing_text, local_day};

/// The thresholds of the rules, in days (or hours for permits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    /// A hazard's deadline is near this many days before it.
    pub deadline_near_days: i64,
    /// A discovered work not filed after this many days from its start.
    pub discovered_filing_days: i64,
    /// A notice is due this many days before the start (and is late on it).
    pub notice_lead_days: i64,
    /// A hot-work permit near a crowded venue lapses within this many hours.
    pub permit_lapse_hours: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            deadline_near_days: 2,
            discovered_filing_days: 7,
            notice_lead_days: 1,
            permit_lapse_hours: 24,
        }
    }
}

/// How often a work in progress is inspected, by category: fit-outs (shops
/// in commercial districts, the most frequent starts) and new builds every
/// two weeks, the rest monthly.
#[must_use]
pub fn inspection_interval_days(c: Category) -> i64 {
    match c {
        Category::FitOut | Category::NewBuild | Category::Extension => 14,
        _ => 30,
    }
}

/// Where a work lies, as the owner lookup needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub grid: Option<String>,
    pub zone: Option<String>,
}

/// The records the rules read, as of `now`.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub now: DateTime<Utc>,
    pub works: &'a [Stored<Project>],
    pub hazards: &'a [Hazard],
    pub inspections: &'a [Inspection],
    /// The case file of each work (by id); a work without one has none.
    pub files: &'a HashMap<i64, CaseFile>,
    /// The grid and zone of each work (by id).
    pub places: &'a HashMap<i64, Place>,
    /// Works near a crowded venue (人员密集场所).
    pub near_venue: &'a [i64],
    /// Grids with the last time a track covered any of their cells.
    pub grids: &'a [(Grid, Option<DateTime<Utc>>)],
    /// Routes assigned to an officer.
    pub routes: &'a [AssignedRoute],
}

/// Every late fact of the records, in a stable order.
#[must_use]
pub fn compute(f: &Facts<'_>, t: &Thresholds) -> Vec<Event> {
    let today = local_day(f.now);
    let works: HashMap<i64, &Stored<Project>> = f.works.iter().map(|w| (w.id, w)).collect();
    let mut last_inspected: HashMap<i64, NaiveDate> = HashMap::new();
    for i in f.inspections {
        let d = local_day(i.inspected_at);
        let e = last_inspected.entry(i.project_id).or_insert(d);
        *e = (*e).max(d);
    }
    let mut out = Vec::new();
    hazard_events(f, t, today, &works, &mut out);
    for w in f.works {
        work_events(f, t, today, w, last_inspected.get(&w.id).copied(), &mut out);
    }
    for (g, last) in f.grids {
        grid_event(today, g, *last, &mut out);
    }
    out.extend(f.routes.iter().filter_map(|r| route_event(today, r)));
    out
}

fn subject(f: &Facts<'_>, w: &Stored<Project>) -> Subject {
    let place = f.places.get(&w.id).cloned().unwrap_or_default();
    Subject {
        project_id: Some(w.id),
        town_code: w.value.town.clone(),
        grid_code: place.grid,
        zone_code: place.zone,
        ..Subject::default()
    }
}

fn hazard_events(
    f: &Facts<'_>,
    t: &Thresholds,
    today: NaiveDate,
    works: &HashMap<i64, &Stored<Project>>,
    out: &mut Vec<Event>,
) {
    let inspectors: HashMap<i64, &str> = f
        .inspections
        .iter()
        .map(|i| (i.id, i.inspector.as_str()))
        .collect();
    for h in f.hazards {
        if !h.status.awaits_rectification() {
            continue;
        }
        let Some(w) = works.get(&h.project_id) else {
            continue;
        };
        let days_left = (h.deadline - today).num_days();
        let kind = if h.is_overdue(today) {
            EventKind::HazardOverdue
        } else if days_left <= t.deadline_near_days {
            EventKind::HazardDeadlineNear
        } else {
            continue;
        };
        let mut s = subject(f, w);
        s.hazard_id = Some(h.id);
        let name = &w.value.name;
        let (due_on, body_zh, body_en) = if kind == EventKind::HazardOverdue {
            let days = h.days_overdue(today);
            (
                h.deadline + Duration::days(1),
                format!(
                    "{name}的{}「{}」整改期限为{}，已逾期{days}天仍未整改（{}）。",
                    h.severity.label_zh(),
                    h.kind.label_zh(),
                    h.deadline,
                    h.status.label_zh()
                ),
                format!(
                    "The {} hazard \"{}\" at {name} was due by {} and is {days} day(s) overdue ({}).",
                    h.severity.as_str(),
                    h.kind.as_str(),
                    h.deadline,
                    h.status.as_str()
                ),
            )
        } else {
            (
                h.deadline,
                format!(
                    "{name}的隐患「{}」须于{}前整改完毕，还剩{days_left}天。",
                    h.kind.label_zh(),
                    h.deadline
                ),
                format!(
                    "The hazard \"{}\" at {name} must be rectified by {} ({days_left} day(s) left).",
                    h.kind.as_str(),
                    h.deadline
                ),
            )
        };
        out.push(Event {
            kind,
            key: format!("{}:hazard:{}:{}", kind.as_str(), h.id, h.deadline),
            subject: s,
            officer: inspectors.get(&h.inspection_id).map(|s| (*s).to_owned()),
            due_on,
            title_zh: format!("{}：{name}", kind.label_zh()),
            title_en: format!("{}: {name}", capitalised(kind.label_en())),
            body_zh,
            body_en,
        });
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

struct Late {
    kind: EventKind,
    fact: String,
    due_on: NaiveDate,
    zh: String,
    en: String,
}

fn work_events(
    f: &Facts<'_>,
    t: &Thresholds,
    today: NaiveDate,
    w: &Stored<Project>,
    last: Option<NaiveDate>,
    out: &mut Vec<Event>,
) {
    let p = &w.value;
    let empty = CaseFile::new(Vec::new());
    let file = f.files.get(&w.id).unwrap_or(&empty);
    let open = !matches!(p.status, ProjectStatus::Completed) && file.out_of_scope().is_none();
    let mut late = Vec::new();
    let start = file.start_day(p.started_on);
    if open
        && p.status == ProjectStatus::Discovered
        && let Some(s) = p.started_on
        && today >= s + Duration::days(t.discovered_filing_days)
    {
        late.push(Late {
            kind: EventKind::DiscoveredNotFiled,
            fact: s.to_string(),
            due_on: s + Duration::days(t.discovered_filing_days),
            zh: format!(
                "巡查发现的工程「{}」自{s}开工，{}天内仍未办理开工备案，请督促纳管。",
                p.name, t.discovered_filing_days
            ),
            en: format!(
                "The work \"{}\" found on patrol started on {s} and is not filed after {} days.",
                p.name, t.discovered_filing_days
            ),
        });
    }
    if p.above_limit() && file.above_limit_handover().is_none() && file.out_of_scope().is_none() {
        let due = start.unwrap_or(today);
        late.push(Late {
            kind: EventKind::AboveLimitNotHandedOver,
            fact: String::new(),
            due_on: due.min(today),
            zh: format!("工程「{}」投资额{}元，超出小微工程限额（应报建未报建），尚未移送。", p.name, p.investment_cny),
            en: format!("The work \"{}\" (CNY {}) is above the small-works limit and has not been handed over.", p.name, p.investment_cny),
        });
    }
    if open
        && !file.notified(p.started_on)
        && let Some(s) = start
        && today >= s - Duration::days(t.notice_lead_days)
    {
        late.push(Late {
            kind: EventKind::NoticeNotServed,
            fact: s.to_string(),
            due_on: s - Duration::days(t.notice_lead_days),
            zh: format!(
                "工程「{}」于{s}开工，开工前未送达告知书（告知承诺）。",
                p.name
            ),
            en: format!(
                "The work \"{}\" starts on {s} and no notice was served before the start.",
                p.name
            ),
        });
    }
    if open
        && matches!(
            p.status,
            ProjectStatus::InProgress | ProjectStatus::Notified | ProjectStatus::Filed
        )
        && let Some(s) = start.filter(|s| *s <= today)
    {
        late.extend(inspection_due(p, s, last, today));
    }
    if open && p.hot_work && f.near_venue.contains(&w.id) {
        let soon = f.now + Duration::hours(t.permit_lapse_hours);
        if let Some(permit) = file.permit_at(f.now).filter(|pm| pm.until <= soon) {
            late.push(Late {
                kind: EventKind::HotWorkPermitLapsing,
                fact: permit.number.clone(),
                due_on: local_day(permit.until),
                zh: format!("人员密集场所旁的工程「{}」动火审批（{}）将于{}到期，请核查是否续批或停止动火。", p.name, permit.number, beijing_text(permit.until)),
                en: format!("The hot-work permit {} of \"{}\" near a crowded venue lapses at {} (Beijing time).", permit.number, p.name, beijing_text(permit.until)),
            });
        }
    }
    for l in late {
        out.push(Event {
            kind: l.kind,
            key: format!("{}:work:{}:{}", l.kind.as_str(), w.id, l.fact),
            subject: subject(f, w),
            officer: None,
            due_on: l.due_on,
            title_zh: format!("{}：{}", l.kind.label_zh(), p.name),
            title_en: format!("{}: {}", capitalised(l.kind.label_en()), p.name),
            body_zh: l.zh,
            body_en: l.en,
        });
    }
}

/// An inspection due on a work under way since `s` (its category's interval).
fn inspection_due(
    p: &Project,
    s: NaiveDate,
    last: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<Late> {
    let every = inspection_interval_days(p.category);
    let due = last.unwrap_or(s) + Duration::days(every);
    if today < due {
        return None;
    }
    let since = last.map_or_else(
        || format!("开工（{s}）以来未检查"),
        |d| format!("上次检查为{d}"),
    );
    let since_en = last.map_or_else(
        || format!("not inspected since the start ({s})"),
        |d| format!("last inspected on {d}"),
    );
    Some(Late {
        kind: EventKind::InspectionDue,
        fact: due.to_string(),
        due_on: due,
        zh: format!(
            "工程「{}」（{}）应每{every}天检查一次，{since}。",
            p.name,
            p.category.label_zh()
        ),
        en: format!(
            "The work \"{}\" ({}) is inspected every {every} days; {since_en}.",
            p.name,
            p.category.as_str()
        ),
    })
}

fn grid_event(today: NaiveDate, g: &Grid, last: Option<DateTime<Utc>>, out: &mut Vec<Event>) {
    let Some(last) = last else {
        return;
    };
    let last_day = local_day(last);
    let due = last_day + Duration::days(i64::from(g.patrol_interval_days));
    if today < due {
        return;
    }
    let kind = EventKind::GridOverdue;
    out.push(Event {
        kind,
        key: format!("{}:grid:{}:{last_day}", kind.as_str(), g.code),
        subject: Subject {
            grid_code: Some(g.code.clone()),
            town_code: Some(g.town.clone()),
            zone_code: Some(g.zone.clone()),
            ..Subject::default()
        },
        officer: None,
        due_on: due,
        title_zh: format!("{}：{}", kind.label_zh(), g.name),
        title_en: format!("{}: {}", capitalised(kind.label_en()), g.name),
        body_zh: format!(
            "网格「{}」应每{}天巡查一次，上次巡查为{last_day}。",
            g.name, g.patrol_interval_days
        ),
        body_en: format!(
            "The grid \"{}\" is patrolled every {} days; last patrolled on {last_day}.",
            g.name, g.patrol_interval_days
        ),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Funding;
    use crate::inspection::{HazardKind, HazardStatus, Severity};

    fn work(id: i64, status: ProjectStatus, started: Option<&str>) -> Stored<Project> {
        Stored {
            id,
            value: Project {
                code: format!("W-{id}"),
                name: format!("工程{id}"),
                category: Category::FitOut,
                funding: Funding::Social,
                investment_cny: 200_000,
                floor_area_m2: Some(80.0),
                status,
                started_on: started.map(|s| s.parse().expect("date")),
                completed_on: None,
                hot_work: false,
                insulation: false,
                steel_mezzanine: false,
                insured: true,
                address: String::new(),
                town: Some("310117001".into()),
                geometry: geo::Point::new(121.2, 31.0).into(),
            },
        }
    }

    fn hazard(status: HazardStatus, deadline: &str) -> Hazard {
        let t: DateTime<Utc> = "2026-11-20T02:00:00Z".parse().expect("time");
        Hazard {
            id: 5,
            inspection_id: 9,
            project_id: 1,
            kind: HazardKind::NoSwitchBox,
            severity: Severity::General,
            deadline: deadline.parse().expect("date"),
            status,
            note: String::new(),
            found_at: t,
            closed_at: None,
            updated_at: t,
        }
    }

    fn events(works: &[Stored<Project>], hazards: &[Hazard], now: &str) -> Vec<Event> {
        let files = HashMap::new();
        let places = HashMap::new();
        compute(
            &Facts {
                now: now.parse().expect("time"),
                works,
                hazards,
                inspections: &[],
                files: &files,
                places: &places,
                near_venue: &[],
                grids: &[],
                routes: &[],
            },
            &Thresholds::default(),
        )
    }

    #[test]
    fn a_hazard_is_near_then_overdue_until_rectified() {
        let works = [work(1, ProjectStatus::Filed, None)];
        let kinds = |h: Hazard, now: &str| {
            events(&works, &[h], now)
                .iter()
                .map(|e| (e.kind, e.key.clone()))
                .collect::<Vec<_>>()
        };
        // 2026-11-22 10:00 Beijing: three days left, nothing
        assert!(
            kinds(
                hazard(HazardStatus::Open, "2026-11-25"),
                "2026-11-22T02:00:00Z"
            )
            .is_empty()
        );
        assert_eq!(
            kinds(
                hazard(HazardStatus::Open, "2026-11-25"),
                "2026-11-23T02:00:00Z"
            ),
            [(
                EventKind::HazardDeadlineNear,
                "hazard_deadline_near:hazard:5:2026-11-25".to_owned()
            )]
        );
        // the deadline day itself is not late; the day after is
        assert_eq!(
            kinds(
                hazard(HazardStatus::Open, "2026-11-25"),
                "2026-11-25T15:00:00Z"
            )[0]
            .0,
            EventKind::HazardDeadlineNear
        );
        assert_eq!(
            kinds(
                hazard(HazardStatus::Rectifying, "2026-11-25"),
                "2026-11-25T16:00:00Z"
            ),
            [(
                EventKind::HazardOverdue,
                "hazard_overdue:hazard:5:2026-11-25".to_owned()
            )]
        );
        assert!(
            kinds(
                hazard(HazardStatus::Verified, "2026-11-25"),
                "2026-12-25T02:00:00Z"
            )
            .is_empty()
        );
    }

    #[test]
    fn works_late_in_their_lifecycle() {
        let found = work(2, ProjectStatus::Discovered, Some("2026-11-01"));
        let ev = events(&[found], &[], "2026-11-08T02:00:00Z");
        let kinds: Vec<EventKind> = ev.iter().map(|e| e.kind).collect();
        // not filed after 7 days; not notified before its start
        assert_eq!(
            kinds,
            [EventKind::DiscoveredNotFiled, EventKind::NoticeNotServed]
        );
        assert_eq!(ev[0].key, "discovered_not_filed:work:2:2026-11-01");
        assert!(
            ev[0].body_zh.contains("未办理开工备案"),
            "{}",
            ev[0].body_zh
        );
        // a filed fit-out not inspected for 14 days after its start
        let filed = work(3, ProjectStatus::Filed, Some("2026-11-01"));
        let ev = events(&[filed], &[], "2026-11-15T02:00:00Z");
        assert!(ev.iter().any(|e| e.kind == EventKind::InspectionDue && e.due_on.to_string() == "2026-11-15"));
    }
}
