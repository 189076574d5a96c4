-- Issue 15: a directory of a million accounts, and the rows that pile up beside it.

-- Substring search of the admin users list (username, e-mail, name; `like '%…%'`) and its role
-- filter, by trigram indexes: without them every search reads the whole table. pg_trgm is a
-- trusted extension (PostgreSQL 13+), so the database owner may create it.
create extension if not exists pg_trgm;
create index account_username_trgm on account using gin (username_key gin_trgm_ops);
create index account_email_trgm on account using gin (email_key gin_trgm_ops);
create index account_name_trgm on account using gin
    ((lower(coalesce(given_name, '') || ' ' || coalesce(family_name, ''))) gin_trgm_ops);
create index account_roles_trgm on account using gin (roles gin_trgm_ops);
create index account_disabled on account (username_key) where disabled;

-- The sweep deletes expired rows in small batches, found by these indexes rather than by a scan.
create index refresh_token_expires on refresh_token (expires_at);
create index auth_code_expires on auth_code (expires_at);
create index browser_session_expires on browser_session (expires_at);
create index pending_authorization_expires on pending_authorization (expires_at);
create index revoked_access_token_expires on revoked_access_token (expires_at);
create index account_link_expires on account_link (expires_at);
create index sign_in_event_at on sign_in_event (at);
create index login_throttle_window on login_throttle (window_started_at);
