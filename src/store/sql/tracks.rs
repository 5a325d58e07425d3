//! [`TrackStore`] on every SQL backend: tracks inserted once per
//! fingerprint with their cell visits, replaced in place, listed and read;
//! the visits a coverage query needs. The dialect spells the times list
//! (`bigint[]` or a blob), the geometry and the bbox prefilter.

use std::borrow::Cow;
use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::DateTime;

use super::{Arg, Dialect, Qb, RowReader, SqlBackend, bind, bind_list, fetch_one, qb};
use crate::store::tracks::{
    Inserted, NewTrack, Replaced, StoredVisit, TrackQuery, TrackRecord, TrackStore, segments_from,
    segments_geometry, segments_times,
};
use crate::store::{Backend, Page, StoreError};

/// Visits per multi-row upsert of [`insert_visits`] (four binds each).
const VISIT_CHUNK: usize = 1_000;

/// The columns a new track is inserted with, before its geometry.
const INSERT_COLUMNS: [&str; 14] = [
    "officer",
    "device",
    "name",
    "fingerprint",
    "started_at",
    "ended_at",
    "point_count",
    "length_m",
    "resolution",
    "sighting_m",
    "open",
    "report",
    "times_ms",
    "created_at",
];

fn select_list<D: Dialect>() -> String {
    let head = [
        "t.id",
        "t.officer",
        "t.device",
        "t.name",
        "t.fingerprint",
        "t.started_at",
        "t.ended_at",
    ];
    format!(
        "{}, {}, t.length_m, {}, t.sighting_m, t.open, t.report, t.times_ms, t.revision, {}, {}",
        D::columns(&head, true),
        D::int_col("t.point_count"),
        D::int_col("t.resolution"),
        D::columns(&["t.created_at"], true),
        D::lines_col("t.geom")
    )
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn read_track<D: Dialect>(row: &D::Row) -> Result<TrackRecord, StoreError> {
    let r = RowReader::<D>(row);
    let geometry = D::get_lines(row, "geom")?;
    let times = D::get_i64s(row, "times_ms")?;
    Ok(TrackRecord {
        id: r.i64("id")?,
        track: NewTrack {
            officer: r.text("officer")?,
            device: r.text("device")?,
            name: r.text("name")?,
            fingerprint: r.text("fingerprint")?,
            segments: segments_from(&geometry, &times)?,
            length_m: r.f64("length_m")?,
            resolution: u8::try_from(r.i64("resolution")?)
                .map_err(|_| corrupt("track resolution"))?,
            sighting_m: r.f64("sighting_m")?,
            open: r.bool("open")?,
            report: r.json("report")?,
        },
        started_ms: r.time("started_at")?.timestamp_millis(),
        ended_ms: r.time("ended_at")?.timestamp_millis(),
        point_count: r.i64("point_count")?,
        created_ms: r.time("created_at")?.timestamp_millis(),
        revision: r.i64("revision")?,
    })
}

/// A time column's value, held to the years 1 to 9999 that every backend
/// stores: a query bound beyond them acts as the widest there is (it had
/// become the epoch, and a window to `i64::MAX` selected no track).
fn time_arg(ms: i64) -> Arg {
    let ms = ms.clamp(-62_135_596_800_000, 253_402_300_799_999);
    Arg::time(DateTime::from_timestamp_millis(ms).unwrap_or_default())
}

fn point_count(t: &NewTrack) -> Arg {
    Arg::I64(Some(i64::from(
        i32::try_from(t.point_count()).unwrap_or(i32::MAX),
    )))
}

/// Merges visits into a stored track's, keeping the widest span of a cell
/// seen twice (a live track's points replaced); new tracks' visits go in
/// through [`Dialect::insert_new_visits`].
async fn insert_visits<D: Dialect>(
    conn: &mut D::Connection,
    id: i64,
    visits: &[StoredVisit],
) -> Result<(), StoreError> {
    for chunk in visits.chunks(VISIT_CHUNK) {
        let mut q = qb::<D>("insert into cell_visit (track_id, cell, first_ms, last_ms) values ");
        for (i, v) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            bind_list(
                &mut q,
                [
                    Arg::I64(Some(id)),
                    Arg::I64(Some(v.cell.cast_signed())),
                    Arg::I64(Some(v.first_ms)),
                    Arg::I64(Some(v.last_ms)),
                ],
            );
            q.push(")");
        }
        q.push(format!(
            " on conflict (track_id, cell) do update \
             set first_ms = {}(cell_visit.first_ms, excluded.first_ms), \
             last_ms = {}(cell_visit.last_ms, excluded.last_ms)",
            D::LEAST,
            D::GREATEST
        ));
        D::execute(conn, &mut q).await?;
    }
    Ok(())
}

