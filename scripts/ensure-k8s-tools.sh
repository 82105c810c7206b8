#!/usr/bin/env bash
# The offline Kubernetes tool chain of tests/deploy, all under .venv/k8s (ignored by git):
# - kubectl from Debian's `kubernetes-client`, unpacked there with dpkg-deb rather than installed,
#   because a machine may already have another kubectl at /usr/bin/kubectl (a cloud SDK's);
# - kubernetes-validate and checkov from PyPI, in a venv of their own: checkov pins dozens of
#   packages that must not move fedgate's own.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=.venv/k8s
KUBECTL=$DIR/debian/usr/bin/kubectl
PY=${PYTHON:-python3}
KUBERNETES_VALIDATE=1.37.0
CHECKOV=3.3.30
stamp=$DIR/.installed-$KUBERNETES_VALIDATE-$CHECKOV

if [ ! -x "$KUBECTL" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "apt-get is missing: cannot fetch Debian's kubernetes-client for tests/deploy" >&2
        exit 1
    fi
    echo "[k8s-tools] unpacking Debian's kubernetes-client into $DIR/debian"
    mkdir -p "$DIR/download"
    if ! ls "$DIR"/download/kubernetes-client_*.deb >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && ! apt-cache show kubernetes-client >/dev/null 2>&1; then
            apt-get -o DPkg::Lock::Timeout=600 update -qq
        fi
        (cd "$DIR/download" && apt-get download kubernetes-client >/dev/null)
    fi
    dpkg-deb -x "$DIR"/download/kubernetes-client_*.deb "$DIR/debian"
fi

if [ ! -e "$stamp" ]; then
    echo "[k8s-tools] installing kubernetes-validate $KUBERNETES_VALIDATE and checkov $CHECKOV into $DIR"
    [ -x "$DIR/bin/python" ] || "$PY" -m venv "$DIR"
    "$DIR/bin/python" -m pip install -q "kubernetes-validate==$KUBERNETES_VALIDATE" "checkov==$CHECKOV"
    touch "$stamp"
fi
