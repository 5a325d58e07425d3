//! The layer tables ([`Store`]) on every SQL backend: the upsert loop by
//! natural key, inserts and updates that leave identical rows alone, the
//! grid cells of a grid, and the filtered, paged lists. Where a dialect
//! cannot answer the spatial filters in SQL, the rows its bbox prefilter
//! lets through are filtered exactly here, in Rust, before paging.

use async_trait::async_trait;
use geo::{BoundingRect, Intersects};

use super::{Dialect, Qb, RowReader, SqlBackend, fetch_one, qb};
use crate::domain::ImportSummary;
use crate::spatial::geometry_from_geojson;
use crate::store::{
    Backend, Layer, ListQuery, Page, Progress, Record, RouteStore, Store, StoreError, TrackStore,
    write_error,
};

fn read_row<D: Dialect>(layer: Layer, row: &D::Row) -> Result<Record, StoreError> {
    let values = layer
        .columns()
        .iter()
        .map(|c| D::get_value(row, c.name, c.ty))
        .collect::<Result<_, _>>()?;
    let geometry = D::get_text(row, "geom")?
        .map(|s| geometry_from_geojson(&s).map_err(StoreError::Corrupt))
        .transpose()?;
    let cells = if layer.has_cells() {
        D::get_cells(row)?
    } else {
        Vec::new()
    };
    Ok(Record {
        id: RowReader::<D>(row).i64("id")?,
        values,
        geometry,
        cells,
    })
}

async fn insert_row<D: Dialect>(
    conn: &mut D::Connection,
    layer: Layer,
    record: &Record,
) -> Result<i64, StoreError> {
    let mut cols: Vec<&str> = layer.columns().iter().map(|c| c.name).collect();
    cols.extend(D::GEOM_COLUMNS);
    let mut q = qb::<D>(format!(
        "insert into {} ({}) values (",
        layer.table(),
        cols.join(", ")
    ));
    for v in &record.values {
        D::bind_value(&mut q, v);
        q.push(", ");
    }
    D::push_geom_values(&mut q, layer, record.geometry.as_ref());
    q.push(") returning id");
    let row = fetch_one::<D>(conn, &mut q)
        .await
        .map_err(|e| write_error(e, record))?;
    let id = RowReader::<D>(&row).i64("id")?;
    replace_cells::<D>(conn, layer, id, record).await?;
    Ok(id)
}

/// Updates row `id` when any value differs; returns whether it did.
async fn update_row<D: Dialect>(
    conn: &mut D::Connection,
    layer: Layer,
    id: i64,
    record: &Record,
) -> Result<bool, StoreError> {
    let t = layer.table();
    let mut q = qb::<D>(format!("update {t} set "));
    for (c, v) in layer.columns().iter().zip(&record.values) {
        q.push(format!("{} = ", c.name));
        D::bind_value(&mut q, v);
        q.push(", ");
    }
    D::push_geom_assign(&mut q, layer, record.geometry.as_ref());
    if layer.has_updated_at() {
        q.push(format!(", {} = {}", D::time_col("updated_at"), D::NOW));
    }
    q.push(" where id = ");
    D::bind_i64(&mut q, Some(id));
    // leave identical rows alone, so a repeated import changes nothing
    let mut stored: Vec<String> = layer
        .columns()
        .iter()
        .map(|c| format!("{t}.{}", c.name))
        .collect();
    stored.push(format!("{t}.geom"));
    q.push(format!(" and ({}){}(", stored.join(", "), D::DISTINCT));
    for v in &record.values {
        D::bind_value(&mut q, v);
        q.push(", ");
    }
    D::push_geom_compared(&mut q, layer, record.geometry.as_ref());
    q.push(")");
    let n = D::execute(conn, &mut q)
        .await
        .map_err(|e| write_error(e, record))?;
    if n > 0 {
        replace_cells::<D>(conn, layer, id, record).await?;
    }
    Ok(n > 0)
}

async fn replace_cells<D: Dialect>(
    conn: &mut D::Connection,
    layer: Layer,
    id: i64,
    record: &Record,
) -> Result<(), StoreError> {
    if !layer.has_cells() {
        return Ok(());
    }
    let mut q = qb::<D>("delete from grid_cell where grid_id = ");
    D::bind_i64(&mut q, Some(id));
    D::execute(conn, &mut q).await?;
    for chunk in record.cells.chunks(400) {
        let mut q = qb::<D>("insert into grid_cell (grid_id, cell) values ");
        for (i, c) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            D::bind_i64(&mut q, Some(id));
            q.push(", ");
            D::bind_i64(&mut q, Some(c.cast_signed()));
            q.push(")");
        }
        D::execute(conn, &mut q).await?;
    }
    D::keep_cell_shapes(conn, &record.cells).await?;
    Ok(())
}

