-- Cell visits with the indexes their reads need and nothing more: a day of
-- district patrols writes some 600,000 visits, and each one paid for a
-- foreign-key check and three B-trees.
--
-- * The foreign key to track goes. Visits are only ever written in the
--   transaction that inserts or updates (and so locks) their track, so the
--   check could never fail; what it gave besides, removing a track's visits
--   with the track, is a trigger now.
-- * The index on first_ms goes. A visit lies within its track's span (its
--   times are those of the track's fixes), so the visits of a time window
--   are found through the tracks of that window (track_time_idx) and the
--   primary key (track_id, cell).
-- * What stays: the primary key (a track's visits, the upsert of a live
--   track's) and (cell, last_ms) for the cells' histories.
alter table cell_visit drop constraint if exists cell_visit_track_id_fkey;
drop index if exists cell_visit_time_idx;

create function delete_track_visits() returns trigger
language plpgsql as $$
begin
    delete from cell_visit v using gone g where v.track_id = g.id;
    return null;
end
$$;

create trigger track_delete_visits after delete on track
    referencing old table as gone
    for each statement execute function delete_track_visits();
