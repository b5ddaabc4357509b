#!/usr/bin/env bash
# Installs facegate with its test dependencies into .venv, installs the second
# model pack (faceplugin-arcface-v1, with the machine's npm client, hash-pinned),
# then runs every gate: ruff, mypy --strict, the import contracts and the tests.
# Without npm or a registry the pack's tests skip and say why.
# The central-mode tests start a throw-away PostgreSQL server (tests/support/postgres.py);
# without its binaries, Debian's postgresql package is installed with apt-get, and if
# that fails those tests skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,dlib]'
.venv/bin/facegate models install faceplugin-arcface-v1 \
  || echo "warning: the faceplugin-arcface-v1 pack could not be installed; its tests will skip" >&2
have_postgres() {
  command -v initdb >/dev/null 2>&1 && return 0
  for bin in /usr/lib/postgresql/*/bin/initdb; do [ -x "$bin" ] && return 0; done
  return 1
}
if ! have_postgres; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  if command -v apt-get >/dev/null 2>&1 \
      && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq update >/dev/null 2>&1 \
      && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y \
           --no-install-recommends postgresql >/dev/null 2>&1; then
    echo "installed Debian's postgresql package for the central-mode tests" >&2
  else
    echo "warning: no PostgreSQL server binaries and apt-get could not install them;" \
         "the central-mode (PostgreSQL) tests will skip" >&2
  fi
fi
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/pytest
