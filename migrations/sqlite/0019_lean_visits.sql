-- Cell visits with the B-trees their reads need and nothing more (see the
-- PostGIS migration 0017): a day of district patrols writes some 600,000
-- visits, and each one went into a rowid table, the primary key's own
-- index, (cell, last_ms) and (first_ms), after a foreign-key lookup.
--
-- * The table is keyed by (track_id, cell) itself (WITHOUT ROWID): one
--   B-tree holds the rows and serves a track's visits and the upsert of a
--   live track's.
-- * The foreign key goes. Visits are only ever written in the transaction
--   that inserts or updates their track, so the check could never fail;
--   removing a track's visits with the track is a trigger now.
-- * The index on first_ms goes: a visit lies within its track's span, so
--   the visits of a time window are found through the tracks of that
--   window (track_time_idx) and the key.
create table cell_visit_new (
    track_id integer not null,
    cell integer not null,
    first_ms integer not null,
    last_ms integer not null check (last_ms >= first_ms),
    primary key (track_id, cell)
) without rowid;
insert into cell_visit_new select track_id, cell, first_ms, last_ms from cell_visit
order by track_id, cell;
drop table cell_visit;
alter table cell_visit_new rename to cell_visit;
create index cell_visit_cell_idx on cell_visit (cell, last_ms);

create trigger track_delete_visits after delete on track
begin
    delete from cell_visit where track_id = old.id;
end;
