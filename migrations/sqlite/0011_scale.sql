-- Issue 15: a directory of a million accounts, and the rows that pile up beside it.
-- (SQLite has no trigram index; its substring search reads the table: SPEC §10.)

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
