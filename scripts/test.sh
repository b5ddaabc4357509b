#!/usr/bin/env bash
# Installs Debian's chromium when absent (for the web's browser tests; a failure only
# warns), installs facegate with its test dependencies into .venv, installs the second
# model pack (faceplugin-arcface-v1, with the machine's npm client, hash-pinned),
# installs the system packages some tests use when they are missing (Debian's
# postgresql for the central-mode tests, a CJK font for the Chinese PDFs),
# then runs every gate: ruff, mypy --strict, the import contracts and the tests.
# Whatever cannot be installed (no npm, no registry, no apt-get) makes the tests
# that need it skip and say why.
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

# System packages, installed with apt-get only when missing (quietly; a failure warns).
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
APT_UPDATED=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ -z "$APT_UPDATED" ]; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq update >/dev/null 2>&1 || true
    APT_UPDATED=1
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends \
    "$@" >/dev/null 2>&1
}
have_postgres() {
  command -v initdb >/dev/null 2>&1 && return 0
  for bin in /usr/lib/postgresql/*/bin/initdb; do [ -x "$bin" ] && return 0; done
  return 1
}
# The central-mode tests start a throw-away PostgreSQL server (tests/support/postgres.py).
if ! have_postgres; then
  apt_install postgresql \
    || echo "warning: no PostgreSQL server binaries; the central-mode tests will skip" >&2
fi
# The documents' PDFs (docs/reports.md) need a CJK font for Chinese text, and HarfBuzz's
# subsetter to embed it quickly.
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  apt_install fonts-noto-cjk libharfbuzz-subset0 || apt_install fonts-wqy-microhei \
    || echo "warning: no CJK font; the Chinese PDF glyph test will skip" >&2
fi
# The kiosk test reads the receipt's QR code back with zbar (pyzbar).
if ! { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q libzbar.so; then
  apt_install libzbar0 || echo "warning: no libzbar0; the receipt's QR code test will skip" >&2
fi
# The camera tests serve a clip over RTSP with GStreamer's RTSP server, run by the
# system's Python (python3-gi); tests/cameras/test_rtsp.py says why when it skips.
if ! /usr/bin/python3 tests/cameras/rtsp_server.py --probe >/dev/null 2>&1; then
  apt_install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base \
    gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
    || echo "warning: no GStreamer RTSP server; the RTSP camera test will skip" >&2
fi

.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/pytest
