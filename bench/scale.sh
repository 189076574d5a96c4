#!/usr/bin/env bash
# The scale run of issue 15, on PostgreSQL: bench/run.sh on an empty database, then on one seeded
# with a college directory at scale (bench/seed.sh: 1,000,000 accounts, 10,000 clients, 2,000,000
# grants and refresh tokens, 1,000,000 sessions, 5,000,000 audit rows); then, on the seeded
# database, the admin user search (bench/search.mjs), a 100,000-row CSV import, and a sweep of
# 1,000,000 expired refresh tokens while refreshes run. SQLITE=1 (default) also times the search
# on a seeded SQLite database. Prints Markdown; takes about 30 minutes here.
#
# Needs what bench/run.sh needs, plus argon2 (Debian) and python3.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
BIN="$ROOT/target/release/hccc-sso"
WORK="$(mktemp -d)"
PORT=8092
log() { printf '[scale] %s\n' "$*" >&2; }
cleanup() { kill "${SERVER_PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export LUA_DIR="$HERE/lua"
# SEEDED=URL (with its HCCC_SSO_SECRET_KEY) skips the two benchmark runs and continues on a
# database seeded before.
if [ -z "${SEEDED:-}" ]; then
  export HCCC_SSO_SECRET_KEY="$(openssl rand -base64 32)"
  echo "## Empty database"; echo
  LIMITS=0 "$HERE/run.sh"
  echo; echo "## Seeded: 1,000,000 accounts"; echo
  SEED=1 LIMITS=0 "$HERE/run.sh"
  SEEDED="$PG_URL/hccc_bench"
fi

serve() { # DATABASE_URL: our server on $PORT, admins without a second factor (for the script)
  DATABASE_URL="$1" HCCC_SSO_ISSUER="http://127.0.0.1:$PORT" HCCC_SSO_BIND="127.0.0.1:$PORT" \
    HCCC_SSO_DATA_DIR="$WORK" HCCC_SSO_MFA_REQUIRED_ROLES=none RUST_LOG=warn \
    "$BIN" serve >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && return; sleep 0.2; done
  log "the server did not start"; cat "$WORK/server.log" >&2; exit 1
}
search() { # DATABASE_URL: admin and API client, then bench/search.mjs
  local url=$1 client
  echo 'scale admin passphrase' | DATABASE_URL="$url" HCCC_SSO_DATA_DIR="$WORK" "$BIN" user create \
    --username scaleadmin --email scaleadmin@hccc.edu --role admin --password-stdin >/dev/null 2>&1 || true
  client="$(DATABASE_URL="$url" HCCC_SSO_DATA_DIR="$WORK" "$BIN" client create --name "Scale API" \
    --grant-type client_credentials --api-role admin --json)"
  ISSUER="http://127.0.0.1:$PORT" ADMIN_USERNAME=scaleadmin ADMIN_PASSWORD='scale admin passphrase' \
    API_CLIENT_ID="$(node -e 'console.log(JSON.parse(process.argv[1]).client_id)' "$client")" \
    API_CLIENT_SECRET="$(node -e 'console.log(JSON.parse(process.argv[1]).client_secret)' "$client")" \
    node "$HERE/search.mjs"
}

echo; echo "## Admin user search, PostgreSQL, 1,000,000 accounts"; echo
serve "$SEEDED"
search "$SEEDED"

echo; echo "## Sweep of 1,000,000 expired refresh tokens under refresh load, PostgreSQL"; echo
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
psql "$SEEDED" -qc "update refresh_token set expires_at = 1 where token_hash in \
  (select token_hash from refresh_token where expires_at > 1 limit 1000000)"
# The refresh tokens the load rotates, from alice's sign-ins (bench/run.sh made her).
echo 'correct horse battery staple' | DATABASE_URL="$SEEDED" HCCC_SSO_DATA_DIR="$WORK" "$BIN" user create \
  --username alice --email alice@example.edu --password-stdin >/dev/null 2>&1 || true
CLIENT="$(DATABASE_URL="$SEEDED" HCCC_SSO_DATA_DIR="$WORK" "$BIN" client create --name "Scale refresh" \
  --redirect-uri http://127.0.0.1:8765/cb --skip-consent --grant-type authorization_code \
  --grant-type refresh_token --json)"
CID="$(node -e 'console.log(JSON.parse(process.argv[1]).client_id)' "$CLIENT")"
CSECRET="$(node -e 'console.log(JSON.parse(process.argv[1]).client_secret)' "$CLIENT")"
refresh_tokens() {
  ISSUER="http://127.0.0.1:$PORT" CLIENT_ID=$CID CLIENT_SECRET=$CSECRET REDIRECT_URI=http://127.0.0.1:8765/cb \
    USERNAME=alice PASSWORD='correct horse battery staple' SCOPE='openid profile email offline_access' \
    PROMPT=consent node "$HERE/signin.mjs" refresh 32 >"$WORK/refresh"
}
export BASIC="$(printf '%s:%s' "$CID" "$CSECRET" | base64 -w0)" REFRESH_FILE="$WORK/refresh" THREADS=2
# The first maintenance run starts with the server: the load starts with it.
serve "$SEEDED"
started=$(date +%s.%N)
refresh_tokens
wrk -t2 -c16 -d40s -s "$LUA_DIR/refresh.lua" "http://127.0.0.1:$PORT/token" | grep '^RESULT' >"$WORK/during" &
WRK=$!
swept=""
for _ in $(seq 1 120); do
  left=$(psql -Atq "$SEEDED" -c "select count(*) from refresh_token where expires_at = 1")
  if [ "$left" = 0 ]; then swept=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'); break; fi
  sleep 1
done
wait "$WRK"
refresh_tokens
wrk -t2 -c16 -d20s -s "$LUA_DIR/refresh.lua" "http://127.0.0.1:$PORT/token" | grep '^RESULT' >"$WORK/after"
echo "| | refresh load (wrk, 16 connections) |"
echo "|---|---|"
echo "| during the sweep (40 s from start) | $(cat "$WORK/during") |"
echo "| after it (20 s) | $(cat "$WORK/after") |"
echo
echo "1,000,000 expired refresh tokens swept in ${swept:-more than 120} s from the server's start (2,000-row batches)."
grep -m3 'deleted expired rows' "$WORK/server.log" || true
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true

echo; echo "## CSV import of 100,000 new accounts into the seeded PostgreSQL database"; echo
{
  echo "username,email,given_name,family_name,roles,groups,locale"
  for ((i = 0; i < 100000; i++)); do
    printf 'n%06d,n%06d@students.hccc.edu,New,Student%d,student,Class of 2031,es\n' "$i" "$i" "$i"
  done
} >"$WORK/new.csv"
for step in --dry-run ""; do
  start=$(date +%s%N)
  DATABASE_URL="$SEEDED" HCCC_SSO_DATA_DIR="$WORK" "$BIN" user import "$WORK/new.csv" $step >"$WORK/import.txt" 2>&1
  end=$(date +%s%N)
  echo "- \`user import ${step:-}\`: $(((end - start) / 1000000)) ms — $(head -1 "$WORK/import.txt")"
done

if [ "${SQLITE:-1}" = 1 ]; then
  echo; echo "## Admin user search, SQLite, 1,000,000 accounts"; echo
  LITE="sqlite://$WORK/scale.db"
  DATABASE_URL="$LITE" HCCC_SSO_DATA_DIR="$WORK" "$BIN" migrate >/dev/null
  "$HERE/seed.sh" "$LITE" >&2
  serve "$LITE"
  search "$LITE"
fi
echo; echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)."