/// ` and` the features of `alias` intersect one of `table`'s rows by code.
fn push_intersecting<D: Dialect>(qb: &mut Qb<'_, D>, table: &str, codes: &[String]) {
    qb.push(format!(
        " and exists (select 1 from {table} s where {}",
        D::WHERE_ALL
    ));
    D::push_text_in(qb, "s.code", codes);
    qb.push(" and s.geom && t.geom and st_intersects(s.geom, t.geom))");
}

fn push_filters<D: Dialect>(
    qb: &mut Qb<'_, D>,
    layer: Layer,
    q: &ListQuery,
    bbox: Option<[f64; 4]>,
) {
    qb.push(format!(" where {}", D::WHERE_ALL));
    if let Some(b) = bbox {
        D::push_bbox(qb, b);
    }
    if let Some(towns) = &q.towns {
        match layer.town_column() {
            Some(c) => D::push_text_in(qb, &format!("t.{c}"), towns),
            None if D::SPATIAL_SQL => push_intersecting(qb, "town", towns),
            None => {}
        }
    }
    for (c, v) in &q.eq {
        if layer.has_column(c) {
            qb.push(format!(" and cast(t.{c} as text) = "));
            D::bind_text(qb, Some(v.clone()));
        }
    }
    if let Some(ids) = &q.ids {
        D::push_id_in(qb, "t.id", ids);
    }
    if let Some(codes) = &q.codes {
        D::push_text_in(qb, "t.code", codes);
    }
    if let (Some(grids), true) = (&q.grids, D::SPATIAL_SQL) {
        push_intersecting(qb, "grid", grids);
    }
}

/// The outlines of some towns or grids, for a spatial filter in Rust.
async fn shapes<D: Dialect>(
    conn: &mut D::Connection,
    table: &str,
    codes: &[String],
) -> Result<Vec<geo::Geometry<f64>>, StoreError> {
    let mut q = qb::<D>(format!("select geom from {table} where geom is not null"));
    D::push_text_in(&mut q, "code", codes);
    D::fetch_all(conn, &mut q)
        .await?
        .iter()
        .filter_map(|r| D::get_text(r, "geom").transpose())
        .map(|s| s.and_then(|s| geometry_from_geojson(&s).map_err(StoreError::Corrupt)))
        .collect()
}

/// The extent of some shapes.
fn extent(shapes: &[geo::Geometry<f64>]) -> Option<[f64; 4]> {
    shapes
        .iter()
        .filter_map(BoundingRect::bounding_rect)
        .fold(None, |acc, r| {
            let (lo, hi) = (r.min(), r.max());
            Some(acc.map_or([lo.x, lo.y, hi.x, hi.y], |e: [f64; 4]| {
                [
                    e[0].min(lo.x),
                    e[1].min(lo.y),
                    e[2].max(hi.x),
                    e[3].max(hi.y),
                ]
            }))
        })
}

async fn list<D: Dialect>(
    conn: &mut D::Connection,
    layer: Layer,
    q: &ListQuery,
) -> Result<Page<Record>, StoreError> {
    let select = format!("select {} from {} t", D::layer_select(layer), layer.table());
    let in_rust = !D::SPATIAL_SQL;
    let spatial_towns = match (&q.towns, layer.town_column()) {
        (Some(towns), None) if in_rust => Some(shapes::<D>(conn, "town", towns).await?),
        _ => None,
    };
    let grid_shapes = match &q.grids {
        Some(g) if in_rust => Some(shapes::<D>(conn, "grid", g).await?),
        _ => None,
    };
    // the grids' extent narrows the rows read when no bbox was asked
    let bbox = q
        .bbox
        .map(|b| [b.min_lon(), b.min_lat(), b.max_lon(), b.max_lat()])
        .or_else(|| extent(grid_shapes.as_deref()?));
    if spatial_towns.is_some() || grid_shapes.is_some() {
        let in_any = |shapes: &Option<Vec<geo::Geometry<f64>>>, g: &geo::Geometry<f64>| {
            shapes
                .as_ref()
                .is_none_or(|s| s.iter().any(|s| s.intersects(g)))
        };
        // filter exactly in Rust, then page
        let mut b = qb::<D>(select);
        push_filters(&mut b, layer, q, bbox);
        b.push(" order by t.id");
        let mut all = Vec::new();
        for r in &D::fetch_all(conn, &mut b).await? {
            let rec = read_row::<D>(layer, r)?;
            if rec
                .geometry
                .as_ref()
                .is_some_and(|g| in_any(&spatial_towns, g) && in_any(&grid_shapes, g))
            {
                all.push(rec);
            }
        }
        let total = all.len() as u64;
        let items = all
            .into_iter()
            .skip(q.offset as usize)
            .take(q.limit as usize)
            .collect();
        return Ok(Page { total, items });
    }
    let mut count = qb::<D>(format!("select count(*) as n from {} t", layer.table()));
    push_filters(&mut count, layer, q, bbox);
    let total = RowReader::<D>(&fetch_one::<D>(conn, &mut count).await?).i64("n")?;
    let mut b = qb::<D>(select);
    push_filters(&mut b, layer, q, bbox);
    b.push(" order by t.id limit ");
    D::bind_i64(&mut b, Some(i64::from(q.limit)));
    b.push(" offset ");
    D::bind_i64(&mut b, Some(i64::from(q.offset)));
    let items = D::fetch_all(conn, &mut b)
        .await?
        .iter()
        .map(|r| read_row::<D>(layer, r))
        .collect::<Result<_, _>>()?;
    Ok(Page {
        total: u64::try_from(total).unwrap_or(0),
        items,
    })
}

