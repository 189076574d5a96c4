#!/usr/bin/env bash
# Fills a migrated hccc-sso database with a college directory at scale, for bench/scale.sh:
# ACCOUNTS accounts (1,000,000) with realistic names, roles, groups and one argon2id hash computed
# once and shared, CLIENTS client apps (10,000), GRANTS grants each with a refresh token
# (2,000,000), SESSIONS browser sessions (1,000,000, in the session store and the account's list)
# and AUDIT audit entries (5,000,000), spread over the last 400 days. Every row is live (nothing
# expires during a benchmark); bench/scale.sh expires a million of them to time the sweep.
#
#   bench/seed.sh postgres://postgres@127.0.0.1:5432/hccc_bench
#   bench/seed.sh sqlite:///path/to/hccc-sso.db
#
# PostgreSQL makes the rows itself (insert … select from generate_series: no bytes cross the
# connection, faster than COPY of the same rows); SQLite the same way with a recursive series.
# Needs: psql (PostgreSQL) or python3 (SQLite), and the argon2 command (Debian's argon2).
set -euo pipefail
URL="${1:?database URL}"
ACCOUNTS="${ACCOUNTS:-1000000}" CLIENTS="${CLIENTS:-10000}" GRANTS="${GRANTS:-2000000}"
SESSIONS="${SESSIONS:-1000000}" AUDIT="${AUDIT:-5000000}"
NOW="$(date +%s)"
log() { printf '[seed] %s\n' "$*" >&2; }

# The parameters of ours (accounts::PasswordHasher): m = 19 MiB, t = 2, p = 1. The password of
# every seeded account is "seeded password 1".
HASH="$(printf 'seeded password 1' | argon2 "$(openssl rand -hex 8)" -id -k 19456 -t 2 -p 1 -e)"
case "$HASH" in '$argon2id$'*) ;; *) log "argon2 failed: $HASH"; exit 1 ;; esac

GIVEN="'Maria','Jose','Luis','Ana','Carlos','Sofia','Juan','Camila','Miguel','Valentina','Angel','Isabella',\
'David','Gabriela','Daniel','Lucia','Kevin','Andrea','Jason','Ashley','Michael','Jessica','Anthony','Emily',\
'Christopher','Samantha','Brian','Nicole','Priya','Wei','Fatima','Omar','Aisha','Chen','Yusuf','Grace'"
FAMILY="'Garcia','Rodriguez','Martinez','Hernandez','Lopez','Gonzalez','Perez','Sanchez','Ramirez','Torres',\
'Flores','Rivera','Gomez','Diaz','Cruz','Morales','Reyes','Ortiz','Gutierrez','Chavez','Ramos','Ruiz',\
'Smith','Johnson','Williams','Brown','Jones','Miller','Davis','Wilson','Patel','Nguyen','Kim','Ali','Khan','Shah'"
ACTIONS="'user.sign_in','user.create','user.update','user.set_password','client.update','user.invite'"

if [[ "$URL" == postgres* ]]; then
  log "PostgreSQL: $ACCOUNTS accounts, $CLIENTS clients, $GRANTS grants and refresh tokens, $SESSIONS sessions, $AUDIT audit rows"
  psql "$URL" -v ON_ERROR_STOP=1 -q <<SQL
\timing on
set synchronous_commit = off;
-- Accounts: s0000001 … with names from the lists (every pairing of a given and a family name,
-- 1,296 full names, each on 1 in 1,296 accounts), 1 in 100 staff, 1 in 20,000 admin, 1 in 50
-- disabled, 1 in 10 without a password yet (imported, not yet invited), half in Spanish.
insert into account (account_id, username, username_key, email, email_key, email_verified, given_name,
  family_name, password_hash, disabled, created_at, updated_at, roles, groups, must_change_password, locale)
