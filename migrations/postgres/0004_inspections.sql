-- Inspections (检查记录), hazards (隐患) and every change of a hazard: the
-- closed loop 发现 → 查处 → 整改 → 销项 and the inspection ledger (检查台账).
-- Rows are never deleted or rewritten except a hazard's current status; its
-- history lives in hazard_event, one row per change with who and when.

create table inspection (
    id bigserial primary key,
    project_id bigint not null references project (id),
    inspected_at timestamptz not null,
    inspector text not null,
    note text not null default '',
    -- who entered the record and when, which may differ from the inspector
    recorded_by text not null,
    recorded_at timestamptz not null default now()
);
create index inspection_project_idx on inspection (project_id, inspected_at);
create index inspection_time_idx on inspection (inspected_at);

create table hazard (
    id bigserial primary key,
    inspection_id bigint not null references inspection (id),
    -- the inspection's work, kept here so per-work and per-town questions need no join
    project_id bigint not null references project (id),
    kind text not null check (kind in (
        'scaffold_guardrail_missing', 'scaffold_pole_spacing', 'ladder_at_height',
        'no_switch_box', 'power_from_secondary_box', 'extension_board',
        'no_safety_briefing', 'missing_plan', 'steel_mezzanine',
        'unpermitted_above_limit', 'hot_work_without_permit', 'insulation_material', 'other')),
    severity text not null check (severity in ('general', 'serious', 'major')),
    deadline date not null,
    status text not null check (status in ('open', 'rectifying', 'verified', 'closed')),
    note text not null default '',
    found_at timestamptz not null,
    closed_at timestamptz,
    updated_at timestamptz not null,
    check ((status = 'closed') = (closed_at is not null))
);
create index hazard_project_idx on hazard (project_id);
create index hazard_inspection_idx on hazard (inspection_id);
-- overdue questions look at the hazards still awaiting rectification
create index hazard_open_deadline_idx on hazard (deadline) where status in ('open', 'rectifying');

create table hazard_event (
    id bigserial primary key,
    hazard_id bigint not null references hazard (id),
    -- null for the finding itself
    from_status text check (from_status in ('open', 'rectifying', 'verified', 'closed')),
    to_status text not null check (to_status in ('open', 'rectifying', 'verified', 'closed')),
    changed_at timestamptz not null,
    changed_by text not null,
    note text not null default ''
);
create index hazard_event_hazard_idx on hazard_event (hazard_id, changed_at);
