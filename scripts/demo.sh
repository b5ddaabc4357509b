#!/usr/bin/env bash
# Installs facegate (with the reports extra, so the documents render as PDF) into .venv
# and starts the service with a demo deployment on the
# embedded SQLite store (facegate-demo.db): offline, no server to install.
# It prints the demo's API keys and the first requests to try; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[demo,reports]'
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  echo "note: no CJK font is installed; Chinese PDF documents will lack glyphs" \
       "(Debian: apt-get install fonts-noto-cjk)" >&2
fi
exec .venv/bin/facegate serve --demo --db "${FACEGATE_DEMO_DB:-facegate-demo.db}" "$@"
