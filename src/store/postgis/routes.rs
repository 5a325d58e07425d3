//! [`RouteStore`] on PostGIS.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::PostgisStore;
use crate::spatial::{LonLat, geometry_from_geojson, geometry_to_geojson};
use crate::store::routes::{
    Adherence, NewRoute, RoadEdgeRow, RoadNetworkInfo, RoadRows, RouteQuery, RouteRecord,
    RouteStopRow, RouteStore, edge_kind,
};
use crate::store::{Page, StoreError};

/// Rows per statement of a bulk insert.
const CHUNK: usize = 5_000;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn index(i: usize) -> Result<i32, StoreError> {
    i32::try_from(i).map_err(|_| StoreError::Corrupt(format!("road graph index {i} too large")))
}

fn read_info(row: &PgRow) -> Result<RoadNetworkInfo, StoreError> {
    Ok(RoadNetworkInfo {
        version: row.try_get("id")?,
        source: row.try_get("source")?,
        imported_at: row.try_get("imported_at")?,
        nodes: i64::from(row.try_get::<i32, _>("node_count")?),
        edges: i64::from(row.try_get::<i32, _>("edge_count")?),
        length_m: row.try_get("length_m")?,
    })
}

const INFO_COLUMNS: &str = "id, source, imported_at, node_count, edge_count, length_m";

fn line_of(text: &str) -> Result<geo::LineString<f64>, StoreError> {
    match geometry_from_geojson(text).map_err(StoreError::Corrupt)? {
        geo::Geometry::LineString(l) => Ok(l),
        _ => Err(corrupt("a stored line is not a LineString")),
    }
}

fn line_json(l: &geo::LineString<f64>) -> String {
    geometry_to_geojson(&geo::Geometry::LineString(l.clone()))
}

const ROUTE_COLUMNS: &str = "id, kind, grid_id, zone_id, grid_code, zone_code, town_code, route_date, starts_at, \
     officer, mode, shift_minutes, service_minutes, distance_m, duration_s, new_cells::bigint as new_cells, \
     road_network, adherence, details, created_by, created_at, st_asgeojson(geom, 15) as geom";

fn read_route(row: &PgRow) -> Result<RouteRecord, StoreError> {
    let adherence: Option<serde_json::Value> = row.try_get("adherence")?;
    Ok(RouteRecord {
        id: row.try_get("id")?,
        route: NewRoute {
            kind: row.try_get("kind")?,
            grid_id: row.try_get("grid_id")?,
            zone_id: row.try_get("zone_id")?,
            grid_code: row.try_get("grid_code")?,
            zone_code: row.try_get("zone_code")?,
            town_code: row.try_get("town_code")?,
            date: row.try_get::<NaiveDate, _>("route_date")?,
            starts_at: row.try_get("starts_at")?,
            officer: row.try_get("officer")?,
            mode: row.try_get("mode")?,
            shift_minutes: row.try_get("shift_minutes")?,
            service_minutes: row.try_get("service_minutes")?,
            distance_m: row.try_get("distance_m")?,
            duration_s: row.try_get("duration_s")?,
            new_cells: row.try_get("new_cells")?,
            road_network: row.try_get("road_network")?,
            details: row.try_get("details")?,
            created_by: row.try_get("created_by")?,
            geometry: line_of(&row.try_get::<String, _>("geom")?)?,
            stops: Vec::new(),
        },
        adherence: adherence
            .map(serde_json::from_value)
            .transpose()
            .map_err(corrupt)?,
        created_at: row.try_get("created_at")?,
    })
}

/// Fills in the stops of the routes, read in one query.
async fn with_stops(
    pool: &sqlx::PgPool,
    mut routes: Vec<RouteRecord>,
) -> Result<Vec<RouteRecord>, StoreError> {
    if routes.is_empty() {
        return Ok(routes);
    }
    let ids: Vec<i64> = routes.iter().map(|r| r.id).collect();
    let rows = sqlx::query(
        "select route_id, ord, kind, target_id, priority, arrival_s, departure_s, eta, \
         st_x(geom) as lon, st_y(geom) as lat from route_stop where route_id = any($1) order by route_id, ord",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let mut by_route: HashMap<i64, Vec<RouteStopRow>> = HashMap::new();
    for row in &rows {
        let ord: i32 = row.try_get("ord")?;
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
                eta: row.try_get::<DateTime<Utc>, _>("eta")?,
            });
    }
    for r in &mut routes {
        r.route.stops = by_route.remove(&r.id).unwrap_or_default();
    }
    Ok(routes)
}

