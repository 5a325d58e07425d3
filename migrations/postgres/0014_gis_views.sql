-- QGIS-ready tables. PostgreSQL has no H3 here (Debian's PostGIS has no h3
-- extension), so the hexagon of every cell that a grid or a visit names is
-- kept in cell_shape, written by the application when it writes the cells
-- (and backfilled when the store opens); the views below join it, so QGIS
-- and `ogrinfo PG:` see coverage and grid cells as SRID 4326 polygons with
-- timestamptz columns instead of bigint cells and epoch milliseconds.

create table cell_shape (
    -- an H3 index as a signed bigint, as in grid_cell and cell_visit
    cell bigint primary key,
    resolution smallint not null check (resolution between 0 and 15),
    -- the H3 id as people copy it from other tools
    h3 text not null,
    geom geometry(Polygon, 4326) not null
);
create index cell_shape_geom_idx on cell_shape using gist (geom);

-- One row per patrolled cell: how often and when it was patrolled, by how
-- many officers, and how many days ago (at the time of reading).
create view gis_coverage_cell as
select s.cell, s.h3, s.resolution, v.visits, v.tracks, v.officers,
       v.first_patrolled, v.last_patrolled,
       floor(extract(epoch from (now() - v.last_patrolled)) / 86400)::integer as days_since_patrol,
       s.geom
from (
    select cv.cell,
           count(*)::integer as visits,
           count(distinct cv.track_id)::integer as tracks,
           count(distinct t.officer)::integer as officers,
           to_timestamp(min(cv.first_ms) / 1000.0) as first_patrolled,
           to_timestamp(max(cv.last_ms) / 1000.0) as last_patrolled
    from cell_visit cv join track t on t.id = cv.track_id
    group by cv.cell
) v
join cell_shape s on s.cell = v.cell;

-- One row per visit: the cell, the track, its officer and the times.
create view gis_cell_visit as
select (cv.track_id::text || ':' || s.h3) as visit, cv.track_id, t.officer, t.name as track_name,
       s.cell, s.h3,
       to_timestamp(cv.first_ms / 1000.0) as first_at,
       to_timestamp(cv.last_ms / 1000.0) as last_at,
       s.geom
from cell_visit cv
join track t on t.id = cv.track_id
join cell_shape s on s.cell = cv.cell;

-- The grids' (compacted) cells with their grid, zone, town and manager.
create view gis_grid_cell as
select s.cell, s.h3, s.resolution, g.id as grid_id, g.code as grid_code, g.name as grid_name,
       z.name as zone_name, tw.name as town_name, g.manager, g.patrol_interval_days,
       s.geom
from grid_cell gc
join cell_shape s on s.cell = gc.cell
join grid g on g.id = gc.grid_id
join zone z on z.code = g.zone_code
join town tw on tw.code = g.town_code;

-- People by name: the display name of a user (an officer's 姓名), shown
-- instead of the login wherever people read it.
alter table app_user add column display_name text not null default '';
