#!/usr/bin/env bash
# Usage: ensure-debian.sh COMMAND PACKAGE
# Make sure COMMAND exists, installing Debian's PACKAGE when it does not (as root, with apt-get).
# The tests start their own servers (redis-server, nginx) on free ports: the package must not
# start a system-wide one, so policy-rc.d refuses every service start while it installs.
set -euo pipefail
command=$1
package=$2
if command -v "$command" >/dev/null 2>&1 || [ -x "/usr/sbin/$command" ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "$command is missing: installing Debian's $package"
    # Other engineers' runs may hold the dpkg lock: wait for it instead of failing.
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    printf '#!/bin/sh\nexit 101\n' > /tmp/fedgate-policy-rc.d
    chmod +x /tmp/fedgate-policy-rc.d
    had_policy=0
    [ -e /usr/sbin/policy-rc.d ] && had_policy=1
    [ "$had_policy" = 1 ] || cp /tmp/fedgate-policy-rc.d /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$package" >/dev/null
    [ "$had_policy" = 1 ] || rm -f /usr/sbin/policy-rc.d
    { command -v "$command" >/dev/null 2>&1 || [ -x "/usr/sbin/$command" ]; } && exit 0
fi
cat >&2 <<MSG
$command is not installed, and this script can only install it as root on Debian/Ubuntu.
Install it yourself (Debian/Ubuntu: sudo apt-get install $package), then run \`make test\` again.
MSG
exit 1
