-- The road network and planned routes, mirroring the PostGIS schema (see
-- there). Geometries are GeoJSON text, times milliseconds since the epoch,
-- dates 'YYYY-MM-DD'.

create table road_network (
    -- autoincrement: an id is never reused, so it tells imports apart
    id integer primary key autoincrement,
    source text not null,
    imported_ms integer not null,
    node_count integer not null check (node_count >= 0),
    edge_count integer not null check (edge_count >= 0),
    length_m real not null check (length_m >= 0)
);

create table road_node (
    id integer primary key check (id >= 0),
    lon real not null,
    lat real not null
);

create table road_edge (
    id integer primary key check (id >= 0),
    from_node integer not null references road_node (id),
    to_node integer not null references road_node (id),
    kind text not null check (kind in ('road', 'bus_route', 'lattice')),
    length_m real not null check (length_m >= 0),
    geom text not null
);

create table route (
    id integer primary key,
    kind text not null check (kind in ('patrol', 'sweep')),
    grid_id integer references grid (id) on delete set null,
    zone_id integer references zone (id) on delete set null,
    grid_code text,
    zone_code text not null,
    town_code text not null,
    route_date text not null,
    starts_ms integer not null,
    officer text,
    mode text not null check (mode in ('walk', 'ebike')),
    shift_minutes real not null check (shift_minutes > 0),
    service_minutes real not null check (service_minutes >= 0),
    distance_m real not null check (distance_m >= 0),
    duration_s real not null check (duration_s >= 0),
    new_cells integer not null check (new_cells >= 0),
    road_network integer not null,
    adherence_stops real check (adherence_stops between 0 and 1),
    adherence_path real check (adherence_path between 0 and 1),
    adherence text,
    details text not null default '{}',
    created_by text not null,
    created_ms integer not null,
    geom text not null
);
create index route_date_idx on route (route_date);
create index route_officer_idx on route (officer, route_date);
create index route_town_idx on route (town_code);

create table route_stop (
    route_id integer not null references route (id) on delete cascade,
    ord integer not null check (ord >= 1),
    kind text not null check (kind in ('cell', 'work')),
    target_id text not null,
    priority real not null,
    arrival_s real not null,
    departure_s real not null,
    eta_ms integer not null,
    lon real not null,
    lat real not null,
    primary key (route_id, ord)
);
