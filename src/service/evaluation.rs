//! The half-year evaluation as use cases: open a period, let each town
//! fill in and submit its self-assessment (自评), measure every town
//! against the table from the records, pick the towns for the on-site
//! evaluation, draw works there reproducibly and record what the
//! evaluators found, compared with what the town had recorded. Every read
//! keeps to the caller's scope; the district's steps need
//! [`Action::Evaluate`], the town's [`Action::SelfAssess`] in its town.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ServiceError;
use super::blindspots::{AnalysisError, analysed};
use crate::auth::{Action, Caller};
use crate::domain::{Invalid, Stored, Town};
use crate::evaluation::{
    self, Disagreement, ItemCode, Period, Review, SONGJIANG_2025, SelfAssessment, Table, TownScore,
};
use crate::store::casefile::RecordQuery;
use crate::store::evaluation::{
    AssessmentRow, AssessmentWrite, DrawRow, EvaluationRow, FindingRow,
};
use crate::store::{DynStore, StoreError, typed};

/// The table new periods are scored against.
pub const CURRENT_TABLE: &Table = &SONGJIANG_2025;
/// Works drawn per town unless asked otherwise.
pub const DEFAULT_DRAW_SIZE: usize = 5;

/// An evaluation period as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvaluationView {
    pub id: i64,
    /// `2026H2`.
    pub period: String,
    /// `2026年下半年`.
    pub period_zh: String,
    pub table_version: String,
    /// The towns picked for the on-site evaluation.
    pub site_towns: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The window measured: the half-year, up to now if it is not over.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

pub(crate) fn period_of(row: &EvaluationRow) -> Result<Period, ServiceError> {
    row.period
        .parse()
        .map_err(|e: Invalid| StoreError::Corrupt(format!("evaluation.period: {e}")).into())
}

pub(crate) fn view(
    row: &EvaluationRow,
    now: DateTime<Utc>,
) -> Result<EvaluationView, ServiceError> {
    let p = period_of(row)?;
    let w = p.window(now);
    Ok(EvaluationView {
        id: row.id,
        period: row.period.clone(),
        period_zh: p.label_zh(),
        table_version: row.table_version.clone(),
        site_towns: row.site_towns.clone(),
        created_by: row.created_by.clone(),
        created_at: row.created_at,
        from: w.from(),
        to: w.to(),
    })
}

fn table_of(row: &EvaluationRow) -> Result<&'static Table, ServiceError> {
    Table::of_version(&row.table_version).ok_or_else(|| {
        StoreError::Corrupt(format!("unknown evaluation table {}", row.table_version)).into()
    })
}

impl From<AnalysisError> for ServiceError {
    fn from(e: AnalysisError) -> Self {
        match e {
            AnalysisError::Service(s) => s,
            AnalysisError::Task(source) => Self::TaskFailed {
                what: "evaluation",
                source,
            },
        }
    }
}

/// Store conflicts of the evaluation are answered with their own words.
pub(crate) fn conflict(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(what) => ServiceError::Conflict(what),
        e => e.into(),
    }
}

/// Opens a period (district staff).
pub async fn create(
    store: &DynStore,
    caller: &Caller,
    period: &str,
    now: DateTime<Utc>,
) -> Result<EvaluationView, ServiceError> {
    caller.require(Action::Evaluate)?;
    let p: Period = period.parse()?;
    let row = store
        .create_evaluation(&p.to_string(), CURRENT_TABLE.version, &caller.user, now)
        .await
        .map_err(conflict)?;
    view(&row, now)
}

/// Every period, newest first.
pub async fn list(
    store: &DynStore,
    now: DateTime<Utc>,
) -> Result<Vec<EvaluationView>, ServiceError> {
    store
        .evaluations()
        .await?
        .iter()
        .map(|r| view(r, now))
        .collect()
}

/// A period by id, or by its name (`2026H2`).
pub async fn find(store: &DynStore, key: &str) -> Result<EvaluationRow, ServiceError> {
    let not_found = || ServiceError::NotFound(format!("evaluation {key}"));
    if let Ok(id) = key.parse::<i64>() {
        return store.evaluation(id).await?.ok_or_else(not_found);
    }
    let p: Period = key.parse().map_err(|_| not_found())?;
    store
        .evaluations()
        .await?
        .into_iter()
        .find(|r| r.period == p.to_string())
        .ok_or_else(not_found)
}

