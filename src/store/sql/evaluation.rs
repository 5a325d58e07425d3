//! [`EvaluationStore`] on every SQL backend: periods, self-assessments
//! (a draft until submitted, then only the district's review changes it),
//! on-site draws (drawn once) and findings, each body kept as JSON.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Arg, Dialect, Qb, RowReader, SqlBackend, bind_list, fetch_one, qb};
use crate::evaluation::{Draw, SelfAssessment, SiteFinding};
use crate::store::StoreError;
use crate::store::evaluation::{
    AssessmentRow, AssessmentWrite, DrawRow, EvaluationRow, EvaluationStore, FindingRow,
};

fn body<T: DeserializeOwned, D: Dialect>(
    r: &RowReader<'_, D>,
    table: &str,
) -> Result<T, StoreError> {
    serde_json::from_value(r.json("body")?)
        .map_err(|e| StoreError::Corrupt(format!("{table}.body: {e}")))
}

fn json(v: &impl Serialize) -> Arg {
    Arg::Json(serde_json::to_value(v).ok())
}

fn evaluation<D: Dialect>(row: &D::Row) -> Result<EvaluationRow, StoreError> {
    let r = RowReader::<D>(row);
    let towns: Vec<String> = serde_json::from_value(r.json("site_towns")?)
        .map_err(|e| StoreError::Corrupt(format!("evaluation.site_towns: {e}")))?;
    Ok(EvaluationRow {
        id: r.i64("id")?,
        period: r.text("period")?,
        table_version: r.text("table_version")?,
        site_towns: towns,
        created_by: r.text("created_by")?,
        created_at: r.time("created_at")?,
    })
}

fn assessment<D: Dialect>(row: &D::Row) -> Result<AssessmentRow, StoreError> {
    let r = RowReader::<D>(row);
    Ok(AssessmentRow {
        evaluation_id: r.i64("evaluation_id")?,
        town: r.text("town")?,
        body: body(&r, "self_assessment")?,
        submitted_by: r.opt_text("submitted_by")?,
        submitted_at: r.opt_time("submitted_at")?,
        updated_by: r.text("updated_by")?,
        updated_at: r.time("updated_at")?,
    })
}

fn draw_row<D: Dialect>(row: &D::Row) -> Result<DrawRow, StoreError> {
    let r = RowReader::<D>(row);
    Ok(DrawRow {
        evaluation_id: r.i64("evaluation_id")?,
        town: r.text("town")?,
        draw: body::<Draw, D>(&r, "site_draw")?,
        drawn_by: r.text("drawn_by")?,
        drawn_at: r.time("drawn_at")?,
    })
}

fn finding<D: Dialect>(row: &D::Row) -> Result<FindingRow, StoreError> {
    let r = RowReader::<D>(row);
    Ok(FindingRow {
        evaluation_id: r.i64("evaluation_id")?,
        project_id: r.i64("project_id")?,
        town: r.text("town")?,
        finding: body::<SiteFinding, D>(&r, "site_finding")?,
        recorded_by: r.text("recorded_by")?,
        recorded_at: r.time("recorded_at")?,
    })
}

const EVALUATION: [&str; 6] = [
    "id",
    "period",
    "table_version",
    "site_towns",
    "created_by",
    "created_at",
];
const ASSESSMENT: [&str; 7] = [
    "evaluation_id",
    "town",
    "body",
    "submitted_by",
    "submitted_at",
    "updated_by",
    "updated_at",
];
const DRAW: [&str; 5] = ["evaluation_id", "town", "body", "drawn_by", "drawn_at"];
const FINDING: [&str; 6] = [
    "evaluation_id",
    "project_id",
    "town",
    "body",
    "recorded_by",
    "recorded_at",
];

