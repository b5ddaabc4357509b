#!/usr/bin/env bash
# Installs facegate with its test dependencies into .venv, installs the second
# model pack (faceplugin-arcface-v1, with the machine's npm client, hash-pinned),
# installs a CJK font for the Chinese PDFs when missing,
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
# The documents' PDFs (docs/reports.md) need a CJK font for Chinese text, and HarfBuzz's
# subsetter to embed it quickly. Without them the CJK glyph test skips and says why.
if command -v apt-get >/dev/null 2>&1 && ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi
  { $SUDO apt-get install -y -qq fonts-noto-cjk libharfbuzz-subset0 >/dev/null 2>&1 \
    || $SUDO apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1; } \
    || echo "warning: could not install fonts-noto-cjk; Chinese PDFs will lack glyphs and their test will skip" >&2
fi
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/pytest
