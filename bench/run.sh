#!/usr/bin/env bash
# The whole benchmark in one run: builds cloudtwin, the load generator and the no-op server in
# release mode, installs the pinned moto in bench/.venv, measures cloudtwin, moto, noop and the
# durable reference (noop-server --store sqlite: creates only) side by side, writes
# bench/results/STAMP.jsonl + STAMP.md and prints the markdown tables.
#
# Knobs (environment):
#   DURATION=5        measured seconds per run        REPS=3          runs per cell (median)
#   CONCS="1 16 64"   concurrencies                   WARMUP=1        warm-up seconds per run
#   SEED_N=100000     instances stored for the "with N" figures (cloudtwin, noop)
#   MOTO_SEED_N=10000 brokers stored in moto for them (moto does ~200 creates/s; min with SEED_N)
#   DESCRIBE_SEED=1000 resources created before the describe runs
#   LIST_CONCS="1 16" concurrencies of the list runs with N stored
#   STARTUP_REPS=5    starts per start-up figure      SERVERS="cloudtwin moto noop durable"
#   APIS="starrocks rocketmq"                         SKIP_BUILD=1    reuse target/release
#   CLOUDTWIN_LOG=info  the server's log level (its default: one line per request, like moto)
# Everything listens on 127.0.0.1. Every server started here is stopped by its PID, also on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
DURATION=${DURATION:-5}
REPS=${REPS:-3}
CONCS=${CONCS:-"1 16 64"}
WARMUP=${WARMUP:-1}
SEED_N=${SEED_N:-100000}
MOTO_SEED_N=${MOTO_SEED_N:-10000}
if [ "$MOTO_SEED_N" -gt "$SEED_N" ]; then MOTO_SEED_N=$SEED_N; fi
DESCRIBE_SEED=${DESCRIBE_SEED:-1000}
LIST_CONCS=${LIST_CONCS:-"1 16"}
STARTUP_REPS=${STARTUP_REPS:-5}
SERVERS=${SERVERS:-"cloudtwin moto noop durable"}
APIS=${APIS:-"starrocks rocketmq"}
MOTO_VERSION=5.2.5
export CLOUDTWIN_ACCESS_KEY_ID=${CLOUDTWIN_ACCESS_KEY_ID:-LTAIbenchkey0000000001}
export CLOUDTWIN_ACCESS_KEY_SECRET=${CLOUDTWIN_ACCESS_KEY_SECRET:-bench-secret-0000000000000001}
export CLOUDTWIN_LOG=${CLOUDTWIN_LOG:-info}

STAMP=$(date -u +%Y%m%d-%H%M%S)
RESULTS=$HERE/results
LOGS=$HERE/logs/$STAMP
WORK=$HERE/.work/$STAMP
OUT=$RESULTS/$STAMP.jsonl
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
VENV=$HERE/.venv
LG=$BIN/cloudtwin-loadgen
mkdir -p "$RESULTS" "$LOGS" "$WORK"

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- servers ------------------------------------------------------------------------------------
SRV_PID=""
SRV_URL=""
LIVE_PIDS=""

