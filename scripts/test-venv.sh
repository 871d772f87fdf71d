#!/usr/bin/env bash
# Makes .venv/ hold exactly tests/requirements.txt (moto and boto3 for the RDS tests, pinned with
# hashes). Idempotent and quick when nothing changed: the venv records the requirements' SHA-256
# and is rebuilt from scratch when the file differs, so a stale emulator never stays behind.
set -euo pipefail
cd "$(dirname "$0")/.."
# Test binaries may call this at once: one installs, the others wait and find it done.
exec 9<scripts/test-venv.sh
flock 9
requirements=tests/requirements.txt
stamp=.venv/sqlready-requirements.sha256
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -x .venv/bin/moto_server ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "installing $requirements into .venv/" >&2
rm -rf .venv
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check --no-deps --require-hashes -r "$requirements"
echo "$want" > "$stamp"