select gen_random_uuid(), u, u, u || '@students.hccc.edu', u || '@students.hccc.edu', true,
  (array[$GIVEN])[1 + (i * 7) % 36], (array[$FAMILY])[1 + (i / 36 * 13) % 36],
  case when i % 10 = 0 then null else '$HASH' end, i % 50 = 0,
  $NOW - (i % 400) * 86400, $NOW - (i % 400) * 86400,
  case when i % 20000 = 0 then '["admin"]' when i % 100 = 0 then '["staff"]' else '["student"]' end,
  '["class-' || (2020 + i % 8) || '"]', false, case when i % 2 = 0 then 'es' else 'en' end
from generate_series(1::bigint, $ACCOUNTS) i, lateral (select 's' || lpad(i::text, 7, '0') as u) n;

insert into client (client_id, name, secret_hash, redirect_uris, post_logout_redirect_uris, grant_types,
  token_endpoint_auth_method, skip_consent, created_at, updated_at)
select gen_random_uuid(), 'College app ' || lpad(i::text, 5, '0'), sha256(('seed' || i)::bytea),
  '["https://app' || i || '.apps.hccc.edu/callback"]', '[]', '["authorization_code","refresh_token"]',
  'client_secret_basic', false, $NOW - i, $NOW - i
from generate_series(1::bigint, $CLIENTS) i;

create temp table seeded_account as select account_id, row_number() over () as n from account;
create temp table seeded_client as select client_id, row_number() over () as n from client;
create index on seeded_account (n); create index on seeded_client (n);
analyze seeded_account; analyze seeded_client;

insert into oauth_grant (grant_id, account_id, client_id, scope, sid, auth_time, amr, created_at, claims)
select gen_random_uuid(), a.account_id, c.client_id, 'openid profile email offline_access',
  gen_random_uuid(), $NOW - i % 86400, '["pwd"]', $NOW - i % 86400, '{}'
from generate_series(1::bigint, $GRANTS) i
join seeded_account a on a.n = 1 + (i * 7919) % $ACCOUNTS
join seeded_client c on c.n = 1 + i % $CLIENTS;

insert into refresh_token (token_hash, grant_id, created_at, expires_at)
select sha256(grant_id::text::bytea), grant_id, created_at, $NOW + 30 * 86400 from oauth_grant;

insert into browser_session (sid, account_id, method, ip, user_agent, created_at, last_seen_at, expires_at)
select gen_random_uuid(), a.account_id, 'pwd', '10.0.' || (i % 250) || '.' || (i % 200),
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0', $NOW - 3600, $NOW - 60, $NOW + 7 * 86400
from generate_series(1::bigint, $SESSIONS) i join seeded_account a on a.n = 1 + (i * 104729) % $ACCOUNTS;

insert into tower_sessions.session (id, data, expiry_date)
select md5(sid::text) || md5(account_id::text), sha256(sid::text::bytea), now() + interval '7 days'
from browser_session;

insert into audit_log (event_id, at, actor, action, target, detail, client_ip)
select gen_random_uuid(), $NOW - (i % (400 * 86400)), 's' || lpad((1 + i % $ACCOUNTS)::text, 7, '0'),
  (array[$ACTIONS])[1 + i % 6], 's' || lpad((1 + (i * 31) % $ACCOUNTS)::text, 7, '0'), '{}', '10.0.0.1'
from generate_series(1::bigint, $AUDIT) i;

vacuum analyze;
SQL
else
  DB="${URL#sqlite://}"; DB="${DB%%\?*}"
  log "SQLite ($DB): $ACCOUNTS accounts, $CLIENTS clients, $GRANTS grants and refresh tokens, $SESSIONS sessions, $AUDIT audit rows"
  python3 - "$DB" "$HASH" "$NOW" "$ACCOUNTS" "$CLIENTS" "$GRANTS" "$SESSIONS" "$AUDIT" "$GIVEN" "$FAMILY" "$ACTIONS" <<'PY'
import sqlite3, sys, time
db, hash_, now, accounts, clients, grants, sessions, audit = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:9])
given, family, actions = (f"json_array({s})" for s in sys.argv[9:12])
con = sqlite3.connect(db, isolation_level=None)
con.execute("pragma journal_mode = wal"); con.execute("pragma synchronous = off")
def run(what, sql, *args):
    started = time.monotonic()
    con.execute("begin"); con.execute(sql, args); con.execute("commit")
    print(f"[seed] {what}: {time.monotonic() - started:.1f} s", file=sys.stderr)
