#!/usr/bin/env bash
# Benchmark (measures; not a test): one local PostgreSQL audited end to end.
# Reports wall time per audit, time after connect, statements per audit, and
# the same again with 50,000 tables; then check evaluation per target.
# Needs PostgreSQL 15 server binaries (./scripts/test.sh installs them) and root
# or a user allowed to run initdb.
set -euo pipefail
cd "$(dirname "$0")/.."
pg_bin="${SQLREADY_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/sqlready"

dir=$(mktemp -d /tmp/sqlready-bench-XXXXXX)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; as_pg=(runuser -u postgres --); fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
"${as_pg[@]}" "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c log_statement=all -c fsync=off" >/dev/null
url="postgres://postgres@127.0.0.1:$port/postgres"

measure() {
  local label=$1 runs=10 total=0 collect=0
  "$bin" audit "$url" --fail-on never >/dev/null   # warm caches
  local before; before=$(grep -c 'LOG:  \(statement\|execute\)' "$dir/log" || true)
  "$bin" audit "$url" --fail-on never >/dev/null
  local after; after=$(grep -c 'LOG:  \(statement\|execute\)' "$dir/log" || true)
  for _ in $(seq $runs); do
    local start end line
    start=$(date +%s%N)
    line=$(RUST_LOG=sqlready=debug "$bin" audit "$url" --fail-on never 2>&1 >/dev/null | grep -o 'after connect in [0-9.]* ms' | tail -1)
    end=$(date +%s%N)
    total=$((total + (end - start) / 1000))
    collect=$(python3 -c "print($collect + float('${line##*in }'.split()[0]))")
  done
  printf '%-22s wall %6.1f ms/audit (process, connect, queries, report)   after connect %6.1f ms   statements/audit %d\n' \
    "$label" "$(python3 -c "print($total/$runs/1000)")" "$(python3 -c "print($collect/$runs)")" "$((after - before))"
}

measure "empty database"
# One statement per table (\gexec, autocommit): a single transaction would run out of lock slots.
echo "SELECT format('CREATE TABLE bench_%s (id int)', g) FROM generate_series(1, 50000) g \\gexec" |
  psql -q -h "$dir" -p "$port" -U postgres -d postgres >/dev/null
measure "50,000 tables"
cargo bench --quiet --bench evaluate 2>/dev/null | grep -v '^$'
