-- The data version: one counter that every write changing a coverage or
-- blind-spot answer moves, so that a cached answer is known to be current
-- by one primary-key read, whichever process or instance wrote.
--
-- The counter moves once per transaction, at its commit: the triggers are
-- deferred constraint triggers (PostgreSQL defers only row triggers), and
-- the first of a transaction marks it in a transaction-local setting so
-- that the rest return at once. Moving it at commit keeps the lock on the
-- one counter row as short as a commit, so writers of unrelated rows do not
-- queue behind it, and cannot deadlock on it: by then a transaction holds
-- every other lock it will take. The new version is visible exactly when
-- the data is (the same commit), so a reader that reads the version before
-- the data never caches old data under a new version. The new version is
-- announced on the channel `gridpatrol_data` (delivered at commit) for
-- other instances to drop their caches.
--
-- The per-visit table (cell_visit) and the grid cells (grid_cell) carry no
-- trigger: they are only written together with their track or grid row,
-- whose trigger moves the counter, and bulk inserts of millions of visits
-- stay fast. Routes, users, tokens and the audit trail change no cached
-- answer.
create table data_version (
    id smallint primary key check (id = 1),
    version bigint not null
);
insert into data_version (id, version) values (1, 1);

create function bump_data_version() returns trigger
language plpgsql as $$
declare
    v bigint;
begin
    if current_setting('gridpatrol.data_version_bumped', true) = 'on' then
        return null;
    end if;
    perform set_config('gridpatrol.data_version_bumped', 'on', true);
    update data_version set version = version + 1 where id = 1 returning version into v;
    perform pg_notify('gridpatrol_data', v::text);
    return null;
end
$$;

create constraint trigger town_data_version after insert or update or delete on town
    deferrable initially deferred for each row execute function bump_data_version();

create constraint trigger zone_data_version after insert or update or delete on zone
    deferrable initially deferred for each row execute function bump_data_version();

create constraint trigger grid_data_version after insert or update or delete on grid
    deferrable initially deferred for each row execute function bump_data_version();

create constraint trigger district_data_version after insert or update or delete on district
    deferrable initially deferred for each row execute function bump_data_version();

create constraint trigger venue_data_version after insert or update or delete on venue
    deferrable initially deferred for each row execute function bump_data_version();

create constraint trigger project_data_version after insert or update or delete on project
    deferrable initially deferred for each row execute function bump_data_version();

create constraint trigger track_data_version after insert or update or delete on track
    deferrable initially deferred for each row execute function bump_data_version();

create constraint trigger inspection_data_version after insert or update or delete on inspection
    deferrable initially deferred for each row execute function bump_data_version();

create constraint trigger hazard_data_version after insert or update or delete on hazard
    deferrable initially deferred for each row execute function bump_data_version();