/// A town's self-assessment as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssessmentView {
    /// `draft` or `submitted`.
    pub status: &'static str,
    pub status_zh: &'static str,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
    /// The six items' claimed scores added up.
    pub claimed_total: f64,
    /// Problems found and a plan or measures written down.
    pub has_problems_and_plan: bool,
    pub body: SelfAssessment,
}

fn assessment_view(row: &AssessmentRow) -> AssessmentView {
    let submitted = row.submitted_at.is_some();
    let claimed: f64 = row
        .body
        .claims
        .iter()
        .filter(|c| c.item != ItemCode::Innovation)
        .map(|c| c.score)
        .sum();
    AssessmentView {
        status: if submitted { "submitted" } else { "draft" },
        status_zh: if submitted { "已提交" } else { "草稿" },
        submitted_by: row.submitted_by.clone(),
        submitted_at: row.submitted_at,
        updated_by: row.updated_by.clone(),
        updated_at: row.updated_at,
        claimed_total: (claimed * 10.0).round() / 10.0,
        has_problems_and_plan: row.body.has_problems_and_plan(),
        body: row.body.clone(),
    }
}

/// One town's evaluation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TownEvaluation {
    pub town: String,
    pub town_name: String,
    /// The table's items measured from the records (declared measures as
    /// the town declared them, less those the district rejected).
    pub measured: TownScore,
    pub self_assessment: Option<AssessmentView>,
    /// Claims above what the records measure.
    pub disagreements: Vec<Disagreement>,
    pub on_site: bool,
    pub draw: Option<super::evaluation_site::DrawView>,
}

/// A period's evaluation of every town in the caller's scope.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub evaluation: EvaluationView,
    #[schema(value_type = Object)]
    pub table: &'static Table,
    /// Whether patrol coverage was at hand (the sweep practice reads it).
    pub coverage_known: bool,
    pub submitted: usize,
    pub towns: Vec<TownEvaluation>,
}

/// The roles named on each work's case file.
async fn roles(store: &DynStore) -> Result<evaluation::Roles, ServiceError> {
    let mut out: evaluation::Roles = HashMap::new();
    for p in store.work_parties(&RecordQuery::default()).await? {
        out.entry(p.project_id).or_default().insert(p.role);
    }
    Ok(out)
}

/// The evaluation of a period for the caller's towns.
pub async fn overview(
    store: &DynStore,
    caller: &Caller,
    row: &EvaluationRow,
    now: DateTime<Utc>,
) -> Result<Overview, ServiceError> {
    let table = table_of(row)?;
    let window = period_of(row)?.window(now);
    let (data, report, coverage_known) = analysed(store, &caller.scope, window).await?;
    let roles = roles(store).await?;
    let assessments: HashMap<String, AssessmentRow> = store
        .assessments(row.id)
        .await?
        .into_iter()
        .map(|a| (a.town.clone(), a))
        .collect();
    let draws: HashMap<String, DrawRow> = store
        .draws(row.id)
        .await?
        .into_iter()
        .map(|d| (d.town.clone(), d))
        .collect();
    let findings: HashMap<i64, FindingRow> = store
        .findings(row.id)
        .await?
        .into_iter()
        .map(|f| (f.project_id, f))
        .collect();
    let data2 = Arc::clone(&data);
    let escalated = super::supervision::escalated(store).await?;
    let town_measures = tokio::task::spawn_blocking(move || {
        evaluation::measure(&data2, &report, &roles, &escalated, &window)
    })
    .await
    .map_err(super::task_failed("evaluation"))?;
    let mut towns = Vec::with_capacity(town_measures.len());
    for m in town_measures {
        if !caller.scope.allows_town(&m.town) && !caller.scope.is_district() {
            continue;
        }
        let sa = assessments.get(&m.town);
        let measured = evaluation::score(table, &m, sa.map(|a| &a.body));
        let disagreements = sa
            .filter(|a| a.submitted_at.is_some())
            .map(|a| evaluation::disagreements(&a.body, &measured))
            .unwrap_or_default();
        let draw = draws
            .get(&m.town)
            .map(|d| super::evaluation_site::draw_view(d, &data, &findings, now));
        towns.push(TownEvaluation {
            on_site: row.site_towns.contains(&m.town),
            town: m.town,
            town_name: m.town_name,
            measured,
            self_assessment: sa.map(assessment_view),
            disagreements,
            draw,
        });
    }
    Ok(Overview {
        evaluation: view(row, now)?,
        table,
        coverage_known,
        submitted: towns
            .iter()
            .filter(|t| {
                t.self_assessment
                    .as_ref()
                    .is_some_and(|a| a.status == "submitted")
            })
            .count(),
        towns,
    })
}

