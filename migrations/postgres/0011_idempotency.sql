-- Idempotency keys: a client that may send a write twice (a phone that lost
-- its connection before the answer came) sends an `Idempotency-Key` header;
-- the first request's answer is kept here for a day and given again to a
-- repeat of the same request, which writes nothing.
--
-- A row is reserved (status null) before the write runs and completed with
-- the answer after it; a reservation left by a crashed process is taken over
-- once it is older than the request timeout. Keys belong to a user: two
-- users' equal keys are different requests.

create table idempotency_key (
    user_id bigint not null,
    key text not null,
    -- SHA-256 of method, path and query, content type and body
    fingerprint bytea not null,
    created_ms bigint not null,
    status bigint,
    content_type text,
    location text,
    -- empty while reserved
    body bytea not null,
    primary key (user_id, key)
);

-- expired keys are deleted by age
create index idempotency_key_created on idempotency_key (created_ms);