cleanup() {
    local p
    for p in $LIVE_PIDS; do
        kill "$p" 2>/dev/null || true
    done
    for p in $LIVE_PIDS; do
        wait "$p" 2>/dev/null || true
    done
    LIVE_PIDS=""
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server KIND DATA_DIR NAME: sets SRV_PID and SRV_URL once the server answers.
start_server() {
    local kind=$1 dir=$2 name=$3 log=$LOGS/$3 port i
    case $kind in
        cloudtwin)
            "$BIN/cloudtwin" serve --listen 127.0.0.1:0 --data-dir "$dir" --lifecycle instant \
                >"$log.out" 2>"$log.err" &
            ;;
        noop)
            "$BIN/noop-server" --listen 127.0.0.1:0 >"$log.out" 2>"$log.err" &
            ;;
        durable)
            "$BIN/noop-server" --listen 127.0.0.1:0 --store sqlite --data-dir "$dir" >"$log.out" 2>"$log.err" &
            ;;
        moto)
            port=$(free_port)
            "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log.out" 2>"$log.err" &
            ;;
        *) say "unknown server $kind"; return 1 ;;
    esac
    SRV_PID=$!
    LIVE_PIDS="$LIVE_PIDS $SRV_PID"
    SRV_URL=""
    for i in $(seq 1 600); do # at most 60 s
        if ! kill -0 "$SRV_PID" 2>/dev/null; then
            say "$kind exited at start; see $log.err"; tail -5 "$log.err" >&2; return 1
        fi
        if [ "$kind" = moto ]; then
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then SRV_URL="http://127.0.0.1:$port"; fi
        else
            SRV_URL=$(grep -o 'listening on http://[0-9.:]*' "$log.out" 2>/dev/null | head -1 | sed 's/listening on //' || true)
        fi
        [ -n "$SRV_URL" ] && return 0
        sleep 0.1
    done
    say "$kind did not start within 60 s"; return 1
}

stop_server() {
    local i
    [ -n "$SRV_PID" ] || return 0
    kill "$SRV_PID" 2>/dev/null || true
    for i in $(seq 1 100); do # at most 10 s, then SIGKILL
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
    LIVE_PIDS=$(echo " $LIVE_PIDS " | sed "s/ $SRV_PID / /")
    SRV_PID=""
}

rss_kb() { ps -o rss= -p "$1" 2>/dev/null | tr -d ' ' || echo 0; }

record() { echo "$1" >>"$OUT"; }

# lg ARGS...: one load-generator run appending its JSON line; answers its exit status
# (3 = the server does not implement the API).
lg() {
    "$LG" "$@" --json "$OUT" 2>&1 | tee -a "$LOGS/loadgen.log" | sed 's/^/    /' >&2
    return "${PIPESTATUS[0]}"
}

server_api() { if [ "$1" = moto ]; then echo moto; else echo "$2"; fi; }

# ---- build and install --------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    say "cargo build --release (cloudtwin, cloudtwin-loadgen, noop-server)"
    (cd "$ROOT" && cargo build --release -p cloudtwin-server -p cloudtwin-bench) >"$LOGS/build.log" 2>&1 \
        || { tail -20 "$LOGS/build.log" >&2; exit 1; }
fi
for b in cloudtwin cloudtwin-loadgen noop-server; do
    [ -x "$BIN/$b" ] || { say "missing $BIN/$b"; exit 1; }
done
if [[ " $SERVERS " == *" moto "* ]]; then
    if ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
        say "installing moto[server]==$MOTO_VERSION in $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
            >"$LOGS/pip.log" 2>&1 || { tail -20 "$LOGS/pip.log" >&2; exit 1; }
    fi
fi

say "results → $OUT (logs in $LOGS)"
record "{\"kind\":\"meta\",\"stamp\":\"$STAMP\",\"duration\":$DURATION,\"reps\":$REPS,\"concs\":\"$CONCS\",\"seed_n\":$SEED_N,\"moto_seed_n\":$MOTO_SEED_N,\"nproc\":$(nproc),\"git\":\"$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)\"}"

# ---- start-up, empty ----------------------------------------------------------------------------
for s in $SERVERS; do
    say "start-up $s (empty), $STARTUP_REPS starts"
    case $s in
        cloudtwin) "$LG" startup --label cloudtwin --tag empty --probe health --reps "$STARTUP_REPS" --json "$OUT" \
                       --log "$LOGS/startup-cloudtwin.log" -- \
                       "$BIN/cloudtwin" serve --listen '127.0.0.1:{port}' --data-dir "$WORK/startup-empty-{n}" --lifecycle instant ;;
        noop) "$LG" startup --label noop --tag empty --probe health --reps "$STARTUP_REPS" --json "$OUT" -- \
                  "$BIN/noop-server" --listen '127.0.0.1:{port}' ;;
        moto) "$LG" startup --label moto --tag empty --api moto --probe list --reps "$STARTUP_REPS" --json "$OUT" \
                  --log "$LOGS/startup-moto.log" -- "$VENV/bin/moto_server" -H 127.0.0.1 -p '{port}' ;;
    esac