#[async_trait]
impl<S: SqlBackend + TrackStore + RouteStore> Store for S {
    fn backend(&self) -> Backend {
        S::Db::BACKEND
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self
            .sql_pool()
            .acquire()
            .await
            .map_err(StoreError::Unavailable)?;
        S::Db::execute(&mut c, &mut qb("select 1"))
            .await
            .map_err(StoreError::Unavailable)?;
        drop(c);
        // reachable; whether it takes writes only a committed write shows
        let probe = async {
            let mut tx = self.begin_write().await?;
            let mut q = qb::<S::Db>(format!(
                "update service_probe set {} = {} where id = 1",
                S::Db::time_col("at"),
                S::Db::NOW
            ));
            S::Db::execute(&mut tx, &mut q).await?;
            tx.commit().await
        };
        match tokio::time::timeout(std::time::Duration::from_secs(5), probe).await {
            Ok(done) => Ok(done?),
            Err(_) => Err(StoreError::Busy("the write probe waited 5 s".to_owned())),
        }
    }

    async fn data_version(&self) -> Result<i64, StoreError> {
        if let Some(v) = self.version_watch().and_then(|w| w.get()) {
            return Ok(v);
        }
        let mut c = self.sql_pool().acquire().await?;
        let mut q = qb::<S::Db>("select version from data_version where id = 1");
        let v = RowReader::<S::Db>(&fetch_one::<S::Db>(&mut c, &mut q).await?).i64("version")?;
        if let Some(w) = self.version_watch() {
            w.read(v);
        }
        Ok(v)
    }

    async fn upsert(
        &self,
        layer: Layer,
        records: Vec<Record>,
        progress: Progress<'_>,
    ) -> Result<ImportSummary, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut summary = ImportSummary::default();
        for (i, record) in records.iter().enumerate() {
            let code = record
                .code()
                .ok_or_else(|| StoreError::Corrupt("record without a code".into()))?;
            let mut q = qb::<S::Db>(format!("select id from {} where code = ", layer.table()));
            S::Db::bind_text(&mut q, Some(code.to_owned()));
            let existing = S::Db::fetch_optional(&mut tx, &mut q).await?;
            match existing {
                None => {
                    insert_row::<S::Db>(&mut tx, layer, record).await?;
                    summary.inserted += 1;
                }
                Some(row) => {
                    let id = RowReader::<S::Db>(&row).i64("id")?;
                    if update_row::<S::Db>(&mut tx, layer, id, record).await? {
                        summary.updated += 1;
                    } else {
                        summary.unchanged += 1;
                    }
                }
            }
            progress(i as u64 + 1);
        }
        tx.commit().await?;
        Ok(summary)
    }

    async fn list(&self, layer: Layer, q: &ListQuery) -> Result<Page<Record>, StoreError> {
        let mut c = self.sql_pool().acquire().await?;
        list::<S::Db>(&mut c, layer, q).await
    }

    async fn get(&self, layer: Layer, id: i64) -> Result<Option<Record>, StoreError> {
        let mut c = self.sql_pool().acquire().await?;
        let mut q = qb::<S::Db>(format!(
            "select {} from {} t where t.id = ",
            S::Db::layer_select(layer),
            layer.table()
        ));
        S::Db::bind_i64(&mut q, Some(id));
        let row = S::Db::fetch_optional(&mut c, &mut q).await?;
        row.map(|r| read_row::<S::Db>(layer, &r)).transpose()
    }

    async fn insert(&self, layer: Layer, record: Record) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_row::<S::Db>(&mut tx, layer, &record).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update(&self, layer: Layer, id: i64, record: Record) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut q = qb::<S::Db>(format!("select id from {} where id = ", layer.table()));
        S::Db::bind_i64(&mut q, Some(id));
        q.push(S::Db::FOR_UPDATE);
        if S::Db::fetch_optional(&mut tx, &mut q).await?.is_none() {
            return Ok(false);
        }
        update_row::<S::Db>(&mut tx, layer, id, &record).await?;
        tx.commit().await?;
        Ok(true)
    }
}
