-- Issue 13: accounts people run themselves.

-- Where invitations and resets go when the college mailbox may itself sit behind this sign-on.
alter table account add column recovery_email text;

-- Single-use links sent by e-mail (invitation, password reset, e-mail verification, e-mail change):
-- only the SHA-256 of the link's 32 random bytes is kept. `detail` holds the new address of an
-- e-mail change. Issuing a link of a purpose ends the account's older ones of that purpose.
create table account_link (
    token_hash  bytea primary key,
    purpose     text not null,
    account_id  uuid not null references account (account_id) on delete cascade,
    detail      text,
    created_at  bigint not null,
    expires_at  bigint not null,
    used_at     bigint
);
create index account_link_account on account_link (account_id, purpose);

-- Outgoing e-mail, sent at once and retried with back-off by any replica (claimed by compare and
-- set on next_attempt_at, as back-channel deliveries are). Bodies and the link are sealed under the
-- secret key: a link is a credential until it is spent. A message whose link expired is dropped.
create table mail_outbox (
    mail_id         uuid primary key,
    account_id      uuid references account (account_id) on delete cascade,
    purpose         text not null,
    recipient       text not null,
    sealed          bytea not null,
    link_sealed     bytea,
    attempts        integer not null default 0,
    next_attempt_at bigint not null,
    created_at      bigint not null,
    expires_at      bigint,
    last_error      text
);
create index mail_outbox_due on mail_outbox (next_attempt_at);
create index mail_outbox_account on mail_outbox (account_id);

-- The browser sessions of each account (the session store cannot list them by account): kept in
-- step with it, so a person can see and end their sessions, and an ended one signs its browser out.
create table browser_session (
    sid          uuid primary key,
    account_id   uuid not null references account (account_id) on delete cascade,
    method       text not null,
    ip           text,
    user_agent   text,
    created_at   bigint not null,
    last_seen_at bigint not null,
    expires_at   bigint not null
);
create index browser_session_account on browser_session (account_id);

-- Recent sign-in activity of an account (successes and failures), kept 90 days.
create table sign_in_event (
    event_id    uuid primary key,
    account_id  uuid not null references account (account_id) on delete cascade,
    at          bigint not null,
    result      text not null,
    method      text not null,
    ip          text,
    user_agent  text
);
create index sign_in_event_account on sign_in_event (account_id, at);

-- A link opened from an e-mail continues the newest sign-in its browser started.
create index pending_authorization_browser on pending_authorization (browser_hash, created_at);