done

# ---- create and describe at each concurrency ----------------------------------------------------
# The servers take turns within each rep and concurrency: this host drifts between minutes as
# much as most changes move a figure (findings 43 and 54), and a drift should move every
# server's figure of a cell alike, so that the ratios hold.
declare -A SKIP=()
FIRST_API=${APIS%% *}
# servers_for API: the servers measured with API's requests; moto answers its own
# CreateBroker, measured once, with the first API.
servers_for() {
    local s
    for s in $SERVERS; do
        if [ "$s" = moto ] && [ "$1" != "$FIRST_API" ]; then continue; fi
        echo "$s"
    done
}
for a in $APIS; do
    # Creates: a fresh server (empty store) per run.
    for rep in $(seq 1 "$REPS"); do
        for c in $CONCS; do
            for s in $(servers_for "$a"); do
                api=$(server_api "$s" "$a")
                key="$s/$api"
                [ -z "${SKIP[$key]:-}" ] || continue
                say "$s $api create c=$c rep $rep"
                start_server "$s" "$WORK/$s-$api-create-$rep-$c" "$s-$api-create-$rep-$c"
                rc=0
                lg --target "$SRV_URL" --api "$api" --scenario create -c "$c" -d "$DURATION" --warmup "$WARMUP" \
                    --server-pid "$SRV_PID" --label "$s" --tag "rep$rep" || rc=$?
                stop_server
                rm -rf "$WORK/$s-$api-create-$rep-$c"
                if [ "$rc" = 3 ]; then
                    say "$s does not implement $api create: skipping $api on $s"
                    record "{\"kind\":\"skip\",\"label\":\"$s\",\"api\":\"$api\",\"scenario\":\"create+describe\",\"reason\":\"HTTP 404/501 on create\"}"
                    SKIP[$key]=1
                elif [ "$rc" != 0 ]; then
                    say "$s $api create c=$c failed (exit $rc); see $LOGS/loadgen.log"
                fi
            done
        done
    done
    # Describes: one server of each kind, DESCRIBE_SEED resources each, all of them up while
    # they take turns. The durable reference stores creates only; its describes would be noop's.
    unset DESCRIBE_PID DESCRIBE_URL
    declare -A DESCRIBE_PID=() DESCRIBE_URL=()
    for s in $(servers_for "$a"); do
        api=$(server_api "$s" "$a")
        if [ -n "${SKIP["$s/$api"]:-}" ] || [ "$s" = durable ]; then continue; fi
        say "$s $api describe: seeding $DESCRIBE_SEED"
        start_server "$s" "$WORK/$s-$api-describe" "$s-$api-describe"
        if lg --target "$SRV_URL" --api "$api" --scenario create --requests "$DESCRIBE_SEED" -c 8 -d 3600 \
            --save-ids "$WORK/ids-$s-$api.txt" --label "$s" --tag seed; then
            DESCRIBE_PID[$s]=$SRV_PID
            DESCRIBE_URL[$s]=$SRV_URL
        else
            say "$s $api seeding for describe failed; see $LOGS/loadgen.log"
            stop_server
        fi
    done
    for rep in $(seq 1 "$REPS"); do
        for c in $CONCS; do
            for s in $(servers_for "$a"); do
                [ -n "${DESCRIBE_PID[$s]:-}" ] || continue
                api=$(server_api "$s" "$a")
                say "$s $api describe c=$c rep $rep"
                lg --target "${DESCRIBE_URL[$s]}" --api "$api" --scenario describe --ids "$WORK/ids-$s-$api.txt" \
                    -c "$c" -d "$DURATION" --warmup "$WARMUP" --server-pid "${DESCRIBE_PID[$s]}" --label "$s" \
                    --tag "rep$rep" || say "$s $api describe c=$c failed; see $LOGS/loadgen.log"
            done
        done
    done
    for s in "${!DESCRIBE_PID[@]}"; do
        SRV_PID=${DESCRIBE_PID[$s]}
        stop_server
    done
