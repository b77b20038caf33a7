#!/usr/bin/env bash
# Make sure headless Chromium is installed (for scripts/check-report-html.py).
#
# Installs Debian's `chromium` package when neither /usr/bin/chromium nor a
# `chromium` on PATH exists, then prints its version. Debian's package is used
# because the machines reach only the package registries: a browser download
# of its own (puppeteer, playwright) would fail.
set -euo pipefail

find_chromium() {
    if [[ -x /usr/bin/chromium ]]; then
        echo /usr/bin/chromium
    else
        command -v chromium || true
    fi
}

chromium_bin="$(find_chromium)"
if [[ -z "$chromium_bin" ]]; then
    # apt-get needs root; use sudo only when we are not root already (CI and
    # the project machines run as root and may have no sudo at all).
    sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        sudo=(sudo)
    fi
    echo "ensure-chromium: installing Debian's chromium package" >&2
    "${sudo[@]}" apt-get update -qq >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
    chromium_bin="$(find_chromium)"
    if [[ -z "$chromium_bin" ]]; then
        echo "ensure-chromium: chromium still not found after apt-get install" >&2
        exit 1
    fi
fi

"$chromium_bin" --version
