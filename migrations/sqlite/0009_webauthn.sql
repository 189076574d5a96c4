-- Issue 14: passkeys and security keys (WebAuthn).

-- Each account's WebAuthn user handle: random, never the e-mail or the account id, so a
-- credential on an authenticator says nothing about who it is for.
alter table account_mfa add column webauthn_handle blob;
create unique index account_mfa_webauthn_handle on account_mfa (webauthn_handle);

-- A registered credential: `kind` is 'passkey' (discoverable, user verification: signs in alone)
-- or 'security_key' (a second factor after the password). `credential` is webauthn-rs's record
-- (public key, sign counter, backup flags) as JSON; `credential_id` is its id, base64url.
create table webauthn_credential (
    credential_id text primary key,
    account_id    blob not null references account (account_id) on delete cascade,
    kind          text not null,
    name          text not null,
    credential    text not null,
    created_at    bigint not null,
    last_used_at  bigint
);
create index webauthn_credential_account on webauthn_credential (account_id);
