//! The layer tables (the [`Store`] operations) on PostGIS.

use super::PostgisStore;
use crate::domain::ImportSummary;
use crate::spatial::{geometry_from_geojson, geometry_to_geojson};
use crate::store::layer::{ColType, GeomKind};
use crate::store::{Backend, Layer, ListQuery, Page, Progress, Record, Store, StoreError, Value};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use std::fmt::Write as _;

/// The select list of a layer: id, typed columns, geometry as GeoJSON.
fn select_list(layer: Layer) -> String {
    let mut s = String::from("t.id");
    for c in layer.columns() {
        match c.ty {
            // integer/smallint columns are read as bigint so one type decodes all
            ColType::Int => {
                let _ = write!(s, ", t.{}::bigint as {}", c.name, c.name);
            }
            _ => {
                let _ = write!(s, ", t.{}", c.name);
            }
        }
    }
    s.push_str(", st_asgeojson(t.geom, 9) as geom");
    if layer.has_cells() {
        s.push_str(
            ", array(select cell from grid_cell gc where gc.grid_id = t.id order by cell) as cells",
        );
    }
    s
}

fn read_row(layer: Layer, row: &PgRow) -> Result<Record, StoreError> {
    let mut values = Vec::with_capacity(layer.columns().len());
    for c in layer.columns() {
        let n = c.name;
        values.push(match c.ty {
            ColType::Text => Value::Text(row.try_get(n)?),
            ColType::OptText => Value::OptText(row.try_get(n)?),
            ColType::Int => Value::Int(row.try_get(n)?),
            ColType::OptReal => Value::OptReal(row.try_get(n)?),
            ColType::Bool => Value::Bool(row.try_get(n)?),
            ColType::Date => Value::Date(row.try_get(n)?),
            ColType::Json => Value::Json(row.try_get(n)?),
        });
    }
    let geometry = row
        .try_get::<Option<String>, _>("geom")?
        .map(|s| geometry_from_geojson(&s).map_err(StoreError::Corrupt))
        .transpose()?;
    let cells = if layer.has_cells() {
        let cells: Vec<i64> = row.try_get("cells")?;
        cells.into_iter().map(i64::cast_unsigned).collect()
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

fn push_value(qb: &mut QueryBuilder<'_, Postgres>, v: &Value) {
    match v {
        Value::Text(s) => qb.push_bind(s.clone()),
        Value::OptText(s) => qb.push_bind(s.clone()),
        Value::Int(i) => qb.push_bind(*i),
        Value::OptReal(r) => qb.push_bind(*r),
        Value::Bool(b) => qb.push_bind(*b),
        Value::Date(d) => qb.push_bind(*d),
        Value::Json(j) => qb.push_bind(j.clone()),
    };
}

fn push_geom(qb: &mut QueryBuilder<'_, Postgres>, layer: Layer, g: Option<&geo::Geometry<f64>>) {
    let json = g.map(geometry_to_geojson);
    match layer.geom_kind() {
        GeomKind::MultiPolygon | GeomKind::OptMultiPolygon => {
            qb.push("st_multi(st_setsrid(st_geomfromgeojson(");
            qb.push_bind(json);
            qb.push("), 4326))");
        }
        GeomKind::Site => {
            qb.push("st_setsrid(st_geomfromgeojson(");
            qb.push_bind(json);
            qb.push("), 4326)");
        }
    }
}

/// `col1, col2, ..., geom`
fn column_list(layer: Layer) -> String {
    let mut s: Vec<&str> = layer.columns().iter().map(|c| c.name).collect();
    s.push("geom");
    s.join(", ")
}

async fn insert_row(
    conn: &mut sqlx::PgConnection,
    layer: Layer,
    record: &Record,
) -> Result<i64, StoreError> {
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "insert into {} ({}) values (",
        layer.table(),
        column_list(layer)
    ));
    for v in &record.values {
        push_value(&mut qb, v);
        qb.push(", ");
    }
    push_geom(&mut qb, layer, record.geometry.as_ref());
    qb.push(") returning id");
    let id: i64 = qb
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| crate::store::write_error(e, record))?;
    replace_cells(conn, layer, id, record).await?;
    Ok(id)
}

