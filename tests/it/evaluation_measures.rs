//! The evaluation's measures from hand-built records, each against its
//! definition: one town, a dozen works with case files, inspections and
//! hazards whose every count is known; then the properties the committee
//! cares about — finding and filing works raises 全面纳管, leaving them
//! unmanaged lowers it — and the score of a claim above the records.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use geo::{MultiPolygon, Point, Rect};
use gridpatrol::blindspots::{
    Coverage, Dataset, ReportParams, Window, districts, near_venues, report, works,
};
use gridpatrol::casefile::{
    CaseFile, CaseRecord, Entry, Filing, FilingKind, Handover, HandoverReason, Notice, PartyRole,
    RecordBody,
};
use gridpatrol::domain::{Category, Funding, Project, ProjectStatus, Stored, Town, TownKind};
use gridpatrol::evaluation::{
    self, Claim, Escalated, ItemCode, Roles, SONGJIANG_2025, SelfAssessment, TownMeasures,
};
use gridpatrol::inspection::{Hazard, HazardKind, HazardStatus, Inspection, Severity};

const TOWN: &str = "310117001";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T04:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

fn days_ago(d: i64) -> DateTime<Utc> {
    now() - Duration::days(d)
}

fn day(d: i64) -> NaiveDate {
    days_ago(d).date_naive()
}

fn work(id: i64, status: ProjectStatus, funding: Funding) -> Stored<Project> {
    Stored {
        id,
        value: Project {
            code: format!("E-{id:03}"),
            name: format!("工程{id}"),
            category: Category::Alteration,
            funding,
            investment_cny: 200_000,
            floor_area_m2: None,
            status,
            started_on: Some(day(30)),
            completed_on: None,
            hot_work: false,
            insulation: false,
            steel_mezzanine: false,
            insured: true,
            address: String::new(),
            town: Some(TOWN.to_owned()),
            geometry: Point::new(
                121.2 + 0.001 * f64::from(u8::try_from(id).unwrap_or(0)),
                31.0,
            )
            .into(),
        },
    }
}

fn record(id: i64, project_id: i64, entry: Entry) -> CaseRecord {
    CaseRecord {
        id,
        project_id,
        body: RecordBody {
            entry,
            corrects: None,
            documents: vec![],
            note: String::new(),
        },
        recorded_by: "town".into(),
        recorded_at: days_ago(40),
    }
}

fn start_filing(id: i64, project_id: i64, ago: i64) -> CaseRecord {
    record(
        id,
        project_id,
        Entry::Filing(Filing {
            filing: FilingKind::Start,
            number: format!("BA-{id}"),
            date: day(ago),
        }),
    )
}

fn notice(id: i64, project_id: i64, ago: i64) -> CaseRecord {
    record(
        id,
        project_id,
        Entry::Notice(Notice {
            recipients: vec!["张三".into()],
            served_on: day(ago),
            commitment: None,
        }),
    )
}

fn inspected(id: i64, project_id: i64, ago: i64) -> Inspection {
    Inspection {
        id,
        project_id,
        inspected_at: days_ago(ago),
        inspector: "王建国".into(),
        note: String::new(),
        recorded_by: "wang".into(),
        recorded_at: days_ago(ago),
    }
}

fn hazard(id: i64, project_id: i64, deadline_ago: i64, closed_ago: Option<i64>) -> Hazard {
    Hazard {
        id,
        inspection_id: 1,
        project_id,
        kind: HazardKind::NoSwitchBox,
        severity: Severity::Serious,
        deadline: day(deadline_ago),
        status: if closed_ago.is_some() {
            HazardStatus::Verified
        } else {
            HazardStatus::Open
        },
        note: String::new(),
        found_at: days_ago(25),
        closed_at: closed_ago.map(days_ago),
        updated_at: days_ago(1),
    }
}

