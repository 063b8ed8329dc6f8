#!/usr/bin/env bash
# Instructions per request of cloudtwin binaries, counted by callgrind: the yardstick of
# findings 71 and 86 when the host drifts more between minutes than a change moves a figure.
# Each binary serves a fresh data directory under valgrind; WARMUP requests go uncounted,
# then N are counted (every thread of the server: request tasks, writer, checkpointer).
#
#   bench/callgrind.sh A_BIN [B_BIN ...]                  # StarRocks creates
#   API=rocketmq LIFECYCLE=1ms bench/callgrind.sh A_BIN B_BIN
#
# Knobs (environment): API (starrocks | rocketmq), N (2000), WARMUP (1000), C (16),
# LIFECYCLE (instant), KEEP (a directory: each binary's callgrind output is kept there as
# NAME.callgrind, for `callgrind_annotate --inclusive=yes`), LG (the load generator; by default
# target/release/cloudtwin-loadgen). Valgrind runs SHA-256 without the CPU's SHA
# instructions, so hashing weighs more here than on the CPU; compare binaries, not shares.
set -euo pipefail

if [ $# -lt 1 ]; then
    sed -n '2,14p' "$0" >&2
    exit 2
fi
for tool in valgrind callgrind_control callgrind_annotate; do
    command -v "$tool" >/dev/null || { echo "needs $tool (Debian: apt-get install valgrind)" >&2; exit 1; }
done
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
API=${API:-starrocks}
N=${N:-2000}
WARMUP=${WARMUP:-1000}
C=${C:-16}
LIFECYCLE=${LIFECYCLE:-instant}
LG=${LG:-${CARGO_TARGET_DIR:-$ROOT/target}/release/cloudtwin-loadgen}
[ -x "$LG" ] || { echo "not an executable: $LG" >&2; exit 1; }

WORK=$(mktemp -d)
# shellcheck source=serve.sh
. "$HERE/serve.sh"

load() { # load URL COUNT
    "$LG" --target "$1" --api "$API" --scenario create --requests "$2" -c "$C" -d 3600 \
        --json /dev/null >/dev/null
}

echo "$API creates, $N counted after $WARMUP, c=$C, --lifecycle $LIFECYCLE" >&2
for bin in "$@"; do
    bin=$(realpath "$bin")
    [ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 1; }
    name=$(basename "$bin")
    dir=$(mktemp -d "$WORK/run.XXXX")
    start_server "$name" "$dir" valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$dir/out" \
        "$bin" serve --listen 127.0.0.1:0 --data-dir "$dir/data" --lifecycle "$LIFECYCLE"
    url=$SRV_URL
    load "$url" "$WARMUP"
    callgrind_control -i on "$SRV_PID" >/dev/null 2>&1
    load "$url" "$N"
    callgrind_control -i off "$SRV_PID" >/dev/null 2>&1
    callgrind_control -d "$SRV_PID" >/dev/null 2>&1
    stop_server
    # The dump holds the counted requests; the file written at exit, whatever ran after.
    out=$(ls -S "$dir"/out* | head -1)
    total=$(callgrind_annotate "$out" | awk '/PROGRAM TOTALS/ && !t { gsub(",", "", $1); t = $1 } END { print t }')
    printf '%-24s %9d instructions per create\n' "$name" $((total / N))
    if [ -n "${KEEP:-}" ]; then
        mkdir -p "$KEEP"
        cp "$out" "$KEEP/$name.callgrind"
    fi
done