/// The visits of a new track, one per cell (the earliest first and the
/// latest last of a cell given twice), as the bulk insert needs them.
fn one_per_cell(visits: &[StoredVisit]) -> Cow<'_, [StoredVisit]> {
    if visits.windows(2).all(|w| w[0].cell < w[1].cell) {
        return Cow::Borrowed(visits);
    }
    let mut by_cell: BTreeMap<u64, StoredVisit> = BTreeMap::new();
    for v in visits {
        by_cell
            .entry(v.cell)
            .and_modify(|m| {
                m.first_ms = m.first_ms.min(v.first_ms);
                m.last_ms = m.last_ms.max(v.last_ms);
            })
            .or_insert(*v);
    }
    Cow::Owned(by_cell.into_values().collect())
}

/// ` and` the filters of a track query.
fn push_filters<D: Dialect>(q: &mut Qb<'_, D>, tq: &TrackQuery) {
    q.push(format!(" where {}", D::WHERE_ALL));
    if let Some(o) = &tq.officer {
        q.push(" and t.officer = ");
        D::bind_text(q, Some(o.clone()));
    }
    if let Some(f) = tq.from_ms {
        q.push(format!(" and {} >= ", D::time_col("t.ended_at")));
        bind(q, time_arg(f));
    }
    if let Some(t) = tq.to_ms {
        q.push(format!(" and {} < ", D::time_col("t.started_at")));
        bind(q, time_arg(t));
    }
    if let Some(b) = &tq.bbox {
        D::push_bbox(q, [b.min_lon(), b.min_lat(), b.max_lon(), b.max_lat()]);
    }
}

/// The visits `select` with an optional cell filter after `where ...`.
fn push_cells<D: Dialect>(q: &mut Qb<'_, D>, cells: Option<&[u64]>) {
    if let Some(cells) = cells {
        let ids: Vec<i64> = cells.iter().map(|c| c.cast_signed()).collect();
        D::push_id_in(q, "cell", &ids);
    }
}

async fn visits<D: Dialect>(
    conn: &mut D::Connection,
    q: &mut Qb<'_, D>,
) -> Result<Vec<StoredVisit>, StoreError> {
    D::fetch_all(conn, q)
        .await?
        .iter()
        .map(|row| {
            let r = RowReader::<D>(row);
            Ok(StoredVisit::from_row((
                r.i64("track_id")?,
                r.i64("cell")?,
                r.i64("first_ms")?,
                r.i64("last_ms")?,
            )))
        })
        .collect()
}

