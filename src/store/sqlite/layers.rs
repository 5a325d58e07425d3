//! The layer tables (the [`Store`] operations) on the embedded SQLite store.

use super::SqliteStore;
use crate::domain::ImportSummary;
use crate::spatial::{geometry_from_geojson, geometry_to_geojson};
use crate::store::layer::ColType;
use crate::store::{Backend, Layer, ListQuery, Page, Progress, Record, Store, StoreError, Value};
use async_trait::async_trait;
use chrono::NaiveDate;
use geo::{BoundingRect, Intersects};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use std::fmt::Write as _;

fn select_list(layer: Layer) -> String {
    let mut s = String::from("t.id");
    for c in layer.columns() {
        let _ = write!(s, ", t.{}", c.name);
    }
    s.push_str(", t.geom");
    if layer.has_cells() {
        s.push_str(", (select group_concat(cell) from (select cell from grid_cell gc where gc.grid_id = t.id order by cell)) as cells");
    }
    s
}

fn read_row(layer: Layer, row: &SqliteRow) -> Result<Record, StoreError> {
    let mut values = Vec::with_capacity(layer.columns().len());
    for c in layer.columns() {
        let n = c.name;
        values.push(match c.ty {
            ColType::Text => Value::Text(row.try_get(n)?),
            ColType::OptText => Value::OptText(row.try_get(n)?),
            ColType::Int => Value::Int(row.try_get(n)?),
            ColType::OptReal => Value::OptReal(row.try_get(n)?),
            ColType::Bool => Value::Bool(row.try_get(n)?),
            ColType::Date => {
                let s: Option<String> = row.try_get(n)?;
                Value::Date(
                    s.map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d"))
                        .transpose()
                        .map_err(|e| StoreError::Corrupt(format!("{n}: {e}")))?,
                )
            }
            ColType::Json => {
                let s: String = row.try_get(n)?;
                Value::Json(
                    serde_json::from_str(&s)
                        .map_err(|e| StoreError::Corrupt(format!("{n}: {e}")))?,
                )
            }
        });
    }
    let geometry = row
        .try_get::<Option<String>, _>("geom")?
        .map(|s| geometry_from_geojson(&s).map_err(StoreError::Corrupt))
        .transpose()?;
    let cells = if layer.has_cells() {
        let s: Option<String> = row.try_get("cells")?;
        s.unwrap_or_default()
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| p.parse::<i64>().map(i64::cast_unsigned))
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Corrupt(format!("cells: {e}")))?
    } else {
        Vec::new()
    };
    Ok(Record {
        id: row.try_get("id")?,
        values,
        geometry,
        cells,
    })
}

fn push_value(qb: &mut QueryBuilder<'_, Sqlite>, v: &Value) {
    match v {
        Value::Text(s) => qb.push_bind(s.clone()),
        Value::OptText(s) => qb.push_bind(s.clone()),
        Value::Int(i) => qb.push_bind(*i),
        Value::OptReal(r) => qb.push_bind(*r),
        Value::Bool(b) => qb.push_bind(*b),
        Value::Date(d) => qb.push_bind(d.map(|d| d.format("%Y-%m-%d").to_string())),
        Value::Json(j) => qb.push_bind(j.to_string()),
    };
}

/// The geometry as GeoJSON and its bbox, in column order `geom, min_lon, min_lat, max_lon, max_lat`.
fn geom_values(g: Option<&geo::Geometry<f64>>) -> (Option<String>, [Option<f64>; 4]) {
    match g {
        None => (None, [None; 4]),
        Some(g) => {
            let bbox = g.bounding_rect().map_or([None; 4], |r| {
                [
                    Some(r.min().x),
                    Some(r.min().y),
                    Some(r.max().x),
                    Some(r.max().y),
                ]
            });
            (Some(geometry_to_geojson(g)), bbox)
        }
    }
}

const GEOM_COLUMNS: [&str; 5] = ["geom", "min_lon", "min_lat", "max_lon", "max_lat"];

fn push_geom_values(qb: &mut QueryBuilder<'_, Sqlite>, g: Option<&geo::Geometry<f64>>, sep: &str) {
    let (json, bbox) = geom_values(g);
    qb.push_bind(json);
    for b in bbox {
        qb.push(sep);
        qb.push_bind(b);
    }
}

async fn insert_row(
    conn: &mut sqlx::SqliteConnection,
    layer: Layer,
    record: &Record,
) -> Result<i64, StoreError> {
    let mut cols: Vec<&str> = layer.columns().iter().map(|c| c.name).collect();
    cols.extend(GEOM_COLUMNS);
    let mut qb = QueryBuilder::<Sqlite>::new(format!(
        "insert into {} ({}) values (",
        layer.table(),
        cols.join(", ")
    ));
    for v in &record.values {
        push_value(&mut qb, v);
        qb.push(", ");
    }
    push_geom_values(&mut qb, record.geometry.as_ref(), ", ");
    qb.push(") returning id");
    let id: i64 = qb
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| crate::store::write_error(e, record))?;
    replace_cells(conn, layer, id, record).await?;
    Ok(id)
}

