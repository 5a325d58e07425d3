-- Durability. A live track carries a revision: an append rewrites the track
-- only if the revision it read is still the stored one, so two appends at
-- once never overwrite each other's points (the later one reads again).
-- service_probe is the row /health writes to find out whether the database
-- takes writes (a full disk, a read-only database) and not only reads.

alter table track add column revision bigint not null default 0;

create table service_probe (
    id integer primary key check (id = 1),
    at timestamptz not null default now()
);
insert into service_probe (id) values (1);
