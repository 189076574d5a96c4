-- Issue 14: second factors.

-- The TOTP key (RFC 6238) of an account, sealed under the secret key; `last_step` is the last time
-- step a code was accepted for, so a code (or an older one) is never accepted twice, on any
-- replica: accepting is an UPDATE that only succeeds for a later step. `required` is an admin's
-- demand for a second factor beyond the role policy; `grace_from` is the first sign-in at which a
-- second factor was due and missing (the grace period counts from it).
create table account_mfa (
    account_id        uuid primary key references account (account_id) on delete cascade,
    totp_sealed       bytea,
    totp_enrolled_at  bigint,
    totp_last_step    bigint not null default 0,
    totp_last_used_at bigint,
    required          boolean not null default false,
    grace_from        bigint
);

-- Ten single-use recovery codes per account, shown once; only an HMAC under the secret key is kept
-- (the codes carry 50 bits: a plain hash of them could be searched).
create table recovery_code (
    account_id  uuid not null references account (account_id) on delete cascade,
    code_hash   bytea not null,
    created_at  bigint not null,
    used_at     bigint,
    primary key (account_id, code_hash)
);

-- An app may be registered as requiring a second factor from everyone who signs in to it.
alter table client add column require_mfa boolean not null default false;
