//! Inspections, hazards and hazard history on the embedded store. Times are
//! RFC 3339 UTC text with milliseconds, so text order is time order.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::SqliteStore;
use crate::inspection::{
    Hazard, HazardEvent, HazardStatus, Inspection, NewInspection, StatusChange,
};
use crate::store::StoreError;
use crate::store::inspection::{InspectionQuery, InspectionStore, Moved, bad_value};

const INSPECTION_COLUMNS: &str =
    "id, project_id, inspected_at, inspector, note, recorded_by, recorded_at";
const HAZARD_COLUMNS: &str = "id, inspection_id, project_id, kind, severity, deadline, \
     status, note, found_at, closed_at, updated_at";
const EVENT_COLUMNS: &str =
    "e.id, e.hazard_id, e.from_status, e.to_status, e.changed_at, e.changed_by, e.note";

fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn time(row: &SqliteRow, col: &str) -> Result<DateTime<Utc>, StoreError> {
    let s: String = row.try_get(col)?;
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| bad_value(col, &s))
}

fn opt_time(row: &SqliteRow, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let s: Option<String> = row.try_get(col)?;
    match s {
        None => Ok(None),
        Some(_) => time(row, col).map(Some),
    }
}

fn parse<T: std::str::FromStr>(row: &SqliteRow, col: &str) -> Result<T, StoreError> {
    let s: String = row.try_get(col)?;
    s.parse().map_err(|_| bad_value(col, &s))
}

fn inspection(row: &SqliteRow) -> Result<Inspection, StoreError> {
    Ok(Inspection {
        id: row.try_get("id")?,
        project_id: row.try_get("project_id")?,
        inspected_at: time(row, "inspected_at")?,
        inspector: row.try_get("inspector")?,
        note: row.try_get("note")?,
        recorded_by: row.try_get("recorded_by")?,
        recorded_at: time(row, "recorded_at")?,
    })
}

fn hazard(row: &SqliteRow) -> Result<Hazard, StoreError> {
    let deadline: String = row.try_get("deadline")?;
    Ok(Hazard {
        id: row.try_get("id")?,
        inspection_id: row.try_get("inspection_id")?,
        project_id: row.try_get("project_id")?,
        kind: parse(row, "kind")?,
        severity: parse(row, "severity")?,
        deadline: NaiveDate::parse_from_str(&deadline, "%Y-%m-%d")
            .map_err(|_| bad_value("deadline", &deadline))?,
        status: parse(row, "status")?,
        note: row.try_get("note")?,
        found_at: time(row, "found_at")?,
        closed_at: opt_time(row, "closed_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

fn event(row: &SqliteRow) -> Result<HazardEvent, StoreError> {
    let from: Option<String> = row.try_get("from_status")?;
    Ok(HazardEvent {
        id: row.try_get("id")?,
        hazard_id: row.try_get("hazard_id")?,
        from: from
            .map(|s| s.parse().map_err(|_| bad_value("from_status", &s)))
            .transpose()?,
        to: parse(row, "to_status")?,
        at: time(row, "changed_at")?,
        by: row.try_get("changed_by")?,
        note: row.try_get("note")?,
    })
}

fn push_filters(qb: &mut QueryBuilder<'_, Sqlite>, project_col: &str, q: &InspectionQuery) {
    if let Some(p) = q.project {
        qb.push(format!(" and {project_col} = "));
        qb.push_bind(p);
    }
    if let Some(towns) = &q.towns {
        if towns.is_empty() {
            qb.push(" and 0");
            return;
        }
        qb.push(format!(
            " and {project_col} in (select id from project where town_code in ("
        ));
        let mut sep = qb.separated(", ");
        for t in towns {
            sep.push_bind(t.clone());
        }
        sep.push_unseparated("))");
    }
}

async fn insert_event(
    conn: &mut sqlx::SqliteConnection,
    hazard_id: i64,
    from: Option<HazardStatus>,
    to: HazardStatus,
    at: DateTime<Utc>,
    by: &str,
    note: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into hazard_event (hazard_id, from_status, to_status, changed_at, changed_by, note) \
         values (?, ?, ?, ?, ?, ?)",
    )
    .bind(hazard_id)
    .bind(from.map(HazardStatus::as_str))
    .bind(to.as_str())
    .bind(time_text(at))
    .bind(by)
    .bind(note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl InspectionStore for SqliteStore {
    async fn record_inspection(
        &self,
        new: &NewInspection,
        recorded_at: DateTime<Utc>,
    ) -> Result<(Inspection, Vec<Hazard>), StoreError> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query(&format!(
            "insert into inspection (project_id, inspected_at, inspector, note, recorded_by, recorded_at) \
             values (?, ?, ?, ?, ?, ?) returning {INSPECTION_COLUMNS}"
        ))
        .bind(new.project_id)
        .bind(time_text(new.inspected_at))
        .bind(&new.inspector)
        .bind(&new.note)
        .bind(&new.recorded_by)
        .bind(time_text(recorded_at))
        .fetch_one(&mut *tx)
        .await?;
        let stored = inspection(&row)?;
        let mut hazards = Vec::with_capacity(new.findings.len());
        for f in &new.findings {
            let row = sqlx::query(&format!(
                "insert into hazard (inspection_id, project_id, kind, severity, deadline, status, note, found_at, updated_at) \
                 values (?, ?, ?, ?, ?, 'open', ?, ?, ?) returning {HAZARD_COLUMNS}"
            ))
            .bind(stored.id)
            .bind(new.project_id)
            .bind(f.kind.as_str())
            .bind(f.severity.as_str())
            .bind(f.deadline.format("%Y-%m-%d").to_string())
            .bind(&f.note)
            .bind(time_text(new.inspected_at))
            .bind(time_text(recorded_at))
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
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "select {INSPECTION_COLUMNS} from inspection where 1"
        ));
        push_filters(&mut qb, "project_id", q);
        if let Some(h) = q.hazard {
            qb.push(" and id in (select inspection_id from hazard where id = ");
            qb.push_bind(h);
            qb.push(")");
        }
        qb.push(" order by inspected_at, id");
        qb.build()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(inspection)
            .collect()
    }

    async fn hazards(&self, q: &InspectionQuery) -> Result<Vec<Hazard>, StoreError> {
        let mut qb =
            QueryBuilder::<Sqlite>::new(format!("select {HAZARD_COLUMNS} from hazard where 1"));
        push_filters(&mut qb, "project_id", q);
        if let Some(h) = q.hazard {
            qb.push(" and id = ");
            qb.push_bind(h);
        }
        qb.push(" order by id");
        qb.build()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(hazard)
            .collect()
    }

    async fn hazard_events(&self, q: &InspectionQuery) -> Result<Vec<HazardEvent>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "select {EVENT_COLUMNS} from hazard_event e join hazard h on h.id = e.hazard_id where 1"
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
        let closed_at = (change.to == HazardStatus::Closed).then(|| time_text(change.at));
        let row = sqlx::query(&format!(
            "update hazard set status = ?, closed_at = ?, updated_at = ? \
             where id = ? and status = ? returning {HAZARD_COLUMNS}"
        ))
        .bind(change.to.as_str())
        .bind(closed_at)
        .bind(time_text(change.at))
        .bind(id)
        .bind(from.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let exists: Option<i64> = sqlx::query_scalar("select id from hazard where id = ?")
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
