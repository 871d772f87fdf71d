#!/usr/bin/env bash
# Benchmark (measures; not a test): the RDS source on a fleet of 1,000 DB
# instances in a local moto server. Seeds moto through boto3
# (tests/fixtures/rds/seed.py bench N), then times
# `sqlready audit rds://us-east-1 --format json` and reports wall time per
# audit and the API calls made (by action, from sqlready's own count and from
# moto's request log).
#
#   SQLREADY_BENCH_INSTANCES  fleet size (default 1000)
#   SQLREADY_BENCH_PROFILE    cargo profile to build (default release; dev reuses the test build)
#   SQLREADY_BENCH_RUNS       timed runs (default 5)
#   SQLREADY_BENCH_SNAPSHOTS  manual snapshots seeded (default 20; one alarm per instance and a budget too)
#   SQLREADY_BENCH_CONNECT    1: also time `--connect` once, every instance's endpoint
#                             resolved to a closed loopback port, --connect-timeout 2
#                             (docs/connect.md: must finish in under 30 s for 1,000)
#   SQLREADY_BENCH_ORG=1      instead: organization discovery (aws-org://, issue 13) of
#                             5 audited accounts x 3 regions x SQLREADY_BENCH_INSTANCES
#                             (default 200 here) plus one account without the role, seeded
#                             by tests/fixtures/rds/seed_organization.py with moto's IAM
#                             enforcement on; reports wall time and calls (docs/organization.md)
#   SQLREADY_BENCH_BIN        an already built sqlready to time (no cargo build)
set -euo pipefail
cd "$(dirname "$0")/.."
org=${SQLREADY_BENCH_ORG:-0}
if [ "$org" = 1 ]; then n=${SQLREADY_BENCH_INSTANCES:-200}; else n=${SQLREADY_BENCH_INSTANCES:-1000}; fi
runs=${SQLREADY_BENCH_RUNS:-5}
profile=${SQLREADY_BENCH_PROFILE:-release}

./scripts/test-venv.sh
built=${SQLREADY_BENCH_BIN:-}
if [ -z "$built" ]; then
  cargo build --profile "$profile" --quiet --bin sqlready
  dir=$profile; [ "$profile" = dev ] && dir=debug
  built="target/$dir/sqlready"
fi
# A private copy: another build in the same target directory may replace the binary meanwhile.
bin=$(mktemp /tmp/sqlready-bench-bin-XXXXXX)
cp "$built" "$bin"
chmod +x "$bin"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp /tmp/sqlready-bench-moto-XXXXXX.log)
# moto counts each instance's automated snapshot against a quota of 1,000 snapshots;
# the manual ones seeded below need room.
MOTO_RDS_SNAPSHOT_LIMIT=100000 .venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true; rm -f "$log" "$bin"' EXIT
endpoint="http://127.0.0.1:$port"
python3 - "$endpoint" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit("moto_server did not start")
PY
if [ "$org" = 1 ]; then
  seed_start=$(date +%s%N)
  seeded=$(.venv/bin/python tests/fixtures/rds/seed_organization.py "$endpoint" 5 "$n" "$n")
  printf 'seeded an organization of 6 accounts x 3 regions x %d instances in %.1f s\n' "$n" \
    "$(python3 -c "print(($(date +%s%N) - $seed_start) / 1e9)")"
  key=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["AccessKeyId"])' "$seeded")
  secret=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["SecretAccessKey"])' "$seeded")
  regions=$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["regions"]))' "$seeded")
  work=$(mktemp -d /tmp/sqlready-bench-org-XXXXXX)
  trap 'kill $moto_pid 2>/dev/null || true; rm -rf "$log" "$bin" "$work"' EXIT
  printf '[[targets]]\ncloud = "aws-org://"\nrole_name = "SqlreadyAudit"\n' >"$work/sqlready.toml"
  export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" AWS_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
  for pass in every-region three-regions; do
    config="$work/sqlready.toml"
    if [ "$pass" = three-regions ]; then
      config="$work/three.toml"
      printf '[[targets]]\ncloud = "aws-org://"\nrole_name = "SqlreadyAudit"\nregions = ["us-east-1", "eu-west-1", "ap-southeast-2"]\n' >"$config"
    fi
    before=$(grep -c '"POST / HTTP' "$log" || true)
    start=$(date +%s%N)
    RUST_LOG=sqlready=info "$bin" audit --config "$config" --format json --fail-on never >"$work/out.json" 2>"$work/err" || true
    end=$(date +%s%N)
    after=$(grep -c '"POST / HTTP' "$log" || true)
    judged=$(python3 -c "import json; t=json.load(open('$work/out.json'))['targets']; print(sum(1 for x in t if not x.get('error')), sum(1 for x in t if x.get('error')))")
    echo "aws-org:// ($pass; $regions enabled regions per account): targets judged / not audited: $judged"
    echo "  wall: $(( (end - start) / 1000000 )) ms"
    echo "  API calls (sqlready): $(grep -o 'rds API calls so far: .*' "$work/err" | tail -1 | sed 's/rds API calls so far: //; s/ target=.*//')"
    echo "  HTTP requests (moto log): $((after - before))"
  done
  exit 0
