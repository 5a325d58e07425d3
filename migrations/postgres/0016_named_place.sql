-- Named places (bus stops, 公交站) that name cells, route stops and blind
-- spots for people and label the desk map at street zoom. Reference data,
-- replaced as a whole by `import places`, like the road network.
create table named_place (
    id bigserial primary key,
    -- 'stop' (a bus stop)
    kind text not null,
    name text not null,
    -- the source's own code, if any
    code text not null default '',
    lon double precision not null,
    lat double precision not null,
    -- the file it came from
    source text not null default ''
);
create index named_place_lon_lat on named_place (lon, lat);
