//! [`InspectionStore`] on every SQL backend: recording an inspection with
//! its hazards, and moving a hazard with its event, each in one
//! transaction; the lists filtered by work, towns and hazard.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Arg, Dialect, Qb, RowReader, SqlBackend, bind_list, fetch_one, qb};
use crate::inspection::checklist::InspectionDetail;
use crate::inspection::{
    Hazard, HazardEvent, HazardStatus, Inspection, NewInspection, StatusChange,
};
use crate::store::StoreError;
use crate::store::inspection::{InspectionQuery, InspectionStore, Moved};

const INSPECTION_COLUMNS: [&str; 7] = [
    "id",
    "project_id",
    "inspected_at",
    "inspector",
    "note",
    "recorded_by",
    "recorded_at",
];
const HAZARD_COLUMNS: [&str; 11] = [
    "id",
    "inspection_id",
    "project_id",
    "kind",
    "severity",
    "deadline",
    "status",
    "note",
    "found_at",
    "closed_at",
    "updated_at",
];
const INSERTED_HAZARD_COLUMNS: [&str; 10] = [
    "inspection_id",
    "project_id",
    "kind",
    "severity",
    "deadline",
    "status",
    "note",
    "found_at",
    "closed_at",
    "updated_at",
];
const EVENT_COLUMNS: [&str; 7] = [
    "e.id",
    "e.hazard_id",
    "e.from_status",
    "e.to_status",
    "e.changed_at",
    "e.changed_by",
    "e.note",
];

fn inspection<D: Dialect>(row: &D::Row) -> Result<Inspection, StoreError> {
    let r = RowReader::<D>(row);
    Ok(Inspection {
        id: r.i64("id")?,
        project_id: r.i64("project_id")?,
        inspected_at: r.time("inspected_at")?,
        inspector: r.text("inspector")?,
        note: r.text("note")?,
        recorded_by: r.text("recorded_by")?,
        recorded_at: r.time("recorded_at")?,
    })
}

fn hazard<D: Dialect>(row: &D::Row) -> Result<Hazard, StoreError> {
    let r = RowReader::<D>(row);
    Ok(Hazard {
        id: r.i64("id")?,
        inspection_id: r.i64("inspection_id")?,
        project_id: r.i64("project_id")?,
        kind: r.parse("kind")?,
        severity: r.parse("severity")?,
        deadline: r.date("deadline")?,
        status: r.parse("status")?,
        note: r.text("note")?,
        found_at: r.time("found_at")?,
        closed_at: r.opt_time("closed_at")?,
        updated_at: r.time("updated_at")?,
    })
}

fn event<D: Dialect>(row: &D::Row) -> Result<HazardEvent, StoreError> {
    let r = RowReader::<D>(row);
    let from = r.opt_text("from_status")?;
    Ok(HazardEvent {
        id: r.i64("id")?,
        hazard_id: r.i64("hazard_id")?,
        from: from
            .map(|s| {
                s.parse()
                    .map_err(|_| crate::store::inspection::bad_value("from_status", &s))
            })
            .transpose()?,
        to: r.parse("to_status")?,
        at: r.time("changed_at")?,
        by: r.text("changed_by")?,
        note: r.text("note")?,
    })
}

/// ` and <project column> ...` for the query's filters.
fn push_filters<D: Dialect>(qb: &mut Qb<'_, D>, project_col: &str, q: &InspectionQuery) {
    if let Some(p) = q.project {
        qb.push(format!(" and {project_col} = "));
        D::bind_i64(qb, Some(p));
    }
    if let Some(towns) = &q.towns {
        qb.push(format!(
            " and {project_col} in (select id from project where {}",
            D::WHERE_ALL
        ));
        D::push_text_in(qb, "town_code", towns);
        qb.push(")");
    }
}

