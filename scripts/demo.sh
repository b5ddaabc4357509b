#!/usr/bin/env bash
# Installs facegate (with the reports extra, so the documents render as PDF) into .venv,
# installs the ArcFace model pack (faceplugin-arcface-v1, with the machine's npm client,
# hash-pinned, as scripts/test.sh does; the best-measured pack for East-Asian faces),
# installs Debian's fonts-noto-cjk when no CJK font is installed (for the Chinese PDFs)
# and starts the service with a demo deployment on the
# embedded SQLite store (facegate-demo.db): offline, no server to install.
# It prints the demo's API keys and the first requests to try; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[demo,reports]'
packs=$(.venv/bin/facegate models list)
if ! grep -q '^faceplugin-arcface-v1 .*(installed)' <<<"$packs" \
   && ! .venv/bin/facegate models install faceplugin-arcface-v1; then
  echo "note: the faceplugin-arcface-v1 pack could not be installed (is npm available?);" \
       "the demo runs on dlib-resnet-v1, which on East-Asian faces rejects far more genuine" \
       "attempts at the same false-match rate (docs/accuracy.md)." \
       "Install it later with: .venv/bin/facegate models install faceplugin-arcface-v1" >&2
fi
# The Chinese documents' PDFs need a CJK font: without one they are refused
# (report.font_missing), never served with empty boxes. Installed from Debian when
# missing and apt-get can (as root, or with sudo that asks no password), as
# scripts/test.sh does.
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  echo "installing a CJK font for the Chinese PDF documents (Debian's fonts-noto-cjk)..." >&2
  if ! { command -v apt-get >/dev/null 2>&1 \
         && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq update >/dev/null 2>&1 \
         && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y \
              --no-install-recommends fonts-noto-cjk >/dev/null 2>&1; } \
     || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    echo "WARNING: no CJK font could be installed: Chinese PDF documents will be refused" \
         "(report.font_missing; the HTML documents still work)." \
         "Install one with: sudo apt-get install fonts-noto-cjk" >&2
  fi
fi
exec .venv/bin/facegate serve --demo --db "${FACEGATE_DEMO_DB:-facegate-demo.db}" "$@"
