#!/usr/bin/env bash
# Two cloudtwin binaries, measured in alternation: the method of the findings' "A/B pairs".
# This host drifts between minutes as much as most changes move a figure, so only runs taken
# side by side compare. Each run is a fresh server on a new data directory, as in run.sh.
#
#   bench/ab.sh A_BIN B_BIN                       # 3 pairs of StarRocks creates at c=64
#   PAIRS=5 API=rocketmq SCENARIO=describe C=16 bench/ab.sh A_BIN B_BIN
#
# Knobs (environment): PAIRS (3), API (starrocks | rocketmq), SCENARIO (create | describe),
# C (64), DURATION (5 s), WARMUP (1 s), DESCRIBE_SEED (1000), LG (the load generator; by
# default target/release/cloudtwin-loadgen, built with `cargo build --release -p
# cloudtwin-bench`). Prints each run, then the medians of B against A.
set -euo pipefail

if [ $# -ne 2 ]; then
    sed -n '2,12p' "$0" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
A_BIN=$(realpath "$1")
B_BIN=$(realpath "$2")
PAIRS=${PAIRS:-3}
API=${API:-starrocks}
SCENARIO=${SCENARIO:-create}
C=${C:-64}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
DESCRIBE_SEED=${DESCRIBE_SEED:-1000}
LG=${LG:-${CARGO_TARGET_DIR:-$ROOT/target}/release/cloudtwin-loadgen}
for f in "$A_BIN" "$B_BIN" "$LG"; do
    [ -x "$f" ] || { echo "not an executable: $f" >&2; exit 1; }
done

WORK=$(mktemp -d)
OUT=$WORK/runs.jsonl
# shellcheck source=serve.sh
. "$HERE/serve.sh"

# measure LABEL BIN: one fresh server, one run, its JSON line appended to $OUT.
measure() {
    local label=$1 bin=$2 dir url extra=()
    dir=$(mktemp -d "$WORK/data.XXXX")
    start_server "$label" "$dir" "$bin" serve --listen 127.0.0.1:0 --data-dir "$dir" --lifecycle instant
    url=$SRV_URL
    if [ "$SCENARIO" = describe ]; then
        "$LG" --target "$url" --api "$API" --scenario create --requests "$DESCRIBE_SEED" -c 8 -d 3600 \
            --save-ids "$dir.ids" --json /dev/null >/dev/null
        extra=(--ids "$dir.ids")
    fi
    "$LG" --target "$url" --api "$API" --scenario "$SCENARIO" -c "$C" -d "$DURATION" --warmup "$WARMUP" \
        --server-pid "$SRV_PID" --label "$label" "${extra[@]}" --json "$OUT" >/dev/null
    stop_server
    rm -rf "$dir"
}

echo "$API $SCENARIO at c=$C, $PAIRS pairs of ${DURATION} s; A=$A_BIN B=$B_BIN" >&2
for pair in $(seq 1 "$PAIRS"); do
    # Which goes first alternates too, so that a drift favours neither.
    if [ $((pair % 2)) = 1 ]; then order="A B"; else order="B A"; fi
    for side in $order; do
        if [ "$side" = A ]; then measure A "$A_BIN"; else measure B "$B_BIN"; fi
        tail -1 "$OUT" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
label, rps, p50, p99 = r["label"], r["rps"], r["p50_ms"], r["p99_ms"]
cpu = r.get("server_cpu_us_per_req") or 0
print(f"pair {sys.argv[1]} {label}: {rps:>9,.0f} req/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms  {cpu:.1f} us CPU/req")
' "$pair"
    done
done
python3 - "$OUT" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
med = {side: {k: statistics.median(r[k] or 0 for r in runs if r["label"] == side)
              for k in ("rps", "p99_ms", "server_cpu_us_per_req")} for side in "AB"}
a, b = med["A"], med["B"]
print(f"median  A: {a['rps']:,.0f} req/s, p99 {a['p99_ms']:.2f} ms, {a['server_cpu_us_per_req']:.1f} us CPU/req")
print(f"median  B: {b['rps']:,.0f} req/s, p99 {b['p99_ms']:.2f} ms, {b['server_cpu_us_per_req']:.1f} us CPU/req")
print(f"B/A: throughput {b['rps'] / a['rps'] - 1:+.1%}, CPU per request "
      f"{b['server_cpu_us_per_req'] / a['server_cpu_us_per_req'] - 1:+.1%}")
EOF
