#!/usr/bin/env bash
# The soak of issue 15: MINUTES (10) of mixed load against two replicas on one PostgreSQL
# database, in one-minute rounds. Each round runs, at once, wrk on discovery, JWKS, userinfo,
# client_credentials and refresh_token (alternating between the replicas), bench/signin.mjs
# sign-ins (authorization code flow with PKCE) and an admin search loop on the API. Between
# rounds it samples each replica's RSS and the database's connections. Prints, per workload, the
# requests, errors and p99 of the first and last minute, and the RSS and connection figures;
# a per-second disk and checkpoint trace goes to io.tsv (kept with KEEP=dir).
#
#   bench/soak.sh            MINUTES=10 CONNECTIONS=4 (per wrk workload and replica)
#
# Needs: wrk, node, openssl, PostgreSQL on 127.0.0.1:5432. Loopback only; stops by itself.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
MINUTES="${MINUTES:-10}" CONNECTIONS="${CONNECTIONS:-4}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
BIN="$ROOT/target/release/hccc-sso"
PORTS=(8093 8094) MAX_CONNECTIONS=10
export LUA_DIR="$HERE/lua" LC_ALL=C
WORK="$(mktemp -d)"
log() { printf '[soak] %s\n' "$*" >&2; }
# KEEP=DIR keeps the replicas' logs and the rounds' results there.
cleanup() { kill "${PIDS[@]}" ${SAMPLER_PID:-} 2>/dev/null || true; [ -n "${KEEP:-}" ] && cp -r "$WORK" "$KEEP"; rm -rf "$WORK"; }
trap cleanup EXIT

(cd "$ROOT" && cargo build --release --quiet)
psql "$PG_URL/postgres" -qc 'drop database if exists hccc_soak' -c 'create database hccc_soak' >/dev/null
export DATABASE_URL="$PG_URL/hccc_soak" HCCC_SSO_ISSUER="http://127.0.0.1:${PORTS[0]}"
export HCCC_SSO_SECRET_KEY="$(openssl rand -base64 32)" HCCC_SSO_DATA_DIR="$WORK"
export HCCC_SSO_DB_MAX_CONNECTIONS=$MAX_CONNECTIONS HCCC_SSO_MFA_REQUIRED_ROLES=none
"$BIN" migrate >/dev/null
json_field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$1" "$2"; }
CLIENT="$("$BIN" client create --name Soak --redirect-uri http://127.0.0.1:8765/cb --skip-consent \
  --grant-type authorization_code --grant-type refresh_token --grant-type client_credentials --json)"
CID="$(json_field "$CLIENT" client_id)" CSECRET="$(json_field "$CLIENT" client_secret)"
API="$("$BIN" client create --name "Soak API" --grant-type client_credentials --api-role admin --json)"
API_ID="$(json_field "$API" client_id)" API_SECRET="$(json_field "$API" client_secret)"
echo 'correct horse battery staple' | "$BIN" user create --username alice --email alice@example.edu \
  --given-name Alice --family-name Example --password-stdin >/dev/null
PIDS=()
for port in "${PORTS[@]}"; do
  # The default configuration's logging, to a file as a log driver would.
  HCCC_SSO_BIND="127.0.0.1:$port" "$BIN" serve >"$WORK/replica-$port.log" 2>&1 &
  PIDS+=($!)
done
for port in "${PORTS[@]}"; do
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
done

# Every second, beside the load: the disk's writes and milliseconds spent writing and in flight,
# PostgreSQL's checkpoints and buffers written by them, and the kernel's dirty pages, so a stall
# can be matched against I/O afterwards (KEEP=dir keeps io.tsv).
# (/proc/diskstats has a line for partitions too, so the data directory's device name serves.)
DISK="$(basename "$(df --output=source "$(psql -Atq "$PG_URL/postgres" -c 'show data_directory')" | tail -1)")"
sample_io() {
  echo "unix_time writes write_ms in_flight checkpoints buffers_checkpoint dirty_kb"
  while sleep 1; do
    echo "$(date +%s.%N | cut -c1-14) $(awk -v d="$DISK" '$3 == d {print $8, $11, $12}' /proc/diskstats)" \
      "$(psql -Atq "$PG_URL/postgres" -F' ' -c 'select checkpoints_timed + checkpoints_req, buffers_checkpoint from pg_stat_bgwriter')" \
      "$(awk '/^Dirty:/ {print $2}' /proc/meminfo)"
  done
}
sample_io >"$WORK/io.tsv" 2>/dev/null &
SAMPLER_PID=$!

