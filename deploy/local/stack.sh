#!/usr/bin/env bash
# Whole local dev stack: PostgreSQL/PostGIS + Kafka.
#
#   stack.sh up|down|restart|status|reset
#
# Thin wrapper over postgres.sh and kafka.sh; all settings come from env.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  echo "usage: $0 {up|down|restart|status|reset}" >&2
  exit 2
}

(($# == 1)) || usage
case $1 in
  up)
    "$here/postgres.sh" start
    "$here/kafka.sh" start
    ;;
  down)
    # Stop both even if the first one fails, then report the failure.
    rc=0
    "$here/kafka.sh" stop || rc=$?
    "$here/postgres.sh" stop || rc=$?
    exit "$rc"
    ;;
  restart)
    "$0" down
    "$0" up
    ;;
  status)
    # 0 only when both are up; otherwise the first non-zero status code.
    rc=0
    "$here/postgres.sh" status || rc=$?
    krc=0
    "$here/kafka.sh" status || krc=$?
    ((rc != 0)) || rc=$krc
    exit "$rc"
    ;;
  reset)
    rc=0
    "$here/kafka.sh" reset || rc=$?
    "$here/postgres.sh" reset || rc=$?
    exit "$rc"
    ;;
  *) usage ;;
esac
