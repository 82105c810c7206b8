#!/usr/bin/env bash
# Make sure a redis-server binary exists: the tests start their own on a free port.
exec "$(dirname "$0")/ensure-debian.sh" redis-server redis-server
