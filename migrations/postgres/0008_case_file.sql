-- The case file of every work (一工地一档): parties (参建单位) named by role,
-- the append-only records the evaluation reads (备案, 告知承诺, 查处, 移送,
-- 保险, 动火审批, 保温材料备案, 不属于小微工程), attachments stored once by
-- their SHA-256, and what an inspection records beyond its time and note.
--
-- No row here is ever updated or deleted: a correction is a new row that
-- names the row it corrects (`corrects`), and the newest naming of a role
-- stands. A record's fields beyond the few that are queried live in `body`
-- (the record as the API takes it), its kind deciding their shape.

create table party (
    id bigserial primary key,
    name text not null,
    -- 统一社会信用代码, checked (GB 32100-2015) before it is stored
    uscc text not null unique check (length(uscc) = 18),
    contact text not null default '',
    phone text not null default '',
    recorded_by text not null,
    recorded_at timestamptz not null
);

create table project_party (
    id bigserial primary key,
    project_id bigint not null references project (id),
    party_id bigint not null references party (id),
    role text not null check (role in ('builder', 'contractor', 'safety_service')),
    recorded_by text not null,
    recorded_at timestamptz not null
);
create index project_party_project_idx on project_party (project_id, role);

create table case_record (
    id bigserial primary key,
    project_id bigint not null references project (id),
    kind text not null check (kind in (
        'filing', 'notice', 'enforcement', 'handover', 'policy',
        'hot_work_permit', 'insulation_filing', 'out_of_scope')),
    -- the day the record is about (filing date, served on, …): the ledger's windows
    on_day date not null,
    -- the filing or document number, where the record has one
    number text,
    corrects bigint references case_record (id),
    body jsonb not null,
    recorded_by text not null,
    recorded_at timestamptz not null
);
create index case_record_project_idx on case_record (project_id, kind);
create index case_record_day_idx on case_record (on_day);

-- A file's bytes, once per content.
create table blob (
    sha256 text primary key check (length(sha256) = 64),
    media_type text not null,
    size_bytes bigint not null,
    bytes bytea not null,
    -- a photo's EXIF time and position, when it has them
    taken_at timestamptz,
    lon double precision,
    lat double precision
);

-- An upload: a file on a work, by whom and when.
create table attachment (
    id bigserial primary key,
    sha256 text not null references blob (sha256),
    project_id bigint not null references project (id),
    file_name text not null default '',
    uploaded_by text not null,
    uploaded_at timestamptz not null
);
create index attachment_project_idx on attachment (project_id);

-- What the field records at an inspection beyond time, inspector and note:
-- the checklist, photos, the parties present and the inspector's position.
create table inspection_detail (
    inspection_id bigint primary key references inspection (id),
    detail jsonb not null,
    lon double precision,
    lat double precision,
    -- geodesic metres from the inspector's position to the work
    distance_m double precision
);

-- case records move blind-spot answers (hand-overs, permits, filings)
create constraint trigger case_record_data_version after insert or update or delete on case_record
    deferrable initially deferred for each row execute function bump_data_version();
