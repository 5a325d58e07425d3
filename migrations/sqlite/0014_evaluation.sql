-- The half-year evaluation (see the PostGIS migration 0012): periods, the
-- towns' self-assessments, the on-site draws and findings.

create table evaluation (
    id integer primary key,
    period text not null unique,
    table_version text not null,
    site_towns text not null default '[]',
    created_by text not null,
    created_ms integer not null
);

create table self_assessment (
    evaluation_id integer not null references evaluation (id),
    town text not null,
    body text not null,
    submitted_by text,
    submitted_ms integer,
    updated_by text not null,
    updated_ms integer not null,
    primary key (evaluation_id, town)
);

create table site_draw (
    evaluation_id integer not null references evaluation (id),
    town text not null,
    body text not null,
    drawn_by text not null,
    drawn_ms integer not null,
    primary key (evaluation_id, town)
);

create table site_finding (
    evaluation_id integer not null references evaluation (id),
    project_id integer not null references project (id),
    town text not null,
    body text not null,
    recorded_by text not null,
    recorded_ms integer not null,
    primary key (evaluation_id, project_id)
);
