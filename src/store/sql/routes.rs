//! [`RouteStore`] on every SQL backend: the road network replaced in one
//! transaction by multi-row inserts and read back as one snapshot; routes
//! with their line and stops inserted, listed, assigned and scored. The
//! dialect spells the points, lines and id lists.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{Arg, Dialect, Qb, RowReader, SqlBackend, bind, bind_list, fetch_one, qb};
use crate::spatial::{LonLat, geometry_from_geojson, geometry_to_geojson};
use crate::store::routes::{
    Adherence, NewRoute, RoadEdgeRow, RoadNetworkInfo, RoadRows, RouteQuery, RouteRecord,
    RouteStopRow, RouteStore, edge_kind,
};
use crate::store::{Page, StoreError};

/// Rows per multi-row insert (at most ten binds each).
const CHUNK: usize = 250;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn index(i: usize) -> Result<i64, StoreError> {
    i32::try_from(i)
        .map(i64::from)
        .map_err(|_| StoreError::Corrupt(format!("road graph index {i} too large")))
}

fn info_columns<D: Dialect>() -> String {
    format!(
        "id, source, {}, {}, {}, length_m",
        D::columns(&["imported_at"], true),
        D::int_col("node_count"),
        D::int_col("edge_count")
    )
}

fn read_info<D: Dialect>(row: &D::Row) -> Result<RoadNetworkInfo, StoreError> {
    let r = RowReader::<D>(row);
    Ok(RoadNetworkInfo {
        version: r.i64("id")?,
        source: r.text("source")?,
        imported_at: r.time("imported_at")?,
        nodes: r.i64("node_count")?,
        edges: r.i64("edge_count")?,
        length_m: r.f64("length_m")?,
    })
}

fn line_of(text: &str) -> Result<geo::LineString<f64>, StoreError> {
    match geometry_from_geojson(text).map_err(StoreError::Corrupt)? {
        geo::Geometry::LineString(l) => Ok(l),
        _ => Err(corrupt("a stored line is not a LineString")),
    }
}

fn line_json(l: &geo::LineString<f64>) -> String {
    geometry_to_geojson(&geo::Geometry::LineString(l.clone()))
}

/// The stored column of a stop's ETA (`eta` is no `*_at` column).
fn eta_col<D: Dialect>() -> &'static str {
    if D::TIME_AS_MS { "eta_ms" } else { "eta" }
}

/// The columns a route is inserted with, before its line.
const INSERT_COLUMNS: [&str; 18] = [
    "kind",
    "grid_id",
    "zone_id",
    "grid_code",
    "zone_code",
    "town_code",
    "route_date",
    "starts_at",
    "officer",
    "mode",
    "shift_minutes",
    "service_minutes",
    "distance_m",
    "duration_s",
    "new_cells",
    "road_network",
    "details",
    "created_by",
];

fn route_columns<D: Dialect>() -> String {
    format!(
        "id, {}, {}, road_network, adherence, details, created_by, assigned_ms, {}, {}",
        D::columns(&INSERT_COLUMNS[..14], true),
        D::int_col("new_cells"),
        D::columns(&["created_at"], true),
        D::geojson_col("geom", 15)
    )
}

fn read_route<D: Dialect>(row: &D::Row) -> Result<RouteRecord, StoreError> {
    let r = RowReader::<D>(row);
    Ok(RouteRecord {
        id: r.i64("id")?,
        route: NewRoute {
            kind: r.text("kind")?,
            grid_id: r.opt_i64("grid_id")?,
            zone_id: r.opt_i64("zone_id")?,
            grid_code: r.opt_text("grid_code")?,
            zone_code: r.text("zone_code")?,
            town_code: r.text("town_code")?,
            date: r.date("route_date")?,
            starts_at: r.time("starts_at")?,
            officer: r.opt_text("officer")?,
            mode: r.text("mode")?,
            shift_minutes: r.f64("shift_minutes")?,
            service_minutes: r.f64("service_minutes")?,
            distance_m: r.f64("distance_m")?,
            duration_s: r.f64("duration_s")?,
            new_cells: r.i64("new_cells")?,
            road_network: r.bool("road_network")?,
            details: r.json("details")?,
            created_by: r.text("created_by")?,
            geometry: line_of(&r.text("geom")?)?,
            stops: Vec::new(),
        },
        adherence: r
            .opt_json("adherence")?
            .map(serde_json::from_value)
            .transpose()
            .map_err(corrupt)?,
        created_at: r.time("created_at")?,
        assigned_ms: r.opt_i64("assigned_ms")?,
    })
}

