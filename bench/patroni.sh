#!/usr/bin/env bash
# PostgreSQL high availability on loopback, and a failover under load (issue 15): etcd (Debian
# etcd-server), two PostgreSQL 15 nodes run by Patroni (Debian patroni) with synchronous_mode, so
# a commit is acknowledged only once the standby has it, and HAProxy (Debian haproxy) in front,
# sending connections to whichever node Patroni's REST API calls the primary (GET /primary).
# hccc-sso connects to HAProxy only. Under a refresh load, the primary (Patroni and its
# PostgreSQL) is killed with SIGKILL; the script reports when the standby was promoted, when the
# server answered again, what the load saw, and checks that every refresh token the server
# answered with before the kill works exactly once after it.
#
#   bench/patroni.sh          TOKENS=200 (refresh tokens checked after the failover)
#
# Needs: patroni, etcd-server, haproxy, postgresql-15 (Debian), wrk, node, curl. Runs as root
# (PostgreSQL and Patroni then run as the postgres user). Loopback only; stops everything at exit.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
BIN="$ROOT/target/release/hccc-sso"
PGBIN=/usr/lib/postgresql/15/bin
TOKENS="${TOKENS:-200}"
WORK="$(mktemp -d /tmp/hccc-patroni.XXXX)"
chown postgres:postgres "$WORK"
PORT=8095 HAPROXY_PORT=5440
export LUA_DIR="$HERE/lua" LC_ALL=C
log() { printf '[patroni %s] %s\n' "$(date -u +%T)" "$*" >&2; }
cleanup() {
  kill "${SERVER_PID:-}" "${HAPROXY_PID:-}" 2>/dev/null || true
  pkill -KILL -f "patroni $WORK" 2>/dev/null || true
  pkill -KILL -f "$WORK/pg" 2>/dev/null || true
  kill "${ETCD_PID:-}" 2>/dev/null || true
  sleep 1; rm -rf "$WORK"
}
trap cleanup EXIT
as_postgres() { su postgres -s /bin/bash -c "$*"; }

log "etcd on 127.0.0.1:2379"
etcd --name hccc --data-dir "$WORK/etcd" --listen-client-urls http://127.0.0.1:2379 \
  --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
  --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster hccc=http://127.0.0.1:2380 \
  >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!