/// Ten works of one town in a 90-day window:
/// - 1–4 government, filed 31 days ago (a day before starting), notified
///   before the start (1–3) or on the day (4); 1 and 2 name a builder and
///   a contractor; 1–3 inspected after filing, 4 never.
/// - 5–6 social, filed 10 days after starting (found in operation);
///   7 social, still only found (discovered).
/// - 8 social above the limit, found, handed over; 9 above the limit, found, not.
/// - 10 completed 5 days ago (its 竣工备案 day), without parties named.
///
/// Hazards on 1: one closed in time, one closed late, one open past its
/// deadline, one not yet due.
fn dataset() -> (Dataset, Roles) {
    let mut projects: Vec<Stored<Project>> = (1..=4)
        .map(|i| work(i, ProjectStatus::InProgress, Funding::Government))
        .collect();
    projects.push(work(5, ProjectStatus::InProgress, Funding::Social));
    projects.push(work(6, ProjectStatus::InProgress, Funding::Social));
    projects.push(work(7, ProjectStatus::Discovered, Funding::Social));
    let mut above = work(8, ProjectStatus::Discovered, Funding::Social);
    above.value.investment_cny = 2_000_000;
    projects.push(above.clone());
    above.id = 9;
    above.value.code = "E-009".into();
    projects.push(above);
    let mut done = work(10, ProjectStatus::Completed, Funding::Government);
    done.value.completed_on = Some(day(5));
    projects.push(done);
    let mut records = vec![
        start_filing(1, 1, 31),
        start_filing(2, 2, 31),
        start_filing(3, 3, 31),
        start_filing(4, 4, 31),
        notice(5, 1, 33),
        notice(6, 2, 33),
        notice(7, 3, 33),
        notice(8, 4, 30), // on the start day: not before it
        start_filing(9, 5, 20),
        start_filing(10, 6, 20),
        start_filing(11, 10, 31),
        record(
            12,
            8,
            Entry::Handover(Handover {
                to: "区建管委".into(),
                reason: HandoverReason::AboveLimit,
                doc_number: "移-1".into(),
                date: day(12),
                outcome: None,
            }),
        ),
    ];
    let mut files: HashMap<i64, Vec<CaseRecord>> = HashMap::new();
    for r in records.drain(..) {
        files.entry(r.project_id).or_default().push(r);
    }
    let case_files = files
        .into_iter()
        .map(|(k, v)| (k, CaseFile::new(v)))
        .collect();
    let mut roles: Roles = HashMap::new();
    for id in [1, 2] {
        roles.insert(
            id,
            HashSet::from([PartyRole::Builder, PartyRole::Contractor]),
        );
    }
    roles.insert(
        3,
        HashSet::from([PartyRole::Builder, PartyRole::SafetyService]),
    );
    let town = Town {
        code: TOWN.into(),
        name: "岳阳街道".into(),
        name_en: "Yueyang".into(),
        kind: TownKind::Subdistrict,
        approximate: false,
        note: String::new(),
        geometry: MultiPolygon::new(vec![Rect::new((121.1, 30.9), (121.4, 31.2)).to_polygon()]),
    };
    let data = Dataset {
        towns: vec![Stored { id: 1, value: town }],
        grids: vec![],
        districts: vec![],
        venues: vec![],
        projects,
        inspections: vec![
            inspected(1, 1, 20),
            inspected(2, 2, 10),
            inspected(3, 3, 3),
            inspected(4, 5, 40),
        ],
        hazards: vec![
            hazard(1, 1, 10, Some(12)), // closed before its deadline
            hazard(2, 1, 15, Some(2)),  // closed late
            hazard(3, 1, 5, None),      // open past its deadline
            hazard(4, 1, -5, None),     // not yet due
        ],
        case_files: Some(case_files),
    };
    (data, roles)
}

fn measured(data: &Dataset, roles: &Roles) -> TownMeasures {
    measured_with(data, roles, &[])
}