/// Fills in the stops of the routes, read in one query.
async fn with_stops<D: Dialect>(
    conn: &mut D::Connection,
    mut routes: Vec<RouteRecord>,
) -> Result<Vec<RouteRecord>, StoreError> {
    if routes.is_empty() {
        return Ok(routes);
    }
    let ids: Vec<i64> = routes.iter().map(|r| r.id).collect();
    let eta = eta_col::<D>();
    let mut q = qb::<D>(format!(
        "select route_id, {}, kind, target_id, priority, arrival_s, departure_s, {}, {} \
         from route_stop where ",
        D::int_col("ord"),
        if eta == "eta" {
            "eta".to_owned()
        } else {
            format!("{eta} as eta")
        },
        D::POINT_SELECT
    ));
    D::push_id_is_in(&mut q, "route_id", &ids);
    q.push(" order by route_id, ord");
    let mut by_route: HashMap<i64, Vec<RouteStopRow>> = HashMap::new();
    for row in &D::fetch_all(conn, &mut q).await? {
        let r = RowReader::<D>(row);
        let position = LonLat::new(r.f64("lon")?, r.f64("lat")?).map_err(corrupt)?;
        by_route
            .entry(r.i64("route_id")?)
            .or_default()
            .push(RouteStopRow {
                order: u32::try_from(r.i64("ord")?).map_err(corrupt)?,
                kind: r.text("kind")?,
                target_id: r.text("target_id")?,
                priority: r.f64("priority")?,
                position,
                arrival_s: r.f64("arrival_s")?,
                departure_s: r.f64("departure_s")?,
                eta: r.time("eta")?,
            });
    }
    for r in &mut routes {
        r.route.stops = by_route.remove(&r.id).unwrap_or_default();
    }
    Ok(routes)
}

fn push_filters<D: Dialect>(q: &mut Qb<'_, D>, rq: &RouteQuery) {
    q.push(format!(" where {}", D::WHERE_ALL));
    if let Some(t) = &rq.towns {
        D::push_text_in(q, "town_code", t);
    }
    if rq.grids.is_some() || rq.zones.is_some() {
        q.push(" and (");
        D::push_text_is_in(q, "grid_code", rq.grids.as_deref().unwrap_or_default());
        q.push(" or ");
        D::push_text_is_in(q, "zone_code", rq.zones.as_deref().unwrap_or_default());
        q.push(")");
    }
    let equal = [
        ("grid_id", rq.grid_id.map(|g| Arg::I64(Some(g)))),
        ("zone_id", rq.zone_id.map(|z| Arg::I64(Some(z)))),
        ("officer", rq.officer.as_ref().map(Arg::text)),
    ];
    for (col, arg) in equal {
        if let Some(arg) = arg {
            q.push(format!(" and {col} = "));
            bind(q, arg);
        }
    }
    if let Some(d) = rq.from {
        q.push(" and route_date >= ");
        D::bind_date(q, Some(d));
    }
    if let Some(d) = rq.to {
        q.push(" and route_date <= ");
        D::bind_date(q, Some(d));
    }
    if let Some(k) = &rq.kind {
        q.push(" and kind = ");
        D::bind_text(q, Some(k.clone()));
    }
}

