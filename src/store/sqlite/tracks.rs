//! [`TrackStore`] on the embedded SQLite store.

use async_trait::async_trait;
use geo::BoundingRect;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::SqliteStore;
use crate::spatial::{geometry_from_geojson, geometry_to_geojson};
use crate::store::tracks::{
    Inserted, NewTrack, TrackQuery, TrackRecord, TrackStore, VisitRow, segments_from,
    segments_geometry, segments_times,
};
use crate::store::{Page, StoreError};

const TRACK_COLUMNS: &str = "id, officer, device, name, fingerprint, started_ms, ended_ms, point_count, length_m, \
     resolution, sighting_m, open, report, times_ms, created_ms, geom";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn read_track(row: &SqliteRow) -> Result<TrackRecord, StoreError> {
    let geom: String = row.try_get("geom")?;
    let geometry = geometry_from_geojson(&geom).map_err(StoreError::Corrupt)?;
    let times: Vec<i64> =
        serde_json::from_str(&row.try_get::<String, _>("times_ms")?).map_err(corrupt)?;
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
            resolution: u8::try_from(res).map_err(|_| corrupt("track resolution"))?,
            sighting_m: row.try_get("sighting_m")?,
            open: row.try_get("open")?,
            report: serde_json::from_str(&row.try_get::<String, _>("report")?).map_err(corrupt)?,
        },
        started_ms: row.try_get("started_ms")?,
        ended_ms: row.try_get("ended_ms")?,
        point_count: row.try_get("point_count")?,
        created_ms: row.try_get("created_ms")?,
    })
}

async fn insert_visits(
    conn: &mut sqlx::SqliteConnection,
    id: i64,
    visits: &[VisitRow],
) -> Result<(), StoreError> {
    for chunk in visits.chunks(200) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "insert into cell_visit (track_id, cell, first_ms, last_ms) ",
        );
        qb.push_values(chunk, |mut b, v| {
            b.push_bind(id)
                .push_bind(v.cell.cast_signed())
                .push_bind(v.first_ms)
                .push_bind(v.last_ms);
        });
        qb.push(
            " on conflict (track_id, cell) do update set first_ms = min(cell_visit.first_ms, excluded.first_ms), \
             last_ms = max(cell_visit.last_ms, excluded.last_ms)",
        );
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

fn bbox_of(t: &NewTrack) -> [f64; 4] {
    segments_geometry(&t.segments)
        .bounding_rect()
        .map_or([0.0; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

fn times_json(t: &NewTrack) -> String {
    serde_json::Value::from(segments_times(&t.segments)).to_string()
}

/// Cells as a JSON array for `json_each`, or `None` for every cell.
fn cells_param(cells: Option<&[u64]>) -> Option<String> {
    cells.map(|c| {
        serde_json::Value::from(c.iter().map(|c| c.cast_signed()).collect::<Vec<i64>>()).to_string()
    })
}

#[async_trait]
impl TrackStore for SqliteStore {
    async fn insert_tracks(
        &self,
        tracks: Vec<(NewTrack, Vec<VisitRow>)>,
    ) -> Result<Vec<Inserted>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let mut out = Vec::with_capacity(tracks.len());
        let now = chrono::Utc::now().timestamp_millis();
        for (track, visits) in &tracks {
            let existing: Option<i64> =
                sqlx::query_scalar("select id from track where fingerprint = ?")
                    .bind(&track.fingerprint)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(id) = existing {
                out.push(Inserted { id, created: false });
                continue;
            }
            let (start, end) = track.span_ms();
            let [min_lon, min_lat, max_lon, max_lat] = bbox_of(track);
            let id: i64 = sqlx::query_scalar(
                "insert into track (officer, device, name, fingerprint, started_ms, ended_ms, point_count, length_m, \
                 resolution, sighting_m, open, report, times_ms, created_ms, geom, min_lon, min_lat, max_lon, max_lat) \
                 values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id",
            )
            .bind(&track.officer)
            .bind(&track.device)
            .bind(&track.name)
            .bind(&track.fingerprint)
            .bind(start)
            .bind(end)
            .bind(i64::try_from(track.point_count()).unwrap_or(i64::MAX))
            .bind(track.length_m)
            .bind(i64::from(track.resolution))
            .bind(track.sighting_m)
            .bind(track.open)
            .bind(track.report.to_string())
            .bind(times_json(track))
            .bind(now)
            .bind(geometry_to_geojson(&segments_geometry(&track.segments)))
            .bind(min_lon)
            .bind(min_lat)
            .bind(max_lon)
            .bind(max_lat)
            .fetch_one(&mut *tx)
            .await?;
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
        let (start, end) = track.span_ms();
        let [min_lon, min_lat, max_lon, max_lat] = bbox_of(&track);
        let n = sqlx::query(
            "update track set started_ms = ?, ended_ms = ?, point_count = ?, length_m = ?, open = ?, report = ?, \
             times_ms = ?, geom = ?, min_lon = ?, min_lat = ?, max_lon = ?, max_lat = ? where id = ?",
        )
        .bind(start)
        .bind(end)
        .bind(i64::try_from(track.point_count()).unwrap_or(i64::MAX))
        .bind(track.length_m)
        .bind(track.open)
        .bind(track.report.to_string())
        .bind(times_json(&track))
        .bind(geometry_to_geojson(&segments_geometry(&track.segments)))
        .bind(min_lon)
        .bind(min_lat)
        .bind(max_lon)
        .bind(max_lat)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        insert_visits(&mut tx, id, &visits).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_tracks(&self, q: &TrackQuery) -> Result<Page<TrackRecord>, StoreError> {
        let filters = |qb: &mut QueryBuilder<'_, Sqlite>| {
            qb.push(" where 1");
            if let Some(o) = &q.officer {
                qb.push(" and officer = ");
                qb.push_bind(o.clone());
            }
            if let Some(f) = q.from_ms {
                qb.push(" and ended_ms >= ");
                qb.push_bind(f);
            }
            if let Some(t) = q.to_ms {
                qb.push(" and started_ms < ");
                qb.push_bind(t);
            }
            if let Some(b) = &q.bbox {
                qb.push(" and min_lon <= ");
                qb.push_bind(b.max_lon());
                qb.push(" and max_lon >= ");
                qb.push_bind(b.min_lon());
                qb.push(" and min_lat <= ");
                qb.push_bind(b.max_lat());
                qb.push(" and max_lat >= ");
                qb.push_bind(b.min_lat());
            }
        };
        let mut count = QueryBuilder::<Sqlite>::new("select count(*) from track");
        filters(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(self.pool()).await?;
        let mut qb = QueryBuilder::<Sqlite>::new(format!("select {TRACK_COLUMNS} from track"));
        filters(&mut qb);
        qb.push(" order by started_ms, id limit ");
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
        let row = sqlx::query(&format!("select {TRACK_COLUMNS} from track where id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(read_track).transpose()
    }

    async fn track_visits(&self, id: i64) -> Result<Vec<VisitRow>, StoreError> {
        let rows: Vec<(i64, i64, i64, i64)> =
            sqlx::query_as("select track_id, cell, first_ms, last_ms from cell_visit where track_id = ? order by cell")
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
             where first_ms < ?2 and last_ms >= ?1 and (?3 is null or cell in (select value from json_each(?3)))",
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
            "select cell, max(min(last_ms, ?1 - 1)) from cell_visit \
             where first_ms < ?1 and (?2 is null or cell in (select value from json_each(?2))) group by cell",
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
