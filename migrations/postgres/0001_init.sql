-- Core schema: accounts, clients, signing keys, authorization state.
-- Time is epoch seconds (bigint); ids, tokens and hashes are made in Rust.

create table account (
    account_id      uuid primary key,
    username        text not null,
    username_key    text not null unique,
    email           text not null,
    email_key       text not null unique,
    email_verified  boolean not null default false,
    given_name      text,
    family_name     text,
    password_hash   text,
    disabled        boolean not null default false,
    created_at      bigint not null,
    updated_at      bigint not null
);

create table account_role (
    account_id  uuid not null references account (account_id) on delete cascade,
    role        text not null,
    primary key (account_id, role)
);

create table client (
    client_id                   uuid primary key,
    name                        text not null,
    secret_hash                 bytea,
    redirect_uris               text not null,
    post_logout_redirect_uris   text not null,
    grant_types                 text not null,
    token_endpoint_auth_method  text not null,
    skip_consent                boolean not null default false,
    created_at                  bigint not null,
    updated_at                  bigint not null
);

create table signing_key (
    key_id                 uuid primary key,
    kid                    text not null unique,
    alg                    text not null,
    public_jwk             text not null,
    private_key_encrypted  bytea not null,
    created_at             bigint not null,
    activates_at           bigint not null,
    expires_at             bigint
);

create table pending_authorization (
    request_id  uuid primary key,
    client_id   uuid not null references client (client_id) on delete cascade,
    params      text not null,
    created_at  bigint not null,
    expires_at  bigint not null
);

create table oauth_grant (
    grant_id    uuid primary key,
    account_id  uuid not null references account (account_id) on delete cascade,
    client_id   uuid not null references client (client_id) on delete cascade,
    scope       text not null,
    sid         uuid not null,
    auth_time   bigint not null,
    amr         text not null,
    created_at  bigint not null,
    revoked_at  bigint
);
create index oauth_grant_sid on oauth_grant (sid);
create index oauth_grant_account on oauth_grant (account_id);

create table auth_code (
    code_hash              bytea primary key,
    grant_id               uuid not null references oauth_grant (grant_id) on delete cascade,
    redirect_uri           text not null,
    nonce                  text,
    code_challenge         text,
    created_at             bigint not null,
    expires_at             bigint not null,
    consumed_at            bigint
);

create table refresh_token (
    token_hash  bytea primary key,
    grant_id    uuid not null references oauth_grant (grant_id) on delete cascade,
    created_at  bigint not null,
    expires_at  bigint not null,
    rotated_at  bigint
);
create index refresh_token_grant on refresh_token (grant_id);

create table consent (
    account_id  uuid not null references account (account_id) on delete cascade,
    client_id   uuid not null references client (client_id) on delete cascade,
    scope       text not null,
    created_at  bigint not null,
    primary key (account_id, client_id)
);

create table login_throttle (
    throttle_key       text primary key,
    failures           bigint not null,
    window_started_at  bigint not null,
    locked_until       bigint not null
);
