#!/usr/bin/env bash
# `make bench`: install what the benchmark needs (wrk, the bench extra, the peer gateways from
# npm), then run it. Every setting is an environment variable: see docs/benchmark.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
if [ ! -x "$PY" ]; then
    python3 -m venv .venv
fi
if ! "$PY" -c 'import matplotlib, orjson, gateway' 2>/dev/null; then
    echo "[bench] installing fedgate with the bench extra"
    "$PY" -m pip install -q -e '.[bench]'
fi

if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "[bench] installing wrk (apt-get)"
        apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
    else
        echo "[bench] wrk is missing: install it (Debian: apt-get install wrk) and run again" >&2
        exit 1
    fi
fi

if [ "${BENCH_PEERS:-1}" != 0 ]; then
    if command -v npm >/dev/null; then
        if [ ! -d bench/peers/node_modules ] || [ bench/peers/package-lock.json -nt bench/peers/node_modules ]; then
            echo "[bench] installing the peer gateways (npm ci in bench/peers)"
            (cd bench/peers && npm ci --no-audit --no-fund --loglevel=error)
        fi
    else
        echo "[bench] npm is missing: the peer gateways are skipped" >&2
        export BENCH_GATEWAYS=${BENCH_GATEWAYS:-fedgate}
    fi
else
    export BENCH_GATEWAYS=${BENCH_GATEWAYS:-fedgate}
fi

exec "$PY" -m bench "$@"
