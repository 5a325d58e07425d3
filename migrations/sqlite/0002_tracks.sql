-- Patrol tracks and the cells they covered; see the PostGIS migration.
-- Times are milliseconds since the epoch; the vertices are GeoJSON text.

create table track (
    id integer primary key,
    officer text not null,
    device text not null default '',
    name text not null default '',
    fingerprint text not null unique,
    started_ms integer not null,
    ended_ms integer not null,
    point_count integer not null check (point_count >= 0),
    length_m real not null check (length_m >= 0),
    resolution integer not null check (resolution between 7 and 12),
    sighting_m real not null check (sighting_m > 0),
    open integer not null default 0,
    report text not null default '{}',
    times_ms text not null,
    created_ms integer not null,
    geom text not null,
    min_lon real not null, min_lat real not null, max_lon real not null, max_lat real not null
);
create index track_time_idx on track (started_ms, ended_ms);
create index track_officer_idx on track (officer);

create table cell_visit (
    track_id integer not null references track (id) on delete cascade,
    cell integer not null,
    first_ms integer not null,
    last_ms integer not null check (last_ms >= first_ms),
    primary key (track_id, cell)
);
create index cell_visit_cell_idx on cell_visit (cell, last_ms);
create index cell_visit_time_idx on cell_visit (first_ms);
