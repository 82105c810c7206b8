#!/usr/bin/env bash
# Make sure Debian's chromium (and its driver) exist: tests/explorer drive it headless through
# Playwright with executable_path, so no browser is downloaded.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "chromium is missing: installing Debian's chromium and chromium-driver"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    [ -x /usr/bin/chromium ] && exit 0
fi
cat >&2 <<'MSG'
chromium is not installed, and this script can only install it as root on Debian/Ubuntu.
Install it yourself, then run `make test` again:
  Debian/Ubuntu:  sudo apt-get install chromium chromium-driver
MSG
exit 1
