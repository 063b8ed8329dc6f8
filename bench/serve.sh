# Sourced by ab.sh and callgrind.sh: one cloudtwin server at a time, each on a fresh data
# directory under $WORK (set by the caller, removed on exit with the server stopped).
# Not run by itself.

export CLOUDTWIN_ACCESS_KEY_ID=${CLOUDTWIN_ACCESS_KEY_ID:-LTAIbenchkey0000000001}
export CLOUDTWIN_ACCESS_KEY_SECRET=${CLOUDTWIN_ACCESS_KEY_SECRET:-bench-secret-0000000000000001}
export CLOUDTWIN_LOG=${CLOUDTWIN_LOG:-info}

SRV_PID=""
SRV_URL=""
cleanup() {
    if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME DIR COMMAND...: runs COMMAND (a `cloudtwin serve --listen 127.0.0.1:0`,
# possibly under a wrapper) with its output in DIR.out and DIR.err, and waits at most 60 s
# for the address it prints; sets SRV_PID and SRV_URL.
start_server() {
    local name=$1 dir=$2
    shift 2
    "$@" >"$dir.out" 2>"$dir.err" &
    SRV_PID=$!
    SRV_URL=""
    for _ in $(seq 1 600); do
        SRV_URL=$(grep -o 'listening on http://[0-9.:]*' "$dir.out" 2>/dev/null | head -1 | sed 's/listening on //' || true)
        [ -n "$SRV_URL" ] && return 0
        kill -0 "$SRV_PID" 2>/dev/null || { tail -5 "$dir.err" >&2; exit 1; }
        sleep 0.1
    done
    echo "$name did not start" >&2
    exit 1
}

stop_server() {
    kill "$SRV_PID"
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=""
}
