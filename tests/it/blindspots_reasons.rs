//! Every blind-spot flag carries its reasons: a small district built for
//! the test (one town, one grid, three commercial districts, two venues and
//! a dozen works) where each reason of each analysis fires exactly where it
//! should, and nowhere else.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use geo::{MultiPolygon, Point, Rect};
use gridpatrol::blindspots::districts::{self, Thresholds};
use gridpatrol::blindspots::near_venues;
use gridpatrol::blindspots::works::{self, WorkGap};
use gridpatrol::blindspots::{
    CellPatrol, Coverage, DISTRICT_RESOLUTION, Dataset, ReportParams, Window, area_cells, report,
};
use gridpatrol::domain::{
    Category, District, Funding, Grid, Project, ProjectStatus, Stored, Town, TownKind, Venue,
    VenueKind,
};
use gridpatrol::inspection::{Hazard, HazardKind, HazardStatus, Inspection, Severity};
use h3o::Resolution;

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

fn square(lon: f64, lat: f64, size: f64) -> MultiPolygon<f64> {
    MultiPolygon::new(vec![
        Rect::new((lon, lat), (lon + size, lat + size)).to_polygon(),
    ])
}

fn work(id: i64, lon: f64, lat: f64, status: ProjectStatus) -> Stored<Project> {
    Stored {
        id,
        value: Project {
            code: format!("T-{id:03}"),
            name: format!("work {id}"),
            category: Category::Alteration,
            funding: Funding::Government,
            investment_cny: 200_000,
            floor_area_m2: None,
            status,
            started_on: Some(day(10)),
            completed_on: None,
            hot_work: false,
            insulation: false,
            steel_mezzanine: false,
            insured: true,
            address: String::new(),
            town: Some(TOWN.to_owned()),
            geometry: Point::new(lon, lat).into(),
        },
    }
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

/// The grid covers [121.20, 121.23] × [31.00, 31.03]; the districts and
/// venues lie elsewhere in the town [121.19, 121.30] × [30.99, 31.10].
#[expect(
    clippy::too_many_lines,
    reason = "the whole test district, read top to bottom"
)]
fn dataset() -> Dataset {
    let grid_area = square(121.20, 31.00, 0.03);
    let grid = Grid {
        code: format!("{TOWN}-G01"),
        name: "第1网格".into(),
        zone: format!("{TOWN}-Z1"),
        town: TOWN.into(),
        manager: "胡晓东".into(),
        patrol_interval_days: 3,
        resolution: Resolution::Ten,
        cells: area_cells(&grid_area, Resolution::Ten),
        geometry: Some(grid_area),
    };
    let district = |id: i64, code: &str, lon: f64, plan: bool| Stored {
        id,
        value: District {
            code: code.into(),
            name: code.into(),
            one_stop_plan: plan,
            properties: serde_json::Map::new(),
            geometry: square(lon, 31.05, 0.01),
        },
    };
    let venue = |id: i64, lon: f64, lat: f64| Stored {
        id,
        value: Venue {
            code: format!("V{id}"),
            name: format!("venue {id}"),
            kind: VenueKind::Mall,
            proxy: false,
            source: String::new(),
            geometry: Point::new(lon, lat).into(),
        },
    };
    let mut projects = vec![
        // inside the grid, inspected two days ago: a work without gaps
        work(1, 121.205, 31.005, ProjectStatus::InProgress),
        work(2, 121.206, 31.005, ProjectStatus::InProgress),
        work(3, 121.207, 31.005, ProjectStatus::InProgress),
        work(4, 121.295, 31.095, ProjectStatus::InProgress), // outside the grid
        work(5, 121.208, 31.005, ProjectStatus::Discovered),
        work(6, 121.209, 31.005, ProjectStatus::Filed),
        work(7, 121.210, 31.005, ProjectStatus::Notified),
        work(8, 121.211, 31.005, ProjectStatus::InProgress),
        work(9, 121.212, 31.005, ProjectStatus::InProgress),
        work(10, 121.213, 31.005, ProjectStatus::InProgress),
        // in district A (121.24, no plan): one unfiled, nothing social filed
        work(11, 121.245, 31.055, ProjectStatus::Discovered),
        // in district B (121.26, with a plan): a social fit-out filed last week
        work(12, 121.265, 31.055, ProjectStatus::Filed),
        // near the venues, inside the grid
        work(13, 121.2150, 31.0100, ProjectStatus::InProgress),
        work(14, 121.2200, 31.0200, ProjectStatus::Filed),
        work(15, 121.2202, 31.0200, ProjectStatus::Completed),
    ];
    projects[1].value.investment_cny = 1_200_000;
    projects[2].value.category = Category::FitOut;
    projects[2].value.floor_area_m2 = Some(320.0);
    projects[5].value.started_on = Some(day(60));
    projects[6].value.started_on = Some(day(90));
    projects[8].value.completed_on = Some(day(5));
    projects[9].value.started_on = Some(day(200));
    projects[11].value.funding = Funding::Social;
    projects[11].value.category = Category::FitOut;
    projects[11].value.started_on = Some(day(7));
    projects[12].value.hot_work = true;
    projects[12].value.insulation = true;
    projects[13].value.started_on = Some(day(40));
    projects[14].value.completed_on = Some(day(3));
    // works 1-4 and 8-10 had a recent inspection, so only their own gap shows
    let inspections = vec![
        inspected(1, 1, 2),
        inspected(2, 2, 2),
        inspected(3, 3, 2),
        inspected(4, 4, 2),
        inspected(5, 7, 45), // work 7: last inspected 45 days ago
        inspected(6, 8, 2),
        inspected(7, 9, 2),
        inspected(8, 10, 2),
        inspected(9, 14, 50), // near a venue, 50 days ago
        inspected(10, 12, 2),
    ];
    let hazard = |id: i64, status: HazardStatus, deadline_ago: i64| Hazard {
        id,
        inspection_id: 6,
        project_id: 8,
        kind: HazardKind::NoSwitchBox,
        severity: Severity::Serious,
        deadline: day(deadline_ago),
        status,
        note: String::new(),
        found_at: days_ago(20),
        closed_at: None,
        updated_at: days_ago(20),
    };
    let hazards = vec![
        hazard(1, HazardStatus::Open, 5),        // overdue
        hazard(2, HazardStatus::Verified, 5),    // past deadline but rectified
        hazard(3, HazardStatus::Rectifying, -3), // not yet due
    ];
    Dataset {
        towns: vec![Stored {
            id: 1,
            value: Town {
                code: TOWN.into(),
                name: "岳阳街道".into(),
                name_en: "Yueyang".into(),
                kind: TownKind::Subdistrict,
                approximate: false,
                note: String::new(),
                geometry: square(121.19, 30.99, 0.11),
            },
        }],
        grids: vec![Stored { id: 1, value: grid }],
        districts: vec![
            district(1, "district-a", 121.24, false),
            district(2, "district-b", 121.26, true),
        ],
        venues: vec![venue(1, 121.2155, 31.0100), venue(2, 121.2201, 31.0201)],
        projects,
        inspections,
        hazards,
        case_files: None,
    }
}

