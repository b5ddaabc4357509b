#!/usr/bin/env bash
# Installs Debian's chromium when absent (for the web's browser tests; a failure only
# warns), installs facegate with its test dependencies into .venv, installs the second
# model pack (faceplugin-arcface-v1, with the machine's npm client, hash-pinned),
# then runs every gate: ruff, mypy --strict, the import contracts and the tests.
# Without npm or a registry the pack's tests skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
# The web's browser tests drive Debian's chromium through Playwright's Python client,
# which must never download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
    { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq update \
      && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends chromium; } \
      >/dev/null 2>&1 \
      || echo "warning: Debian's chromium could not be installed; the browser tests will skip" >&2
  else
    echo "warning: no apt-get and no /usr/bin/chromium; the browser tests will skip" >&2
  fi
fi
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
