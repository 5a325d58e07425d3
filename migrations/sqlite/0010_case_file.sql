-- The case file of every work (一工地一档), mirroring the PostGIS schema
-- (see migrations/postgres/0008_case_file.sql): times are integer
-- milliseconds in `*_ms` columns, dates 'YYYY-MM-DD' text, JSON as text.

create table party (
    id integer primary key,
    name text not null,
    uscc text not null unique check (length(uscc) = 18),
    contact text not null default '',
    phone text not null default '',
    recorded_by text not null,
    recorded_ms integer not null
);

create table project_party (
    id integer primary key,
    project_id integer not null references project (id),
    party_id integer not null references party (id),
    role text not null check (role in ('builder', 'contractor', 'safety_service')),
    recorded_by text not null,
    recorded_ms integer not null
);
create index project_party_project_idx on project_party (project_id, role);

create table case_record (
    id integer primary key,
    project_id integer not null references project (id),
    kind text not null check (kind in (
        'filing', 'notice', 'enforcement', 'handover', 'policy',
        'hot_work_permit', 'insulation_filing', 'out_of_scope')),
    on_day text not null,
    number text,
    corrects integer references case_record (id),
    body text not null,
    recorded_by text not null,
    recorded_ms integer not null
);
create index case_record_project_idx on case_record (project_id, kind);
create index case_record_day_idx on case_record (on_day);

create table blob (
    sha256 text primary key check (length(sha256) = 64),
    media_type text not null,
    size_bytes integer not null,
    bytes blob not null,
    taken_ms integer,
    lon real,
    lat real
);

create table attachment (
    id integer primary key,
    sha256 text not null references blob (sha256),
    project_id integer not null references project (id),
    file_name text not null default '',
    uploaded_by text not null,
    uploaded_ms integer not null
);
create index attachment_project_idx on attachment (project_id);

create table inspection_detail (
    inspection_id integer primary key references inspection (id),
    detail text not null,
    lon real,
    lat real,
    distance_m real
);

create trigger case_record_insert_data_version after insert on case_record
begin
    update data_version set version = version + 1 where id = 1;
end;