/// Inserts the rows of `chunk` as one statement, `row` binding each.
async fn insert_rows<D: Dialect, T>(
    conn: &mut D::Connection,
    head: &str,
    chunk: &[T],
    mut row: impl FnMut(&mut Qb<'_, D>, usize, &T) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut q = qb::<D>(format!("{head} values "));
    for (i, t) in chunk.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" });
        row(&mut q, i, t)?;
        q.push(")");
    }
    D::execute(conn, &mut q).await?;
    Ok(())
}

#[async_trait]
impl<S: SqlBackend> RouteStore for S {
    async fn replace_road_network(
        &self,
        source: &str,
        rows: &RoadRows,
    ) -> Result<RoadNetworkInfo, StoreError> {
        let mut tx = self.begin_write().await?;
        for table in ["road_edge", "road_node", "road_network"] {
            S::Db::execute(&mut tx, &mut qb::<S::Db>(format!("delete from {table}"))).await?;
        }
        let nodes = format!("insert into road_node (id, {})", S::Db::POINT_COLUMNS);
        for (chunk_no, chunk) in rows.nodes.chunks(CHUNK).enumerate() {
            insert_rows::<S::Db, _>(&mut tx, &nodes, chunk, |q, i, p| {
                S::Db::bind_i64(q, Some(index(chunk_no * CHUNK + i)?));
                q.push(", ");
                S::Db::push_point(q, *p);
                Ok(())
            })
            .await?;
        }
        let edges = "insert into road_edge (id, from_node, to_node, kind, length_m, geom)";
        for (chunk_no, chunk) in rows.edges.chunks(CHUNK).enumerate() {
            insert_rows::<S::Db, _>(&mut tx, edges, chunk, |q, i, e| {
                bind_list(
                    q,
                    [
                        Arg::I64(Some(index(chunk_no * CHUNK + i)?)),
                        Arg::I64(Some(index(e.from)?)),
                        Arg::I64(Some(index(e.to)?)),
                        Arg::text(e.kind.as_str()),
                        Arg::F64(Some(e.length_m)),
                    ],
                );
                q.push(", ");
                S::Db::push_geojson(q, line_json(&e.geometry));
                Ok(())
            })
            .await?;
        }
        let mut q = qb::<S::Db>(format!(
            "insert into road_network (source, {}, node_count, edge_count, length_m) values (",
            S::Db::time_col("imported_at")
        ));
        S::Db::bind_text(&mut q, Some(source.to_owned()));
        q.push(format!(", {}, ", S::Db::NOW));
        bind_list(
            &mut q,
            [
                Arg::I64(Some(index(rows.nodes.len())?)),
                Arg::I64(Some(index(rows.edges.len())?)),
                Arg::F64(Some(rows.length_m())),
            ],
        );
        q.push(format!(") returning {}", info_columns::<S::Db>()));
        let info = read_info::<S::Db>(&fetch_one::<S::Db>(&mut tx, &mut q).await?)?;
        tx.commit().await?;
        Ok(info)
    }

    async fn road_network(&self) -> Result<Option<RoadNetworkInfo>, StoreError> {
        let mut conn = self.sql_pool().acquire().await?;
        let mut q = qb::<S::Db>(format!(
            "select {} from road_network order by id desc limit 1",
            info_columns::<S::Db>()
        ));
        S::Db::fetch_optional(&mut conn, &mut q)
            .await?
            .as_ref()
            .map(read_info::<S::Db>)
            .transpose()
    }