done

# ---- with N stored: RSS, list latency, start-up ---------------------------------------------
for s in $SERVERS; do
    [ "$s" != durable ] || continue
    api=$(server_api "$s" starrocks)
    n=$SEED_N
    [ "$s" = moto ] && n=$MOTO_SEED_N
    dir=$WORK/$s-big
    say "$s: idle RSS, then $n creates, RSS, list and describe with $n stored"
    start_server "$s" "$dir" "$s-big"
    sleep 1
    record "{\"kind\":\"rss\",\"label\":\"$s\",\"phase\":\"idle\",\"n\":0,\"rss_kb\":$(rss_kb "$SRV_PID")}"
    ids=$WORK/ids-$s-big.txt
    if ! lg --target "$SRV_URL" --api "$api" --scenario create --requests "$n" -c 16 -d 3600 --timeout 60 \
        --save-ids "$ids" --server-pid "$SRV_PID" --label "$s" --tag big-seed; then
        say "$s: seeding $n failed; see $LOGS/loadgen.log"; stop_server; continue
    fi
    stored=$(wc -l <"$ids")
    sleep 1
    record "{\"kind\":\"rss\",\"label\":\"$s\",\"phase\":\"after\",\"n\":$stored,\"rss_kb\":$(rss_kb "$SRV_PID")}"
    for rep in $(seq 1 "$REPS"); do
        for c in $LIST_CONCS; do
            say "$s list c=$c with $stored stored, rep $rep"
            lg --target "$SRV_URL" --api "$api" --scenario list -c "$c" -d "$DURATION" --warmup "$WARMUP" --timeout 120 \
                --server-pid "$SRV_PID" --label "$s" --tag big || say "$s list failed; see $LOGS/loadgen.log"
        done
        say "$s describe c=16 with $stored stored, rep $rep"
        lg --target "$SRV_URL" --api "$api" --scenario describe --ids "$ids" -c 16 -d "$DURATION" --warmup "$WARMUP" \
            --server-pid "$SRV_PID" --label "$s" --tag big || say "$s describe failed; see $LOGS/loadgen.log"
    done
    stop_server
    if [ "$s" = cloudtwin ]; then
        # Only cloudtwin keeps its state across a restart.
        for probe in health list; do
            say "start-up cloudtwin with $stored stored ($probe probe), $STARTUP_REPS starts"
            "$LG" startup --label cloudtwin --tag stored --probe "$probe" --reps "$STARTUP_REPS" --json "$OUT" \
                --log "$LOGS/startup-cloudtwin-stored.log" -- \
                "$BIN/cloudtwin" serve --listen '127.0.0.1:{port}' --data-dir "$dir" --lifecycle instant
        done
        start_server cloudtwin "$dir" cloudtwin-restart
        sleep 1
        record "{\"kind\":\"rss\",\"label\":\"cloudtwin\",\"phase\":\"restart\",\"n\":$stored,\"rss_kb\":$(rss_kb "$SRV_PID")}"
        stop_server
        du -sk "$dir" | awk -v n="$stored" '{printf "{\"kind\":\"disk\",\"label\":\"cloudtwin\",\"n\":%d,\"kb\":%d}\n", n, $1}' >>"$OUT"
    fi
    rm -rf "$dir"
done

python3 "$HERE/summarize.py" "$OUT" | tee "$RESULTS/$STAMP.md"
say "done: $OUT, $RESULTS/$STAMP.md"
