-- Issue 4: logout, revocation, client authentication by JWT, PAR, device sign-in.

alter table client add column backchannel_logout_uri text;
alter table client add column frontchannel_logout_uri text;
alter table client add column jwks text;
alter table client add column jwks_uri text;
alter table client add column require_par boolean not null default false;
alter table client add column id_token_alg text not null default 'RS256';
-- client_secret_jwt needs the secret itself (HMAC key): kept AES-256-GCM-encrypted, only for such clients.
alter table client add column secret_encrypted blob;

-- Access tokens revoked before they expire (RFC 7009); rows go once the token would have expired.
create table revoked_access_token (
    jti         text primary key,
    expires_at  bigint not null
);

-- Back-channel logout tokens waiting to be delivered (retried with backoff).
create table backchannel_delivery (
    delivery_id      blob primary key,
    client_id        blob not null references client (client_id) on delete cascade,
    uri              text not null,
    logout_token     text not null,
    attempts         bigint not null,
    next_attempt_at  bigint not null,
    created_at       bigint not null
);
create index backchannel_delivery_due on backchannel_delivery (next_attempt_at);

-- Pushed authorization requests (RFC 9126).
create table pushed_request (
    request_id  blob primary key,
    client_id   blob not null references client (client_id) on delete cascade,
    params      text not null,
    expires_at  bigint not null
);

-- Device authorization grant (RFC 8628).
create table device_authorization (
    device_code_hash  blob primary key,
    user_code         text not null unique,
    -- null for the QR sign-in to this server itself (no client application involved)
    client_id         blob references client (client_id) on delete cascade,
    scope             text not null,
    created_at        bigint not null,
    expires_at        bigint not null,
    poll_interval     bigint not null,
    last_polled_at    bigint,
    status            text not null,
    account_id        blob references account (account_id) on delete cascade,
    sid               blob,
    auth_time         bigint,
    amr               text
);

-- client_assertion jti values already seen (replay protection), until the assertion expires.
create table used_assertion (
    jti_key     text primary key,
    expires_at  bigint not null
);

-- Individual claims asked for with the claims parameter (OIDC Core 5.5), as JSON.
alter table oauth_grant add column claims text not null default '{}';

-- Leases for work only one replica may do at a time (e.g. scheduled key rotation).
create table maintenance_lease (
    name         text primary key,
    held_until   bigint not null
);
insert into maintenance_lease (name, held_until) values ('key_rotation', 0);