fn measured_with(data: &Dataset, roles: &Roles, escalated: &[Escalated]) -> TownMeasures {
    let w = Window::days_before(now(), 90);
    let params = ReportParams {
        window: w,
        districts: districts::Thresholds::default(),
        near_venues: near_venues::Params {
            distance_m: near_venues::DEFAULT_DISTANCE_M,
            inspection_days: near_venues::DEFAULT_INSPECTION_DAYS,
            as_of: w.to(),
        },
        works: works::Params::default(),
    };
    let r = report(data, &Coverage::Unknown, &params);
    evaluation::measure(data, &r, roles, escalated, &w).remove(0)
}

fn ratio(m: &TownMeasures, key: &str) -> (usize, usize) {
    let v = m.get(key).unwrap_or_else(|| panic!("{key}"));
    (
        v.numerator.expect("numerator"),
        v.denominator.expect("denominator"),
    )
}

#[test]
fn every_measure_equals_its_definition() {
    let (data, roles) = dataset();
    let m = measured(&data, &roles);
    assert_eq!(m.town_name, "岳阳街道");
    // filed (not only found) of the ten active works: all but 7, 8, 9
    assert_eq!(ratio(&m, "filing_rate"), (7, 10));
    // complete: a start filing and both parties named — works 1 and 2
    assert_eq!(ratio(&m, "filing_complete"), (2, 7));
    // notified before the start, of the filed works that started in the
    // window: 1–3 (4 on the start day; 5, 6, 10 never)
    assert_eq!(ratio(&m, "notified_before_start"), (3, 7));
    // social works 5, 6, 7, 8, 9: managed 5, 6 (7 unfiled; 8 handed over
    // but never filed; 9 neither)
    assert_eq!(ratio(&m, "social_managed"), (2, 5));
    // found: filed after starting (5, 6) or never filed (7, 8, 9)
    assert_eq!(m.get("found_works").and_then(|v| v.value), Some(5.0));
    assert_eq!(ratio(&m, "found_managed"), (2, 5));
    // above the limit: 8 handed over, 9 not
    assert_eq!(ratio(&m, "handed_over"), (1, 2));
    assert_eq!(m.get("days_to_handover").and_then(|v| v.value), Some(18.0));
    // inspected in the window on or after filing: 1, 2, 3 of the seven filed
    // (5 was inspected before its filing)
    assert_eq!(ratio(&m, "inspected_after_filing"), (3, 7));
    // hazards due in the window: 1 (in time), 2 (late), 3 (open)
    assert_eq!(ratio(&m, "hazards_closed_in_time"), (1, 3));
    // finished works: 10, with its completion date (the 竣工备案 day)
    assert_eq!(ratio(&m, "completion_filed"), (1, 1));
    assert_eq!(m.get("third_party").and_then(|v| v.value), Some(1.0));
    // no hot work near a venue, no insulation: nothing to measure
    assert_eq!(m.get("hot_work_permitted").and_then(|v| v.value), None);
    assert_eq!(m.get("insulation_filed").and_then(|v| v.value), None);

    let s = evaluation::score(&SONGJIANG_2025, &m, None);
    let notice = s.item(ItemCode::Notice).expect("notice");
    assert!(
        (notice.score - 15.0 * 3.0 / 7.0).abs() < 0.06,
        "{}",
        notice.score
    );
    // declared items without a self-assessment give nothing
    assert!(s.item(ItemCode::Organisation).expect("org").score.abs() < 1e-9);
    assert!(s.total > 0.0 && s.total < 100.0);
}

