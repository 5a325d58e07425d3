-- The foundation: the administrative and supervision layers, venues,
-- commercial districts and works. Every geometry is WGS-84 (SRID 4326) with a
-- GiST index so that QGIS and bbox queries use it. Natural keys (code) make
-- imports idempotent; the serial ids are what the API hands out.

create extension if not exists postgis;

create table town (
    id bigserial primary key,
    code text not null unique,
    name text not null,
    name_en text not null default '',
    kind text not null check (kind in ('subdistrict', 'town', 'development_zone')),
    approximate boolean not null default false,
    note text not null default '',
    geom geometry(MultiPolygon, 4326) not null
);
create index town_geom_idx on town using gist (geom);

create table zone (
    id bigserial primary key,
    code text not null unique,
    name text not null,
    town_code text not null references town (code),
    manager text not null default '',
    -- the union of the zone's grids; null until its grids are known
    geom geometry(MultiPolygon, 4326)
);
create index zone_geom_idx on zone using gist (geom);
create index zone_town_idx on zone (town_code);

create table grid (
    id bigserial primary key,
    code text not null unique,
    name text not null,
    zone_code text not null references zone (code),
    town_code text not null references town (code),
    manager text not null default '',
    patrol_interval_days integer not null check (patrol_interval_days between 1 and 90),
    resolution smallint not null check (resolution between 0 and 15),
    -- sha-256 of the compacted cell list, so an unchanged re-import is a no-op
    cells_hash text not null,
    geom geometry(MultiPolygon, 4326)
);
create index grid_geom_idx on grid using gist (geom);
create index grid_town_idx on grid (town_code);
create index grid_zone_idx on grid (zone_code);

-- The grid's cells, compacted as DESIGN.md asks. An H3 index is a u64 whose
-- top bit is always 0, so it fits a signed bigint unchanged.
create table grid_cell (
    grid_id bigint not null references grid (id) on delete cascade,
    cell bigint not null,
    primary key (grid_id, cell)
);
create index grid_cell_cell_idx on grid_cell (cell);

create table district (
    id bigserial primary key,
    code text not null unique,
    name text not null,
    one_stop_plan boolean not null default false,
    properties jsonb not null default '{}',
    geom geometry(MultiPolygon, 4326) not null
);
create index district_geom_idx on district using gist (geom);

create table venue (
    id bigserial primary key,
    code text not null unique,
    name text not null,
    kind text not null check (kind in ('mall', 'school', 'hospital', 'station', 'market', 'hotel', 'venue')),
    proxy boolean not null default false,
    source text not null default '',
    geom geometry(Geometry, 4326) not null
        check (geometrytype(geom) in ('POINT', 'POLYGON', 'MULTIPOLYGON'))
);
create index venue_geom_idx on venue using gist (geom);

create table project (
    id bigserial primary key,
    code text not null unique,
    name text not null,
    category text not null check (category in (
        'new_build', 'alteration', 'extension', 'repair', 'municipal',
        'water', 'pipeline', 'greening', 'fit_out')),
    funding text not null check (funding in ('government', 'collective', 'social')),
    investment_cny bigint not null check (investment_cny >= 0),
    floor_area_m2 double precision check (floor_area_m2 >= 0),
    status text not null check (status in ('discovered', 'filed', 'notified', 'in_progress', 'completed')),
    started_on date,
    completed_on date,
    hot_work boolean not null default false,
    insulation boolean not null default false,
    steel_mezzanine boolean not null default false,
    insured boolean not null default false,
    address text not null default '',
    town_code text references town (code),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    geom geometry(Geometry, 4326) not null
        check (geometrytype(geom) in ('POINT', 'POLYGON', 'MULTIPOLYGON'))
);
create index project_geom_idx on project using gist (geom);
create index project_town_idx on project (town_code);