async fn insert_event<D: Dialect>(
    conn: &mut D::Connection,
    hazard_id: i64,
    from: Option<HazardStatus>,
    to: HazardStatus,
    at: DateTime<Utc>,
    by: &str,
    note: &str,
) -> Result<(), StoreError> {
    let mut q = qb::<D>(format!(
        "insert into hazard_event ({}) values (",
        D::columns(&EVENT_COLUMNS[1..], false).replace("e.", "")
    ));
    bind_list(
        &mut q,
        [
            Arg::I64(Some(hazard_id)),
            Arg::Text(from.map(|f| f.as_str().to_owned())),
            Arg::text(to.as_str()),
            Arg::time(at),
            Arg::text(by),
            Arg::text(note),
        ],
    );
    q.push(")");
    D::execute(conn, &mut q).await?;
    Ok(())
}

/// Keeps what an inspection records beyond its basics (checklist, photos,
/// parties present, position and distance).
async fn insert_detail<D: Dialect>(
    conn: &mut D::Connection,
    inspection_id: i64,
    detail: &InspectionDetail,
) -> Result<(), StoreError> {
    let json = serde_json::to_value(detail)
        .map_err(|e| StoreError::Corrupt(format!("inspection detail: {e}")))?;
    let mut q = qb::<D>(
        "insert into inspection_detail (inspection_id, detail, lon, lat, distance_m) values (",
    );
    bind_list(
        &mut q,
        [
            Arg::I64(Some(inspection_id)),
            Arg::Json(Some(json)),
            Arg::F64(detail.position.map(|p| p.lon)),
            Arg::F64(detail.position.map(|p| p.lat)),
            Arg::F64(detail.distance_m),
        ],
    );
    q.push(")");
    D::execute(conn, &mut q).await?;
    Ok(())
}