/// Updates row `id` when any value differs; returns whether it did.
async fn update_row(
    conn: &mut sqlx::PgConnection,
    layer: Layer,
    id: i64,
    record: &Record,
) -> Result<bool, StoreError> {
    let t = layer.table();
    let mut qb = QueryBuilder::<Postgres>::new(format!("update {t} set "));
    for (c, v) in layer.columns().iter().zip(&record.values) {
        qb.push(format!("{} = ", c.name));
        push_value(&mut qb, v);
        qb.push(", ");
    }
    qb.push("geom = ");
    push_geom(&mut qb, layer, record.geometry.as_ref());
    if layer.has_updated_at() {
        qb.push(", updated_at = now()");
    }
    qb.push(" where id = ");
    qb.push_bind(id);
    // leave identical rows alone, so a repeated import changes nothing
    qb.push(format!(
        " and ({}) is distinct from (",
        layer
            .columns()
            .iter()
            .map(|c| format!("{t}.{}", c.name))
            .collect::<Vec<_>>()
            .join(", ")
            + ", "
            + t
            + ".geom"
    ));
    for v in &record.values {
        push_value(&mut qb, v);
        qb.push(", ");
    }
    push_geom(&mut qb, layer, record.geometry.as_ref());
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
    conn: &mut sqlx::PgConnection,
    layer: Layer,
    id: i64,
    record: &Record,
) -> Result<(), StoreError> {
    if !layer.has_cells() {
        return Ok(());
    }
    sqlx::query("delete from grid_cell where grid_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let cells: Vec<i64> = record.cells.iter().map(|c| c.cast_signed()).collect();
    sqlx::query("insert into grid_cell (grid_id, cell) select $1, unnest($2::bigint[])")
        .bind(id)
        .bind(cells)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn push_filters(qb: &mut QueryBuilder<'_, Postgres>, layer: Layer, q: &ListQuery) {
    qb.push(" where true");
    if let Some(b) = &q.bbox {
        qb.push(" and t.geom && st_makeenvelope(");
        qb.push_bind(b.min_lon());
        qb.push(", ");
        qb.push_bind(b.min_lat());
        qb.push(", ");
        qb.push_bind(b.max_lon());
        qb.push(", ");
        qb.push_bind(b.max_lat());
        qb.push(", 4326)");
    }
    if let Some(towns) = &q.towns {
        if let Some(c) = layer.town_column() {
            qb.push(format!(" and t.{c} = any("));
            qb.push_bind(towns.clone());
            qb.push(")");
        } else {
            qb.push(" and exists (select 1 from town tw where tw.code = any(");
            qb.push_bind(towns.clone());
            qb.push(") and tw.geom && t.geom and st_intersects(tw.geom, t.geom))");
        }
    }
    for (c, v) in &q.eq {
        if layer.has_column(c) {
            qb.push(format!(" and t.{c}::text = "));
            qb.push_bind(v.clone());
        }
    }
    if let Some(ids) = &q.ids {
        qb.push(" and t.id = any(");
        qb.push_bind(ids.clone());
        qb.push(")");
    }
    if let Some(codes) = &q.codes {
        qb.push(" and t.code = any(");
        qb.push_bind(codes.clone());
        qb.push(")");
    }
    if let Some(grids) = &q.grids {
        qb.push(" and exists (select 1 from grid g where g.code = any(");
        qb.push_bind(grids.clone());
        qb.push(") and g.geom && t.geom and st_intersects(g.geom, t.geom))");
    }
}

#[async_trait]
impl Store for PostgisStore {
    fn backend(&self) -> Backend {
        Backend::Postgis
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
        let select = format!("select id from {} where code = $1", layer.table());
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
        let mut count =
            QueryBuilder::<Postgres>::new(format!("select count(*) from {} t", layer.table()));
        push_filters(&mut count, layer, q);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;

        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "select {} from {} t",
            select_list(layer),
            layer.table()
        ));
        push_filters(&mut qb, layer, q);
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
            "select {} from {} t where t.id = $1",
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
        let exists: Option<i64> = sqlx::query_scalar(&format!(
            "select id from {} where id = $1 for update",
            layer.table()
        ))
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
