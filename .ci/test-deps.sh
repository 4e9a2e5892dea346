#!/usr/bin/env bash
# What the test suite needs beyond Python packages: Debian's Chromium and
# ChromeDriver for the browser tests (never a browser download).
set -euo pipefail
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "test-deps: installing chromium and chromium-driver from Debian's packages"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
    sudo apt-get update -qq >/dev/null
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "test-deps: chromium missing and cannot be installed here; browser tests will be skipped (CI fails them)" >&2
  fi
fi
