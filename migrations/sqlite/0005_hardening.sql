-- Issue 10, hardening.
-- Scopes per client: what an app may ask for. Existing apps keep what they could get before, but
-- `api`, which an admin must now give explicitly; service clients keep `api` for client_credentials
-- through their API roles.
alter table client add column allowed_scopes text not null
    default '["openid","profile","email","offline_access"]';
update client set allowed_scopes = '["openid","profile","email","roles","offline_access"]';

-- Bumped by every password change: browser sessions signed in under an older value end.
alter table account add column credential_version bigint not null default 0;

-- A parked authorization request belongs to the browser that started it (SHA-256 of its
-- browser-binding cookie), so another browser's session cannot finish it.
alter table pending_authorization add column browser_hash blob;