node_config() { # NAME PG_PORT REST_PORT
  cat <<YAML
scope: hccc-sso
name: $1
restapi:
  listen: 127.0.0.1:$3
  connect_address: 127.0.0.1:$3
etcd3:
  hosts: 127.0.0.1:2379
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 5
    maximum_lag_on_failover: 0
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 5
        max_replication_slots: 5
  initdb:
    - encoding: UTF8
    - auth: trust
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication replicator 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$2
  connect_address: 127.0.0.1:$2
  data_dir: $WORK/pg-$1
  bin_dir: $PGBIN
  pgpass: $WORK/pgpass-$1
  authentication:
    superuser: { username: postgres }
    replication: { username: replicator }
  parameters:
    unix_socket_directories: $WORK
YAML
}
node_config pg1 5441 8008 >"$WORK/pg1.yml"
node_config pg2 5442 8009 >"$WORK/pg2.yml"
chown postgres:postgres "$WORK"/*.yml
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:2379/health >/dev/null && break; sleep 0.2; done
log "Patroni node pg1 (bootstraps the cluster), then pg2 (its synchronous standby)"
as_postgres "cd $WORK && exec patroni $WORK/pg1.yml >$WORK/pg1.log 2>&1" &
for _ in $(seq 1 150); do curl -sf http://127.0.0.1:8008/primary >/dev/null && break; sleep 0.2; done
as_postgres "cd $WORK && exec patroni $WORK/pg2.yml >$WORK/pg2.log 2>&1" &
for _ in $(seq 1 300); do curl -sf http://127.0.0.1:8009/sync >/dev/null && break; sleep 0.2; done
curl -sf http://127.0.0.1:8009/sync >/dev/null || { log "pg2 did not become the synchronous standby"; tail -20 "$WORK/pg2.log" >&2; exit 1; }

cat >"$WORK/haproxy.cfg" <<CFG
global
  maxconn 200
defaults
  mode tcp
  timeout connect 2s
  timeout client 30m
  timeout server 30m
  timeout check 1s
listen postgres
  bind 127.0.0.1:$HAPROXY_PORT
  option httpchk GET /primary
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
  server pg1 127.0.0.1:5441 check port 8008
  server pg2 127.0.0.1:5442 check port 8009
CFG
haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!
sleep 1

log "hccc-sso through HAProxy"
export DATABASE_URL="postgres://postgres@127.0.0.1:$HAPROXY_PORT/postgres" HCCC_SSO_ISSUER="http://127.0.0.1:$PORT"
export HCCC_SSO_BIND="127.0.0.1:$PORT" HCCC_SSO_SECRET_KEY="$(openssl rand -base64 32)" HCCC_SSO_DATA_DIR="$WORK"
export HCCC_SSO_ADMIN_PASSWORD="patroni operator passphrase"
"$BIN" migrate >/dev/null
CLIENT="$("$BIN" client create --name HA --redirect-uri http://127.0.0.1:8765/cb --skip-consent \
  --grant-type authorization_code --grant-type refresh_token --json)"
CID="$(node -e 'console.log(JSON.parse(process.argv[1]).client_id)' "$CLIENT")"
CSECRET="$(node -e 'console.log(JSON.parse(process.argv[1]).client_secret)' "$CLIENT")"
echo 'correct horse battery staple' | "$BIN" user create --username alice --email alice@example.edu --password-stdin >/dev/null
RUST_LOG=info "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.2; done
tokens() { # N: refresh tokens from N sign-ins
  ISSUER=$HCCC_SSO_ISSUER CLIENT_ID=$CID CLIENT_SECRET=$CSECRET REDIRECT_URI=http://127.0.0.1:8765/cb \
    USERNAME=alice PASSWORD='correct horse battery staple' SCOPE='openid profile email offline_access' \
    PROMPT=consent node "$HERE/signin.mjs" refresh "$1"
}
log "$TOKENS refresh tokens answered before the kill, kept aside"
tokens "$TOKENS" >"$WORK/kept"
tokens 32 >"$WORK/load"
# The load: 32 rotation chains, each presenting its last answered token again after a 503.
ISSUER=$HCCC_SSO_ISSUER CLIENT_ID=$CID CLIENT_SECRET=$CSECRET REFRESH_FILE="$WORK/load" DURATION=40 \
  node "$HERE/refresh_load.mjs" >"$WORK/during" &
WRK=$!
sleep 10
PRIMARY_PID="$(pgrep -u postgres -f "python3 /usr/bin/patroni $WORK/pg1.yml" | head -1)"
log "killing the primary (pg1: Patroni and its PostgreSQL) with SIGKILL"
killed=$(date +%s.%N)
kill -KILL "$PRIMARY_PID"
pkill -KILL -f "$WORK/pg-pg1" || true
promoted="" answering=""
for _ in $(seq 1 600); do
  now=$(date +%s.%N)
  [ -z "$promoted" ] && curl -sf http://127.0.0.1:8009/primary >/dev/null && promoted=$(awk -v a="$killed" -v b="$now" 'BEGIN{printf "%.1f", b-a}')
  if [ -n "$promoted" ] && curl -sf "$HCCC_SSO_ISSUER/health/ready" >/dev/null; then
    answering=$(awk -v a="$killed" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'); break
  fi
  sleep 0.1
done
wait "$WRK" || true

log "checking the $TOKENS kept refresh tokens"
ok=0 again_refused=0 failed=0
while read -r token; do
  first=$(curl -s -o /dev/null -w '%{http_code}' -u "$CID:$CSECRET" -d grant_type=refresh_token -d "refresh_token=$token" "$HCCC_SSO_ISSUER/token")
  second=$(curl -s -o /dev/null -w '%{http_code}' -u "$CID:$CSECRET" -d grant_type=refresh_token -d "refresh_token=$token" "$HCCC_SSO_ISSUER/token")
  if [ "$first" = 200 ]; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
  [ "$second" = 400 ] && again_refused=$((again_refused + 1))
done <"$WORK/kept"

echo "| failover (Patroni, synchronous standby, HAProxy) | |"
echo "|---|---|"
echo "| standby promoted after the kill | ${promoted:-not within 60} s |"
echo "| hccc-sso ready again through HAProxy | ${answering:-not within 60} s |"
echo "| refresh load over the 40 s (32 chains, the kill at 10 s) | $(tr '\n' ' ' <"$WORK/during") |"
echo "| refresh tokens answered before the kill that worked after it | $ok of $TOKENS ($failed failed) |"
echo "| … and refused when used a second time | $again_refused of $TOKENS |"
echo
echo "Answers during the run, by status, from the server's access log:"
grep "\"message\":\"response" "$WORK/server.log" | grep -o "\"status\":[0-9]*" | sort | uniq -c || true
grep -c 'response failed' "$WORK/server.log" | sed 's/^/5xx lines logged: /' || true
echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores."