async fn select<D: Dialect, T>(
    backend: &impl SqlBackend<Db = D>,
    q: &mut Qb<'_, D>,
    read: fn(&D::Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut conn = backend.sql_pool().acquire().await?;
    D::fetch_all(&mut conn, q).await?.iter().map(read).collect()
}

#[async_trait]
impl<S: SqlBackend> InspectionStore for S {
    async fn record_inspection(
        &self,
        new: &NewInspection,
        recorded_at: DateTime<Utc>,
    ) -> Result<(Inspection, Vec<Hazard>), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut q = qb::<S::Db>(format!(
            "insert into inspection ({}) values (",
            S::Db::columns(&INSPECTION_COLUMNS[1..], false)
        ));
        bind_list(
            &mut q,
            [
                Arg::I64(Some(new.project_id)),
                Arg::time(new.inspected_at),
                Arg::text(&new.inspector),
                Arg::text(&new.note),
                Arg::text(&new.recorded_by),
                Arg::time(recorded_at),
            ],
        );
        q.push(format!(
            ") returning {}",
            S::Db::columns(&INSPECTION_COLUMNS, true)
        ));
        let stored = inspection::<S::Db>(&fetch_one::<S::Db>(&mut tx, &mut q).await?)?;
        if !new.detail.is_empty() {
            insert_detail::<S::Db>(&mut tx, stored.id, &new.detail).await?;
        }
        let mut hazards = Vec::with_capacity(new.findings.len());
        for f in &new.findings {
            // fixed on the spot (当场整改): stored closed, its moves at the visit
            let (status, closed_at) = if f.fixed_on_spot {
                (HazardStatus::Closed, Some(new.inspected_at))
            } else {
                (HazardStatus::Open, None)
            };
            let mut q = qb::<S::Db>(format!(
                "insert into hazard ({}) values (",
                S::Db::columns(&INSERTED_HAZARD_COLUMNS, false)
            ));
            bind_list(
                &mut q,
                [
                    Arg::I64(Some(stored.id)),
                    Arg::I64(Some(new.project_id)),
                    Arg::text(f.kind.as_str()),
                    Arg::text(f.severity.as_str()),
                    Arg::Date(Some(f.deadline)),
                    Arg::text(status.as_str()),
                    Arg::text(&f.note),
                    Arg::time(new.inspected_at),
                    Arg::Time(closed_at),
                    Arg::time(recorded_at),
                ],
            );
            q.push(format!(
                ") returning {}",
                S::Db::columns(&HAZARD_COLUMNS, true)
            ));
            let h = hazard::<S::Db>(&fetch_one::<S::Db>(&mut tx, &mut q).await?)?;
            insert_event::<S::Db>(
                &mut tx,
                h.id,
                None,
                HazardStatus::Open,
                recorded_at,
                &new.recorded_by,
                &f.note,
            )
            .await?;
            if f.fixed_on_spot {
                let mut from = HazardStatus::Open;
                for to in [
                    HazardStatus::Rectifying,
                    HazardStatus::Verified,
                    HazardStatus::Closed,
                ] {
                    insert_event::<S::Db>(
                        &mut tx,
                        h.id,
                        Some(from),
                        to,
                        recorded_at,
                        &new.recorded_by,
                        "当场整改",
                    )
                    .await?;
                    from = to;
                }
            }
            hazards.push(h);
        }
        tx.commit().await?;
        Ok((stored, hazards))
    }

    async fn inspections(&self, q: &InspectionQuery) -> Result<Vec<Inspection>, StoreError> {
        let mut b = qb::<S::Db>(format!(
            "select {} from inspection where {}",
            S::Db::columns(&INSPECTION_COLUMNS, true),
            S::Db::WHERE_ALL
        ));
        push_filters(&mut b, "project_id", q);
        if let Some(h) = q.hazard {
            b.push(" and id in (select inspection_id from hazard where id = ");
            S::Db::bind_i64(&mut b, Some(h));
            b.push(")");
        }
        b.push(" order by inspected_at, id");
        select(self, &mut b, inspection::<S::Db>).await
    }

    async fn hazards(&self, q: &InspectionQuery) -> Result<Vec<Hazard>, StoreError> {
        let mut b = qb::<S::Db>(format!(
            "select {} from hazard where {}",
            S::Db::columns(&HAZARD_COLUMNS, true),
            S::Db::WHERE_ALL
        ));
        push_filters(&mut b, "project_id", q);
        if let Some(h) = q.hazard {
            b.push(" and id = ");
            S::Db::bind_i64(&mut b, Some(h));
        }
        b.push(" order by id");
        select(self, &mut b, hazard::<S::Db>).await
    }

    async fn hazard_events(&self, q: &InspectionQuery) -> Result<Vec<HazardEvent>, StoreError> {
        let mut b = qb::<S::Db>(format!(
            "select {} from hazard_event e join hazard h on h.id = e.hazard_id where {}",
            S::Db::columns(&EVENT_COLUMNS, true),
            S::Db::WHERE_ALL
        ));
        push_filters(&mut b, "h.project_id", q);
        if let Some(h) = q.hazard {
            b.push(" and e.hazard_id = ");
            S::Db::bind_i64(&mut b, Some(h));
        }
        b.push(" order by changed_at, e.id");
        select(self, &mut b, event::<S::Db>).await
    }

    async fn move_hazard(
        &self,
        id: i64,
        from: HazardStatus,
        change: &StatusChange,
    ) -> Result<Moved, StoreError> {
        let mut tx = self.begin_write().await?;
        let closed_at = (change.to == HazardStatus::Closed).then_some(change.at);
        let mut q = qb::<S::Db>("update hazard set status = ");
        bind_list(&mut q, [Arg::text(change.to.as_str())]);
        q.push(format!(", {} = ", S::Db::time_col("closed_at")));
        bind_list(&mut q, [Arg::Time(closed_at)]);
        q.push(format!(", {} = ", S::Db::time_col("updated_at")));
        bind_list(&mut q, [Arg::time(change.at)]);
        q.push(" where id = ");
        S::Db::bind_i64(&mut q, Some(id));
        q.push(" and status = ");
        S::Db::bind_text(&mut q, Some(from.as_str().to_owned()));
        q.push(format!(
            " returning {}",
            S::Db::columns(&HAZARD_COLUMNS, true)
        ));
        let Some(row) = S::Db::fetch_optional(&mut tx, &mut q).await? else {
            let mut q = qb::<S::Db>("select id from hazard where id = ");
            S::Db::bind_i64(&mut q, Some(id));
            let exists = S::Db::fetch_optional(&mut tx, &mut q).await?;
            return Ok(if exists.is_some() {
                Moved::Stale
            } else {
                Moved::Missing
            });
        };
        let h = hazard::<S::Db>(&row)?;
        insert_event::<S::Db>(
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
