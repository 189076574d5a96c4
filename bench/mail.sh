#!/usr/bin/env bash
# Invitations for a 20,000-student import (release build), on SQLite and PostgreSQL: the time to
# queue them all (`hccc-sso user invite --all-without-password`: compose both parts in the
# account's language, seal, store with their links; target under 5 s), then the time the server's
# outbox worker takes to deliver them all to a local SMTP sink (aiosmtpd, tests/smtp/sink.py;
# target 200 messages per second or more).
# Usage: bench/mail.sh [rows]   (PostgreSQL at 127.0.0.1:5432 with trust auth; python3-aiosmtpd)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-20000}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cargo build --release --quiet
bin=target/release/hccc-sso
{
  echo "username,email,given_name,family_name,roles,groups,locale,recovery_email"
  for ((i = 0; i < rows; i++)); do
    locale=$([ $((i % 2)) -eq 0 ] && echo es || echo en)
    printf 's%05d,s%05d@students.hccc.edu,Student,Number%d,student,Class of 2027,%s,s%05d@home.example\n' "$i" "$i" "$i" "$locale" "$i"
  done
} > "$work/students.csv"
export HCCC_SSO_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
python=/usr/bin/python3
[ -x "$python" ] || python=python3
port=$((20000 + RANDOM % 8000))
http_port=$((28000 + RANDOM % 2000))
run() { # label, database url, count query
  export DATABASE_URL=$2 HCCC_SSO_DATA_DIR=$work/data-$1 HCCC_SSO_ISSUER=http://127.0.0.1:$http_port
  mkdir -p "$HCCC_SSO_DATA_DIR" "$work/sink-$1"
  "$bin" migrate >/dev/null
  "$bin" user import "$work/students.csv" >/dev/null
  unset HCCC_SSO_SMTP_URL
  start=$(date +%s%N)
  out=$("$bin" user invite --all-without-password)
  end=$(date +%s%N)
  printf '%-9s queue    %6d ms (process)  %s\n' "$1" $(((end - start) / 1000000)) "$out"
  "$python" tests/smtp/sink.py "$port" "$work/sink-$1" > "$work/sink-$1.log" 2>&1 &
  pids+=($!)
  until grep -q ready "$work/sink-$1.log" 2>/dev/null; do
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/sink-$1.log"; exit 1; } # no aiosmtpd?
    sleep 0.1
  done
  start=$(date +%s%N)
  HCCC_SSO_SMTP_URL=smtp://127.0.0.1:$port HCCC_SSO_BIND=127.0.0.1:$http_port RUST_LOG=warn "$bin" serve > "$work/serve-$1.log" 2>&1 &
  pids+=($!)
  while [ "$(find "$work/sink-$1" -name '*.eml' | wc -l)" -lt "$rows" ]; do
    kill -0 "${pids[-1]}" 2>/dev/null || { tail "$work/serve-$1.log"; exit 1; }
    sleep 0.2
  done
  end=$(date +%s%N)
  ms=$(((end - start) / 1000000))
  rate=$((rows * 1000 / ms))
  # CPU seconds each side spent (utime + stime, clock ticks): where the time went.
  cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }
  printf '%-9s cpu      server %s s, sink %s s\n' "$1" "$(cpu "${pids[-1]}")" "$(cpu "${pids[-2]}")"
  printf '%-9s deliver  %6d ms for %d messages: %d messages/s (from server start)\n' "$1" "$ms" "$rows" "$rate"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  # The same sink fed by plain smtplib, right after: the relay's ceiling on this machine now.
  size=$(stat -c %s "$(find "$work/sink-$1" -name '*.eml' | head -1)")
  find "$work/sink-$1" -type f -delete
  ceiling=$("$python" bench/smtp_ceiling.py "$port" 4000 "$size")
  printf '%-9s ceiling  %d messages/s of %d bytes into the same sink (smtplib, 16 connections): ours is %s of it\n' \
    "$1" "$ceiling" "$size" "$(awk -v a="$rate" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }')"
  kill "${pids[-2]}"; wait "${pids[-2]}" 2>/dev/null || true
}
run sqlite "sqlite://$work/mail.db"
psql -h 127.0.0.1 -U postgres -qc "drop database if exists hccc_mail_bench" -c "create database hccc_mail_bench" postgres
run postgres "postgres://postgres@127.0.0.1:5432/hccc_mail_bench"
psql -h 127.0.0.1 -U postgres -qc "drop database hccc_mail_bench" postgres
