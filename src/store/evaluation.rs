//! The half-year evaluation's records: the
//! [`EvaluationStore`] part of the [`Store`](super::Store) trait that both
//! backends implement through SQL ([`super::sql::evaluation`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::evaluation::{Draw, SelfAssessment, SiteFinding};

/// An evaluation period.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationRow {
    pub id: i64,
    /// `2026H2`.
    pub period: String,
    pub table_version: String,
    /// The towns picked for the on-site evaluation.
    pub site_towns: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A town's self-assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentRow {
    pub evaluation_id: i64,
    pub town: String,
    pub body: SelfAssessment,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// A town's on-site draw.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawRow {
    pub evaluation_id: i64,
    pub town: String,
    pub draw: Draw,
    pub drawn_by: String,
    pub drawn_at: DateTime<Utc>,
}

/// What the evaluators found on a drawn work.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    pub evaluation_id: i64,
    pub project_id: i64,
    pub town: String,
    pub finding: SiteFinding,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// How a self-assessment is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssessmentWrite {
    /// The town saves a draft.
    Draft,
    /// The town submits it; no later draft or submission replaces it.
    Submit,
    /// The district records its checks of the declarations of a submitted one.
    Review,
}

#[async_trait]
pub trait EvaluationStore {
    /// Opens a period; `Conflict` when it is open already.
    async fn create_evaluation(
        &self,
        period: &str,
        table_version: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<EvaluationRow, StoreError>;

    /// Every period, newest first.
    async fn evaluations(&self) -> Result<Vec<EvaluationRow>, StoreError>;

    async fn evaluation(&self, id: i64) -> Result<Option<EvaluationRow>, StoreError>;

    /// Sets the towns of the on-site evaluation; `false` when the period is unknown.
    async fn set_site_towns(&self, id: i64, towns: &[String]) -> Result<bool, StoreError>;

    /// Saves, submits or reviews a town's self-assessment. `Conflict` when
    /// a draft or submission meets a submitted one, or a review an
    /// unsubmitted one.
    async fn write_assessment(
        &self,
        id: i64,
        town: &str,
        body: &SelfAssessment,
        how: AssessmentWrite,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<AssessmentRow, StoreError>;

    async fn assessments(&self, id: i64) -> Result<Vec<AssessmentRow>, StoreError>;

    /// Records a town's draw; `Conflict` when it has one (a draw is drawn once).
    async fn put_draw(
        &self,
        id: i64,
        town: &str,
        draw: &Draw,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<DrawRow, StoreError>;

    async fn draws(&self, id: i64) -> Result<Vec<DrawRow>, StoreError>;

    /// Records (or replaces) what was found on a drawn work.
    async fn put_finding(
        &self,
        id: i64,
        project_id: i64,
        town: &str,
        finding: &SiteFinding,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<FindingRow, StoreError>;

    async fn findings(&self, id: i64) -> Result<Vec<FindingRow>, StoreError>;
}