async fn all<D: Dialect, T>(
    backend: &impl SqlBackend<Db = D>,
    b: &mut Qb<'_, D>,
    read: impl Fn(&D::Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut conn = backend.sql_pool().acquire().await?;
    D::fetch_all(&mut conn, b).await?.iter().map(read).collect()
}

/// `select COLUMNS from TABLE where evaluation_id = ID`.
fn of_evaluation<'a, D: Dialect>(cols: &[&str], table: &str, id: i64) -> Qb<'a, D> {
    let mut b = qb::<D>(format!(
        "select {} from {table} where evaluation_id = ",
        D::columns(cols, true)
    ));
    D::bind_i64(&mut b, Some(id));
    b
}

/// A write naming an evaluation that does not exist.
fn unknown_evaluation(id: i64) -> StoreError {
    crate::domain::Invalid::new("evaluation", format!("no evaluation {id}")).into()
}

/// `col = excluded.col, …`: an upsert taking the new row's columns.
fn excluded<D: Dialect>(cols: &[&str]) -> String {
    cols.iter()
        .map(|c| {
            let col = D::time_col(c);
            format!("{col} = excluded.{col}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl<S: SqlBackend> EvaluationStore for S {
    async fn create_evaluation(
        &self,
        period: &str,
        table_version: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<EvaluationRow, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>(format!(
            "insert into evaluation ({}) values (",
            S::Db::columns(&EVALUATION[1..], false)
        ));
        bind_list(
            &mut b,
            [
                Arg::text(period),
                Arg::text(table_version),
                Arg::Json(Some(serde_json::json!([]))),
                Arg::text(by),
                Arg::time(at),
            ],
        );
        b.push(format!(") returning {}", S::Db::columns(&EVALUATION, true)));
        let row = match fetch_one::<S::Db>(&mut tx, &mut b).await {
            Ok(row) => row,
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(StoreError::Conflict(format!("评价期 {period} 已存在")));
            }
            Err(e) => return Err(e.into()),
        };
        let out = evaluation::<S::Db>(&row)?;
        tx.commit().await?;
        Ok(out)
    }

    async fn evaluations(&self) -> Result<Vec<EvaluationRow>, StoreError> {
        let mut b = qb::<S::Db>(format!(
            "select {} from evaluation order by period desc",
            S::Db::columns(&EVALUATION, true)
        ));
        all(self, &mut b, evaluation::<S::Db>).await
    }

    async fn evaluation(&self, id: i64) -> Result<Option<EvaluationRow>, StoreError> {
        let mut b = qb::<S::Db>(format!(
            "select {} from evaluation where id = ",
            S::Db::columns(&EVALUATION, true)
        ));
        S::Db::bind_i64(&mut b, Some(id));
        Ok(all(self, &mut b, evaluation::<S::Db>).await?.pop())
    }

    async fn set_site_towns(&self, id: i64, towns: &[String]) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>("update evaluation set site_towns = ");
        S::Db::bind_json(&mut b, serde_json::to_value(towns).ok());
        b.push(" where id = ");
        S::Db::bind_i64(&mut b, Some(id));
        let n = S::Db::execute(&mut tx, &mut b).await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn write_assessment(
        &self,
        id: i64,
        town: &str,
        sa: &SelfAssessment,
        how: AssessmentWrite,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<AssessmentRow, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>(format!(
            "select {} from self_assessment where evaluation_id = ",
            S::Db::columns(&ASSESSMENT, true)
        ));
        S::Db::bind_i64(&mut b, Some(id));
        b.push(" and town = ");
        S::Db::bind_text(&mut b, Some(town.to_owned()));
        b.push(S::Db::FOR_UPDATE);
        let current = match S::Db::fetch_optional(&mut tx, &mut b).await? {
            Some(row) => Some(assessment::<S::Db>(&row)?),
            None => None,
        };
        let submitted = current.as_ref().is_some_and(|c| c.submitted_at.is_some());
        match how {
            AssessmentWrite::Draft | AssessmentWrite::Submit if submitted => {
                return Err(StoreError::Conflict("自评已提交，不能再修改".into()));
            }
            AssessmentWrite::Review if !submitted => {
                return Err(StoreError::Conflict("自评尚未提交，不能核实".into()));
            }
            _ => {}
        }
        let (sub_by, sub_at) = match how {
            AssessmentWrite::Submit => (Some(by.to_owned()), Some(at)),
            _ => (
                current.as_ref().and_then(|c| c.submitted_by.clone()),
                current.as_ref().and_then(|c| c.submitted_at),
            ),
        };
        let mut b = qb::<S::Db>(format!(
            "insert into self_assessment ({}) values (",
            S::Db::columns(&ASSESSMENT, false)
        ));
        bind_list(
            &mut b,
            [
                Arg::I64(Some(id)),
                Arg::text(town),
                json(sa),
                Arg::Text(sub_by),
                Arg::Time(sub_at),
                Arg::text(by),
                Arg::time(at),
            ],
        );

        b.push(format!(
            ") on conflict (evaluation_id, town) do update set {} returning {}",
            excluded::<S::Db>(&ASSESSMENT[2..]),
            S::Db::columns(&ASSESSMENT, true)
        ));
        let row = match fetch_one::<S::Db>(&mut tx, &mut b).await {
            Ok(row) => row,
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                return Err(unknown_evaluation(id));
            }
            Err(e) => return Err(e.into()),
        };
        let out = assessment::<S::Db>(&row)?;
        tx.commit().await?;
        Ok(out)
    }

    async fn assessments(&self, id: i64) -> Result<Vec<AssessmentRow>, StoreError> {
        let mut b = of_evaluation::<S::Db>(&ASSESSMENT, "self_assessment", id);
        b.push(" order by town");
        all(self, &mut b, assessment::<S::Db>).await
    }

    async fn put_draw(
        &self,
        id: i64,
        town: &str,
        d: &Draw,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<DrawRow, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>(format!(
            "insert into site_draw ({}) values (",
            S::Db::columns(&DRAW, false)
        ));
        bind_list(
            &mut b,
            [
                Arg::I64(Some(id)),
                Arg::text(town),
                json(d),
                Arg::text(by),
                Arg::time(at),
            ],
        );
        b.push(format!(") returning {}", S::Db::columns(&DRAW, true)));
        let row = match fetch_one::<S::Db>(&mut tx, &mut b).await {
            Ok(row) => row,
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(StoreError::Conflict(format!(
                    "{town} 已抽取项目，抽取只做一次"
                )));
            }
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                return Err(unknown_evaluation(id));
            }
            Err(e) => return Err(e.into()),
        };
        let out = draw_row::<S::Db>(&row)?;
        tx.commit().await?;
        Ok(out)
    }

    async fn draws(&self, id: i64) -> Result<Vec<DrawRow>, StoreError> {
        let mut b = of_evaluation::<S::Db>(&DRAW, "site_draw", id);
        b.push(" order by town");
        all(self, &mut b, draw_row::<S::Db>).await
    }

    async fn put_finding(
        &self,
        id: i64,
        project_id: i64,
        town: &str,
        f: &SiteFinding,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<FindingRow, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut b = qb::<S::Db>(format!(
            "insert into site_finding ({}) values (",
            S::Db::columns(&FINDING, false)
        ));
        bind_list(
            &mut b,
            [
                Arg::I64(Some(id)),
                Arg::I64(Some(project_id)),
                Arg::text(town),
                json(f),
                Arg::text(by),
                Arg::time(at),
            ],
        );

        b.push(format!(
            ") on conflict (evaluation_id, project_id) do update set {} returning {}",
            excluded::<S::Db>(&FINDING[2..]),
            S::Db::columns(&FINDING, true)
        ));
        let row = fetch_one::<S::Db>(&mut tx, &mut b).await?;
        let out = finding::<S::Db>(&row)?;
        tx.commit().await?;
        Ok(out)
    }

    async fn findings(&self, id: i64) -> Result<Vec<FindingRow>, StoreError> {
        let mut b = of_evaluation::<S::Db>(&FINDING, "site_finding", id);
        b.push(" order by town, project_id");
        all(self, &mut b, finding::<S::Db>).await
    }
}