series = "with recursive s(i) as (select 1 union all select i + 1 from s where i < {n}) "
uuid = "randomblob(16)"
run("accounts", series.format(n=accounts) + f"""insert into account (account_id, username, username_key, email,
  email_key, email_verified, given_name, family_name, password_hash, disabled, created_at, updated_at, roles,
  groups, must_change_password, locale)
select {uuid}, u, u, u || '@students.hccc.edu', u || '@students.hccc.edu', 1,
  json_extract({given}, '$[' || ((i * 7) % 36) || ']'), json_extract({family}, '$[' || ((i / 36 * 13) % 36) || ']'),
  case when i % 10 = 0 then null else ? end, i % 50 = 0, ? - (i % 400) * 86400, ? - (i % 400) * 86400,
  case when i % 20000 = 0 then '["admin"]' when i % 100 = 0 then '["staff"]' else '["student"]' end,
  '["class-' || (2020 + i % 8) || '"]', 0, case when i % 2 = 0 then 'es' else 'en' end
from (select i, 's' || substr('0000000' || i, -7) as u from s)""", hash_, now, now)
run("clients", series.format(n=clients) + f"""insert into client (client_id, name, secret_hash, redirect_uris,
  post_logout_redirect_uris, grant_types, token_endpoint_auth_method, skip_consent, created_at, updated_at)
select {uuid}, 'College app ' || substr('00000' || i, -5), randomblob(32),
  '["https://app' || i || '.apps.hccc.edu/callback"]', '[]', '["authorization_code","refresh_token"]',
  'client_secret_basic', 0, ? - i, ? - i from s""", now, now)
con.execute("create temp table seeded_account as select account_id, row_number() over () as n from account")
con.execute("create temp table seeded_client as select client_id, row_number() over () as n from client")
con.execute("create index seeded_account_n on seeded_account (n)"); con.execute("create index seeded_client_n on seeded_client (n)")
run("grants", series.format(n=grants) + f"""insert into oauth_grant (grant_id, account_id, client_id, scope, sid,
  auth_time, amr, created_at, claims)
select {uuid}, a.account_id, c.client_id, 'openid profile email offline_access', {uuid}, ? - i % 86400,
  '["pwd"]', ? - i % 86400, '{{}}'
from s join seeded_account a on a.n = 1 + (i * 7919) % {accounts} join seeded_client c on c.n = 1 + i % {clients}""", now, now)
run("refresh tokens", "insert into refresh_token (token_hash, grant_id, created_at, expires_at) "
    "select randomblob(32), grant_id, created_at, ? + 30 * 86400 from oauth_grant", now)
run("sessions", series.format(n=sessions) + f"""insert into browser_session (sid, account_id, method, ip,
  user_agent, created_at, last_seen_at, expires_at)
select {uuid}, a.account_id, 'pwd', '10.0.' || (i % 250) || '.' || (i % 200),
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0', ? - 3600, ? - 60, ? + 7 * 86400
from s join seeded_account a on a.n = 1 + (i * 104729) % {accounts}""", now, now, now)
run("session store", "insert into tower_sessions (id, data, expiry_date) "
    "select lower(hex(sid)) || lower(hex(randomblob(8))), randomblob(32), ? + 7 * 86400 from browser_session", now)
run("audit", series.format(n=audit) + f"""insert into audit_log (event_id, at, actor, action, target, detail, client_ip)
select {uuid}, ? - (i % (400 * 86400)), 's' || substr('0000000' || (1 + i % {accounts}), -7),
  json_extract({actions}, '$[' || (i % 6) || ']'), 's' || substr('0000000' || (1 + (i * 31) % {accounts}), -7),
  '{{}}', '10.0.0.1' from s""", now)
started = time.monotonic(); con.execute("analyze"); print(f"[seed] analyze: {time.monotonic() - started:.1f} s", file=sys.stderr)
PY
fi
log "done"
