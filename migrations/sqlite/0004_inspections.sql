-- Inspections, hazards and hazard history, mirroring the PostGIS schema.
-- Times are RFC 3339 UTC text with milliseconds ('%Y-%m-%dT%H:%M:%fZ'), so
-- that text order is time order; dates are 'YYYY-MM-DD'.

create table inspection (
    id integer primary key,
    project_id integer not null references project (id),
    inspected_at text not null,
    inspector text not null,
    note text not null default '',
    recorded_by text not null,
    recorded_at text not null
);
create index inspection_project_idx on inspection (project_id, inspected_at);
create index inspection_time_idx on inspection (inspected_at);

create table hazard (
    id integer primary key,
    inspection_id integer not null references inspection (id),
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
    found_at text not null,
    closed_at text,
    updated_at text not null,
    check ((status = 'closed') = (closed_at is not null))
);
create index hazard_project_idx on hazard (project_id);
create index hazard_inspection_idx on hazard (inspection_id);
create index hazard_open_deadline_idx on hazard (deadline) where status in ('open', 'rectifying');

create table hazard_event (
    id integer primary key,
    hazard_id integer not null references hazard (id),
    from_status text check (from_status in ('open', 'rectifying', 'verified', 'closed')),
    to_status text not null check (to_status in ('open', 'rectifying', 'verified', 'closed')),
    changed_at text not null,
    changed_by text not null,
    note text not null default ''
);
create index hazard_event_hazard_idx on hazard_event (hazard_id, changed_at);
