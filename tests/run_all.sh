#!/usr/bin/env bash
# The whole suite, as CI runs it: install with the test extras, lint, then every test on the
# default python3 (3.11) and again on Python 3.12, each in a virtual environment of its own
# (.venv, .venv-3.12). Outside CI a machine without 3.12 runs the first leg only and says so;
# under CI=true a missing 3.12 is an error, so the second leg is never silently skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

install() {  # install PYTHON VENV
    "$1" -m venv "$2" && "$2/bin/pip" install -q -e '.[test]'
}

run_tests() {  # run_tests VENV
    echo "== $("$1/bin/python" --version) ($1)"
    "$1/bin/python" -m pytest -q
}

find_312() {
    # A pyenv shim answers to python3.12 even when 3.12 is not the selected version, so ask
    # the interpreter to run rather than trusting the name.
    if python3.12 -c '' 2>/dev/null; then command -v python3.12; return; fi
    if command -v pyenv >/dev/null; then
        for candidate in "$(pyenv root)"/versions/3.12*/bin/python3.12; do
            [ -x "$candidate" ] && { echo "$candidate"; return; }
        done
    fi
    return 1
}

install python3 .venv
.venv/bin/ruff check .
run_tests .venv

if python312=$(find_312); then
    install "$python312" .venv-3.12
    run_tests .venv-3.12
elif [ "${CI:-}" = "true" ]; then
    echo "Python 3.12 not found: CI runs the suite on 3.11 and 3.12" >&2
    exit 2
else
    echo "Python 3.12 not found: the suite ran on $(.venv/bin/python --version) only"
fi
