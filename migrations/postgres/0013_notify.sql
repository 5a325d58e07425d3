-- Reminders, the inbox and 督办 (escalation), and the durable outbox that
-- delivers them (webhook, e-mail, SMS). Times are integer milliseconds on
-- both backends, as the idempotency keys are, so one statement serves both.
--
-- An item is one fact (a hazard past its deadline, a work not handed over):
-- `key` names the fact, so computing the events again never makes a second
-- item. The outbox rows of an item or of an escalation are written in the
-- same transaction as it, so a message is never lost between the two.
-- None of these tables moves the data version: they are answers to the
-- records, not records.

create table notify_item (
    id bigserial primary key,
    key text not null unique,
    kind text not null,
    -- the user who owns it (the assigned officer, the grid manager, the town)
    owner text not null,
    -- how far up the chain it has climbed: 0 the owner, 1 the town, 2 the district
    level bigint not null default 0,
    title_zh text not null,
    title_en text not null,
    body_zh text not null,
    body_en text not null,
    -- what it is about, for links: work, hazard, grid, route ids or codes
    project_id bigint,
    hazard_id bigint,
    grid_code text,
    route_id bigint,
    town_code text,
    -- the day the fact fell due (Beijing), 'YYYY-MM-DD'
    due_on text not null,
    -- open, done (marked by a user), resolved (the fact no longer holds)
    status text not null default 'open',
    created_ms bigint not null,
    read_ms bigint,
    closed_ms bigint
);
create index notify_item_owner on notify_item (owner, status);
create index notify_item_open on notify_item (status) where status = 'open';

-- the chain of an item: who was told at which level, when
create table notify_escalation (
    id bigserial primary key,
    item_id bigint not null references notify_item (id),
    level bigint not null,
    recipient text not null,
    at_ms bigint not null,
    unique (item_id, level)
);
create index notify_escalation_recipient on notify_escalation (recipient);

-- one delivery of an item to one recipient on one channel
create table notify_outbox (
    id bigserial primary key,
    item_id bigint not null references notify_item (id),
    recipient text not null,
    channel text not null,
    -- the webhook URL, e-mail address or phone number
    address text not null,
    -- sent with every attempt: the receiver drops a repeat
    idem_key text not null unique,
    payload text not null,
    -- pending, delivered, dead
    state text not null default 'pending',
    attempts bigint not null default 0,
    next_ms bigint not null,
    -- a claim is a lease: a worker that died holding it loses it when it ends
    lease_ms bigint,
    last_error text,
    created_ms bigint not null,
    delivered_ms bigint
);
create index notify_outbox_due on notify_outbox (next_ms) where state = 'pending';

-- a user's channels and quiet hours (Beijing time, minutes after midnight)
create table notify_pref (
    user_name text primary key,
    email text,
    phone text,
    webhook boolean not null default true,
    email_on boolean not null default true,
    sms_on boolean not null default true,
    quiet_from bigint,
    quiet_to bigint
);
