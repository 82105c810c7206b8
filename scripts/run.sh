#!/usr/bin/env bash
# Start Redis, the three subgraphs and the gateway on localhost; Ctrl-C (or SIGTERM) stops them all.
#   orders :4001  payments :4002  delivery :4003  gateway :4000  redis :4004 (the saga's event bus)
#   (env ORDERS_PORT, PAYMENTS_PORT, DELIVERY_PORT, GATEWAY_PORT, REDIS_PORT choose others;
#    REDIS_URL uses a Redis you run yourself instead)
# Then one demo order is placed and followed from PLACED to DELIVERED (DEMO_ORDER=0 skips it).
# SQLite files go to var/ (created and seeded on first start), Redis's append-only file to
# var/redis-<port>/ (or REDIS_DIR); delete var/ to start over.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
GATEWAY_PORT=${GATEWAY_PORT:-4000}
export ORDERS_PORT=${ORDERS_PORT:-4001} PAYMENTS_PORT=${PAYMENTS_PORT:-4002} DELIVERY_PORT=${DELIVERY_PORT:-4003}
export ORDERS_URL=${ORDERS_URL:-http://127.0.0.1:${ORDERS_PORT}/graphql}
REDIS_PORT=${REDIS_PORT:-4004}
REDIS_DIR=${REDIS_DIR:-var/redis-${REDIS_PORT}}
OWN_REDIS=0
if [[ -z "${REDIS_URL:-}" ]]; then
    OWN_REDIS=1
    export REDIS_URL=redis://127.0.0.1:${REDIS_PORT}/0
fi

# Each child in its own process group, so Ctrl-C reaches only this script, which then stops
# every child once with SIGTERM (a second signal would make uvicorn skip its graceful drain).
set -m
SUPERGRAPH=schema/supergraph.graphql
pids=()
names=()
demo_pid=

stop_all() {
    trap - INT TERM EXIT
    local i
    [[ -n "$demo_pid" ]] && kill -TERM "$demo_pid" 2>/dev/null || true
    for i in "${!pids[@]}"; do
        if kill -0 "${pids[$i]}" 2>/dev/null; then
            echo "stopping ${names[$i]} (pid ${pids[$i]})"
            kill -TERM "${pids[$i]}" 2>/dev/null || true
        fi
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" 2>/dev/null || true
    done
    [[ "$SUPERGRAPH" == schema/supergraph.graphql ]] || rm -f "$SUPERGRAPH"
    echo "all stopped"
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

start() {
    local name=$1
    shift
    "$@" &
    pids+=("$!")
    names+=("$name")
    echo "started $name (pid $!)"
}

wait_healthy() {
    local name=$1 url=$2
    "$BIN/python" - "$name" "$url" <<'PY'
import sys, time, urllib.request
name, url = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            if r.status == 200:
                print(f"{name} is up: {url}")
                sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"{name} did not answer {url} within 30s")
PY
}

if [[ "$OWN_REDIS" == 1 ]]; then
    command -v redis-server >/dev/null || { echo "redis-server is missing: run 'make redis'" >&2; exit 1; }
    mkdir -p "$REDIS_DIR"
    # AOF: the streams must survive a Redis restart, or events in flight would be lost (docs/saga.md).
    start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly yes \
        --appendfsync everysec --dir "$REDIS_DIR" --loglevel warning
    "$BIN/python" - "$REDIS_PORT" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                print(f"redis is up: 127.0.0.1:{sys.argv[1]}")
                sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"redis did not answer on {sys.argv[1]} within 20s")
PY
fi

start orders "$BIN/python" -m subgraphs.orders
wait_healthy orders "http://127.0.0.1:${ORDERS_PORT}/health"
start payments "$BIN/python" -m subgraphs.payments
start delivery "$BIN/python" -m subgraphs.delivery
wait_healthy payments "http://127.0.0.1:${PAYMENTS_PORT}/health"
wait_healthy delivery "http://127.0.0.1:${DELIVERY_PORT}/health"

# The committed supergraph routes to :4001-4003; on other ports the gateway gets a copy routed to
# the ports started above (that copy is not hot-reloaded when schema/ changes).
if [[ "$ORDERS_PORT/$PAYMENTS_PORT/$DELIVERY_PORT" != "4001/4002/4003" ]]; then
    mkdir -p var
    SUPERGRAPH=var/supergraph.${GATEWAY_PORT}.graphql
    sed -e "s#http://127.0.0.1:4001/graphql#http://127.0.0.1:${ORDERS_PORT}/graphql#" \
        -e "s#http://127.0.0.1:4002/graphql#http://127.0.0.1:${PAYMENTS_PORT}/graphql#" \
        -e "s#http://127.0.0.1:4003/graphql#http://127.0.0.1:${DELIVERY_PORT}/graphql#" \
        schema/supergraph.graphql > "$SUPERGRAPH"
fi

if "$BIN/fedgate" serve --help >/dev/null 2>&1; then
    start gateway "$BIN/fedgate" serve --supergraph "$SUPERGRAPH" --port "$GATEWAY_PORT" --explorer --config scripts/run.fedgate.yaml
    wait_healthy gateway "http://127.0.0.1:${GATEWAY_PORT}/health"
    echo "gateway: http://127.0.0.1:${GATEWAY_PORT}/graphql  explorer: http://127.0.0.1:${GATEWAY_PORT}/"
else
    echo "the gateway is not available yet ('fedgate serve --help' failed): serving the subgraphs only"
fi
if [[ "${DEMO_ORDER:-1}" != 0 ]]; then
    DEMO_URL="http://127.0.0.1:${ORDERS_PORT}/graphql"
    [[ " ${names[*]} " == *" gateway "* ]] && DEMO_URL="http://127.0.0.1:${GATEWAY_PORT}/graphql"
    "$BIN/python" scripts/demo_order.py "$DEMO_URL" &
    demo_pid=$!
fi
echo "Ctrl-C stops everything."

# Whichever child exits first (or Ctrl-C) ends the run; the EXIT trap stops the rest.
set +e
wait -n "${pids[@]}"
status=$?
echo "a process exited (status $status); stopping the others"
exit "$status"