async fn town_name(store: &DynStore, code: &str) -> Result<Stored<Town>, ServiceError> {
    typed::all::<Town>(store)
        .await?
        .into_iter()
        .find(|t| t.value.code == code)
        .ok_or_else(|| Invalid::new("town", format!("no town {code}")).into())
}

/// Saves or submits a town's self-assessment (the town's own staff). The
/// district's checks are kept as they were; a town cannot set them.
pub async fn write_assessment(
    store: &DynStore,
    caller: &Caller,
    row: &EvaluationRow,
    town: &str,
    mut body: SelfAssessment,
    submit: bool,
    now: DateTime<Utc>,
) -> Result<AssessmentView, ServiceError> {
    caller.require(Action::SelfAssess)?;
    town_name(store, town).await?;
    caller.require_in_scope(caller.scope.allows_town(town), &format!("town {town}"))?;
    body.validate(table_of(row)?)?;
    for d in &mut body.declarations {
        d.review = Review::Pending;
        d.review_note.clear();
    }
    let how = if submit {
        AssessmentWrite::Submit
    } else {
        AssessmentWrite::Draft
    };
    let saved = store
        .write_assessment(row.id, town, &body, how, &caller.user, now)
        .await
        .map_err(conflict)?;
    Ok(assessment_view(&saved))
}

/// The district's check of one declaration.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewEntry {
    pub key: String,
    pub review: Review,
    #[serde(default)]
    pub note: String,
}

/// Records the district's checks of a submitted self-assessment's declarations.
pub async fn review(
    store: &DynStore,
    caller: &Caller,
    row: &EvaluationRow,
    town: &str,
    entries: &[ReviewEntry],
    now: DateTime<Utc>,
) -> Result<AssessmentView, ServiceError> {
    caller.require(Action::Evaluate)?;
    let current = store
        .assessments(row.id)
        .await?
        .into_iter()
        .find(|a| a.town == town)
        .ok_or_else(|| ServiceError::NotFound(format!("self-assessment of {town}")))?;
    let mut body = current.body;
    for (i, e) in entries.iter().enumerate() {
        let Some(d) = body.declarations.iter_mut().find(|d| d.key == e.key) else {
            return Err(
                Invalid::new(format!("[{i}].key"), "the town declared no such measure").into(),
            );
        };
        d.review = e.review;
        d.review_note.clone_from(&e.note);
    }
    body.validate(table_of(row)?)?;
    let saved = store
        .write_assessment(
            row.id,
            town,
            &body,
            AssessmentWrite::Review,
            &caller.user,
            now,
        )
        .await
        .map_err(conflict)?;
    Ok(assessment_view(&saved))
}

/// The scorecard of a window with the table's items per town (declared
/// measures as the towns declared them for the half-year the window ends
/// in, where that period is open), and whether coverage was known.
pub async fn scorecard(
    store: &DynStore,
    caller: &Caller,
    window: crate::time::Window,
) -> Result<
    (
        Vec<crate::blindspots::scorecard::ScoreRow>,
        bool,
        Vec<TownScore>,
    ),
    ServiceError,
> {
    let (data, report, known) = analysed(store, &caller.scope, window).await?;
    let roles = roles(store).await?;
    let period = Period::of_day(window.today()).to_string();
    let mut declared: HashMap<String, SelfAssessment> = HashMap::new();
    if let Some(row) = store
        .evaluations()
        .await?
        .into_iter()
        .find(|r| r.period == period)
    {
        for a in store.assessments(row.id).await? {
            declared.insert(a.town, a.body);
        }
    }
    let rows = report.scorecard.clone();
    let escalated = super::supervision::escalated(store).await?;
    let town_measures = tokio::task::spawn_blocking(move || {
        evaluation::measure(&data, &report, &roles, &escalated, &window)
    })
    .await
    .map_err(super::task_failed("scorecard"))?;
    let scores = town_measures
        .iter()
        .map(|m| evaluation::score(CURRENT_TABLE, m, declared.get(&m.town)))
        .collect();
    Ok((rows, known, scores))
}
