#!/usr/bin/env bash
# Installs with apt what the tests need from Debian and is missing: the PostgreSQL server binaries (the tests start a
# throwaway server, tests/pg_server.py) and, unless given "postgres" alone, chromium for the end-to-end tests and
# the Pango libraries and a font WeasyPrint lays the dossier PDF out with (the server needs those too).
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ "${1:-all}" != "postgres" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  libraries="$(ldconfig -p)"  # read once: `ldconfig -p | grep -q` can fail on SIGPIPE under pipefail
  for lib in libpango-1.0.so.0:libpango-1.0-0 libpangoft2-1.0.so.0:libpangoft2-1.0-0 \
             libharfbuzz-subset.so.0:libharfbuzz-subset0; do
    grep -qF "${lib%%:*}" <<<"$libraries" || missing+=("${lib##*:}")
  done
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "missing Debian packages: ${missing[*]} (install them, or run as root to have them installed)" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