/// District B's cells all patrolled 1 day ago; district A's never.
fn coverage(data: &Dataset, b_last_days: i64) -> Coverage {
    let mut map = HashMap::new();
    for d in &data.districts {
        for c in area_cells(&d.value.geometry, DISTRICT_RESOLUTION) {
            let patrol = if d.value.code == "district-b" {
                CellPatrol {
                    visits: 1,
                    last_patrolled: Some(days_ago(b_last_days)),
                    overdue: b_last_days > 3,
                }
            } else {
                CellPatrol::default()
            };
            map.insert(c, patrol);
        }
    }
    Coverage::Known(map)
}

fn codes(reasons: &[gridpatrol::blindspots::Reason]) -> BTreeSet<&'static str> {
    reasons.iter().map(|r| r.code).collect()
}

fn window() -> Window {
    Window::days_before(now(), 90)
}

#[test]
fn every_district_reason_fires_where_it_should() {
    let data = dataset();
    // the plan is asked for here; by default it flags nothing (below)
    let with_plan = Thresholds {
        require_one_stop_plan: true,
        ..Thresholds::default()
    };
    let rows = districts::analyse(&data, &coverage(&data, 1), &window(), &with_plan);
    let a = rows.iter().find(|r| r.code == "district-a").expect("A");
    assert!(a.flagged);
    assert_eq!(
        codes(&a.reasons),
        BTreeSet::from([
            "no_social_filing",
            "discovered_unfiled",
            "low_patrol_coverage",
            "not_patrolled",
            "no_one_stop_plan"
        ])
    );
    let text: Vec<&str> = a.reasons.iter().map(|r| r.text.as_str()).collect();
    assert!(
        text.contains(&"no socially funded work filed in 90 days"),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("patrol coverage 0% < 60%")),
        "{text:?}"
    );
    assert!(text.contains(&"no one-stop registration plan (一揽子纳管)"));
    assert!(a.reasons.iter().all(|r| !r.text_zh.is_empty()));
    assert_eq!(a.unfiled_project_ids, [11]);
    assert_eq!(a.patrol_coverage, Some(0.0));
    assert_eq!(a.town.as_deref(), Some(TOWN));

    let b = rows.iter().find(|r| r.code == "district-b").expect("B");
    assert!(!b.flagged, "{:?}", b.reasons);
    assert!(b.reasons.is_empty());

    // a district is unmanaged by its works and patrols, not for lacking a
    // plan: by default A keeps every other reason, and B without its plan
    // stays unflagged
    let default = districts::analyse(
        &data,
        &coverage(&data, 1),
        &window(),
        &Thresholds::default(),
    );
    let a = default.iter().find(|r| r.code == "district-a").expect("A");
    assert_eq!(codes(&a.reasons).len(), 4, "{:?}", a.reasons);
    assert!(!codes(&a.reasons).contains("no_one_stop_plan"));
    let mut planless = data.clone();
    planless.districts[1].value.one_stop_plan = false;
    let rows_planless = districts::analyse(
        &planless,
        &coverage(&planless, 1),
        &window(),
        &Thresholds::default(),
    );
    let b2 = rows_planless
        .iter()
        .find(|r| r.code == "district-b")
        .expect("B");
    assert!(!b2.flagged, "{:?}", b2.reasons);
    assert_eq!(b.filed_in_window.social, 1);
    assert_eq!(b.days_since_last_patrol, Some(1));

    // stricter thresholds and a stale patrol flag B with the other reasons
    let strict = Thresholds {
        min_social_filed: 2,
        max_days_since_patrol: 7,
        ..Thresholds::default()
    };
    let rows = districts::analyse(&data, &coverage(&data, 10), &window(), &strict);
    let b = rows.iter().find(|r| r.code == "district-b").expect("B");
    assert_eq!(
        codes(&b.reasons),
        BTreeSet::from(["few_social_filings", "stale_patrol"])
    );
    let stale = b
        .reasons
        .iter()
        .find(|r| r.code == "stale_patrol")
        .expect("stale");
    assert_eq!(stale.text, "last patrol 10 days ago > 7 days");
    assert_eq!((stale.value, stale.threshold), (Some(10.0), Some(7.0)));
}