fi
seed_start=$(date +%s%N)
.venv/bin/python tests/fixtures/rds/seed.py "$endpoint" bench "$n"
printf 'seeded %d instances in %.1f s\n' "$n" "$(python3 -c "print(($(date +%s%N) - $seed_start) / 1e9)")"
# Issue 12: one CloudWatch alarm per instance, a budget, and 20 manual snapshots (one
# shared): DescribeAlarms, DescribeBudgets and the snapshot listings must stay one page
# set per run; only the attribute reads grow, with manual snapshots.
snapshots=${SQLREADY_BENCH_SNAPSHOTS:-20}
.venv/bin/python - "$endpoint" "$snapshots" <<'PY'
import sys, boto3
kw = dict(region_name="us-east-1", endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
rds, cw = boto3.client("rds", **kw), boto3.client("cloudwatch", **kw)
ids = [db["DBInstanceIdentifier"] for page in rds.get_paginator("describe_db_instances").paginate() for db in page["DBInstances"]]
for db in ids:
    cw.put_metric_alarm(AlarmName=f"{db}-cpu", Namespace="AWS/RDS", MetricName="CPUUtilization",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": db}], Statistic="Average", Period=300,
        EvaluationPeriods=3, Threshold=90.0, ComparisonOperator="GreaterThanThreshold",
        AlarmActions=["arn:aws:sns:us-east-1:123456789012:oncall"])
for db in ids[: int(sys.argv[2])]:
    rds.create_db_snapshot(DBInstanceIdentifier=db, DBSnapshotIdentifier=f"{db}-manual")
rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=f"{ids[0]}-manual", AttributeName="restore", ValuesToAdd=["111122223333"])
boto3.client("budgets", **kw).create_budget(AccountId="123456789012", Budget={"BudgetName": "rds", "BudgetLimit": {"Amount": "500", "Unit": "USD"}, "TimeUnit": "MONTHLY", "BudgetType": "COST", "CostFilters": {"Service": ["Amazon Relational Database Service"]}},
    NotificationsWithSubscribers=[{"Notification": {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN", "Threshold": 80.0, "ThresholdType": "PERCENTAGE"}, "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "dba@example.com"}]}])
print(f"seeded {len(ids)} alarms, {sys.argv[2]} manual snapshots, 1 budget")
PY

export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
out=$(mktemp /tmp/sqlready-bench-XXXXXX.json)
err=$(mktemp /tmp/sqlready-bench-XXXXXX.err)
trap 'kill $moto_pid 2>/dev/null || true; rm -f "$log" "$bin" "$out" "$err"' EXIT

"$bin" audit rds://us-east-1 --format json --fail-on never >/dev/null 2>&1   # warm-up
times=()
for _ in $(seq "$runs"); do
  before=$(grep -c '"POST / HTTP' "$log" || true)
  start=$(date +%s%N)
  RUST_LOG=sqlready=info "$bin" audit rds://us-east-1 --format json --fail-on never >"$out" 2>"$err"
  end=$(date +%s%N)
  after=$(grep -c '"POST / HTTP' "$log" || true)
  times+=("$(( (end - start) / 1000000 ))")
done
targets=$(python3 -c "import json,sys; print(len(json.load(open('$out'))['targets']))")
calls=$(grep -o 'rds API calls so far: .*' "$err" | tail -1 | sed 's/rds API calls so far: //; s/ target=.*//')
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "instances: $n   targets judged: $targets   binary: ${SQLREADY_BENCH_BIN:-profile $profile}"
echo "wall per audit (ms, $runs runs, sorted): $sorted  median $median"
echo "API calls per audit (sqlready): $calls"
echo "HTTP requests per audit (moto log): $((after - before))"
# The issue-12 APIs: once per region / account, the attribute reads once per manual snapshot.
new_apis=$(printf '%s\n' $calls | grep -E '^(cloudwatch:|budgets:|DescribeDBSnapshots|DescribeDBClusterSnapshots|DescribeDBSnapshotAttributes|DescribeDBClusterSnapshotAttributes)' | tr '\n' ' ')
echo "of which alarms, budgets, snapshots ($snapshots manual snapshots): $new_apis"
# The same audit judged from saved facts: the share of the wall time that is not the API.
"$bin" audit rds://us-east-1 --format json --fail-on never --save-facts "$out.facts" >/dev/null 2>&1
start=$(date +%s%N)
"$bin" audit --facts "$out.facts" --format json --fail-on never >/dev/null
end=$(date +%s%N)
rm -f "$out.facts"
echo "of which judging and rendering $n targets (no API): $(( (end - start) / 1000000 )) ms"

if [ "${SQLREADY_BENCH_CONNECT:-0}" = 1 ]; then
  closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # One rule per discovered endpoint (curl's HOST:PORT:ADDR), all to the closed port.
  rules=()
  while read -r host port; do
    rules+=(--resolve "$host:$port:127.0.0.1:$closed")
  done < <(.venv/bin/python - "$endpoint" <<'PY'
import sys, boto3
c = boto3.client("rds", region_name="us-east-1", endpoint_url=sys.argv[1],
                 aws_access_key_id="testing", aws_secret_access_key="testing")
for page in c.get_paginator("describe_db_instances").paginate():
    for db in page["DBInstances"]:
        e = db.get("Endpoint") or {}
        if e.get("Address"):
            print(e["Address"], e["Port"])
PY
)
  export SQLREADY_BENCH_PW=not-used-closed-port
  # The region's RDS CA bundle is not downloaded from AWS in a benchmark.
  export SQLREADY_RDS_TRUSTSTORE_URL="http://127.0.0.1:$closed"
  start=$(date +%s%N)
  "$bin" audit rds://us-east-1 --connect --connect-password-env SQLREADY_BENCH_PW \
    --connect-timeout 2 "${rules[@]}" --format json --fail-on never >"$out" 2>"$err" || true
  end=$(date +%s%N)
  echo "--connect, $(( ${#rules[@]} / 2 )) resolve rules to closed port $closed, --connect-timeout 2: $(( (end - start) / 1000000 )) ms"
  grep '^connect: ' "$err" || tail -3 "$err"
fi
