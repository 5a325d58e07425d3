//! The demo's case files: records for the demo works made from what the
//! works' ledger says (status, dates, flags), so that the case files agree
//! with the statuses — most government works filed and notified before the
//! start, many socially funded ones filed late or not notified in time —
//! with parties, insurance where the ledger says insured, permits for most
//! hot work under way, insulation filings for half, hand-overs for some
//! above-limit works and enforcement of some hazards the inspections found.
//! Deterministic but for the permits, which are valid around today.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use crate::casefile::{
    Enforcement, Entry, Filing, FilingKind, FireRating, Handover, HandoverReason, HotWorkPermit,
    InsulationFiling, Measure, Notice, Party, PartyRole, Policy, RecordBody, uscc_check_char,
};
use crate::domain::{Funding, Project, ProjectStatus, Stored};
use crate::inspection::HazardStatus;
use crate::service::ServiceError;
use crate::store::casefile::RecordQuery;
use crate::store::{DynStore, InspectionQuery, typed};
use crate::time::beijing;

/// Who the demo records are recorded by.
const DEMO_USER: &str = "demo";

const BUILDERS: [&str; 4] = [
    "上海松江城市建设投资有限公司",
    "松江区岳阳街道社区事务管理中心",
    "上海佘山商业管理有限公司",
    "上海泗泾资产经营有限公司",
];
const CONTRACTORS: [&str; 4] = [
    "上海松建装饰工程有限公司",
    "上海茸城建筑安装工程有限公司",
    "上海九峰市政工程有限公司",
    "上海云间园林绿化有限公司",
];
const SAFETY: &str = "上海安衡建设安全技术服务有限公司";

/// A unified social credit code of the demo, its check character right.
fn demo_uscc(i: usize) -> String {
    let first = format!("91310117MA1G{i:05}");
    let check = uscc_check_char(&first).unwrap_or('0');
    format!("{first}{check}")
}

/// Noon (Beijing time) of a day.
fn at(day: NaiveDate) -> DateTime<Utc> {
    beijing()
        .from_local_datetime(&day.and_hms_opt(12, 0, 0).unwrap_or_default())
        .single()
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

fn body(entry: Entry) -> RecordBody {
    RecordBody {
        entry,
        corrects: None,
        documents: Vec::new(),
        note: String::new(),
    }
}

async fn add(
    store: &DynStore,
    work: i64,
    entry: Entry,
    when: DateTime<Utc>,
) -> Result<(), ServiceError> {
    store
        .add_record(work, &body(entry), DEMO_USER, when)
        .await?;
    Ok(())
}

/// The records of one demo work; `i` its place in the ledger.
#[expect(
    clippy::too_many_lines,
    reason = "one work's case file, record by record"
)]
async fn case_file_of(
    store: &DynStore,
    w: &Stored<Project>,
    i: usize,
    parties: &[(i64, PartyRole)],
    today: NaiveDate,
) -> Result<(), ServiceError> {
    let p = &w.value;
    let filed = !matches!(p.status, ProjectStatus::Discovered);
    let Some(start) = p.started_on.or(filed.then_some(today)) else {
        return Ok(());
    };
    let n = i + 1;
    if filed {
        let builders: Vec<i64> = parties
            .iter()
            .filter(|(_, r)| *r == PartyRole::Builder)
            .map(|(id, _)| *id)
            .collect();
        let contractors: Vec<i64> = parties
            .iter()
            .filter(|(_, r)| *r == PartyRole::Contractor)
            .map(|(id, _)| *id)
            .collect();
        for (ids, role) in [
            (&builders, PartyRole::Builder),
            (&contractors, PartyRole::Contractor),
        ] {
            if let Some(id) = ids.get(i % ids.len().max(1)) {
                store
                    .name_party(w.id, *id, role, DEMO_USER, at(start - Duration::days(6)))
                    .await?;
            }
        }
        if p.funding == Funding::Government
            && i.is_multiple_of(2)
            && let Some((id, _)) = parties.iter().find(|(_, r)| *r == PartyRole::SafetyService)
        {
            store
                .name_party(
                    w.id,
                    *id,
                    PartyRole::SafetyService,
                    DEMO_USER,
                    at(start - Duration::days(6)),
                )
                .await?;
        }
        let filing_day = start - Duration::days(5);
        add(
            store,
            w.id,
            Entry::Filing(Filing {
                filing: FilingKind::Start,
                number: format!("松建开备〔2026〕{n:03}号"),
                date: filing_day,
            }),
            at(filing_day),
        )
        .await?;
    }
    // the ledger says notified (or later): a notice before the start; works
    // the ledger keeps at `filed` got theirs late, or none
    let notified = matches!(
        p.status,
        ProjectStatus::Notified | ProjectStatus::InProgress | ProjectStatus::Completed
    );
    if filed && (notified || i.is_multiple_of(3)) {
        // served the day before the filing, so before the start whichever
        // day counts as the start
        let served = if notified {
            start - Duration::days(6)
        } else {
            start + Duration::days(3)
        };
        add(
            store,
            w.id,
            Entry::Notice(Notice {
                recipients: vec![
                    "建设单位项目负责人".to_owned(),
                    "施工单位项目经理".to_owned(),
                ],
                served_on: served,
                commitment: None,
            }),
            at(served),
        )
        .await?;
    }
    if p.status == ProjectStatus::Completed {
        let done = p
            .completed_on
            .unwrap_or(start + Duration::days(30))
            .min(today);
        add(
            store,
            w.id,
            Entry::Filing(Filing {
                filing: FilingKind::Completion,
                number: format!("松建竣备〔2026〕{n:03}号"),
                date: done,
            }),
            at(done),
        )
        .await?;
    }
    if p.insured && filed {
        let to = p
            .completed_on
            .unwrap_or(start + Duration::days(180))
            .max(today + Duration::days(30));
        add(
            store,
            w.id,
            Entry::Policy(Policy {
                insurer: [
                    "中国人民财产保险股份有限公司上海市分公司",
                    "中国太平洋财产保险股份有限公司上海分公司",
                ][i % 2]
                    .to_owned(),
                number: format!("AQZR2026310117{n:05}"),
                from: start - Duration::days(3),
                to,
                amount_cny: 1_000_000,
            }),
            at(start - Duration::days(3)),
        )
        .await?;
    }
    let active = !matches!(
        p.status,
        ProjectStatus::Completed | ProjectStatus::Discovered
    );
    if p.hot_work && active && !i.is_multiple_of(3) {
        let from_day = start.max(today - Duration::days(7));
        let from = beijing()
            .from_local_datetime(&from_day.and_hms_opt(8, 0, 0).unwrap_or_default())
            .single()
            .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
        add(
            store,
            w.id,
            Entry::HotWorkPermit(HotWorkPermit {
                number: format!("动火〔2026〕{n:03}号"),
                from,
                until: from + Duration::days(20),
                place: "施工区域".to_owned(),
                welder: "持证焊工".to_owned(),
                welder_certificate: format!("T31011719800101{n:04}"),
                guardian: "现场监护人".to_owned(),
                in_opening_hours: false,
            }),
            at(from_day - Duration::days(1)),
        )
        .await?;
    }
    if p.insulation && filed && i.is_multiple_of(2) {
        add(
            store,
            w.id,
            Entry::InsulationFiling(InsulationFiling {
                material: "岩棉板".to_owned(),
                fire_rating: FireRating::A,
                quantity: "80 m²".to_owned(),
                date: start - Duration::days(1),
            }),
            at(start - Duration::days(1)),
        )
        .await?;
    }
    if p.above_limit() && i.is_multiple_of(2) {
        let day = p.started_on.unwrap_or(today) + Duration::days(7);
        let day = day.min(today);
        add(
            store,
            w.id,
            Entry::Handover(Handover {
                to: "松江区城市管理行政执法局".to_owned(),
                reason: if p.steel_mezzanine {
                    HandoverReason::IllegalBuilding
                } else {
                    HandoverReason::AboveLimit
                },
                doc_number: format!("松建移〔2026〕{n:03}号"),
                date: day,
                outcome: (i.is_multiple_of(4)).then(|| "已立案查处，责令补办施工许可".to_owned()),
            }),
            at(day),
        )
        .await?;
    }
    Ok(())
}

