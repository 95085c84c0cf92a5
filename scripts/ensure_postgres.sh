#!/usr/bin/env bash
# Prints the directory of PostgreSQL's server programs (initdb, pg_ctl), installing Debian's
# postgresql package first when it is missing and we are root. Exit 1 (with the reason on
# stderr) when there is no server and none can be installed.
set -euo pipefail
find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
bin="$(find_bin || true)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure_postgres: PostgreSQL is not installed and this is not root (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "ensure_postgres: installing postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || true
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  bin="$(find_bin || true)"
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "ensure_postgres: no initdb found after installing postgresql" >&2
  exit 1
fi
echo "$bin"
