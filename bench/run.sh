#!/usr/bin/env bash
# Benchmark hccc-sso (release build, PostgreSQL) against the certified peer in ../shared/peers
# (node-oidc-provider with ACCESS_TOKEN_FORMAT=jwt), phase by phase, alternating the two servers.
# Ours runs twice on the same database: as operators run it (the default logging: one JSON
# access line per request at info, written to a file as Docker's log driver would) and quiet
# (RUST_LOG=warn); each is compared with the peer.
# Workloads: discovery, JWKS, userinfo, the token endpoint (client_credentials and refresh_token,
# RS256 JWT access tokens on both sides) with wrk, and a full browser sign-in (authorize -> login ->
# code -> token, bench/signin.mjs). Reports requests/s and requests per server CPU-second (ours
# counts PostgreSQL's CPU too), each as a ratio to the peer, p50/p99 latency, errors, idle/peak RSS,
# and the token and sign-in rates as fractions of this machine's raw RSA-2048 signing and argon2id
# rates (../shared/peers/limits.sh, run first in the same run). Loopback only.
#
#   bench/run.sh            DURATION=10 CONNECTIONS=16 THREADS=2 SIGNIN_CONCURRENCY=8 to change
#                           the load; LIMITS=0 skips the raw limits; SEED=1 seeds the database at
#                           scale first (bench/seed.sh) and keeps it (database hccc_bench)
#
# Needs: wrk, node/npm, openssl, argon2 (Debian), python3 -m venv, PostgreSQL on 127.0.0.1:5432
# (trust or PGPASSWORD), ../shared/peers.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
# The peers run from a copy under target/, so their npm packages never land in shared/.
PEERS_SRC="${PEERS:-$ROOT/../shared/peers}"
PEERS="$ROOT/target/bench-peers"
mkdir -p "$PEERS" && cp -r "$PEERS_SRC"/. "$PEERS"/ && chmod -R u+w "$PEERS"
DURATION="${DURATION:-10}" CONNECTIONS="${CONNECTIONS:-16}" THREADS="${THREADS:-2}"
SIGNIN_CONCURRENCY="${SIGNIN_CONCURRENCY:-8}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
OURS_PORT=8090 QUIET_PORT=8091 PEER_PORT=3100
export LUA_DIR="$HERE/lua" LC_ALL=C
WORK="$(mktemp -d)"
log() { printf '[bench] %s\n' "$*" >&2; }
cleanup() { kill "${OURS_PID:-}" "${QUIET_PID:-}" "${PEER_PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

command -v wrk >/dev/null || { log "wrk missing: apt-get install wrk"; exit 1; }
[ -d "$PEERS/node-oidc-provider" ] || { log "no peer at $PEERS"; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_ticks() { # all PostgreSQL server processes (our database work)
  local t=0 pid
  for pid in $(pgrep -x postgres || true); do t=$((t + $(cpu_ticks "$pid" 2>/dev/null || echo 0))); done
  echo "$t"
}
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
hwm_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
TICKS=$(getconf CLK_TCK)

if [ "${LIMITS:-1}" = 1 ]; then
  log "raw per-core limits (limits.sh), before the servers start"
  "$PEERS/limits.sh" >"$WORK/limits.md"
  RSA_SIGN=$(awk -F'|' '/^\| RSA-2048 sign/ {gsub(/ /, "", $3); print $3}' "$WORK/limits.md")
  # The in-process, SIMD-optimised argon2 (argon2-cffi) is the fair yardstick; the Debian CLI
  # (reference code, one process per hash) is the fallback.
  ARGON2_RATE=$(awk -F'|' '/argon2-cffi/ {split($3, a, " "); print a[1]}' "$WORK/limits.md")
  [ -n "$ARGON2_RATE" ] || ARGON2_RATE=$(awk -F'|' '/argon2id/ {split($3, a, " "); print a[1]; exit}' "$WORK/limits.md")
fi

log "building the release binary"
(cd "$ROOT" && cargo build --release --quiet)
BIN="$ROOT/target/release/hccc-sso"

log "starting hccc-sso on PostgreSQL (database hccc_bench)"
psql "$PG_URL/postgres" -qc 'drop database if exists hccc_bench' -c 'create database hccc_bench' >/dev/null
export DATABASE_URL="$PG_URL/hccc_bench" HCCC_SSO_ISSUER="http://127.0.0.1:$OURS_PORT" HCCC_SSO_BIND="127.0.0.1:$OURS_PORT"
export HCCC_SSO_SECRET_KEY="${HCCC_SSO_SECRET_KEY:-$(openssl rand -base64 32)}" HCCC_SSO_ADMIN_PASSWORD="bench operator passphrase"
export HCCC_SSO_DATA_DIR="$WORK" RUST_LOG=warn HCCC_SSO_DB_MAX_CONNECTIONS=20
"$BIN" migrate >/dev/null
# SEED=1: the same workloads on a directory at scale (bench/seed.sh; bench/scale.sh runs both).
if [ "${SEED:-0}" = 1 ]; then
  log "seeding the database at scale (bench/seed.sh)"
  "$HERE/seed.sh" "$DATABASE_URL" >&2
fi
CLIENT_JSON="$("$BIN" client create --name Bench --redirect-uri http://127.0.0.1:8765/cb --skip-consent \
  --grant-type authorization_code --grant-type refresh_token --grant-type client_credentials --json)"
OURS_ID="$(node -e 'console.log(JSON.parse(process.argv[1]).client_id)' "$CLIENT_JSON")"
OURS_SECRET="$(node -e 'console.log(JSON.parse(process.argv[1]).client_secret)' "$CLIENT_JSON")"
echo 'correct horse battery staple' | "$BIN" user create --username alice --email alice@example.edu \
  --given-name Alice --family-name Example --password-stdin >/dev/null
# The default configuration: RUST_LOG and HCCC_SSO_LOG_FORMAT unset (info, JSON lines).
env -u RUST_LOG -u HCCC_SSO_LOG_FORMAT "$BIN" serve >"$WORK/ours.log" 2>&1 &
OURS_PID=$!
HCCC_SSO_BIND="127.0.0.1:$QUIET_PORT" "$BIN" serve >"$WORK/quiet.log" 2>&1 &
QUIET_PID=$!

log "starting the peer (node-oidc-provider, JWT access tokens)"
(cd "$PEERS/node-oidc-provider" && ACCESS_TOKEN_FORMAT=jwt PORT=$PEER_PORT ./run.sh >"$WORK/peer.log" 2>&1) &
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$OURS_PORT/health/ready" >/dev/null && curl -sf "http://127.0.0.1:$QUIET_PORT/health/ready" >/dev/null && curl -sf "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" >/dev/null && break
  sleep 0.2
done
PEER_PID="$(ss -ltnpH "sport = :$PEER_PORT" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)"
sleep 2
IDLE_OURS=$(rss_mib "$OURS_PID") IDLE_PEER=$(rss_mib "$PEER_PID")

token_for() { # ISSUER CLIENT_ID SECRET -> user access token, via the shared openid-client RP
  (cd "$PEERS/rp-check" && [ -d node_modules ] || npm ci --silent --no-audit --no-fund) >/dev/null 2>&1
  ISSUER="$1" CLIENT_ID="$2" CLIENT_SECRET="$3" REDIRECT_URI=http://127.0.0.1:8765/cb USERNAME=alice \
    PASSWORD='correct horse battery staple' SCOPE='openid profile email' \
    node "$PEERS/rp-check/flow.mjs" --access-token-out "$WORK/at" >/dev/null 2>&1
  cat "$WORK/at"
}
OURS_AT="$(token_for "http://127.0.0.1:$OURS_PORT" "$OURS_ID" "$OURS_SECRET")"
# The peer accepts only its opaque tokens at userinfo; its bench-userinfo client gets those.
PEER_AT="$(token_for "http://127.0.0.1:$PEER_PORT" bench-userinfo bench-secret)"

# Per server: the port, client credentials and user access token each workload needs.
server_env() {
  if [ "$1" = ours ] || [ "$1" = quiet ]; then
    # Both of ours share the issuer (the tokens' iss) and differ in the port they are reached on.
    PID=$OURS_PID PORT=$OURS_PORT ISSUER_URL="http://127.0.0.1:$OURS_PORT" CID=$OURS_ID CSECRET=$OURS_SECRET BEARER=$OURS_AT
    [ "$1" = quiet ] && PID=$QUIET_PID PORT=$QUIET_PORT
  else
    PID=$PEER_PID PORT=$PEER_PORT ISSUER_URL="http://127.0.0.1:$PEER_PORT" CID=bench-client CSECRET=bench-secret BEARER=$PEER_AT
  fi
  BASIC=$(printf '%s:%s' "$CID" "$CSECRET" | base64 -w0)
}
path_of() { # WHO WORKLOAD -> URL path
  case "$2" in
    discovery) echo /.well-known/openid-configuration ;;
    jwks) [ "$1" = peer ] && echo /jwks || echo /jwks.json ;;
    userinfo) [ "$1" = peer ] && echo /me || echo /userinfo ;;
    *) echo /token ;;
  esac
}
signin() { # MODE [N]: bench/signin.mjs against the current server_env
  ISSUER=$ISSUER_URL CLIENT_ID=$CID CLIENT_SECRET=$CSECRET REDIRECT_URI=http://127.0.0.1:8765/cb \
    USERNAME=alice PASSWORD='correct horse battery staple' node "$HERE/signin.mjs" "$@"
}
# load WHO WORKLOAD SECONDS CONNECTIONS THREADS -> wrk's or signin.mjs's RESULT line
load() {
  local who=$1 workload=$2 seconds=$3 connections=$4 threads=$5 script
  case "$workload" in
    sign_in)
      CONCURRENCY=$connections DURATION=$seconds signin bench 2>>"$WORK/signin-errors.log" | grep '^RESULT'
      return ;;
    userinfo) script=bearer.lua ;;
    token_client_credentials) script=client_credentials.lua ;;
    token_refresh_token) script=refresh.lua ;;
    *) script=get.lua ;;
  esac
  BASIC=$BASIC BEARER=$BEARER REFRESH_FILE="$WORK/refresh-$who" THREADS=$threads \
    wrk -t"$threads" -c"$connections" -d"${seconds}s" -s "$LUA_DIR/$script" "http://127.0.0.1:$PORT$(path_of "$who" "$workload")" | grep '^RESULT'
}
# Each refresh token is used once; the token a refresh returns continues its rotation chain.
refresh_tokens() { # COUNT (for token_refresh_token only)
  [ "$workload" = token_refresh_token ] || return 0
  SCOPE='openid profile email offline_access' PROMPT=consent signin refresh "$1" >"$WORK/refresh-$who"
}
# phase WHO WORKLOAD -> "rps rps_per_cpu p50 p99 errors"
phase() {
  local who=$1 workload=$2 out before pg_before cpu connections=$CONNECTIONS
  server_env "$who"
  [ "$workload" = sign_in ] && connections=$SIGNIN_CONCURRENCY
  refresh_tokens 8 # fresh tokens for each run, collected outside the measured window
  load "$who" "$workload" 2 4 1 >/dev/null 2>&1 || true # warm-up
  refresh_tokens $((connections * 2))
  before=$(cpu_ticks "$PID") pg_before=$(pg_ticks)
  out=$(load "$who" "$workload" "$DURATION" "$connections" "$THREADS")
  cpu=$(( $(cpu_ticks "$PID") - before ))
  [ "$who" != peer ] && cpu=$(( cpu + $(pg_ticks) - pg_before ))
  local requests rps p50 p99 errors
  requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$out"); rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$out")
  p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$out"); p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")
  errors=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$out")
  awk -v r="${requests:-0}" -v c="$cpu" -v t="$TICKS" -v rps="${rps:-0}" -v p50="${p50:-0}" -v p99="${p99:-0}" -v e="${errors:-1}" \
    'BEGIN { printf "%s %.0f %s %s %s\n", rps, (c > 0 ? r / (c / t) : 0), p50, p99, e }'
}

