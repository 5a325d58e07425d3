-- Durability (see the PostGIS migration 0007): a track's revision for
-- appends, and the row /health writes to.
--
-- The track table is rebuilt with AUTOINCREMENT so an id, once given out,
-- is never given again, whatever happens to the row. As in 0006 the
-- rebuild runs in one transaction with `foreign_keys` on: cell_visit, which
-- refers to track, is rebuilt with it, children dropped before parents.

create table track_new (
    id integer primary key autoincrement,
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
    min_lon real not null, min_lat real not null, max_lon real not null, max_lat real not null,
    revision integer not null default 0
);
insert into track_new (id, officer, device, name, fingerprint, started_ms, ended_ms, point_count,
    length_m, resolution, sighting_m, open, report, times_ms, created_ms, geom,
    min_lon, min_lat, max_lon, max_lat)
select id, officer, device, name, fingerprint, started_ms, ended_ms, point_count,
    length_m, resolution, sighting_m, open, report, times_ms, created_ms, geom,
    min_lon, min_lat, max_lon, max_lat
from track;

create table cell_visit_new (
    track_id integer not null references track_new (id) on delete cascade,
    cell integer not null,
    first_ms integer not null,
    last_ms integer not null check (last_ms >= first_ms),
    primary key (track_id, cell)
);
insert into cell_visit_new select track_id, cell, first_ms, last_ms from cell_visit;

drop table cell_visit;
drop table track;
alter table track_new rename to track;
alter table cell_visit_new rename to cell_visit;

create index track_time_idx on track (started_ms, ended_ms);
create index track_officer_idx on track (officer);
create index cell_visit_cell_idx on cell_visit (cell, last_ms);
create index cell_visit_time_idx on cell_visit (first_ms);

-- the triggers of 0008 went with the old table
create trigger track_insert_data_version after insert on track
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger track_update_data_version after update on track
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger track_delete_data_version after delete on track
begin
    update data_version set version = version + 1 where id = 1;
end;

create table service_probe (
    id integer primary key check (id = 1),
    at_ms integer not null default 0
);
insert into service_probe (id) values (1);
