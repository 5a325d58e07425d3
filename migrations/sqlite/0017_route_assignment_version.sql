-- When a route was last assigned (epoch ms): each assignment is a new fact
-- for the notifier, so an officer given a route again hears of it again.
alter table route add column assigned_ms integer;

-- Assigning a route (or taking it back) moves the data version, so that the
-- notifier tells the officer within seconds of the write.
create trigger route_assignment_data_version after update of officer on route
when old.officer is not new.officer
begin
    update data_version set version = version + 1 where id = 1;
end;
