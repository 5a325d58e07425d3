//! [`TrackStore`] on PostGIS.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::PostgisStore;
use crate::spatial::{geometry_from_geojson, geometry_to_geojson};
use crate::store::tracks::{
    Inserted, NewTrack, TrackQuery, TrackRecord, TrackStore, VisitRow, segments_from,
    segments_geometry, segments_times,
};
use crate::store::{Page, StoreError};

fn ts(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

const TRACK_COLUMNS: &str = "id, officer, device, name, fingerprint, started_at, ended_at, point_count::bigint as point_count, \
     length_m, resolution::bigint as resolution, sighting_m, open, report, times_ms, created_at, st_asgeojson(geom, 9) as geom";

fn read_track(row: &PgRow) -> Result<TrackRecord, StoreError> {
    let geom: String = row.try_get("geom")?;
    let geometry = geometry_from_geojson(&geom).map_err(StoreError::Corrupt)?;
    let times: Vec<i64> = row.try_get("times_ms")?;
    let res: i64 = row.try_get("resolution")?;
    Ok(TrackRecord {
        id: row.try_get("id")?,
        track: NewTrack {
            officer: row.try_get("officer")?,
            device: row.try_get("device")?,
            name: row.try_get("name")?,
            fingerprint: row.try_get("fingerprint")?,
            segments: segments_from(&geometry, &times)?,
            length_m: row.try_get("length_m")?,
            resolution: u8::try_from(res)
                .map_err(|_| StoreError::Corrupt("track resolution".into()))?,
            sighting_m: row.try_get("sighting_m")?,
            open: row.try_get("open")?,
            report: row.try_get("report")?,
        },
        started_ms: row
            .try_get::<DateTime<Utc>, _>("started_at")?
            .timestamp_millis(),
        ended_ms: row
            .try_get::<DateTime<Utc>, _>("ended_at")?
            .timestamp_millis(),
        point_count: row.try_get("point_count")?,
        created_ms: row
            .try_get::<DateTime<Utc>, _>("created_at")?
            .timestamp_millis(),
    })
}

async fn insert_visits(
    conn: &mut sqlx::PgConnection,
    id: i64,
    visits: &[VisitRow],
) -> Result<(), StoreError> {
    let cells: Vec<i64> = visits.iter().map(|v| v.cell.cast_signed()).collect();
    let first: Vec<i64> = visits.iter().map(|v| v.first_ms).collect();
    let last: Vec<i64> = visits.iter().map(|v| v.last_ms).collect();
    sqlx::query(
        "insert into cell_visit (track_id, cell, first_ms, last_ms) \
         select $1, c, f, l from unnest($2::bigint[], $3::bigint[], $4::bigint[]) as v(c, f, l) \
         on conflict (track_id, cell) do update \
         set first_ms = least(cell_visit.first_ms, excluded.first_ms), last_ms = greatest(cell_visit.last_ms, excluded.last_ms)",
    )
    .bind(id)
    .bind(cells)
    .bind(first)
    .bind(last)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn push_track_values(qb: &mut QueryBuilder<'_, Postgres>, t: &NewTrack) {
    let (start, end) = t.span_ms();
    let mut sep = qb.separated(", ");
    sep.push_bind(t.officer.clone());
    sep.push_bind(t.device.clone());
    sep.push_bind(t.name.clone());
    sep.push_bind(t.fingerprint.clone());
    sep.push_bind(ts(start));
    sep.push_bind(ts(end));
    sep.push_bind(i32::try_from(t.point_count()).unwrap_or(i32::MAX));
    sep.push_bind(t.length_m);
    sep.push_bind(i16::from(t.resolution));
    sep.push_bind(t.sighting_m);
    sep.push_bind(t.open);
    sep.push_bind(t.report.clone());
    sep.push_bind(segments_times(&t.segments));
    sep.push_unseparated(", st_setsrid(st_geomfromgeojson(");
    sep.push_bind_unseparated(geometry_to_geojson(&segments_geometry(&t.segments)));
    sep.push_unseparated("), 4326)");
}

const INSERT_COLUMNS: &str = "officer, device, name, fingerprint, started_at, ended_at, point_count, length_m, resolution, sighting_m, open, report, times_ms, geom";

fn cells_param(cells: Option<&[u64]>) -> Option<Vec<i64>> {
    cells.map(|c| c.iter().map(|c| c.cast_signed()).collect())
}

#[async_trait]
impl TrackStore for PostgisStore {
    async fn insert_tracks(
        &self,
        tracks: Vec<(NewTrack, Vec<VisitRow>)>,
    ) -> Result<Vec<Inserted>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let mut out = Vec::with_capacity(tracks.len());
        for (track, visits) in &tracks {
            let existing: Option<i64> =
                sqlx::query_scalar("select id from track where fingerprint = $1")
                    .bind(&track.fingerprint)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(id) = existing {
                out.push(Inserted { id, created: false });
                continue;
            }
            let mut qb = QueryBuilder::<Postgres>::new(format!(
                "insert into track ({INSERT_COLUMNS}) values ("
            ));
            push_track_values(&mut qb, track);
            qb.push(") returning id");
            let id: i64 = qb.build_query_scalar().fetch_one(&mut *tx).await?;
            insert_visits(&mut tx, id, visits).await?;
            out.push(Inserted { id, created: true });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn replace_track(
        &self,
        id: i64,
        track: NewTrack,
        visits: Vec<VisitRow>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("select id from track where id = $1 for update")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Ok(false);
        }
        let (start, end) = track.span_ms();
        sqlx::query(
            "update track set started_at = $2, ended_at = $3, point_count = $4, length_m = $5, open = $6, report = $7, \
             times_ms = $8, geom = st_setsrid(st_geomfromgeojson($9), 4326) where id = $1",
        )
        .bind(id)
        .bind(ts(start))
        .bind(ts(end))
        .bind(i32::try_from(track.point_count()).unwrap_or(i32::MAX))
        .bind(track.length_m)
        .bind(track.open)
        .bind(&track.report)
        .bind(segments_times(&track.segments))
        .bind(geometry_to_geojson(&segments_geometry(&track.segments)))
        .execute(&mut *tx)
        .await?;
        insert_visits(&mut tx, id, &visits).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_tracks(&self, q: &TrackQuery) -> Result<Page<TrackRecord>, StoreError> {
        let filters = |qb: &mut QueryBuilder<'_, Postgres>| {
            qb.push(" where true");
            if let Some(o) = &q.officer {
                qb.push(" and officer = ");
                qb.push_bind(o.clone());
            }
            if let Some(f) = q.from_ms {
                qb.push(" and ended_at >= ");
                qb.push_bind(ts(f));
            }
            if let Some(t) = q.to_ms {
                qb.push(" and started_at < ");
                qb.push_bind(ts(t));
            }
            if let Some(b) = &q.bbox {
                qb.push(" and geom && st_makeenvelope(");
                let mut sep = qb.separated(", ");
                sep.push_bind(b.min_lon());
                sep.push_bind(b.min_lat());
                sep.push_bind(b.max_lon());
                sep.push_bind(b.max_lat());
                qb.push(", 4326)");
            }
        };
        let mut count = QueryBuilder::<Postgres>::new("select count(*) from track");
        filters(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(self.pool()).await?;
        let mut qb = QueryBuilder::<Postgres>::new(format!("select {TRACK_COLUMNS} from track"));
        filters(&mut qb);
        qb.push(" order by started_at, id limit ");
        qb.push_bind(i64::from(q.limit));
        qb.push(" offset ");
        qb.push_bind(i64::from(q.offset));
        let rows = qb.build().fetch_all(self.pool()).await?;
        let items = rows.iter().map(read_track).collect::<Result<_, _>>()?;
        Ok(Page {
            total: u64::try_from(total).unwrap_or(0),
            items,
        })
    }

    async fn get_track(&self, id: i64) -> Result<Option<TrackRecord>, StoreError> {
        let row = sqlx::query(&format!("select {TRACK_COLUMNS} from track where id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(read_track).transpose()
    }

    async fn track_visits(&self, id: i64) -> Result<Vec<VisitRow>, StoreError> {
        let rows: Vec<(i64, i64, i64, i64)> =
            sqlx::query_as("select track_id, cell, first_ms, last_ms from cell_visit where track_id = $1 order by cell")
                .bind(id)
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(VisitRow::from_row).collect())
    }

    async fn visits_between(
        &self,
        cells: Option<&[u64]>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<VisitRow>, StoreError> {
        let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "select track_id, cell, first_ms, last_ms from cell_visit \
             where first_ms < $2 and last_ms >= $1 and ($3::bigint[] is null or cell = any($3))",
        )
        .bind(from_ms)
        .bind(to_ms)
        .bind(cells_param(cells))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(VisitRow::from_row).collect())
    }

    async fn last_seen(
        &self,
        cells: Option<&[u64]>,
        before_ms: i64,
    ) -> Result<Vec<(u64, i64)>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "select cell, max(least(last_ms, $1 - 1)) from cell_visit \
             where first_ms < $1 and ($2::bigint[] is null or cell = any($2)) group by cell",
        )
        .bind(before_ms)
        .bind(cells_param(cells))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(c, t)| (c.cast_unsigned(), t))
            .collect())
    }
}
