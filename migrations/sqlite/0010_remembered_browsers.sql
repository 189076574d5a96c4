-- Issue 14: "remember this browser" for the second factor.

-- A browser that may skip the second step for the account until `expires_at`: only the SHA-256
-- of the cookie's random token is kept. `methods` are the amr values of the factor it remembers
-- (space-separated), so a sign-in it shortens still says how the second factor was proved.
create table remembered_browser (
    remembered_id blob primary key,
    token_hash    blob not null unique,
    account_id    blob not null references account (account_id) on delete cascade,
    methods       text not null,
    user_agent    text,
    ip            text,
    created_at    bigint not null,
    expires_at    bigint not null,
    last_used_at  bigint
);
create index remembered_browser_account on remembered_browser (account_id);