echo "| workload | ours req/s | peer req/s | ratio | ours req/CPU-s | peer req/CPU-s | ratio | ours p50/p99 ms | peer p50/p99 ms | errors ours/peer |"
echo "|---|---|---|---|---|---|---|---|---|---|"
declare -A PER_CPU
row() { # NAME OURS... PEER...: one line of the table
  awk -v n="$1" -v a="$2" -v c="$3" -v o50="$4" -v o99="$5" -v oe="$6" -v b="$7" -v d="$8" -v p50="$9" -v p99="${10}" -v pe="${11}" \
    'BEGIN { flag = (oe + pe > 0) ? " (errors: not comparable)" : "";
             printf "| %s%s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f | %s / %s | %s / %s | %s / %s |\n",
             n, flag, a, b, (b > 0 ? a / b : 0), c, d, (d > 0 ? c / d : 0), o50, o99, p50, p99, oe, pe }'
}
# The peer keeps everything in a 1000-entry LRU: userinfo runs before the token workloads, and the
# sign-ins (which fill it) run last. The sign-in's pages link to the issuer's port, so it has no
# quiet row (argon2id is most of its cost either way).
for workload in discovery jwks userinfo token_client_credentials token_refresh_token sign_in; do
  log "phase $workload"
  read -r o_rps o_cpu o_p50 o_p99 o_err <<<"$(phase ours "$workload")"
  [ "$workload" = sign_in ] || read -r q_rps q_cpu q_p50 q_p99 q_err <<<"$(phase quiet "$workload")"
  read -r p_rps p_cpu p_p50 p_p99 p_err <<<"$(phase peer "$workload")"
  PER_CPU[$workload]="$o_cpu $p_cpu"
  row "$workload" "$o_rps" "$o_cpu" "$o_p50" "$o_p99" "$o_err" "$p_rps" "$p_cpu" "$p_p50" "$p_p99" "$p_err"
  [ "$workload" = sign_in ] || row "$workload, RUST_LOG=warn" "$q_rps" "$q_cpu" "$q_p50" "$q_p99" "$q_err" "$p_rps" "$p_cpu" "$p_p50" "$p_p99" "$p_err"
