#!/usr/bin/env bash
# Start Redis, the three subgraphs, a schema registry and the gateway on localhost; Ctrl-C (or SIGTERM) stops them all.
#   orders :4001  payments :4002  delivery :4003  gateway :4000  redis :4004 (the saga's event bus)  registry :4100
#   (env ORDERS_PORT, PAYMENTS_PORT, DELIVERY_PORT, GATEWAY_PORT, REDIS_PORT, REGISTRY_PORT choose others;
#    REDIS_URL uses a Redis you run yourself instead)
# The subgraphs are published to the registry as shop@dev on every start; the gateway follows
# the registry (--supergraph-url, ETag polling, a read token) and reports usage to it.
# Then one demo order is placed and followed from PLACED to DELIVERED (DEMO_ORDER=0 skips it).
# SQLite files go to var/ (created and seeded on first start), Redis's append-only file to
# var/redis-<port>/ (or REDIS_DIR); delete var/ to start over.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
GATEWAY_PORT=${GATEWAY_PORT:-4000}
REGISTRY_PORT=${REGISTRY_PORT:-4100}
REGISTRY_DB=${FEDGATE_REGISTRY_DATABASE:-var/registry.db}
GRAPH_REF=shop@dev
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
GATEWAY_CONFIG=""
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
    [[ -z "$GATEWAY_CONFIG" ]] || rm -f "$GATEWAY_CONFIG"
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

# The registry: the admin and read tokens are made once and kept beside its database (var/ by
# default; the registry itself stores only their hashes).
mkdir -p var
TOKENS=$(dirname "$REGISTRY_DB")
[[ -s "$TOKENS/registry-admin-token" ]] || "$BIN/python" -c 'import secrets; print("fgr_admin_" + secrets.token_urlsafe(24))' > "$TOKENS/registry-admin-token"
export FEDGATE_REGISTRY_URL=http://127.0.0.1:${REGISTRY_PORT}
export FEDGATE_REGISTRY_TOKEN
FEDGATE_REGISTRY_TOKEN=$(cat "$TOKENS/registry-admin-token")
start registry "$BIN/fedgate" registry serve --database "$REGISTRY_DB" --port "$REGISTRY_PORT" \
    --admin-token "$FEDGATE_REGISTRY_TOKEN" --log-level warning
wait_healthy registry "$FEDGATE_REGISTRY_URL/health"
"$BIN/fedgate" graph create shop >/dev/null 2>&1 || true  # already there after the first run
for pair in "orders:$ORDERS_PORT" "payments:$PAYMENTS_PORT" "delivery:$DELIVERY_PORT"; do
    "$BIN/fedgate" publish --graph "$GRAPH_REF" --name "${pair%%:*}" --schema "schema/${pair%%:*}.graphql" \
        --routing-url "http://127.0.0.1:${pair##*:}/graphql" 2>/dev/null
done
if [[ ! -s "$TOKENS/registry-read-token" ]] || ! "$BIN/fedgate" subgraph list "$GRAPH_REF" --token "$(cat "$TOKENS/registry-read-token")" >/dev/null 2>&1; then
    "$BIN/fedgate" registry token create --kind read --graph shop --label "make run gateway" > "$TOKENS/registry-read-token"
fi
READ_TOKEN=$(cat "$TOKENS/registry-read-token")
echo "registry: $FEDGATE_REGISTRY_URL ($GRAPH_REF; admin token in $TOKENS/registry-admin-token)"

# The gateway follows the registry: polled every 2 s with If-None-Match; usage goes back to it.
# Its config: scripts/run.fedgate.yaml plus those two sections.
GATEWAY_CONFIG=var/fedgate.${GATEWAY_PORT}.yaml
cp scripts/run.fedgate.yaml "$GATEWAY_CONFIG"
cat >> "$GATEWAY_CONFIG" <<YAML
lifecycle:
  poll_interval: 2
usage_reporting:
  endpoint: $FEDGATE_REGISTRY_URL/graphs/${GRAPH_REF%%@*}/variants/${GRAPH_REF##*@}/usage
YAML
start gateway env FEDGATE_SUPERGRAPH_TOKEN="$READ_TOKEN" FEDGATE_USAGE_REPORTING_TOKEN="$READ_TOKEN" \
    "$BIN/fedgate" serve --supergraph-url "$FEDGATE_REGISTRY_URL/graphs/${GRAPH_REF%%@*}/variants/${GRAPH_REF##*@}/supergraph" \
    --config "$GATEWAY_CONFIG" --port "$GATEWAY_PORT" --explorer
wait_healthy gateway "http://127.0.0.1:${GATEWAY_PORT}/ready"
echo "gateway: http://127.0.0.1:${GATEWAY_PORT}/graphql  explorer: http://127.0.0.1:${GATEWAY_PORT}/"
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