async fn update_row(
    conn: &mut sqlx::SqliteConnection,
    layer: Layer,
    id: i64,
    record: &Record,
) -> Result<bool, StoreError> {
    let t = layer.table();
    let mut qb = QueryBuilder::<Sqlite>::new(format!("update {t} set "));
    for (c, v) in layer.columns().iter().zip(&record.values) {
        qb.push(format!("{} = ", c.name));
        push_value(&mut qb, v);
        qb.push(", ");
    }
    let (json, bbox) = geom_values(record.geometry.as_ref());
    qb.push("geom = ");
    qb.push_bind(json.clone());
    for (name, b) in GEOM_COLUMNS[1..].iter().zip(bbox) {
        qb.push(format!(", {name} = "));
        qb.push_bind(b);
    }
    if layer.has_updated_at() {
        qb.push(", updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')");
    }
    qb.push(" where id = ");
    qb.push_bind(id);
    // leave identical rows alone, so a repeated import changes nothing
    qb.push(" and (");
    for (i, (c, v)) in layer.columns().iter().zip(&record.values).enumerate() {
        if i > 0 {
            qb.push(" or ");
        }
        qb.push(format!("{t}.{} is not ", c.name));
        push_value(&mut qb, v);
    }
    qb.push(format!(" or {t}.geom is not "));
    qb.push_bind(json);
    qb.push(")");
    let n = qb
        .build()
        .execute(&mut *conn)
        .await
        .map_err(|e| crate::store::write_error(e, record))?
        .rows_affected();
    if n > 0 {
        replace_cells(conn, layer, id, record).await?;
    }
    Ok(n > 0)
}

