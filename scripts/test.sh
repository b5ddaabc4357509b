#!/usr/bin/env bash
# Installs facegate with its test dependencies into .venv, installs the second
# model pack (faceplugin-arcface-v1, with the machine's npm client, hash-pinned),
# then runs every gate: ruff, mypy --strict, the import contracts and the tests.
# Without npm or a registry the pack's tests skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,dlib]'
.venv/bin/facegate models install faceplugin-arcface-v1 \
  || echo "warning: the faceplugin-arcface-v1 pack could not be installed; its tests will skip" >&2
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/pytest
