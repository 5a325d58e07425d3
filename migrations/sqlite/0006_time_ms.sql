-- One time encoding on SQLite: every time is integer milliseconds since the
-- epoch in a `*_ms` column, as the tracks (0002) and routes (0005) already
-- are. The RFC 3339 text times of access control (0003) and inspections
-- (0004) are converted in place: each table is rebuilt with the new columns,
-- its rows copied with the conversion, the old table dropped and the new one
-- renamed, then its indexes and triggers created again.
--
-- The migration runs in one transaction, where `foreign_keys` cannot be
-- switched off: the new tables refer to the new tables (renaming a table
-- rewrites the references to it), and the old children are dropped before
-- their parents, so no step leaves a dangling reference.

create table app_user_new (
    id integer primary key,
    name text not null unique,
    role text not null check (role in ('admin', 'town', 'grid_manager', 'officer', 'viewer')),
    scope text not null,
    created_ms integer not null
);
insert into app_user_new (id, name, role, scope, created_ms)
select id, name, role, scope, cast(round(unixepoch(created_at, 'subsec') * 1000) as integer)
from app_user;

create table api_token_new (
    id text primary key,
    user_id integer not null references app_user_new (id),
    salt blob not null,
    hash blob not null,
    created_ms integer not null,
    expires_ms integer,
    revoked_ms integer
);
insert into api_token_new (id, user_id, salt, hash, created_ms, expires_ms, revoked_ms)
select id, user_id, salt, hash,
    cast(round(unixepoch(created_at, 'subsec') * 1000) as integer),
    cast(round(unixepoch(expires_at, 'subsec') * 1000) as integer),
    cast(round(unixepoch(revoked_at, 'subsec') * 1000) as integer)
from api_token;

create table audit_event_new (
    id integer primary key,
    at_ms integer not null,
    user_id integer references app_user_new (id),
    user_name text not null,
    role text not null,
    method text not null,
    path text not null,
    entity text,
    entity_id text,
    status integer not null,
    before text
);
insert into audit_event_new (id, at_ms, user_id, user_name, role, method, path, entity, entity_id, status, before)
select id, cast(round(unixepoch(at, 'subsec') * 1000) as integer),
    user_id, user_name, role, method, path, entity, entity_id, status, before
from audit_event;

create table inspection_new (
    id integer primary key,
    project_id integer not null references project (id),
    inspected_ms integer not null,
    inspector text not null,
    note text not null default '',
    recorded_by text not null,
    recorded_ms integer not null
);
insert into inspection_new (id, project_id, inspected_ms, inspector, note, recorded_by, recorded_ms)
select id, project_id,
    cast(round(unixepoch(inspected_at, 'subsec') * 1000) as integer),
    inspector, note, recorded_by,
    cast(round(unixepoch(recorded_at, 'subsec') * 1000) as integer)
from inspection;

create table hazard_new (
    id integer primary key,
    inspection_id integer not null references inspection_new (id),
    project_id integer not null references project (id),
    kind text not null check (kind in (
        'scaffold_guardrail_missing', 'scaffold_pole_spacing', 'ladder_at_height',
        'no_switch_box', 'power_from_secondary_box', 'extension_board',
        'no_safety_briefing', 'missing_plan', 'steel_mezzanine',
        'unpermitted_above_limit', 'hot_work_without_permit', 'insulation_material', 'other')),
    severity text not null check (severity in ('general', 'serious', 'major')),
    deadline text not null,
    status text not null check (status in ('open', 'rectifying', 'verified', 'closed')),
    note text not null default '',
    found_ms integer not null,
    closed_ms integer,
    updated_ms integer not null,
    check ((status = 'closed') = (closed_ms is not null))
);
insert into hazard_new (id, inspection_id, project_id, kind, severity, deadline, status, note,
    found_ms, closed_ms, updated_ms)
select id, inspection_id, project_id, kind, severity, deadline, status, note,
    cast(round(unixepoch(found_at, 'subsec') * 1000) as integer),
    cast(round(unixepoch(closed_at, 'subsec') * 1000) as integer),
    cast(round(unixepoch(updated_at, 'subsec') * 1000) as integer)
from hazard;

create table hazard_event_new (
    id integer primary key,
    hazard_id integer not null references hazard_new (id),
    from_status text check (from_status in ('open', 'rectifying', 'verified', 'closed')),
    to_status text not null check (to_status in ('open', 'rectifying', 'verified', 'closed')),
    changed_ms integer not null,
    changed_by text not null,
    note text not null default ''
);
insert into hazard_event_new (id, hazard_id, from_status, to_status, changed_ms, changed_by, note)
select id, hazard_id, from_status, to_status,
    cast(round(unixepoch(changed_at, 'subsec') * 1000) as integer),
    changed_by, note
from hazard_event;

-- children first, so that no drop leaves a reference to a table already gone
drop table hazard_event;
drop table hazard;
drop table inspection;
drop table audit_event;
drop table api_token;
drop table app_user;

alter table app_user_new rename to app_user;
alter table api_token_new rename to api_token;
alter table audit_event_new rename to audit_event;
alter table inspection_new rename to inspection;
alter table hazard_new rename to hazard;
alter table hazard_event_new rename to hazard_event;

create index api_token_user_idx on api_token (user_id);
create index audit_event_user_idx on audit_event (user_name, id);
create index audit_event_entity_idx on audit_event (entity, entity_id, id);
create trigger audit_event_no_update before update on audit_event
begin
    select raise(abort, 'the audit trail is append-only');
end;
create trigger audit_event_no_delete before delete on audit_event
begin
    select raise(abort, 'the audit trail is append-only');
end;

create index inspection_project_idx on inspection (project_id, inspected_ms);
create index inspection_time_idx on inspection (inspected_ms);
create index hazard_project_idx on hazard (project_id);
create index hazard_inspection_idx on hazard (inspection_id);
create index hazard_open_deadline_idx on hazard (deadline) where status in ('open', 'rectifying');
create index hazard_event_hazard_idx on hazard_event (hazard_id, changed_ms);
