#!/usr/bin/env bash
# Makes sure Debian's chromium exists for the end-to-end tests (Playwright drives it; it never downloads a browser).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium is missing: install Debian's 'chromium' package for the end-to-end tests" >&2
  exit 1
fi
echo "installing chromium for the end-to-end tests" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
