-- Patrol tracks and the H3 cells they covered. A track keeps its cleaned
-- vertices as a MultiLineString (one line per GPS segment) with the time of
-- every vertex in times_ms, in vertex order. cell_visit holds, per track and
-- cell, the first and last time the officer was within sighting distance, so
-- any time window can be answered without re-reading the tracks.

create table track (
    id bigserial primary key,
    officer text not null,
    device text not null default '',
    name text not null default '',
    -- sha-256 of the cleaned (lon, lat, t) sequence: a repeated upload is
    -- recognised whatever its file looked like
    fingerprint text not null unique,
    started_at timestamptz not null,
    ended_at timestamptz not null,
    point_count integer not null check (point_count >= 0),
    length_m double precision not null check (length_m >= 0),
    -- the coverage parameters the cells were computed with
    resolution smallint not null check (resolution between 7 and 12),
    sighting_m double precision not null check (sighting_m > 0),
    -- a live track still accepts points
    open boolean not null default false,
    report jsonb not null default '{}',
    times_ms bigint[] not null,
    created_at timestamptz not null default now(),
    geom geometry(MultiLineString, 4326) not null
);
create index track_geom_idx on track using gist (geom);
create index track_time_idx on track (started_at, ended_at);
create index track_officer_idx on track (officer);

create table cell_visit (
    track_id bigint not null references track (id) on delete cascade,
    -- an H3 index (u64 with the top bit clear) as a signed bigint
    cell bigint not null,
    first_ms bigint not null,
    last_ms bigint not null check (last_ms >= first_ms),
    primary key (track_id, cell)
);
create index cell_visit_cell_idx on cell_visit (cell, last_ms);
create index cell_visit_time_idx on cell_visit (first_ms);
