-- The half-year evaluation (小微工程管理专项评价): one row per period with
-- the version of the evaluation table it is scored against and the towns
-- picked for the on-site evaluation; each town's self-assessment (自评),
-- kept as a draft until submitted; the on-site draw of works per town
-- (seed, candidates and picks, so anyone can redraw it); and what the
-- evaluators found on each drawn work.

create table evaluation (
    id bigserial primary key,
    period text not null unique,
    table_version text not null,
    site_towns jsonb not null default '[]'::jsonb,
    created_by text not null,
    created_at timestamptz not null
);

create table self_assessment (
    evaluation_id bigint not null references evaluation (id),
    town text not null,
    body jsonb not null,
    submitted_by text,
    submitted_at timestamptz,
    updated_by text not null,
    updated_at timestamptz not null,
    primary key (evaluation_id, town)
);

create table site_draw (
    evaluation_id bigint not null references evaluation (id),
    town text not null,
    body jsonb not null,
    drawn_by text not null,
    drawn_at timestamptz not null,
    primary key (evaluation_id, town)
);

create table site_finding (
    evaluation_id bigint not null references evaluation (id),
    project_id bigint not null references project (id),
    town text not null,
    body jsonb not null,
    recorded_by text not null,
    recorded_at timestamptz not null,
    primary key (evaluation_id, project_id)
);
