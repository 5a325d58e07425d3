//! Inspections, hazards and hazard history on `PostGIS`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::PostgisStore;
use crate::inspection::{
    Hazard, HazardEvent, HazardStatus, Inspection, NewInspection, StatusChange,
};
use crate::store::StoreError;
use crate::store::inspection::{InspectionQuery, InspectionStore, Moved, bad_value};

const INSPECTION_COLUMNS: &str =
    "i.id, i.project_id, i.inspected_at, i.inspector, i.note, i.recorded_by, i.recorded_at";
const HAZARD_COLUMNS: &str = "h.id, h.inspection_id, h.project_id, h.kind, h.severity, h.deadline, \
     h.status, h.note, h.found_at, h.closed_at, h.updated_at";
const EVENT_COLUMNS: &str =
    "e.id, e.hazard_id, e.from_status, e.to_status, e.changed_at, e.changed_by, e.note";

fn parse<T: std::str::FromStr>(row: &PgRow, col: &str) -> Result<T, StoreError> {
    let s: String = row.try_get(col)?;
    s.parse().map_err(|_| bad_value(col, &s))
}

fn inspection(row: &PgRow) -> Result<Inspection, StoreError> {
    Ok(Inspection {
        id: row.try_get("id")?,
        project_id: row.try_get("project_id")?,
        inspected_at: row.try_get("inspected_at")?,
        inspector: row.try_get("inspector")?,
        note: row.try_get("note")?,
        recorded_by: row.try_get("recorded_by")?,
        recorded_at: row.try_get("recorded_at")?,
    })
}