    async fn road_rows(&self) -> Result<Option<(RoadNetworkInfo, RoadRows)>, StoreError> {
        // one snapshot: the rows belong to the network row read with them
        let mut tx = self.sql_pool().begin().await?;
        if !S::Db::SNAPSHOT.is_empty() {
            S::Db::execute(&mut tx, &mut qb::<S::Db>(S::Db::SNAPSHOT)).await?;
        }
        let mut q = qb::<S::Db>(format!(
            "select {} from road_network order by id desc limit 1",
            info_columns::<S::Db>()
        ));
        let Some(info) = S::Db::fetch_optional(&mut tx, &mut q)
            .await?
            .as_ref()
            .map(read_info::<S::Db>)
            .transpose()?
        else {
            return Ok(None);
        };
        let mut rows = RoadRows::default();
        let mut q = qb::<S::Db>(format!(
            "select {}, {} from road_node order by id",
            S::Db::int_col("id"),
            S::Db::POINT_SELECT
        ));
        for (i, row) in S::Db::fetch_all(&mut tx, &mut q).await?.iter().enumerate() {
            let r = RowReader::<S::Db>(row);
            if usize::try_from(r.i64("id")?).ok() != Some(i) {
                return Err(corrupt("road_node ids are not 0..n"));
            }
            rows.nodes
                .push(LonLat::new(r.f64("lon")?, r.f64("lat")?).map_err(corrupt)?);
        }
        let mut q = qb::<S::Db>(format!(
            "select {}, {}, {}, kind, length_m, {} from road_edge order by id",
            S::Db::int_col("id"),
            S::Db::int_col("from_node"),
            S::Db::int_col("to_node"),
            S::Db::geojson_col("geom", 15)
        ));
        for (i, row) in S::Db::fetch_all(&mut tx, &mut q).await?.iter().enumerate() {
            let r = RowReader::<S::Db>(row);
            if usize::try_from(r.i64("id")?).ok() != Some(i) {
                return Err(corrupt("road_edge ids are not 0..n"));
            }
            rows.edges.push(RoadEdgeRow {
                from: usize::try_from(r.i64("from_node")?).map_err(corrupt)?,
                to: usize::try_from(r.i64("to_node")?).map_err(corrupt)?,
                kind: edge_kind(&r.text("kind")?)?,
                length_m: r.f64("length_m")?,
                geometry: line_of(&r.text("geom")?)?,
            });
        }
        tx.commit().await?;
        Ok(Some((info, rows)))
    }

