#!/usr/bin/env bash
# Benchmark hccc-sso (release build, PostgreSQL) against the certified peer in ../shared/peers
# (node-oidc-provider with ACCESS_TOKEN_FORMAT=jwt), phase by phase, alternating the two servers.
# Reports requests/s and requests per server CPU-second (ours counts PostgreSQL's CPU too), each as
# a ratio to the peer, p50/p99 latency, errors, and idle/peak RSS. Loopback only.
#
#   bench/run.sh            DURATION=10s CONNECTIONS=16 THREADS=2 to change the load
#
# Needs: wrk, node/npm, PostgreSQL on 127.0.0.1:5432 (trust or PGPASSWORD), ../shared/peers.
# Not yet measured here: the refresh_token grant and a full sign-in (next step, see README).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
PEERS="${PEERS:-$ROOT/../shared/peers}"
DURATION="${DURATION:-10s}" CONNECTIONS="${CONNECTIONS:-16}" THREADS="${THREADS:-2}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
OURS_PORT=8090 PEER_PORT=3100
export LUA_DIR="$HERE/lua"
WORK="$(mktemp -d)"
log() { printf '[bench] %s\n' "$*" >&2; }
cleanup() { kill "${OURS_PID:-}" "${PEER_PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
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

log "building the release binary"
(cd "$ROOT" && cargo build --release --quiet)
BIN="$ROOT/target/release/hccc-sso"

log "starting hccc-sso on PostgreSQL (database hccc_bench)"
psql "$PG_URL/postgres" -qc 'drop database if exists hccc_bench' -c 'create database hccc_bench' >/dev/null
export DATABASE_URL="$PG_URL/hccc_bench" HCCC_SSO_ISSUER="http://127.0.0.1:$OURS_PORT" HCCC_SSO_BIND="127.0.0.1:$OURS_PORT"
export HCCC_SSO_SECRET_KEY="$(openssl rand -base64 32)" HCCC_SSO_ADMIN_PASSWORD="bench operator passphrase"
export HCCC_SSO_DATA_DIR="$WORK" RUST_LOG=warn HCCC_SSO_DB_MAX_CONNECTIONS=20
"$BIN" migrate >/dev/null
CLIENT_JSON="$("$BIN" client create --name Bench --redirect-uri http://127.0.0.1:8765/cb --skip-consent \
  --grant-type authorization_code --grant-type refresh_token --grant-type client_credentials --json)"
OURS_ID="$(node -e 'console.log(JSON.parse(process.argv[1]).client_id)' "$CLIENT_JSON")"
OURS_SECRET="$(node -e 'console.log(JSON.parse(process.argv[1]).client_secret)' "$CLIENT_JSON")"
echo 'correct horse battery staple' | "$BIN" user create --username alice --email alice@example.edu \
  --given-name Alice --family-name Example --password-stdin >/dev/null
"$BIN" serve >"$WORK/ours.log" 2>&1 &
OURS_PID=$!

log "starting the peer (node-oidc-provider, JWT access tokens)"
(cd "$PEERS/node-oidc-provider" && ACCESS_TOKEN_FORMAT=jwt PORT=$PEER_PORT ./run.sh >"$WORK/peer.log" 2>&1) &
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$OURS_PORT/health/ready" >/dev/null && curl -sf "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" >/dev/null && break
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

# phase SERVER NAME SCRIPT PATH -> "rps rps_per_cpu p50 p99 errors"
phase() {
  local who=$1 name=$2 script=$3 path=$4 pid port basic bearer
  if [ "$who" = ours ]; then pid=$OURS_PID port=$OURS_PORT basic=$(printf '%s:%s' "$OURS_ID" "$OURS_SECRET" | base64 -w0) bearer=$OURS_AT
  else pid=$PEER_PID port=$PEER_PORT basic=$(printf 'bench-client:bench-secret' | base64 -w0) bearer=$PEER_AT; fi
  BASIC=$basic BEARER=$bearer wrk -t1 -c4 -d2s -s "$LUA_DIR/$script" "http://127.0.0.1:$port$path" >/dev/null 2>&1 # warm-up
  local before=$(cpu_ticks "$pid") pg_before=$(pg_ticks)
  local out
  out=$(BASIC=$basic BEARER=$bearer wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$LUA_DIR/$script" "http://127.0.0.1:$port$path" | grep '^RESULT')
  local cpu=$(( $(cpu_ticks "$pid") - before ))
  [ "$who" = ours ] && cpu=$(( cpu + $(pg_ticks) - pg_before ))
  local requests rps p50 p99 errors
  requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$out"); rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$out")
  p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$out"); p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")
  errors=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$out")
  awk -v r="$requests" -v c="$cpu" -v t="$TICKS" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v e="$errors" \
    'BEGIN { printf "%s %.0f %s %s %s\n", rps, (c > 0 ? r / (c / t) : 0), p50, p99, e }'
}

echo "| workload | ours req/s | peer req/s | ratio | ours req/CPU-s | peer req/CPU-s | ratio | ours p50/p99 ms | peer p50/p99 ms | errors ours/peer |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for spec in "discovery get.lua /.well-known/openid-configuration" "jwks get.lua JWKS" \
            "userinfo bearer.lua USERINFO" "token_client_credentials client_credentials.lua /token"; do
  read -r name script path <<<"$spec"
  o_path=$path p_path=$path
  [ "$path" = JWKS ] && o_path=/jwks.json p_path=/jwks
  [ "$path" = USERINFO ] && o_path=/userinfo p_path=/me
  [ "$path" = /token ] && p_path=/token
  log "phase $name"
  read -r o_rps o_cpu o_p50 o_p99 o_err <<<"$(phase ours "$name" "$script" "$o_path")"
  read -r p_rps p_cpu p_p50 p_p99 p_err <<<"$(phase peer "$name" "$script" "$p_path")"
  awk -v n="$name" -v a="$o_rps" -v b="$p_rps" -v c="$o_cpu" -v d="$p_cpu" -v o50="$o_p50" -v o99="$o_p99" \
      -v p50="$p_p50" -v p99="$p_p99" -v oe="$o_err" -v pe="$p_err" \
    'BEGIN { flag = (oe + pe > 0) ? " (errors: not comparable)" : "";
             printf "| %s%s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f | %s / %s | %s / %s | %s / %s |\n",
             n, flag, a, b, (b > 0 ? a / b : 0), c, d, (d > 0 ? c / d : 0), o50, o99, p50, p99, oe, pe }'
done
echo
echo "| memory (MiB) | ours | peer |"
echo "|---|---|---|"
echo "| idle RSS | $IDLE_OURS | $IDLE_PEER |"
echo "| peak RSS (VmHWM) | $(hwm_mib "$OURS_PID") | $(hwm_mib "$PEER_PID") |"
