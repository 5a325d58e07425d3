-- The data version: one counter that every write changing a coverage or
-- blind-spot answer moves, so that a cached answer is known to be current
-- by one primary-key read, whichever process wrote (the server, or the CLI
-- importing into the same file).
--
-- SQLite triggers are per row. The per-visit table (cell_visit) and the
-- grid cells (grid_cell) carry none: they are only written together with
-- their track or grid row, whose trigger moves the counter, and bulk
-- inserts of millions of visits stay fast. A write that only touches
-- routes, users, tokens or the audit trail changes no such answer.
create table data_version (
    id integer primary key check (id = 1),
    version integer not null
);
insert into data_version (id, version) values (1, 1);

create trigger town_insert_data_version after insert on town
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger town_update_data_version after update on town
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger town_delete_data_version after delete on town
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger zone_insert_data_version after insert on zone
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger zone_update_data_version after update on zone
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger zone_delete_data_version after delete on zone
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger grid_insert_data_version after insert on grid
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger grid_update_data_version after update on grid
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger grid_delete_data_version after delete on grid
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger district_insert_data_version after insert on district
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger district_update_data_version after update on district
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger district_delete_data_version after delete on district
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger venue_insert_data_version after insert on venue
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger venue_update_data_version after update on venue
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger venue_delete_data_version after delete on venue
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger project_insert_data_version after insert on project
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger project_update_data_version after update on project
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger project_delete_data_version after delete on project
begin
    update data_version set version = version + 1 where id = 1;
end;

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

create trigger inspection_insert_data_version after insert on inspection
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger inspection_update_data_version after update on inspection
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger inspection_delete_data_version after delete on inspection
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger hazard_insert_data_version after insert on hazard
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger hazard_update_data_version after update on hazard
begin
    update data_version set version = version + 1 where id = 1;
end;

create trigger hazard_delete_data_version after delete on hazard
begin
    update data_version set version = version + 1 where id = 1;
end;