export THREADS=1
signin() { # [VAR=value …] command: with the sign-in's settings in the environment
  env ISSUER="$HCCC_SSO_ISSUER" CLIENT_ID="$CID" CLIENT_SECRET="$CSECRET" REDIRECT_URI=http://127.0.0.1:8765/cb \
    USERNAME=alice PASSWORD='correct horse battery staple' "$@"
}
export BASIC="$(printf '%s:%s' "$CID" "$CSECRET" | base64 -w0)"
api_token() {
  curl -s -u "$API_ID:$API_SECRET" -d grant_type=client_credentials "$HCCC_SSO_ISSUER/token" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).access_token))'
}

rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
connections() { psql -Atq "$PG_URL/postgres" -c "select count(*) from pg_stat_activity where datname = 'hccc_soak'"; }
# The worst p99 and the errors of the round over every workload, so a stall in any minute shows.
worst() { # DIR -> "p99 errors"
  cat "$1"/* | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "p99_ms" && kv[2] > p) p = kv[2]; if (kv[1] == "errors") e += kv[2] } }
    END { printf "%.1f | %d", p, e }'
}
echo "| minute | $(for p in "${PORTS[@]}"; do printf 'RSS :%s MiB | ' "$p"; done)database connections | worst p99 ms | errors |"
echo "|---|---|---|---|---|---|"
declare -A FIRST LAST
for minute in $(seq 1 "$MINUTES"); do
  jobs_out="$WORK/round-$minute"
  mkdir -p "$jobs_out"
  ROUND=()
  for i in 0 1; do
    port=${PORTS[$i]}
    base="http://127.0.0.1:$port"
    signin SCOPE='openid profile email offline_access' PROMPT=consent node "$HERE/signin.mjs" refresh 8 >"$WORK/tokens-$minute-$port"
    wrk -t1 -c"$CONNECTIONS" -d60s -s "$LUA_DIR/get.lua" "$base/.well-known/openid-configuration" | grep '^RESULT' >"$jobs_out/discovery-$port" &
    ROUND+=($!)
    wrk -t1 -c"$CONNECTIONS" -d60s -s "$LUA_DIR/get.lua" "$base/jwks.json" | grep '^RESULT' >"$jobs_out/jwks-$port" &
    ROUND+=($!)
    # Access tokens last 10 minutes: a fresh one each round.
    BEARER="$(signin node "$HERE/signin.mjs" access)" wrk -t1 -c"$CONNECTIONS" -d60s -s "$LUA_DIR/bearer.lua" "$base/userinfo" | grep '^RESULT' >"$jobs_out/userinfo-$port" &
    ROUND+=($!)
    wrk -t1 -c"$CONNECTIONS" -d60s -s "$LUA_DIR/client_credentials.lua" "$base/token" | grep '^RESULT' >"$jobs_out/client_credentials-$port" &
    ROUND+=($!)
    REFRESH_FILE="$WORK/tokens-$minute-$port" wrk -t1 -c"$CONNECTIONS" -d60s -s "$LUA_DIR/refresh.lua" "$base/token" | grep '^RESULT' >"$jobs_out/refresh_token-$port" &
    ROUND+=($!)
    BEARER="$(api_token)" wrk -t1 -c1 -d60s -s "$LUA_DIR/bearer.lua" "$base/api/v1/users?search=ali" | grep '^RESULT' >"$jobs_out/admin_search-$port" &
    ROUND+=($!)
  done
  CONCURRENCY=2 DURATION=60 signin node "$HERE/signin.mjs" bench 2>>"$WORK/signin-errors.log" | grep '^RESULT' >"$jobs_out/sign_in" &
  ROUND+=($!)
  wait "${ROUND[@]}"
  row="| $minute |"
  for pid in "${PIDS[@]}"; do row="$row $(rss "$pid") |"; done
  echo "$row $(connections) | $(worst "$jobs_out") |"
  for f in "$jobs_out"/*; do
    name="$(basename "$f")"
    [ "$minute" = 1 ] && FIRST[$name]="$(cat "$f")"
    LAST[$name]="$(cat "$f")"
  done
done
echo
echo "| workload (replica) | first minute | last minute |"
echo "|---|---|---|"
for name in $(printf '%s\n' "${!LAST[@]}" | sort); do
  echo "| $name | ${FIRST[$name]#RESULT } | ${LAST[$name]#RESULT } |"
done
echo
echo "Pool limit per replica: $MAX_CONNECTIONS (+1 listener). Sign-in errors: $(wc -l <"$WORK/signin-errors.log" 2>/dev/null || echo 0)."
echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores; $MINUTES one-minute rounds."