    async fn insert_route(&self, r: &NewRoute) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut q = qb::<S::Db>(format!(
            "insert into route ({}, {}, assigned_ms, geom) values (",
            S::Db::columns(&INSERT_COLUMNS, false),
            S::Db::time_col("created_at")
        ));
        bind_list(
            &mut q,
            [
                Arg::text(&r.kind),
                Arg::I64(r.grid_id),
                Arg::I64(r.zone_id),
                Arg::Text(r.grid_code.clone()),
                Arg::text(&r.zone_code),
                Arg::text(&r.town_code),
                Arg::Date(Some(r.date)),
                Arg::time(r.starts_at),
                Arg::Text(r.officer.clone()),
                Arg::text(&r.mode),
                Arg::F64(Some(r.shift_minutes)),
                Arg::F64(Some(r.service_minutes)),
                Arg::F64(Some(r.distance_m)),
                Arg::F64(Some(r.duration_s)),
                Arg::I64(Some(i64::from(
                    i32::try_from(r.new_cells).map_err(corrupt)?,
                ))),
                Arg::Bool(Some(r.road_network)),
                Arg::Json(Some(r.details.clone())),
                Arg::text(&r.created_by),
            ],
        );
        q.push(format!(", {}, ", S::Db::NOW));
        S::Db::bind_i64(
            &mut q,
            r.officer
                .as_ref()
                .map(|_| chrono::Utc::now().timestamp_millis()),
        );
        q.push(", ");
        S::Db::push_geojson(&mut q, line_json(&r.geometry));
        q.push(") returning id");
        let id = RowReader::<S::Db>(&fetch_one::<S::Db>(&mut tx, &mut q).await?).i64("id")?;
        let stops = format!(
            "insert into route_stop (route_id, ord, kind, target_id, priority, arrival_s, \
             departure_s, {}, {})",
            eta_col::<S::Db>(),
            S::Db::POINT_COLUMNS
        );
        for chunk in r.stops.chunks(CHUNK) {
            insert_rows::<S::Db, _>(&mut tx, &stops, chunk, |q, _, s| {
                bind_list(
                    q,
                    [
                        Arg::I64(Some(id)),
                        Arg::I64(Some(i64::from(i32::try_from(s.order).map_err(corrupt)?))),
                        Arg::text(&s.kind),
                        Arg::text(&s.target_id),
                        Arg::F64(Some(s.priority)),
                        Arg::F64(Some(s.arrival_s)),
                        Arg::F64(Some(s.departure_s)),
                        Arg::time(s.eta),
                    ],
                );
                q.push(", ");
                S::Db::push_point(q, s.position);
                Ok(())
            })
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    async fn list_routes(&self, rq: &RouteQuery) -> Result<Page<RouteRecord>, StoreError> {
        let mut conn = self.sql_pool().acquire().await?;
        let mut count = qb::<S::Db>("select count(*) as n from route");
        push_filters(&mut count, rq);
        let total =
            RowReader::<S::Db>(&fetch_one::<S::Db>(&mut conn, &mut count).await?).i64("n")?;
        let mut q = qb::<S::Db>(format!("select {} from route", route_columns::<S::Db>()));
        push_filters(&mut q, rq);
        q.push(" order by route_date desc, id desc limit ");
        S::Db::bind_i64(&mut q, Some(i64::from(rq.limit)));
        q.push(" offset ");
        S::Db::bind_i64(&mut q, Some(i64::from(rq.offset)));
        let items = S::Db::fetch_all(&mut conn, &mut q)
            .await?
            .iter()
            .map(read_route::<S::Db>)
            .collect::<Result<_, _>>()?;
        Ok(Page {
            total: u64::try_from(total).unwrap_or(0),
            items: with_stops::<S::Db>(&mut conn, items).await?,
        })
    }

    async fn get_route(&self, id: i64) -> Result<Option<RouteRecord>, StoreError> {
        let mut conn = self.sql_pool().acquire().await?;
        let mut q = qb::<S::Db>(format!(
            "select {} from route where id = ",
            route_columns::<S::Db>()
        ));
        S::Db::bind_i64(&mut q, Some(id));
        let Some(r) = S::Db::fetch_optional(&mut conn, &mut q)
            .await?
            .as_ref()
            .map(read_route::<S::Db>)
            .transpose()?
        else {
            return Ok(None);
        };
        Ok(with_stops::<S::Db>(&mut conn, vec![r]).await?.pop())
    }

    async fn assign_route(&self, id: i64, officer: Option<&str>) -> Result<bool, StoreError> {
        let mut conn = self.sql_pool().acquire().await?;
        let mut q = qb::<S::Db>("update route set officer = ");
        S::Db::bind_text(&mut q, officer.map(str::to_owned));
        q.push(", assigned_ms = ");
        S::Db::bind_i64(
            &mut q,
            officer.map(|_| chrono::Utc::now().timestamp_millis()),
        );
        q.push(", adherence = null, adherence_stops = null, adherence_path = null where id = ");
        S::Db::bind_i64(&mut q, Some(id));
        Ok(S::Db::execute(&mut conn, &mut q).await? > 0)
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
        let mut conn = self.sql_pool().acquire().await?;
        let mut q = qb::<S::Db>("update route set adherence = ");
        S::Db::bind_json(&mut q, json);
        q.push(", adherence_stops = ");
        S::Db::bind_f64(&mut q, adherence.map(|a| a.stops_reached));
        q.push(", adherence_path = ");
        S::Db::bind_f64(&mut q, adherence.map(|a| a.path_walked));
        q.push(" where id = ");
        S::Db::bind_i64(&mut q, Some(id));
        Ok(S::Db::execute(&mut conn, &mut q).await? > 0)
    }
}
