-- Access control, as in the PostGIS schema: users with one role and a
-- scope, API tokens kept as salted SHA-256 hashes, and the append-only
-- audit trail. Times are RFC 3339 text in UTC.

create table app_user (
    id integer primary key,
    name text not null unique,
    role text not null check (role in ('admin', 'town', 'grid_manager', 'officer', 'viewer')),
    scope text not null,
    created_at text not null
);

create table api_token (
    id text primary key,
    user_id integer not null references app_user (id),
    salt blob not null,
    hash blob not null,
    created_at text not null,
    expires_at text,
    revoked_at text
);
create index api_token_user_idx on api_token (user_id);

create table audit_event (
    id integer primary key,
    at text not null,
    user_id integer references app_user (id),
    user_name text not null,
    role text not null,
    method text not null,
    path text not null,
    entity text,
    entity_id text,
    status integer not null,
    before text
);
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
