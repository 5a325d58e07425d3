-- Access control: users with one role and a scope, their API tokens, and the
-- audit trail of every write.

-- `user` is reserved in PostgreSQL, hence app_user. The scope is the
-- canonical list of grants ("district", "town:310117001 town:310117002",
-- "zone:310117001-Z1 grid:310117001-G03"), checked against the role by the
-- application when the user is created.
create table app_user (
    id bigserial primary key,
    name text not null unique,
    role text not null check (role in ('admin', 'town', 'grid_manager', 'officer', 'viewer')),
    scope text not null,
    created_at timestamptz not null default now()
);

-- A token is `gp_<id>_<secret>`; only the id and a salted SHA-256 of the
-- secret are kept, so the table cannot be used to call the API.
create table api_token (
    id text primary key,
    user_id bigint not null references app_user (id),
    salt bytea not null,
    hash bytea not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz,
    revoked_at timestamptz
);
create index api_token_user_idx on api_token (user_id);

-- One row per write through the API (and per user change on the command
-- line): who, when, what, and the value before the change. The names are
-- copied so that the trail reads on its own.
create table audit_event (
    id bigserial primary key,
    at timestamptz not null default now(),
    user_id bigint references app_user (id),
    user_name text not null,
    role text not null,
    method text not null,
    path text not null,
    entity text,
    entity_id text,
    status smallint not null,
    before jsonb
);
create index audit_event_user_idx on audit_event (user_name, id);
create index audit_event_entity_idx on audit_event (entity, entity_id, id);

-- The trail is append-only: no update or delete, whoever asks.
create function audit_event_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the audit trail is append-only';
end
$$;
create trigger audit_event_append_only before update or delete on audit_event
    for each row execute function audit_event_append_only();
