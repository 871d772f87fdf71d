#!/usr/bin/env bash
# Benchmark (measures; not a test): `sqlready merge` of 8 shard reports of
# 1,000 targets each (issue 13: under 2 s). The shard reports are made from
# one real report (a Terraform fixture audited by this build): its targets are
# copied under 8,000 distinct RDS ids, each put in the shard its id hashes to
# (SHA-256, first 8 bytes, mod 8: src/shard.rs) until every shard holds
# 1,000, so merge's own checks accept them. Then each format is timed.
#
#   SQLREADY_BENCH_PROFILE   cargo profile to build (default release; dev reuses the test build)
#   SQLREADY_BENCH_FEATURES  cargo feature flags (default for release --no-default-features: merge
#                            and the Terraform audit that makes the inputs need no cloud
#                            SDK, and the release build is minutes instead of half an hour)
#   SQLREADY_BENCH_RUNS      timed runs per format (default 3)
#   SQLREADY_BENCH_PER_SHARD targets per shard (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${SQLREADY_BENCH_PROFILE:-release}
runs=${SQLREADY_BENCH_RUNS:-3}
per_shard=${SQLREADY_BENCH_PER_SHARD:-1000}
# dev reuses the test build as it is (all features).
default_features=--no-default-features
[ "$profile" = dev ] && default_features=
features=${SQLREADY_BENCH_FEATURES-$default_features}

# shellcheck disable=SC2086 # the feature flags are words
cargo build --locked --profile "$profile" --quiet --bin sqlready $features
dir=$profile; [ "$profile" = dev ] && dir=debug
work=$(mktemp -d /tmp/sqlready-bench-merge-XXXXXX)
trap 'rm -rf "$work"' EXIT
# A private copy: another build in the same target directory may replace the binary meanwhile.
bin="$work/sqlready"
cp "${CARGO_TARGET_DIR:-target}/$dir/sqlready" "$bin"

"$bin" audit tests/fixtures/terraform/aws tests/fixtures/terraform/orders --no-config \
    --format json --fail-on never -o "$work/base.json"
python3 - "$work" "$per_shard" <<'PY'
import copy, hashlib, json, os, sys
work, per_shard = sys.argv[1], int(sys.argv[2])
count = 8
base = json.load(open(os.path.join(work, "base.json")))
templates = base["targets"]
shards = [[] for _ in range(count)]
n = 0
while any(len(s) < per_shard for s in shards):
    target_id = f"rds://eu-west-1/db/bench-{n:06}"
    digest = hashlib.sha256(target_id.encode()).digest()
    index = int.from_bytes(digest[:8], "big") % count
    if len(shards[index]) < per_shard:
        target = copy.deepcopy(templates[n % len(templates)])
        target["id"] = target_id
        shards[index].append(target)
    n += 1
fleet = sum(len(s) for s in shards)
for index, targets in enumerate(shards):
    report = copy.deepcopy(base)
    report["targets"] = targets
    report["summary"]["targets"] = len(targets)
    report["shard"] = {"index": index, "count": count, "fleet_size": fleet, "hash": "sha256-be64-mod-v1"}
    with open(os.path.join(work, f"shard-{index}.json"), "w") as out:
        json.dump(report, out, indent=2)
PY
bytes=$(cat "$work"/shard-*.json | wc -c)
echo "8 shard reports, $per_shard targets each, $((bytes / 1024 / 1024)) MiB of JSON"
for format in json table html sarif; do
    best=""
    for _ in $(seq "$runs"); do
        # Each run writes a new file, as a dated fleet report is: replacing the
        # previous run's 450 MiB file would add the kernel freeing it (0.1 s)
        # to the merge's time.
        rm -f "$work/merged.$format"
        sync
        start=$(date +%s%N)
        "$bin" merge "$work"/shard-*.json --format "$format" --fail-on never -o "$work/merged.$format" >/dev/null
        took=$((($(date +%s%N) - start) / 1000000))
        if [ -z "$best" ] || [ "$took" -lt "$best" ]; then best=$took; fi
    done
    printf 'merge --format %-6s best of %s: %d ms\n' "$format" "$runs" "$best"
done
python3 - "$work/merged.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
print(f"merged: {report['summary']['targets']} targets from {len(report['merged']['shards'])} shards")
PY