#[test]
fn without_coverage_no_coverage_reason_is_guessed() {
    let data = dataset();
    let rows = districts::analyse(&data, &Coverage::Unknown, &window(), &Thresholds::default());
    for r in &rows {
        assert_eq!(r.patrol_coverage, None);
        let c = codes(&r.reasons);
        assert!(!c.contains("low_patrol_coverage") && !c.contains("not_patrolled"));
    }
}

#[test]
fn every_work_gap_fires_where_it_should() {
    let data = dataset();
    let rows = works::analyse(&data, &window(), &works::Params::default(), &[]);
    let by_id: HashMap<i64, BTreeSet<&str>> = rows
        .iter()
        .map(|r| (r.project_id, codes(&r.reasons)))
        .collect();
    let expect = |id: i64, want: &[&str]| {
        assert_eq!(
            by_id.get(&id).cloned().unwrap_or_default(),
            want.iter().copied().collect::<BTreeSet<_>>(),
            "work {id}"
        );
    };
    expect(1, &[]);
    expect(2, &["above_limit_investment"]);
    expect(3, &["above_limit_area"]);
    expect(4, &["outside_grid"]);
    expect(5, &["discovered_unfiled"]);
    expect(6, &["never_inspected"]);
    expect(7, &["not_inspected_recently"]);
    expect(8, &["hazard_overdue"]);
    expect(9, &["completed_unfiled"]);
    expect(10, &["in_progress_too_long"]);
    // every listed work has a reason for every kind it lists
    for r in &rows {
        assert!(!r.reasons.is_empty());
        assert!(!r.kinds.is_empty());
        assert!(
            r.reasons
                .iter()
                .all(|x| !x.text.is_empty() && !x.text_zh.is_empty())
        );
    }
    let overdue = rows.iter().find(|r| r.project_id == 8).expect("8");
    assert_eq!(
        overdue.reasons.len(),
        1,
        "only the open hazard past its deadline"
    );
    assert!(
        overdue.reasons[0]
            .text
            .contains("hazard #1 no switch box (serious)"),
        "{}",
        overdue.reasons[0].text
    );
    assert!(
        overdue.reasons[0]
            .text
            .contains("5 days overdue, still open")
    );
    let above = rows.iter().find(|r| r.project_id == 2).expect("2");
    assert!(
        above.reasons[0]
            .text
            .starts_with("investment 1,200,000 CNY ≥ 1,000,000 CNY")
    );

    // one kind at a time
    let only = works::analyse(
        &data,
        &window(),
        &works::Params::default(),
        &[WorkGap::Unfiled],
    );
    let ids: Vec<i64> = only.iter().map(|r| r.project_id).collect();
    assert_eq!(ids, [5, 11]);
    assert!(only.iter().all(|r| r.kinds == [WorkGap::Unfiled]));
}