#[test]
fn escalated_items_of_the_half_year_count_and_closing_them_scores() {
    let (data, roles) = dataset();
    let item = |town: &str, ago: i64, closed: bool| Escalated {
        town: town.to_owned(),
        due_on: day(ago),
        closed,
    };
    let supervision = |m: &TownMeasures| {
        evaluation::score(&SONGJIANG_2025, m, None)
            .item(ItemCode::Supervision)
            .expect("item")
            .score
    };
    // none escalated: nothing to measure, and nothing lost
    let none = measured(&data, &roles);
    assert_eq!(none.get("escalated_items").and_then(|v| v.value), Some(0.0));
    assert_eq!(none.get("escalated_closed").and_then(|v| v.value), None);
    // three of the town in the window (one closed), one before the window,
    // one of another town: 1 / 3
    let items = [
        item(TOWN, 10, true),
        item(TOWN, 20, false),
        item(TOWN, 30, false),
        item(TOWN, 200, true),
        item("310117002", 10, false),
    ];
    let some = measured_with(&data, &roles, &items);
    assert_eq!(some.get("escalated_items").and_then(|v| v.value), Some(3.0));
    assert_eq!(ratio(&some, "escalated_closed"), (1, 3));
    assert!(supervision(&some) < supervision(&none));
    // closing the other two brings the item back
    let closed = items.map(|mut e| {
        e.closed = true;
        e
    });
    let all = measured_with(&data, &roles, &closed);
    assert_eq!(ratio(&all, "escalated_closed"), (3, 3));
    assert!((supervision(&all) - supervision(&none)).abs() < 1e-9);
}

fn full_management(data: &Dataset, roles: &Roles) -> f64 {
    let m = measured(data, roles);
    evaluation::score(&SONGJIANG_2025, &m, None)
        .item(ItemCode::FullManagement)
        .expect("item")
        .score
}

#[test]
fn finding_and_filing_works_raises_full_management() {
    let (data, roles) = dataset();
    let before = full_management(&data, &roles);
    // filing work 7 (found on patrol, now filed) raises the item
    let mut filed = data.clone();
    let seven = filed.projects.iter_mut().find(|p| p.id == 7).expect("7");
    seven.value.status = ProjectStatus::Filed;
    if let Some(files) = filed.case_files.as_mut() {
        files.insert(7, CaseFile::new(vec![start_filing(20, 7, 1)]));
    }
    let after = full_management(&filed, &roles);
    assert!(after > before, "filing a found work: {before} → {after}");
    // finding one more work and filing it raises it again
    let mut more = filed.clone();
    let mut extra = work(11, ProjectStatus::Filed, Funding::Social);
    extra.value.started_on = Some(day(20));
    more.projects.push(extra);
    if let Some(files) = more.case_files.as_mut() {
        files.insert(11, CaseFile::new(vec![start_filing(21, 11, 2)]));
    }
    let more_score = full_management(&more, &roles);
    assert!(
        more_score > after,
        "finding and filing another: {after} → {more_score}"
    );
    // a found work counts as found even while it is not filed yet
    let mut looked = more.clone();
    looked
        .projects
        .push(work(12, ProjectStatus::Discovered, Funding::Social));
    let found = |d: &Dataset| measured(d, &roles).get("found_works").and_then(|v| v.value);
    assert_eq!(found(&looked), found(&more).map(|n| n + 1.0));
}

#[test]
fn a_claim_above_the_records_is_flagged_and_one_within_is_not() {
    let (data, roles) = dataset();
    let m = measured(&data, &roles);
    let s = evaluation::score(&SONGJIANG_2025, &m, None);
    let claim = |item: ItemCode, score: f64| Claim {
        item,
        score,
        evidence: vec![],
        problems: String::new(),
        plan: String::new(),
        measures: String::new(),
    };
    let notice = s.item(ItemCode::Notice).expect("notice").score;
    let sa = SelfAssessment {
        claims: vec![
            claim(ItemCode::Notice, 15.0),
            claim(
                ItemCode::Supervision,
                s.item(ItemCode::Supervision).expect("s").score,
            ),
        ],
        ..SelfAssessment::default()
    };
    let flags = evaluation::disagreements(&sa, &s);
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0].item, ItemCode::Notice);
    assert!((flags[0].measured - notice).abs() < 1e-9);
    assert!(
        flags[0].text_zh.starts_with("告知承诺：自评15分"),
        "{}",
        flags[0].text_zh
    );
}
