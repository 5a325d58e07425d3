//! [`RouteStore`] on the embedded SQLite store.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::SqliteStore;
use crate::spatial::{LonLat, geometry_from_geojson, geometry_to_geojson};
use crate::store::routes::{
    Adherence, NewRoute, RoadEdgeRow, RoadNetworkInfo, RoadRows, RouteQuery, RouteRecord,
    RouteStopRow, RouteStore, edge_kind,
};
use crate::store::{Page, StoreError};

/// Rows per statement of a bulk insert (well under SQLite's bind limit).
const CHUNK: usize = 500;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn index(i: usize) -> Result<i64, StoreError> {
    i64::try_from(i).map_err(corrupt)
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn read_info(row: &SqliteRow) -> Result<RoadNetworkInfo, StoreError> {
    Ok(RoadNetworkInfo {
        version: row.try_get("id")?,
        source: row.try_get("source")?,
        imported_at: time(row.try_get("imported_ms")?),
        nodes: row.try_get("node_count")?,
        edges: row.try_get("edge_count")?,
        length_m: row.try_get("length_m")?,
    })
}

const INFO_COLUMNS: &str = "id, source, imported_ms, node_count, edge_count, length_m";

fn line_of(text: &str) -> Result<geo::LineString<f64>, StoreError> {
    match geometry_from_geojson(text).map_err(StoreError::Corrupt)? {
        geo::Geometry::LineString(l) => Ok(l),
        _ => Err(corrupt("a stored line is not a LineString")),
    }
}

fn line_json(l: &geo::LineString<f64>) -> String {
    geometry_to_geojson(&geo::Geometry::LineString(l.clone()))
}

const ROUTE_COLUMNS: &str = "id, kind, grid_id, zone_id, grid_code, zone_code, town_code, route_date, starts_ms, \
     officer, mode, shift_minutes, service_minutes, distance_m, duration_s, new_cells, road_network, adherence, \
     details, created_by, created_ms, geom";

fn read_route(row: &SqliteRow) -> Result<RouteRecord, StoreError> {
    let adherence: Option<String> = row.try_get("adherence")?;
    let date: String = row.try_get("route_date")?;
    Ok(RouteRecord {
        id: row.try_get("id")?,
        route: NewRoute {
            kind: row.try_get("kind")?,
            grid_id: row.try_get("grid_id")?,
            zone_id: row.try_get("zone_id")?,
            grid_code: row.try_get("grid_code")?,
            zone_code: row.try_get("zone_code")?,
            town_code: row.try_get("town_code")?,
            date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(corrupt)?,
            starts_at: time(row.try_get("starts_ms")?),
            officer: row.try_get("officer")?,
            mode: row.try_get("mode")?,
            shift_minutes: row.try_get("shift_minutes")?,
            service_minutes: row.try_get("service_minutes")?,
            distance_m: row.try_get("distance_m")?,
            duration_s: row.try_get("duration_s")?,
            new_cells: row.try_get("new_cells")?,
            road_network: row.try_get("road_network")?,
            details: serde_json::from_str(&row.try_get::<String, _>("details")?)
                .map_err(corrupt)?,
            created_by: row.try_get("created_by")?,
            geometry: line_of(&row.try_get::<String, _>("geom")?)?,
            stops: Vec::new(),
        },
        adherence: adherence
            .map(|a| serde_json::from_str(&a))
            .transpose()
            .map_err(corrupt)?,
        created_at: time(row.try_get("created_ms")?),
    })
}

/// Fills in the stops of the routes, read in one query.
async fn with_stops(
    pool: &sqlx::SqlitePool,
    mut routes: Vec<RouteRecord>,
) -> Result<Vec<RouteRecord>, StoreError> {
    if routes.is_empty() {
        return Ok(routes);
    }
    let ids =
        serde_json::Value::from(routes.iter().map(|r| r.id).collect::<Vec<i64>>()).to_string();
    let rows = sqlx::query(
        "select route_id, ord, kind, target_id, priority, arrival_s, departure_s, eta_ms, lon, lat \
         from route_stop where route_id in (select value from json_each(?)) order by route_id, ord",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let mut by_route: HashMap<i64, Vec<RouteStopRow>> = HashMap::new();
    for row in &rows {
        let ord: i64 = row.try_get("ord")?;
        let position = LonLat::new(row.try_get("lon")?, row.try_get("lat")?).map_err(corrupt)?;
        by_route
            .entry(row.try_get("route_id")?)
            .or_default()
            .push(RouteStopRow {
                order: u32::try_from(ord).map_err(corrupt)?,
                kind: row.try_get("kind")?,
                target_id: row.try_get("target_id")?,
                priority: row.try_get("priority")?,
                position,
                arrival_s: row.try_get("arrival_s")?,
                departure_s: row.try_get("departure_s")?,
                eta: time(row.try_get("eta_ms")?),
            });
    }
    for r in &mut routes {
        r.route.stops = by_route.remove(&r.id).unwrap_or_default();
    }
    Ok(routes)
}

fn json_list(v: &[String]) -> String {
    serde_json::Value::from(v.to_vec()).to_string()
}

fn push_filters(qb: &mut QueryBuilder<'_, Sqlite>, q: &RouteQuery) {
    qb.push(" where 1");
    if let Some(t) = &q.towns {
        qb.push(" and town_code in (select value from json_each(");
        qb.push_bind(json_list(t));
        qb.push("))");
    }
    if q.grids.is_some() || q.zones.is_some() {
        qb.push(" and (grid_code in (select value from json_each(");
        qb.push_bind(json_list(q.grids.as_deref().unwrap_or_default()));
        qb.push(")) or zone_code in (select value from json_each(");
        qb.push_bind(json_list(q.zones.as_deref().unwrap_or_default()));
        qb.push(")))");
    }
    if let Some(g) = q.grid_id {
        qb.push(" and grid_id = ");
        qb.push_bind(g);
    }
    if let Some(z) = q.zone_id {
        qb.push(" and zone_id = ");
        qb.push_bind(z);
    }
    if let Some(o) = &q.officer {
        qb.push(" and officer = ");
        qb.push_bind(o.clone());
    }
    if let Some(d) = q.from {
        qb.push(" and route_date >= ");
        qb.push_bind(d.to_string());
    }
    if let Some(d) = q.to {
        qb.push(" and route_date <= ");
        qb.push_bind(d.to_string());
    }
    if let Some(k) = &q.kind {
        qb.push(" and kind = ");
        qb.push_bind(k.clone());
    }
}

#[async_trait]
impl RouteStore for SqliteStore {
    async fn replace_road_network(
        &self,
        source: &str,
        rows: &RoadRows,
    ) -> Result<RoadNetworkInfo, StoreError> {
        let mut tx = self.pool().begin().await?;
        for table in ["road_edge", "road_node", "road_network"] {
            sqlx::query(&format!("delete from {table}"))
                .execute(&mut *tx)
                .await?;
        }
        for (chunk_no, chunk) in rows.nodes.chunks(CHUNK).enumerate() {
            let first = chunk_no * CHUNK;
            let ids = (first..first + chunk.len())
                .map(index)
                .collect::<Result<Vec<i64>, _>>()?;
            let mut qb = QueryBuilder::<Sqlite>::new("insert into road_node (id, lon, lat) ");
            qb.push_values(chunk.iter().zip(ids), |mut b, (p, id)| {
                b.push_bind(id).push_bind(p.lon()).push_bind(p.lat());
            });
            qb.build().execute(&mut *tx).await?;
        }
        for (chunk_no, chunk) in rows.edges.chunks(CHUNK).enumerate() {
            let first = chunk_no * CHUNK;
            let ids = (first..first + chunk.len())
                .map(index)
                .collect::<Result<Vec<i64>, _>>()?;
            let ends = chunk
                .iter()
                .map(|e| Ok((index(e.from)?, index(e.to)?)))
                .collect::<Result<Vec<(i64, i64)>, StoreError>>()?;
            let mut qb = QueryBuilder::<Sqlite>::new(
                "insert into road_edge (id, from_node, to_node, kind, length_m, geom) ",
            );
            qb.push_values(
                chunk.iter().zip(ids).zip(ends),
                |mut b, ((e, id), (f, t))| {
                    b.push_bind(id)
                        .push_bind(f)
                        .push_bind(t)
                        .push_bind(e.kind.as_str())
                        .push_bind(e.length_m)
                        .push_bind(line_json(&e.geometry));
                },
            );
            qb.build().execute(&mut *tx).await?;
        }
        let row = sqlx::query(&format!(
            "insert into road_network (source, imported_ms, node_count, edge_count, length_m) \
             values (?, ?, ?, ?, ?) returning {INFO_COLUMNS}"
        ))
        .bind(source)
        .bind(Utc::now().timestamp_millis())
        .bind(index(rows.nodes.len())?)
        .bind(index(rows.edges.len())?)
        .bind(rows.length_m())
        .fetch_one(&mut *tx)
        .await?;
        let info = read_info(&row)?;
        tx.commit().await?;
        Ok(info)
    }

    async fn road_network(&self) -> Result<Option<RoadNetworkInfo>, StoreError> {
        let row = sqlx::query(&format!(
            "select {INFO_COLUMNS} from road_network order by id desc limit 1"
        ))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(read_info).transpose()
    }

    async fn road_rows(&self) -> Result<Option<(RoadNetworkInfo, RoadRows)>, StoreError> {
        // a read transaction sees one snapshot
        let mut tx = self.pool().begin().await?;
        let Some(info) = sqlx::query(&format!(
            "select {INFO_COLUMNS} from road_network order by id desc limit 1"
        ))
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(read_info)
        .transpose()?
        else {
            return Ok(None);
        };
        let nodes: Vec<(i64, f64, f64)> =
            sqlx::query_as("select id, lon, lat from road_node order by id")
                .fetch_all(&mut *tx)
                .await?;
        let mut rows = RoadRows::default();
        for (i, (id, lon, lat)) in nodes.into_iter().enumerate() {
            if usize::try_from(id).ok() != Some(i) {
                return Err(corrupt("road_node ids are not 0..n"));
            }
            rows.nodes.push(LonLat::new(lon, lat).map_err(corrupt)?);
        }
        let edges: Vec<(i64, i64, i64, String, f64, String)> = sqlx::query_as(
            "select id, from_node, to_node, kind, length_m, geom from road_edge order by id",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (i, (id, from, to, kind, length_m, geom)) in edges.into_iter().enumerate() {
            if usize::try_from(id).ok() != Some(i) {
                return Err(corrupt("road_edge ids are not 0..n"));
            }
            rows.edges.push(RoadEdgeRow {
                from: usize::try_from(from).map_err(corrupt)?,
                to: usize::try_from(to).map_err(corrupt)?,
                kind: edge_kind(&kind)?,
                length_m,
                geometry: line_of(&geom)?,
            });
        }
        tx.commit().await?;
        Ok(Some((info, rows)))
    }

    async fn insert_route(&self, r: &NewRoute) -> Result<i64, StoreError> {
        let mut tx = self.pool().begin().await?;
        let id: i64 = sqlx::query_scalar(
            "insert into route (kind, grid_id, zone_id, grid_code, zone_code, town_code, route_date, starts_ms, \
             officer, mode, shift_minutes, service_minutes, distance_m, duration_s, new_cells, road_network, \
             details, created_by, created_ms, geom) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             returning id",
        )
        .bind(&r.kind)
        .bind(r.grid_id)
        .bind(r.zone_id)
        .bind(&r.grid_code)
        .bind(&r.zone_code)
        .bind(&r.town_code)
        .bind(r.date.to_string())
        .bind(ms(r.starts_at))
        .bind(&r.officer)
        .bind(&r.mode)
        .bind(r.shift_minutes)
        .bind(r.service_minutes)
        .bind(r.distance_m)
        .bind(r.duration_s)
        .bind(r.new_cells)
        .bind(r.road_network)
        .bind(r.details.to_string())
        .bind(&r.created_by)
        .bind(Utc::now().timestamp_millis())
        .bind(line_json(&r.geometry))
        .fetch_one(&mut *tx)
        .await?;
        for chunk in r.stops.chunks(CHUNK / 2) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "insert into route_stop (route_id, ord, kind, target_id, priority, arrival_s, departure_s, eta_ms, lon, lat) ",
            );
            qb.push_values(chunk, |mut b, s| {
                b.push_bind(id)
                    .push_bind(i64::from(s.order))
                    .push_bind(s.kind.clone())
                    .push_bind(s.target_id.clone())
                    .push_bind(s.priority)
                    .push_bind(s.arrival_s)
                    .push_bind(s.departure_s)
                    .push_bind(ms(s.eta))
                    .push_bind(s.position.lon())
                    .push_bind(s.position.lat());
            });
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    async fn list_routes(&self, q: &RouteQuery) -> Result<Page<RouteRecord>, StoreError> {
        let mut count = QueryBuilder::<Sqlite>::new("select count(*) from route");
        push_filters(&mut count, q);
        let total: i64 = count.build_query_scalar().fetch_one(self.pool()).await?;
        let mut qb = QueryBuilder::<Sqlite>::new(format!("select {ROUTE_COLUMNS} from route"));
        push_filters(&mut qb, q);
        qb.push(" order by route_date desc, id desc limit ");
        qb.push_bind(i64::from(q.limit));
        qb.push(" offset ");
        qb.push_bind(i64::from(q.offset));
        let rows = qb.build().fetch_all(self.pool()).await?;
        let items = rows.iter().map(read_route).collect::<Result<_, _>>()?;
        Ok(Page {
            total: u64::try_from(total).unwrap_or(0),
            items: with_stops(self.pool(), items).await?,
        })
    }

    async fn get_route(&self, id: i64) -> Result<Option<RouteRecord>, StoreError> {
        let row = sqlx::query(&format!("select {ROUTE_COLUMNS} from route where id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row.as_ref().map(read_route).transpose()? else {
            return Ok(None);
        };
        Ok(with_stops(self.pool(), vec![r]).await?.pop())
    }

    async fn assign_route(&self, id: i64, officer: Option<&str>) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "update route set officer = ?, adherence = null, adherence_stops = null, adherence_path = null \
             where id = ?",
        )
        .bind(officer)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    async fn set_route_adherence(
        &self,
        id: i64,
        adherence: Option<&Adherence>,
    ) -> Result<bool, StoreError> {
        let json = adherence
            .map(serde_json::to_string)
            .transpose()
            .map_err(corrupt)?;
        let n = sqlx::query(
            "update route set adherence = ?, adherence_stops = ?, adherence_path = ? where id = ?",
        )
        .bind(json)
        .bind(adherence.map(|a| a.stops_reached))
        .bind(adherence.map(|a| a.path_walked))
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}
