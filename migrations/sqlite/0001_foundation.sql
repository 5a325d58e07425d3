-- The embedded store mirrors the PostGIS schema. SQLite has no geometry
-- type, so each geometry is RFC 7946 GeoJSON text plus its bounding box in
-- four real columns; the bbox index does the work of PostGIS's `&&`.

create table town (
    id integer primary key,
    code text not null unique,
    name text not null,
    name_en text not null default '',
    kind text not null check (kind in ('subdistrict', 'town', 'development_zone')),
    approximate integer not null default 0,
    note text not null default '',
    geom text not null,
    min_lon real not null, min_lat real not null, max_lon real not null, max_lat real not null
);

create table zone (
    id integer primary key,
    code text not null unique,
    name text not null,
    town_code text not null references town (code),
    manager text not null default '',
    geom text,
    min_lon real, min_lat real, max_lon real, max_lat real
);
create index zone_town_idx on zone (town_code);

create table grid (
    id integer primary key,
    code text not null unique,
    name text not null,
    zone_code text not null references zone (code),
    town_code text not null references town (code),
    manager text not null default '',
    patrol_interval_days integer not null check (patrol_interval_days between 1 and 90),
    resolution integer not null check (resolution between 0 and 15),
    cells_hash text not null,
    geom text,
    min_lon real, min_lat real, max_lon real, max_lat real
);
create index grid_town_idx on grid (town_code);
create index grid_zone_idx on grid (zone_code);
create index grid_bbox_idx on grid (min_lon, max_lon);

create table grid_cell (
    grid_id integer not null references grid (id) on delete cascade,
    cell integer not null,
    primary key (grid_id, cell)
);
create index grid_cell_cell_idx on grid_cell (cell);

create table district (
    id integer primary key,
    code text not null unique,
    name text not null,
    one_stop_plan integer not null default 0,
    properties text not null default '{}',
    geom text not null,
    min_lon real not null, min_lat real not null, max_lon real not null, max_lat real not null
);

create table venue (
    id integer primary key,
    code text not null unique,
    name text not null,
    kind text not null check (kind in ('mall', 'school', 'hospital', 'station', 'market', 'hotel', 'venue')),
    proxy integer not null default 0,
    source text not null default '',
    geom text not null,
    min_lon real not null, min_lat real not null, max_lon real not null, max_lat real not null
);
create index venue_bbox_idx on venue (min_lon, max_lon);

create table project (
    id integer primary key,
    code text not null unique,
    name text not null,
    category text not null check (category in (
        'new_build', 'alteration', 'extension', 'repair', 'municipal',
        'water', 'pipeline', 'greening', 'fit_out')),
    funding text not null check (funding in ('government', 'collective', 'social')),
    investment_cny integer not null check (investment_cny >= 0),
    floor_area_m2 real check (floor_area_m2 >= 0),
    status text not null check (status in ('discovered', 'filed', 'notified', 'in_progress', 'completed')),
    started_on text,
    completed_on text,
    hot_work integer not null default 0,
    insulation integer not null default 0,
    steel_mezzanine integer not null default 0,
    insured integer not null default 0,
    address text not null default '',
    town_code text references town (code),
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    geom text not null,
    min_lon real not null, min_lat real not null, max_lon real not null, max_lat real not null
);
create index project_town_idx on project (town_code);
create index project_bbox_idx on project (min_lon, max_lon);
