-- The routable road network and the planned patrol routes (巡查路线).
--
-- The road network is one graph, replaced as a whole by each import (one
-- transaction): road_network holds one row describing it, whose id changes
-- with every import so that a service instance knows when its cached graph
-- is stale; road_node and road_edge are the graph itself, so that a GIS user
-- can open the network the planner routes on.

create table road_network (
    id bigserial primary key,
    -- the file it was imported from, e.g. songjiang_roads.geojson
    source text not null,
    imported_at timestamptz not null default now(),
    node_count integer not null check (node_count >= 0),
    edge_count integer not null check (edge_count >= 0),
    length_m double precision not null check (length_m >= 0)
);

-- Nodes are junctions and dead ends; id is the node's index in the graph.
create table road_node (
    id integer primary key check (id >= 0),
    geom geometry(Point, 4326) not null
);
create index road_node_geom_idx on road_node using gist (geom);

-- Undirected edges; geom runs from from_node to to_node; id is the edge's
-- index in the graph, so a re-import reproduces the graph exactly.
create table road_edge (
    id integer primary key check (id >= 0),
    from_node integer not null references road_node (id),
    to_node integer not null references road_node (id),
    -- road (OpenStreetMap), bus_route or lattice (the demo network)
    kind text not null check (kind in ('road', 'bus_route', 'lattice')),
    -- geodesic metres
    length_m double precision not null check (length_m >= 0),
    geom geometry(LineString, 4326) not null
);
create index road_edge_geom_idx on road_edge using gist (geom);

-- A planned route: a patrol through targets (kind 'patrol') or a street
-- sweep (扫街, kind 'sweep'), for a grid or a whole zone, on a date.
create table route (
    id bigserial primary key,
    kind text not null check (kind in ('patrol', 'sweep')),
    -- the area planned for: a grid, or a zone (grid_id and grid_code null);
    -- the codes are kept so that scope filters need no join
    grid_id bigint references grid (id) on delete set null,
    zone_id bigint references zone (id) on delete set null,
    grid_code text,
    zone_code text not null,
    town_code text not null,
    route_date date not null,
    -- when the shift starts, the time the stops' ETAs count from
    starts_at timestamptz not null,
    -- the officer it is assigned to; null until assigned
    officer text,
    mode text not null check (mode in ('walk', 'ebike')),
    -- the budget: the shift length, and the minutes spent at each work
    shift_minutes double precision not null check (shift_minutes > 0),
    service_minutes double precision not null check (service_minutes >= 0),
    distance_m double precision not null check (distance_m >= 0),
    duration_s double precision not null check (duration_s >= 0),
    -- expected coverage gain: overdue or never-patrolled cells the route covers
    new_cells integer not null check (new_cells >= 0),
    -- false: distances are straight lines times a detour factor (no road graph)
    road_network boolean not null,
    -- adherence once the officer's track of that date is known: the share of
    -- stops reached and of the planned path walked (null: not known yet)
    adherence_stops double precision check (adherence_stops between 0 and 1),
    adherence_path double precision check (adherence_path between 0 and 1),
    adherence jsonb,
    -- what does not need a column: targets left out and why, the new cells,
    -- sweep figures, the request as given
    details jsonb not null default '{}',
    created_by text not null,
    created_at timestamptz not null default now(),
    geom geometry(LineString, 4326) not null
);
create index route_geom_idx on route using gist (geom);
create index route_date_idx on route (route_date);
create index route_officer_idx on route (officer, route_date);
create index route_town_idx on route (town_code);

-- The ordered stops of a route, as points a GIS user can label.
create table route_stop (
    route_id bigint not null references route (id) on delete cascade,
    -- 1-based order along the route
    ord integer not null check (ord >= 1),
    kind text not null check (kind in ('cell', 'work')),
    -- an H3 cell index (hex) or a work's code
    target_id text not null,
    priority double precision not null,
    -- seconds from the start of the shift
    arrival_s double precision not null,
    departure_s double precision not null,
    eta timestamptz not null,
    geom geometry(Point, 4326) not null,
    primary key (route_id, ord)
);
create index route_stop_geom_idx on route_stop using gist (geom);