/// Adds the demo case files when the store has no case-file records yet;
/// `true` when it did.
pub async fn load_case_files(store: &DynStore) -> Result<bool, ServiceError> {
    if !store.records(&RecordQuery::default()).await?.is_empty() {
        return Ok(false);
    }
    let now = Utc::now();
    let today = crate::time::local_day(now);
    let mut parties = Vec::new();
    let named = BUILDERS
        .iter()
        .map(|n| (*n, PartyRole::Builder))
        .chain(CONTRACTORS.iter().map(|n| (*n, PartyRole::Contractor)))
        .chain(std::iter::once((SAFETY, PartyRole::SafetyService)));
    for (i, (name, role)) in named.enumerate() {
        let party = Party {
            name: name.to_owned(),
            uscc: demo_uscc(i + 1),
            contact: ["张伟", "李强", "王芳", "陈静"][i % 4].to_owned(),
            phone: format!("021-5781{:04}", 1000 + i),
        };
        let stored = store.create_party(&party, DEMO_USER, now).await?;
        parties.push((stored.id, role));
    }
    let mut works = typed::all::<Project>(store).await?;
    works.sort_by_key(|w| w.id);
    for (i, w) in works.iter().enumerate() {
        case_file_of(store, w, i, &parties, today).await?;
    }
    // enforcement (查处) of every third hazard the inspections found
    let hazards = store.hazards(&InspectionQuery::default()).await?;
    for (k, h) in hazards
        .iter()
        .enumerate()
        .filter(|(k, _)| k.is_multiple_of(3))
    {
        let day = crate::time::local_day(h.found_at);
        let measures = if h.status == HazardStatus::Open && k.is_multiple_of(2) {
            vec![Measure::RectifyByDeadline, Measure::StopWork]
        } else {
            vec![Measure::RectifyByDeadline]
        };
        add(
            store,
            h.project_id,
            Entry::Enforcement(Enforcement {
                violations: h.kind.label_zh().to_owned(),
                measures,
                doc_number: format!("松建安整〔2026〕{:03}号", k + 1),
                date: day,
                hazards: vec![h.id],
            }),
            h.found_at + Duration::hours(2),
        )
        .await?;
    }
    tracing::info!(works = works.len(), "demo case files loaded");
    Ok(true)
}
