#!/usr/bin/env bash
# Times `hccc-sso user import` of a generated 20,000-row CSV (release build), on SQLite and on
# PostgreSQL: the dry run, the import, and the same file again (all unchanged).
# Usage: bench/import.sh [rows]   (PostgreSQL at 127.0.0.1:5432 with trust auth, as on CI)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-20000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
bin=target/release/hccc-sso
{
  echo "username,email,given_name,family_name,roles,groups"
  for ((i = 0; i < rows; i++)); do
    printf 's%05d,s%05d@students.hccc.edu,Student,Number%d,student,Class of 2027;Cohort %d\n' "$i" "$i" "$i" $((i % 40))
  done
} > "$work/students.csv"
export HCCC_SSO_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
run() { # label, database url
  export DATABASE_URL=$2 HCCC_SSO_DATA_DIR=$work/data-$1
  mkdir -p "$HCCC_SSO_DATA_DIR"
  "$bin" migrate >/dev/null
  for step in "--dry-run" "" ""; do
    start=$(date +%s%N)
    "$bin" user import "$work/students.csv" $step >"$work/out.txt"
    end=$(date +%s%N)
    printf '%-10s %-10s %6d ms  %s\n' "$1" "${step:-import}" $(((end - start) / 1000000)) "$(head -1 "$work/out.txt")"
  done
}
run sqlite "sqlite://$work/import.db"
psql -h 127.0.0.1 -U postgres -qc "drop database if exists hccc_import_bench" -c "create database hccc_import_bench" postgres
run postgres "postgres://postgres@127.0.0.1:5432/hccc_import_bench"
psql -h 127.0.0.1 -U postgres -qc "drop database hccc_import_bench" postgres
