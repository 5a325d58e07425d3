-- When a route was last assigned (epoch ms): each assignment is a new fact
-- for the notifier, so an officer given a route again hears of it again.
alter table route add column assigned_ms bigint;
update route set assigned_ms = (extract(epoch from created_at) * 1000)::bigint where officer is not null;

-- Assigning a route (or taking it back) moves the data version, so that the
-- notifier tells the officer within seconds of the write, from any instance.
create constraint trigger route_assignment_data_version after update of officer on route
    deferrable initially deferred for each row
    when (old.officer is distinct from new.officer)
    execute function bump_data_version();
