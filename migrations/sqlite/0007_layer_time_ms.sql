-- The last text times on SQLite: the `created_at`/`updated_at` of the
-- layer tables of 0001 (only `project` keeps them) become integer
-- milliseconds since the epoch in `created_ms`/`updated_ms`, as every other
-- time is since 0006. The table is rebuilt in place, keeping its ids.
--
-- As in 0006 the migration runs in one transaction with `foreign_keys` on,
-- so the tables that refer to `project` (inspection, hazard, and hazard_event
-- below hazard) are rebuilt with it, referring to the new tables; the old
-- children are dropped before their parents and the new tables renamed, so
-- no step leaves a dangling reference. Their indexes are created again.

create table project_new (
    id integer primary key,
    code text not null unique,
    name text not null,
    category text not null check (category in (
        'new_build', 'alteration', 'extension', 'repair', 'municipal',
        'water', 'pipeline', 'greening', 'fit_out')),
    funding text not null check (funding in ('government', 'collective', 'social')),
    investment_cny integer not null check (investment_cny >= 0),
    floor_area_m2 real check (floor_area_m2 >= 0),
    status text not null check (status in ('discovered', 'filed', 'notified', 'in_progress', 'completed')),
    started_on text,
    completed_on text,
    hot_work integer not null default 0,
    insulation integer not null default 0,
    steel_mezzanine integer not null default 0,
    insured integer not null default 0,
    address text not null default '',
    town_code text references town (code),
    created_ms integer not null default (cast(round(unixepoch('now', 'subsec') * 1000) as integer)),
    updated_ms integer not null default (cast(round(unixepoch('now', 'subsec') * 1000) as integer)),
    geom text not null,
    min_lon real not null, min_lat real not null, max_lon real not null, max_lat real not null
);
insert into project_new (id, code, name, category, funding, investment_cny, floor_area_m2, status,
    started_on, completed_on, hot_work, insulation, steel_mezzanine, insured, address, town_code,
    created_ms, updated_ms, geom, min_lon, min_lat, max_lon, max_lat)
select id, code, name, category, funding, investment_cny, floor_area_m2, status,
    started_on, completed_on, hot_work, insulation, steel_mezzanine, insured, address, town_code,
    cast(round(unixepoch(created_at, 'subsec') * 1000) as integer),
    cast(round(unixepoch(updated_at, 'subsec') * 1000) as integer),
    geom, min_lon, min_lat, max_lon, max_lat
from project;

create table inspection_new (
    id integer primary key,
    project_id integer not null references project_new (id),
    inspected_ms integer not null,
    inspector text not null,
    note text not null default '',
    recorded_by text not null,
    recorded_ms integer not null
);
insert into inspection_new (id, project_id, inspected_ms, inspector, note, recorded_by, recorded_ms)
select id, project_id, inspected_ms, inspector, note, recorded_by, recorded_ms
from inspection;

create table hazard_new (
    id integer primary key,
    inspection_id integer not null references inspection_new (id),
    project_id integer not null references project_new (id),
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
    found_ms, closed_ms, updated_ms
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
select id, hazard_id, from_status, to_status, changed_ms, changed_by, note
from hazard_event;

-- children first, so that no drop leaves a reference to a table already gone
drop table hazard_event;
drop table hazard;
drop table inspection;
drop table project;

alter table project_new rename to project;
alter table inspection_new rename to inspection;
alter table hazard_new rename to hazard;
alter table hazard_event_new rename to hazard_event;

create index project_town_idx on project (town_code);
create index project_bbox_idx on project (min_lon, max_lon);

create index inspection_project_idx on inspection (project_id, inspected_ms);
create index inspection_time_idx on inspection (inspected_ms);
create index hazard_project_idx on hazard (project_id);
create index hazard_inspection_idx on hazard (inspection_id);
create index hazard_open_deadline_idx on hazard (deadline) where status in ('open', 'rectifying');
create index hazard_event_hazard_idx on hazard_event (hazard_id, changed_ms);