done
if [ -n "${RSA_SIGN:-}" ]; then
  echo
  echo "| against the machine's raw per-core limits | ours | peer |"
  echo "|---|---|---|"
  read -r o p <<<"${PER_CPU[token_client_credentials]}"
  awk -v o="$o" -v p="$p" -v r="$RSA_SIGN" 'BEGIN { printf "| token (client_credentials) per CPU-s / RSA-2048 signs per s (%.0f) | %.0f%% | %.0f%% |\n", r, 100 * o / r, 100 * p / r }'
  read -r o p <<<"${PER_CPU[sign_in]}"
  awk -v o="$o" -v p="$p" -v r="$ARGON2_RATE" 'BEGIN { printf "| sign-in per CPU-s / argon2id hashes per s (%.1f) | %.0f%% | %.0f%% (hashes no password) |\n", r, 100 * o / r, 100 * p / r }'
fi
echo
echo "| memory (MiB) | ours | peer |"
echo "|---|---|---|"
echo "| idle RSS | $IDLE_OURS | $IDLE_PEER |"
echo "| peak RSS (VmHWM) | $(hwm_mib "$OURS_PID") | $(hwm_mib "$PEER_PID") |"
echo
echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo);" \
  "wrk ${THREADS} threads, ${CONNECTIONS} connections, sign-in ${SIGNIN_CONCURRENCY} concurrent, ${DURATION} s per workload after a 2 s warm-up."
[ -s "$WORK/signin-errors.log" ] && { echo; echo "Sign-in errors:"; sort "$WORK/signin-errors.log" | uniq -c | head -5; }
[ -f "$WORK/limits.md" ] && { echo; cat "$WORK/limits.md"; }
true