fn push_filters(qb: &mut QueryBuilder<'_, Postgres>, q: &RouteQuery) {
    qb.push(" where true");
    if let Some(t) = &q.towns {
        qb.push(" and town_code = any(");
        qb.push_bind(t.clone());
        qb.push(")");
    }
    if q.grids.is_some() || q.zones.is_some() {
        qb.push(" and (grid_code = any(");
        qb.push_bind(q.grids.clone().unwrap_or_default());
        qb.push(") or zone_code = any(");
        qb.push_bind(q.zones.clone().unwrap_or_default());
        qb.push("))");
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
        qb.push_bind(d);
    }
    if let Some(d) = q.to {
        qb.push(" and route_date <= ");
        qb.push_bind(d);
    }
    if let Some(k) = &q.kind {
        qb.push(" and kind = ");
        qb.push_bind(k.clone());
    }
}

#[async_trait]
impl RouteStore for PostgisStore {
    async fn replace_road_network(
        &self,
        source: &str,
        rows: &RoadRows,
    ) -> Result<RoadNetworkInfo, StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("delete from road_edge")
            .execute(&mut *tx)
            .await?;
        sqlx::query("delete from road_node")
            .execute(&mut *tx)
            .await?;
        sqlx::query("delete from road_network")
            .execute(&mut *tx)
            .await?;
        for (chunk_no, chunk) in rows.nodes.chunks(CHUNK).enumerate() {
            let first = chunk_no * CHUNK;
            let ids = (first..first + chunk.len())
                .map(index)
                .collect::<Result<Vec<i32>, _>>()?;
            let lons: Vec<f64> = chunk.iter().map(|p| p.lon()).collect();
            let lats: Vec<f64> = chunk.iter().map(|p| p.lat()).collect();
            sqlx::query(
                "insert into road_node (id, geom) select i, st_setsrid(st_makepoint(x, y), 4326) \
                 from unnest($1::integer[], $2::float8[], $3::float8[]) as t(i, x, y)",
            )
            .bind(ids)
            .bind(lons)
            .bind(lats)
            .execute(&mut *tx)
            .await?;
        }
        for (chunk_no, chunk) in rows.edges.chunks(CHUNK).enumerate() {
            let first = chunk_no * CHUNK;
            let ids = (first..first + chunk.len())
                .map(index)
                .collect::<Result<Vec<i32>, _>>()?;
            let from = chunk
                .iter()
                .map(|e| index(e.from))
                .collect::<Result<Vec<i32>, _>>()?;
            let to = chunk
                .iter()
                .map(|e| index(e.to))
                .collect::<Result<Vec<i32>, _>>()?;
            let kinds: Vec<&str> = chunk.iter().map(|e| e.kind.as_str()).collect();
            let lengths: Vec<f64> = chunk.iter().map(|e| e.length_m).collect();
            let geoms: Vec<String> = chunk.iter().map(|e| line_json(&e.geometry)).collect();
            sqlx::query(
                "insert into road_edge (id, from_node, to_node, kind, length_m, geom) \
                 select i, f, t, k, l, st_setsrid(st_geomfromgeojson(g), 4326) \
                 from unnest($1::integer[], $2::integer[], $3::integer[], $4::text[], $5::float8[], $6::text[]) \
                 as u(i, f, t, k, l, g)",
            )
            .bind(ids)
            .bind(from)
            .bind(to)
            .bind(kinds)
            .bind(lengths)
            .bind(geoms)
            .execute(&mut *tx)
            .await?;
        }
        let row = sqlx::query(&format!(
            "insert into road_network (source, node_count, edge_count, length_m) values ($1, $2, $3, $4) \
             returning {INFO_COLUMNS}"
        ))
        .bind(source)
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
        // repeatable read: the rows belong to the network row read with them
        let mut tx = self.pool().begin().await?;
        sqlx::query("set transaction isolation level repeatable read")
            .execute(&mut *tx)
            .await?;
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
        let nodes: Vec<(i32, f64, f64)> =
            sqlx::query_as("select id, st_x(geom), st_y(geom) from road_node order by id")
                .fetch_all(&mut *tx)
                .await?;
        let mut rows = RoadRows::default();
        for (i, (id, lon, lat)) in nodes.into_iter().enumerate() {
            if usize::try_from(id).ok() != Some(i) {
                return Err(corrupt("road_node ids are not 0..n"));
            }
            rows.nodes.push(LonLat::new(lon, lat).map_err(corrupt)?);
        }
        let edges: Vec<(i32, i32, i32, String, f64, String)> = sqlx::query_as(
            "select id, from_node, to_node, kind, length_m, st_asgeojson(geom, 15) from road_edge order by id",
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
            "insert into route (kind, grid_id, zone_id, grid_code, zone_code, town_code, route_date, starts_at, \
             officer, mode, shift_minutes, service_minutes, distance_m, duration_s, new_cells, road_network, \
             details, created_by, geom) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             $16, $17, $18, st_setsrid(st_geomfromgeojson($19), 4326)) returning id",
        )
        .bind(&r.kind)
        .bind(r.grid_id)
        .bind(r.zone_id)
        .bind(&r.grid_code)
        .bind(&r.zone_code)
        .bind(&r.town_code)
        .bind(r.date)
        .bind(r.starts_at)
        .bind(&r.officer)
        .bind(&r.mode)
        .bind(r.shift_minutes)
        .bind(r.service_minutes)
        .bind(r.distance_m)
        .bind(r.duration_s)
        .bind(i32::try_from(r.new_cells).map_err(corrupt)?)
        .bind(r.road_network)
        .bind(&r.details)
        .bind(&r.created_by)
        .bind(line_json(&r.geometry))
        .fetch_one(&mut *tx)
        .await?;
        if !r.stops.is_empty() {
            let ord = r
                .stops
                .iter()
                .map(|s| i32::try_from(s.order).map_err(corrupt))
                .collect::<Result<Vec<i32>, _>>()?;
            let kinds: Vec<&str> = r.stops.iter().map(|s| s.kind.as_str()).collect();
            let targets: Vec<&str> = r.stops.iter().map(|s| s.target_id.as_str()).collect();
            let priority: Vec<f64> = r.stops.iter().map(|s| s.priority).collect();
            let arrival: Vec<f64> = r.stops.iter().map(|s| s.arrival_s).collect();
            let departure: Vec<f64> = r.stops.iter().map(|s| s.departure_s).collect();
            let eta: Vec<DateTime<Utc>> = r.stops.iter().map(|s| s.eta).collect();
            let lon: Vec<f64> = r.stops.iter().map(|s| s.position.lon()).collect();
            let lat: Vec<f64> = r.stops.iter().map(|s| s.position.lat()).collect();
            sqlx::query(
                "insert into route_stop (route_id, ord, kind, target_id, priority, arrival_s, departure_s, eta, geom) \
                 select $1, o, k, t, p, a, d, e, st_setsrid(st_makepoint(x, y), 4326) \
                 from unnest($2::integer[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[], \
                 $8::timestamptz[], $9::float8[], $10::float8[]) as u(o, k, t, p, a, d, e, x, y)",
            )
            .bind(id)
            .bind(ord)
            .bind(kinds)
            .bind(targets)
            .bind(priority)
            .bind(arrival)
            .bind(departure)
            .bind(eta)
            .bind(lon)
            .bind(lat)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    async fn list_routes(&self, q: &RouteQuery) -> Result<Page<RouteRecord>, StoreError> {
        let mut count = QueryBuilder::<Postgres>::new("select count(*) from route");
        push_filters(&mut count, q);
        let total: i64 = count.build_query_scalar().fetch_one(self.pool()).await?;
        let mut qb = QueryBuilder::<Postgres>::new(format!("select {ROUTE_COLUMNS} from route"));
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
        let row = sqlx::query(&format!("select {ROUTE_COLUMNS} from route where id = $1"))
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
            "update route set officer = $2, adherence = null, adherence_stops = null, adherence_path = null \
             where id = $1",
        )
        .bind(id)
        .bind(officer)
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
            .map(serde_json::to_value)
            .transpose()
            .map_err(corrupt)?;
        let n = sqlx::query(
            "update route set adherence = $2, adherence_stops = $3, adherence_path = $4 where id = $1",
        )
        .bind(id)
        .bind(json)
        .bind(adherence.map(|a| a.stops_reached))
        .bind(adherence.map(|a| a.path_walked))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}
