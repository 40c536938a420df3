#!/usr/bin/env bash
# Throwaway local PostgreSQL 15 + PostGIS 3 cluster for development and tests.
#
#   postgres.sh start|stop|restart|status|reset
#
# The cluster lives in $CITY_STATE_DIR/pg, listens on
# $CITY_PG_HOST:$CITY_PG_PORT only, and gets one database per entry of
# $CITY_DATABASES, each with the postgis extension. See README.md.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

PG_DIR="$CITY_STATE_DIR/pg"
PGDATA_DIR="$PG_DIR/data"
PG_LOG_DIR="$PG_DIR/log"
PG_LOG="$PG_LOG_DIR/postgres.log"
# Unix socket inside the state dir instead of /var/run/postgresql: no root
# needed, no clash with a system cluster. Override if the path gets longer
# than the ~107-byte sun_path limit.
PG_SOCKET_DIR="${CITY_PG_SOCKET_DIR:-$PG_DIR/run}"
# trust = no password check from 127.0.0.1 (fine for a loopback-only,
# throwaway cluster); set CITY_PG_AUTH=scram-sha-256 to make clients prove
# they send CITY_PG_PASSWORD, as they must in production.
PG_AUTH="${CITY_PG_AUTH:-trust}"
# initdb/postgres refuse to run as root; when we are root they run as this
# unprivileged system user instead.
PG_OS_USER="${CITY_PG_OS_USER:-citypg}"
START_TIMEOUT="${CITY_PG_START_TIMEOUT:-60}"

[[ -x $CITY_PG_BIN/pg_ctl ]] \
  || die "PostgreSQL server binaries not found in $CITY_PG_BIN (apt-get install postgresql-15, or set CITY_PG_BIN)"
command -v psql >/dev/null 2>&1 || die "psql not found on PATH (apt-get install postgresql-client-15)"

# Major version from the server binary, e.g. "postgres (PostgreSQL) 15.14 ...".
PG_MAJOR="$("$CITY_PG_BIN/postgres" --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/')"
POSTGIS_PKG="postgresql-$PG_MAJOR-postgis-3"
POSTGIS_CONTROL="/usr/share/postgresql/$PG_MAJOR/extension/postgis.control"

is_root() { [[ $(id -u) -eq 0 ]]; }

# Run a server-side command as the cluster owner. cd / first: the caller's
# cwd (e.g. /root) is often unreadable for the unprivileged user and
# initdb/pg_ctl complain about it.
as_owner() {
  if is_root; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    (cd / && "$@")
  fi
}

pg_ctl_() { as_owner "$CITY_PG_BIN/pg_ctl" -D "$PGDATA_DIR" "$@"; }

# Client connections go over TCP exactly like the services' will, so a
# successful start also proves listen_addresses/port/pg_hba are right.
psql_() {
  PGPASSWORD="$CITY_PG_PASSWORD" PGOPTIONS='-c client_min_messages=warning' \
    psql -X -q -v ON_ERROR_STOP=1 -h "$CITY_PG_HOST" -p "$CITY_PG_PORT" -U "$CITY_PG_USER" "$@"
}

ensure_postgis_package() {
  [[ -f $POSTGIS_CONTROL ]] && return 0
  local sudo=()
  if ! is_root; then
    command -v sudo >/dev/null 2>&1 || die "PostGIS missing; run as root: apt-get install -y $POSTGIS_PKG"
    sudo=(sudo)
  fi
  log "PostGIS not installed ($POSTGIS_CONTROL missing); installing $POSTGIS_PKG"
  # Lock timeout: wait for a concurrently running apt/dpkg instead of failing.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
    install -y --no-install-recommends "$POSTGIS_PKG"
  [[ -f $POSTGIS_CONTROL ]] || die "$POSTGIS_PKG installed but $POSTGIS_CONTROL still missing"
}

ensure_os_user() {
  is_root || return 0
  if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
    log "creating system user $PG_OS_USER to own the throwaway cluster"
    useradd -r -M -s /usr/sbin/nologin "$PG_OS_USER"
  fi
}

