#!/usr/bin/env bash
# Benchmark (measures; not a test) of the HTML report (issue 14) for a fleet of
# 1,000 targets (the three example targets over and over, with tags, and every
# 50th target unreachable — the fleet tests/html_report.rs checks):
#   - generation: `sqlready audit --facts FLEET --format html` end to end
#     (load the facts, judge every target, render), best and median of 5 runs;
#   - the file's size;
#   - first paint and load in headless Chromium (/usr/bin/chromium through
#     /usr/bin/chromedriver, spoken to over plain WebDriver HTTP), median of 5.
# SQLREADY_BENCH_PROFILE=debug measures target/debug instead of a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${SQLREADY_BENCH_PROFILE:-release}"
if [ "$profile" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
bin="${CARGO_TARGET_DIR:-$PWD/target}/$profile/sqlready"
dir=$(mktemp -d /tmp/sqlready-bench-html-XXXXXX)
driver_pid=""
cleanup() { [ -n "$driver_pid" ] && kill "$driver_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

python3 - "$dir/fleet-facts.json" <<'PY'
import json, sys
examples = [json.load(open(f"examples/{n}.json"))["targets"][0]
            for n in ("postgres-bad", "postgres-good", "postgres-standby")]
teams = ["payments", "search", "ledger", "growth"]
targets, failures = [], []
for n in range(1000):
    if n % 50 == 49:
        failures.append({"id": f"rds://eu-west-1/db/orders-{n:04}", "kind": "rds",
                         "error": "cannot reach the RDS API: timed out after 10 s"})
        continue
    t = json.loads(json.dumps(examples[n % 3]))
    t["id"] = f"postgres://db-{n:04}.fleet.internal:5432/app"
    t["tags"] = {"team": teams[n % 4], "env": "staging" if n % 5 == 0 else "prod"}
    targets.append(t)
json.dump({"schema_version": 1, "tool_version": "0.1.0", "targets": targets, "failures": failures},
          open(sys.argv[1], "w"))
PY

times=()
for _ in 1 2 3 4 5; do
  start=$(date +%s%N)
  "$bin" audit --no-config --facts "$dir/fleet-facts.json" --format html --fail-on never \
    -o "$dir/fleet.html" >/dev/null 2>&1 || [ $? -eq 3 ]
  times+=($(( ($(date +%s%N) - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "html report, 1,000 targets ($profile build): generated in ${sorted[0]} ms best, ${sorted[2]} ms median (5 runs, end to end)"
echo "html report, 1,000 targets: $(stat -c %s "$dir/fleet.html") bytes"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/chromedriver --port="$port" >/dev/null 2>&1 &
driver_pid=$!
python3 - "$port" "$dir/fleet.html" <<'PY'
import json, sys, time, urllib.request
port, page = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{port}"
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["value"]
for _ in range(100):
    try:
        call("GET", "/status"); break
    except OSError:
        time.sleep(0.1)
paints, loads = [], []
for _ in range(5):
    session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
        "binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"]}}}})["sessionId"]
    call("POST", f"/session/{session}/url", {"url": "file://" + page})
    timing = call("POST", f"/session/{session}/execute/sync", {"script":
        "const p = performance.getEntriesByName('first-contentful-paint')[0];"
        "const n = performance.getEntriesByType('navigation')[0];"
        "return [p ? p.startTime : null, n.loadEventEnd];", "args": []})
    call("DELETE", f"/session/{session}")
    paints.append(timing[0]); loads.append(timing[1])
paints.sort(); loads.sort()
print(f"html report, 1,000 targets in Chromium: first contentful paint {paints[2]:.0f} ms median "
      f"({paints[0]:.0f}–{paints[-1]:.0f}), load event {loads[2]:.0f} ms median (5 runs)")
PY
