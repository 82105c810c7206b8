#!/usr/bin/env bash
# Make sure a redis-server binary exists: the tests start their own on a free port.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "redis-server is missing: installing Debian's redis-server"
    apt-get update -qq
    # policy-rc.d keeps the package from starting a system-wide redis on :6379.
    printf '#!/bin/sh\nexit 101\n' > /tmp/fedgate-policy-rc.d
    chmod +x /tmp/fedgate-policy-rc.d
    had_policy=0
    [ -e /usr/sbin/policy-rc.d ] && had_policy=1
    [ "$had_policy" = 1 ] || cp /tmp/fedgate-policy-rc.d /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    [ "$had_policy" = 1 ] || rm -f /usr/sbin/policy-rc.d
    command -v redis-server >/dev/null 2>&1 && exit 0
fi
cat >&2 <<'MSG'
redis-server is not installed, and this script can only install it as root on Debian/Ubuntu.
Install it yourself, then run `make test` again:
  Debian/Ubuntu:  sudo apt-get install redis-server
  Fedora:         sudo dnf install redis
  macOS:          brew install redis
MSG
exit 1
