#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries exist for the throwaway test server (tests/pg_server.py starts it).
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "PostgreSQL server binaries are missing: install the 'postgresql' package" >&2
  exit 1
fi
echo "installing PostgreSQL server binaries" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
