#!/usr/bin/env bash
# Installs facegate with its test dependencies into .venv, then runs every gate:
# ruff, mypy --strict, the import contracts and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,dlib]'
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/pytest