#[async_trait]
impl<S: SqlBackend> TrackStore for S {
    async fn insert_tracks(
        &self,
        tracks: Vec<(NewTrack, Vec<StoredVisit>)>,
    ) -> Result<Vec<Inserted>, StoreError> {
        let mut tx = self.begin_write().await?;
        if matches!(S::Db::BACKEND, Backend::Postgis) {
            // A track row's lines and times are tens of KB, compressed when
            // stored: lz4 (PostgreSQL 14 and later, when built with it) does
            // it several times faster than the default pglz, which took a
            // fifth of the server's time of a day's import.
            let mut q = qb::<S::Db>(
                "select set_config('default_toast_compression', 'lz4', true) \
                 where exists (select 1 from pg_settings \
                 where name = 'default_toast_compression' and 'lz4' = any(enumvals))",
            );
            S::Db::execute(&mut tx, &mut q).await?;
        }
        let mut out = Vec::with_capacity(tracks.len());
        // the visits of every new track, written in bulk after the tracks
        let mut new_visits = Vec::with_capacity(tracks.iter().map(|(_, v)| v.len()).sum());
        for (track, visits) in &tracks {
            let (start, end) = track.span_ms();
            let mut q = qb::<S::Db>(format!(
                "insert into track ({}, {}) values (",
                S::Db::columns(&INSERT_COLUMNS, false),
                S::Db::GEOM_COLUMNS.join(", ")
            ));
            bind_list(
                &mut q,
                [
                    Arg::text(&track.officer),
                    Arg::text(&track.device),
                    Arg::text(&track.name),
                    Arg::text(&track.fingerprint),
                    time_arg(start),
                    time_arg(end),
                    point_count(track),
                    Arg::F64(Some(track.length_m)),
                    Arg::I64(Some(i64::from(track.resolution))),
                    Arg::F64(Some(track.sighting_m)),
                    Arg::Bool(Some(track.open)),
                    Arg::Json(Some(track.report.clone())),
                    Arg::I64s(segments_times(&track.segments)),
                ],
            );
            q.push(format!(", {}, ", S::Db::NOW));
            S::Db::push_shape_values(&mut q, &segments_geometry(&track.segments));
            // one round trip for a new track; a known one is looked up
            q.push(") on conflict (fingerprint) do nothing returning id");
            if let Some(row) = S::Db::fetch_optional(&mut tx, &mut q).await? {
                let id = RowReader::<S::Db>(&row).i64("id")?;
                new_visits.extend(
                    one_per_cell(visits)
                        .iter()
                        .map(|v| StoredVisit { track_id: id, ..*v }),
                );
                out.push(Inserted { id, created: true });
                continue;
            }
            let mut q = qb::<S::Db>("select id from track where fingerprint = ");
            S::Db::bind_text(&mut q, Some(track.fingerprint.clone()));
            let id = RowReader::<S::Db>(&fetch_one::<S::Db>(&mut tx, &mut q).await?).i64("id")?;
            out.push(Inserted { id, created: false });
        }
        S::Db::insert_new_visits(&mut tx, &new_visits).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn replace_track(
        &self,
        id: i64,
        revision: i64,
        track: NewTrack,
        visits: Vec<StoredVisit>,
    ) -> Result<Replaced, StoreError> {
        let mut tx = self.begin_write().await?;
        let (start, end) = track.span_ms();
        let mut q = qb::<S::Db>("update track set revision = revision + 1, ");
        let assigned = [
            ("started_at", time_arg(start)),
            ("ended_at", time_arg(end)),
            ("point_count", point_count(&track)),
            ("length_m", Arg::F64(Some(track.length_m))),
            ("open", Arg::Bool(Some(track.open))),
            ("report", Arg::Json(Some(track.report.clone()))),
            ("times_ms", Arg::I64s(segments_times(&track.segments))),
        ];
        for (col, arg) in assigned {
            q.push(format!("{} = ", S::Db::time_col(col)));
            bind(&mut q, arg);
            q.push(", ");
        }
        S::Db::push_shape_assign(&mut q, &segments_geometry(&track.segments));
        q.push(" where id = ");
        S::Db::bind_i64(&mut q, Some(id));
        q.push(" and revision = ");
        S::Db::bind_i64(&mut q, Some(revision));
        // the update locks the row until the visits are in
        if S::Db::execute(&mut tx, &mut q).await? == 0 {
            let mut q = qb::<S::Db>("select id from track where id = ");
            S::Db::bind_i64(&mut q, Some(id));
            let exists = S::Db::fetch_optional(&mut tx, &mut q).await?.is_some();
            return Ok(if exists {
                Replaced::Stale
            } else {
                Replaced::Missing
            });
        }
        insert_visits::<S::Db>(&mut tx, id, &visits).await?;
        let cells: Vec<u64> = visits.iter().map(|v| v.cell).collect();
        S::Db::keep_cell_shapes(&mut tx, &cells).await?;
        tx.commit().await?;
        Ok(Replaced::Done)
    }

    async fn list_tracks(&self, tq: &TrackQuery) -> Result<Page<TrackRecord>, StoreError> {
        let mut conn = self.sql_pool().acquire().await?;
        let mut count = qb::<S::Db>("select count(*) as n from track t");
        push_filters(&mut count, tq);
        let total =
            RowReader::<S::Db>(&fetch_one::<S::Db>(&mut conn, &mut count).await?).i64("n")?;
        let mut q = qb::<S::Db>(format!("select {} from track t", select_list::<S::Db>()));
        push_filters(&mut q, tq);
        q.push(format!(
            " order by {}, t.id limit ",
            S::Db::time_col("t.started_at")
        ));
        S::Db::bind_i64(&mut q, Some(i64::from(tq.limit)));
        q.push(" offset ");
        S::Db::bind_i64(&mut q, Some(i64::from(tq.offset)));
        let items = S::Db::fetch_all(&mut conn, &mut q)
            .await?
            .iter()
            .map(read_track::<S::Db>)
            .collect::<Result<_, _>>()?;
        Ok(Page {
            total: u64::try_from(total).unwrap_or(0),
            items,
        })
    }

    async fn get_track(&self, id: i64) -> Result<Option<TrackRecord>, StoreError> {
        let mut conn = self.sql_pool().acquire().await?;
        let mut q = qb::<S::Db>(format!(
            "select {} from track t where t.id = ",
            select_list::<S::Db>()
        ));
        S::Db::bind_i64(&mut q, Some(id));
        S::Db::fetch_optional(&mut conn, &mut q)
            .await?
            .as_ref()
            .map(read_track::<S::Db>)
            .transpose()
    }

    async fn track_visits(&self, id: i64) -> Result<Vec<StoredVisit>, StoreError> {
        let mut conn = self.sql_pool().acquire().await?;
        let mut q = qb::<S::Db>(
            "select track_id, cell, first_ms, last_ms from cell_visit where track_id = ",
        );
        S::Db::bind_i64(&mut q, Some(id));
        q.push(" order by cell");
        visits::<S::Db>(&mut conn, &mut q).await
    }

    async fn visits_between(
        &self,
        cells: Option<&[u64]>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<StoredVisit>, StoreError> {
        // A visit lies within its track's span, so the tracks of the
        // window (their time index) lead to its visits (the key's prefix).
        let mut conn = self.sql_pool().acquire().await?;
        let mut q = qb::<S::Db>(format!(
            "select track_id, cell, first_ms, last_ms from cell_visit \
             where track_id in (select t.id from track t where {} < ",
            S::Db::time_col("t.started_at")
        ));
        bind(&mut q, time_arg(to_ms));
        q.push(format!(" and {} >= ", S::Db::time_col("t.ended_at")));
        bind(&mut q, time_arg(from_ms));
        q.push(") and first_ms < ");
        S::Db::bind_i64(&mut q, Some(to_ms));
        q.push(" and last_ms >= ");
        S::Db::bind_i64(&mut q, Some(from_ms));
        push_cells(&mut q, cells);
        visits::<S::Db>(&mut conn, &mut q).await
    }

    async fn last_seen(
        &self,
        cells: Option<&[u64]>,
        before_ms: i64,
    ) -> Result<Vec<(u64, i64)>, StoreError> {
        // Per cell, a visit still going on at `before_ms` (it is seen up to
        // then), else the latest visit that ended before: probes of the
        // (cell, last_ms) index, not a read of the cell's whole history.
        let mut conn = self.sql_pool().acquire().await?;
        let mut q = if let Some(cells) = cells {
            let ids: Vec<i64> = cells.iter().map(|c| c.cast_signed()).collect();
            let mut q = qb::<S::Db>("select ids.id as cell, coalesce((select ");
            S::Db::bind_i64(&mut q, Some(before_ms - 1));
            q.push(" from cell_visit v where v.cell = ids.id and v.last_ms >= ");
            S::Db::bind_i64(&mut q, Some(before_ms));
            q.push(" and v.first_ms < ");
            S::Db::bind_i64(&mut q, Some(before_ms));
            q.push(
                " limit 1), (select max(v.last_ms) from cell_visit v \
                     where v.cell = ids.id and v.last_ms < ",
            );
            S::Db::bind_i64(&mut q, Some(before_ms));
            q.push(")) as seen from ");
            S::Db::push_id_rows(&mut q, &ids);
            q
        } else {
            let mut q = qb::<S::Db>(format!("select cell, max({}(last_ms, ", S::Db::LEAST));
            S::Db::bind_i64(&mut q, Some(before_ms - 1));
            q.push(")) as seen from cell_visit where first_ms < ");
            S::Db::bind_i64(&mut q, Some(before_ms));
            q.push(" group by cell");
            q
        };
        let mut out = Vec::new();
        for row in &S::Db::fetch_all(&mut conn, &mut q).await? {
            if let Some(seen) = S::Db::get_i64(row, "seen")? {
                out.push((RowReader::<S::Db>(row).i64("cell")?.cast_unsigned(), seen));
            }
        }
        Ok(out)
    }
}