async fn replace_cells(
    conn: &mut sqlx::SqliteConnection,
    layer: Layer,
    id: i64,
    record: &Record,
) -> Result<(), StoreError> {
    if !layer.has_cells() {
        return Ok(());
    }
    sqlx::query("delete from grid_cell where grid_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for chunk in record.cells.chunks(400) {
        let mut qb = QueryBuilder::<Sqlite>::new("insert into grid_cell (grid_id, cell) ");
        qb.push_values(chunk, |mut b, c| {
            b.push_bind(id).push_bind(c.cast_signed());
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

fn push_filters(
    qb: &mut QueryBuilder<'_, Sqlite>,
    layer: Layer,
    q: &ListQuery,
    bbox: Option<[f64; 4]>,
) {
    qb.push(" where 1");
    if let Some([a, b, c, d]) = bbox {
        qb.push(" and t.min_lon <= ");
        qb.push_bind(c);
        qb.push(" and t.max_lon >= ");
        qb.push_bind(a);
        qb.push(" and t.min_lat <= ");
        qb.push_bind(d);
        qb.push(" and t.max_lat >= ");
        qb.push_bind(b);
    }
    if let (Some(towns), Some(c)) = (&q.towns, layer.town_column()) {
        qb.push(format!(" and t.{c} in ("));
        let mut sep = qb.separated(", ");
        for town in towns {
            sep.push_bind(town.clone());
        }
        sep.push_unseparated(")");
        if towns.is_empty() {
            qb.push(" and 0");
        }
    }
    for (c, v) in &q.eq {
        if layer.has_column(c) {
            qb.push(format!(" and cast(t.{c} as text) = "));
            qb.push_bind(v.clone());
        }
    }
    if let Some(ids) = &q.ids {
        push_in(qb, "t.id", ids.iter().map(|i| Value::Int(*i)));
    }
    if let Some(codes) = &q.codes {
        push_in(qb, "t.code", codes.iter().map(|c| Value::Text(c.clone())));
    }
}

/// ` and COL in (v, ...)`; an empty list matches nothing.
fn push_in(qb: &mut QueryBuilder<'_, Sqlite>, col: &str, values: impl Iterator<Item = Value>) {
    let values: Vec<Value> = values.collect();
    if values.is_empty() {
        qb.push(" and 0");
        return;
    }
    qb.push(format!(" and {col} in ("));
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        push_value(qb, v);
    }
    qb.push(")");
}

impl SqliteStore {
    /// The outlines of some grids, for the spatial filter of a grid scope.
    async fn grid_shapes(&self, grids: &[String]) -> Result<Vec<geo::Geometry<f64>>, StoreError> {
        if grids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Sqlite>::new(
            "select geom from grid where geom is not null and code in (",
        );
        let mut sep = qb.separated(", ");
        for g in grids {
            sep.push_bind(g.clone());
        }
        sep.push_unseparated(")");
        let rows: Vec<String> = qb.build_query_scalar().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|s| geometry_from_geojson(s).map_err(StoreError::Corrupt))
            .collect()
    }

    /// The union bbox and geometries of some towns, for the spatial filter.
    async fn town_shapes(&self, towns: &[String]) -> Result<Vec<geo::Geometry<f64>>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new("select geom from town where code in (");
        let mut sep = qb.separated(", ");
        for t in towns {
            sep.push_bind(t.clone());
        }
        sep.push_unseparated(")");
        if towns.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<String> = qb.build_query_scalar().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|s| geometry_from_geojson(s).map_err(StoreError::Corrupt))
            .collect()
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map_err(StoreError::Unavailable)?;
        Ok(())
    }

    async fn upsert(
        &self,
        layer: Layer,
        records: Vec<Record>,
        progress: Progress<'_>,
    ) -> Result<ImportSummary, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut summary = ImportSummary::default();
        let select = format!("select id from {} where code = ?", layer.table());
        for (i, record) in records.iter().enumerate() {
            let code = record
                .code()
                .ok_or_else(|| StoreError::Corrupt("record without a code".into()))?;
            let existing: Option<i64> = sqlx::query_scalar(&select)
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?;
            match existing {
                None => {
                    insert_row(&mut tx, layer, record).await?;
                    summary.inserted += 1;
                }
                Some(id) => {
                    if update_row(&mut tx, layer, id, record).await? {
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
        let spatial_towns = match (&q.towns, layer.town_column()) {
            (Some(towns), None) => Some(self.town_shapes(towns).await?),
            _ => None,
        };
        let grid_shapes = match &q.grids {
            Some(g) => Some(self.grid_shapes(g).await?),
            None => None,
        };
        // the grids' extent narrows the rows read when no bbox was asked
        let bbox = q
            .bbox
            .map(|b| [b.min_lon(), b.min_lat(), b.max_lon(), b.max_lat()])
            .or_else(|| {
                let rects = grid_shapes
                    .as_ref()?
                    .iter()
                    .filter_map(BoundingRect::bounding_rect);
                rects.fold(None, |acc: Option<[f64; 4]>, r| {
                    let (lo, hi) = (r.min(), r.max());
                    Some(acc.map_or([lo.x, lo.y, hi.x, hi.y], |e| {
                        [
                            e[0].min(lo.x),
                            e[1].min(lo.y),
                            e[2].max(hi.x),
                            e[3].max(hi.y),
                        ]
                    }))
                })
            });
        if spatial_towns.is_some() || grid_shapes.is_some() {
            let in_any = |shapes: &Option<Vec<geo::Geometry<f64>>>, g: &geo::Geometry<f64>| {
                shapes
                    .as_ref()
                    .is_none_or(|s| s.iter().any(|s| s.intersects(g)))
            };
            // filter exactly in Rust, then page
            let mut qb = QueryBuilder::<Sqlite>::new(format!(
                "select {} from {} t",
                select_list(layer),
                layer.table()
            ));
            push_filters(&mut qb, layer, q, bbox);
            qb.push(" order by t.id");
            let rows = qb.build().fetch_all(&self.pool).await?;
            let mut all = Vec::new();
            for r in &rows {
                let rec = read_row(layer, r)?;
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
        let mut count =
            QueryBuilder::<Sqlite>::new(format!("select count(*) from {} t", layer.table()));
        push_filters(&mut count, layer, q, bbox);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "select {} from {} t",
            select_list(layer),
            layer.table()
        ));
        push_filters(&mut qb, layer, q, bbox);
        qb.push(" order by t.id limit ");
        qb.push_bind(i64::from(q.limit));
        qb.push(" offset ");
        qb.push_bind(i64::from(q.offset));
        let rows = qb.build().fetch_all(&self.pool).await?;
        let items = rows
            .iter()
            .map(|r| read_row(layer, r))
            .collect::<Result<_, _>>()?;
        Ok(Page {
            total: u64::try_from(total).unwrap_or(0),
            items,
        })
    }

    async fn get(&self, layer: Layer, id: i64) -> Result<Option<Record>, StoreError> {
        let sql = format!(
            "select {} from {} t where t.id = ?",
            select_list(layer),
            layer.table()
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| read_row(layer, &r)).transpose()
    }

    async fn insert(&self, layer: Layer, record: Record) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id = insert_row(&mut tx, layer, &record).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update(&self, layer: Layer, id: i64, record: Record) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let exists: Option<i64> =
            sqlx::query_scalar(&format!("select id from {} where id = ?", layer.table()))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Ok(false);
        }
        update_row(&mut tx, layer, id, &record).await?;
        tx.commit().await?;
        Ok(true)
    }
}
