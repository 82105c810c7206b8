#!/bin/sh
# Gateway entrypoint inside docker compose. schema/supergraph.graphql routes to
# 127.0.0.1:400N (right for `make run`); here each subgraph is its own host, so the routing
# URLs are rewritten into a copy before serving it.
set -eu
sed -e "s#http://127.0.0.1:4001/#http://${ORDERS_HOST:-orders}:4001/#" \
    -e "s#http://127.0.0.1:4002/#http://${PAYMENTS_HOST:-payments}:4002/#" \
    -e "s#http://127.0.0.1:4003/#http://${DELIVERY_HOST:-delivery}:4003/#" \
    /app/schema/supergraph.graphql > /tmp/supergraph.graphql
exec fedgate serve --supergraph /tmp/supergraph.graphql --host 0.0.0.0 --port 4000 "$@"