prepare_dirs() {
  mkdir -p "$PG_DIR" "$PG_LOG_DIR" "$PG_SOCKET_DIR"
  if is_root; then
    chown "$PG_OS_USER:" "$PG_DIR" "$PG_LOG_DIR" "$PG_SOCKET_DIR"
    # Re-own a data dir created by another user (e.g. an earlier non-root run).
    if [[ -d $PGDATA_DIR && $(stat -c %U "$PGDATA_DIR") != "$PG_OS_USER" ]]; then
      chown -R "$PG_OS_USER:" "$PGDATA_DIR"
    fi
    # Every parent of the state dir must be traversable by the cluster owner.
    as_owner test -w "$PG_DIR" -a -w "$PG_SOCKET_DIR" \
      || die "user $PG_OS_USER cannot reach $PG_DIR (a parent directory is not world-executable?); set CITY_STATE_DIR elsewhere"
  fi
  chmod 700 "$PG_DIR"
  local sock="$PG_SOCKET_DIR/.s.PGSQL.$CITY_PG_PORT"
  ((${#sock} <= 107)) || die "socket path too long (${#sock} > 107): $sock; set CITY_PG_SOCKET_DIR to a shorter dir"
}

init_cluster() {
  [[ -f $PGDATA_DIR/PG_VERSION ]] && return 0
  # A leftover data dir without PG_VERSION is a failed initdb: start over.
  rm -rf "$PGDATA_DIR"
  log "initialising PostgreSQL $PG_MAJOR cluster in $PGDATA_DIR"
  local pwfile="$PG_DIR/.initdb-pw"
  (umask 077 && printf '%s\n' "$CITY_PG_PASSWORD" >"$pwfile")
  is_root && chown "$PG_OS_USER:" "$pwfile"
  # UTF8 with C collation (fast, deterministic sort, no glibc collation
  # version drift) but a UTF-8 ctype so upper()/lower()/regex classes work on
  # Chinese and other non-ASCII text. --no-sync: it's a throwaway cluster.
  if ! as_owner "$CITY_PG_BIN/initdb" -D "$PGDATA_DIR" -U "$CITY_PG_USER" \
    --pwfile="$pwfile" --auth=trust --encoding=UTF8 \
    --lc-collate=C --lc-ctype=C.UTF-8 --lc-messages=C --lc-monetary=C --lc-numeric=C --lc-time=C \
    --no-sync >"$PG_LOG_DIR/initdb.log" 2>&1; then
    rm -f "$pwfile"
    tail -n 30 "$PG_LOG_DIR/initdb.log" >&2
    die "initdb failed (log: $PG_LOG_DIR/initdb.log)"
  fi
  rm -f "$pwfile"
  # Our settings live in city.conf (rewritten on every start, see
  # write_config) so stock postgresql.conf stays untouched apart from this.
  printf "\n# managed by deploy/local/postgres.sh\ninclude_if_exists = 'city.conf'\n" \
    | as_owner tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
}

# Rewritten on every start so changed env overrides (port, auth, ...) apply.
write_config() {
  local q_sock=${PG_SOCKET_DIR//\'/\'\'}
  as_owner tee "$PGDATA_DIR/city.conf" >/dev/null <<CONF
# Generated by deploy/local/postgres.sh on every start; edits are lost.
listen_addresses = '$CITY_PG_HOST'
port = $CITY_PG_PORT
unix_socket_directories = '$q_sock'
max_connections = 300
# Durability is pointless for a throwaway dev/test cluster (reset wipes it
# anyway) and fsync dominates the run time of DDL-heavy test suites. A crash
# of the machine may corrupt the cluster: then run 'postgres.sh reset'.
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_duration_statement = 1000
log_line_prefix = '%m [%p] %q%u@%d '
CONF
  as_owner tee "$PGDATA_DIR/pg_hba.conf" >/dev/null <<HBA
# Generated by deploy/local/postgres.sh on every start; edits are lost.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   $PG_AUTH
host    all       all   ::1/128        $PG_AUTH
HBA
}

server_running() { pg_ctl_ status >/dev/null 2>&1; }

wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until psql_ -d postgres -tAc 'select 1' >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "postgres not accepting connections after ${START_TIMEOUT}s"
      tail -n 30 "$PG_LOG" >&2 || true
      return 1
    fi
    sleep 0.3
  done
}

ensure_databases() {
  local existing db
  existing=" $(psql_ -d postgres -tAc 'select string_agg(datname, chr(32)) from pg_database') "
  # Keep the role's password in sync with CITY_PG_PASSWORD (matters once
  # CITY_PG_AUTH is not trust). psql variables quote it safely.
  psql_ -d postgres -v user="$CITY_PG_USER" -v pw="$CITY_PG_PASSWORD" >/dev/null <<'SQL'
ALTER ROLE :"user" PASSWORD :'pw';
SQL
  for db in $CITY_DATABASES; do
    [[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || die "invalid database name in CITY_DATABASES: '$db'"
    if [[ $existing != *" $db "* ]]; then
      log "creating database $db"
      psql_ -d postgres -c "CREATE DATABASE \"$db\""
    fi
    psql_ -d "$db" -c 'CREATE EXTENSION IF NOT EXISTS postgis'
  done
}

print_ready() {
  echo "postgres ready at postgresql://$CITY_PG_USER:$CITY_PG_PASSWORD@$CITY_PG_HOST:$CITY_PG_PORT/<db>"
  echo "  databases: $CITY_DATABASES"
}

cmd_start() {
  ensure_postgis_package
  ensure_os_user
  if [[ -f $PGDATA_DIR/PG_VERSION ]] && server_running; then
    wait_ready || die "postgres is running but does not accept connections on $CITY_PG_HOST:$CITY_PG_PORT"
    echo "postgres already running ($PGDATA_DIR)"
    # Cheap and idempotent; picks up databases newly added to CITY_DATABASES.
    ensure_databases
    print_ready
    return 0
  fi
  ! port_open "$CITY_PG_HOST" "$CITY_PG_PORT" \
    || die "$CITY_PG_HOST:$CITY_PG_PORT is already in use by another process (not this stack's postgres); set CITY_PG_PORT"

  prepare_dirs
  init_cluster
  write_config
  # 9>&- : the postmaster must not inherit with_lock's lock fd, or it would
  # hold the lock for its whole life and block every later stop.
  if ! pg_ctl_ -l "$PG_LOG" -w -t "$START_TIMEOUT" -s start 9>&-; then
    tail -n 30 "$PG_LOG" >&2 || true
    die "postgres failed to start (log: $PG_LOG)"
  fi
  wait_ready || die "postgres started but is not reachable on $CITY_PG_HOST:$CITY_PG_PORT"
  ensure_databases
  print_ready
}

cmd_stop() {
  if [[ ! -f $PGDATA_DIR/PG_VERSION ]] || ! server_running; then
    echo "postgres not running"
    return 0
  fi
  # fast = roll back open transactions and disconnect clients, then a clean
  # shutdown checkpoint (no crash recovery on the next start).
  pg_ctl_ -m fast -w -t 60 -s stop
  echo "postgres stopped"
}

cmd_status() {
  if [[ -f $PGDATA_DIR/PG_VERSION ]] && server_running; then
    if psql_ -d postgres -tAc 'select 1' >/dev/null 2>&1; then
      echo "postgres running at $CITY_PG_HOST:$CITY_PG_PORT ($PGDATA_DIR)"
      return 0
    fi
    echo "postgres process is up but not accepting connections on $CITY_PG_HOST:$CITY_PG_PORT"
    return 1
  fi
  echo "postgres not running"
  return 3
}

cmd_reset() {
  cmd_stop
  rm -rf "$PG_DIR"
  echo "postgres state removed ($PG_DIR)"
}

usage() {
  echo "usage: $0 {start|stop|restart|status|reset}" >&2
  exit 2
}

main() {
  (($# == 1)) || usage
  case $1 in
    start) with_lock postgres; cmd_start ;;
    stop) with_lock postgres; cmd_stop ;;
    restart) with_lock postgres; cmd_stop; cmd_start ;;
    reset) with_lock postgres; cmd_reset ;;
    status) cmd_status ;;
    *) usage ;;
  esac
}

main "$@"
