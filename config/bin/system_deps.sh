#!/usr/bin/env bash
# Install the system packages a target needs, when missing.
#   system_deps.sh run   -> what `make run` needs (Node.js/npm for assets, bubblewrap)
#   system_deps.sh test  -> what `make test` needs (adds PostgreSQL, Redis, Chromium, Docker…)
# As root it uses apt-get; otherwise it names the missing packages and exits non-zero.
set -euo pipefail

profile="${1:-run}"
missing=()
need() {  # need PACKAGE CHECK-COMMAND...
    local pkg="$1"; shift
    if ! "$@" >/dev/null 2>&1; then missing+=("$pkg"); fi
}
has() { command -v "$1"; }
has_pg() { ls /usr/lib/postgresql/*/bin/initdb; }

need nodejs has node
need npm has npm
need bubblewrap has bwrap
need util-linux has setpriv
if [[ "$profile" == "test" || "$profile" == "bench" ]]; then
    need postgresql has_pg
    need redis-server has redis-server
    need chromium has chromium
    need docker.io has dockerd
    need docker-compose has docker-compose
    need debootstrap has debootstrap
fi

if ((${#missing[@]} == 0)); then exit 0; fi
if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
    echo "system_deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "system_deps: missing packages: ${missing[*]}" >&2
    echo "system_deps: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