#[test]
fn near_venue_pairs_flag_uninspected_active_works_fire_risks_first() {
    let data = dataset();
    let p = near_venues::Params::new(100.0, 30, now()).expect("params");
    let rows = near_venues::analyse(&data, &p);
    let pairs: Vec<(i64, i64)> = rows.iter().map(|r| (r.project_id, r.venue_id)).collect();
    // hot work and insulation first, then by distance
    assert_eq!(pairs, [(13, 1), (14, 2), (15, 2)]);
    let fire = &rows[0];
    assert!(fire.flagged);
    assert_eq!(
        codes(&fire.reasons),
        BTreeSet::from([
            "near_venue_never_inspected",
            "hot_work_near_venue",
            "insulation_near_venue"
        ])
    );
    assert!((fire.distance_m - 47.7).abs() < 0.5, "{}", fire.distance_m);
    let stale = &rows[1];
    assert_eq!(
        codes(&stale.reasons),
        BTreeSet::from(["near_venue_not_inspected_recently"])
    );
    assert!(
        stale.reasons[0]
            .text
            .starts_with("last inspected 50 days ago > 30 days")
    );
    let completed = &rows[2];
    assert!(!completed.flagged && completed.reasons.is_empty());
}

#[test]
fn the_scorecard_counts_the_town() {
    let data = dataset();
    let params = ReportParams {
        window: window(),
        districts: Thresholds::default(),
        near_venues: near_venues::Params::new(100.0, 30, now()).expect("params"),
        works: works::Params::default(),
    };
    let r = report(&data, &coverage(&data, 1), &params);
    assert_eq!(r.scorecard.len(), 1);
    let row = &r.scorecard[0];
    assert_eq!(row.town, TOWN);
    assert_eq!(row.works, 15);
    assert_eq!(row.works_social, 1);
    // works 11 and 12 lie in the commercial districts, outside the grid too
    assert_eq!((row.unfiled, row.above_limit, row.outside_grid), (2, 2, 3));
    assert_eq!(
        (
            row.uninspected,
            row.overdue_hazard,
            row.no_completion_filing
        ),
        (3, 1, 2)
    );
    assert_eq!(row.unmanaged_districts, 1);
    assert_eq!(row.near_venue_uninspected, 2);
    assert_eq!(row.hazards_found, 3);
    assert_eq!(row.hazards_overdue, 1);
    assert_eq!(row.inspections, 10);
    assert!(
        row.filing_rate > 0.8 && row.filing_rate < 0.9,
        "{}",
        row.filing_rate
    );
    assert_eq!(
        row.blind_spots,
        1 + 2 + 2 + 3 + 2 + 3 + 1 + 2,
        "the counts above added up"
    );
    let csv = gridpatrol::blindspots::scorecard::to_csv(&r.scorecard).expect("csv");
    let text = String::from_utf8(csv).expect("utf-8");
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let header = lines.next().expect("header");
    assert!(
        header.starts_with("town,town_name,works,works_government"),
        "{header}"
    );
    assert_eq!(lines.count(), 1);
}