fn hazard(row: &PgRow) -> Result<Hazard, StoreError> {
    Ok(Hazard {
        id: row.try_get("id")?,
        inspection_id: row.try_get("inspection_id")?,
        project_id: row.try_get("project_id")?,
        kind: parse(row, "kind")?,
        severity: parse(row, "severity")?,
        deadline: row.try_get("deadline")?,
        status: parse(row, "status")?,
        note: row.try_get("note")?,
        found_at: row.try_get("found_at")?,
        closed_at: row.try_get("closed_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn event(row: &PgRow) -> Result<HazardEvent, StoreError> {
    let from: Option<String> = row.try_get("from_status")?;
    Ok(HazardEvent {
        id: row.try_get("id")?,
        hazard_id: row.try_get("hazard_id")?,
        from: from
            .map(|s| s.parse().map_err(|_| bad_value("from_status", &s)))
            .transpose()?,
        to: parse(row, "to_status")?,
        at: row.try_get("changed_at")?,
        by: row.try_get("changed_by")?,
        note: row.try_get("note")?,
    })
}

/// ` and <project column> ...` for the query's filters.
fn push_filters(qb: &mut QueryBuilder<'_, Postgres>, project_col: &str, q: &InspectionQuery) {
    if let Some(p) = q.project {
        qb.push(format!(" and {project_col} = "));
        qb.push_bind(p);
    }
    if let Some(towns) = &q.towns {
        qb.push(format!(
            " and {project_col} in (select id from project where town_code = any("
        ));
        qb.push_bind(towns.clone());
        qb.push("))");
    }
}

async fn insert_event(
    conn: &mut sqlx::PgConnection,
    hazard_id: i64,
    from: Option<HazardStatus>,
    to: HazardStatus,
    at: DateTime<Utc>,
    by: &str,
    note: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into hazard_event (hazard_id, from_status, to_status, changed_at, changed_by, note) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(hazard_id)
    .bind(from.map(HazardStatus::as_str))
    .bind(to.as_str())
    .bind(at)
    .bind(by)
    .bind(note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl InspectionStore for PostgisStore {
    async fn record_inspection(
        &self,
        new: &NewInspection,
        recorded_at: DateTime<Utc>,
    ) -> Result<(Inspection, Vec<Hazard>), StoreError> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query(&format!(
            "insert into inspection as i (project_id, inspected_at, inspector, note, recorded_by, recorded_at) \
             values ($1, $2, $3, $4, $5, $6) returning {INSPECTION_COLUMNS}"
        ))
        .bind(new.project_id)
        .bind(new.inspected_at)
        .bind(&new.inspector)
        .bind(&new.note)
        .bind(&new.recorded_by)
        .bind(recorded_at)
        .fetch_one(&mut *tx)
        .await?;
        let stored = inspection(&row)?;
        let mut hazards = Vec::with_capacity(new.findings.len());
        for f in &new.findings {
            let row = sqlx::query(&format!(
                "insert into hazard as h (inspection_id, project_id, kind, severity, deadline, status, note, found_at, updated_at) \
                 values ($1, $2, $3, $4, $5, 'open', $6, $7, $8) returning {HAZARD_COLUMNS}"
            ))
            .bind(stored.id)
            .bind(new.project_id)
            .bind(f.kind.as_str())
            .bind(f.severity.as_str())
            .bind(f.deadline)
            .bind(&f.note)
            .bind(new.inspected_at)
            .bind(recorded_at)
            .fetch_one(&mut *tx)
            .await?;
            let h = hazard(&row)?;
            insert_event(
                &mut tx,
                h.id,
                None,
                HazardStatus::Open,
                recorded_at,
                &new.recorded_by,
                &f.note,
            )
            .await?;
            hazards.push(h);
        }
        tx.commit().await?;
        Ok((stored, hazards))
    }

    async fn inspections(&self, q: &InspectionQuery) -> Result<Vec<Inspection>, StoreError> {
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "select {INSPECTION_COLUMNS} from inspection i where true"
        ));
        push_filters(&mut qb, "i.project_id", q);
        if let Some(h) = q.hazard {
            qb.push(" and i.id in (select inspection_id from hazard where id = ");
            qb.push_bind(h);
            qb.push(")");
        }
        qb.push(" order by i.inspected_at, i.id");
        qb.build()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(inspection)
            .collect()
    }

    async fn hazards(&self, q: &InspectionQuery) -> Result<Vec<Hazard>, StoreError> {
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "select {HAZARD_COLUMNS} from hazard h where true"
        ));
        push_filters(&mut qb, "h.project_id", q);
        if let Some(h) = q.hazard {
            qb.push(" and h.id = ");
            qb.push_bind(h);
        }
        qb.push(" order by h.id");
        qb.build()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(hazard)
            .collect()
    }

    async fn hazard_events(&self, q: &InspectionQuery) -> Result<Vec<HazardEvent>, StoreError> {
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "select {EVENT_COLUMNS} from hazard_event e join hazard h on h.id = e.hazard_id where true"
        ));
        push_filters(&mut qb, "h.project_id", q);
        if let Some(h) = q.hazard {
            qb.push(" and e.hazard_id = ");
            qb.push_bind(h);
        }
        qb.push(" order by e.changed_at, e.id");
        qb.build()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(event)
            .collect()
    }

    async fn move_hazard(
        &self,
        id: i64,
        from: HazardStatus,
        change: &StatusChange,
    ) -> Result<Moved, StoreError> {
        let mut tx = self.pool().begin().await?;
        let closed_at = (change.to == HazardStatus::Closed).then_some(change.at);
        let row = sqlx::query(&format!(
            "update hazard as h set status = $1, closed_at = $2, updated_at = $3 \
             where h.id = $4 and h.status = $5 returning {HAZARD_COLUMNS}"
        ))
        .bind(change.to.as_str())
        .bind(closed_at)
        .bind(change.at)
        .bind(id)
        .bind(from.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let exists: Option<i64> = sqlx::query_scalar("select id from hazard where id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            return Ok(if exists.is_some() {
                Moved::Stale
            } else {
                Moved::Missing
            });
        };
        let h = hazard(&row)?;
        insert_event(
            &mut tx,
            id,
            Some(from),
            change.to,
            change.at,
            &change.by,
            &change.note,
        )
        .await?;
        tx.commit().await?;
        Ok(Moved::Done(h))
    }
}
