#!/usr/bin/env bash
# One timed "edit -> new behaviour" cycle, for docs/performance.md: flips a one-line change in a
# handler (GET /health's status word), runs `make sync` (or `make up WARM_INSTANCES=0`), then makes
# ONE request and fails unless it answers with the new behaviour. Time it from outside:
#
#   farm-bench -n 6 -- loadtest/edit_bench.sh sync     # (STACK=..., as for make sync)
#   farm-bench -n 4 --timeout 600 -- loadtest/edit_bench.sh up
#
# It edits the work tree: an even number of runs (warm-up included) leaves the file as it was;
# otherwise `git checkout functions/ops/ops/handlers/health.py && make sync` puts it back.
set -euo pipefail
cd "$(dirname "$0")/.."
handler=functions/ops/ops/handlers/health.py
if grep -q 'status="ok" if healthy' "$handler"; then from=ok; to=edited; else from=edited; to=ok; fi
sed -i "s/status=\"$from\" if healthy/status=\"$to\" if healthy/" "$handler"
case "${1:-sync}" in
    sync) make --no-print-directory sync >/dev/null ;;
    up) make --no-print-directory up WARM_INSTANCES=0 >/dev/null ;;
    *) echo "usage: $0 sync|up" >&2; exit 2 ;;
esac
url="${EMULATOR_URL:-http://localhost:4566}/_aws/execute-api/${STACK:-eduplatform}/api"  # the pinned id: known in advance
status=$(curl -s --max-time 30 "$url/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
[ "$status" = "$to" ] || { echo "expected status $to, the API answered $status" >&2; exit 1; }
