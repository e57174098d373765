#!/usr/bin/env bash
# Installs the peers that the peer tests (tulip-http's tests/peer_*.rs, areq's nginx and Redis
# tests) talk to: nginx, curl and redis-server from Debian's packages, and httpbin with the
# waitress WSGI server in a Python venv at .peers/venv (or $TULIP_PEERS_VENV). The tests start
# their own instances on 127.0.0.1 ports of their own; nothing here starts a server.
#
# Idempotent: what is already there is not installed again, so a second run takes a second.
# Needs root for apt-get (only when a Debian package is missing). Called by .ci/run.
#   bash scripts/peers/install.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/scripts/peers"
venv="${TULIP_PEERS_VENV:-$root/.peers/venv}"
python="${PYTHON:-python3}"

have_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }

apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "peers: need root to apt-get install $*" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Debian's postinst would start a system nginx on :80. The tests never use it (each runs its
    # own nginx with its own config), so keep it from starting while we install: invoke-rc.d
    # obeys policy-rc.d, and exit code 101 means "action forbidden".
    local policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod +x "$policy"
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    if [ -z "${peers_apt_updated:-}" ]; then
        apt-get update -qq
        peers_apt_updated=1
    fi
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
have_nginx || missing+=(nginx)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if ((${#missing[@]})); then
    echo "peers: installing ${missing[*]} from Debian's packages"
    apt_install "${missing[@]}"
    # In case a system nginx was started anyway (a policy-rc.d that allowed it): stop it.
    if [[ " ${missing[*]} " == *" nginx "* ]]; then
        service nginx stop >/dev/null 2>&1 || true
    fi
    if [[ " ${missing[*]} " == *" redis-server "* ]]; then
        service redis-server stop >/dev/null 2>&1 || true
    fi
fi

# The venv is rebuilt when requirements.txt changes: its hash is stamped inside the venv.
stamp="$venv/.tulip-peers-requirements"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] &&
    "$venv/bin/python" -c 'import httpbin, waitress, brotlicffi' >/dev/null 2>&1; then
    :
else
    echo "peers: making the httpbin venv at $venv"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
        # Debian's own python3 needs python3-venv for ensurepip.
        rm -rf "$venv"
        apt_install python3-venv
        "$python" -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        -r "$here/requirements.txt"
    # (httpbin warns on import that flasgger, its optional Swagger UI, is missing: hide that.)
    if ! "$venv/bin/python" -c 'import httpbin, waitress, brotlicffi' >/dev/null 2>&1; then
        "$venv/bin/python" -c 'import httpbin, waitress, brotlicffi'
        exit 1
    fi
    echo "$want" >"$stamp"
fi

nginx_bin="$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)"
echo "peers: $("$nginx_bin" -v 2>&1), $(curl --version | head -n1 | cut -d' ' -f1-2)," \
    "$(redis-server --version | cut -d' ' -f1-3)," \
    "httpbin $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("httpbin"))')" \
    "in $venv"
