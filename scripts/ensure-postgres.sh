#!/usr/bin/env bash
# Make sure PostgreSQL's server binaries exist: the registry tests run their own `postgres` on a free port.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "postgres is missing: installing Debian's postgresql"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    # policy-rc.d keeps the package from starting a system-wide cluster on :5432.
    printf '#!/bin/sh\nexit 101\n' > /tmp/fedgate-policy-rc.d
    chmod +x /tmp/fedgate-policy-rc.d
    had_policy=0
    [ -e /usr/sbin/policy-rc.d ] && had_policy=1
    [ "$had_policy" = 1 ] || cp /tmp/fedgate-policy-rc.d /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql >/dev/null
    [ "$had_policy" = 1 ] || rm -f /usr/sbin/policy-rc.d
    compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null && exit 0
fi
cat >&2 <<'MSG'
PostgreSQL is not installed, and this script can only install it as root on Debian/Ubuntu.
Install it yourself, then run `make test` again:
  Debian/Ubuntu:  sudo apt-get install postgresql
  Fedora:         sudo dnf install postgresql-server
  macOS:          brew install postgresql
MSG
exit 1
